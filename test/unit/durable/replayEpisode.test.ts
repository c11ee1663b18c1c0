import * as df from "durable-functions";
import type { OrchestrationContext } from "durable-functions";
import { checkDeterminism } from "../../../local/durable/checkDeterminism";
import { EventType, type StoredEvent } from "../../../local/durable/historyEvent";
import { replayEpisode, type ReplayRequest } from "../../../local/durable/replayEpisode";

const T = "2026-03-01T22:00:00.000Z";
const started = (at = T): StoredEvent => ({ EventType: EventType.OrchestratorStarted, EventId: -1, Timestamp: at });
const execution: StoredEvent = { EventType: EventType.ExecutionStarted, EventId: -1, Timestamp: T, Name: "o" };

function request(
  handler: ReplayRequest["handler"],
  past: StoredEvent[],
  fresh: StoredEvent[],
  input?: unknown,
): ReplayRequest {
  return {
    handler,
    instanceId: "i-1",
    input,
    past,
    fresh,
    scheduledIds: new Set(
      past
        .filter((e) => e.EventType === EventType.TaskScheduled || e.EventType === EventType.TimerCreated)
        .map((e) => e.EventId),
    ),
    now: new Date(fresh[0]?.Timestamp ?? T),
  };
}

const fanOut = function* (context: OrchestrationContext) {
  const results = (yield context.df.Task.all([0, 1, 2].map((i) => context.df.callActivity("double", i)))) as number[];
  return results;
};

const withRetry = function* (context: OrchestrationContext) {
  const options = new df.RetryOptions(1000, 3);
  options.backoffCoefficient = 3;
  return (yield context.df.callActivityWithRetry("flaky", options, "x")) as string;
};

describe("replayEpisode (hand-built histories through durable-functions' replay code)", () => {
  it("reports a V3 fan-out as one compound action with three new activity tasks", async () => {
    const outcome = await replayEpisode(request(fanOut, [], [started(), execution]));
    expect(outcome.status).toBe("running");
    if (outcome.status !== "running") return;
    expect(outcome.actions).toEqual([0, 1, 2].map(() => ({ kind: "activity", name: "double" })));
    expect(outcome.newTasks).toEqual(
      [0, 1, 2].map((id) => ({ id, kind: "activity", name: "double", input: String(id), retry: false })),
    );
  });

  it("completes once every result is in history", async () => {
    const past = [
      started(),
      execution,
      ...[0, 1, 2].map((id) => ({ EventType: EventType.TaskScheduled, EventId: id, Timestamp: T, Name: "double" })),
    ];
    const fresh = [
      started(),
      ...[2, 0, 1].map((id) => ({
        EventType: EventType.TaskCompleted,
        EventId: -1,
        Timestamp: T,
        TaskScheduledId: id,
        Result: String(id * 2),
      })),
    ];
    const outcome = await replayEpisode(request(fanOut, past, fresh));
    expect(outcome).toMatchObject({ status: "completed", output: [0, 2, 4] });
  });

  it("asks for a backoff timer after a failed attempt, then for the next attempt", async () => {
    const failedAt = "2026-03-01T22:00:05.000Z";
    const past = [
      started(),
      execution,
      { EventType: EventType.TaskScheduled, EventId: 0, Timestamp: T, Name: "flaky", Input: '"x"' },
    ];
    const failed: StoredEvent = {
      EventType: EventType.TaskFailed,
      EventId: -1,
      Timestamp: failedAt,
      TaskScheduledId: 0,
      FailureDetails: { ErrorType: "Error", ErrorMessage: "nope" },
    };
    const first = await replayEpisode(request(withRetry, past, [started(failedAt), failed]));
    expect(first).toMatchObject({
      status: "running",
      newTasks: [{ id: 1, kind: "timer", retry: true, fireAt: new Date("2026-03-01T22:00:06.000Z") }],
    });

    const past2 = [
      ...past,
      started(failedAt),
      failed,
      {
        EventType: EventType.TimerCreated,
        EventId: 1,
        Timestamp: failedAt,
        FireAt: "2026-03-01T22:00:06.000Z",
        Retry: true,
      },
    ];
    const fired: StoredEvent = {
      EventType: EventType.TimerFired,
      EventId: -1,
      Timestamp: "2026-03-01T22:00:06.000Z",
      TimerId: 1,
      FireAt: "2026-03-01T22:00:06.000Z",
    };
    const second = await replayEpisode(request(withRetry, past2, [started("2026-03-01T22:00:06.000Z"), fired]));
    expect(second).toMatchObject({
      status: "running",
      newTasks: [{ id: 2, kind: "activity", name: "flaky", input: '"x"', retry: true }],
    });
  });

  it("reports an orchestrator's uncaught error with its type and message", async () => {
    const throwing = function* (): Generator<never, never, unknown> {
      yield* [];
      throw new TypeError("bad input");
    };
    const outcome = await replayEpisode(request(throwing, [], [started(), execution]));
    expect(outcome).toMatchObject({ status: "failed", failure: { ErrorType: "TypeError", ErrorMessage: "bad input" } });
  });
});

describe("replayEpisode: actions the local host does not run", () => {
  it("fails an orchestrator that calls an entity, naming what is missing", async () => {
    const callsEntity = function* (context: OrchestrationContext) {
      return (yield context.df.callEntity(new df.EntityId("counter", "k"), "add", 1)) as number;
    };
    const outcome = await replayEpisode(request(callsEntity, [], [started(), execution]));
    expect(outcome).toMatchObject({ status: "failed", failure: { ErrorType: "NotSupportedError" } });
  });
});

describe("checkDeterminism", () => {
  const scheduled = (id: number, name: string, retry = false): StoredEvent => ({
    EventType: EventType.TaskScheduled,
    EventId: id,
    Timestamp: T,
    Name: name,
    ...(retry ? { Retry: true } : {}),
  });

  it("accepts a replay that asks for what history recorded, skipping retry-policy events", () => {
    const history = [
      scheduled(0, "a"),
      { EventType: EventType.TimerCreated, EventId: 1, Timestamp: T, FireAt: T, Retry: true },
      scheduled(2, "a", true),
      scheduled(3, "b"),
    ];
    expect(
      checkDeterminism(
        [
          { kind: "activity", name: "a" },
          { kind: "event", name: "e" },
          { kind: "activity", name: "b" },
        ],
        history,
      ),
    ).toBeUndefined();
  });

  it("names the task that changed", () => {
    expect(checkDeterminism([{ kind: "activity", name: "c" }], [scheduled(0, "a")])).toMatch(
      /sequence ID 0 and name 'a'.*'c'/,
    );
  });

  it("notices a task the replay no longer schedules", () => {
    expect(checkDeterminism([], [scheduled(0, "a")])).toMatch(/hasn't \(yet\?\) scheduled this task/);
  });

  it("notices a timer whose fire time moved (wall-clock reads)", () => {
    const history: StoredEvent[] = [
      { EventType: EventType.TimerCreated, EventId: 0, Timestamp: T, FireAt: "2026-03-01T23:00:00.000Z" },
    ];
    expect(checkDeterminism([{ kind: "timer", fireAt: "2026-03-01T23:00:00.001Z" }], history)).toMatch(/durable timer/);
    expect(checkDeterminism([{ kind: "timer", fireAt: "2026-03-01T23:00:00.000Z" }], history)).toBeUndefined();
  });
});
