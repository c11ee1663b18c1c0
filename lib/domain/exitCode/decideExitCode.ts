import { ARTIFACTS as A, failurePath, PHASES } from "../artifacts";
import { EXIT_CODE_NAME, EXIT_CODES_BY_PRIORITY } from "./exitCodeTable";
import { NOT_PRODUCED_BY_SCAN } from "../run/scanOnly";
import type { Catalog, Diagnostics, InstallOutcome, RebootRecord } from "../../schemas/artifacts/catalog";
import type { ExitCode, ExitCodeName, ArtifactReadStatus } from "../../schemas/artifacts/outcome";
import type { LockContention, PhaseFailure, RunRecord } from "../../schemas/artifacts/run";
import type { BaselineDiff, SystemSnapshot } from "../../schemas/artifacts/snapshot";
import type { Regressions } from "../../schemas/artifacts/validation";
import type { GateReport } from "../../schemas/artifacts/gates";
import type { HookReport } from "../../schemas/artifacts/hooks";
import { describeFailedGates } from "../gates/evaluateGates";
import type { RemediationRecord } from "../../schemas/artifacts/remediation";
import type { DiskSnapshotsRecord } from "../../schemas/artifacts/diskSnapshots";

/** An artifact as the decision sees it: its read status and, only when verified, its parsed content. */
export type Reading<T> =
  { status: "verified"; value: T } | { status: Exclude<ArtifactReadStatus, "verified">; problem?: string };

/** Every reading the rules look at. Paths are DESIGN.md's; failures are the phases' `failure.json`. */
export interface ExitCodeEvidence {
  run: Reading<RunRecord>;
  lockContention: Reading<LockContention>;
  baseline: Reading<SystemSnapshot>;
  preValidation: Reading<unknown>;
  /** Pre-patch gates (issue 20); missing when the policy has none. */
  gates: Reading<GateReport>;
  /** The pre-install hooks' report (issue 20); absent or missing when the policy has none. */
  hooksPreInstall?: Reading<HookReport>;
  catalog: Reading<Catalog>;
  /** Snapshots before install (issue 20, 05-install/snapshots.json); missing when the policy takes none. */
  diskSnapshots?: Reading<DiskSnapshotsRecord>;
  installSummary: Reading<InstallOutcome[]>;
  installFailure: Reading<PhaseFailure>;
  reboot: Reading<RebootRecord>;
  snapshot: Reading<SystemSnapshot>;
  baselineDiff: Reading<unknown>;
  postValidation: Reading<unknown>;
  regressions: Reading<Regressions>;
  diagnostics: Reading<Diagnostics>;
  diagnosticsFailure: Reading<PhaseFailure>;
  events: Reading<unknown>;
  artifactIndex: Reading<unknown>;
  manifest: Reading<unknown>;
  /**
   * Issue 20: the remediation after a regression (`12-remediation/remediation.json`) and the artifacts it rests on
   * (the uninstall answer, the POST validation again and its regressions); absent in runs without one.
   */
  remediation?: Reading<RemediationRecord>;
  remediationEvidence?: Readonly<Record<string, Reading<unknown>>>;
  /** Failure records of other phases, by phase folder (explain why their artifacts are missing). */
  otherFailures: Readonly<Record<string, Reading<PhaseFailure>>>;
  /** Every other indexed artifact (transcripts, ...) that failed verification: evidence is broken somewhere. */
  otherIntegrityProblems: readonly { path: string; status: ArtifactReadStatus; problem?: string }[];
}

/** The decision: the code, the rule that fired, and why (all matching rules, highest priority first). */
export interface ExitCodeDecision {
  exitCode: ExitCode;
  name: ExitCodeName;
  rule: string;
  reasons: string[];
}

/** DESIGN.md's priority: the first rule in this list that matches decides (exitCodeTable.ts). */
export const EXIT_CODE_PRIORITY: readonly ExitCode[] = EXIT_CODES_BY_PRIORITY;

interface Match {
  code: ExitCode;
  rule: string;
  reason: string;
}

function verified<T>(r: Reading<T>): T | undefined {
  return r.status === "verified" ? r.value : undefined;
}

function describe(path: string, r: Reading<unknown>): string {
  return `${path} is ${r.status}${r.status !== "verified" && r.problem ? ` (${r.problem})` : ""}`;
}

/**
 * Why the install installed nothing because its pre-install hook failed (issue 20), or undefined: the verified
 * pre-install report has a failed action and every update of the verified install summary is NotAttempted.
 */
function hookStoppedInstall(e: ExitCodeEvidence): string | undefined {
  const hooks = e.hooksPreInstall === undefined ? undefined : verified(e.hooksPreInstall);
  const outcomes = verified(e.installSummary);
  if (hooks === undefined || outcomes === undefined || outcomes.length === 0) return undefined;
  const failed = hooks.actions.filter((a) => !a.ok);
  if (failed.length === 0 || !outcomes.every((o) => o.result === "NotAttempted")) return undefined;
  const list = failed.map((a) => `${a.kind} ${a.target}: ${a.detail}`).join("; ");
  return `pre-install hook failed, nothing was installed (${outcomes.length} update(s) not attempted): ${list}`;
}

/**
 * Applies DESIGN.md's exit-code rules to verified evidence. Pure: same readings, same decision. Nothing is trusted
 * unless verified; an artifact that is present but unverifiable cannot fire its rule and is itself a 240.
 */
export function decideExitCode(e: ExitCodeEvidence): ExitCodeDecision {
  const lock = verified(e.lockContention);
  if (lock !== undefined) {
    // A contended run changed nothing on the device; only its own record and the contention are expected.
    const matches: Match[] = [
      {
        code: 170,
        rule: "170.lock-contention",
        reason: `device lock held by run ${lock.holder.runId} until ${lock.holder.expiresAt}`,
      },
    ];
    if (e.run.status !== "verified")
      matches.push({ code: 240, rule: class240(e.run, undefined), reason: describe(A.run.path, e.run) });
    return decide(matches);
  }

  const foreign = verified(e.baseline)?.installInProgress;
  if (foreign?.busy === true) {
    // Another installer was at work (issue 21): the run stopped after the read-only baseline, changing nothing.
    const detail = foreign.detail === undefined ? "" : ` (${foreign.detail})`;
    const matches: Match[] = [
      {
        code: 170,
        rule: "170.foreign-install",
        reason: `another install is in progress on the device: ${foreign.by ?? "unnamed"}${detail}; nothing was changed`,
      },
    ];
    if (e.run.status !== "verified")
      matches.push({ code: 240, rule: class240(e.run, undefined), reason: describe(A.run.path, e.run) });
    return decide(matches);
  }

  const gates = verified(e.gates);
  if (gates !== undefined && !gates.passed) {
    // Issue 20: a pre-patch gate failed or could not be looked at; the run stopped after the read-only first stage,
    // installing nothing. 170 as the other "not ready, nothing changed" cases, with its own reason and event.
    const matches: Match[] = [
      {
        code: 170,
        rule: "170.gate-failed",
        reason: `pre-patch gate(s) not passed, nothing was installed: ${describeFailedGates(gates.results).join("; ")}`,
      },
    ];
    if (e.run.status !== "verified")
      matches.push({ code: 240, rule: class240(e.run, undefined), reason: describe(A.run.path, e.run) });
    return decide(matches);
  }

  const snapshots = e.diskSnapshots === undefined ? undefined : verified(e.diskSnapshots);
  if (snapshots !== undefined && !snapshots.ok) {
    // Issue 20: the policy requires a snapshot before any change and none could be taken; the run stopped after the
    // catalog, installing nothing. 170 as the other "not ready, nothing changed" cases.
    const matches: Match[] = [
      {
        code: 170,
        rule: "170.snapshot-failed",
        reason: `no pre-install snapshot, nothing was installed: ${snapshots.error ?? "not taken"}`,
      },
    ];
    if (e.run.status !== "verified")
      matches.push({ code: 240, rule: class240(e.run, undefined), reason: describe(A.run.path, e.run) });
    return decide(matches);
  }

  const busy = firstBusyBeforeInstall(e.otherFailures);
  if (busy !== undefined) {
    // The agent refused the read-only first stage past its deadline (409: another run command in flight): the device
    // was busy, not unreachable, and nothing was changed.
    const matches: Match[] = [{ code: 170, rule: "170.device-busy", reason: `${busy.phase}: ${busy.message}` }];
    if (e.run.status !== "verified")
      matches.push({ code: 240, rule: class240(e.run, undefined), reason: describe(A.run.path, e.run) });
    return decide(matches);
  }

  const matches: Match[] = [];
  /** Facts the decision rests on that are not a rule matching (which evidence overruled which). */
  const notes: string[] = [];
  const run = verified(e.run);
  const dryRun = run?.dryRun ?? false;

  // 170: a pre-install hook failed, so the install in the same command installed nothing (issue 20). Not a busy
  // device either: the hook (a service that would not stop, a maintenance-mode script) needs an operator.
  const hookFailed = hookStoppedInstall(e);
  if (hookFailed !== undefined) matches.push({ code: 170, rule: "170.hook-failed", reason: hookFailed });

  // 220: regressions (verified only).
  const regressions = verified(e.regressions);
  if (regressions !== undefined && regressions.TotalRegressions > 0) {
    const list = regressions.regressions.map((r) => `${r.app}/${r.check} (PRE ${r.pre.detail}; POST ${r.post.detail})`);
    matches.push({
      code: 220,
      rule: "220.regressions",
      reason: `${regressions.TotalRegressions} regression(s): ${list.join(", ")}`,
    });
  }

  // 220 stays 220 after a remediation (the regression happened); what was done about it is part of the reasons.
  const remediation = e.remediation === undefined ? undefined : verified(e.remediation);
  if (remediation !== undefined && matches.some((m) => m.code === 220)) {
    notes.push(`remediation (${remediation.mode}): ${remediation.outcome}: ${remediation.reason}`);
  }

  // 220: drift the policy declares a regression source (appValidation.regressionSources), judged in baseline-diff.json.
  const drift = (verified(e.baselineDiff) as BaselineDiff | undefined)?.driftRegressions;
  if (drift !== undefined && drift.regressions.length > 0) {
    const list = drift.regressions.map((r) => `${r.source}: ${r.subject} ${r.before} -> ${r.after}`);
    matches.push({
      code: 220,
      rule: "220.drift-regression",
      reason: `${drift.regressions.length} drift regression(s): ${list.join(", ")}`,
    });
  }

  // 210: an approved update not installed, or the install phase failed.
  const installFailure = verified(e.installFailure);
  if (installFailure !== undefined) {
    matches.push({
      code: 210,
      rule: "210.install-phase-failed",
      reason: `install phase failed: ${installFailure.kind}: ${installFailure.message}`,
    });
  }
  const outcomes = verified(e.installSummary);
  if (outcomes !== undefined) {
    const failed = outcomes.filter((o) => !o.installed);
    if (failed.length > 0) {
      matches.push({
        code: 210,
        rule: "210.update-not-installed",
        reason: `${failed.length} update(s) not installed: ${failed.map((o) => `${o.kb ?? o.updateId} (${o.result})`).join(", ")}`,
      });
    }
    // An update reported installed that the post snapshot no longer lists was rolled back (typically at the reboot):
    // the device is not patched, whatever the install said. Without this, a rollback would read as Success.
    const after = verified(e.snapshot);
    // A list the device could not collect is "could not look", never "none" (issue 21): no rollback can be read
    // from it, and nothing verified says whether the updates stuck: could not report (240), never a false 210.
    const notListed = after?.collectionErrors?.find((c) => c.section === "installedUpdates");
    if (after !== undefined && notListed !== undefined) {
      const claimed = outcomes.filter((o) => o.installed).length;
      matches.push({
        code: 240,
        rule: "240.could-not-look",
        reason: `${A.snapshot.path}: the device could not list installedUpdates (${notListed.message}${notListed.code === undefined ? "" : `, ${notListed.code}`}): whether the ${claimed} update(s) reported installed are still present is unknown (could not look, not none)`,
      });
    } else if (after !== undefined) {
      const gone = outcomes.filter((o) => o.installed && !presentIn(after.installedUpdates, o));
      if (gone.length > 0) {
        matches.push({
          code: 210,
          rule: "210.update-gone-after-run",
          reason: `${gone.length} update(s) reported installed but absent from the post snapshot (rolled back?): ${gone.map((o) => o.kb ?? `${o.updateId} ${o.version ?? ""}`.trim()).join(", ")}`,
        });
      }
    }
    const catalog = verified(e.catalog);
    if (catalog !== undefined && !dryRun && installFailure === undefined) {
      const reported = new Set(outcomes.map((o) => o.updateId));
      const unreported = catalog.updates.filter((u) => u.decision === "approved" && !reported.has(u.updateId));
      if (unreported.length > 0) {
        matches.push({
          code: 210,
          rule: "210.approved-update-without-outcome",
          reason: `${unreported.length} approved update(s) have no install outcome: ${unreported.map((u) => u.kb ?? u.updateId).join(", ")}`,
        });
      }
    }
  }

  // 240: evidence that exists but cannot be trusted, whatever it is; and required evidence that is absent.
  const reporting: Match[] = [];
  const known: [string, Reading<unknown>, boolean][] = [
    [A.run.path, e.run, true],
    [A.lockContention.path, e.lockContention, false],
    [A.baseline.path, e.baseline, true],
    [A.preValidation.path, e.preValidation, true],
    // Required when the run's policy has gates: without the report nothing says they were judged.
    [A.gates.path, e.gates, run?.policy.gates !== undefined],
    [A.catalog.path, e.catalog, true],
    // A dry run installs nothing; an install phase that failed is already a 210 and explains the missing summary.
    [A.installSummary.path, e.installSummary, !dryRun && installFailure === undefined],
    [failurePath("install"), e.installFailure, false],
    [A.reboot.path, e.reboot, true],
    [A.snapshot.path, e.snapshot, true],
    [A.baselineDiff.path, e.baselineDiff, true],
    [A.postValidation.path, e.postValidation, true],
    [A.regressions.path, e.regressions, true],
    // Absent diagnostics are judged by rule 230, not here.
    [A.diagnostics.path, e.diagnostics, false],
    [failurePath("diagnostics"), e.diagnosticsFailure, false],
    [A.events.path, e.events, true],
    [A.artifactIndex.path, e.artifactIndex, true],
    [A.manifest.path, e.manifest, true],
    [A.remediation.path, e.remediation ?? { status: "missing" }, false],
    ...Object.entries(e.remediationEvidence ?? {}).map(
      ([path, r]) => [path, r, false] as [string, Reading<unknown>, boolean],
    ),
    ...Object.entries(e.otherFailures).map(
      ([folder, r]) => [`${folder}/failure.json`, r, false] as [string, Reading<unknown>, boolean],
    ),
  ];
  for (const [path, reading, required] of known) {
    if (reading.status === "verified") continue;
    if (reading.status === "missing" && !required) continue;
    if (reading.status === "missing" && run?.scanOnly === true && NOT_PRODUCED_BY_SCAN.has(path)) continue;
    const folder = path.split("/")[0] ?? "";
    const failure = e.otherFailures[folder];
    const why =
      reading.status === "missing" && failure && failure.status === "verified"
        ? ` because the phase failed: ${failure.value.kind}: ${failure.value.message}`
        : "";
    const rule = class240(reading, failure?.status === "verified" ? failure.value : undefined);
    reporting.push({ code: 240, rule, reason: `${describe(path, reading)}${why}` });
  }
  for (const p of e.otherIntegrityProblems) {
    reporting.push({
      code: 240,
      rule: "240.integrity",
      reason: `${p.path} is ${p.status}${p.problem ? ` (${p.problem})` : ""}`,
    });
  }
  // Within 240 the gravest cause names the rule: integrity, then an unreachable device, then what was not collected.
  matches.push(...reporting.sort((a, b) => CLASS_240_ORDER.indexOf(a.rule) - CLASS_240_ORDER.indexOf(b.rule)));

  // 230: diagnostics failed and the policy requires them.
  const diagnosticsRequired = run?.policy.diagnostics.required ?? false;
  const diagnostics = verified(e.diagnostics);
  const diagnosticsFailure = verified(e.diagnosticsFailure);
  const diagnosticsFailed =
    diagnostics?.status === "failed" || diagnosticsFailure !== undefined || e.diagnostics.status === "missing";
  if (diagnosticsFailed && diagnosticsRequired) {
    const why = diagnostics?.failureReason ?? diagnosticsFailure?.message ?? "no diagnostics.json";
    matches.push({
      code: 230,
      rule: "230.diagnostics-required",
      reason: `diagnostics failed and the policy requires them: ${why}`,
    });
  }
  // 230: a policy diagnostics rule failed (or could not be judged) over the collected diagnostics, recorded per rule.
  const failedRules = (diagnostics?.rules ?? []).filter((r) => r.verdict === "fail" || r.verdict === "unknown");
  if (failedRules.length > 0 && diagnosticsRequired) {
    matches.push({
      code: 230,
      rule: "230.diagnostics-rule-failed",
      reason: `diagnostics rule(s) failed: ${failedRules.map((r) => `${r.rule} (${r.verdict}: ${r.detail})`).join("; ")}`,
    });
  }

  // 150: a reboot is still needed.
  const reboot = verified(e.reboot);
  const provenBySnapshot = rebootProvenBySnapshot(reboot, verified(e.snapshot));
  if (provenBySnapshot !== undefined) {
    // The strongest evidence decides (issue 21): a boot after the request with nothing pending, read on the device
    // after the run, outweighs an unreadable probe or an agent that was slow to report back.
    notes.push(provenBySnapshot);
  } else if (reboot !== undefined && reboot.required && reboot.outcome !== "Completed") {
    matches.push({
      code: 150,
      rule: "150.reboot-not-completed",
      reason: `reboot required (policy ${reboot.policy}) but ${reboot.outcome}${reboot.reason === undefined ? "" : `: ${reboot.reason}`}`,
    });
  }
  const snapshot = verified(e.snapshot);
  if (snapshot !== undefined && snapshot.pendingReboot.pending) {
    matches.push({
      code: 150,
      rule: "150.reboot-pending-after-run",
      reason: `post snapshot still shows a pending reboot (${snapshot.pendingReboot.signals.join(", ") || "no signal named"})`,
    });
  }

  return decide(matches, notes, successReason(dryRun, verified(e.catalog), outcomes));
}

/**
 * Why the post snapshot proves a reboot that reboot.json could not (a boot after the request and no reboot pending),
 * or undefined when it does not or there was nothing to prove.
 */
function rebootProvenBySnapshot(
  reboot: RebootRecord | undefined,
  snapshot: SystemSnapshot | undefined,
): string | undefined {
  if (reboot === undefined || snapshot === undefined || !reboot.required) return undefined;
  if (reboot.outcome === "Completed" || reboot.requestedAt === undefined) return undefined;
  if (reboot.outcome !== "TimedOut" && reboot.outcome !== "Failed") return undefined;
  if (snapshot.pendingReboot.pending) return undefined;
  if (Date.parse(snapshot.lastBootTime) <= Date.parse(reboot.requestedAt)) return undefined;
  return `reboot proven by ${A.snapshot.path} (boot at ${snapshot.lastBootTime}, after the request at ${reboot.requestedAt}; no reboot pending), although ${A.reboot.path} says ${reboot.outcome}${reboot.decidedBy === undefined ? "" : ` (decided by ${reboot.decidedBy})`}`;
}

/** The first DeviceBusy failure of a phase that runs before any change (baseline, PRE validation, catalog). */
function firstBusyBeforeInstall(failures: ExitCodeEvidence["otherFailures"]): PhaseFailure | undefined {
  for (const folder of [PHASES.baseline, PHASES.preValidation, PHASES.catalog]) {
    const reading = failures[folder];
    if (reading?.status === "verified" && reading.value.kind === "DeviceBusy") return reading.value;
  }
  return undefined;
}

/** 240's rules, gravest first (issue 21: each sends its own event, exitCodeTable.ts). */
const CLASS_240_ORDER = ["240.integrity", "240.unreachable", "240.could-not-look", "240.not-collected"];

/**
 * Why a required artifact is not verified: stored evidence that fails verification (integrity), a phase that never
 * reached the device (unreachable: the agent was disconnected, or its command could not be submitted), or evidence
 * the device did not deliver in usable form (not collected: a script that failed, hung or printed no document).
 */
function class240(reading: Reading<unknown>, failure: PhaseFailure | undefined): string {
  if (reading.status !== "missing") return "240.integrity";
  if (failure?.kind === "AgentDisconnected" || failure?.kind === "SubmitFailed") return "240.unreachable";
  return "240.not-collected";
}

/** What a clean run did, in its own words: a dry run installs nothing, a run with nothing approved installed nothing. */
function successReason(dryRun: boolean, catalog: Catalog | undefined, outcomes: InstallOutcome[] | undefined): string {
  const approved = catalog?.updates.filter((u) => u.decision === "approved").length ?? 0;
  if (dryRun) {
    return `dry run: ${approved} update(s) approved, none installed (a dry run does not install); no regressions, evidence verified`;
  }
  const installed = outcomes?.filter((o) => o.installed).length ?? 0;
  if (installed === 0) return "no update approved or installed; no regressions, evidence verified";
  return `${installed} update(s) installed, no regressions, evidence verified`;
}

function decide(
  matches: readonly Match[],
  notes: readonly string[] = [],
  success = "all updates installed, no regressions, evidence verified",
): ExitCodeDecision {
  const ordered = [...matches].sort((a, b) => EXIT_CODE_PRIORITY.indexOf(a.code) - EXIT_CODE_PRIORITY.indexOf(b.code));
  const first = ordered[0];
  if (first === undefined) {
    return {
      exitCode: 0,
      name: EXIT_CODE_NAME[0],
      rule: "0.success",
      reasons: [success, ...notes],
    };
  }
  return {
    exitCode: first.code,
    name: EXIT_CODE_NAME[first.code],
    rule: first.rule,
    reasons: [...ordered.map((m) => m.reason), ...notes],
  };
}

/** Whether a snapshot lists an installed update: by KB on Windows, by package name and exact version on Linux. */
function presentIn(
  installed: readonly { id: string; kb?: string; version?: string }[],
  outcome: InstallOutcome,
): boolean {
  if (outcome.kb !== undefined) return installed.some((u) => u.kb === outcome.kb || u.id === outcome.kb);
  return installed.some(
    (u) => u.id === outcome.updateId && (outcome.version === undefined || u.version === outcome.version),
  );
}
