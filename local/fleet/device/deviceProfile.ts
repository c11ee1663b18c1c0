import type { DeviceKind, OsFamily } from "../../../lib/schemas/common";
import type { DeviceSpec } from "../scenario/deviceSchema";
import { resolveLinuxUpdates, resolveWindowsUpdates } from "../scenario/resolveDeviceUpdates";
import type { Scenario } from "../scenario/scenarioSchema";
import type { InstallOutcomeSpec } from "../scenario/updateSchema";
import {
  DEFAULT_AGENT_VERSION,
  DEFAULT_APPS,
  DEFAULT_DISKS,
  DEFAULT_DRIVERS,
  DEFAULT_OS,
  DEFAULT_REBOOT_SECONDS,
  DEFAULT_SERVICES,
  REBOOT_PACKAGES,
  defaultSource,
  packageManagerFor,
} from "./osDefaults";

type RebootBehavior = "NeverReboots" | "AlwaysRequiresReboot" | "CanRequestReboot";

/** One pending update of a simulated device, the same shape for WUA updates and Linux packages. */
export interface SimUpdate {
  /** What install requests it by: the WUA update id (lowercase) or the package name. */
  key: string;
  kb?: string;
  revision?: number;
  title: string;
  /** Raw, as the update agent names it ("Security Updates"; Linux "Security"/"Other"). */
  classification: string;
  severity: string | null;
  releaseDate: string | null;
  /** Epoch ms from which the update exists for the device (scenario `releasedOn`); absent: from the start. */
  releasedOn?: number;
  sizeBytes: number;
  /** Linux: installed version before the upgrade (null: new package) and the candidate. */
  currentVersion?: string | null;
  version?: string;
  source?: string;
  rebootBehavior: RebootBehavior;
  /** Whether installing it leaves a pending reboot. */
  requiresReboot: boolean;
  installMs: number;
  osBuildAfter?: string;
  outcome: InstallOutcomeSpec;
}

/** Everything static about a simulated device, defaults applied; its changing state lives in DeviceState. */
export interface DeviceProfile {
  name: string;
  kind: DeviceKind;
  os: OsFamily;
  osName: string;
  osVersion: string;
  osBuild: string;
  agentVersion: string;
  packageManager: "wua" | "apt" | "dnf" | "yum" | "zypper";
  fleetStart: Date;
  lastBootTime: Date;
  updates: SimUpdate[];
  /** Installed before the scenario starts: Windows KBs, Linux packages. */
  installed: { id: string; kb?: string; title?: string; version?: string; installedOn?: string }[];
  services: { name: string; state: string; startType: string }[];
  drivers: { name: string; version: string; provider?: string }[];
  apps: { name: string; version?: string; publisher?: string }[];
  disks: { mount: string; freeBytes: number; totalBytes: number }[];
  spec: DeviceSpec;
}

const DAY_MS = 86_400_000;

function windowsInstallMs(sizeBytes: number): number {
  // About a minute of WUA overhead plus 1 minute per 120 MB: a 700 MB cumulative update takes ~7 minutes.
  return 60_000 + Math.round((sizeBytes / 120_000_000) * 60_000);
}

function linuxInstallMs(sizeBytes: number): number {
  return 8_000 + Math.round((sizeBytes / 5_000_000) * 1_000);
}

function requiresReboot(behavior: RebootBehavior): boolean {
  return behavior !== "NeverReboots";
}

/** Applies the OS defaults to a device spec and flattens its updates (sets, own updates, outcome overrides). */
export function buildDeviceProfile(
  scenario: Pick<Scenario, "updateSets">,
  spec: DeviceSpec,
  fleetStart: Date,
): DeviceProfile {
  const os = DEFAULT_OS[spec.os];
  const osName = spec.osName ?? os.name;
  const osVersion = spec.osVersion ?? os.version;
  const defaultRelease = new Date(fleetStart.getTime() - 14 * DAY_MS).toISOString();
  const lastBootTime =
    spec.lastBootTime !== undefined
      ? new Date(spec.lastBootTime)
      : new Date(fleetStart.getTime() - spec.uptimeHours * 3_600_000);

  let updates: SimUpdate[];
  let installed: DeviceProfile["installed"];
  let packageManager: DeviceProfile["packageManager"];
  if (spec.os === "windows") {
    packageManager = "wua";
    updates = resolveWindowsUpdates(scenario, spec).map((u) => ({
      key: u.updateId.toLowerCase(),
      kb: u.kb,
      revision: u.revision,
      title: u.title,
      classification: u.classification,
      severity: u.severity,
      releaseDate: u.releaseDate ?? defaultRelease,
      ...(u.releasedOn !== undefined ? { releasedOn: Date.parse(u.releasedOn) } : {}),
      sizeBytes: u.sizeBytes,
      rebootBehavior: u.rebootBehavior,
      requiresReboot: requiresReboot(u.rebootBehavior),
      installMs: u.installSeconds !== undefined ? u.installSeconds * 1000 : windowsInstallMs(u.sizeBytes),
      ...(u.osBuildAfter !== undefined ? { osBuildAfter: u.osBuildAfter } : {}),
      outcome: u.outcome,
    }));
    installed = spec.installed.map((i) => ({
      id: i.kb,
      kb: i.kb,
      ...(i.title !== undefined ? { title: i.title } : {}),
      installedOn: i.installedOn ?? new Date(fleetStart.getTime() - 30 * DAY_MS).toISOString(),
    }));
  } else {
    packageManager = spec.packageManager ?? packageManagerFor(osName, osVersion);
    updates = resolveLinuxUpdates(scenario, spec).map((u) => {
      const behavior = u.rebootBehavior ?? (REBOOT_PACKAGES.test(u.name) ? "CanRequestReboot" : "NeverReboots");
      return {
        key: u.name,
        title: `${u.name} ${u.version}`,
        classification: u.security ? "Security" : "Other",
        severity: null,
        releaseDate: u.releaseDate,
        ...(u.releasedOn !== undefined ? { releasedOn: Date.parse(u.releasedOn) } : {}),
        sizeBytes: u.sizeBytes,
        currentVersion: u.currentVersion,
        version: u.version,
        source: u.source ?? defaultSource(osName, osVersion, u.security),
        rebootBehavior: behavior,
        requiresReboot: requiresReboot(behavior),
        installMs: u.installSeconds !== undefined ? u.installSeconds * 1000 : linuxInstallMs(u.sizeBytes),
        ...(u.osBuildAfter !== undefined ? { osBuildAfter: u.osBuildAfter } : {}),
        outcome: u.outcome,
      };
    });
    installed = spec.installed.map((p) => ({ id: p.name, version: p.version }));
  }

  return {
    name: spec.name,
    kind: spec.kind,
    os: spec.os,
    osName,
    osVersion,
    osBuild: spec.osBuild ?? os.build,
    agentVersion: spec.agentVersion ?? DEFAULT_AGENT_VERSION[spec.kind],
    packageManager,
    fleetStart,
    lastBootTime,
    updates,
    installed,
    services: (spec.services ?? DEFAULT_SERVICES[spec.os]).map((s) => ({ ...s })),
    drivers: (spec.drivers ?? DEFAULT_DRIVERS[spec.os]).map((d) => ({ ...d })),
    apps: (spec.apps ?? DEFAULT_APPS[spec.os]).map((a) => ({ ...a })),
    disks: (spec.disks ?? DEFAULT_DISKS[spec.os]).map((d) => ({ ...d })),
    spec,
  };
}

/** Reboot duration in ms, from the spec or the OS default. */
export function rebootDurationMs(profile: DeviceProfile): number {
  return (profile.spec.reboot.durationSeconds ?? DEFAULT_REBOOT_SECONDS[profile.os]) * 1000;
}
