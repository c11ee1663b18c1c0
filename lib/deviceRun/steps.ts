import { ARTIFACTS, type ArtifactSpec } from "../domain/artifacts";
import { STEP_PLANS, type StepFacts, type StepId, type StepPlan, REBOOT_DELAY_SECONDS } from "../domain/run/steps";
import { explainQuarantine } from "../domain/catalog/explainQuarantine";
import { diffSnapshots } from "../domain/snapshot/diffSnapshots";
import { detectRegressions } from "../domain/validation/detectRegressions";
import { encodeParameters, type RunCommandParameter } from "../device/parameters";
import { parseScriptOutput, type ParsedScriptOutput } from "../device/parseScriptOutput";
import {
  approvedInstallParams,
  toCatalog,
  toDiagnostics,
  toInstallOutcomes,
  toSystemSnapshot,
  toValidationReport,
} from "../device/toArtifacts";
import type { SystemSnapshot } from "../schemas/artifacts/snapshot";
import type { ScriptSource } from "../schemas/artifacts/source";
import type { ValidationReport } from "../schemas/artifacts/validation";
import type { OsFamily } from "../schemas/common";
import type { ScriptId } from "../schemas/device/envelope";
import type { DeviceRunInput } from "../schemas/deviceRun";
import type { RunFacts } from "./runFacts";
import { checksOf } from "./checks";
import { gatesParameters, recordGates } from "./gates/gatesStep";
import { hookParameters, installFence, recordHooks } from "./hooks/hookSteps";
import { REMEDIATION_STEPS } from "./remediation/remediationSteps";
import { removalOf } from "./remediation/removalOf";
import { REBOOT_AFTER_INSTALL, rebootMarker } from "./rebootMarker";

/** What a step's parameters may be built from. */
export interface ParameterContext {
  input: DeviceRunInput;
  /** The run record and the catalog, read back verified. */
  facts: RunFacts;
  /** The steps of the same run command, in order (a bundle's; absent: the step alone). */
  together?: readonly string[];
}

/** What recording one step's output may use: parse, read this run's stored artifacts, store new ones. */
export interface RecordContext {
  os: OsFamily;
  now: Date;
  facts: RunFacts;
  /** Which script text produced the output, and its transcript: every artifact records it. */
  source: ScriptSource;
  /** The command's stdout, parsed against its script's output schema and version. */
  parse<Id extends ScriptId>(id: Id): ParsedScriptOutput<Id>;
  /** Stores an artifact (create-once, schema-checked) and records it in the run's stored list. */
  put(spec: ArtifactSpec, value: unknown): Promise<void>;
  /** An artifact this run stored earlier, verified against its recorded hash; undefined when never stored. */
  read<T>(spec: ArtifactSpec): Promise<T | undefined>;
}

/** How recording a step ended: the facts for the planner, or why the output was not usable. */
export type StepRecord = { ok: true; facts: StepFacts } | { ok: false; why: string };

/** One row of the step table: the pure plan (lib/domain/run/steps.ts) plus parameters and recording. */
export interface Step extends StepPlan {
  /** The script's parameters (encoded per OS by lib/device/parameters.ts). */
  parameters(ctx: ParameterContext): Promise<RunCommandParameter[]>;
  /**
   * Turns the collected stdout into the step's artifacts (through lib/device/toArtifacts) and its facts. A failure
   * is recorded by the engine (`{phase}/failure.json` when `failsPhase`), never here.
   */
  record(ctx: RecordContext): Promise<StepRecord>;
}

/** The step table a run uses: the production one, or one a test extends with a test-only step. */
export type StepTable = Readonly<Record<string, Step>>;

const unusable = (failure: { kind: string; message: string }): StepRecord => ({
  ok: false,
  why: `${failure.kind}: ${failure.message}`,
});
const ok = (facts: StepFacts = {}): StepRecord => ({ ok: true, facts });

async function validateParameters({ facts }: ParameterContext): Promise<RunCommandParameter[]> {
  return encodeParameters("validate", { checks: checksOf(await facts.runRecord()) });
}

/** Parses the baseline script's output into a system snapshot (baseline and post snapshot alike). */
function snapshotOf(ctx: RecordContext): { ok: true; value: SystemSnapshot } | { ok: false; why: string } {
  const parsed = ctx.parse("baseline");
  if (!parsed.ok) return { ok: false, why: `${parsed.failure.kind}: ${parsed.failure.message}` };
  const snapshot = toSystemSnapshot(parsed.output, ctx.source);
  return snapshot.ok ? { ok: true, value: snapshot.value } : { ok: false, why: snapshot.reason };
}

/** The reboot script's answer as facts; nothing is stored (reboot.json is written at the end, its transcript is kept). */
function recordReboot(ctx: RecordContext): Promise<StepRecord> {
  const parsed = ctx.parse("reboot");
  if (!parsed.ok) return Promise.resolve(unusable(parsed.failure));
  const { scheduled, scheduledAt, delaySeconds, bootTimeBefore, requested } = parsed.output.data;
  return Promise.resolve(
    ok({
      reboot: {
        scheduled,
        scheduledAt,
        delaySeconds,
        bootTimeBefore,
        ...(requested === undefined ? {} : { requested }),
      },
    }),
  );
}

/** The device run's steps: STEP_PLANS' rows, each with its parameters and how its output is recorded. */
export const STEPS = {
  baseline: {
    ...STEP_PLANS.baseline,
    parameters: () => Promise.resolve(encodeParameters("baseline", {})),
    async record(ctx) {
      const snapshot = snapshotOf(ctx);
      if (!snapshot.ok) return snapshot;
      await ctx.put(ARTIFACTS.baseline, snapshot.value);
      const busy = snapshot.value.installInProgress;
      return ok({ baselineOk: true, ...(busy?.busy === true ? { foreignInstall: busy } : {}) });
    },
  },
  preValidation: {
    ...STEP_PLANS.preValidation,
    parameters: validateParameters,
    async record(ctx) {
      const parsed = ctx.parse("validate");
      if (!parsed.ok) return unusable(parsed.failure);
      await ctx.put(ARTIFACTS.preValidation, toValidationReport(parsed.output, "pre", ctx.source));
      return ok({ preValidationOk: true });
    },
  },
  gates: {
    // Pre-patch gates (issue 20): the MSP's probes run on the device; every gate is judged with the baseline.
    ...STEP_PLANS.gates,
    parameters: gatesParameters,
    record: recordGates,
  },
  preInstallHooks: {
    // Hooks that act (issue 20): the pre-install point, first in the install's command.
    ...STEP_PLANS.preInstallHooks,
    parameters: hookParameters("preInstall"),
    record: recordHooks("preInstall"),
  },
  postInstallHooks: {
    ...STEP_PLANS.postInstallHooks,
    parameters: hookParameters("postInstall"),
    record: recordHooks("postInstall"),
  },
  postRebootHooks: {
    ...STEP_PLANS.postRebootHooks,
    parameters: hookParameters("postReboot"),
    record: recordHooks("postReboot"),
  },
  onFailureHooks: {
    ...STEP_PLANS.onFailureHooks,
    parameters: hookParameters("onFailure"),
    record: recordHooks("onFailure"),
  },
  alwaysHooks: {
    // The always point (restarts what pre-install stopped, then the policy's always hooks), first in the post stage.
    ...STEP_PLANS.alwaysHooks,
    parameters: hookParameters("always"),
    record: recordHooks("always"),
  },
  catalog: {
    ...STEP_PLANS.catalog,
    // Driver updates are searched only when the policy's classifications include Driver (a policy choice).
    parameters: async ({ facts }) =>
      encodeParameters("catalog", {
        simulate: false,
        includeDrivers: (await facts.runRecord()).policy.update.classifications.includes("Driver"),
      }),
    async record(ctx) {
      const parsed = ctx.parse("catalog");
      if (!parsed.ok) return unusable(parsed.failure);
      const record = await ctx.facts.runRecord();
      // A ring following a promoted release installs only its exact set (run.json records the allowance); an
      // emergency deployment's run exactly the requested updates.
      const deployment = record.trigger.kind === "deployment" ? record.trigger : undefined;
      const { release } = record;
      const catalog = toCatalog(parsed.output, ctx.os, record.policy.update, ctx.now, ctx.source, release, deployment);
      if (!catalog.ok) return { ok: false, why: catalog.reason };
      const updates = explainQuarantine(catalog.value.updates, record.quarantine ?? []);
      await ctx.put(ARTIFACTS.catalog, { ...catalog.value, updates });
      return ok({ catalogOk: true, approved: catalog.value.updates.filter((u) => u.decision === "approved").length });
    },
  },
  install: {
    ...STEP_PLANS.install,
    async parameters({ input, facts, together }) {
      const catalog = await facts.catalog();
      const params = catalog === undefined ? undefined : approvedInstallParams(catalog, input.device.os);
      // The planner submits an install only after a catalog with approved updates: anything else is a bug.
      if (params === undefined)
        throw new Error(`run ${input.run.runId}: install planned without an approved catalog entry`);
      // Issue 20: with a pre-install point, a failed hook in the same command stops the install (its fence).
      // Issue 22: with the reboot in the same command under IfRequired, a restart the install needs leaves the marker.
      const marker =
        together?.includes(REBOOT_AFTER_INSTALL) === true &&
        (await facts.runRecord()).policy.update.rebootPolicy === "IfRequired"
          ? { rebootMarker: rebootMarker(input) }
          : {};
      return encodeParameters("install", { ...params, ...(await installFence({ input, facts })), ...marker });
    },
    async record(ctx) {
      const parsed = ctx.parse("install");
      if (!parsed.ok) return unusable(parsed.failure);
      const catalog = await ctx.facts.catalog();
      const requested = (catalog?.updates ?? []).filter((u) => u.decision === "approved");
      const outcomes = toInstallOutcomes(parsed.output, requested, ctx.source);
      await ctx.put(ARTIFACTS.installSummary, outcomes);
      const installed = outcomes.filter((o) => o.installed).length;
      return ok({
        install: { installed, failed: outcomes.length - installed, rebootRequired: parsed.output.data.rebootRequired },
      });
    },
  },
  reboot: {
    ...STEP_PLANS.reboot,
    parameters: ({ input }) =>
      Promise.resolve(
        encodeParameters("reboot", {
          delaySeconds: REBOOT_DELAY_SECONDS,
          comment: `PatchPilot run ${input.run.runId}`,
        }),
      ),
    record: recordReboot,
  },
  rebootAfterInstall: {
    // Issue 22: the reboot last in the install's command; under IfRequired only when the install left the marker.
    ...STEP_PLANS.rebootAfterInstall,
    parameters: async ({ input, facts }) =>
      encodeParameters("reboot", {
        delaySeconds: REBOOT_DELAY_SECONDS,
        comment: `PatchPilot run ${input.run.runId}`,
        ...((await facts.runRecord()).policy.update.rebootPolicy === "IfRequired"
          ? { marker: rebootMarker(input) }
          : {}),
      }),
    record: recordReboot,
  },
  bootProbe: {
    ...STEP_PLANS.bootProbe,
    parameters: () => Promise.resolve(encodeParameters("baseline", {})),
    record(ctx) {
      // The probe only proves the boot time moved; its transcript in 06-reboot is the evidence.
      const parsed = ctx.parse("baseline");
      if (!parsed.ok) return Promise.resolve(unusable(parsed.failure));
      const { lastBootTime, pendingReboot } = parsed.output.data;
      return Promise.resolve(
        ok({
          ...(lastBootTime === null ? {} : { lastBootTime }),
          ...(pendingReboot === null ? {} : { pendingReboot: pendingReboot.pending }),
        }),
      );
    },
  },
  stableProbe: {
    ...STEP_PLANS.stableProbe,
    parameters: () => Promise.resolve(encodeParameters("baseline", {})),
    record(ctx) {
      // Read after the device's settle wait: only the boot time matters; its transcript in 06-reboot is the evidence.
      const parsed = ctx.parse("baseline");
      if (!parsed.ok) return Promise.resolve(unusable(parsed.failure));
      const { lastBootTime } = parsed.output.data;
      return Promise.resolve(ok(lastBootTime === null ? {} : { stableBootTime: lastBootTime }));
    },
  },
  snapshot: {
    ...STEP_PLANS.snapshot,
    parameters: () => Promise.resolve(encodeParameters("baseline", {})),
    async record(ctx) {
      const snapshot = snapshotOf(ctx);
      if (!snapshot.ok) return snapshot;
      await ctx.put(ARTIFACTS.snapshot, snapshot.value);
      const baseline = await ctx.read<SystemSnapshot>(ARTIFACTS.baseline);
      if (baseline !== undefined) {
        const sources = (await ctx.facts.runRecord()).policy.appValidation.regressionSources;
        await ctx.put(ARTIFACTS.baselineDiff, diffSnapshots(baseline, snapshot.value, sources));
      }
      return ok({ lastBootTime: snapshot.value.lastBootTime });
    },
  },
  postValidation: {
    ...STEP_PLANS.postValidation,
    parameters: validateParameters,
    async record(ctx) {
      const parsed = ctx.parse("validate");
      if (!parsed.ok) return unusable(parsed.failure);
      const post = toValidationReport(parsed.output, "post", ctx.source);
      await ctx.put(ARTIFACTS.postValidation, post);
      const pre = await ctx.read<ValidationReport>(ARTIFACTS.preValidation);
      if (pre === undefined) return ok({ regressions: 0 });
      const regressions = detectRegressions(pre, post);
      await ctx.put(ARTIFACTS.regressions, regressions);
      // A regression under a remediation policy: the planner needs to know whether anything may be removed.
      const mode = (await ctx.facts.runRecord()).policy.remediation?.mode ?? "none";
      if (regressions.TotalRegressions > 0 && mode === "uninstall") {
        const removal = await removalOf(ctx.facts, ctx.os);
        const removable =
          removal.request === undefined
            ? 0
            : removal.request.os === "windows"
              ? removal.request.kbs.length
              : removal.request.packages.length;
        return ok({ regressions: regressions.TotalRegressions, removable });
      }
      return ok({ regressions: regressions.TotalRegressions });
    },
  },
  diagnostics: {
    ...STEP_PLANS.diagnostics,
    // From the policy's lookback before the run started: the rules tell the run's new errors from old noise.
    parameters: async ({ facts }) => {
      const run = await facts.runRecord();
      const lookbackMs = run.policy.diagnostics.eventLogLookbackHours * 3_600_000;
      const since = new Date(Date.parse(run.startedAt) - lookbackMs).toISOString().replace(/\.\d{3}Z$/, "Z");
      return encodeParameters("diagnostics", { since, maxEvents: 100 });
    },
    async record(ctx) {
      const parsed = ctx.parse("diagnostics");
      if (!parsed.ok) return unusable(parsed.failure);
      const run = await ctx.facts.runRecord();
      const judgement = { rules: run.policy.diagnostics.rules, os: ctx.os, runStartedAt: run.startedAt };
      await ctx.put(ARTIFACTS.diagnostics, toDiagnostics(parsed.output, ctx.source, judgement));
      return ok();
    },
  },
  ...REMEDIATION_STEPS,
} as const satisfies Record<StepId, Step>;

/** Parses a command's stdout for a step's script (the version is the one the run sent). */
export function parseFor(stdout: string, version: string) {
  return <Id extends ScriptId>(id: Id): ParsedScriptOutput<Id> => parseScriptOutput(stdout, { id, version });
}
