import type { SystemSnapshot } from "../../schemas/artifacts/snapshot";
import type { ScriptSource } from "../../schemas/artifacts/source";
import type { BaselineOutput } from "../../schemas/device/baseline";
import { describeMissing, provenance, type Conversion } from "./conversion";

/**
 * `baseline` output → `baseline.json` / `snapshot.json`. Null list sections become `[]` and stay visible through
 * `collectionErrors` ("could not look", not "none"). The snapshot is refused when a section it cannot do without is
 * null: `os` (the diff's build comparison), `lastBootTime` (the reboot proof) and `pendingReboot` (the post
 * snapshot's flag decides 150 vs 0, and neither `true` nor `false` would be a fact).
 */
export function toSystemSnapshot(output: BaselineOutput, source: ScriptSource): Conversion<SystemSnapshot> {
  const d = output.data;
  const missing = (["os", "lastBootTime", "pendingReboot"] as const).filter((section) => d[section] === null);
  if (d.os === null || d.lastBootTime === null || d.pendingReboot === null) {
    return { ok: false, reason: `baseline cannot stand without ${describeMissing(missing, output.errors)}` };
  }
  return {
    ok: true,
    value: {
      ...provenance(source, output.errors),
      schemaVersion: 1,
      capturedAt: d.capturedAt,
      os: { ...d.os },
      installedUpdates: d.installedUpdates ?? [],
      updateHistory: d.updateHistory ?? [],
      services: d.services ?? [],
      drivers: d.drivers ?? [],
      apps: d.apps ?? [],
      pendingReboot: { pending: d.pendingReboot.pending, signals: [...d.pendingReboot.signals] },
      lastBootTime: d.lastBootTime,
      disks: d.disks ?? [],
      ...(d.installInProgress === undefined || d.installInProgress === null
        ? {}
        : { installInProgress: { ...d.installInProgress } }),
      // Absent, not [], when not collected: a drift source on ports must not read "could not look" as "none listen".
      ...(d.listeningPorts === undefined || d.listeningPorts === null ? {} : { listeningPorts: d.listeningPorts }),
    },
  };
}
