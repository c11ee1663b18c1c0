import {
  regressionsByApplication,
  type CheckResult,
  type Regressions,
  type ValidationReport,
} from "../../schemas/artifacts/validation";

type Outcome = { success: boolean; detail: string };

const keyOf = (r: Pick<CheckResult, "app" | "check">): string => JSON.stringify([r.app, r.check]);

/** The last attempt speaks for the check: earlier failures were what the retries were for. */
function outcomeOf(result: CheckResult): Outcome {
  const last = result.attempts[result.attempts.length - 1];
  return { success: result.success, detail: last === undefined ? "" : last.detail };
}

const NOT_RUN: Outcome = { success: false, detail: "not run after patching" };

/**
 * Compares PRE and POST validation check by check (app + check name). A check that passed PRE and fails POST after
 * its attempts is a regression; so is one that passed PRE and has no POST result, since nothing proves it still
 * works. A check already failing PRE is pre-existing: reported, never counted. Checks only in POST are ignored.
 */
export function detectRegressions(pre: ValidationReport, post: ValidationReport): Regressions {
  const postByKey = new Map(post.results.map((r) => [keyOf(r), r]));
  const regressions: Regressions["regressions"] = [];
  const preExisting: Regressions["preExisting"] = [];
  for (const before of pre.results) {
    const after = postByKey.get(keyOf(before));
    const entry = {
      app: before.app,
      check: before.check,
      pre: outcomeOf(before),
      post: after === undefined ? NOT_RUN : outcomeOf(after),
    };
    if (!before.success) preExisting.push(entry);
    else if (!entry.post.success) regressions.push(entry);
  }
  return {
    schemaVersion: 1,
    TotalRegressions: regressions.length,
    regressions,
    preExisting,
    applications: regressionsByApplication(regressions),
  };
}
