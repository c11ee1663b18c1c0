import { z } from "zod";
import { TimestampSchema } from "../common";
import { HooksDataSchema } from "../device/hooks";
import { HOOK_POINTS } from "../hooksPolicy";
import { ScriptSourceSchema } from "./source";

/**
 * `05-install/hooks-pre-install.json`, `05-install/hooks-post-install.json`, `07-post-snapshot/hooks-post-reboot.json`,
 * `07-post-snapshot/hooks-on-failure.json` and `07-post-snapshot/hooks-always.json` (issue 20): what a hook point did
 * on the device, action by action (its transcript is sealed beside it under the same phase's transcripts/). `ok` only when
 * the device reported every action and each one succeeded; a script whose text did not hash to the policy's SHA-256
 * was not sent and is listed in `refused`.
 */
export const HookReportSchema = z.object({
  schemaVersion: z.literal(1),
  point: z.enum(HOOK_POINTS),
  recordedAt: TimestampSchema,
  ok: z.boolean(),
  /** False when the device's output was unusable (the command timed out, was cut off, printed no document). */
  reported: z.boolean(),
  actions: z.array(z.object({ ...HooksDataSchema.shape.actions.unwrap().element.shape })),
  refused: z.array(z.string()),
  /** The policy layer that set the point (run.json's policyProvenance `hooks.<point>`). */
  setBy: z.string().optional(),
  source: ScriptSourceSchema.optional(),
  /**
   * Run by the orchestrator's failure path (the run was given up before its post stage): `ran` when the hooks
   * command was collected, `notRun` with why when it could not be (agent unreachable, the machine busy past the
   * deadline): never silent.
   */
  failurePath: z
    .object({ failure: z.string().max(2000), notRun: z.string().max(2000).optional() })
    .strict()
    .optional(),
});
export type HookReport = z.infer<typeof HookReportSchema>;
