import type { Catalog } from "../../schemas/artifacts/catalog";
import type { OsFamily } from "../../schemas/common";
import { InstallParamsSchema, type InstallParams } from "../../schemas/device/parameters";

/**
 * The `install` script's parameters for the approved entries of a catalog, in catalog order; undefined when nothing is
 * approved (the install phase is then skipped). Linux pins each package to the version the catalog recorded, so what
 * staging tested is what prod gets. Throws (ZodError) only past the script's limits (200 updates / 500 packages).
 */
export function approvedInstallParams(catalog: Catalog, os: OsFamily): InstallParams | undefined {
  const approved = catalog.updates.filter((u) => u.decision === "approved");
  if (approved.length === 0) return undefined;
  return InstallParamsSchema.parse(
    os === "windows"
      ? { os, updateIds: approved.map((u) => u.updateId) }
      : { os, packages: approved.map((u) => ({ name: u.updateId, version: u.version })) },
  );
}
