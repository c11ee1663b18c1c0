/** What one look at a rebooting device saw. */
export interface RebootObservation {
  at: Date;
  agentStatus: "Connected" | "Disconnected" | "Error" | "Expired";
  /** Last boot time reported by the device when it could be asked (a baseline), else undefined. */
  lastBootTime?: Date;
}

/** Where a requested reboot stands. */
export type RebootProgress =
  { state: "waiting" } | { state: "completed"; bootTimeAfter: Date } | { state: "timed-out"; waitedMinutes: number };

/**
 * A reboot is complete only when the agent is Connected again AND the device reports a boot time after the request:
 * a Connected agent alone may not have gone down yet, and a stale boot time proves nothing.
 */
export function assessReboot(
  requestedAt: Date,
  observation: RebootObservation,
  timeoutMinutes: number,
): RebootProgress {
  const booted = observation.lastBootTime !== undefined && observation.lastBootTime.getTime() > requestedAt.getTime();
  if (observation.agentStatus === "Connected" && booted && observation.lastBootTime !== undefined) {
    return { state: "completed", bootTimeAfter: observation.lastBootTime };
  }
  const waitedMinutes = Math.floor((observation.at.getTime() - requestedAt.getTime()) / 60_000);
  return waitedMinutes >= timeoutMinutes ? { state: "timed-out", waitedMinutes } : { state: "waiting" };
}
