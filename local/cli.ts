#!/usr/bin/env node
import { existsSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { computeExitCode } from "../lib/deviceRun/computeExitCode";
import { createStorageClients, ensureStorage } from "../lib/azure/storageClients";
import { ConfigError, loadConfigFromProcessEnv, parseConfig, type Config } from "../lib/config/config";
import { createEvidenceDeps } from "../lib/evidence/createEvidenceDeps";
import { findRunRef } from "../lib/evidence/findRun";
import { formatVerificationReport, verifyRun } from "../lib/evidence/verifyRun";
import type { RunRef } from "../lib/schemas/common";
import { startAzurite } from "./azurite";
import { at, writeSampleRun, type SampleScenario } from "./demo/sampleRun";
import { ScenarioError } from "./fleet/scenario/parseScenario";
import { runScenarioCommand } from "./run/runScenarioCommand";
import { API_KEY_USAGE, runApiKeyCommand } from "./cli/apiKeyCommand";
import { runVerifyPackageCommand } from "./cli/verifyPackageCommand";
import { MANAGE_USAGE, runManageCommand } from "./cli/manageCommand";
import { runImportGlobalCommand } from "./cli/importGlobalCommand";

const SCENARIOS: Record<string, SampleScenario> = {
  success: {},
  regression: { regression: true },
  "install-failure": { failedKb: "KB5012346" },
  "reboot-not-allowed": { rebootPolicy: "Never" },
  "diagnostics-required": { diagnosticsFail: true, diagnosticsRequired: true },
  "lock-contention": { lockHeldBy: "run-held-by-another-0001" },
};

const USAGE = `usage:
  patchpilot demo [--no-serve] [--json OUT] [--real-clock]
      npm start: one maintenance window per tenant window over the simulated demo fleet (local/scenarios/demo.json),
      entirely local; live progress, a table per device, every run verified; then serves until Ctrl-C
  patchpilot run --scenario FILE [--json OUT] [--fast] [--serve]
      the same for any scenario file; --fast uses the virtual clock (reboots and waits are skipped);
      --json writes the per-device summary; exit status 0 when the windows ran, whatever the devices' codes
  patchpilot sample [--scenario ${Object.keys(SCENARIOS).join("|")}] [--keep]
      write one hand-built sample device run, seal it, compute its exit code and verify it
  patchpilot verify --run <runId>
      re-hash a run's artifacts against the index, Merkle root and event chain (settings from the environment)
  patchpilot verify --package <export.zip> [--checkpoint <checkpoint.txt>] [--key <vkey or file>]
      verify an evidence export offline (no Azure, no network): every artifact against the index, every inclusion
      proof against its Merkle root, every event chain; exit status 1 naming the first bad artifact`;

/** Runs the sample device run end to end against the given storage and prints the outcome. */
export async function runDemo(
  config: Config,
  scenarioName: string,
  log: (line: string) => void,
): Promise<{ exitCode: number; verified: boolean; run: RunRef }> {
  const scenario = SCENARIOS[scenarioName];
  if (scenario === undefined)
    throw new Error(`unknown scenario ${scenarioName}; one of ${Object.keys(SCENARIOS).join(", ")}`);
  const clients = createStorageClients(config);
  await ensureStorage(clients);
  const deps = createEvidenceDeps(config, clients);
  const run: RunRef = {
    tenant: "contoso-msp",
    client: "acme",
    device: "WIN-SERVER01",
    runId: `demo-${scenarioName}-20260120`,
  };

  log(`PatchPilot sample run ${run.runId} on ${run.tenant}/${run.client}/${run.device} (scenario: ${scenarioName})`);
  const { stored, seal } = await writeSampleRun(deps, run, scenario);
  log(`  wrote ${stored.length} artifacts, sealed: merkle root ${seal.manifest.merkle.root}`);
  const result = await computeExitCode(deps, { run, decidedAt: at(57) });
  log(
    `  exit code ${result.exitCode} ${result.name} (rule ${result.rule}), recorded in ${result.path} sha256 ${result.sha256}`,
  );
  const report = await verifyRun(deps, run);
  log(formatVerificationReport(report));
  log(`  storage: ${deps.store.stats.blobWrites} blob writes, ${deps.index.stats.transactions} table writes`);
  return { exitCode: result.exitCode, verified: report.ok, run };
}

async function sample(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { scenario: { type: "string", default: "success" }, keep: { type: "boolean", default: false } },
  });
  const azurite = await startAzurite({ inMemory: true });
  try {
    const config = parseConfig({
      AzureWebJobsStorage: azurite.connectionString,
      PATCHPILOT_EVIDENCE_CONNECTION_STRING: azurite.connectionString,
      PATCHPILOT_ALLOW_INSECURE_STORAGE: "true",
    });
    const outcome = await runDemo(config, values.scenario, (l) => console.log(l));
    if (values.keep) {
      console.log(
        `\nAzurite keeps running; in another shell:\n  PATCHPILOT_EVIDENCE_CONNECTION_STRING='${azurite.connectionString}' AzureWebJobsStorage=UseDevelopmentStorage=true PATCHPILOT_ALLOW_INSECURE_STORAGE=true npx patchpilot verify --run ${outcome.run.runId}\nCtrl-C to stop.`,
      );
      await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
    }
    return outcome.verified ? 0 : 1;
  } finally {
    await azurite.stop();
  }
}

async function verify(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      run: { type: "string" },
      package: { type: "string" },
      checkpoint: { type: "string" },
      key: { type: "string" },
    },
  });
  if (values.package !== undefined)
    return runVerifyPackageCommand(values.package, (line) => console.log(line), {
      ...(values.checkpoint === undefined ? {} : { checkpoint: values.checkpoint }),
      ...(values.key === undefined ? {} : { key: values.key }),
    });
  if (!values.run) {
    console.error(USAGE);
    return 2;
  }
  const config = loadConfigFromProcessEnv();
  const deps = createEvidenceDeps(config, createStorageClients(config));
  const run = await findRunRef(deps.index, values.run);
  if (run === undefined) {
    console.error(`run ${values.run}: no indexed artifacts found`);
    return 1;
  }
  const report = await verifyRun(deps, run);
  console.log(formatVerificationReport(report));
  return report.ok ? 0 : 1;
}

async function demo(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      "no-serve": { type: "boolean", default: false },
      json: { type: "string" },
      "real-clock": { type: "boolean", default: false },
    },
  });
  return runScenarioCommand({
    scenarioFile: DEMO_SCENARIO,
    fast: !values["real-clock"],
    serve: !values["no-serve"],
    ...(values.json === undefined ? {} : { jsonOut: values.json }),
  });
}

async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      scenario: { type: "string" },
      json: { type: "string" },
      fast: { type: "boolean", default: false },
      serve: { type: "boolean", default: false },
    },
  });
  if (values.scenario === undefined) {
    console.error(USAGE);
    return 2;
  }
  return runScenarioCommand({
    scenarioFile: values.scenario,
    fast: values.fast,
    serve: values.serve,
    ...(values.json === undefined ? {} : { jsonOut: values.json }),
  });
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "demo") return demo(rest);
  if (command === "run") return run(rest);
  if (command === "sample") return sample(rest);
  if (command === "verify") return verify(rest);
  if (command === "apikey") return runApiKeyCommand(rest, loadConfigFromProcessEnv(), (line) => console.log(line));
  if (command === "policy" && rest[0] === "import-global") {
    const { values } = parseArgs({ args: rest.slice(1), options: { file: { type: "string" } }, strict: true });
    if (values.file === undefined) {
      console.error("usage: patchpilot policy import-global --file GLOBAL.json");
      return 2;
    }
    const clients = createStorageClients(loadConfigFromProcessEnv());
    await ensureStorage(clients);
    return runImportGlobalCommand(clients.policies, values.file, new Date(), (line) => console.log(line));
  }
  if (command === "policy" || command === "window" || command === "ring") {
    return runManageCommand(command, rest, {
      url: process.env.PATCHPILOT_URL,
      key: process.env.PATCHPILOT_API_KEY,
      out: (line) => console.log(line),
      err: (line) => console.error(line),
    });
  }
  console.error(`${USAGE}\n${API_KEY_USAGE.replace(/^usage:\n/, "")}\n${MANAGE_USAGE.replace(/^usage[^\n]*\n/, "")}`);
  return 2;
}

/** The demo fleet, found beside the compiled CLI (dist/local) or the source (local). */
const DEMO_SCENARIO =
  [path.resolve(__dirname, "scenarios/demo.json"), path.resolve(__dirname, "../../local/scenarios/demo.json")].find(
    (f) => existsSync(f),
  ) ?? "local/scenarios/demo.json";

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error instanceof ConfigError || error instanceof ScenarioError ? error.message : error);
      process.exitCode = 2;
    },
  );
}
