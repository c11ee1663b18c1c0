import { STAGES, type StageTable } from "../../../lib/domain/run/steps";
import { verifyRun } from "../../../lib/evidence/verifyRun";
import { driveRun, evidenceFor, startDemo, type DemoEnv } from "./deviceRunHarness";

// A step's run command is a slot per device, updated in place by the step's next execution. When one run executes a
// step twice (an install retried after a reconnect, a second reboot and its probe), both executions share the slot's
// name; their transcripts and status records must still be two, each with its own bytes (evidence is write-once).

let env: DemoEnv;
beforeAll(async () => {
  env = await startDemo();
});
afterAll(async () => {
  await env?.close();
});

// The post stage with the boot probe run twice at its end: the same step, the same slot, two executions.
const stages: StageTable = {
  ...STAGES,
  post: { ...STAGES.post, steps: [...STAGES.post.steps, "bootProbe", "bootProbe"] },
};

describe("a step executed twice in one run (one run-command slot)", () => {
  it("keeps one transcript and status record per execution, and the run verifies", async () => {
    const device = env.devices.get("WNG-SQL01");
    if (device === undefined) throw new Error("no WNG-SQL01");
    // Unbundled, so the post stage runs its steps as commands of their own, the probe twice in its slot.
    const driven = await driveRun(env, device, { tables: { stages, bundleSteps: false } });
    expect(driven.result.exitCode).toBe(0); // as in the demo
    const probes = driven.states.flatMap((s) => s.commands).filter((c) => c.step === "bootProbe");
    const executions = [...new Map(probes.map((c) => [c.transcriptName, c])).values()];
    // WNG-SQL01 reboots: the reboot stage's probe plus the two added here, and the stability probe when the post
    // phases ended within 5 minutes of the boot, all in the one slot.
    const stabilityProbe = driven.states.some((s) => s.reboot.stableCheckAt !== undefined) ? 1 : 0;
    expect(executions).toHaveLength(3 + stabilityProbe);
    expect(new Set(executions.map((c) => c.handle.runCommandName)).size).toBe(1);
    const stored = driven.states.at(-1)?.stored.map((s) => s.path) ?? [];
    const statusRecords = stored.filter((p) => p.startsWith("06-reboot/transcripts/") && p.endsWith(".status.json"));
    expect(statusRecords).toEqual(
      expect.arrayContaining(executions.map((c) => `06-reboot/transcripts/${c.transcriptName ?? ""}.status.json`)),
    );
    expect((await verifyRun(evidenceFor(env), driven.input.run)).ok).toBe(true);
  });
});
