import { z } from "zod";
import { TimestampSchema } from "../common";
import { DiagnosticsSchema } from "../artifacts/catalog";
import { scriptOutputSchema } from "./envelope";

const diagnostics = DiagnosticsSchema.shape;

/** `diagnostics` (phase 09): errors since the run started and disk space; sections nullable as in `baseline`. */
export const DiagnosticsDataSchema = z.object({
  collectedAt: TimestampSchema,
  /** Windows: System and Application logs, level Critical/Error; Linux: journal priority err and above. */
  eventLogErrors: diagnostics.eventLogErrors.nullable(),
  /** Windows: WindowsUpdateClient events and failed history entries; Linux: package-manager log errors. */
  updateAgentErrors: diagnostics.updateAgentErrors.nullable(),
  /** Windows: SCM 7031/7034 per service since boot; Linux: systemd NRestarts > 0. Absent in documents older than the section. */
  serviceRestarts: z
    .array(z.object({ service: z.string(), restarts: z.number().int().min(0) }))
    .nullable()
    .optional(),
  disks: diagnostics.disks.nullable(),
});
export type DiagnosticsData = z.infer<typeof DiagnosticsDataSchema>;

export const DiagnosticsOutputSchema = scriptOutputSchema("diagnostics", DiagnosticsDataSchema);
export type DiagnosticsOutput = z.infer<typeof DiagnosticsOutputSchema>;
