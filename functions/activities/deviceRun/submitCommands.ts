import { PHASES } from "../../../lib/domain/artifacts";
import { nextPollAt } from "../../../lib/domain/run/pollSchedule";
import { encodeParameters, type RunCommandParameter } from "../../../lib/device/parameters";
import { getDeviceScript } from "../../../lib/device/registry";
import { approvedInstallParams } from "../../../lib/device/toArtifacts";
import { runPrefix } from "../../../lib/evidence/keys";
import type { RunCommands } from "../../../lib/azure/runCommands";
import type { RunRecord } from "../../../lib/schemas/artifacts/run";
import type { DeviceRunInput, PendingCommand, ScriptRole } from "../../../lib/schemas/deviceRun";
import type { ValidateParams } from "../../../lib/schemas/device/parameters";
import { expectedSecondsOf, PHASE_OF, pollPlanOf, REBOOT_DELAY_SECONDS, SCRIPT_OF } from "./roles";
import type { RunFacts } from "./runFacts";
import type { Catalog } from "../../../lib/schemas/artifacts/catalog";

/** The validate checks of the effective policy, flattened to {app, check}. */
export function checksOf(record: RunRecord): ValidateParams["checks"] {
  return record.policy.appValidation.apps.flatMap((app) => app.checks.map((check) => ({ app: app.name, check })));
}

async function parametersOf(role: ScriptRole, input: DeviceRunInput, facts: RunFacts): Promise<RunCommandParameter[]> {
  switch (SCRIPT_OF[role]) {
    case "baseline":
      return encodeParameters("baseline", {});
    case "catalog":
      return encodeParameters("catalog", { simulate: false });
    case "install": {
      const catalog = await facts.catalog();
      const params = catalog === undefined ? undefined : approvedInstallParams(catalog, input.device.os);
      // The planner submits an install only after a catalog with approved updates: anything else is a bug.
      if (params === undefined)
        throw new Error(`run ${input.run.runId}: install planned without an approved catalog entry`);
      return encodeParameters("install", params);
    }
    case "reboot":
      return encodeParameters("reboot", {
        delaySeconds: REBOOT_DELAY_SECONDS,
        comment: `PatchPilot run ${input.run.runId}`,
      });
    case "validate":
      return encodeParameters("validate", { checks: checksOf(await facts.runRecord()) });
    case "diagnostics":
      return encodeParameters("diagnostics", { since: (await facts.runRecord()).startedAt, maxEvents: 100 });
  }
}

/**
 * When an install is worth a first look: a minute of overhead, then per approved update a minute plus its download and
 * apply time at ~1.5 MB/s. A good first guess saves polls (each costs four history events); a wrong one only costs a
 * poll, the command's timeout still bounds the wait.
 */
function installEstimateSeconds(catalog: Catalog | undefined): number {
  const approved = catalog?.updates.filter((u) => u.decision === "approved") ?? [];
  return Math.round(60 + approved.reduce((sum, u) => sum + 60 + (u.sizeBytes ?? 0) / 1_500_000, 0));
}

/** settle × attempts of the slowest check: a validate command cannot end before it. */
function slowestCheckSeconds(record: RunRecord): number {
  return Math.max(0, ...checksOf(record).map(({ check }) => check.settleSeconds * check.attempts));
}

/** What the submissions need from the run. */
export interface SubmitRequest {
  runCommands: RunCommands;
  input: DeviceRunInput;
  facts: RunFacts;
  roles: readonly ScriptRole[];
  now: Date;
  /**
   * Distinguishes this submission from every earlier one of the run and is the same on a retry: the number of
   * artifacts stored so far (every command is collected, storing at least its stdout, before its role runs again).
   */
  sequence: number;
}

/**
 * Submits one run command per role. Names derive from the run, phase, role and sequence, so a retried activity finds
 * its own commands (submit checks first) instead of starting them twice.
 */
export async function submitCommands(request: SubmitRequest): Promise<PendingCommand[]> {
  const { input, facts, now } = request;
  const record = await facts.runRecord();
  return Promise.all(
    request.roles.map(async (role): Promise<PendingCommand> => {
      const script = getDeviceScript(SCRIPT_OF[role], input.device.os);
      const timeoutSeconds = role === "install" ? record.policy.update.maxInstallMinutes * 60 : script.timeoutSeconds;
      const handle = await request.runCommands.submit(input.device, {
        script: script.text,
        parameters: await parametersOf(role, input, facts),
        outputBlob: `${runPrefix(input.run)}${PHASES[PHASE_OF[role]]}/${role}-${request.sequence}`,
        timeoutInSeconds: timeoutSeconds,
      });
      return {
        role,
        handle,
        scriptVersion: script.version,
        scriptSha256: script.sha256,
        submittedAt: now.toISOString(),
        timeoutSeconds,
        expectedSeconds:
          role === "install"
            ? installEstimateSeconds(await facts.catalog())
            : expectedSecondsOf(role, slowestCheckSeconds(record)),
      };
    }),
  );
}

/** When to look at freshly submitted commands: when the slowest of them is expected to be done. */
export function firstCheckAt(commands: readonly PendingCommand[], fallback: Date): string {
  const times = commands.map(
    (c) => nextPollAt(pollPlanOf(c), new Date(c.submittedAt), 0)?.getTime() ?? fallback.getTime(),
  );
  return new Date(Math.max(fallback.getTime(), ...times)).toISOString();
}
