import type { Catalog, CatalogEntry, InstallOutcome } from "../../schemas/artifacts/catalog";
import type { ObservedRegression, Release, ReleaseProof, ReleaseUpdate } from "../../schemas/release";

/** One completed run of the ring, read back verified. */
export interface RingRunReading {
  run: { tenant: string; client: string; device: string; runId: string };
  exitCode: number;
  installs: readonly InstallOutcome[];
  catalog: Catalog | undefined;
  /** Proof that the run's install summary is in its sealed tree (and its receipt in the log). */
  proof: ReleaseProof | undefined;
}

/** Exit codes after which a run's installs cannot go into a release: install failure, regression, no proof. */
export const NOT_RELEASABLE = new Set([210, 220, 240]);

/** The key quarantine, regressions and docs name an update by: its KB, or the package name. */
export function updateKey(u: { kb?: string | undefined; updateId: string }): string {
  return u.kb ?? u.updateId;
}

function bitsOf(o: InstallOutcome, entry: CatalogEntry | undefined): string {
  return `${o.updateId.toLowerCase()}|${entry?.revision ?? ""}|${o.version ?? ""}`;
}

/**
 * The release of a ring from its runs: every update installed (installed=true) by a run that ended without 210, 220
 * or 240, grouped by its exact bits, with the proof of the first such run (by run id, so a retry builds the same
 * document); and every 220 with the keys that run installed (the regressions are attributed to them).
 */
export function buildRelease(input: {
  id: string;
  tenant: string;
  source: Release["source"];
  ringFinishedAt: string;
  targeted: number;
  runs: readonly RingRunReading[];
}): Release {
  const runs = [...input.runs].sort((a, b) => (a.run.runId < b.run.runId ? -1 : a.run.runId > b.run.runId ? 1 : 0));
  const byBits = new Map<string, ReleaseUpdate>();
  const regressions: ObservedRegression[] = [];
  let succeeded = 0;
  for (const r of runs) {
    const installed = r.installs.filter((o) => o.installed);
    if (r.exitCode === 220) {
      regressions.push({
        client: r.run.client,
        device: r.run.device,
        runId: r.run.runId,
        keys: [...new Set(installed.map(updateKey))].sort(),
      });
    }
    if (NOT_RELEASABLE.has(r.exitCode) || r.proof === undefined) continue;
    succeeded += 1;
    for (const o of installed) {
      const entry = r.catalog?.updates.find((u) => u.updateId.toLowerCase() === o.updateId.toLowerCase());
      const bits = bitsOf(o, entry);
      const known = byBits.get(bits);
      if (known !== undefined) {
        known.installedOn += 1;
        continue;
      }
      byBits.set(bits, {
        key: updateKey(o),
        updateId: o.updateId,
        ...(o.kb !== undefined ? { kb: o.kb } : {}),
        ...(entry?.revision !== undefined ? { revision: entry.revision } : {}),
        ...(o.version !== undefined ? { version: o.version } : {}),
        title: o.title,
        classification: entry?.classification ?? "Other",
        installedOn: 1,
        proof: r.proof,
      });
    }
  }
  return {
    schemaVersion: 1,
    kind: "patchpilot-release",
    id: input.id,
    tenant: input.tenant,
    source: input.source,
    ringFinishedAt: input.ringFinishedAt,
    sealedAt: input.ringFinishedAt,
    devices: { targeted: input.targeted, completed: runs.length, succeeded },
    updates: [...byBits.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
    regressions,
  };
}

/** Keys regressed at `threshold` or more distinct clients of the tenant, across every observed regression. */
export function keysToQuarantine(regressions: readonly ObservedRegression[], threshold: number): Map<string, string[]> {
  const clients = new Map<string, Set<string>>();
  for (const r of regressions)
    for (const k of r.keys) clients.set(k, (clients.get(k) ?? new Set<string>()).add(r.client));
  const out = new Map<string, string[]>();
  for (const [k, set] of [...clients].sort(([a], [b]) => (a < b ? -1 : 1)))
    if (set.size >= threshold) out.set(k, [...set].sort());
  return out;
}

/** A re-cut of a release without the given keys: a new id (`-r{n}`), naming the release it replaces. */
export function recutRelease(
  release: Release,
  releaseSha256: string,
  remove: ReadonlyMap<string, string>,
  sealedAt: string,
): Release {
  const match = /^(.*)-r(\d+)$/.exec(release.id);
  const id = match === null ? `${release.id}-r1` : `${match[1]}-r${Number(match[2]) + 1}`;
  return {
    ...release,
    id,
    sealedAt,
    updates: release.updates.filter((u) => !remove.has(u.key)),
    // The observations belong to the release that made them; a re-cut observes nothing new.
    regressions: [],
    replaces: {
      id: release.id,
      sha256: releaseSha256,
      removed: release.updates
        .filter((u) => remove.has(u.key))
        .map((u) => ({ key: u.key, reason: remove.get(u.key) ?? "quarantined" })),
    },
  };
}
