import { z } from "zod";
import { ClientIdSchema, KbSchema, SchemaVersion1, TenantIdSchema } from "./common";
import { isKnownTimeZone } from "./timeZone";
import { ReleasePolicySchema } from "./releasePolicy";

/** Update classifications as Azure Update Manager names them (Linux updates map to Critical/Security/Other). */
export const ClassificationSchema = z.enum([
  "Critical",
  "Security",
  "UpdateRollup",
  "FeaturePack",
  "ServicePack",
  "Definition",
  "Tools",
  "Updates",
  "Driver",
  "Other",
]);
export type Classification = z.infer<typeof ClassificationSchema>;

/** MSRC severity ratings; Unspecified for updates without one (most non-security updates, most Linux packages). */
export const SeveritySchema = z.enum(["Critical", "Important", "Moderate", "Low", "Unspecified"]);
export type Severity = z.infer<typeof SeveritySchema>;

export const RebootPolicySchema = z.enum(["IfRequired", "Never", "Always"]);
export type RebootPolicy = z.infer<typeof RebootPolicySchema>;

/** Which updates a device gets and how the install behaves. */
export const UpdatePolicySchema = z.object({
  schemaVersion: SchemaVersion1,
  classifications: z.array(ClassificationSchema).min(1),
  severities: z.array(SeveritySchema).min(1),
  /** An update becomes eligible this many days after its release date. */
  deferralDays: z.number().int().min(0).max(365),
  /** Always approved when applicable, whatever the classification, severity or deferral. */
  includeKbs: z.array(KbSchema),
  /** Never approved; wins over includeKbs (a known-bad patch must stay out). */
  excludeKbs: z.array(KbSchema),
  /** Linux package names never upgraded. */
  excludePackages: z.array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9+._:-]*$/)),
  rebootPolicy: RebootPolicySchema,
  /** Upper bound for the install phase; also the estimate used to refuse starting an install late in a window. */
  maxInstallMinutes: z.number().int().min(5).max(1440),
  /** Reboot-loop guard: reboots allowed within one run. */
  maxReboots: z.number().int().min(0).max(5),
  /** How long to wait for a rebooting device to come back (agent Connected, boot time after the request). */
  rebootTimeoutMinutes: z.number().int().min(5).max(240),
});
export type UpdatePolicy = z.infer<typeof UpdatePolicySchema>;

const CheckBase = {
  /** Unique within the app; regressions are matched PRE/POST by app + check name. */
  name: z.string().min(1).max(100),
  /** Tries before a check counts as failed (POST failures are retried to avoid false regressions). */
  attempts: z.number().int().min(1).max(10).default(3),
  /** Wait before the first try (after a reboot, services need time to settle). */
  settleSeconds: z.number().int().min(0).max(3600).default(0),
  timeoutSeconds: z.number().int().min(1).max(600).default(30),
};

export const HttpCheckSchema = z.object({
  ...CheckBase,
  type: z.literal("http"),
  url: z.url(),
  method: z.enum(["GET", "HEAD"]).default("GET"),
  expectStatus: z.array(z.number().int().min(100).max(599)).min(1).default([200]),
  bodyContains: z.string().max(1000).optional(),
});
export const ServiceCheckSchema = z.object({
  ...CheckBase,
  type: z.literal("service"),
  serviceName: z.string().min(1).max(256),
  expectState: z.enum(["Running", "Stopped"]).default("Running"),
});
export const TcpCheckSchema = z.object({
  ...CheckBase,
  type: z.literal("tcp"),
  host: z.string().min(1).max(253),
  port: z.number().int().min(1).max(65535),
});
export const ProcessCheckSchema = z.object({
  ...CheckBase,
  type: z.literal("process"),
  processName: z.string().min(1).max(256),
  minCount: z.number().int().min(1).default(1),
});
export const ScriptCheckSchema = z.object({
  ...CheckBase,
  type: z.literal("script"),
  shell: z.enum(["powershell", "bash"]),
  /** Inline script; exit code decides. Kept short: Run Command scripts travel in the request body. */
  script: z.string().min(1).max(8000),
  expectExitCode: z.number().int().default(0),
});
export const EventLogCheckSchema = z.object({
  ...CheckBase,
  type: z.literal("eventlog"),
  logName: z.string().min(1),
  source: z.string().min(1).optional(),
  eventIds: z.array(z.number().int().min(0)).optional(),
  level: z.enum(["Critical", "Error", "Warning"]).default("Error"),
  lookbackMinutes: z.number().int().min(1).max(1440).default(60),
  /** Passes while at most this many matching events are found. */
  maxCount: z.number().int().min(0).default(0),
});

/** One business-app health check, PRE and POST patching. */
export const CheckSchema = z.discriminatedUnion("type", [
  HttpCheckSchema,
  ServiceCheckSchema,
  TcpCheckSchema,
  ProcessCheckSchema,
  ScriptCheckSchema,
  EventLogCheckSchema,
]);
export type Check = z.infer<typeof CheckSchema>;

/** A business application and the checks that prove it works. */
export const AppSpecSchema = z
  .object({
    name: z.string().min(1).max(100),
    checks: z.array(CheckSchema).min(1),
  })
  .refine((app) => new Set(app.checks.map((c) => c.name)).size === app.checks.length, {
    message: "check names must be unique within an app",
    path: ["checks"],
  });
export type AppSpec = z.infer<typeof AppSpecSchema>;

/**
 * A regression source besides app checks: baseline-to-post drift that matters. `automaticService`: a service with an
 * automatic start type (Windows Auto, systemd enabled) that was running in the baseline and is not running in the post
 * snapshot (`service` narrows it to one). `listeningPort`: a port listening in the baseline and not after (`port`
 * narrows it to one). Judged from 02-baseline and 07-post-snapshot; a section either could not collect is not judged.
 */
export const RegressionSourceSchema = z.discriminatedUnion("type", [
  z.object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "letters, digits, . _ - (at most 64)"),
    type: z.literal("automaticService"),
    service: z.string().min(1).max(256).optional(),
  }),
  z.object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "letters, digits, . _ - (at most 64)"),
    type: z.literal("listeningPort"),
    port: z.number().int().min(1).max(65535).optional(),
    protocol: z.enum(["tcp"]).default("tcp"),
  }),
]);
export type RegressionSource = z.infer<typeof RegressionSourceSchema>;

export const RegressionSourcesSchema = z
  .array(RegressionSourceSchema)
  .max(50)
  .refine((sources) => new Set(sources.map((r) => r.name)).size === sources.length, {
    message: "regression source names must be unique",
  });

/** The business apps validated before and after patching. */
export const AppValidationPolicySchema = z
  .object({
    schemaVersion: SchemaVersion1,
    apps: z.array(AppSpecSchema),
    /** Absent in policies (and run records) written before drift sources existed: none. */
    regressionSources: RegressionSourcesSchema.default([]),
  })
  .refine((p) => new Set(p.apps.map((a) => a.name)).size === p.apps.length, {
    message: "app names must be unique",
    path: ["apps"],
  });
export type AppValidationPolicy = z.infer<typeof AppValidationPolicySchema>;

const DiagnosticsRuleBase = {
  /** Unique within the policy; layers merge rules by name (a more specific layer's rule replaces the whole rule). */
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "letters, digits, . _ - (at most 64)"),
};

/**
 * Critical/Error events logged since the run started, optionally from named sources (Windows event provider, Linux
 * syslog identifier). With `onlyNew`, an event whose source and id already occurred in the lookback before the run
 * started is pre-existing noise, not news. Fails when more than `maxCount` events count.
 */
export const NewEventsRuleSchema = z.object({
  ...DiagnosticsRuleBase,
  type: z.literal("newEvents"),
  sources: z.array(z.string().min(1).max(200)).max(50).default([]),
  levels: z
    .array(z.enum(["Critical", "Error"]))
    .min(1)
    .default(["Critical", "Error"]),
  onlyNew: z.boolean().default(true),
  maxCount: z.number().int().min(0).default(0),
});
/** Update-agent errors (WU client events and failed history; package-manager log errors) since the run started. */
export const UpdateAgentErrorsRuleSchema = z.object({
  ...DiagnosticsRuleBase,
  type: z.literal("updateAgentErrors"),
  maxCount: z.number().int().min(0).default(0),
});
/** Free space on one disk after the run; the system disk (`C:` / `/`) unless `mount` names another. */
export const DiskFreeRuleSchema = z
  .object({
    ...DiagnosticsRuleBase,
    type: z.literal("diskFree"),
    mount: z.string().min(1).max(260).optional(),
    minFreePercent: z.number().min(0).max(100).optional(),
    minFreeBytes: z.number().int().min(0).optional(),
  })
  .refine((r) => r.minFreePercent !== undefined || r.minFreeBytes !== undefined, {
    message: "set minFreePercent, minFreeBytes or both",
    path: ["minFreePercent"],
  });
/** Services that terminated unexpectedly (Windows SCM 7031/7034) or were restarted by systemd more than allowed since boot. */
export const ServiceCrashLoopRuleSchema = z.object({
  ...DiagnosticsRuleBase,
  type: z.literal("serviceCrashLoop"),
  /** Service names; empty = every service. */
  services: z.array(z.string().min(1).max(256)).max(100).default([]),
  maxRestarts: z.number().int().min(0).max(1000).default(2),
});
/**
 * An unexpected shutdown since the run started: Windows EventLog 6008 or Kernel-Power 41. Linux's journal has no
 * such event (no ids); the rule is reported not applicable there.
 */
export const UnexpectedShutdownRuleSchema = z.object({
  ...DiagnosticsRuleBase,
  type: z.literal("unexpectedShutdown"),
});

/** One diagnostics rule: evaluated over `diagnostics.json`; a failing rule is a 230 when diagnostics are required. */
export const DiagnosticsRuleSchema = z.discriminatedUnion("type", [
  NewEventsRuleSchema,
  UpdateAgentErrorsRuleSchema,
  DiskFreeRuleSchema,
  ServiceCrashLoopRuleSchema,
  UnexpectedShutdownRuleSchema,
]);
export type DiagnosticsRule = z.infer<typeof DiagnosticsRuleSchema>;

export const DiagnosticsRulesSchema = z
  .array(DiagnosticsRuleSchema)
  .max(50)
  .refine((rules) => new Set(rules.map((r) => r.name)).size === rules.length, { message: "rule names must be unique" });

/** What the light diagnostics phase collects and whether its failure fails the run (230). */
export const DiagnosticsPolicySchema = z.object({
  schemaVersion: SchemaVersion1,
  required: z.boolean(),
  /** Events are collected from this long before the run started, so a rule can tell new errors from old noise. */
  eventLogLookbackHours: z.number().int().min(1).max(168),
  /** Absent in policies (and run records) written before rules existed: none. */
  rules: DiagnosticsRulesSchema.default([]),
});
export type DiagnosticsPolicy = z.infer<typeof DiagnosticsPolicySchema>;

/** Max concurrency or error threshold: an absolute count or a percentage, as in AWS SSM maintenance windows. */
export const CountOrPercentSchema = z.union([
  z.number().int().min(0),
  z.string().regex(/^(100|[1-9]?[0-9])%$/, "must be a percentage like 10%"),
]);

/** A rollout ring within a window: devices tagged with it go together, gated on the previous ring. */
export const RingSchema = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/),
  /** Soak time after the previous ring before this one starts. */
  waitAfterPreviousMinutes: z.number().int().min(0).max(10080).default(0),
  /** The ring is stopped (and later rings not started) when failures exceed this share. */
  maxFailurePercent: z.number().min(0).max(100).default(10),
});

/** When a maintenance window opens (in its time zone). */
export const WindowRecurrenceSchema = z.discriminatedUnion("frequency", [
  z.object({ frequency: z.literal("Daily") }),
  z.object({
    frequency: z.literal("Weekly"),
    daysOfWeek: z.array(z.enum(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])).min(1),
  }),
  z.object({
    /** e.g. Patch Tuesday + 5 days: weekOfMonth 2, dayOfWeek Tue, offsetDays 5. */
    frequency: z.literal("MonthlyByWeekday"),
    weekOfMonth: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4), z.literal(-1)]),
    dayOfWeek: z.enum(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]),
    offsetDays: z.number().int().min(0).max(27).default(0),
  }),
]);
export type WindowRecurrence = z.infer<typeof WindowRecurrenceSchema>;

/** A recurring maintenance window for a tenant's clients. */
export const MaintenanceWindowSchema = z
  .object({
    schemaVersion: SchemaVersion1,
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
    tenant: TenantIdSchema,
    /** Clients covered; empty = every client tagged with this window. */
    clients: z.array(ClientIdSchema),
    /** IANA time zone the schedule is read in (DST-aware), e.g. Europe/Berlin. */
    timeZone: z.string().min(1).refine(isKnownTimeZone, "must be an IANA time zone name, e.g. Europe/Berlin"),
    /**
     * A typed recurrence rather than an NCRONTAB expression: "second Tuesday + 5 days" (Patch Tuesday offsets) cannot be
     * written in cron. The timer trigger that starts due windows is the NCRONTAB part. Required for a patch window; a
     * scan window without one is Daily (assessments every 24 hours, as Azure Update Manager's periodic assessment):
     * lib/domain/window/windowRecurrence.ts reads it so, and the management API saves it explicitly.
     */
    recurrence: WindowRecurrenceSchema.optional(),
    startTime: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be HH:MM"),
    /**
     * Azure Update Manager's minimum is 1h30; shorter windows leave no room for install + reboot + validation. At save
     * the store also refuses a window shorter than its clients' install estimate (lib/policy/installEstimateFit.ts).
     */
    durationMinutes: z.number().int().min(90).max(1440),
    /** No device run starts in the last minutes of the window (room for reboots and validation, as Update Manager keeps). */
    cutoffMinutesBeforeEnd: z.number().int().min(0).max(1380).default(30),
    /** Extra tags a device must carry, besides `patchpilot:window` = this id (e.g. `{"env": "prod"}`). */
    targetTags: z.record(z.string(), z.string()).default({}),
    rings: z.array(RingSchema).min(1),
    /**
     * `patch` (default) installs; `scan` is an assessment window: baseline and catalog only, no install, no reboot,
     * the missing updates sealed per device (docs/patch-run.md, "Scan-only windows"); daily when it names no
     * recurrence. Absent: patch.
     */
    mode: z.enum(["patch", "scan"]).optional(),
    maxConcurrency: CountOrPercentSchema,
    maxErrors: CountOrPercentSchema,
    /** Releases and promotion (opt-in): seal what each ring installed; install only a promoted release (docs/releases.md). */
    release: ReleasePolicySchema.optional(),
  })
  .refine((w) => w.recurrence !== undefined || w.mode === "scan", {
    message: "required for a patch window (only a scan window defaults to Daily)",
    path: ["recurrence"],
  })
  .refine((w) => w.cutoffMinutesBeforeEnd < w.durationMinutes, {
    message: "cutoffMinutesBeforeEnd must be shorter than durationMinutes",
    path: ["cutoffMinutesBeforeEnd"],
    // Only once the fields themselves are valid: a too-short duration is the one error to report.
    when: (payload) => payload.issues.length === 0,
  });
export type MaintenanceWindow = z.infer<typeof MaintenanceWindowSchema>;

/** A client (the MSP's customer) and how it is patched. */
export const ClientProfileSchema = z.object({
  schemaVersion: SchemaVersion1,
  tenant: TenantIdSchema,
  client: ClientIdSchema,
  displayName: z.string().min(1).max(200),
  timeZone: z.string().min(1).refine(isKnownTimeZone, "must be an IANA time zone name, e.g. Europe/Berlin"),
  /** Maintenance windows this client's devices are patched in. */
  windows: z.array(z.string()),
  contacts: z
    .array(z.object({ name: z.string().min(1), email: z.email(), role: z.enum(["owner", "on-call", "auditor"]) }))
    .default([]),
});
export type ClientProfile = z.infer<typeof ClientProfileSchema>;
