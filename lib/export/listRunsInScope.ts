import type { TableClient } from "@azure/data-tables";
import type { ExportRequest } from "../schemas/api/exports";
import { RunRefSchema, type RunRef } from "../schemas/common";
import { RunRowSchema, type RunRow } from "../schemas/tableRows";
import { tenantRunsFilter } from "../evidence/keys";

/** What an export is asked to cover. */
export type ExportScope = Pick<ExportRequest, "from" | "to" | "clients" | "devices">;

/** A run in an export's scope: where its evidence is, and its status row as the Runs table holds it now. */
export interface RunInScope {
  run: RunRef;
  status: RunRow["status"];
  startedAt: string;
  merkleRoot?: string;
  eventsChainHead?: string;
  exitCode?: number;
  exitCodeName?: string;
}

function quote(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * The tenant's runs whose `startedAt` lies in [from, to), optionally only the named clients and devices, sorted by
 * client, device, start and run id. Every query is scoped to the tenant's own partitions.
 */
export async function listRunsInScope(runs: TableClient, tenant: string, scope: ExportScope): Promise<RunInScope[]> {
  const from = Date.parse(scope.from);
  const to = Date.parse(scope.to);
  // startedAt is an ISO string, so the service compares it as text. Stored values are toISOString() (UTC, ms); the
  // bounds are normalised the same way and the upper one widened by a second, so the text range is a superset that
  // also keeps a value written without milliseconds; the exact range is applied below on parsed times.
  const time = `startedAt ge ${quote(new Date(from).toISOString())} and startedAt lt ${quote(new Date(to + 1000).toISOString())}`;
  const partitions =
    scope.clients === undefined
      ? [tenantRunsFilter(tenant)]
      : [...new Set(scope.clients)].map((client) => `PartitionKey eq ${quote(`${tenant}|${client}`)}`);
  const devices = scope.devices === undefined ? undefined : new Set(scope.devices);

  const found: RunInScope[] = [];
  for (const partition of partitions) {
    for await (const entity of runs.listEntities({ queryOptions: { filter: `${partition} and ${time}` } })) {
      const row = RunRowSchema.parse(entity);
      const separator = row.partitionKey.indexOf("|");
      if (row.partitionKey.slice(0, separator) !== tenant) continue;
      const started = Date.parse(row.startedAt);
      if (!(started >= from && started < to)) continue;
      if (devices !== undefined && !devices.has(row.device)) continue;
      const run = RunRefSchema.parse({
        tenant,
        client: row.partitionKey.slice(separator + 1),
        device: row.device,
        runId: row.rowKey,
      });
      found.push({
        run,
        status: row.status,
        startedAt: row.startedAt,
        ...(row.merkleRoot === undefined ? {} : { merkleRoot: row.merkleRoot }),
        ...(row.eventsChainHead === undefined ? {} : { eventsChainHead: row.eventsChainHead }),
        ...(row.exitCode === undefined ? {} : { exitCode: row.exitCode }),
        ...(row.exitCodeName === undefined ? {} : { exitCodeName: row.exitCodeName }),
      });
    }
  }
  return found.sort(compareRuns);
}

const text = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Client, device, start time, run id: plain code-unit order, the same on every machine. */
function compareRuns(a: RunInScope, b: RunInScope): number {
  return (
    text(a.run.client, b.run.client) ||
    text(a.run.device, b.run.device) ||
    Date.parse(a.startedAt) - Date.parse(b.startedAt) ||
    text(a.run.runId, b.run.runId)
  );
}
