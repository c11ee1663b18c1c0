import { z } from "zod";
import { SchemaVersion1, TimestampSchema } from "../common";
import { UninstallResultSchema } from "../device/uninstall";
import { QuarantinedUpdateSchema } from "../quarantine";
import { RemediationModeSchema } from "../remediationPolicy";
import { deviceProvenance } from "./source";

/** An update the run installed that the remediation did not ask the device to remove, and why. */
export const NotRequestedSchema = z.object({
  updateId: z.string().min(1),
  kb: z.string().optional(),
  reason: z.string().min(1).max(500),
});
export type NotRequested = z.infer<typeof NotRequestedSchema>;

/** `12-remediation/uninstall.json`: what was asked to be removed, what the device answered, and what was not asked. */
export const UninstallRecordSchema = z.object({
  ...deviceProvenance,
  schemaVersion: SchemaVersion1,
  results: z.array(UninstallResultSchema),
  notRequested: z.array(NotRequestedSchema),
  rebootRequired: z.boolean(),
});
export type UninstallRecord = z.infer<typeof UninstallRecordSchema>;

/** An update the quarantine should hold back: a KB (Windows) or a package (Linux), as the quarantine store names it. */
export const QuarantineSubjectSchema = QuarantinedUpdateSchema;
export type QuarantineSubject = z.infer<typeof QuarantineSubjectSchema>;

/**
 * `12-remediation/remediation.json`: the outcome of a remediation after a regression. `recovered`: the POST
 * validation passes again after the remediation; `still-failing`: it ran, the regression stays; `not-possible`: it
 * could not run (nothing installed that may be removed, no snapshot, the OS refused every removal), with the reason.
 * The run's exit code stays 220 in every case: the regression happened; this record says what was done about it.
 */
export const RemediationRecordSchema = z.object({
  schemaVersion: SchemaVersion1,
  mode: RemediationModeSchema,
  outcome: z.enum(["recovered", "still-failing", "not-possible"]),
  reason: z.string().min(1).max(4000),
  regressionsBefore: z.number().int().min(0),
  /** From the re-validation (absent when none ran). */
  regressionsAfter: z.number().int().min(0).optional(),
  /** Removed (Windows) or put back to the baseline's version (Linux). */
  uninstalled: z.array(
    z.object({ updateId: z.string().min(1), kb: z.string().optional(), version: z.string().optional() }),
  ),
  /** Asked for and not removed, with the device's answer. */
  notUninstalled: z.array(
    z.object({
      updateId: z.string().min(1),
      kb: z.string().optional(),
      result: z.string(),
      detail: z.string().optional(),
    }),
  ),
  /** Installed by this run and not asked for (the policy keeps it, no earlier version known, ...). */
  notRequested: z.array(NotRequestedSchema),
  /**
   * What the client-layer quarantine holds back from the next windows: the updates whose removal cleared the
   * regression (recovered only; otherwise none is proven to be the cause, and nothing is quarantined).
   */
  quarantine: z.array(QuarantineSubjectSchema),
  /**
   * restoreSnapshot (issue 20): the pre-install OS snapshot, the disk created from it and swapped in, and the OS disk
   * it replaced (kept). Absent for other modes and when no restore was attempted.
   */
  restore: z
    .object({
      snapshotId: z.string().min(1),
      newDiskId: z.string().min(1).optional(),
      oldDiskId: z.string().min(1).optional(),
    })
    .optional(),
  /** The artifacts the outcome was read from (paths in this run's folder). */
  readFrom: z.array(z.string().min(1)),
  decidedAt: TimestampSchema,
});
export type RemediationRecord = z.infer<typeof RemediationRecordSchema>;
