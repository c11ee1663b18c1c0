import type { OsFamily } from "../schemas/common";
import type { ApplicableUpdate } from "../schemas/device";
import type { Classification, Severity } from "../schemas/policies";

/** An applicable update with its raw agent terms mapped to the policy's classification and severity. */
export interface MappedUpdate extends ApplicableUpdate {
  policyClassification: Classification;
  policySeverity: Severity;
}

// WUA UpdateClassification names (the catalog script reports known categories in English whatever the locale).
const WUA_CLASSIFICATIONS: Record<string, Classification> = {
  "critical updates": "Critical",
  "security updates": "Security",
  "update rollups": "UpdateRollup",
  "feature packs": "FeaturePack",
  "service packs": "ServicePack",
  "definition updates": "Definition",
  tools: "Tools",
  updates: "Updates",
  drivers: "Driver",
};

const SEVERITIES: Record<string, Severity> = {
  critical: "Critical",
  important: "Important",
  moderate: "Moderate",
  low: "Low",
};

/**
 * Maps a raw classification to the policy term. Unknown names (Upgrades, a new WUA category) become Other, so an
 * unrecognised update is only installed by a policy that asks for Other, never silently as Security.
 */
export function mapClassification(raw: string, os: OsFamily): Classification {
  const key = raw.trim().toLowerCase();
  if (os === "linux") return key === "security" ? "Security" : key === "critical" ? "Critical" : "Other";
  return WUA_CLASSIFICATIONS[key] ?? "Other";
}

/** Maps an MSRC severity string; missing or unknown ratings are Unspecified. */
export function mapSeverity(raw: string | null | undefined): Severity {
  if (raw === null || raw === undefined) return "Unspecified";
  return SEVERITIES[raw.trim().toLowerCase()] ?? "Unspecified";
}

/** Adds the policy terms to one catalog entry, keeping the raw ones as evidence of what the agent said. */
export function mapApplicableUpdate(update: ApplicableUpdate, os: OsFamily): MappedUpdate {
  return {
    ...update,
    policyClassification: mapClassification(update.classification, os),
    policySeverity: mapSeverity(update.severity),
  };
}
