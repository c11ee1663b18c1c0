import type { HooksParams } from "../../../../lib/schemas/device/parameters";
import type { HooksData } from "../../../../lib/schemas/device/hooks";
import { setHookFence } from "../hookFences";
import { sameService } from "../serviceControl";
import { iso, type Answer, type AnswerContext } from "./answer";

const ACTION_MS = 2_000;

/**
 * `hooks`: carries out each action on the device's services as hooks.ps1 / hooks.sh do. A stop is refused while a
 * running service depends on it (Win32_Service StopService answers 3); a start is refused while a service it depends
 * on is not running (13). MSP scripts exit with the scenario's `gateProbes.hookScripts[name]` (default 0).
 */
export function answerHooks({ state, startedAt: t, runCommandName }: AnswerContext, params: HooksParams): Answer {
  const spec = state.profile.spec;
  const dependsOn = (name: string): string[] =>
    (spec.services ?? []).find((s) => sameService(s.name, name))?.dependsOn ?? [];
  const actions: NonNullable<HooksData["actions"]> = params.actions.map((action, i) => {
    const at = t + (i + 1) * ACTION_MS;
    const base = { kind: action.kind, target: action.target, durationMs: ACTION_MS };
    if (action.kind === "script") {
      const code = spec.gateProbes?.hookScripts[action.target] ?? 0;
      return { ...base, ok: code === 0, state: null, exitCode: code, detail: `exit ${code}` };
    }
    const services = state.services(at - 1);
    const service = services.find((s) => sameService(s.name, action.target));
    if (service === undefined) return { ...base, ok: false, state: null, exitCode: null, detail: "service not found" };
    const windows = state.profile.os === "windows";
    const shown = (running: boolean): string =>
      windows ? (running ? "Running" : "Stopped") : running ? "active" : "inactive";
    if (action.kind === "stop") {
      const dependents = services.filter(
        (s) => s.state === "Running" && dependsOn(s.name).some((d) => sameService(d, service.name)),
      );
      if (dependents.length > 0)
        return {
          ...base,
          ok: false,
          state: shown(service.state === "Running"),
          exitCode: null,
          detail: `StopService returned 3 (other running services depend on it: ${dependents.map((s) => s.name).join(", ")})`,
        };
      state.serviceControl.record({ at, name: service.name, state: "Stopped", owner: runCommandName });
      return { ...base, ok: true, state: shown(false), exitCode: null, detail: "StopService returned 0; now stopped" };
    }
    const down = dependsOn(service.name).filter(
      (d) => services.find((s) => sameService(s.name, d))?.state !== "Running",
    );
    if (down.length > 0)
      return {
        ...base,
        ok: false,
        state: shown(service.state === "Running"),
        exitCode: null,
        detail: `StartService returned 13 (a service it depends on is not running: ${down.join(", ")})`,
      };
    state.serviceControl.record({ at, name: service.name, state: "Running", owner: runCommandName });
    return { ...base, ok: true, state: shown(true), exitCode: null, detail: "StartService returned 0; now running" };
  });
  if (params.fence !== undefined) {
    const failed = actions.filter((a) => !a.ok).map((a) => `${a.kind} ${a.target}`);
    setHookFence(state, params.fence, failed.length > 0 ? failed.join(", ") : undefined);
  }
  const end = t + (actions.length + 1) * ACTION_MS;
  const data: HooksData = { startedAt: iso(t), finishedAt: iso(end), actions };
  return { data, errors: [], durationMs: end - t };
}
