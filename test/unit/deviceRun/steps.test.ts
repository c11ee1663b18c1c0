import { PHASES } from "../../../lib/domain/artifacts";
import { rowOf, STAGES, STEP_PLANS } from "../../../lib/domain/run/steps";
import { getDeviceScript } from "../../../lib/device/registry";
import { STEPS } from "../../../lib/deviceRun/steps";

describe("the step table", () => {
  it("has a row for every step a stage submits, in both halves", () => {
    for (const stage of Object.values(STAGES))
      for (const step of stage.steps) {
        expect(() => rowOf(STEP_PLANS, step)).not.toThrow();
        expect(() => rowOf(STEPS, step)).not.toThrow();
      }
    expect(Object.keys(STEPS).sort()).toEqual(Object.keys(STEP_PLANS).sort());
  });

  it("refuses a step its table does not name (a state from another build), saying which", () => {
    expect(() => rowOf(STEPS, "uptime")).toThrow("unknown device-run step uptime");
    // Not fooled by Object.prototype.
    expect(() => rowOf(STEPS, "toString")).toThrow("unknown device-run step toString");
  });

  it("sends a script that exists for both OSes, whose header names it (the files in lib/device)", () => {
    for (const step of Object.values(STEPS))
      for (const os of ["windows", "linux"] as const) expect(getDeviceScript(step.script, os).id).toBe(step.script);
  });

  it("files every step under a phase folder of the seed's numbering (02-09: the device phases; 12: remediation)", () => {
    for (const step of Object.values(STEP_PLANS)) expect(PHASES[step.phase]).toMatch(/^(0[2-9]|12)-[a-z-]+$/);
  });
});
