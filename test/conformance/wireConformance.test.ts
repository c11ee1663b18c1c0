import path from "node:path";
import { readScenarioFile } from "../../local/fleet/scenario/parseScenario";
import { EXPECTED_DEMO_EXIT_CODES } from "../harness/demoExpectations";
import { recordWindow, type RecordedWindow } from "./recordWindow";
import { NOT_VENDORED, operationOf, shapeOf } from "./notVendored";
import { SpecIndex } from "./swaggerSpecs";

const DEMO = path.resolve(__dirname, "../../local/scenarios/demo.json");
const T0 = new Date("2026-01-20T01:00:00.000Z");

describe("the demo window's ARM traffic conforms to Microsoft's published specs", () => {
  let recorded: RecordedWindow;
  let specs: SpecIndex;

  beforeAll(async () => {
    specs = new SpecIndex();
    recorded = await recordWindow(readScenarioFile(DEMO), T0);
  }, 300_000);

  it("ran the demo as usual", () => {
    expect(Object.fromEntries(recorded.summary.devices.map((d) => [d.device, d.exitCode]))).toEqual(
      EXPECTED_DEMO_EXIT_CODES,
    );
  });

  it("every request and response matches its operation's schema (strict: no undefined field, no missing required field, no wrong enum)", () => {
    const checked = recorded.exchanges.filter((e) => operationOf(specs, e) !== undefined);
    const problems = checked.flatMap((e) => specs.check(e));
    const distinct = [...new Set(problems.map((p) => p.replace(/\/subscriptions\/[^ :]+/g, "…")))];
    expect(distinct).toEqual([]);
    expect(checked.length).toBeGreaterThan(100);
  });

  it("leaves unchecked only the operations whose spec is not vendored, each named with its reason", () => {
    const unchecked = new Set(
      recorded.exchanges.filter((e) => operationOf(specs, e) === undefined).map((e) => shapeOf(e)),
    );
    expect([...unchecked].filter((shape) => NOT_VENDORED[shape] === undefined)).toEqual([]);
  });
});
