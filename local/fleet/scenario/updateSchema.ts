import { z } from "zod";
import { KbSchema, TimestampSchema } from "../../../lib/schemas/common";
import { PackagePinSchema, WuaUpdateIdSchema } from "../../../lib/schemas/device/parameters";

/**
 * An HRESULT as Windows prints it ("0x80070643") or as a signed 32-bit integer; parsed to the signed integer WUA
 * reports. On Linux the same field carries the package manager's exit status (apt: 100).
 */
export const HResultSchema = z
  .union([
    z.string().regex(/^0x[0-9A-Fa-f]{1,8}$/, "must be an HRESULT like 0x80070643 or an integer"),
    z.number().int().min(-2147483648).max(4294967295),
  ])
  .transform((v) => (typeof v === "number" ? v | 0 : Number.parseInt(v.slice(2), 16) | 0));

/** What happens when the update is installed. */
export const InstallOutcomeSpecSchema = z.discriminatedUnion("result", [
  z.object({ result: z.literal("succeeds") }),
  /** The update agent reports Failed with this HRESULT; nothing changes on the device but the logs. */
  z.object({ result: z.literal("fails"), hresult: HResultSchema }),
  /** The installer never returns: the run command hangs until its timeout (or a DELETE). */
  z.object({ result: z.literal("hangs") }),
  /** Reports Succeeded and requires a reboot; the reboot undoes it (boot takes longer, history shows the rollback). A default skips the transform, hence the signed literal. */
  z.object({ result: z.literal("rollsBackOnReboot"), hresult: HResultSchema.default(0x800f0922 | 0) }),
]);
export type InstallOutcomeSpec = z.infer<typeof InstallOutcomeSpecSchema>;

const SUCCEEDS = { result: "succeeds" } as const;

/** WUA category names of `UpdateClassification`, as the Windows Update Agent spells them. */
export const WuaClassificationSchema = z.enum([
  "Critical Updates",
  "Security Updates",
  "Update Rollups",
  "Feature Packs",
  "Service Packs",
  "Definition Updates",
  "Tools",
  "Updates",
  "Drivers",
  "Upgrades",
]);

export const RebootBehaviorSchema = z.enum(["NeverReboots", "AlwaysRequiresReboot", "CanRequestReboot"]);

/** A pending Windows update as WUA describes it, and what installing it does. */
export const WindowsUpdateSpecSchema = z
  .object({
    updateId: WuaUpdateIdSchema,
    revision: z.number().int().min(0).default(1),
    kb: KbSchema,
    title: z.string().min(1).max(2000),
    classification: WuaClassificationSchema.default("Security Updates"),
    /** MSRC severity; null for most non-security updates. */
    severity: z.enum(["Critical", "Important", "Moderate", "Low"]).nullable().default(null),
    /** `LastDeploymentChangeTime`; default: 14 days before the fleet starts. */
    releaseDate: TimestampSchema.optional(),
    /**
     * The day the update appears on the device at all (the emulator's virtual clock): before it, the catalog does not
     * list it and an install request does not find it, so multi-day scenarios see updates released between windows.
     * Absent: available from the start.
     */
    releasedOn: TimestampSchema.optional(),
    sizeBytes: z.number().int().min(0).default(50_000_000),
    rebootBehavior: RebootBehaviorSchema.default("CanRequestReboot"),
    /** Simulated install time; default from the size (1 min + 1 min per 120 MB). */
    installSeconds: z.number().int().min(1).max(86_400).optional(),
    /** OS build (CurrentBuild.UBR) once installed and, when it needs one, rebooted. */
    osBuildAfter: z.string().max(50).optional(),
    outcome: InstallOutcomeSpecSchema.default(SUCCEEDS),
  })
  .strict();
export type WindowsUpdateSpec = z.infer<typeof WindowsUpdateSpecSchema>;

/** A Linux package with an upgrade candidate, and what upgrading it does. */
export const LinuxUpdateSpecSchema = z
  .object({
    name: PackagePinSchema.shape.name,
    /** Installed version; null when the package is new (a new kernel image). */
    currentVersion: PackagePinSchema.shape.version.nullable(),
    /** The candidate version the catalog offers and install pins. */
    version: PackagePinSchema.shape.version,
    /** From a security origin (classification "Security"), else "Other". */
    security: z.boolean().default(false),
    /** Repository/origin; default derived from the OS and `security`. */
    source: z.string().max(500).optional(),
    releaseDate: TimestampSchema.nullable().default(null),
    /** As for Windows updates: the candidate appears in the repository only from this time (absent: from the start). */
    releasedOn: TimestampSchema.optional(),
    sizeBytes: z.number().int().min(0).default(2_000_000),
    /** Default: CanRequestReboot for kernels, libc, systemd and openssl; NeverReboots otherwise. */
    rebootBehavior: RebootBehaviorSchema.optional(),
    installSeconds: z.number().int().min(1).max(86_400).optional(),
    /** Kernel release (`uname -r`) after install and reboot, for kernel packages. */
    osBuildAfter: z.string().max(100).optional(),
    outcome: InstallOutcomeSpecSchema.default(SUCCEEDS),
  })
  .strict();
export type LinuxUpdateSpec = z.infer<typeof LinuxUpdateSpecSchema>;

/** An update already installed on a Windows device before the scenario starts. */
export const InstalledWindowsUpdateSchema = z
  .object({
    kb: KbSchema,
    updateId: WuaUpdateIdSchema.optional(),
    title: z.string().max(2000).optional(),
    installedOn: TimestampSchema.optional(),
  })
  .strict();

/** A package installed on a Linux device (other than those with an upgrade candidate in `updates`). */
export const InstalledPackageSchema = PackagePinSchema.strict();
