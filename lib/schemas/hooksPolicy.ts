import { z } from "zod";
import { GateNameSchema, MspScriptsByOsSchema } from "./gatesPolicy";
import { LoadBalancerDrainHookSchema } from "./loadBalancerHook";

/** A service a hook stops or starts, and how long it may take to reach the state (then the hook fails). */
export const HookServiceSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9@._-]{0,255}$/),
    timeoutSeconds: z.number().int().min(1).max(600).default(120),
  })
  .strict();

/**
 * One hook, typed. `stopServices` stops the services in the order given (dependents first: a service with running
 * dependents is refused, as Windows' Stop-Service does without -Force) and verifies each stopped; every service a
 * pre-install hook stopped is started again by the run's `always` point in the reverse order and verified running.
 * `startServices` starts in the order given and verifies running. `script` runs an MSP script pinned by SHA-256
 * (maintenance mode, a load-balancer drain through the MSP's own tooling): exit 0 is success.
 */
export const HookSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("stopServices"), services: z.array(HookServiceSchema).min(1).max(20) }).strict(),
  z.object({ type: z.literal("startServices"), services: z.array(HookServiceSchema).min(1).max(20) }).strict(),
  z.object({ type: z.literal("script"), name: GateNameSchema, script: MspScriptsByOsSchema }).strict(),
  LoadBalancerDrainHookSchema,
]);
export type Hook = z.infer<typeof HookSchema>;

/**
 * Hooks that act (issue 20), by point. Every point is folded into a run command the run sends anyway (no extra
 * command, ARM request or history episode on the happy path):
 * - `preInstall`: in the install's run command, before the install. When one of its actions fails, the install
 *   script installs nothing in that command (exit 170 `170.hook-failed`).
 * - `postInstall`: in the install's run command, after the install (each attempt).
 * - `postReboot`: at the start of the post stage's command, once the install ran (after the reboot when one was made).
 * - `onFailure`: when the run failed after its install began (an install failure, a failed pre-install hook, a run
 *   given up on the orchestrator's failure path): at the start of the post stage's command, or in the failure path's
 *   own bounded command; before `always`. A failed gate or pre stage changed nothing and runs no hook.
 * - `always`: after the others, whether the install succeeded, failed, hung or was given up, together with the
 *   restart of every service `preInstall` stopped; on the failure path too (lib/deviceRun/hooks/runFailureHooks.ts).
 * Each point is an ordered list; a more specific layer that sets a point replaces it whole (order matters, a union
 * would reorder it).
 */
export const HooksPolicySchema = z
  .object({
    preInstall: z.array(HookSchema).max(20).optional(),
    postInstall: z.array(HookSchema).max(20).optional(),
    postReboot: z.array(HookSchema).max(20).optional(),
    onFailure: z.array(HookSchema).max(20).optional(),
    always: z.array(HookSchema).max(20).optional(),
  })
  .strict()
  .superRefine(onlyPreInstallDrains);
export type HooksPolicy = z.infer<typeof HooksPolicySchema>;

/** The hook points, in the order a run reaches them. */
export const HOOK_POINTS = ["preInstall", "postInstall", "postReboot", "onFailure", "always"] as const;
export type HookPoint = (typeof HOOK_POINTS)[number];
/** A load-balancer drain is a pre-install hook, at most one (its restore runs at `always` by itself). */
function onlyPreInstallDrains(hooks: Record<string, readonly Hook[] | undefined>, ctx: z.RefinementCtx): void {
  for (const [point, list] of Object.entries(hooks)) {
    (list ?? []).forEach((hook, i) => {
      if (hook.type !== "loadBalancerDrain") return;
      if (point !== "preInstall")
        ctx.addIssue({
          code: "custom",
          path: [point, i, "type"],
          message: "loadBalancerDrain is a preInstall hook: its restore runs at always by itself",
        });
      else if (list?.findIndex((h) => h.type === "loadBalancerDrain") !== i)
        ctx.addIssue({ code: "custom", path: [point, i, "type"], message: "at most one loadBalancerDrain hook" });
    });
  }
}
