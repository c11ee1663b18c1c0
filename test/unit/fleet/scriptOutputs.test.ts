import { SCRIPT_OUTPUT_SCHEMAS } from "../../../lib/schemas/device";
import { CheckSchema } from "../../../lib/schemas/policies";
import { buildFleet } from "../../../local/fleet/scenario/buildFleet";
import { readScenarioFile } from "../../../local/fleet/scenario/parseScenario";
import { after, fixedClock, KB_CU, request, runScript, smallFleet, T0 } from "../../fixtures/fleet/scenarios";

const checks = [
  { app: "WebApp", check: CheckSchema.parse({ type: "http", name: "home", url: "https://localhost/health" }) },
  { app: "WebApp", check: CheckSchema.parse({ type: "service", name: "iis", serviceName: "W3SVC" }) },
];

describe("script outputs", () => {
  it.each(["windows", "linux"] as const)("every script's output on a %s device satisfies its schema", (os) => {
    const { win, lnx } = smallFleet();
    const device = os === "windows" ? win : lnx;
    const install =
      os === "windows"
        ? { os, updateIds: [KB_CU.updateId] }
        : { os, packages: [{ name: "openssl", version: "3.0.2-0ubuntu1.18" }] };
    let at = T0;
    const steps: { result: { exitCode: number; durationMs: number }; output: { errors: unknown[] } }[] = [
      runScript(device, "baseline", {}, at),
      runScript(device, "catalog", { simulate: os === "linux" }, at),
      runScript(device, "validate", { checks }, at),
      runScript(device, "install", install, at),
      runScript(device, "reboot", { delaySeconds: 30, comment: "PatchPilot run 1" }, at),
    ];
    at = after(at, 30);
    steps.push(
      runScript(device, "baseline", {}, at),
      runScript(device, "diagnostics", { since: T0.toISOString(), maxEvents: 50 }, at),
    );
    for (const s of steps) {
      expect(s.result.exitCode).toBe(0);
      expect(s.output.errors).toEqual([]);
      expect(s.result.durationMs).toBeGreaterThan(0);
    }
  });

  it("answers every script on every demo device with schema-valid output", () => {
    const fleet = buildFleet(readScenarioFile("local/scenarios/demo.json"), fixedClock());
    for (const device of fleet.devices) {
      for (const id of ["baseline", "catalog", "diagnostics"] as const) {
        const params =
          id === "baseline" ? {} : id === "catalog" ? { simulate: false } : { since: T0.toISOString(), maxEvents: 100 };
        const result = device.execute(request(id, params as never, T0, device.os));
        if (result.kind !== "completed") throw new Error(`${device.name} ${id}: ${result.kind}`);
        expect(SCRIPT_OUTPUT_SCHEMAS[id].safeParse(JSON.parse(result.stdout)).success).toBe(true);
      }
    }
  });

  it("takes realistic simulated time: a baseline in seconds, a cumulative update in minutes", () => {
    const { win } = smallFleet();
    expect(runScript(win, "baseline", {}, T0).result.durationMs).toBe(20_000);
    const install = runScript(win, "install", { os: "windows", updateIds: [KB_CU.updateId] }, T0).result.durationMs;
    expect(install).toBeGreaterThan(5 * 60_000);
    expect(install).toBeLessThan(15 * 60_000);
  });

  it("answers a parameter list the script would refuse with errors[] section parameters", () => {
    const { win } = smallFleet();
    const bad = {
      ...request("reboot", { delaySeconds: 5, comment: "x" }, T0),
      parameters: [
        { name: "DelaySeconds", value: "9999" },
        { name: "Comment", value: "x" },
      ],
    };
    const result = win.execute(bad);
    if (result.kind !== "completed") throw new Error(result.kind);
    const doc = SCRIPT_OUTPUT_SCHEMAS.reboot.parse(JSON.parse(result.stdout));
    expect(doc.errors).toEqual([expect.objectContaining({ section: "parameters", code: "invalid-parameter" })]);
    expect(doc.data.scheduled).toBe(false);
    expect(win.agentStatus(after(T0, 5))).toBe("Connected");

    const missing = win.execute({ ...request("diagnostics", { since: T0.toISOString() }, T0), parameters: [] });
    if (missing.kind !== "completed") throw new Error(missing.kind);
    const diag = SCRIPT_OUTPUT_SCHEMAS.diagnostics.parse(JSON.parse(missing.stdout));
    expect(diag.errors[0]?.message).toMatch(/SinceUtc: missing/);
    expect(diag.data.eventLogErrors).toBeNull();
  });

  it("fails a script that is not a PatchPilot script", () => {
    const { win } = smallFleet();
    expect(win.execute({ ...request("baseline", {}, T0), script: "Get-Process | Stop-Process" })).toMatchObject({
      kind: "failed",
    });
  });

  it("echoes the script version from the header", () => {
    const { lnx } = smallFleet();
    const r = lnx.execute({
      ...request("baseline", {}, T0, "linux"),
      script: "#!/bin/bash\n# patchpilot-script: baseline@2.3.4\n",
    });
    if (r.kind !== "completed") throw new Error(r.kind);
    expect(JSON.parse(r.stdout)).toMatchObject({ scriptId: "baseline", scriptVersion: "2.3.4" });
  });
});
