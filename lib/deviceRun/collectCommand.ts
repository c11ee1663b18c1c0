import type { ContainerClient } from "@azure/storage-blob";
import { RunCommandNotFoundError } from "../azure/armErrors";
import type { RunCommands, RunCommandStatus } from "../azure/runCommands";
import { parseArtifact, specForPath, transcriptPath, transcriptStatusPath, type PhaseKey } from "../domain/artifacts";
import { isStatus } from "../evidence/errors";
import { artifactBlobName } from "../evidence/keys";
import type { EvidenceDeps } from "../evidence/runEvidence";
import { sha256Hex } from "../evidence/sha256";
import { TranscriptStatusSchema, type TranscriptStatus, type TranscriptStream } from "../schemas/artifacts/transcript";
import type { RunRef } from "../schemas/common";
import type { PendingCommand, StoredArtifactRef } from "../schemas/deviceRun";
import { rowOf } from "../domain/run/steps";
import { splitBundleOutput } from "../device/bundle";
import type { StepTable } from "./steps";
import type { StoredList } from "./storedArtifacts";

/** A finished command as evidence: how it ended, its raw stdout, and the evidence paths of its transcripts. */
export interface CollectedCommand {
  command: PendingCommand;
  phase: PhaseKey;
  status: TranscriptStatus;
  stdout: string;
  /** Evidence paths of the kept transcripts (stdout, stderr when not empty) and the status record. */
  transcripts: string[];
}

/** How a command ended, when PatchPilot observed it. */
export type CommandEnd =
  /** `status`: the terminal instance view the poll already read (then collecting reads only the output blobs). */
  | { kind: "terminal"; status?: RunCommandStatus }
  /** Its deadline passed without a terminal state: PatchPilot cancels it and keeps what it wrote. */
  | { kind: "overdue"; lastState: string };

/** The file name of a command's transcripts: unique per execution, even when executions share a slot. */
function transcriptNameOf(command: PendingCommand): string {
  return command.transcriptName ?? command.handle.runCommandName;
}

function streamOf(path: string, text: string): TranscriptStream {
  const bytes = Buffer.from(text, "utf8");
  return { ...(bytes.byteLength > 0 ? { path } : {}), size: bytes.byteLength, sha256: sha256Hex(bytes) };
}

/** A staged output blob's text; undefined when there is none (404). */
async function readStaging(staging: ContainerClient, name: string): Promise<string | undefined> {
  try {
    // One GET; downloadToBuffer() would first send a HEAD for the length.
    const response = await staging.getBlobClient(name).download();
    const chunks: Buffer[] = [];
    for await (const chunk of response.readableStreamBody ?? []) chunks.push(Buffer.from(chunk as Uint8Array));
    return Buffer.concat(chunks).toString("utf8");
  } catch (error) {
    // The agent creates the blob on its first write; a command that never started leaves none, and a collect that
    // filed it as evidence deleted it.
    if (isStatus(error, 404)) return undefined;
    throw error;
  }
}

/**
 * Deletes a command's staged output blobs once their bytes are filed as evidence (create-once, hashed, indexed):
 * staging is a hand-off, not a store, and what stays there only grows the account (a lifecycle rule in the Bicep is
 * the backstop for a crash between filing and this). `present`: which of stdout / stderr exist; undefined = unknown.
 */
async function deleteStaged(
  staging: ContainerClient,
  handle: PendingCommand["handle"],
  present?: { stdout: boolean; stderr: boolean },
): Promise<void> {
  const names = [
    ...(present?.stdout === false ? [] : [handle.outputBlobName]),
    ...(present?.stderr === false ? [] : [handle.errorBlobName]),
  ];
  await Promise.all(names.map((name) => staging.getBlobClient(name).deleteIfExists()));
}

function refFromBytes(run: RunRef, path: string, bytes: Buffer): StoredArtifactRef {
  return { path, blobName: artifactBlobName(run, path), sha256: sha256Hex(bytes), size: bytes.byteLength };
}

/**
 * Rebuilds a collected command from the evidence an earlier attempt of the same activity stored before deleting the
 * command (its status record and stdout transcript). Undefined when no status record exists.
 */
async function rebuild(
  deps: EvidenceDeps,
  run: RunRef,
  command: PendingCommand,
  phase: PhaseKey,
  stored: StoredList,
): Promise<CollectedCommand | undefined> {
  const statusPath = transcriptStatusPath(phase, transcriptNameOf(command));
  const statusBytes = await deps.store.get(run, statusPath);
  if (statusBytes === undefined) return undefined;
  const parsed = parseArtifact(specForPath(statusPath), statusBytes);
  if (!parsed.ok) throw new Error(`${statusPath} of run ${run.runId} is ${parsed.kind}: ${parsed.problem}`);
  const status = TranscriptStatusSchema.parse(parsed.value);
  const transcripts: string[] = [];
  let stdout = "";
  for (const [name, stream] of [
    ["stdout", status.stdout],
    ["stderr", status.stderr],
  ] as const) {
    if (stream.path === undefined) continue;
    const bytes = await deps.store.get(run, stream.path);
    if (bytes === undefined || sha256Hex(bytes) !== stream.sha256)
      throw new Error(`${stream.path} of run ${run.runId} is missing or altered`);
    stored.add(refFromBytes(run, stream.path, bytes));
    transcripts.push(stream.path);
    if (name === "stdout") stdout = bytes.toString("utf8");
  }
  stored.add(refFromBytes(run, statusPath, statusBytes));
  return { command, phase, status, stdout, transcripts: [...transcripts, statusPath] };
}

/** What collecting needs. */
export interface CollectDeps {
  evidence: EvidenceDeps;
  runCommands: RunCommands;
  staging: ContainerClient;
  steps: StepTable;
}

/** The command as one section of a bundle: its step, script and transcript name (`{transcriptName}-{step}`). */
function sectionCommand(
  command: PendingCommand,
  section: NonNullable<PendingCommand["sections"]>[number],
): PendingCommand {
  return {
    ...command,
    step: section.step,
    scriptVersion: section.scriptVersion,
    scriptSha256: section.scriptSha256,
    transcriptName: `${transcriptNameOf(command)}-${section.step}`,
  };
}

/** The parts a command is collected as: itself, or each section of a bundle. */
function partsOf(command: PendingCommand): PendingCommand[] {
  return command.sections === undefined ? [command] : command.sections.map((s) => sectionCommand(command, s));
}

/** Rebuilds every part from its status record, or undefined when one has none. */
async function rebuildAll(
  deps: CollectDeps,
  run: RunRef,
  command: PendingCommand,
  stored: StoredList,
): Promise<CollectedCommand[] | undefined> {
  const rebuilt: CollectedCommand[] = [];
  for (const part of partsOf(command)) {
    const one = await rebuild(deps.evidence, run, part, rowOf(deps.steps, part.step).phase, stored);
    if (one === undefined) return undefined;
    rebuilt.push(one);
  }
  return rebuilt;
}

/** How a command ended, as read from ARM and its output blobs. */
interface Observed {
  view: RunCommandStatus;
  stdout: string;
  stderr: string;
  canceled: TranscriptStatus["canceled"];
}

/**
 * A bundle's section as if it had been a command of its own: its text between its markers, its exit code from its end
 * marker; a section whose end marker never came ended as the bundle did (or Failed, when the bundle says Succeeded).
 */
function sectionOf(part: PendingCommand, raw: Observed, nonce: string, steps: readonly string[]): Observed {
  const out = splitBundleOutput(raw.stdout, steps, nonce).sections.get(part.step);
  const err = splitBundleOutput(raw.stderr, steps, nonce).sections.get(part.step);
  const exitCode = out?.exitCode;
  const view: RunCommandStatus =
    exitCode !== undefined
      ? {
          ...raw.view,
          executionState: exitCode === 0 ? "Succeeded" : "Failed",
          exitCode,
          executionMessage: exitCode === 0 ? "" : `the ${part.step} section exited with code ${exitCode}`,
        }
      : {
          ...raw.view,
          executionState: raw.view.executionState === "Succeeded" ? "Failed" : raw.view.executionState,
          exitCode: null,
          executionMessage: `the ${part.step} section did not complete (bundle ${raw.view.executionState}${raw.view.executionMessage === "" ? "" : `: ${raw.view.executionMessage}`})`,
        };
  return { view, stdout: out?.text ?? "", stderr: err?.text ?? "", canceled: raw.canceled };
}

/**
 * Collects a finished (or overdue, then cancelled) command into evidence: the raw stdout, the stderr when not empty,
 * and a status record beside them; a bundle (lib/device/bundle.ts) as one such record per section, each under its
 * step's phase with its own hash. A retry after the slot moved on (or the command was deleted) rebuilds the same
 * result from the status records.
 */
export async function collectCommand(
  deps: CollectDeps,
  run: RunRef,
  command: PendingCommand,
  end: CommandEnd,
  stored: StoredList,
  now: Date,
): Promise<CollectedCommand[]> {
  let raw: Observed;
  let present: { stdout: boolean; stderr: boolean } | undefined;
  if (end.kind === "terminal" && end.status !== undefined) {
    const [stdout, stderr] = await Promise.all([
      readStaging(deps.staging, command.handle.outputBlobName),
      readStaging(deps.staging, command.handle.errorBlobName),
    ]);
    if (stdout === undefined) {
      // No stdout blob: the command wrote nothing, or an earlier attempt of this collect filed it and deleted it.
      // Its status records tell which; rebuilt from them, a retry returns what the first attempt filed.
      const rebuilt = await rebuildAll(deps, run, command, stored);
      if (rebuilt !== undefined) {
        if (stderr !== undefined) await deleteStaged(deps.staging, command.handle, { stdout: false, stderr: true });
        return rebuilt;
      }
    }
    present = { stdout: stdout !== undefined, stderr: stderr !== undefined };
    raw = { view: end.status, stdout: stdout ?? "", stderr: stderr ?? "", canceled: undefined };
  } else if (end.kind === "terminal") {
    try {
      const result = await deps.runCommands.collect(command.handle);
      raw = { view: result, stdout: result.stdout, stderr: result.stderr, canceled: undefined };
    } catch (error) {
      if (!(error instanceof RunCommandNotFoundError)) throw error;
      const rebuilt = await rebuildAll(deps, run, command, stored);
      if (rebuilt !== undefined) return rebuilt;
      // Gone without a record of ours: someone else deleted it. Recorded as such, deterministically.
      const view: RunCommandStatus = {
        executionState: "Unknown",
        terminal: true,
        exitCode: null,
        executionMessage: "the run command no longer exists",
        startTime: null,
        endTime: null,
      };
      raw = { view, stdout: "", stderr: "", canceled: undefined };
    }
  } else {
    const rebuilt = await rebuildAll(deps, run, command, stored);
    if (rebuilt !== undefined) return rebuilt;
    // Cancel first, so the output blobs stop growing and a retry reads the same bytes.
    await deps.runCommands.delete(command.handle);
    const [stdout, stderr] = await Promise.all([
      readStaging(deps.staging, command.handle.outputBlobName),
      readStaging(deps.staging, command.handle.errorBlobName),
    ]);
    present = { stdout: stdout !== undefined, stderr: stderr !== undefined };
    const view: RunCommandStatus = {
      executionState: end.lastState as RunCommandStatus["executionState"],
      terminal: false,
      exitCode: null,
      executionMessage: "",
      startTime: null,
      endTime: null,
    };
    const canceled = {
      at: now.toISOString(),
      reason: `no terminal state ${command.timeoutSeconds} s after submission plus grace: cancelled by PatchPilot`,
    };
    raw = { view, stdout: stdout ?? "", stderr: stderr ?? "", canceled };
  }
  const parts = partsOf(command);
  const collected: CollectedCommand[] = [];
  for (const part of parts) {
    const observed =
      command.sections === undefined
        ? raw
        : sectionOf(
            part,
            raw,
            command.nonce ?? "",
            parts.map((p) => p.step),
          );
    collected.push(await fileTranscripts(deps, run, part, observed, stored));
  }
  // Every part's transcripts and status record are filed: the staged bytes are evidence now.
  if (present === undefined || present.stdout || present.stderr)
    await deleteStaged(deps.staging, command.handle, present);
  return collected;
}

/** Stores one command's (or section's) transcripts and status record under its step's phase. */
async function fileTranscripts(
  deps: CollectDeps,
  run: RunRef,
  command: PendingCommand,
  observed: Observed,
  stored: StoredList,
): Promise<CollectedCommand> {
  const step = rowOf(deps.steps, command.step);
  const phase = step.phase;
  const name = command.handle.runCommandName;
  const file = transcriptNameOf(command);
  const { view, stdout, stderr, canceled } = observed;

  const stdoutPath = transcriptPath(phase, file, "stdout");
  const stderrPath = transcriptPath(phase, file, "stderr");
  const statusPath = transcriptStatusPath(phase, file);
  const status: TranscriptStatus = {
    schemaVersion: 1,
    // The artifact's field is named `role` (sealed evidence keeps its schema); it holds the step id.
    role: command.step,
    runCommandName: name,
    script: { id: step.script, version: command.scriptVersion, sha256: command.scriptSha256 },
    submittedAt: command.submittedAt,
    executionState: view.executionState,
    exitCode: view.exitCode,
    executionMessage: view.executionMessage,
    startTime: view.startTime,
    endTime: view.endTime,
    ...(canceled === undefined ? {} : { canceled }),
    stdout: { ...streamOf(stdoutPath, stdout), path: stdoutPath },
    stderr: streamOf(stderrPath, stderr),
  };
  // The stdout transcript is kept even when empty (a failure names it); an empty stderr says nothing and its
  // emptiness is in the status record.
  await stored.put(deps.evidence, run, specForPath(stdoutPath), stdout);
  const transcripts = [stdoutPath];
  if (stderr !== "") {
    await stored.put(deps.evidence, run, specForPath(stderrPath), stderr);
    transcripts.push(stderrPath);
  }
  await stored.put(deps.evidence, run, specForPath(statusPath), status);
  return { command, phase, status, stdout, transcripts: [...transcripts, statusPath] };
}
