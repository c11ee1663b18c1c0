import type { Check } from "../../../../lib/schemas/policies";
import type { DeviceState } from "../deviceState";

/** One try of a check: passed or not, and what the script would print about it. */
export interface CheckOutcome {
  success: boolean;
  detail: string;
}

function describe(check: Check, success: boolean): string {
  switch (check.type) {
    case "http":
      return success
        ? `${check.method} ${check.url} -> ${check.expectStatus[0] ?? 200}`
        : `${check.method} ${check.url} -> 500 Internal Server Error (expected ${check.expectStatus.join("/")})`;
    case "tcp":
      return success
        ? `connected to ${check.host}:${check.port}`
        : `connect ${check.host}:${check.port}: connection refused`;
    case "process":
      return success
        ? `${check.processName}: ${check.minCount} running`
        : `${check.processName}: 0 running (expected >= ${check.minCount})`;
    case "script":
      return success ? `exit code ${check.expectExitCode}` : `exit code 1 (expected ${check.expectExitCode})`;
    case "service":
      return success
        ? `${check.serviceName} is ${check.expectState}`
        : `${check.serviceName} is not ${check.expectState}`;
    case "eventlog":
      return success ? `0 matching events in ${check.logName}` : `matching events in ${check.logName}`;
  }
}

const LEVEL_RANK = { Critical: 1, Error: 2, Warning: 3 } as const;

/**
 * Answers one attempt (0-based) of a check at time `t` from the device's state: a break in effect fails it; the
 * scenario's declared state (pre-existing failure, flaky first attempts) comes next; service and event-log checks
 * read the device's services and events; other types pass.
 */
export function evaluateCheck(state: DeviceState, app: string, check: Check, attempt: number, t: number): CheckOutcome {
  const broken = state.activeBreaks(t).find((b) => b.brk.app === app && b.brk.check === check.name);
  if (broken !== undefined) return { success: false, detail: broken.brk.detail ?? describe(check, false) };

  const declared = state.profile.spec.checks.find((c) => c.app === app && c.check === check.name);
  if (declared !== undefined && (!declared.passes || attempt < declared.failFirstAttempts)) {
    return { success: false, detail: declared.detail ?? describe(check, false) };
  }

  if (check.type === "service") {
    const service = state.services(t).find((s) => s.name.toLowerCase() === check.serviceName.toLowerCase());
    if (service === undefined) return { success: false, detail: `service ${check.serviceName} not found` };
    const success = service.state === check.expectState;
    return {
      success,
      detail: success ? describe(check, true) : `${service.name} is ${service.state} (expected ${check.expectState})`,
    };
  }
  if (check.type === "eventlog") {
    const since = t - check.lookbackMinutes * 60_000;
    const matching = state
      .events(t)
      .filter(
        (e) =>
          e.time >= since &&
          e.log.toLowerCase() === check.logName.toLowerCase() &&
          (check.source === undefined || e.source === check.source) &&
          (check.eventIds === undefined || check.eventIds.includes(e.id)) &&
          LEVEL_RANK[e.level] <= LEVEL_RANK[check.level],
      );
    const success = matching.length <= check.maxCount;
    return {
      success,
      detail: `${matching.length} matching events in ${check.logName} in the last ${check.lookbackMinutes} min (max ${check.maxCount})`,
    };
  }
  return { success: true, detail: declared?.detail ?? describe(check, true) };
}
