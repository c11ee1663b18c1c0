import type { AgentStatus } from "../contract";

/** A stretch of time during which the agent cannot be reached (a reboot, a network outage). */
export interface DownInterval {
  from: number;
  /** Infinity: disconnected for good. */
  to: number;
  /** The run command that caused it, so a cancel can undo it. */
  owner?: string;
}

/** One boot of the device. */
export interface Boot {
  at: number;
  shutdownAt: number;
  /** False for the extra reboots of a loop (unexpected shutdowns in the event log). */
  requested: boolean;
  owner?: string;
}

/** Reboot parameters of one device, in ms. */
export interface RebootTiming {
  rebootMs: number;
  reconnectDelayMs: number;
  loops: number;
  loopUptimeMs: number;
}

/**
 * When the device was up, booting or unreachable: boots (from the initial one and every reboot since) and the
 * intervals the agent was Disconnected. Pure bookkeeping over times in ms; all answers are functions of `t`.
 */
export class DeviceTimeline {
  private readonly boots: Boot[];
  private readonly down: DownInterval[] = [];

  constructor(
    initialBoot: number,
    private readonly baseStatus: AgentStatus,
    private readonly timing: RebootTiming,
  ) {
    this.boots = [{ at: initialBoot, shutdownAt: initialBoot, requested: true }];
  }

  addDisconnect(from: number, to: number, owner?: string): void {
    this.down.push({ from, to, ...(owner !== undefined ? { owner } : {}) });
  }

  /**
   * Shuts down at `shutdownAt`, boots `rebootMs` (+ `extraBootMs`, e.g. undoing updates) later, then runs the
   * reboot loop if the scenario has one. Returns the boots it added.
   */
  scheduleReboot(shutdownAt: number, owner: string, extraBootMs = 0): Boot[] {
    const added: Boot[] = [];
    let shutdown = shutdownAt;
    let boot = shutdown + this.timing.rebootMs + extraBootMs;
    added.push({ at: boot, shutdownAt: shutdown, requested: true, owner });
    for (let i = 0; i < this.timing.loops; i++) {
      shutdown = boot + this.timing.loopUptimeMs;
      boot = shutdown + this.timing.rebootMs;
      added.push({ at: boot, shutdownAt: shutdown, requested: false, owner });
    }
    for (const b of added) this.down.push({ from: b.shutdownAt, to: b.at + this.timing.reconnectDelayMs, owner });
    this.boots.push(...added);
    this.boots.sort((a, b) => a.at - b.at);
    return added;
  }

  /** Undoes what a cancelled command would not have done yet: reboots and outages it caused that start after `at`. */
  cancel(owner: string, at: number): void {
    const keep = (x: { owner?: string; shutdownAt?: number; from?: number }): boolean =>
      x.owner !== owner || (x.shutdownAt ?? x.from ?? 0) <= at;
    const boots = this.boots.filter(keep);
    this.boots.splice(0, this.boots.length, ...boots);
    const down = this.down.filter((d) => d.owner !== owner || d.from <= at);
    this.down.splice(0, this.down.length, ...down);
  }

  /** The boot in effect at `t`. */
  lastBootAt(t: number): Boot {
    let last = this.boots[0] as Boot;
    for (const b of this.boots) if (b.at <= t) last = b;
    return last;
  }

  /** The first boot strictly after `after` and at or before `until`. */
  firstBootBetween(after: number, until: number): Boot | undefined {
    return this.boots.find((b) => b.at > after && b.at <= until);
  }

  /** Boots in (after, until]. */
  bootsBetween(after: number, until: number): Boot[] {
    return this.boots.filter((b) => b.at > after && b.at <= until);
  }

  /** The device is powered off or booting. */
  isDown(t: number): boolean {
    return this.boots.some((b) => b.owner !== undefined && t >= b.shutdownAt && t < b.at);
  }

  agentStatus(t: number): AgentStatus {
    if (this.baseStatus !== "Connected") return this.baseStatus;
    return this.down.some((d) => t >= d.from && t < d.to) ? "Disconnected" : "Connected";
  }

  /** The first instant ≥ t with the agent connected; undefined when that never happens. */
  nextConnectedAt(t: number): number | undefined {
    if (this.baseStatus !== "Connected") return undefined;
    let at = t;
    for (;;) {
      const covering = this.down.filter((d) => at >= d.from && at < d.to);
      if (covering.length === 0) return at;
      at = Math.max(...covering.map((d) => d.to));
      if (!Number.isFinite(at)) return undefined;
    }
  }
}
