import { z } from "zod";
import { OsFamilySchema, SchemaVersion1, TimestampSchema } from "../common";
import { deviceProvenance } from "./source";

/** What the device says about another installer at work: Windows Update's installer, wusa, a dpkg/rpm lock. */
export const InstallInProgressSchema = z.object({
  busy: z.boolean(),
  /** The other installer, as the device names it ("Windows Update", "dpkg lock (/var/lib/dpkg/lock-frontend)"). */
  by: z.string().max(200).optional(),
  detail: z.string().max(1000).optional(),
});
export type InstallInProgress = z.infer<typeof InstallInProgressSchema>;

/**
 * `02-baseline/baseline.json` and `07-post-snapshot/snapshot.json`: the device's state before and after.
 * Facts only; interpretation (diffs, regressions) happens in lib/domain.
 */
export const SystemSnapshotSchema = z.object({
  ...deviceProvenance,
  schemaVersion: SchemaVersion1,
  capturedAt: TimestampSchema,
  os: z.object({
    family: OsFamilySchema,
    name: z.string(),
    version: z.string(),
    /** Windows: build.UBR (e.g. 20348.2340); Linux: kernel release. */
    build: z.string(),
  }),
  installedUpdates: z.array(
    z.object({
      id: z.string(),
      kb: z.string().optional(),
      version: z.string().optional(),
      installedOn: z.string().optional(),
    }),
  ),
  /** Windows Update history, so an update that installed and then rolled back on reboot is visible. */
  updateHistory: z.array(
    z.object({
      kb: z.string().optional(),
      title: z.string(),
      date: TimestampSchema,
      operation: z.enum(["Installation", "Uninstallation", "Other"]),
      /** WUA OperationResultCode: 0 NotStarted, 1 InProgress, 2 Succeeded, 3 SucceededWithErrors, 4 Failed, 5 Aborted. */
      resultCode: z.number().int().min(0).max(5),
      hresult: z.number().int().optional(),
    }),
  ),
  services: z.array(z.object({ name: z.string(), state: z.string(), startType: z.string() })),
  drivers: z.array(z.object({ name: z.string(), version: z.string(), provider: z.string().optional() })),
  apps: z.array(z.object({ name: z.string(), version: z.string().optional(), publisher: z.string().optional() })),
  pendingReboot: z.object({
    pending: z.boolean(),
    /** e.g. CBS, WindowsUpdate, PendingFileRenameOperations, reboot-required, needs-restarting. */
    signals: z.array(z.string()),
  }),
  lastBootTime: TimestampSchema,
  /**
   * Another patch process already installing when the snapshot was taken (issue 21: the run ends with 170 naming it
   * instead of racing it). Absent: not reported (an older script); `busy: false`: looked, nothing installing.
   */
  installInProgress: InstallInProgressSchema.optional(),
  disks: z.array(
    z.object({ mount: z.string(), freeBytes: z.number().int().min(0), totalBytes: z.number().int().min(0) }),
  ),
  /** Listening TCP sockets; absent when the baseline script did not report them (older evidence, older scripts). */
  listeningPorts: z
    .array(z.object({ protocol: z.enum(["tcp"]), port: z.number().int().min(1).max(65535), address: z.string() }))
    .optional(),
});
export type SystemSnapshot = z.infer<typeof SystemSnapshotSchema>;

const Change = z.object({ name: z.string(), before: z.string().nullable(), after: z.string().nullable() });

/** `07-post-snapshot/baseline-diff.json`: what changed between baseline and post snapshot. */
export const BaselineDiffSchema = z.object({
  schemaVersion: SchemaVersion1,
  osBuild: z.object({ before: z.string(), after: z.string() }),
  updatesAdded: z.array(z.string()),
  updatesRemoved: z.array(z.string()),
  services: z.array(Change),
  drivers: z.array(Change),
  apps: z.array(Change),
  /**
   * The policy's regression sources judged over baseline and post snapshot (appValidation.regressionSources): drift
   * that counts as a regression (exit code 220), and sources that could not be judged because a section is missing.
   */
  driftRegressions: z
    .object({
      regressions: z.array(
        z.object({
          source: z.string(),
          type: z.string(),
          subject: z.string(),
          before: z.string(),
          after: z.string(),
        }),
      ),
      unjudged: z.array(z.object({ source: z.string(), why: z.string() })),
    })
    .optional(),
});
export type BaselineDiff = z.infer<typeof BaselineDiffSchema>;
