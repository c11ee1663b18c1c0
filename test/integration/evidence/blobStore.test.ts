import { EvidenceStore } from "../../../lib/evidence/blobStore";
import { EvidenceConflictError, isStatus } from "../../../lib/evidence/errors";
import { artifactBlobName } from "../../../lib/evidence/keys";
import { sha256Hex } from "../../../lib/evidence/sha256";
import type { RunRef } from "../../../lib/schemas/common";
import { testStorage, uniqueRunId } from "../../harness/storage";

function ref(): RunRef {
  return { tenant: "t-store", client: "c1", device: "WIN-01", runId: uniqueRunId() };
}

describe("EvidenceStore (write-once, against Azurite)", () => {
  it("stores an artifact with its SHA-256 in metadata under the tenant/client/device/run path", async () => {
    const clients = await testStorage();
    const store = new EvidenceStore(clients.evidence);
    const run = ref();
    const bytes = Buffer.from('{"a":1}');
    const stored = await store.put(run, "02-baseline/baseline.json", bytes, "application/json");

    expect(stored).toMatchObject({ created: true, sha256: sha256Hex(bytes), size: 7 });
    expect(stored.blobName).toBe(`t-store/c1/WIN-01/${run.runId}/02-baseline/baseline.json`);
    const props = await clients.evidence.getBlobClient(stored.blobName).getProperties();
    expect(props.metadata?.sha256).toBe(sha256Hex(bytes));
    expect(props.contentType).toBe("application/json");
  });

  it("accepts a retried write of identical bytes without writing again", async () => {
    const clients = await testStorage();
    const store = new EvidenceStore(clients.evidence);
    const run = ref();
    const bytes = Buffer.from("same bytes");
    const first = await store.put(run, "05-install/install-summary.jsonl", bytes, "application/x-ndjson");
    const etag = (await clients.evidence.getBlobClient(first.blobName).getProperties()).etag;

    const retry = await store.put(run, "05-install/install-summary.jsonl", bytes, "application/x-ndjson");

    expect(retry).toMatchObject({ created: false, sha256: first.sha256 });
    expect((await clients.evidence.getBlobClient(first.blobName).getProperties()).etag).toBe(etag);
  });

  it("refuses different bytes under an existing name and leaves the blob unchanged", async () => {
    const clients = await testStorage();
    const store = new EvidenceStore(clients.evidence);
    const run = ref();
    const original = Buffer.from('{"TotalRegressions":1}');
    const stored = await store.put(run, "08-post-validation/regressions.json", original, "application/json");

    const attempt = store.put(
      run,
      "08-post-validation/regressions.json",
      Buffer.from('{"TotalRegressions":0}'),
      "application/json",
    );

    await expect(attempt).rejects.toBeInstanceOf(EvidenceConflictError);
    await expect(attempt).rejects.toMatchObject({ existingSha256: sha256Hex(original) });
    expect((await store.get(run, "08-post-validation/regressions.json"))?.equals(original)).toBe(true);
    expect(stored.created).toBe(true);
  });

  it("keeps write-once locally even with the immutability switch on, because Azurite ignores immutability", async () => {
    const clients = await testStorage();
    const store = new EvidenceStore(clients.evidence, { immutabilityDays: 400 });
    const run = ref();
    const stored = await store.put(run, "02-baseline/baseline.json", Buffer.from("v1"), "application/json");

    // Azurite answers 501 to the immutability API, so the WORM guarantee cannot come from it here...
    const blob = clients.evidence.getBlobClient(stored.blobName);
    const setPolicy = blob.setImmutabilityPolicy({
      expiriesOn: new Date(Date.now() + 86_400_000),
      policyMode: "Unlocked",
    });
    await expect(
      setPolicy.then(
        () => "accepted",
        (e: unknown) => (isStatus(e, 501) ? "501" : e),
      ),
    ).resolves.toBe("501");
    // ...and a plain overwrite through the SDK succeeds on Azurite: nothing but our conditional create stops it.
    const name = artifactBlobName(run, "02-baseline/scratch.json");
    await clients.evidence.getBlockBlobClient(name).uploadData(Buffer.from("a"));
    await clients.evidence.getBlockBlobClient(name).uploadData(Buffer.from("b"));
    expect((await clients.evidence.getBlockBlobClient(name).downloadToBuffer()).toString()).toBe("b");

    await expect(
      store.put(run, "02-baseline/baseline.json", Buffer.from("v2"), "application/json"),
    ).rejects.toBeInstanceOf(EvidenceConflictError);
    expect((await store.get(run, "02-baseline/baseline.json"))?.toString()).toBe("v1");
  });

  it("reads a missing artifact as undefined and lets other storage errors through", async () => {
    const clients = await testStorage();
    const store = new EvidenceStore(clients.evidence);
    expect(await store.get(ref(), "02-baseline/nothing.json")).toBeUndefined();
    const missingContainer = new EvidenceStore(clients.blobService.getContainerClient("no-such-container"));
    // 404 ContainerNotFound is also a 404: absent evidence, not an error to hide. Anything else would propagate.
    expect(await missingContainer.get(ref(), "x.json")).toBeUndefined();
  });
});
