import * as df from "durable-functions";
import type { ActivityHandler } from "durable-functions";
import { createStorageClients } from "../lib/azure/storageClients";
import { loadConfigFromProcessEnv, type Config } from "../lib/config/config";
import { createEvidenceDeps } from "../lib/evidence/createEvidenceDeps";
import type { EvidenceDeps } from "../lib/evidence/runEvidence";
import { makeComputeExitCode } from "./activities/computeExitCode";

/** What every handler may need, built once per process. */
export interface AppDeps {
  config: Config;
  evidence: EvidenceDeps;
}

/** One function of the app: Azure registers it with df.app / app, the local host mounts the same handler. */
export type FunctionDefinition = { kind: "activity"; name: string; handler: ActivityHandler };

/** Every function definition, with handlers bound to dependencies that are resolved on first use. */
export function createDefinitions(getDeps: () => AppDeps): FunctionDefinition[] {
  return [
    {
      kind: "activity",
      name: "computeExitCode",
      handler: (input: unknown) => makeComputeExitCode(getDeps().evidence)(input),
    },
  ];
}

let deps: AppDeps | undefined;
// Config is parsed on first invocation, not at import: a bad setting then fails the invocation with a ConfigError
// naming the field, instead of the worker failing to load with no function listed.
function processDeps(): AppDeps {
  if (deps === undefined) {
    const config = loadConfigFromProcessEnv();
    deps = { config, evidence: createEvidenceDeps(config, createStorageClients(config)) };
  }
  return deps;
}

/** The app's definitions as registered in Azure. */
export const definitions = createDefinitions(processDeps);

for (const definition of definitions) {
  // In a plain Node process (tests, the local host) @azure/functions is in test mode and skips registration.
  if (definition.kind === "activity") df.app.activity(definition.name, { handler: definition.handler });
}
