import type { ClientRolloutResult, WindowReport, WindowTarget } from "../../schemas/window";
import { failsRingGate, isWindowError } from "./rateControl";

/** Targets of one ring, grouped by client (sorted, so replays and reports are stable). */
export function groupRing(targets: readonly WindowTarget[], ring: string): Map<string, WindowTarget[]> {
  const byClient = new Map<string, WindowTarget[]>();
  for (const t of [...targets]
    .filter((x) => x.ring === ring)
    .sort((a, b) => a.client.localeCompare(b.client) || a.device.name.localeCompare(b.device.name))) {
    byClient.set(t.client, [...(byClient.get(t.client) ?? []), t]);
  }
  return byClient;
}

/** Whether a finished ring lets the next one start: no install failure or regression, failures within its share. */
export function ringGate(
  rollouts: readonly ClientRolloutResult[],
  maxFailurePercent: number,
): { open: boolean; failures: number; reason?: string } {
  const outcomes = rollouts
    .flatMap((r) => r.outcomes)
    .filter((o) => o.status !== "not-started" && o.status !== "cancelled");
  const code = (o: (typeof outcomes)[number]) =>
    o.status === "completed" && o.result !== undefined ? o.result.exitCode : "orchestration-failed";
  const gating = outcomes.filter((o) => failsRingGate(code(o)));
  const failures = outcomes.filter((o) => isWindowError(code(o))).length;
  if (gating.length > 0) {
    return {
      open: false,
      failures,
      reason: `install failures or regressions on ${gating.map((o) => o.device).join(", ")}`,
    };
  }
  const share = outcomes.length === 0 ? 0 : (failures * 100) / outcomes.length;
  if (share > maxFailurePercent)
    return {
      open: false,
      failures,
      reason: `${failures} of ${outcomes.length} devices failed (${share.toFixed(0)}% > ${maxFailurePercent}%)`,
    };
  return { open: true, failures };
}

/** Totals for the window report. */
export function windowTotals(rings: WindowReport["rings"], targets: number): WindowReport["totals"] {
  const outcomes = rings.flatMap((r) => r.rollouts.flatMap((x) => x.outcomes));
  const byExitCode: Record<string, number> = {};
  for (const o of outcomes) {
    if (o.status === "completed" && o.result !== undefined)
      byExitCode[String(o.result.exitCode)] = (byExitCode[String(o.result.exitCode)] ?? 0) + 1;
  }
  const completed = outcomes.filter((o) => o.status === "completed").length;
  const orchestrationFailed = outcomes.filter((o) => o.status === "orchestration-failed").length;
  // Cancelled devices are among the not started ones; counted apart only when an operator cancelled.
  const cancelled = outcomes.filter((o) => o.status === "cancelled").length;
  return {
    targets,
    completed,
    orchestrationFailed,
    notStarted: targets - completed - orchestrationFailed,
    ...(cancelled > 0 ? { cancelled } : {}),
    byExitCode,
  };
}
