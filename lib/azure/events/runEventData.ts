import type { RunLogEntry } from "../../evidence/runLog";
import { formatHresult } from "../../domain/report/html/format";
import type { InstallOutcome, RebootRecord } from "../../schemas/artifacts/catalog";
import type { Manifest } from "../../schemas/artifacts/integrity";
import type { ExitCodeRecord, FinalReport } from "../../schemas/artifacts/outcome";
import type { RunRecord, RunTrigger } from "../../schemas/artifacts/run";
import type { RunRef } from "../../schemas/common";
import type { Regressions, ValidationReport } from "../../schemas/artifacts/validation";
import type { EvidenceRef, RunEventData, UpdateOutcome } from "./eventData";
import { exitCodeFields } from "../../domain/exitCode/exitCodeTable";

/** What the orchestration knows about a run without reading evidence: the fallback for missing artifacts. */
export interface RunFacts {
  trigger: RunTrigger;
  dryRun: boolean;
}

/** The verified artifacts a run event is built from; only exit-code.json is required. */
export interface RunEventSources {
  exitCode: ExitCodeRecord;
  facts: RunFacts;
  evidencePrefix: string;
  /** Indexed artifacts the event cites (path → sealed SHA-256), in the order they should be listed. */
  cited: readonly EvidenceRef[];
  runRecord?: RunRecord;
  finalReport?: FinalReport;
  manifest?: Manifest;
  installs?: readonly InstallOutcome[];
  regressions?: Regressions;
  postValidation?: ValidationReport;
  reboot?: RebootRecord;
  /** The run's entry in its tenant's transparency log. */
  logged?: RunLogEntry;
}

function earliest(times: readonly string[]): string | undefined {
  return times.reduce<string | undefined>(
    (min, t) => (min === undefined || Date.parse(t) < Date.parse(min) ? t : min),
    undefined,
  );
}

function latest(times: readonly string[]): string | undefined {
  return times.reduce<string | undefined>(
    (max, t) => (max === undefined || Date.parse(t) > Date.parse(max) ? t : max),
    undefined,
  );
}

/**
 * The `data` of a run's events. Counts come from the final report (itself built from verified evidence); when the
 * report is missing they are recomputed from what is there, and the exit code's reasons say what is missing.
 */
export function assembleRunEventData(s: RunEventSources): RunEventData {
  const installs = s.installs ?? [];
  const regressions = s.regressions?.regressions ?? [];
  const regressed = new Set(regressions.map((r) => `${r.app}\u0000${r.check}`));
  const detectedAt = latest(
    (s.postValidation?.results ?? [])
      .filter((c) => regressed.has(`${c.app}\u0000${c.check}`))
      .flatMap((c) => c.attempts.map((a) => a.at)),
  );
  const firstFailedAt = earliest(
    (s.postValidation?.results ?? [])
      .filter((c) => regressed.has(`${c.app}\u0000${c.check}`))
      .flatMap((c) => c.attempts.filter((a) => !a.success).map((a) => a.at)),
  );
  const attempted = installs.filter((i) => i.result !== "NotAttempted");
  const finishedAt = latest(attempted.map((i) => i.finishedAt));
  const updates: UpdateOutcome[] = installs.map((i) => ({
    updateId: i.updateId,
    ...(i.kb === undefined ? {} : { kb: i.kb }),
    title: i.title,
    installed: i.installed,
    result: i.result,
    ...(i.hresult === undefined ? {} : { hresult: formatHresult(i.hresult) }),
    finishedAt: i.finishedAt,
  }));
  const report = s.finalReport;
  return {
    schemaVersion: 1,
    run: s.exitCode.run,
    trigger: s.runRecord?.trigger ?? s.facts.trigger,
    dryRun: s.runRecord?.dryRun ?? s.facts.dryRun,
    exitCode: s.exitCode.exitCode,
    exitCodeName: s.exitCode.name,
    rule: s.exitCode.rule,
    reasons: s.exitCode.reasons,
    decidedAt: s.exitCode.decidedAt,
    ...(s.runRecord === undefined ? {} : { startedAt: s.runRecord.startedAt }),
    counts: {
      approved: report?.updates.approved ?? installs.length,
      installed: report?.updates.installed ?? installs.filter((i) => i.installed).length,
      failed: report?.updates.failed ?? attempted.filter((i) => !i.installed).length,
      regressions: report?.regressions ?? regressions.length,
    },
    reboot: report?.reboot ?? "not recorded",
    ...(finishedAt === undefined ? {} : { installsFinishedAt: finishedAt }),
    ...(detectedAt === undefined || regressions.length === 0 ? {} : { regressionDetectedAt: detectedAt }),
    ...(firstFailedAt === undefined || regressions.length === 0 ? {} : { regressionFirstFailedAt: firstFailedAt }),
    ...(s.reboot?.outcome === "Completed" && s.reboot.bootTimeAfter !== undefined
      ? { bootedAt: s.reboot.bootTimeAfter }
      : {}),
    regressions: regressions.map((r) => ({ app: r.app, check: r.check, pre: r.pre, post: r.post })),
    updates,
    evidence: {
      prefix: s.evidencePrefix,
      ...(s.manifest === undefined ? {} : { merkleRoot: s.manifest.merkle.root }),
      ...(s.logged === undefined
        ? {}
        : {
            transparency: {
              leafIndex: s.logged.index,
              leafHash: s.logged.leafHash,
              treeSize: s.logged.size,
              checkpoint: s.logged.checkpoint,
            },
          }),
      artifacts: [...s.cited],
    },
  };
}

/**
 * The data with the run's transparency-log entry in `evidence` (where {@link assembleRunEventData} puts it), or as it
 * is when the run has none.
 */
export function withTransparency(data: RunEventData, logged: RunLogEntry | undefined): RunEventData {
  if (logged === undefined) return data;
  const { prefix, merkleRoot, artifacts } = data.evidence;
  return {
    ...data,
    evidence: {
      prefix,
      ...(merkleRoot === undefined ? {} : { merkleRoot }),
      transparency: {
        leafIndex: logged.index,
        leafHash: logged.leafHash,
        treeSize: logged.size,
        checkpoint: logged.checkpoint,
      },
      artifacts,
    },
  };
}

/**
 * The `data` of a run that has no verified exit-code.json (finishing failed after its retries, or the record does
 * not verify): 240, as the exit-code rules class missing evidence, with the reason, so the device does not keep
 * showing its previous state and on-call hears of it. Nothing is cited: nothing could be read back.
 */
export function unfinishedRunEventData(
  run: RunRef,
  facts: RunFacts,
  at: string,
  evidencePrefix: string,
  reason: string,
): RunEventData {
  return {
    schemaVersion: 1,
    run,
    trigger: facts.trigger,
    dryRun: facts.dryRun,
    ...exitCodeFields("ReportingFailure"),
    rule: "240.unfinished",
    reasons: [reason],
    decidedAt: at,
    counts: { approved: 0, installed: 0, failed: 0, regressions: 0 },
    reboot: "not recorded",
    regressions: [],
    updates: [],
    evidence: { prefix: evidencePrefix, artifacts: [] },
  };
}
