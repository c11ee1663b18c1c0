// Run Command output is staged in append blobs the agent writes; once collect has filed their bytes as evidence
// (create-once, hashed, indexed) the staged blobs are deleted, and a collect retried after that delete rebuilds the
// same result from the status records instead of filing empty output over the evidence.
import { runPrefix } from "../../../lib/evidence/keys";
import { verifyRun } from "../../../lib/evidence/verifyRun";
import { driveRun, evidenceFor, startDemo, type DemoEnv } from "./deviceRunHarness";

let env: DemoEnv;
beforeAll(async () => {
  env = await startDemo();
});
afterAll(async () => {
  await env?.close();
});

async function stagedBlobs(prefix: string): Promise<string[]> {
  const names: string[] = [];
  for await (const blob of env.storage.staging.listBlobsFlat({ prefix })) names.push(blob.name);
  return names;
}

describe("staged Run Command output", () => {
  it.each([
    ["WIN-SERVER01", 0],
    ["FAB-SQL01", 220],
  ])("%s: gone after collection, every collect retried after the delete still succeeds (%i)", async (name, code) => {
    const device = env.devices.get(name);
    if (device === undefined) throw new Error(`no ${name}`);
    // Every advance and finish is called twice with the same input; the harness checks that the retry answers the
    // same and writes no new blob. The retry of a collecting advance finds its command still in its slot and its
    // staged output already deleted.
    const driven = await driveRun(env, device, { retryEveryCall: true });
    const staged = new Set(driven.states.flatMap((s) => s.commands.map((c) => c.handle.outputBlobName)));
    expect(driven.result.exitCode).toBe(code);
    expect((await verifyRun(evidenceFor(env), driven.input.run)).ok).toBe(true);
    // The run did stage output (its commands named their blobs) ...
    expect(staged.size).toBeGreaterThan(1);
    // ... and none of it is left in the staging container.
    expect(await stagedBlobs(runPrefix(driven.input.run))).toEqual([]);
  });
});
