import { z } from "zod";

/** The jobs a device script does; one script per job and OS. */
export const ScriptIdSchema = z.enum([
  "baseline",
  "catalog",
  "install",
  "reboot",
  "validate",
  "diagnostics",
  "gates",
  "hooks",
]);
export type ScriptId = z.infer<typeof ScriptIdSchema>;

/** Semantic version of a script's text (`major.minor.patch`); a new major means a new output contract. */
export const SemverSchema = z.string().regex(/^\d+\.\d+\.\d+$/, "must be a semantic version like 1.0.0");

/** One section of a script that failed; the other sections still report. */
export const ScriptErrorSchema = z.object({
  /** The data field the failure affected (e.g. `services`, `pendingReboot`), or `parameters` / `script`. */
  section: z.string().min(1).max(100),
  message: z.string().max(4000),
  /** Machine-readable cause where there is one: `not-available`, `invalid-parameter`, `timeout`, an HRESULT as hex. */
  code: z.string().max(100).optional(),
});
export type ScriptError = z.infer<typeof ScriptErrorSchema>;

/**
 * The one JSON document every device script prints on stdout. `data` is the script's contract; a section that failed
 * is `null` in `data` and explained in `errors`. Exit code 0 means "a document was produced", not "all went well".
 */
export function scriptOutputSchema<const Id extends ScriptId, D extends z.ZodType>(scriptId: Id, data: D) {
  return z.object({
    schemaVersion: z.literal(1),
    scriptId: z.literal(scriptId),
    scriptVersion: SemverSchema,
    data,
    errors: z.array(ScriptErrorSchema),
  });
}
