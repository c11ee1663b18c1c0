import { execFile } from "node:child_process";
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { composeBundle, splitBundleOutput, type BundleSection } from "../../../lib/device/bundle";
import { encodeParameters } from "../../../lib/device/parameters";
import { getDeviceScript } from "../../../lib/device/registry";
import { HooksOutputSchema } from "../../../lib/schemas/device/hooks";
import { InstallOutputSchema } from "../../../lib/schemas/device/install";
import type { HooksParams, InstallParams } from "../../../lib/schemas/device/parameters";
import { describeWithTool, pwshCommand } from "../../harness/tools";
import { makeTempDir, writeStub } from "./linuxRunner";

// Issue 20: a failed pre-install hook stops the install in the same run command. The hooks and install scripts run
// for real, composed into one bundle as the run sends them (bash; PowerShell 7.6 where installed): the hooks section
// leaves the run's fence when an action failed, the install section reads it, installs nothing and says why. With
// every action ok, the same bundle installs (a stubbed apt on Linux).

const NONCE = "n0nce-fence-1";
const FENCE = "pp-0123456789abcdef0123";
const dir = makeTempDir("fence");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(command: string, args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { env, timeout: 120_000, maxBuffer: 64 * 1024 * 1024, encoding: "utf8" }, (e, out, err) =>
      e === null ? resolve(out) : reject(new Error(`${command} failed: ${err}`, { cause: e })),
    );
  });
}

function sections(
  osFamily: "linux" | "windows",
  actions: HooksParams["actions"],
  install: InstallParams,
): BundleSection[] {
  return [
    {
      step: "preInstallHooks",
      script: getDeviceScript("hooks", osFamily),
      parameters: encodeParameters("hooks", { actions, fence: FENCE }),
    },
    { step: "install", script: getDeviceScript("install", osFamily), parameters: encodeParameters("install", install) },
  ];
}

function parsed(stdout: string) {
  const split = splitBundleOutput(stdout, ["preInstallHooks", "install"], NONCE);
  expect(split.complete).toBe(true);
  const hooks = HooksOutputSchema.parse(JSON.parse(split.sections.get("preInstallHooks")?.text ?? ""));
  const install = InstallOutputSchema.parse(JSON.parse(split.sections.get("install")?.text ?? ""));
  return { hooks, install };
}

describe("the pre-install fence under bash (one bundle)", () => {
  // systemctl: `stop` of broken.service fails and it stays active; apt installs into a state file.
  const bin = makeTempDir("bin", dir);
  const tmp = makeTempDir("tmp", dir);
  const units = path.join(bin, "units");
  const state = path.join(bin, "state");
  const log = path.join(bin, "apt-get.log");
  writeFileSync(units, "");
  writeStub(
    bin,
    "systemctl",
    `u=\${!#}; case $1 in
  is-active) grep -qx "$u" ${units} && { echo inactive; exit 3; }; echo active ;;
  stop) [ "$u" = broken.service ] && { echo "Job for $u canceled." >&2; exit 1; }; echo "$u" >> ${units} ;;
esac`,
  );
  writeStub(
    bin,
    "dpkg-query",
    `pkg="\${@: -1}"; v=$(grep "^$pkg=" ${state} 2>/dev/null | tail -1 | cut -d= -f2-); [ -n "$v" ] && printf 'ii |%s\\n' "$v"; exit 0`,
  );
  writeStub(bin, "apt-cache", "exit 0");
  writeStub(bin, "apt-get", `printf '%s\\n' "$@" >> ${log}; echo "\${@: -1}" >> ${state}; exit 0`);
  writeStub(bin, "id", 'if [ "$1" = -u ]; then echo 0; else exec /usr/bin/id "$@"; fi');
  const stop = (target: string) => ({ kind: "stop" as const, target, timeoutSeconds: 2, script: "" });
  const install: InstallParams = { os: "linux", packages: [{ name: "curl", version: "8.0-1" }], fence: FENCE };

  async function runBundle(actions: HooksParams["actions"]) {
    const bundle = composeBundle("linux", sections("linux", actions, install), NONCE);
    const file = path.join(dir, "bundle.sh");
    writeFileSync(file, bundle.script);
    const env: Record<string, string> = { PATH: `${bin}:/usr/bin:/bin`, HOME: os.tmpdir(), TMPDIR: tmp };
    for (const p of bundle.parameters) env[p.name] = p.value;
    return parsed(await run("bash", [file], env));
  }

  it("a failed stop: the install section installs nothing, says why, and removes the fence", async () => {
    const { hooks, install: doc } = await runBundle([stop("app"), stop("broken")]);
    expect(hooks.data.actions?.map((a) => [a.target, a.ok])).toEqual([
      ["app", true],
      ["broken", false],
    ]);
    expect(doc.data.results.map((r) => [r.updateId, r.result])).toEqual([["curl", "NotAttempted"]]);
    expect(doc.errors).toEqual([
      {
        section: "results",
        message: "pre-install hook failed (stop broken): nothing was installed",
        code: "hook-failed",
      },
    ]);
    expect(existsSync(log)).toBe(false);
    // Read once and removed: nothing is left in the temporary folder.
    expect(readdirSync(tmp)).toEqual([]);
  });

  it("every action ok: the same bundle installs", async () => {
    const { install: doc } = await runBundle([stop("app")]);
    expect(doc.errors).toEqual([]);
    expect(doc.data.results.map((r) => [r.updateId, r.result])).toEqual([["curl", "Succeeded"]]);
    expect(readFileSync(log, "utf8")).toContain("curl=8.0-1");
    expect(readdirSync(tmp)).toEqual([]);
  });
});

describeWithTool(["pwsh"], "the pre-install fence under PowerShell 7.6 (one bundle)", () => {
  it("a failed hook script: install.ps1 installs nothing, names the failed action and removes the fence", async () => {
    const script = (target: string, text: string) => ({
      kind: "script" as const,
      target,
      timeoutSeconds: 30,
      script: text,
    });
    const ids = ["8a1e9f00-0000-4000-8000-000000000001"];
    const bundle = composeBundle(
      "windows",
      sections("windows", [script("maintenance-on", "exit 3")], { os: "windows", updateIds: ids, fence: FENCE }),
      NONCE,
    );
    const file = path.join(dir, "bundle.ps1");
    writeFileSync(file, bundle.script);
    const [command, ...leading] = pwshCommand() ?? ["pwsh"];
    const args = [...leading, "-NoLogo", "-NoProfile", "-NonInteractive", "-File", file];
    for (const p of bundle.parameters) args.push(`-${p.name}`, p.value);
    const tmp = makeTempDir("pstmp", dir);
    const { hooks, install } = parsed(
      await run(command, args, { ...(process.env as Record<string, string>), TMPDIR: tmp }),
    );
    expect(hooks.data.actions?.map((a) => [a.target, a.ok, a.exitCode])).toEqual([["maintenance-on", false, 3]]);
    // Without the fence install.ps1 would call WUA (a COM object PowerShell 7 on Linux does not have) and fail
    // otherwise; with it, it never gets there.
    expect(install.data.results.map((r) => [r.updateId, r.result])).toEqual([[ids[0], "NotAttempted"]]);
    expect(install.errors).toEqual([
      {
        section: "results",
        message: "pre-install hook failed (script maintenance-on): nothing was installed",
        code: "hook-failed",
      },
    ]);
    expect(readdirSync(tmp)).toEqual([]);
  }, 180_000);
});
