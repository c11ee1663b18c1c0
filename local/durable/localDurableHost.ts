import { randomBytes } from "node:crypto";
import type { InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import type { ActivityHandler, OrchestrationHandler } from "durable-functions";
import type {
  EventGridDefinition,
  FunctionDefinition,
  HttpDefinition,
  TimerDefinition,
} from "../../functions/definitions";
import { createClientContext, createClientInputData, type ClientInputData } from "./clientContext";
import { RealClock, VirtualClock, type Clock } from "./clock";
import type { FailureDetails, StoredEvent } from "./historyEvent";
import type { LocalPage } from "./eventGridWebhook";
import { startHttpFront, type HttpFront, type HttpKeys } from "./httpFront";
import { OrchestrationEngine, type EngineStats } from "./orchestrationEngine";
import { startRpcServer, type RpcServer } from "./rpcServer";
import { TaskHubStore, type InstanceRecord, type RuntimeStatus } from "./taskHubStore";
import { TimerTriggers } from "./timerTriggers";

/** How the host is built. Everything is passed in: the host reads no environment. */
export interface LocalDurableHostOptions {
  /** The app's function definitions (functions/index.ts `definitions`, or a test's own). */
  definitions: readonly FunctionDefinition[];
  /** Azure Storage connection string (Azurite) for the task hub's tables. */
  connectionString: string;
  /** Task hub name: 3-50 letters and digits; the tables are `{taskHub}Instances|History|Inbox`. */
  taskHub: string;
  /** "real" for `npm start`; "virtual" for tests (time skipping). */
  clock: "real" | "virtual";
  /** Where the virtual clock starts (default: the wall-clock time at construction). */
  startTime?: Date;
  /** Activities running at once (default 16). */
  activityConcurrency?: number;
  /** Orchestration episodes in flight at once, across instances (default 8). */
  episodeConcurrency?: number;
  /** Port of the RPC API on 127.0.0.1 (default 0: a free port). */
  rpcPort?: number;
  /**
   * Serve the HTTP triggers on this port (0: a free port), with the Event Grid triggers on the host's Event Grid
   * webhook path and any extra pages; omitted: no HTTP front.
   */
  http?: { port: number; keys?: HttpKeys; pages?: readonly LocalPage[] };
  /** Arm timer triggers on their schedules (default true). `fireTimer` works either way. */
  timerSchedules?: boolean;
  log?: (level: "info" | "warn" | "error", message: string) => void;
}

/** An instance's status with JSON values parsed, as tests and the CLI want it. */
export interface InstanceStatus {
  instanceId: string;
  name: string;
  runtimeStatus: RuntimeStatus;
  input: unknown;
  output: unknown;
  customStatus: unknown;
  failureDetails: FailureDetails | undefined;
  createdTime: string;
  lastUpdatedTime: string;
}

/** The local Durable host: see docs/local-durable-host.md. */
export interface LocalDurableHost {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The RPC API's base URL (after start). */
  readonly rpcBaseUrl: string;
  /** The key the front's Durable management API (/runtime/webhooks/durabletask/) requires; random per host. */
  readonly systemKey: string;
  /** The HTTP front's base URL, when one was asked for (after start). */
  readonly httpBaseUrl: string | undefined;
  /** A DurableClient (durable-functions' own) talking to this host's RPC API (after start). */
  readonly client: df.DurableClient;
  /** An InvocationContext carrying the durable client input, for calling HTTP/timer handlers by hand. */
  clientContext(functionName?: string): InvocationContext;
  /** Resolves when nothing is running, queued or (virtual clock, `advance` default true) waiting on a timer. */
  runUntilIdle(options?: { advance?: boolean }): Promise<void>;
  /** Resolves once the instance has ended; with the virtual clock, rejects if it can never end (InstanceStuckError). */
  waitForInstance(instanceId: string): Promise<InstanceStatus>;
  /** The instance's status, or undefined. */
  getStatus(instanceId: string): InstanceStatus | undefined;
  /** The current execution's recorded history. */
  getHistory(instanceId: string): Promise<StoredEvent[]>;
  /** Runs a timer trigger now. */
  fireTimer(name: string): Promise<void>;
  /** Moves the virtual clock forward, firing durable timers and timer triggers that fall due. */
  advanceTime(ms: number): void;
  /** The host's current time (virtual or real). */
  now(): Date;
  readonly stats: EngineStats;
}

function parseJson(json: string | undefined): unknown {
  return json === undefined ? undefined : JSON.parse(json);
}

function toStatus(record: InstanceRecord): InstanceStatus {
  return {
    instanceId: record.instanceId,
    name: record.name,
    runtimeStatus: record.status,
    input: parseJson(record.input),
    output: parseJson(record.output),
    customStatus: parseJson(record.customStatus),
    failureDetails: record.failure,
    createdTime: record.createdTime,
    lastUpdatedTime: record.lastUpdatedTime,
  };
}

/** Builds a local Durable host over the given definitions; call `start()` before using it. */
export function createLocalDurableHost(options: LocalDurableHostOptions): LocalDurableHost {
  const log = options.log ?? (() => undefined);
  const clock: Clock =
    options.clock === "virtual" ? new VirtualClock(options.startTime ?? new Date()) : new RealClock();
  const orchestrators = new Map<string, OrchestrationHandler>();
  const activities = new Map<string, ActivityHandler>();
  const httpDefinitions: HttpDefinition[] = [];
  const timerDefinitions: TimerDefinition[] = [];
  const eventGridDefinitions: EventGridDefinition[] = [];
  for (const definition of options.definitions) {
    if (definition.kind === "orchestrator") orchestrators.set(definition.name, definition.handler);
    else if (definition.kind === "activity") activities.set(definition.name, definition.handler);
    else if (definition.kind === "http") httpDefinitions.push(definition);
    else if (definition.kind === "timer") timerDefinitions.push(definition);
    else if (definition.kind === "eventGrid") eventGridDefinitions.push(definition);
  }
  const store = new TaskHubStore({ connectionString: options.connectionString, taskHub: options.taskHub });
  const engine = new OrchestrationEngine({
    store,
    clock,
    orchestrators,
    activities,
    activityConcurrency: options.activityConcurrency ?? 16,
    episodeConcurrency: options.episodeConcurrency ?? 8,
    log,
    // Serving HTTP on a virtual clock: runs that requests start must move on their own.
    advanceWhenIdle: options.clock === "virtual" && options.http !== undefined,
  });

  // The host's durabletask system key: the master key when one is configured, else random per start (Azure keeps
  // it in the host's secrets; the check-status links carry it).
  const systemKey = options.http?.keys?.admin ?? randomBytes(24).toString("base64url");
  let rpc: RpcServer | undefined;
  let front: HttpFront | undefined;
  let clientData: ClientInputData | undefined;
  let client: df.DurableClient | undefined;

  const contextFor = (functionName: string, trigger: { type: string; name: string }): InvocationContext => {
    if (!clientData) throw new Error("the local Durable host is not started");
    return createClientContext(functionName, clientData, trigger, (level, ...args) =>
      log("info", `[${functionName}] ${level}: ${args.map(String).join(" ")}`),
    );
  };

  const timers = new TimerTriggers(
    timerDefinitions,
    clock,
    (definition, timer) =>
      engine.track(async () => {
        await definition.handler(timer, contextFor(definition.name, { type: "timerTrigger", name: "timer" }));
      }),
    (message) => log("error", message),
  );
  engine.onTimeAdvanced = (now) => timers.onTimeAdvanced(now);

  return {
    async start() {
      await engine.start();
      rpc = await startRpcServer(engine, options.rpcPort ?? 0, (m) => log("error", m));
      if (options.http) {
        front = await startHttpFront({
          definitions: httpDefinitions,
          engine,
          createContext: (definition) => contextFor(definition.name, { type: "httpTrigger", name: "request" }),
          port: options.http.port,
          keys: options.http.keys,
          systemKey,
          log: (m) => log("error", m),
          eventGrid: {
            definitions: eventGridDefinitions,
            createContext: (definition) => contextFor(definition.name, { type: "eventGridTrigger", name: "event" }),
          },
          ...(options.http.pages === undefined ? {} : { pages: options.http.pages }),
        });
      }
      clientData = createClientInputData(
        options.taskHub,
        rpc.baseUrl,
        front?.baseUrl ?? rpc.baseUrl.replace(/\/durabletask\/$/, ""),
        systemKey,
      );
      client = df.getClient(contextFor("localDurableHostClient", { type: "httpTrigger", name: "request" }));
      if (options.timerSchedules ?? true) timers.start();
    },
    async stop() {
      timers.stop();
      await engine.stop();
      await Promise.all([rpc?.close(), front?.close()]);
      rpc = undefined;
      front = undefined;
    },
    systemKey,
    get rpcBaseUrl() {
      if (!rpc) throw new Error("the local Durable host is not started");
      return rpc.baseUrl;
    },
    get httpBaseUrl() {
      return front?.baseUrl;
    },
    get client() {
      if (!client) throw new Error("the local Durable host is not started");
      return client;
    },
    clientContext: (functionName = "localDurableHostClient") =>
      contextFor(functionName, { type: "httpTrigger", name: "request" }),
    runUntilIdle: (o) => engine.runUntilIdle(o),
    waitForInstance: async (instanceId) => toStatus(await engine.waitForInstance(instanceId)),
    getStatus: (instanceId) => {
      const record = engine.getRecord(instanceId);
      return record ? toStatus(record) : undefined;
    },
    getHistory: (instanceId) => engine.getHistory(instanceId),
    fireTimer: (name) => timers.fire(name),
    advanceTime: (ms) => engine.advanceTime(ms),
    now: () => clock.now(),
    get stats() {
      return engine.stats;
    },
  };
}
