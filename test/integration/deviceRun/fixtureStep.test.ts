// Adding a step touches the step table, nothing else: this test-only step ("uptime") is one row of each half of the
// table plus its place in a stage, all in this file, and the unchanged engine submits it, collects it, records its
// artifact, seals it and verifies it. docs/extending.md counts the files a production step touches.
import { z } from "zod";
import type { ArtifactSpec } from "../../../lib/domain/artifacts";
import { STAGES, type StageTable, type StepPlan } from "../../../lib/domain/run/steps";
import { STEPS, type Step, type StepTable } from "../../../lib/deviceRun/steps";
import { encodeParameters } from "../../../lib/device/parameters";
import { verifyRun } from "../../../lib/evidence/verifyRun";
import type { TranscriptStatus } from "../../../lib/schemas/artifacts/transcript";
import { driveRun, evidenceFor, startDemo, type DemoEnv } from "./deviceRunHarness";

/** The fixture step's artifact: how long the device had been up when the post phases ran. */
const UptimeSchema = z.object({ schemaVersion: z.literal(1), lastBootTime: z.string(), transcript: z.string() });
const UPTIME: ArtifactSpec = {
  path: "09-diagnostics/uptime.json",
  format: "json",
  contentType: "application/json",
  schema: UptimeSchema,
};

// The pure half: phase folder, script, timing, failure handling, what it produces (no exit-code artifact).
const UPTIME_PLAN: StepPlan = {
  phase: "diagnostics",
  script: "baseline",
  timing: { timeoutSeconds: (t) => t.scriptTimeoutSeconds, firstPollSeconds: () => 30 },
  failsPhase: false,
  produces: [],
};

// The engine half: parameters and recording.
const UPTIME_STEP: Step = {
  ...UPTIME_PLAN,
  parameters: () => Promise.resolve(encodeParameters("baseline", {})),
  async record(ctx) {
    const parsed = ctx.parse("baseline");
    if (!parsed.ok || parsed.output.data.lastBootTime === null) return { ok: false, why: "no boot time" };
    await ctx.put(UPTIME, {
      schemaVersion: 1,
      lastBootTime: parsed.output.data.lastBootTime,
      transcript: ctx.source.transcript,
    });
    return { ok: true, facts: {} };
  },
};

const steps: StepTable = { ...STEPS, uptime: UPTIME_STEP };
const stages: StageTable = { ...STAGES, post: { ...STAGES.post, steps: [...STAGES.post.steps, "uptime"] } };

let env: DemoEnv;
beforeAll(async () => {
  env = await startDemo();
});
afterAll(async () => {
  await env?.close();
});

describe("a test-only step added through the step table", () => {
  it("is submitted in its stage, collected, recorded, sealed and verified, and changes no exit code", async () => {
    const device = env.devices.get("WIN-SERVER01");
    if (device === undefined) throw new Error("no WIN-SERVER01");
    const driven = await driveRun(env, device, { tables: { steps, stages } });
    const { run } = driven.input;
    expect(driven.result.exitCode).toBe(0); // as without the step (demoFleet.test.ts)

    // Submitted with the post stage's steps, by the unchanged engine: bundled into the stage's one run command,
    // after the production steps, and recorded per step (its own transcript under its own phase). After a reboot the
    // post stage's steps ride in the boot probe's command, after the probe, and the stability probe after them (issue 22:
    // lib/deviceRun/probeWithPost.ts).
    const withPost = driven.states.filter((s) => s.commands.some((c) => c.sections?.some((x) => x.step === "uptime")));
    expect(withPost.every((s) => s.commands.length === 1)).toBe(true);
    expect(withPost[0]?.commands[0]?.sections?.map((s) => s.step).filter((step) => step !== "bootProbe")).toEqual([
      "snapshot",
      "postValidation",
      "diagnostics",
      "uptime",
      "stableProbe",
    ]);

    const store = evidenceFor(env).store;
    const uptime = UptimeSchema.parse(JSON.parse(String(await store.get(run, UPTIME.path))));
    // Its transcript and status record are in its phase folder, naming the step and the script it ran.
    const statusPath = uptime.transcript.replace(/\.stdout\.txt$/, ".status.json");
    expect(uptime.transcript).toMatch(/^09-diagnostics\/transcripts\/.+\.stdout\.txt$/);
    const status = JSON.parse(String(await store.get(run, statusPath))) as TranscriptStatus;
    expect(status).toMatchObject({ role: "uptime", script: { id: "baseline" }, executionState: "Succeeded" });

    // Sealed like every artifact: in the index, and the run verifies.
    const rows = await evidenceFor(env).index.readArtifacts(run.runId);
    expect(rows.has(UPTIME.path)).toBe(true);
    expect((await verifyRun(evidenceFor(env), run)).ok).toBe(true);
  });
});
