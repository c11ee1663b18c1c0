import type { InstallOutcome } from "../../schemas/artifacts/catalog";
import type { NotRequested } from "../../schemas/artifacts/remediation";
import type { SystemSnapshot } from "../../schemas/artifacts/snapshot";
import type { OsFamily } from "../../schemas/common";
import type { UninstallParams } from "../../schemas/device/parameters";

/** What a remediation asks the device to remove, and what it leaves and why. */
export interface RemovalPlan {
  /** Undefined when nothing may be removed. */
  request?: UninstallParams;
  notRequested: NotRequested[];
}

const KB = /^KB\d{6,8}$/;
const PIN_NAME = /^[A-Za-z0-9][A-Za-z0-9+._-]{0,127}$/;
const PIN_VERSION = /^[A-Za-z0-9][A-Za-z0-9.+~:_-]{0,127}$/;

/** Updates this run put in place: a fresh install, not one the device already had (AlreadyInstalled). */
export function installedByRun(outcomes: readonly InstallOutcome[]): InstallOutcome[] {
  return outcomes.filter((o) => o.installed && (o.result === "Succeeded" || o.result === "SucceededWithErrors"));
}

/**
 * Decides the removals of a remediation from the run's own evidence: the install summary (what this run installed),
 * the baseline (Linux: the version each package had before, which is what it goes back to) and the policy's keepKbs.
 * Windows removes by KB (an update without one, such as a definition update, cannot be named to wusa); Linux puts a
 * package back at its baseline version (a package new in this run has none, and is left). Pure.
 */
export function planRemoval(
  os: OsFamily,
  outcomes: readonly InstallOutcome[],
  baseline: SystemSnapshot | undefined,
  keepKbs: readonly string[],
): RemovalPlan {
  const notRequested: NotRequested[] = [];
  const kbs: string[] = [];
  const packages: { name: string; version: string }[] = [];
  // Newest first: Windows updates are removed in the reverse order of their installation (Microsoft KB 823836).
  const newestFirst = [...installedByRun(outcomes)].sort((a, b) => Date.parse(b.finishedAt) - Date.parse(a.finishedAt));
  for (const o of newestFirst) {
    const named = { updateId: o.updateId, ...(o.kb === undefined ? {} : { kb: o.kb }) };
    if (os === "windows") {
      if (o.kb === undefined || !KB.test(o.kb)) {
        notRequested.push({ ...named, reason: "no KB number: wusa and DISM remove updates by KB" });
        continue;
      }
      if (keepKbs.includes(o.kb)) {
        notRequested.push({ ...named, reason: `the remediation policy keeps ${o.kb} (keepKbs)` });
        continue;
      }
      if (!kbs.includes(o.kb)) kbs.push(o.kb);
      continue;
    }
    const before = baseline?.installedUpdates.find((u) => u.id === o.updateId)?.version;
    if (baseline === undefined) {
      notRequested.push({ ...named, reason: "no baseline: the version to go back to is unknown" });
    } else if (before === undefined) {
      notRequested.push({ ...named, reason: "new in this run (no earlier version in the baseline to go back to)" });
    } else if (!PIN_NAME.test(o.updateId) || !PIN_VERSION.test(before)) {
      notRequested.push({ ...named, reason: `the baseline version ${JSON.stringify(before)} cannot be pinned` });
    } else {
      packages.push({ name: o.updateId, version: before });
    }
  }
  const request: UninstallParams | undefined =
    os === "windows"
      ? kbs.length === 0
        ? undefined
        : { os, kbs: kbs.slice(0, 50) }
      : packages.length === 0
        ? undefined
        : { os, packages: packages.slice(0, 500) };
  return { ...(request === undefined ? {} : { request }), notRequested };
}
