import { ARTIFACTS, type ArtifactSpec } from "../../domain/artifacts";
import { STEP_PLANS, type StepFacts } from "../../domain/run/steps";
import { detectRegressions } from "../../domain/validation/detectRegressions";
import { encodeParameters } from "../../device/parameters";
import { toValidationReport } from "../../device/toArtifacts";
import type { ParsedScriptOutput } from "../../device/parseScriptOutput";
import type { RunCommandParameter } from "../../device/parameters";
import type { UninstallRecord } from "../../schemas/artifacts/remediation";
import type { ScriptSource } from "../../schemas/artifacts/source";
import type { ValidationReport } from "../../schemas/artifacts/validation";
import type { OsFamily } from "../../schemas/common";
import type { ScriptId } from "../../schemas/device/envelope";
import type { DeviceRunInput } from "../../schemas/deviceRun";
import { checksOf } from "../checks";
import type { RunFacts } from "../runFacts";
import { removalOf } from "./removalOf";

// The parts of lib/deviceRun/steps.ts's ParameterContext / RecordContext / StepRecord these rows use, stated here so
// the step table can import this file without an import cycle (its `satisfies Record<StepId, Step>` checks the rows).
interface Parameters {
  input: DeviceRunInput;
  facts: RunFacts;
}
interface Recording {
  os: OsFamily;
  facts: RunFacts;
  source: ScriptSource;
  parse<Id extends ScriptId>(id: Id): ParsedScriptOutput<Id>;
  put(spec: ArtifactSpec, value: unknown): Promise<void>;
  read<T>(spec: ArtifactSpec): Promise<T | undefined>;
}
type Recorded = { ok: true; facts: StepFacts } | { ok: false; why: string };

/**
 * The remediation's rows of the step table (issue 20): `uninstall` removes what this run installed (the removal plan
 * from its own evidence), `revalidation` runs the POST checks again and compares them with the same PRE validation.
 */
export const REMEDIATION_STEPS = {
  uninstall: {
    ...STEP_PLANS.uninstall,
    async parameters({ input, facts }: Parameters): Promise<RunCommandParameter[]> {
      const removal = await removalOf(facts, input.device.os);
      // The planner enters this stage only when the removal plan has a request: anything else is a bug.
      if (removal.request === undefined)
        throw new Error(`run ${input.run.runId}: uninstall planned with nothing that may be removed`);
      return encodeParameters("uninstall", removal.request);
    },
    async record(ctx: Recording): Promise<Recorded> {
      const parsed = ctx.parse("uninstall");
      if (!parsed.ok) return { ok: false, why: `${parsed.failure.kind}: ${parsed.failure.message}` };
      const removal = await removalOf(ctx.facts, ctx.os);
      const { results, rebootRequired } = parsed.output.data;
      const record: UninstallRecord = {
        schemaVersion: 1,
        source: ctx.source,
        ...(parsed.output.errors.length === 0 ? {} : { collectionErrors: parsed.output.errors }),
        results,
        notRequested: removal.notRequested,
        rebootRequired,
      };
      await ctx.put(ARTIFACTS.uninstall, record);
      const removed = results.filter((r) => r.result === "Uninstalled").length;
      return { ok: true, facts: { uninstall: { removed, notRemoved: results.length - removed, rebootRequired } } };
    },
  },
  revalidation: {
    ...STEP_PLANS.revalidation,
    parameters: async ({ facts }: Parameters): Promise<RunCommandParameter[]> =>
      encodeParameters("validate", { checks: checksOf(await facts.runRecord()) }),
    async record(ctx: Recording): Promise<Recorded> {
      const parsed = ctx.parse("validate");
      if (!parsed.ok) return { ok: false, why: `${parsed.failure.kind}: ${parsed.failure.message}` };
      const post = toValidationReport(parsed.output, "post", ctx.source);
      await ctx.put(ARTIFACTS.remediationValidation, post);
      const pre = await ctx.read<ValidationReport>(ARTIFACTS.preValidation);
      if (pre === undefined) return { ok: false, why: "no PRE validation to compare with" };
      const regressions = detectRegressions(pre, post);
      await ctx.put(ARTIFACTS.remediationRegressions, regressions);
      return { ok: true, facts: { regressionsAfter: regressions.TotalRegressions } };
    },
  },
} as const;
