import type { CatalogEntry } from "../../schemas/artifacts/catalog";
import type { UpdatePolicy } from "../../schemas/policies";

/** What an emergency deployment asks to install (the run's trigger carries it into run.json). */
export interface DeploymentScope {
  deploymentId: string;
  kbs: readonly string[];
  /** Linux package names (catalog entries without a KB, by update id). */
  packages: readonly string[];
}

/**
 * An emergency deployment replaces the approved set by exactly the requested updates, as includeKbs does for a KB
 * (classification, severity and deferral not applied), and approves nothing else. The policy's exclusions
 * (excludeKbs, excludePackages: a known-bad or quarantined patch) still win. Every entry keeps the policy's own
 * decision in its reason, so catalog.json shows what a normal run would have done.
 */
export function restrictToDeployment(
  entries: readonly CatalogEntry[],
  policy: Pick<UpdatePolicy, "excludeKbs" | "excludePackages">,
  scope: DeploymentScope,
): CatalogEntry[] {
  return entries.map((entry): CatalogEntry => {
    const requested = entry.kb !== undefined ? scope.kbs.includes(entry.kb) : scope.packages.includes(entry.updateId);
    const policySaid = `policy said: ${entry.decision}, ${entry.reason}`;
    if (!requested)
      return { ...entry, decision: "excluded", reason: `not in deployment ${scope.deploymentId} (${policySaid})` };
    const excluded =
      entry.kb !== undefined ? policy.excludeKbs.includes(entry.kb) : policy.excludePackages.includes(entry.updateId);
    if (excluded)
      return {
        ...entry,
        decision: "excluded",
        reason: `requested by deployment ${scope.deploymentId}, but the policy excludes it (${entry.reason})`,
      };
    return {
      ...entry,
      decision: "approved",
      reason: `requested by deployment ${scope.deploymentId} (classification, severity and deferral not applied)`,
    };
  });
}
