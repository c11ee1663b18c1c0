import { DiskActionError, DiskClient, type ListedSnapshot } from "../../azure/snapshots/diskClient";
import { ARTIFACTS } from "../../domain/artifacts";
import { planRetention, snapshotName, snapshotTags } from "../../domain/snapshots/planRetention";
import type { SnapshotOutcome } from "../../domain/snapshots/planSnapshots";
import { SNAPSHOT_TAGS, type DiskSnapshotsRecord, type TakenSnapshot } from "../../schemas/artifacts/diskSnapshots";
import type { DeviceRunInput } from "../../schemas/deviceRun";
import { DEFAULT_SNAPSHOTS } from "../../schemas/snapshotsPolicy";
import type { DeviceRunDeps } from "../deps";
import type { RecordStepContext } from "../recordStep";
import { writtenBefore } from "./writtenBefore";

/** Why a Uniform scale-set instance's snapshots cannot be restored by an OS-disk swap (decided for issue 20). */
export const UNIFORM_NOT_RESTORABLE =
  "a Uniform scale-set instance's OS disk cannot be swapped (its model is the scale set's; a reimage restores the image, not the snapshot): restore it by hand from the snapshot in 05-install/snapshots.json";

/** Arc machines: no managed disk to snapshot through ARM (the MSP checkpoint script is not built yet). */
export const ARC_NO_SNAPSHOT =
  "an Arc-enabled machine has no managed disk to snapshot through ARM (an MSP checkpoint script is not supported yet)";

function outcomeOf(record: DiskSnapshotsRecord, input: DeviceRunInput): SnapshotOutcome {
  if (!record.ok)
    return { stage: "snapshot", ok: false, ...(record.error === undefined ? {} : { error: record.error }) };
  const os = record.snapshots.find((s) => s.disk === "os");
  return {
    stage: "snapshot",
    ok: true,
    ...(os === undefined ? {} : { osSnapshotId: os.snapshotId }),
    ...(input.device.kind === "vmss" ? { notRestorable: UNIFORM_NOT_RESTORABLE } : {}),
  };
}

/**
 * The `snapshot` stage's ARM action (issue 20), in the advance activity between the catalog and the install command:
 * an incremental snapshot of the device's OS disk (and data disks with `disks: all`), tagged with the tenant, client,
 * device and run; then retention deletes PatchPilot's older snapshots of the device. Everything goes into
 * `05-install/snapshots.json` (create-once: a retried call reads it back and takes nothing again; snapshots already
 * created under this run's names are found by the listing and not taken twice).
 */
export async function takeSnapshots(
  deps: DeviceRunDeps,
  ctx: RecordStepContext,
  input: DeviceRunInput,
): Promise<SnapshotOutcome> {
  const stored = await writtenBefore<DiskSnapshotsRecord>(ctx, ARTIFACTS.diskSnapshots);
  if (stored !== undefined) return outcomeOf(stored, input);
  const policy = (await ctx.facts.runRecord()).policy.snapshots ?? DEFAULT_SNAPSHOTS;
  const at = ctx.now.toISOString();
  const device = input.device;
  const record: DiskSnapshotsRecord = {
    schemaVersion: 1,
    kind: device.kind,
    resourceId: device.resourceId,
    disks: policy.disks,
    ok: false,
    snapshots: [],
    retention: { retentionDays: policy.retentionDays, deleted: [], kept: 0, listed: false },
    startedAt: at,
    finishedAt: at,
  };
  if (device.kind === "arc") {
    record.error = ARC_NO_SNAPSHOT;
  } else {
    const client = new DiskClient(deps.arm, device);
    try {
      const model = await client.disks();
      record.resourceId = model.resourceId;
      const wanted = model.disks.filter((d) => policy.disks === "all" || d.disk === "os");
      if (!wanted.some((d) => d.disk === "os"))
        throw new DiskActionError("read the VM model", 200, undefined, "no managed OS disk");
      const existing = await client.listSnapshots();
      record.retention.listed = true;
      for (const disk of wanted) {
        const name = snapshotName(ctx.run, disk.disk);
        // Taken already by this very run (a retried call): found by name and run tag, not taken twice.
        const found: ListedSnapshot | undefined = existing.find(
          (s) => s.name.toLowerCase() === name.toLowerCase() && s.tags[SNAPSHOT_TAGS.run] === ctx.run.runId,
        );
        const snap =
          found ?? (await client.createSnapshot(name, disk.id, model.location, snapshotTags(ctx.run, disk.disk)));
        const taken: TakenSnapshot = {
          disk: disk.disk,
          sourceDiskId: disk.id,
          snapshotId: snap.id ?? "",
          snapshotName: name,
          incremental: found === undefined ? (("incremental" in snap ? snap.incremental : undefined) ?? true) : true,
          ...(snap.timeCreated === undefined ? {} : { timeCreated: new Date(snap.timeCreated).toISOString() }),
          ...("provisioningState" in snap && typeof snap.provisioningState === "string"
            ? { provisioningState: snap.provisioningState }
            : {}),
        };
        if (taken.snapshotId === "")
          throw new DiskActionError(`snapshot ${disk.disk}`, undefined, undefined, "no id returned");
        record.snapshots.push(taken);
      }
      record.ok = true;
      // Retention only after this run's snapshots exist: a failed snapshot never costs the device its older ones.
      const plan = planRetention(existing, ctx.run, ctx.now, policy.retentionDays);
      record.retention.kept =
        plan.kept + record.snapshots.filter((s) => !existing.some((e) => e.id === s.snapshotId)).length;
      for (const old of plan.delete) {
        try {
          await client.deleteSnapshot(old.name);
          record.retention.deleted.push({
            snapshotId: old.id,
            runId: old.runId,
            timeCreated: old.timeCreated,
            result: "deleted",
          });
        } catch (error) {
          if (!(error instanceof DiskActionError)) throw error;
          record.retention.deleted.push({
            snapshotId: old.id,
            runId: old.runId,
            timeCreated: old.timeCreated,
            result: "failed",
            detail: error.message.slice(0, 2000),
          });
        }
      }
    } catch (error) {
      if (!(error instanceof DiskActionError)) throw error;
      if (!record.ok) record.error = error.message.slice(0, 4000);
      else record.retention.error = error.message.slice(0, 2000);
    }
  }
  await ctx.stored.put(ctx.evidence, ctx.run, ARTIFACTS.diskSnapshots, record);
  return outcomeOf(record, input);
}
