// Observes the fleet emulator's HTTP traffic from the outside, through Node's built-in http diagnostics channels
// (published by every http/https server before its request handler runs and after its response is finished).
import diagnosticsChannel from "node:diagnostics_channel";
import type { IncomingMessage, ServerResponse } from "node:http";

interface ServerMessage {
  request: IncomingMessage;
  response: ServerResponse;
}

const CHANNELS = { start: "http.server.request.start", finish: "http.server.response.finish" } as const;

/** The port of an https endpoint URL (the emulator's `endpoint`). */
export function portOf(endpoint: string): number {
  return Number(new URL(endpoint).port);
}

/**
 * Calls `listener` for every request a server on `port` of this process receives: at "start" (before the handler,
 * headers available) or at "finish" (status sent). Returns the unsubscribe function.
 */
export function onServerRequest(
  port: number,
  at: keyof typeof CHANNELS,
  listener: (request: IncomingMessage, response: ServerResponse) => void,
): () => void {
  const onMessage = (message: unknown): void => {
    const { request, response } = message as ServerMessage;
    if (request.socket.localPort === port) listener(request, response);
  };
  diagnosticsChannel.subscribe(CHANNELS[at], onMessage);
  return () => diagnosticsChannel.unsubscribe(CHANNELS[at], onMessage);
}

/**
 * Counts the 429 answers a server on `port` sends, until closed (the emulator's always carry Retry-After; headers
 * given to writeHead are not readable back from the response, so only the status is checked).
 */
export function countThrottled(port: number): { readonly count: number; close(): void } {
  let count = 0;
  const close = onServerRequest(port, "finish", (_request, response) => {
    if (response.statusCode === 429) count += 1;
  });
  return {
    get count() {
      return count;
    },
    close,
  };
}
