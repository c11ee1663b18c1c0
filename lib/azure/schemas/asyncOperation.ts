import { z } from "zod";

/** Body of an `Azure-AsyncOperation` status URL. */
export const AsyncOperationSchema = z.object({
  id: z.string().nullish(),
  name: z.string().nullish(),
  status: z.enum(["InProgress", "Succeeded", "Failed", "Canceled"]),
  startTime: z.string().nullish(),
  endTime: z.string().nullish(),
  error: z.object({ code: z.string(), message: z.string() }).nullish(),
});
export type AsyncOperation = z.infer<typeof AsyncOperationSchema>;

/** ARM's error envelope (`{ "error": { "code", "message" } }`). */
export const ArmErrorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), target: z.string().nullish() }),
});
export type ArmErrorBody = z.infer<typeof ArmErrorBodySchema>;
