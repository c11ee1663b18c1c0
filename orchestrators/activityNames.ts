import type { ActivityName } from "../lib/schemas/activities";

/** Activity names (lib/schemas/activities.ts has their contracts); functions/activityTable.ts registers each. */
export const ACTIVITIES = {
  startDeviceRun: "startDeviceRun",
  advanceDeviceRun: "advanceDeviceRun",
  finishDeviceRun: "finishDeviceRun",
  runFailureHooks: "runFailureHooks",
  discoverWindowTargets: "discoverWindowTargets",
  writeWindowReport: "writeWindowReport",
  publishRunEvents: "publishRunEvents",
  publishWindowEvents: "publishWindowEvents",
  buildEvidenceExport: "buildEvidenceExport",
  failEvidenceExport: "failEvidenceExport",
  writeDeploymentReport: "writeDeploymentReport",
  publishDeploymentEvents: "publishDeploymentEvents",
  sealRingRelease: "sealRingRelease",
  decidePromotion: "decidePromotion",
  publishQuarantineEvents: "publishQuarantineEvents",
} as const satisfies { readonly [N in ActivityName]: N };

/** Orchestrator names. */
export const ORCHESTRATORS = {
  devicePatchRun: "devicePatchRun",
  clientRollout: "clientRollout",
  maintenanceWindow: "maintenanceWindow",
  emergencyDeployment: "emergencyDeployment",
} as const;
