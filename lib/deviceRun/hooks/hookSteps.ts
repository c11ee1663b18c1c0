import { ARTIFACTS, type ArtifactSpec } from "../../domain/artifacts";
import { POINT_ACTIONS, preInstallActions, toParams } from "../../domain/hooks/hookActions";
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

/**
 * The pre-install point's fence for a run (issue 20): the hooks script leaves it when an action failed and the install
 * in the same command then installs nothing. Derived from the run, so a retry sends the same bytes and no other run's
 * fence is ever read.
 */
export function hookFence(input: DeviceRunInput): string {
  const { tenant, client, device, runId } = input.run;
  return `pp-${hashScript(`${tenant}/${client}/${device}/${runId}`).slice(0, 40)}`;
}

/** The install's fence parameter: only when the run's policy has pre-install actions for this OS. */
export async function installFence(ctx: { input: DeviceRunInput; facts: RunFacts }): Promise<{ fence?: string }> {
  const { policy } = await ctx.facts.runRecord();
  return preInstallActions(policy.hooks, ctx.input.device.os).length > 0 ? { fence: hookFence(ctx.input) } : {};
}

/** The hooks script's parameters for a point: its actions, MSP scripts verified against their SHA-256. */
export function hookParameters(point: Point) {
  return async (ctx: { input: DeviceRunInput; facts: RunFacts }): Promise<RunCommandParameter[]> => {
    const { policy } = await ctx.facts.runRecord();
    const { actions } = toParams(ACTIONS[point](policy.hooks, ctx.input.device.os), verified);
    return encodeParameters("hooks", { actions, ...(point === "preInstall" ? { fence: hookFence(ctx.input) } : {}) });
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
