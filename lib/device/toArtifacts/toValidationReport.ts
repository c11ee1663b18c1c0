import type { ScriptSource } from "../../schemas/artifacts/source";
import type { ValidationReport } from "../../schemas/artifacts/validation";
import type { ValidateOutput } from "../../schemas/device/validate";
import { provenance } from "./conversion";

/** `validate` output → `pre-validation.json` or `post-validation.json`. */
export function toValidationReport(
  output: ValidateOutput,
  stage: "pre" | "post",
  source: ScriptSource,
): ValidationReport {
  return {
    ...provenance(source, output.errors),
    schemaVersion: 1,
    stage,
    startedAt: output.data.startedAt,
    results: output.data.results.map((r) => ({ ...r, attempts: r.attempts.map((a) => ({ ...a })) })),
  };
}
