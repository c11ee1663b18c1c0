import type { PolicyLayer } from "../../schemas/policyLayer";
import { DEFAULT_SNAPSHOTS, type SnapshotsPolicy } from "../../schemas/snapshotsPolicy";

interface NamedLayer {
  name: string;
  layer: PolicyLayer;
}

/**
 * The snapshots section of the overlay (docs/policy-overlay.md): each field (`mode`, `disks`, `retentionDays`) is
 * replaced by the most specific layer that sets it, and its provenance names that layer (`snapshots.mode`, ...).
 * Undefined when no layer mentions snapshots: the effective policy then has no such section and the run takes none.
 * A field no layer sets keeps its default and names no layer.
 */
export function mergeSnapshots(
  layers: readonly NamedLayer[],
  provenance: Map<string, string>,
): SnapshotsPolicy | undefined {
  const setting = layers.filter(({ layer }) => layer.snapshots !== undefined);
  if (setting.length === 0) return undefined;
  const merged: SnapshotsPolicy = { ...DEFAULT_SNAPSHOTS };
  for (const { name, layer } of setting) {
    const section = layer.snapshots!;
    for (const key of ["mode", "disks", "retentionDays"] as const) {
      if (section[key] === undefined) continue;
      (merged as Record<typeof key, unknown>)[key] = section[key];
      provenance.set(`snapshots.${key}`, name);
    }
  }
  return merged;
}
