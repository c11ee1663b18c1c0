import { z } from "zod";
import type { Check } from "../schemas/policies";
import type { OsFamily } from "../schemas/common";
import type { ScriptId } from "../schemas/device/envelope";
import {
  CatalogParamsSchema,
  DiagnosticsParamsSchema,
  GatesParamsSchema,
  HookFenceSchema,
  HooksParamsSchema,
  InstallParamsSchema,
  RebootParamsSchema,
  UninstallParamsSchema,
  ValidateParamsSchema,
  type CatalogParams,
  type DiagnosticsParams,
  type GatesParams,
  type HooksParams,
  type InstallParams,
  type RebootParams,
  type UninstallParams,
  type ValidateParams,
} from "../schemas/device/parameters";

/** One Run Command parameter as ARM carries it (`parameters: [{name, value}]`). */
export const RunCommandParameterSchema = z.object({ name: z.string().min(1), value: z.string() });
export type RunCommandParameter = z.infer<typeof RunCommandParameterSchema>;

/** Typed parameters per script, before encoding. */
export interface ScriptParams {
  baseline: Record<string, never>;
  catalog: CatalogParams;
  install: InstallParams;
  reboot: RebootParams;
  validate: ValidateParams;
  diagnostics: DiagnosticsParams;
  gates: GatesParams;
  hooks: HooksParams;
  uninstall: UninstallParams;
}

/** A Run Command parameter list that does not match what a script accepts. */
export class ScriptParameterError extends Error {
  constructor(
    readonly scriptId: ScriptId,
    readonly parameter: string,
    message: string,
  ) {
    super(`${scriptId}: parameter ${parameter}: ${message}`);
    this.name = "ScriptParameterError";
  }
}

// Checks travel as one string both shells can split without a JSON parser (bash on a minimal server has no jq):
// records joined by ",", fields joined by ".", every field base64 (whose alphabet has neither separator).
const RECORD_SEPARATOR = ",";
const FIELD_SEPARATOR = ".";

const b64 = (s: string): string => Buffer.from(s, "utf8").toString("base64");
const unb64 = (s: string): string => Buffer.from(s, "base64").toString("utf8");

/** The type-specific fields of a check, in wire order (after app, name, type, attempts, settle, timeout). */
function checkFields(check: Check): string[] {
  switch (check.type) {
    case "http":
      return [check.url, check.method, check.expectStatus.join(" "), check.bodyContains ?? ""];
    case "service":
      return [check.serviceName, check.expectState];
    case "tcp":
      return [check.host, String(check.port)];
    case "process":
      return [check.processName, String(check.minCount)];
    case "script":
      return [check.shell, check.script, String(check.expectExitCode)];
    case "eventlog":
      return [
        check.logName,
        check.source ?? "",
        (check.eventIds ?? []).join(" "),
        check.level,
        String(check.lookbackMinutes),
        String(check.maxCount),
      ];
  }
}

/** Encodes validate checks as the `Checks` parameter. */
export function encodeChecks(checks: ValidateParams["checks"]): string {
  return checks
    .map(({ app, check }) =>
      [
        app,
        check.name,
        check.type,
        String(check.attempts),
        String(check.settleSeconds),
        String(check.timeoutSeconds),
        ...checkFields(check),
      ]
        .map(b64)
        .join(FIELD_SEPARATOR),
    )
    .join(RECORD_SEPARATOR);
}

const numbers = (s: string): number[] => (s === "" ? [] : s.split(" ").map(Number));

/** Decodes the `Checks` parameter (the fleet emulator's side; the scripts do the same in shell). */
export function decodeChecks(value: string): ValidateParams["checks"] {
  if (value === "") return [];
  const raw = value.split(RECORD_SEPARATOR).map((record) => {
    const [app, name, type, attempts, settle, timeout, ...f] = record.split(FIELD_SEPARATOR).map(unb64);
    const base = {
      name,
      type,
      attempts: Number(attempts),
      settleSeconds: Number(settle),
      timeoutSeconds: Number(timeout),
    };
    const specific: Record<string, unknown> =
      type === "http"
        ? { url: f[0], method: f[1], expectStatus: numbers(f[2] ?? ""), bodyContains: f[3] === "" ? undefined : f[3] }
        : type === "service"
          ? { serviceName: f[0], expectState: f[1] }
          : type === "tcp"
            ? { host: f[0], port: Number(f[1]) }
            : type === "process"
              ? { processName: f[0], minCount: Number(f[1]) }
              : type === "script"
                ? { shell: f[0], script: f[1], expectExitCode: Number(f[2]) }
                : {
                    logName: f[0],
                    source: f[1] === "" ? undefined : f[1],
                    eventIds: f[2] === "" ? undefined : numbers(f[2] ?? ""),
                    level: f[3],
                    lookbackMinutes: Number(f[4]),
                    maxCount: Number(f[5]),
                  };
    return { app, check: { ...base, ...specific } };
  });
  return ValidateParamsSchema.parse({ checks: raw }).checks;
}

/** Encodes gate probes as the `Probes` parameter: name, shell, timeout, script text, each base64 (as checks). */
export function encodeProbes(probes: GatesParams["probes"]): string {
  return probes
    .map((p) => [p.name, p.shell, String(p.timeoutSeconds), p.script].map(b64).join(FIELD_SEPARATOR))
    .join(RECORD_SEPARATOR);
}

/** Decodes the `Probes` parameter (the fleet emulator's side; the gates scripts do the same in shell). */
export function decodeProbes(value: string): GatesParams["probes"] {
  if (value === "") return [];
  const raw = value.split(RECORD_SEPARATOR).map((record) => {
    const fields = record.split(FIELD_SEPARATOR).map(unb64);
    if (fields.length !== 4) throw new ScriptParameterError("gates", "Probes", "a probe has 4 fields");
    const [name, shell, timeout, script] = fields;
    return { name, shell, timeoutSeconds: Number(timeout), script };
  });
  return parseWith("gates", "Probes", GatesParamsSchema, { probes: raw }).probes;
}

/** Encodes hook actions as the `Actions` parameter: kind, target, timeout, script text, each base64. */
export function encodeActions(actions: HooksParams["actions"]): string {
  return actions
    .map((a) => [a.kind, a.target, String(a.timeoutSeconds), a.script].map(b64).join(FIELD_SEPARATOR))
    .join(RECORD_SEPARATOR);
}

/** Decodes the `Actions` parameter (the fleet emulator's side; the hooks scripts do the same in shell). */
export function decodeActions(value: string): HooksParams["actions"] {
  if (value === "") return [];
  const raw = value.split(RECORD_SEPARATOR).map((record) => {
    const fields = record.split(FIELD_SEPARATOR).map(unb64);
    if (fields.length !== 4) throw new ScriptParameterError("hooks", "Actions", "an action has 4 fields");
    const [kind, target, timeout, script] = fields;
    return { kind, target, timeoutSeconds: Number(timeout), script };
  });
  return parseWith("hooks", "Actions", HooksParamsSchema, { actions: raw }).actions;
}

/** Encodes typed parameters as the Run Command parameter list the script's `param()` / environment expects. */
export function encodeParameters<Id extends ScriptId>(scriptId: Id, params: ScriptParams[Id]): RunCommandParameter[] {
  switch (scriptId) {
    case "baseline":
      return [];
    case "catalog": {
      const p = CatalogParamsSchema.parse(params);
      // IncludeDrivers only when set: the script's default is false, and older scripts know no such parameter.
      return [
        { name: "Simulate", value: p.simulate ? "true" : "false" },
        ...(p.includeDrivers ? [{ name: "IncludeDrivers", value: "true" }] : []),
      ];
    }
    case "install": {
      const p = InstallParamsSchema.parse(params);
      const ids = p.os === "windows" ? p.updateIds : p.packages.map((pkg) => `${pkg.name}=${pkg.version}`);
      return [
        { name: "UpdateIds", value: ids.join(",") },
        ...(p.fence === undefined ? [] : [{ name: "Fence", value: p.fence }]),
        ...(p.rebootMarker === undefined ? [] : [{ name: "RebootMarker", value: p.rebootMarker }]),
      ];
    }
    case "reboot": {
      const p = RebootParamsSchema.parse(params);
      return [
        { name: "DelaySeconds", value: String(p.delaySeconds) },
        { name: "Comment", value: p.comment },
        ...(p.marker === undefined ? [] : [{ name: "RebootMarker", value: p.marker }]),
      ];
    }
    case "validate":
      return [{ name: "Checks", value: encodeChecks(ValidateParamsSchema.parse(params).checks) }];
    case "gates":
      return [{ name: "Probes", value: encodeProbes(GatesParamsSchema.parse(params).probes) }];
    case "hooks": {
      const p = HooksParamsSchema.parse(params);
      return [
        { name: "Actions", value: encodeActions(p.actions) },
        ...(p.fence === undefined ? [] : [{ name: "Fence", value: p.fence }]),
      ];
    }
    case "diagnostics": {
      const p = DiagnosticsParamsSchema.parse(params);
      return [
        { name: "SinceUtc", value: p.since },
        { name: "MaxEvents", value: String(p.maxEvents) },
      ];
    }
    case "uninstall": {
      // The same shape as install's UpdateIds: KBs, or name=version pins (the version to go back to).
      const p = UninstallParamsSchema.parse(params);
      const ids = p.os === "windows" ? p.kbs : p.packages.map((pkg) => `${pkg.name}=${pkg.version}`);
      return [{ name: "UpdateIds", value: ids.join(",") }];
    }
  }
  throw new Error(`unknown script id ${String(scriptId)}`);
}

function valueOf(scriptId: ScriptId, list: readonly RunCommandParameter[], name: string): string {
  const found = list.find((p) => p.name === name);
  if (found === undefined) throw new ScriptParameterError(scriptId, name, "missing");
  return found.value;
}

function parseWith<T>(scriptId: ScriptId, parameter: string, schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new ScriptParameterError(scriptId, parameter, z.prettifyError(result.error));
  return result.data;
}

/**
 * Decodes a Run Command parameter list back into typed parameters, as the script would read it. The fleet emulator
 * uses this to answer a command; a parameter the script would reject throws ScriptParameterError.
 */
export function decodeParameters<Id extends ScriptId>(
  scriptId: Id,
  os: OsFamily,
  list: readonly RunCommandParameter[],
): ScriptParams[Id] {
  const get = (name: string): string => valueOf(scriptId, list, name);
  let decoded: unknown;
  switch (scriptId) {
    case "baseline":
      decoded = {};
      break;
    case "catalog": {
      // The scripts refuse anything but the two literals; so does the emulator.
      const simulate = get("Simulate");
      if (simulate !== "true" && simulate !== "false")
        throw new ScriptParameterError(scriptId, "Simulate", "must be true or false");
      const drivers = list.find((p) => p.name === "IncludeDrivers")?.value ?? "false";
      if (drivers !== "true" && drivers !== "false")
        throw new ScriptParameterError(scriptId, "IncludeDrivers", "must be true or false");
      decoded = parseWith(scriptId, "Simulate", CatalogParamsSchema, {
        simulate: simulate === "true",
        includeDrivers: drivers === "true",
      });
      break;
    }
    case "install":
    case "uninstall": {
      const items = get("UpdateIds").split(",");
      const fenceValue = list.find((p) => p.name === "Fence")?.value;
      const markerValue = list.find((p) => p.name === "RebootMarker")?.value;
      const fence = {
        ...(fenceValue === undefined ? {} : { fence: fenceValue }),
        ...(markerValue === undefined || scriptId !== "install" ? {} : { rebootMarker: markerValue }),
      };
      const packages = items.map((item) => {
        const at = item.indexOf("=");
        return at < 0 ? { name: item, version: "" } : { name: item.slice(0, at), version: item.slice(at + 1) };
      });
      decoded =
        scriptId === "install"
          ? parseWith(
              scriptId,
              "UpdateIds",
              InstallParamsSchema,
              os === "windows" ? { os, updateIds: items, ...fence } : { os, packages, ...fence },
            )
          : parseWith(
              scriptId,
              "UpdateIds",
              UninstallParamsSchema,
              os === "windows" ? { os, kbs: items } : { os, packages },
            );
      break;
    }
    case "reboot":
      decoded = parseWith(scriptId, "DelaySeconds", RebootParamsSchema, {
        delaySeconds: Number(get("DelaySeconds")),
        comment: get("Comment"),
        ...((m) => (m === undefined ? {} : { marker: m }))(list.find((p) => p.name === "RebootMarker")?.value),
      });
      break;
    case "validate":
      try {
        decoded = { checks: decodeChecks(get("Checks")) };
      } catch (error) {
        if (error instanceof ScriptParameterError) throw error;
        throw new ScriptParameterError(scriptId, "Checks", error instanceof Error ? error.message : String(error));
      }
      break;
    case "gates":
      decoded = { probes: decodeProbes(get("Probes")) };
      break;
    case "hooks": {
      const fence = list.find((p) => p.name === "Fence")?.value;
      decoded = {
        actions: decodeActions(get("Actions")),
        ...(fence === undefined ? {} : { fence: parseWith(scriptId, "Fence", HookFenceSchema, fence) }),
      };
      break;
    }
    case "diagnostics":
      decoded = parseWith(scriptId, "SinceUtc", DiagnosticsParamsSchema, {
        since: get("SinceUtc"),
        maxEvents: Number(get("MaxEvents")),
      });
      break;
  }
  return decoded as ScriptParams[Id];
}
