// Loads the vendored Azure REST API specs (Swagger 2.0) into ajv and validates recorded HTTP exchanges against the
// operation they match: method + path template + api-version, path/query parameters, request body, response body per
// status code. Strict: a field the spec does not define fails, as does a missing required field or a wrong enum.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import Ajv2019, { type ValidateFunction } from "ajv/dist/2019";
import addFormats from "ajv-formats";

/** Root of the vendored specs (a clean clone has no /work/shared; see PROVENANCE.md there). */
export const SPEC_ROOT = path.resolve(__dirname, "../fixtures/reference/azure-rest-api-specs");
const BASE = "https://specs.local/";

/** The top-level documents whose operations PatchPilot uses. */
export const SPEC_DOCUMENTS = [
  "specification/hybridcompute/resource-manager/Microsoft.HybridCompute/HybridCompute/stable/2025-01-13/HybridCompute.json",
  "specification/compute/resource-manager/Microsoft.Compute/Compute/stable/2024-07-01/runCommand.json",
  "specification/resourcegraph/resource-manager/Microsoft.ResourceGraph/ResourceGraph/stable/2024-04-01/resourcegraph.json",
] as const;

/**
 * api-versions the SDKs send whose spec is not vendored, checked against the newest vendored version of the same
 * operations. Each with its reason; nothing else is substituted.
 */
export const API_VERSION_STAND_INS = [
  {
    provider: "Microsoft.Compute",
    sent: "2026-04-01",
    checkedAgainst: "2024-07-01",
    reason:
      "@azure/arm-compute 25.1.1 hard-codes 2026-04-01; its spec is part of the TypeSpec-generated ComputeRP.json " +
      "that could not be vendored (shared/reference/README.md note 2). 2024-07-01 is the newest stable version with " +
      "run commands in a file of their own; later versions only add fields, so a 2024-07-01-strict body is valid there.",
  },
] as const;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** One HTTP exchange as recorded at the emulator. */
export interface Exchange {
  method: string;
  /** Path and query as sent (percent-encoded). */
  url: string;
  requestBody: unknown;
  status: number;
  responseBody: unknown;
}

/** One parameter of an operation, resolved. */
interface Parameter {
  name: string;
  in: "path" | "query" | "body" | "header";
  required: boolean;
  validate: ValidateFunction;
}

/** One operation of a spec. */
export interface Operation {
  operationId: string;
  method: string;
  template: string;
  apiVersion: string;
  document: string;
  pattern: RegExp;
  pathNames: string[];
  parameters: Parameter[];
  responses: Map<string, ValidateFunction | undefined>;
  examples: string[];
}

const isObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

// Swagger 2.0 schema → JSON Schema 2019-09 in strict form:
// - null: a required property only with `x-nullable: true`; an optional one may be null (see orNull);
// - `discriminator` is a swagger string, not ajv's keyword; `type: file` has no JSON Schema meaning;
// - every object schema used as a value (not as an allOf base) gets `unevaluatedProperties: false`, so a field the
//   spec does not define fails while allOf inheritance (TrackedResource + properties) still composes.
function strictSchema(schema: Json, asAllOfMember: boolean): Json {
  if (Array.isArray(schema)) return schema.map((s) => strictSchema(s, false));
  if (!isObject(schema)) return schema;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "discriminator" || key === "example" || key === "x-ms-examples") continue;
    if (key === "properties" && isObject(value)) {
      const required = Array.isArray(schema.required) ? schema.required : [];
      out[key] = Object.fromEntries(
        Object.entries(value).map(([k, v]) => [
          k,
          required.includes(k) ? strictSchema(v, false) : orNull(strictSchema(v, false)),
        ]),
      );
    } else if (key === "allOf" && Array.isArray(value)) {
      out[key] = value.map((s) => strictSchema(s, true));
    } else if (key === "definitions" && isObject(value)) {
      // A definition is wrapped where it is referenced; its own top level stays open for allOf composition.
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, strictSchema(v, true)]));
    } else if (key === "type" && value === "file") {
      continue;
    } else if (key === "paths" || key === "x-ms-paths" || key === "parameters" || key === "responses") {
      out[key] = value; // Operations are walked separately; their schemas are converted when compiled.
    } else {
      out[key] = strictSchema(value, false);
    }
  }
  if (out["x-nullable"] === true && typeof out.type === "string") out.type = [out.type, "null"];
  if (typeof out.$ref === "string" && !asAllOfMember) {
    const nullable = out["x-nullable"] === true;
    const wrapped: JsonObject = { allOf: [{ $ref: out.$ref }], unevaluatedProperties: false };
    return nullable ? { anyOf: [{ type: "null" }, wrapped] } : wrapped;
  }
  const objectLike = out.properties !== undefined || out.allOf !== undefined;
  if (objectLike && !asAllOfMember && out.additionalProperties === undefined) out.unevaluatedProperties = false;
  return out;
}

// Azure's own examples (Machines_Get) and its validator (oav) treat null as "absent" for a property the schema does not
// require; a required property must still hold a value (or be `x-nullable`).
function orNull(schema: Json): Json {
  return { anyOf: [{ type: "null" }, schema] };
}

function listJson(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) return entry === "examples" ? [] : listJson(full);
    return entry.endsWith(".json") ? [full] : [];
  });
}

const readJson = (file: string): Json => JSON.parse(readFileSync(file, "utf8")) as Json;

/** The specs' operations, compiled. */
export class SpecIndex {
  readonly ajv: Ajv2019;
  readonly operations: Operation[] = [];
  private readonly docs = new Map<string, JsonObject>();

  constructor(root = SPEC_ROOT) {
    this.ajv = new Ajv2019({ strict: false, validateSchema: false, allErrors: true, validateFormats: true });
    addFormats(this.ajv);
    for (const format of ["int32", "int64", "float", "double", "byte", "binary", "password", "arm-id", "unixtime"])
      this.ajv.addFormat(format, true);
    this.ajv.addFormat("duration", /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/);
    for (const file of listJson(path.join(root, "specification"))) {
      const rel = path.relative(root, file).split(path.sep).join("/");
      const doc = readJson(file);
      if (!isObject(doc)) continue;
      this.docs.set(rel, doc);
      const converted = strictSchema(doc, false) as JsonObject;
      this.ajv.addSchema({ ...converted, $id: BASE + rel });
    }
    for (const rel of SPEC_DOCUMENTS) this.index(rel);
  }

  private resolveParameter(doc: string, ref: string): { doc: string; value: JsonObject } {
    const [file, pointer] = ref.split("#");
    const target = file === "" || file === undefined ? doc : new URL(file, BASE + doc).href.slice(BASE.length);
    let node: Json = this.docs.get(target) ?? null;
    for (const part of (pointer ?? "").split("/").filter((p) => p !== "")) {
      node = isObject(node) ? (node[part.replace(/~1/g, "/").replace(/~0/g, "~")] ?? null) : null;
    }
    if (!isObject(node)) throw new Error(`unresolved parameter ${ref} in ${doc}`);
    return { doc: target, value: node };
  }

  private index(doc: string): void {
    const spec = this.docs.get(doc);
    if (spec === undefined) throw new Error(`spec not vendored: ${doc}`);
    const info = spec.info;
    const apiVersion = isObject(info) && typeof info.version === "string" ? info.version : "";
    const paths = {
      ...(isObject(spec.paths) ? spec.paths : {}),
      ...(isObject(spec["x-ms-paths"]) ? spec["x-ms-paths"] : {}),
    };
    for (const [template, item] of Object.entries(paths)) {
      if (!isObject(item)) continue;
      const shared = Array.isArray(item.parameters) ? item.parameters : [];
      for (const [method, op] of Object.entries(item)) {
        if (method === "parameters" || !isObject(op)) continue;
        const raw = [...shared, ...(Array.isArray(op.parameters) ? op.parameters : [])];
        const parameters = raw.map((p): Parameter => {
          const resolved =
            isObject(p) && typeof p.$ref === "string"
              ? this.resolveParameter(doc, p.$ref)
              : { doc, value: p as JsonObject };
          const v = resolved.value;
          const { name, in: where, required, description: _d, schema, ...rest } = v;
          const valueSchema: Json = where === "body" ? (schema ?? {}) : paramSchema(rest);
          return {
            name: typeof name === "string" ? name : "",
            in: where as Parameter["in"],
            required: required === true,
            validate: this.compileIn(resolved.doc, valueSchema),
          };
        });
        const responses = new Map<string, ValidateFunction | undefined>();
        for (const [status, response] of Object.entries(isObject(op.responses) ? op.responses : {})) {
          const schema = isObject(response) ? response.schema : undefined;
          responses.set(status, schema === undefined ? undefined : this.compileIn(doc, schema));
        }
        const pathNames: string[] = [];
        const pattern = new RegExp(
          `^${template
            .split("?")[0]!
            .replace(/[.*+^$()|[\]\\]/g, "\\$&")
            .replace(/\{([^}]+)\}/g, (_m, name: string) => {
              pathNames.push(name);
              return "([^/]+)";
            })}$`,
          "i",
        );
        this.operations.push({
          operationId: typeof op.operationId === "string" ? op.operationId : `${method} ${template}`,
          method: method.toUpperCase(),
          template,
          apiVersion,
          document: doc,
          pattern,
          pathNames,
          parameters,
          responses,
          examples: Object.values(isObject(op["x-ms-examples"]) ? op["x-ms-examples"] : {}).flatMap((e) =>
            isObject(e) && typeof e.$ref === "string" ? [new URL(e.$ref, BASE + doc).href.slice(BASE.length)] : [],
          ),
        });
      }
    }
  }

  private counter = 0;

  // An operation's schema is compiled on its own, so its refs are made absolute against the document it sits in.
  private compileIn(doc: string, schema: Json): ValidateFunction {
    const strict = strictSchema(absoluteRefs(schema, BASE + doc), false) as JsonObject;
    this.counter += 1;
    return this.ajv.compile({ $id: `${BASE}compiled/${this.counter}`, ...strict });
  }

  /** The operation an exchange is a call of: method, path template and api-version (or its documented stand-in). */
  match(method: string, pathname: string, apiVersion: string | null): Operation | undefined {
    const provider = /\/providers\/(Microsoft\.[A-Za-z]+)/i.exec(pathname)?.[1]?.toLowerCase() ?? "";
    const standIn = API_VERSION_STAND_INS.find(
      (s) => s.provider.toLowerCase() === provider && s.sent === apiVersion,
    )?.checkedAgainst;
    return this.operations.find(
      (op) => op.method === method && op.apiVersion === (standIn ?? apiVersion) && op.pattern.test(pathname),
    );
  }

  /** Every way an exchange breaks its operation's contract (empty: conforms). Throws when no operation matches. */
  check(exchange: Exchange): string[] {
    const url = new URL(exchange.url, "https://management.azure.com");
    const apiVersion = url.searchParams.get("api-version");
    const op = this.match(exchange.method, url.pathname, apiVersion);
    if (op === undefined)
      return [`no operation in the vendored specs for ${exchange.method} ${url.pathname} api-version=${apiVersion}`];
    const problems: string[] = [];
    const where = `${op.operationId} ${exchange.method} ${url.pathname}`;
    const pathValues =
      op.pattern
        .exec(url.pathname)
        ?.slice(1)
        .map((v) => decodeURIComponent(v)) ?? [];
    const seenQuery = new Set<string>();
    for (const p of op.parameters) {
      let value: unknown;
      let present: boolean;
      if (p.in === "path") {
        const i = op.pathNames.indexOf(p.name);
        value = pathValues[i];
        present = value !== undefined;
      } else if (p.in === "query") {
        seenQuery.add(p.name);
        present = url.searchParams.has(p.name);
        value = url.searchParams.get(p.name);
      } else if (p.in === "body") {
        present = exchange.requestBody !== undefined;
        value = exchange.requestBody;
      } else continue;
      if (!present) {
        if (p.required) problems.push(`${where}: required ${p.in} parameter ${p.name} missing`);
        continue;
      }
      if (!p.validate(value)) problems.push(`${where}: ${p.in} ${p.name}: ${errors(p.validate)}`);
    }
    for (const name of url.searchParams.keys()) {
      if (!seenQuery.has(name)) problems.push(`${where}: query parameter ${name} is not defined by the spec`);
    }
    if (exchange.requestBody !== undefined && !op.parameters.some((p) => p.in === "body"))
      problems.push(`${where}: a request body the operation does not take`);
    const status = String(exchange.status);
    const defined = op.responses.has(status);
    const validate = defined ? op.responses.get(status) : op.responses.get("default");
    // `default` describes the error body; a success status must be listed itself.
    if (!defined && (exchange.status < 400 || !op.responses.has("default")))
      return [...problems, `${where}: status ${status} is not a response of the spec`];
    if (validate === undefined) {
      if (defined && exchange.responseBody !== undefined)
        problems.push(`${where}: ${status} has a body the spec does not define`);
    } else if (!validate(exchange.responseBody ?? null)) {
      problems.push(`${where}: ${status} response: ${errors(validate)}`);
    }
    return problems;
  }
}

// Non-body parameters carry their schema inline (type, enum, pattern, min/max...).
function paramSchema(rest: JsonObject): Json {
  const keep = ["type", "enum", "pattern", "minLength", "maxLength", "minimum", "maximum", "format", "items"];
  return Object.fromEntries(Object.entries(rest).filter(([k]) => keep.includes(k)));
}

function absoluteRefs(schema: Json, base: string): Json {
  if (Array.isArray(schema)) return schema.map((s) => absoluteRefs(s, base));
  if (!isObject(schema)) return schema;
  return Object.fromEntries(
    Object.entries(schema).map(([k, v]) => [
      k,
      k === "$ref" && typeof v === "string" ? new URL(v, base).href : absoluteRefs(v, base),
    ]),
  );
}

function errors(validate: ValidateFunction): string {
  return (validate.errors ?? [])
    .map(
      (e) =>
        `${e.instancePath || "/"} ${e.message ?? ""}${e.params && "unevaluatedProperty" in e.params ? ` (${String(e.params.unevaluatedProperty)})` : ""}${e.params && "allowedValues" in e.params ? ` ${JSON.stringify(e.params.allowedValues)}` : ""}`,
    )
    .join("; ");
}
