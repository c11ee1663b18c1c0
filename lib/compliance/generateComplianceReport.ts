import type { TableClient } from "@azure/data-tables";
import type { ArmClients } from "../azure/armClients";
import { listDevices } from "../azure/inventory";
import type { EvidenceDeps } from "../evidence/evidenceSession";
import { readAssessments, sealComplianceReport, type SealedFile } from "./complianceEvidence";
import type { ComplianceReport, ComplianceSla } from "./complianceSchemas";
import { computeCompliance } from "./computeCompliance";

/** What generating a report reads from: sealed runs (evidence + Runs table) and the inventory. */
export interface GenerateComplianceDeps {
  evidence: EvidenceDeps;
  runs: TableClient;
  arm: ArmClients;
  subscriptionIds: readonly string[];
}

/** One report to generate: the client, the period (UTC days, inclusive), the SLA, its time and its id. */
export interface ComplianceReportJob {
  tenant: string;
  client: string;
  from: string;
  to: string;
  sla: ComplianceSla;
  generatedAt: string;
  reportId: string;
}

/**
 * Computes a client's compliance over a period and seals it (report.json/.csv/.html, create-once and indexed): the
 * one path both the HTTP route and the daily timer take. Every device of the client is in the denominator (the
 * inventory and the devices with runs); a device with no readable assessment is unknown, never compliant.
 */
export async function generateComplianceReport(
  deps: GenerateComplianceDeps,
  job: ComplianceReportJob,
): Promise<{ report: ComplianceReport; files: SealedFile[] }> {
  const { tenant, client, from, to } = job;
  const read = await readAssessments(deps.evidence, deps.runs, tenant, client, from, to);
  const inventory = await listDevices(deps.arm, { subscriptionIds: deps.subscriptionIds }, { tenant, client });
  const report = computeCompliance({
    tenant,
    client,
    from,
    to,
    sla: job.sla,
    generatedAt: job.generatedAt,
    devices: [...inventory.devices.map((d) => d.name), ...read.devices],
    assessments: read.assessments,
    unreadable: read.unreadable,
  });
  const files = await sealComplianceReport(deps.evidence, report, job.reportId);
  return { report, files };
}
