import { ARTIFACTS } from "../domain/artifacts";
import type { ExitCodeRecord } from "../schemas/artifacts/outcome";
import type { ReceiptFile, RunReceipt } from "../schemas/artifacts/receipt";
import type { StoredArtifact } from "./blobStore";
import { canonicalJsonBytes } from "./canonicalJson";
import type { EvidenceSession } from "./evidenceSession";
import { hashLeaf } from "./merkle";
import { sortByPath } from "./seal";
import { sha256Hex } from "./sha256";

/** The files of the report phase a receipt commits to, besides the sealed root. */
export const RECEIPT_FILES = [ARTIFACTS.exitCode.path, ARTIFACTS.finalReport.path, ARTIFACTS.reportHtml.path] as const;

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

/**
 * Problems of a stored receipt against the run's index and seal: it names the run, the manifest's root, the manifest's
 * hash and the hash of every file it commits to (empty when it holds). The rows are the index's; the caller has
 * already checked each file's bytes against its row.
 */
export function checkReceipt(
  receipt: RunReceipt,
  run: { tenant: string; client: string; device: string; runId: string },
  merkleRoot: string,
  rowSha256: (path: string) => string | undefined,
): string[] {
  const problems: string[] = [];
  const named = `${receipt.tenant}/${receipt.client}/${receipt.device}/${receipt.runId}`;
  if (named !== `${run.tenant}/${run.client}/${run.device}/${run.runId}`)
    problems.push(`receipt.json is the receipt of ${named}, not of this run`);
  if (receipt.merkleRoot !== merkleRoot)
    problems.push(`receipt.json commits to Merkle root ${receipt.merkleRoot}, manifest.json's is ${merkleRoot}`);
  const manifestSha = rowSha256(ARTIFACTS.manifest.path);
  if (manifestSha !== receipt.manifestSha256)
    problems.push(`receipt.json commits to manifest.json ${receipt.manifestSha256}, it is ${manifestSha ?? "absent"}`);
  const committed = new Map(receipt.files.map((f) => [f.path, f.sha256]));
  for (const path of RECEIPT_FILES) {
    const sha = rowSha256(path);
    if (committed.get(path) !== sha)
      problems.push(
        `receipt.json commits to ${path} ${committed.get(path) ?? "(not listed)"}, it is ${sha ?? "absent"}`,
      );
  }
  if (committed.get(ARTIFACTS.exitCode.path) !== receipt.exitCode.sha256)
    problems.push("receipt.json's exit code hash is not the one it lists for exit-code.json");
  return problems;
}
