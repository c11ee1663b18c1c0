// Where a device run's history events go (issue 22): episodes, activity calls by name, timers, and per advance call
// the stage it looked at and whether it found the command still running. Read from the histories the local Durable
// host stored; prints nothing itself (bench/window.ts prints the lines).
import { EventType, type StoredEvent } from "../local/durable/historyEvent";

/** Totals over many device runs; divide by `runs` for per-run figures. */
export interface HistoryBreakdown {
  runs: number;
  events: number;
  episodes: number;
  timers: number;
  activities: Record<string, number>;
  /** advanceDeviceRun calls by the stage of the state they were given. */
  advancesByStage: Record<string, number>;
  /** Advances that polled a command and found it still running (the state came back with the next poll). */
  wastedPolls: number;
  /** Advances called with no timer before them (the next look was already due). */
  advancesWithoutTimer: number;
  /** Advances that waited for the agent (rebootWait, installReconnect). */
  agentChecks: number;
  /** How many runs took each sequence of advance calls (by the stage each was given). */
  sequences: Record<string, number>;
  /** Activity calls that failed (each retried by the orchestrator), by activity and the first line of the reason. */
  failures: Record<string, number>;
  /** Advances that completed with the stage they were given and no poll counted (neither a poll nor a move on). */
  sameStageAdvances: number;
}

export function emptyBreakdown(): HistoryBreakdown {
  return {
    runs: 0,
    events: 0,
    episodes: 0,
    timers: 0,
    activities: {},
    advancesByStage: {},
    wastedPolls: 0,
    advancesWithoutTimer: 0,
    agentChecks: 0,
    sequences: {},
    failures: {},
    sameStageAdvances: 0,
  };
}

interface StateLike {
  stage?: string;
  commands?: unknown[];
  pollAttempt?: number;
}

function parse(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Adds one run's history to the totals. */
export function addHistory(totals: HistoryBreakdown, history: readonly StoredEvent[]): void {
  totals.runs += 1;
  totals.events += history.length;
  const scheduled = new Map<number, { name: string; input: unknown }>();
  let lastScheduledWasTimer = false;
  const sequence: string[] = [];
  for (const event of history) {
    switch (event.EventType) {
      case EventType.OrchestratorStarted:
        totals.episodes += 1;
        break;
      case EventType.TimerCreated:
        totals.timers += 1;
        lastScheduledWasTimer = true;
        break;
      case EventType.TaskScheduled: {
        const name = event.Name ?? "?";
        totals.activities[name] = (totals.activities[name] ?? 0) + 1;
        scheduled.set(event.EventId, { name, input: parse(event.Input) });
        if (name === "advanceDeviceRun") {
          if (!lastScheduledWasTimer) totals.advancesWithoutTimer += 1;
          const state = (parse(event.Input) as { state?: StateLike } | undefined)?.state;
          const stage = state?.stage ?? "?";
          sequence.push(stage);
          totals.advancesByStage[stage] = (totals.advancesByStage[stage] ?? 0) + 1;
          if (stage === "rebootWait" || stage === "installReconnect") totals.agentChecks += 1;
        }
        lastScheduledWasTimer = false;
        break;
      }
      case EventType.TaskCompleted: {
        const task = event.TaskScheduledId === undefined ? undefined : scheduled.get(event.TaskScheduledId);
        if (task?.name !== "advanceDeviceRun") break;
        const before = (task.input as { state?: StateLike } | undefined)?.state;
        const after = parse(event.Result) as StateLike | undefined;
        if (
          before !== undefined &&
          after !== undefined &&
          (before.commands?.length ?? 0) > 0 &&
          after.stage === before.stage &&
          (after.pollAttempt ?? 0) > (before.pollAttempt ?? 0)
        )
          totals.wastedPolls += 1;
        else if (before !== undefined && after !== undefined && after.stage === before.stage)
          totals.sameStageAdvances += 1;
        break;
      }
      case EventType.TaskFailed: {
        const task = event.TaskScheduledId === undefined ? undefined : scheduled.get(event.TaskScheduledId);
        const reason = (event.Reason ?? event.Details ?? "?").split("\n")[0]?.slice(0, 160) ?? "?";
        const key = `${task?.name ?? "?"}: ${reason}`;
        totals.failures[key] = (totals.failures[key] ?? 0) + 1;
        break;
      }
    }
  }
  const key = sequence.join(" > ");
  totals.sequences[key] = (totals.sequences[key] ?? 0) + 1;
}

/** The breakdown as printable lines, per device run. */
export function breakdownLines(b: HistoryBreakdown): string[] {
  if (b.runs === 0) return [];
  const per = (n: number): string => (n / b.runs).toFixed(2);
  const list = (record: Record<string, number>): string =>
    Object.entries(record)
      .sort(([, x], [, y]) => y - x)
      .map(([k, n]) => `${k} ${per(n)}`)
      .join(", ");
  return [
    `history per device run: ${per(b.events)} events = ${per(b.episodes)} episodes (x2), ${per(b.timers)} timers (x2), activity calls (x2): ${list(b.activities)}, + start/end`,
    `  advance calls by stage: ${list(b.advancesByStage)}`,
    ...Object.entries(b.sequences)
      .sort(([, x], [, y]) => y - x)
      .slice(0, 4)
      .map(([sequence, n]) => `  ${n} run(s): start > ${sequence || "(no advance)"} > publish`),
    `  polls that found the command still running: ${per(b.wastedPolls)}; agent-status checks: ${per(b.agentChecks)}; advances without a timer before them: ${per(b.advancesWithoutTimer)}; other advances that kept the stage: ${per(b.sameStageAdvances)}`,
    ...Object.entries(b.failures)
      .sort(([, x], [, y]) => y - x)
      .slice(0, 6)
      .map(([reason, n]) => `  ${n} failed activity call(s), retried: ${reason}`),
  ];
}
