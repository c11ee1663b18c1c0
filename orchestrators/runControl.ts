import type { OrchestrationContext, Task } from "durable-functions";
import { applyControl } from "../lib/domain/control/applyControl";
import { CONTROL_EVENT, ControlCommandSchema, type ControlLogEntry, type ControlState } from "../lib/schemas/control";
import type { Settled } from "./settleAll";

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * The control commands (pause / resume / cancel) of one orchestration, received as Durable external events and
 * applied only at wave boundaries, so a device run that has started always finishes (an install is never cut off).
 *
 * History stays small: one `waitForExternalEvent` task is kept open and listened to together with the first wave
 * (`Task.any([Task.all(wave), control])`), so noticing a command costs nothing per wave or per device. durable-js
 * delivers an event raised while no task waits for it as soon as one is tracked (TaskOrchestrationExecutor's
 * deferred tasks), so nothing is lost between waits; after applying a command, one zero-length timer lets any
 * further command already raised be picked up before the next wave starts. An already scheduled task is never put
 * into a new compound task (that would schedule it again: azure-functions-durable-js#574, see settleAll.ts).
 */
export class ControlChannel {
  private state: ControlState = "running";
  private readonly entries: ControlLogEntry[] = [];
  private task: Task;
  /** The open task has been yielded (the executor tracks it and hands it the next event). */
  private tracked = false;
  /** A command was applied: look for further ones already raised before starting anything. */
  private lookAgain = false;

  /** `onChange` runs after each command is applied (e.g. to show the state in the custom status while paused). */
  constructor(
    private readonly context: OrchestrationContext,
    private readonly scope: string,
    private readonly onChange?: (state: ControlState) => void,
  ) {
    this.task = context.df.waitForExternalEvent(CONTROL_EVENT);
  }

  /** The current state. */
  get current(): ControlState {
    return this.state;
  }

  /** Every command received, in order, with what it did. */
  get log(): ControlLogEntry[] {
    return [...this.entries];
  }

  /** The command that cancelled, when one did. */
  get cancelledBy(): ControlLogEntry | undefined {
    return this.entries.find((e) => e.to === "cancelled" && e.from !== "cancelled");
  }

  /**
   * Waits for a wave of freshly created tasks and reports each one's outcome (like settleAll); listens for control
   * commands meanwhile (they take effect at the next {@link checkpoint}).
   */
  *settle<T>(tasks: readonly Task[]): Generator<Task, Settled<T>[], unknown> {
    if (tasks.length === 0) return [];
    const df = this.context.df;
    if (!this.tracked) {
      // Task.any never throws: it ends with the first child to end (the whole wave, its first failure, or a command).
      yield df.Task.any([df.Task.all([...tasks]), this.task]);
      this.tracked = true;
    } else {
      try {
        yield df.Task.all([...tasks]);
      } catch {
        // Waited for one by one below.
      }
    }
    for (const task of tasks) {
      if (task.isCompleted || task.isFaulted) continue;
      try {
        yield task;
      } catch {
        // Recorded below from the task itself.
      }
    }
    return tasks.map((task) =>
      task.isFaulted ? { ok: false, error: messageOf(task.result) } : { ok: true, value: task.result as T },
    );
  }

  /**
   * At a wave boundary: applies every command received; while paused, waits for the next one (resume or cancel),
   * at most until `deadline` (then returns "paused": the caller's cutoff rule ends the rollout). Returns the state.
   */
  *checkpoint(deadline?: Date): Generator<Task, ControlState, unknown> {
    const df = this.context.df;
    for (;;) {
      if (this.tracked && this.task.isCompleted) {
        this.apply(this.task.result);
        this.onChange?.(this.state);
        this.task = df.waitForExternalEvent(CONTROL_EVENT);
        this.tracked = false;
        this.lookAgain = true;
        continue;
      }
      if (this.state === "cancelled") return this.state;
      if (this.state === "running") {
        if (this.tracked || !this.lookAgain) return this.state;
        // A zero-length timer against the open task: a command already raised completes the task at once.
        const now = df.createTimer(df.currentUtcDateTime);
        yield df.Task.any([this.task, now]);
        this.tracked = true;
        this.lookAgain = false;
        if (!this.task.isCompleted) return this.state;
        if (!now.isCompleted) now.cancel();
        continue;
      }
      // Paused: nothing starts until a command comes (or the deadline passes).
      if (deadline !== undefined && df.currentUtcDateTime.getTime() >= deadline.getTime()) return this.state;
      const timer = deadline === undefined ? undefined : df.createTimer(deadline);
      yield timer === undefined ? this.task : df.Task.any([this.task, timer]);
      this.tracked = true;
      this.lookAgain = false;
      if (!this.task.isCompleted) return this.state;
      if (timer !== undefined && !timer.isCompleted) timer.cancel();
    }
  }

  /**
   * At the end (nothing left to start): records a command that arrived during the last wave without waiting for
   * anything, so the report's control log shows it even though it had nothing left to act on.
   */
  drain(): void {
    if (!this.tracked || !this.task.isCompleted) return;
    this.apply(this.task.result);
    this.onChange?.(this.state);
    this.task = this.context.df.waitForExternalEvent(CONTROL_EVENT);
    this.tracked = false;
  }

  private apply(data: unknown): void {
    const at = this.context.df.currentUtcDateTime.toISOString();
    const parsed = ControlCommandSchema.safeParse(data);
    if (!parsed.success) {
      // Only the API raises this event; anything else is recorded and changes nothing.
      this.entries.push({
        id: "malformed",
        action: "pause",
        at,
        by: "unknown",
        scope: this.scope,
        appliedAt: at,
        from: this.state,
        to: this.state,
        ignored: `malformed control event: ${parsed.error.issues[0]?.message ?? "schema"}`,
      });
      return;
    }
    const command = parsed.data;
    const from = this.state;
    if (this.entries.some((e) => e.id === command.id)) return;
    const { to, ignored } = applyControl(from, command.action);
    this.state = to;
    this.entries.push({
      ...command,
      scope: this.scope,
      appliedAt: at,
      from,
      to,
      ...(ignored === undefined ? {} : { ignored }),
    });
  }
}
