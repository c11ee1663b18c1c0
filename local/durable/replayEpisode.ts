import type { OrchestrationHandler } from "durable-functions";
import { ReplaySchema } from "durable-functions/lib/src/orchestrations/ReplaySchema";
import {
  createOrchestrator,
  DummyOrchestrationContext,
  DurableOrchestrationInput,
} from "durable-functions/lib/src/util/testingUtils";
import { z } from "zod";
import { failureDetailsSchema, toSdkEvent, type FailureDetails, type StoredEvent } from "./historyEvent";

/**
 * The replay schema the host announces. V3 is what the Durable extension (bundle 4.x) negotiates with the JS SDK:
 * Task.all / Task.any arrive as compound actions, so the host sees the orchestrator's structure. See
 * docs/local-durable-host.md.
 */
export const REPLAY_SCHEMA = ReplaySchema.V3;

// Timers longer than this are split by the SDK into a chain of shorter ones (an Azure Storage limit). Locally there
// is no such limit, so the threshold is set out of reach and every timer is one TimerCreated / TimerFired pair.
const MAXIMUM_SHORT_TIMER = "3650.00:00:00";
const LONG_TIMER_INTERVAL = "3650.00:00:00";
const HTTP_POLL_MS = 30_000;

/** Action types as the SDK's ActionType enum numbers them. */
const ActionType = {
  CallActivity: 0,
  CallActivityWithRetry: 1,
  CallSubOrchestrator: 2,
  CallSubOrchestratorWithRetry: 3,
  ContinueAsNew: 4,
  CreateTimer: 5,
  WaitForExternalEvent: 6,
  WhenAny: 11,
  WhenAll: 12,
} as const;

/** One leaf action of the orchestrator, in the order the code first yielded it (compound actions flattened). */
export type FlatAction =
  | { kind: "activity"; name: string }
  | { kind: "subOrchestration"; name: string; instanceId?: string | undefined }
  | { kind: "timer"; fireAt: string }
  | { kind: "event"; name: string }
  | { kind: "continueAsNew" }
  | { kind: "unsupported"; actionType: number };

/** A task the orchestrator is waiting on that has no scheduled event in history yet. */
export type NewTask =
  | { id: number; kind: "activity"; name: string; input: string | undefined; retry: boolean }
  | {
      id: number;
      kind: "subOrchestration";
      name: string;
      input: string | undefined;
      instanceId: string | undefined;
      retry: boolean;
    }
  | { id: number; kind: "timer"; fireAt: Date; retry: boolean };

/** What one episode of an orchestrator decided. */
export type EpisodeOutcome = { actions: FlatAction[]; customStatus: unknown } & (
  | { status: "running"; newTasks: NewTask[] }
  | { status: "completed"; output: unknown }
  | { status: "continuedAsNew"; input: unknown }
  | { status: "failed"; failure: FailureDetails }
);

// The shapes the SDK returns, checked at this boundary because they come from outside our types.
const actionSchema: z.ZodType<RawAction> = z.looseObject({
  actionType: z.number(),
  functionName: z.string().optional(),
  instanceId: z.string().optional(),
  externalEventName: z.string().optional(),
  fireAt: z.union([z.string(), z.date()]).optional(),
  input: z.unknown().optional(),
  get compoundActions() {
    return z.array(actionSchema).optional();
  },
});
interface RawAction {
  actionType: number;
  functionName?: string | undefined;
  instanceId?: string | undefined;
  externalEventName?: string | undefined;
  fireAt?: string | Date | undefined;
  input?: unknown;
  compoundActions?: RawAction[] | undefined;
}
const stateSchema = z.looseObject({
  isDone: z.boolean(),
  actions: z.array(z.array(actionSchema)),
  output: z.unknown().optional(),
  error: z.string().optional(),
  customStatus: z.unknown().optional(),
  failureDetails: failureDetailsSchema.optional(),
});
const OUT_OF_PROC_LABEL = "\n\n$OutOfProcData$:";

/** The pieces of the SDK's executor the host reads after a replay: tasks awaiting an event, the thrown error. */
interface ExecutorView {
  openTasks: Record<string, TaskView>;
  exception: unknown;
}
interface TaskView {
  id: number | string | false;
  action: unknown;
  parent?: { retryOptions?: RetryOptionsView; isWaitingOnTimer?: boolean; attemptNumber?: number; action?: unknown };
}
interface RetryOptionsView {
  firstRetryIntervalInMilliseconds: number;
  backoffCoefficient?: number;
  maxRetryIntervalInMilliseconds?: number;
}

/** Raised when durable-functions' internals no longer look like 3.5.0's (the host reads its executor). */
export class SdkShapeError extends Error {
  constructor(what: string) {
    super(`durable-functions internals changed (${what}); the local host is written against durable-functions 3.5.0`);
    this.name = "SdkShapeError";
  }
}

function executorOf(context: DummyOrchestrationContext): ExecutorView {
  const df = context.df as { taskOrchestratorExecutor?: { openTasks?: unknown; exception?: unknown } } | undefined;
  const executor = df?.taskOrchestratorExecutor;
  if (!executor || typeof executor.openTasks !== "object" || executor.openTasks === null) {
    throw new SdkShapeError("context.df.taskOrchestratorExecutor.openTasks");
  }
  return executor as ExecutorView;
}

function flatten(actions: RawAction[], into: FlatAction[] = []): FlatAction[] {
  for (const action of actions) {
    switch (action.actionType) {
      case ActionType.WhenAll:
      case ActionType.WhenAny:
        flatten(action.compoundActions ?? [], into);
        break;
      case ActionType.CallActivity:
      case ActionType.CallActivityWithRetry:
        into.push({ kind: "activity", name: action.functionName ?? "" });
        break;
      case ActionType.CallSubOrchestrator:
      case ActionType.CallSubOrchestratorWithRetry:
        into.push({ kind: "subOrchestration", name: action.functionName ?? "", instanceId: action.instanceId });
        break;
      case ActionType.CreateTimer:
        into.push({ kind: "timer", fireAt: new Date(action.fireAt ?? 0).toISOString() });
        break;
      case ActionType.WaitForExternalEvent:
        into.push({ kind: "event", name: action.externalEventName ?? "" });
        break;
      case ActionType.ContinueAsNew:
        into.push({ kind: "continueAsNew" });
        break;
      default:
        into.push({ kind: "unsupported", actionType: action.actionType });
    }
  }
  return into;
}

/** Activity inputs are JSON in history; the SDK pre-stringifies string inputs (Utils.processInput). */
function inputJson(action: RawAction, preStringified: boolean): string | undefined {
  if (action.input === undefined) return undefined;
  if (preStringified && typeof action.input === "string") return action.input;
  return JSON.stringify(action.input);
}

function retryDelayMs(options: RetryOptionsView, attemptNumber: number): number {
  // Same formula as DurableTask.Core's RetryInterceptor: first * coefficient^(failed attempts - 1), capped.
  const failedBefore = attemptNumber - 2;
  const delay = options.firstRetryIntervalInMilliseconds * Math.pow(options.backoffCoefficient ?? 1, failedBefore);
  const cap = options.maxRetryIntervalInMilliseconds;
  return cap !== undefined && cap > 0 ? Math.min(delay, cap) : delay;
}

function newTaskOf(task: TaskView, id: number, now: Date): NewTask | undefined {
  const parent = task.parent;
  if (task.action === "noOp" && parent?.retryOptions !== undefined) {
    if (parent.isWaitingOnTimer) {
      const fireAt = new Date(now.getTime() + retryDelayMs(parent.retryOptions, parent.attemptNumber ?? 2));
      return { id, kind: "timer", fireAt, retry: true };
    }
    return scheduledActionTask(actionSchema.parse(parent.action), id, true);
  }
  return scheduledActionTask(actionSchema.parse(task.action), id, false);
}

function scheduledActionTask(action: RawAction, id: number, retry: boolean): NewTask | undefined {
  switch (action.actionType) {
    case ActionType.CallActivity:
    case ActionType.CallActivityWithRetry:
      return { id, kind: "activity", name: action.functionName ?? "", input: inputJson(action, true), retry };
    case ActionType.CallSubOrchestrator:
    case ActionType.CallSubOrchestratorWithRetry:
      return {
        id,
        kind: "subOrchestration",
        name: action.functionName ?? "",
        input: inputJson(action, false),
        instanceId: action.instanceId,
        retry,
      };
    case ActionType.CreateTimer:
      return { id, kind: "timer", fireAt: new Date(action.fireAt ?? 0), retry };
    default:
      return undefined;
  }
}

/** Inputs of one replay. */
export interface ReplayRequest {
  handler: OrchestrationHandler;
  instanceId: string;
  parentInstanceId?: string | undefined;
  input: unknown;
  /** Events already processed in earlier episodes. */
  past: readonly StoredEvent[];
  /** This episode's events: OrchestratorStarted first, then the messages that arrived. */
  fresh: readonly StoredEvent[];
  /** Ids of TaskScheduled / TimerCreated / SubOrchestrationInstanceCreated events already in history. */
  scheduledIds: ReadonlySet<number>;
  now: Date;
  log?: (level: string, ...args: unknown[]) => void;
}

function errorDetails(error: unknown): FailureDetails {
  if (error instanceof Error) {
    return { ErrorType: error.name, ErrorMessage: error.message, StackTrace: error.stack, IsNonRetriable: false };
  }
  return { ErrorType: "Error", ErrorMessage: String(error), IsNonRetriable: false };
}

/**
 * Replays an orchestrator through durable-functions' own code path (createOrchestrator → Orchestrator.handle →
 * TaskOrchestrationExecutor) against the given history and reports what it decided.
 */
export async function replayEpisode(request: ReplayRequest): Promise<EpisodeOutcome> {
  const history = [
    ...request.past.map((e) => toSdkEvent(e, true)),
    ...request.fresh.map((e) => toSdkEvent(e, false)),
  ].filter((e) => e !== undefined);
  const trigger = new DurableOrchestrationInput(
    request.instanceId,
    history,
    request.input,
    LONG_TIMER_INTERVAL,
    MAXIMUM_SHORT_TIMER,
    HTTP_POLL_MS,
    REPLAY_SCHEMA,
    false,
    request.parentInstanceId ?? "",
  );
  const context = new DummyOrchestrationContext(
    request.instanceId,
    request.instanceId,
    request.log ?? (() => undefined),
  );
  const run = createOrchestrator(request.handler);

  let rawState: unknown;
  let thrown: unknown;
  try {
    rawState = await run(trigger, context);
  } catch (error) {
    thrown = error;
  }

  if (thrown !== undefined) {
    // The SDK reports an orchestrator failure by throwing OrchestrationFailureError, whose message carries the
    // orchestrator state after a fixed label. Anything else is a fault of the host or the SDK, not of user code.
    if (!(thrown instanceof Error)) throw new Error(`the orchestrator threw a non-error: ${JSON.stringify(thrown)}`);
    const message = thrown.message;
    const at = message.indexOf(OUT_OF_PROC_LABEL);
    if (at < 0) throw thrown;
    const state = stateSchema.parse(JSON.parse(message.slice(at + OUT_OF_PROC_LABEL.length)));
    const exception = executorOf(context).exception;
    const failure = state.failureDetails ?? errorDetails(exception ?? new Error(state.error ?? "orchestrator failed"));
    return { status: "failed", failure, actions: flatten(state.actions.flat()), customStatus: state.customStatus };
  }

  const state = stateSchema.parse(rawState);
  const actions = flatten(state.actions.flat());
  if (state.isDone) {
    const continueAs = state.actions.flat().find((a) => a.actionType === ActionType.ContinueAsNew);
    if (continueAs !== undefined) {
      const input = typeof continueAs.input === "string" ? (JSON.parse(continueAs.input) as unknown) : continueAs.input;
      return { status: "continuedAsNew", input, actions, customStatus: state.customStatus };
    }
    return { status: "completed", output: state.output, actions, customStatus: state.customStatus };
  }

  const newTasks: NewTask[] = [];
  for (const [key, task] of Object.entries(executorOf(context).openTasks)) {
    const id = Number(key);
    if (!Number.isInteger(id) || request.scheduledIds.has(id)) continue;
    const newTask = newTaskOf(task, id, request.now);
    if (newTask === undefined) {
      return {
        status: "failed",
        failure: {
          ErrorType: "NotSupportedError",
          ErrorMessage: `the local Durable host does not run this action (task ${id}); entities and callHttp need Azure`,
        },
        actions,
        customStatus: state.customStatus,
      };
    }
    newTasks.push(newTask);
  }
  newTasks.sort((a, b) => a.id - b.id);
  return { status: "running", newTasks, actions, customStatus: state.customStatus };
}
