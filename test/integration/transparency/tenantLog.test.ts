import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { BlobServiceClient, ContainerClient } from "@azure/storage-blob";
import { merkleRootFromLeafHashes } from "../../../lib/evidence/merkle";
import { receiptLeafHash } from "../../../lib/evidence/receipt";
import type { RunReceipt } from "../../../lib/schemas/artifacts/receipt";
import { verifyConsistency } from "../../../lib/transparency/consistency";
import { openNote, parseCheckpoint, parseVerifierKey } from "../../../lib/transparency/note";
import { ed25519FileKey } from "../../../lib/transparency/signingKey";
import { LogConflictError, TenantLog } from "../../../lib/transparency/tenantLog";
import { localCheckpointContainerUrl } from "../../../local/run/checkpointContainer";
import { testConfig, testStorage } from "../../harness/storage";

const dir = mkdtempSync(path.join(os.tmpdir(), "pp-tlog-"));
let n = 0;
const tenant = (): string => `tlog-${process.pid}-${(n += 1)}`;

function receipt(t: string, i: number): RunReceipt {
  const hex = (c: string): string => c.repeat(64).slice(0, 64);
  return {
    schemaVersion: 1,
    kind: "patchpilot-run-receipt",
    tenant: t,
    client: "fabrikam",
    device: `DEV-${i}`,
    runId: `r20260120-${i.toString(16).padStart(8, "0")}`,
    startedAt: "2026-01-20T01:00:00.000Z",
    sealedAt: "2026-01-20T02:00:00.000Z",
    merkleRoot: hex("a"),
    manifestSha256: hex("b"),
    exitCode: { code: 0, name: "Success", sha256: hex("c") },
    files: [{ path: "11-report/exit-code.json", sha256: hex("c"), size: 10 }],
  };
}

async function openLog(options: { checkpoints?: ContainerClient } = {}): Promise<TenantLog> {
  const storage = await testStorage();
  return new TenantLog({
    table: storage.tables.transparency,
    key: ed25519FileKey(path.join(dir, "key.pem")),
    originPrefix: "patchpilot.test/log",
    ...options,
  });
}

describe("the per-tenant transparency log (Azurite)", () => {
  it("appends receipts as RFC 6962 leaves and signs a C2SP checkpoint of each tree the published key verifies", async () => {
    const log = await openLog();
    const t = tenant();
    const receipts = [0, 1, 2, 3, 4].map((i) => receipt(t, i));
    for (const [i, r] of receipts.entries()) expect(await log.append(r)).toMatchObject({ index: i, size: i + 1 });
    const latest = await log.latest(t);
    const verifier = parseVerifierKey(await log.verifierKey(t));
    const opened = openNote(latest?.note as string, [verifier]);
    if (!opened.ok) throw new Error(opened.problem);
    const cp = parseCheckpoint(opened.text);
    expect(cp.origin).toBe(`patchpilot.test/log/${t}`);
    expect(cp.size).toBe(5);
    expect(cp.root.equals(merkleRootFromLeafHashes(receipts.map(receiptLeafHash)))).toBe(true);
    expect(verifier.name).toBe(cp.origin);
  });

  it("a retried append adds no second leaf; the same run with another receipt is refused", async () => {
    const log = await openLog();
    const t = tenant();
    const first = await log.append(receipt(t, 0));
    await log.append(receipt(t, 1));
    expect(await log.append(receipt(t, 0))).toEqual(first);
    expect((await log.latest(t))?.size).toBe(2);
    await expect(
      log.append({ ...receipt(t, 0), exitCode: { ...receipt(t, 0).exitCode, code: 210, name: "InstallFailure" } }),
    ).rejects.toBeInstanceOf(LogConflictError);
    expect((await log.leaves(t, 2)).map((l) => l.index)).toEqual([0, 1]);
  });

  it("serialises 24 concurrent appends (two log instances) into one tree with every run once, each checkpoint consistent with the next", async () => {
    const [a, b] = [await openLog(), await openLog()];
    const t = tenant();
    const receipts = Array.from({ length: 24 }, (_, i) => receipt(t, i));
    const entries = await Promise.all(receipts.map((r, i) => (i % 2 === 0 ? a : b).append(r)));
    expect(entries.map((e) => e.index).sort((x, y) => x - y)).toEqual(receipts.map((_, i) => i));
    const leaves = await a.leaves(t, 24);
    expect(new Set(leaves.map((l) => l.leafHash)).size).toBe(24);
    const verifier = parseVerifierKey(await a.verifierKey(t));
    let previous: { size: number; root: Buffer } | undefined;
    for (let size = 1; size <= 24; size++) {
      const opened = openNote((await a.checkpoint(t, size))?.note as string, [verifier]);
      if (!opened.ok) throw new Error(opened.problem);
      const cp = parseCheckpoint(opened.text);
      expect(
        cp.root.equals(merkleRootFromLeafHashes(leaves.slice(0, size).map((l) => Buffer.from(l.leafHash, "hex")))),
      ).toBe(true);
      if (previous !== undefined) {
        const proof = (await a.consistency(t, previous.size, size)).map((h) => Buffer.from(h, "hex"));
        expect(verifyConsistency(previous.size, size, previous.root, cp.root, proof)).toBe(true);
      }
      previous = { size, root: cp.root };
    }
  });

  it("publishes every checkpoint create-once in its own container through a create-only SAS", async () => {
    const config = testConfig();
    const cs = config.evidence.account.kind === "connectionString" ? config.evidence.account.connectionString : "";
    const url = await localCheckpointContainerUrl(cs);
    const log = await openLog({ checkpoints: new ContainerClient(url) });
    const t = tenant();
    await log.append(receipt(t, 0));
    await log.append(receipt(t, 1));
    await log.append(receipt(t, 0)); // retried: publishes size 1 again, same bytes
    const admin = BlobServiceClient.fromConnectionString(cs).getContainerClient("checkpoints");
    const names: string[] = [];
    for await (const blob of admin.listBlobsFlat({ prefix: `${t}/` })) names.push(blob.name);
    expect(names).toEqual([`${t}/checkpoint-000000000001.txt`, `${t}/checkpoint-000000000002.txt`]);
    const published = (await admin.getBlobClient(names[1] as string).downloadToBuffer()).toString("utf8");
    expect(published).toBe((await log.latest(t))?.note);
    // The SAS cannot delete what was published.
    await expect(new ContainerClient(url).deleteBlob(names[0] as string)).rejects.toMatchObject({ statusCode: 403 });
  });
});
