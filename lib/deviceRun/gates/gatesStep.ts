import { ARTIFACTS, type ArtifactSpec } from "../../domain/artifacts";
import { BACKUP_PROBE, customProbeName, describeFailedGates, evaluateGates } from "../../domain/gates/evaluateGates";
import type { StepFacts } from "../../domain/run/steps";
import { encodeParameters, type RunCommandParameter } from "../../device/parameters";
import type { ParsedScriptOutput } from "../../device/parseScriptOutput";
import { hashScript } from "../../device/registry";
import type { GateReport } from "../../schemas/artifacts/gates";
import type { SystemSnapshot } from "../../schemas/artifacts/snapshot";
import type { ScriptSource } from "../../schemas/artifacts/source";
import type { OsFamily } from "../../schemas/common";
import type { GatesParams } from "../../schemas/device/parameters";
import type { DeviceRunInput } from "../../schemas/deviceRun";
import type { GatesPolicy, MspScript } from "../../schemas/gatesPolicy";
import type { RunFacts } from "../runFacts";

// The gates step's parameters and recording (issue 20), the step table's `gates` row in lib/deviceRun/steps.ts. The
// contexts are the parts of that table's ParameterContext / RecordContext this row uses (named here, not imported,
// so the row and the table do not import each other).

/** Every MSP script the gates run on this OS, by probe name: the backup provider and the custom checks. */
function scriptsOf(gates: GatesPolicy | undefined, os: OsFamily): { name: string; script: MspScript }[] {
  if (gates === undefined) return [];
  const forOs = (name: string, script: MspScript | undefined) => (script === undefined ? [] : [{ name, script }]);
  return [
    ...(gates.backup === undefined ? [] : forOs(BACKUP_PROBE, gates.backup.provider[os])),
    ...(gates.custom ?? []).flatMap((c) => forOs(customProbeName(c.name), c.script[os])),
  ];
}

/** A script is sent only when its text hashes to the SHA-256 the policy names (issue 20: refused if the text differs). */
const matches = (script: MspScript): boolean => hashScript(script.text) === script.sha256;

/** The probes to send and the names refused (text and hash differ): the same answer at submit and at record. */
export function probesOf(
  gates: GatesPolicy | undefined,
  os: OsFamily,
): { probes: GatesParams["probes"]; refused: Set<string> } {
  const probes: GatesParams["probes"] = [];
  const refused = new Set<string>();
  const shell = os === "windows" ? "powershell" : "bash";
  for (const { name, script } of scriptsOf(gates, os)) {
    if (!matches(script)) refused.add(name);
    else probes.push({ name, shell, script: script.text, timeoutSeconds: script.timeoutSeconds });
  }
  return { probes, refused };
}

/** The gates script's parameters: the probes whose text matches its policy SHA-256. */
export async function gatesParameters(ctx: { input: DeviceRunInput; facts: RunFacts }): Promise<RunCommandParameter[]> {
  const { policy } = await ctx.facts.runRecord();
  return encodeParameters("gates", { probes: probesOf(policy.gates, ctx.input.device.os).probes });
}

/** What recording the gates step uses of lib/deviceRun/steps.ts's RecordContext. */
export interface GatesRecordContext {
  os: OsFamily;
  now: Date;
  facts: RunFacts;
  source: ScriptSource;
  parse(id: "gates"): ParsedScriptOutput<"gates">;
  put(spec: ArtifactSpec, value: unknown): Promise<void>;
  read<T>(spec: ArtifactSpec): Promise<T | undefined>;
}

/**
 * Judges every gate of the effective policy from the verified baseline and the probes' answers, and stores
 * `04-pre-validation/gates.json` whatever the output was (unusable output: the probe gates are "could not look").
 * Its facts tell the planner whether to go on.
 */
export async function recordGates(
  ctx: GatesRecordContext,
): Promise<{ ok: true; facts: StepFacts } | { ok: false; why: string }> {
  const run = await ctx.facts.runRecord();
  const gates = run.policy.gates ?? {};
  const parsed = ctx.parse("gates");
  const baseline = await ctx.read<SystemSnapshot>(ARTIFACTS.baseline);
  const judged = evaluateGates(gates, {
    os: ctx.os,
    baseline,
    probes: parsed.ok ? parsed.output.data.probes : undefined,
    refused: probesOf(gates, ctx.os).refused,
    provenance: run.policyProvenance,
    now: ctx.now,
  });
  const report: GateReport = { ...judged, source: ctx.source };
  await ctx.put(ARTIFACTS.gates, report);
  return { ok: true, facts: { gates: { passed: report.passed, failed: describeFailedGates(report.results) } } };
}
