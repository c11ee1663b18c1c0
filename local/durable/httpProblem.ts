import type { IncomingMessage, ServerResponse } from "node:http";

/** An RFC 9457 problem answer: what went wrong, for the caller, never a stack trace. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
  ) {
    super(`${status} ${title}${detail ? `: ${detail}` : ""}`);
    this.name = "HttpProblem";
  }
}

/** Writes a problem body. */
export function sendProblem(response: ServerResponse, problem: HttpProblem): void {
  sendJson(
    response,
    problem.status,
    { type: "about:blank", title: problem.title, status: problem.status, detail: problem.detail },
    {
      "content-type": "application/problem+json",
    },
  );
}

/** Writes a JSON body. */
export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
  response.end(text);
}

const MAX_BODY = 10 * 1024 * 1024;

/** Reads a request body as text, refusing bodies over 10 MiB (413). */
export async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY) throw new HttpProblem(413, "Payload Too Large", `bodies are limited to ${MAX_BODY} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Parses an optional JSON body; an empty body is `undefined`, malformed JSON is a 400. */
export function parseJsonBody(text: string): string | undefined {
  if (text.trim() === "") return undefined;
  try {
    JSON.parse(text);
  } catch (error) {
    if (error instanceof SyntaxError)
      throw new HttpProblem(400, "Bad Request", `the body is not JSON: ${error.message}`);
    throw error;
  }
  return text;
}
