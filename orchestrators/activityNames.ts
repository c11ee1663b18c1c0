/** Activity names the orchestrators call; functions/index.ts registers handlers under exactly these names. */
export const ACTIVITIES = {
  startDeviceRun: "startDeviceRun",
  advanceDeviceRun: "advanceDeviceRun",
  finishDeviceRun: "finishDeviceRun",
  discoverWindowTargets: "discoverWindowTargets",
  writeWindowReport: "writeWindowReport",
  publishRunEvents: "publishRunEvents",
  publishWindowEvents: "publishWindowEvents",
} as const;

/** Orchestrator names. */
export const ORCHESTRATORS = {
  devicePatchRun: "devicePatchRun",
  clientRollout: "clientRollout",
  maintenanceWindow: "maintenanceWindow",
} as const;
