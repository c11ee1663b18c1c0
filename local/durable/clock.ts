/** Where the host reads the time: the wall clock, or a virtual clock that only moves when told to. */
export interface Clock {
  readonly kind: "real" | "virtual";
  now(): Date;
  /** Present on the virtual clock only. */
  advanceTo?(time: Date): void;
}

/** The wall clock (`npm start`). */
export class RealClock implements Clock {
  readonly kind = "real";
  now(): Date {
    return new Date();
  }
}

/** A clock for tests: it stands still until the host jumps it to the next due timer (time skipping). */
export class VirtualClock implements Clock {
  readonly kind = "virtual";
  private current: number;

  constructor(start: Date) {
    this.current = start.getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  /** Moves the clock forward to `time`; a time in the past leaves it where it is (time never runs backwards). */
  advanceTo(time: Date): void {
    this.current = Math.max(this.current, time.getTime());
  }
}
