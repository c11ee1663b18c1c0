import { devicePatchRun } from "../../../orchestrators/devicePatchRun";
import type { DeviceRunStage, DeviceRunState } from "../../../lib/schemas/deviceRun";
import { at, deviceRunInput, deviceRunResult, freshState, T0 } from "./deviceRunFixture";
import { driveOrchestration, type Answer, type Call } from "./driveOrchestration";

const input = deviceRunInput("r20260120-0001", { end: at(240), cutoff: at(210) });
const state = (
  stage: DeviceRunStage,
  nextCheckMinute: number,
  extra: Partial<DeviceRunState> = {},
): DeviceRunState => ({ ...freshState, stage, nextCheckAt: at(nextCheckMinute), ...extra });
const result = deviceRunResult(input, 0, "Success");

/** Answers start with `first`, each advance with the next of `advances`, finish with the result (or `finishAnswer`). */
function responder(
  first: DeviceRunState,
  advances: (DeviceRunState | Answer)[],
  finishAnswer: Answer = { ok: result },
): (call: Call) => Answer {
  const queue = [...advances];
  return (call) => {
    if (call.name === "startDeviceRun") return { ok: first };
    if (call.name === "finishDeviceRun") return finishAnswer;
    if (call.name === "publishRunEvents") return { ok: { published: [] } };
    const next = queue.shift();
    if (next === undefined) throw new Error("advance called more often than the test expected");
    return "stage" in next ? { ok: next } : next;
  };
}

const names = (calls: Call[]) => calls.map((c) => (c.kind === "timer" ? `timer@${String(c.input)}` : c.name));

describe("devicePatchRun (replayed from hand-built history)", () => {
  it("goes straight to finish when the lock is held by another run (170), with no timer and no advance", async () => {
    const drive = await driveOrchestration(
      devicePatchRun,
      input,
      responder(state("done", 0, { lockContended: true }), []),
      T0,
    );
    expect(drive.outcome).toMatchObject({ status: "completed", output: result });
    expect(names(drive.calls)).toEqual(["startDeviceRun", "finishDeviceRun", "publishRunEvents"]);
    expect(drive.calls[1]?.input).toMatchObject({ state: { lockContended: true } });
    // A skipped run is still announced: its run.completed says 170.
    expect(drive.calls[2]?.input).toEqual({ run: input.run, trigger: input.trigger, dryRun: false, at: T0 });
  });

  it("sleeps on a durable timer until each stage's next check, then advances; no timer when the check is already due", async () => {
    const drive = await driveOrchestration(
      devicePatchRun,
      input,
      responder(state("pre", 1), [state("catalog", 3), state("rebootWait", 3), state("post", 40), state("done", 0)]),
      T0,
    );
    expect(names(drive.calls)).toEqual([
      "startDeviceRun",
      `timer@${at(1)}`,
      "advanceDeviceRun",
      `timer@${at(3)}`,
      "advanceDeviceRun",
      "advanceDeviceRun", // rebootWait's check was due at minute 3 already: no timer
      `timer@${at(40)}`,
      "advanceDeviceRun",
      "finishDeviceRun",
      "publishRunEvents",
    ]);
    // Each advance gets the orchestration's own time (replay-safe), not a wall clock.
    expect(
      drive.calls.filter((c) => c.name === "advanceDeviceRun").map((c) => (c.input as { now: string }).now),
    ).toEqual([at(1), at(3), at(3), at(40)]);
    expect(drive.customStatus.at(-2)).toMatchObject({ device: "WIN-SERVER01", stage: "finishing" });
  });

  it("takes the result of the advance that ended and sealed the run: no finishDeviceRun call, the publish still its own", async () => {
    const sealed = deviceRunResult(input, 150, "RebootPending");
    const drive = await driveOrchestration(
      devicePatchRun,
      input,
      responder(state("pre", 1), [state("post", 3), state("done", 0, { finished: sealed })]),
      T0,
    );
    expect(drive.outcome).toMatchObject({ status: "completed", output: sealed });
    expect(names(drive.calls)).toEqual([
      "startDeviceRun",
      `timer@${at(1)}`,
      "advanceDeviceRun",
      `timer@${at(3)}`,
      "advanceDeviceRun",
      "publishRunEvents",
    ]);
  });

  it("hands the event data the finish sealed to the publish alone; the window's result is without it", async () => {
    const sealed = deviceRunResult(input, 0, "Success");
    const eventData = { sha256: "ab".repeat(32), size: 1234 };
    const drive = await driveOrchestration(
      devicePatchRun,
      input,
      responder(state("pre", 1), [state("done", 0, { finished: { ...sealed, eventData } })]),
      T0,
    );
    const publish = drive.calls.find((c) => c.name === "publishRunEvents");
    expect(publish?.input).toEqual({ run: input.run, trigger: input.trigger, dryRun: false, at: at(1), eventData });
    expect(drive.outcome).toEqual(expect.objectContaining({ status: "completed", output: sealed }));
    expect((drive.outcome as { output?: object }).output).not.toHaveProperty("eventData");
  });

  it("finishes a run that start already sealed (lock held by another run) with the publish alone", async () => {
    const sealed = deviceRunResult(input, 170, "Skipped");
    const drive = await driveOrchestration(
      devicePatchRun,
      input,
      responder(state("done", 0, { lockContended: true, finished: sealed }), []),
      T0,
    );
    expect(drive.outcome).toMatchObject({ status: "completed", output: sealed });
    expect(names(drive.calls)).toEqual(["startDeviceRun", "publishRunEvents"]);
  });

  it("still seals and releases the lock when an advance keeps failing after its retries", async () => {
    const failing: Answer = { error: "ARM throttled for 10 minutes" };
    const drive = await driveOrchestration(
      devicePatchRun,
      input,
      responder(state("install", 5), [failing, failing, failing, failing, failing, failing]),
      T0,
    );
    expect(drive.outcome.status).toBe("completed");
    const advances = drive.calls.filter((c) => c.name === "advanceDeviceRun");
    expect(advances).toHaveLength(6);
    // Backoff between attempts: 30 s, 60 s, 120 s, 240 s, then capped at 300 s; durable-functions records one more
    // timer after the last attempt before it surfaces the failure, as the extension does.
    const retryTimers = drive.calls
      .filter((c) => c.kind === "timer")
      .slice(1)
      .map((c) => (Date.parse(String(c.input)) - Date.parse(c.at)) / 1000);
    expect(retryTimers).toEqual([30, 60, 120, 240, 300, 300]);
    expect(drive.calls.at(-2)).toMatchObject({
      name: "finishDeviceRun",
      input: { failure: expect.stringContaining("ARM throttled") },
    });
    expect(drive.calls.at(-1)).toMatchObject({ name: "publishRunEvents" });
  });

  it("when finishing fails for good, still publishes (a 240 from the orchestration's facts) and then fails", async () => {
    const drive = await driveOrchestration(
      devicePatchRun,
      input,
      responder(state("done", 0), [], { error: "storage unavailable" }),
      T0,
    );
    expect(drive.outcome.status).toBe("failed");
    const publish = drive.calls.find((c) => c.name === "publishRunEvents");
    expect(publish?.input).toMatchObject({
      run: input.run,
      trigger: input.trigger,
      dryRun: false,
      finishFailure: expect.stringContaining("storage unavailable"),
    });
  });

  it("publishes the run's events only after finishDeviceRun, and still completes with the exit code when publishing keeps failing", async () => {
    const base170 = responder(state("done", 0, { lockContended: true }), []);
    const drive = await driveOrchestration(
      devicePatchRun,
      input,
      (call) => (call.name === "publishRunEvents" ? { error: "Event Grid unavailable (503)" } : base170(call)),
      T0,
    );
    expect(drive.outcome.status).toBe("completed");
    const publishes = drive.calls.filter((c) => c.name === "publishRunEvents");
    expect(publishes).toHaveLength(6); // retried with the same policy as every activity
    expect(names(drive.calls).indexOf("publishRunEvents")).toBeGreaterThan(
      names(drive.calls).indexOf("finishDeviceRun"),
    );
    expect(drive.outcome).toMatchObject({
      output: { ...result, eventsError: expect.stringContaining("Event Grid unavailable") },
    });
  });
});
