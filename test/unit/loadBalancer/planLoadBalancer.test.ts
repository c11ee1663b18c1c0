import { DEFAULT_GLOBAL_POLICY } from "../../../lib/domain/policy/defaultPolicy";
import { resolveEffectivePolicy } from "../../../lib/domain/policy/overlay";
import { newDeviceRunState } from "../../../lib/domain/run/newDeviceRunState";
import { planNext, planStart, type Plan, type StageOutcome } from "../../../lib/domain/run/planDeviceRun";
import { DeviceRunStateSchema, type DeviceRunState } from "../../../lib/schemas/deviceRun";
import { HooksPolicySchema } from "../../../lib/schemas/hooksPolicy";
import { PolicyLayerSchema } from "../../../lib/schemas/policyLayer";

// When the planner asks for the drain and the restore (issue 20), and how the install waits for the drain time.

const T0 = Date.parse("2026-01-20T02:00:00Z");
const at = (min: number): Date => new Date(T0 + min * 60_000);
const POOL =
  "/subscriptions/subid/resourceGroups/testrg/providers/Microsoft.Network/loadBalancers/lb/backendAddressPools/backend";

function start(hooks?: unknown): DeviceRunState {
  const layers = [
    DEFAULT_GLOBAL_POLICY,
    PolicyLayerSchema.parse({
      schemaVersion: 1,
      scope: { level: "tenant", tenant: "t" },
      ...(hooks === undefined ? {} : { hooks }),
    }),
  ];
  const { policy } = resolveEffectivePolicy(layers);
  return planStart(newDeviceRunState(policy, at(0)), at(0)).state;
}

function walk(state: DeviceRunState, steps: [StageOutcome, number][]): Plan[] {
  const plans: Plan[] = [];
  let s = state;
  for (const [outcome, minute] of steps) {
    const p = planNext(s, outcome, { now: at(minute), dryRun: false });
    expect(DeviceRunStateSchema.safeParse(p.state).success).toBe(true);
    plans.push(p);
    // As the advance activity does: a stage's queued steps are submitted once the run is due (here: at once).
    s = { ...p.state, queued: undefined, stageFacts: undefined };
  }
  return plans;
}

const pre: StageOutcome = { stage: "pre", baselineOk: true, preValidationOk: true };
const catalog: StageOutcome = { stage: "catalog", ok: true, approved: 2 };
const installed: StageOutcome = {
  stage: "install",
  documentProduced: true,
  installed: 2,
  failed: 0,
  rebootRequired: false,
};
const post: StageOutcome = { stage: "post", regressions: 0 };
const drainHook = { preInstall: [{ type: "loadBalancerDrain", drainSeconds: 90 }] };

describe("withLoadBalancer (planNext)", () => {
  it("holds the install back in queued until drainSeconds after the drain it asks for", () => {
    const [, toInstall] = walk(start(drainHook), [
      [pre, 1],
      [catalog, 2],
    ]);
    expect(toInstall?.state.stage).toBe("install");
    expect(toInstall?.submit).toEqual([]);
    expect(toInstall?.state.queued).toEqual(["install"]);
    expect(toInstall?.state.nextCheckAt).toBe(new Date(at(2).getTime() + 90_000).toISOString());
    expect(toInstall?.record).toEqual([expect.objectContaining({ kind: "loadBalancer", action: "drain" })]);
    expect(toInstall?.state.events.at(-1)).toMatchObject({ type: "loadBalancer.drain", phase: "05-install" });
  });

  it("keeps the pre-install device hooks in front of the install, both held back", () => {
    const [, toInstall] = walk(
      start({
        preInstall: [
          { type: "stopServices", services: [{ name: "W3SVC", timeoutSeconds: 60 }] },
          { type: "loadBalancerDrain", drainSeconds: 30 },
        ],
      }),
      [
        [pre, 1],
        [catalog, 2],
      ],
    );
    expect(toInstall?.state.queued).toEqual(["preInstallHooks", "install"]);
    expect(toInstall?.submit).toEqual([]);
  });

  it("asks for the restore once, when the run enters the post stage", () => {
    const plans = walk(start(drainHook), [
      [pre, 1],
      [catalog, 2],
      [installed, 10],
      [post, 20],
    ]);
    expect(plans[2]?.state.stage).toBe("post");
    expect(plans[2]?.record).toEqual([expect.objectContaining({ kind: "loadBalancer", action: "restore" })]);
    expect(plans[2]?.submit[0]).toBe("snapshot");
    expect(plans[3]?.record.filter((r) => r.kind === "loadBalancer")).toEqual([]);
  });

  it("never drains twice: the install retried after a reconnect goes out at once", () => {
    const plans = walk(start(drainHook), [
      [pre, 1],
      [catalog, 2],
      [{ stage: "install", documentProduced: false, installed: 0, failed: 0, rebootRequired: false }, 10],
      [{ stage: "installReconnect", agentStatus: "Connected" }, 11],
    ]);
    expect(plans[3]?.state.stage).toBe("install");
    expect(plans[3]?.submit).toEqual(["install"]);
    expect(plans.flatMap((p) => p.record).filter((r) => r.kind === "loadBalancer")).toHaveLength(1);
  });

  it("restores when the run ends without post phases (agent gone): the membership is ARM's, not the device's", () => {
    const plans = walk(start(drainHook), [
      [pre, 1],
      [catalog, 2],
      [{ stage: "install", documentProduced: false, installed: 0, failed: 0, rebootRequired: false }, 10],
      [{ stage: "installReconnect", agentStatus: "Disconnected" }, 200],
    ]);
    expect(plans[3]?.state.stage).toBe("done");
    expect(plans[3]?.record).toContainEqual(expect.objectContaining({ kind: "loadBalancer", action: "restore" }));
  });

  it("asks for nothing when the run stops before the install (no drain, so no restore)", () => {
    const plans = walk(start(drainHook), [[{ stage: "pre", baselineOk: false, preValidationOk: true }, 1]]);
    expect(plans[0]?.state.stage).toBe("done");
    expect(plans[0]?.record).toEqual([]);
  });

  it("changes nothing without the hook", () => {
    const [, toInstall] = walk(start(), [
      [pre, 1],
      [catalog, 2],
    ]);
    expect(toInstall?.submit).toEqual(["install"]);
    expect(toInstall?.state.queued).toBeUndefined();
    expect(toInstall?.state.policy.loadBalancerDrainSeconds).toBeUndefined();
  });
});

describe("HooksPolicySchema and loadBalancerDrain", () => {
  it("takes a drain at preInstall with a default drain time and named pools", () => {
    const parsed = HooksPolicySchema.parse({ preInstall: [{ type: "loadBalancerDrain", pools: [POOL] }] });
    expect(parsed.preInstall?.[0]).toEqual({ type: "loadBalancerDrain", drainSeconds: 30, pools: [POOL] });
  });

  it("refuses a drain at always, a second drain, and a pool that is not a backend pool id, naming the field", () => {
    const always = HooksPolicySchema.safeParse({ always: [{ type: "loadBalancerDrain" }] });
    expect(always.error?.issues[0]?.path).toEqual(["always", 0, "type"]);
    const twice = HooksPolicySchema.safeParse({
      preInstall: [{ type: "loadBalancerDrain" }, { type: "loadBalancerDrain" }],
    });
    expect(twice.error?.issues[0]?.path).toEqual(["preInstall", 1, "type"]);
    const bad = HooksPolicySchema.safeParse({
      preInstall: [{ type: "loadBalancerDrain", pools: [POOL.replace("backendAddressPools", "probes")] }],
    });
    expect(bad.error?.issues[0]?.path).toEqual(["preInstall", 0, "pools", 0]);
  });
});
