import type { OrchestrationContext, OrchestrationHandler } from "durable-functions";
import { admitDevices, isWindowError, resolveLimit, type StopReason } from "../lib/domain/window/rateControl";
import { windowTotals } from "../lib/domain/window/summarizeWindow";
import type { DeviceRunInput, DeviceRunResult } from "../lib/schemas/deviceRun";
import {
  DeploymentRunInputSchema,
  type DeploymentReport,
  type DeploymentResult,
  type DeploymentSpec,
} from "../lib/schemas/deployment";
import type { DeviceOutcome, WindowTarget } from "../lib/schemas/window";
import { ORCHESTRATORS } from "./activityNames";
import { callActivity } from "./callActivity";
import { ControlChannel } from "./runControl";

/** The ring every deployment outcome carries (the report reuses the window's device outcome). */
export const DEPLOYMENT_RING = "deployment";

/** What the deployment shows while it runs (GET …/deployments/{id} reads it). */
export interface DeploymentStatus {
  deploymentId: string;
  control: "running" | "paused" | "cancelled";
  targets: number;
  started: number;
  finished: number;
  pending: number;
  errors: number;
}

function stopText(stop: StopReason | undefined): string {
  if (stop === undefined) return "not started";
  if (stop.kind === "max-errors") return `maxErrors (${stop.maxErrors}) exceeded with ${stop.errors} errors`;
  if (stop.kind === "cutoff") return `deployment cutoff ${stop.cutoff} passed`;
  if (stop.kind === "cancelled") return `cancelled by ${stop.by} at ${stop.at}`;
  return `ring ${stop.ring} gate closed`;
}

function runInputOf(spec: DeploymentSpec, target: WindowTarget, runId: string): DeviceRunInput {
  return {
    run: { tenant: spec.tenant, client: target.client, device: target.device.name, runId },
    device: target.device,
    trigger: {
      kind: "deployment",
      deploymentId: spec.id,
      requestedBy: spec.requestedBy,
      kbs: spec.kbs,
      packages: spec.packages,
    },
    dryRun: spec.dryRun,
  };
}

/**
 * An emergency deployment: the requested KBs / packages on the resolved devices now, each device as the normal
 * device run (devicePatchRun: lock, the device's effective policy with its gates, hooks and remediation, evidence,
 * exit code) with only the approved set replaced (restrictToDeployment.ts). Rate control as a window's rollout
 * (maxConcurrency waves, maxErrors, a cutoff), here over the whole deployment; pause / resume / cancel between waves
 * (runControl.ts). Ends with deployment-report.json as evidence and the deployment's CloudEvents.
 */
export const emergencyDeployment: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = DeploymentRunInputSchema.parse(context.df.getInput());
  const spec = input.deployment;
  const total = input.targets.length;
  const limits = {
    maxConcurrency: resolveLimit(spec.maxConcurrency, total, "concurrency"),
    maxErrors: resolveLimit(spec.maxErrors, total, "errors"),
  };
  const pending = [...input.targets].sort(
    (a, b) => a.client.localeCompare(b.client) || a.device.name.localeCompare(b.device.name),
  );
  const outcomes: DeviceOutcome[] = [];
  const decisions: string[] = [
    `${total} devices targeted, ${input.skipped.length} resources skipped; limits: maxConcurrency ${limits.maxConcurrency}, maxErrors ${limits.maxErrors}`,
  ];
  const control = new ControlChannel(context, "deployment", () => publish());
  const instanceIdOf = (t: WindowTarget): string => `${spec.instanceId}:${t.client}:${t.device.name}`;
  const date = spec.requestedAt.slice(0, 10).replace(/-/g, "");
  let errors = 0;
  let stop: StopReason | undefined;
  const publish = (): void => {
    context.df.setCustomStatus({
      deploymentId: spec.id,
      control: control.current,
      targets: total,
      started: outcomes.length,
      finished: outcomes.length,
      pending: pending.length,
      errors,
    } satisfies DeploymentStatus);
  };
  publish();

  while (pending.length > 0) {
    // A paused deployment waits for resume or cancel without a deadline (a resume past the cutoff ends it there).
    const state = yield* control.checkpoint();
    publish();
    const cancelled = control.cancelledBy;
    if (state === "cancelled" && cancelled !== undefined) {
      stop = { kind: "cancelled", by: cancelled.by, at: cancelled.at };
      break;
    }
    const admit = admitDevices(
      { pending: pending.length, running: 0, errors },
      limits,
      context.df.currentUtcDateTime,
      new Date(spec.cutoff),
    );
    if (admit.stop !== undefined || admit.start === 0) {
      stop = admit.stop;
      break;
    }
    const wave = pending.splice(0, admit.start).map((target) => {
      const runId = `d${date}-${context.df.newGuid(`${target.client}/${target.device.name}`)}`;
      return {
        target,
        runId,
        task: context.df.callSubOrchestrator(
          ORCHESTRATORS.devicePatchRun,
          runInputOf(spec, target, runId),
          instanceIdOf(target),
        ),
      };
    });
    context.df.setCustomStatus({
      deploymentId: spec.id,
      control: control.current,
      targets: total,
      started: outcomes.length + wave.length,
      finished: outcomes.length,
      pending: pending.length,
      errors,
    } satisfies DeploymentStatus);
    const settled = yield* control.settle<DeviceRunResult>(wave.map((w) => w.task));
    for (const [i, w] of wave.entries()) {
      const ids = {
        client: w.target.client,
        ring: DEPLOYMENT_RING,
        device: w.target.device.name,
        instanceId: instanceIdOf(w.target),
        runId: w.runId,
      };
      const s = settled[i];
      if (s === undefined || !s.ok) {
        errors += 1;
        outcomes.push({ ...ids, status: "orchestration-failed", reason: s === undefined ? "no outcome" : s.error });
      } else {
        if (isWindowError(s.value.exitCode)) errors += 1;
        outcomes.push({ ...ids, status: "completed", result: s.value });
      }
    }
    publish();
  }
  if (stop !== undefined) decisions.push(`stopped starting devices: ${stopText(stop)}`);
  for (const target of pending)
    outcomes.push({
      client: target.client,
      ring: DEPLOYMENT_RING,
      device: target.device.name,
      instanceId: instanceIdOf(target),
      runId: "",
      status: stop?.kind === "cancelled" ? "cancelled" : "not-started",
      reason: stopText(stop),
    });

  control.drain();
  const log = control.log;
  const report: DeploymentReport = {
    schemaVersion: 1,
    tenant: spec.tenant,
    deploymentId: spec.id,
    deployment: spec,
    finishedAt: context.df.currentUtcDateTime.toISOString(),
    limits,
    outcomes,
    ...(stop === undefined ? {} : { stop }),
    skipped: input.skipped,
    decisions,
    ...(log.length === 0 ? {} : { control: log }),
    // The window's totals over one pseudo-ring: the same accounting (every target completed, failed or not started).
    totals: windowTotals(
      [{ ring: DEPLOYMENT_RING, started: true, rollouts: [{ client: "", ring: DEPLOYMENT_RING, limits, outcomes }] }],
      total,
    ),
  };
  const written = yield* callActivity(context, "writeDeploymentReport", report);
  const result: DeploymentResult = {
    reportPath: written.path,
    reportSha256: written.sha256,
    totals: report.totals,
    ...(stop === undefined ? {} : { stop }),
  };
  try {
    yield* callActivity(context, "publishDeploymentEvents", written);
  } catch (error) {
    // As for windows: the evidence stands without its alert; the result says the alert is missing.
    result.eventsError = error instanceof Error ? error.message : String(error);
  }
  return result;
};
