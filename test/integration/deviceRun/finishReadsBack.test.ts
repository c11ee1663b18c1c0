// Issue 22: the advance that ends a run also seals it. What that same call stored (create-once, verified by the write)
// is not read back from storage by the finish; what earlier calls stored is read back once, verified, because it could
// have changed in storage since. Counted as the requests leave for Azurite (Node's HTTP client diagnostics channel).
import { makeAdvanceDeviceRun } from "../../../functions/activities/advanceDeviceRun";
import { makePublishRunEvents } from "../../../functions/activities/publishRunEvents";
import { makeStartDeviceRun } from "../../../functions/activities/startDeviceRun";
import { buildRunEvents } from "../../../lib/azure/events/buildEvents";
import type { PatchCloudEvent } from "../../../lib/azure/events/eventData";
import { buildRunEventData } from "../../../lib/azure/events/readRunEventData";
import { withTransparency } from "../../../lib/azure/events/runEventData";
import { RUN_EVENT_DATA_PATH } from "../../../lib/azure/events/sealedRunEventData";
import { ARTIFACTS } from "../../../lib/domain/artifacts";
import { artifactBlobName } from "../../../lib/evidence/keys";
import { openEvidenceSession } from "../../../lib/evidence/evidenceSession";
import { sha256Hex } from "../../../lib/evidence/sha256";
import { verifyRun } from "../../../lib/evidence/verifyRun";
import type { ExitCodeRecord } from "../../../lib/schemas/artifacts/outcome";
import type { DeviceRunState } from "../../../lib/schemas/deviceRun";
import { countEvidenceRequests, EvidenceRequestTally } from "../../../local/run/storageRequests";
import { depsFor, driveRun, evidenceFor, runInputFor, startDemo, type DemoEnv } from "./deviceRunHarness";

let env: DemoEnv;
beforeAll(async () => {
  env = await startDemo();
});
afterAll(async () => {
  await env?.close();
});

const portOf = (url: string): string => new URL(url).port;
const POST_FOLDERS = ["07-post-snapshot", "08-post-validation", "09-diagnostics"];
const EARLIER_FOLDERS = ["01-init", "02-baseline", "03-catalog", "04-pre-validation", "05-install"];

function tallyRequests(): { tally: EvidenceRequestTally; stop: () => void } {
  const tally = new EvidenceRequestTally();
  const stop = countEvidenceRequests(
    { blob: portOf(env.storage.evidence.url), table: portOf(env.storage.tables.artifacts.url) },
    tally.add,
  );
  return { tally, stop };
}

const storedPaths = (state: DeviceRunState | undefined): string[] => (state?.stored ?? []).map((r) => r.path);

describe("the finish in the advance that ended the run", () => {
  it("reads back what earlier calls stored once each, and nothing the ending call stored itself", async () => {
    // A Linux run whose boot probe proves the reboot at once: the call that collects the probe with the post
    // command's sections (lib/deviceRun/probeWithPost.ts) records them and ends the run.
    const device = env.devices.get("fab-lnx01");
    if (device === undefined) throw new Error("no fab-lnx01 in the demo");
    const { tally, stop } = tallyRequests();
    let driven;
    try {
      driven = await driveRun(env, device);
    } finally {
      stop();
    }
    expect(driven.result.exitCode).toBe(0);
    // The post artifacts were stored by the call that ended the run (absent from the state before it).
    const before = storedPaths(driven.states.at(-2));
    const after = storedPaths(driven.states.at(-1));
    for (const spec of [ARTIFACTS.snapshot, ARTIFACTS.postValidation, ARTIFACTS.diagnostics]) {
      expect(before).not.toContain(spec.path);
      expect(after).toContain(spec.path);
    }
    const getsIn = (folder: string): number =>
      tally.all.filter((r) => r.kind === "blob GET" && r.folder === folder).length;
    // Written and then decided on in the same call: served from what the call wrote.
    for (const folder of POST_FOLDERS) expect([folder, getsIn(folder)]).toEqual([folder, 0]);
    // Written by earlier calls: one verified read each by the finish (run.json, baseline, catalog, pre-validation,
    // install summary), shared by the seal, the exit code, the report and the event data.
    for (const folder of EARLIER_FOLDERS) expect([folder, getsIn(folder)]).toEqual([folder, 1]);
    // What the finish decided on is what storage holds: an auditor's verification, from storage, agrees.
    const verified = await verifyRun(evidenceFor(env), driven.input.run);
    expect(verified.ok).toBe(true);
  });

  it("still reads what an earlier call stored from storage: an artifact altered since is caught before the exit code", async () => {
    // The pre-validation report is stored by the pre stage's advance, an earlier call than the one that ends the run
    // (which collects the post sections and the stability probe with the boot probe: lib/deviceRun/probeWithPost.ts).
    const device = env.devices.get("WIN-SERVER01");
    if (device === undefined) throw new Error("no WIN-SERVER01 in the demo");
    const evidence = evidenceFor(env);
    const deps = depsFor(env, evidence);
    const start = makeStartDeviceRun(deps);
    const advance = makeAdvanceDeviceRun(deps);
    const input = runInputFor(env, device);
    const now = (): string => env.clock.now().toISOString();
    let state = await start({ input, now: now() });
    const path = ARTIFACTS.preValidation.path;
    let altered = false;
    for (let i = 0; state.stage !== "done"; i += 1) {
      if (i >= 200) throw new Error(`still in stage ${state.stage}`);
      const wait = Date.parse(state.nextCheckAt) - env.clock.now().getTime();
      if (wait > 0) env.clock.advance(wait);
      state = await advance({ input, state, now: now() });
      if (!altered && state.stage !== "done" && storedPaths(state).includes(path)) {
        // Replaced in storage behind the run's back (the write-once condition bypassed, as a storage admin could).
        const ref = state.stored.find((r) => r.path === path);
        const blob = env.storage.evidence.getBlockBlobClient(ref?.blobName ?? "");
        const original = JSON.parse((await blob.downloadToBuffer()).toString("utf8")) as Record<string, unknown>;
        await blob.uploadData(Buffer.from(JSON.stringify({ ...original, altered: true })));
        altered = true;
      }
    }
    expect(altered).toBe(true);
    // The run was sealed by its ending advance, on what storage held then.
    expect(state.finished?.exitCode).toBe(240);
    const session = evidenceFor(env);
    const recordBytes = await session.store.get(input.run, ARTIFACTS.exitCode.path);
    const record = JSON.parse(recordBytes?.toString("utf8") ?? "{}") as ExitCodeRecord;
    expect(record.artifactsRead.find((r) => r.path === path)?.status).toBe("hash-mismatch");
  });
});

describe("the publish, given the sealed event data's reference by the finish", () => {
  it("publishes what the evidence says even when that blob was altered after the finish, or the reference is wrong", async () => {
    const device = env.devices.get("fab-lnx01");
    if (device === undefined) throw new Error("no fab-lnx01 in the demo");
    const driven = await driveRun(env, device);
    const eventData = driven.result.eventData;
    if (eventData === undefined) throw new Error("the finish returned no event data reference");
    const { run } = driven.input;
    const evidence = evidenceFor(env);
    // The reference is the blob the finish wrote: the source outside the code is the blob's own bytes.
    const blob = env.storage.evidence.getBlockBlobClient(artifactBlobName(run, RUN_EVENT_DATA_PATH));
    const original = await blob.downloadToBuffer();
    expect(eventData).toEqual({ sha256: sha256Hex(original), size: original.byteLength });
    // What the run's events must say: built again from its evidence in a fresh session.
    const at = env.clock.now().toISOString();
    const fresh = openEvidenceSession(evidenceFor(env), run);
    const rebuilt = await buildRunEventData(fresh, { facts: { trigger: driven.input.trigger, dryRun: false }, at });
    const expected = buildRunEvents(withTransparency(rebuilt.data, await fresh.deps.log?.find(run)));

    const publishWith = async (ref: typeof eventData): Promise<PatchCloudEvent[]> => {
      const sent: PatchCloudEvent[] = [];
      const publish = makePublishRunEvents({
        evidence,
        publisher: { send: (events) => Promise.resolve(void sent.push(...events)) },
      });
      await publish({ run, trigger: driven.input.trigger, dryRun: false, at, eventData: ref });
      return sent;
    };
    expect(await publishWith(eventData)).toEqual(expected);
    // A reference that does not match the blob: the copy is not believed, the data is built from the evidence.
    expect(await publishWith({ ...eventData, sha256: "0".repeat(64) })).toEqual(expected);
    // The blob altered behind the run's back (schema-valid, claiming a regression): not published.
    const altered = { ...(JSON.parse(original.toString("utf8")) as Record<string, unknown>), exitCode: 220 };
    await blob.uploadData(Buffer.from(JSON.stringify(altered)));
    const sent = await publishWith(eventData);
    expect(sent).toEqual(expected);
    expect(JSON.stringify(sent)).not.toContain('"exitCode":220');
  });
});
