import type { CheckResult } from "../../../../lib/schemas/artifacts/validation";
import type { ValidateParams } from "../../../../lib/schemas/device/parameters";
import type { ValidateData } from "../../../../lib/schemas/device/validate";
import { iso, type Answer, type AnswerContext } from "./answer";
import { evaluateCheck } from "./evaluateCheck";

const ATTEMPT_MS = 1_000;
const STARTUP_MS = 1_000;

/**
 * `validate`: runs the checks one after the other. Each waits `settleSeconds` before its first try and between
 * tries; it stops at the first success, or after `attempts` failures. Each try reads the device at its own time.
 */
export function answerValidate({ state, startedAt: t }: AnswerContext, params: ValidateParams): Answer {
  let cursor = t + STARTUP_MS;
  const results: CheckResult[] = params.checks.map(({ app, check }) => {
    const attempts: CheckResult["attempts"] = [];
    for (let i = 0; i < check.attempts; i++) {
      cursor += check.settleSeconds * 1000;
      const outcome = evaluateCheck(state, app, check, i, cursor);
      attempts.push({ at: iso(cursor), success: outcome.success, detail: outcome.detail });
      cursor += ATTEMPT_MS;
      if (outcome.success) break;
    }
    return {
      app,
      check: check.name,
      type: check.type,
      success: attempts[attempts.length - 1]?.success ?? false,
      attempts,
    };
  });
  const data: ValidateData = { startedAt: iso(t), finishedAt: iso(cursor), results };
  return { data, errors: [], durationMs: cursor - t };
}
