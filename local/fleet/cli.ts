import { writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { startFleetEmulator } from "./armServer";
import { buildFleet } from "./scenario/buildFleet";
import { makeTempDir } from "../run/tempDirs";
import { readScenarioFile } from "./scenario/parseScenario";

// `npm run fleet -- --scenario local/scenarios/demo.json [--port 8443] [--latency-ms 0]`: the emulator alone, on the
// wall clock, until Ctrl-C. Prints the endpoint and the CA file to put in PATCHPILOT_ARM_ENDPOINT / _CA_FILE.
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      scenario: { type: "string", default: "local/scenarios/demo.json" },
      port: { type: "string", default: "0" },
      host: { type: "string", default: "127.0.0.1" },
      "latency-ms": { type: "string" },
    },
  });
  const clock = { now: () => new Date() };
  const fleet = buildFleet(readScenarioFile(values.scenario), clock);
  const latency = values["latency-ms"] === undefined ? {} : { latencyMs: Number(values["latency-ms"]) };
  const emulator = await startFleetEmulator({
    fleet,
    clock,
    host: values.host,
    port: Number(values.port),
    arm: latency,
  });
  // Removed at exit (the stop handlers below exit the process): a CA file must not outlive the emulator it trusts.
  const caFile = path.join(makeTempDir("fleet"), "fleet-ca.pem");
  writeFileSync(caFile, emulator.ca);
  const subscriptions = [...new Set(fleet.devices.map((d) => d.placement.subscriptionId))];
  process.stdout.write(
    [
      `fleet emulator: ${fleet.devices.length} devices, ${fleet.scaleSets.length} scale sets from ${values.scenario}`,
      `PATCHPILOT_ARM_ENDPOINT=${emulator.endpoint}`,
      `PATCHPILOT_ARM_CA_FILE=${caFile}`,
      `PATCHPILOT_SUBSCRIPTION_IDS=${subscriptions.join(",")}`,
      "any bearer token is accepted; Ctrl-C stops",
      "",
    ].join("\n"),
  );
  const stop = (): void => {
    emulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
