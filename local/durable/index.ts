// The local Durable host: public API. See docs/local-durable-host.md.
export {
  createLocalDurableHost,
  type InstanceStatus,
  type LocalDurableHost,
  type LocalDurableHostOptions,
} from "./localDurableHost";
export { EventType, eventTypeName, type FailureDetails, type StoredEvent } from "./historyEvent";
export { InstanceStuckError } from "./engineErrors";
export type { EngineStats } from "./orchestrationEngine";
export { NON_DETERMINISTIC } from "./checkDeterminism";
export { REPLAY_SCHEMA } from "./replayEpisode";
export type { RuntimeStatus } from "./taskHubStore";
