import { DiskActionError, DiskClient, nameOfId } from "../../azure/snapshots/diskClient";
import { ARTIFACTS } from "../../domain/artifacts";
import type { RestoreOutcome } from "../../domain/run/planRemediation";
import { snapshotName, snapshotTags } from "../../domain/snapshots/planRetention";
import type { RestoreRecord } from "../../schemas/artifacts/diskSnapshots";
import type { DeviceRunInput, DeviceRunState } from "../../schemas/deviceRun";
import type { DeviceRunDeps } from "../deps";
import type { RecordStepContext } from "../recordStep";
import { writtenBefore } from "./writtenBefore";

type Action = RestoreRecord["actions"][number]["action"];

const outcomeOf = (r: RestoreRecord): RestoreOutcome => ({
  stage: "restore",
  ok: r.ok,
  ...(r.error === undefined ? {} : { error: r.error }),
});

/**
 * The `restore` stage's ARM action (a restoreSnapshot remediation, issue 20): deallocate the VM, create a managed disk
 * from this run's pre-install OS snapshot, swap it in as the VM's OS disk (PATCH of
 * `storageProfile.osDisk.managedDisk.id`, Microsoft's documented OS-disk swap), start the VM. The old OS disk is kept.
 * `12-remediation/restore.json` records each action (create-once: a retried call reads it back). A failure after the
 * deallocation still starts the VM, on whichever OS disk it has, so the remediation never leaves a server stopped.
 */
export async function restoreOsDisk(
  deps: DeviceRunDeps,
  ctx: RecordStepContext,
  input: DeviceRunInput,
  state: DeviceRunState,
): Promise<RestoreOutcome> {
  const stored = await writtenBefore<RestoreRecord>(ctx, ARTIFACTS.restore);
  if (stored !== undefined) return outcomeOf(stored);
  const at = ctx.now.toISOString();
  const snapshotId = state.diskSnapshots?.osSnapshotId ?? "";
  const device = input.device;
  const record: RestoreRecord = {
    schemaVersion: 1,
    resourceId: device.resourceId,
    snapshotId: snapshotId === "" ? "none" : snapshotId,
    ok: false,
    oldDiskKept: true,
    actions: [],
    startedAt: at,
    finishedAt: at,
  };
  if (device.kind !== "vm" && device.kind !== "vmssFlex") {
    record.error = `a ${device.kind} device's OS disk cannot be swapped`;
  } else if (snapshotId === "") {
    record.error = "no pre-install OS snapshot in this run's state";
  } else {
    const client = new DiskClient(deps.arm, device);
    const done = (action: Action, ok: boolean) => record.actions.push({ action, at, ok });
    let deallocated = false;
    let step: Action = "deallocate";
    try {
      const model = await client.disks();
      record.resourceId = model.resourceId;
      const newName = snapshotName(ctx.run, "restored");
      const old = model.disks.find((d) => d.disk === "os")?.id;
      // A retry after the swap finds the restored disk already in place: only the start is left.
      const swapped = old !== undefined && nameOfId(old).toLowerCase() === newName.toLowerCase();
      if (!swapped && old !== undefined) record.oldDiskId = old;
      if (!swapped) {
        await client.deallocate();
        deallocated = true;
        done("deallocate", true);
        step = "createDisk";
        record.newDiskId = await client.createDiskFromSnapshot(
          newName,
          snapshotId,
          model.location,
          snapshotTags(ctx.run, "restored"),
        );
        done("createDisk", true);
        step = "swapOsDisk";
        const now = await client.swapOsDisk(record.newDiskId, model.osCreateOption);
        if (now?.toLowerCase() !== record.newDiskId.toLowerCase())
          throw new DiskActionError("swap the OS disk", 200, undefined, `the VM's OS disk is ${now ?? "unknown"}`);
        done("swapOsDisk", true);
      } else {
        record.newDiskId = old;
      }
      step = "start";
      await client.start();
      done("start", true);
      record.ok = true;
    } catch (error) {
      if (!(error instanceof DiskActionError)) throw error;
      done(step, false);
      record.error = error.message.slice(0, 4000);
      if (deallocated && step !== "start") {
        try {
          await client.start();
          done("start", true);
        } catch (again) {
          if (!(again instanceof DiskActionError)) throw again;
          done("start", false);
          record.error = `${record.error}; the VM could not be started again: ${again.message}`.slice(0, 4000);
        }
      }
    }
  }
  await ctx.stored.put(ctx.evidence, ctx.run, ARTIFACTS.restore, record);
  return outcomeOf(record);
}
