import { formatScriptHeader } from "../../../lib/device/header";
import { FleetNetwork } from "../arm/network";
import type { DevicePlacement, Fleet, FleetClock, PreexistingRunCommand } from "../contract";
import { buildDeviceProfile } from "../device/deviceProfile";
import { SimulatedServer } from "../device/simulatedServer";
import type { DeviceSpec } from "./deviceSchema";
import { resolveTargeting, targetableOf, targetingTags } from "./resolveTargeting";
import type { Scenario } from "./scenarioSchema";

/** The fleet the ARM side serves, with the concrete simulated servers (tests inspect their state). */
export interface SimulatedFleet extends Fleet {
  devices: readonly SimulatedServer[];
  /** When the fleet was built: scenario times relative to "the start" count from here. */
  startedAt: Date;
}

function placementOf(
  scenario: Scenario,
  spec: { subscription?: string | undefined; resourceGroup?: string | undefined },
) {
  const sub = scenario.subscriptions.find((s) => s.id === spec.subscription) ?? scenario.subscriptions.at(0);
  const group = sub?.resourceGroups.find((g) => g.name === spec.resourceGroup) ?? sub?.resourceGroups.at(0);
  if (sub === undefined || group === undefined)
    throw new Error("a scenario has at least one subscription with a resource group");
  return { subscriptionId: sub.id, resourceGroup: group.name, location: group.location };
}

/**
 * Builds the simulated fleet of a parsed scenario. `clock.now()` is read once: it is "the start" that relative
 * scenario times (uptime, disconnect windows, event times, a running command's age) count from.
 */
export function buildFleet(scenario: Scenario, clock: FleetClock): SimulatedFleet {
  const start = clock.now();
  const instanceCounter = new Map<string, number>();
  const scaleSetTags = new Map(
    scenario.scaleSets.map((s) => [s.name, targetingTags(resolveTargeting(scenario, s), s.tags)]),
  );

  const devices = scenario.devices.map((spec: DeviceSpec) => {
    let placement: DevicePlacement;
    let tags: Record<string, string>;
    if (spec.kind === "vmssFlex") {
      const set = scenario.scaleSets.find((s) => s.name === spec.scaleSet);
      if (set === undefined)
        throw new Error(`device ${spec.name}: unknown scale set ${String(spec.scaleSet)} (parse the scenario first)`);
      placement = { ...placementOf(scenario, set), vm: { vmName: spec.name, scaleSetName: set.name } };
      tags = scaleSetTags.get(set.name) ?? {};
    } else if (spec.kind === "vmss") {
      const set = scenario.scaleSets.find((s) => s.name === spec.scaleSet);
      if (set === undefined)
        throw new Error(`device ${spec.name}: unknown scale set ${String(spec.scaleSet)} (parse the scenario first)`);
      const index = instanceCounter.get(set.name) ?? 0;
      instanceCounter.set(set.name, index + 1);
      placement = {
        ...placementOf(scenario, set),
        vmss: { scaleSetName: set.name, instanceId: spec.instanceId ?? String(index) },
      };
      tags = scaleSetTags.get(set.name) ?? {};
    } else {
      const targetable = targetableOf(scenario, spec);
      if (targetable === undefined)
        throw new Error(
          `device ${spec.name}: a ${spec.kind} device needs tenant and client (parse the scenario first)`,
        );
      placement =
        spec.kind === "vm"
          ? { ...placementOf(scenario, spec), vm: { vmName: spec.name } }
          : { ...placementOf(scenario, spec), arc: { machineName: spec.name } };
      tags = targetingTags(resolveTargeting(scenario, targetable), spec.tags);
    }
    return new SimulatedServer(buildDeviceProfile(scenario, spec, start), placement, tags);
  });

  const scaleSets = scenario.scaleSets.map((s) => ({
    name: s.name,
    ...placementOf(scenario, s),
    tags: scaleSetTags.get(s.name) ?? {},
    os: s.os,
    orchestrationMode: s.orchestrationMode,
    instances: scenario.devices
      .filter((d) => (d.kind === "vmss" || d.kind === "vmssFlex") && d.scaleSet === s.name)
      .map((d) => d.name),
  }));

  const preexistingRunCommands: PreexistingRunCommand[] = scenario.devices.flatMap((d) => {
    const running = d.runningCommand;
    if (running === undefined) return [];
    const header = formatScriptHeader({ id: running.script, version: "1.0.0" });
    const shebang = d.os === "linux" ? "#!/bin/bash\n" : "";
    return [
      {
        device: d.name,
        runCommandName: running.name,
        script: `${shebang}${header}\n# started by PatchPilot run ${running.runId ?? "(unknown)"}\n`,
        startedAt: new Date(start.getTime() - running.startedMinutesAgo * 60_000),
        durationMs: running.durationMinutes * 60_000,
      },
    ];
  });

  const loadBalancers = scenario.loadBalancers.map((lb) => {
    for (const member of lb.pools.flatMap((p) => p.members))
      if (devices.find((d) => d.name === member)?.placement.vm === undefined)
        throw new Error(`load balancer ${lb.name}: ${member} is not a device of kind vm or vmssFlex`);
    return { name: lb.name, ...placementOf(scenario, lb), pools: lb.pools };
  });
  const network = new FleetNetwork(devices, loadBalancers, start);

  return { devices, scaleSets, preexistingRunCommands, arm: scenario.arm, network, startedAt: start };
}
