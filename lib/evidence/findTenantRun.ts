import type { TableClient } from "@azure/data-tables";
import { RunRefSchema, type RunRef } from "../schemas/common";
import { RunRowSchema, type RunRow } from "../schemas/tableRows";
import { tenantRunsFilter } from "./keys";

/** A run found inside one tenant: where its evidence is, and its status row. */
export interface TenantRun {
  ref: RunRef;
  row: RunRow;
}

/**
 * Finds a run by id within one tenant only (a range over the tenant's `tenant|client` partitions of the Runs table):
 * tenant-facing APIs take the tenant from the caller, so a run id of another tenant is simply not found here.
 */
export async function findTenantRun(runs: TableClient, tenant: string, runId: string): Promise<TenantRun | undefined> {
  // Both values are schema-checked slugs at the API boundary; quotes are doubled anyway so this can never widen.
  const filter = `${tenantRunsFilter(tenant)} and RowKey eq '${runId.replace(/'/g, "''")}'`;
  for await (const entity of runs.listEntities({ queryOptions: { filter } })) {
    const row = RunRowSchema.parse(entity);
    const client = row.partitionKey.slice(tenant.length + 1);
    const ref = RunRefSchema.safeParse({ tenant, client, device: row.device, runId: row.rowKey });
    if (ref.success) return { ref: ref.data, row };
  }
  return undefined;
}
