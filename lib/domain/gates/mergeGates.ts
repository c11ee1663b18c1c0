import type { GatesPolicy } from "../../schemas/gatesPolicy";

// The `gates` section of the policy overlay (docs/policy-overlay.md): scalars and the backup gate replace (the most
// specific layer that sets one wins, whole); required services are a union over the layers (a tenant's requirement
// survives a client listing its own); custom checks are a keyed union by name, the most specific definition winning
// whole, like apps. Provenance: `gates.<field>`, `gates.requiredServices[<name>]`, `gates.custom[<name>]`.

const SCALARS = ["minFreeDiskMb", "minFreeDiskPercent", "noPendingReboot", "backup"] as const;

/** Code-unit order, as the rest of the overlay: the output must not depend on the host's locale. */
const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Merges the layers' gates (given Global → Device); undefined when no layer sets any (the run has no gates). */
export function mergeGates(
  layers: readonly { name: string; layer: { gates?: GatesPolicy | undefined } }[],
  provenance: Map<string, string>,
): GatesPolicy | undefined {
  const withGates = layers.filter((l) => l.layer.gates !== undefined);
  if (withGates.length === 0) return undefined;
  const out: Record<string, unknown> = {};
  for (const field of SCALARS) {
    for (const { name, layer } of withGates) {
      const value = layer.gates?.[field];
      if (value === undefined) continue;
      out[field] = value;
      provenance.set(`gates.${field}`, name);
    }
  }
  const services = new Map<string, string>();
  const custom = new Map<string, { check: NonNullable<GatesPolicy["custom"]>[number]; name: string }>();
  for (const { name, layer } of withGates) {
    for (const service of layer.gates?.requiredServices ?? []) if (!services.has(service)) services.set(service, name);
    for (const check of layer.gates?.custom ?? []) custom.set(check.name, { check, name });
  }
  if (services.size > 0) {
    const names = [...services.keys()].sort(byCodeUnit);
    out["requiredServices"] = names;
    for (const service of names) provenance.set(`gates.requiredServices[${service}]`, services.get(service)!);
  }
  if (custom.size > 0) {
    const names = [...custom.keys()].sort(byCodeUnit);
    out["custom"] = names.map((n) => custom.get(n)!.check);
    for (const n of names) provenance.set(`gates.custom[${n}]`, custom.get(n)!.name);
  }
  return out;
}
