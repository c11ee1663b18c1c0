import { z } from "zod";
import { DeviceKindSchema, SchemaVersion1, TimestampSchema } from "../common";
import { SnapshotDisksSchema } from "../snapshotsPolicy";

const ArmIdSchema = z.string().min(1).max(1000);

/** The tags PatchPilot writes on every snapshot it takes: retention finds its own snapshots by them. */
export const SNAPSHOT_TAGS = {
  tenant: "patchpilot:tenant",
  client: "patchpilot:client",
  device: "patchpilot:device",
  run: "patchpilot:run",
  disk: "patchpilot:disk",
} as const;

/** One snapshot taken before the install. */
export const TakenSnapshotSchema = z.object({
  /** `os`, or `lun{N}` for a data disk. */
  disk: z.string().regex(/^(os|lun\d{1,3})$/),
  sourceDiskId: ArmIdSchema,
  snapshotId: ArmIdSchema,
  snapshotName: z.string().min(1).max(80),
  incremental: z.boolean(),
  /** ARM's `properties.timeCreated`. */
  timeCreated: TimestampSchema.optional(),
  provisioningState: z.string().optional(),
});
export type TakenSnapshot = z.infer<typeof TakenSnapshotSchema>;

/** A snapshot retention deleted (or tried to), and why it was chosen. */
export const RetentionEntrySchema = z.object({
  snapshotId: ArmIdSchema,
  /** The run that took it (its tag). */
  runId: z.string().min(1),
  timeCreated: TimestampSchema,
  result: z.enum(["deleted", "failed"]),
  detail: z.string().max(2000).optional(),
});

/**
 * `05-install/snapshots.json`: the managed-disk snapshots taken after the catalog and before the install command
 * (issue 20), and what retention deleted. `ok: false` means the policy required a snapshot and none (or not all) could
 * be taken: nothing was installed (exit 170, `170.snapshot-failed`).
 */
export const DiskSnapshotsRecordSchema = z.object({
  schemaVersion: SchemaVersion1,
  kind: DeviceKindSchema,
  /** The VM (or scale-set instance) whose disks were snapshotted. */
  resourceId: ArmIdSchema,
  disks: SnapshotDisksSchema,
  ok: z.boolean(),
  /** Why not, when `ok` is false. */
  error: z.string().max(4000).optional(),
  snapshots: z.array(TakenSnapshotSchema),
  retention: z.object({
    retentionDays: z.number().int().min(1),
    /** Snapshots of this device tagged by PatchPilot, older than retentionDays, not of this run. */
    deleted: z.array(RetentionEntrySchema),
    /** Snapshots of this device kept: this run's, or younger than retentionDays. */
    kept: z.number().int().min(0),
    /** Could the resource group be listed at all ("could not look" is not "none"). */
    listed: z.boolean(),
    error: z.string().max(2000).optional(),
  }),
  startedAt: TimestampSchema,
  finishedAt: TimestampSchema,
});
export type DiskSnapshotsRecord = z.infer<typeof DiskSnapshotsRecordSchema>;

/**
 * `12-remediation/restore.json`: the OS-disk swap of a `restoreSnapshot` remediation: the VM deallocated, a managed
 * disk created from the pre-install OS snapshot, the VM's `storageProfile.osDisk.managedDisk.id` pointed at it, the VM
 * started. The old disk is kept (never deleted): it holds the patched state an operator may want to look at.
 */
export const RestoreRecordSchema = z.object({
  schemaVersion: SchemaVersion1,
  resourceId: ArmIdSchema,
  snapshotId: ArmIdSchema,
  ok: z.boolean(),
  error: z.string().max(4000).optional(),
  /** The disk created from the snapshot (absent when it could not be created). */
  newDiskId: ArmIdSchema.optional(),
  /** The OS disk the VM had before the swap; kept. */
  oldDiskId: ArmIdSchema.optional(),
  oldDiskKept: z.literal(true),
  /** Each ARM action in order, with when it finished. */
  actions: z.array(
    z.object({
      action: z.enum(["deallocate", "createDisk", "swapOsDisk", "start"]),
      at: TimestampSchema,
      ok: z.boolean(),
    }),
  ),
  startedAt: TimestampSchema,
  finishedAt: TimestampSchema,
});
export type RestoreRecord = z.infer<typeof RestoreRecordSchema>;
