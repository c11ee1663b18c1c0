import type { InstallData, InstallResult } from "../../../../lib/schemas/device/install";
import type { InstallParams } from "../../../../lib/schemas/device/parameters";
import { takeHookFence } from "../hookFences";
import { setRebootMarker } from "../rebootMarkers";
import { isReleased } from "./answerCatalog";
import { iso, type Answer, type AnswerContext } from "./answer";

// WUA session + download check before the first update; apt/dnf take the lock and read the lists.
const STARTUP_MS = 10_000;
const NOT_FOUND_MS = 1_000;

/**
 * `install`: installs the requested updates one after the other, each taking its own time; every outcome is
 * recorded on the device at the time it finished, so a baseline taken later sees exactly what finished by then.
 * An update that hangs makes the whole command hang (earlier updates stay installed).
 */
export function answerInstall({ state, startedAt: t, runCommandName }: AnswerContext, params: InstallParams): Answer {
  const p = state.profile;
  const requested =
    params.os === "windows"
      ? params.updateIds.map((id) => ({ id, version: undefined }))
      : params.packages.map((pkg) => ({ id: pkg.name, version: pkg.version }));
  // A failed pre-install hook earlier in the same command (its fence): nothing is installed (issue 20).
  const hookFailed = params.fence === undefined ? undefined : takeHookFence(state, params.fence);
  if (hookFailed !== undefined) {
    const at = iso(t + NOT_FOUND_MS);
    const data: InstallData = {
      startedAt: iso(t),
      finishedAt: at,
      results: requested.map((req) => ({
        updateId: req.id,
        ...(req.version === undefined ? {} : { version: req.version }),
        result: "NotAttempted" as const,
        rebootRequired: false,
        finishedAt: at,
      })),
      rebootRequired: false,
    };
    const message = `pre-install hook failed (${hookFailed}): nothing was installed`;
    leaveMarker(state, params, false);
    return { data, errors: [{ section: "results", message, code: "hook-failed" }], durationMs: NOT_FOUND_MS };
  }
  const results: InstallResult[] = [];
  let cursor = t + STARTUP_MS;
  for (const req of requested) {
    const u = state.findUpdate(req.id);
    const version = req.version !== undefined ? { version: req.version } : {};
    // Not yet published at the time of the request: the agent does not find it, as for an unknown id.
    if (u === undefined || !isReleased(u, cursor) || (req.version !== undefined && req.version !== u.version)) {
      cursor += NOT_FOUND_MS;
      results.push({
        updateId: req.id,
        ...version,
        result: "NotFound",
        rebootRequired: false,
        finishedAt: iso(cursor),
      });
      continue;
    }
    const described = { updateId: req.id, ...(u.kb !== undefined ? { kb: u.kb } : {}), title: u.title, ...version };
    const wuaCode = (code: number) => (p.os === "windows" ? { resultCode: code } : {});
    if (state.isInstalled(u, cursor)) {
      cursor += NOT_FOUND_MS;
      results.push({ ...described, result: "AlreadyInstalled", rebootRequired: false, finishedAt: iso(cursor) });
      continue;
    }
    if (u.outcome.result === "hangs") {
      return { data: {}, errors: [], durationMs: Number.POSITIVE_INFINITY, hang: true };
    }
    cursor += u.installMs;
    const ok = u.outcome.result !== "fails";
    const hresult = u.outcome.result === "fails" ? u.outcome.hresult : 0;
    state.recordInstall({ update: u, finishedAt: cursor, owner: runCommandName, ok, hresult });
    results.push({
      ...described,
      result: ok ? "Succeeded" : "Failed",
      ...wuaCode(ok ? 2 : 4),
      hresult,
      rebootRequired: ok && u.requiresReboot,
      finishedAt: iso(cursor),
    });
  }
  const data: InstallData = {
    startedAt: iso(t),
    finishedAt: iso(cursor),
    results,
    rebootRequired: state.pendingReboot(cursor).pending,
  };
  leaveMarker(state, params, data.rebootRequired);
  return { data, errors: [], durationMs: cursor - t };
}

/** With RebootMarker (issue 22): the marker for the reboot section later in the same command, as the script does. */
function leaveMarker(state: AnswerContext["state"], params: InstallParams, rebootRequired: boolean): void {
  if (params.rebootMarker !== undefined) setRebootMarker(state, params.rebootMarker, rebootRequired);
}
