import type { RebootParams } from "../../../../lib/schemas/device/parameters";
import type { RebootData } from "../../../../lib/schemas/device/reboot";
import { takeRebootMarker } from "../rebootMarkers";
import { iso, type Answer, type AnswerContext } from "./answer";

const SCRIPT_MS = 2_000;
/** No marker: the script only looks for it and prints its document. */
const NOT_REQUESTED_MS = 500;

/**
 * `reboot`: schedules a restart `delaySeconds` after the script ran (its output gets out first). The boot, the
 * rollbacks it triggers, the agent's absence and any reboot loop are recorded on the device's timeline.
 */
export function answerReboot({ state, startedAt: t, runCommandName }: AnswerContext, params: RebootParams): Answer {
  const p = state.profile;
  const scheduledAt = t + SCRIPT_MS;
  // The reboot section of an install's command (issue 22): only when the install left the marker, read once.
  if (params.marker !== undefined && !takeRebootMarker(state, params.marker)) {
    const data: RebootData = {
      bootTimeBefore: iso(state.timeline.lastBootAt(t).at),
      scheduledAt: iso(t + NOT_REQUESTED_MS),
      delaySeconds: params.delaySeconds,
      method: p.os === "windows" ? "shutdown.exe" : "none",
      scheduled: false,
      requested: false,
    };
    return { data, errors: [], durationMs: NOT_REQUESTED_MS };
  }
  const fails = p.spec.reboot.failsToSchedule;
  const data: RebootData = {
    bootTimeBefore: iso(state.timeline.lastBootAt(t).at),
    scheduledAt: iso(scheduledAt),
    delaySeconds: params.delaySeconds,
    method: p.os === "windows" ? "shutdown.exe" : "systemd-run",
    scheduled: !fails,
    ...(params.marker === undefined ? {} : { requested: true }),
  };
  if (fails) {
    const message =
      p.os === "windows"
        ? "shutdown.exe exited 5: Access is denied.(5)"
        : "systemd-run exited 1: Failed to start transient timer unit: Access denied";
    return {
      data,
      errors: [{ section: "scheduled", message, code: p.os === "windows" ? "exit-5" : "exit-1" }],
      durationMs: SCRIPT_MS,
    };
  }
  state.scheduleReboot(scheduledAt + params.delaySeconds * 1000, runCommandName);
  return { data, errors: [], durationMs: SCRIPT_MS };
}
