import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import type { AppDeps } from "../../functions/definitions";
import { LOG_STREAMS, type LogRows } from "../../lib/azure/logs/logRows";
import { remediationRows } from "../../lib/dashboard/remediationView";
import { computeFleetFigures } from "../../lib/dashboard/fleetFigures";
import { ARTIFACTS } from "../../lib/domain/artifacts";
import { findTenantRun } from "../../lib/evidence/findTenantRun";
import { openEvidenceSession } from "../../lib/evidence/evidenceSession";
import { RunIdSchema, TenantIdSchema } from "../../lib/schemas/common";
import { renderDashboardHtml } from "../dashboard/renderDashboard";
import type { LocalPage } from "../durable/eventGridWebhook";
import { HttpProblem, sendProblem } from "../durable/httpProblem";
import type { LocalLogsIngestion } from "../logsIngestion/logsIngestionEndpoint";

/** Where the local front serves the fleet dashboard. */
export const DASHBOARD_PATH = "/dashboard";

/** The report.html link of a run, on the local front (relative: the page and the report share the origin). */
export function localReportUrl(tenant: string, runId: string): string {
  return `${DASHBOARD_PATH}/reports/${encodeURIComponent(tenant)}/${encodeURIComponent(runId)}/report.html`;
}

const REPORT_ROUTE = /^\/dashboard\/reports\/([^/]+)\/([^/]+)\/report\.html$/;
// The report's own CSP, repeated as a header: the page is evidence written from device output.
const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'";

/** Stored rows back into their row type (the endpoint fills columns a sender left out with null); bad rows counted. */
function readRows<T>(rows: readonly Record<string, unknown>[], schema: z.ZodType<T>, rejected: { count: number }): T[] {
  return rows.flatMap((row) => {
    const parsed = schema.safeParse(Object.fromEntries(Object.entries(row).filter(([, v]) => v !== null)));
    if (parsed.success) return [parsed.data];
    rejected.count += 1;
    return [];
  });
}

/** Everything ingested so far, as the workbook would query it, and how many stored rows failed their schema. */
export function ingestedRows(logs: LocalLogsIngestion): LogRows & { rejected: number } {
  const rejected = { count: 0 };
  return {
    runs: readRows(logs.rowsByTable(LOG_STREAMS.runs.table), LOG_STREAMS.runs.schema, rejected),
    updates: readRows(logs.rowsByTable(LOG_STREAMS.updates.table), LOG_STREAMS.updates.schema, rejected),
    windows: readRows(logs.rowsByTable(LOG_STREAMS.windows.table), LOG_STREAMS.windows.schema, rejected),
    rejected: rejected.count,
  };
}

/** A path segment decoded, or "" (which no schema accepts) when absent or not valid percent-encoding. */
function decodeSegment(segment: string | undefined): string {
  try {
    return decodeURIComponent(segment ?? "");
  } catch (error) {
    if (error instanceof URIError) return "";
    throw error;
  }
}

function send(
  response: ServerResponse,
  status: number,
  contentType: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { "content-type": contentType, "cache-control": "no-store", ...headers });
  response.end(body);
}

/**
 * The local fleet dashboard: the workbook's figures (lib/dashboard) over the rows the local Logs Ingestion endpoint
 * holds, and each run's report.html served from the evidence store after its bytes hash to the indexed SHA-256.
 * Local only (the front listens on 127.0.0.1, without auth); in Azure the workbook is the dashboard.
 */
export function createDashboardPage(deps: { deps: AppDeps; logs: LocalLogsIngestion; now: () => Date }): LocalPage {
  return {
    prefix: DASHBOARD_PATH,
    async handle(request: IncomingMessage, response: ServerResponse, url: URL) {
      if (request.method !== "GET" && request.method !== "HEAD") {
        sendProblem(response, new HttpProblem(405, "Method Not Allowed", "the dashboard is read-only"));
        return;
      }
      const path = url.pathname.replace(/\/+$/, "");
      if (path === DASHBOARD_PATH) {
        const now = deps.now();
        const rows = ingestedRows(deps.logs);
        const figures = computeFleetFigures(rows, { now });
        // Quarantines are read from their store for every tenant the rows name (local page: all of them).
        const tenants = [...new Set([...rows.runs, ...rows.windows].map((r) => r.Tenant))].sort();
        const quarantined = (await Promise.all(tenants.map((t) => deps.deps.quarantine.list(t)))).flat();
        const html = renderDashboardHtml(figures, {
          generatedAt: now,
          reportUrl: (r) => localReportUrl(r.tenant, r.runId),
          rejectedRows: rows.rejected,
          quarantined,
          remediations: remediationRows(rows.runs, quarantined, { now }),
        });
        send(response, 200, "text/html; charset=utf-8", html);
        return;
      }
      const match = REPORT_ROUTE.exec(path);
      const tenant = TenantIdSchema.safeParse(decodeSegment(match?.[1]));
      const runId = RunIdSchema.safeParse(decodeSegment(match?.[2]));
      if (!tenant.success || !runId.success) {
        sendProblem(response, new HttpProblem(404, "Not Found", `no dashboard page at ${url.pathname}`));
        return;
      }
      const found = await findTenantRun(deps.deps.storage.tables.runs, tenant.data, runId.data);
      const session = found === undefined ? undefined : openEvidenceSession(deps.deps.evidence, found.ref);
      // The session refuses a row that names a blob outside this run's folder (tenant isolation): shown as no report.
      const lookup = await session?.lookup(ARTIFACTS.reportHtml.path);
      if (session === undefined || lookup?.status !== "found") {
        sendProblem(
          response,
          new HttpProblem(404, "Not Found", `run ${runId.data} of ${tenant.data} has no indexed report.html`),
        );
        return;
      }
      const { row } = lookup;
      const { bytes } = await session.readBytes(ARTIFACTS.reportHtml.path);
      if (bytes === undefined) {
        sendProblem(
          response,
          new HttpProblem(
            409,
            "Conflict",
            `report.html of run ${runId.data} does not match its indexed SHA-256 ${row.sha256}; not served`,
          ),
        );
        return;
      }
      send(response, 200, "text/html; charset=utf-8", bytes, {
        "content-security-policy": REPORT_CSP,
        "x-patchpilot-sha256": row.sha256,
      });
    },
  };
}
