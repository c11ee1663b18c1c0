import { ApiProblem, notFound } from "../../../../lib/api/apiProblem";
import type { RunLog } from "../../../../lib/evidence/runLog";
import { ProblemSchema } from "../../../../lib/schemas/api/problem";
import {
  CheckpointQuerySchema,
  ConsistencyProofSchema,
  ConsistencyQuerySchema,
  TransparencyParamsSchema,
} from "../../../../lib/schemas/api/transparency";
import { noteText, parseCheckpoint } from "../../../../lib/transparency/note";
import { defineApiRoute } from "../apiRoute";

const TEXT = "text/plain; charset=utf-8";

function logOf(log: RunLog | undefined): RunLog {
  // A deployment always has a key; a test stack without one answers that the log is not kept here.
  if (log === undefined) throw new ApiProblem(404, "Not Found", "this deployment keeps no transparency log");
  return log;
}

/** `GET /api/v1/tenants/{tenant}/transparency/key`: the tenant log's verifier key (C2SP signed-note vkey). */
export const transparencyKeyRoute = defineApiRoute({
  name: "apiTransparencyKey",
  method: "GET",
  path: "tenants/{tenant}/transparency/key",
  tag: "evidence",
  summary: "The public key that signs the tenant log's checkpoints",
  description:
    "A C2SP signed-note verifier key (`name+keyid+base64(type‖key)`): pass it to `patchpilot verify --package F --key`.",
  permission: "evidence:read",
  params: TransparencyParamsSchema,
  responses: { 200: { description: "The verifier key", contentTypes: { [TEXT]: "a C2SP signed-note verifier key" } } },
  async handle(call) {
    const key = await logOf(call.deps.evidence.log).verifierKey(call.params.tenant);
    return { status: 200, raw: { bytes: Buffer.from(`${key}\n`, "utf8"), contentType: TEXT } };
  },
});

/** `GET /api/v1/tenants/{tenant}/transparency/checkpoint[?size=N]`: a signed checkpoint of the tenant's log. */
export const transparencyCheckpointRoute = defineApiRoute({
  name: "apiTransparencyCheckpoint",
  method: "GET",
  path: "tenants/{tenant}/transparency/checkpoint",
  tag: "evidence",
  summary: "A signed checkpoint of the tenant's transparency log (latest, or of a tree size)",
  description: "A C2SP tlog-checkpoint: origin, tree size, base64 RFC 6962 root, blank line, signature line.",
  permission: "evidence:read",
  audit: "transparency.checkpoint",
  params: TransparencyParamsSchema,
  query: CheckpointQuerySchema,
  responses: {
    200: { description: "The signed checkpoint", contentTypes: { [TEXT]: "a C2SP tlog-checkpoint signed note" } },
    404: { description: "No checkpoint of that size (or no sealed run yet)", schema: ProblemSchema },
  },
  async handle(call) {
    const log = logOf(call.deps.evidence.log);
    const { tenant } = call.params;
    const cp = call.query.size === undefined ? await log.latest(tenant) : await log.checkpoint(tenant, call.query.size);
    if (cp === undefined)
      throw notFound(`no checkpoint${call.query.size === undefined ? "" : ` of size ${call.query.size}`}`);
    return {
      status: 200,
      raw: { bytes: Buffer.from(cp.note, "utf8"), contentType: TEXT },
      auditDetails: { size: cp.size },
    };
  },
});

/** `GET /api/v1/tenants/{tenant}/transparency/consistency?from=M[&to=N]`: RFC 6962 consistency proof. */
export const transparencyConsistencyRoute = defineApiRoute({
  name: "apiTransparencyConsistency",
  method: "GET",
  path: "tenants/{tenant}/transparency/consistency",
  tag: "evidence",
  summary: "Consistency proof between two checkpoints of the tenant's log (RFC 6962 §2.1.2)",
  permission: "evidence:read",
  audit: "transparency.consistency",
  params: TransparencyParamsSchema,
  query: ConsistencyQuerySchema,
  responses: {
    200: { description: "The proof", schema: ConsistencyProofSchema },
    400: { description: "from is larger than to, or to is beyond the log", schema: ProblemSchema },
    404: { description: "The tenant has no log yet", schema: ProblemSchema },
  },
  async handle(call) {
    const log = logOf(call.deps.evidence.log);
    const { tenant } = call.params;
    const latest = await log.latest(tenant);
    if (latest === undefined) throw notFound("the tenant has no sealed run in its log yet");
    const to = call.query.to ?? latest.size;
    const { from } = call.query;
    const field = from > to ? "from" : to > latest.size ? "to" : undefined;
    if (field !== undefined)
      throw new ApiProblem(400, "Bad Request", `need from <= to <= ${latest.size} (the log's size)`, [
        { field: `query.${field}`, reason: field === "from" ? "is larger than to" : "is beyond the log's size" },
      ]);
    const origin = parseCheckpoint(noteText(latest.note)).origin;
    return {
      status: 200,
      json: ConsistencyProofSchema.parse({
        origin,
        algorithm: "rfc6962-sha256",
        from,
        to,
        proof: await log.consistency(tenant, from, to),
      }),
      auditDetails: { from, to },
    };
  },
});
