import type { CatalogEntry } from "../../schemas/artifacts/catalog";
import type { OsFamily } from "../../schemas/common";
import { PackagePinSchema, WuaUpdateIdSchema } from "../../schemas/device/parameters";

/** Why the install script could not be asked for this entry, or undefined when it can. */
export function uninstallableReason(
  entry: Pick<CatalogEntry, "updateId" | "version">,
  os: OsFamily,
): string | undefined {
  if (os === "windows") {
    return WuaUpdateIdSchema.safeParse(entry.updateId).success
      ? undefined
      : "not installable: the update id is not a WUA update id (GUID)";
  }
  if (entry.version === undefined) return "not installable: the package has no candidate version to pin";
  return PackagePinSchema.safeParse({ name: entry.updateId, version: entry.version }).success
    ? undefined
    : "not installable: the package name or version has characters the install script refuses";
}
