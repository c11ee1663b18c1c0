import type { InvocationContext, Timer } from "@azure/functions";
import { listDevices, TARGET_TAGS } from "../../lib/azure/inventory";
import { readSealedReportFile } from "../../lib/compliance/complianceEvidence";
import { ComplianceSlaSchema } from "../../lib/compliance/complianceSchemas";
import { generateComplianceReport, type GenerateComplianceDeps } from "../../lib/compliance/generateComplianceReport";
import { scheduledPeriod, scheduledReportId } from "../../lib/compliance/scheduledReport";
import { EvidenceConflictError } from "../../lib/evidence/errors";
import { ClientIdSchema, TenantIdSchema } from "../../lib/schemas/common";
import { currentTick } from "./startDueWindows";

/**
 * Daily at 06:00 UTC (six-field NCRONTAB). The period ends yesterday, so every day in it is over; 06:00 leaves the
 * night's maintenance and scan windows (usually local night, at most a few hours past midnight UTC for the
 * European and American clients of the demo) time to seal their catalogs, and the report is ready before a
 * European MSP's business day starts.
 */
export const SCHEDULED_COMPLIANCE_SCHEDULE = "0 0 6 * * *";

/**
 * The timer that seals, for every client in the inventory, its compliance report over the last 30 UTC days (the
 * same code as `POST …/compliance-reports`, default SLA). Idempotent: the report id comes from client + period and
 * the report's time is the tick, so a retried or re-fired tick finds the sealed report and makes no second one. One
 * client's failure does not stop the others; the invocation then fails naming them (the host logs it).
 */
export function makeGenerateScheduledComplianceReports(getDeps: () => GenerateComplianceDeps) {
  return async function generateScheduledComplianceReports(timer: Timer, context: InvocationContext): Promise<void> {
    const deps = getDeps();
    const tick = currentTick(timer);
    const period = scheduledPeriod(tick);
    const sla = ComplianceSlaSchema.parse({});
    const inventory = await listDevices(deps.arm, { subscriptionIds: deps.subscriptionIds });
    // Every client with a device tagged for PatchPilot; a device without valid tenant and client tags belongs to none.
    const clients = new Map<string, { tenant: string; client: string }>();
    for (const device of inventory.devices) {
      const tenant = TenantIdSchema.safeParse(device.tags[TARGET_TAGS.tenant]);
      const client = ClientIdSchema.safeParse(device.tags[TARGET_TAGS.client]);
      if (tenant.success && client.success)
        clients.set(`${tenant.data}/${client.data}`, { tenant: tenant.data, client: client.data });
    }
    const failed: string[] = [];
    for (const { tenant, client } of clients.values()) {
      const reportId = scheduledReportId(tenant, client, period);
      if ((await readSealedReportFile(deps.evidence, tenant, client, reportId, "report.json")) !== undefined) continue;
      try {
        await generateComplianceReport(deps, {
          tenant,
          client,
          ...period,
          sla,
          generatedAt: tick.toISOString(),
          reportId,
        });
        context.log(`sealed compliance report ${tenant}/${client}/${reportId} (${period.from}..${period.to})`);
      } catch (error) {
        // A partial earlier attempt whose runs changed since: the bytes differ, nothing was replaced. Reported, never
        // overwritten; any other error (storage, ARM) is reported the same way after the other clients had their turn.
        if (!(error instanceof EvidenceConflictError)) context.error(error);
        else context.warn(`compliance report ${tenant}/${client}/${reportId}: ${error.message}`);
        failed.push(`${tenant}/${client}`);
      }
    }
    if (failed.length > 0) throw new Error(`scheduled compliance reports failed for ${failed.join(", ")}`);
  };
}
