import { randomUUID } from "node:crypto";
import { z } from "zod";
import { notFound } from "../../../../lib/api/apiProblem";
import { readSealedReportFile } from "../../../../lib/compliance/complianceEvidence";
import { ComplianceReportRequestSchema, ComplianceReportSchema } from "../../../../lib/compliance/complianceSchemas";
import { generateComplianceReport } from "../../../../lib/compliance/generateComplianceReport";
import { ClientParamsSchema } from "../../../../lib/schemas/api/management";
import { ProblemSchema } from "../../../../lib/schemas/api/problem";
import { Sha256HexSchema } from "../../../../lib/schemas/common";
import { apiPath, defineApiRoute, type ApiRoute } from "../apiRoute";

// Compliance reports per client and period: computed from the sealed assessments (catalogs) of the client's runs,
// every device of the client in the denominator (inventory and the devices with runs), and sealed as evidence
// (report.json, report.csv, report.html, create-once and indexed) before the answer is sent.

const ReportIdSchema = z.string().regex(/^cr-[0-9]{8}-[0-9a-f-]{36}$/, "must be a compliance report id");
const ReportFileSchema = z.enum(["report.json", "report.csv", "report.html"]);

const CreatedReportSchema = z.object({
  reportId: z.string(),
  report: ComplianceReportSchema,
  files: z.array(z.object({ path: z.string(), sha256: Sha256HexSchema, href: z.string() })),
});

const createReportRoute = defineApiRoute({
  name: "apiCreateComplianceReport",
  method: "POST",
  path: "tenants/{tenant}/clients/{client}/compliance-reports",
  tag: "compliance",
  summary:
    "Compliance of a client over a period (missing updates by severity and age against the SLA), sealed as CSV + HTML",
  description:
    "Devices with no readable assessment in the period are unknown, never compliant, and count in every percentage. " +
    "The report is stored create-once as evidence; its SHA-256s are in the answer and the audit event.",
  permission: "evidence:export",
  audit: "compliance.report",
  params: ClientParamsSchema,
  body: ComplianceReportRequestSchema,
  responses: { 201: { description: "The report, sealed", schema: CreatedReportSchema } },
  async handle(call) {
    const { tenant, client } = call.params;
    const { deps } = call;
    const now = deps.clock();
    const reportId = `cr-${now.toISOString().slice(0, 10).replace(/-/g, "")}-${randomUUID()}`;
    const { report, files } = await generateComplianceReport(
      {
        evidence: deps.evidence,
        runs: deps.storage.tables.runs,
        arm: deps.arm,
        subscriptionIds: deps.config.arm.subscriptionIds,
      },
      {
        tenant,
        client,
        from: call.body.from,
        to: call.body.to,
        sla: call.body.sla,
        generatedAt: now.toISOString(),
        reportId,
      },
    );
    const base = `tenants/${tenant}/clients/${client}/compliance-reports/${reportId}`;
    return {
      status: 201,
      json: {
        reportId,
        report,
        files: files.map((f) => ({ path: f.path, sha256: f.sha256, href: apiPath(`${base}/${f.path}`) })),
      },
      headers: { location: apiPath(`${base}/report.html`) },
      auditDetails: {
        reportId,
        from: call.body.from,
        to: call.body.to,
        ...Object.fromEntries(files.map((f) => [`${f.path}.sha256`, f.sha256])),
      },
    };
  },
});

const getReportFileRoute = defineApiRoute({
  name: "apiGetComplianceReportFile",
  method: "GET",
  path: "tenants/{tenant}/clients/{client}/compliance-reports/{reportId}/{file}",
  tag: "compliance",
  summary: "A sealed compliance report file (json, csv or html), served only if it matches its indexed SHA-256",
  permission: "evidence:read",
  audit: "compliance.read",
  params: ClientParamsSchema.extend({ reportId: ReportIdSchema, file: ReportFileSchema }),
  responses: {
    200: { description: "The file's exact bytes" },
    404: { description: "No such report (or it does not verify)", schema: ProblemSchema },
  },
  async handle(call) {
    const { tenant, client, reportId, file } = call.params;
    const bytes = await readSealedReportFile(call.deps.evidence, tenant, client, reportId, file);
    if (bytes === undefined) throw notFound(`no verifiable ${file} of report ${reportId}`);
    const contentType = file.endsWith(".csv")
      ? "text/csv; charset=utf-8"
      : file.endsWith(".html")
        ? "text/html; charset=utf-8"
        : "application/json";
    return { status: 200, raw: { bytes, contentType }, auditDetails: { reportId, file } };
  },
});

/** The compliance routes. */
export const COMPLIANCE_ROUTES: readonly ApiRoute[] = [createReportRoute, getReportFileRoute] as ApiRoute[];
