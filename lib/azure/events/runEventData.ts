import { formatHresult } from "../../domain/report/html/format";
import type { InstallOutcome } from "../../schemas/artifacts/catalog";
import type { Manifest } from "../../schemas/artifacts/integrity";
import type { ExitCodeRecord, FinalReport } from "../../schemas/artifacts/outcome";
import type { RunRecord } from "../../schemas/artifacts/run";
import type { Regressions, ValidationReport } from "../../schemas/artifacts/validation";
import type { EvidenceRef, RunEventData, UpdateOutcome } from "./eventData";

/** The verified artifacts a run event is built from; only exit-code.json is required. */
export interface RunEventSources {
  exitCode: ExitCodeRecord;
  evidencePrefix: string;
  /** Indexed artifacts the event cites (path → sealed SHA-256), in the order they should be listed. */
  cited: readonly EvidenceRef[];
  runRecord?: RunRecord;
  finalReport?: FinalReport;
  manifest?: Manifest;
  installs?: readonly InstallOutcome[];
  regressions?: Regressions;
  postValidation?: ValidationReport;
}

function latest(times: readonly string[]): string | undefined {
  return times.reduce<string | undefined>((max, t) => (max === undefined || Date.parse(t) > Date.parse(max) ? t : max), undefined);
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
    (s.postValidation?.results ?? []).filter((c) => regressed.has(`${c.app}\u0000${c.check}`)).flatMap((c) => c.attempts.map((a) => a.at)),
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
    trigger: s.runRecord?.trigger ?? { kind: "demo" },
    dryRun: s.runRecord?.dryRun ?? false,
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
    regressions: regressions.map((r) => ({ app: r.app, check: r.check, pre: r.pre, post: r.post })),
    updates,
    evidence: {
      prefix: s.evidencePrefix,
      ...(s.manifest === undefined ? {} : { merkleRoot: s.manifest.merkle.root }),
      artifacts: [...s.cited],
    },
  };
}
