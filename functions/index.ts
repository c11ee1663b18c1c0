import { app, type HttpHandler, type HttpMethod, type TimerHandler } from "@azure/functions";
import * as df from "durable-functions";
import type { ActivityHandler, EntityHandler, OrchestrationHandler } from "durable-functions";
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

/** A Durable activity: called by orchestrators, does the I/O. */
export interface ActivityDefinition {
  kind: "activity";
  name: string;
  handler: ActivityHandler;
}

/** A Durable orchestrator: a replayed generator; deterministic code only. */
export interface OrchestratorDefinition {
  kind: "orchestrator";
  name: string;
  handler: OrchestrationHandler;
}

/** A Durable entity (registered in Azure; the local host does not run entities). */
export interface EntityDefinition {
  kind: "entity";
  name: string;
  handler: EntityHandler<unknown>;
}

/** An HTTP trigger; `durableClient` asks for a Durable client input (df.getClient(context)). */
export interface HttpDefinition {
  kind: "http";
  name: string;
  handler: HttpHandler;
  /** Route template as in Azure (`runs/{runId}`); the function name when omitted. */
  route?: string;
  methods?: HttpMethod[];
  authLevel?: "anonymous" | "function" | "admin";
  durableClient?: boolean;
}

/** A timer trigger on a six-field NCRONTAB schedule (`{second} {minute} {hour} {day} {month} {day-of-week}`). */
export interface TimerDefinition {
  kind: "timer";
  name: string;
  handler: TimerHandler;
  schedule: string;
  runOnStartup?: boolean;
  durableClient?: boolean;
}

/** One function of the app: Azure registers it with df.app / app, the local host mounts the same handler. */
export type FunctionDefinition =
  | ActivityDefinition
  | OrchestratorDefinition
  | EntityDefinition
  | HttpDefinition
  | TimerDefinition;

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

/** Registers one definition with the Functions host (a no-op in a plain Node process, where @azure/functions is in test mode). */
export function registerDefinition(definition: FunctionDefinition): void {
  switch (definition.kind) {
    case "activity":
      df.app.activity(definition.name, { handler: definition.handler });
      return;
    case "orchestrator":
      df.app.orchestration(definition.name, definition.handler);
      return;
    case "entity":
      df.app.entity(definition.name, definition.handler);
      return;
    case "http":
      app.http(definition.name, {
        handler: definition.handler,
        ...(definition.route === undefined ? {} : { route: definition.route }),
        ...(definition.methods === undefined ? {} : { methods: definition.methods }),
        ...(definition.authLevel === undefined ? {} : { authLevel: definition.authLevel }),
        extraInputs: definition.durableClient ? [df.input.durableClient()] : [],
      });
      return;
    case "timer":
      app.timer(definition.name, {
        handler: definition.handler,
        schedule: definition.schedule,
        runOnStartup: definition.runOnStartup ?? false,
        extraInputs: definition.durableClient ? [df.input.durableClient()] : [],
      });
      return;
  }
}

for (const definition of definitions) registerDefinition(definition);
