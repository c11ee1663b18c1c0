import { ARTIFACTS } from "../domain/artifacts";
import type { ExitCodeRecord } from "../schemas/artifacts/outcome";
import type { ReceiptFile, RunReceipt } from "../schemas/artifacts/receipt";
import type { StoredArtifact } from "./blobStore";
import { canonicalJsonBytes } from "./canonicalJson";
import { RECEIPT_FILES } from "./checkReceipt";
import type { EvidenceSession } from "./evidenceSession";
import { hashLeaf } from "./merkle";
import { sortByPath } from "./seal";
import { sha256Hex } from "./sha256";

/** Bytes of a receipt as it is stored and as it is a leaf of the tenant's log (RFC 8785 canonical JSON). */
export function receiptBytes(receipt: RunReceipt): Buffer {
  return canonicalJsonBytes(receipt);
}

/** The receipt's leaf hash in the tenant log: SHA-256(0x00 ‖ canonical receipt), RFC 6962. */
export function receiptLeafHash(receipt: RunReceipt): Buffer {
  return hashLeaf(receiptBytes(receipt));
}

/** Builds the receipt from what the run stored (pure: the caller read the rows and the decision). */
export function buildReceipt(input: {
  run: { tenant: string; client: string; device: string; runId: string };
  startedAt: string;
  sealedAt: string;
  merkleRoot: string;
  manifestSha256: string;
  exitCode: Pick<ExitCodeRecord, "exitCode" | "name">;
  files: readonly ReceiptFile[];
}): RunReceipt {
  const exitCodeFile = input.files.find((f) => f.path === ARTIFACTS.exitCode.path);
  if (exitCodeFile === undefined) throw new Error(`run ${input.run.runId}: a receipt needs exit-code.json`);
  return {
    schemaVersion: 1,
    kind: "patchpilot-run-receipt",
    tenant: input.run.tenant,
    client: input.run.client,
    device: input.run.device,
    runId: input.run.runId,
    startedAt: input.startedAt,
    sealedAt: input.sealedAt,
    merkleRoot: input.merkleRoot,
    manifestSha256: input.manifestSha256,
    exitCode: { code: input.exitCode.exitCode, name: input.exitCode.name, sha256: exitCodeFile.sha256 },
    files: sortByPath(input.files.map((f) => ({ path: f.path, sha256: f.sha256, size: f.size }))),
  };
}

/**
 * Phase 11's last write: `11-report/receipt.json`, from the index rows of the manifest, the exit code and the report
 * (the report is written from verified reads, so these rows are what was decided and reported). Create-once with
 * deterministic bytes, so a retried finish writes the same receipt.
 */
export { RECEIPT_FILES } from "./checkReceipt";

export async function writeRunReceipt(
  session: EvidenceSession,
  startedAt: string,
): Promise<{ receipt: RunReceipt; stored: StoredArtifact }> {
  const { run } = session;
  const row = async (path: string) => {
    const found = await session.lookup(path);
    if (found.status !== "found") throw new Error(`run ${run.runId}: ${path} is not indexed; no receipt is written`);
    return found.row;
  };
  const manifestRow = await row(ARTIFACTS.manifest.path);
  const files = await Promise.all(RECEIPT_FILES.map(row));
  const manifest = await session.value<{ sealedAt: string; merkle: { root: string } }>(ARTIFACTS.manifest);
  const exitCode = await session.value<ExitCodeRecord>(ARTIFACTS.exitCode);
  if (manifest === undefined || exitCode === undefined)
    throw new Error(`run ${run.runId}: the seal or the exit code cannot be read back verified; no receipt is written`);
  const receipt = buildReceipt({
    run,
    startedAt,
    sealedAt: manifest.sealedAt,
    merkleRoot: manifest.merkle.root,
    manifestSha256: manifestRow.sha256,
    exitCode,
    files,
  });
  const stored = await session.put(ARTIFACTS.receipt, receipt);
  await session.index([{ ...stored, merkleLeaf: false }]);
  return { receipt, stored };
}

/** SHA-256 of the stored receipt (what the Runs row and the CloudEvent carry). */
export function receiptSha256(receipt: RunReceipt): string {
  return sha256Hex(receiptBytes(receipt));
}
