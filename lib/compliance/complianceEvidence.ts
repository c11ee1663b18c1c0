import type { TableClient } from "@azure/data-tables";
import { ARTIFACTS } from "../domain/artifacts";
import { canonicalJsonBytes } from "../evidence/canonicalJson";
import { openEvidenceSession, type EvidenceDeps } from "../evidence/evidenceSession";
import { runsPartition } from "../evidence/keys";
import type { Catalog, InstallOutcome } from "../schemas/artifacts/catalog";
import type { RunRef } from "../schemas/common";
import { RunRowSchema } from "../schemas/tableRows";
import type { ComplianceReport } from "./complianceSchemas";
import type { Assessment } from "./computeCompliance";
import { renderComplianceCsv, renderComplianceHtml } from "./renderComplianceReport";

// Reading assessments from sealed runs, and sealing a compliance report as evidence. Every catalog is read through
// the run's evidence session (verified against its indexed SHA-256 and confined to its run's folder); one that
// cannot be verified is reported as unreadable and assesses nothing ("could not look" is never "nothing missing").

/** The client's assessments in `[from 00:00, to 24:00)` UTC: the catalog of every run that recorded one. */
export async function readAssessments(
  deps: EvidenceDeps,
  runs: TableClient,
  tenant: string,
  client: string,
  from: string,
  to: string,
): Promise<{ assessments: Assessment[]; unreadable: ComplianceReport["unreadable"]; devices: string[] }> {
  const start = Date.parse(`${from}T00:00:00Z`);
  const end = Date.parse(`${to}T00:00:00Z`) + 86_400_000;
  const assessments: Assessment[] = [];
  const unreadable: ComplianceReport["unreadable"] = [];
  const devices = new Set<string>();
  const filter = `PartitionKey eq '${runsPartition(tenant, client).replace(/'/g, "''")}'`;
  for await (const entity of runs.listEntities({ queryOptions: { filter } })) {
    const row = RunRowSchema.safeParse(entity);
    if (!row.success) continue;
    devices.add(row.data.device);
    const startedAt = Date.parse(row.data.startedAt);
    // A run started before the period may still have assessed inside it; the catalog's own time decides below.
    if (!(startedAt < end && startedAt >= start - 86_400_000)) continue;
    if (row.data.status !== "completed" && row.data.status !== "sealed") continue;
    const ref: RunRef = { tenant, client, device: row.data.device, runId: row.data.rowKey };
    const session = openEvidenceSession(deps, ref);
    const catalog = await session.read(ARTIFACTS.catalog);
    if (catalog.read.status === "missing") continue; // the run never got as far as a catalog: no assessment
    if (catalog.read.status !== "verified" || catalog.value === undefined) {
      unreadable.push({ device: ref.device, runId: ref.runId, problem: `catalog ${catalog.read.status}` });
      continue;
    }
    const value = catalog.value as Catalog;
    const at = Date.parse(value.evaluatedAt);
    if (at < start || at >= end) continue;
    const summary = await session.read(ARTIFACTS.installSummary);
    if (summary.read.status !== "verified" && summary.read.status !== "missing") {
      unreadable.push({ device: ref.device, runId: ref.runId, problem: `install summary ${summary.read.status}` });
      continue;
    }
    const outcomes = (summary.value as InstallOutcome[] | undefined) ?? [];
    assessments.push({
      device: ref.device,
      runId: ref.runId,
      at: value.evaluatedAt,
      catalogSha256: catalog.read.indexedSha256 ?? "",
      updates: value.updates,
      installed: outcomes.filter((o) => o.installed).map((o) => o.updateId),
    });
  }
  return { assessments, unreadable, devices: [...devices] };
}

/** Where a report is sealed: `{tenant}/_compliance/{client}/{reportId}/` (no client slug can be `_compliance`). */
function reportScope(report: Pick<ComplianceReport, "tenant" | "client">, reportId: string): RunRef {
  return { tenant: report.tenant, client: "_compliance", device: report.client, runId: reportId };
}

/** A sealed report file: its blob name and SHA-256. */
export interface SealedFile {
  path: string;
  blobName: string;
  sha256: string;
}

/**
 * Stores report.json (canonical), report.csv and report.html create-once and indexes them (as window reports are):
 * a retry with the same bytes succeeds, different bytes under the same id are an EvidenceConflictError.
 */
export async function sealComplianceReport(
  deps: EvidenceDeps,
  report: ComplianceReport,
  reportId: string,
): Promise<SealedFile[]> {
  const session = openEvidenceSession(deps, reportScope(report, reportId));
  const files: [string, Uint8Array, string][] = [
    ["report.json", canonicalJsonBytes(report), "application/json"],
    ["report.csv", Buffer.from(renderComplianceCsv(report), "utf8"), "text/csv; charset=utf-8"],
    ["report.html", Buffer.from(renderComplianceHtml(report), "utf8"), "text/html; charset=utf-8"],
  ];
  const stored = [];
  for (const [path, bytes, contentType] of files) stored.push(await session.putBytes(path, bytes, contentType));
  await session.index(stored.map((s) => ({ ...s, merkleLeaf: false })));
  return stored.map((s) => ({ path: s.path, blobName: s.blobName, sha256: s.sha256 }));
}

/** Reads a sealed report file back, verified against its index row; undefined when absent or not verifiable. */
export async function readSealedReportFile(
  deps: EvidenceDeps,
  tenant: string,
  client: string,
  reportId: string,
  path: "report.json" | "report.csv" | "report.html",
): Promise<Buffer | undefined> {
  const session = openEvidenceSession(deps, reportScope({ tenant, client }, reportId));
  const reading = await session.readBytes(path);
  return reading.read.status === "verified" ? reading.bytes : undefined;
}
