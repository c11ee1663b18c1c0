import { randomBytes, randomUUID } from "node:crypto";
import https from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import type { AccessToken, TokenCredential } from "@azure/core-auth";
import { z } from "zod";
import { generateFleetCertificate } from "../fleet/certificate";
import { columnTypeProblem, loadStreamDeclarations, type StreamDeclaration } from "./streamDeclarations";
import { ServiceError } from "../serviceError";

/** Where the endpoint writes what it does. */
export type IngestionLog = (level: "info" | "warn" | "error", message: string) => void;

/** api-versions the endpoint answers: the GA one LogsIngestionClient 1.x sends, and the preview before it. */
export const INGESTION_API_VERSIONS: readonly string[] = ["2023-01-01", "2021-11-01-preview"];

/** Azure's limit on one upload call, compressed and uncompressed (LogsIngestionClient chunks below it). */
export const MAX_UPLOAD_BYTES = 1024 * 1024;

/** Failures the endpoint injects. */
export interface IngestionFaults {
  /** Answer the next N upload requests with `status` (after reading them, before authenticating). */
  failNextUploads?: number;
  /** The status of an injected failure; 503 when absent. */
  status?: number;
  /** Sent as Retry-After on injected failures when set. */
  retryAfterSeconds?: number;
}

/** How to start the endpoint. */
export interface LocalLogsIngestionOptions {
  /** The rule's immutable id; `dcr-` and 32 random hex digits when absent. */
  ruleId?: string;
  /** Stream declarations; read from infra/logs/tables.json when absent. */
  streams?: readonly StreamDeclaration[];
  faults?: IngestionFaults;
  log?: IngestionLog;
  host?: string;
  port?: number;
}

/** A row as stored: every declared column of its table, in declaration order, null where the upload had none. */
export type StoredRow = Record<string, unknown>;

/** One request to the endpoint and its answer. */
export interface UploadRecord {
  readonly method: string;
  readonly ruleId: string | undefined;
  readonly stream: string | undefined;
  readonly apiVersion: string | null;
  readonly contentType: string | undefined;
  readonly contentEncoding: string | undefined;
  readonly clientRequestId: string | undefined;
  /** Bytes on the wire. */
  readonly bodyBytes: number;
  /** Bytes after gunzip (the same as `bodyBytes` for an uncompressed body); undefined when it could not be decoded. */
  readonly jsonBytes: number | undefined;
  /** Rows stored from this request (0 unless it was accepted). */
  readonly rows: number;
  readonly status: number;
  readonly error: { code: string; message: string } | undefined;
  /** The answer was an injected fault. */
  readonly fault: boolean;
  readonly at: Date;
}

/** A running endpoint: its address, rule id and CA, and the rows it stored. */
export interface LocalLogsIngestion {
  /** `https://127.0.0.1:PORT`, the shape of a data collection endpoint's logs ingestion URL. */
  readonly endpoint: string;
  readonly ruleId: string;
  /** PEM of the endpoint's self-signed certificate, for the client's `tlsOptions.ca`. */
  readonly ca: string;
  /** A static-token credential; the endpoint accepts any bearer token. */
  readonly credential: TokenCredential;
  readonly streams: readonly StreamDeclaration[];
  /** Every request, accepted or not, in arrival order. */
  readonly uploads: readonly UploadRecord[];
  /** Rows stored for a stream (e.g. Custom-PatchPilotRuns), in arrival order; throws for an undeclared stream. */
  rows(stream: string): readonly StoredRow[];
  /** Rows stored in a table (e.g. PatchPilotRuns_CL), in arrival order; throws for an undeclared table. */
  rowsByTable(table: string): readonly StoredRow[];
  /** Replaces the injected faults (e.g. to fail the next uploads from here on). */
  injectFaults(faults: IngestionFaults): void;
  close(): Promise<void>;
}

const UPLOAD_ROUTE = /^\/dataCollectionRules\/([^/]+)\/streams\/([^/]+)\/?$/;
const BodySchema = z.array(z.unknown(), { error: "the body must be a JSON array of rows" });
const FAULT_CODES: Record<number, string> = {
  429: "TooManyRequests",
  500: "InternalServerError",
  502: "BadGateway",
  503: "ServiceUnavailable",
  504: "GatewayTimeout",
};
/** Problems listed in one 400; a drifted schema usually repeats one mistake on every row. */
const MAX_REPORTED_PROBLEMS = 20;

/** Starts an HTTPS stand-in for a data collection endpoint's Logs Ingestion API, with one data collection rule. */
export async function startLocalLogsIngestion(options: LocalLogsIngestionOptions = {}): Promise<LocalLogsIngestion> {
  const log: IngestionLog = options.log ?? (() => undefined);
  const ruleId = options.ruleId ?? `dcr-${randomBytes(16).toString("hex")}`;
  const streams = options.streams ?? loadStreamDeclarations();
  const byStream = new Map(streams.map((s) => [s.stream, s]));
  const stored = new Map<string, StoredRow[]>(streams.map((s) => [s.stream, []]));
  const uploads: UploadRecord[] = [];
  let faults: IngestionFaults = { ...options.faults };
  const certificate = await generateFleetCertificate();

  function checkRows(declaration: StreamDeclaration, rows: unknown[]): StoredRow[] {
    const columns = new Map(declaration.columns.map((c) => [c.name, c.type]));
    const problems: string[] = [];
    const accepted: StoredRow[] = [];
    rows.forEach((row, index) => {
      if (typeof row !== "object" || row === null || Array.isArray(row)) {
        problems.push(`row ${index}: is not a JSON object`);
        return;
      }
      for (const [name, value] of Object.entries(row)) {
        const type = columns.get(name);
        if (type === undefined)
          problems.push(`row ${index}: column '${name}' is not declared in stream ${declaration.stream}`);
        else {
          const problem = columnTypeProblem(type, value);
          if (problem !== undefined) problems.push(`row ${index}: column '${name}' (${type}): ${problem}`);
        }
      }
      const values = row as Record<string, unknown>;
      accepted.push(Object.fromEntries(declaration.columns.map((c) => [c.name, values[c.name] ?? null])));
    });
    if (problems.length > 0) {
      const shown = problems.slice(0, MAX_REPORTED_PROBLEMS).join("; ");
      const more =
        problems.length > MAX_REPORTED_PROBLEMS ? ` (and ${problems.length - MAX_REPORTED_PROBLEMS} more)` : "";
      throw new ServiceError(
        400,
        "InvalidContent",
        `The rows do not match stream ${declaration.stream}: ${shown}${more}.`,
      );
    }
    return accepted;
  }

  function decode(req: IncomingMessage, body: Buffer): Buffer {
    const encoding = req.headers["content-encoding"]?.trim().toLowerCase();
    if (encoding === undefined || encoding === "" || encoding === "identity") return body;
    if (encoding !== "gzip")
      throw new ServiceError(
        415,
        "UnsupportedContentEncoding",
        `Content-Encoding '${encoding}' is not supported; send gzip or an uncompressed body.`,
      );
    try {
      return gunzipSync(body, { maxOutputLength: MAX_UPLOAD_BYTES + 1 });
    } catch (error) {
      if (error instanceof RangeError)
        throw new ServiceError(
          413,
          "ContentLengthLimitExceeded",
          `The uncompressed body exceeds ${MAX_UPLOAD_BYTES} bytes.`,
        );
      throw new ServiceError(
        400,
        "InvalidContentEncoding",
        `The body is not valid gzip: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  interface Context {
    ruleId: string | undefined;
    stream: string | undefined;
    bodyBytes: number;
    jsonBytes: number | undefined;
    fault: boolean;
  }

  async function handle(req: IncomingMessage, url: URL, ctx: Context): Promise<number> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      const buffer = chunk as Buffer;
      size += buffer.length;
      if (size <= MAX_UPLOAD_BYTES) chunks.push(buffer);
    }
    ctx.bodyBytes = size;
    const match = UPLOAD_ROUTE.exec(url.pathname);
    if (match === null)
      throw new ServiceError(
        404,
        "NotFound",
        `No resource at ${url.pathname}; uploads go to /dataCollectionRules/{ruleId}/streams/{stream}.`,
      );
    ctx.ruleId = decodeURIComponent(match[1] ?? "");
    ctx.stream = decodeURIComponent(match[2] ?? "");
    if (req.method !== "POST")
      throw new ServiceError(405, "MethodNotAllowed", `${req.method} is not supported; upload with POST.`);
    if ((faults.failNextUploads ?? 0) > 0) {
      faults = { ...faults, failNextUploads: (faults.failNextUploads ?? 0) - 1 };
      ctx.fault = true;
      const status = faults.status ?? 503;
      const code = FAULT_CODES[status] ?? "InjectedFault";
      throw new ServiceError(
        status,
        code,
        `Injected fault: answering ${status}.`,
        faults.retryAfterSeconds === undefined ? {} : { "Retry-After": String(faults.retryAfterSeconds) },
      );
    }
    const auth = req.headers.authorization;
    if (auth === undefined || !/^Bearer \S+$/.test(auth)) {
      throw new ServiceError(
        401,
        "InvalidAuthenticationToken",
        "An Authorization header with a bearer token is required.",
        {
          "WWW-Authenticate":
            'Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token"',
        },
      );
    }
    const apiVersion = url.searchParams.get("api-version");
    if (apiVersion === null || !INGESTION_API_VERSIONS.includes(apiVersion)) {
      throw new ServiceError(
        400,
        "InvalidApiVersion",
        `${apiVersion === null ? "The api-version query parameter is required" : `The api-version '${apiVersion}' is not supported`}; use ${INGESTION_API_VERSIONS.join(" or ")}.`,
      );
    }
    if (ctx.ruleId !== ruleId)
      throw new ServiceError(404, "NotFound", `Data collection rule with immutable Id '${ctx.ruleId}' not found.`);
    const declaration = byStream.get(ctx.stream);
    if (declaration === undefined) {
      throw new ServiceError(
        400,
        "InvalidStream",
        `Stream '${ctx.stream}' is not declared in data collection rule '${ruleId}' (declared: ${[...byStream.keys()].join(", ")}).`,
      );
    }
    const contentType = req.headers["content-type"]?.split(";")[0]?.trim().toLowerCase();
    if (contentType !== "application/json")
      throw new ServiceError(
        415,
        "UnsupportedMediaType",
        `Content-Type must be application/json, not '${req.headers["content-type"] ?? ""}'.`,
      );
    if (size > MAX_UPLOAD_BYTES)
      throw new ServiceError(
        413,
        "ContentLengthLimitExceeded",
        `The body is ${size} bytes; an upload may be at most ${MAX_UPLOAD_BYTES} bytes.`,
      );
    const json = decode(req, Buffer.concat(chunks));
    ctx.jsonBytes = json.length;
    if (json.length > MAX_UPLOAD_BYTES)
      throw new ServiceError(
        413,
        "ContentLengthLimitExceeded",
        `The uncompressed body is ${json.length} bytes; an upload may be at most ${MAX_UPLOAD_BYTES} bytes.`,
      );
    let body: unknown;
    try {
      body = JSON.parse(json.toString("utf8"));
    } catch (error) {
      throw new ServiceError(
        400,
        "InvalidContent",
        `The body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    const parsed = BodySchema.safeParse(body);
    if (!parsed.success)
      throw new ServiceError(400, "InvalidContent", parsed.error.issues.map((i) => i.message).join("; "));
    const rows = checkRows(declaration, parsed.data);
    stored.get(declaration.stream)?.push(...rows);
    log("info", `stored ${rows.length} row(s) in ${declaration.name} (${declaration.stream})`);
    return rows.length;
  }

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const all: Record<string, string> = { "x-ms-request-id": randomUUID(), ...headers };
    if (body === undefined) {
      res.writeHead(status, all).end();
      return;
    }
    const text = JSON.stringify(body);
    res
      .writeHead(status, {
        ...all,
        "Content-Type": "application/json; charset=utf-8",
        "Content-Length": String(Buffer.byteLength(text)),
      })
      .end(text);
  }

  const server = https.createServer({ key: certificate.key, cert: certificate.cert }, (req, res) => {
    const url = new URL(req.url ?? "/", "https://localhost");
    const ctx: Context = { ruleId: undefined, stream: undefined, bodyBytes: 0, jsonBytes: undefined, fault: false };
    const header = (name: string): string | undefined => {
      const value = req.headers[name];
      return Array.isArray(value) ? value.join(", ") : value;
    };
    const entry = (status: number, rows: number, error: UploadRecord["error"]): UploadRecord => ({
      method: req.method ?? "",
      ruleId: ctx.ruleId,
      stream: ctx.stream,
      apiVersion: url.searchParams.get("api-version"),
      contentType: header("content-type"),
      contentEncoding: header("content-encoding"),
      clientRequestId: header("x-ms-client-request-id"),
      bodyBytes: ctx.bodyBytes,
      jsonBytes: ctx.jsonBytes,
      rows,
      status,
      error,
      fault: ctx.fault,
      at: new Date(),
    });
    handle(req, url, ctx).then(
      (rows) => {
        uploads.push(entry(204, rows, undefined));
        // Azure answers an accepted upload with 204 No Content.
        send(res, 204, undefined);
      },
      (error: unknown) => {
        const problem =
          error instanceof ServiceError
            ? error
            : new ServiceError(500, "InternalServerError", error instanceof Error ? error.message : String(error));
        uploads.push(entry(problem.status, 0, { code: problem.code, message: problem.message }));
        log(
          problem.status >= 500 && !ctx.fault ? "error" : "warn",
          `upload to ${ctx.stream ?? url.pathname} refused with ${problem.status}: ${problem.message}`,
        );
        send(res, problem.status, { error: { code: problem.code, message: problem.message } }, problem.headers);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve);
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const endpoint = `https://${host}:${address.port}`;
  log(
    "info",
    `local Logs Ingestion endpoint listening at ${endpoint} (rule ${ruleId}; streams ${streams.map((s) => s.stream).join(", ")})`,
  );

  const credential: TokenCredential = {
    getToken: (): Promise<AccessToken> =>
      Promise.resolve({ token: "patchpilot-local-logs-ingestion", expiresOnTimestamp: Date.now() + 3600_000 }),
  };

  return {
    endpoint,
    ruleId,
    ca: certificate.cert,
    credential,
    streams,
    uploads,
    rows(stream) {
      const rows = stored.get(stream);
      if (rows === undefined)
        throw new Error(`stream ${stream} is not declared (declared: ${streams.map((s) => s.stream).join(", ")})`);
      return rows;
    },
    rowsByTable(table) {
      const declaration = streams.find((s) => s.name === table);
      if (declaration === undefined)
        throw new Error(`table ${table} is not declared (declared: ${streams.map((s) => s.name).join(", ")})`);
      return stored.get(declaration.stream) ?? [];
    },
    injectFaults(next) {
      faults = { ...next };
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
