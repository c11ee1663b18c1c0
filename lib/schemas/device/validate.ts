import { z } from "zod";
import { TimestampSchema } from "../common";
import { CheckResultSchema } from "../artifacts/validation";
import { scriptOutputSchema } from "./envelope";

/** `validate` (phases 04 and 08): every check it was given, with every attempt. */
export const ValidateDataSchema = z.object({
  startedAt: TimestampSchema,
  finishedAt: TimestampSchema,
  results: z.array(CheckResultSchema),
});
export type ValidateData = z.infer<typeof ValidateDataSchema>;

export const ValidateOutputSchema = scriptOutputSchema("validate", ValidateDataSchema);
export type ValidateOutput = z.infer<typeof ValidateOutputSchema>;
