import { z } from "zod";

/**
 * Managed-disk snapshots before install (issue 20), per layer through the overlay (docs/policy-overlay.md): `none`
 * takes none (the default); `beforeInstall` takes an incremental snapshot of the device's disks (`os`: the OS disk;
 * `all`: the OS and data disks) after the catalog decided there is something to install and before the install
 * command is sent. Azure VMs and scale-set instances only (an Arc machine has no managed disk). Snapshots PatchPilot
 * took of the device (found by their tags) older than `retentionDays` are deleted when the next one is taken.
 */
export const SnapshotModeSchema = z.enum(["none", "beforeInstall"]);
export type SnapshotMode = z.infer<typeof SnapshotModeSchema>;
export const SnapshotDisksSchema = z.enum(["os", "all"]);
export type SnapshotDisks = z.infer<typeof SnapshotDisksSchema>;
const RetentionDaysSchema = z.number().int().min(1).max(3650);

/** The effective snapshot policy of a run. */
export const SnapshotsPolicySchema = z
  .object({ mode: SnapshotModeSchema, disks: SnapshotDisksSchema, retentionDays: RetentionDaysSchema })
  .strict();
export type SnapshotsPolicy = z.infer<typeof SnapshotsPolicySchema>;

/** One layer's snapshot settings: every field optional, a layer states only what it changes. */
export const SnapshotsPolicyLayerSchema = z
  .object({
    mode: SnapshotModeSchema.optional(),
    disks: SnapshotDisksSchema.optional(),
    retentionDays: RetentionDaysSchema.optional(),
  })
  .strict();
export type SnapshotsPolicyLayer = z.infer<typeof SnapshotsPolicyLayerSchema>;

/** What a field no layer sets falls back to. */
export const DEFAULT_SNAPSHOTS: SnapshotsPolicy = { mode: "none", disks: "os", retentionDays: 7 };
