import { z } from "zod";
import { TimestampSchema } from "../common";
import { scriptOutputSchema } from "./envelope";

/**
 * One applicable update as the device's update agent describes it, unfiltered and unmapped: the backend maps raw
 * classification and severity names to policy terms (lib/device) and applies the UpdatePolicy (lib/domain).
 */
export const ApplicableUpdateSchema = z.object({
  /** Windows: WUA `Identity.UpdateID` (GUID); Linux: package name. */
  updateId: z.string().min(1).max(256),
  /** Windows: WUA `Identity.RevisionNumber`. */
  revision: z.number().int().min(0).optional(),
  /** Windows: `KB` + the first of `KBArticleIDs`. */
  kb: z.string().optional(),
  title: z.string().max(2000),
  /** Windows: the `UpdateClassification` category name (e.g. "Security Updates"); Linux: "Security" or "Other". */
  classification: z.string().max(200),
  /** Windows: `MsrcSeverity` (empty for most non-security updates); Linux: null. */
  severity: z.string().max(50).nullable(),
  /** Windows: `LastDeploymentChangeTime`; Linux: the candidate's changelog/build date when known, else null. */
  releaseDate: TimestampSchema.nullable(),
  sizeBytes: z.number().int().min(0).optional(),
  /** Linux: the installed version (null when not installed) and the candidate version to install. */
  currentVersion: z.string().max(200).nullable().optional(),
  version: z.string().max(200).optional(),
  /** Linux: repository/origin of the candidate (e.g. "Debian-Security:12/stable-security"). */
  source: z.string().max(500).optional(),
  /** WUA `InstallationBehavior.RebootBehavior` by name; Linux: "CanRequestReboot" for kernels/libc, else "NeverReboots". */
  rebootBehavior: z.enum(["NeverReboots", "AlwaysRequiresReboot", "CanRequestReboot"]),
});
export type ApplicableUpdate = z.infer<typeof ApplicableUpdateSchema>;

/** `catalog` (phase 03): applicable updates. */
export const CatalogDataSchema = z.object({
  searchedAt: TimestampSchema,
  /** `wua` on Windows; the package manager detected on Linux. */
  agent: z.enum(["wua", "apt", "dnf", "yum", "zypper"]).nullable(),
  /** Linux: true when the package lists were not refreshed (simulate mode; changes nothing on the device). */
  simulate: z.boolean(),
  updates: z.array(ApplicableUpdateSchema).nullable(),
});
export type CatalogData = z.infer<typeof CatalogDataSchema>;

export const CatalogOutputSchema = scriptOutputSchema("catalog", CatalogDataSchema);
export type CatalogOutput = z.infer<typeof CatalogOutputSchema>;
