import { z } from "zod";

/**
 * What a simulated device answers to the gates script's probes (issue 20): its backup agent's last successful backup
 * (what an MSP's provider script would print) and its custom checks' exit codes. Disk, pending reboot and services
 * are the device's own fields (`disks`, `pendingReboot`, `services`), read by the baseline.
 */
export const GateProbeAnswersSchema = z
  .object({
    /** The backup provider: its last success this many hours before the probe runs; absent: no backup known (exit 1). */
    backup: z
      .object({
        lastSuccessHoursAgo: z.number().min(0).optional(),
        /** The provider script itself fails (exit 2, no timestamp): the gate could not look. */
        providerFails: z.boolean().default(false),
      })
      .strict()
      .optional(),
    /** Exit code per custom check name (default 0). */
    custom: z.record(z.string().min(1), z.number().int()).default({}),
    /** Exit code per hook script name (maintenance mode, an LB drain by the MSP's tooling; default 0). */
    hookScripts: z.record(z.string().min(1), z.number().int()).default({}),
  })
  .strict();
export type GateProbeAnswers = z.infer<typeof GateProbeAnswersSchema>;
