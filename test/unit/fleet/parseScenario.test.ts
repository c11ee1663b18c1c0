import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseScenario, readScenarioFile, ScenarioError } from "../../../local/fleet/scenario/parseScenario";
import type { ScenarioInput } from "../../../local/fleet/scenario/scenarioSchema";
import { smallScenario } from "../../fixtures/fleet/scenarios";

/** The error lines of a scenario that must not parse. */
function problems(input: unknown): string[] {
  try {
    parseScenario(input);
  } catch (error) {
    if (error instanceof ScenarioError) return error.issues.map((i) => `${i.path}: ${i.message}`);
    throw error;
  }
  throw new Error("the scenario parsed");
}

function edited(edit: (s: ScenarioInput & Record<string, unknown>) => void): ScenarioInput {
  const s = smallScenario() as ScenarioInput & Record<string, unknown>;
  edit(s);
  return s;
}

const win = (s: ScenarioInput) => s.devices[0] as Extract<ScenarioInput["devices"][number], { os: "windows" }>;

describe("parseScenario", () => {
  it("applies defaults so a small scenario stays short", () => {
    const s = parseScenario({
      tenants: [{ id: "t1", displayName: "T1" }],
      clients: [{ tenant: "t1", client: "c1", displayName: "C1", timeZone: "UTC", windows: [] }],
      devices: [{ name: "srv1", os: "linux", tenant: "t1", client: "c1" }],
    });
    expect(s.subscriptions).toHaveLength(1);
    expect(s.arm).toEqual({
      throttling: {
        writes: { capacity: 200, refillPerSecond: 10 },
        reads: { capacity: 250, refillPerSecond: 25 },
        deletes: { capacity: 200, refillPerSecond: 10 },
      },
      latencyMs: 0,
      transientErrorRate: 0,
      pageSize: 50,
    });
    const d = s.devices[0];
    expect(d?.kind).toBe("arc");
    expect(d?.agent).toEqual({ status: "Connected", disconnects: [], disconnectDuring: [] });
    expect(d?.reboot.reconnectDelaySeconds).toBe(30);
    expect(s.clients[0]?.schemaVersion).toBe(1);
  });

  it("names the JSON path of a bad field", () => {
    expect(problems(edited((s) => (win(s).updates![0]!.kb = "5012345")))).toEqual([
      "devices[0].updates[0].kb: must look like KB5012345",
    ]);
  });

  it("names every bad field at once, including unknown fields", () => {
    const lines = problems(
      edited((s) => {
        win(s).updates![1]!.updateId = "not-a-guid";
        (s.devices[1] as Record<string, unknown>).colour = "blue";
        s.arm = { pageSize: 0 };
      }),
    );
    expect(lines).toEqual(
      expect.arrayContaining([
        "devices[0].updates[1].updateId: must be a WUA update id (GUID)",
        "devices[1].colour: unknown field",
        expect.stringMatching(/^arm\.pageSize: /),
      ]),
    );
  });

  it("names the path inside a union member (the device's OS decides its update shape)", () => {
    const lines = problems(
      edited(
        (s) =>
          ((s.devices[1] as { updates: unknown[] }).updates = [
            { name: "openssl", currentVersion: "1", version: "bad version!" },
          ]),
      ),
    );
    expect(lines).toEqual(["devices[1].updates[0].version: must be a package version"]);
  });

  it("checks references across the file", () => {
    const lines = problems(
      edited((s) => {
        s.devices.push({ ...win(s), name: "win-server01" });
        win(s).breaks = [
          { update: "KB9999999", app: "WebApp", check: "home" },
          { update: "KB5012345", app: "WebApp", check: "nope" },
        ];
        s.clients.push({ tenant: "nobody", client: "x", displayName: "X", timeZone: "UTC", windows: ["missing"] });
        (s.devices[1] as { ring?: string }).ring = "canary";
        s.devices.push({ name: "vm1", os: "linux", kind: "vmss", scaleSet: "vmss-none", tenant: "contoso-msp" });
      }),
    );
    expect(lines).toEqual(
      expect.arrayContaining([
        "devices[2].name: duplicate device win-server01 (also at index 0)",
        "devices[0].breaks[0].update: no update KB9999999 on this device",
        "devices[0].breaks[1].check: no check WebApp/nope in any policy layer or in this device's checks",
        "clients[1].tenant: unknown tenant nobody",
        "clients[1].windows[0]: unknown window missing",
        "devices[1].ring: ring canary is not a ring of window nightly (dev, prod)",
        "devices[3].tenant: set it on the scale set: VMSS instances are targeted by their scale set's tags",
        "devices[3].scaleSet: unknown scale set vmss-none",
      ]),
    );
  });

  it("keeps the lib schemas' own rules for windows and policy layers", () => {
    const lines = problems(
      edited((s) => {
        s.windows![0]!.cutoffMinutesBeforeEnd = 500;
        (s.policies![0] as Record<string, unknown>).extra = 1;
      }),
    );
    expect(lines).toEqual(
      expect.arrayContaining([
        "windows[0].cutoffMinutesBeforeEnd: cutoffMinutesBeforeEnd must be shorter than durationMinutes",
        "policies[0].extra: unknown field",
      ]),
    );
  });

  it("parses HRESULTs written the Windows way into WUA's signed integers", () => {
    const s = parseScenario(
      edited((s) => (win(s).outcomes = { KB5012345: { result: "fails", hresult: "0x80070643" } })),
    );
    expect(s.devices[0]?.outcomes.KB5012345).toEqual({ result: "fails", hresult: -2147023293 });
  });

  it("reports a file that is not JSON as a scenario error", () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "scenario-")), "bad.json");
    fs.writeFileSync(file, "{ tenants: ");
    expect(() => readScenarioFile(file)).toThrow(/bad\.json is invalid:\n {2}\(root\): not JSON/);
  });
});
