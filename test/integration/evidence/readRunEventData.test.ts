import { makePublishRunEvents } from "../../../functions/activities/publishRunEvents";
import { buildRunEvents } from "../../../lib/azure/events/buildEvents";
import type { PatchCloudEvent } from "../../../lib/azure/events/eventData";
import { readRunEventData } from "../../../lib/azure/events/readRunEventData";
import { computeExitCode } from "../../../lib/deviceRun/computeExitCode";
import { ARTIFACTS } from "../../../lib/domain/artifacts";
import { createEvidenceDeps } from "../../../lib/evidence/createEvidenceDeps";
import { openEvidenceSession } from "../../../lib/evidence/evidenceSession";
import type { RunRef } from "../../../lib/schemas/common";
import { at, writeSampleRun, type SampleScenario } from "../../../local/demo/sampleRun";
import { testConfig, testStorage, uniqueRunId } from "../../harness/storage";

// readRunEventData is the session-based builder publishRunEvents is to switch to: for the same evidence it must give
// exactly the events the activity sends today, and it must read each artifact once.

describe("readRunEventData (run event data through the run's evidence session)", () => {
  it.each<[string, SampleScenario]>([
    ["success", {}],
    ["regression", { regression: true }],
    ["failed install", { failedKb: "KB5012346" }],
  ])("gives the events publishRunEvents sends for a %s run", async (_name, scenario) => {
    const config = testConfig();
    const storage = await testStorage(config);
    const deps = createEvidenceDeps(config, storage);
    const run: RunRef = { tenant: "t-events", client: "acme", device: "WIN-01", runId: uniqueRunId("ev") };
    await writeSampleRun(deps, run, scenario);
    await computeExitCode(deps, { run, decidedAt: at(57) });
    const sent: PatchCloudEvent[] = [];
    const publish = makePublishRunEvents({
      evidence: deps,
      publisher: { send: (events) => Promise.resolve(void sent.push(...events)) },
    });
    const trigger = { kind: "demo" as const };
    const beforePublish = deps.store.stats.blobReads;
    await publish({ run, trigger, dryRun: false, at: at(58) });
    const publishReads = deps.store.stats.blobReads - beforePublish;

    const session = openEvidenceSession(deps, run);
    const reads = deps.store.stats.blobReads;
    const data = await readRunEventData(session, { facts: { trigger, dryRun: false }, at: at(58) });
    const firstPass = deps.store.stats.blobReads - reads;
    await readRunEventData(session, { facts: { trigger, dryRun: false }, at: at(58) });

    expect(buildRunEvents(data)).toEqual(sent);
    expect(data.evidence.artifacts.map((a) => a.path)).toContain(ARTIFACTS.exitCode.path);
    // No more blob reads than the activity's own code: absent artifacts are not probed.
    expect(firstPass).toBeLessThanOrEqual(publishReads);
    // The same session again reads nothing more: one verified read per artifact serves every builder.
    expect(deps.store.stats.blobReads - reads).toBe(firstPass);
  });
});
