import http from "node:http";
import https from "node:https";

/** What a webhook call came to: an HTTP answer, or why there was none. */
export type WebhookResult =
  | { kind: "response"; status: number; headers: http.IncomingHttpHeaders }
  | { kind: "timedOut"; error: string }
  | { kind: "networkError"; error: string };

/** One outbound request to a subscriber. */
export interface WebhookRequest {
  method: "POST" | "OPTIONS";
  url: URL;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
}

/**
 * Calls subscriber webhooks over keep-alive agents of its own, so `close()` can drop every socket it opened (a test's
 * subscriber server would otherwise wait for them) and abort whatever is still in flight.
 */
export class WebhookClient {
  private readonly httpAgent = new http.Agent({ keepAlive: true });
  private readonly httpsAgent: https.Agent;
  private readonly inFlight = new Set<http.ClientRequest>();

  constructor(ca: string | undefined) {
    this.httpsAgent = new https.Agent({ keepAlive: true, ...(ca === undefined ? {} : { ca }) });
  }

  /** Sends one request; never rejects (failures come back as results, since they drive retries). */
  send(request: WebhookRequest): Promise<WebhookResult> {
    return new Promise<WebhookResult>((resolve) => {
      const secure = request.url.protocol === "https:";
      const headers: Record<string, string> = { ...request.headers };
      if (request.body !== undefined) headers["Content-Length"] = String(Buffer.byteLength(request.body));
      let settled = false;
      const finish = (result: WebhookResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.inFlight.delete(req);
        resolve(result);
      };
      const req = (secure ? https : http).request(
        request.url,
        { method: request.method, headers, agent: secure ? this.httpsAgent : this.httpAgent },
        (res) => {
          // Drain the body: the answer is the status code, and an unread body would pin the keep-alive socket.
          res.resume();
          res.on("end", () => finish({ kind: "response", status: res.statusCode ?? 0, headers: res.headers }));
          res.on("error", (error) => finish({ kind: "networkError", error: error.message }));
        },
      );
      const timer = setTimeout(() => {
        finish({ kind: "timedOut", error: `no answer within ${request.timeoutMs} ms` });
        req.destroy();
      }, request.timeoutMs);
      req.on("error", (error) => finish({ kind: "networkError", error: error.message }));
      this.inFlight.add(req);
      req.end(request.body);
    });
  }

  /** Aborts requests in flight and closes every pooled socket. */
  close(): void {
    for (const req of this.inFlight) req.destroy(new Error("the local Event Grid topic closed"));
    this.inFlight.clear();
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
