import { notFound } from "../../../../lib/api/apiProblem";
import { ProblemSchema } from "../../../../lib/schemas/api/problem";
import { TenantParamsSchema } from "../../../../lib/schemas/api/access";
import {
  QuarantineLiftRequestSchema,
  QuarantineLiftResponseSchema,
  QuarantineListQuerySchema,
  QuarantineListResponseSchema,
  QuarantineParamsSchema,
} from "../../../../lib/schemas/api/quarantine";
import { QuarantineEntrySchema } from "../../../../lib/schemas/quarantine";
import { defineApiRoute, type ApiResult, type ApiRoute } from "../apiRoute";

// Quarantined updates (lib/quarantine/quarantineStore.ts): read by whoever may read policy, lifted by a policy author
// (a quarantine is a policy exclusion the system added; lifting it lets later runs install the update again).

const listQuarantineRoute = defineApiRoute({
  name: "apiListQuarantine",
  method: "GET",
  path: "tenants/{tenant}/quarantine",
  tag: "quarantine",
  summary: "Quarantined updates of the tenant (client and tenant scope); ?state=active|lifted|all",
  permission: "policies:read",
  params: TenantParamsSchema,
  query: QuarantineListQuerySchema,
  responses: { 200: { description: "Entries, by id", schema: QuarantineListResponseSchema } },
  async handle(call): Promise<ApiResult> {
    const all = await call.deps.quarantine.list(call.params.tenant);
    const { state } = call.query;
    const entries = all.filter((e) =>
      state === "all" ? true : state === "active" ? e.lifted === undefined : e.lifted !== undefined,
    );
    return { status: 200, json: { entries } };
  },
});

const getQuarantineRoute = defineApiRoute({
  name: "apiGetQuarantine",
  method: "GET",
  path: "tenants/{tenant}/quarantine/{id}",
  tag: "quarantine",
  summary: "One quarantine entry, with its history of earlier periods",
  permission: "policies:read",
  params: QuarantineParamsSchema,
  responses: {
    200: { description: "The entry", schema: QuarantineEntrySchema },
    404: { description: "No such entry in this tenant", schema: ProblemSchema },
  },
  async handle(call): Promise<ApiResult> {
    const entry = await call.deps.quarantine.get(call.params.tenant, call.params.id);
    if (entry === undefined) throw notFound(`no quarantine entry ${call.params.id} in this tenant`);
    return { status: 200, json: entry };
  },
});

const liftQuarantineRoute = defineApiRoute({
  name: "apiLiftQuarantine",
  method: "POST",
  path: "tenants/{tenant}/quarantine/{id}/lift",
  tag: "quarantine",
  summary: "Lift a quarantine: runs that start from now on may install the update again",
  description:
    "Records who lifted it, when and why in the entry (runs already started keep the quarantine they read). " +
    "A second lift changes nothing and answers alreadyLifted=true. Audited.",
  permission: "policies:write",
  audit: "quarantine.lift",
  params: QuarantineParamsSchema,
  body: QuarantineLiftRequestSchema,
  responses: {
    200: { description: "Lifted (or already lifted)", schema: QuarantineLiftResponseSchema },
    404: { description: "No such entry in this tenant", schema: ProblemSchema },
  },
  async handle(call): Promise<ApiResult> {
    const { tenant, id } = call.params;
    const before = await call.deps.quarantine.get(tenant, id);
    if (before === undefined) throw notFound(`no quarantine entry ${id} in this tenant`);
    const by = `${call.caller?.kind ?? "unknown"}:${call.caller?.id ?? "unknown"}`;
    const at = call.deps.clock().toISOString();
    const entry = await call.deps.quarantine.lift(tenant, id, { at, by, reason: call.body.reason });
    if (entry === undefined) throw notFound(`no quarantine entry ${id} in this tenant`);
    const alreadyLifted = before.lifted !== undefined;
    const update = entry.update.kind === "kb" ? entry.update.kb : entry.update.name;
    return {
      status: 200,
      json: { entry, alreadyLifted },
      auditDetails: { id, update, scope: entry.scope, alreadyLifted },
    };
  },
});

/** Every quarantine route. */
export const QUARANTINE_ROUTES: readonly ApiRoute[] = [
  listQuarantineRoute,
  getQuarantineRoute,
  liftQuarantineRoute,
] as ApiRoute[];
