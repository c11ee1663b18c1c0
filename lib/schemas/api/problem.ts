import { z } from "zod";

/** One field an RFC 9457 problem blames: where it is (`body.device`, `query.kb`, `path.tenant`) and why. */
export const FieldErrorSchema = z.object({ field: z.string(), reason: z.string() });
export type FieldError = z.infer<typeof FieldErrorSchema>;

/** RFC 9457 problem details (application/problem+json), with the offending fields in `errors`. */
export const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int().min(400).max(599),
  detail: z.string().optional(),
  instance: z.string().optional(),
  errors: z.array(FieldErrorSchema).optional(),
});
export type Problem = z.infer<typeof ProblemSchema>;
