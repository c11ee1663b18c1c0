import { z } from "zod";
import { TimestampSchema } from "../common";
import { HooksDataSchema } from "../device/hooks";
import { ScriptSourceSchema } from "./source";

/**
 * `05-install/hooks-pre-install.json` and `07-post-snapshot/hooks-always.json` (issue 20): what a hook point did on the
 * device, action by action (its transcript is sealed beside it under the same phase's transcripts/). `ok` only when
 * the device reported every action and each one succeeded; a script whose text did not hash to the policy's SHA-256
 * was not sent and is listed in `refused`.
 */
export const HookReportSchema = z.object({
  schemaVersion: z.literal(1),
  point: z.enum(["preInstall", "always"]),
  recordedAt: TimestampSchema,
  ok: z.boolean(),
  /** False when the device's output was unusable (the command timed out, was cut off, printed no document). */
  reported: z.boolean(),
  actions: z.array(z.object({ ...HooksDataSchema.shape.actions.unwrap().element.shape })),
  refused: z.array(z.string()),
  /** The policy layer that set the point (run.json's policyProvenance `hooks.<point>`). */
  setBy: z.string().optional(),
  source: ScriptSourceSchema.optional(),
});
export type HookReport = z.infer<typeof HookReportSchema>;
