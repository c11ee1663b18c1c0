import { readScenarioFile } from "../../../local/fleet/scenario/parseScenario";
import { buildFleet } from "../../../local/fleet/scenario/buildFleet";
import { after, fixedClock, KB_CU, request, runScript, smallFleet, T0 } from "../../fixtures/fleet/scenarios";

describe("agent status", () => {
  it("follows disconnect windows relative to the fleet start", () => {
    const { win } = smallFleet(
      (s) =>
        ((s.devices[0] as { agent?: unknown }).agent = {
          disconnects: [{ afterMinutes: 10, forMinutes: 20 }, { afterMinutes: 60 }],
        }),
    );
    expect(win.agentStatus(after(T0, 9))).toBe("Connected");
    expect(win.agentStatus(after(T0, 10))).toBe("Disconnected");
    expect(win.nextConnectedAt(after(T0, 15))).toEqual(after(T0, 30));
    expect(win.nextConnectedAt(after(T0, 5))).toEqual(after(T0, 5));
    expect(win.nextConnectedAt(after(T0, 61))).toBeUndefined();
  });

  it("never connects a permanently disconnected agent", () => {
    const { win } = smallFleet((s) => ((s.devices[0] as { agent?: unknown }).agent = { status: "Disconnected" }));
    expect(win.agentStatus(T0)).toBe("Disconnected");
    expect(win.nextConnectedAt(T0)).toBeUndefined();
  });

  it("disconnects during a phase: the result arrives after reconnect; the install still happened", () => {
    const { lnx } = smallFleet(
      (s) =>
        ((s.devices[1] as { agent?: unknown }).agent = {
          disconnectDuring: [{ script: "install", afterSeconds: 5, forMinutes: 30 }],
        }),
    );
    const base = runScript(lnx, "baseline", {}, T0);
    expect(base.result.durationMs).toBe(8_000);
    const install = runScript(
      lnx,
      "install",
      { os: "linux", packages: [{ name: "curl", version: "7.81.0-1ubuntu1.20" }] },
      T0,
    );
    expect(install.result.durationMs).toBe(5_000 + 30 * 60_000);
    expect(lnx.agentStatus(after(T0, 1))).toBe("Disconnected");
    expect(lnx.nextConnectedAt(after(T0, 1))).toEqual(new Date(T0.getTime() + 5_000 + 30 * 60_000));
    expect(runScript(lnx, "baseline", {}, after(T0, 31)).output.data.installedUpdates).toEqual(
      expect.arrayContaining([{ id: "curl", version: "7.81.0-1ubuntu1.20" }]),
    );
  });

  it("disconnects for good during a phase: the command never reports", () => {
    const { win } = smallFleet(
      (s) =>
        ((s.devices[0] as { agent?: unknown }).agent = { disconnectDuring: [{ script: "install", occurrence: 2 }] }),
    );
    const params = { os: "windows" as const, updateIds: [KB_CU.updateId] };
    expect(win.execute(request("install", params, T0)).kind).toBe("completed");
    expect(win.execute(request("install", params, after(T0, 30))).kind).toBe("hang");
    expect(win.nextConnectedAt(after(T0, 31))).toBeUndefined();
  });
});

describe("buildFleet", () => {
  const fleet = buildFleet(readScenarioFile("local/scenarios/demo.json"), fixedClock());
  const device = (name: string) => {
    const d = fleet.devices.find((x) => x.name === name);
    if (d === undefined) throw new Error(name);
    return d;
  };

  it("tags Arc machines with their own targeting and VMSS instances with their scale set's", () => {
    expect(device("WIN-SERVER01").tags).toMatchObject({
      "patchpilot:tenant": "contoso-msp",
      "patchpilot:client": "fabrikam",
      "patchpilot:ring": "prod",
      "patchpilot:window": "fabrikam-nightly",
      role: "web",
    });
    expect(device("WIN-SERVER01").placement).toEqual({
      subscriptionId: "3f2c6a1e-7d4b-4e8a-9b1c-2a5d8e0f1c01",
      resourceGroup: "rg-contoso-fabrikam",
      location: "westeurope",
      arc: { machineName: "WIN-SERVER01" },
    });
    const vm = device("tspapi000001");
    expect(vm.kind).toBe("vmss");
    expect(vm.placement.vmss).toEqual({ scaleSetName: "vmss-tsp-api", instanceId: "1" });
    const set = fleet.scaleSets.find((s) => s.name === "vmss-tsp-api");
    expect(vm.tags).toEqual(set?.tags);
    expect(set).toMatchObject({
      os: "linux",
      location: "eastus",
      instances: ["tspapi000000", "tspapi000001", "tspapi000002"],
    });
    expect(set?.tags).toMatchObject({
      "patchpilot:ring": "staging",
      "patchpilot:window": "tailspin-patch-tuesday",
      role: "api",
    });
  });

  it("reports ARM facts and a run command already running for lock tests", () => {
    expect(device("ADT-DC01").armProperties).toEqual({
      osName: "Microsoft Windows Server 2019 Standard",
      osVersion: "10.0.17763",
      agentVersion: "1.50.02910.1766",
      computerName: "ADT-DC01",
    });
    expect(fleet.preexistingRunCommands).toEqual([
      {
        device: "ADT-PRINT01",
        runCommandName: "patchpilot-adt-print01-install",
        script: expect.stringMatching(/^# patchpilot-script: install@1\.0\.0\n/),
        startedAt: after(T0, -10),
        durationMs: 240 * 60_000,
      },
    ]);
    expect(fleet.arm.pageSize).toBe(50);
  });

  it("is deterministic: two fleets from one scenario answer identically", () => {
    const again = buildFleet(readScenarioFile("local/scenarios/demo.json"), fixedClock());
    for (const [i, d] of fleet.devices.entries()) {
      const other = again.devices[i];
      if (other === undefined) throw new Error("missing");
      expect(other.execute(request("baseline", {}, T0, other.os))).toEqual(
        d.execute(request("baseline", {}, T0, d.os)),
      );
    }
  });
});
