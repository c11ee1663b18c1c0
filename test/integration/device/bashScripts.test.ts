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

describe("catalog.sh severity and release date from the package manager", () => {
  // section_updates run for real against stub package managers that print what the real ones print.
  const script = readLinuxScript("catalog");
  const bin = makeTempDir("catalog");
  afterAll(() => rmSync(bin, { recursive: true, force: true }));
  const functions = ["list_apt_candidates", "list_rpm_candidates", "list_zypper_candidates", "section_updates"]
    .map((name) => bashFunction(script, name))
    .join("\n");
  const harness = (pm: string, simulate: string): string => `${commonBlock(script)}
${functions}
PP_TMP=$(mktemp -d); PM=${pm}; SIMULATE=${simulate}
section_updates`;

  interface Update {
    updateId: string;
    classification: string;
    severity: string | null;
    releaseDate: string | null;
    version: string;
    currentVersion: string | null;
  }
  const run = async (pm: string, simulate: string, env: Record<string, string>): Promise<Update[]> =>
    JSON.parse(
      (await bash(harness(pm, simulate), { ...env, PATH: `${bin}:/usr/bin:/bin` })).toString("utf8"),
    ) as Update[];

  it("dnf: severity from the security advisory's label, release date from the advisory's Updated field", async () => {
    // dnf 4 formats (rpm-software-management/dnf, dnf/cli/commands/updateinfo.py at 003e278b): `updateinfo list`
    // prints '%s%-*s %-*s %s' % (mark, id, label, NEVRA), label "<Severity>/Sec." for security advisories and the
    // type otherwise, NEVRA with the epoch only when it is not 0; `updateinfo info` prints '%*s : %s' lines padded to
    // the longest label ("Description"), "Updated" being the advisory's datetime. `check-update` prints
    // "name.arch  [epoch:]version-release  repo" columns after a blank line and exits 100 when updates exist.
    writeStub(
      bin,
      "dnf",
      `case "$*" in
  *check-update*) printf '%s\\n' "$CHECK"; exit 100 ;;
  *"updateinfo list"*) printf '%s\\n' "$LIST" ;;
  *"updateinfo info"*) printf '%s\\n' "$INFO" ;;
esac`,
    );
    writeStub(bin, "rpm", `printf '%s\\n' "$INSTALLED"`);
    const updates = await run("dnf", "true", {
      CHECK: [
        "",
        "openssl.x86_64                      1:3.0.7-27.el9             rhel-9-for-x86_64-baseos-rpms",
        "tzdata.noarch                       2024a-1.el9                rhel-9-for-x86_64-baseos-rpms",
        "less.x86_64                         590-4.el9_4                rhel-9-for-x86_64-baseos-rpms",
        "vim-minimal.x86_64                  2:8.2.2637-21.el9          rhel-9-for-x86_64-baseos-rpms",
      ].join("\n"),
      LIST: [
        "RHBA-2024:2500 bugfix         tzdata-2024a-1.el9.noarch",
        "RHSA-2024:2447 Important/Sec. openssl-1:3.0.7-27.el9.x86_64",
        "RHSA-2024:2448 Moderate/Sec.  openssl-1:3.0.7-27.el9.x86_64",
        "RHSA-2024:3501 Unknown/Sec.   less-590-4.el9_4.x86_64",
      ].join("\n"),
      INFO: [
        "=".repeat(79),
        "  Important: openssl security update",
        "=".repeat(79),
        "  Update ID : RHSA-2024:2447",
        "       Type : security",
        "    Updated : 2024-04-30 09:12:55",
        "       CVEs : CVE-2023-5678",
        "Description : The OpenSSL toolkit provides support for secure communications.",
        "   Severity : Important",
        "",
        "=".repeat(79),
        "  tzdata bug fix and enhancement update",
        "=".repeat(79),
        "  Update ID : RHBA-2024:2500",
        "       Type : bugfix",
        "    Updated : 2024-02-06 00:00:00",
        "Description : The tzdata packages contain data files with rules for various time zones.",
        "   Severity : None",
        "",
      ].join("\n"),
      INSTALLED: "openssl\t1:3.0.7-25.el9_3\ntzdata\t2023c-1.el9\nless\t590-2.el9\nvim-minimal\t2:8.2.2637-20.el9",
    });
    const by = new Map(updates.map((u) => [u.updateId, u]));
    expect(by.get("openssl")).toMatchObject({
      classification: "Security",
      severity: "Important",
      releaseDate: "2024-04-30T09:12:55Z",
      version: "1:3.0.7-27.el9",
      currentVersion: "1:3.0.7-25.el9_3",
    });
    expect(by.get("tzdata")).toMatchObject({
      classification: "Other",
      severity: null,
      releaseDate: "2024-02-06T00:00:00Z",
    });
    expect(by.get("less")).toMatchObject({ classification: "Security", severity: null, releaseDate: null });
    expect(by.get("vim-minimal")).toMatchObject({ classification: "Other", severity: null, releaseDate: null });
  });

  it("apt: release date from the candidate's changelog trailer (not in simulate mode), no severity", async () => {
    // `apt-get -s dist-upgrade` "Inst name [current] (candidate origin [arch])" rows; `apt-cache show` stanzas;
    // `apt-get changelog` prints the Debian changelog, whose entries end with " -- name <email>  <date>", the date in
    // RFC 5322 form (Debian Policy 4.4, debian/changelog). A package with no current version is a new dependency.
    writeStub(
      bin,
      "apt-get",
      `case "$*" in
  *dist-upgrade*) printf '%s\\n' "$INST" ;;
  *changelog*openssl=*) printf '%s\\n' "$CHANGELOG" ;;
  *changelog*) exit 100 ;;
esac`,
    );
    writeStub(bin, "apt-cache", `printf '%s\\n' "$SHOW"`);
    const env = {
      INST: [
        "Inst openssl [3.0.11-1~deb12u1] (3.0.11-1~deb12u2 Debian-Security:12/stable-security [amd64])",
        "Inst libnew1 (1.0-1 Debian:12.5/stable [amd64])",
      ].join("\n"),
      SHOW: "Package: openssl\nVersion: 3.0.11-1~deb12u2\nSize: 1421224\n\nPackage: libnew1\nVersion: 1.0-1\nSize: 2048\n",
      CHANGELOG: [
        "openssl (3.0.11-1~deb12u2) bookworm-security; urgency=medium",
        "",
        "  * CVE-2023-5678 (Excessive time spent in DH check / generation with large Q",
        "    parameter value).",
        "",
        " -- Sebastian Andrzej Siewior <sebastian@breakpoint.cc>  Sat, 21 Oct 2023 18:44:04 +0200",
        "",
        "openssl (3.0.11-1~deb12u1) bookworm; urgency=medium",
        "",
        " -- Sebastian Andrzej Siewior <sebastian@breakpoint.cc>  Tue, 19 Sep 2023 21:09:03 +0200",
      ].join("\n"),
    };
    const updates = await run("apt", "false", env);
    const by = new Map(updates.map((u) => [u.updateId, u]));
    expect(by.get("openssl")).toMatchObject({
      classification: "Security",
      severity: null,
      releaseDate: "2023-10-21T16:44:04Z",
      currentVersion: "3.0.11-1~deb12u1",
      version: "3.0.11-1~deb12u2",
    });
    expect(by.get("libnew1")).toMatchObject({ currentVersion: null, version: "1.0-1", releaseDate: null });
    // Simulate mode does not download changelogs.
    const simulated = await run("apt", "true", env);
    expect(simulated.map((u) => u.releaseDate)).toEqual([null, null]);
  });
});

describe("baseline.sh listening ports", () => {
  // The section against a stubbed ss printing `ss -Hltn` rows as iproute2's ss prints them (iproute2 6.1, Debian 12:
  // "State Recv-Q Send-Q Local-Address:Port Peer-Address:Port", IPv6 in brackets, a scope as %iface).
  const script = readLinuxScript("baseline");
  const bin = makeTempDir("ss");
  afterAll(() => rmSync(bin, { recursive: true, force: true }));
  writeStub(bin, "ss", `printf '%s\\n' "$SS"`);
  const harness = `${commonBlock(script)}
${bashFunction(script, "section_listening_ports")}
PP_TMP=$(mktemp -d)
section_listening_ports`;

  it("reports each listening address and port once", async () => {
    const ss = [
      "LISTEN 0      4096   127.0.0.53%lo:53        0.0.0.0:*",
      "LISTEN 0      128          0.0.0.0:22        0.0.0.0:*",
      "LISTEN 0      128             [::]:22           [::]:*",
      "LISTEN 0      511                *:80              *:*",
    ].join("\n");
    const out = await bash(harness, { SS: ss, PATH: `${bin}:/usr/bin:/bin` });
    expect(JSON.parse(out.toString("utf8"))).toEqual([
      { protocol: "tcp", port: 80, address: "*" },
      { protocol: "tcp", port: 22, address: "0.0.0.0" },
      { protocol: "tcp", port: 53, address: "127.0.0.53%lo" },
      { protocol: "tcp", port: 22, address: "[::]" },
    ]);
  });
});
