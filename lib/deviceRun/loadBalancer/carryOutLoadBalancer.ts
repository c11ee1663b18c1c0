import { isRestError } from "@azure/core-rest-pipeline";
import { getNic, membershipsOf, nicsOfVm, poolMembers, putNicPools } from "../../azure/network/nicMembership";
import { ARTIFACTS } from "../../domain/artifacts";
import {
  checkMembership,
  planRemovals,
  poolsAfterDrain,
  poolsAfterRestore,
  poolsChanged,
  type PoolRemoval,
} from "../../domain/loadBalancer/membership";
import { drainHookOf } from "../../domain/loadBalancer/planLoadBalancer";
import type { LoadBalancerAction, LoadBalancerPoolsBefore } from "../../schemas/artifacts/loadBalancer";
import { LoadBalancerPoolsBeforeSchema } from "../../schemas/artifacts/loadBalancer";
import type { RunRef } from "../../schemas/common";
import type { LoadBalancerDrainHook } from "../../schemas/loadBalancerHook";
import type { DeviceRef } from "../../schemas/target";
import type { DeviceRunDeps } from "../deps";
import type { RunFacts } from "../runFacts";
import type { StoredList } from "../storedArtifacts";

/** What the drain and restore use: the evidence store and ARM. */
type LbDeps = Pick<DeviceRunDeps, "evidence" | "arm">;

// The load-balancer drain and restore (issue 20), ARM-side actions of the advance activity, asked for by the
// planner's `loadBalancer` records (lib/domain/loadBalancer/planLoadBalancer.ts). Idempotent: every name and byte
// derives from the request (its `now`) and from the membership sealed before the drain, so a retried call removes
// nothing twice (the pools already left are not in the NIC any more), restores only pools the device was in, and
// writes the same evidence. ARM's refusals (4xx) are recorded as `failed`; throttling and server errors are thrown
// and the activity is retried.

/** Why ARM cannot drain this kind of device, or undefined when it can. */
export function notPossibleFor(device: DeviceRef): string | undefined {
  switch (device.kind) {
    case "vm":
    case "vmssFlex":
      return undefined;
    case "arc":
      return "an Arc-enabled server is not behind an Azure Load Balancer ARM can change: use a script hook with the MSP's tooling";
    case "vmss":
      return (
        "a Uniform scale-set instance's backend pools come from the scale set model's network profile; changing one " +
        "instance means a per-instance model update (the VMSS VM's networkProfileConfiguration), which PatchPilot " +
        "does not make: use a script hook with the MSP's tooling"
      );
  }
}

/** A refusal no retry changes (ARM's 4xx but throttling and timeouts); anything else is thrown. */
function refusal(error: unknown): string | undefined {
  if (!isRestError(error)) return undefined;
  const status = error.statusCode ?? 0;
  if (status < 400 || status >= 500 || status === 408 || status === 429) return undefined;
  return `ARM answered ${status} ${error.code ?? ""}: ${error.message}`.slice(0, 2000);
}

/** Carries out the drain and restore records of a plan (others are not this function's). */
export async function carryOutLoadBalancer(
  deps: LbDeps,
  run: RunRef,
  device: DeviceRef,
  facts: RunFacts,
  records: readonly { kind: string; action?: string }[],
  stored: StoredList,
  now: Date,
): Promise<void> {
  for (const record of records) {
    if (record.kind !== "loadBalancer") continue;
    const runRecord = await facts.runRecord();
    const hook = drainHookOf(runRecord.policy.hooks);
    if (hook === undefined) continue;
    const setBy = runRecord.policyProvenance["hooks.preInstall"];
    const base = {
      schemaVersion: 1 as const,
      recordedAt: now.toISOString(),
      device: device.resourceId,
      ...(setBy === undefined ? {} : { setBy }),
    };
    if (record.action === "drain") await drain(deps, run, device, hook, base, stored, now);
    else await restore(deps, device, hook, base, facts, stored, run);
  }
}

type Base = Pick<LoadBalancerAction, "schemaVersion" | "recordedAt" | "device" | "setBy">;

async function drain(
  deps: LbDeps,
  run: RunRef,
  device: DeviceRef,
  hook: LoadBalancerDrainHook,
  base: Base,
  stored: StoredList,
  now: Date,
): Promise<void> {
  const record = (rest: Omit<LoadBalancerAction, keyof Base | "action" | "drainSeconds">) =>
    stored.put(deps.evidence, run, ARTIFACTS.lbDrain, {
      ...base,
      action: "drain",
      drainSeconds: hook.drainSeconds,
      ...rest,
    } satisfies LoadBalancerAction);
  const impossible = notPossibleFor(device);
  if (impossible !== undefined)
    return void (await record({ outcome: "not-possible", reason: impossible, changes: [], verification: [] }));
  let removals: PoolRemoval[] = [];
  try {
    const before = await poolsBefore(deps, run, device, stored, now);
    removals = planRemovals(before.memberships, hook.pools);
    if (removals.length === 0)
      return void (await record({
        outcome: "nothing-to-do",
        reason: "the device's NICs are in none of the pools to drain",
        changes: [],
        verification: [],
      }));
    await changeAndRecord(deps, removals, "drain", record);
  } catch (error) {
    const reason = refusal(error);
    if (reason === undefined) throw error;
    await record({ outcome: "failed", reason, changes: removals, verification: [] });
  }
}

async function restore(
  deps: LbDeps,
  device: DeviceRef,
  hook: LoadBalancerDrainHook,
  base: Base,
  facts: RunFacts,
  stored: StoredList,
  run: RunRef,
): Promise<void> {
  // Only what was sealed before the drain is put back; no record of it means nothing was removed.
  const before = await facts.read<LoadBalancerPoolsBefore>(ARTIFACTS.lbPoolsBefore);
  if (before === undefined || notPossibleFor(device) !== undefined) return;
  const removals = planRemovals(before.memberships, hook.pools);
  if (removals.length === 0) return;
  const record = (rest: Omit<LoadBalancerAction, keyof Base | "action">) =>
    stored.put(deps.evidence, run, ARTIFACTS.lbRestore, {
      ...base,
      action: "restore",
      ...rest,
    } satisfies LoadBalancerAction);
  await changeAndRecord(deps, removals, "restore", record);
}

/**
 * Changes the NICs' pool membership (drain: leave the pools; restore: join them again), checks the result through the
 * pools' own member lists, and records it. ARM's refusals (4xx) are recorded as `failed`; anything else is thrown so
 * the activity is retried (the change is idempotent).
 */
async function changeAndRecord(
  deps: LbDeps,
  removals: PoolRemoval[],
  action: "drain" | "restore",
  record: (rest: Omit<LoadBalancerAction, keyof Base | "action">) => Promise<unknown>,
): Promise<void> {
  const restoring = action === "restore";
  try {
    await applyToNics(deps, removals, restoring ? poolsAfterRestore : poolsAfterDrain);
    const verification = checkMembership(removals, await membersOf(deps, removals), restoring);
    const wrong = verification.filter((c) => !c.ok).map((c) => c.poolId);
    const why = restoring ? "not a member after the restore" : "still a member after the drain";
    await record({
      outcome: wrong.length > 0 ? "failed" : restoring ? "restored" : "drained",
      ...(wrong.length === 0 ? {} : { reason: `${why}: ${wrong.join(", ")}` }),
      changes: removals,
      verification,
    });
  } catch (error) {
    const reason = refusal(error);
    if (reason === undefined) throw error;
    await record({ outcome: "failed", reason, changes: removals, verification: [] });
  }
}

/**
 * `lb-pools-before.json`, sealed before anything is removed. A retried call finds the one its first attempt stored
 * (the NIC may already be drained, so reading ARM again would record the wrong "before") and stores the same bytes.
 */
async function poolsBefore(
  deps: LbDeps,
  run: RunRef,
  device: DeviceRef,
  stored: StoredList,
  now: Date,
): Promise<LoadBalancerPoolsBefore> {
  const earlier = await deps.evidence.store.get(run, ARTIFACTS.lbPoolsBefore.path);
  const before: LoadBalancerPoolsBefore =
    earlier !== undefined
      ? LoadBalancerPoolsBeforeSchema.parse(JSON.parse(earlier.toString("utf8")))
      : {
          schemaVersion: 1,
          recordedAt: now.toISOString(),
          device: device.resourceId,
          kind: device.kind,
          memberships: membershipsOf(await nicsOfVm(deps.arm, device)),
        };
  await stored.put(deps.evidence, run, ARTIFACTS.lbPoolsBefore, before);
  return before;
}

/** One GET and (when anything changes) one PUT per NIC. */
async function applyToNics(
  deps: LbDeps,
  removals: readonly PoolRemoval[],
  next: (current: string[], removed: string[]) => string[],
): Promise<void> {
  for (const nicId of [...new Set(removals.map((r) => r.nicId))]) {
    const nic = await getNic(deps.arm, nicId);
    const removedOf = (name: string): string[] =>
      removals.find((r) => r.nicId === nicId && r.ipConfiguration === name)?.pools ?? [];
    const changed = (nic.ipConfigurations ?? []).some((c) => {
      const current = (c.loadBalancerBackendAddressPools ?? []).flatMap((p) => (p.id === undefined ? [] : [p.id]));
      return poolsChanged(current, next(current, removedOf(c.name ?? "")));
    });
    if (changed) await putNicPools(deps.arm, nic, (name, current) => next(current, removedOf(name)));
  }
}

/** Each affected pool's members, as the pool lists them (the load balancer's own view). */
async function membersOf(deps: LbDeps, removals: readonly PoolRemoval[]): Promise<Map<string, string[]>> {
  const members = new Map<string, string[]>();
  for (const poolId of [...new Set(removals.flatMap((r) => r.pools))])
    members.set(poolId, await poolMembers(deps.arm, poolId));
  return members;
}
