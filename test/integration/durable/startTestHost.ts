import type { FunctionDefinition } from "../../../functions/definitions";
import { createLocalDurableHost, type LocalDurableHost, type LocalDurableHostOptions } from "../../../local/durable";

let hubs = 0;
/** A task hub name no other test process uses (letters and digits only). */
export function uniqueTaskHub(prefix: string): string {
  hubs += 1;
  return `${prefix}${process.pid}x${Date.now().toString(36)}x${hubs}`;
}

/** The Azurite the Jest global setup started. */
export function azuriteConnectionString(): string {
  const connectionString = process.env.PATCHPILOT_TEST_AZURITE_CONNECTION_STRING;
  if (!connectionString) throw new Error("Azurite is not running: the Jest global setup did not run");
  return connectionString;
}

/** The start of every virtual clock in these tests, so expected times are literal. */
export const T0 = new Date("2026-03-01T22:00:00.000Z");

/** Starts a host with the virtual clock on a fresh task hub. */
export async function startTestHost(
  definitions: FunctionDefinition[],
  overrides: Partial<LocalDurableHostOptions> = {},
): Promise<LocalDurableHost> {
  const host = createLocalDurableHost({
    definitions,
    connectionString: azuriteConnectionString(),
    taskHub: uniqueTaskHub("t"),
    clock: "virtual",
    startTime: T0,
    activityConcurrency: 32,
    ...overrides,
  });
  await host.start();
  return host;
}

/** History as [type, EventId] pairs, without the OrchestratorStarted/Completed bookkeeping. */
export function historyShape(
  history: { EventType: number; EventId: number }[],
  names: Record<number, string>,
): string[] {
  return history
    .filter((e) => names[e.EventType] !== "OrchestratorStarted" && names[e.EventType] !== "OrchestratorCompleted")
    .map((e) => `${names[e.EventType] ?? e.EventType}${e.EventId >= 0 ? `#${e.EventId}` : ""}`);
}
