// The test-process side of the fleet clock crossing processes (the child side is test/fixtures/window/fleetTimePolicy.ts).
import type { FleetClock } from "../../../local/fleet/contract";
import { FLEET_TIME_HEADER } from "../../fixtures/window/fleetTimePolicy";
import { onServerRequest } from "./emulatorTraffic";

/**
 * A FleetClock that shows the latest time stamped on requests reaching one port (monotonic: a stamp older than the
 * latest is ignored). The stamp is read when the request arrives, before the emulator's handler reads the clock.
 */
export class StampedFleetClock implements FleetClock {
  private latest: number;
  private unsubscribe: (() => void) | undefined;

  constructor(start: Date) {
    this.latest = start.getTime();
  }

  now(): Date {
    return new Date(this.latest);
  }

  /** Moves the clock to `time` if that is later (a stamp, or where a restarted host resumes). */
  observe(time: Date): void {
    if (!Number.isNaN(time.getTime())) this.latest = Math.max(this.latest, time.getTime());
  }

  /** Starts reading the stamps of requests to `port` (the emulator's). */
  follow(port: number): void {
    this.unsubscribe?.();
    this.unsubscribe = onServerRequest(port, "start", (request) => {
      const stamp = request.headers[FLEET_TIME_HEADER];
      if (typeof stamp === "string") this.observe(new Date(stamp));
    });
  }

  /** Stops reading stamps. */
  close(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }
}
