import type { GateReport, GateResult } from "../../schemas/artifacts/gates";
import type { SystemSnapshot } from "../../schemas/artifacts/snapshot";
import type { OsFamily } from "../../schemas/common";
import type { GatesData } from "../../schemas/device/gates";
import type { GatesPolicy } from "../../schemas/gatesPolicy";

// Pre-patch gates (issue 20), judged by the backend from evidence collected in the read-only first stage: the verified
// baseline (system volume, pending reboot, services) and the gates script's probes (backup provider, custom checks).
// Pure: the same evidence, policy and instant give the same verdicts. Anything unreadable is "could not look", which
// never passes (an unknown disk is not a full one, but it is not a checked one either).

/** The probe name of the backup provider, and the prefix of custom checks' probes (lib/deviceRun/gates). */
export const BACKUP_PROBE = "backup";
export const customProbeName = (name: string): string => `custom.${name}`;

/** The system volume's mount as the baseline lists it: C: on Windows (the baseline does not report SystemDrive), / on Linux. */
export const SYSTEM_VOLUME: Record<OsFamily, string> = { windows: "C:", linux: "/" };

/** What the gates are judged from. */
export interface GateEvidence {
  os: OsFamily;
  /** The verified baseline; undefined when the baseline step produced none. */
  baseline: SystemSnapshot | undefined;
  /** The probes the device reported; undefined when its output was unusable (could not look). */
  probes: GatesData["probes"] | undefined;
  /** Probes the backend refused to send: their text does not hash to the policy's SHA-256. */
  refused: ReadonlySet<string>;
  /** run.json's policyProvenance (the layer that set each gate). */
  provenance: Readonly<Record<string, string>>;
  now: Date;
}

const MIB = 1024 * 1024;

function notCollected(baseline: SystemSnapshot | undefined, section: string): string | undefined {
  if (baseline === undefined) return "no baseline";
  const error = baseline.collectionErrors?.find((e) => e.section === section);
  return error === undefined ? undefined : `the baseline could not collect ${section}: ${error.message}`;
}

function diskGates(gates: GatesPolicy, e: GateEvidence, setBy: (path: string) => string | undefined): GateResult[] {
  const wanted: { gate: "minFreeDiskMb" | "minFreeDiskPercent"; min: number }[] = [];
  if (gates.minFreeDiskMb !== undefined) wanted.push({ gate: "minFreeDiskMb", min: gates.minFreeDiskMb });
  if (gates.minFreeDiskPercent !== undefined)
    wanted.push({ gate: "minFreeDiskPercent", min: gates.minFreeDiskPercent });
  const mount = SYSTEM_VOLUME[e.os];
  const missing = notCollected(e.baseline, "disks");
  const volume = e.baseline?.disks.find((d) => d.mount.toUpperCase() === mount.toUpperCase());
  return wanted.map(({ gate, min }) => {
    const base = {
      gate,
      name: gate,
      ...(setBy(`gates.${gate}`) === undefined ? {} : { setBy: setBy(`gates.${gate}`) }),
    };
    if (missing !== undefined) return { ...base, verdict: "could-not-look", detail: missing };
    if (volume === undefined || volume.totalBytes === 0)
      return { ...base, verdict: "could-not-look", detail: `the baseline lists no system volume ${mount}` };
    const freeMb = Math.floor(volume.freeBytes / MIB);
    const percent = Math.round((volume.freeBytes / volume.totalBytes) * 1000) / 10;
    const ok = gate === "minFreeDiskMb" ? freeMb >= min : percent >= min;
    const unit = gate === "minFreeDiskMb" ? `${min} MiB` : `${min}%`;
    return {
      ...base,
      verdict: ok ? "pass" : "fail",
      detail: `${mount} has ${freeMb} MiB free (${percent}% of ${Math.floor(volume.totalBytes / MIB)} MiB); at least ${unit} required`,
    };
  });
}

function rebootGate(e: GateEvidence, setBy: string | undefined): GateResult {
  const base = { gate: "noPendingReboot" as const, name: "noPendingReboot", ...(setBy === undefined ? {} : { setBy }) };
  const missing = notCollected(e.baseline, "pendingReboot");
  if (missing !== undefined || e.baseline === undefined)
    return { ...base, verdict: "could-not-look", detail: missing ?? "no baseline" };
  const { pending, signals } = e.baseline.pendingReboot;
  return pending
    ? {
        ...base,
        verdict: "fail",
        detail: `a reboot is pending before patching (${signals.join(", ") || "no signal named"})`,
      }
    : { ...base, verdict: "pass", detail: "no reboot pending" };
}

function serviceGates(
  names: readonly string[],
  e: GateEvidence,
  setBy: (path: string) => string | undefined,
): GateResult[] {
  const missing = notCollected(e.baseline, "services");
  return names.map((name) => {
    const by = setBy(`gates.requiredServices[${name}]`);
    const base = { gate: "requiredService" as const, name, ...(by === undefined ? {} : { setBy: by }) };
    if (missing !== undefined) return { ...base, verdict: "could-not-look", detail: missing };
    const service = e.baseline?.services.find((s) => s.name.toLowerCase() === name.toLowerCase());
    if (service === undefined) return { ...base, verdict: "fail", detail: "service not found" };
    // Windows reports Running; systemd's sub-state is running.
    const running = service.state.toLowerCase() === "running";
    return { ...base, verdict: running ? "pass" : "fail", detail: `state ${service.state}, expected running` };
  });
}

/** The probe's verdict basis: its result, or why there is none. */
function probeOf(
  e: GateEvidence,
  name: string,
): { probe: NonNullable<GatesData["probes"]>[number] } | { verdict: GateResult["verdict"]; detail: string } {
  if (e.refused.has(name))
    return { verdict: "refused", detail: "the script's text does not hash to the policy's sha256: not sent" };
  if (e.probes === undefined || e.probes === null)
    return { verdict: "could-not-look", detail: "the gates script produced no usable document" };
  const probe = e.probes.find((p) => p.name === name);
  if (probe === undefined) return { verdict: "could-not-look", detail: "the gates script did not report this probe" };
  if (probe.timedOut) return { verdict: "could-not-look", detail: `timed out after ${probe.durationMs} ms` };
  if (probe.exitCode === null) return { verdict: "could-not-look", detail: `did not run: ${probe.answer}` };
  return { probe };
}

const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

function backupGate(
  backup: NonNullable<GatesPolicy["backup"]>,
  e: GateEvidence,
  setBy: string | undefined,
): GateResult {
  const base = { gate: "backup" as const, name: BACKUP_PROBE, ...(setBy === undefined ? {} : { setBy }) };
  if (backup.provider[e.os] === undefined)
    return { ...base, verdict: "could-not-look", detail: `the policy names no backup provider script for ${e.os}` };
  const found = probeOf(e, BACKUP_PROBE);
  if (!("probe" in found)) return { ...base, ...found };
  const { probe } = found;
  if (probe.exitCode !== 0)
    return { ...base, verdict: "could-not-look", detail: `the provider exited ${probe.exitCode}: no backup time` };
  const answer = probe.answer.trim();
  const at = ISO_UTC.test(answer) ? Date.parse(answer) : Number.NaN;
  if (Number.isNaN(at))
    return { ...base, verdict: "could-not-look", detail: "the provider's first line is not an ISO 8601 timestamp" };
  const ageHours = Math.round(((e.now.getTime() - at) / 3_600_000) * 10) / 10;
  const ok = ageHours <= backup.maxAgeHours;
  return {
    ...base,
    verdict: ok ? "pass" : "fail",
    detail: `last successful backup ${answer} (${ageHours} h ago); at most ${backup.maxAgeHours} h allowed`,
  };
}

function customGate(name: string, e: GateEvidence, setBy: string | undefined): GateResult {
  const base = { gate: "custom" as const, name, ...(setBy === undefined ? {} : { setBy }) };
  const found = probeOf(e, customProbeName(name));
  if (!("probe" in found)) return { ...base, ...found };
  const ok = found.probe.exitCode === 0;
  return { ...base, verdict: ok ? "pass" : "fail", detail: `exit ${found.probe.exitCode}, expected 0` };
}

/** Judges every gate of the policy; `passed` only when each one passed. */
export function evaluateGates(gates: GatesPolicy, e: GateEvidence): Omit<GateReport, "source" | "baselineSha256"> {
  const setBy = (path: string): string | undefined => e.provenance[path];
  const results: GateResult[] = [
    ...diskGates(gates, e, setBy),
    ...(gates.noPendingReboot === true ? [rebootGate(e, setBy("gates.noPendingReboot"))] : []),
    ...serviceGates(gates.requiredServices ?? [], e, setBy),
    ...(gates.backup === undefined ? [] : [backupGate(gates.backup, e, setBy("gates.backup"))]),
    // A custom check without a script for this OS does not apply to the device.
    ...(gates.custom ?? [])
      .filter((c) => c.script[e.os] !== undefined)
      .map((c) => customGate(c.name, e, setBy(`gates.custom[${c.name}]`))),
  ];
  return {
    schemaVersion: 1,
    evaluatedAt: e.now.toISOString(),
    passed: results.every((r) => r.verdict === "pass"),
    results,
  };
}

/** One line per gate that did not pass, for the planner's event and the exit code's reason. */
export function describeFailedGates(results: readonly GateResult[]): string[] {
  return results.filter((r) => r.verdict !== "pass").map((r) => `${r.gate} ${r.name}: ${r.verdict}: ${r.detail}`);
}
