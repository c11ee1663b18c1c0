import { ARTIFACTS } from "../artifacts";

// Scan-only assessment runs (a window with mode "scan"): baseline, pre-validation and catalog, then sealed. The
// planner stops after the catalog (PlanContext.scanOnly); the exit-code rules must then not count the artifacts of
// the phases a scan never reaches as missing evidence. They are still verified when present.

/** Artifacts a scan-only run does not produce by design (install summary: a scan is also a dry run). */
export const NOT_PRODUCED_BY_SCAN: ReadonlySet<string> = new Set([
  ARTIFACTS.reboot.path,
  ARTIFACTS.snapshot.path,
  ARTIFACTS.baselineDiff.path,
  ARTIFACTS.postValidation.path,
  ARTIFACTS.regressions.path,
]);
