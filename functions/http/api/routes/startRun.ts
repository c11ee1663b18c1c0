import { randomUUID } from "node:crypto";
import { notFound, ApiProblem } from "../../../../lib/api/apiProblem";
import { listDevices } from "../../../../lib/azure/inventory";
import { TenantParamsSchema } from "../../../../lib/schemas/api/access";
import { ProblemSchema } from "../../../../lib/schemas/api/problem";
import { StartRunRequestSchema, StartRunResponseSchema, type StartRunResponse } from "../../../../lib/schemas/api/runs";
import type { RunRef } from "../../../../lib/schemas/common";
import type { DeviceRunInput } from "../../../../lib/schemas/deviceRun";
import type { DeviceRef } from "../../../../lib/schemas/target";
import { ORCHESTRATORS } from "../../../../orchestrators/activityNames";
import { defineApiRoute } from "../apiRoute";
import { runLinks } from "../runLinks";

/** Instance id of an API-started device run: unique (the run id is), and names its tenant for operators. */
export function apiRunInstanceId(tenant: string, runId: string): string {
  return `api:${tenant}:${runId}`;
}

// Host names are case-insensitive (Windows reports them upper case, RMM agents often lower case).
function findDevice(devices: readonly DeviceRef[], name: string): DeviceRef | undefined {
  return devices.find((d) => d.name === name) ?? devices.find((d) => d.name.toLowerCase() === name.toLowerCase());
}

/** `POST /api/v1/tenants/{tenant}/runs`: start one device run now; 202 with its id and status link. */
export const startRunRoute = defineApiRoute({
  name: "apiStartRun",
  method: "POST",
  path: "tenants/{tenant}/runs",
  tag: "runs",
  summary: "Start a patch run on one device",
  description:
    "Finds the device among the tenant's Arc machines and scale-set instances (tags patchpilot:tenant and patchpilot:client), " +
    "starts its run and answers at once. A device another run is patching still gets a run; that run ends with 170 (ConcurrencyLock).",
  permission: "runs:start",
  audit: "runs.start",
  durableClient: true,
  params: TenantParamsSchema,
  body: StartRunRequestSchema,
  responses: {
    202: {
      description: "Started; follow links.self (Location) until exitCode is present",
      schema: StartRunResponseSchema,
      headers: { Location: "required", "Retry-After": "required" },
    },
    404: { description: "No such device for that client in this tenant", schema: ProblemSchema },
  },
  async handle(call) {
    const { tenant } = call.params;
    const { client, device: deviceName, dryRun } = call.body;
    const { deps } = call;
    const inventory = await listDevices(
      deps.arm,
      { subscriptionIds: deps.config.arm.subscriptionIds },
      { tenant, client },
    );
    const device = findDevice(inventory.devices, deviceName);
    if (device === undefined) {
      const skipped = inventory.skipped.find((s) =>
        s.resourceId.toLowerCase().endsWith(`/${deviceName.toLowerCase()}`),
      );
      if (skipped !== undefined)
        throw new ApiProblem(
          409,
          "Conflict",
          `device ${deviceName} cannot be patched: ${skipped.reason}`,
          undefined,
          "device-not-patchable",
        );
      throw notFound(
        `no device ${deviceName} of client ${client} in this tenant (tags patchpilot:tenant and patchpilot:client)`,
      );
    }
    const now = deps.clock();
    const runId = `r${now.toISOString().slice(0, 10).replace(/-/g, "")}-${randomUUID()}`;
    const run: RunRef = { tenant, client, device: device.name, runId };
    const instanceId = apiRunInstanceId(tenant, runId);
    // The row first, so the status link answers from the moment the caller has it.
    await deps.evidence.index.upsertRun(run, { status: "queued", startedAt: now.toISOString(), instanceId, dryRun });
    const input: DeviceRunInput = {
      run,
      device,
      trigger: { kind: "api", requestedBy: `${call.caller?.kind ?? "unknown"}:${call.caller?.id ?? "unknown"}` },
      dryRun,
    };
    await call.durable().startNew(ORCHESTRATORS.devicePatchRun, { instanceId, input });
    call.log(`run ${runId} started for ${tenant}/${client}/${device.name} as ${instanceId}`);
    const links = runLinks(tenant, runId);
    const body: StartRunResponse = { tenant, client, device: device.name, runId, status: "queued", dryRun, links };
    return {
      status: 202,
      json: body,
      headers: { location: links.self, "retry-after": "10" },
      auditDetails: { runId, device: device.name },
    };
  },
});
