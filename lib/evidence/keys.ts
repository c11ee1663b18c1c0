import type { RunRef } from "../schemas/common";

/** Blob name of an artifact: `{tenant}/{client}/{device}/{runId}/{NN-phase}/{artifact}` (DESIGN.md). */
export function artifactBlobName(run: RunRef, artifactPath: string): string {
  return `${runPrefix(run)}${artifactPath}`;
}

/** Blob name prefix of everything a run stored, ending in `/`. */
export function runPrefix(run: RunRef): string {
  return `${run.tenant}/${run.client}/${run.device}/${run.runId}/`;
}

// Table keys may not contain / \ # ? or control characters; artifact paths contain "/".
// eslint-disable-next-line no-control-regex -- control characters are exactly what table keys forbid
const KEY_FORBIDDEN = /[/\\#?%\u0000-\u001f\u007f-\u009f]/g;

/** Encodes a value for use in a PartitionKey or RowKey (reversible, order-preserving for plain characters). */
export function toTableKey(value: string): string {
  return value.replace(KEY_FORBIDDEN, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0").toUpperCase()}`);
}

/** Reverses {@link toTableKey}. */
export function fromTableKey(key: string): string {
  return key.replace(/%([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** Partition key of the Runs table: one partition per tenant and client. */
export function runsPartition(tenant: string, client: string): string {
  return `${tenant}|${client}`;
}

/**
 * OData filter matching exactly one tenant's partitions of the Runs table (`tenant|client`): tenant slugs contain
 * neither "|" nor "}", and "}" is the character after "|", so a tenant `acme-2` (sorting before `acme|`) stays out.
 */
export function tenantRunsFilter(tenant: string): string {
  const quoted = (text: string): string => `'${text.replace(/'/g, "''")}'`;
  return `PartitionKey gt ${quoted(`${tenant}|`)} and PartitionKey lt ${quoted(`${tenant}}`)}`;
}

/** Partition key of the Installs (audit) table: one partition per tenant and device. */
export function installsPartition(tenant: string, device: string): string {
  return `${tenant}|${device}`;
}

/** Row key of the Installs table: the update first, so "was KB x installed on device y" is a range scan. */
export function installsRowKey(updateKey: string, runId: string): string {
  return `${toTableKey(updateKey)}|${runId}`;
}
