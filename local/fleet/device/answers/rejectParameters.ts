import type { ScriptId } from "../../../../lib/schemas/device/envelope";
import { iso, type Answer, type AnswerContext } from "./answer";

/**
 * What a script prints when it refuses its parameters: the smallest valid `data` (nothing done, sections null) and
 * an error in section "parameters", as the real scripts do before touching the device.
 */
export function rejectParameters({ state, startedAt: t }: AnswerContext, scriptId: ScriptId, message: string): Answer {
  const now = iso(t);
  const p = state.profile;
  const data: Record<ScriptId, Record<string, unknown>> = {
    baseline: {
      capturedAt: now,
      os: null,
      installedUpdates: null,
      updateHistory: null,
      services: null,
      drivers: null,
      apps: null,
      pendingReboot: null,
      lastBootTime: null,
      disks: null,
    },
    catalog: { searchedAt: now, agent: p.packageManager, simulate: false, updates: null },
    install: { startedAt: now, finishedAt: now, results: [], rebootRequired: state.pendingReboot(t).pending },
    reboot: {
      bootTimeBefore: iso(state.timeline.lastBootAt(t).at),
      scheduledAt: now,
      delaySeconds: 0,
      method: p.os === "windows" ? "shutdown.exe" : "systemd-run",
      scheduled: false,
    },
    validate: { startedAt: now, finishedAt: now, results: [] },
    diagnostics: { collectedAt: now, eventLogErrors: null, updateAgentErrors: null, disks: null },
    gates: { startedAt: now, finishedAt: now, probes: null },
    hooks: { startedAt: now, finishedAt: now, actions: null },
    uninstall: { startedAt: now, finishedAt: now, results: [], rebootRequired: state.pendingReboot(t).pending },
  };
  return {
    data: data[scriptId],
    errors: [{ section: "parameters", message, code: "invalid-parameter" }],
    durationMs: 500,
  };
}
