import { writeFileSync } from "node:fs";
import { makeTempDir, removeTempDir } from "./tempDirs";
import path from "node:path";
import { createAppDeps, type AppDeps } from "../../functions/definitions";
import { createDefinitions } from "../../functions/functionList";
import { ensureStorage } from "../../lib/azure/storageClients";
import { parseConfig } from "../../lib/config/config";
import { AzureKeyCredential } from "@azure/core-auth";
import { BlobServiceClient } from "@azure/storage-blob";
import { EVENT_TYPES } from "../../lib/azure/events/eventData";
import { INGEST_FUNCTION_NAME } from "../../functions/eventGrid/ingestPatchEvents";
import { startAzurite, type AzuriteInstance } from "../azurite";
import { EVENT_GRID_WEBHOOK_PATH } from "../durable/eventGridWebhook";
import {
  startLocalEventGridTopic,
  type LocalEventGridTopic,
  type LocalEventGridTopicOptions,
} from "../eventGrid/eventGridTopic";
import { startLocalLogsIngestion, type LocalLogsIngestion } from "../logsIngestion/logsIngestionEndpoint";
import { createDashboardPage, DASHBOARD_PATH } from "./dashboardPage";
import { createLocalDurableHost, type LocalDurableHost } from "../durable";
import { startFleetEmulator, type FleetEmulator } from "../fleet/armServer";
import type { ArmBehaviour, FleetClock } from "../fleet/contract";
import { LocalFleetCredential } from "../fleet/localCredential";
import { buildFleet, type SimulatedFleet } from "../fleet/scenario/buildFleet";
import type { Scenario } from "../fleet/scenario/scenarioSchema";
import { seedPolicyStore } from "../fleet/scenario/seedPolicies";
import { seedLocks } from "./seedLocks";
import { localCheckpointContainerUrl } from "./checkpointContainer";

/** Everything PatchPilot needs on one machine: Azurite, the fleet emulator, the app's deps and the Durable host. */
export interface LocalStack {
  /** The evidence account's Azurite (evidence, index tables, locks, policies). */
  azurite: AzuriteInstance;
  /**
   * The storage roles, each its own Azurite process as each is its own account in Azure: the Durable task hub
   * (AzureWebJobsStorage), the evidence account, and Run Command output staging. A role's request load and stored
   * blobs never slow another's lookups.
   */
  storage: { taskHub: AzuriteInstance; evidence: AzuriteInstance; staging: AzuriteInstance };
  emulator: FleetEmulator;
  fleet: SimulatedFleet;
  deps: AppDeps;
  host: LocalDurableHost;
  /** The local Event Grid topic the app publishes run and window events to. */
  eventGrid: LocalEventGridTopic;
  /** The local Logs Ingestion endpoint ingestPatchEvents sends rows to (the dashboard reads them). */
  logs: LocalLogsIngestion;
  /** The fleet dashboard's URL, when the HTTP front runs. */
  dashboardUrl: string | undefined;
  /** Devices whose lock another run holds (seeded from the scenario). */
  seededLocks: string[];
  stop(): Promise<void>;
}

/** How to start the stack. */
export interface LocalStackOptions {
  scenario: Scenario;
  /** "virtual" skips reboots and waits (time jumps to the next timer); "real" waits for them. */
  clock: "real" | "virtual";
  /** Serve the app's HTTP triggers on this port (0 = a free one); omitted = no HTTP front. */
  httpPort?: number;
  /** Where virtual time starts (default: now, to the minute). */
  startTime?: Date;
  /** Overrides of the scenario's ARM knobs on the fleet emulator (tests: small throttling buckets). */
  arm?: Partial<ArmBehaviour>;
  log?: (level: "info" | "warn" | "error", message: string) => void;
  /** Extra app settings (e.g. PATCHPILOT_TRUST_CLIENT_PRINCIPAL for tests of Entra ID callers). */
  settings?: Record<string, string>;
  /** Faults of the local Event Grid topic's deliveries (tests: duplicated or retried deliveries). */
  eventGridFaults?: LocalEventGridTopicOptions["faults"];
}

/**
 * Starts Azurite (in memory), the fleet emulator over the scenario on the host's clock, the local Event Grid topic
 * and Logs Ingestion endpoint, the app's real clients pointed at all of them; seeds the scenario's policies and lock
 * holders, and starts the local Durable host over the same function definitions Azure registers (with an HTTP front,
 * the topic delivers to its Event Grid webhook and the front serves the dashboard). Timer triggers stay off: the
 * caller starts windows on demand.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const startTime = options.startTime ?? new Date(Math.floor(Date.now() / 60_000) * 60_000);
  let host: LocalDurableHost | undefined;
  // One clock for the emulator's devices and the Durable host: a virtual reboot takes virtual minutes on both.
  const clock: FleetClock = { now: () => (host === undefined ? startTime : host.now()) };
  const cleanup: (() => Promise<void>)[] = [];
  const start = async (): Promise<AzuriteInstance> => {
    // Three processes start at once on a machine that may be busy: give each longer than one alone would need.
    const started = await startAzurite({ inMemory: true, startTimeoutMs: 120_000 });
    cleanup.push(() => started.stop());
    return started;
  };
  try {
    // Settled, not Promise.all: every process that did start is in `cleanup` before a failure is thrown.
    const starts = await Promise.allSettled([start(), start(), start()]);
    const [taskHubAzurite, azurite, stagingAzurite] = starts.map((s) => {
      if (s.status === "rejected") throw s.reason;
      return s.value;
    }) as [AzuriteInstance, AzuriteInstance, AzuriteInstance];

    const fleet = buildFleet(options.scenario, clock);
    const emulator = await startFleetEmulator({
      fleet,
      clock,
      ...(options.arm === undefined ? {} : { arm: options.arm }),
    });
    cleanup.unshift(() => emulator.close());
    const eventGrid = await startLocalEventGridTopic({
      ...(options.log === undefined ? {} : { log: options.log }),
      ...(options.eventGridFaults === undefined ? {} : { faults: options.eventGridFaults }),
    });
    cleanup.unshift(() => eventGrid.close());
    const logs = await startLocalLogsIngestion(options.log === undefined ? {} : { log: options.log });
    cleanup.unshift(() => logs.close());
    const caDir = makeTempDir("fleet-ca");
    cleanup.unshift(() => Promise.resolve(removeTempDir(caDir)));
    const caFile = path.join(caDir, "fleet-ca.pem");
    writeFileSync(caFile, emulator.ca);
    // The checkpoint key is created on first start in the stack's data dir; checkpoints go to their own container.
    const checkpointContainerUrl = await localCheckpointContainerUrl(azurite.connectionString);
    const config = parseConfig({
      PATCHPILOT_TRANSPARENCY_KEY_FILE: path.join(caDir, "transparency", "checkpoint-ed25519.pem"),
      PATCHPILOT_CHECKPOINT_CONTAINER_URL: checkpointContainerUrl,
      AzureWebJobsStorage: taskHubAzurite.connectionString,
      PATCHPILOT_EVIDENCE_CONNECTION_STRING: azurite.connectionString,
      PATCHPILOT_ALLOW_INSECURE_STORAGE: "true",
      PATCHPILOT_ARM_ENDPOINT: emulator.endpoint,
      PATCHPILOT_ARM_CA_FILE: caFile,
      PATCHPILOT_SUBSCRIPTION_IDS: options.scenario.subscriptions.map((s) => s.id).join(","),
      PATCHPILOT_EVENTGRID_TOPIC_ENDPOINT: eventGrid.endpoint,
      PATCHPILOT_LOGS_INGESTION_ENDPOINT: logs.endpoint,
      PATCHPILOT_LOGS_DCR_IMMUTABLE_ID: logs.ruleId,
      ...options.settings,
    });
    const staging = BlobServiceClient.fromConnectionString(stagingAzurite.connectionString).getContainerClient(
      config.evidence.stagingContainer,
    );
    const deps = createAppDeps(config, {
      armCredential: new LocalFleetCredential(),
      clock: () => clock.now(),
      eventGrid: { credential: new AzureKeyCredential(eventGrid.key), ca: eventGrid.ca },
      logsIngestion: { credential: logs.credential, ca: logs.ca },
      stagingContainer: staging,
    });
    await ensureStorage(deps.storage);
    await seedPolicyStore(deps.policies, options.scenario);
    const seededLocks = await seedLocks(deps.locks, options.scenario, startTime);
    host = createLocalDurableHost({
      definitions: createDefinitions(() => deps),
      connectionString: taskHubAzurite.connectionString,
      taskHub: "PatchPilot",
      clock: options.clock,
      startTime,
      activityConcurrency: 16,
      episodeConcurrency: 8,
      timerSchedules: false,
      ...(options.httpPort === undefined
        ? {}
        : { http: { port: options.httpPort, pages: [createDashboardPage({ deps, logs, now: () => clock.now() })] } }),
      ...(options.log === undefined ? {} : { log: options.log }),
    });
    await host.start();
    const started = host;
    cleanup.unshift(() => started.stop());
    if (started.httpBaseUrl !== undefined) {
      // As infra/modules/eventSubscription.bicep: the types that become rows, to the Event Grid-triggered function.
      eventGrid.subscribe({
        name: INGEST_FUNCTION_NAME,
        endpoint: `${started.httpBaseUrl}${EVENT_GRID_WEBHOOK_PATH}?functionName=${INGEST_FUNCTION_NAME}`,
        includedEventTypes: [EVENT_TYPES.runCompleted, EVENT_TYPES.windowCompleted],
        handshake: true,
      });
    }
    return {
      azurite,
      storage: { taskHub: taskHubAzurite, evidence: azurite, staging: stagingAzurite },
      emulator,
      fleet,
      deps,
      host: started,
      eventGrid,
      logs,
      dashboardUrl: started.httpBaseUrl === undefined ? undefined : `${started.httpBaseUrl}${DASHBOARD_PATH}`,
      seededLocks,
      async stop() {
        for (const step of cleanup) await step();
      },
    };
  } catch (error) {
    for (const step of cleanup) await step().catch(() => undefined);
    throw error;
  }
}
