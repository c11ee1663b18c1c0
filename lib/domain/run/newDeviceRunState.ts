import type { DeviceRunState } from "../../schemas/deviceRun";
import type { EffectivePolicy } from "../../schemas/policyLayer";
import { alwaysActions, hasActions, pointHasActions, preInstallActions } from "../hooks/hookActions";
import { drainHookOf } from "../loadBalancer/planLoadBalancer";

/** The state of a run that has just started: nothing submitted, nothing stored yet. */
export function newDeviceRunState(policy: EffectivePolicy, now: Date): DeviceRunState {
  return {
    stage: "pre",
    commands: [],
    pollAttempt: 0,
    nextCheckAt: now.toISOString(),
    installAttempt: 0,
    policy: {
      rebootPolicy: policy.update.rebootPolicy,
      maxReboots: policy.update.maxReboots,
      maxInstallMinutes: policy.update.maxInstallMinutes,
      rebootTimeoutMinutes: policy.update.rebootTimeoutMinutes,
      ...(policy.gates === undefined ? {} : { gates: true }),
      // Either OS's actions: the flags only decide whether the step is planned; an OS without actions sends none.
      ...(hasActions([...preInstallActions(policy.hooks, "windows"), ...preInstallActions(policy.hooks, "linux")])
        ? { preInstallHooks: true }
        : {}),
      ...(hasActions([...alwaysActions(policy.hooks, "windows"), ...alwaysActions(policy.hooks, "linux")])
        ? { alwaysHooks: true }
        : {}),
      ...(pointHasActions(policy.hooks, "postInstall") ? { postInstallHooks: true } : {}),
      ...(pointHasActions(policy.hooks, "postReboot") ? { postRebootHooks: true } : {}),
      ...(pointHasActions(policy.hooks, "onFailure") ? { onFailureHooks: true } : {}),
      ...(drainHookOf(policy.hooks) === undefined
        ? {}
        : { loadBalancerDrainSeconds: drainHookOf(policy.hooks)?.drainSeconds }),
      ...(policy.remediation === undefined || policy.remediation.mode === "none"
        ? {}
        : { remediation: policy.remediation.mode }),
      ...(policy.snapshots?.mode === "beforeInstall" ? { snapshots: true } : {}),
    },
    reboot: { required: false, requested: false, count: 0 },
    counts: { approved: 0, installed: 0, failed: 0, regressions: 0 },
    lockContended: false,
    stored: [],
    events: [{ at: now.toISOString(), type: "run.started" }],
  };
}
