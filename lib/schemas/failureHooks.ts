import { z } from "zod";
import { TimestampSchema } from "./common";
import { DeviceRunInputSchema, DeviceRunStateSchema } from "./deviceRun";

/**
 * Input of the runFailureHooks activity (issue 20): the orchestrator's failure path runs the on-failure and `always`
 * hooks a run still owes (lib/domain/hooks/failureHooks.ts), with one bounded command. Called again until `done`;
 * `attempt` counts the calls (the waits back off), `deadline` is when it gives up and records why.
 */
export const RunFailureHooksInputSchema = z.object({
  input: DeviceRunInputSchema,
  state: DeviceRunStateSchema,
  now: TimestampSchema,
  deadline: TimestampSchema,
  attempt: z.number().int().min(0),
  /** Why the run failed (the advance loop's give-up, or the run's stop reason), recorded with the hooks. */
  failure: z.string().max(4000),
});
export type RunFailureHooksInput = z.infer<typeof RunFailureHooksInputSchema>;

/** The run's state with the hooks' evidence in `stored`; not `done`: look again at `state.nextCheckAt`. */
export const RunFailureHooksResultSchema = z.object({
  state: DeviceRunStateSchema,
  done: z.boolean(),
  /** How it ended: the hooks ran (their reports are stored), or why they could not (recorded as evidence). */
  outcome: z.enum(["waiting", "ran", "not-run", "already-sealed"]),
});
export type RunFailureHooksResult = z.infer<typeof RunFailureHooksResultSchema>;
