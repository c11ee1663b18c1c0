import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { composeBundle, SETTLE_PATTERN, splitBundleOutput, type BundleSection } from "../../../lib/device/bundle";
import { parseScriptOutput } from "../../../lib/device/parseScriptOutput";
import { getDeviceScript } from "../../../lib/device/registry";
import type { OsFamily } from "../../../lib/schemas/common";
import { describeWithTool, pwshCommand } from "../../harness/tools";
import { makeTempDir } from "./linuxRunner";

// Issue 22: the stability probe rides at the end of the boot probe's command, after the device waits until it has
// been up the settle time. Run for real (bash; PowerShell 7.6 where installed), the wait must last until the OS's own
// uptime (the kernel's /proc/uptime, read here by the test) reaches the settle seconds, then run the section: a
// baseline document as the script prints alone. The settle target is set a few seconds past the machine's uptime so
// the wait is real (and short).

const NONCE = "settle-7d1e0b2a";
const STEPS = ["bootProbe", "stableProbe"];
const dir = makeTempDir("bundle-settle");

/** The machine's uptime in whole seconds, from the kernel (the source the bash wait reads, and Get-Uptime's). */
function kernelUptimeSeconds(): number {
  return Math.floor(Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]));
}

function sections(osFamily: OsFamily, settle: number): BundleSection[] {
  const baseline = getDeviceScript("baseline", osFamily);
  return [
    { step: "bootProbe", script: baseline, parameters: [] },
    { step: "stableProbe", script: baseline, parameters: [], settleUptimeSeconds: settle },
  ];
}

function run(command: string, args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { env, timeout: 120_000, maxBuffer: 64 * 1024 * 1024, encoding: "utf8" },
      (error, stdout, stderr) =>
        error === null ? resolve(stdout) : reject(new Error(`${command} failed: ${stderr}`, { cause: error })),
    );
  });
}

/** Checks what a settled bundle printed against the kernel's uptime before and after it ran. */
function expectSettled(stdout: string, target: number, upAfter: number, osFamily: OsFamily): void {
  const settle = SETTLE_PATTERN.exec(stdout);
  expect(settle?.[1]).toBe("stableProbe");
  expect(Number(settle?.[2])).toBe(target);
  // The wait ended once the device had been up the settle time, and no later than now (the OS's uptime after).
  const reached = Number(settle?.[3]);
  expect(reached).toBeGreaterThanOrEqual(target);
  expect(reached).toBeLessThanOrEqual(upAfter);
  // The settle line is outside every section: the probes' sections are their script's documents, nothing else.
  const split = splitBundleOutput(stdout, STEPS, NONCE);
  expect(split.complete).toBe(true);
  for (const step of STEPS) {
    const text = split.sections.get(step)?.text ?? "";
    expect(text).not.toMatch(/patchpilot-settle/);
    const parsed = parseScriptOutput(text, { id: "baseline", version: getDeviceScript("baseline", osFamily).version });
    expect([step, parsed.ok]).toEqual([step, true]);
  }
  // And it came after the first probe's section, before the stability probe's.
  const at = stdout.indexOf("##patchpilot-settle:");
  expect(at).toBeGreaterThan(stdout.indexOf("##patchpilot-section:end:bootProbe:"));
  expect(at).toBeLessThan(stdout.indexOf("##patchpilot-section:begin:stableProbe##"));
}

describe("a bundle's settle wait (bash)", () => {
  it("waits until the kernel's uptime reaches the settle seconds, then runs the section", async () => {
    const target = kernelUptimeSeconds() + 2;
    const bundle = composeBundle("linux", sections("linux", target), NONCE);
    expect(bundle.script).toContain(`stableProbe=baseline@${getDeviceScript("baseline", "linux").version}+settle`);
    const file = path.join(dir, "settle.sh");
    writeFileSync(file, bundle.script);
    const stdout = await run("bash", [file], { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: os.tmpdir() });
    expectSettled(stdout, target, kernelUptimeSeconds(), "linux");
  }, 60_000);

  it("does not wait on a device already up longer than the settle time", async () => {
    const bundle = composeBundle("linux", sections("linux", 1), NONCE);
    const file = path.join(dir, "settled.sh");
    writeFileSync(file, bundle.script);
    const before = kernelUptimeSeconds();
    const stdout = await run("bash", [file], { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: os.tmpdir() });
    // Reached is the uptime when it looked: at least what the kernel said before the run, not the target.
    expect(Number(SETTLE_PATTERN.exec(stdout)?.[3])).toBeGreaterThanOrEqual(before);
  }, 60_000);

  it("refuses a settle that is not a whole number of seconds within a day", () => {
    expect(() => composeBundle("linux", sections("linux", 1.5), NONCE)).toThrow(/whole number/);
    expect(() => composeBundle("windows", sections("windows", 90_000), NONCE)).toThrow(/within a day/);
  });
});

describeWithTool(["pwsh"], "a bundle's settle wait (PowerShell 7.6)", () => {
  it("waits until Get-Uptime reaches the settle seconds, then runs the section in its own runspace", async () => {
    const target = kernelUptimeSeconds() + 2;
    const bundle = composeBundle("windows", sections("windows", target), NONCE);
    const file = path.join(dir, "settle.ps1");
    writeFileSync(file, bundle.script);
    const [command, ...leading] = pwshCommand() ?? ["pwsh"];
    const stdout = await run(command, [...leading, "-NoLogo", "-NoProfile", "-NonInteractive", "-File", file], {
      ...(process.env as Record<string, string>),
    });
    expectSettled(stdout, target, kernelUptimeSeconds(), "windows");
  }, 180_000);
});
