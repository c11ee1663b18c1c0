import { existsSync, rmSync } from "node:fs";
import path from "node:path";
import { evaluateGates } from "../../../lib/domain/gates/evaluateGates";
import { encodeProbes } from "../../../lib/device/parameters";
import { parseScriptOutput } from "../../../lib/device/parseScriptOutput";
import type { GatesParams } from "../../../lib/schemas/device";
import { makeTempDir, runLinuxScript } from "./linuxRunner";

// gates.sh run for real by bash: the MSP's probe scripts execute as programs, and what the script prints is parsed by
// the collector's own parser and judged by the backend's gate rules. The backup provider is `date` itself, so the
// timestamp format the gate accepts is the one GNU date prints, not one written by this test.

const dir = makeTempDir("gates");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Probe = GatesParams["probes"][number];
const bash = (name: string, script: string, timeoutSeconds = 20): Probe => ({
  name,
  shell: "bash",
  script,
  timeoutSeconds,
});

async function gates(probes: Probe[] | string) {
  const run = await runLinuxScript("gates", { Probes: typeof probes === "string" ? probes : encodeProbes(probes) });
  expect(run.code).toBe(0);
  const parsed = parseScriptOutput(run.stdout, { id: "gates", version: "1.0.0" });
  if (!parsed.ok) throw new Error(`${parsed.failure.kind}: ${parsed.failure.message}\n${run.stdout}`);
  return parsed.output;
}

const backupPolicy = {
  backup: { maxAgeHours: 26, provider: { linux: { sha256: "0".repeat(64), text: "x", timeoutSeconds: 20 } } },
};

function judgeBackup(probes: Awaited<ReturnType<typeof gates>>["data"]["probes"]) {
  return evaluateGates(backupPolicy, {
    os: "linux",
    baseline: undefined,
    probes,
    refused: new Set(),
    provenance: {},
    now: new Date(),
  }).results[0];
}

describe("gates.sh under bash", () => {
  it("runs each probe and keeps its exit code and only the first line of its stdout", async () => {
    const doc = await gates([
      bash("backup", "date -u +%Y-%m-%dT%H:%M:%SZ\necho 'password=hunter2'"),
      bash("custom.ok", "exit 0"),
      bash("custom.bad", "echo not ready >&2\nexit 3"),
    ]);
    expect(doc.errors).toEqual([]);
    const [backup, ok, bad] = doc.data.probes ?? [];
    expect(backup?.exitCode).toBe(0);
    expect(backup?.answer).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(JSON.stringify(doc)).not.toContain("hunter2");
    expect(ok).toMatchObject({ name: "custom.ok", exitCode: 0, timedOut: false });
    expect(bad).toMatchObject({ name: "custom.bad", exitCode: 3, answer: "" });
  });

  it("a fresh backup from the real provider passes the gate; one 72 hours old fails it", async () => {
    const fresh = await gates([bash("backup", "date -u +%Y-%m-%dT%H:%M:%SZ")]);
    expect(judgeBackup(fresh.data.probes)?.verdict).toBe("pass");
    const stale = await gates([bash("backup", "date -u -d '72 hours ago' +%Y-%m-%dT%H:%M:%SZ")]);
    const judged = judgeBackup(stale.data.probes);
    expect(judged?.verdict).toBe("fail");
    expect(judged?.detail).toMatch(/\(72(\.\d)? h ago\); at most 26 h allowed/);
  });

  it("a provider that fails, prints no timestamp or hangs is could-not-look, never a pass", async () => {
    const failing = await gates([bash("backup", "echo 'agent down'\nexit 2")]);
    expect(judgeBackup(failing.data.probes)?.verdict).toBe("could-not-look");
    const garbage = await gates([bash("backup", "echo yesterday")]);
    expect(judgeBackup(garbage.data.probes)?.verdict).toBe("could-not-look");
    const hanging = await gates([bash("backup", "sleep 30", 1)]);
    expect(hanging.data.probes?.[0]).toMatchObject({ exitCode: null, timedOut: true });
    expect(judgeBackup(hanging.data.probes)?.verdict).toBe("could-not-look");
  });

  it("refuses a malformed probe list whole, before running any probe", async () => {
    const marker = path.join(dir, "ran");
    const good = encodeProbes([bash("custom.touch", `touch '${marker}'`)]);
    const doc = await gates(`${good},not-base64!.x.y.z`);
    expect(doc.data.probes).toBeNull();
    expect(doc.errors).toEqual([expect.objectContaining({ section: "parameters", code: "invalid-parameter" })]);
    expect(existsSync(marker)).toBe(false);
    const badName = Buffer.from("../x").toString("base64");
    const rest = ["bash", "5", "exit 0"].map((f) => Buffer.from(f).toString("base64")).join(".");
    expect((await gates(`${badName}.${rest}`)).data.probes).toBeNull();
  });

  it("reports an empty list as no probes", async () => {
    expect((await gates([])).data.probes).toEqual([]);
  });
});
