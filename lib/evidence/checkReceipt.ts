import { ARTIFACTS } from "../domain/artifacts";
import type { RunReceipt } from "../schemas/artifacts/receipt";

/** The files of the report phase a receipt commits to, besides the sealed root. */
export const RECEIPT_FILES = [ARTIFACTS.exitCode.path, ARTIFACTS.finalReport.path, ARTIFACTS.reportHtml.path] as const;

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
