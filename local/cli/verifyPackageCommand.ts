import { existsSync } from "node:fs";
import path from "node:path";
import { formatPackageVerification, PackageUnreadableError, verifyPackage } from "../../lib/export/verifyPackage";

/**
 * `patchpilot verify --package FILE`: verifies an export package offline (no network, no Azure). Prints every
 * problem, the first bad file on the first line. Returns 0 when it verifies, 1 when it does not, 2 when the file is
 * absent or not a readable zip.
 */
export async function runVerifyPackageCommand(zipPath: string, log: (line: string) => void): Promise<number> {
  if (!existsSync(zipPath)) {
    log(`${zipPath}: no such file`);
    return 2;
  }
  try {
    const result = await verifyPackage(zipPath);
    log(formatPackageVerification(result, path.basename(zipPath)));
    return result.ok ? 0 : 1;
  } catch (error) {
    if (!(error instanceof PackageUnreadableError)) throw error;
    log(error.message);
    return 2;
  }
}
