import type { RuntimeStatus } from "./taskHubStore";

// The errors the local Durable host's engine raises to its callers; rpcServer.ts maps them to HTTP statuses.

/** Raised by the engine's callers for an instance id that does not exist. */
export class InstanceNotFoundError extends Error {
  constructor(instanceId: string) {
    super(`no orchestration instance with id '${instanceId}'`);
    this.name = "InstanceNotFoundError";
  }
}

/** Raised when starting an instance id that is already running. */
export class InstanceExistsError extends Error {
  constructor(instanceId: string, status: RuntimeStatus) {
    super(`orchestration instance '${instanceId}' already exists and is ${status}`);
    this.name = "InstanceExistsError";
  }
}

/** Raised when starting an orchestrator name no definition provides. */
export class UnknownFunctionError extends Error {
  constructor(kind: string, name: string) {
    super(`no ${kind} named '${name}' is registered with the local Durable host`);
    this.name = "UnknownFunctionError";
  }
}

/** Raised to a waiter when the virtual clock has nothing left to skip to and the instance is still not done. */
export class InstanceStuckError extends Error {
  constructor(instanceId: string, status: RuntimeStatus) {
    super(
      `orchestration instance '${instanceId}' is ${status} with no work, no timer and no event on the way; ` +
        "it waits for an external event nobody raised",
    );
    this.name = "InstanceStuckError";
  }
}
