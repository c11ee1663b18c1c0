import { SNAPSHOT_TAGS } from "../../schemas/artifacts/diskSnapshots";
import type { RunRef } from "../../schemas/common";

/** A snapshot as ARM lists it (id, tags, creation time). */
export interface SnapshotSeen {
  id: string;
  name: string;
  tags: Readonly<Record<string, string>>;
  timeCreated?: string;
}

/** What retention deletes (with the run that took it) and how many of the device's own snapshots it keeps. */
export interface RetentionPlan {
  delete: { id: string; name: string; runId: string; timeCreated: string }[];
  kept: number;
}

const DAY_MS = 86_400_000;

/**
 * Which snapshots retention deletes (issue 20), pure: only PatchPilot's own snapshots of this device (tenant, client
 * and device tags all match, and a run tag names the run that took it), never one the current run took, and only
 * those created more than `retentionDays` before `now`. A snapshot without our tags, of another device or client, or
 * without a readable creation time (its age cannot be judged) is never deleted.
 */
export function planRetention(
  seen: readonly SnapshotSeen[],
  run: RunRef,
  now: Date,
  retentionDays: number,
): RetentionPlan {
  const cutoff = now.getTime() - retentionDays * DAY_MS;
  const plan: RetentionPlan = { delete: [], kept: 0 };
  for (const s of seen) {
    const t = s.tags;
    const ours =
      t[SNAPSHOT_TAGS.tenant] === run.tenant &&
      t[SNAPSHOT_TAGS.client] === run.client &&
      t[SNAPSHOT_TAGS.device] === run.device &&
      (t[SNAPSHOT_TAGS.run] ?? "") !== "";
    if (!ours) continue;
    const taken = s.timeCreated === undefined ? NaN : Date.parse(s.timeCreated);
    const runId = t[SNAPSHOT_TAGS.run]!;
    if (runId === run.runId || Number.isNaN(taken) || taken >= cutoff) {
      plan.kept += 1;
      continue;
    }
    plan.delete.push({ id: s.id, name: s.name, runId, timeCreated: new Date(taken).toISOString() });
  }
  plan.delete.sort((a, b) => (a.timeCreated < b.timeCreated ? -1 : a.timeCreated > b.timeCreated ? 1 : 0));
  return plan;
}

/** The tags of a snapshot (or restored disk) PatchPilot creates for a run. */
export function snapshotTags(run: RunRef, disk: string): Record<string, string> {
  return {
    [SNAPSHOT_TAGS.tenant]: run.tenant,
    [SNAPSHOT_TAGS.client]: run.client,
    [SNAPSHOT_TAGS.device]: run.device,
    [SNAPSHOT_TAGS.run]: run.runId,
    [SNAPSHOT_TAGS.disk]: disk,
  };
}

/**
 * A resource name for this run's snapshot of `disk` (or its restored disk): deterministic, so a retried activity finds
 * what it created. ARM's snapshot/disk names: 1-80 letters, digits, `_ . -`, starting with a letter or digit and
 * ending with a letter, digit or `_`.
 */
export function snapshotName(run: RunRef, disk: string): string {
  const clean = (s: string, max: number) => s.replace(/[^A-Za-z0-9_.-]/g, "-").slice(0, max);
  return `pp-${clean(run.device, 24)}-${clean(run.runId, 40)}-${clean(disk, 8)}`.replace(/[.-]+$/, "");
}
