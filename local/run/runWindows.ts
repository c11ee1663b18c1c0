import { onDemandOccurrence } from "../../lib/domain/window/occurrences";
import { verifyRun } from "../../lib/evidence/verifyRun";
import { WindowReportSchema, type WindowReport } from "../../lib/schemas/window";
import { ORCHESTRATORS } from "../../orchestrators/activityNames";
import type { DeviceRunStatus } from "../../orchestrators/devicePatchRun";
import type { WindowRunResult } from "../../orchestrators/maintenanceWindow";
import type { LocalStack } from "./localStack";
import { windowRunInput } from "../../lib/domain/window/windowRunInput";

/** One device's line in the summary (also the `--json` output, for scripts and RMM tools). */
export interface DeviceSummary {
  tenant: string;
  client: string;
  window: string;
  ring: string;
  device: string;
  runId: string;
  status: "completed" | "orchestration-failed" | "not-started" | "cancelled";
  exitCode: number | null;
  exitName: string | null;
  installed: number;
  failed: number;
  regressions: number;
  merkleRoot: string | null;
  verified: boolean | null;
  evidencePath: string | null;
  reason?: string;
}

/** What a scenario's windows produced. */
export interface WindowsSummary {
  windows: { instanceId: string; status: string; reportPath?: string; decisions: string[] }[];
  devices: DeviceSummary[];
  /** Simulated time the windows took (virtual clock: far more than the wall time). */
  simulatedMinutes: number;
}

/** A device's progress, from its orchestration's custom status. */
export interface DeviceProgress {
  device: string;
  stage: string;
  progress: number;
  done: boolean;
}

/**
 * Starts one on-demand occurrence of every maintenance window in the policy store, waits for all of them on the
 * host (the virtual clock skips the waits), then reads each window report from the evidence store and verifies every
 * device run it lists (index, Merkle root, event chain).
 */
export async function runWindows(
  stack: LocalStack,
  onProgress?: (devices: DeviceProgress[]) => void,
  options: { verify?: boolean } = {},
): Promise<WindowsSummary> {
  const { host, deps } = stack;
  const started = host.now();
  const windows = await deps.policies.listWindows();
  const ids: string[] = [];
  for (const window of windows) {
    const o = onDemandOccurrence(window, started);
    await host.client.startNew(ORCHESTRATORS.maintenanceWindow, {
      instanceId: o.instanceId,
      input: windowRunInput(window, o, "on-demand"),
    });
    ids.push(o.instanceId);
  }

  const timer = onProgress === undefined ? undefined : setInterval(() => void reportProgress(stack, onProgress), 500);
  let statuses;
  try {
    statuses = await Promise.all(ids.map((id) => host.waitForInstance(id)));
  } finally {
    if (timer !== undefined) clearInterval(timer);
  }
  if (onProgress !== undefined) await reportProgress(stack, onProgress);

  const summary: WindowsSummary = {
    windows: [],
    devices: [],
    simulatedMinutes: Math.round((host.now().getTime() - started.getTime()) / 60_000),
  };
  for (const status of statuses) {
    const output = status.output as WindowRunResult | undefined;
    summary.windows.push({
      instanceId: status.instanceId,
      status: status.runtimeStatus,
      ...(output === undefined ? {} : { reportPath: output.reportPath }),
      decisions: output?.decisions ?? [status.failureDetails?.ErrorMessage ?? "window orchestration did not complete"],
    });
    if (output === undefined) continue;
    const bytes = await deps.evidence.store.readBlob(output.reportPath);
    if (bytes === undefined) throw new Error(`window report ${output.reportPath} is missing`);
    summary.devices.push(
      ...(await summarizeReport(
        stack,
        WindowReportSchema.parse(JSON.parse(bytes.toString("utf8"))),
        options.verify ?? true,
      )),
    );
  }
  return summary;
}

async function summarizeReport(stack: LocalStack, report: WindowReport, verify: boolean): Promise<DeviceSummary[]> {
  const rows: DeviceSummary[] = [];
  for (const ring of report.rings) {
    for (const rollout of ring.rollouts) {
      for (const o of rollout.outcomes) {
        const result = o.result;
        const verification =
          result === undefined || !verify ? undefined : await verifyRun(stack.deps.evidence, result.run);
        rows.push({
          tenant: report.tenant,
          client: o.client,
          window: report.windowId,
          ring: o.ring,
          device: o.device,
          runId: o.runId,
          status: o.status,
          exitCode: result?.exitCode ?? null,
          exitName: result?.exitName ?? null,
          installed: result?.counts.installed ?? 0,
          failed: result?.counts.failed ?? 0,
          regressions: result?.counts.regressions ?? 0,
          merkleRoot: result?.merkleRoot ?? null,
          verified: verification === undefined ? null : verification.ok,
          evidencePath:
            result === undefined ? null : `${stack.deps.config.evidence.container}/${result.evidencePrefix}`,
          ...(o.reason === undefined ? {} : { reason: o.reason }),
        });
      }
    }
  }
  return rows;
}

const ENDED = new Set(["Completed", "Failed", "Terminated"]);

async function reportProgress(stack: LocalStack, onProgress: (devices: DeviceProgress[]) => void): Promise<void> {
  const all = await stack.host.client.getStatusAll();
  const devices = all
    .filter((s) => s.name === ORCHESTRATORS.devicePatchRun)
    .map((s) => {
      const status = s.customStatus as DeviceRunStatus | undefined;
      const done = ENDED.has(String(s.runtimeStatus));
      return {
        device: status?.device ?? s.instanceId,
        stage: done ? String(s.runtimeStatus).toLowerCase() : (status?.stage ?? "starting"),
        progress: done ? 1 : (status?.progress ?? 0),
        done,
      };
    })
    .sort((a, b) => a.device.localeCompare(b.device));
  onProgress(devices);
}
