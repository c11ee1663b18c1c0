import { z } from "zod";
import { Sha256HexSchema } from "./common";

/**
 * A script the MSP supplies (a backup agent's provider, a custom pre-patch check), pinned by the SHA-256 of its UTF-8
 * text. The text travels in the policy layer beside its hash (so a layer is one self-contained document, kept with
 * provenance and hashed into run.json); the backend hashes it again before sending and refuses to send a text whose
 * hash differs (the gate is then "refused", not passed). A policy edit that changes the text must change the hash.
 */
export const MspScriptSchema = z
  .object({
    sha256: Sha256HexSchema,
    text: z.string().min(1).max(32000),
    timeoutSeconds: z.number().int().min(1).max(600).default(60),
  })
  .strict();
export type MspScript = z.infer<typeof MspScriptSchema>;

/**
 * One MSP script per OS: Windows PowerShell 5.1 text for Windows devices, bash for Linux. A device whose OS has no
 * script: the backup gate could not look; a custom check does not apply to it.
 */
export const MspScriptsByOsSchema = z
  .object({ windows: MspScriptSchema.optional(), linux: MspScriptSchema.optional() })
  .strict()
  .refine((s) => s.windows !== undefined || s.linux !== undefined, "at least one of windows, linux");
export type MspScriptsByOs = z.infer<typeof MspScriptsByOsSchema>;

/** A name the gates report and the device script carry (letters, digits, . _ -). */
export const GateNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "letters, digits, . _ - (at most 64)");

/**
 * Pre-patch gates (issue 20): conditions that must hold before anything is installed. Judged by the backend from the
 * verified baseline (disk, pending reboot, services) and from the `gates` device script's probes (backup provider,
 * custom checks), both collected in the read-only first stage. A failed gate, or one that could not be looked at,
 * installs nothing and ends the run with 170 (`170.gate-failed`). Every field is optional: a layer states what it sets.
 */
export const GatesPolicySchema = z
  .object({
    /** Free space on the system volume (Windows C:, Linux /), in MiB. */
    minFreeDiskMb: z.number().int().min(1).max(100_000_000).optional(),
    /** Free space on the system volume, percent of its size. */
    minFreeDiskPercent: z.number().min(0.1).max(99).optional(),
    /** True: a reboot already pending before patching stops the run (the install would stack on it). */
    noPendingReboot: z.boolean().optional(),
    /** Services that must be running before patching (names as the baseline lists them). */
    requiredServices: z.array(z.string().min(1).max(256)).max(50).optional(),
    /**
     * The last successful backup must be newer than `maxAgeHours`, as the MSP's provider script says: exit 0 and an
     * ISO 8601 UTC timestamp on the first line of its stdout (the rest of its output is dropped on the device).
     */
    backup: z
      .object({ maxAgeHours: z.number().int().min(1).max(8760), provider: MspScriptsByOsSchema })
      .strict()
      .optional(),
    /** MSP checks: each passes when its script exits 0. */
    custom: z
      .array(z.object({ name: GateNameSchema, script: MspScriptsByOsSchema }).strict())
      .max(20)
      .optional(),
  })
  .strict();
export type GatesPolicy = z.infer<typeof GatesPolicySchema>;
