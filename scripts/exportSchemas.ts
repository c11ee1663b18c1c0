/**
 * Publishes the zod document schemas of lib/schemas/registry.ts as JSON Schema (draft 2020-12) in docs/schemas/.
 *
 *   npm run schemas:export
 *
 * `renderSchemas()` is pure (no I/O), so test/unit/schemas/schemaExport.test.ts can compare its output with the
 * checked-in files and fail when they drift from the zod source.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { SCHEMA_REGISTRY, type SchemaRegistryEntry } from "../lib/schemas/registry";

export const SCHEMA_BASE_URL = "https://patchpilot.dev/schemas/";
export const INDEX_FILE = "index.json";
export const README_FILE = "README.md";
const SCHEMA_SUFFIX = ".schema.json";

export function schemaFileName(id: string): string {
  return `${id}${SCHEMA_SUFFIX}`;
}

export function isSchemaFileName(name: string): boolean {
  return name.endsWith(SCHEMA_SUFFIX);
}

/** A constraint the zod schema enforces with a refinement, which JSON Schema cannot express. */
interface Refinement {
  /** Where in the document it applies, e.g. `apps[].checks` (empty for the document itself). */
  readonly at: string;
  readonly message: string;
}

type JsonObject = { [key: string]: unknown };

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The document location a JSON Schema path points at: `["properties","apps","items"]` → `apps[]`. Only the
 * keywords zod emits for objects, arrays, records and unions occur in these paths.
 */
function dataLocation(schemaPath: readonly (string | number)[], refinePath: readonly PropertyKey[]): string {
  let out = "";
  for (let i = 0; i < schemaPath.length; i++) {
    const key = schemaPath[i];
    if (key === "properties" || key === "patternProperties") {
      out += `${out === "" ? "" : "."}${String(schemaPath[++i])}`;
    } else if (key === "items" || key === "prefixItems") {
      out += "[]";
      if (key === "prefixItems") i++;
    } else if (key === "additionalProperties") {
      out += "{}";
    } else if (key === "anyOf" || key === "oneOf" || key === "allOf") {
      i++; // a union member: same location
    }
  }
  for (const key of refinePath) {
    out += typeof key === "number" ? `[${key}]` : `${out === "" ? "" : "."}${String(key)}`;
  }
  return out;
}

/** The custom (refine/superRefine) checks directly on one zod schema node. */
function customChecks(schema: z.core.$ZodType): { path: readonly PropertyKey[]; message: string }[] {
  const found: { path: readonly PropertyKey[]; message: string }[] = [];
  for (const check of schema._zod.def.checks ?? []) {
    const def = check._zod.def as z.core.$ZodCheckDef & { path?: PropertyKey[] };
    if (def.check !== "custom") continue;
    let message = "a custom rule";
    if (typeof def.error === "function") {
      // refine(fn, { message }) stores the message behind an error map; a static message ignores its argument.
      const result = (def.error as (issue: unknown) => unknown)({});
      if (typeof result === "string") message = result;
      else if (isJsonObject(result) && typeof result.message === "string") message = result.message;
    }
    found.push({ path: def.path ?? [], message });
  }
  return found;
}

// Canonical keyword order, so the files read the same way everywhere and diffs stay small. Keywords not listed
// follow, alphabetically.
const KEYWORD_ORDER = [
  "$schema",
  "$id",
  "$ref",
  "title",
  "description",
  "$comment",
  "type",
  "const",
  "enum",
  "format",
  "pattern",
  "minLength",
  "maxLength",
  "minimum",
  "exclusiveMinimum",
  "maximum",
  "exclusiveMaximum",
  "multipleOf",
  "prefixItems",
  "items",
  "minItems",
  "maxItems",
  "uniqueItems",
  "properties",
  "required",
  "patternProperties",
  "propertyNames",
  "additionalProperties",
  "minProperties",
  "maxProperties",
  "anyOf",
  "oneOf",
  "allOf",
  "not",
  "if",
  "then",
  "else",
  "default",
  "examples",
  "$defs",
];
const KEYWORD_RANK = new Map(KEYWORD_ORDER.map((k, i) => [k, i]));

/** Keywords whose value is a schema, an array of schemas, or a name → schema map (kept in source order). */
const SCHEMA_KEYWORDS = new Set([
  "items",
  "additionalProperties",
  "propertyNames",
  "not",
  "if",
  "then",
  "else",
  "contains",
  "unevaluatedItems",
  "unevaluatedProperties",
  "contentSchema",
]);
const SCHEMA_ARRAY_KEYWORDS = new Set(["prefixItems", "anyOf", "oneOf", "allOf"]);
const SCHEMA_MAP_KEYWORDS = new Set(["properties", "patternProperties", "$defs", "dependentSchemas"]);

function compareKeywords(a: string, b: string): number {
  const ra = KEYWORD_RANK.get(a) ?? KEYWORD_ORDER.length;
  const rb = KEYWORD_RANK.get(b) ?? KEYWORD_ORDER.length;
  return ra !== rb ? ra - rb : a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A copy of a JSON Schema with its keywords in canonical order. Property maps keep the zod shape's order (the
 * order the document's fields are declared in); data values (`const`, `default`, ...) are copied as they are.
 */
function orderSchema(schema: unknown): unknown {
  if (typeof schema === "boolean" || !isJsonObject(schema)) return schema;
  const out: JsonObject = {};
  for (const key of Object.keys(schema).sort(compareKeywords)) {
    const value = schema[key];
    if (SCHEMA_KEYWORDS.has(key)) {
      out[key] = orderSchema(value);
    } else if (SCHEMA_ARRAY_KEYWORDS.has(key) && Array.isArray(value)) {
      out[key] = value.map(orderSchema);
    } else if (SCHEMA_MAP_KEYWORDS.has(key) && isJsonObject(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, orderSchema(sub)]));
    } else {
      out[key] = structuredClone(value);
    }
  }
  return out;
}

function serialize(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

function refinementNote(refinements: readonly Refinement[]): string {
  const rules = refinements.map((r) => (r.at === "" ? r.message : `${r.at}: ${r.message}`));
  return `Also enforced by PatchPilot, not expressible in JSON Schema: ${rules.join("; ")}.`;
}

interface Rendered {
  readonly entry: SchemaRegistryEntry;
  readonly file: string;
  readonly refinements: readonly Refinement[];
  readonly json: JsonObject;
}

function renderEntry(entry: SchemaRegistryEntry): Rendered {
  const refinements: Refinement[] = [];
  const generated = z.toJSONSchema(entry.schema, {
    target: "draft-2020-12",
    // io "input": the published schemas validate documents as they are written and read, i.e. what
    // `Schema.parse` accepts. Fields with a zod default (check attempts, timeouts, ring soak times, contacts...)
    // are optional there, as people authoring policies rely on; "output" would require them. "output" would also
    // add `additionalProperties: false` to every object, whereas parse strips unknown fields rather than refusing
    // them (only the `.strict()` objects of policy-layer refuse them, and "input" keeps that).
    io: "input",
    // The default ("throw") stays: every schema in the registry is representable, and a new one that is not
    // (a transform, a z.custom, a date) should fail the export rather than publish `{}` for it.
    override: (ctx) => {
      for (const check of customChecks(ctx.zodSchema)) {
        const at = dataLocation(ctx.path, check.path);
        // The override can see the root object more than once; a rule is listed once.
        if (!refinements.some((r) => r.at === at && r.message === check.message))
          refinements.push({ at, message: check.message });
      }
    },
  }) as JsonObject;

  const description =
    refinements.length === 0 ? entry.description : `${entry.description} ${refinementNote(refinements)}`;
  const json = orderSchema({
    ...generated,
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: `${SCHEMA_BASE_URL}${schemaFileName(entry.id)}`,
    title: entry.title,
    description,
  }) as JsonObject;
  return { entry, file: schemaFileName(entry.id), refinements, json };
}

function renderReadme(rendered: readonly Rendered[]): string {
  const lines = [
    "# PatchPilot document schemas",
    "",
    "<!-- Generated by scripts/exportSchemas.ts from lib/schemas/registry.ts. Do not edit: run `npm run schemas:export`. -->",
    "",
    "JSON Schema (draft 2020-12) for every versioned document PatchPilot reads or writes: the policies people author",
    "and the artifacts of each device run. The zod schemas in `lib/schemas/` are the source of truth; these files are",
    "generated from them, and a unit test fails when they drift.",
    "",
    "- The schemas describe the **input** side of the zod schemas (what `parse` accepts): fields with a default may be",
    "  omitted, and unknown fields are allowed (PatchPilot strips them) except in `policy-layer`, which refuses them.",
    "- `format` (`date-time`, `uri`, `email`) is an annotation in draft 2020-12 unless your validator asserts formats;",
    "  timestamps and e-mail addresses also carry a `pattern`, URLs do not.",
    "- Every document has `schemaVersion`; it is bumped on any incompatible change to the document's shape.",
    "",
    "| id | document | file |",
    "| --- | --- | --- |",
    ...rendered.map((r) => `| \`${r.entry.id}\` | ${r.entry.title} | [${r.file}](${r.file}) |`),
    "",
    "## Constraints JSON Schema cannot express",
    "",
    "These rules are zod refinements: PatchPilot enforces them when it parses a document, but a JSON Schema validator",
    "will accept a document that breaks them. Each affected schema's `description` repeats them.",
    "",
  ];
  for (const r of rendered.filter((x) => x.refinements.length > 0)) {
    lines.push(`- \`${r.entry.id}\`:`);
    for (const ref of r.refinements) lines.push(`  - ${ref.at === "" ? "" : `\`${ref.at}\`: `}${ref.message}`);
  }
  lines.push("");
  return lines.join("\n");
}

/**
 * Every file of docs/schemas, by file name: one `<id>.schema.json` per registry entry, `index.json` and
 * `README.md`. Pure and deterministic.
 */
export function renderSchemas(): Map<string, string> {
  const ids = new Set<string>();
  const rendered: Rendered[] = [];
  for (const entry of SCHEMA_REGISTRY) {
    if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(entry.id)) throw new Error(`schema id ${entry.id} is not kebab-case`);
    if (ids.has(entry.id)) throw new Error(`schema id ${entry.id} is registered twice`);
    ids.add(entry.id);
    rendered.push(renderEntry(entry));
  }

  const files = new Map<string, string>();
  for (const r of rendered) files.set(r.file, serialize(r.json));
  files.set(
    INDEX_FILE,
    serialize({
      schemas: rendered.map((r) => ({
        id: r.entry.id,
        title: r.entry.title,
        file: r.file,
        $id: r.json.$id,
      })),
    }),
  );
  files.set(README_FILE, renderReadme(rendered));
  return files;
}

/** The repository root: the nearest folder above this file (in scripts/ or dist/scripts/) with package.json. */
export function repoRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "package.json"))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${__dirname}`);
  }
}

export function schemasDir(): string {
  return path.join(repoRoot(), "docs", "schemas");
}

/** Writes the rendered files into `dir` and deletes `*.schema.json` files there that are no longer rendered. */
export function writeSchemas(dir: string): { written: string[]; removed: string[] } {
  const files = renderSchemas();
  fs.mkdirSync(dir, { recursive: true });
  const removed = fs
    .readdirSync(dir)
    .filter((name) => isSchemaFileName(name) && !files.has(name))
    .sort();
  for (const name of removed) fs.rmSync(path.join(dir, name));
  for (const [name, content] of files) fs.writeFileSync(path.join(dir, name), content, "utf8");
  return { written: [...files.keys()], removed };
}

if (require.main === module) {
  const dir = schemasDir();
  const { written, removed } = writeSchemas(dir);
  const schemas = written.filter(isSchemaFileName).length;
  console.log(
    `Wrote ${schemas} JSON Schemas (+ ${INDEX_FILE}, ${README_FILE}) to ${path.relative(process.cwd(), dir) || "."}` +
      (removed.length > 0 ? `; removed stale ${removed.join(", ")}` : ""),
  );
}
