import { ScriptIdSchema, SemverSchema, type ScriptId } from "../schemas/device/envelope";

/** The header line every device script starts with (after an optional shebang on Linux). */
export const SCRIPT_HEADER_PATTERN = /^# patchpilot-script: ([a-z][a-z0-9-]*)@(\d+\.\d+\.\d+)\s*$/;

/** Which script a text is, read from its header. */
export interface ScriptHeader {
  id: ScriptId;
  version: string;
}

/** The header line for a script. */
export function formatScriptHeader(header: ScriptHeader): string {
  return `# patchpilot-script: ${ScriptIdSchema.parse(header.id)}@${SemverSchema.parse(header.version)}`;
}

/**
 * Reads the header from the first line, or from the second when the first is a shebang (`#!/bin/bash`).
 * Returns undefined for a text that is not a PatchPilot script (the fleet emulator then fails the command).
 */
export function parseScriptHeader(text: string): ScriptHeader | undefined {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/, 2);
  const line = lines[0]?.startsWith("#!") ? lines[1] : lines[0];
  const match = line === undefined ? null : SCRIPT_HEADER_PATTERN.exec(line);
  if (match === null) return undefined;
  const id = ScriptIdSchema.safeParse(match[1]);
  return id.success ? { id: id.data, version: match[2] as string } : undefined;
}
