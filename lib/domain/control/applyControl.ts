import type { ControlAction, ControlState } from "../../schemas/control";

/** The pure transition: what a command does to a state, and why it did nothing when it does nothing. */
export function applyControl(state: ControlState, action: ControlAction): { to: ControlState; ignored?: string } {
  if (state === "cancelled") return { to: state, ignored: "already cancelled (cancel is final)" };
  if (action === "cancel") return { to: "cancelled" };
  if (action === "pause") return state === "paused" ? { to: state, ignored: "already paused" } : { to: "paused" };
  return state === "running" ? { to: state, ignored: "not paused" } : { to: "running" };
}
