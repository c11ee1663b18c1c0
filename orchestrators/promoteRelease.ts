import type { OrchestrationContext, Task } from "durable-functions";
import type { ReleasePolicy } from "../lib/schemas/releasePolicy";
import type { ReleaseAllowance } from "../lib/schemas/release";
import type { WindowRunInput } from "../lib/schemas/window";
import { callActivity } from "./callActivity";

/** How a ring's promotion ended: the allowance to install from, or why the ring is held. */
export interface PromotionOutcome {
  allowance?: ReleaseAllowance;
  held: string;
  decisions: string[];
}

/**
 * The promotion gates of a ring that follows another ring's release. Each evaluation is sealed by the activity
 * (`promotions/{ring}-{attempt}.json` beside the window report). When only the soak is unmet and it ends before the
 * window's cutoff, the window waits for it on a durable timer and looks again; otherwise the ring is held and the
 * gates are looked at again at the window's next occurrence.
 */
export function* promoteRelease(
  context: OrchestrationContext,
  input: WindowRunInput,
  ring: string,
  follows: string,
  gates: ReleasePolicy["gates"],
): Generator<Task, PromotionOutcome, unknown> {
  const { window, occurrence } = input;
  const decisions: string[] = [];
  for (let attempt = 1; ; attempt++) {
    const now = context.df.currentUtcDateTime;
    const result = yield* callActivity(context, "decidePromotion", {
      tenant: window.tenant,
      windowId: window.id,
      occurrence: occurrence.instanceId,
      ring,
      follows,
      gates,
      attempt,
      now: now.toISOString(),
    });
    decisions.push(`ring ${ring}: ${result.reason} (sealed ${result.decision.path})`);
    if (result.promoted && result.allowance !== undefined) return { allowance: result.allowance, held: "", decisions };
    const recheck = result.recheckAt === undefined ? undefined : Date.parse(result.recheckAt);
    if (recheck !== undefined && recheck < Date.parse(occurrence.cutoff)) {
      decisions.push(`ring ${ring} waits for the soak until ${result.recheckAt ?? ""}, then looks again`);
      yield context.df.createTimer(new Date(recheck));
      continue;
    }
    const held =
      `ring ${ring} held: ${result.reason}; looked at again at the window's next occurrence` +
      (result.recheckAt === undefined ? "" : ` (the soak is met at ${result.recheckAt}, after this window's cutoff)`);
    decisions.push(held);
    return { held, decisions };
  }
}
