import { ARTIFACTS, failurePath, PHASES, specForPath, type PhaseKey } from "../domain/artifacts";
import { STAGES } from "../domain/run/steps";
import { artifactBlobName } from "../evidence/keys";
import { runResultOf } from "./sealedResult";
import { openEvidenceSession } from "../evidence/evidenceSession";
import { writeRunReceipt } from "../evidence/receipt";
import { sealRun, type EvidenceDeps } from "../evidence/runEvidence";
import { sha256Hex } from "../evidence/sha256";
import { rememberingWrites } from "../evidence/writtenBytes";
import type { RebootRecord } from "../schemas/artifacts/catalog";
import type { PhaseFailure } from "../schemas/artifacts/run";
import type { DeviceRunState, FinishDeviceRunInput, FinishedRun } from "../schemas/deviceRun";
import { buildRunEventData } from "../azure/events/readRunEventData";
import { writeRunEventData } from "../azure/events/sealedRunEventData";
import { computeExitCode } from "./computeExitCode";
import type { DeviceRunDeps } from "./deps";
import { StoredList } from "./storedArtifacts";
import { writeReport } from "./writeReport";

/** Records why the advance loop gave up, under the phase it was in, unless that phase already has a failure record. */
async function recordGivingUp(
  evidence: EvidenceDeps,
  { input, state, now, failure }: FinishDeviceRunInput,
  phase: PhaseKey,
  stored: StoredList,
): Promise<void> {
  if (failure === undefined) return;
  const path = failurePath(phase);
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
    phase: PHASES[phase],
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
    ...(r.reason === undefined ? {} : { reason: r.reason }),
    ...(r.decidedBy === undefined ? {} : { decidedBy: r.decidedBy }),
  };
}

/**
 * Phases 10-11 (the finishDeviceRun activity): records why the run gave up (if it did) and reboot.json, seals the run,
 * computes the exit code from the evidence read back, writes the report, and releases the device lock (only if this
 * run holds it; a contended run never took it). Missing evidence stays missing: the exit code explains it.
 */
export async function finishRun(
  callerDeps: Pick<DeviceRunDeps, "evidence" | "locks" | "stages">,
  parsed: FinishDeviceRunInput,
): Promise<FinishedRun> {
  // What this call writes (reboot.json, the seal, exit-code.json, the report) is not read back from storage: the
  // create-once write proved the blob holds those bytes, and every reader still verifies them against the index. In
  // the advance that ended the run, the caller's evidence already remembers that call's own writes (the post
  // artifacts it collected); what earlier calls stored is read from storage, once, verified.
  const deps = { ...callerDeps, evidence: rememberingWrites(callerDeps.evidence) };
  const { input, state, now } = parsed;
  const { run } = input;
  const stored = new StoredList(state.stored);
  const events = [...state.events];
  // The phase the run was in, for a give-up's failure record and event.
  const phase = (deps.stages ?? STAGES)[state.stage].phase;
  if (!state.lockContended) {
    await recordGivingUp(deps.evidence, parsed, phase, stored);
    if (parsed.failure !== undefined)
      events.push({
        at: now,
        type: "run.gave-up",
        phase: PHASES[phase],
        data: { reason: parsed.failure.slice(0, 1000) },
      });
    const reboot = rebootRecord(state);
    if (reboot !== undefined) await stored.put(deps.evidence, run, ARTIFACTS.reboot, reboot);
  }
  events.push({ at: now, type: "run.sealed", phase: PHASES.index });

  // One session for the seal, the decision, the report and the receipt: every artifact is read back and verified
  // once, confined to the run, and what the seal indexed is known to the decision without a read-back.
  const session = openEvidenceSession(deps.evidence, run);
  // Every Artifacts row this call writes (the seal's, the exit code's, the report's, the receipt's, the event data's)
  // goes into one index transaction at the flush below; reads in between verify against exactly those rows.
  session.deferIndexing();
  const seal = await sealRun(
    deps.evidence,
    run,
    { sealedAt: now, artifacts: stored.list().map((r) => ({ ...r, created: false })), events },
    { session, statusRow: false },
  );
  const decision = await computeExitCode(deps.evidence, { run, decidedAt: now }, session, { statusRow: false });
  const { report } = await writeReport(session, now);
  // The commitment: sealed root + decision + report, appended to the tenant's transparency log.
  const { receipt, stored: receiptStored } = await writeRunReceipt(session, events[0]?.at ?? now);
  // The events' data, from the reads above (nothing new is read), sealed for the publish step to read at once.
  const eventData = await buildRunEventData(session, {
    facts: { trigger: input.trigger, dryRun: input.dryRun },
    at: now,
  });
  const eventDataStored = eventData.decided ? await writeRunEventData(session, eventData.data) : undefined;
  // The seal's rows and exit-code.json, final-report.json, report.html, receipt.json, event-data.json: one index
  // transaction (per 100 rows). A retry writes the same bytes and rows (create-once), so a crash before it loses
  // nothing; a row that differs (a forged or foreign one) is an IndexConflictError, as it was for the seal's own.
  await session.flushIndex();
  const logged = await deps.evidence.log?.append(receipt);
  // The Runs row once, with everything the status API shows (the seal, the code, the receipt).
  await deps.evidence.index.upsertRun(run, {
    status: "completed",
    ...seal.statusFields,
    exitCode: decision.exitCode,
    exitCodeName: decision.name,
    exitCodeSha256: decision.sha256,
    receiptSha256: receiptStored.sha256,
    ...(logged === undefined ? {} : { logIndex: logged.index }),
  });
  if (!state.lockContended) await deps.locks.release({ tenant: run.tenant, device: run.device, runId: run.runId });
  return {
    // From the verified evidence, not from orchestration state.
    ...runResultOf(run, decision, report, seal.manifest.merkle.root),
    // For the publish step: the event data's blob is read against this, without looking up its row.
    ...(eventDataStored === undefined
      ? {}
      : { eventData: { sha256: eventDataStored.sha256, size: eventDataStored.size } }),
  };
}
