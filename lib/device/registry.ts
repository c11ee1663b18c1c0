import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { z } from "zod";
import type { OsFamily } from "../schemas/common";
import { SCRIPT_OUTPUT_SCHEMAS, ScriptIdSchema, type ScriptId } from "../schemas/device";
import { parseScriptHeader } from "./header";

/** One device script as the backend sends it: evidence records `sha256` so a run proves which text ran. */
export interface DeviceScript {
  id: ScriptId;
  os: OsFamily;
  /** From the script's header line; the output's `scriptVersion` must equal it. */
  version: string;
  /** Path relative to lib/device (e.g. `linux/baseline.sh`). */
  file: string;
  text: string;
  /** Lowercase hex SHA-256 of the UTF-8 text exactly as sent. */
  sha256: string;
  /** Run Command timeout for the script. */
  timeoutSeconds: number;
  outputSchema: z.ZodType;
}

/** A script file that is missing or whose header does not name the script it is filed as. */
export class DeviceScriptError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = "DeviceScriptError";
  }
}

// Generous upper bounds, not estimates: a WUA search or a kernel install can take many minutes; the orchestrator
// applies the policy's own budget (maxInstallMinutes) on top.
const TIMEOUT_SECONDS: Record<ScriptId, number> = {
  baseline: 900,
  catalog: 1800,
  install: 7200,
  reboot: 120,
  validate: 3600,
  diagnostics: 900,
  // Probes run one after another, each bounded by its own timeout (at most 600 s, at most 21 of them).
  gates: 1800,
  // Up to 60 actions, each bounded by its own timeout; the planner gives the command the sum.
  hooks: 3600,
  // wusa / DISM removal of a cumulative update can take as long as its install.
  uninstall: 3600,
};

const EXTENSION: Record<OsFamily, string> = { windows: "ps1", linux: "sh" };

/**
 * The folder holding windows/ and linux/: beside this file when run from source (ts-jest), or the source tree
 * when run from dist/ (tsc does not copy the scripts; a deployment must ship lib/device/{windows,linux}).
 */
export function findScriptRoot(): string {
  const candidates = [__dirname, path.resolve(__dirname, "../../../lib/device")];
  const found = candidates.find((dir) => existsSync(path.join(dir, "linux", "baseline.sh")));
  if (found === undefined)
    throw new DeviceScriptError("lib/device", `no device scripts found (looked in ${candidates.join(", ")})`);
  return found;
}

/** Lowercase hex SHA-256 of a script's text as UTF-8. */
export function hashScript(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** Reads one script and checks that its header names it. */
export function loadDeviceScript(root: string, id: ScriptId, os: OsFamily): DeviceScript {
  const file = `${os}/${id}.${EXTENSION[os]}`;
  const full = path.join(root, file);
  if (!existsSync(full)) throw new DeviceScriptError(file, "missing");
  const text = readFileSync(full, "utf8");
  const header = parseScriptHeader(text);
  if (header === undefined) throw new DeviceScriptError(file, "no `# patchpilot-script: <id>@<version>` header");
  if (header.id !== id) throw new DeviceScriptError(file, `header names ${header.id}, expected ${id}`);
  return {
    id,
    os,
    version: header.version,
    file,
    text,
    sha256: hashScript(text),
    timeoutSeconds: TIMEOUT_SECONDS[id],
    outputSchema: SCRIPT_OUTPUT_SCHEMAS[id],
  };
}

/** Every script for both OSes, keyed `${os}/${id}`. */
export function loadDeviceScripts(root: string = findScriptRoot()): ReadonlyMap<string, DeviceScript> {
  const scripts = new Map<string, DeviceScript>();
  for (const os of ["windows", "linux"] as const) {
    for (const id of ScriptIdSchema.options) scripts.set(`${os}/${id}`, loadDeviceScript(root, id, os));
  }
  return scripts;
}

let cached: ReadonlyMap<string, DeviceScript> | undefined;

/** The script for a job and OS, read once per process. */
export function getDeviceScript(id: ScriptId, os: OsFamily): DeviceScript {
  cached ??= loadDeviceScripts();
  const script = cached.get(`${os}/${id}`);
  if (script === undefined) throw new DeviceScriptError(`${os}/${id}`, "not registered");
  return script;
}
