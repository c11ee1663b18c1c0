import { createHash } from "node:crypto";
import path from "node:path";
import { ARTIFACTS } from "../../../lib/domain/artifacts";
import { BUNDLE_HEADER_PATTERN } from "../../../lib/device/bundle";
import { parseScriptHeader } from "../../../lib/device/header";
import { verifyRun } from "../../../lib/evidence/verifyRun";
import type { GateReport } from "../../../lib/schemas/artifacts/gates";
import type { ExitCodeRecord } from "../../../lib/schemas/artifacts/outcome";
import { buildFleet, type SimulatedFleet } from "../../../local/fleet/scenario/buildFleet";
import { readScenarioFile } from "../../../local/fleet/scenario/parseScenario";
import { seedPolicyStore } from "../../../local/fleet/scenario/seedPolicies";
import { ManualClock } from "../fleet/testFleet";
import { driveRun, evidenceFor, startRunEnv, type DrivenRun, type RunEnv } from "./deviceRunHarness";

// Issue 20: pre-patch gates. The adatum client's layer asks for 10 GiB and 10% free on the system volume and a backup
// newer than 26 hours (read through the MSP's provider script, pinned by its SHA-256). ADT-DC01 has 2 GiB free on C:;
// adt-lnx-db01's backup agent last succeeded 72 hours ago; adt-lnx-web01 meets every gate. The emulator's own record of the
// scripts each device ran is the proof that nothing was installed.

const sha256 = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex");
const WINDOWS_PROVIDER = "(Get-Date).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ')\n";
const LINUX_PROVIDER = "date -u +%Y-%m-%dT%H:%M:%SZ\n";
const GiB = 1024 ** 3;

let env: RunEnv;
let fleet: SimulatedFleet;
/** The scripts each simulated device was asked to run (each section of a bundle), in order. */
const ran = new Map<string, string[]>();

beforeAll(async () => {
  const clock = new ManualClock(new Date("2026-01-20T01:00:00Z"));
  const scenario = readScenarioFile(path.resolve(__dirname, "../../../local/scenarios/demo.json"));
  const device = (name: string) => {
    const found = scenario.devices.find((d) => d.name === name);
    if (found === undefined) throw new Error(`no ${name} in the demo`);
    return found;
  };
  device("ADT-DC01").disks = [{ mount: "C:", freeBytes: 2 * GiB, totalBytes: 100 * GiB }];
  device("ADT-DC01").gateProbes = {
    backup: { lastSuccessHoursAgo: 3, providerFails: false },
    custom: {},
    hookScripts: {},
  };
  device("adt-lnx-db01").gateProbes = {
    backup: { lastSuccessHoursAgo: 72, providerFails: false },
    custom: {},
    hookScripts: {},
  };
  device("adt-lnx-web01").gateProbes = {
    backup: { lastSuccessHoursAgo: 5, providerFails: false },
    custom: {},
    hookScripts: {},
  };
  const adatum = scenario.policies.find((l) => l.scope.level === "client" && l.scope.client === "adatum");
  if (adatum === undefined) throw new Error("no adatum client layer in the demo");
  Object.assign(adatum, {
    gates: {
      minFreeDiskMb: 10_240,
      minFreeDiskPercent: 10,
      backup: {
        maxAgeHours: 26,
        provider: {
          windows: { sha256: sha256(WINDOWS_PROVIDER), text: WINDOWS_PROVIDER, timeoutSeconds: 60 },
          linux: { sha256: sha256(LINUX_PROVIDER), text: LINUX_PROVIDER, timeoutSeconds: 60 },
        },
      },
    },
  });
  fleet = buildFleet(scenario, clock);
  for (const simulated of fleet.devices) {
    const execute = simulated.execute.bind(simulated);
    simulated.execute = (request) => {
      // A bundle's sections come back through execute one by one (local/fleet/device/runBundle.ts).
      if (!BUNDLE_HEADER_PATTERN.test(request.script))
        ran.set(simulated.name, [...(ran.get(simulated.name) ?? []), parseScriptHeader(request.script)?.id ?? "?"]);
      return execute(request);
    };
  }
  env = await startRunEnv(
    fleet,
    clock,
    scenario.subscriptions.map((s) => s.id),
  );
  await seedPolicyStore(env.policies, scenario);
});
afterAll(async () => {
  await env?.close();
});

async function runDevice(name: string): Promise<{ driven: DrivenRun; read: <T>(p: string) => Promise<T | undefined> }> {
  const ref = env.devices.get(name);
  if (ref === undefined) throw new Error(`no ${name}`);
  const driven = await driveRun(env, ref);
  const store = evidenceFor(env).store;
  const read = async <T>(p: string): Promise<T | undefined> => {
    const bytes = await store.get(driven.input.run, p);
    return bytes === undefined ? undefined : (JSON.parse(bytes.toString("utf8")) as T);
  };
  return { driven, read };
}

describe("pre-patch gates on the local stack", () => {
  it("a failed disk-space gate installs nothing and ends 170.gate-failed with the gate evidence sealed", async () => {
    const { driven, read } = await runDevice("ADT-DC01");
    const decision = await read<ExitCodeRecord>(ARTIFACTS.exitCode.path);
    expect(decision?.reasons).toEqual([expect.stringContaining("minFreeDiskMb")]);
    expect(decision?.rule).toBe("170.gate-failed");
    expect(driven.result.exitCode).toBe(170);
    const gates = await read<GateReport>(ARTIFACTS.gates.path);
    expect(gates?.passed).toBe(false);
    const verdicts = Object.fromEntries((gates?.results ?? []).map((r) => [r.gate, r.verdict]));
    // 2 GiB of 100: both disk gates fail; the backup (3 h old) passes.
    expect(verdicts).toEqual({ minFreeDiskMb: "fail", minFreeDiskPercent: "fail", backup: "pass" });
    expect(gates?.results.find((r) => r.gate === "minFreeDiskMb")?.detail).toContain("2048 MiB free (2%");
    expect(gates?.results.every((r) => r.setBy === "client:contoso-msp/adatum")).toBe(true);
    // The emulator ran the read-only first command only (issue 22: the catalog scan rides in it, and changes
    // nothing on the device): nothing installed, and no catalog artifact, since the gate stopped the run first.
    expect(ran.get("ADT-DC01")).toEqual(["baseline", "validate", "gates", "catalog"]);
    expect(fleet.devices.find((d) => d.name === "ADT-DC01")?.state.installRecords).toEqual([]);
    expect(await read(ARTIFACTS.catalog.path)).toBeUndefined();
    const stopped = driven.states.at(-1)?.events.find((e) => e.type === "run.stopped");
    expect(stopped?.phase).toBe("04-pre-validation");
    // gates.json is in the sealed Merkle tree and verifies with the rest of the run.
    const verified = await verifyRun(evidenceFor(env), driven.input.run);
    expect(verified.ok).toBe(true);
    expect(JSON.stringify(verified)).toContain(ARTIFACTS.gates.path);
    expect(await env.locks.read(driven.input.run.tenant, driven.input.run.device)).toBeUndefined();
  });

  it("a stale backup (72 h, at most 26 allowed) installs nothing and ends 170.gate-failed", async () => {
    const { driven, read } = await runDevice("adt-lnx-db01");
    expect(driven.result.exitCode).toBe(170);
    const decision = await read<ExitCodeRecord>(ARTIFACTS.exitCode.path);
    expect(decision?.rule).toBe("170.gate-failed");
    const gates = await read<GateReport>(ARTIFACTS.gates.path);
    const backup = gates?.results.find((r) => r.gate === "backup");
    expect(backup?.verdict).toBe("fail");
    // Judged when the first command was collected (after its catalog scan too): 72 h and a few minutes.
    expect(backup?.detail).toMatch(/\(72(\.\d)? h ago\); at most 26 h allowed/);
    expect(ran.get("adt-lnx-db01")).toEqual(["baseline", "validate", "gates", "catalog"]);
    expect(await read(ARTIFACTS.catalog.path)).toBeUndefined();
    expect(fleet.devices.find((d) => d.name === "adt-lnx-db01")?.state.installRecords).toEqual([]);
    expect((await verifyRun(evidenceFor(env), driven.input.run)).ok).toBe(true);
  });

  it("a device that meets every gate goes on to the catalog and the install", async () => {
    const { driven, read } = await runDevice("adt-lnx-web01");
    const gates = await read<GateReport>(ARTIFACTS.gates.path);
    expect(gates?.passed).toBe(true);
    expect(driven.result.exitCode).not.toBe(170);
    expect(ran.get("adt-lnx-web01")?.slice(0, 4)).toEqual(["baseline", "validate", "gates", "catalog"]);
    expect(ran.get("adt-lnx-web01")).toContain("install");
  });
});
