import type { ScriptError } from "../../../../lib/schemas/device/envelope";
import type { DeviceState } from "../deviceState";

/** What a script answer needs: the device, when the command started (ms) and its run-command name. */
export interface AnswerContext {
  state: DeviceState;
  startedAt: number;
  runCommandName: string;
}

/** A script's `data` and `errors`, and how long it ran (simulated ms); `hang` when it never finishes. */
export interface Answer {
  data: Record<string, unknown>;
  errors: ScriptError[];
  durationMs: number;
  hang?: boolean;
}

/** ISO 8601 UTC with second precision, as the device scripts print every timestamp. */
export const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
