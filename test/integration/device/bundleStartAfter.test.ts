import { execFile } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { composeBundle, splitBundleOutput, START_AFTER_PATTERN, type BundleSection } from "../../../lib/device/bundle";
import type { OsFamily } from "../../../lib/schemas/common";
import { parseBundle, runBundle } from "../../../local/fleet/device/runBundle";
import { describeWithTool, pwshCommand } from "../../harness/tools";
import { makeTempDir } from "./linuxRunner";

// Issue 22: the reboot at the end of an install's command starts no earlier than the install's estimate
// (`startAfterSeconds`), so the device restarts when the run expects it to. Run for real (bash; PowerShell 7.6 where
// installed): the section must not begin before the command has been running that long — measured here by the test's
// own clock around the interpreter, not by the script — and a section reached later must run at once. The wait's
// line is outside every section, so the sections' texts are what their scripts printed. The emulator's model of the
// same header (local/fleet/device/runBundle.ts) starts the section at the same offset.

const NONCE = "after-7d1e0b2a";
const STEPS = ["first", "second"];
const WAIT = 2;
const dir = makeTempDir("bundle-after");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sections(osFamily: OsFamily, startAfter: number): BundleSection[] {
  const say = (word: string) =>
    osFamily === "linux"
      ? { id: "baseline" as const, version: "1.0.0", text: `#!/bin/bash\necho ${word}\n` }
      : { id: "baseline" as const, version: "1.0.0", text: `Write-Output '${word}'\n` };
  return [
    { step: "first", script: say("one"), parameters: [] },
    { step: "second", script: say("two"), parameters: [], startAfterSeconds: startAfter },
  ];
}

function run(command: string, args: string[]): Promise<{ stdout: string; ms: number }> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: 120_000, encoding: "utf8" }, (error, stdout, stderr) =>
      error === null
        ? resolve({ stdout, ms: Number((process.hrtime.bigint() - started) / 1_000_000n) })
        : reject(new Error(`${command} failed: ${stderr}`, { cause: error })),
    );
  });
}

function expectWaited(stdout: string, target: number, ms: number): void {
  const line = START_AFTER_PATTERN.exec(stdout);
  expect(line?.[1]).toBe("second");
  expect(Number(line?.[2])).toBe(target);
  expect(Number(line?.[3])).toBeGreaterThanOrEqual(target);
  // The whole run lasted at least the wait (the test's clock, outside the interpreter).
  expect(ms).toBeGreaterThanOrEqual(target * 1000);
  // The wait's line comes before the section it holds back, outside every section.
  expect(stdout.indexOf(line?.[0] ?? "")).toBeLessThan(stdout.indexOf("##patchpilot-section:begin:second##"));
  const split = splitBundleOutput(stdout, STEPS, NONCE);
  expect(split.complete).toBe(true);
  expect([split.sections.get("first")?.text.trim(), split.sections.get("second")?.text.trim()]).toEqual(["one", "two"]);
}

describe("start-after waits under bash", () => {
  async function runLinux(startAfter: number) {
    const bundle = composeBundle("linux", sections("linux", startAfter), NONCE);
    const file = path.join(dir, `bundle-${startAfter}.sh`);
    writeFileSync(file, bundle.script);
    return run("bash", [file]);
  }
  it("holds the section back until the command has been running the seconds asked", async () => {
    const { stdout, ms } = await runLinux(WAIT);
    expectWaited(stdout, WAIT, ms);
  });
  it("a section reached later runs at once", async () => {
    const { stdout } = await runLinux(0);
    expect(START_AFTER_PATTERN.exec(stdout)?.[2]).toBe("0");
    expect(splitBundleOutput(stdout, STEPS, NONCE).sections.get("second")?.text.trim()).toBe("two");
  });
});

describeWithTool(["pwsh"], "start-after waits under PowerShell 7.6", () => {
  it("holds the section back until the command has been running the seconds asked", async () => {
    const bundle = composeBundle("windows", sections("windows", WAIT), NONCE);
    const file = path.join(dir, "bundle.ps1");
    writeFileSync(file, bundle.script);
    const [command, ...leading] = pwshCommand() ?? ["pwsh"];
    const started = process.hrtime.bigint();
    const { stdout } = await run(command, [...leading, "-NoLogo", "-NoProfile", "-NonInteractive", "-File", file]);
    // PowerShell's own start-up comes before the script's clock starts: the wait is measured from the script's start.
    const ms = Number((process.hrtime.bigint() - started) / 1_000_000n);
    expectWaited(stdout, WAIT, ms);
  }, 180_000);
});

describe("the emulator's model of a start-after wait", () => {
  it("starts the section at the offset the header names, or at once when the sections before took longer", () => {
    for (const [first, expected] of [
      [500, WAIT * 1000],
      [5000, 5000],
    ] as const) {
      const bundle = composeBundle("linux", sections("linux", WAIT), NONCE);
      const parsed = parseBundle(bundle.script);
      expect(parsed?.sections.map((s) => [s.step, s.afterSeconds])).toEqual([
        ["first", undefined],
        ["second", WAIT],
      ]);
      const starts: number[] = [];
      const startedAt = new Date("2026-01-20T01:00:00Z");
      const result = runBundle(
        { script: bundle.script, parameters: [], startedAt, runCommandName: "pp-x" } as never,
        parsed!,
        (section) => {
          starts.push(section.startedAt.getTime() - startedAt.getTime());
          return {
            kind: "completed",
            durationMs: starts.length === 1 ? first : 100,
            exitCode: 0,
            stdout: "",
            stderr: "",
          };
        },
      );
      expect(starts).toEqual([0, expected]);
      expect(result.kind === "completed" && result.durationMs).toBe(expected + 100);
      expect(START_AFTER_PATTERN.exec(result.kind === "completed" ? result.stdout : "")?.[3]).toBe(
        String(Math.floor(expected / 1000)),
      );
    }
  });
});
