import { z } from "zod";
import { ARTIFACTS, failurePath, PHASES, specForPath } from "../../lib/domain/artifacts";
import { buildFinalReport } from "../../lib/domain/report/buildFinalReport";
import { renderReportHtml } from "../../lib/domain/report/renderReportHtml";
import { artifactBlobName, runPrefix } from "../../lib/evidence/keys";
import { putArtifact, readVerified, sealRun, type EvidenceDeps } from "../../lib/evidence/runEvidence";
import { sha256Hex } from "../../lib/evidence/sha256";
import type { Catalog, InstallOutcome, RebootRecord } from "../../lib/schemas/artifacts/catalog";
import type { ArtifactIndex, Manifest, RunEvent } from "../../lib/schemas/artifacts/integrity";
import type { ExitCodeRecord } from "../../lib/schemas/artifacts/outcome";
import type { PhaseFailure, RunRecord } from "../../lib/schemas/artifacts/run";
import type { BaselineDiff } from "../../lib/schemas/artifacts/snapshot";
import type { Regressions, ValidationReport } from "../../lib/schemas/artifacts/validation";
import { TimestampSchema, type RunRef } from "../../lib/schemas/common";
import {
  DeviceRunInputSchema,
  DeviceRunStateSchema,
  type DeviceRunResult,
  type DeviceRunState,
} from "../../lib/schemas/deviceRun";
import { makeComputeExitCode } from "./computeExitCode";
import type { DeviceRunDeps } from "./deviceRun/deps";
import { STAGE_PHASE } from "./deviceRun/roles";
import { StoredList } from "./deviceRun/storedArtifacts";

/** Input of finishDeviceRun; `failure` is set when the advance loop gave up (its retries were exhausted). */
export const FinishDeviceRunInputSchema = z.object({
  input: DeviceRunInputSchema,
  state: DeviceRunStateSchema,
  now: TimestampSchema,
  failure: z.string().optional(),
});
export type FinishDeviceRunInput = z.infer<typeof FinishDeviceRunInputSchema>;

type Parsed = z.infer<typeof FinishDeviceRunInputSchema>;

/** Records why the advance loop gave up, under the phase it was in, unless that phase already has a failure record. */
async function recordGivingUp(
  evidence: EvidenceDeps,
  { input, state, now, failure }: Parsed,
  stored: StoredList,
): Promise<void> {
  if (failure === undefined) return;
  const path = failurePath(STAGE_PHASE[state.stage]);
  const existing = await evidence.store.get(input.run, path);
  if (existing !== undefined) {
    // Written by an attempt whose result never reached the orchestrator: keep it (write-once) and seal it.
    stored.add({
      path,
      blobName: artifactBlobName(input.run, path),
      sha256: sha256Hex(existing),
      size: existing.byteLength,
    });
    return;
  }
  const record: PhaseFailure = {
    schemaVersion: 1,
    phase: PHASES[STAGE_PHASE[state.stage]],
    // The activity that gave up was either submitting the stage's commands or collecting them.
    kind: /create run command|submit/i.test(failure) ? "SubmitFailed" : "ScriptFailed",
    message: `the run gave up in stage ${state.stage}: ${failure}`,
    at: now,
    transcripts: [],
  };
  await stored.put(evidence, input.run, specForPath(path), record);
}

/** reboot.json, when the run reached the reboot decision (only what happened is written). */
function rebootRecord(state: DeviceRunState): RebootRecord | undefined {
  if (!state.events.some((e) => e.type === "reboot.decided")) return undefined;
  const r = state.reboot;
  return {
    schemaVersion: 1,
    policy: state.policy.rebootPolicy,
    required: r.required,
    requested: r.requested,
    ...(r.requestedAt === undefined ? {} : { requestedAt: r.requestedAt }),
    ...(r.bootTimeBefore === undefined ? {} : { bootTimeBefore: r.bootTimeBefore }),
    ...(r.bootTimeAfter === undefined ? {} : { bootTimeAfter: r.bootTimeAfter }),
    rebootCount: r.count,
    // Decided but never concluded: the run gave up while the reboot was in flight.
    outcome: r.outcome ?? (r.requested ? "Failed" : "NotRequired"),
  };
}

async function readBack<T>(
  evidence: EvidenceDeps,
  run: RunRef,
  rows: Awaited<ReturnType<EvidenceDeps["index"]["readArtifacts"]>>,
  key: keyof typeof ARTIFACTS,
): Promise<T | undefined> {
  const spec = ARTIFACTS[key];
  const row = rows.get(spec.path);
  if (row === undefined) return undefined;
  const reading = await readVerified(evidence, run, spec, row);
  return reading.read.status === "verified" ? (reading.value as T) : undefined;
}

/** Phase 11's report: final-report.json and report.html from the verified artifacts, stored and indexed. */
async function writeReport(evidence: EvidenceDeps, run: RunRef, generatedAt: string) {
  const rows = await evidence.index.readArtifacts(run.runId);
  const [exitCode, manifest, artifactIndex, catalog, installs, regressions, reboot] = await Promise.all([
    readBack<ExitCodeRecord>(evidence, run, rows, "exitCode"),
    readBack<Manifest>(evidence, run, rows, "manifest"),
    readBack<ArtifactIndex>(evidence, run, rows, "artifactIndex"),
    readBack<Catalog>(evidence, run, rows, "catalog"),
    readBack<InstallOutcome[]>(evidence, run, rows, "installSummary"),
    readBack<Regressions>(evidence, run, rows, "regressions"),
    readBack<RebootRecord>(evidence, run, rows, "reboot"),
  ]);
  // Only for the HTML: absent or unverified ones are shown as "not available" there, never guessed.
  const [runRecord, preValidation, postValidation, baselineDiff, events] = await Promise.all([
    readBack<RunRecord>(evidence, run, rows, "run"),
    readBack<ValidationReport>(evidence, run, rows, "preValidation"),
    readBack<ValidationReport>(evidence, run, rows, "postValidation"),
    readBack<BaselineDiff>(evidence, run, rows, "baselineDiff"),
    readBack<RunEvent[]>(evidence, run, rows, "events"),
  ]);
  const exitCodeSha256 = rows.get(ARTIFACTS.exitCode.path)?.sha256;
  if (exitCode === undefined || manifest === undefined || artifactIndex === undefined || exitCodeSha256 === undefined) {
    throw new Error(`run ${run.runId}: the exit code or the seal cannot be read back verified; no report is written`);
  }
  const report = buildFinalReport({
    exitCode,
    exitCodeSha256,
    manifest,
    artifactIndex,
    ...(catalog === undefined ? {} : { catalog }),
    ...(installs === undefined ? {} : { installs }),
    ...(regressions === undefined ? {} : { regressions }),
    ...(reboot === undefined ? {} : { reboot }),
    generatedAt,
  });
  const json = await putArtifact(evidence, run, ARTIFACTS.finalReport, report);
  const html = await putArtifact(
    evidence,
    run,
    ARTIFACTS.reportHtml,
    renderReportHtml({
      report,
      artifactIndex: artifactIndex.entries,
      runRecord,
      installs,
      regressions,
      preValidation,
      postValidation,
      baselineDiff,
      events,
      reboot,
    }),
  );
  await evidence.index.indexArtifacts(run, [
    { ...json, merkleLeaf: false },
    { ...html, merkleLeaf: false },
  ]);
  return { report, manifest };
}

/**
 * Builds the activity for phases 10-11: records why the run gave up (if it did) and reboot.json, seals the run,
 * computes the exit code from the evidence read back, writes the report, and releases the device lock (only if this
 * run holds it; a contended run never took it). Missing evidence stays missing: the exit code explains it.
 */
export function makeFinishDeviceRun(deps: Pick<DeviceRunDeps, "evidence" | "locks">) {
  const computeExitCode = makeComputeExitCode(deps.evidence);
  return async function finishDeviceRun(rawInput: unknown): Promise<DeviceRunResult> {
    const parsed = FinishDeviceRunInputSchema.parse(rawInput);
    const { input, state, now } = parsed;
    const { run } = input;
    const stored = new StoredList(state.stored);
    const events = [...state.events];
    if (!state.lockContended) {
      await recordGivingUp(deps.evidence, parsed, stored);
      if (parsed.failure !== undefined)
        events.push({
          at: now,
          type: "run.gave-up",
          phase: PHASES[STAGE_PHASE[state.stage]],
          data: { reason: parsed.failure.slice(0, 1000) },
        });
      const reboot = rebootRecord(state);
      if (reboot !== undefined) await stored.put(deps.evidence, run, ARTIFACTS.reboot, reboot);
    }
    events.push({ at: now, type: "run.sealed", phase: PHASES.index });

    const seal = await sealRun(deps.evidence, run, {
      sealedAt: now,
      artifacts: stored.list().map((r) => ({ ...r, created: false })),
      events,
    });
    const decision = await computeExitCode({ run, decidedAt: now });
    const { report } = await writeReport(deps.evidence, run, now);
    if (!state.lockContended) await deps.locks.release({ tenant: run.tenant, device: run.device, runId: run.runId });
    return {
      run,
      exitCode: decision.exitCode,
      exitName: decision.name,
      // From the verified evidence, not from orchestration state.
      counts: {
        approved: report.updates.approved,
        installed: report.updates.installed,
        failed: report.updates.failed,
        regressions: report.regressions,
      },
      merkleRoot: seal.manifest.merkle.root,
      evidencePrefix: runPrefix(run),
    };
  };
}
