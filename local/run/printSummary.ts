import { progressBar, renderTable } from "./renderTable";
import type { DeviceProgress, DeviceSummary, WindowsSummary } from "./runWindows";

/** The end-of-window table: one line per device. */
export function formatSummary(summary: WindowsSummary): string {
  const rows = [...summary.devices]
    .sort(
      (a, b) =>
        a.tenant.localeCompare(b.tenant) || a.client.localeCompare(b.client) || a.device.localeCompare(b.device),
    )
    .map((d) => [
      d.tenant,
      d.client,
      d.device,
      d.exitCode === null ? d.status : `${d.exitCode} ${d.exitName ?? ""}`,
      d.installed,
      d.failed,
      d.regressions,
      d.verified === null ? "-" : d.verified ? "yes" : "NO",
      d.merkleRoot === null ? (d.reason ?? "") : `${d.merkleRoot.slice(0, 16)}…`,
      d.evidencePath ?? "",
    ]);
  return renderTable(
    [
      "tenant",
      "client",
      "device",
      "exit",
      "installed",
      "failed",
      "regressions",
      "verified",
      "merkle root / reason",
      "evidence",
    ],
    rows,
  );
}

/** Counts per exit code, e.g. `0 Success: 14, 220 ValidationFailure: 2`. */
export function formatExitCodeCounts(devices: readonly DeviceSummary[]): string {
  const counts = new Map<string, number>();
  for (const d of devices) {
    const key = d.exitCode === null ? d.status : `${d.exitCode} ${d.exitName ?? ""}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort(([a], [b]) => a.localeCompare(b, undefined, { numeric: true }))
    .map(([k, n]) => `${k}: ${n}`)
    .join(", ");
}

/** Live progress, one line per device. */
export function formatProgress(devices: readonly DeviceProgress[]): string {
  const width = Math.max(6, ...devices.map((d) => d.device.length));
  return devices.map((d) => `${d.device.padEnd(width)}  ${progressBar(d.progress)}  ${d.stage}`).join("\n");
}
