import type { BaselineDiff, SystemSnapshot } from "../../schemas/artifacts/snapshot";
import type { RegressionSource } from "../../schemas/policies";
import { detectDriftRegressions } from "../validation/detectDriftRegressions";

type Change = BaselineDiff["services"][number];

/** Name → rendered value changes between two lists, sorted by name (deterministic evidence). */
function diffBy<T>(
  before: readonly T[],
  after: readonly T[],
  name: (t: T) => string,
  render: (t: T) => string,
): Change[] {
  const a = new Map(before.map((t) => [name(t), render(t)]));
  const b = new Map(after.map((t) => [name(t), render(t)]));
  const names = [...new Set([...a.keys(), ...b.keys()])].sort();
  return names
    .map((n) => ({ name: n, before: a.get(n) ?? null, after: b.get(n) ?? null }))
    .filter((c) => c.before !== c.after);
}

const updateKey = (u: SystemSnapshot["installedUpdates"][number]): string =>
  u.version === undefined ? u.id : `${u.id} ${u.version}`;

/**
 * What changed between the baseline and the post snapshot: OS build, updates, services, drivers, apps; with the
 * policy's regression sources, which of those changes count as regressions (`driftRegressions`).
 */
export function diffSnapshots(
  before: SystemSnapshot,
  after: SystemSnapshot,
  regressionSources?: readonly RegressionSource[],
): BaselineDiff {
  const was = new Set(before.installedUpdates.map(updateKey));
  const now = new Set(after.installedUpdates.map(updateKey));
  return {
    schemaVersion: 1,
    osBuild: { before: before.os.build, after: after.os.build },
    updatesAdded: [...now].filter((u) => !was.has(u)).sort(),
    updatesRemoved: [...was].filter((u) => !now.has(u)).sort(),
    services: diffBy(
      before.services,
      after.services,
      (s) => s.name,
      (s) => `${s.state}/${s.startType}`,
    ),
    drivers: diffBy(
      before.drivers,
      after.drivers,
      (d) => d.name,
      (d) => d.version,
    ),
    apps: diffBy(
      before.apps,
      after.apps,
      (a) => a.name,
      (a) => a.version ?? "",
    ),
    ...(regressionSources === undefined || regressionSources.length === 0
      ? {}
      : { driftRegressions: detectDriftRegressions(regressionSources, before, after) }),
  };
}
