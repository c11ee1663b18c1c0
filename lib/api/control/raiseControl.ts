import * as df from "durable-functions";
import { CONTROL_EVENT, type ControlCommand } from "../../schemas/control";

/** The Durable runtime statuses of an orchestration that can still take a command. */
export function isLive(status: df.OrchestrationRuntimeStatus | undefined): boolean {
  const { Running, Pending, ContinuedAsNew } = df.OrchestrationRuntimeStatus;
  return status === Running || status === Pending || status === ContinuedAsNew;
}

/**
 * Raises a control command to an orchestration and, for a window occurrence, to its client rollouts that are running
 * (the rollouts start devices, so they apply it between their waves; the window applies it between rings).
 * Rollouts are found by their instance ids, `{window instance}:{ring}:{client}` (maintenanceWindow.ts), among the
 * running clientRollout instances. Returns the instance ids it was raised to.
 */
export async function raiseControl(
  client: df.DurableClient,
  instanceId: string,
  command: ControlCommand,
  children?: { orchestrator: string },
): Promise<string[]> {
  await client.raiseEvent(instanceId, CONTROL_EVENT, command);
  const raised = [instanceId];
  if (children === undefined) return raised;
  const { Running, Pending } = df.OrchestrationRuntimeStatus;
  const live = await client.getStatusBy({ runtimeStatus: [Running, Pending] });
  const prefix = `${instanceId}:`;
  for (const child of live) {
    if (child.name !== children.orchestrator || !child.instanceId.startsWith(prefix)) continue;
    // A rollout that ended meanwhile answers 410 Gone, which the client treats as success: nothing to do.
    await client.raiseEvent(child.instanceId, CONTROL_EVENT, command);
    raised.push(child.instanceId);
  }
  return raised;
}
