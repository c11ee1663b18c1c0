// What a load-balancer drain removes and its restore puts back (issue 20). Pure: from the membership recorded before
// the drain (sealed as evidence first) and what ARM says now. Resource ids compare case-insensitively, as ARM's do.

/** One NIC ip-configuration and the backend pools it belongs to. */
export interface IpConfigMembership {
  nicId: string;
  /** The ip-configuration's name on its NIC (what a NIC PUT names). */
  ipConfiguration: string;
  ipConfigurationId: string;
  pools: string[];
}

/** The pools one ip-configuration leaves at the drain (and gets back at the restore). */
export interface PoolRemoval {
  nicId: string;
  ipConfiguration: string;
  ipConfigurationId: string;
  pools: string[];
}

/** One look at a pool's members after a change: whether the ip-configuration is in it, and whether that is as wanted. */
export interface MembershipCheck {
  poolId: string;
  ipConfigurationId: string;
  member: boolean;
  ok: boolean;
}

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();
const has = (list: readonly string[], id: string): boolean => list.some((x) => same(x, id));

/**
 * The drain's removals: every pool each ip-configuration was in before, or only the `only` pools among them (a pool
 * named in the policy that the device was not in is not touched). Ip-configurations left with nothing to remove are
 * not listed.
 */
export function planRemovals(before: readonly IpConfigMembership[], only?: readonly string[]): PoolRemoval[] {
  return before.flatMap((m) => {
    const pools = m.pools.filter((p) => only === undefined || has(only, p));
    return pools.length === 0
      ? []
      : [{ nicId: m.nicId, ipConfiguration: m.ipConfiguration, ipConfigurationId: m.ipConfigurationId, pools }];
  });
}

/** The pools an ip-configuration keeps at the drain: what it has now minus the removals (a retry removes nothing twice). */
export function poolsAfterDrain(current: readonly string[], remove: readonly string[]): string[] {
  return current.filter((p) => !has(remove, p));
}

/**
 * The pools an ip-configuration has after the restore: what it has now plus the removed pools it lacks. Only pools the
 * drain removed (so ones it was in before) are ever added; one already back is not added twice.
 */
export function poolsAfterRestore(current: readonly string[], removed: readonly string[]): string[] {
  return [...current, ...removed.filter((p) => !has(current, p))];
}

/** True when a pool list changes (the NIC needs a PUT). */
export function poolsChanged(current: readonly string[], next: readonly string[]): boolean {
  return current.length !== next.length || next.some((p) => !has(current, p));
}

/** Checks each removal against the pools' members as ARM lists them: out after a drain, in after a restore. */
export function checkMembership(
  removals: readonly PoolRemoval[],
  membersOf: ReadonlyMap<string, readonly string[]>,
  wantMember: boolean,
): MembershipCheck[] {
  return removals.flatMap((r) =>
    r.pools.map((poolId) => {
      const members = [...membersOf.entries()].find(([id]) => same(id, poolId))?.[1] ?? [];
      const member = has(members, r.ipConfigurationId);
      return { poolId, ipConfigurationId: r.ipConfigurationId, member, ok: member === wantMember };
    }),
  );
}
