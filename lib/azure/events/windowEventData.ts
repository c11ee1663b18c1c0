import { isWindowError } from "../../domain/window/rateControl";
import type { WindowReport } from "../../schemas/window";
import type { EvidenceRef, HaltReason, WindowEventData } from "./eventData";

/**
 * Safety stops that left targets unpatched: a client's rollout past its maxErrors, or a ring gate that kept the
 * later rings from starting. A cutoff is not a halt (the window ran out of time; notStarted counts it).
 */
export function haltReasonsOf(report: WindowReport): HaltReason[] {
  const reasons: HaltReason[] = [];
  for (const ring of report.rings) {
    for (const rollout of ring.rollouts) {
      const stop = rollout.stop;
      if (stop?.kind === "max-errors") {
        reasons.push({
          kind: "max-errors",
          ring: ring.ring,
          client: rollout.client,
          detail: `maxErrors (${stop.maxErrors}) exceeded with ${stop.errors} errors`,
        });
      } else if (stop?.kind === "ring-gate") {
        reasons.push({
          kind: "ring-gate",
          ring: ring.ring,
          client: rollout.client,
          detail: `ring ${stop.ring} gate closed with ${stop.failures} failures`,
        });
      }
    }
    if (!ring.started && ring.reason !== undefined && /gate closed/.test(ring.reason)) {
      reasons.push({ kind: "ring-gate", ring: ring.ring, detail: `not started: ${ring.reason}` });
    }
  }
  return reasons;
}

/** The `data` of a window occurrence's events, from its stored window-report.json. */
export function assembleWindowEventData(report: WindowReport, stored: EvidenceRef): WindowEventData {
  const outcomes = report.rings.flatMap((r) => r.rollouts.flatMap((x) => x.outcomes));
  const haltReasons = haltReasonsOf(report);
  return {
    schemaVersion: 1,
    tenant: report.tenant,
    windowId: report.windowId,
    occurrence: report.occurrence,
    startedBy: report.startedBy,
    finishedAt: report.finishedAt,
    halted: haltReasons.length > 0,
    haltReasons,
    totals: {
      ...report.totals,
      succeeded: outcomes.filter((o) => o.status === "completed" && o.result?.exitCode === 0).length,
      failed: outcomes.filter((o) =>
        o.status === "completed"
          ? o.result !== undefined && isWindowError(o.result.exitCode)
          : o.status === "orchestration-failed",
      ).length,
    },
    decisions: report.decisions,
    report: stored,
  };
}
