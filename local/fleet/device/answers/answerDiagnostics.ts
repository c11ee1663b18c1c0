import type { DiagnosticsData } from "../../../../lib/schemas/device/diagnostics";
import type { DiagnosticsParams } from "../../../../lib/schemas/device/parameters";
import { iso, type Answer, type AnswerContext } from "./answer";

const DURATION_MS = { windows: 15_000, linux: 6_000 } as const;

/**
 * `diagnostics`: Critical/Error events and update-agent errors since `SinceUtc` (newest first, at most MaxEvents),
 * services that terminated since boot, and disks.
 */
export function answerDiagnostics({ state, startedAt: t }: AnswerContext, params: DiagnosticsParams): Answer {
  const since = Date.parse(params.since);
  const max = params.maxEvents ?? 100;
  const events = state
    .events(t)
    .filter((e) => e.time >= since && e.level !== "Warning")
    .reverse()
    .slice(0, max);
  const data: DiagnosticsData = {
    collectedAt: iso(t),
    eventLogErrors: events.map((e) => ({
      log: e.log,
      source: e.source,
      id: e.id,
      level: e.level,
      time: iso(e.time),
      message: e.message,
    })),
    updateAgentErrors: state
      .updateAgentErrors(t)
      .filter((e) => e.time >= since)
      .reverse()
      .slice(0, max)
      .map((e) => ({ time: iso(e.time), hresult: e.hresult, message: e.message })),
    // A service an update stopped terminated unexpectedly once (Windows SCM 7034; systemd counts the failed start).
    serviceRestarts: [
      ...new Set(state.activeBreaks(t).flatMap((b) => (b.brk.stopsService === undefined ? [] : [b.brk.stopsService]))),
    ].map((service) => ({ service, restarts: 1 })),
    disks: state.disks(t),
  };
  return { data, errors: [], durationMs: DURATION_MS[state.profile.os] };
}
