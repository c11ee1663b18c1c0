import { ARTIFACTS, type ArtifactKey } from "../../domain/artifacts";
import type { EvidenceSession } from "../../evidence/evidenceSession";
import type { InstallOutcome, RebootRecord } from "../../schemas/artifacts/catalog";
import type { Manifest } from "../../schemas/artifacts/integrity";
import type { ExitCodeRecord, FinalReport } from "../../schemas/artifacts/outcome";
import type { RunRecord } from "../../schemas/artifacts/run";
import type { Regressions, ValidationReport } from "../../schemas/artifacts/validation";
import type { RemediationRecord } from "../../schemas/artifacts/remediation";
import type { StoredEventData } from "../../schemas/deviceRun";
import type { RunEventData } from "./eventData";
import { assembleRunEventData, unfinishedRunEventData, withTransparency, type RunFacts } from "./runEventData";
import { readSealedRunEventData } from "./sealedRunEventData";

/** The artifacts a run event cites with their sealed hashes, in the order an on-call engineer opens them. */
export const CITED_ARTIFACTS: readonly ArtifactKey[] = [
  "exitCode",
  "reportHtml",
  "finalReport",
  "regressions",
  "preValidation",
  "postValidation",
  "installSummary",
  "manifest",
  "remediation",
];

/** What the orchestration knows besides the evidence: the fallback facts, its time, and why finishing failed. */
export interface RunEventContext {
  facts: RunFacts;
  /** The orchestration's time (used only when there is no verified decision to take the time from). */
  at: string;
  /** Set when finishing gave up: the event says so without reading anything. */
  finishFailure?: string;
  /** The sealed event data's SHA-256 and size as the finish wrote it: read against it, without an index lookup. */
  eventData?: StoredEventData;
}

/**
 * The `data` of a finished run's events, read through the run's evidence session: every artifact verified against
 * the index and confined to the run's folder, so an event never says more than the evidence does, and a row that
 * names another run's blob is neither read nor cited. A run with no verified exit-code.json is reported as 240.
 * One session serves the exit code, the report and the events within an activity, so nothing is read twice.
 */
export async function readRunEventData(session: EvidenceSession, context: RunEventContext): Promise<RunEventData> {
  const { run, prefix } = session;
  const { facts, at } = context;
  if (context.finishFailure !== undefined) {
    // Finishing gave up (storage down for its whole retry budget): say so now, from what the orchestration knows.
    return unfinishedRunEventData(
      run,
      facts,
      at,
      prefix,
      `the run could not be sealed and decided: ${context.finishFailure}`,
    );
  }
  // The finishing step sealed the data it built from the same verified reads: one row and one blob, verified.
  // Runs finished before it existed, or whose copy does not verify, are read from their evidence as before.
  const sealed = await readSealedRunEventData(session, context.eventData);
  const built = sealed === undefined ? await buildRunEventData(session, context) : { data: sealed, decided: true };
  if (!built.decided) return built.data;
  return withTransparency(built.data, await session.deps.log?.find(run));
}

/**
 * The `data` of a finished run's events from its evidence (every artifact verified through the session), without the
 * run's transparency-log entry; `decided` is false when there is no verified exit-code.json (the data then says 240).
 * The finishing step calls it on the session its decision and report read through, so it reads nothing new.
 */
export async function buildRunEventData(
  session: EvidenceSession,
  context: Omit<RunEventContext, "finishFailure">,
): Promise<{ data: RunEventData; decided: boolean }> {
  const { run, prefix } = session;
  const { facts, at } = context;
  // One query of the run's rows first: every read below is then classified from it, not point-read.
  const ownRows = await session.ownRows();
  const [exitCode, runRecord, finalReport, manifest, installs, regressions, postValidation, reboot] = await Promise.all(
    [
      session.value<ExitCodeRecord>(ARTIFACTS.exitCode),
      session.value<RunRecord>(ARTIFACTS.run),
      session.value<FinalReport>(ARTIFACTS.finalReport),
      session.value<Manifest>(ARTIFACTS.manifest),
      session.value<InstallOutcome[]>(ARTIFACTS.installSummary),
      session.value<Regressions>(ARTIFACTS.regressions),
      session.value<ValidationReport>(ARTIFACTS.postValidation),
      session.value<RebootRecord>(ARTIFACTS.reboot),
    ],
  );
  // Only in runs that remediated a regression (issue 20); verified like the rest.
  const remediation = ownRows.has(ARTIFACTS.remediation.path)
    ? await session.value<RemediationRecord>(ARTIFACTS.remediation)
    : undefined;
  if (exitCode === undefined) {
    const data = unfinishedRunEventData(
      run,
      facts,
      at,
      prefix,
      `${ARTIFACTS.exitCode.path} is missing or does not verify against its index`,
    );
    return { data, decided: false };
  }
  const cited = CITED_ARTIFACTS.flatMap((key) => {
    const row = ownRows.get(ARTIFACTS[key].path);
    return row === undefined ? [] : [{ path: row.path, sha256: row.sha256 }];
  });
  const data = assembleRunEventData({
    exitCode,
    facts,
    evidencePrefix: prefix,
    cited,
    ...(runRecord === undefined ? {} : { runRecord }),
    ...(finalReport === undefined ? {} : { finalReport }),
    ...(manifest === undefined ? {} : { manifest }),
    ...(installs === undefined ? {} : { installs }),
    ...(regressions === undefined ? {} : { regressions }),
    ...(postValidation === undefined ? {} : { postValidation }),
    ...(reboot === undefined ? {} : { reboot }),
  });
  if (remediation === undefined) return { data, decided: true };
  const name = (u: { updateId: string; kb?: string }): string => u.kb ?? u.updateId;
  const withRemediation: RunEventData = {
    ...data,
    remediation: {
      mode: remediation.mode,
      outcome: remediation.outcome,
      reason: remediation.reason,
      ...(remediation.regressionsAfter === undefined ? {} : { regressionsAfter: remediation.regressionsAfter }),
      uninstalled: remediation.uninstalled.map(name),
      notUninstalled: remediation.notUninstalled.map(name),
      quarantined: remediation.quarantine.map((q) => (q.kind === "kb" ? q.kb : q.name)),
    },
  };
  return { data: withRemediation, decided: true };
}
