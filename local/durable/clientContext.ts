import { randomUUID } from "node:crypto";
import { InvocationContext, type FunctionTrigger } from "@azure/functions";
import * as df from "durable-functions";

/** The durable client input the extension hands a function, pointing every route at the local RPC API. */
export interface ClientInputData {
  taskHubName: string;
  creationUrls: Record<string, string>;
  managementUrls: Record<string, string>;
  baseUrl: string;
  requiredQueryStringParameters: string;
  rpcBaseUrl: string;
}

const ID = "INSTANCEID";

/**
 * Builds the client input. DurableClient prefers `rpcBaseUrl` for every call; the webhook URLs only feed
 * `createCheckStatusResponse` links (durable-functions rewrites their origin to localhost:7071 unless
 * WEBSITE_HOSTNAME is set, so they name the HTTP front when it listens there).
 */
export function createClientInputData(
  taskHub: string,
  rpcBaseUrl: string,
  webhookOrigin: string,
  systemKey = "local",
): ClientInputData {
  const base = `${webhookOrigin}/runtime/webhooks/durabletask`;
  // As in Azure, the links carry the durabletask system key the management API requires (httpFront.ts).
  const query = `taskHub=${taskHub}&connection=Storage&code=${encodeURIComponent(systemKey)}`;
  const instance = `${base}/instances/${ID}`;
  return {
    taskHubName: taskHub,
    creationUrls: {
      createNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]?${query}`,
      createAndWaitOnNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&${query}`,
    },
    managementUrls: {
      id: ID,
      statusQueryGetUri: `${instance}?${query}`,
      sendEventPostUri: `${instance}/raiseEvent/{eventName}?${query}`,
      terminatePostUri: `${instance}/terminate?reason={text}&${query}`,
      rewindPostUri: `${instance}/rewind?reason={text}&${query}`,
      purgeHistoryDeleteUri: `${instance}?${query}`,
      suspendPostUri: `${instance}/suspend?reason={text}&${query}`,
      resumePostUri: `${instance}/resume?reason={text}&${query}`,
    },
    baseUrl: base,
    requiredQueryStringParameters: query,
    rpcBaseUrl,
  };
}

/**
 * An InvocationContext whose extra inputs hold a durable client input, as the Functions host builds it for a
 * function registered with `extraInputs: [df.input.durableClient()]`; `df.getClient(context)` works on it.
 */
export function createClientContext(
  functionName: string,
  clientData: ClientInputData,
  trigger: FunctionTrigger = { type: "httpTrigger", name: "request" },
  log: (level: string, ...args: unknown[]) => void = () => undefined,
): InvocationContext {
  const clientInput = df.input.durableClient();
  const context = new InvocationContext({
    functionName,
    invocationId: randomUUID(),
    options: { trigger, extraInputs: [clientInput] },
    logHandler: log,
  });
  context.extraInputs.set(clientInput, clientData);
  return context;
}
