import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { composeBundle, splitBundleOutput, type BundleSection } from "../../../lib/device/bundle";
import { encodeParameters } from "../../../lib/device/parameters";
import { parseScriptOutput } from "../../../lib/device/parseScriptOutput";
import { getDeviceScript } from "../../../lib/device/registry";
import type { OsFamily } from "../../../lib/schemas/common";
import { describeWithTool, pwshCommand } from "../../harness/tools";
import { makeTempDir, runLinuxScript } from "./linuxRunner";

// A bundle composes the device scripts, unchanged, into one run command. Run for real (bash; PowerShell 7.6 where
// installed), each section's output must be exactly what the script prints on its own, parse as that script's
// document, and the final marker must carry the execution's nonce.

const NONCE = "n0nce-4f2a9c1e";
const dir = makeTempDir("bundle");

function sections(osFamily: OsFamily): BundleSection[] {
  return [
    { step: "baseline", script: getDeviceScript("baseline", osFamily), parameters: [] },
    {
      step: "preValidation",
      script: getDeviceScript("validate", osFamily),
      parameters: encodeParameters("validate", { checks: [] }),
    },
  ];
}

function run(
  command: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { env: { ...env }, timeout: 120_000, maxBuffer: 64 * 1024 * 1024, encoding: "utf8" },
      (error, stdout, stderr) =>
        error === null
          ? resolve({ stdout, stderr })
          : reject(new Error(`${command} failed: ${stderr}`, { cause: error })),
    );
  });
}

describe("bundle composition (bash)", () => {
  it("runs each script unchanged with its own parameters; each section is that script's document; the final marker closes it", async () => {
    const bundle = composeBundle("linux", sections("linux"), NONCE);
    const file = path.join(dir, "bundle.sh");
    writeFileSync(file, bundle.script);
    const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: os.tmpdir() };
    for (const p of bundle.parameters) env[p.name] = p.value;
    const out = await run("bash", [file], env);
    const split = splitBundleOutput(out.stdout, ["baseline", "preValidation"], NONCE);
    expect(split.complete).toBe(true);
    expect(split.sections.get("baseline")?.exitCode).toBe(0);
    expect(split.sections.get("preValidation")?.exitCode).toBe(0);
    const baseline = parseScriptOutput(split.sections.get("baseline")?.text ?? "", {
      id: "baseline",
      version: "1.0.0",
    });
    expect(baseline.ok).toBe(true);
    // The validate section is byte for byte what the script prints alone with the same parameters (but the clock).
    const timeless = (text: string | undefined): string | undefined =>
      text?.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/g, "<time>");
    const alone = await runLinuxScript("validate", {
      Checks: encodeParameters("validate", { checks: [] })[0]?.value ?? "",
    });
    expect(timeless(split.sections.get("preValidation")?.text)).toBe(timeless(alone.stdout));
    expect(split.sections.get("preValidation")?.text).toMatch(/\n$/);
    // The stderr sections are delimited the same way.
    expect([...splitBundleOutput(out.stderr, ["baseline", "preValidation"], NONCE).sections.keys()]).toEqual([
      "baseline",
      "preValidation",
    ]);
  });

  it("reads a stale or cut-off output as incomplete: another nonce, or a section without its end marker", () => {
    const text = "##patchpilot-section:begin:baseline##\n{}\n\n##patchpilot-section:end:baseline:0##\n";
    expect(splitBundleOutput(`${text}##patchpilot-bundle:done:other-nonce1##\n`, ["baseline"], NONCE).complete).toBe(
      false,
    );
    const cut = splitBundleOutput('##patchpilot-section:begin:baseline##\n{"partial":', ["baseline"], NONCE);
    expect(cut.complete).toBe(false);
    expect(cut.sections.get("baseline")).toEqual({ text: '{"partial":', exitCode: undefined });
    expect(splitBundleOutput(text, ["baseline"], NONCE).sections.get("baseline")).toEqual({
      text: "{}\n",
      exitCode: 0,
    });
  });
});

describeWithTool(["pwsh"], "bundle composition (PowerShell 7.6)", () => {
  it("runs each script in its own runspace with its own parameters; each section parses as that script's document", async () => {
    const bundle = composeBundle("windows", sections("windows"), NONCE);
    const file = path.join(dir, "bundle.ps1");
    writeFileSync(file, bundle.script);
    const [command, ...leading] = pwshCommand() ?? ["pwsh"];
    const args = [...leading, "-NoLogo", "-NoProfile", "-NonInteractive", "-File", file];
    for (const p of bundle.parameters) args.push(`-${p.name}`, p.value);
    const out = await run(command, args, { ...(process.env as Record<string, string>) });
    const split = splitBundleOutput(out.stdout, ["baseline", "preValidation"], NONCE);
    expect(split.complete).toBe(true);
    expect([...split.sections.keys()]).toEqual(["baseline", "preValidation"]);
    const validate = parseScriptOutput(split.sections.get("preValidation")?.text ?? "", {
      id: "validate",
      version: getDeviceScript("validate", "windows").version,
    });
    expect(validate.ok).toBe(true);
    const baseline = parseScriptOutput(split.sections.get("baseline")?.text ?? "", {
      id: "baseline",
      version: getDeviceScript("baseline", "windows").version,
    });
    expect(baseline.ok).toBe(true);
  }, 180_000);
});
