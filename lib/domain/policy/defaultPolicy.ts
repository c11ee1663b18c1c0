import type { PolicyLayer } from "../../schemas/policyLayer";

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** The complete global layer a careful MSP starts from: every field set, so any tenant/client/device layer can overlay it. */
export const DEFAULT_GLOBAL_POLICY: PolicyLayer = deepFreeze({
  schemaVersion: 1,
  scope: { level: "global" },
  update: {
    // Security-relevant and cumulative updates plus Defender definitions; feature packs, drivers and tools
    // change behaviour and are opted into per tenant or client.
    classifications: ["Critical", "Security", "UpdateRollup", "Definition"],
    severities: ["Critical", "Important", "Moderate", "Low", "Unspecified"],
    deferralDays: 0,
    includeKbs: [],
    excludeKbs: [],
    excludePackages: [],
    rebootPolicy: "IfRequired",
    maxInstallMinutes: 120,
    maxReboots: 3,
    rebootTimeoutMinutes: 30,
  },
  appValidation: { apps: [] },
  diagnostics: { required: false, eventLogLookbackHours: 24 },
});
