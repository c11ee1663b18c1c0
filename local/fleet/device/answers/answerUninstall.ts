import type { UninstallParams } from "../../../../lib/schemas/device/parameters";
import type { UninstallData, UninstallResult } from "../../../../lib/schemas/device/uninstall";
import { iso, type Answer, type AnswerContext } from "./answer";

// wusa's start-up (it opens the CBS session) and a removal, per update; a package manager is quicker.
const STARTUP_MS = 10_000;
const WINDOWS_REMOVAL_MS = 90_000;
const LINUX_REMOVAL_MS = 8_000;
/** wusa's exit codes: success, success with a restart needed, and the update not installed (WU_S_ALREADY_UNINSTALLED). */
const WUSA_OK = 0;
const WUSA_REBOOT = 3010;
const WUSA_NOT_INSTALLED = 0x240007;

/**
 * `uninstall` (remediation, issue 20): removes the requested KBs (Windows, as wusa does) or puts the requested
 * packages back at the given version (Linux, as the package manager's downgrade does), one after the other, each
 * recorded on the device at the time it finished, so a validation taken afterwards sees the update gone and the
 * break it caused cleared (unless the scenario says the break persists). How each removal goes comes from the
 * scenario's `uninstalls` (a servicing-stack update is permanent by default).
 */
export function answerUninstall(
  { state, startedAt: t, runCommandName }: AnswerContext,
  params: UninstallParams,
): Answer {
  const p = state.profile;
  const results: UninstallResult[] = [];
  let cursor = t + STARTUP_MS;
  const requests =
    params.os === "windows"
      ? params.kbs.map((kb) => ({ id: kb, update: state.findUpdateByKb(kb), version: undefined }))
      : params.packages.map((pkg) => ({ id: pkg.name, update: state.findUpdate(pkg.name), version: pkg.version }));
  const method = p.os === "windows" ? "wusa" : p.packageManager === "wua" ? "apt" : p.packageManager;
  for (const req of requests) {
    const named = {
      updateId: req.id,
      ...(params.os === "windows" ? { kb: req.id } : {}),
      ...(req.version === undefined ? {} : { version: req.version }),
    };
    const u = req.update;
    if (u === undefined || !state.isInstalled(u, cursor)) {
      cursor += 1_000;
      results.push({
        ...named,
        ...(params.os === "linux" && u !== undefined ? { installedVersion: state.installedVersion(u, cursor) } : {}),
        result: "NotInstalled",
        method,
        ...(p.os === "windows" ? { exitCode: WUSA_NOT_INSTALLED } : {}),
        rebootRequired: false,
        finishedAt: iso(cursor),
      });
      continue;
    }
    const spec = state.uninstallSpecFor(u);
    if (spec.result === "notUninstallable") {
      cursor += 2_000;
      results.push({
        ...named,
        ...(params.os === "linux" ? { installedVersion: state.installedVersion(u, cursor) } : {}),
        result: "NotUninstallable",
        method: "none",
        rebootRequired: false,
        ...(spec.detail === undefined ? {} : { detail: spec.detail }),
        finishedAt: iso(cursor),
      });
      continue;
    }
    cursor += p.os === "windows" ? WINDOWS_REMOVAL_MS : LINUX_REMOVAL_MS;
    if (spec.result === "fails") {
      results.push({
        ...named,
        ...(params.os === "linux" ? { installedVersion: state.installedVersion(u, cursor) } : {}),
        result: "Failed",
        method,
        exitCode: spec.exitCode,
        rebootRequired: false,
        finishedAt: iso(cursor),
      });
      continue;
    }
    state.recordUninstall({ update: u, at: cursor, owner: runCommandName });
    results.push({
      ...named,
      ...(params.os === "linux" ? { installedVersion: state.installedVersion(u, cursor) } : {}),
      result: "Uninstalled",
      method,
      exitCode: p.os === "windows" ? (spec.requiresReboot ? WUSA_REBOOT : WUSA_OK) : 0,
      rebootRequired: spec.requiresReboot,
      finishedAt: iso(cursor),
    });
  }
  const data: UninstallData = {
    startedAt: iso(t),
    finishedAt: iso(cursor),
    results,
    rebootRequired: results.some((r) => r.rebootRequired),
  };
  return { data, errors: [], durationMs: cursor - t };
}
