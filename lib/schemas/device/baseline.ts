import { z } from "zod";
import { OsFamilySchema, TimestampSchema } from "../common";
import { InstallInProgressSchema, SystemSnapshotSchema } from "../artifacts/snapshot";
import { scriptOutputSchema } from "./envelope";

const snapshot = SystemSnapshotSchema.shape;

/**
 * `baseline` (phases 02 and 07): facts about the device. Every section is nullable: a section the script could not
 * collect (no systemd, WMI error) is `null` with an entry in `errors`, never an empty list that would read as "none".
 */
export const BaselineDataSchema = z.object({
  capturedAt: TimestampSchema,
  os: z
    .object({
      family: OsFamilySchema,
      name: z.string(),
      version: z.string(),
      /** Windows: CurrentBuild.UBR (e.g. 20348.2340); Linux: kernel release (`uname -r`). */
      build: z.string(),
    })
    .nullable(),
  installedUpdates: snapshot.installedUpdates.nullable(),
  updateHistory: snapshot.updateHistory.nullable(),
  services: snapshot.services.nullable(),
  /** Windows only; Linux reports `[]`. */
  drivers: snapshot.drivers.nullable(),
  apps: snapshot.apps.nullable(),
  pendingReboot: snapshot.pendingReboot.nullable(),
  lastBootTime: TimestampSchema.nullable(),
  disks: snapshot.disks.nullable(),
  /** Another installer at work (issue 21); optional so documents of scripts without the section still parse. */
  installInProgress: InstallInProgressSchema.nullable().optional(),
  /** Listening TCP sockets (Linux `ss -Hltn`); absent where the script does not collect them (Windows, older scripts). */
  listeningPorts: z
    .array(z.object({ protocol: z.enum(["tcp"]), port: z.number().int().min(1).max(65535), address: z.string() }))
    .nullable()
    .optional(),
});
export type BaselineData = z.infer<typeof BaselineDataSchema>;

export const BaselineOutputSchema = scriptOutputSchema("baseline", BaselineDataSchema);
export type BaselineOutput = z.infer<typeof BaselineOutputSchema>;
