import { parseScriptHeader } from "../../../lib/device/header";
import { decodeParameters, ScriptParameterError, type ScriptParams } from "../../../lib/device/parameters";
import type { DeviceKind, OsFamily } from "../../../lib/schemas/common";
import type { ScriptId } from "../../../lib/schemas/device/envelope";
import type { AgentStatus, DevicePlacement, ScriptRequest, ScriptResult, SimulatedDevice } from "../contract";
import type { Answer, AnswerContext } from "./answers/answer";
import { answerBaseline } from "./answers/answerBaseline";
import { answerCatalog } from "./answers/answerCatalog";
import { answerDiagnostics } from "./answers/answerDiagnostics";
import { answerGates } from "./answers/answerGates";
import { answerHooks } from "./answers/answerHooks";
import { answerInstall } from "./answers/answerInstall";
import { answerReboot } from "./answers/answerReboot";
import { answerUninstall } from "./answers/answerUninstall";
import { answerValidate } from "./answers/answerValidate";
import { rejectParameters } from "./answers/rejectParameters";
import type { DeviceProfile } from "./deviceProfile";
import { DeviceState } from "./deviceState";
import { malformOutput, withHostileStrings } from "./malformOutput";
import { parseBundle, runBundle, type SettleEnd } from "./runBundle";

const UNKNOWN_SCRIPT_MS = 1_000;
// Sections the scripts collect independently (a failure nulls one, the rest still report); timestamps and flags are not.
const NULLABLE_SECTIONS: Partial<Record<ScriptId, readonly string[]>> = {
  baseline: [
    "os",
    "installedUpdates",
    "updateHistory",
    "services",
    "drivers",
    "apps",
    "pendingReboot",
    "lastBootTime",
    "disks",
  ],
  catalog: ["agent", "updates"],
  diagnostics: ["eventLogErrors", "updateAgentErrors", "disks"],
};

function answer<Id extends ScriptId>(id: Id, ctx: AnswerContext, params: ScriptParams[Id]): Answer {
  switch (id) {
    case "baseline":
      return answerBaseline(ctx);
    case "catalog":
      return answerCatalog(ctx, params as ScriptParams["catalog"]);
    case "install":
      return answerInstall(ctx, params as ScriptParams["install"]);
    case "reboot":
      return answerReboot(ctx, params as ScriptParams["reboot"]);
    case "validate":
      return answerValidate(ctx, params as ScriptParams["validate"]);
    case "diagnostics":
      return answerDiagnostics(ctx, params as ScriptParams["diagnostics"]);
    case "gates":
      return answerGates(ctx, params as ScriptParams["gates"]);
    case "hooks":
      return answerHooks(ctx, params as ScriptParams["hooks"]);
    case "uninstall":
      return answerUninstall(ctx, params as ScriptParams["uninstall"]);
  }
  throw new Error(`unknown script ${String(id)}`);
}

/** A simulated server: answers PatchPilot's device scripts from its state, which the scripts change. */
export class SimulatedServer implements SimulatedDevice {
  readonly name: string;
  readonly kind: DeviceKind;
  readonly os: OsFamily;
  readonly armProperties: SimulatedDevice["armProperties"];
  readonly state: DeviceState;
  /** How many times each script has run here (scenario behaviours target the n-th run). */
  private readonly runs = new Map<ScriptId, number>();

  constructor(
    readonly profile: DeviceProfile,
    readonly placement: DevicePlacement,
    readonly tags: Readonly<Record<string, string>>,
  ) {
    this.name = profile.name;
    this.kind = profile.kind;
    this.os = profile.os;
    this.armProperties = {
      osName: profile.osName,
      osVersion: profile.osVersion,
      agentVersion: profile.agentVersion,
      computerName: profile.name,
    };
    this.state = new DeviceState(profile);
  }

  restoreInstalledState(capturedAt: Date, at: Date, owner: string): void {
    this.state.restoreTo(capturedAt.getTime(), at.getTime(), owner);
  }

  powerCycle(at: Date, owner: string): void {
    this.state.timeline.scheduleReboot(at.getTime(), owner);
  }

  agentStatus(at: Date): AgentStatus {
    return this.state.timeline.agentStatus(at.getTime());
  }

  nextConnectedAt(from: Date): Date | undefined {
    const at = this.state.timeline.nextConnectedAt(from.getTime());
    return at === undefined ? undefined : new Date(at);
  }

  execute(request: ScriptRequest): ScriptResult {
    // A bundle (lib/device/bundle.ts) runs its sections' scripts one after another, as the composed script does.
    const bundle = parseBundle(request.script);
    if (bundle !== undefined)
      return runBundle(
        request,
        bundle,
        (section) => this.execute(section),
        (from, seconds) => this.settle(from, seconds),
      );
    const header = parseScriptHeader(request.script);
    if (header === undefined) {
      return {
        kind: "failed",
        durationMs: UNKNOWN_SCRIPT_MS,
        message: "not a PatchPilot script: no '# patchpilot-script: <id>@<version>' header",
      };
    }
    const id = header.id;
    const occurrence = (this.runs.get(id) ?? 0) + 1;
    this.runs.set(id, occurrence);
    const start = request.startedAt.getTime();
    const ctx: AnswerContext = { state: this.state, startedAt: start, runCommandName: request.runCommandName };

    let result: Answer;
    try {
      result = answer(id, ctx, decodeParameters(id, this.os, request.parameters));
    } catch (error) {
      if (!(error instanceof ScriptParameterError)) throw error;
      result = rejectParameters(ctx, id, error.message);
    }

    const spec = this.profile.spec;
    const disconnect = spec.agent.disconnectDuring.find((d) => d.script === id && d.occurrence === occurrence);
    let durationMs = result.durationMs;
    if (disconnect !== undefined) {
      const from = start + disconnect.afterSeconds * 1000;
      const to = disconnect.forMinutes === undefined ? Infinity : from + disconnect.forMinutes * 60_000;
      this.state.timeline.addDisconnect(from, to);
      // The script finishes on the device, but its result only reaches ARM once the agent is back.
      if (from < start + durationMs) durationMs = Math.max(durationMs, to - start);
    }
    if (result.hang === true || !Number.isFinite(durationMs)) return { kind: "hang", stdout: "", stderr: "" };

    const errors = [...result.errors];
    const data = { ...result.data };
    for (const e of spec.sectionErrors.filter((x) => x.script === id)) {
      if (NULLABLE_SECTIONS[id]?.includes(e.section)) data[e.section] = null;
      errors.push({ section: e.section, message: e.message, ...(e.code !== undefined ? { code: e.code } : {}) });
    }
    let document: Record<string, unknown> = {
      schemaVersion: 1,
      scriptId: id,
      scriptVersion: header.version,
      data,
      errors,
    };

    const malformed = spec.malformed.find(
      (m) => m.script === id && (m.occurrence === undefined || m.occurrence === occurrence),
    );
    let stdout: string;
    if (malformed === undefined) stdout = `${JSON.stringify(document)}\n`;
    else if (malformed.mode === "hostileStrings") {
      document = withHostileStrings(document);
      stdout = `${JSON.stringify(document)}\n`;
    } else stdout = malformOutput(document, malformed.mode, malformed.sizeBytes);
    return { kind: "completed", durationMs, exitCode: 0, stdout, stderr: "" };
  }

  /** A bundle's settle wait from `from`: until the boot in effect has been up `seconds`, unless it boots again first. */
  private settle(from: number, seconds: number): SettleEnd {
    const { timeline } = this.state;
    const boot = timeline.lastBootAt(from).at;
    const until = Math.max(from, boot + seconds * 1000);
    const again = timeline.firstBootBetween(from, until);
    if (again !== undefined)
      return {
        kind: "rebooted",
        at: again.shutdownAt,
        reportedAt: timeline.nextConnectedAt(again.at) ?? Number.POSITIVE_INFINITY,
      };
    return { kind: "settled", until, uptimeSeconds: Math.floor((until - boot) / 1000) };
  }

  cancel(runCommandName: string, at: Date): void {
    this.state.cancel(runCommandName, at.getTime());
  }
}
