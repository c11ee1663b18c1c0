import { writeFileSync } from "node:fs";
import { apiExamples } from "./apiExamples";
import { readScenarioFile } from "../fleet/scenario/parseScenario";
import { ingestedRows } from "./dashboardPage";
import { startLocalStack, type LocalStack } from "./localStack";
import { formatExitCodeCounts, formatSummary } from "./printSummary";
import { formatProgressTable } from "./progressTable";
import { runWindows, type DeviceProgress } from "./runWindows";

/** What `patchpilot demo` / `patchpilot run` were asked to do. */
export interface RunScenarioCommand {
  scenarioFile: string;
  /** Virtual clock: reboots and waits are skipped. */
  fast: boolean;
  /** Keep Azurite, the emulator and the host (with its HTTP front) running until Ctrl-C. */
  serve: boolean;
  jsonOut?: string;
  out?: (text: string) => void;
}

/** Live progress: redrawn in place on a terminal, a line per change of stage otherwise (CI logs). */
function progressPrinter(out: (text: string) => void, now: () => Date): (devices: DeviceProgress[]) => void {
  let drawn = 0;
  const seen = new Map<string, string>();
  const startedAt = now();
  return (devices) => {
    if (process.stdout.isTTY) {
      // A compact table redrawn in place (progressTable.ts): its height depends on the stages, not the devices.
      if (drawn > 0) process.stdout.write(`\x1b[${drawn}A\x1b[0J`);
      const text = formatProgressTable(devices, now(), startedAt);
      process.stdout.write(`${text}\n`);
      drawn = text.split("\n").length;
      return;
    }
    for (const d of devices) {
      if (seen.get(d.device) === d.stage) continue;
      seen.set(d.device, d.stage);
      out(`  ${d.device}: ${d.stage}`);
    }
  };
}

/** One line on the alerting chain: events published by type, rows ingested, anything dead-lettered. */
function formatAlerts(stack: LocalStack): string {
  const byType = new Map<string, number>();
  for (const e of stack.eventGrid.published) byType.set(e.type, (byType.get(e.type) ?? 0) + 1);
  const types = [...byType.entries()].map(([type, n]) => `${n} ${type.replace(/^io\.patchpilot\./, "")}`).join(", ");
  const rows = ingestedRows(stack.logs);
  const dead = stack.eventGrid.deadLettered.length;
  return `events: ${stack.eventGrid.published.length} CloudEvents (${types}); Log Analytics rows: ${rows.runs.length} runs, ${rows.updates.length} updates, ${rows.windows.length} windows${dead > 0 ? `; ${dead} DEAD-LETTERED` : ""}`;
}

/** Runs every window of a scenario on the local stack and prints the outcome; returns the process exit status. */
export async function runScenarioCommand(command: RunScenarioCommand): Promise<number> {
  const out = command.out ?? ((text: string) => console.log(text));
  const scenario = readScenarioFile(command.scenarioFile);
  const wallStart = Date.now();
  out(
    `PatchPilot: ${scenario.name ?? command.scenarioFile} — ${scenario.devices.length} devices, ${scenario.windows.length} maintenance windows`,
  );
  out(
    command.fast
      ? "clock: VIRTUAL — reboots, polls and waits are skipped, not slept; timings below are simulated"
      : "clock: real — reboots and waits take their real time",
  );
  // The HTTP front also without --serve: the local Event Grid topic delivers to its Event Grid webhook, so the
  // events → Log Analytics rows chain runs in every demo.
  const stack = await startLocalStack({ scenario, clock: command.fast ? "virtual" : "real", httpPort: 0 });
  let failed = false;
  // Stopped once, whoever asks first (a signal, or the end of the command).
  let stopping: Promise<void> | undefined;
  const stopStack = (): Promise<void> => (stopping ??= stack.stop());
  // Ctrl-C (or SIGTERM) while windows run: stop the stack, which removes its temp folders and Azurite's, then exit
  // with the conventional 128 + signal number. Under --serve the wait below takes the signal instead.
  let serving = false;
  const interrupt = (signal: NodeJS.Signals): void => {
    if (serving) return;
    out(`\n${signal}: stopping the local stack`);
    void stopStack().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  };
  process.on("SIGINT", interrupt);
  process.on("SIGTERM", interrupt);
  try {
    out(
      `Azurite ${stack.azurite.blobEndpoint}, fleet emulator ${stack.emulator.endpoint}, Durable host ${stack.host.rpcBaseUrl}`,
    );
    if (stack.seededLocks.length > 0)
      out(`lock held by another run (from the scenario): ${stack.seededLocks.join(", ")}`);
    const summary = await runWindows(
      stack,
      progressPrinter(out, () => stack.host.now()),
    );
    // Deliveries run after the topic accepted the events; wait for them, then for the functions they started.
    await stack.eventGrid.idle();
    await stack.host.runUntilIdle({ advance: false });
    out("");
    for (const w of summary.windows)
      out(`window ${w.instanceId}: ${w.status}${w.decisions.length > 0 ? ` — ${w.decisions.join("; ")}` : ""}`);
    out("");
    out(formatSummary(summary));
    out("");
    out(`exit codes: ${formatExitCodeCounts(summary.devices)}`);
    out(
      `${summary.simulatedMinutes} simulated minutes in ${((Date.now() - wallStart) / 1000).toFixed(1)} s of wall time`,
    );
    out(
      `evidence: container "${stack.deps.config.evidence.container}" in Azurite (${stack.azurite.blobEndpoint}); window reports under {tenant}/_windows/`,
    );
    out(formatAlerts(stack));
    if (command.jsonOut !== undefined) {
      writeFileSync(command.jsonOut, `${JSON.stringify(summary.devices, null, 2)}\n`);
      out(`summary written to ${command.jsonOut}`);
    }
    const unverified = summary.devices.filter((d) => d.verified === false);
    if (unverified.length > 0) out(`VERIFICATION FAILED for ${unverified.map((d) => d.device).join(", ")}`);
    failed = unverified.length > 0 || summary.windows.some((w) => w.status !== "Completed");
    if (command.serve) {
      out("");
      out("serving until Ctrl-C:");
      // The front serves it only with the host's system key (as Azure's host does); the RPC endpoint is loopback only.
      out(`  Durable management API: ${stack.host.rpcBaseUrl}`);
      if (stack.host.httpBaseUrl !== undefined)
        out(
          `                          ${stack.host.httpBaseUrl}/runtime/webhooks/durabletask/instances?code=${encodeURIComponent(stack.host.systemKey)}`,
        );
      if (stack.dashboardUrl !== undefined) out(`  fleet dashboard:        ${stack.dashboardUrl}`);
      if (stack.host.httpBaseUrl !== undefined) out(`  HTTP API:               ${stack.host.httpBaseUrl}/api/v1/`);
      for (const line of await apiExamples(stack, summary.devices)) out(line);
      out(`  Azurite (evidence):     ${stack.storage.evidence.connectionString}`);
      out(`  Azurite (task hub):     ${stack.storage.taskHub.connectionString}`);
      out(`  Azurite (staging):      ${stack.storage.staging.connectionString}`);
      out(`  fleet emulator (ARM):   ${stack.emulator.endpoint}`);
      serving = true;
      await new Promise<void>((resolve) => {
        process.once("SIGINT", () => resolve());
        process.once("SIGTERM", () => resolve());
      });
    }
  } finally {
    process.off("SIGINT", interrupt);
    process.off("SIGTERM", interrupt);
    await stopStack();
  }
  return failed ? 1 : 0;
}
