// Pure conversions from parsed device-script output documents to the run's artifacts (lib/schemas/artifacts).
export type { Conversion } from "./conversion";
export { toSystemSnapshot } from "./toSystemSnapshot";
export { toValidationReport } from "./toValidationReport";
export { toCatalog } from "./toCatalog";
export { approvedInstallParams } from "./approvedInstallParams";
export { uninstallableReason } from "./installableUpdate";
export { toInstallOutcomes } from "./toInstallOutcomes";
export { toDiagnostics } from "./toDiagnostics";
