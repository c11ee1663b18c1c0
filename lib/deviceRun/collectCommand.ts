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

async function readStaging(staging: ContainerClient, name: string): Promise<string> {
  try {
    return (await staging.getBlobClient(name).downloadToBuffer()).toString("utf8");
  } catch (error) {
    // The agent creates the blob on its first write; a command that never started leaves none.
    if (isStatus(error, 404)) return "";
    throw error;
  }
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

/**
 * Collects a finished (or overdue, then cancelled) command into evidence: the raw stdout, the stderr when not empty,
 * and a status record beside them. Deleting the command is the caller's last step, after the phase's artifacts are
 * stored; a retry after that delete rebuilds the same result from the status record.
 */
export async function collectCommand(
  deps: CollectDeps,
  run: RunRef,
  command: PendingCommand,
  end: CommandEnd,
  stored: StoredList,
  now: Date,
): Promise<CollectedCommand> {
  const step = rowOf(deps.steps, command.step);
  const phase = step.phase;
  const name = command.handle.runCommandName;
  const file = transcriptNameOf(command);
  let view: RunCommandStatus;
  let stdout: string;
  let stderr: string;
  let canceled: TranscriptStatus["canceled"];
  if (end.kind === "terminal" && end.status !== undefined) {
    view = end.status;
    [stdout, stderr] = await Promise.all([
      readStaging(deps.staging, command.handle.outputBlobName),
      readStaging(deps.staging, command.handle.errorBlobName),
    ]);
  } else if (end.kind === "terminal") {
    try {
      const result = await deps.runCommands.collect(command.handle);
      ({ stdout, stderr } = result);
      view = result;
    } catch (error) {
      if (!(error instanceof RunCommandNotFoundError)) throw error;
      const rebuilt = await rebuild(deps.evidence, run, command, phase, stored);
      if (rebuilt !== undefined) return rebuilt;
      // Gone without a record of ours: someone else deleted it. Recorded as such, deterministically.
      view = {
        executionState: "Unknown",
        terminal: true,
        exitCode: null,
        executionMessage: "the run command no longer exists",
        startTime: null,
        endTime: null,
      };
      stdout = "";
      stderr = "";
    }
  } else {
    const rebuilt = await rebuild(deps.evidence, run, command, phase, stored);
    if (rebuilt !== undefined) return rebuilt;
    // Cancel first, so the output blobs stop growing and a retry reads the same bytes.
    await deps.runCommands.delete(command.handle);
    [stdout, stderr] = await Promise.all([
      readStaging(deps.staging, command.handle.outputBlobName),
      readStaging(deps.staging, command.handle.errorBlobName),
    ]);
    view = {
      executionState: end.lastState as RunCommandStatus["executionState"],
      terminal: false,
      exitCode: null,
      executionMessage: "",
      startTime: null,
      endTime: null,
    };
    canceled = {
      at: now.toISOString(),
      reason: `no terminal state ${command.timeoutSeconds} s after submission plus grace: cancelled by PatchPilot`,
    };
  }

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
