import { z } from "zod";
import { CheckSchema } from "../policies";

/**
 * What the backend passes to each script, before encoding as Run Command parameters (lib/device/parameters.ts).
 * Names are the same on both OSes: PowerShell `param()` names on Windows, environment variables on Linux.
 * The scripts re-validate every value with the patterns below; these schemas are the backend's side of that contract.
 */

/** A Windows Update Agent update id (GUID). */
export const WuaUpdateIdSchema = z
  .string()
  .regex(
    /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
    "must be a WUA update id (GUID)",
  );
/** A Linux package pinned to the exact version staging tested. */
export const PackagePinSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9+._-]{0,127}$/, "must be a package name"),
  version: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9.+~:_-]{0,127}$/, "must be a package version"),
});
export type PackagePin = z.infer<typeof PackagePinSchema>;

export const BaselineParamsSchema = z.object({});
export const CatalogParamsSchema = z.object({
  /** Linux: do not refresh package lists (read-only). Windows ignores it: the WUA search changes nothing. */
  simulate: z.boolean().default(false),
  /** Windows: also search driver updates (the policy's classifications include Driver). Linux has none to add. */
  includeDrivers: z.boolean().default(false),
});
/**
 * The pre-install point's fence (issue 20): hooks writes it when an action failed, the install in the same run command
 * reads it and installs nothing. Per run, so a fence of another run is never read.
 */
export const HookFenceSchema = z.string().regex(/^[A-Za-z0-9-]{8,64}$/);
/**
 * The "reboot required" marker (issue 22): the install leaves it when it needs a restart, the reboot section later in
 * the same run command restarts the device only when it finds it (read once and removed). Per run, as the fence.
 */
export const RebootMarkerSchema = z.string().regex(/^[A-Za-z0-9-]{8,64}$/);
export const InstallParamsSchema = z.discriminatedUnion("os", [
  z.object({
    os: z.literal("windows"),
    updateIds: z.array(WuaUpdateIdSchema).min(1).max(200),
    fence: HookFenceSchema.optional(),
    rebootMarker: RebootMarkerSchema.optional(),
  }),
  z.object({
    os: z.literal("linux"),
    packages: z.array(PackagePinSchema).min(1).max(500),
    fence: HookFenceSchema.optional(),
    rebootMarker: RebootMarkerSchema.optional(),
  }),
]);
export const RebootParamsSchema = z.object({
  /** Only when the install in the same run command left this marker (issue 22); absent: always. */
  marker: RebootMarkerSchema.optional(),
  delaySeconds: z.number().int().min(0).max(600),
  /** Shown to logged-on users and kept in the OS shutdown log; a plain-text allowlist, no quotes or metacharacters. */
  comment: z
    .string()
    .regex(/^[A-Za-z0-9 ._:/()-]{0,200}$/, "must be plain text (letters, digits, space . _ : / ( ) -)"),
});
export const ValidateParamsSchema = z.object({
  checks: z.array(z.object({ app: z.string().min(1).max(100), check: CheckSchema })).max(100),
});
/** `gates`: the MSP probe scripts to run (text verified against its policy SHA-256 before it is sent). */
export const GatesParamsSchema = z.object({
  probes: z
    .array(
      z.object({
        name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/),
        shell: z.enum(["powershell", "bash"]),
        script: z.string().min(1).max(32000),
        timeoutSeconds: z.number().int().min(1).max(600),
      }),
    )
    .max(21),
});
/** `hooks`: the point's actions in order (a script's text verified against its policy SHA-256 before it is sent). */
export const HooksParamsSchema = z.object({
  actions: z
    .array(
      z.object({
        kind: z.enum(["stop", "start", "script"]),
        target: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9@._-]{0,255}$/),
        timeoutSeconds: z.number().int().min(1).max(600),
        /** The script text for `script`; empty for services. */
        script: z.string().max(32000),
      }),
    )
    .max(60),
  /** The pre-install point only: leave a fence when an action failed (the install then installs nothing). */
  fence: HookFenceSchema.optional(),
});
/**
 * `uninstall`: Windows removes the KBs it is given (wusa, DISM for packages wusa cannot remove); Linux puts each
 * package back at the given version (the one the baseline recorded before this run upgraded it).
 */
export const UninstallParamsSchema = z.discriminatedUnion("os", [
  z.object({
    os: z.literal("windows"),
    kbs: z
      .array(z.string().regex(/^KB\d{6,8}$/, "must look like KB5012345"))
      .min(1)
      .max(50),
  }),
  z.object({ os: z.literal("linux"), packages: z.array(PackagePinSchema).min(1).max(500) }),
]);
export const DiagnosticsParamsSchema = z.object({
  /** Errors logged since this instant (the run's start). */
  since: z.iso.datetime({ offset: false }),
  maxEvents: z.number().int().min(1).max(500).default(100),
});

export type BaselineParams = z.infer<typeof BaselineParamsSchema>;
export type CatalogParams = z.input<typeof CatalogParamsSchema>;
export type InstallParams = z.infer<typeof InstallParamsSchema>;
export type RebootParams = z.infer<typeof RebootParamsSchema>;
export type ValidateParams = z.infer<typeof ValidateParamsSchema>;
export type GatesParams = z.infer<typeof GatesParamsSchema>;
export type HooksParams = z.infer<typeof HooksParamsSchema>;
export type DiagnosticsParams = z.input<typeof DiagnosticsParamsSchema>;
export type UninstallParams = z.infer<typeof UninstallParamsSchema>;
