import type { CatalogParams } from "../../../../lib/schemas/device/parameters";
import type { ApplicableUpdate, CatalogData } from "../../../../lib/schemas/device/catalog";
import type { SimUpdate } from "../deviceProfile";
import { iso, type Answer, type AnswerContext } from "./answer";

/** Whether the vendor had published the update by `t` (a scenario's `releasedOn`): not yet, the agent cannot see it. */
export function isReleased(update: Pick<SimUpdate, "releasedOn">, t: number): boolean {
  return update.releasedOn === undefined || update.releasedOn <= t;
}

/** `catalog`: the updates not in place at the time of the search (a rolled-back update is applicable again). */
export function answerCatalog({ state, startedAt: t }: AnswerContext, params: CatalogParams): Answer {
  const p = state.profile;
  const windows = p.os === "windows";
  const simulate = !windows && params.simulate === true;
  // A WUA online search takes a minute or two; apt-get update ~20 s, skipped in simulate mode.
  const durationMs = windows ? 75_000 : simulate ? 4_000 : 25_000;
  const at = t + durationMs;
  // WUA's Type='Driver' updates are searched only with IncludeDrivers (catalog.ps1), as on a real device.
  const searched = (u: { classification: string }): boolean =>
    !windows || params.includeDrivers === true || u.classification !== "Drivers";
  const updates: ApplicableUpdate[] = p.updates
    .filter((u) => isReleased(u, t) && !state.isInstalled(u, t) && searched(u))
    .map((u) =>
      windows
        ? {
            updateId: u.key,
            revision: u.revision ?? 1,
            ...(u.kb !== undefined ? { kb: u.kb } : {}),
            title: u.title,
            classification: u.classification,
            severity: u.severity,
            releaseDate: u.releaseDate,
            sizeBytes: u.sizeBytes,
            rebootBehavior: u.rebootBehavior,
          }
        : {
            updateId: u.key,
            title: u.title,
            classification: u.classification,
            // The scenario's severity where catalog.sh reads one (dnf/yum advisories); apt and zypper state none.
            severity: p.packageManager === "dnf" || p.packageManager === "yum" ? u.severity : null,
            releaseDate: u.releaseDate,
            sizeBytes: u.sizeBytes,
            currentVersion: state.installedVersion(u, t),
            version: u.version ?? "",
            ...(u.source !== undefined ? { source: u.source } : {}),
            rebootBehavior: u.rebootBehavior,
          },
    );
  const data: CatalogData = { searchedAt: iso(at), agent: p.packageManager, simulate, updates };
  return { data, errors: [], durationMs };
}
