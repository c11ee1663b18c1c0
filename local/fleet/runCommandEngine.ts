import type { RunCommandParameter } from "../../lib/device/parameters";
import type { ExecutionState } from "../../lib/azure/schemas/runCommand";
import { ServiceError } from "../serviceError";
import type { FleetClock, PreexistingRunCommand, ScriptResult, SimulatedDevice } from "./contract";
import { writeAppendBlob } from "./outputBlobWriter";
import { fingerprintOf, scriptTextOf, shareScript } from "./scriptText";

/** The instance view keeps only this many trailing bytes of each stream, as Azure does. */
export const INSTANCE_VIEW_OUTPUT_BYTES = 4096;

/** What a PUT asks for. */
export interface RunCommandInput {
  location: string;
  script: string;
  parameters: readonly RunCommandParameter[];
  asyncExecution: boolean;
  timeoutInSeconds: number;
  outputBlobUri: string | undefined;
  errorBlobUri: string | undefined;
}

/** One run command on one device. Its state is computed from timestamps whenever someone looks. */
export interface RunCommandRecord {
  readonly device: SimulatedDevice;
  readonly name: string;
  readonly input: RunCommandInput;
  /** SHA-256 of the PUT's properties' canonical JSON: an identical re-PUT does not re-run. */
  readonly fingerprint: string;
  readonly submittedAt: Date;
  readonly operationId: string;
  /** When the agent first connects after pick-up; null = never (resolved lazily, see startOf). */
  startAt?: Date | null;
  result?: ScriptResult;
  canceledAt?: Date;
  /** When a DELETE finishes and the resource disappears. */
  deleteAt?: Date;
  deleteOperationId?: string;
  /** Set once the output / error blobs are written (or writing failed). */
  written?: Promise<void>;
  blobError?: string;
  /** Set once a script that ran past its timeout was stopped on the device (as the agent kills it). */
  timeoutStopped?: boolean;
}

/** An async operation still tied to its command. */
interface PendingOperation {
  record: RunCommandRecord;
  kind: "create" | "delete";
}

/** What an Azure-AsyncOperation GET reports. */
export interface OperationStatus {
  status: "InProgress" | "Succeeded" | "Failed" | "Canceled";
  startTime: Date;
  /** When the operation was first seen ended; null while in progress. */
  endTime: Date | null;
  error?: string;
}

/** The instance view at one instant. */
export interface RunCommandView {
  executionState: ExecutionState;
  executionMessage: string;
  exitCode: number | null;
  startTime: Date | null;
  endTime: Date | null;
  output: string;
  error: string;
  provisioningState: "Creating" | "Succeeded" | "Failed" | "Canceled" | "Deleting";
}

/** Timing knobs of the engine, in simulated milliseconds. */
export interface EngineTiming {
  /** Between the PUT and the agent reporting the command (instance view Unknown until then). */
  agentPickupMs: number;
  /** Between a DELETE of an unfinished command and the resource disappearing (Canceled meanwhile). */
  deleteDelayMs: number;
}

const tail = (text: string): string => {
  const bytes = Buffer.from(text, "utf8");
  return bytes.length <= INSTANCE_VIEW_OUTPUT_BYTES
    ? text
    : bytes.subarray(bytes.length - INSTANCE_VIEW_OUTPUT_BYTES).toString("utf8");
};

const at = (date: Date, ms: number): Date => new Date(date.getTime() + ms);

/**
 * What the agent answers when a run command is created while another one is still in flight on the machine: the
 * code and message publicly reported for overlapping run commands (microsoft/OMS-Agent-for-Linux#1496,
 * Azure/azure-cli#32305). The managed runCommands API documents no such limit (docs/patch-run.md says what is and is
 * not documented); the emulator takes the stricter reading, which PatchPilot must survive either way.
 */
export const CONFLICT_CODE = "Conflict";
export const CONFLICT_MESSAGE =
  "Run command extension execution is in progress. Please wait for completion before invoking a run command.";

/** How often overlapping commands were refused, per kind of holder (the emulator's concurrency counters). */
export interface ConcurrencyCounts {
  /** PUTs refused with 409 because another command was in flight on the machine. */
  conflicts: number;
  /** ...of them, refused because of a command PatchPilot itself had in flight there (a PatchPilot overlap). */
  overlaps: number;
  /** ...of them, refused because of a seeded foreign command (an RMM's). */
  foreignConflicts: number;
  /** Most commands ever in flight at once on one machine (1 while the rule holds). */
  maxInFlight: number;
}

const IN_FLIGHT = new Set<ExecutionState>(["Unknown", "Pending", "Running"]);

let operationCounter = 0;
function nextOperationId(): string {
  operationCounter += 1;
  return `${Date.now().toString(16)}-${operationCounter.toString(16).padStart(8, "0")}`;
}

/** The input with its script held as shared pieces (./scriptText.ts); `input.script` reads the same text. */
function withSharedScript(input: RunCommandInput): RunCommandInput {
  const shared = shareScript(input.script);
  const { script: _script, ...rest } = input;
  return Object.defineProperty({ ...rest }, "script", {
    enumerable: true,
    get: () => scriptTextOf(shared),
  }) as RunCommandInput;
}

/**
 * The Run Command state machine: Unknown (not picked up) → Pending (waiting for the agent) → Running → Succeeded /
 * Failed / TimedOut / Canceled. No timers: every state is derived from the FleetClock and the command's timestamps,
 * so a virtual clock can jump hours ahead. The device's execute() is called once, when an observer first sees the
 * command past its start; every request first advances the commands of the device it touches.
 */
export class RunCommandEngine {
  private readonly byDevice = new Map<string, Map<string, RunCommandRecord>>();
  /**
   * Async operations by id: the command while its operation runs, then only its ending (status, times, error), so
   * a finished operation does not keep its command's script and output alive for the rest of the window.
   */
  private readonly operations = new Map<string, PendingOperation | OperationStatus>();
  /** Names (lower case) of the seeded commands: foreign to the run under test. */
  private readonly foreign = new Set<string>();
  readonly concurrency: ConcurrencyCounts = { conflicts: 0, overlaps: 0, foreignConflicts: 0, maxInFlight: 0 };

  constructor(
    private readonly clock: FleetClock,
    private readonly timing: EngineTiming,
  ) {}

  /** Seeds a command that is already running when the emulator starts (lock contention). */
  seed(device: SimulatedDevice, preexisting: PreexistingRunCommand): void {
    const record: RunCommandRecord = {
      device,
      name: preexisting.runCommandName,
      input: {
        location: device.placement.location,
        script: preexisting.script,
        parameters: [],
        asyncExecution: false,
        timeoutInSeconds: 0,
        outputBlobUri: undefined,
        errorBlobUri: undefined,
      },
      fingerprint: "",
      submittedAt: new Date(preexisting.startedAt.getTime() - this.timing.agentPickupMs),
      operationId: nextOperationId(),
      startAt: preexisting.startedAt,
      result: { kind: "completed", durationMs: preexisting.durationMs, exitCode: 0, stdout: "", stderr: "" },
    };
    this.commands(device).set(record.name.toLowerCase(), record);
    this.foreign.add(record.name.toLowerCase());
  }

  /** PUT: a new command, the same one again (identical body: no re-run), or a replacement. */
  put(device: SimulatedDevice, name: string, input: RunCommandInput): { record: RunCommandRecord; created: boolean } {
    this.advance(device);
    const fingerprint = fingerprintOf(input);
    const existing = this.find(device, name);
    if (existing !== undefined && existing.fingerprint === fingerprint && existing.deleteAt === undefined) {
      return { record: existing, created: false };
    }
    // One command at a time per machine, as the agents run them: a new command while another one is in flight
    // (not picked up, pending or running) is refused with 409 and nothing is created.
    const busy = this.list(device).filter(
      (other) => other.name.toLowerCase() !== name.toLowerCase() && IN_FLIGHT.has(this.view(other).executionState),
    );
    if (busy.length > 0) {
      this.concurrency.conflicts += 1;
      if (busy.some((other) => this.foreign.has(other.name.toLowerCase()))) this.concurrency.foreignConflicts += 1;
      else this.concurrency.overlaps += 1;
      throw new ServiceError(409, CONFLICT_CODE, CONFLICT_MESSAGE);
    }
    if (existing !== undefined) {
      this.cancel(existing);
      // Its create operation ends here at the latest; remembered as it ended, the replaced command can be freed.
      this.operation(existing.operationId);
    }
    const record: RunCommandRecord = {
      device,
      name,
      input: withSharedScript(input),
      fingerprint,
      submittedAt: this.clock.now(),
      operationId: nextOperationId(),
    };
    this.commands(device).set(name.toLowerCase(), record);
    this.operations.set(record.operationId, { record, kind: "create" });
    const inFlight = this.list(device).filter((r) => IN_FLIGHT.has(this.view(r).executionState)).length;
    this.concurrency.maxInFlight = Math.max(this.concurrency.maxInFlight, inFlight);
    return { record, created: true };
  }

  /** The command by name, unless it has been deleted. */
  find(device: SimulatedDevice, name: string): RunCommandRecord | undefined {
    const record = this.commands(device).get(name.toLowerCase());
    if (record?.deleteAt !== undefined && record.deleteAt <= this.clock.now()) {
      this.commands(device).delete(name.toLowerCase());
      return undefined;
    }
    return record;
  }

  /** Every live command on a device, oldest first. */
  list(device: SimulatedDevice): RunCommandRecord[] {
    this.advance(device);
    return [...this.commands(device).values()]
      .map((record) => this.find(device, record.name))
      .filter((record): record is RunCommandRecord => record !== undefined)
      .sort((a, b) => a.submittedAt.getTime() - b.submittedAt.getTime());
  }

  /**
   * DELETE: a finished command disappears at once (`gone`); an unfinished one is cancelled and disappears after
   * `deleteDelayMs` (`deleting`, with an operation to poll); `missing` when there is nothing to delete.
   */
  delete(
    device: SimulatedDevice,
    name: string,
  ): { status: "gone" | "missing" } | { status: "deleting"; operationId: string } {
    this.advance(device);
    const record = this.find(device, name);
    if (record === undefined) return { status: "missing" };
    if (record.deleteOperationId !== undefined) return { status: "deleting", operationId: record.deleteOperationId };
    const state = this.view(record).executionState;
    if (state === "Succeeded" || state === "Failed" || state === "TimedOut" || state === "Canceled") {
      this.commands(device).delete(name.toLowerCase());
      return { status: "gone" };
    }
    this.cancel(record);
    record.deleteAt = at(this.clock.now(), this.timing.deleteDelayMs);
    record.deleteOperationId = nextOperationId();
    this.operations.set(record.deleteOperationId, { record, kind: "delete" });
    return { status: "deleting", operationId: record.deleteOperationId };
  }

  /** Status of an Azure-AsyncOperation id; an ended one is remembered as it ended (its status stays final). */
  operation(id: string): OperationStatus | undefined {
    const op = this.operations.get(id);
    if (op === undefined || !("kind" in op)) return op;
    const status = this.statusOf(op);
    if (status.endTime !== null) this.operations.set(id, status);
    return status;
  }

  private statusOf({ record, kind }: PendingOperation): OperationStatus {
    const now = this.clock.now();
    const ended = (status: OperationStatus["status"], error?: string): OperationStatus => ({
      status,
      startTime: record.submittedAt,
      endTime: status === "InProgress" ? null : now,
      ...(error === undefined ? {} : { error }),
    });
    if (kind === "delete")
      return ended(record.deleteAt !== undefined && record.deleteAt <= now ? "Succeeded" : "InProgress");
    const view = this.view(record);
    if (view.provisioningState === "Creating") return ended("InProgress");
    if (view.provisioningState === "Failed") return ended("Failed", view.executionMessage || view.executionState);
    if (view.provisioningState === "Canceled" || view.provisioningState === "Deleting") return ended("Canceled");
    return ended("Succeeded");
  }

  /** Starts (executes) every command of this device whose start time has passed, in start order. */
  advance(device: SimulatedDevice): void {
    const due = [...this.commands(device).values()]
      .filter((record) => record.result === undefined && record.canceledAt === undefined)
      .map((record) => ({ record, start: this.startOf(record) }))
      .filter(
        (entry): entry is { record: RunCommandRecord; start: Date } =>
          entry.start !== null && entry.start <= this.clock.now(),
      )
      .sort((a, b) => a.start.getTime() - b.start.getTime());
    for (const { record, start } of due) this.execute(record, start);
  }

  /** The instance view now. Side effects: may execute the script, and starts writing the blobs once terminal. */
  view(record: RunCommandRecord): RunCommandView {
    const view = this.compute(record);
    const terminal =
      view.executionState !== "Unknown" && view.executionState !== "Pending" && view.executionState !== "Running";
    // The agent kills a script at its timeout: whatever it would have finished later (a hung install) never happens.
    if (
      view.executionState === "TimedOut" &&
      record.result !== undefined &&
      view.endTime !== null &&
      record.timeoutStopped !== true
    ) {
      record.timeoutStopped = true;
      record.device.cancel(record.name, view.endTime);
    }
    if (terminal && record.written === undefined) record.written = this.writeBlobs(record);
    return view;
  }

  /** Resolves once a terminal command's blobs are written (immediately for unfinished ones). */
  async settled(record: RunCommandRecord): Promise<void> {
    await record.written;
  }

  private commands(device: SimulatedDevice): Map<string, RunCommandRecord> {
    let commands = this.byDevice.get(device.name);
    if (commands === undefined) {
      commands = new Map();
      this.byDevice.set(device.name, commands);
    }
    return commands;
  }

  /** When the command starts: the first connected instant after pick-up, or null if that is never / too late. */
  private startOf(record: RunCommandRecord): Date | null {
    if (record.startAt !== undefined) return record.startAt;
    const pickup = at(record.submittedAt, this.timing.agentPickupMs);
    // Resolved only once pick-up has happened, so reboots and disconnects caused by earlier commands are seen.
    if (this.clock.now() < pickup) return null;
    const start = record.device.nextConnectedAt(pickup) ?? null;
    const deadline = this.waitDeadline(record);
    record.startAt = start !== null && deadline !== null && start >= deadline ? null : start;
    return record.startAt;
  }

  /** A command that never starts times out `timeoutInSeconds` after submission (0 = waits for ever). */
  private waitDeadline(record: RunCommandRecord): Date | null {
    return record.input.timeoutInSeconds > 0 ? at(record.submittedAt, record.input.timeoutInSeconds * 1000) : null;
  }

  private execute(record: RunCommandRecord, startedAt: Date): void {
    record.result = record.device.execute({
      runCommandName: record.name,
      script: record.input.script,
      parameters: record.input.parameters,
      startedAt,
      timeoutInSeconds: record.input.timeoutInSeconds,
    });
  }

  private cancel(record: RunCommandRecord): void {
    if (record.canceledAt !== undefined) return;
    const view = this.compute(record);
    if (view.executionState !== "Unknown" && view.executionState !== "Pending" && view.executionState !== "Running")
      return;
    record.canceledAt = this.clock.now();
    if (record.result !== undefined) record.device.cancel(record.name, record.canceledAt);
  }

  private compute(record: RunCommandRecord): RunCommandView {
    const now = this.clock.now();
    const base = { exitCode: null, startTime: null, endTime: null, output: "", error: "", executionMessage: "" };
    const deleting = record.deleteAt !== undefined;
    const pickup = at(record.submittedAt, this.timing.agentPickupMs);
    const canceled = (startTime: Date | null, stdout = "", stderr = ""): RunCommandView => ({
      ...base,
      executionState: "Canceled",
      executionMessage: "The run command was canceled.",
      startTime,
      endTime: record.canceledAt ?? now,
      output: tail(stdout),
      error: tail(stderr),
      provisioningState: deleting ? "Deleting" : "Canceled",
    });
    if (now < pickup) {
      return record.canceledAt !== undefined
        ? canceled(null)
        : { ...base, executionState: "Unknown", provisioningState: "Creating" };
    }
    const start = this.startOf(record);
    const waitDeadline = this.waitDeadline(record);
    if (start === null || now < start || (record.canceledAt !== undefined && record.canceledAt < start)) {
      if (record.canceledAt !== undefined) return canceled(null);
      if (waitDeadline !== null && now >= waitDeadline) {
        return {
          ...base,
          executionState: "TimedOut",
          executionMessage: "The agent did not pick up the run command before its timeout.",
          endTime: waitDeadline,
          provisioningState: deleting ? "Deleting" : "Failed",
        };
      }
      return { ...base, executionState: "Pending", provisioningState: "Creating" };
    }
    if (record.result === undefined) this.advance(record.device);
    const result = record.result;
    if (result === undefined) return canceled(start);
    const timeoutMs = record.input.timeoutInSeconds * 1000;
    const runsFor = result.kind === "hang" ? Infinity : result.durationMs;
    const timesOut = timeoutMs > 0 && runsFor > timeoutMs;
    const end = timesOut ? at(start, timeoutMs) : Number.isFinite(runsFor) ? at(start, runsFor) : null;
    const stdout = result.kind === "failed" ? "" : result.stdout;
    const stderr = result.kind === "failed" ? "" : result.stderr;
    if (record.canceledAt !== undefined && (end === null || record.canceledAt < end))
      return canceled(start, stdout, stderr);
    if (end === null || now < end) {
      return {
        ...base,
        executionState: "Running",
        startTime: start,
        provisioningState: record.input.asyncExecution ? "Succeeded" : "Creating",
      };
    }
    const finished = { startTime: start, endTime: end, output: tail(stdout), error: tail(stderr) };
    const provisioningState = deleting ? "Deleting" : undefined;
    if (timesOut) {
      return {
        ...base,
        ...finished,
        executionState: "TimedOut",
        executionMessage: `The script did not finish within ${record.input.timeoutInSeconds} seconds.`,
        provisioningState: provisioningState ?? "Failed",
      };
    }
    if (result.kind === "failed") {
      return {
        ...base,
        ...finished,
        executionState: "Failed",
        executionMessage: result.message,
        provisioningState: provisioningState ?? "Failed",
      };
    }
    if (result.kind === "hang") throw new Error("unreachable: a hung script either times out or keeps running");
    const blobMessage = record.blobError === undefined ? "" : ` Output upload failed: ${record.blobError}`;
    return {
      ...base,
      ...finished,
      executionState: result.exitCode === 0 ? "Succeeded" : "Failed",
      exitCode: result.exitCode,
      executionMessage: (result.exitCode === 0 ? "" : `Script exited with code ${result.exitCode}.`) + blobMessage,
      provisioningState:
        provisioningState ?? (result.exitCode === 0 || record.input.asyncExecution ? "Succeeded" : "Failed"),
    };
  }

  private async writeBlobs(record: RunCommandRecord): Promise<void> {
    const result = record.result;
    if (result === undefined || result.kind === "failed") return; // never ran / the agent could not run it: no streams
    const uploads: Promise<void>[] = [];
    if (record.input.outputBlobUri !== undefined)
      uploads.push(writeAppendBlob(record.input.outputBlobUri, result.stdout));
    if (record.input.errorBlobUri !== undefined)
      uploads.push(writeAppendBlob(record.input.errorBlobUri, result.stderr));
    try {
      await Promise.all(uploads);
    } catch (error) {
      // The agent reports an upload failure in the execution message; the emulator must not fall over on it.
      record.blobError = error instanceof Error ? error.message : String(error);
    }
  }
}
