import { z } from "zod";
import { TimestampSchema } from "./common";

// Pause / resume / cancel of a running window occurrence or emergency deployment. The API raises a Durable external
// event (CONTROL_EVENT) carrying a ControlCommand; the orchestrators that start devices apply it between waves
// (orchestrators/runControl.ts) and record what they did in the control log of their report.

/** Name of the Durable external event every control command travels as. */
export const CONTROL_EVENT = "patchpilot.control";

/** What an operator asks for. */
export const ControlActionSchema = z.enum(["pause", "resume", "cancel"]);
export type ControlAction = z.infer<typeof ControlActionSchema>;

/** Where a window occurrence or deployment stands as far as control goes. `cancelled` is final. */
export const ControlStateSchema = z.enum(["running", "paused", "cancelled"]);
export type ControlState = z.infer<typeof ControlStateSchema>;

/** The event's data: the request as the API accepted (and audited) it. */
export const ControlCommandSchema = z.object({
  /** The API request id: one command raised twice to the same orchestration is applied once. */
  id: z.string().min(1).max(64),
  action: ControlActionSchema,
  /** When the API accepted it. */
  at: TimestampSchema,
  /** Who asked: `apiKey:<id>` or `principal:<object id>`, as the audit log records the caller. */
  by: z.string().min(1),
  reason: z.string().max(500).optional(),
});
export type ControlCommand = z.infer<typeof ControlCommandSchema>;

/** One command as an orchestration applied it, in the report's control log. */
export const ControlLogEntrySchema = ControlCommandSchema.extend({
  /** Which orchestration applied it: `window`, `deployment`, or `rollout <ring>/<client>`. */
  scope: z.string(),
  /** The orchestration's clock when it applied the command (at a wave boundary: never mid-install). */
  appliedAt: TimestampSchema,
  from: ControlStateSchema,
  to: ControlStateSchema,
  /** Set when the command changed nothing (a resume while running, anything after a cancel, a malformed one). */
  ignored: z.string().optional(),
});
export type ControlLogEntry = z.infer<typeof ControlLogEntrySchema>;
