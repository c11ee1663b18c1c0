import type { CatalogEntry } from "../../schemas/artifacts/catalog";
import type { UpdatePolicy } from "../../schemas/policies";
import type { ReleaseAllowance } from "../../schemas/release";
import { applyRelease } from "../release/allowedByRelease";

/** An applicable update in policy terms (after lib/device maps the agent's raw names), before the policy decision. */
export type ApplicableUpdate = Omit<CatalogEntry, "decision" | "reason" | "release">;

const DAY_MS = 24 * 60 * 60 * 1000;

function decide(update: ApplicableUpdate, policy: UpdatePolicy, now: Date): Pick<CatalogEntry, "decision" | "reason"> {
  const kb = update.kb;
  // A known-bad patch must stay out even when someone also listed it for inclusion.
  if (kb !== undefined && policy.excludeKbs.includes(kb))
    return { decision: "excluded", reason: `${kb} is in excludeKbs` };
  if (kb === undefined && policy.excludePackages.includes(update.updateId)) {
    return { decision: "excluded", reason: `package ${update.updateId} is in excludePackages` };
  }
  if (kb !== undefined && policy.includeKbs.includes(kb)) {
    return {
      decision: "approved",
      reason: `${kb} is in includeKbs (classification, severity and deferral not applied)`,
    };
  }
  if (!policy.classifications.includes(update.classification)) {
    return { decision: "excluded", reason: `classification ${update.classification} is not in the policy` };
  }
  if (!policy.severities.includes(update.severity)) {
    return { decision: "excluded", reason: `severity ${update.severity} is not in the policy` };
  }
  if (update.releaseDate === null) {
    const deferral =
      policy.deferralDays > 0 ? `; release date unknown, so the ${policy.deferralDays}-day deferral cannot apply` : "";
    return {
      decision: "approved",
      reason: `classification ${update.classification}, severity ${update.severity}${deferral}`,
    };
  }
  const eligibleAt = new Date(Date.parse(update.releaseDate) + policy.deferralDays * DAY_MS);
  if (eligibleAt.getTime() > now.getTime()) {
    return {
      decision: "excluded",
      reason: `deferred until ${eligibleAt.toISOString()} (${policy.deferralDays} days after release)`,
    };
  }
  return {
    decision: "approved",
    reason:
      `classification ${update.classification}, severity ${update.severity}, released ${update.releaseDate}` +
      (policy.deferralDays > 0 ? ` (deferral of ${policy.deferralDays} days passed)` : ""),
  };
}

/**
 * Applies an UpdatePolicy to every applicable update at `now` (the orchestrator's current time): each entry is kept,
 * approved or excluded, with the reason, so catalog.json shows what was left out as well as what was installed.
 * Rule order: excludeKbs, excludePackages, includeKbs, classification, severity, deferral; then, for a ring that
 * follows a promoted release, only the release's exact bits stay approved (lib/domain/release/allowedByRelease.ts).
 */
export function decideUpdates(
  updates: readonly ApplicableUpdate[],
  policy: UpdatePolicy,
  now: Date,
  release?: ReleaseAllowance,
): CatalogEntry[] {
  return updates.map((update) => {
    const decided: CatalogEntry = { ...update, ...decide(update, policy, now) };
    return release === undefined ? decided : applyRelease(decided, release);
  });
}
