import { z } from "zod";
import { TimestampSchema } from "../common";
import { scriptOutputSchema } from "./envelope";

/**
 * The outcome of one requested removal. `Uninstalled`: gone (Windows) or back at the requested version (Linux);
 * `NotInstalled`: nothing to remove (a re-run after the first removal lands here); `NotUninstallable`: the OS refuses
 * by design (a Windows servicing-stack update, a permanent package; a Linux version the repositories no longer
 * offer); `Failed`: the tool tried and failed; `NotAttempted`: the script stopped before reaching it.
 */
export const UninstallResultSchema = z.object({
  /** As requested: the KB (Windows) or the package name (Linux). */
  updateId: z.string().min(1).max(256),
  kb: z.string().optional(),
  /** Linux: the version asked for (the one the baseline recorded) and the one in place afterwards. */
  version: z.string().max(200).optional(),
  installedVersion: z.string().max(200).nullable().optional(),
  result: z.enum(["Uninstalled", "NotInstalled", "NotUninstallable", "Failed", "NotAttempted"]),
  /** The tool that did (or refused) it. */
  method: z.enum(["wusa", "dism", "apt", "dnf", "yum", "zypper", "none"]),
  /** wusa/DISM exit code (3010: success, restart needed), or the package manager's exit status. */
  exitCode: z.number().int().optional(),
  rebootRequired: z.boolean(),
  detail: z.string().max(2000).optional(),
  finishedAt: TimestampSchema,
});
export type UninstallResult = z.infer<typeof UninstallResultSchema>;

/** `uninstall` (remediation): one result per requested update, in request order. */
export const UninstallDataSchema = z.object({
  startedAt: TimestampSchema,
  finishedAt: TimestampSchema,
  results: z.array(UninstallResultSchema),
  /** Any pending-reboot signal after the removals. */
  rebootRequired: z.boolean(),
});
export type UninstallData = z.infer<typeof UninstallDataSchema>;

export const UninstallOutputSchema = scriptOutputSchema("uninstall", UninstallDataSchema);
export type UninstallOutput = z.infer<typeof UninstallOutputSchema>;
