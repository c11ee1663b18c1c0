import type { z } from "zod";
import { BaselineOutputSchema } from "./baseline";
import { CatalogOutputSchema } from "./catalog";
import { DiagnosticsOutputSchema } from "./diagnostics";
import { GatesOutputSchema } from "./gates";
import { HooksOutputSchema } from "./hooks";
import type { ScriptId } from "./envelope";
import { InstallOutputSchema } from "./install";
import { RebootOutputSchema } from "./reboot";
import { UninstallOutputSchema } from "./uninstall";
import { ValidateOutputSchema } from "./validate";

export * from "./envelope";
export * from "./baseline";
export * from "./catalog";
export * from "./install";
export * from "./reboot";
export * from "./validate";
export * from "./diagnostics";
export * from "./gates";
export * from "./hooks";
export * from "./uninstall";
export * from "./parameters";

/** The output contract of each script: what the backend parses with and the fleet emulator generates. */
export const SCRIPT_OUTPUT_SCHEMAS = {
  baseline: BaselineOutputSchema,
  catalog: CatalogOutputSchema,
  install: InstallOutputSchema,
  reboot: RebootOutputSchema,
  validate: ValidateOutputSchema,
  diagnostics: DiagnosticsOutputSchema,
  gates: GatesOutputSchema,
  hooks: HooksOutputSchema,
  uninstall: UninstallOutputSchema,
} as const satisfies Record<ScriptId, z.ZodType>;

/** A script's output document, by script id. */
export type ScriptOutput<Id extends ScriptId> = z.infer<(typeof SCRIPT_OUTPUT_SCHEMAS)[Id]>;
