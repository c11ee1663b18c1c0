import { randomUUID } from "node:crypto";
import * as df from "durable-functions";
import { z } from "zod";
import { ApiProblem, notFound } from "../../../../lib/api/apiProblem";
import { isLive, raiseControl } from "../../../../lib/api/control/raiseControl";
import { resolveDeploymentTargets } from "../../../../lib/deployments/resolveDeploymentTargets";
import { canonicalJson } from "../../../../lib/evidence/canonicalJson";
import { sha256Hex } from "../../../../lib/evidence/sha256";
import { TenantParamsSchema } from "../../../../lib/schemas/api/access";
import {
  ControlAcceptedSchema,
  ControlActionParamsSchema,
  ControlRequestSchema,
  DeploymentAcceptedSchema,
  DeploymentParamsSchema,
  DeploymentRequestSchema,
  DeploymentStatusResponseSchema,
  type DeploymentAccepted,
  type DeploymentStatusResponse,
} from "../../../../lib/schemas/api/deployments";
import { ProblemSchema } from "../../../../lib/schemas/api/problem";
import type { Caller } from "../../../../lib/schemas/api/access";
import type { ControlCommand } from "../../../../lib/schemas/control";
import {
  DeploymentIdSchema,
  DeploymentReportSchema,
  DeploymentResultSchema,
  DeploymentRunInputSchema,
  type DeploymentRunInput,
} from "../../../../lib/schemas/deployment";
import { ORCHESTRATORS } from "../../../../orchestrators/activityNames";
import { isUnknownInstance } from "../../../isUnknownInstance";
import { apiPath, defineApiRoute, type ApiCall, type ApiResult, type ApiRoute } from "../apiRoute";

// Emergency deployments (install these KBs / packages on this target now) and pause / resume / cancel of a running
// deployment or window occurrence. docs/api.md "Deployments" and "Pause, resume, cancel".

/** Instance id of a deployment: one per tenant and deployment id, so a retried POST finds the first one. */
export function deploymentInstanceId(tenant: string, deploymentId: string): string {
  return `deployment-${tenant}-${deploymentId}`;
}

function linksOf(tenant: string, deploymentId: string): DeploymentAccepted["links"] {
  const self = apiPath(`tenants/${tenant}/deployments/${deploymentId}`);
  return { self, pause: `${self}/pause`, resume: `${self}/resume`, cancel: `${self}/cancel` };
}

function callerName(caller: Caller | undefined): string {
  return `${caller?.kind ?? "unknown"}:${caller?.id ?? "unknown"}`;
}

/** The orchestration's status, or undefined when there is none (the client answers 404 with an error). */
async function statusOf(
  durable: df.DurableClient,
  instanceId: string,
): Promise<df.DurableOrchestrationStatus | undefined> {
  try {
    return await durable.getStatus(instanceId, { showInput: true });
  } catch (error) {
    if (isUnknownInstance(error)) return undefined;
    throw error;
  }
}

function acceptedOf(input: DeploymentRunInput, replayed: boolean): DeploymentAccepted {
  const { deployment } = input;
  return {
    tenant: deployment.tenant,
    deploymentId: deployment.id,
    requestSha256: deployment.requestSha256,
    replayed,
    targets: input.targets.map((t) => ({ client: t.client, device: t.device.name })),
    skipped: input.skipped,
    links: linksOf(deployment.tenant, deployment.id),
  };
}

/** A retried POST: the same request answers as the first did; another request under the same id is refused. */
function replay(existing: df.DurableOrchestrationStatus, requestSha256: string): DeploymentAccepted {
  const input = DeploymentRunInputSchema.parse(existing.input);
  if (input.deployment.requestSha256 !== requestSha256)
    throw new ApiProblem(
      409,
      "Conflict",
      `deployment ${input.deployment.id} was started with another request (SHA-256 ${input.deployment.requestSha256}); ` +
        "use a new deployment id",
      [{ field: "body.deploymentId", reason: "already used for a different request" }],
      "idempotency-key-reused",
    );
  return acceptedOf(input, true);
}

const createDeploymentRoute = defineApiRoute({
  name: "apiCreateDeployment",
  method: "POST",
  path: "tenants/{tenant}/deployments",
  tag: "deployments",
  summary: "Emergency deployment: install these KBs / packages on this target now",
  description:
    "Resolves the target (a client, named devices, tags) against the inventory and starts one device run per device " +
    "with the device's effective policy (gates, hooks, remediation), where the approved set is exactly the requested " +
    "KBs / packages (the policy's exclusions and quarantines still win). maxConcurrency / maxErrors as a window's. " +
    "Idempotent: a deploymentId in the body (or an Idempotency-Key header) names it; a retried POST with the same " +
    "body answers 202 with replayed=true and starts nothing, a different body under the same id is a 409.",
  permission: "runs:start",
  audit: "deployments.create",
  durableClient: true,
  params: TenantParamsSchema,
  body: DeploymentRequestSchema,
  responses: {
    202: {
      description: "Started (or already started by an identical request); follow links.self",
      schema: DeploymentAcceptedSchema,
      headers: { Location: "required", "Retry-After": "required" },
    },
    404: {
      description: "The target names no device (or names devices the tenant does not have)",
      schema: ProblemSchema,
    },
    409: { description: "The deployment id was used for a different request", schema: ProblemSchema },
  },
  async handle(call): Promise<ApiResult> {
    const { tenant } = call.params;
    const { deps, body } = call;
    const header = call.headers.get("idempotency-key") ?? undefined;
    if (header !== undefined && !DeploymentIdSchema.safeParse(header).success)
      throw new ApiProblem(400, "Bad Request", "Idempotency-Key must be 1-63 letters, digits or hyphens", [
        { field: "header.idempotency-key", reason: "must be 1-63 letters, digits or hyphens" },
      ]);
    if (header !== undefined && body.deploymentId !== undefined && header !== body.deploymentId)
      throw new ApiProblem(400, "Bad Request", "Idempotency-Key and body.deploymentId differ", [
        { field: "body.deploymentId", reason: "differs from the Idempotency-Key header" },
      ]);
    const deploymentId = body.deploymentId ?? header ?? randomUUID();
    // The request as parsed (defaults applied) without the id: the same request under the same id hashes the same.
    const { deploymentId: _id, ...request } = body;
    const requestSha256 = sha256Hex(Buffer.from(canonicalJson(request), "utf8"));
    const instanceId = deploymentInstanceId(tenant, deploymentId);
    const durable = call.durable();
    const existing = await statusOf(durable, instanceId);
    const headers = { location: linksOf(tenant, deploymentId).self, "retry-after": "10" };
    if (existing !== undefined) {
      const json = replay(existing, requestSha256);
      return { status: 202, json, headers, auditDetails: { deploymentId, replayed: true } };
    }
    const resolved = await resolveDeploymentTargets(deps.arm, deps.config.arm.subscriptionIds, tenant, body.target);
    if (resolved.missing.length > 0)
      throw notFound(`no device ${resolved.missing.join(", ")} in this tenant (nothing was started)`);
    if (resolved.targets.length === 0) throw notFound("the target names no device of this tenant that can be patched");
    const now = deps.clock();
    const input: DeploymentRunInput = {
      deployment: {
        tenant,
        id: deploymentId,
        instanceId,
        requestedBy: callerName(call.caller),
        requestedAt: now.toISOString(),
        ...(body.reason === undefined ? {} : { reason: body.reason }),
        kbs: body.kbs,
        packages: body.packages,
        maxConcurrency: body.maxConcurrency,
        maxErrors: body.maxErrors,
        cutoff: new Date(now.getTime() + body.cutoffMinutes * 60_000).toISOString(),
        dryRun: body.dryRun,
        requestSha256,
      },
      targets: resolved.targets,
      skipped: resolved.skipped,
    };
    try {
      await durable.startNew(ORCHESTRATORS.emergencyDeployment, { instanceId, input });
    } catch (error) {
      // Two identical POSTs at once: the second start is refused because the first one exists; answer as a replay.
      const raced = await statusOf(durable, instanceId);
      if (raced === undefined) throw error;
      return {
        status: 202,
        json: replay(raced, requestSha256),
        headers,
        auditDetails: { deploymentId, replayed: true },
      };
    }
    call.log(`deployment ${deploymentId} started for ${tenant} on ${resolved.targets.length} devices as ${instanceId}`);
    return {
      status: 202,
      json: acceptedOf(input, false),
      headers,
      auditDetails: { deploymentId, targets: resolved.targets.length, requestSha256 },
    };
  },
});

const getDeploymentRoute = defineApiRoute({
  name: "apiGetDeployment",
  method: "GET",
  path: "tenants/{tenant}/deployments/{deploymentId}",
  tag: "deployments",
  summary: "A deployment's progress and control state; once done, its report (read back and verified)",
  permission: "runs:read",
  durableClient: true,
  params: DeploymentParamsSchema,
  responses: {
    200: {
      description: "The deployment; `report` is present once it has ended",
      schema: DeploymentStatusResponseSchema,
      headers: { "Retry-After": "optional" },
    },
    404: { description: "No such deployment in this tenant", schema: ProblemSchema },
  },
  async handle(call): Promise<ApiResult> {
    const { tenant, deploymentId } = call.params;
    const status = await statusOf(call.durable(), deploymentInstanceId(tenant, deploymentId));
    if (status === undefined) throw notFound(`no deployment ${deploymentId} in this tenant`);
    const { deployment } = DeploymentRunInputSchema.parse(status.input);
    const live = z
      .object({
        control: z.enum(["running", "paused", "cancelled"]),
        targets: z.number(),
        started: z.number(),
        finished: z.number(),
        pending: z.number(),
        errors: z.number(),
      })
      .safeParse(status.customStatus);
    const body: DeploymentStatusResponse = {
      tenant,
      deploymentId,
      runtimeStatus: String(status.runtimeStatus),
      ...(live.success ? { control: live.data.control } : {}),
      requestedBy: deployment.requestedBy,
      requestedAt: deployment.requestedAt,
      kbs: deployment.kbs,
      packages: deployment.packages,
      cutoff: deployment.cutoff,
      ...(live.success
        ? {
            progress: {
              targets: live.data.targets,
              started: live.data.started,
              finished: live.data.finished,
              pending: live.data.pending,
              errors: live.data.errors,
            },
          }
        : {}),
      links: linksOf(tenant, deploymentId),
    };
    const result = DeploymentResultSchema.safeParse(status.output);
    if (status.runtimeStatus === df.OrchestrationRuntimeStatus.Completed && result.success) {
      // The report is evidence: read back and checked against the hash it was written with.
      const bytes = await call.deps.evidence.store.readBlob(result.data.reportPath);
      if (bytes === undefined || sha256Hex(bytes) !== result.data.reportSha256)
        throw new ApiProblem(
          500,
          "Internal Server Error",
          `deployment report ${result.data.reportPath} is missing or does not match its SHA-256`,
          undefined,
          "evidence-integrity",
        );
      const report = DeploymentReportSchema.parse(JSON.parse(Buffer.from(bytes).toString("utf8")));
      body.report = {
        path: result.data.reportPath,
        sha256: result.data.reportSha256,
        ...(report.stop === undefined ? {} : { stop: report.stop }),
        totals: report.totals,
        outcomes: report.outcomes,
        ...(report.control === undefined ? {} : { control: report.control }),
      };
      return { status: 200, json: body };
    }
    return { status: 200, json: body, headers: isLive(status.runtimeStatus) ? { "retry-after": "10" } : {} };
  },
});

type AnyCall = ApiCall<{ tenant: string; action: ControlCommand["action"] }, unknown, { reason?: string }>;

/** Builds the command, refuses an orchestration that is not running, raises it; the answer every control route gives. */
async function control(
  call: AnyCall,
  instanceId: string,
  what: string,
  children?: { orchestrator: string },
): Promise<ApiResult> {
  const durable = call.durable();
  const status = await statusOf(durable, instanceId);
  if (status === undefined) throw notFound(`no ${what} in this tenant (or it has not started)`);
  if (!isLive(status.runtimeStatus))
    throw new ApiProblem(
      409,
      "Conflict",
      `${what} has ended (${String(status.runtimeStatus)}); there is nothing to ${call.params.action}`,
      undefined,
      "not-running",
    );
  const command: ControlCommand = {
    id: call.requestId,
    action: call.params.action,
    at: call.deps.clock().toISOString(),
    by: callerName(call.caller),
    ...(call.body?.reason === undefined ? {} : { reason: call.body.reason }),
  };
  const raisedTo = await raiseControl(durable, instanceId, command, children);
  return {
    status: 202,
    json: {
      command,
      raisedTo,
      note:
        call.params.action === "resume"
          ? "devices start again at the next wave"
          : "applied at the next wave boundary: devices already started finish their runs (no install is interrupted)",
    },
    auditDetails: { action: command.action, instanceId, raisedTo: raisedTo.length },
  };
}

const controlResponses = {
  202: { description: "Raised; the orchestration applies it at its next wave boundary", schema: ControlAcceptedSchema },
  404: { description: "No such deployment or occurrence", schema: ProblemSchema },
  409: { description: "It has already ended", schema: ProblemSchema },
};

const controlDeploymentRoute = defineApiRoute({
  name: "apiControlDeployment",
  method: "POST",
  path: "tenants/{tenant}/deployments/{deploymentId}/{action}",
  tag: "deployments",
  summary: "Pause, resume or cancel a running deployment",
  description:
    "pause: no new device starts; devices already started finish their runs. resume: devices start again. cancel: " +
    "final; devices not started are reported cancelled, running ones finish. Audited; shown in the report's control log.",
  permission: "runs:start",
  audit: "deployments.control",
  durableClient: true,
  params: DeploymentParamsSchema.extend(ControlActionParamsSchema.shape),
  body: ControlRequestSchema.optional(),
  responses: controlResponses,
  async handle(call) {
    const { tenant, deploymentId } = call.params;
    return control(call as AnyCall, deploymentInstanceId(tenant, deploymentId), `deployment ${deploymentId}`);
  },
});

/** Path of a window occurrence's control route. */
const OccurrenceControlParamsSchema = z.object({
  tenant: TenantParamsSchema.shape.tenant,
  windowId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "must be a lowercase slug"),
  /** A scheduled occurrence's local date, or an occurrence's instance id (on-demand ones: `ondemand-…`). */
  occurrence: z
    .string()
    .regex(/^(\d{4}-\d{2}-\d{2}|(window|ondemand)-[a-z0-9-]{1,150})$/, "must be a local date or an occurrence id"),
  action: ControlActionParamsSchema.shape.action,
});

const controlOccurrenceRoute = defineApiRoute({
  name: "apiControlWindowOccurrence",
  method: "POST",
  path: "tenants/{tenant}/windows/{windowId}/occurrences/{occurrence}/{action}",
  tag: "windows",
  summary: "Pause, resume or cancel a running window occurrence (by its local date)",
  description:
    "Raised to the occurrence's orchestration (applied between rings) and to its running client rollouts (applied " +
    "between waves). pause: no new device starts, running ones finish; resume; cancel: final, devices not started " +
    "are reported cancelled. A paused occurrence still ends at its cutoff. Audited; shown in window-report.json.",
  permission: "runs:start",
  audit: "windows.control",
  durableClient: true,
  params: OccurrenceControlParamsSchema,
  body: ControlRequestSchema.optional(),
  responses: controlResponses,
  async handle(call) {
    const { tenant, windowId, occurrence } = call.params;
    // The occurrence's instance id, as lib/domain/window/occurrences.ts builds it; an id given whole must name this
    // tenant's window (no path reaches another tenant's orchestration).
    const scheduled = `window-${tenant}-${windowId}-`;
    const onDemand = `ondemand-${tenant}-${windowId}-`;
    const instanceId = /^\d{4}-\d{2}-\d{2}$/.test(occurrence) ? `${scheduled}${occurrence}` : occurrence;
    if (!instanceId.startsWith(scheduled) && !instanceId.startsWith(onDemand))
      throw notFound(`no occurrence ${occurrence} of window ${windowId} in this tenant`);
    return control(call as unknown as AnyCall, instanceId, `occurrence ${occurrence} of window ${windowId}`, {
      orchestrator: ORCHESTRATORS.clientRollout,
    });
  },
});

/** Every deployment and control route. */
export const DEPLOYMENT_ROUTES: readonly ApiRoute[] = [
  createDeploymentRoute,
  getDeploymentRoute,
  controlDeploymentRoute,
  controlOccurrenceRoute,
] as ApiRoute[];
