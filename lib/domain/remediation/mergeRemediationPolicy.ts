import type { PolicyLayer } from "../../schemas/policyLayer";
import type { RemediationPolicy } from "../../schemas/remediationPolicy";

interface NamedLayer {
  name: string;
  layer: PolicyLayer;
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The remediation section of the overlay (docs/policy-overlay.md): `mode` is replaced by the most specific layer that
 * sets it; `keepKbs` is a union (a tenant's "never uninstall this" survives a client's own list). Undefined when no
 * layer mentions remediation at all: the effective policy then has no such section and the run remediates nothing.
 * Provenance is written into `provenance` like the other sections' (`remediation.mode`, `remediation.keepKbs[KB…]`).
 */
export function mergeRemediationPolicy(
  layers: readonly NamedLayer[],
  provenance: Map<string, string>,
): RemediationPolicy | undefined {
  const setting = layers.filter(({ layer }) => layer.remediation !== undefined);
  if (setting.length === 0) return undefined;
  let mode: RemediationPolicy["mode"] = "none";
  let modeFrom: string | undefined;
  const keep = new Map<string, string>();
  for (const { name, layer } of setting) {
    const section = layer.remediation!;
    if (section.mode !== undefined) {
      mode = section.mode;
      modeFrom = name;
    }
    for (const kb of section.keepKbs ?? []) if (!keep.has(kb)) keep.set(kb, name);
  }
  // A layer that lists keepKbs but no mode leaves the default (none): provenance then names no layer for the mode.
  if (modeFrom !== undefined) provenance.set("remediation.mode", modeFrom);
  const keepKbs = [...keep.keys()].sort(compare);
  for (const kb of keepKbs) provenance.set(`remediation.keepKbs[${kb}]`, keep.get(kb)!);
  return { mode, keepKbs };
}
