// The live progress display of `npm start` / `patchpilot run` in a terminal: one compact table redrawn in place —
// devices per stage, done / failed / running counts, a bar and the simulated time — however many devices run.
// Not a TTY (CI logs, pipes): runScenarioCommand prints plain lines per stage change instead.
import type { DeviceProgress } from "./runWindows";

const BAR_WIDTH = 30;

export function formatProgressTable(devices: readonly DeviceProgress[], simulatedNow: Date, startedAt: Date): string {
  const total = devices.length;
  const failed = devices.filter((d) => d.done && d.stage !== "completed").length;
  const completed = devices.filter((d) => d.done && d.stage === "completed").length;
  const running = total - completed - failed;
  const fraction = total === 0 ? 0 : devices.reduce((sum, d) => sum + Math.min(1, Math.max(0, d.progress)), 0) / total;
  const filled = Math.round(fraction * BAR_WIDTH);
  const stages = new Map<string, number>();
  for (const d of devices) if (!d.done) stages.set(d.stage, (stages.get(d.stage) ?? 0) + 1);
  const minutes = Math.max(0, Math.round((simulatedNow.getTime() - startedAt.getTime()) / 60_000));
  const lines = [
    `[${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}%  ` +
      `${total} devices: ${completed} done, ${failed} failed, ${running} running  ` +
      `simulated ${simulatedNow.toISOString().slice(0, 16).replace("T", " ")}Z (+${minutes} min)`,
  ];
  const rows = [...stages.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  for (const [stage, count] of rows) lines.push(`  ${String(count).padStart(5)}  ${stage}`);
  return lines.join("\n");
}
