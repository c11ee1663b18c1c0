import { DEFAULT_GLOBAL_POLICY } from "../../../../lib/domain/policy/defaultPolicy";
import { resolveEffectivePolicy } from "../../../../lib/domain/policy/overlay";
import { newDeviceRunState } from "../../../../lib/domain/run/newDeviceRunState";
import { planNext, planStart, type Plan, type StageOutcome } from "../../../../lib/domain/run/planDeviceRun";
import { DeviceRunStateSchema, type DeviceRunState } from "../../../../lib/schemas/deviceRun";
import type { RebootPolicy } from "../../../../lib/schemas/policies";

// Shared by the hard-case planner tests (issue 21): a run at minute offsets from T0, walked outcome by outcome.
export const T0 = Date.parse("2026-01-20T02:00:00Z");
export const at = (min: number): Date => new Date(T0 + min * 60_000);

export function start(rebootPolicy: RebootPolicy = "IfRequired", maxReboots = 2): DeviceRunState {
  const { policy } = resolveEffectivePolicy([
    DEFAULT_GLOBAL_POLICY,
    { schemaVersion: 1, scope: { level: "tenant", tenant: "t" }, update: { rebootPolicy, maxReboots } },
  ]);
  return planStart(newDeviceRunState(policy, at(0)), at(0)).state;
}

/** Feeds outcomes in order (each at its minute), checking every intermediate state against its schema. */
export function walk(
  state: DeviceRunState,
  steps: [StageOutcome, number][],
  ctx: { windowEnd?: Date; dryRun?: boolean } = {},
): Plan[] {
  const plans: Plan[] = [];
  let s = state;
  for (const [outcome, minute] of steps) {
    const p = planNext(s, outcome, { now: at(minute), dryRun: ctx.dryRun ?? false, windowEnd: ctx.windowEnd });
    expect(DeviceRunStateSchema.safeParse(p.state).success).toBe(true);
    plans.push(p);
    s = p.state;
  }
  return plans;
}

export const pre: StageOutcome = { stage: "pre", baselineOk: true, preValidationOk: true };
export const catalog = (approved: number): StageOutcome => ({ stage: "catalog", ok: true, approved });
export const installed = (rebootRequired: boolean): StageOutcome => ({
  stage: "install",
  documentProduced: true,
  installed: 2,
  failed: 0,
  rebootRequired,
});
/** The install's command ended without a document (timed out, or the agent dropped). */
export const lost: StageOutcome = {
  stage: "install",
  documentProduced: false,
  installed: 0,
  failed: 0,
  rebootRequired: false,
};
export const rebootScheduled = (minute: number): StageOutcome => ({
  stage: "reboot",
  scheduled: true,
  scheduledAt: at(minute).toISOString(),
  delaySeconds: 60,
  bootTimeBefore: at(-1440).toISOString(),
});
