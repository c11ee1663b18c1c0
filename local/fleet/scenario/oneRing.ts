import type { ScenarioInput } from "./scenarioSchema";

/**
 * A scenario with every window reduced to one ring ("prod") and no error budget, so every targeted device runs:
 * for throughput measurements and load tests, where ring gates and maxErrors stops (covered by their own tests)
 * would leave most of a generated fleet unstarted.
 */
export function withOneRing(input: ScenarioInput): ScenarioInput {
  return {
    ...input,
    windows: (input.windows ?? []).map((w) => ({ ...w, rings: [{ name: "prod" }], maxErrors: "100%" })),
    scaleSets: (input.scaleSets ?? []).map((s) => ({ ...s, ring: "prod" })),
    devices: input.devices.map((d) => ("ring" in d && d.ring !== undefined ? { ...d, ring: "prod" } : d)),
  };
}
