/** One stop or start the hooks script did on a simulated device. */
export interface ServiceControlRecord {
  at: number;
  name: string;
  state: "Running" | "Stopped";
  owner: string;
}

/**
 * The services a device's hooks stopped and started (issue 20), folded over its scenario services: the state of a
 * service at `t` is its last control before `t`, unless the device booted since (an Automatic service starts at boot,
 * a Manual one stays as the scenario says). Pure per query, as the rest of the device's state.
 */
export class ServiceControl {
  private readonly records: ServiceControlRecord[] = [];

  /** Every control so far, in order (tests read it as the emulator's proof). */
  get log(): readonly ServiceControlRecord[] {
    return this.records;
  }

  record(entry: ServiceControlRecord): void {
    this.records.push(entry);
  }

  /** Forgets what a cancelled command would have done after `at`. */
  cancel(owner: string, at: number): void {
    const kept = this.records.filter((r) => r.owner !== owner || r.at <= at);
    this.records.splice(0, this.records.length, ...kept);
  }

  apply<S extends { name: string; state: string; startType: string }>(
    services: S[],
    t: number,
    lastBootAt: number,
  ): S[] {
    return services.map((s) => {
      const last = this.records.filter((r) => r.at <= t && sameService(r.name, s.name)).at(-1);
      if (last === undefined) return s;
      if (last.at < lastBootAt && /^(auto|automatic|enabled)/i.test(s.startType)) return { ...s, state: "Running" };
      return { ...s, state: last.state };
    });
  }
}

/** Windows names compare case-insensitively; a systemd unit may be named with or without `.service`. */
export function sameService(a: string, b: string): boolean {
  const norm = (n: string): string => n.toLowerCase().replace(/\.service$/, "");
  return norm(a) === norm(b);
}
