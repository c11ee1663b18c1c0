import { execFile, execFileSync } from "node:child_process";
import { readdirSync, rmSync } from "node:fs";
import { parseScriptHeader } from "../../../lib/device/header";
import { ScriptIdSchema } from "../../../lib/schemas/device";
import { bashFunction, commonBlock, LINUX_SCRIPTS, makeTempDir, readLinuxScript, writeStub } from "./linuxRunner";

const ids = ScriptIdSchema.options;

/** Runs a bash program with the given environment and returns stdout as raw bytes (also when it exits non-zero). */
function bash(program: string, env: Record<string, string> = {}): Promise<Buffer> {
  return new Promise((resolve) => {
    execFile(
      "bash",
      ["-c", program],
      { env: { PATH: "/usr/bin:/bin", ...env }, encoding: "buffer" },
      (_error, stdout) => resolve(stdout),
    );
  });
}

describe("Linux scripts as files", () => {
  it("has one script per job", () => {
    expect(readdirSync(LINUX_SCRIPTS).sort()).toEqual(ids.map((id) => `${id}.sh`).sort());
  });

  it.each(ids)("%s.sh has a shebang, its header on line 2, strict mode, and valid bash syntax", (id) => {
    const text = readLinuxScript(id);
    expect(text.startsWith("#!/bin/bash\n")).toBe(true);
    expect(parseScriptHeader(text)).toEqual({ id, version: "1.0.0" });
    expect(text).toContain("set -euo pipefail");
    // Comments may say "never eval"; code may not use it.
    const code = text.split("\n").map((line) => line.replace(/(^|\s)#.*$/, ""));
    expect(code.join("\n")).not.toMatch(/\beval\b/);
    execFileSync("bash", ["-n", `${LINUX_SCRIPTS}/${id}.sh`]);
  });

  it("copies the common helpers byte for byte into every script", () => {
    expect(new Set(ids.map((id) => commonBlock(readLinuxScript(id)))).size).toBe(1);
  });
});

describe("json_str", () => {
  const jsonStr = bashFunction(readLinuxScript("validate"), "json_str");
  const encode = async (value: string): Promise<string> =>
    (
      await bash(`set -euo pipefail; export LC_ALL=C; ${jsonStr}\njson_str "$V"; printf '%s' "$REPLY"`, { V: value })
    ).toString("utf8");

  const hostile = [
    "plain",
    '"quoted" \\ back\\slash \\"',
    "new\nline\r\ttab\bbell\u0007\f",
    Array.from({ length: 31 }, (_, i) => String.fromCharCode(i + 1)).join(""),
    "é ü ß 中文 😀 \u2028 \u2029",
    "$(touch /tmp/x) `id` ; | & < > '",
    "\u007f del and \\u0041 literal",
    "",
  ];

  it.each(hostile.map((v) => [JSON.stringify(v), v] as const))(
    "encodes %s so JSON.parse returns it unchanged",
    async (_label, value) => {
      expect(JSON.parse(await encode(value))).toBe(value);
    },
  );

  it("keeps the whole document valid UTF-8 when a value holds invalid bytes", async () => {
    const script = readLinuxScript("validate");
    // A check name with a lone 0xFF byte travels base64-encoded, as any name does.
    const name = Buffer.concat([Buffer.from("bad"), Buffer.from([0xff]), Buffer.from("name")]).toString("base64");
    const record = [
      Buffer.from("a").toString("base64"),
      name,
      ...["tcp", "1", "0", "1", "127.0.0.1", "1"].map((f) => Buffer.from(f).toString("base64")),
    ];
    const out = await bash(script, { Checks: record.join(".") });
    const doc = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(out)) as {
      data: { results: { check: string }[] };
    };
    expect(doc.data.results[0]?.check).toBe("badname");
  });
});

describe("diagnostics.sh journal reading", () => {
  // The journal section, run against a stubbed journalctl: this machine may have no journal to read.
  const script = readLinuxScript("diagnostics");
  const bin = makeTempDir("journal");
  afterAll(() => rmSync(bin, { recursive: true, force: true }));
  writeStub(bin, "journalctl", `printf '%s\\n' "$JOURNAL"`);
  const harness = `${commonBlock(script)}
journal_available() { return 0; }
${bashFunction(script, "section_event_log_errors")}
SINCE_LOCAL='2026-01-01 00:00:00'; MAX=10
section_event_log_errors`;

  it("copies journalctl's JSON strings and converts its microsecond times to ISO UTC", async () => {
    const entries = [
      {
        __REALTIME_TIMESTAMP: "1768874400123456",
        PRIORITY: "3",
        SYSLOG_IDENTIFIER: "nginx",
        _SYSTEMD_UNIT: "nginx.service",
        MESSAGE: 'bind() "0.0.0.0:80" failed\n\\ é',
      },
      { __REALTIME_TIMESTAMP: "951782400000000", PRIORITY: "2", _COMM: "kernel-ish", MESSAGE: [104, 105] },
    ];
    const out = await bash(harness, {
      JOURNAL: entries.map((e) => JSON.stringify(e)).join("\n"),
      PATH: `${bin}:/usr/bin:/bin`,
    });
    expect(JSON.parse(out.toString("utf8"))).toEqual([
      {
        log: "nginx.service",
        source: "nginx",
        id: 0,
        level: "Error",
        time: "2026-01-20T02:00:00Z",
        message: 'bind() "0.0.0.0:80" failed\n\\ é',
      },
      { log: "journal", source: "kernel-ish", id: 0, level: "Critical", time: "2000-02-29T00:00:00Z", message: "" },
    ]);
  });
});

describe("diagnostics.sh service restarts", () => {
  // The section against a stubbed systemctl, in the formats systemd prints (systemd 252, Debian 12):
  // `systemctl list-units --type=service --all --no-legend --plain` prints "UNIT LOAD ACTIVE SUB DESCRIPTION" rows;
  // `systemctl show -p Id -p NRestarts <units>` prints one key=value block per unit, blocks separated by an empty
  // line (systemctl(1), "show"), service properties (NRestarts) before unit properties (Id).
  const script = readLinuxScript("diagnostics");
  const bin = makeTempDir("systemctl");
  afterAll(() => rmSync(bin, { recursive: true, force: true }));
  writeStub(
    bin,
    "systemctl",
    `case "$1" in list-units) printf '%s\\n' "$UNITS" ;; show) printf '%s\\n' "$SHOW" ;; esac`,
  );
  const harness = `${commonBlock(script)}
systemd_running() { return 0; }
${bashFunction(script, "section_service_restarts")}
PP_TMP=$(mktemp -d)
section_service_restarts`;

  it("reports units systemd restarted since boot, by unit name, and nothing for units never restarted", async () => {
    const units = [
      "cron.service                 loaded active running Regular background program processing daemon",
      "nginx.service                loaded failed failed  A high performance web server and a reverse proxy server",
      "postgresql@15-main.service   loaded active running PostgreSQL Cluster 15-main",
    ].join("\n");
    const show = [
      "NRestarts=0\nId=cron.service",
      "NRestarts=5\nId=nginx.service",
      "NRestarts=1\nId=postgresql@15-main.service",
    ].join("\n\n");
    const out = await bash(harness, { UNITS: units, SHOW: show, PATH: `${bin}:/usr/bin:/bin` });
    expect(JSON.parse(out.toString("utf8"))).toEqual([
      { service: "nginx", restarts: 5 },
      { service: "postgresql@15-main", restarts: 1 },
    ]);
  });

  it("reports [] when no service unit is listed", async () => {
    const out = await bash(harness, { UNITS: "", SHOW: "", PATH: `${bin}:/usr/bin:/bin` });
    expect(JSON.parse(out.toString("utf8"))).toEqual([]);
  });
});
