import path from "node:path";
import { ARTIFACTS } from "../../../lib/domain/artifacts";
import { decideUpdates } from "../../../lib/domain/catalog/decideUpdates";
import { verifyRun } from "../../../lib/evidence/verifyRun";
import type { Catalog } from "../../../lib/schemas/artifacts/catalog";
import type { RunRecord } from "../../../lib/schemas/artifacts/run";
import { buildFleet, type SimulatedFleet } from "../../../local/fleet/scenario/buildFleet";
import { readScenarioFile } from "../../../local/fleet/scenario/parseScenario";
import { seedPolicyStore } from "../../../local/fleet/scenario/seedPolicies";
import { ManualClock } from "../fleet/testFleet";
import { driveRun, evidenceFor, startRunEnv, type RunEnv } from "./deviceRunHarness";

// A KB quarantined for the device's client (issue 20) is not installed: run.json records the entry and where the
// exclusion came from, catalog.json says who quarantined it, and the simulated server never installs it. A lifted
// entry and another client's entry change nothing.
let env: RunEnv;
let fleet: SimulatedFleet;
beforeAll(async () => {
  const clock = new ManualClock(new Date("2026-01-20T01:00:00Z"));
  const scenario = readScenarioFile(path.resolve(__dirname, "../../../local/scenarios/demo.json"));
  fleet = buildFleet(scenario, clock);
  env = await startRunEnv(
    fleet,
    clock,
    scenario.subscriptions.map((s) => s.id),
  );
  await seedPolicyStore(env.policies, scenario);
  const base = {
    tenant: "contoso-msp",
    reason: "regressed WebApp /health",
    source: { runs: ["run-20260113-fab-web01-0001"], clients: ["fabrikam"] },
    quarantinedAt: "2026-01-14T02:00:00Z",
    quarantinedBy: "patchpilot",
  };
  await env.quarantine.quarantine({
    ...base,
    scope: "client",
    client: "fabrikam",
    update: { kind: "kb", kb: "KB5012346" },
  });
  // Another client's quarantine, and a lifted tenant-wide one: neither applies to WIN-SERVER01.
  await env.quarantine.quarantine({
    ...base,
    scope: "client",
    client: "adatum",
    update: { kind: "kb", kb: "KB890830" },
  });
  const { entry } = await env.quarantine.quarantine({
    ...base,
    scope: "tenant",
    update: { kind: "kb", kb: "KB2267602" },
  });
  await env.quarantine.lift("contoso-msp", entry.id, { at: "2026-01-15T09:00:00Z", by: "alice", reason: "fixed" });
});
afterAll(async () => {
  await env?.close();
});

describe("a KB quarantined for the device's client", () => {
  it("is excluded with the quarantine named in catalog.json and run.json, and never installed", async () => {
    const ref = env.devices.get("WIN-SERVER01");
    if (ref === undefined) throw new Error("no WIN-SERVER01");
    const driven = await driveRun(env, ref);
    const { run } = driven.input;
    const store = evidenceFor(env).store;
    const read = async <T>(p: string): Promise<T> => {
      const bytes = await store.get(run, p);
      if (bytes === undefined) throw new Error(`${p} missing`);
      return JSON.parse(bytes.toString("utf8")) as T;
    };
    const record = await read<RunRecord>(ARTIFACTS.run.path);
    expect(record.quarantine?.map((q) => q.id)).toEqual(["client.fabrikam.kb.KB5012346"]);
    expect(record.policy.update.excludeKbs).toContain("KB5012346");
    expect(record.policyProvenance["update.excludeKbs[KB5012346]"]).toBe("quarantine:client.fabrikam.kb.KB5012346");

    const catalog = await read<Catalog>(ARTIFACTS.catalog.path);
    const byKb = new Map(catalog.updates.map((u) => [u.kb, u]));
    expect(byKb.get("KB5012346")).toMatchObject({ decision: "excluded" });
    expect(byKb.get("KB5012346")?.reason).toMatch(/^quarantined for client fabrikam since 2026-01-14T02:00:00Z/);
    expect(byKb.get("KB5012346")?.reason).toContain("run-20260113-fab-web01-0001");
    expect(byKb.get("KB5012345")?.decision).toBe("approved");
    // Without the quarantine the same policy would have approved it: the exclusion is the quarantine's doing.
    const held = byKb.get("KB5012346");
    if (held === undefined) throw new Error("KB5012346 not in the catalog");
    const { decision: _d, reason: _r, ...applicable } = held;
    const without = {
      ...record.policy.update,
      excludeKbs: record.policy.update.excludeKbs.filter((k) => k !== "KB5012346"),
    };
    expect(decideUpdates([applicable], without, new Date(catalog.evaluatedAt))[0]?.decision).toBe("approved");

    const installed = fleet.devices.find((d) => d.name === "WIN-SERVER01")?.state.installRecords ?? [];
    expect(installed.map((r) => r.update.kb)).toContain("KB5012345");
    expect(installed.map((r) => r.update.kb)).not.toContain("KB5012346");
    expect((await verifyRun(evidenceFor(env), run)).ok).toBe(true);
  });
});
