import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { formatPackageVerification, PackageUnreadableError, verifyPackage } from "../../lib/export/verifyPackage";

/**
 * `patchpilot verify --package FILE [--checkpoint FILE] [--key PUBKEY]`: verifies an export package offline (no network,
 * no Azure), anchored to a checkpoint and key obtained outside the package when given. Prints every
 * problem, the first bad file on the first line. Returns 0 when it verifies, 1 when it does not, 2 when the file is
 * absent or not a readable zip.
 */
export async function runVerifyPackageCommand(
  zipPath: string,
  log: (line: string) => void,
  anchor: { checkpoint?: string; key?: string } = {},
): Promise<number> {
  for (const file of [zipPath, anchor.checkpoint]) {
    if (file !== undefined && !existsSync(file)) {
      log(`${file}: no such file`);
      return 2;
    }
  }
  // --key is the verifier key itself (name+id+base64) or a file holding it.
  const key =
    anchor.key === undefined
      ? undefined
      : existsSync(anchor.key)
        ? readFileSync(anchor.key, "utf8").trim()
        : anchor.key;
  try {
    const result = await verifyPackage(zipPath, {
      ...(anchor.checkpoint === undefined ? {} : { checkpoint: readFileSync(anchor.checkpoint, "utf8") }),
      ...(key === undefined ? {} : { key }),
    });
    log(formatPackageVerification(result, path.basename(zipPath)));
    return result.ok ? 0 : 1;
  } catch (error) {
    if (!(error instanceof PackageUnreadableError)) throw error;
    log(error.message);
    return 2;
  }
}
