import { createEvidenceDeps } from "../../../lib/evidence/createEvidenceDeps";
import { findRunRef } from "../../../lib/evidence/findRun";
import { toTableKey } from "../../../lib/evidence/keys";
import type { RunRef } from "../../../lib/schemas/common";
import { writeSampleRun } from "../../../local/demo/sampleRun";
import { testConfig, testStorage, uniqueRunId } from "../../harness/storage";

describe("findRunRef (operator tooling: a run id to its folder)", () => {
  it("finds the folder the run's rows name, not one a forged row names (even when it sorts first)", async () => {
    const config = testConfig();
    const storage = await testStorage(config);
    const deps = createEvidenceDeps(config, storage);
    const run: RunRef = { tenant: "t-find", client: "acme", device: "WIN-01", runId: uniqueRunId("find") };
    await writeSampleRun(deps, run);
    // A row of the same run id pointing at the same run id in another tenant's folder, first in key order.
    const path = "00-aaa/first.json";
    await storage.tables.artifacts.createEntity({
      partitionKey: run.runId,
      rowKey: toTableKey(path),
      path,
      blobName: `t-other/beta/WIN-01/${run.runId}/${path}`,
      sha256: "0".repeat(64),
      size: 1,
      merkleLeaf: false,
    });

    expect(await findRunRef(deps.index, run.runId)).toEqual(run);
    expect(await findRunRef(deps.index, uniqueRunId("none"))).toBeUndefined();
  });
});
