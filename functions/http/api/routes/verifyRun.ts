import { notFound } from "../../../../lib/api/apiProblem";
import { findTenantRun } from "../../../../lib/evidence/findTenantRun";
import { verifyRun } from "../../../../lib/evidence/verifyRun";
import { ProblemSchema } from "../../../../lib/schemas/api/problem";
import { RunParamsSchema } from "../../../../lib/schemas/api/runs";
import { VerificationReportSchema } from "../../../../lib/schemas/api/verification";
import { defineApiRoute } from "../apiRoute";

/** `GET /api/v1/tenants/{tenant}/runs/{runId}/verify`: every artifact re-hashed against index, Merkle root and chain. */
export const verifyRunRoute = defineApiRoute({
  name: "apiVerifyRun",
  method: "GET",
  path: "tenants/{tenant}/runs/{runId}/verify",
  tag: "evidence",
  summary: "Re-verify a run's evidence now",
  description:
    "Re-reads every artifact, recomputes its SHA-256 and compares it with the index, recomputes the Merkle root and the event chain. ok is false on any mismatch.",
  permission: "evidence:read",
  audit: "runs.verify",
  params: RunParamsSchema,
  responses: {
    200: { description: "The verification report (ok true or false)", schema: VerificationReportSchema },
    404: { description: "No such run in this tenant", schema: ProblemSchema },
  },
  async handle(call) {
    const { tenant, runId } = call.params;
    const found = await findTenantRun(call.deps.storage.tables.runs, tenant, runId);
    if (found === undefined) throw notFound(`no run ${runId} in this tenant`);
    const report = await verifyRun(call.deps.evidence, found.ref);
    return {
      status: 200,
      json: { ...report, checkedAt: call.deps.clock().toISOString() },
      auditDetails: { runId, ok: report.ok, merkleRoot: report.merkleRoot ?? "" },
    };
  },
});
