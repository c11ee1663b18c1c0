import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";

/**
 * The tools the tests use from outside npm (scripts/tools/install-tools.sh installs them from NuGet into the
 * clone). A test that needs one calls `describeWithTool`: the suite runs when the tool is installed, is skipped
 * with a message naming the tool when it is not, and fails when it is missing under CI=true (CI must run it).
 */
export type ToolName = "bicep" | "pwsh" | "pester";

const ROOT = path.resolve(__dirname, "..", "..");
const NUGET = path.join(ROOT, ".tools", "nuget");

function restoredPackage(id: string, file: string): string | undefined {
  const dir = path.join(NUGET, id);
  if (!existsSync(dir)) return undefined;
  const versions = readdirSync(dir).sort();
  const newest = versions[versions.length - 1];
  if (newest === undefined) return undefined;
  const full = path.join(dir, newest, "tools", file);
  return existsSync(full) ? full : undefined;
}

/** Path of the Bicep compiler, if installed. */
export function bicepPath(): string | undefined {
  return restoredPackage("azure.bicep.commandline.linux-x64", "bicep");
}

/** Path of Pester's module manifest, if installed. */
export function pesterModulePath(): string | undefined {
  return restoredPackage("pester", "Pester.psd1");
}

let pwshAvailable: boolean | undefined;
/** `dotnet pwsh` (the local tool from .config/dotnet-tools.json) as [command, ...leading args], if installed. */
export function pwshCommand(): [string, ...string[]] | undefined {
  if (pwshAvailable === undefined) {
    try {
      execFileSync("dotnet", ["pwsh", "-NoLogo", "-NoProfile", "-Command", "exit 0"], {
        cwd: ROOT,
        stdio: "ignore",
        timeout: 60_000,
      });
      pwshAvailable = true;
    } catch {
      pwshAvailable = false;
    }
  }
  return pwshAvailable ? ["dotnet", "pwsh"] : undefined;
}

function isInstalled(tool: ToolName): boolean {
  switch (tool) {
    case "bicep":
      return bicepPath() !== undefined;
    case "pester":
      return pesterModulePath() !== undefined && pwshCommand() !== undefined;
    case "pwsh":
      return pwshCommand() !== undefined;
  }
}

/** The missing tools among `tools`; throws under CI=true when any is missing. */
export function missingTools(tools: ToolName[]): ToolName[] {
  const missing = tools.filter((tool) => !isInstalled(tool));
  if (missing.length > 0 && process.env.CI === "true") {
    throw new Error(
      `CI=true and ${missing.join(", ")} not installed: run \`npm run tools\` (scripts/tools/install-tools.sh)`,
    );
  }
  return missing;
}

/** describe() that runs when the tools are installed, and otherwise skips saying which tool is missing. */
export function describeWithTool(tools: ToolName[], name: string, body: () => void): void {
  const missing = missingTools(tools);
  if (missing.length === 0) {
    describe(name, body);
    return;
  }
  // Why skipped: the suite needs a NuGet tool this machine lacks (a clone without the .NET SDK still runs `npm test`).
  // Never in CI: missingTools throws under CI=true, so a missing tool fails there instead of skipping.
  describe.skip(`${name} (skipped: ${missing.join(", ")} not installed; \`npm run tools\` installs it)`, body);
}
