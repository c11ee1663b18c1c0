import http from "node:http";
import type { AddressInfo } from "node:net";

/** A request the test subscriber received. */
export interface ReceivedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** How the subscriber answers a request: a status, a status with headers, or no answer at all. */
export type Answer = number | { status: number; headers?: Record<string, string> } | "hang";

/** A plain-HTTP webhook subscriber that records what it is sent. */
export interface TestSubscriber {
  url: string;
  received: ReceivedRequest[];
  /** The POSTs only (deliveries, not handshakes). */
  deliveries(): ReceivedRequest[];
  close(): Promise<void>;
}

/** Starts a subscriber; `answer` sees each request and how many came before it. */
export async function startSubscriber(
  answer: (request: ReceivedRequest, index: number) => Answer = () => 200,
  path = "/runtime/webhooks/eventgrid?functionName=onPatchEvent",
): Promise<TestSubscriber> {
  const received: ReceivedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const request: ReceivedRequest = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      const reply = answer(request, received.length);
      received.push(request);
      if (reply === "hang") return;
      const { status, headers } = typeof reply === "number" ? { status: reply, headers: {} } : reply;
      res.writeHead(status, headers).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    received,
    deliveries: () => received.filter((r) => r.method === "POST"),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
