import { z } from "zod";
import { EXIT_CODE_TABLE } from "../../domain/exitCode/exitCodeTable";
import { ExitCodeNameSchema } from "../../schemas/artifacts/outcome";
import { RunTriggerSchema } from "../../schemas/artifacts/run";
import { WindowOccurrenceSchema } from "../../schemas/window";
import { RunRefSchema, Sha256HexSchema, TenantIdSchema, TimestampSchema } from "../../schemas/common";

/** CloudEvents `type` values PatchPilot publishes (reverse-DNS, as the CloudEvents spec recommends). */
export const EVENT_TYPES = {
  runCompleted: "io.patchpilot.run.completed",
  regressionDetected: "io.patchpilot.regression.detected",
  installFailed: "io.patchpilot.install.failed",
  rebootRequired: "io.patchpilot.reboot.required",
  integrityFailed: "io.patchpilot.evidence.integrity_failed",
  /** 240.unreachable: the agent could not be reached (not the evidence's fault: check the machine). */
  deviceUnreachable: "io.patchpilot.device.unreachable",
  /** 240.not-collected / could-not-look / unfinished: the device answered, the evidence could not be collected. */
  evidenceIncomplete: "io.patchpilot.evidence.incomplete",
  /** 170: another patch process holds the device (a PatchPilot run, Windows Update, a package manager). */
  deviceBusy: "io.patchpilot.device.busy",
  /** 170.gate-failed: a pre-patch gate (disk, pending reboot, backup, services, custom) stopped the run before any change. */
  gateFailed: "io.patchpilot.gate.failed",
  /** 170.hook-failed: a pre-install hook failed, so the install in the same command installed nothing (issue 20). */
  hookFailed: "io.patchpilot.hook.failed",
  /** 230: diagnostics the policy requires failed. */
  diagnosticsFailed: "io.patchpilot.diagnostics.failed",
  /** Issue 20: a remediation after a regression ended (recovered, still failing, or not possible); the run stays 220. */
  remediationCompleted: "io.patchpilot.remediation.completed",
  windowCompleted: "io.patchpilot.window.completed",
  windowHalted: "io.patchpilot.window.halted",
  /** A KB or package regressed at N or more clients: quarantined across the MSP's tenant (docs/releases.md). */
  quarantineCreated: "io.patchpilot.quarantine.created",
} as const;

/** One of {@link EVENT_TYPES}. */
export type PatchEventType = (typeof EVENT_TYPES)[keyof typeof EVENT_TYPES];

/** The run event types, each sent besides run.completed when the run ended with its exit code (exitCodeTable.ts). */
export const EXIT_CODE_EVENT_TYPES: Readonly<Record<number, PatchEventType>> = Object.fromEntries(
  EXIT_CODE_TABLE.flatMap((r) => (r.eventType === null ? [] : [[r.code, r.eventType satisfies PatchEventType]])),
);

/** An artifact an event cites: its path in the run (or window) folder and its sealed SHA-256. */
export const EvidenceRefSchema = z.object({ path: z.string().min(1), sha256: Sha256HexSchema });
export type EvidenceRef = z.infer<typeof EvidenceRefSchema>;

const CheckOutcomeSchema = z.object({ success: z.boolean(), detail: z.string() });

/** One update's outcome, as the on-call engineer and PatchPilotUpdates_CL see it. */
export const UpdateOutcomeSchema = z.object({
  updateId: z.string().min(1),
  kb: z.string().optional(),
  title: z.string(),
  installed: z.boolean(),
  result: z.string(),
  /** HRESULT as 8 hex digits (`0x80240022`), the form Microsoft documents them in. */
  hresult: z
    .string()
    .regex(/^0x[0-9A-F]{8}$/)
    .optional(),
  finishedAt: TimestampSchema,
});
export type UpdateOutcome = z.infer<typeof UpdateOutcomeSchema>;

/**
 * `data` of every run event (run.completed and the exit-code events): enough to act on without opening anything
 * else — the exit code and why, each regression with its PRE and POST result, the failed updates with HRESULTs, and
 * the evidence with the hashes it was sealed with.
 */
export const RunEventDataSchema = z.object({
  schemaVersion: z.literal(1),
  run: RunRefSchema,
  trigger: RunTriggerSchema,
  dryRun: z.boolean(),
  exitCode: z.number().int(),
  exitCodeName: ExitCodeNameSchema,
  /** The exit-code rule that fired, e.g. `220.regressions`. */
  rule: z.string(),
  reasons: z.array(z.string()),
  decidedAt: TimestampSchema,
  startedAt: TimestampSchema.optional(),
  counts: z.object({
    approved: z.number().int().min(0),
    installed: z.number().int().min(0),
    failed: z.number().int().min(0),
    regressions: z.number().int().min(0),
  }),
  reboot: z.string(),
  /** The last install's end: where time to detect a regression starts. */
  installsFinishedAt: TimestampSchema.optional(),
  /** The last POST attempt of a regressed check: when the regression was confirmed. */
  regressionDetectedAt: TimestampSchema.optional(),
  /** The first failing POST attempt of a regressed check: when it was first observed (issue 21). */
  regressionFirstFailedAt: TimestampSchema.optional(),
  /** The proven boot after the run's reboot (reboot.json bootTimeAfter): where time to detect from boot starts. */
  bootedAt: TimestampSchema.optional(),
  regressions: z.array(
    z.object({ app: z.string(), check: z.string(), pre: CheckOutcomeSchema, post: CheckOutcomeSchema }),
  ),
  updates: z.array(UpdateOutcomeSchema),
  /**
   * Issue 20: what was done about the regression (12-remediation/remediation.json), when the policy asked for a
   * remediation; sent with `io.patchpilot.remediation.completed`.
   */
  remediation: z
    .object({
      mode: z.enum(["none", "uninstall", "restoreSnapshot"]),
      outcome: z.enum(["recovered", "still-failing", "not-possible"]),
      reason: z.string(),
      regressionsAfter: z.number().int().min(0).optional(),
      uninstalled: z.array(z.string()),
      notUninstalled: z.array(z.string()),
      quarantined: z.array(z.string()),
    })
    .optional(),
  evidence: z.object({
    /** Blob prefix of the run folder in the evidence container. */
    prefix: z.string(),
    merkleRoot: Sha256HexSchema.optional(),
    /** The run's receipt in its tenant's transparency log and the signed checkpoint (C2SP note) that first included it. */
    transparency: z
      .object({
        leafIndex: z.number().int().min(0),
        leafHash: Sha256HexSchema,
        treeSize: z.number().int().min(1),
        checkpoint: z.string(),
      })
      .optional(),
    /** exit-code.json, final-report.json, report.html, regressions and validations, install summary, manifest. */
    artifacts: z.array(EvidenceRefSchema),
  }),
});
export type RunEventData = z.infer<typeof RunEventDataSchema>;

/** Why a window did not patch every target: a rollout's maxErrors, or a ring's gate closing the later rings. */
export const HaltReasonSchema = z.object({
  kind: z.enum(["max-errors", "ring-gate"]),
  ring: z.string(),
  client: z.string().optional(),
  detail: z.string(),
});
export type HaltReason = z.infer<typeof HaltReasonSchema>;

/** `data` of window.completed and window.halted. */
export const WindowEventDataSchema = z.object({
  schemaVersion: z.literal(1),
  tenant: TenantIdSchema,
  windowId: z.string(),
  occurrence: WindowOccurrenceSchema,
  startedBy: z.enum(["schedule", "on-demand"]),
  finishedAt: TimestampSchema,
  halted: z.boolean(),
  haltReasons: z.array(HaltReasonSchema),
  totals: z.object({
    targets: z.number().int().min(0),
    completed: z.number().int().min(0),
    orchestrationFailed: z.number().int().min(0),
    notStarted: z.number().int().min(0),
    /** Completed runs that ended with 0. */
    succeeded: z.number().int().min(0),
    /** Completed runs that count as window errors (maxErrors), plus failed orchestrations. */
    failed: z.number().int().min(0),
    byExitCode: z.record(z.string(), z.number().int().min(0)),
  }),
  decisions: z.array(z.string()),
  report: EvidenceRefSchema,
});
export type WindowEventData = z.infer<typeof WindowEventDataSchema>;

/** Data of quarantine events: the sealed quarantine decision (lib/schemas/release.ts), as published. */
export const QuarantineEventDataSchema = z.object({
  tenant: z.string(),
  scope: z.literal("tenant"),
  /** KB, or the Linux package name. */
  key: z.string(),
  entryId: z.string(),
  reason: z.string(),
  quarantinedAt: TimestampSchema,
  /** The clients whose 220 runs regressed with it installed, and those runs. */
  clients: z.array(z.string()),
  runs: z.array(z.string()),
  threshold: z.number().int().min(1),
  /** The ring whose release sealing applied the rule. */
  window: z.object({ windowId: z.string(), occurrence: z.string(), ring: z.string() }),
  /** Releases re-cut without it: the new id and the one it replaces. */
  recut: z.array(z.object({ id: z.string(), replaces: z.string() })),
  decision: EvidenceRefSchema,
});
export type QuarantineEventData = z.infer<typeof QuarantineEventDataSchema>;

/** A CloudEvents 1.0 event as PatchPilot sends it (structured JSON; `data` one of the schemas above). */
export const PatchCloudEventSchema = z.object({
  specversion: z.literal("1.0"),
  id: z.string().min(1),
  source: z.string().min(1),
  type: z.string().min(1),
  subject: z.string().min(1),
  time: TimestampSchema,
  datacontenttype: z.literal("application/json"),
  dataschema: z.string().optional(),
  data: z.unknown(),
});
export type PatchCloudEvent = z.infer<typeof PatchCloudEventSchema>;
