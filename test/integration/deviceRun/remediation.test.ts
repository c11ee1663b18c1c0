import { readFileSync } from "node:fs";
import path from "node:path";
import { buildRunEvents } from "../../../lib/azure/events/buildEvents";
import { readRunEventData } from "../../../lib/azure/events/readRunEventData";
import { ARTIFACTS } from "../../../lib/domain/artifacts";
import { openEvidenceSession } from "../../../lib/evidence/evidenceSession";
import type { Catalog } from "../../../lib/schemas/artifacts/catalog";
import type { ExitCodeRecord, FinalReport } from "../../../lib/schemas/artifacts/outcome";
import type { RemediationRecord, UninstallRecord } from "../../../lib/schemas/artifacts/remediation";
import type { Regressions } from "../../../lib/schemas/artifacts/validation";
import type { RunRef } from "../../../lib/schemas/common";
import type { PolicyLayer } from "../../../lib/schemas/policyLayer";
import { buildFleet } from "../../../local/fleet/scenario/buildFleet";
import { parseScenario } from "../../../local/fleet/scenario/parseScenario";
import { seedPolicyStore } from "../../../local/fleet/scenario/seedPolicies";
import { ManualClock } from "../fleet/testFleet";
import { driveRun, evidenceFor, startRunEnv, type RunEnv } from "./deviceRunHarness";

// Issue 20, remediation of a regression on the local stack: the demo's FAB-WEB01 breaks WebApp/home as soon as its
// .NET update (KB5012346) is in place. With `remediation: uninstall` on its device layer, the run removes what it
// installed, validates again and records the outcome; the exit code stays 220. Everything below is read from the
// sealed evidence and from the emulator's device state (what the uninstall actually changed on the server).

const DEMO = path.resolve(__dirname, "../../../local/scenarios/demo.json");

interface Env extends RunEnv {
  device(name: string): import("../../../local/fleet/device/simulatedServer").SimulatedServer;
}

/** The demo fleet, edited by `change` (its parsed JSON), with `remediation` on FAB-WEB01's device layer. */
async function start(change: (scenario: Record<string, unknown>) => void = () => {}): Promise<Env> {
  const json = JSON.parse(readFileSync(DEMO, "utf8")) as Record<string, unknown>;
  change(json);
  const scenario = parseScenario(json, DEMO);
  const clock = new ManualClock(new Date("2026-01-20T01:00:00Z"));
  const fleet = buildFleet(scenario, clock);
  const env = await startRunEnv(
    fleet,
    clock,
    scenario.subscriptions.map((s) => s.id),
  );
  await seedPolicyStore(env.policies, scenario);
  const scope = { level: "device", tenant: "contoso-msp", client: "fabrikam", device: "FAB-WEB01" } as const;
  const layer: PolicyLayer = (await env.policies.getLayer(scope)) ?? { schemaVersion: 1, scope };
  await env.policies.putLayer({ ...layer, remediation: { mode: "uninstall" } });
  return {
    ...env,
    device: (name) => {
      const found = fleet.devices.find((d) => d.name === name);
      if (found === undefined) throw new Error(`no ${name}`);
      return found;
    },
  };
}

async function readJson<T>(env: RunEnv, run: RunRef, artifact: { path: string }): Promise<T> {
  const bytes = await evidenceFor(env).store.get(run, artifact.path);
  if (bytes === undefined) throw new Error(`no ${artifact.path}`);
  return JSON.parse(bytes.toString("utf8")) as T;
}

function deviceRef(env: RunEnv, name: string) {
  const ref = env.devices.get(name);
  if (ref === undefined) throw new Error(`no ${name}`);
  return ref;
}

describe("remediation by uninstall after a regression (issue 20)", () => {
  describe("the regression clears once the update is removed", () => {
    let env: Env;
    let firstRun = "";
    beforeAll(async () => {
      env = await start();
    });
    afterAll(async () => {
      await env?.close();
    });

    it("removes the updates the run installed, validates again, and still ends 220 with 'recovered'", async () => {
      const { input, result, states } = await driveRun(env, deviceRef(env, "FAB-WEB01"));
      const run = input.run;
      expect(result.exitCode).toBe(220);
      // The post stage ran in the boot probe's command and was decided in the same call (issue 22), so the run goes
      // from the probe straight into the remediation.
      expect(states.map((s) => s.stage)).toEqual(
        expect.arrayContaining(["bootProbe", "remediate", "revalidate", "done"]),
      );

      // The device: the KBs the run installed are gone, except those Windows cannot remove.
      const server = env.device("FAB-WEB01");
      const removed = server.state.uninstallRecords.map((r) => r.update.kb).sort();
      expect(removed).toEqual(["KB5012345", "KB5012346"]);

      const uninstall = await readJson<UninstallRecord>(env, run, ARTIFACTS.uninstall);
      // Newest first (reverse install order), each KB once, with the device's answer for each.
      expect(uninstall.results.map((r) => [r.kb, r.result])).toEqual(
        expect.arrayContaining([
          ["KB5012346", "Uninstalled"],
          ["KB5012345", "Uninstalled"],
          ["KB2267602", "NotUninstallable"],
          ["KB890830", "NotUninstallable"],
        ]),
      );
      const before = await readJson<Regressions>(env, run, ARTIFACTS.regressions);
      const after = await readJson<Regressions>(env, run, ARTIFACTS.remediationRegressions);
      expect(before.TotalRegressions).toBeGreaterThan(0);
      expect(after.TotalRegressions).toBe(0);

      const remediation = await readJson<RemediationRecord>(env, run, ARTIFACTS.remediation);
      expect(remediation).toMatchObject({ mode: "uninstall", outcome: "recovered", regressionsAfter: 0 });
      expect(remediation.quarantine).toEqual(
        expect.arrayContaining([
          { kind: "kb", kb: "KB5012345" },
          { kind: "kb", kb: "KB5012346" },
        ]),
      );
      expect(remediation.quarantine).toHaveLength(2);

      const decision = await readJson<ExitCodeRecord>(env, run, ARTIFACTS.exitCode);
      expect(decision.rule).toBe("220.regressions");
      expect(decision.reasons.join("\n")).toMatch(/remediation \(uninstall\): recovered/);
      // Sealed and verified like every artifact: the exit code read them back.
      const read = new Map(decision.artifactsRead.map((a) => [a.path, a.status]));
      expect(read.get(ARTIFACTS.remediation.path)).toBe("verified");
      expect(read.get(ARTIFACTS.uninstall.path)).toBe("verified");
      expect(read.get(ARTIFACTS.remediationRegressions.path)).toBe("verified");

      // The quarantine store (Azurite table) now holds the two KBs at the client layer, naming this run.
      const active = await env.quarantine.activeFor("contoso-msp", "fabrikam");
      expect(active.map((q) => [q.scope, q.client, q.update])).toEqual(
        expect.arrayContaining([
          ["client", "fabrikam", { kind: "kb", kb: "KB5012345" }],
          ["client", "fabrikam", { kind: "kb", kb: "KB5012346" }],
        ]),
      );
      expect(active).toHaveLength(2);
      for (const q of active) {
        expect(q.source).toEqual({ runs: [run.runId], clients: ["fabrikam"] });
        expect(q.reason).toContain(run.runId);
      }
      firstRun = run.runId;

      // The events read the same sealed evidence: remediation.completed besides regression.detected.
      const data = await readRunEventData(openEvidenceSession(evidenceFor(env), run), {
        facts: { trigger: input.trigger, dryRun: false },
        at: env.clock.now().toISOString(),
      });
      const events = buildRunEvents(data);
      expect(events.map((e) => e.type)).toEqual([
        "io.patchpilot.run.completed",
        "io.patchpilot.regression.detected",
        "io.patchpilot.remediation.completed",
      ]);
      expect(data.remediation).toMatchObject({
        mode: "uninstall",
        outcome: "recovered",
        regressionsAfter: 0,
        notUninstalled: expect.arrayContaining(["KB2267602", "KB890830"]),
      });
      expect([...(data.remediation?.uninstalled ?? [])].sort()).toEqual(["KB5012345", "KB5012346"]);
      expect(data.evidence.artifacts.map((a) => a.path)).toContain(ARTIFACTS.remediation.path);

      // The report: final-report.json summarises it; report.html lists it among the exit code's reasons.
      const report = await readJson<FinalReport>(env, run, ARTIFACTS.finalReport);
      expect(report).toMatchObject({ exitCode: 220, remediation: { mode: "uninstall", outcome: "recovered" } });
      const html = (await evidenceFor(env).store.get(run, ARTIFACTS.reportHtml.path))?.toString("utf8") ?? "";
      expect(html).toContain("remediation (uninstall): recovered");
      expect(html).toContain('data-phase="12-remediation"');
    });

    it("the client's next run does not install the quarantined KBs, and its catalog says why", async () => {
      // A week later: the lock of the first run is long released.
      env.clock.advance(7 * 86_400_000);
      for (const name of ["FAB-WEB01", "FAB-SQL01"]) {
        const { input } = await driveRun(env, deviceRef(env, name));
        const catalog = await readJson<Catalog>(env, input.run, ARTIFACTS.catalog);
        for (const kb of ["KB5012345", "KB5012346"]) {
          const entry = catalog.updates.find((u) => u.kb === kb);
          expect(entry).toMatchObject({ decision: "excluded" });
          expect(entry?.reason).toMatch(/^quarantined for client fabrikam/);
          expect(entry?.reason).toContain(firstRun);
        }
      }
      // The simulated servers never installed them again: FAB-WEB01 once (the first run), FAB-SQL01 never.
      const installs = (name: string) =>
        env
          .device(name)
          .state.installRecords.filter((r) => r.ok && ["KB5012345", "KB5012346"].includes(r.update.kb ?? ""));
      expect(installs("FAB-WEB01")).toHaveLength(2);
      expect(installs("FAB-SQL01")).toHaveLength(0);
    });
  });

  describe("the regression persists after the removal", () => {
    let env: Env;
    beforeAll(async () => {
      env = await start((json) => {
        const devices = json["devices"] as { name: string; breaks?: Record<string, unknown>[] }[];
        const web = devices.find((d) => d.name === "FAB-WEB01")!;
        web.breaks = (web.breaks ?? []).map((b) => ({ ...b, persistsAfterUninstall: true }));
      });
    });
    afterAll(async () => {
      await env?.close();
    });

    it("records 'still-failing', quarantines nothing, and ends 220", async () => {
      const { input, result } = await driveRun(env, deviceRef(env, "FAB-WEB01"));
      expect(result.exitCode).toBe(220);
      const remediation = await readJson<RemediationRecord>(env, input.run, ARTIFACTS.remediation);
      expect(remediation.outcome).toBe("still-failing");
      expect(remediation.regressionsAfter).toBeGreaterThan(0);
      expect(remediation.quarantine).toEqual([]);
      const decision = await readJson<ExitCodeRecord>(env, input.run, ARTIFACTS.exitCode);
      expect(decision.reasons.join("\n")).toMatch(/remediation \(uninstall\): still-failing: .*WebApp\/home/);
    });
  });

  describe("nothing the run installed can be removed", () => {
    let env: Env;
    beforeAll(async () => {
      env = await start((json) => {
        const devices = json["devices"] as { name: string; uninstalls?: Record<string, unknown> }[];
        const web = devices.find((d) => d.name === "FAB-WEB01")!;
        web.uninstalls = {
          KB5012345: { result: "notUninstallable", detail: "permanent package" },
          KB5012346: { result: "fails", exitCode: 1603 },
        };
      });
    });
    afterAll(async () => {
      await env?.close();
    });

    it("records 'not-possible' with the device's answers and changes nothing on the device", async () => {
      const { input, result, states } = await driveRun(env, deviceRef(env, "FAB-WEB01"));
      expect(result.exitCode).toBe(220);
      expect(states.map((s) => s.stage)).not.toContain("revalidate");
      expect(env.device("FAB-WEB01").state.uninstallRecords).toEqual([]);
      const remediation = await readJson<RemediationRecord>(env, input.run, ARTIFACTS.remediation);
      expect(remediation.outcome).toBe("not-possible");
      expect(remediation.reason).toMatch(/removed none/);
      expect(remediation.notUninstalled.map((u) => [u.kb, u.result])).toEqual(
        expect.arrayContaining([
          ["KB5012345", "NotUninstallable"],
          ["KB5012346", "Failed"],
        ]),
      );
    });
  });
});
