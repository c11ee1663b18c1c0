import { notFound } from "../../../../lib/api/apiProblem";
import { findTenantRun } from "../../../../lib/evidence/findTenantRun";
import { ProblemSchema } from "../../../../lib/schemas/api/problem";
import { RunParamsSchema, RunStatusQuerySchema, RunStatusSchema } from "../../../../lib/schemas/api/runs";
import { defineApiRoute } from "../apiRoute";
import { describeRun } from "./runStatus";

/** How often a long-poll re-reads the run (a table read; the exit code lands seconds after the last phase). */
const POLL_MS = 1000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** `GET /api/v1/tenants/{tenant}/runs/{runId}`: where a run is; its exit code and evidence once done. */
export const getRunRoute = defineApiRoute({
  name: "apiGetRun",
  method: "GET",
  path: "tenants/{tenant}/runs/{runId}",
  tag: "runs",
  summary: "A run's stage and progress, or its exit code, reasons and evidence",
  description: `With waitSeconds=N (at most 120) the request blocks until the exit code exists or N seconds pass, so an RMM script can loop on it.`,
  permission: "runs:read",
  durableClient: true,
  params: RunParamsSchema,
  query: RunStatusQuerySchema,
  responses: {
    200: {
      description: "The run; exitCode is present once it is decided (until then Retry-After says when to ask again)",
      schema: RunStatusSchema,
      headers: { "Retry-After": "optional" },
    },
    404: { description: "No such run in this tenant", schema: ProblemSchema },
  },
  async handle(call) {
    const { tenant, runId } = call.params;
    const { deps } = call;
    // Real time, not the app clock: the caller's HTTP client waits in real time.
    const deadline = Date.now() + call.query.waitSeconds * 1000;
    for (;;) {
      const found = await findTenantRun(deps.storage.tables.runs, tenant, runId);
      if (found === undefined) throw notFound(`no run ${runId} in this tenant`);
      const status = await describeRun(deps.evidence, () => call.durable(), found);
      const done = status.exitCode !== undefined || status.status === "failed";
      if (done || Date.now() + POLL_MS > deadline) {
        const headers: Record<string, string> = done ? {} : { "retry-after": "10" };
        return { status: 200, json: status, headers };
      }
      await sleep(POLL_MS);
    }
  },
});
