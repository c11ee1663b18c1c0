import type { ArmExchange } from "../../local/fleet/armServer";
import type { ArmBehaviour } from "../../local/fleet/contract";
import type { Scenario } from "../../local/fleet/scenario/scenarioSchema";
import { startLocalStack } from "../../local/run/localStack";
import { runWindows, type WindowsSummary } from "../../local/run/runWindows";

/** A window run with every exchange the app's ARM clients had with the fleet emulator. */
export interface RecordedWindow {
  summary: WindowsSummary;
  exchanges: ArmExchange[];
}

/** Runs every window of the scenario on a fresh local stack (virtual clock) and records the emulator's traffic. */
export async function recordWindow(
  scenario: Scenario,
  startTime: Date,
  arm?: Partial<ArmBehaviour>,
): Promise<RecordedWindow> {
  const stack = await startLocalStack({ scenario, clock: "virtual", startTime, ...(arm === undefined ? {} : { arm }) });
  const exchanges: ArmExchange[] = [];
  const stop = stack.emulator.onExchange((exchange) => exchanges.push(exchange));
  try {
    const summary = await runWindows(stack);
    return { summary, exchanges };
  } finally {
    stop();
    await stack.stop();
  }
}
