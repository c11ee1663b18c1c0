import type { ReleasePolicy } from "../../schemas/releasePolicy";
import type { GateResult, ObservedRegression, Release } from "../../schemas/release";

const MINUTE_MS = 60_000;

/** What the promotion gates look at, all read back from evidence by the caller. */
export interface GateInputs {
  now: Date;
  gates: ReleasePolicy["gates"];
  followedRing: string;
  /** The followed ring's current release (undefined: it has sealed none). */
  release: Release | undefined;
  /** Every regression any sealed release of the tenant observed (220 runs, attributed to their installed keys). */
  regressions: readonly ObservedRegression[];
  /** Keys whose regressions an operator closed (a lifted quarantine): not open any more. */
  closedKeys: readonly string[];
  approvals: readonly { principal: string; at: string }[];
}

export interface GateVerdict {
  gates: GateResult[];
  promoted: boolean;
  /** Set when every unmet gate only needs time (the soak): the earliest time it is met. */
  recheckAt?: string;
  reason: string;
}

/** Devices a count-or-percentage asks for out of `targeted` (a percentage rounds up: "80%" of 3 is 3). */
export function requiredDevices(min: number | string, targeted: number): number {
  if (typeof min === "number") return min;
  return Math.ceil((targeted * Number.parseInt(min, 10)) / 100);
}

/**
 * The promotion gates, evaluated when the following ring is about to start: the followed ring sealed a release;
 * the soak since that ring finished; enough of its devices succeeded; no key of the release has an open regression
 * anywhere in the tenant; and, when asked for, an approval by a principal with the approve permission.
 */
export function evaluateGates(input: GateInputs): GateVerdict {
  const { release, gates } = input;
  if (release === undefined) {
    const gate: GateResult = {
      gate: "release-exists",
      met: false,
      inputs: { ring: input.followedRing },
      detail: `ring ${input.followedRing} has sealed no release yet`,
    };
    return { gates: [gate], promoted: false, reason: gate.detail };
  }
  const results: GateResult[] = [
    {
      gate: "release-exists",
      met: true,
      inputs: { ring: input.followedRing, release: release.id },
      detail: `release ${release.id} (${release.updates.length} updates)`,
    },
  ];
  const soakEnd = Date.parse(release.ringFinishedAt) + gates.soakMinutes * MINUTE_MS;
  const soaked = input.now.getTime() >= soakEnd;
  const soakedMinutes = Math.floor((input.now.getTime() - Date.parse(release.ringFinishedAt)) / MINUTE_MS);
  results.push({
    gate: "soak",
    met: soaked,
    inputs: { ringFinishedAt: release.ringFinishedAt, soakMinutes: gates.soakMinutes, now: input.now.toISOString() },
    detail: soaked
      ? `soaked ${soakedMinutes} min (at least ${gates.soakMinutes})`
      : `soaked ${soakedMinutes} of ${gates.soakMinutes} min: met at ${new Date(soakEnd).toISOString()}`,
  });
  const required = requiredDevices(gates.minSucceeded, release.devices.targeted);
  results.push({
    gate: "min-succeeded",
    met: release.devices.succeeded >= required,
    inputs: {
      minSucceeded: gates.minSucceeded,
      targeted: release.devices.targeted,
      succeeded: release.devices.succeeded,
    },
    detail: `${release.devices.succeeded} of ${release.devices.targeted} devices succeeded (${required} required)`,
  });
  if (gates.noOpenRegression) {
    const keys = new Set(release.updates.map((u) => u.key));
    const closed = new Set(input.closedKeys);
    const open = input.regressions.filter((r) => r.keys.some((k) => keys.has(k) && !closed.has(k)));
    const openKeys = [...new Set(open.flatMap((r) => r.keys.filter((k) => keys.has(k) && !closed.has(k))))].sort();
    results.push({
      gate: "no-open-regression",
      met: open.length === 0,
      inputs: { keys: [...keys].sort(), regressedRuns: open.map((r) => `${r.client}/${r.device}/${r.runId}`) },
      detail:
        open.length === 0
          ? "no open regression on any update of the release"
          : `open regression on ${openKeys.join(", ")} (${open.map((r) => `${r.client}/${r.device}`).join(", ")})`,
    });
  }
  if (gates.requireApproval) {
    results.push({
      gate: "approval",
      met: input.approvals.length > 0,
      inputs: { approvals: input.approvals.map((a) => ({ principal: a.principal, at: a.at })) },
      detail:
        input.approvals.length > 0
          ? `approved by ${input.approvals.map((a) => a.principal).join(", ")}`
          : `release ${release.id} awaits approval (POST …/releases/${release.id}/approvals)`,
    });
  }
  const unmet = results.filter((g) => !g.met);
  const onlyTime = unmet.length > 0 && unmet.every((g) => g.gate === "soak");
  return {
    gates: results,
    promoted: unmet.length === 0,
    ...(onlyTime ? { recheckAt: new Date(soakEnd).toISOString() } : {}),
    reason:
      unmet.length === 0
        ? `release ${release.id} promoted: ${results.map((g) => g.gate).join(", ")} met`
        : `release ${release.id} not promoted: ${unmet.map((g) => `${g.gate}: ${g.detail}`).join("; ")}`,
  };
}
