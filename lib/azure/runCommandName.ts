import { createHash } from "node:crypto";

/** Linux agents reject run-command names longer than this. */
export const MAX_RUN_COMMAND_NAME = 36;

/**
 * The run-command name for one execution: `pp-` + 32 hex of SHA-256(device id, execution key) = 35 characters.
 * Unique per execution (the key names the staging blob, unique per run/phase/attempt) and stable across retries of
 * the same activity, so a retried submit finds its own command instead of starting a second one.
 */
export function runCommandName(deviceResourceId: string, executionKey: string): string {
  const digest = createHash("sha256").update(`${deviceResourceId.toLowerCase()}\n${executionKey}`).digest("hex");
  return `pp-${digest.slice(0, 32)}`;
}
