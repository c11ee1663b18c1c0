import type { IncomingMessage, ServerResponse } from "node:http";
import type { InvocationContext } from "@azure/functions";
import type { EventGridDefinition } from "../../functions/definitions";
import { HttpProblem, readBody, sendProblem } from "./httpProblem";

/** The path the Functions host serves Event Grid triggers on (`?functionName=` picks the function). */
export const EVENT_GRID_WEBHOOK_PATH = "/runtime/webhooks/eventgrid";

/** A page the local front serves besides the functions (the fleet dashboard): gets requests under its prefix. */
export interface LocalPage {
  prefix: string;
  handle(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void>;
}

/**
 * Serves the app's Event Grid triggers as the Functions host does for CloudEvents subscriptions: the OPTIONS
 * validation handshake (abuse protection), then each POSTed event (structured, or a batch) is one invocation.
 * A handler that throws gets a 500, so the topic retries; success is 202.
 */
export async function handleEventGridWebhook(
  definitions: readonly EventGridDefinition[],
  createContext: (definition: EventGridDefinition) => InvocationContext,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  log: (message: string) => void,
): Promise<void> {
  const name = url.searchParams.get("functionName") ?? "";
  const definition = definitions.find((d) => d.name.toLowerCase() === name.toLowerCase());
  if (definition === undefined) {
    sendProblem(response, new HttpProblem(404, "Not Found", `no Event Grid-triggered function named "${name}"`));
    return;
  }
  if (request.method === "OPTIONS") {
    const origin = request.headers["webhook-request-origin"];
    response.writeHead(
      200,
      typeof origin === "string" ? { "WebHook-Allowed-Origin": origin, "WebHook-Allowed-Rate": "*" } : {},
    );
    response.end();
    return;
  }
  if (request.method !== "POST") {
    sendProblem(response, new HttpProblem(405, "Method Not Allowed", "Event Grid delivers with POST"));
    return;
  }
  let events: unknown[];
  try {
    const body: unknown = JSON.parse(await readBody(request));
    events = Array.isArray(body) ? body : [body];
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    sendProblem(response, new HttpProblem(400, "Bad Request", `the body is not JSON: ${error.message}`));
    return;
  }
  try {
    for (const event of events) await definition.handler(event, createContext(definition));
  } catch (error) {
    log(`Event Grid function ${definition.name} failed: ${error instanceof Error ? error.message : String(error)}`);
    sendProblem(
      response,
      new HttpProblem(500, "Internal Server Error", `${definition.name} failed; the delivery will be retried`),
    );
    return;
  }
  response.writeHead(202);
  response.end();
}
