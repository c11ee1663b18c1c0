import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { parseScriptOutput } from "../../../lib/device/parseScriptOutput";
import { BaselineOutputSchema, CatalogOutputSchema, DiagnosticsOutputSchema } from "../../../lib/schemas/device";
import { makeTempDir, runLinuxScript, writeStub } from "./linuxRunner";

const hasSystemd = existsSync("/run/systemd/system");
const hasApt = existsSync("/usr/bin/apt-get");

describe("baseline.sh on this machine", () => {
  it("re-executes itself under bash when Run Command starts it with sh, and prints one valid document", async () => {
    const run = await runLinuxScript("baseline", {}, { shell: "sh" });
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split("\n")).toHaveLength(1);
    const doc = BaselineOutputSchema.parse(JSON.parse(run.stdout));
    expect(doc.scriptVersion).toBe("1.0.0");
    expect(doc.data.os).toMatchObject({
      family: "linux",
      build: execFileSync("uname", ["-r"], { encoding: "utf8" }).trim(),
    });
    expect(doc.data.drivers).toEqual([]);
    expect(doc.data.disks?.length).toBeGreaterThan(0);
    expect(Date.parse(doc.data.lastBootTime ?? "")).toBeLessThanOrEqual(Date.now());
    expect(doc.data.pendingReboot?.pending).toBe(existsSync("/var/run/reboot-required"));
  });

  it("lists installed packages with versions as both installed updates and apps", async () => {
    const doc = BaselineOutputSchema.parse(JSON.parse((await runLinuxScript("baseline", {})).stdout));
    if (!hasApt) return;
    const bash = execFileSync("dpkg-query", ["-W", "-f", "${Version}", "bash"], { encoding: "utf8" });
    expect(doc.data.installedUpdates).toContainEqual({ id: "bash", version: bash });
    expect(doc.data.apps).toContainEqual({ name: "bash", version: bash });
  });

  it("reports services it cannot collect as null plus an error, never as an empty list", async () => {
    const doc = BaselineOutputSchema.parse(JSON.parse((await runLinuxScript("baseline", {})).stdout));
    if (hasSystemd) {
      expect(doc.data.services?.length).toBeGreaterThan(0);
    } else {
      expect(doc.data.services).toBeNull();
      expect(doc.errors).toContainEqual(expect.objectContaining({ section: "services", code: "not-available" }));
    }
  });
});

describe("baseline.sh: another package manager at work (issue 21: 170, never a race)", () => {
  const lock = "/var/lib/dpkg/lock-frontend";

  it("reports nothing installing on a quiet machine", async () => {
    const doc = BaselineOutputSchema.parse(JSON.parse((await runLinuxScript("baseline", {})).stdout));
    expect(doc.errors.filter((e) => e.section === "installInProgress")).toEqual([]);
    expect(doc.data.installInProgress).toEqual({ busy: false });
  });

  it("names the process holding dpkg's lock, as fuser reports it", async () => {
    if (!existsSync(lock)) return; // not a dpkg machine: the fuser path cannot be exercised here
    const dir = makeTempDir("fuser");
    // fuser prints the pids on stdout (the file name and access letters go to stderr); this test's own pid exists.
    writeStub(
      dir,
      "fuser",
      `if [ "$1" = "${lock}" ]; then printf ' ${process.pid}'; echo "$1: " >&2; exit 0; fi; exit 1`,
    );
    const run = await runLinuxScript(
      "baseline",
      {},
      { path: `${dir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` },
    );
    const doc = BaselineOutputSchema.parse(JSON.parse(run.stdout));
    const comm = readFileSync(`/proc/${process.pid}/comm`, "utf8").trim();
    expect(doc.data.installInProgress).toEqual({
      busy: true,
      by: `lock ${lock}`,
      detail: `held by ${comm} (pid ${process.pid})`,
    });
  });
});

describe("catalog.sh in simulate mode", () => {
  it("lists candidates without refreshing the package lists", async () => {
    const lists = "/var/lib/apt/lists";
    const before = existsSync(lists) ? statSync(lists).mtimeMs : 0;
    const run = await runLinuxScript("catalog", { Simulate: "true" });
    expect(run.code).toBe(0);
    const parsed = parseScriptOutput(run.stdout, { id: "catalog", version: "1.0.0" });
    if (!parsed.ok) throw new Error(parsed.failure.message);
    expect(parsed.output.data.simulate).toBe(true);
    expect(existsSync(lists) ? statSync(lists).mtimeMs : 0).toBe(before);
    if (!hasApt) return;
    expect(parsed.output.data.agent).toBe("apt");
    for (const update of parsed.output.data.updates ?? []) {
      expect(update.version).toBeDefined();
      expect(["Security", "Other"]).toContain(update.classification);
      expect(update.severity).toBeNull();
    }
  });

  it("refuses a Simulate value other than true/false and searches nothing", async () => {
    const doc = CatalogOutputSchema.parse(JSON.parse((await runLinuxScript("catalog", { Simulate: "yes" })).stdout));
    expect(doc.data.updates).toBeNull();
    expect(doc.errors).toEqual([
      { section: "parameters", message: "Simulate: must be true or false", code: "invalid-parameter" },
    ]);
  });
});

describe("diagnostics.sh on this machine", () => {
  it("collects what it can since the given time", async () => {
    const run = await runLinuxScript("diagnostics", { SinceUtc: "2020-01-01T00:00:00Z", MaxEvents: "5" });
    expect(run.code).toBe(0);
    const doc = DiagnosticsOutputSchema.parse(JSON.parse(run.stdout));
    expect(doc.data.disks?.length).toBeGreaterThan(0);
    expect((doc.data.eventLogErrors ?? []).length).toBeLessThanOrEqual(5);
    expect((doc.data.updateAgentErrors ?? []).length).toBeLessThanOrEqual(5);
    for (const section of ["eventLogErrors", "updateAgentErrors"] as const) {
      if (doc.data[section] === null) expect(doc.errors.map((e) => e.section)).toContain(section);
    }
  });

  it("refuses a malformed SinceUtc or MaxEvents but still reports disks", async () => {
    const doc = DiagnosticsOutputSchema.parse(
      JSON.parse((await runLinuxScript("diagnostics", { SinceUtc: "2020-01-01 00:00:00", MaxEvents: "501" })).stdout),
    );
    expect(doc.data.eventLogErrors).toBeNull();
    expect(doc.data.disks?.length).toBeGreaterThan(0);
    expect(doc.errors.map((e) => e.message.split(":")[0])).toEqual(["SinceUtc", "MaxEvents"]);
  });
});
