import { ARTIFACTS, type ArtifactSpec } from "../../domain/artifacts";
import { POINT_ACTIONS, toParams } from "../../domain/hooks/hookActions";
import type { StepFacts } from "../../domain/run/steps";
import { encodeParameters, type RunCommandParameter } from "../../device/parameters";
import type { ParsedScriptOutput } from "../../device/parseScriptOutput";
import { hashScript } from "../../device/registry";
import type { HookReport } from "../../schemas/artifacts/hooks";
import type { ScriptSource } from "../../schemas/artifacts/source";
import type { OsFamily } from "../../schemas/common";
import type { DeviceRunInput } from "../../schemas/deviceRun";
import type { RunFacts } from "../runFacts";

// The hook steps' parameters and recording (issue 20), rows `preInstallHooks` and `alwaysHooks` of the step table in
// lib/deviceRun/steps.ts. As the gates row, the contexts name what they use instead of importing the table.

type Point = HookReport["point"];

const ACTIONS = POINT_ACTIONS;
/** Each point's report. */
export const HOOK_REPORT_SPEC: Record<Point, ArtifactSpec> = {
  preInstall: ARTIFACTS.hooksPreInstall,
  postInstall: ARTIFACTS.hooksPostInstall,
  postReboot: ARTIFACTS.hooksPostReboot,
  onFailure: ARTIFACTS.hooksOnFailure,
  always: ARTIFACTS.hooksAlways,
};
const SPEC = HOOK_REPORT_SPEC;

/** An MSP script is sent only when its text hashes to the policy's SHA-256 (refused if the text differs). */
const verified = (script: { sha256: string; text: string }): boolean => hashScript(script.text) === script.sha256;

/** The hooks script's parameters for a point: its actions, MSP scripts verified against their SHA-256. */
export function hookParameters(point: Point) {
  return async (ctx: { input: DeviceRunInput; facts: RunFacts }): Promise<RunCommandParameter[]> => {
    const { policy } = await ctx.facts.runRecord();
    const { actions } = toParams(ACTIONS[point](policy.hooks, ctx.input.device.os), verified);
    return encodeParameters("hooks", { actions });
  };
}

/** What recording a hook step uses of lib/deviceRun/steps.ts's RecordContext. */
export interface HookRecordContext {
  os: OsFamily;
  now: Date;
  facts: RunFacts;
  source: ScriptSource;
  parse(id: "hooks"): ParsedScriptOutput<"hooks">;
  put(spec: ArtifactSpec, value: unknown): Promise<void>;
}

/** Stores the point's report whatever the output was (unusable: `reported: false`, not ok). */
export function recordHooks(point: Point) {
  return async (ctx: HookRecordContext): Promise<{ ok: true; facts: StepFacts }> => {
    const run = await ctx.facts.runRecord();
    const { refused } = toParams(ACTIONS[point](run.policy.hooks, ctx.os), verified);
    const parsed = ctx.parse("hooks");
    const actions = parsed.ok ? (parsed.output.data.actions ?? []) : [];
    const reported = parsed.ok && parsed.output.data.actions !== null;
    // The always point restarts what pre-install stopped: with no `always` list of its own, pre-install's layer set it.
    const setBy =
      run.policyProvenance[`hooks.${point}`] ??
      (point === "always" ? run.policyProvenance["hooks.preInstall"] : undefined);
    const report: HookReport = {
      schemaVersion: 1,
      point,
      recordedAt: ctx.now.toISOString(),
      ok: reported && refused.length === 0 && actions.every((a) => a.ok),
      reported,
      actions,
      refused,
      ...(setBy === undefined ? {} : { setBy }),
      source: ctx.source,
    };
    await ctx.put(SPEC[point], report);
    return { ok: true, facts: {} };
  };
}
