import { z } from "zod";
import { TimestampSchema } from "../common";
import { scriptOutputSchema } from "./envelope";

/** The outcome of one requested update, as the update agent reported it. */
export const InstallResultSchema = z.object({
  /** Exactly as requested: WUA update id, or Linux package name. */
  updateId: z.string().min(1).max(256),
  kb: z.string().optional(),
  title: z.string().max(2000).optional(),
  /** Linux: the version requested and installed. */
  version: z.string().max(200).optional(),
  /**
   * `AlreadyInstalled` when a re-run (after a crash or a reboot) finds the update in place; `NotFound` when the id or
   * version is no longer offered; `NotAttempted` when the script stopped before reaching it.
   */
  result: z.enum([
    "Succeeded",
    "SucceededWithErrors",
    "AlreadyInstalled",
    "Failed",
    "Aborted",
    "NotFound",
    "NotAttempted",
  ]),
  /** WUA OperationResultCode (0-5) when WUA gave one. */
  resultCode: z.number().int().min(0).max(5).optional(),
  /** HRESULT as a signed 32-bit integer (WUA), or the package manager's exit status on Linux. */
  hresult: z.number().int().optional(),
  rebootRequired: z.boolean(),
  finishedAt: TimestampSchema,
});
export type InstallResult = z.infer<typeof InstallResultSchema>;

/** `install` (phase 05): one result per requested update, in request order. */
export const InstallDataSchema = z.object({
  startedAt: TimestampSchema,
  finishedAt: TimestampSchema,
  results: z.array(InstallResultSchema),
  /** Any pending-reboot signal after the install, not only the updates' own flags. */
  rebootRequired: z.boolean(),
});
export type InstallData = z.infer<typeof InstallDataSchema>;

export const InstallOutputSchema = scriptOutputSchema("install", InstallDataSchema);
export type InstallOutput = z.infer<typeof InstallOutputSchema>;
