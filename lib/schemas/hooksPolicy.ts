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
 * Hooks that act (issue 20), by point. `preInstall` runs in the install's run command, before the install;
 * `always` runs at the start of the post stage (before the post snapshot and validation), whether the install
 * succeeded or failed, together with the restart of every service `preInstall` stopped. Each point is an ordered list;
 * a more specific layer that sets a point replaces it whole (order matters, a union would reorder it).
 */
export const HooksPolicySchema = z
  .object({
    preInstall: z.array(HookSchema).max(20).optional(),
    always: z.array(HookSchema).max(20).optional(),
  })
  .strict()
  .superRefine(onlyPreInstallDrains);
export type HooksPolicy = z.infer<typeof HooksPolicySchema>;

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
