import type { TableClient } from "@azure/data-tables";
import { installsPartition } from "../../evidence/keys";
import { ApiProblem } from "../apiProblem";

/**
 * Host names compare case-insensitively (RFC 4343), but Table storage keys do not: the audit index is partitioned
 * by `tenant|DEVICE` as the run recorded the device. An auditor asking for `fab-app01` must find `FAB-APP01`.
 *
 * Table storage has no case-insensitive query, and a directory of names would be one more thing to keep in step
 * with the index, so the name is resolved from the index's own partition keys by a skip scan: seek the first key at
 * or after the smallest case variant of the name (all letters upper case, which sort before lower case); if it is a
 * variant, that is the canonical name; otherwise jump to the smallest variant after it and seek again. Each seek is
 * one query for one key; a name whose canonical spelling exists is usually found by the first.
 */

/** Seeks past at most this many other devices before giving up (an answer of "could not look", never "none"). */
const MAX_SEEKS = 64;

const isLetter = (c: string): boolean => /^[A-Za-z]$/.test(c);

/** The spellings allowed at one position of `name`, in sort order (ordinal: upper before lower). */
function optionsAt(name: string, i: number): string[] {
  const c = name[i] ?? "";
  return isLetter(c) ? [c.toUpperCase(), c.toLowerCase()] : [c];
}

/** The smallest case variant of `name` (every letter upper case). */
export function smallestCaseVariant(name: string): string {
  return name.toUpperCase();
}

/** True when `candidate` spells `name` with other letter cases (ASCII: host names have no other letters). */
export function isCaseVariant(candidate: string, name: string): boolean {
  return candidate.length === name.length && candidate.toUpperCase() === name.toUpperCase();
}

/** The smallest case variant of `name` that sorts strictly after `key` (ordinal), or undefined when none does. */
export function nextCaseVariantAfter(key: string, name: string): string | undefined {
  // Longest prefix of `key` that is a prefix of some variant.
  let p = 0;
  while (p < name.length && p < key.length && optionsAt(name, p).includes(key[p] ?? "")) p += 1;
  const rest = (from: number): string => smallestCaseVariant(name.slice(from));
  // `key` is a proper prefix of a variant: the smallest variant extending it is larger.
  if (p === key.length && p < name.length) return key + rest(p);
  // Otherwise a larger variant shares key[0..j) and has a larger character at j, for the largest such j.
  for (let j = Math.min(p, name.length - 1); j >= 0; j -= 1) {
    const at = key[j] ?? "";
    const bigger = optionsAt(name, j).find((o) => o > at);
    if (bigger !== undefined) return key.slice(0, j) + bigger + rest(j + 1);
  }
  return undefined;
}

/** The first Installs partition key at or after `from` within the tenant's range, or undefined. */
async function seek(table: TableClient, tenant: string, from: string): Promise<string | undefined> {
  const quote = (v: string): string => `'${v.replace(/'/g, "''")}'`;
  const filter = `PartitionKey ge ${quote(installsPartition(tenant, from))} and PartitionKey lt ${quote(`${tenant}}`)}`;
  const pages = table.listEntities({ queryOptions: { filter, select: ["PartitionKey"] } }).byPage({ maxPageSize: 1 });
  // A page may come back empty with a continuation (Azure's query time limits), so read until a row or the end.
  for await (const page of pages) {
    const first = page[0];
    if (first !== undefined) return String(first.partitionKey);
  }
  return undefined;
}

/**
 * The device's name as the audit index spells it, or undefined when no device of the tenant has that name in any
 * letter case. Throws a 503 problem when the scan had to pass too many other names (it could not look).
 */
export async function resolveDeviceName(
  installs: TableClient,
  tenant: string,
  device: string,
): Promise<string | undefined> {
  const prefix = installsPartition(tenant, "");
  let from: string | undefined = smallestCaseVariant(device);
  for (let i = 0; i < MAX_SEEKS && from !== undefined; i += 1) {
    const key = await seek(installs, tenant, from);
    if (key === undefined || !key.startsWith(prefix)) return undefined;
    const found = key.slice(prefix.length);
    if (isCaseVariant(found, device)) return found;
    from = nextCaseVariantAfter(found, device);
  }
  if (from === undefined) return undefined;
  throw new ApiProblem(
    503,
    "Service Unavailable",
    `could not resolve the device name's letter case within ${MAX_SEEKS} index reads; ask with the exact name`,
    undefined,
    "device-name-unresolved",
  );
}
