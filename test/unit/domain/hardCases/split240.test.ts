import { buildRunEvents } from "../../../../lib/azure/events/buildEvents";
import { EVENT_TYPES, RunEventDataSchema, type RunEventData } from "../../../../lib/azure/events/eventData";
import { unfinishedRunEventData } from "../../../../lib/azure/events/runEventData";
import { decideExitCode } from "../../../../lib/domain/exitCode/decideExitCode";
import { eventTypeOf } from "../../../../lib/domain/exitCode/exitCodeTable";
import type { PhaseFailure } from "../../../../lib/schemas/artifacts/run";
import { evidenceOf, RUN } from "./exitEvidence";

// Issue 21: an offline agent, a failed baseline, a refused policy and tampered evidence all published
// io.patchpilot.evidence.integrity_failed, which the runbook says to treat as an incident. 240 stays the seed's
// ReportingFailure, but the rule and the event say which: the device could not be reached, the evidence could not be
// collected, or stored evidence fails verification. 170 and 230 get an event of their own.
const failure = (phase: string, kind: PhaseFailure["kind"]): PhaseFailure => ({
  schemaVersion: 1,
  phase,
  kind,
  message: `${kind} in ${phase}`,
  at: "2026-01-20T02:00:00.000Z",
  transcripts: [],
});

/** What the run event of a decision would carry (the fields that choose its type). */
function eventsOf(exitCode: number, rule: string): string[] {
  const data = {
    ...unfinishedRunEventData(RUN, { trigger: { kind: "demo" }, dryRun: false }, "2026-01-20T03:00:00.000Z", "p/", "x"),
    exitCode,
    rule,
  } as RunEventData;
  return buildRunEvents(RunEventDataSchema.parse({ ...data, exitCodeName: data.exitCodeName })).map((e) => e.type);
}

describe("240 split: unreachable, not collected, integrity", () => {
  it("an agent that was not connected is 240.unreachable and sends device.unreachable", () => {
    const d = decideExitCode(
      evidenceOf(
        { omit: ["baseline", "preValidation", "catalog", "installSummary", "reboot", "snapshot"] },
        () => undefined,
        {
          otherFailures: { "02-baseline": { status: "verified", value: failure("02-baseline", "AgentDisconnected") } },
          postValidation: { status: "missing" },
          regressions: { status: "missing" },
          baselineDiff: { status: "missing" },
        },
      ),
    );
    expect([d.exitCode, d.rule]).toEqual([240, "240.unreachable"]);
    expect(eventTypeOf(d.exitCode, d.rule)).toBe(EVENT_TYPES.deviceUnreachable);
  });

  it("a phase whose output could not be used is 240.not-collected and sends evidence.incomplete", () => {
    const d = decideExitCode(
      evidenceOf({ omit: ["preValidation"] }, () => undefined, {
        otherFailures: {
          "04-pre-validation": { status: "verified", value: failure("04-pre-validation", "MalformedOutput") },
        },
      }),
    );
    expect([d.exitCode, d.rule]).toEqual([240, "240.not-collected"]);
    expect(eventTypeOf(d.exitCode, d.rule)).toBe(EVENT_TYPES.evidenceIncomplete);
  });

  it("a required artifact whose hash differs, or a broken seal, is 240.integrity and sends integrity_failed", () => {
    for (const patch of [
      { baseline: { status: "hash-mismatch", problem: "bytes changed" } as const },
      { manifest: { status: "hash-mismatch", problem: "Merkle root differs" } as const },
    ]) {
      const d = decideExitCode(evidenceOf({}, () => undefined, patch));
      expect([d.exitCode, d.rule]).toEqual([240, "240.integrity"]);
      expect(eventTypeOf(d.exitCode, d.rule)).toBe(EVENT_TYPES.integrityFailed);
    }
  });

  it("integrity outranks could-not-report: a run with both is an integrity failure first", () => {
    const d = decideExitCode(
      evidenceOf({ omit: ["preValidation"] }, () => undefined, {
        otherFailures: {
          "04-pre-validation": { status: "verified", value: failure("04-pre-validation", "ScriptFailed") },
        },
        snapshot: { status: "hash-mismatch", problem: "bytes changed" },
      }),
    );
    expect(d.rule).toBe("240.integrity");
  });

  it("sends one event per run type: unreachable, incomplete (could not look, unfinished), integrity; 170 and 230 too", () => {
    expect(eventsOf(240, "240.unreachable")).toEqual([EVENT_TYPES.runCompleted, EVENT_TYPES.deviceUnreachable]);
    expect(eventsOf(240, "240.could-not-look")).toEqual([EVENT_TYPES.runCompleted, EVENT_TYPES.evidenceIncomplete]);
    expect(eventsOf(240, "240.unfinished")).toEqual([EVENT_TYPES.runCompleted, EVENT_TYPES.evidenceIncomplete]);
    expect(eventsOf(240, "240.integrity")).toEqual([EVENT_TYPES.runCompleted, EVENT_TYPES.integrityFailed]);
    expect(eventsOf(170, "170.lock-contention")).toEqual([EVENT_TYPES.runCompleted, EVENT_TYPES.deviceBusy]);
    expect(eventsOf(230, "230.diagnostics-required")).toEqual([
      EVENT_TYPES.runCompleted,
      EVENT_TYPES.diagnosticsFailed,
    ]);
    expect(EVENT_TYPES).toMatchObject({
      deviceUnreachable: "io.patchpilot.device.unreachable",
      evidenceIncomplete: "io.patchpilot.evidence.incomplete",
      integrityFailed: "io.patchpilot.evidence.integrity_failed",
      deviceBusy: "io.patchpilot.device.busy",
      diagnosticsFailed: "io.patchpilot.diagnostics.failed",
    });
  });
});
