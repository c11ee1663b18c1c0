import { verifyRun } from "../../../lib/evidence/verifyRun";
import { describeRun, driveRun, evidenceFor, startDemo, type DemoEnv, type DrivenRun } from "./deviceRunHarness";

let env: DemoEnv;
beforeAll(async () => {
  env = await startDemo();
});
afterAll(async () => {
  await env?.close();
});

const runs: DrivenRun[] = [];
afterAll(() => {
  console.log(`device runs with every activity call retried:\n${runs.map(describeRun).join("\n")}`);
});

describe("every activity call retried with the same input (at-least-once)", () => {
  // A reboot, an install failure, a VMSS rollback, a disconnect mid-install, a Never reboot policy, lock contention.
  it.each([
    ["WIN-SERVER01", 0],
    ["FAB-APP01", 210],
    ["fabwebvm000001", 210],
    ["tspapi000001", 0],
    ["ADT-DC01", 150],
    ["ADT-PRINT01", 170],
  ])("%s: same answers, no new blob, same exit code (%i)", async (name, code) => {
    const device = env.devices.get(name);
    if (device === undefined) throw new Error(`no ${name}`);
    const driven = await driveRun(env, device, { retryEveryCall: true, deleteCollectedBeforeRetry: true });
    runs.push(driven);
    expect(driven.retried).toBe(driven.activityCalls);
    expect(driven.result.exitCode).toBe(code);
    expect((await verifyRun(evidenceFor(env), driven.input.run)).ok).toBe(true);
    // Runs that collected commands had retries find them deleted and rebuild from the status records.
    if (code !== 170) expect(driven.rebuiltFromEvidence).toBeGreaterThan(0);
  });

  // Commands are not deleted after collection (each step's slot is updated in place by its next execution): a retry
  // finds the collected command still there and collects the same bytes again.
  it.each([
    ["WNG-WEB01", 0],
    ["FAB-SQL01", 220],
  ])("%s, commands left in their slots: same answers, no new blob, same exit code (%i)", async (name, code) => {
    const device = env.devices.get(name);
    if (device === undefined) throw new Error(`no ${name}`);
    const driven = await driveRun(env, device, { retryEveryCall: true });
    runs.push(driven);
    expect(driven.retried).toBe(driven.activityCalls);
    expect(driven.result.exitCode).toBe(code);
    expect((await verifyRun(evidenceFor(env), driven.input.run)).ok).toBe(true);
  });
});

it("installs no update twice on any device, retries included", () => {
  expect(env.fleet.devices.some((d) => d.state.installRecords.length > 0)).toBe(true);
  for (const device of env.fleet.devices) {
    const keys = device.state.installRecords.map((r) => r.update.key);
    expect({ device: device.name, duplicates: keys.filter((k, i) => keys.indexOf(k) !== i) }).toEqual({
      device: device.name,
      duplicates: [],
    });
  }
});
