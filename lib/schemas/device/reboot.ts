import { z } from "zod";
import { TimestampSchema } from "../common";
import { scriptOutputSchema } from "./envelope";

/**
 * `reboot` (phase 06): a restart was scheduled. The backend proves it happened by a later baseline whose
 * `lastBootTime` is after `bootTimeBefore`.
 */
export const RebootDataSchema = z.object({
  bootTimeBefore: TimestampSchema,
  scheduledAt: TimestampSchema,
  delaySeconds: z.number().int().min(0).max(600),
  /** `shutdown.exe` on Windows; `shutdown` or `systemctl` on Linux. */
  method: z.string().max(50),
  /** False when scheduling failed (then `errors` says why), or when it was not requested (`requested: false`). */
  scheduled: z.boolean(),
  /**
   * Issue 22: false when the reboot section of an install's run command found no "reboot required" marker from the
   * install: nothing was scheduled, and that is not a failure. Absent (older scripts) or true: the restart was asked.
   */
  requested: z.boolean().optional(),
});
export type RebootData = z.infer<typeof RebootDataSchema>;

export const RebootOutputSchema = scriptOutputSchema("reboot", RebootDataSchema);
export type RebootOutput = z.infer<typeof RebootOutputSchema>;
