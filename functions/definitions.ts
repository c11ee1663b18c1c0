import { app, type EventGridHandler, type HttpHandler, type HttpMethod, type TimerHandler } from "@azure/functions";
import * as df from "durable-functions";
import type { ActivityHandler, EntityHandler, OrchestrationHandler } from "durable-functions";
import type { KeyCredential, TokenCredential } from "@azure/core-auth";
import type { PipelinePolicy } from "@azure/core-rest-pipeline";
import { DefaultAzureCredential } from "@azure/identity";
import { ACTIVITIES, ORCHESTRATORS } from "../orchestrators/activityNames";
import { clientRollout } from "../orchestrators/clientRollout";
import { devicePatchRun } from "../orchestrators/devicePatchRun";
import { maintenanceWindow } from "../orchestrators/maintenanceWindow";
import { createArmClients, type ArmClients } from "../lib/azure/armClients";
import { createEventPublisher, type EventPublisher } from "../lib/azure/events/eventPublisher";
import { IngestionLedger } from "../lib/azure/logs/ingestionLedger";
import { createLogsIngester, type LogsIngester } from "../lib/azure/logs/logsIngester";
import { armConnectionFromSettings } from "../lib/azure/armConnection";
import { createRunCommands, type RunCommands } from "../lib/azure/runCommands";
import { createStorageClients, type StorageClients } from "../lib/azure/storageClients";
import { loadConfigFromProcessEnv, type Config } from "../lib/config/config";
import { createEvidenceDeps } from "../lib/evidence/createEvidenceDeps";
import type { EvidenceDeps } from "../lib/evidence/runEvidence";
import { DeviceLocks } from "../lib/locks/deviceLock";
import { PolicyStore } from "../lib/policy/policyStore";
import { ApiKeyStore } from "../lib/api/auth/apiKeyStore";
import { AuditLog } from "../lib/api/audit/auditLog";
import { apiDefinitions } from "./http/api/apiRoutes";
import { exportDefinitions } from "./exportDefinitions";
import { makeAdvanceDeviceRun } from "./activities/advanceDeviceRun";
import type { DeviceRunDeps } from "../lib/deviceRun/deps";
import { makeDiscoverWindowTargets } from "./activities/discoverWindowTargets";
import { makeFinishDeviceRun } from "./activities/finishDeviceRun";
import { makeStartDeviceRun } from "./activities/startDeviceRun";
import { makePublishRunEvents } from "./activities/publishRunEvents";
import { makePublishWindowEvents } from "./activities/publishWindowEvents";
import { makeWriteWindowReport } from "./activities/writeWindowReport";
import { INGEST_FUNCTION_NAME, makeIngestPatchEvents } from "./eventGrid/ingestPatchEvents";
import { makeStartDueWindows, START_DUE_WINDOWS_SCHEDULE } from "./timers/startDueWindows";

/** What every handler may need, built once per process. */
export interface AppDeps {
  config: Config;
  storage: StorageClients;
  evidence: EvidenceDeps;
  arm: ArmClients;
  runCommands: RunCommands;
  policies: PolicyStore;
  locks: DeviceLocks;
  apiKeys: ApiKeyStore;
  auditLog: AuditLog;
  /** Publishes run and window CloudEvents; undefined when no topic is configured. */
  events: EventPublisher | undefined;
  /** Sends rows to Log Analytics; undefined when Logs Ingestion is not configured. */
  logsIngester: LogsIngester | undefined;
  ingestionLedger: IngestionLedger;
  /** Wall-clock time for HTTP handlers (audit events, run ids); the local host passes its virtual clock. */
  clock: () => Date;
}

/** Options of {@link createAppDeps}. */
export interface AppDepsOptions {
  /** ARM credential; DefaultAzureCredential (the app's managed identity in Azure) when omitted. The local CLI and tests pass the fleet emulator's. */
  armCredential?: TokenCredential;
  /** Extra per-call ARM pipeline policies, appended after the app's own (tests: the fleet emulator's clock header). */
  armPolicies?: PipelinePolicy[];
  /** The clock HTTP handlers read (default: the system clock). */
  clock?: () => Date;
  /** How to reach the Event Grid topic; the managed identity when omitted. Locally: the local topic's key and CA. */
  eventGrid?: { credential: TokenCredential | KeyCredential; ca?: string };
  /** How to reach the Logs Ingestion endpoint; the managed identity when omitted. Locally: a static token and CA. */
  logsIngestion?: { credential: TokenCredential; ca?: string };
}

/** Builds every client from config (call lazily: it reads the ARM CA file when one is configured). */
export function createAppDeps(config: Config, options: AppDepsOptions = {}): AppDeps {
  const storage = createStorageClients(config);
  const connection = armConnectionFromSettings(config.arm, options.armCredential ?? new DefaultAzureCredential());
  const arm = createArmClients(
    options.armPolicies === undefined ? connection : { ...connection, additionalPolicies: options.armPolicies },
  );
  const clock = options.clock ?? (() => new Date());
  const { eventGridTopicEndpoint, logsIngestion } = config.alerts;
  let identity: DefaultAzureCredential | undefined;
  const appIdentity = (): DefaultAzureCredential => (identity ??= new DefaultAzureCredential());
  return {
    config,
    storage,
    evidence: createEvidenceDeps(config, storage),
    arm,
    runCommands: createRunCommands({ arm, storage }),
    policies: new PolicyStore(storage.policies),
    locks: new DeviceLocks(storage.tables.locks),
    apiKeys: new ApiKeyStore(storage.tables.apiKeys),
    auditLog: new AuditLog(storage.tables.auditLog),
    events:
      eventGridTopicEndpoint === undefined
        ? undefined
        : createEventPublisher({
            endpoint: eventGridTopicEndpoint,
            credential: options.eventGrid?.credential ?? appIdentity(),
            ca: options.eventGrid?.ca,
          }),
    logsIngester:
      logsIngestion === undefined
        ? undefined
        : createLogsIngester({
            ...logsIngestion,
            credential: options.logsIngestion?.credential ?? appIdentity(),
            ca: options.logsIngestion?.ca,
          }),
    ingestionLedger: new IngestionLedger(storage.tables.ingestions, { clock }),
    clock,
  };
}

/** The device-run activities' slice of the app's dependencies. */
export function deviceRunDeps(deps: AppDeps): DeviceRunDeps {
  return {
    evidence: deps.evidence,
    runCommands: deps.runCommands,
    arm: deps.arm,
    policies: deps.policies,
    locks: deps.locks,
    staging: deps.storage.staging,
  };
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

/** An Event Grid trigger (CloudEvents 1.0 schema subscriptions: the handler receives the event as sent). */
export interface EventGridDefinition {
  kind: "eventGrid";
  name: string;
  handler: EventGridHandler<unknown>;
}

/** One function of the app: Azure registers it with df.app / app, the local host mounts the same handler. */
export type FunctionDefinition =
  | ActivityDefinition
  | OrchestratorDefinition
  | EntityDefinition
  | HttpDefinition
  | TimerDefinition
  | EventGridDefinition;

/** Every function definition, with handlers bound to dependencies that are resolved on first use. */
export function createDefinitions(getDeps: () => AppDeps): FunctionDefinition[] {
  const activity = (name: string, handler: ActivityHandler): ActivityDefinition => ({
    kind: "activity",
    name,
    handler,
  });
  const orchestrator = (name: string, handler: OrchestrationHandler): OrchestratorDefinition => ({
    kind: "orchestrator",
    name,
    handler,
  });
  return [
    activity(ACTIVITIES.startDeviceRun, (input: unknown) => makeStartDeviceRun(deviceRunDeps(getDeps()))(input)),
    activity(ACTIVITIES.advanceDeviceRun, (input: unknown) => makeAdvanceDeviceRun(deviceRunDeps(getDeps()))(input)),
    activity(ACTIVITIES.finishDeviceRun, (input: unknown) => makeFinishDeviceRun(deviceRunDeps(getDeps()))(input)),
    activity(ACTIVITIES.discoverWindowTargets, (input: unknown) => {
      const deps = getDeps();
      return makeDiscoverWindowTargets({ arm: deps.arm, subscriptionIds: deps.config.arm.subscriptionIds })(input);
    }),
    activity(ACTIVITIES.writeWindowReport, (input: unknown) => makeWriteWindowReport(getDeps())(input)),
    activity(ACTIVITIES.publishRunEvents, (input: unknown) => {
      const deps = getDeps();
      return makePublishRunEvents({ evidence: deps.evidence, publisher: deps.events })(input);
    }),
    activity(ACTIVITIES.publishWindowEvents, (input: unknown) => {
      const deps = getDeps();
      return makePublishWindowEvents({ evidence: deps.evidence, publisher: deps.events })(input);
    }),
    {
      kind: "eventGrid",
      name: INGEST_FUNCTION_NAME,
      handler: (event, context) => {
        const deps = getDeps();
        return makeIngestPatchEvents({ ledger: deps.ingestionLedger, ingester: deps.logsIngester })(event, context);
      },
    },
    orchestrator(ORCHESTRATORS.devicePatchRun, devicePatchRun),
    orchestrator(ORCHESTRATORS.clientRollout, clientRollout),
    orchestrator(ORCHESTRATORS.maintenanceWindow, maintenanceWindow),
    {
      kind: "timer",
      name: "startDueWindows",
      schedule: START_DUE_WINDOWS_SCHEDULE,
      durableClient: true,
      handler: makeStartDueWindows(() => ({ listWindows: () => getDeps().policies.listWindows() })),
    },
    ...exportDefinitions(getDeps),
    ...apiDefinitions(getDeps),
  ];
}

let deps: AppDeps | undefined;
// Config is parsed on first invocation, not at import: a bad setting then fails the invocation with a ConfigError
// naming the field, instead of the worker failing to load with no function listed.
function processDeps(): AppDeps {
  if (deps === undefined) {
    const config = loadConfigFromProcessEnv();
    deps = createAppDeps(config);
  }
  return deps;
}

/** The app's definitions as registered in Azure. */
export const definitions = createDefinitions(processDeps);

/** Registers one definition with the Functions host (a no-op with a warning in a plain Node process: @azure/functions test mode). */
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
    case "eventGrid":
      app.eventGrid<unknown>(definition.name, { handler: definition.handler });
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
