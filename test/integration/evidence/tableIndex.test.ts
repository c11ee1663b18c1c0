import { IndexConflictError } from "../../../lib/evidence/errors";
import type { StoredArtifact } from "../../../lib/evidence/blobStore";
import { EvidenceIndex, type InstallIndexRecord } from "../../../lib/evidence/tableIndex";
import type { RunRef } from "../../../lib/schemas/common";
import { testStorage, uniqueRunId } from "../../harness/storage";

function ref(device = "WIN-IDX"): RunRef {
  return { tenant: "t-index", client: "c1", device, runId: uniqueRunId() };
}

function artifact(run: RunRef, path: string, sha = "a".repeat(64)): StoredArtifact & { merkleLeaf: boolean } {
  return {
    path,
    blobName: `${run.tenant}/${run.client}/${run.device}/${run.runId}/${path}`,
    sha256: sha,
    size: 10,
    created: true,
    merkleLeaf: true,
  };
}

function installs(n: number): InstallIndexRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    updateId: `pkg-${i}`,
    title: `package ${i}`,
    installed: true,
    result: "Succeeded",
    finishedAt: "2026-01-20T02:30:00.000Z",
    line: i + 1,
  }));
}

describe("EvidenceIndex (against Azurite)", () => {
  it("indexes a run's artifacts in one transaction and reads them back by path", async () => {
    const index = new EvidenceIndex((await testStorage()).tables);
    const run = ref();
    await index.indexArtifacts(run, [
      artifact(run, "01-init/run.json"),
      artifact(run, "02-baseline/baseline.json", "b".repeat(64)),
    ]);

    expect(index.stats.transactions).toBe(1);
    const rows = await index.readArtifacts(run.runId);
    expect([...rows.keys()].sort()).toEqual(["01-init/run.json", "02-baseline/baseline.json"]);
    expect(rows.get("02-baseline/baseline.json")).toMatchObject({ sha256: "b".repeat(64), merkleLeaf: true });
  });

  it("splits more than 100 rows of a partition into transactions of at most 100", async () => {
    const index = new EvidenceIndex((await testStorage()).tables);
    const run = ref(`DEV-${Date.now()}`);
    await index.indexInstalls(run, { path: "05-install/install-summary.jsonl", sha256: "c".repeat(64) }, installs(250));

    expect(index.stats.transactions).toBe(3);
    expect(await index.readInstalls(run.tenant, run.device)).toHaveLength(250);
  });

  it("accepts a retried index write, creating only the rows an interrupted attempt missed", async () => {
    const index = new EvidenceIndex((await testStorage()).tables);
    const run = ref();
    const all = [
      artifact(run, "01-init/run.json"),
      artifact(run, "02-baseline/baseline.json"),
      artifact(run, "03-catalog/catalog.json"),
    ];
    await index.indexArtifacts(run, all.slice(0, 1)); // the first attempt got this far

    await index.indexArtifacts(run, all);
    await index.indexArtifacts(run, all); // and once more: nothing changes

    expect((await index.readArtifacts(run.runId)).size).toBe(3);
  });

  it("refuses to change an existing index row and writes nothing of that batch", async () => {
    const index = new EvidenceIndex((await testStorage()).tables);
    const run = ref();
    await index.indexArtifacts(run, [artifact(run, "01-init/run.json", "a".repeat(64))]);

    const attempt = index.indexArtifacts(run, [
      artifact(run, "01-init/run.json", "f".repeat(64)),
      artifact(run, "02-baseline/baseline.json"),
    ]);

    await expect(attempt).rejects.toBeInstanceOf(IndexConflictError);
    const rows = await index.readArtifacts(run.runId);
    expect(rows.get("01-init/run.json")?.sha256).toBe("a".repeat(64));
    expect(rows.has("02-baseline/baseline.json")).toBe(false);
  });

  it("keys the audit index by update then run, so one KB's installs on a device are found together", async () => {
    const index = new EvidenceIndex((await testStorage()).tables);
    const device = `WIN-AUDIT-${Date.now()}`;
    const first = ref(device);
    const second = ref(device);
    const kb = (kbId: string, line: number): InstallIndexRecord => ({
      updateId: `id-${kbId}`,
      kb: kbId,
      title: kbId,
      installed: true,
      result: "Succeeded",
      finishedAt: "2026-01-20T02:30:00.000Z",
      line,
    });
    await index.indexInstalls(first, { path: "05-install/install-summary.jsonl", sha256: "d".repeat(64) }, [
      kb("KB5012345", 1),
      kb("KB5012346", 2),
    ]);
    await index.indexInstalls(second, { path: "05-install/install-summary.jsonl", sha256: "e".repeat(64) }, [
      kb("KB5012345", 1),
    ]);

    const rows = await index.readInstalls("t-index", device, "KB5012345");
    expect(rows.map((r) => r.runId).sort()).toEqual([first.runId, second.runId].sort());
    expect(rows.every((r) => r.artifactPath === "05-install/install-summary.jsonl" && r.kb === "KB5012345")).toBe(true);
  });
});
