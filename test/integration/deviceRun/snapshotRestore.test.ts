import { readFileSync } from "node:fs";
import path from "node:path";
import { ARTIFACTS } from "../../../lib/domain/artifacts";
import type { DiskSnapshotsRecord, RestoreRecord } from "../../../lib/schemas/artifacts/diskSnapshots";
import { SNAPSHOT_TAGS } from "../../../lib/schemas/artifacts/diskSnapshots";
import type { InstallOutcome } from "../../../lib/schemas/artifacts/catalog";
import type { ExitCodeRecord } from "../../../lib/schemas/artifacts/outcome";
import type { RemediationRecord } from "../../../lib/schemas/artifacts/remediation";
import type { Regressions } from "../../../lib/schemas/artifacts/validation";
import type { RunRef } from "../../../lib/schemas/common";
import type { PolicyLayer } from "../../../lib/schemas/policyLayer";
import type { SimulatedServer } from "../../../local/fleet/device/simulatedServer";
import { SIM_LOCK_TAG } from "../../../local/fleet/arm/disks";
import { buildFleet } from "../../../local/fleet/scenario/buildFleet";
import { parseScenario } from "../../../local/fleet/scenario/parseScenario";
import { seedPolicyStore } from "../../../local/fleet/scenario/seedPolicies";
import { ManualClock } from "../fleet/testFleet";
import { driveRun, evidenceFor, startRunEnv, type RunEnv } from "./deviceRunHarness";

// Issue 20, snapshots before install and restoreSnapshot on the local stack: the demo's FAB-WEB01, made an Azure VM,
// breaks WebApp/home as soon as its .NET update (KB5012346) is in place. Its client takes managed-disk snapshots before
// install; its device layer remediates by restoring the OS disk. Everything is read back from the sealed evidence, from
// the fleet emulator through the real arm-compute SDK (the VM's OS disk, the snapshots left in the resource group) and
// from the simulated server's state (what the restore took back).

const DEMO = path.resolve(__dirname, "../../../local/scenarios/demo.json");
const DAY = 86_400_000;

interface Env extends RunEnv {
  server: SimulatedServer;
}

async function start(change: (device: Record<string, unknown>) => void = () => {}): Promise<Env> {
  const json = JSON.parse(readFileSync(DEMO, "utf8")) as Record<string, unknown>;
  const web = (json["devices"] as Record<string, unknown>[]).find((d) => d["name"] === "FAB-WEB01")!;
  web["kind"] = "vm";
  change(web);
  const scenario = parseScenario(json, DEMO);
  const clock = new ManualClock(new Date("2026-01-20T01:00:00Z"));
  const fleet = buildFleet(scenario, clock);
  const env = await startRunEnv(
    fleet,
    clock,
    scenario.subscriptions.map((s) => s.id),
  );
  await seedPolicyStore(env.policies, scenario);
  const client = { level: "client", tenant: "contoso-msp", client: "fabrikam" } as const;
  const clientLayer: PolicyLayer = (await env.policies.getLayer(client)) ?? { schemaVersion: 1, scope: client };
  await env.policies.putLayer({ ...clientLayer, snapshots: { mode: "beforeInstall", disks: "all", retentionDays: 7 } });
  const device = { ...client, level: "device", device: "FAB-WEB01" } as const;
  const deviceLayer: PolicyLayer = (await env.policies.getLayer(device)) ?? { schemaVersion: 1, scope: device };
  await env.policies.putLayer({ ...deviceLayer, remediation: { mode: "restoreSnapshot" } });
  const server = fleet.devices.find((d) => d.name === "FAB-WEB01") as SimulatedServer;
  return { ...env, server };
}

async function readJson<T>(env: RunEnv, run: RunRef, artifact: { path: string }): Promise<T> {
  const bytes = await evidenceFor(env).store.get(run, artifact.path);
  if (bytes === undefined) throw new Error(`no ${artifact.path}`);
  return JSON.parse(bytes.toString("utf8")) as T;
}

function web(env: RunEnv) {
  const ref = env.devices.get("FAB-WEB01");
  if (ref === undefined || ref.kind !== "vm") throw new Error("FAB-WEB01 is not an Azure VM in the inventory");
  return ref;
}

describe("snapshots before install and restoreSnapshot remediation (issue 20)", () => {
  describe("the regression clears once the OS disk is restored", () => {
    let env: Env;
    beforeAll(async () => {
      env = await start();
    });
    afterAll(async () => {
      await env?.close();
    });

    it("snapshots before the install, restores the OS disk on a regression, and ends 220 'recovered'", async () => {
      const vm = web(env);
      const compute = env.arm.compute(vm.subscriptionId);
      const rg = vm.resourceGroup;
      // Snapshots already in the resource group before the run, through the SDK: an old one PatchPilot took of this
      // device (retention deletes it), an old one without our tags and an old one of another device (both kept).
      const model = await compute.virtualMachines.get(rg, vm.vmName);
      const osDisk = model.storageProfile?.osDisk?.managedDisk?.id ?? "";
      const ours = {
        [SNAPSHOT_TAGS.tenant]: "contoso-msp",
        [SNAPSHOT_TAGS.client]: "fabrikam",
        [SNAPSHOT_TAGS.device]: "FAB-WEB01",
        [SNAPSHOT_TAGS.run]: "run-20251201-older-0001",
      };
      const seed = (name: string, tags: Record<string, string>) =>
        compute.snapshots.createOrUpdate(rg, name, {
          location: vm.location,
          tags,
          creationData: { createOption: "Copy", sourceResourceId: osDisk },
          incremental: true,
        });
      await seed("old-patchpilot", ours);
      await seed("old-untagged", {});
      await seed("old-other-device", { ...ours, [SNAPSHOT_TAGS.device]: "FAB-SQL01" });
      env.clock.advance(10 * DAY);

      const { input, result, states } = await driveRun(env, vm);
      const run = input.run;
      expect(result.exitCode).toBe(220);
      // The ARM-side stages run inside the advance calls (no run command): their events say where they stood.
      const events = states.at(-1)!.events.map((e) => e.type);
      expect(events.indexOf("phase.completed")).toBeLessThan(events.indexOf("snapshots.taken"));
      expect(events).toEqual(
        expect.arrayContaining([
          "snapshots.taken",
          "remediation.started",
          "remediation.restored",
          "remediation.revalidated",
        ]),
      );
      const stages = states.map((s) => s.stage);
      // After the reboot the post stage's steps ride in the boot probe's command (issue 22), so "post" need not be a
      // stage of its own; the restore follows the POST phases that found the regression either way.
      expect(stages).toEqual(expect.arrayContaining(["install", "restoreWait", "revalidate"]));
      expect(stages.indexOf("restoreWait")).toBeGreaterThan(stages.indexOf("install"));
      expect(stages).not.toContain("remediate");

      // 05-install/snapshots.json: the OS and the data disk, incremental, taken before the first update went in.
      const taken = await readJson<DiskSnapshotsRecord>(env, run, ARTIFACTS.diskSnapshots);
      expect(taken.ok).toBe(true);
      expect(taken.snapshots.map((s) => s.disk).sort()).toEqual(["lun0", "os"]);
      const osSnap = taken.snapshots.find((s) => s.disk === "os")!;
      expect(osSnap.sourceDiskId).toBe(osDisk);
      expect(osSnap.incremental).toBe(true);
      const summary = (await evidenceFor(env).store.get(run, ARTIFACTS.installSummary.path))!
        .toString("utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as InstallOutcome);
      const firstInstall = Math.min(...summary.map((o) => Date.parse(o.finishedAt)));
      expect(Date.parse(osSnap.timeCreated!)).toBeLessThan(firstInstall);
      // Retention: our old snapshot of this device went; the untagged one and the other device's stayed.
      expect(taken.retention.deleted.map((d) => [d.runId, d.result])).toEqual([["run-20251201-older-0001", "deleted"]]);
      const left: string[] = [];
      for await (const s of compute.snapshots.listByResourceGroup(rg)) left.push(s.name ?? "");
      expect(left).toEqual(expect.arrayContaining(["old-untagged", "old-other-device", osSnap.snapshotName]));
      expect(left).not.toContain("old-patchpilot");
      const snap = await compute.snapshots.get(rg, osSnap.snapshotName);
      expect(snap.tags).toMatchObject({ [SNAPSHOT_TAGS.run]: run.runId, [SNAPSHOT_TAGS.device]: "FAB-WEB01" });

      // 12-remediation/restore.json: deallocate, disk from the OS snapshot, swap, start; the old disk kept.
      const restore = await readJson<RestoreRecord>(env, run, ARTIFACTS.restore);
      expect(restore).toMatchObject({ ok: true, snapshotId: osSnap.snapshotId, oldDiskId: osDisk, oldDiskKept: true });
      expect(restore.actions.map((a) => [a.action, a.ok])).toEqual([
        ["deallocate", true],
        ["createDisk", true],
        ["swapOsDisk", true],
        ["start", true],
      ]);
      // The emulator's VM now runs on the restored disk; the old disk still exists.
      const after = await compute.virtualMachines.get(rg, vm.vmName);
      expect(after.storageProfile?.osDisk?.managedDisk?.id).toBe(restore.newDiskId);
      const restored = await compute.disks.get(rg, restore.newDiskId!.split("/").at(-1)!);
      expect(restored.creationData?.sourceResourceId).toBe(osSnap.snapshotId);
      await expect(compute.disks.get(rg, osDisk.split("/").at(-1)!)).resolves.toMatchObject({ id: osDisk });

      // The server: what the run installed is gone (taken back by the swap, not uninstalled by a script).
      const undone = env.server.state.uninstallRecords;
      expect(undone.length).toBeGreaterThan(0);
      for (const r of undone) expect(r.owner).toMatch(/^arm:os-disk-swap:/);
      expect(undone.map((r) => r.update.kb)).toContain("KB5012346");

      const before = await readJson<Regressions>(env, run, ARTIFACTS.regressions);
      const again = await readJson<Regressions>(env, run, ARTIFACTS.remediationRegressions);
      expect(before.TotalRegressions).toBeGreaterThan(0);
      expect(again.TotalRegressions).toBe(0);

      const remediation = await readJson<RemediationRecord>(env, run, ARTIFACTS.remediation);
      expect(remediation).toMatchObject({
        mode: "restoreSnapshot",
        outcome: "recovered",
        regressionsAfter: 0,
        restore: { snapshotId: osSnap.snapshotId, newDiskId: restore.newDiskId, oldDiskId: osDisk },
      });
      expect(remediation.quarantine).toEqual(expect.arrayContaining([{ kind: "kb", kb: "KB5012346" }]));

      const decision = await readJson<ExitCodeRecord>(env, run, ARTIFACTS.exitCode);
      expect(decision.rule).toBe("220.regressions");
      expect(decision.reasons.join("\n")).toMatch(/remediation \(restoreSnapshot\): recovered/);
      const read = new Map(decision.artifactsRead.map((a) => [a.path, a.status]));
      expect(read.get(ARTIFACTS.diskSnapshots.path)).toBe("verified");
      expect(read.get(ARTIFACTS.restore.path)).toBe("verified");
      expect(read.get(ARTIFACTS.remediation.path)).toBe("verified");

      const active = await env.quarantine.activeFor("contoso-msp", "fabrikam");
      expect(active.map((q) => [q.scope, q.client, q.update])).toEqual(
        expect.arrayContaining([["client", "fabrikam", { kind: "kb", kb: "KB5012346" }]]),
      );
      for (const q of active) expect(q.source.runs).toEqual([run.runId]);
    });
  });

  describe("the snapshot cannot be taken", () => {
    let env: Env;
    beforeAll(async () => {
      // A ReadOnly lock on the VM's resources: ARM refuses the snapshot PUT with 409 ScopeLocked.
      env = await start((device) => {
        device["tags"] = {
          ...(device["tags"] ?? {}),
          [SIM_LOCK_TAG]: "ReadOnly",
        };
      });
    });
    afterAll(async () => {
      await env?.close();
    });

    it("installs nothing and ends 170 (170.snapshot-failed), the refusal sealed in 05-install/snapshots.json", async () => {
      const { input, result, states } = await driveRun(env, web(env));
      expect(result.exitCode).toBe(170);
      const stages = states.map((s) => s.stage);
      expect(stages).not.toContain("install");
      const stopped = states.at(-1)!.events.find((e) => e.type === "run.stopped");
      expect(stopped).toMatchObject({ phase: "05-install" });
      // The simulated server ran no install script and installed nothing.
      expect(env.server.state.installRecords).toEqual([]);
      const taken = await readJson<DiskSnapshotsRecord>(env, input.run, ARTIFACTS.diskSnapshots);
      expect(taken.ok).toBe(false);
      expect(taken.snapshots).toEqual([]);
      expect(taken.error).toMatch(/409 ScopeLocked/);
      const decision = await readJson<ExitCodeRecord>(env, input.run, ARTIFACTS.exitCode);
      expect(decision.rule).toBe("170.snapshot-failed");
      expect(decision.reasons[0]).toMatch(/no pre-install snapshot, nothing was installed: .*ScopeLocked/);
      const read = new Map(decision.artifactsRead.map((a) => [a.path, a.status]));
      expect(read.get(ARTIFACTS.diskSnapshots.path)).toBe("verified");
      expect(await evidenceFor(env).store.get(input.run, ARTIFACTS.installSummary.path)).toBeUndefined();
    });
  });

  describe("every activity call retried (at-least-once)", () => {
    let env: Env;
    beforeAll(async () => {
      env = await start();
    });
    afterAll(async () => {
      await env?.close();
    });

    it("a retried snapshot or restore call writes no new evidence and gives the same answer", async () => {
      // driveRun re-runs each call with the same input after the first one changed ARM (snapshots taken, the OS disk
      // swapped) and fails on a different answer or a new blob.
      const { input, result, retried } = await driveRun(env, web(env), { retryEveryCall: true });
      expect(retried).toBeGreaterThan(0);
      expect(result.exitCode).toBe(220);
      const remediation = await readJson<RemediationRecord>(env, input.run, ARTIFACTS.remediation);
      expect(remediation.outcome).toBe("recovered");
      // One snapshot per disk and one restored disk: nothing taken or created twice.
      const vm = web(env);
      const compute = env.arm.compute(vm.subscriptionId);
      const names: string[] = [];
      for await (const s of compute.snapshots.listByResourceGroup(vm.resourceGroup)) names.push(s.name ?? "");
      expect(names.filter((n) => n.includes(input.run.runId)).sort()).toEqual(
        [`pp-FAB-WEB01-${input.run.runId}-lun0`, `pp-FAB-WEB01-${input.run.runId}-os`].sort(),
      );
      const restore = await readJson<RestoreRecord>(env, input.run, ARTIFACTS.restore);
      expect(restore.actions.map((a) => a.action)).toEqual(["deallocate", "createDisk", "swapOsDisk", "start"]);
    });
  });
});
