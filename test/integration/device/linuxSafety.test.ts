import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  InstallOutputSchema,
  RebootOutputSchema,
  SCRIPT_OUTPUT_SCHEMAS,
  ValidateOutputSchema,
  type ScriptId,
} from "../../../lib/schemas/device";
import { makeTempDir, runLinuxScript, writeStub } from "./linuxRunner";

const dir = makeTempDir("safety");
const marker = path.join(dir, "pwned");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Each would create the marker file if any shell ever evaluated the value.
const PAYLOADS = [
  `$(touch ${marker})`,
  `\`touch ${marker}\``,
  `x; touch ${marker}`,
  `x' ; touch ${marker} ; '`,
  `x" && touch ${marker} && "`,
  `x\ntouch ${marker}`,
  `x|touch ${marker}`,
];
const b64 = (s: string): string => Buffer.from(s, "utf8").toString("base64");

// A PATH whose package manager, shutdown and systemd tools are stubs that only log: nothing real can run.
function stubPath(name: string): { bin: string; log: string; path: string } {
  const bin = makeTempDir(name, dir);
  const log = path.join(bin, "calls.log");
  for (const tool of [
    "apt-get",
    "apt-cache",
    "dpkg-query",
    "shutdown",
    "systemd-run",
    "systemctl",
    "dnf",
    "yum",
    "zypper",
    "rpm",
  ]) {
    writeStub(bin, tool, `printf '%s\\n' "${tool}" "$@" "--" >> ${log}`);
  }
  writeStub(bin, "id", 'if [ "$1" = -u ]; then echo 0; else exec /usr/bin/id "$@"; fi');
  return { bin, log, path: `${bin}:/usr/bin:/bin` };
}

describe("hostile parameter values", () => {
  const cases: [ScriptId, string, number, Record<string, string>][] = [];
  PAYLOADS.forEach((p, i) => {
    cases.push(["catalog", "Simulate", i, { Simulate: p }]);
    cases.push(["install", "UpdateIds", i, { UpdateIds: `openssl=${p}` }]);
    cases.push(["install", "UpdateIds", i, { UpdateIds: p }]);
    cases.push(["reboot", "DelaySeconds", i, { DelaySeconds: p, Comment: "ok" }]);
    cases.push(["reboot", "Comment", i, { DelaySeconds: "30", Comment: p }]);
    cases.push(["validate", "Checks", i, { Checks: p }]);
    cases.push(["diagnostics", "SinceUtc", i, { SinceUtc: p, MaxEvents: "10" }]);
    cases.push(["diagnostics", "MaxEvents", i, { SinceUtc: "2026-01-20T02:00:00Z", MaxEvents: p }]);
  });

  it.each(cases)("%s refuses a hostile %s (payload %i) without running it", async (id, parameter, _payload, params) => {
    const stubs = stubPath("hostile");
    const run = await runLinuxScript(id, params, { path: stubs.path });
    expect(run.code).toBe(0);
    const doc = SCRIPT_OUTPUT_SCHEMAS[id].parse(JSON.parse(run.stdout));
    expect(doc.errors).toContainEqual(expect.objectContaining({ section: "parameters", code: "invalid-parameter" }));
    expect(doc.errors.find((e) => e.section === "parameters")?.message.startsWith(`${parameter}:`)).toBe(true);
    // The refused value is never echoed back, and no tool that changes the machine was called.
    expect(run.stdout).not.toContain("touch");
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(stubs.log) ? readFileSync(stubs.log, "utf8") : "").not.toMatch(
      /^(apt-get|shutdown|systemd-run|systemctl)$/m,
    );
  });

  it("treats hostile text inside valid checks as data: it reaches tools as one argument and is never executed", async () => {
    const p = `$(touch ${marker})\`touch ${marker}\`;touch ${marker}`;
    const record = (...f: string[]): string => f.map(b64).join(".");
    const checks = [
      record(p, p, "http", "1", "0", "2", `http://127.0.0.1:1/${p.replace(/ /g, "%20")}`, "GET", "200", p),
      record("a", "svc", "service", "1", "0", "2", p, "Running"),
      record("a", "proc", "process", "1", "0", "2", p, "1"),
      record("a", "ev", "eventlog", "1", "0", "2", p, p, "", "Error", "5", "0"),
    ].join(",");
    const stubs = stubPath("data");
    const run = await runLinuxScript("validate", { Checks: checks }, { path: stubs.path });
    const doc = ValidateOutputSchema.parse(JSON.parse(run.stdout));
    expect(doc.errors).toEqual([]);
    expect(doc.data.results.map((r) => r.success)).toEqual([false, false, false, expect.any(Boolean)]);
    expect(doc.data.results[0]).toMatchObject({ app: p, check: p });
    expect(existsSync(marker)).toBe(false);
  });
});

describe("install.sh with a stubbed package manager", () => {
  // dpkg-query answers from a state file the apt-get stub writes, so an install "happens" and a re-run sees it.
  function stubApt(): { path: string; log: string; state: string } {
    const bin = makeTempDir("apt", dir);
    const log = path.join(bin, "apt-get.log");
    const state = path.join(bin, "state");
    writeStub(
      bin,
      "dpkg-query",
      `pkg="\${@: -1}"; v=$(grep "^$pkg=" ${state} 2>/dev/null | tail -1 | cut -d= -f2-); [ -n "$v" ] && printf 'ii |%s\\n' "$v"; exit 0`,
    );
    writeStub(
      bin,
      "apt-cache",
      `case "$2" in curl=8.0-1|linux-image-amd64=6.1-1|zlib1g=9-9) exit 0;; *) exit 100;; esac`,
    );
    writeStub(
      bin,
      "apt-get",
      `printf '%s\\n' "$@" "--" >> ${log}; pin="\${@: -1}"; [ "$pin" = zlib1g=9-9 ] && exit 100; echo "$pin" >> ${state}; exit 0`,
    );
    writeStub(bin, "id", 'if [ "$1" = -u ]; then echo 0; else exec /usr/bin/id "$@"; fi');
    writeStub(bin, "shutdown", `echo shutdown >> ${log}`);
    writeStub(bin, "systemd-run", `echo systemd-run >> ${log}`);
    writeStub(bin, "systemctl", `echo systemctl >> ${log}`);
    return { path: `${bin}:/usr/bin:/bin`, log, state };
  }

  it("installs each pin as one argument, reports every outcome, and a re-run reports AlreadyInstalled", async () => {
    const apt = stubApt();
    writeFileSync(apt.state, "bash=5.2\n");
    const ids = "bash=5.2,curl=8.0-1,nosuch=1.0,linux-image-amd64=6.1-1,zlib1g=9-9";
    const first = InstallOutputSchema.parse(
      JSON.parse((await runLinuxScript("install", { UpdateIds: ids }, { path: apt.path })).stdout),
    );
    expect(first.data.results.map((r) => [r.updateId, r.version, r.result, r.rebootRequired])).toEqual([
      ["bash", "5.2", "AlreadyInstalled", false],
      ["curl", "8.0-1", "Succeeded", false],
      ["nosuch", "1.0", "NotFound", false],
      ["linux-image-amd64", "6.1-1", "Succeeded", true],
      ["zlib1g", "9-9", "Failed", false],
    ]);
    expect(first.data.results[4]?.hresult).toBe(100);
    expect(first.data.rebootRequired).toBe(true);
    const calls = readFileSync(apt.log, "utf8").split("--\n").filter(Boolean);
    expect(calls).toHaveLength(3);
    expect(calls[0]?.split("\n")).toEqual(expect.arrayContaining(["install", "-y", "curl=8.0-1"]));

    const again = InstallOutputSchema.parse(
      JSON.parse((await runLinuxScript("install", { UpdateIds: ids }, { path: apt.path })).stdout),
    );
    expect(again.data.results.map((r) => r.result)).toEqual([
      "AlreadyInstalled",
      "AlreadyInstalled",
      "NotFound",
      "AlreadyInstalled",
      "Failed",
    ]);
  });

  it("refuses the whole list when one pin is malformed, before installing anything", async () => {
    const apt = stubApt();
    const doc = InstallOutputSchema.parse(
      JSON.parse((await runLinuxScript("install", { UpdateIds: "curl=8.0-1,bad pin=1" }, { path: apt.path })).stdout),
    );
    expect(doc.data.results).toEqual([]);
    expect(doc.errors).toEqual([
      {
        section: "parameters",
        message: "UpdateIds: item 1 is not a valid name=version pin",
        code: "invalid-parameter",
      },
    ]);
    expect(existsSync(apt.log)).toBe(false);
  });
});

describe("reboot.sh with stubbed shutdown tools", () => {
  it("schedules through a stub, passing the comment as one argument, and reports the boot time before it", async () => {
    const stubs = stubPath("reboot");
    const run = await runLinuxScript(
      "reboot",
      { DelaySeconds: "90", Comment: "PatchPilot run abc-123 (ring 1)" },
      { path: stubs.path },
    );
    const doc = RebootOutputSchema.parse(JSON.parse(run.stdout));
    expect(doc.errors).toEqual([]);
    expect(doc.data.scheduled).toBe(true);
    const log = readFileSync(stubs.log, "utf8");
    if (doc.data.method === "shutdown") {
      // shutdown(8) takes minutes: 90 s rounds up to 2 minutes, and the document says so.
      expect(doc.data.delaySeconds).toBe(120);
      expect(log).toContain("shutdown\n-r\n--\n+2\nPatchPilot run abc-123 (ring 1)\n--\n");
    } else {
      expect(doc.data).toMatchObject({ method: "systemctl", delaySeconds: 90 });
      expect(log).toContain("--on-active=90s");
    }
    expect(Date.parse(doc.data.bootTimeBefore)).toBeLessThanOrEqual(Date.parse(doc.data.scheduledAt));
  });
});
