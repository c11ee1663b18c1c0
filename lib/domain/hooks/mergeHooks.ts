import { HOOK_POINTS, type HooksPolicy } from "../../schemas/hooksPolicy";

// The `hooks` section of the policy overlay (docs/policy-overlay.md): each point is an ordered list, replaced whole by
// the most specific layer that sets it (a union would reorder a stop sequence). Provenance: `hooks.<point>`.

/** Merges the layers' hooks (given Global → Device); undefined when no layer sets any. */
export function mergeHooks(
  layers: readonly { name: string; layer: { hooks?: HooksPolicy | undefined } }[],
  provenance: Map<string, string>,
): HooksPolicy | undefined {
  const out: HooksPolicy = {};
  let set = false;
  for (const point of HOOK_POINTS) {
    for (const { name, layer } of layers) {
      const hooks = layer.hooks?.[point];
      if (hooks === undefined) continue;
      out[point] = hooks;
      provenance.set(`hooks.${point}`, name);
      set = true;
    }
  }
  return set ? out : undefined;
}
