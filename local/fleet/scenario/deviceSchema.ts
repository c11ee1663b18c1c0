import { z } from "zod";
import { GateProbeAnswersSchema } from "./gatesSchema";
import {
  DeviceIdSchema,
  DeviceKindSchema,
  OsFamilySchema,
  TenantIdSchema,
  TimestampSchema,
} from "../../../lib/schemas/common";
import { ScriptIdSchema } from "../../../lib/schemas/device/envelope";
import {
  InstallOutcomeSpecSchema,
  InstalledPackageSchema,
  InstalledWindowsUpdateSchema,
  LinuxUpdateSpecSchema,
  WindowsUpdateSpecSchema,
} from "./updateSchema";

const NameSchema = z.string().min(1).max(256);
/** Azure resource names: scale sets, resource groups, run commands. */
export const ResourceNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._()-]{0,89}$/, "must be an Azure resource name");
/** Free-form ARM tags (PatchPilot's own `patchpilot:*` tags are derived from tenant/client/ring/window). */
export const TagsSchema = z.record(z.string().min(1).max(512), z.string().max(256)).default({});
const RingNameSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, "must be a ring name like prod");

/** Who a device (Arc) or scale set (VMSS) belongs to: becomes its `patchpilot:*` tags. */
export const TargetingSchema = {
  tenant: TenantIdSchema,
  client: TenantIdSchema,
  /** Default: the first ring of the device's window. */
  ring: RingNameSchema.optional(),
  /** Maintenance window id; default: the client's first window. */
  window: z.string().min(1).optional(),
};

export const ServiceSchema = z
  .object({
    name: NameSchema,
    state: z.enum(["Running", "Stopped"]).default("Running"),
    startType: z.string().max(50).default("Automatic"),
    /** Services it needs running (issue 20's hooks: a stop is refused while a dependent runs, a start until these run). */
    dependsOn: z.array(NameSchema).max(20).optional(),
  })
  .strict();
export const DriverSchema = z
  .object({ name: NameSchema, version: z.string().max(100), provider: z.string().max(200).optional() })
  .strict();
export const AppSchema = z
  .object({ name: NameSchema, version: z.string().max(100).optional(), publisher: z.string().max(200).optional() })
  .strict();
export const DiskSchema = z
  .object({
    mount: z.string().min(1).max(260),
    freeBytes: z.number().int().min(0),
    totalBytes: z.number().int().min(0),
  })
  .strict();

/** The state of one business-app check (by AppValidationPolicy app + check name) before any update breaks it. */
export const CheckStateSchema = z
  .object({
    app: z.string().min(1).max(100),
    check: z.string().min(1).max(100),
    /** False: the check already fails before patching (a pre-existing failure, not a regression). */
    passes: z.boolean().default(true),
    /** Flaky: the first N attempts of every validate run fail, later ones pass (retries absorb it). */
    failFirstAttempts: z.number().int().min(0).max(10).default(0),
    detail: z.string().max(1000).optional(),
  })
  .strict();

/** An update that breaks a business-app check once installed. */
export const BreakSchema = z
  .object({
    /** KB, WUA update id or Linux package name of an update on this device. */
    update: z.string().min(1),
    app: z.string().min(1).max(100),
    check: z.string().min(1).max(100),
    /** `afterReboot`: the check keeps passing until the device has rebooted with the update installed. */
    when: z.enum(["immediately", "afterReboot"]).default("immediately"),
    /** Also stops this service while the break is active (so the snapshot and a service check see it). */
    stopsService: NameSchema.optional(),
    /**
     * Remediation (issue 20): true when removing the update does not clear the break (the update changed something
     * its removal does not restore): the check keeps failing after an uninstall. Default: removal clears it.
     */
    persistsAfterUninstall: z.boolean().default(false),
    detail: z.string().max(1000).optional(),
  })
  .strict();

/**
 * How removing an update goes (remediation, issue 20). `succeeds`: removed (Windows) or back at the requested version
 * (Linux), with a restart pending when `requiresReboot`; `notUninstallable`: the OS refuses by design (a Windows
 * servicing-stack update is permanent; default for an update whose title names the servicing stack); `fails`: the
 * tool runs and fails with this exit code.
 */
export const UninstallSpecSchema = z.discriminatedUnion("result", [
  z.object({ result: z.literal("succeeds"), requiresReboot: z.boolean().default(false) }).strict(),
  z.object({ result: z.literal("notUninstallable"), detail: z.string().max(500).optional() }).strict(),
  z.object({ result: z.literal("fails"), exitCode: z.number().int() }).strict(),
]);
export type UninstallSpec = z.infer<typeof UninstallSpecSchema>;

/** An event-log (Windows) or journal (Linux) entry present on the device. */
export const EventSchema = z
  .object({
    log: z.string().min(1).max(100).default("System"),
    source: z.string().min(1).max(200),
    id: z.number().int().min(0).default(0),
    level: z.enum(["Critical", "Error", "Warning"]).default("Error"),
    /** Minutes after the fleet starts (negative: before). */
    atMinutes: z.number(),
    message: z.string().max(4000),
  })
  .strict();

export const RebootBehaviourSchema = z
  .object({
    /** From shutdown to the new boot time. Default: Windows 150 s, Linux 45 s. */
    durationSeconds: z.number().int().min(1).max(86_400).optional(),
    /** After boot, before the agent reports Connected again. */
    reconnectDelaySeconds: z.number().int().min(0).max(86_400).default(30),
    /** After each requested reboot the device reboots again on its own this many times (a reboot loop). */
    loops: z.number().int().min(0).max(20).default(0),
    /** Uptime between two reboots of a loop. */
    loopUptimeSeconds: z.number().int().min(1).max(86_400).default(90),
    /** The pending-reboot flag survives reboots (a stuck CBS operation): the reboot-loop guard's case. */
    pendingAfterReboot: z.boolean().default(false),
    /** `shutdown` refuses: the reboot script reports scheduled=false. */
    failsToSchedule: z.boolean().default(false),
  })
  .strict();

export const AgentBehaviourSchema = z
  .object({
    /** Base status: anything but Connected is permanent (the agent never picks up a command). */
    status: z.enum(["Connected", "Disconnected", "Error", "Expired"]).default("Connected"),
    /** Disconnect windows, relative to the fleet start; no `forMinutes` = disconnected for good. */
    disconnects: z
      .array(z.object({ afterMinutes: z.number().min(0), forMinutes: z.number().positive().optional() }).strict())
      .default([]),
    /** Disconnect while a script runs: the result is only reported after reconnect (or never). */
    disconnectDuring: z
      .array(
        z
          .object({
            script: ScriptIdSchema,
            /** Which run of that script on this device (1 = the first). */
            occurrence: z.number().int().min(1).default(1),
            afterSeconds: z.number().min(0).default(0),
            forMinutes: z.number().positive().optional(),
          })
          .strict(),
      )
      .default([]),
  })
  .strict();

/** A run command already running on the device when the emulator starts (another run holds it). */
export const RunningCommandSchema = z
  .object({
    name: ResourceNameSchema.default("patchpilot-other-run"),
    script: ScriptIdSchema.default("install"),
    startedMinutesAgo: z.number().min(0).default(5),
    durationMinutes: z.number().positive().default(120),
    /** The PatchPilot run that holds the device lock (seeded into the Locks table by the demo). */
    runId: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9-]{7,79}$/)
      .optional(),
  })
  .strict();

/** Output that does not satisfy the script's contract. */
export const MalformedModeSchema = z.enum([
  /** Not JSON (a PowerShell error record in the middle). */
  "invalidJson",
  /** The document cut off half-way. */
  "truncated",
  /** A valid document padded past `sizeBytes`. */
  "oversized",
  /** Schema-valid document whose titles, names and messages are hostile strings (markup, injection, control characters). */
  "hostileStrings",
  /** Valid JSON that breaks the schema (wrong types, missing data). */
  "schemaViolation",
  /** Nothing on stdout. */
  "empty",
]);
export const MalformedOutputSchema = z
  .object({
    script: ScriptIdSchema,
    mode: MalformedModeSchema,
    /** Which run of that script (1 = the first); omitted: every run. */
    occurrence: z.number().int().min(1).optional(),
    sizeBytes: z
      .number()
      .int()
      .min(1)
      .max(64 * 1024 * 1024)
      .default(6 * 1024 * 1024),
  })
  .strict();

/** A section the script cannot collect: `null` in data with an entry in errors[]. */
export const SectionErrorSchema = z
  .object({
    script: ScriptIdSchema,
    section: z.string().min(1).max(100),
    message: z.string().max(4000),
    code: z.string().max(100).optional(),
  })
  .strict();

const DeviceBase = {
  name: DeviceIdSchema,
  kind: DeviceKindSchema.default("arc"),
  /** Arc machines and Azure VMs (VMSS instances take them from the scale set). */
  tenant: TargetingSchema.tenant.optional(),
  client: TargetingSchema.client.optional(),
  ring: TargetingSchema.ring,
  window: TargetingSchema.window,
  tags: TagsSchema,
  /** Default: the first subscription. */
  subscription: z.string().optional(),
  /** Default: the first resource group of the subscription. */
  resourceGroup: ResourceNameSchema.optional(),
  /**
   * VMSS only: the scale set (Uniform for kind vmss, Flexible for vmssFlex) and, Uniform only, the instance id
   * (default: the position within the scale set).
   */
  scaleSet: ResourceNameSchema.optional(),
  instanceId: z
    .string()
    .regex(/^\d{1,6}$/)
    .optional(),
  osName: z.string().min(1).max(200).optional(),
  osVersion: z.string().min(1).max(100).optional(),
  /** Windows: CurrentBuild.UBR; Linux: kernel release. */
  osBuild: z.string().min(1).max(100).optional(),
  agentVersion: z.string().min(1).max(50).optional(),
  lastBootTime: TimestampSchema.optional(),
  /** Hours since boot when the fleet starts (ignored when lastBootTime is set). */
  uptimeHours: z.number().min(0).default(240),
  /** Names from `updateSets`: shared updates of this OS. */
  updateSets: z.array(z.string().min(1)).default([]),
  /** Per-update outcome overrides, keyed by KB, WUA update id or package name. */
  outcomes: z.record(z.string().min(1), InstallOutcomeSpecSchema).default({}),
  services: z.array(ServiceSchema).optional(),
  drivers: z.array(DriverSchema).optional(),
  apps: z.array(AppSchema).optional(),
  disks: z.array(DiskSchema).optional(),
  checks: z.array(CheckStateSchema).default([]),
  breaks: z.array(BreakSchema).default([]),
  /** How removing an update goes, keyed by KB, WUA update id or package name (default: it is removed). */
  uninstalls: z.record(z.string().min(1), UninstallSpecSchema).default({}),
  events: z.array(EventSchema).default([]),
  pendingReboot: z.boolean().default(false),
  reboot: RebootBehaviourSchema.prefault({}),
  agent: AgentBehaviourSchema.prefault({}),
  runningCommand: RunningCommandSchema.optional(),
  malformed: z.array(MalformedOutputSchema).default([]),
  sectionErrors: z.array(SectionErrorSchema).default([]),
  /**
   * Another installer already at work on the device (Windows Update's install, a dpkg/rpm lock held by apt or yum):
   * the baseline script reports it, and PatchPilot ends the run with 170 naming it (issue 21).
   */
  /** Answers to the gates script's probes: backup age, custom checks (issue 20; local/fleet/scenario/gatesSchema.ts). */
  gateProbes: GateProbeAnswersSchema.optional(),
  foreignInstall: z
    .object({ by: z.string().min(1).max(200), detail: z.string().max(1000).optional() })
    .strict()
    .optional(),
};

/** A simulated Windows server. */
export const WindowsDeviceSchema = z
  .object({
    ...DeviceBase,
    os: z.literal("windows"),
    updates: z.array(WindowsUpdateSpecSchema).default([]),
    installed: z.array(InstalledWindowsUpdateSchema).default([]),
  })
  .strict();

/** A simulated Linux server. */
export const LinuxDeviceSchema = z
  .object({
    ...DeviceBase,
    os: z.literal("linux"),
    /** Default from osName: apt (Debian/Ubuntu), dnf (RHEL 8+), yum (7), zypper (SLES). */
    packageManager: z.enum(["apt", "dnf", "yum", "zypper"]).optional(),
    updates: z.array(LinuxUpdateSpecSchema).default([]),
    installed: z.array(InstalledPackageSchema).default([]),
  })
  .strict();

/** One simulated server. */
export const DeviceSpecSchema = z.discriminatedUnion("os", [WindowsDeviceSchema, LinuxDeviceSchema]);
export type DeviceSpec = z.infer<typeof DeviceSpecSchema>;
export type WindowsDeviceSpec = z.infer<typeof WindowsDeviceSchema>;
export type LinuxDeviceSpec = z.infer<typeof LinuxDeviceSchema>;

/** A VM scale set: its tags target its instances. */
export const ScaleSetSpecSchema = z
  .object({
    name: ResourceNameSchema,
    os: OsFamilySchema,
    /**
     * Uniform instances (kind vmss) run commands through the scale set's VM API; Flexible instances (kind vmssFlex)
     * are VMs of their own, carrying the scale set's tags, reached through the VM run-command API.
     */
    orchestrationMode: z.enum(["Uniform", "Flexible"]).default("Uniform"),
    ...TargetingSchema,
    tags: TagsSchema,
    subscription: z.string().optional(),
    resourceGroup: ResourceNameSchema.optional(),
  })
  .strict();
export type ScaleSetSpec = z.infer<typeof ScaleSetSpecSchema>;
