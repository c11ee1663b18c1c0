// Runs the real Bicep compiler (restored from NuGet by `npm run tools`; test/harness/tools.ts finds it) and parses
// its diagnostics. Used by bicepBuild.test.ts and roles.test.ts.
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { bicepPath } from "../../harness/tools";

/** The repository root: `--pattern` globs and relative paths are resolved from here. */
export const REPO_ROOT = resolve(__dirname, "../../..");

export interface BicepDiagnostic {
  file: string;
  line: number;
  column: number;
  level: "Error" | "Warning" | "Info";
  code: string;
  message: string;
}

export interface BicepRun {
  status: number | null;
  stdout: string;
  diagnostics: BicepDiagnostic[];
  /** stderr lines that are not diagnostics (crashes, usage errors). */
  other: string[];
}

// `/path/file.bicep(14,13) : Error BCP071: Expected 1 argument, but got 9. [https://...]`
const DIAGNOSTIC = /^(.*)\((\d+),(\d+)\) : (Error|Warning|Info) ([A-Za-z0-9-]+): (.*)$/;

export function parseDiagnostics(stderr: string): { diagnostics: BicepDiagnostic[]; other: string[] } {
  const diagnostics: BicepDiagnostic[] = [];
  const other: string[] = [];
  for (const line of stderr.split(/\r?\n/)) {
    if (line.trim() === "") continue;
    const m = DIAGNOSTIC.exec(line);
    if (m === null) {
      other.push(line);
      continue;
    }
    diagnostics.push({
      file: m[1] ?? "",
      line: Number(m[2]),
      column: Number(m[3]),
      level: m[4] as BicepDiagnostic["level"],
      code: m[5] ?? "",
      message: m[6] ?? "",
    });
  }
  return { diagnostics, other };
}

/** Runs `bicep <args>`; throws when the compiler is not installed (callers sit inside describeWithTool). */
export function runBicep(args: string[]): BicepRun {
  const bicep = bicepPath();
  if (bicep === undefined) throw new Error("bicep not installed: run `npm run tools`");
  const result = spawnSync(bicep, args, {
    cwd: REPO_ROOT,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: "1" },
  });
  if (result.error !== undefined) throw result.error;
  return { status: result.status, stdout: result.stdout, ...parseDiagnostics(result.stderr) };
}

/** One line per diagnostic, for failure messages. */
export function describeDiagnostics(diagnostics: readonly BicepDiagnostic[]): string[] {
  return diagnostics.map((d) => `${d.file}(${d.line},${d.column}) ${d.level} ${d.code}: ${d.message}`);
}

/** `bicep build-params --stdout`: the parameters and the compiled template of the file named by `using`. */
export function buildParams(paramFile: string): { parameters: Record<string, unknown>; template: ArmTemplateJson } {
  const run = runBicep(["build-params", paramFile, "--stdout"]);
  const errors = run.diagnostics.filter((d) => d.level === "Error");
  if (run.status !== 0 || errors.length > 0) {
    throw new Error(
      `bicep build-params ${paramFile} failed (exit ${run.status}):\n${[...describeDiagnostics(run.diagnostics), ...run.other].join("\n")}`,
    );
  }
  const out = JSON.parse(run.stdout) as { parametersJson: string; templateJson: string };
  const parameters = (JSON.parse(out.parametersJson) as { parameters: Record<string, { value: unknown }> }).parameters;
  return {
    parameters: Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k, v.value])),
    template: JSON.parse(out.templateJson) as ArmTemplateJson,
  };
}

/** The parts of an ARM template (JSON) the infra tests read. */
export interface ArmTemplateJson {
  languageVersion?: string;
  parameters?: Record<string, { type: string; defaultValue?: unknown }>;
  variables?: Record<string, unknown>;
  resources: Record<string, ArmResourceJson> | ArmResourceJson[];
}

export interface ArmResourceJson {
  type: string;
  apiVersion?: string;
  name?: unknown;
  condition?: unknown;
  scope?: unknown;
  subscriptionId?: unknown;
  resourceGroup?: unknown;
  existing?: boolean;
  copy?: { name: string; count: unknown };
  properties?: Record<string, unknown>;
}
