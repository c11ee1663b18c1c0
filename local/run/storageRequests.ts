// Counts the evidence account's storage requests as they leave this process (the diagnostics channel of Node's HTTP
// client), by what they touch, by kind and by the activity that made them (local/durable/runActivity.ts's scope).
// Used by bench/window.ts for its breakdown and by the test that holds a device run to its request budget.
import diagnosticsChannel from "node:diagnostics_channel";
import { ClientRequest } from "node:http";
import { activityScope } from "../durable/runActivity";

/** What a request touched in the evidence account. */
export type EvidenceTarget =
  | "blob" // the evidence container (artifacts)
  | "Artifacts" // the SHA-256 index
  | "Installs" // the audit index
  | "Runs" // the run status rows
  | "index $batch" // a Table transaction on Artifacts or Installs (create-once index rows)
  | "other"; // locks, policies, the transparency log, checkpoints: not evidence + index

/** One counted request. */
export interface EvidenceRequest {
  target: EvidenceTarget;
  /** blob GET / PUT / HEAD / list / DELETE; table query / point read / upsert / insert / transaction. */
  kind: string;
  /** The activity whose code made it, or "(no activity)" (the bench's own calls, verification). */
  who: string;
  /** For blobs: the run-relative folder written or read (`10-index`, `02-baseline/transcripts`, ...). */
  folder?: string;
}

/** True for what the issue's "evidence + index requests per run" counts. */
export function countsAgainstTarget(r: Pick<EvidenceRequest, "target">): boolean {
  return r.target !== "other";
}

const TABLE = /^\/devstoreaccount1\/([A-Za-z0-9]+)(\(|\?|$)/;
const BLOB = /^\/devstoreaccount1\/evidence(\/|\?|$)/;

/** The run-relative folder of an evidence blob path (`/devstoreaccount1/evidence/t/c/d/run/02-baseline/x.json`). */
function folderOf(pathname: string): string | undefined {
  const parts = decodeURIComponent(pathname).split("/").slice(3); // "", account, container
  if (parts.length < 6) return undefined;
  const inRun =
    process.env.BENCH_FILES === "1"
      ? parts.slice(4).map((p) => p.replace(/^pp-[0-9a-f]+-\d+/, "*"))
      : parts.slice(4, -1); // after tenant/client/device/runId, without the file name
  return inRun.length === 0 ? "(run folder)" : inRun.join("/");
}

function classify(method: string, path: string, isTablePort: boolean): Omit<EvidenceRequest, "who"> {
  const [pathname = "", query = ""] = path.split("?", 2);
  if (!isTablePort) {
    if (!BLOB.test(pathname)) return { target: "other", kind: `blob ${method}` };
    const list = /(^|&)comp=list/.test(query);
    const kind = list ? "blob list" : `blob ${method}`;
    const folder = list ? undefined : folderOf(pathname);
    return { target: "blob", kind, ...(folder === undefined ? {} : { folder }) };
  }
  if (/\/(\$|%24)batch$/i.test(pathname)) return { target: "other", kind: "table transaction" }; // refined by its body
  const table = TABLE.exec(pathname)?.[1] ?? "";
  const target: EvidenceTarget = table === "Artifacts" || table === "Installs" || table === "Runs" ? table : "other";
  const pointed = pathname.includes("(PartitionKey=");
  const kind =
    method === "GET"
      ? pointed
        ? "table point read"
        : "table query"
      : method === "POST"
        ? "table insert"
        : method === "DELETE"
          ? "table delete"
          : "table upsert";
  return { target, kind };
}

/**
 * Counts the requests sent to the evidence account (its blob and table ports) until the returned function is called.
 * A Table transaction is classified from its body: on Artifacts or Installs it is an index write.
 */
export function countEvidenceRequests(
  ports: { blob: string; table: string },
  onRequest: (request: EvidenceRequest) => void,
): () => void {
  const onStart = (message: unknown): void => {
    const request = (message as { request?: ClientRequest }).request;
    if (request === undefined) return;
    const host = String(request.getHeader("host") ?? "");
    const port = host.slice(host.lastIndexOf(":") + 1);
    if (port !== ports.blob && port !== ports.table) return;
    const who = activityScope.getStore() ?? "(no activity)";
    const counted = { ...classify(request.method, request.path, port === ports.table), who };
    if (counted.kind !== "table transaction") {
      onRequest(counted);
      return;
    }
    // The transaction's table is only in its multipart body, which Node has sent by now: see bodies below.
    const body = bodies.get(request) ?? "";
    const index = /\/devstoreaccount1\/(Artifacts|Installs)[(?\s]/.test(body);
    onRequest({ ...counted, target: index ? "index $batch" : "other" });
  };
  // Node publishes the request's start once it is sent; a Table transaction's body (its only mention of the table) is
  // kept here as it is written, only for requests to a `$batch` path, until counting stops.
  const bodies = new WeakMap<ClientRequest, string>();
  const prototype = ClientRequest.prototype as unknown as Record<"write" | "end", (...args: unknown[]) => unknown>;
  const originalEnd = prototype.end;
  const originalWrite = prototype.write;
  const keep = (request: ClientRequest, chunk: unknown): void => {
    if (!/(\$|%24)batch/i.test(request.path)) return;
    const text =
      typeof chunk === "string" ? chunk : chunk instanceof Uint8Array ? Buffer.from(chunk).toString("utf8") : "";
    bodies.set(request, (bodies.get(request) ?? "") + text);
  };
  prototype.write = function (this: ClientRequest, ...args: unknown[]): unknown {
    keep(this, args[0]);
    return originalWrite.apply(this, args);
  };
  prototype.end = function (this: ClientRequest, ...args: unknown[]): unknown {
    if (typeof args[0] !== "function") keep(this, args[0]);
    return originalEnd.apply(this, args);
  };
  diagnosticsChannel.subscribe("http.client.request.start", onStart);
  return () => {
    diagnosticsChannel.unsubscribe("http.client.request.start", onStart);
    prototype.write = originalWrite;
    prototype.end = originalEnd;
  };
}

/** Tallies of counted requests: by activity and kind, and by blob folder. */
export class EvidenceRequestTally {
  /** Every request in order (tests slice it); empty when constructed with `keepEach: false` (a fleet-sized bench). */
  readonly all: EvidenceRequest[] = [];
  /** Counts by who, target, kind and folder: what the rows are made of, the same size whatever the fleet. */
  private readonly groups = new Map<string, { request: EvidenceRequest; count: number }>();
  private countedTotal = 0;

  constructor(private readonly keepEach = true) {}

  add = (r: EvidenceRequest): void => {
    if (this.keepEach) this.all.push(r);
    if (countsAgainstTarget(r)) this.countedTotal += 1;
    const key = [r.who, r.target, r.kind, r.folder ?? ""].join("\u0000");
    const group = this.groups.get(key);
    if (group === undefined) this.groups.set(key, { request: r, count: 1 });
    else group.count += 1;
  };

  /** Requests counted against the issue's target. */
  get counted(): number {
    return this.countedTotal;
  }

  /** Rows `who | target kind [folder] | count`, most first, for the counted requests (or the others). */
  rows(withFolders = false, counted = true): { who: string; what: string; count: number }[] {
    const counts = new Map<string, { who: string; what: string; count: number }>();
    for (const { request: r, count } of this.groups.values()) {
      if (countsAgainstTarget(r) !== counted) continue;
      const what = `${r.target === "blob" ? "" : `${r.target} `}${r.kind}${withFolders && r.folder ? ` ${r.folder}` : ""}`;
      const key = `${r.who}\u0000${what}`;
      const row = counts.get(key) ?? { who: r.who, what, count: 0 };
      row.count += count;
      counts.set(key, row);
    }
    return [...counts.values()].sort((a, b) => a.who.localeCompare(b.who) || b.count - a.count);
  }
}
