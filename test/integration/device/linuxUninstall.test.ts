import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { encodeParameters } from "../../../lib/device/parameters";
import { parseScriptOutput } from "../../../lib/device/parseScriptOutput";
import { UninstallOutputSchema } from "../../../lib/schemas/device";
import { makeTempDir, runLinuxScript, writeStub } from "./linuxRunner";

// uninstall.sh (remediation, issue 20) run for real under bash, with the package managers as stubs that keep a
// package state in a file: a downgrade "happens", and the script reads the result back with the stubbed dpkg-query /
// rpm exactly as it would on a server. Nothing real is installed or removed.

const dir = makeTempDir("uninstall");
const marker = path.join(dir, "pwned");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** apt: dpkg-query answers from `state` (name=version lines, last wins); apt-get appends the pin it was given. */
function stubApt(offered: string[], failing: string[] = []): { path: string; log: string; state: string } {
  const bin = makeTempDir("apt", dir);
  const log = path.join(bin, "apt-get.log");
  const state = path.join(bin, "state");
  writeStub(
    bin,
    "dpkg-query",
    `pkg="\${@: -1}"; v=$(grep "^$pkg=" ${state} 2>/dev/null | tail -1 | cut -d= -f2-); [ -n "$v" ] && printf 'ii |%s\\n' "$v"; exit 0`,
  );
  writeStub(bin, "apt-cache", `case "$2" in ${offered.join("|") || "none"}) exit 0;; *) exit 100;; esac`);
  writeStub(
    bin,
    "apt-get",
    `printf '%s\\n' "$@" "--" >> ${log}; pin="\${@: -1}"; case "$pin" in ${failing.join("|") || "none"}) echo "E: dpkg was interrupted" >&2; exit 100;; esac; echo "$pin" >> ${state}; exit 0`,
  );
  writeStub(bin, "id", 'if [ "$1" = -u ]; then echo 0; else exec /usr/bin/id "$@"; fi');
  for (const tool of ["needs-restarting", "zypper", "dnf", "yum", "rpm", "shutdown", "systemctl"])
    writeStub(bin, tool, `echo "${tool}" >> ${log}; exit 0`);
  return { path: `${bin}:/usr/bin:/bin`, log, state };
}

/** dnf: rpm answers from `state`; `dnf downgrade name-version` appends the version it was given. */
function stubDnf(): { path: string; log: string; state: string } {
  const bin = makeTempDir("dnf", dir);
  const log = path.join(bin, "dnf.log");
  const state = path.join(bin, "state");
  writeStub(
    bin,
    "rpm",
    `pkg="\${@: -1}"; v=$(grep "^$pkg=" ${state} 2>/dev/null | tail -1 | cut -d= -f2-); if [ -n "$v" ]; then printf '%s\\n' "$v"; else echo "package $pkg is not installed"; exit 1; fi`,
  );
  writeStub(
    bin,
    "dnf",
    `printf '%s\\n' "$@" "--" >> ${log}; case "$3" in list) exit 0;; esac; nv="\${@: -1}"; name=\${nv%%-[0-9]*}; echo "$name=\${nv#"$name"-}" >> ${state}; exit 0`,
  );
  writeStub(bin, "id", 'if [ "$1" = -u ]; then echo 0; else exec /usr/bin/id "$@"; fi');
  // This machine has apt: the PATH holds only the stubs and the core tools the script uses, so dnf is what it finds.
  for (const tool of ["bash", "mktemp", "rm", "date", "tail", "iconv", "awk", "grep", "cut", "timeout", "cat"]) {
    const real = execFileSync("bash", ["-c", `command -v ${tool}`], { encoding: "utf8" }).trim();
    if (real !== "") symlinkSync(real, path.join(bin, tool));
  }
  return { path: bin, log, state };
}

const paramsOf = (packages: { name: string; version: string }[]): Record<string, string> =>
  Object.fromEntries(encodeParameters("uninstall", { os: "linux", packages }).map((p) => [p.name, p.value]));

describe("uninstall.sh with a stubbed apt", () => {
  it("puts each package back at the given version, reports every outcome, and a re-run reports NotInstalled", async () => {
    const apt = stubApt(["openssl=3.0.2-1", "linux-image-amd64=6.1-1", "curl=7.88-1"], ["curl=7.88-1"]);
    writeFileSync(apt.state, "openssl=3.0.2-2\nlinux-image-amd64=6.1-2\ncurl=8.0-1\nbash=5.2\n");
    const params = paramsOf([
      { name: "openssl", version: "3.0.2-1" },
      { name: "linux-image-amd64", version: "6.1-1" },
      { name: "curl", version: "7.88-1" },
      { name: "bash", version: "5.2" },
      { name: "nosuch", version: "1.0" },
      { name: "zlib1g", version: "1.2" },
    ]);
    writeFileSync(apt.state, "zlib1g=1.3\n", { flag: "a" });
    const first = await runLinuxScript("uninstall", params, { path: apt.path });
    expect(first.code).toBe(0);
    // The collector's own parser accepts the document (version from the script's header).
    expect(parseScriptOutput(first.stdout, { id: "uninstall", version: "1.0.0" }).ok).toBe(true);
    const doc = UninstallOutputSchema.parse(JSON.parse(first.stdout));
    expect(doc.data.results.map((r) => [r.updateId, r.result, r.method, r.installedVersion, r.rebootRequired])).toEqual(
      [
        ["openssl", "Uninstalled", "apt", "3.0.2-1", false],
        ["linux-image-amd64", "Uninstalled", "apt", "6.1-1", true],
        ["curl", "Failed", "apt", "8.0-1", false],
        ["bash", "NotInstalled", "apt", "5.2", false],
        ["nosuch", "NotInstalled", "apt", null, false],
        ["zlib1g", "NotUninstallable", "apt", "1.3", false],
      ],
    );
    expect(doc.data.results[2]).toMatchObject({
      exitCode: 100,
      detail: expect.stringContaining("dpkg was interrupted"),
    });
    expect(doc.data.rebootRequired).toBe(true);
    // apt-get was asked to downgrade, one pin per call as one argument, and only for what needed it.
    const calls = readFileSync(apt.log, "utf8")
      .split("--\n")
      .filter((c) => c.startsWith("install"));
    expect(calls).toHaveLength(3);
    expect(calls[0]?.split("\n")).toEqual(expect.arrayContaining(["--allow-downgrades", "openssl=3.0.2-1"]));

    const again = UninstallOutputSchema.parse(
      JSON.parse((await runLinuxScript("uninstall", params, { path: apt.path })).stdout),
    );
    expect(again.data.results.map((r) => r.result)).toEqual([
      "NotInstalled",
      "NotInstalled",
      "Failed",
      "NotInstalled",
      "NotInstalled",
      "NotUninstallable",
    ]);
  });

  it("refuses the whole list when one pin is malformed or hostile, before changing anything", async () => {
    for (const bad of ["curl=7.88-1,bad pin=1", `curl=$(touch ${marker})`, `curl=1;touch ${marker}`, ""]) {
      const apt = stubApt(["curl=7.88-1"]);
      const run = await runLinuxScript("uninstall", { UpdateIds: bad }, { path: apt.path });
      const doc = UninstallOutputSchema.parse(JSON.parse(run.stdout));
      expect(doc.data.results).toEqual([]);
      expect(doc.errors).toContainEqual(expect.objectContaining({ section: "parameters", code: "invalid-parameter" }));
      expect(run.stdout).not.toContain("touch");
      expect(existsSync(apt.log) ? readFileSync(apt.log, "utf8") : "").not.toMatch(/^install$/m);
    }
    expect(existsSync(marker)).toBe(false);
  });
});

describe("uninstall.sh with a stubbed dnf", () => {
  it("downgrades to the exact version with dnf downgrade name-version", async () => {
    const dnf = stubDnf();
    writeFileSync(dnf.state, "openssl=3.0.7-25.el9\n");
    const run = await runLinuxScript("uninstall", paramsOf([{ name: "openssl", version: "3.0.7-24.el9" }]), {
      path: dnf.path,
    });
    const doc = UninstallOutputSchema.parse(JSON.parse(run.stdout));
    expect(doc.data.results).toEqual([
      expect.objectContaining({
        updateId: "openssl",
        result: "Uninstalled",
        method: "dnf",
        version: "3.0.7-24.el9",
        installedVersion: "3.0.7-24.el9",
      }),
    ]);
    const calls = readFileSync(dnf.log, "utf8").split("--\n");
    expect(calls.some((c) => c.split("\n").includes("downgrade") && c.includes("openssl-3.0.7-24.el9"))).toBe(true);
  });
});
