// Deterministic failures are refused, not retried: the activity wrapper (functions/activityTable.ts) turns exactly
// ArtifactSchemaError, EvidenceConflictError / IndexConflictError and an input its contract rejects into a refusal,
// and callActivity throws it in the orchestrator at once. Replayed from hand-built history through durable-functions'
// own replay code, so the retry timers Durable would record are visible.
import { refusingDeterministicFailures } from "../../../functions/activityTable";
import { EvidenceConflictError, IndexConflictError } from "../../../lib/evidence/errors";
import { ArtifactSchemaError } from "../../../lib/evidence/runEvidence";
import type { ActivityRefusal } from "../../../lib/schemas/activities";
import type { DeviceRunState } from "../../../lib/schemas/deviceRun";
import { callActivity } from "../../../orchestrators/callActivity";
import { devicePatchRun } from "../../../orchestrators/devicePatchRun";
import { deviceRunInput, deviceRunResult, freshState, T0 } from "./deviceRunFixture";
import { driveOrchestration, type Answer, type Call } from "./driveOrchestration";

const input = deviceRunInput("r20260120-0002");
const installing: DeviceRunState = { ...freshState, stage: "install", nextCheckAt: "2026-01-20T02:05:00.000Z" };
const result = deviceRunResult(input, 240, "ReportingFailure");

/** What functions/activityTable.ts returns for a write-once conflict (built by the wrapper itself, not by hand). */
async function refusalOf(error: Error): Promise<ActivityRefusal> {
  const refused = await refusingDeterministicFailures("advanceDeviceRun", () => Promise.reject(error))({
    input,
    state: installing,
    now: T0,
  });
  return refused as ActivityRefusal;
}

describe("the activity wrapper refuses exactly the deterministic failures", () => {
  const request = { input, state: installing, now: T0 };

  it.each([
    [
      "a write-once conflict",
      new EvidenceConflictError("t/c/d/r/05-install/x.json", "a".repeat(64), "b".repeat(64)),
      "write-once-conflict",
    ],
    ["an index conflict", new IndexConflictError("Artifacts", "r", "k", "sha256 differs"), "write-once-conflict"],
    [
      "a schema refusal",
      new ArtifactSchemaError("05-install/install-summary.jsonl", "line 1: kb: Required"),
      "schema-refused",
    ],
  ])("%s becomes a refusal naming the activity and the cause", async (_what, error, kind) => {
    const refused = await refusingDeterministicFailures("advanceDeviceRun", () => Promise.reject(error))(request);
    expect(refused).toEqual({ activityRefused: { activity: "advanceDeviceRun", kind, message: error.message } });
  });

  it("an input the contract rejects is refused naming the field, and the activity does not run", async () => {
    const run = jest.fn();
    const refused = await refusingDeterministicFailures("advanceDeviceRun", run)({ input, state: installing });
    expect(refused).toEqual({
      activityRefused: { activity: "advanceDeviceRun", kind: "input-invalid", message: expect.stringContaining("now") },
    });
    expect(run).not.toHaveBeenCalled();
  });

  it("any other failure is thrown, so Durable retries it", async () => {
    const transient = Object.assign(new Error("ServerBusy"), { statusCode: 503 });
    await expect(
      refusingDeterministicFailures("advanceDeviceRun", () => Promise.reject(transient))(request),
    ).rejects.toBe(transient);
  });
});

describe("devicePatchRun with a refusing activity (replayed from hand-built history)", () => {
  it("a refused advance is not retried: one call, no retry timer, and finish records the refusal as the give-up", async () => {
    const refused = await refusalOf(
      new EvidenceConflictError("t/c/d/r/05-install/install-summary.jsonl", "a".repeat(64), "b".repeat(64)),
    );
    const respond = (call: Call): Answer => {
      if (call.name === "startDeviceRun") return { ok: installing };
      if (call.name === "advanceDeviceRun") return { ok: refused };
      if (call.name === "finishDeviceRun") return { ok: result };
      return { ok: { published: [] } };
    };
    const drive = await driveOrchestration(devicePatchRun, input, respond, T0);
    expect(drive.outcome).toMatchObject({ status: "completed", output: result });
    // Only the stage's own timer (to nextCheckAt): no backoff timers as for a thrown failure (30 s, 60 s, ...).
    expect(drive.calls.map((c) => (c.kind === "timer" ? "timer" : c.name))).toEqual([
      "startDeviceRun",
      "timer",
      "advanceDeviceRun",
      "finishDeviceRun",
      "publishRunEvents",
    ]);
    expect(drive.calls[3]?.input).toMatchObject({
      failure: expect.stringMatching(/advanceDeviceRun refused \(write-once-conflict, not retried\).*already exists/),
    });
  });

  it("a refused finish fails the orchestration at once, after telling on-call (no 6 attempts)", async () => {
    const refused = await refusalOf(new ArtifactSchemaError("11-report/exit-code.json", "code: Invalid input"));
    const respond = (call: Call): Answer => {
      if (call.name === "startDeviceRun") return { ok: { ...freshState, stage: "done" } };
      if (call.name === "finishDeviceRun") return { ok: refused };
      return { ok: { published: [] } };
    };
    const drive = await driveOrchestration(devicePatchRun, input, respond, T0);
    expect(drive.outcome.status).toBe("failed");
    expect(drive.calls.filter((c) => c.name === "finishDeviceRun")).toHaveLength(1);
    expect(drive.calls.find((c) => c.name === "publishRunEvents")?.input).toMatchObject({
      finishFailure: expect.stringContaining("schema-refused"),
    });
  });
});

// Compile-time checks (npm run typecheck covers test/): an activity called with the wrong input does not compile.
export function* wrongInputsDoNotCompile(context: Parameters<typeof callActivity>[0]) {
  // @ts-expect-error advanceDeviceRun needs the state and the time
  yield* callActivity(context, "advanceDeviceRun", { input });
  // @ts-expect-error no activity of that name
  yield* callActivity(context, "computeExitCode", { run: input.run, decidedAt: T0 });
  // @ts-expect-error finishDeviceRun's failure is a message, not an Error
  yield* callActivity(context, "finishDeviceRun", { input, state: installing, now: T0, failure: new Error("x") });
  const state: DeviceRunState = yield* callActivity(context, "startDeviceRun", { input, now: T0 });
  return state;
}
