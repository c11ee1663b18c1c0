import https from "node:https";
import type { AddressInfo } from "node:net";
import { generateFleetCertificate } from "../../local/fleet/certificate";

/** One canned answer: what a spec example says the service responds. */
export interface CannedResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A local HTTPS server answering each request with the canned response set for it (the SDKs insist on TLS). */
export interface ExampleServer {
  endpoint: string;
  ca: string;
  /** The next request gets this answer; returns what the request was. */
  answerNext(response: CannedResponse): Promise<{ method: string; url: string; body: string }>;
  close(): Promise<void>;
}

export async function startExampleServer(): Promise<ExampleServer> {
  const certificate = await generateFleetCertificate();
  let pending:
    { response: CannedResponse; seen: (r: { method: string; url: string; body: string }) => void } | undefined;
  const server = https.createServer({ key: certificate.key, cert: certificate.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const current = pending;
      pending = undefined;
      if (current === undefined) {
        res.writeHead(500).end();
        return;
      }
      current.seen({ method: req.method ?? "", url: req.url ?? "", body: Buffer.concat(chunks).toString("utf8") });
      const text = current.response.body === undefined ? "" : JSON.stringify(current.response.body);
      const headers: Record<string, string> = { ...current.response.headers, "x-ms-request-id": "example" };
      if (text !== "") headers["content-type"] = "application/json";
      res.writeHead(current.response.status, headers).end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `https://127.0.0.1:${port}`,
    ca: certificate.cert,
    answerNext(response) {
      return new Promise((resolve) => {
        pending = { response, seen: resolve };
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
