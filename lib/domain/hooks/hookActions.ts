import type { OsFamily } from "../../schemas/common";
import type { HooksParams } from "../../schemas/device/parameters";
import type { Hook, HookPoint, HooksPolicy } from "../../schemas/hooksPolicy";

// What a hook point sends to the device, in order (issue 20). Pure: the policy and the OS decide; the SHA-256 check of
// MSP script texts is the caller's (lib/deviceRun/hooks), which passes `verified`.

/** One action before its script text is checked: a script action carries the policy's script for this OS. */
export type PlannedAction =
  | { kind: "stop" | "start"; target: string; timeoutSeconds: number }
  | { kind: "script"; target: string; script: { sha256: string; text: string; timeoutSeconds: number } | undefined };

function actionsOf(hooks: readonly Hook[], os: OsFamily): PlannedAction[] {
  return hooks.flatMap((hook): PlannedAction[] => {
    switch (hook.type) {
      case "stopServices":
        return hook.services.map((s) => ({ kind: "stop", target: s.name, timeoutSeconds: s.timeoutSeconds }));
      case "startServices":
        return hook.services.map((s) => ({ kind: "start", target: s.name, timeoutSeconds: s.timeoutSeconds }));
      case "script":
        return [{ kind: "script", target: hook.name, script: hook.script[os] }];
      case "loadBalancerDrain":
        return []; // an ARM-side action of the app (lib/deviceRun/loadBalancer), not a device command
    }
  });
}

/** The pre-install point's actions. */
export function preInstallActions(hooks: HooksPolicy | undefined, os: OsFamily): PlannedAction[] {
  return actionsOf(hooks?.preInstall ?? [], os);
}

/**
 * The `always` point's actions: first every service the pre-install point stopped, started again in the reverse
 * order (a stop sequence lists dependents first, so their dependencies start before them), then the policy's own
 * `always` hooks (maintenance mode off, an LB restore). Starting a service already running succeeds, so it is safe
 * when the install never ran.
 */
export function alwaysActions(hooks: HooksPolicy | undefined, os: OsFamily): PlannedAction[] {
  const stopped = preInstallActions(hooks, os).filter((a) => a.kind === "stop");
  const restart: PlannedAction[] = [...stopped]
    .reverse()
    .map((a) => ({ kind: "start", target: a.target, timeoutSeconds: a.kind === "script" ? 120 : a.timeoutSeconds }));
  return [...restart, ...actionsOf(hooks?.always ?? [], os)];
}

/** The post-install point's actions (in the install's command, after the install). */
export function postInstallActions(hooks: HooksPolicy | undefined, os: OsFamily): PlannedAction[] {
  return actionsOf(hooks?.postInstall ?? [], os);
}

/** The post-reboot point's actions (first in the post stage's command, after the reboot when one was made). */
export function postRebootActions(hooks: HooksPolicy | undefined, os: OsFamily): PlannedAction[] {
  return actionsOf(hooks?.postReboot ?? [], os);
}

/** The on-failure point's actions (a failed run, before `always`). */
export function onFailureActions(hooks: HooksPolicy | undefined, os: OsFamily): PlannedAction[] {
  return actionsOf(hooks?.onFailure ?? [], os);
}

/** Each point's actions. */
export const POINT_ACTIONS: Record<HookPoint, (hooks: HooksPolicy | undefined, os: OsFamily) => PlannedAction[]> = {
  preInstall: preInstallActions,
  postInstall: postInstallActions,
  postReboot: postRebootActions,
  onFailure: onFailureActions,
  always: alwaysActions,
};

/** True when the point has something to do on either OS (the run's policy flags, set once at the start). */
export function pointHasActions(hooks: HooksPolicy | undefined, point: HookPoint): boolean {
  const actions = POINT_ACTIONS[point];
  return actions(hooks, "windows").length > 0 || actions(hooks, "linux").length > 0;
}

/** True when the point has something to do (the planner adds its step only then). */
export const hasActions = (actions: readonly PlannedAction[]): boolean => actions.length > 0;

/** The device script's parameters: service actions as they are, scripts only when `verified` (else refused). */
export function toParams(
  actions: readonly PlannedAction[],
  verified: (script: { sha256: string; text: string }) => boolean,
): { actions: HooksParams["actions"]; refused: string[] } {
  const out: HooksParams["actions"] = [];
  const refused: string[] = [];
  for (const a of actions) {
    if (a.kind !== "script") out.push({ ...a, script: "" });
    else if (a.script === undefined)
      continue; // no script for this OS: the hook does not apply here
    else if (!verified(a.script)) refused.push(a.target);
    else out.push({ kind: "script", target: a.target, timeoutSeconds: a.script.timeoutSeconds, script: a.script.text });
  }
  return { actions: out, refused };
}
