import type { OrchestrationContext, OrchestrationHandler } from "durable-functions";
import { groupRing, ringGate, windowTotals } from "../lib/domain/window/summarizeWindow";
import {
  WindowRunInputSchema,
  type ClientRolloutInput,
  type ClientRolloutResult,
  type WindowReport,
} from "../lib/schemas/window";
import type { ReleaseAllowance } from "../lib/schemas/release";
import { ORCHESTRATORS } from "./activityNames";
import { callActivity } from "./callActivity";
import { ControlChannel } from "./runControl";
import type { ControlLogEntry } from "../lib/schemas/control";
import { promoteRelease } from "./promoteRelease";

/** What the window returns: where its report is and the totals (the report itself is evidence, not state). */
export interface WindowRunResult {
  reportPath: string;
  totals: WindowReport["totals"];
  decisions: string[];
  /** Why window.completed / window.halted could not be published (after retries); absent when they were. */
  eventsError?: string;
}

/** The report's control log: every command as each orchestration applied it, in the order applied. */
function controlLogOf(own: ControlLogEntry[], rollouts: ControlLogEntry[]): { control?: ControlLogEntry[] } {
  const all = [...own, ...rollouts].sort((a, b) =>
    a.appliedAt < b.appliedAt ? -1 : a.appliedAt > b.appliedAt ? 1 : a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : 0,
  );
  return all.length === 0 ? {} : { control: all };
}

/**
 * One occurrence of a maintenance window: discover targets by tags, then ring by ring (dev, staging, prod), each
 * client's devices as a rollout sub-orchestration with rate control; a ring that produced install failures or
 * regressions (or more failures than its share) stops the later rings. Ends with window-report.json as evidence and
 * the window's CloudEvents.
 */
export const maintenanceWindow: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = WindowRunInputSchema.parse(context.df.getInput());
  const { window, occurrence } = input;
  const decisions: string[] = [];
  const found = yield* callActivity(context, "discoverWindowTargets", {
    tenant: window.tenant,
    windowId: window.id,
    clients: window.clients,
    targetTags: window.targetTags,
    rings: window.rings.map((r) => r.name),
  });
  decisions.push(`${found.targets.length} devices targeted, ${found.skipped.length} tagged resources skipped`);

  const rings: WindowReport["rings"] = [];
  const rolloutControl: ControlLogEntry[] = [];
  let stopped: string | undefined;
  // Pause / resume / cancel (orchestrators/runControl.ts): the window applies them between rings, its rollouts
  // between waves (the API raises each command to both).
  const control = new ControlChannel(context, "window");
  let cancelled = false;
  for (const [index, ring] of window.rings.entries()) {
    const byClient = groupRing(found.targets, ring.name);
    // A ring that does not start still lists its devices, so the report accounts for every target.
    const notStarted = (reason: string): ClientRolloutResult[] =>
      [...byClient.entries()].map(([client, targets]) => ({
        client,
        ring: ring.name,
        limits: { maxConcurrency: 0, maxErrors: 0 },
        outcomes: targets.map((t) => ({
          client,
          ring: ring.name,
          device: t.device.name,
          instanceId: "",
          runId: "",
          status: cancelled ? ("cancelled" as const) : ("not-started" as const),
          reason,
        })),
      }));
    if (stopped !== undefined) {
      rings.push({ ring: ring.name, started: false, reason: stopped, rollouts: notStarted(stopped) });
      continue;
    }
    if (index > 0 && ring.waitAfterPreviousMinutes > 0) {
      yield context.df.createTimer(
        new Date(context.df.currentUtcDateTime.getTime() + ring.waitAfterPreviousMinutes * 60_000),
      );
    }
    if ((yield* control.checkpoint(new Date(occurrence.cutoff))) === "cancelled") {
      const by = control.cancelledBy;
      cancelled = true;
      stopped = `cancelled by ${by?.by ?? "an operator"} at ${by?.at ?? context.df.currentUtcDateTime.toISOString()}`;
      decisions.push(stopped);
      rings.push({ ring: ring.name, started: false, reason: stopped, rollouts: notStarted(stopped) });
      continue;
    }
    if (context.df.currentUtcDateTime.getTime() >= Date.parse(occurrence.cutoff)) {
      stopped = `window cutoff ${occurrence.cutoff} passed before ring ${ring.name}`;
      decisions.push(stopped);
      rings.push({ ring: ring.name, started: false, reason: stopped, rollouts: notStarted(stopped) });
      continue;
    }
    // A ring following a promoted release (opt-in, docs/releases.md): the gates are evaluated (and sealed) now; a soak
    // that ends before the cutoff is waited for, any other unmet gate holds the ring until the next occurrence.
    let allowance: ReleaseAllowance | undefined;
    const follows = window.release?.follows;
    if (window.release !== undefined && follows !== undefined) {
      const promotion = yield* promoteRelease(context, input, ring.name, follows.ring, window.release.gates);
      decisions.push(...promotion.decisions);
      if (promotion.allowance === undefined) {
        stopped = promotion.held;
        rings.push({ ring: ring.name, started: false, reason: stopped, rollouts: notStarted(stopped) });
        continue;
      }
      allowance = promotion.allowance;
    }
    context.df.setCustomStatus({ window: window.id, ring: ring.name, clients: byClient.size });
    const tasks = [...byClient.entries()].map(([client, targets]) => {
      const rollout: ClientRolloutInput = {
        tenant: window.tenant,
        client,
        ring: ring.name,
        window,
        occurrence,
        devices: targets.map((t) => t.device),
        ...(allowance !== undefined ? { release: allowance } : {}),
      };
      return context.df.callSubOrchestrator(
        ORCHESTRATORS.clientRollout,
        rollout,
        `${occurrence.instanceId}:${ring.name}:${client}`,
      );
    });
    const settled = yield* control.settle<ClientRolloutResult>(tasks);
    const rollouts = settled.map((s, i): ClientRolloutResult => {
      if (s.ok) return s.value;
      // A rollout orchestration that failed: its devices' outcomes are unknown here; say so for each client.
      const client = [...byClient.keys()][i] ?? "unknown";
      decisions.push(`ring ${ring.name}, client ${client}: rollout failed: ${s.error}`);
      return { client, ring: ring.name, limits: { maxConcurrency: 0, maxErrors: 0 }, outcomes: [] };
    });
    rings.push({ ring: ring.name, started: true, rollouts });
    if (window.release !== undefined) {
      // Seal what the ring installed (read back from its runs' evidence) and apply the fleet-wide quarantine rule
      // before any later ring, of this window or another, starts.
      const sealed = yield* callActivity(context, "sealRingRelease", {
        tenant: window.tenant,
        windowId: window.id,
        occurrence: { instanceId: occurrence.instanceId, localDate: occurrence.localDate },
        ring: ring.name,
        targeted: [...byClient.values()].reduce((n, t) => n + t.length, 0),
        runs: rollouts.flatMap((r) => r.outcomes.flatMap((o) => (o.result === undefined ? [] : [o.result.run]))),
        finishedAt: context.df.currentUtcDateTime.toISOString(),
        quarantineAfterClients: window.release.quarantineAfterClients,
      });
      decisions.push(...sealed.decisions);
      if (sealed.quarantineDecisions.length > 0) {
        try {
          yield* callActivity(context, "publishQuarantineEvents", { decisions: sealed.quarantineDecisions });
        } catch (error) {
          // As for runs and windows: the sealed decision stands without its event; the report says it is missing.
          decisions.push(`quarantine events not published: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    }
    for (const r of rollouts) {
      if (r.stop !== undefined)
        decisions.push(`ring ${ring.name}, client ${r.client}: stopped starting devices (${r.stop.kind})`);
      for (const entry of r.control ?? []) rolloutControl.push(entry);
    }
    const gate = ringGate(rollouts, ring.maxFailurePercent);
    if (!gate.open && index < window.rings.length - 1) {
      stopped = `ring ${ring.name} gate closed: ${gate.reason ?? "failures"}`;
      decisions.push(stopped);
    }
  }

  const unalerted = rings
    .flatMap((r) => r.rollouts.flatMap((x) => x.outcomes))
    .filter((o) => o.result?.eventsError !== undefined);
  if (unalerted.length > 0) {
    decisions.push(
      `${unalerted.length} device runs finished without their CloudEvents (publishing failed after retries): ${unalerted.map((o) => o.device).join(", ")}`,
    );
  }

  // A command that came during the last ring had nothing left to act on: still in the log.
  control.drain();
  const report: WindowReport = {
    schemaVersion: 1,
    tenant: window.tenant,
    windowId: window.id,
    occurrence,
    startedBy: input.startedBy,
    finishedAt: context.df.currentUtcDateTime.toISOString(),
    rings,
    skipped: found.skipped,
    decisions,
    ...controlLogOf(control.log, rolloutControl),
    totals: windowTotals(rings, found.targets.length),
  };
  const written = yield* callActivity(context, "writeWindowReport", report);
  const result: WindowRunResult = { reportPath: written.path, totals: report.totals, decisions };
  try {
    yield* callActivity(context, "publishWindowEvents", written);
  } catch (error) {
    // As for runs: the window's evidence stands without its alert; the result says the alert is missing.
    result.eventsError = error instanceof Error ? error.message : String(error);
  }
  return result;
};
