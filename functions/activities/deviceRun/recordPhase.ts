import { ARTIFACTS, PHASES, failurePath, specForPath } from "../../../lib/domain/artifacts";
import { diffSnapshots } from "../../../lib/domain/snapshot/diffSnapshots";
import { detectRegressions } from "../../../lib/domain/validation/detectRegressions";
import { parseScriptOutput } from "../../../lib/device/parseScriptOutput";
import {
  toCatalog,
  toDiagnostics,
  toInstallOutcomes,
  toSystemSnapshot,
  toValidationReport,
} from "../../../lib/device/toArtifacts";
import type { EvidenceDeps } from "../../../lib/evidence/runEvidence";
import type { PhaseFailure } from "../../../lib/schemas/artifacts/run";
import type { SystemSnapshot } from "../../../lib/schemas/artifacts/snapshot";
import type { ScriptSource } from "../../../lib/schemas/artifacts/source";
import type { TranscriptStatus } from "../../../lib/schemas/artifacts/transcript";
import type { ValidationReport } from "../../../lib/schemas/artifacts/validation";
import type { OsFamily, RunRef } from "../../../lib/schemas/common";
import type { ScriptRole } from "../../../lib/schemas/deviceRun";
import type { RebootData } from "../../../lib/schemas/device/reboot";
import type { CollectedCommand } from "./collectCommand";
import type { RunFacts } from "./runFacts";
import { readStored, type StoredList } from "./storedArtifacts";

/** What one collected command contributed to its stage's outcome (the planner's input). */
export type RoleSummary =
  | { role: "baseline" | "preValidation" | "diagnostics"; ok: boolean }
  | { role: "snapshot"; ok: boolean; lastBootTime?: string }
  | { role: "postValidation"; ok: boolean; regressions: number }
  | { role: "catalog"; ok: boolean; approved: number }
  | { role: "install"; documentProduced: boolean; installed: number; failed: number; rebootRequired: boolean }
  | { role: "reboot"; data?: RebootData }
  | { role: "bootProbe"; lastBootTime?: string; pendingReboot?: boolean };

/** Roles whose failure is recorded as `{phase}/failure.json` at once; install and reboot failures are the planner's call. */
const FAILS_PHASE: ReadonlySet<ScriptRole> = new Set([
  "baseline",
  "preValidation",
  "catalog",
  "snapshot",
  "postValidation",
  "diagnostics",
]);

function failureKind(status: TranscriptStatus): PhaseFailure["kind"] {
  if (status.canceled !== undefined) return "Timeout";
  // A command that timed out without ever starting never reached the agent.
  if (status.executionState === "TimedOut") return status.startTime === null ? "AgentDisconnected" : "Timeout";
  if (status.executionState === "Succeeded") return "MalformedOutput";
  return "ScriptFailed";
}

function describeEnd(c: CollectedCommand): string {
  const s = c.status;
  const exit = s.exitCode === null ? "" : ` (exit code ${s.exitCode})`;
  const message = s.executionMessage === "" ? "" : `: ${s.executionMessage.slice(0, 500)}`;
  return `${c.command.role} run command ${s.runCommandName} ended ${s.executionState}${exit}${message}`;
}

/** What recording needs besides the collected command. */
export interface RecordContext {
  evidence: EvidenceDeps;
  run: RunRef;
  os: OsFamily;
  facts: RunFacts;
  stored: StoredList;
  now: Date;
}

async function recordFailure(ctx: RecordContext, c: CollectedCommand, why: string): Promise<void> {
  if (!FAILS_PHASE.has(c.command.role)) return;
  const failure: PhaseFailure = {
    schemaVersion: 1,
    phase: PHASES[c.phase],
    kind: failureKind(c.status),
    message: `${describeEnd(c)}; ${why}`,
    at: ctx.now.toISOString(),
    transcripts: c.transcripts,
  };
  await ctx.stored.put(ctx.evidence, ctx.run, specForPath(failurePath(c.phase)), failure);
}

function failedSummary(role: ScriptRole): RoleSummary {
  switch (role) {
    case "postValidation":
      return { role, ok: false, regressions: 0 };
    case "catalog":
      return { role, ok: false, approved: 0 };
    case "install":
      return { role, documentProduced: false, installed: 0, failed: 0, rebootRequired: false };
    case "reboot":
    case "bootProbe":
      return { role };
    default:
      return { role, ok: false };
  }
}

/**
 * Turns a collected command into its phase's artifact(s) through lib/device/toArtifacts, or into the phase's
 * failure record (naming the transcripts, which are always kept), and summarises it for the planner.
 */
export async function recordPhase(ctx: RecordContext, c: CollectedCommand): Promise<RoleSummary> {
  const { role } = c.command;
  const script = c.status.script;
  const source: ScriptSource = {
    scriptId: script.id,
    scriptVersion: script.version,
    scriptSha256: script.sha256,
    runCommandName: c.status.runCommandName,
    transcript: c.transcripts[0] ?? "",
  };
  const put = (spec: Parameters<StoredList["put"]>[2], value: unknown) =>
    ctx.stored.put(ctx.evidence, ctx.run, spec, value);
  const fail = async (why: string): Promise<RoleSummary> => {
    await recordFailure(ctx, c, why);
    return failedSummary(role);
  };
  const malformed = (message: string) => `the output is not usable: ${message}`;

  switch (script.id) {
    case "baseline": {
      const parsed = parseScriptOutput(c.stdout, { id: "baseline", version: script.version });
      if (!parsed.ok) return fail(malformed(`${parsed.failure.kind}: ${parsed.failure.message}`));
      const snapshot = toSystemSnapshot(parsed.output, source);
      if (role === "bootProbe") {
        // The probe only proves the boot time moved; its transcript in 06-reboot is the evidence.
        const data = parsed.output.data;
        return {
          role,
          ...(data.lastBootTime === null ? {} : { lastBootTime: data.lastBootTime }),
          ...(data.pendingReboot === null ? {} : { pendingReboot: data.pendingReboot.pending }),
        };
      }
      if (!snapshot.ok) return fail(malformed(snapshot.reason));
      if (role === "baseline") {
        await put(ARTIFACTS.baseline, snapshot.value);
        return { role, ok: true };
      }
      await put(ARTIFACTS.snapshot, snapshot.value);
      const baseline = await readStored<SystemSnapshot>(ctx.evidence, ctx.run, ctx.stored.list(), ARTIFACTS.baseline);
      if (baseline !== undefined) await put(ARTIFACTS.baselineDiff, diffSnapshots(baseline, snapshot.value));
      return { role: "snapshot", ok: true, lastBootTime: snapshot.value.lastBootTime };
    }
    case "validate": {
      const parsed = parseScriptOutput(c.stdout, { id: "validate", version: script.version });
      if (!parsed.ok) return fail(malformed(`${parsed.failure.kind}: ${parsed.failure.message}`));
      if (role === "preValidation") {
        await put(ARTIFACTS.preValidation, toValidationReport(parsed.output, "pre", source));
        return { role, ok: true };
      }
      const post = toValidationReport(parsed.output, "post", source);
      await put(ARTIFACTS.postValidation, post);
      const pre = await readStored<ValidationReport>(ctx.evidence, ctx.run, ctx.stored.list(), ARTIFACTS.preValidation);
      if (pre === undefined) return { role: "postValidation", ok: true, regressions: 0 };
      const regressions = detectRegressions(pre, post);
      await put(ARTIFACTS.regressions, regressions);
      return { role: "postValidation", ok: true, regressions: regressions.TotalRegressions };
    }
    case "catalog": {
      const parsed = parseScriptOutput(c.stdout, { id: "catalog", version: script.version });
      if (!parsed.ok) return fail(malformed(`${parsed.failure.kind}: ${parsed.failure.message}`));
      const policy = (await ctx.facts.runRecord()).policy.update;
      const catalog = toCatalog(parsed.output, ctx.os, policy, ctx.now, source);
      if (!catalog.ok) return fail(malformed(catalog.reason));
      await put(ARTIFACTS.catalog, catalog.value);
      return {
        role: "catalog",
        ok: true,
        approved: catalog.value.updates.filter((u) => u.decision === "approved").length,
      };
    }
    case "install": {
      const parsed = parseScriptOutput(c.stdout, { id: "install", version: script.version });
      if (!parsed.ok) return fail(malformed(`${parsed.failure.kind}: ${parsed.failure.message}`));
      const catalog = await ctx.facts.catalog();
      const requested = (catalog?.updates ?? []).filter((u) => u.decision === "approved");
      const outcomes = toInstallOutcomes(parsed.output, requested, source);
      await put(ARTIFACTS.installSummary, outcomes);
      const installed = outcomes.filter((o) => o.installed).length;
      return {
        role: "install",
        documentProduced: true,
        installed,
        failed: outcomes.length - installed,
        rebootRequired: parsed.output.data.rebootRequired,
      };
    }
    case "reboot": {
      const parsed = parseScriptOutput(c.stdout, { id: "reboot", version: script.version });
      return parsed.ok ? { role: "reboot", data: parsed.output.data } : { role: "reboot" };
    }
    case "diagnostics": {
      const parsed = parseScriptOutput(c.stdout, { id: "diagnostics", version: script.version });
      if (!parsed.ok) return fail(malformed(`${parsed.failure.kind}: ${parsed.failure.message}`));
      await put(ARTIFACTS.diagnostics, toDiagnostics(parsed.output, source));
      return { role: "diagnostics", ok: true };
    }
  }
}
