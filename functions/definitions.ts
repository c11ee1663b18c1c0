// The app's dependencies and the shapes of its function definitions: a leaf module that handlers import for types
// (functions/functionList.ts holds the list itself, so no handler's import leads back to every other handler).
import type { EventGridHandler, HttpHandler, HttpMethod, TimerHandler } from "@azure/functions";
import type { ActivityHandler, EntityHandler, OrchestrationHandler } from "durable-functions";
import type { Config } from "../lib/config/config";
import type { KeyCredential, TokenCredential } from "@azure/core-auth";
import type { PipelinePolicy } from "@azure/core-rest-pipeline";
import { DefaultAzureCredential } from "@azure/identity";
import { createArmClients, type ArmClients } from "../lib/azure/armClients";
import { createEventPublisher, type EventPublisher } from "../lib/azure/events/eventPublisher";
import { IngestionLedger } from "../lib/azure/logs/ingestionLedger";
import { createLogsIngester, type LogsIngester } from "../lib/azure/logs/logsIngester";
import { armConnectionFromSettings } from "../lib/azure/armConnection";
import { createRunCommands, type RunCommands } from "../lib/azure/runCommands";
import { createStorageClients, type StorageClients } from "../lib/azure/storageClients";
import { createEvidenceDeps } from "../lib/evidence/createEvidenceDeps";
import { createTransparencyLog } from "../lib/transparency/createTransparencyLog";
import type { EvidenceDeps } from "../lib/evidence/runEvidence";
import { DeviceLocks } from "../lib/locks/deviceLock";
import { PolicyStore } from "../lib/policy/policyStore";
import { QuarantineStore } from "../lib/quarantine/quarantineStore";
import { ApiKeyStore } from "../lib/api/auth/apiKeyStore";
import { AuditLog } from "../lib/api/audit/auditLog";
import type { DeviceRunDeps } from "../lib/deviceRun/deps";

/** What every handler may need, built once per process. */
export interface AppDeps {
  config: Config;
  storage: StorageClients;
  evidence: EvidenceDeps;
  arm: ArmClients;
  runCommands: RunCommands;
  policies: PolicyStore;
  locks: DeviceLocks;
  quarantine: QuarantineStore;
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
    evidence: withTransparencyLog(createEvidenceDeps(config, storage), config, storage),
    arm,
    runCommands: createRunCommands({ arm, storage }),
    policies: new PolicyStore(storage.policies),
    locks: new DeviceLocks(storage.tables.locks),
    quarantine: new QuarantineStore(storage.tables.quarantine),
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
    quarantine: deps.quarantine,
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

/** The evidence dependencies with the tenants' transparency logs, when a checkpoint key is configured. */
function withTransparencyLog(evidence: EvidenceDeps, config: Config, storage: StorageClients): EvidenceDeps {
  const log = createTransparencyLog(config.evidence.transparency, storage.tables.transparency);
  return log === undefined ? evidence : { ...evidence, log };
}
