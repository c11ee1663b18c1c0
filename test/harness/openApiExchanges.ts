// Checks recorded HTTP answers against what the API's own OpenAPI document declares (status, content type and the
// response headers the issue names). Shared by the suites that exercise routes, so each route family is checked
// where it is exercised and coverage can be asserted per family.

// Documents and headers are read field by field; their schemas are tested elsewhere.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** One answer the API gave. */
export interface Exchange {
  method: string;
  path: string;
  status: number;
  headers: Map<string, string>;
}

/** Records one answer into `exchanges`. */
export function recordExchange(
  exchanges: Exchange[],
  method: string,
  urlPath: string,
  status: number,
  headers: Iterable<[string, string]>,
): void {
  const url = new URL(urlPath, "http://x");
  exchanges.push({
    method,
    path: url.pathname,
    status,
    headers: new Map([...headers].map(([k, v]) => [k.toLowerCase(), v])),
  });
}

/** An operation of the document: `GET /v1/tenants/{tenant}/runs/{runId}` and its first tag. */
export interface DocumentedOperation {
  key: string;
  tag: string | undefined;
}

// The headers the issue names, plus the two security headers artifacts carry: each one sent must be declared.
const DOCUMENTED_HEADERS = [
  "location",
  "retry-after",
  "x-request-id",
  "x-patchpilot-sha256",
  "repr-digest",
  "content-security-policy",
  "x-content-type-options",
];

/** Compares the answers with the document: the problems found, the operations exercised and all operations. */
export function checkExchanges(
  doc: Json,
  exchanges: readonly Exchange[],
): { problems: string[]; checked: Set<string>; operations: DocumentedOperation[] } {
  const operations = Object.entries(doc.paths as Record<string, Record<string, Json>>).flatMap(([template, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      method: method.toUpperCase(),
      template,
      // {path} (the artifact path) spans segments; other parameters are one segment each.
      pattern: new RegExp(`^/api${template.replace(/\{path\}/g, ".+").replace(/\{[A-Za-z]+\}/g, "[^/]+")}$`),
      op,
    })),
  );
  const resolveRef = (ref: Json): Json =>
    typeof ref?.$ref === "string" ? { ...doc.components.headers[ref.$ref.split("/").pop()], ...ref } : ref;
  const essence = (type: string): string => (type.split(";")[0] ?? "").trim().toLowerCase();
  const problems: string[] = [];
  const checked = new Set<string>();
  for (const x of exchanges) {
    const match = operations.find((o) => o.method === x.method && o.pattern.test(x.path));
    if (match === undefined) continue; // no function at that path: the host's 404/405, not a route's answer
    const where = `${x.method} ${match.template} ${x.status}`;
    checked.add(`${x.method} ${match.template}`);
    const response = match.op.responses[String(x.status)];
    if (response === undefined) {
      problems.push(`${where}: status not declared`);
      continue;
    }
    const contentType = x.headers.get("content-type") ?? "";
    const declaredTypes = Object.keys(response.content ?? {});
    // A body-less answer (204, 304) sends no content type and declares none.
    if (!(declaredTypes.length === 0 && contentType === ""))
      if (!declaredTypes.some((t) => t === contentType || (!t.includes(";") && essence(t) === essence(contentType))))
        problems.push(`${where}: content-type ${contentType} not among ${declaredTypes.join(", ")}`);
    const declared = new Map(
      Object.entries((response.headers ?? {}) as Record<string, Json>).map(([k, v]) => [
        k.toLowerCase(),
        resolveRef(v),
      ]),
    );
    for (const name of DOCUMENTED_HEADERS)
      if (x.headers.has(name) && !declared.has(name)) problems.push(`${where}: sends ${name}, not declared`);
    for (const [name, header] of declared) {
      if (header.description === undefined) problems.push(`${where}: ${name} refers to no declared header`);
      if (header.required === true && !x.headers.has(name))
        problems.push(`${where}: declares ${name} required, not sent`);
    }
  }
  return {
    problems,
    checked,
    operations: operations.map((o) => ({ key: `${o.method} ${o.template}`, tag: o.op.tags?.[0] })),
  };
}
