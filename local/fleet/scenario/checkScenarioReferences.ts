import type { z } from "zod";
import type { DeviceSpec } from "./deviceSchema";
import { matchesUpdateKey, resolveDeviceUpdates } from "./resolveDeviceUpdates";
import type { Scenario } from "./scenarioSchema";

type Path = (string | number)[];
type Report = (path: Path, message: string) => void;

function reportDuplicates<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  path: (i: number) => Path,
  what: string,
  report: Report,
): void {
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    const key = keyOf(item);
    const first = seen.get(key);
    if (first === undefined) seen.set(key, i);
    else report(path(i), `duplicate ${what} ${key} (also at index ${first})`);
  });
}

/** Tenant, client, window and ring of one Arc device or scale set point at things the scenario defines. */
function checkTargeting(
  s: Scenario,
  spec: {
    tenant: string;
    client: string;
    window?: string | undefined;
    ring?: string | undefined;
    tags: Record<string, string>;
  },
  at: Path,
  report: Report,
): void {
  if (!s.tenants.some((t) => t.id === spec.tenant)) report([...at, "tenant"], `unknown tenant ${spec.tenant}`);
  const client = s.clients.find((c) => c.tenant === spec.tenant && c.client === spec.client);
  if (client === undefined) {
    report([...at, "client"], `unknown client ${spec.client} of tenant ${spec.tenant}`);
    return;
  }
  const windowId = spec.window ?? client.windows[0];
  if (spec.window !== undefined && !client.windows.includes(spec.window)) {
    report(
      [...at, "window"],
      `window ${spec.window} is not one of client ${spec.client}'s windows (${client.windows.join(", ") || "none"})`,
    );
  }
  const window = s.windows.find((w) => w.id === windowId);
  for (const [key, value] of Object.entries(window?.targetTags ?? {})) {
    if (spec.tags[key] !== value)
      report([...at, "tags"], `window ${window?.id ?? "?"} targets only machines tagged ${key}=${value}`);
  }
  if (spec.ring !== undefined && window !== undefined && !window.rings.some((r) => r.name === spec.ring)) {
    report(
      [...at, "ring"],
      `ring ${spec.ring} is not a ring of window ${window.id} (${window.rings.map((r) => r.name).join(", ")})`,
    );
  }
}

/** Every (app, check) pair that some policy layer defines. */
function policyChecks(s: Scenario): Set<string> {
  const known = new Set<string>();
  for (const layer of s.policies) {
    for (const app of layer.appValidation?.apps ?? [])
      for (const check of app.checks) known.add(`${app.name}\u0000${check.name}`);
  }
  return known;
}

function checkDevice(s: Scenario, device: DeviceSpec, i: number, known: Set<string>, report: Report): void {
  const at: Path = ["devices", i];
  if (device.kind === "vmss" || device.kind === "vmssFlex") {
    for (const field of ["tenant", "client", "ring", "window"] as const) {
      if (device[field] !== undefined)
        report([...at, field], "set it on the scale set: VMSS instances are targeted by their scale set's tags");
    }
    if (device.kind === "vmssFlex" && device.instanceId !== undefined)
      report([...at, "instanceId"], "only for kind vmss (a Flexible instance is a VM named like the device)");
    if (device.scaleSet === undefined) report([...at, "scaleSet"], "required for a VMSS instance");
    else {
      const set = s.scaleSets.find((x) => x.name === device.scaleSet);
      const mode = device.kind === "vmss" ? "Uniform" : "Flexible";
      if (set === undefined) report([...at, "scaleSet"], `unknown scale set ${device.scaleSet}`);
      else if (set.os !== device.os) report([...at, "os"], `scale set ${set.name} runs ${set.os}`);
      else if (set.orchestrationMode !== mode)
        report(
          [...at, "kind"],
          `scale set ${set.name} is ${set.orchestrationMode}: its instances are not ${device.kind}`,
        );
    }
  } else {
    if (device.scaleSet !== undefined) report([...at, "scaleSet"], "only for kinds vmss and vmssFlex");
    if (device.instanceId !== undefined) report([...at, "instanceId"], "only for kind vmss");
    if (device.tenant === undefined) report([...at, "tenant"], `required for kind ${device.kind}`);
    if (device.client === undefined) report([...at, "client"], `required for kind ${device.kind}`);
    if (device.tenant !== undefined && device.client !== undefined) {
      checkTargeting(
        s,
        { tenant: device.tenant, client: device.client, window: device.window, ring: device.ring, tags: device.tags },
        at,
        report,
      );
    }
  }
  checkPlacement(s, device, at, report);

  device.updateSets.forEach((name, j) => {
    const set = s.updateSets[name];
    if (set === undefined) report([...at, "updateSets", j], `unknown update set ${name}`);
    else if (set.os !== device.os) report([...at, "updateSets", j], `update set ${name} is for ${set.os}`);
  });
  const own = device.updates as readonly { kb?: string; name?: string }[];
  reportDuplicates(
    own,
    (u) => u.kb ?? u.name ?? "",
    (j) => [...at, "updates", j],
    device.os === "windows" ? "KB" : "package",
    report,
  );
  const updates = resolveDeviceUpdates(s, device);
  const exists = (key: string): boolean => updates.some((u) => matchesUpdateKey(u, key));
  for (const key of Object.keys(device.outcomes)) {
    if (!exists(key)) report([...at, "outcomes", key], `no update ${key} on this device`);
  }
  device.breaks.forEach((b, j) => {
    if (!exists(b.update)) report([...at, "breaks", j, "update"], `no update ${b.update} on this device`);
    const declared = device.checks.some((c) => c.app === b.app && c.check === b.check);
    if (!declared && !known.has(`${b.app}\u0000${b.check}`)) {
      report(
        [...at, "breaks", j, "check"],
        `no check ${b.app}/${b.check} in any policy layer or in this device's checks`,
      );
    }
  });
  if (device.os === "linux") {
    device.updates.forEach((u, j) => {
      if (u.currentVersion === u.version)
        report([...at, "updates", j, "version"], "equals currentVersion: nothing to upgrade");
    });
  }
}

function checkPlacement(
  s: Scenario,
  spec: { subscription?: string | undefined; resourceGroup?: string | undefined },
  at: Path,
  report: Report,
): void {
  const sub =
    spec.subscription === undefined ? s.subscriptions[0] : s.subscriptions.find((x) => x.id === spec.subscription);
  if (sub === undefined) {
    report([...at, "subscription"], `unknown subscription ${spec.subscription}`);
    return;
  }
  if (spec.resourceGroup !== undefined && !sub.resourceGroups.some((g) => g.name === spec.resourceGroup)) {
    report([...at, "resourceGroup"], `no resource group ${spec.resourceGroup} in subscription ${sub.id}`);
  }
}

/**
 * The cross-field rules a field-by-field schema cannot state: unique names, and every reference (tenant, client,
 * window, ring, scale set, update set, update, check, subscription, resource group) resolves.
 */
export function checkScenarioReferences(s: Scenario, ctx: z.RefinementCtx): void {
  const report: Report = (path, message) => ctx.addIssue({ code: "custom", path, message });

  reportDuplicates(
    s.tenants,
    (t) => t.id,
    (i) => ["tenants", i, "id"],
    "tenant",
    report,
  );
  reportDuplicates(
    s.clients,
    (c) => `${c.tenant}/${c.client}`,
    (i) => ["clients", i, "client"],
    "client",
    report,
  );
  reportDuplicates(
    s.windows,
    (w) => w.id,
    (i) => ["windows", i, "id"],
    "window",
    report,
  );
  reportDuplicates(
    s.scaleSets,
    (x) => x.name,
    (i) => ["scaleSets", i, "name"],
    "scale set",
    report,
  );
  // Host names are case-insensitive: WIN-SERVER01 and win-server01 are the same machine.
  reportDuplicates(
    s.devices,
    (d) => d.name.toLowerCase(),
    (i) => ["devices", i, "name"],
    "device",
    report,
  );
  reportDuplicates(
    s.subscriptions,
    (x) => x.id.toLowerCase(),
    (i) => ["subscriptions", i, "id"],
    "subscription",
    report,
  );

  s.clients.forEach((c, i) => {
    if (!s.tenants.some((t) => t.id === c.tenant)) report(["clients", i, "tenant"], `unknown tenant ${c.tenant}`);
    c.windows.forEach((w, j) => {
      const window = s.windows.find((x) => x.id === w);
      if (window === undefined) report(["clients", i, "windows", j], `unknown window ${w}`);
      else if (window.tenant !== c.tenant)
        report(["clients", i, "windows", j], `window ${w} belongs to tenant ${window.tenant}`);
    });
  });
  s.windows.forEach((w, i) => {
    if (!s.tenants.some((t) => t.id === w.tenant)) report(["windows", i, "tenant"], `unknown tenant ${w.tenant}`);
    w.clients.forEach((c, j) => {
      if (!s.clients.some((x) => x.tenant === w.tenant && x.client === c))
        report(["windows", i, "clients", j], `unknown client ${c} of tenant ${w.tenant}`);
    });
  });
  s.policies.forEach((p, i) => {
    const scope = p.scope;
    if (scope.level === "global") return;
    if (!s.tenants.some((t) => t.id === scope.tenant))
      report(["policies", i, "scope", "tenant"], `unknown tenant ${scope.tenant}`);
    if (scope.level === "tenant") return;
    if (!s.clients.some((c) => c.tenant === scope.tenant && c.client === scope.client)) {
      report(["policies", i, "scope", "client"], `unknown client ${scope.client} of tenant ${scope.tenant}`);
    }
    if (scope.level === "device" && !s.devices.some((d) => d.name === scope.device)) {
      report(["policies", i, "scope", "device"], `unknown device ${scope.device}`);
    }
  });
  s.scaleSets.forEach((x, i) => {
    checkTargeting(s, x, ["scaleSets", i], report);
    checkPlacement(s, x, ["scaleSets", i], report);
  });

  const known = policyChecks(s);
  s.devices.forEach((d, i) => checkDevice(s, d, i, known, report));
  const instanceIds = new Map<string, Set<string>>();
  s.devices.forEach((d, i) => {
    if (d.kind !== "vmss" || d.scaleSet === undefined || d.instanceId === undefined) return;
    const ids = instanceIds.get(d.scaleSet) ?? new Set<string>();
    if (ids.has(d.instanceId))
      report(["devices", i, "instanceId"], `duplicate instance id ${d.instanceId} in scale set ${d.scaleSet}`);
    ids.add(d.instanceId);
    instanceIds.set(d.scaleSet, ids);
  });
}
