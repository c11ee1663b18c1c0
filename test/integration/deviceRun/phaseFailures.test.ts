import { ARTIFACTS, failurePath, PHASES } from "../../../lib/domain/artifacts";
import { parseScriptHeader } from "../../../lib/device/header";
import { verifyRun } from "../../../lib/evidence/verifyRun";
import type { ExitCodeRecord } from "../../../lib/schemas/artifacts/outcome";
import type { PhaseFailure } from "../../../lib/schemas/artifacts/run";
import type { RunRef } from "../../../lib/schemas/common";
import type { ScriptRequest, ScriptResult } from "../../../local/fleet/contract";
import { arcDevice, fleetOf, ManualClock, SUB_A } from "../fleet/testFleet";
import { driveRun, evidenceFor, startRunEnv, type RunEnv } from "./deviceRunHarness";

const tags = { "patchpilot:tenant": "t1", "patchpilot:client": "c1" };
const scriptOf = (request: ScriptRequest): string | undefined => parseScriptHeader(request.script)?.id;

// The baseline prints something that is not a document (stderr says why); validate, bundled after it in the same run
// command, hangs (ARM times the command out).
function answer(request: ScriptRequest): ScriptResult {
  if (scriptOf(request) === "validate") return { kind: "hang", stdout: "collecting...", stderr: "" };
  return {
    kind: "completed",
    durationMs: 5_000,
    exitCode: 0,
    stdout: "WARNING: not a document",
    stderr: "Get-CimInstance: access denied",
  };
}

let env: RunEnv;
beforeAll(async () => {
  env = await startRunEnv(fleetOf([arcDevice("BROKEN01", tags, { answer })]), new ManualClock(), [SUB_A]);
});
afterAll(async () => {
  await env?.close();
});

async function readJson<T>(run: RunRef, path: string): Promise<T | undefined> {
  const bytes = await evidenceFor(env).store.get(run, path);
  return bytes === undefined ? undefined : (JSON.parse(bytes.toString("utf8")) as T);
}

describe("a device whose baseline output is malformed and whose validation times out", () => {
  it("stops before changing anything, records each phase failure with its transcripts, and ends in 240", async () => {
    const device = env.devices.get("BROKEN01");
    if (device === undefined) throw new Error("no BROKEN01");
    const driven = await driveRun(env, device, { retryEveryCall: true });
    const { run } = driven.input;
    expect(driven.result.exitCode).toBe(240);
    expect((await verifyRun(evidenceFor(env), run)).ok).toBe(true);

    const baseline = await readJson<PhaseFailure>(run, failurePath("baseline"));
    expect(baseline?.kind).toBe("MalformedOutput");
    const pre = await readJson<PhaseFailure>(run, failurePath("preValidation"));
    expect(pre?.kind).toBe("Timeout");
    for (const failure of [baseline, pre]) {
      expect(failure?.transcripts.some((p) => p.endsWith(".stdout.txt"))).toBe(true);
      for (const path of failure?.transcripts ?? []) expect(await evidenceFor(env).store.get(run, path)).toBeDefined();
    }
    // The raw output is kept byte for byte, stderr included.
    const stderr = baseline?.transcripts.find((p) => p.endsWith(".stderr.txt"));
    expect(stderr && (await evidenceFor(env).store.get(run, stderr))?.toString("utf8")).toBe(
      "Get-CimInstance: access denied",
    );

    const decision = await readJson<ExitCodeRecord>(run, ARTIFACTS.exitCode.path);
    expect(decision?.reasons.join("\n")).toContain(
      `${ARTIFACTS.baseline.path} is missing because the phase failed: MalformedOutput`,
    );
    // Nothing was installed and no catalog artifact was written: the catalog scan rides in the read-only first
    // command (issue 22), but the pre decision stopped the run, so only its transcript and status record are kept
    // (what ran, or here did not: the validation before it hung), never 03-catalog/catalog.json or a failure record.
    const names = await evidenceFor(env).store.listBlobNames(driven.result.evidencePrefix);
    expect(
      names.filter((n) => n.includes(`/${PHASES.catalog}/`) && !n.includes(`/${PHASES.catalog}/transcripts/`)),
    ).toEqual([]);
    expect(names.some((n) => n.includes(`/${PHASES.install}/`) || n.includes(`/${PHASES.reboot}/`))).toBe(false);
  });
});

describe("a device whose policy layers the overlay refuses", () => {
  it("records the refusal naming the field, takes no lock, sends nothing, and ends in 240 without retrying", async () => {
    const device = env.devices.get("BROKEN01");
    if (device === undefined) throw new Error("no BROKEN01");
    // A stored global layer that leaves fields unset: the effective policy would have gaps.
    await env.policies.putLayer({ schemaVersion: 1, scope: { level: "global" }, update: { deferralDays: 3 } });
    const driven = await driveRun(env, device);
    const { run } = driven.input;
    expect(driven.result.exitCode).toBe(240);
    expect(driven.activityCalls).toBe(1); // start, which also sealed it (issue 22): nothing to retry, nothing to poll
    const failure = await readJson<PhaseFailure>(run, failurePath("init"));
    expect(failure).toMatchObject({
      kind: "PolicyInvalid",
      message: expect.stringContaining("update.classifications"),
    });
    const decision = await readJson<ExitCodeRecord>(run, ARTIFACTS.exitCode.path);
    expect(decision?.reasons.join("\n")).toContain(
      `${ARTIFACTS.run.path} is missing because the phase failed: PolicyInvalid`,
    );
    expect(await env.locks.read(run.tenant, run.device)).toBeUndefined();
    expect((await verifyRun(evidenceFor(env), run)).ok).toBe(true);
  });
});
