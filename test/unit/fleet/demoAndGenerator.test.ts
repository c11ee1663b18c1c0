import * as fs from "node:fs";
import * as path from "node:path";
import { renderScenarioSchema, SCENARIO_SCHEMA_FILE } from "../../../local/fleet/scenario/exportScenarioSchema";
import { parseGenerateArgs } from "../../../local/fleet/scenario/generate";
import { generateScenario } from "../../../local/fleet/scenario/generateScenario";
import { parseScenario, readScenarioFile } from "../../../local/fleet/scenario/parseScenario";
import { resolveDeviceUpdates } from "../../../local/fleet/scenario/resolveDeviceUpdates";

const ROOT = path.resolve(__dirname, "../../..");

describe("local/scenarios/demo.json", () => {
  const demo = readScenarioFile(path.join(ROOT, "local/scenarios/demo.json"));
  const byName = (name: string) => demo.devices.find((d) => d.name === name);

  it("has 2 tenants, 4 clients and ~24 devices mixing Arc and VMSS, Windows and Linux", () => {
    expect(demo.tenants).toHaveLength(2);
    expect(demo.clients).toHaveLength(4);
    expect(demo.devices.length).toBeGreaterThanOrEqual(20);
    for (const kind of ["arc", "vmss"])
      for (const os of ["windows", "linux"])
        expect(demo.devices.some((d) => d.kind === kind && d.os === os)).toBe(true);
  });

  it("has each required case", () => {
    expect(demo.devices.some((d) => d.breaks.some((b) => b.when === "immediately"))).toBe(true);
    expect(demo.devices.some((d) => d.breaks.some((b) => b.when === "afterReboot"))).toBe(true);
    expect(demo.devices.some((d) => resolveDeviceUpdates(demo, d).some((u) => u.outcome.result === "fails"))).toBe(
      true,
    );
    expect(demo.devices.some((d) => d.agent.status === "Disconnected")).toBe(true);
    expect(demo.devices.some((d) => d.runningCommand?.runId !== undefined)).toBe(true);
    const never = demo.policies.filter((p) => p.update?.rebootPolicy === "Never" && p.scope.level === "device");
    const neverDevice = never[0]?.scope.level === "device" ? byName(never[0].scope.device) : undefined;
    expect(
      neverDevice && resolveDeviceUpdates(demo, neverDevice).some((u) => u.rebootBehavior === "AlwaysRequiresReboot"),
    ).toBe(true);
    const server01 = byName("WIN-SERVER01");
    expect(server01 && resolveDeviceUpdates(demo, server01).map((u) => ("kb" in u ? u.kb : u.name))).toContain(
      "KB5012345",
    );
    const clean = byName("WIN-SERVER01");
    expect(clean?.breaks).toEqual([]);
    expect(clean?.agent).toEqual({ status: "Connected", disconnects: [], disconnectDuring: [] });
    expect(clean?.outcomes).toEqual({});
  });
});

describe("generateScenario", () => {
  it("is deterministic and valid for 5,000 devices, fast", () => {
    const started = Date.now();
    const a = JSON.stringify(generateScenario({ devices: 5000, seed: 1 }));
    const parsed = parseScenario(JSON.parse(a));
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(parsed.devices).toHaveLength(5000);
    expect(JSON.stringify(generateScenario({ devices: 5000, seed: 1 }))).toBe(a);
    expect(JSON.stringify(generateScenario({ devices: 5000, seed: 2 }))).not.toBe(a);
    expect(parsed.devices.some((d) => d.kind === "vmss")).toBe(true);
    expect(parsed.devices.some((d) => d.breaks.length > 0)).toBe(true);
    expect(parsed.devices.some((d) => d.agent.status === "Disconnected")).toBe(true);
  });

  it("reads its command line", () => {
    expect(parseGenerateArgs(["--devices", "5000", "--seed", "7"])).toEqual({ devices: 5000, seed: 7 });
    expect(parseGenerateArgs(["--devices", "10"])).toEqual({ devices: 10, seed: 1 });
    expect(() => parseGenerateArgs(["--devices", "many"])).toThrow(/usage/);
    expect(() => parseGenerateArgs(["--colour", "blue"])).toThrow(/usage/);
  });
});

describe("docs/scenarios/scenario.schema.json", () => {
  it("matches the zod schema (no drift)", () => {
    const file = path.join(ROOT, SCENARIO_SCHEMA_FILE);
    const onDisk = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
    if (onDisk !== renderScenarioSchema()) {
      throw new Error(
        `${SCENARIO_SCHEMA_FILE} has drifted from local/fleet/scenario/scenarioSchema.ts. Run \`npm run build && node dist/local/fleet/scenario/exportScenarioSchema.js\`.`,
      );
    }
  });

  it("describes the input side: defaulted fields optional, devices required", () => {
    const json = JSON.parse(renderScenarioSchema()) as { required: string[]; $id: string };
    expect(json.required).toEqual(["tenants", "clients", "devices"]);
    expect(json.$id).toBe("https://patchpilot.dev/scenarios/scenario.schema.json");
  });
});
