import { randomBytes } from "node:crypto";
import { notFound } from "../../../../lib/api/apiProblem";
import { exportDownloadUrl } from "../../../../lib/export/exportLink";
import { exportStatusOf } from "../../../../lib/export/exportStatus";
import { ExportStore } from "../../../../lib/export/exportStore";
import { TenantParamsSchema } from "../../../../lib/schemas/api/access";
import { ExportParamsSchema, ExportRequestSchema, ExportStatusSchema } from "../../../../lib/schemas/api/exports";
import { ProblemSchema } from "../../../../lib/schemas/api/problem";
import type { AppDeps } from "../../../definitions";
import { EXPORT_ORCHESTRATOR } from "../../../../orchestrators/exportNames";
import { apiPath, defineApiRoute } from "../apiRoute";

const exportStore = (deps: AppDeps): ExportStore => new ExportStore(deps.storage.tables.exports);

/** `POST /api/v1/tenants/{tenant}/exports`: build an evidence package for a time range, by orchestration. */
export const createExportRoute = defineApiRoute({
  name: "apiCreateExport",
  method: "POST",
  path: "tenants/{tenant}/exports",
  tag: "exports",
  summary: "Build an evidence package (zip) for a time range, optionally some clients or devices",
  description:
    "The package holds every artifact of the runs in scope, their indexes, manifests and inclusion proofs, a verification report made at " +
    "export time, a compliance matrix (NIST SP 800-40r4, NIST SP 800-53r5, CIS Controls v8) as CSV and HTML, SHA256SUMS and a README. " +
    "It verifies offline with `patchpilot verify --package`. Poll the Location until status is completed.",
  permission: "evidence:export",
  audit: "exports.create",
  durableClient: true,
  params: TenantParamsSchema,
  body: ExportRequestSchema,
  responses: {
    202: {
      description: "Accepted; the package is being built. Follow Location until status is completed",
      schema: ExportStatusSchema,
      headers: { Location: "required", "Retry-After": "required" },
    },
  },
  async handle(call) {
    const { tenant } = call.params;
    const now = call.deps.clock();
    const exportId = `x${now.toISOString().slice(0, 10).replace(/-/g, "")}-${randomBytes(8).toString("hex")}`;
    const createdBy = `${call.caller?.kind ?? "unknown"}:${call.caller?.id ?? "unknown"}`;
    const record = await exportStore(call.deps).create(tenant, exportId, call.body, createdBy, now);
    await call
      .durable()
      .startNew(EXPORT_ORCHESTRATOR, { instanceId: `export:${tenant}:${exportId}`, input: { tenant, exportId } });
    const location = apiPath(`tenants/${tenant}/exports/${exportId}`);
    return {
      status: 202,
      json: exportStatusOf(record),
      headers: { location, "retry-after": "10" },
      auditDetails: { exportId, from: call.body.from, to: call.body.to },
    };
  },
});

/** `GET /api/v1/tenants/{tenant}/exports/{exportId}`: status, and a short-lived download link once built. */
export const getExportRoute = defineApiRoute({
  name: "apiGetExport",
  method: "GET",
  path: "tenants/{tenant}/exports/{exportId}",
  tag: "exports",
  summary: "An export's status; a short-lived download link (SAS) when completed",
  permission: "evidence:export",
  audit: "exports.read",
  params: ExportParamsSchema,
  responses: {
    200: {
      description:
        "The export. When completed, download.href is a short-lived read-only link to the package: a zip " +
        "(application/zip) served by Blob storage, not by this API",
      schema: ExportStatusSchema,
    },
    404: { description: "No such export in this tenant", schema: ProblemSchema },
  },
  async handle(call) {
    const { tenant, exportId } = call.params;
    const record = await exportStore(call.deps).get(tenant, exportId);
    if (record === undefined) throw notFound(`no export ${exportId} in this tenant`);
    // The SAS is checked by the storage service against its own (real) clock, not the app's (virtual locally).
    const download =
      record.status === "completed" && record.blobName !== undefined
        ? await exportDownloadUrl(call.deps.storage, call.deps.config, record.blobName, new Date())
        : undefined;
    return {
      status: 200,
      json: exportStatusOf(record, download),
      auditDetails: {
        exportId,
        status: record.status,
        ...(record.sha256 === undefined ? {} : { sha256: record.sha256 }),
      },
    };
  },
});
