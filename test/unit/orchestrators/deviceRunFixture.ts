// The device run the devicePatchRun replay tests drive: one Arc server of contoso-msp/fabrikam starting at T0, its
// fresh state under the default policy, and the result finishDeviceRun answers with.
import { DEFAULT_GLOBAL_POLICY } from "../../../lib/domain/policy/defaultPolicy";
import { resolveEffectivePolicy } from "../../../lib/domain/policy/overlay";
import { newDeviceRunState } from "../../../lib/domain/run/newDeviceRunState";
import type { DeviceRunInput, DeviceRunResult, DeviceRunState } from "../../../lib/schemas/deviceRun";

export const T0 = "2026-01-20T02:00:00.000Z";
/** The time `min` minutes after T0. */
export const at = (min: number): string => new Date(Date.parse(T0) + min * 60_000).toISOString();

/** The input of run `runId` on WIN-SERVER01, started by the nightly prod window (bounded by `window` if given). */
export function deviceRunInput(runId: string, window?: DeviceRunInput["window"]): DeviceRunInput {
  return {
    run: { tenant: "contoso-msp", client: "fabrikam", device: "WIN-SERVER01", runId },
    device: {
      kind: "arc",
      machineName: "WIN-SERVER01",
      resourceId: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/WIN-SERVER01",
      name: "WIN-SERVER01",
      os: "windows",
      tags: {},
      status: "Connected",
      subscriptionId: "s",
      resourceGroup: "rg",
      location: "westeurope",
    },
    trigger: { kind: "window", windowId: "nightly", ring: "prod" },
    ...(window ? { window } : {}),
    dryRun: false,
  };
}

/** A run's state as startDeviceRun makes it at T0 under the default policy. */
export const freshState: DeviceRunState = newDeviceRunState(
  resolveEffectivePolicy([DEFAULT_GLOBAL_POLICY]).policy,
  new Date(T0),
);

/** What finishDeviceRun answers for `input`'s run when it ends with `exitCode` (`exitName`). */
export function deviceRunResult(input: DeviceRunInput, exitCode: number, exitName: string): DeviceRunResult {
  const { tenant, client, device, runId } = input.run;
  return {
    run: input.run,
    exitCode,
    exitName,
    counts: freshState.counts,
    evidencePrefix: `${tenant}/${client}/${device}/${runId}/`,
  };
}
