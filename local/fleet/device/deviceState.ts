import type { BreakSchema, UninstallSpec } from "../scenario/deviceSchema";
import { ServiceControl } from "./serviceControl";
import type { z } from "zod";
import { matchesUpdateKey } from "../scenario/resolveDeviceUpdates";
import { rebootDurationMs, type DeviceProfile, type SimUpdate } from "./deviceProfile";
import { DeviceTimeline, type Boot } from "./deviceTimeline";

/** One update the install script finished (or failed), stamped with the simulated time it finished. */
export interface InstallRecord {
  update: SimUpdate;
  finishedAt: number;
  /** The run command that installed it (a cancel undoes records after the cancel time). */
  owner: string;
  ok: boolean;
  /** 0 when ok; the HRESULT (Windows) or exit status (Linux) otherwise. */
  hresult: number;
}

/** An update a remediation removed (Windows) or put back to its earlier version (Linux), at a simulated time. */
export interface UninstallRecord {
  update: SimUpdate;
  at: number;
  /** The run command that removed it (a cancel undoes records after the cancel time). */
  owner: string;
}

/** An event-log / journal entry, time in ms. */
export interface DeviceEvent {
  log: string;
  source: string;
  id: number;
  level: "Critical" | "Error" | "Warning";
  time: number;
  message: string;
}

type Break = z.infer<typeof BreakSchema>;

/** A break in effect at some time, and since when. */
export interface ActiveBreak {
  brk: Break;
  since: number;
}

/** How Windows and Linux print an HRESULT / exit status. */
export function formatHResult(hresult: number): string {
  return `0x${(hresult >>> 0).toString(16).toUpperCase().padStart(8, "0")}`;
}

const ROLLBACK_BOOT_MS = 5 * 60_000;

/**
 * The changing state of one simulated device: what was installed when, and the boot/agent timeline. Every query
 * takes a time `t` (ms) and folds the records up to it, so the answers are pure functions of the scenario, the
 * commands executed and the times asked about.
 */
export class DeviceState {
  readonly timeline: DeviceTimeline;
  /** Stops and starts done by hooks (issue 20; local/fleet/device/serviceControl.ts). */
  readonly serviceControl = new ServiceControl();
  private readonly records: InstallRecord[] = [];
  private readonly removals: UninstallRecord[] = [];
  private readonly initialBoot: number;

  constructor(readonly profile: DeviceProfile) {
    const reboot = profile.spec.reboot;
    this.initialBoot = profile.lastBootTime.getTime();
    this.timeline = new DeviceTimeline(this.initialBoot, profile.spec.agent.status, {
      rebootMs: rebootDurationMs(profile),
      reconnectDelayMs: reboot.reconnectDelaySeconds * 1000,
      loops: reboot.loops,
      loopUptimeMs: reboot.loopUptimeSeconds * 1000,
    });
    const start = profile.fleetStart.getTime();
    for (const d of profile.spec.agent.disconnects) {
      this.timeline.addDisconnect(
        start + d.afterMinutes * 60_000,
        d.forMinutes === undefined ? Infinity : start + (d.afterMinutes + d.forMinutes) * 60_000,
      );
    }
  }

  /** Every install the device has done so far (for tests: an update must never be installed twice). */
  get installRecords(): readonly InstallRecord[] {
    return this.records;
  }

  recordInstall(record: InstallRecord): void {
    this.records.push(record);
  }

  /** Every removal a remediation made so far (for tests: what the uninstall script changed on the device). */
  get uninstallRecords(): readonly UninstallRecord[] {
    return this.removals;
  }

  recordUninstall(record: UninstallRecord): void {
    this.removals.push(record);
  }

  /**
   * Issue 20: the OS disk was replaced at `at` by one restored from a snapshot taken at `capturedAt`. Every update
   * installed in between is gone from the server, as if removed at `at` (a break that outlives a removal stays).
   */
  restoreTo(capturedAt: number, at: number, owner: string): void {
    for (const r of this.records) {
      if (!r.ok || r.finishedAt <= capturedAt || r.finishedAt > at) continue;
      if (this.installedRecord(r.update, at) !== r) continue;
      this.removals.push({ update: r.update, at, owner });
    }
  }

  /**
   * How removing an update goes on this device: the scenario's `uninstalls` entry, else Windows' own rules (a
   * servicing-stack update is permanent; a Defender definition update or the Malicious Software Removal Tool is no
   * package wusa or DISM can remove), else it is removed.
   */
  uninstallSpecFor(update: SimUpdate): UninstallSpec {
    const spec = this.profile.spec.uninstalls;
    const key = Object.keys(spec).find((k) => matchesUpdateKey(specOf(update), k));
    if (key !== undefined) return spec[key]!;
    if (this.profile.os === "windows" && /servicing stack/i.test(update.title))
      return { result: "notUninstallable", detail: "servicing stack updates are permanent and cannot be removed" };
    if (
      this.profile.os === "windows" &&
      /Security Intelligence Update|Malicious Software Removal Tool/i.test(update.title)
    )
      return { result: "notUninstallable", detail: "not an installed package: wusa and DISM cannot remove it" };
    return { result: "succeeds", requiresReboot: false };
  }

  findUpdateByKb(kb: string): SimUpdate | undefined {
    return this.profile.updates.find((u) => u.kb === kb);
  }

  /** Reboots at `shutdownAt`; updates that roll back make that boot slower. */
  scheduleReboot(shutdownAt: number, owner: string): Boot[] {
    const rollingBack = this.pendingRollbacks(shutdownAt).length > 0;
    return this.timeline.scheduleReboot(shutdownAt, owner, rollingBack ? ROLLBACK_BOOT_MS : 0);
  }

  /** A DELETE at `at`: what the command would have done after that did not happen. */
  cancel(owner: string, at: number): void {
    const kept = this.records.filter((r) => r.owner !== owner || r.finishedAt <= at);
    this.records.splice(0, this.records.length, ...kept);
    const removals = this.removals.filter((r) => r.owner !== owner || r.at <= at);
    this.removals.splice(0, this.removals.length, ...removals);
    this.timeline.cancel(owner, at);
    this.serviceControl.cancel(owner, at);
  }

  findUpdate(key: string): SimUpdate | undefined {
    return this.profile.updates.find((u) =>
      this.profile.os === "windows" ? u.key === key.toLowerCase() : u.key === key,
    );
  }

  private rollsBack(r: InstallRecord): boolean {
    return r.ok && r.update.outcome.result === "rollsBackOnReboot";
  }

  /** The boot at which an installed update was undone, if it was by `t`. */
  private rollbackBoot(r: InstallRecord, t: number): Boot | undefined {
    return this.rollsBack(r) ? this.timeline.firstBootBetween(r.finishedAt, t) : undefined;
  }

  private recordsUntil(t: number): InstallRecord[] {
    return this.records.filter((r) => r.finishedAt <= t);
  }

  /** The install that put the update in place and is still in effect at `t` (not rolled back, not removed since). */
  installedRecord(update: SimUpdate, t: number): InstallRecord | undefined {
    const latest = this.lastInstall(update, t);
    if (latest === undefined || this.rollbackBoot(latest, t) !== undefined) return undefined;
    const removed = this.removals.some((r) => r.update.key === update.key && r.at >= latest.finishedAt && r.at <= t);
    return removed ? undefined : latest;
  }

  private lastInstall(update: SimUpdate, t: number): InstallRecord | undefined {
    const ok = this.recordsUntil(t).filter((r) => r.ok && r.update.key === update.key);
    return ok.reduce<InstallRecord | undefined>(
      (a, b) => (a === undefined || b.finishedAt >= a.finishedAt ? b : a),
      undefined,
    );
  }

  isInstalled(update: SimUpdate, t: number): boolean {
    return this.installedRecord(update, t) !== undefined;
  }

  /** Linux: the version in place at `t` (null: not installed). */
  installedVersion(update: SimUpdate, t: number): string | null {
    return this.isInstalled(update, t) ? (update.version ?? null) : (update.currentVersion ?? null);
  }

  /** Installed updates that will be undone by the next boot. */
  pendingRollbacks(t: number): InstallRecord[] {
    return this.recordsUntil(t).filter(
      (r) => this.rollsBack(r) && this.rollbackBoot(r, t) === undefined && this.installedRecord(r.update, t) === r,
    );
  }

  /** Rollbacks that happened by `t`, with the boot that did them. */
  rollbacks(t: number): { record: InstallRecord; boot: Boot }[] {
    return this.recordsUntil(t).flatMap((r) => {
      const boot = this.rollbackBoot(r, t);
      return boot === undefined ? [] : [{ record: r, boot }];
    });
  }

  pendingReboot(t: number): { pending: boolean; signals: string[] } {
    const lastBoot = this.timeline.lastBootAt(t).at;
    const sticky = this.profile.spec.reboot.pendingAfterReboot;
    const needing = this.recordsUntil(t).filter((r) => r.ok && r.update.requiresReboot);
    const initial = this.profile.spec.pendingReboot && (sticky || lastBoot === this.initialBoot);
    const fromInstalls = needing.some((r) => sticky || r.finishedAt > lastBoot);
    const signals: string[] = [];
    if (this.profile.os === "windows") {
      if (fromInstalls) signals.push("WindowsUpdate", "CBS");
      if (initial) signals.push("PendingFileRenameOperations");
    } else if (fromInstalls || initial) {
      signals.push(this.profile.packageManager === "apt" ? "reboot-required" : "needs-restarting");
    }
    return { pending: signals.length > 0, signals };
  }

  /** Windows CurrentBuild.UBR / Linux kernel release: changes when an update that carries one is in place (after its reboot). */
  osBuild(t: number): string {
    let build = this.profile.osBuild;
    let since = -Infinity;
    for (const u of this.profile.updates) {
      if (u.osBuildAfter === undefined) continue;
      const r = this.installedRecord(u, t);
      if (r === undefined) continue;
      const effective = u.requiresReboot ? this.timeline.firstBootBetween(r.finishedAt, t)?.at : r.finishedAt;
      if (effective !== undefined && effective > since) {
        since = effective;
        build = u.osBuildAfter;
      }
    }
    return build;
  }

  activeBreaks(t: number): ActiveBreak[] {
    return this.profile.spec.breaks.flatMap((brk) => {
      const update = this.profile.updates.find((u) => matchesUpdateKey(specOf(u), brk.update));
      // A break that outlives a removal stays once the update was ever in place (rolled back at a boot excepted).
      const ever = (u: SimUpdate) => {
        const r = this.lastInstall(u, t);
        return r === undefined || this.rollbackBoot(r, t) !== undefined ? undefined : r;
      };
      const r =
        update === undefined ? undefined : brk.persistsAfterUninstall ? ever(update) : this.installedRecord(update, t);
      if (r === undefined) return [];
      if (brk.when === "immediately") return [{ brk, since: r.finishedAt }];
      const boot = this.timeline.firstBootBetween(r.finishedAt, t);
      return boot === undefined ? [] : [{ brk, since: boot.at }];
    });
  }

  services(t: number): { name: string; state: string; startType: string }[] {
    const stopped = new Set(
      this.activeBreaks(t).flatMap((b) => (b.brk.stopsService === undefined ? [] : [b.brk.stopsService])),
    );
    const listed = this.profile.services.map((s) => (stopped.has(s.name) ? { ...s, state: "Stopped" } : { ...s }));
    return this.serviceControl.apply(listed, t, this.timeline.lastBootAt(t).at);
  }

  disks(t: number): { mount: string; freeBytes: number; totalBytes: number }[] {
    const used = this.profile.updates.filter((u) => this.isInstalled(u, t)).reduce((sum, u) => sum + u.sizeBytes, 0);
    return this.profile.disks.map((d, i) =>
      i === 0 ? { ...d, freeBytes: Math.max(0, d.freeBytes - used) } : { ...d },
    );
  }

  installedUpdates(t: number): { id: string; kb?: string; version?: string; installedOn?: string }[] {
    const initial = this.profile.installed.map((i) => ({
      id: i.id,
      ...(i.kb !== undefined ? { kb: i.kb } : {}),
      ...(i.version !== undefined ? { version: i.version } : {}),
      ...(i.installedOn !== undefined ? { installedOn: i.installedOn } : {}),
    }));
    if (this.profile.os === "windows") {
      const added = this.profile.updates.flatMap((u) => {
        const r = this.installedRecord(u, t);
        return r === undefined
          ? []
          : [
              {
                id: u.kb ?? u.key,
                ...(u.kb !== undefined ? { kb: u.kb } : {}),
                installedOn: new Date(r.finishedAt).toISOString(),
              },
            ];
      });
      return [...initial, ...added];
    }
    const packages = this.profile.updates.flatMap((u) => {
      const version = this.installedVersion(u, t);
      return version === null ? [] : [{ id: u.key, version }];
    });
    return [...initial, ...packages];
  }

  /** Windows Update / package-manager history, newest first. */
  history(t: number): {
    kb?: string;
    title: string;
    date: string;
    operation: "Installation" | "Uninstallation" | "Other";
    resultCode: number;
    hresult?: number;
  }[] {
    const windows = this.profile.os === "windows";
    const entries: { at: number; entry: ReturnType<DeviceState["history"]>[number] }[] = [];
    for (const i of this.profile.installed) {
      if (!windows || i.installedOn === undefined) continue;
      const at = Date.parse(i.installedOn);
      entries.push({
        at,
        entry: {
          kb: i.kb,
          title: i.title ?? `Update for Microsoft server operating system (${i.kb ?? i.id})`,
          date: i.installedOn,
          operation: "Installation",
          resultCode: 2,
        },
      });
    }
    for (const r of this.recordsUntil(t)) {
      const u = r.update;
      const title = windows ? u.title : `Upgrade ${u.key} (${u.currentVersion ?? "none"} -> ${u.version ?? "?"})`;
      entries.push({
        at: r.finishedAt,
        entry: {
          ...(u.kb !== undefined ? { kb: u.kb } : {}),
          title,
          date: new Date(r.finishedAt).toISOString(),
          operation: "Installation",
          resultCode: r.ok ? 2 : 4,
          hresult: r.hresult,
        },
      });
    }
    for (const r of this.removals.filter((x) => x.at <= t)) {
      const u = r.update;
      entries.push({
        at: r.at,
        entry: {
          ...(u.kb !== undefined ? { kb: u.kb } : {}),
          title: windows ? u.title : `Downgrade ${u.key} (${u.version ?? "?"} -> ${u.currentVersion ?? "none"})`,
          date: new Date(r.at).toISOString(),
          operation: "Uninstallation",
          resultCode: 2,
        },
      });
    }
    for (const { record, boot } of this.rollbacks(t)) {
      const u = record.update;
      const title = windows
        ? `${u.title} (changes undone at restart)`
        : `Downgrade ${u.key} (${u.version ?? "?"} -> ${u.currentVersion ?? "none"})`;
      const hresult = u.outcome.result === "rollsBackOnReboot" ? u.outcome.hresult : 0;
      entries.push({
        at: boot.at,
        entry: {
          ...(u.kb !== undefined ? { kb: u.kb } : {}),
          title,
          date: new Date(boot.at).toISOString(),
          operation: "Uninstallation",
          resultCode: 2,
          hresult,
        },
      });
    }
    return entries.sort((a, b) => b.at - a.at).map((e) => e.entry);
  }

  /** Event-log (Windows) or journal (Linux) errors up to `t`: the scenario's own plus those its history causes. */
  events(t: number): DeviceEvent[] {
    const windows = this.profile.os === "windows";
    const start = this.profile.fleetStart.getTime();
    const out: DeviceEvent[] = this.profile.spec.events.map((e) => ({ ...e, time: start + e.atMinutes * 60_000 }));
    for (const r of this.recordsUntil(t).filter((x) => !x.ok)) {
      out.push(
        windows
          ? {
              log: "System",
              source: "Microsoft-Windows-WindowsUpdateClient",
              id: 20,
              level: "Error",
              time: r.finishedAt,
              message: `Installation Failure: Windows failed to install the following update with error ${formatHResult(r.hresult)}: ${r.update.title}.`,
            }
          : {
              log: "journal",
              source: this.profile.packageManager,
              id: 0,
              level: "Error",
              time: r.finishedAt,
              message: `E: Sub-process /usr/bin/dpkg returned an error code (1) upgrading ${r.update.key} to ${r.update.version ?? "?"} (exit status ${r.hresult})`,
            },
      );
    }
    for (const { record, boot } of this.rollbacks(t)) {
      const u = record.update;
      const hresult = u.outcome.result === "rollsBackOnReboot" ? u.outcome.hresult : 0;
      out.push(
        windows
          ? {
              log: "System",
              source: "Microsoft-Windows-WindowsUpdateClient",
              id: 20,
              level: "Error",
              time: boot.at,
              message: `Installation Failure: Windows failed to install the following update with error ${formatHResult(hresult)}: ${u.title}. Changes were undone at restart.`,
            }
          : {
              log: "journal",
              source: "systemd",
              id: 0,
              level: "Error",
              time: boot.at,
              message: `${u.key} ${u.version ?? "?"} failed at boot; reverted to ${u.currentVersion ?? "none"}`,
            },
      );
    }
    for (const b of this.timeline.bootsBetween(this.initialBoot, t).filter((x) => !x.requested)) {
      out.push(
        windows
          ? {
              log: "System",
              source: "Microsoft-Windows-Kernel-Power",
              id: 41,
              level: "Critical",
              time: b.at,
              message: "The system has rebooted without cleanly shutting down first.",
            }
          : {
              log: "journal",
              source: "kernel",
              id: 0,
              level: "Critical",
              time: b.at,
              message: "watchdog: unexpected reboot; previous boot did not shut down cleanly",
            },
      );
    }
    for (const a of this.activeBreaks(t)) {
      out.push({
        log: windows ? "Application" : "journal",
        source: a.brk.app,
        id: 1000,
        level: "Error",
        time: a.since,
        message: a.brk.detail ?? `${a.brk.app}: ${a.brk.check} failing since update ${a.brk.update}`,
      });
    }
    return out.filter((e) => e.time <= t).sort((a, b) => a.time - b.time);
  }

  updateAgentErrors(t: number): { time: number; hresult: number; message: string }[] {
    const failed = this.recordsUntil(t)
      .filter((r) => !r.ok)
      .map((r) => ({
        time: r.finishedAt,
        hresult: r.hresult,
        message: `${r.update.kb ?? r.update.key}: install failed (${formatHResult(r.hresult)})`,
      }));
    const undone = this.rollbacks(t).map(({ record, boot }) => ({
      time: boot.at,
      hresult: record.update.outcome.result === "rollsBackOnReboot" ? record.update.outcome.hresult : 0,
      message: `${record.update.kb ?? record.update.key}: rolled back at restart`,
    }));
    return [...failed, ...undone].sort((a, b) => a.time - b.time);
  }
}

/** A SimUpdate seen as the scenario keys it (KB / update id / package name) for matching breaks. */
function specOf(u: SimUpdate): { kb: string; updateId: string } | { name: string } {
  return u.kb !== undefined ? { kb: u.kb, updateId: u.key } : { name: u.key };
}
