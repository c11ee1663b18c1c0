import { z } from "zod";
import { RunTriggerSchema } from "./artifacts/run";
import { RebootRecordSchema } from "./artifacts/catalog";
import { RunRefSchema, Sha256HexSchema, TimestampSchema } from "./common";
import { SemverSchema } from "./device/envelope";
import { RebootPolicySchema } from "./policies";
import { ReleaseAllowanceSchema } from "./release";
import { RemediationModeSchema } from "./remediationPolicy";
import { DeviceRefSchema, RunCommandHandleSchema } from "./target";

/**
 * Where a device run stands. Device stages have run commands in flight; `rebootWait` and `installReconnect` wait for
 * the agent (checked through ARM, no command); `done` hands over to phases 10-11.
 */
export const DeviceRunStageSchema = z.enum([
  "pre",
  "catalog",
  "install",
  "installReconnect",
  "reboot",
  "rebootWait",
  "bootProbe",
  "post",
  "done",
  // Remediation of a regression (issue 20): remove what the run installed, then the POST validation again.
  "remediate",
  "revalidate",
  // Managed-disk snapshots (issue 20): ARM-side actions, no run command. `snapshot` before the install;
  // `restore` (OS-disk swap) and `restoreWait` (the agent back after the start) before `revalidate`.
  "snapshot",
  "restore",
  "restoreWait",
]);
export type DeviceRunStage = z.infer<typeof DeviceRunStageSchema>;

/** A run command in flight. */
export const PendingCommandSchema = z.object({
  /**
   * The step it runs (lib/domain/run/steps.ts's StepId, or a test-only step of an extended table: the engine refuses
   * a step its table does not name).
   */
  step: z.string().min(1),
  handle: RunCommandHandleSchema,
  scriptVersion: SemverSchema,
  scriptSha256: Sha256HexSchema,
  submittedAt: TimestampSchema,
  timeoutSeconds: z.number().int().min(1),
  /** Typical duration: the first poll is due then (lib/domain/run/pollSchedule.ts). */
  expectedSeconds: z.number().int().min(1),
  /**
   * The file name of its transcripts and status record, unique per execution (`{runCommandName}-{sequence}`): a
   * step's run command is a slot that a later execution in the same run (an install retried, a second reboot) reuses.
   * Absent in states from before slots: the run command's name.
   */
  transcriptName: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,79}$/)
    .optional(),
  /**
   * A bundle (lib/device/bundle.ts): the steps it runs back to back in this one command, each with its script's
   * version and hash (the script embedded unchanged), and the nonce its final marker carries. `step` is the first.
   */
  sections: z
    .array(z.object({ step: z.string().min(1), scriptVersion: SemverSchema, scriptSha256: Sha256HexSchema }))
    .min(2)
    .optional(),
  nonce: z.string().min(8).optional(),
});
export type PendingCommand = z.infer<typeof PendingCommandSchema>;

/** The few policy values the run's control flow needs (the full effective policy is in run.json). */
export const DeviceRunPolicySchema = z.object({
  rebootPolicy: RebootPolicySchema,
  maxReboots: z.number().int().min(0),
  maxInstallMinutes: z.number().int().min(1),
  rebootTimeoutMinutes: z.number().int().min(1),
  /** The effective policy has pre-patch gates (issue 20): the first stage runs the gates step after the baseline. */
  gates: z.boolean().optional(),
  /** Hooks that act (issue 20): the install's command starts with the pre-install point. */
  preInstallHooks: z.boolean().optional(),
  /** The post stage's command starts with the `always` point (restores, the policy's always hooks). */
  alwaysHooks: z.boolean().optional(),
  /** The install's command ends with the post-install point; the post stage's starts with post-reboot (issue 20). */
  postInstallHooks: z.boolean().optional(),
  postRebootHooks: z.boolean().optional(),
  /** A failed run runs the on-failure point before `always` (post stage, or the orchestrator's failure path). */
  onFailureHooks: z.boolean().optional(),
  /**
   * A `loadBalancerDrain` pre-install hook (issue 20): the install waits this long after the ARM-side drain, and the
   * run restores the pool membership when it enters the post stage (or ends without one).
   */
  loadBalancerDrainSeconds: z.number().int().min(0).optional(),
  /** What to do after a regression (absent: none; states from before remediation existed). */
  remediation: RemediationModeSchema.optional(),
  /** Snapshots before install (issue 20): the `snapshot` stage comes between the catalog and the install. */
  snapshots: z.boolean().optional(),
});
export type DeviceRunPolicy = z.infer<typeof DeviceRunPolicySchema>;

/** The reboot as observed so far; becomes reboot.json at the end. */
export const RebootProgressSchema = z.object({
  required: z.boolean(),
  requested: z.boolean(),
  count: z.number().int().min(0),
  requestedAt: TimestampSchema.optional(),
  /** The reboot script's delay: the device goes down this long after `requestedAt`. */
  delaySeconds: z.number().int().min(0).optional(),
  bootTimeBefore: TimestampSchema.optional(),
  bootTimeAfter: TimestampSchema.optional(),
  outcome: RebootRecordSchema.shape.outcome.optional(),
  reason: RebootRecordSchema.shape.reason,
  decidedBy: RebootRecordSchema.shape.decidedBy,
  /** Set while the run checks that the proven boot held (issue 21): the device is looked at again at this time. */
  stableCheckAt: TimestampSchema.optional(),
});
export type RebootProgress = z.infer<typeof RebootProgressSchema>;

/** An artifact already stored by this run: sealing needs the list, and re-reading every blob would cost a read each. */
export const StoredArtifactRefSchema = z.object({
  path: z.string().min(1),
  blobName: z.string().min(1),
  sha256: Sha256HexSchema,
  size: z.number().int().min(0),
  versionId: z.string().optional(),
});
export type StoredArtifactRef = z.infer<typeof StoredArtifactRefSchema>;

/** One event for the run's hash chain (chained at the seal). */
export const RunEventInputSchema = z.object({
  at: TimestampSchema,
  type: z.string().min(1),
  phase: z.string().optional(),
  data: z.record(z.string(), z.unknown()).optional(),
});

/** Counts for progress, the window report and the CLI table. */
export const DeviceRunCountsSchema = z.object({
  approved: z.number().int().min(0),
  installed: z.number().int().min(0),
  failed: z.number().int().min(0),
  regressions: z.number().int().min(0),
});
export type DeviceRunCounts = z.infer<typeof DeviceRunCountsSchema>;

/**
 * The device run's state between activities: references and summaries only, never artifacts (Durable payloads over
 * ~45 KB spill to blobs and slow every replay).
 */
export const DeviceRunStateSchema = z.object({
  stage: DeviceRunStageSchema,
  commands: z.array(PendingCommandSchema),
  pollAttempt: z.number().int().min(0),
  lastPollAt: TimestampSchema.optional(),
  /** When the orchestrator should call advance next (its durable timer). */
  nextCheckAt: TimestampSchema,
  installAttempt: z.number().int().min(0),
  /** Since when the stage has been waiting for the agent (rebootWait, installReconnect). */
  waitingSince: TimestampSchema.optional(),
  policy: DeviceRunPolicySchema,
  reboot: RebootProgressSchema,
  counts: DeviceRunCountsSchema,
  /** Lock held by another run: phases 02-09 never ran (exit code 170). */
  lockContended: z.boolean(),
  stored: z.array(StoredArtifactRefSchema),
  events: z.array(RunEventInputSchema),
  /**
   * One run command at a time per machine: the stage's steps not submitted yet (each goes once the one before it was
   * collected), the facts its collected steps reported (lib/domain/run/steps.ts's StepFacts), and the step whose
   * submission the agent refused with 409 (a command of someone else in flight) since when and how often.
   */
  queued: z.array(z.string().min(1)).optional(),
  stageFacts: z.array(z.record(z.string(), z.unknown())).optional(),
  conflict: z.object({ step: z.string().min(1), since: TimestampSchema, count: z.number().int().min(1) }).optional(),
  /**
   * A remediation under way (issue 20): the regressions that started it, and `rebooting` while the reboot its removal
   * needed is in progress (the reboot stages then lead to `revalidate` instead of `post`).
   */
  remediation: z.object({ regressionsBefore: z.number().int().min(1), rebooting: z.boolean().optional() }).optional(),
  /**
   * Set when the activity that ended the run (stage done) also did finishDeviceRun's work (issue 22: one activity
   * call, four history events, less): the run's result. Absent: the orchestrator calls finishDeviceRun.
   */
  get finished() {
    return FinishedRunSchema.optional();
  },
  /**
   * Snapshots before install (issue 20): whether they were taken, the OS disk's snapshot (what a restoreSnapshot
   * remediation restores from), and why a restore is not possible on this device (an Arc machine, a Uniform instance).
   */
  diskSnapshots: z
    .object({
      taken: z.boolean(),
      osSnapshotId: z.string().min(1).optional(),
      notRestorable: z.string().min(1).optional(),
    })
    .optional(),
});
export type DeviceRunState = z.infer<typeof DeviceRunStateSchema>;

/** Input of the device-run orchestration. */
export const DeviceRunInputSchema = z.object({
  run: RunRefSchema,
  device: DeviceRefSchema,
  trigger: RunTriggerSchema,
  /** The maintenance window occurrence this run belongs to: installs never start too late in it. */
  window: z.object({ end: TimestampSchema, cutoff: TimestampSchema }).optional(),
  dryRun: z.boolean().default(false),
  /** Scan-only assessment (a window with mode "scan"): baseline and catalog, then sealed; no install, no reboot. */
  scanOnly: z.boolean().optional(),
  /** A ring following a promoted release: what it may install (recorded in run.json; docs/releases.md). */
  release: ReleaseAllowanceSchema.optional(),
});
export type DeviceRunInput = z.infer<typeof DeviceRunInputSchema>;

/** What a device run returns to its window: enough for the window report, the CLI table and RMM tools. */
export const DeviceRunResultSchema = z.object({
  run: RunRefSchema,
  exitCode: z.number().int(),
  exitName: z.string(),
  counts: DeviceRunCountsSchema,
  merkleRoot: Sha256HexSchema.optional(),
  evidencePrefix: z.string(),
  /** Why the run's CloudEvents could not be published (after retries); absent when they were. */
  eventsError: z.string().optional(),
});
export type DeviceRunResult = z.infer<typeof DeviceRunResultSchema>;

/**
 * The sealed event data's SHA-256 and size (`11-report/event-data.json`), as the finish wrote it create-once: the
 * publish step verifies the blob against it instead of looking up its index row first (issue 22).
 */
export const StoredEventDataSchema = z.object({ sha256: Sha256HexSchema, size: z.number().int().nonnegative() });
export type StoredEventData = z.infer<typeof StoredEventDataSchema>;

/**
 * What the finish returns (finishDeviceRun, or `state.finished` of the advance that ended the run): the run's result
 * and, for the publish step only, the event data it sealed (absent when it wrote none, or the run was sealed earlier).
 * The orchestration returns the result without it: the window never needs it.
 */
export const FinishedRunSchema = DeviceRunResultSchema.extend({ eventData: StoredEventDataSchema.optional() });
export type FinishedRun = z.infer<typeof FinishedRunSchema>;

/** Input of the startDeviceRun activity: `now` is the orchestrator's replay-safe clock. */
export const StartDeviceRunInputSchema = z.object({
  input: DeviceRunInputSchema,
  now: TimestampSchema,
  /** The orchestration's instance id, recorded in the Runs row so status APIs can show live progress. */
  instanceId: z.string().min(1).optional(),
});
export type StartDeviceRunInput = z.infer<typeof StartDeviceRunInputSchema>;

/** Input of the advanceDeviceRun activity: `now` is the orchestrator's replay-safe clock. */
export const AdvanceDeviceRunInputSchema = z.object({
  input: DeviceRunInputSchema,
  state: DeviceRunStateSchema,
  now: TimestampSchema,
});
export type AdvanceDeviceRunInput = z.infer<typeof AdvanceDeviceRunInputSchema>;

/** Input of the finishDeviceRun activity; `failure` is set when the advance loop gave up (its retries ran out). */
export const FinishDeviceRunInputSchema = z.object({
  input: DeviceRunInputSchema,
  state: DeviceRunStateSchema,
  now: TimestampSchema,
  failure: z.string().optional(),
});
export type FinishDeviceRunInput = z.infer<typeof FinishDeviceRunInputSchema>;
