import { z } from "zod";
import { TimestampSchema } from "../common";
import { scriptOutputSchema } from "./envelope";

/**
 * `hooks` (phases 05 and 07): carries out a hook point's actions in order (stop or start a service and wait until it
 * reached the state, or run an MSP script) and reports each one. Every action runs even after one failed (a restore
 * must try every service); whether the point succeeded is each action's `ok`.
 */
export const HooksDataSchema = z.object({
  startedAt: TimestampSchema,
  finishedAt: TimestampSchema,
  actions: z
    .array(
      z.object({
        kind: z.enum(["stop", "start", "script"]),
        /** The service name, or the MSP script's name. */
        target: z.string().min(1).max(256),
        ok: z.boolean(),
        /** The service's state when the action ended (Windows Running/Stopped/...; systemd active/inactive/...). */
        state: z.string().max(100).nullable(),
        /** A script's exit code; null for services and for a script that timed out. */
        exitCode: z.number().int().nullable(),
        durationMs: z.number().int().min(0),
        detail: z.string().max(2000),
      }),
    )
    .nullable(),
});
export type HooksData = z.infer<typeof HooksDataSchema>;

export const HooksOutputSchema = scriptOutputSchema("hooks", HooksDataSchema);
export type HooksOutput = z.infer<typeof HooksOutputSchema>;
