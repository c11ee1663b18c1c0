import type { ArmExchange } from "../../../local/fleet/armServer";
import { generateScenario, MIXED_KINDS } from "../../../local/fleet/scenario/generateScenario";
import { withOneRing } from "../../../local/fleet/scenario/oneRing";
import { parseScenario } from "../../../local/fleet/scenario/parseScenario";
import type { ScenarioInput } from "../../../local/fleet/scenario/scenarioSchema";
import { NOT_VENDORED, operationOf, shapeOf } from "../../conformance/notVendored";
import { recordWindow, type RecordedWindow } from "../../conformance/recordWindow";
import { SpecIndex } from "../../conformance/swaggerSpecs";

// Generated devices, a quarter each Arc, Uniform VMSS, Flexible VMSS and Azure VM, run through every window; the
// same fleet with every device an Arc machine is the reference: the kind decides the API, never the outcome.
// 40 in `npm test`; the 100 take about 7 minutes on a shared 2-core machine (two full fleet runs), so they
// run on demand: `PATCHPILOT_TEST_MIXED_DEVICES=100 npx jest test/integration/window/mixedFleet` (passed: 100 of
// 100 devices as in the all-Arc run, 0 spec violations).
const DEVICES = Number(process.env.PATCHPILOT_TEST_MIXED_DEVICES ?? "40");
const T0 = new Date("2026-01-20T01:00:00.000Z");
const UNLIMITED = { capacity: 1_000_000, refillPerSecond: 1_000_000 };
/** Throttling has its own tests (throttling.test.ts): here real Retry-After waits would only cost minutes. */
const CALM = { throttling: { writes: UNLIMITED, reads: UNLIMITED }, latencyMs: 0, transientErrorRate: 0 };

type DeviceInput = ScenarioInput["devices"][number];

/** The same fleet, every device an Arc machine targeted by the tags its scale set (if any) gave it. */
function allArc(input: ScenarioInput): ScenarioInput {
  const sets = new Map((input.scaleSets ?? []).map((s) => [s.name, s]));
  return {
    ...input,
    scaleSets: [],
    devices: input.devices.map((d): DeviceInput => {
      const { kind: _kind, scaleSet, instanceId: _instanceId, ...rest } = d;
      const set = scaleSet === undefined ? undefined : sets.get(scaleSet);
      return set === undefined
        ? rest
        : { ...rest, tenant: set.tenant, client: set.client, ring: set.ring, window: set.window };
    }),
  };
}

/** Which run-command API each device's PUTs went to, by the machine name in the path. */
function apisUsed(exchanges: readonly ArmExchange[]): Map<string, Set<string>> {
  const used = new Map<string, Set<string>>();
  for (const e of exchanges) {
    if (e.method !== "PUT") continue;
    const path = decodeURIComponent(new URL(e.url, "https://x").pathname);
    const m =
      /\/Microsoft\.HybridCompute\/machines\/([^/]+)\/runCommands\//i.exec(path) ??
      /\/Microsoft\.Compute\/virtualMachines\/([^/]+)\/runCommands\//i.exec(path) ??
      /\/Microsoft\.Compute\/virtualMachineScaleSets\/([^/]+\/virtualMachines\/[^/]+)\/runCommands\//i.exec(path);
    if (m?.[1] === undefined) continue;
    const api = /HybridCompute/i.test(path)
      ? "HybridCompute/machines/runCommands"
      : /virtualMachineScaleSets/i.test(path)
        ? "Compute/virtualMachineScaleSets/virtualMachines/runCommands"
        : "Compute/virtualMachines/runCommands";
    used.set(m[1], new Set([...(used.get(m[1]) ?? []), api]));
  }
  return used;
}

describe(`a generated ${DEVICES}-device fleet mixing Arc, Uniform VMSS, Flexible VMSS and Azure VMs`, () => {
  const input = withOneRing(generateScenario({ devices: DEVICES, seed: 1, kinds: MIXED_KINDS }));
  const scenario = parseScenario(input);
  let mixed: RecordedWindow;
  let reference: RecordedWindow;

  beforeAll(async () => {
    mixed = await recordWindow(scenario, T0, CALM);
    reference = await recordWindow(parseScenario(allArc(input)), T0, CALM);
  }, 900_000);

  const codes = (run: RecordedWindow) =>
    Object.fromEntries(run.summary.devices.map((d) => [d.device, `${d.status} ${String(d.exitCode)}`]));

  it("holds every kind", () => {
    const kinds = scenario.devices.map((d) => d.kind);
    for (const kind of ["arc", "vmss", "vmssFlex", "vm"] as const)
      expect({ kind, many: kinds.filter((k) => k === kind).length >= DEVICES / 8 }).toEqual({ kind, many: true });
  });

  it("ends every device as the all-Arc fleet does", () => {
    expect(Object.keys(codes(mixed))).toHaveLength(DEVICES);
    expect(codes(mixed)).toEqual(codes(reference));
    expect(mixed.summary.devices.filter((d) => d.status === "completed" && d.verified !== true)).toEqual([]);
  });

  it("reaches each device through its kind's run-command API only", () => {
    const used = apisUsed(mixed.exchanges);
    const expected = {
      arc: "HybridCompute/machines/runCommands",
      vmss: "Compute/virtualMachineScaleSets/virtualMachines/runCommands",
      vmssFlex: "Compute/virtualMachines/runCommands",
      vm: "Compute/virtualMachines/runCommands",
    };
    const wrong = scenario.devices.flatMap((d) => {
      const key = d.kind === "vmss" ? undefined : d.name;
      const apis = key === undefined ? undefined : used.get(key);
      if (apis === undefined) return [];
      return [...apis].every((a) => a === expected[d.kind]) ? [] : [`${d.name} (${d.kind}): ${[...apis].join(", ")}`];
    });
    expect(wrong).toEqual([]);
    const apis = new Set([...used.values()].flatMap((s) => [...s]));
    expect([...apis].sort()).toEqual([...new Set(Object.values(expected))].sort());
  });

  it("discovers with one Resource Graph query per window (pages follow $skipToken)", () => {
    const queries = mixed.exchanges.filter((e) => /\/providers\/Microsoft\.ResourceGraph\/resources/i.test(e.url));
    const first = queries.filter(
      (e) => (e.requestBody as { options?: { $skipToken?: string } }).options?.$skipToken === undefined,
    );
    expect(first).toHaveLength(mixed.summary.windows.length);
    expect(mixed.exchanges.filter((e) => /\/(machines|virtualMachineScaleSets)\?/i.test(e.url))).toEqual([]);
  });

  it("conforms to Microsoft's specs: 0 violations over the mixed traffic, unchecked only where no spec is vendored", () => {
    const specs = new SpecIndex();
    const checked = mixed.exchanges.filter((e) => operationOf(specs, e) !== undefined);
    const problems = [
      ...new Set(checked.flatMap((e) => specs.check(e)).map((p) => p.replace(/\/subscriptions\/[^ :]+/g, "…"))),
    ];
    expect(problems).toEqual([]);
    const unchecked = new Set(mixed.exchanges.filter((e) => operationOf(specs, e) === undefined).map(shapeOf));
    expect([...unchecked].filter((shape) => NOT_VENDORED[shape] === undefined)).toEqual([]);
  });
});
