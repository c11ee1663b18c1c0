import type { CatalogParams } from "../../../../lib/schemas/device/parameters";
import type { ApplicableUpdate, CatalogData } from "../../../../lib/schemas/device/catalog";
import { iso, type Answer, type AnswerContext } from "./answer";

/** `catalog`: the updates not in place at the time of the search (a rolled-back update is applicable again). */
export function answerCatalog({ state, startedAt: t }: AnswerContext, params: CatalogParams): Answer {
  const p = state.profile;
  const windows = p.os === "windows";
  const simulate = !windows && params.simulate === true;
  // A WUA online search takes a minute or two; apt-get update ~20 s, skipped in simulate mode.
  const durationMs = windows ? 75_000 : simulate ? 4_000 : 25_000;
  const at = t + durationMs;
  const updates: ApplicableUpdate[] = p.updates
    .filter((u) => !state.isInstalled(u, t))
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
            severity: null,
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
