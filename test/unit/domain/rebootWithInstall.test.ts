import { DEFAULT_GLOBAL_POLICY } from "../../../lib/domain/policy/defaultPolicy";
import { resolveEffectivePolicy } from "../../../lib/domain/policy/overlay";
import { newDeviceRunState } from "../../../lib/domain/run/newDeviceRunState";
import {
  planFoldedReboot,
  planNext,
  planStart,
  type FoldedReboot,
  type Plan,
  type StageOutcome,
} from "../../../lib/domain/run/planDeviceRun";
import { withRebootAfterInstall } from "../../../lib/deviceRun/rebootWithInstall";
import { DeviceRunStateSchema, type DeviceRunState } from "../../../lib/schemas/deviceRun";
import type { RebootPolicy } from "../../../lib/schemas/policies";

// Issue 22: the reboot folded into the install's run command. The install's section is decided first (planNext, as an
// install command of its own); planFoldedReboot then judges the reboot section of the same command against that
// decision. Each case below is what the device could have answered; the expectations are the run's documented
// behaviour (docs/patch-run.md, "The reboot in the install's command").

const T0 = Date.parse("2026-01-20T02:00:00Z");
const at = (min: number): Date => new Date(T0 + min * 60_000);
const iso = (min: number): string => at(min).toISOString();

function installing(rebootPolicy: RebootPolicy = "IfRequired", maxReboots = 2): DeviceRunState {
  const { policy } = resolveEffectivePolicy([
    DEFAULT_GLOBAL_POLICY,
    { schemaVersion: 1, scope: { level: "tenant", tenant: "t" }, update: { rebootPolicy, maxReboots } },
  ]);
  let state = planStart(newDeviceRunState(policy, at(0)), at(0)).state;
  for (const [outcome, minute] of [
    [{ stage: "pre", baselineOk: true, preValidationOk: true }, 1],
    [{ stage: "catalog", ok: true, approved: 2 }, 1],
  ] as [StageOutcome, number][])
    state = planNext(state, outcome, { now: at(minute), dryRun: false }).state;
  expect(state.stage).toBe("install");
  // The install's command as the bundle is submitted at minute 1.
  return {
    ...state,
    commands: [
      {
        step: "install",
        handle: { kind: "arc", resourceId: "/x", runCommandName: "pp-1" } as never,
        scriptVersion: "1.0.0",
        scriptSha256: "0".repeat(64),
        submittedAt: iso(1),
        timeoutSeconds: 3600,
        expectedSeconds: 900,
      },
    ],
  };
}

const installed = (rebootRequired: boolean): StageOutcome => ({
  stage: "install",
  documentProduced: true,
  installed: 2,
  failed: 0,
  rebootRequired,
});
const dropped: StageOutcome = {
  stage: "install",
  documentProduced: false,
  installed: 0,
  failed: 0,
  rebootRequired: false,
};
const scheduled = (minute: number): FoldedReboot => ({
  kind: "scheduled",
  scheduledAt: iso(minute),
  delaySeconds: 60,
  bootTimeBefore: iso(-1440),
});

/** The install decided at `now`, then the reboot section judged. */
function decide(
  state: DeviceRunState,
  install: StageOutcome,
  section: FoldedReboot,
  now: Date,
): { decided: Plan; plan: Plan; used: boolean } {
  const ctx = { now, dryRun: false, os: "windows" as const };
  const decided = planNext({ ...state, commands: [] }, install, ctx);
  const folded = planFoldedReboot(decided, section, ctx);
  expect(DeviceRunStateSchema.safeParse(folded.plan.state).success).toBe(true);
  return { decided, ...folded };
}

describe("the reboot folded into the install's command: the planner (issue 22)", () => {
  it("reboot decided and scheduled by the section: recorded as a collected reboot, the agent check due after the restart", () => {
    const { plan, used } = decide(installing(), installed(true), scheduled(16), at(20));
    expect(used).toBe(true);
    expect(plan.submit).toEqual([]);
    expect(plan.state.stage).toBe("rebootWait");
    expect(plan.state.reboot).toMatchObject({
      required: true,
      requested: true,
      count: 1,
      requestedAt: iso(16),
      delaySeconds: 60,
      bootTimeBefore: iso(-1440),
    });
    // The first agent check: the section's own time + the delay + Windows' first reboot check (180 s), as for a
    // reboot command of its own; already due at minute 20, so the same advance call looks at once.
    expect(plan.state.nextCheckAt).toBe(new Date(at(16).getTime() + (60 + 180) * 1000).toISOString());
    expect(Date.parse(plan.state.nextCheckAt)).toBeLessThanOrEqual(at(20).getTime());
    expect(plan.state.events.map((e) => e.type)).toEqual(
      expect.arrayContaining(["phase.completed", "reboot.decided", "reboot.requested"]),
    );
  });

  it("the Always policy: the section restarts whatever the install said, and that is the reboot", () => {
    const { plan, used } = decide(installing("Always"), installed(false), scheduled(16), at(20));
    expect(used).toBe(true);
    expect(plan.state.stage).toBe("rebootWait");
    expect(plan.state.reboot).toMatchObject({ required: false, requested: true, count: 1 });
  });

  it("reboot wanted but the section did not run it (no marker, could not schedule, never began): the reboot goes as its own command", () => {
    for (const section of [{ kind: "notRequested" }, { kind: "notScheduled" }, { kind: "notRun" }] as FoldedReboot[]) {
      const { decided, plan, used } = decide(installing(), installed(true), section, at(20));
      expect(used).toBe(false);
      expect(plan).toBe(decided);
      expect([plan.state.stage, plan.submit]).toEqual(["reboot", ["reboot"]]);
      expect(plan.state.reboot.requested).toBe(false);
    }
  });

  it("the section's answer is unreadable: waits for a boot time after the command was sent, as for an unreadable reboot answer", () => {
    const { plan, used } = decide(installing(), installed(true), { kind: "unreadable", sentAt: iso(1) }, at(20));
    expect(used).toBe(true);
    expect(plan.state.stage).toBe("rebootWait");
    // Not the time of the decision: a boot after the command went out proves the restart.
    expect(plan.state.reboot).toMatchObject({ requested: true, requestedAt: iso(1), count: 1 });
    expect(plan.state.reboot.reason).toMatch(/unreadable/);
    // The boot probe that reads a boot after the command's submission (and before the decision) proves it.
    const probed = planNext(
      { ...plan.state, stage: "bootProbe" },
      { stage: "bootProbe", lastBootTime: iso(18), pendingReboot: false },
      { now: at(25), dryRun: false },
    );
    expect(probed.state.reboot).toMatchObject({ outcome: "Completed", bootTimeAfter: iso(18) });
  });

  it("no reboot needed and the section agrees (no marker): nothing more, the post stage as without the fold", () => {
    const { decided, plan, used } = decide(installing(), installed(false), { kind: "notRequested" }, at(20));
    expect(used).toBe(false);
    expect(plan).toBe(decided);
    expect(plan.state.stage).toBe("post");
    expect(plan.state.reboot.outcome).toBe("NotRequired");
  });

  it("the section restarted the device though the planner decided no reboot: the run waits for that restart and proves it first", () => {
    // IfRequired and the install said no restart, yet the section found a marker (it must not be pretended away).
    const { plan, used } = decide(installing(), installed(false), scheduled(16), at(20));
    expect(used).toBe(true);
    expect(plan.submit).toEqual([]);
    expect(plan.state.stage).toBe("rebootWait");
    expect(plan.state.reboot).toMatchObject({ requested: true, count: 1, requestedAt: iso(16) });
    expect(plan.state.reboot.outcome).toBeUndefined();
    expect(plan.state.reboot.reason).toMatch(/restarted the device although the reboot decision was NotRequired/);
    expect(plan.state.events.map((e) => e.type)).toContain("reboot.unplanned");
  });

  it("the install dropped mid-command (agent lost): waits for the agent as before, and past a restart the section made", () => {
    // The reboot section never began: exactly the reconnect wait of an install of its own.
    const lost = decide(installing(), dropped, { kind: "notRun" }, at(20));
    expect(lost.used).toBe(false);
    expect(lost.plan.state.stage).toBe("installReconnect");
    expect(lost.plan.state.nextCheckAt).toBe(new Date(at(20).getTime() + 60_000).toISOString());
    // The install's document was unusable but the section restarted the device: the first look after the restart.
    const restarted = decide(installing(), dropped, scheduled(19), at(20));
    expect(restarted.used).toBe(true);
    expect(restarted.plan.state.stage).toBe("installReconnect");
    expect(restarted.plan.state.nextCheckAt).toBe(new Date(at(19).getTime() + (60 + 180) * 1000).toISOString());
    expect(restarted.plan.state.events.map((e) => e.type)).toContain("reboot.unplanned");
  });

  it("keeps what the install's decision must record when the reboot section is taken", () => {
    // Attempts used up: the install is given up (its failure record), then Always reboots.
    const second = { ...installing("Always"), installAttempt: 2 };
    const { plan, decided } = decide(second, dropped, scheduled(16), at(20));
    expect(decided.record.map((r) => r.kind)).toEqual(["install-failed"]);
    expect(plan.record.map((r) => r.kind)).toEqual(["install-failed"]);
    expect(plan.state.stage).toBe("rebootWait");
  });
});

describe("when the reboot rides in the install's command (issue 22)", () => {
  const state = installing();
  const on = { bundleSteps: true };
  it("folds for IfRequired and Always with reboots allowed, steps bundled", () => {
    expect(withRebootAfterInstall(state, ["install"], on)).toEqual(["install", "rebootAfterInstall"]);
    expect(withRebootAfterInstall(installing("Always"), ["install"], on)).toEqual(["install", "rebootAfterInstall"]);
    expect(
      withRebootAfterInstall(
        { ...state, policy: { ...state.policy, preInstallHooks: true } },
        ["preInstallHooks", "install"],
        on,
      ),
    ).toEqual(["preInstallHooks", "install", "rebootAfterInstall"]);
  });
  it("does not fold without a reboot to make, without bundling, switched off, or with what the fold would reorder", () => {
    const p = state.policy;
    const cases: [DeviceRunState, string[], { bundleSteps?: boolean; foldReboot?: boolean }][] = [
      [installing("Never"), ["install"], on],
      [installing("IfRequired", 0), ["install"], on],
      [state, ["install"], { bundleSteps: false }],
      [state, ["install"], { foldReboot: false }],
      [{ ...state, policy: { ...p, postInstallHooks: true } }, ["install", "postInstallHooks"], on],
      [{ ...state, policy: { ...p, postRebootHooks: true } }, ["install"], on],
      [{ ...state, policy: { ...p, onFailureHooks: true } }, ["install"], on],
      [{ ...state, policy: { ...p, alwaysHooks: true } }, ["install"], on],
      [{ ...state, policy: { ...p, loadBalancerDrainSeconds: 30 } }, ["install"], on],
      [{ ...state, policy: { ...p, snapshots: true } }, ["install"], on],
      [{ ...state, remediation: {} as never }, ["install"], on],
      [{ ...state, stage: "reboot" }, ["reboot"], on],
    ];
    for (const [s, submit, options] of cases) expect(withRebootAfterInstall(s, submit, options)).toEqual(submit);
  });
});
