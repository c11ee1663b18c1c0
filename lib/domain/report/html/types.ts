import type { InstallOutcome, RebootRecord } from "../../../schemas/artifacts/catalog";
import type { IndexEntry, RunEvent } from "../../../schemas/artifacts/integrity";
import type { FinalReport } from "../../../schemas/artifacts/outcome";
import type { RunRecord } from "../../../schemas/artifacts/run";
import type { BaselineDiff } from "../../../schemas/artifacts/snapshot";
import type { Regressions, ValidationReport } from "../../../schemas/artifacts/validation";

/**
 * What `report.html` is rendered from: the final report plus the verified artifacts behind it. An absent field means
 * the artifact could not be read back verified (or was never written); its section then says "not available".
 */
export interface ReportHtmlInput {
  report: FinalReport;
  /** `01-init/run.json`, for the trigger and start time. */
  runRecord?: RunRecord;
  installs?: readonly InstallOutcome[];
  regressions?: Regressions;
  preValidation?: ValidationReport;
  postValidation?: ValidationReport;
  baselineDiff?: BaselineDiff;
  /** `10-index/events.jsonl`, for the phase timeline. */
  events?: readonly RunEvent[];
  reboot?: RebootRecord;
  /** `10-index/artifact-index.json` entries: the sealed hashes. */
  artifactIndex?: readonly IndexEntry[];
}
