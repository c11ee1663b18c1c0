import { readFileSync } from "node:fs";
import path from "node:path";
import Ajv, { type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";

/** NIST's OSCAL 1.2.1 assessment-results JSON schema and official example, vendored byte for byte. */
export const OSCAL_REFERENCE = path.resolve(__dirname, "../fixtures/reference/oscal");
export const OSCAL_SCHEMA_FILE = path.join(OSCAL_REFERENCE, "oscal_assessment-results_schema.json");
export const OSCAL_EXAMPLE_FILE = path.join(OSCAL_REFERENCE, "examples/ifa_assessment-results-example.json");

let compiled: ValidateFunction | undefined;

/**
 * The schema compiled by Ajv's default class, which implements JSON Schema draft-07, the draft the schema declares
 * (`$schema`); formats (date-time, uri, uri-reference, email) by ajv-formats. Strict mode stays on and patterns are
 * compiled with the `u` flag (Ajv 8's default `unicodeRegExp`), which the schema's `\p{L}`/`\p{N}` classes need.
 */
export function oscalValidator(): ValidateFunction {
  if (compiled !== undefined) return compiled;
  const schema = JSON.parse(readFileSync(OSCAL_SCHEMA_FILE, "utf8")) as { $schema?: string };
  if (schema.$schema !== "http://json-schema.org/draft-07/schema#")
    throw new Error(`the vendored OSCAL schema declares ${schema.$schema ?? "no draft"}; pick the matching Ajv class`);
  const ajv = new Ajv({ allErrors: true, strict: true, unicodeRegExp: true });
  addFormats(ajv);
  compiled = ajv.compile(schema);
  return compiled;
}

/** Ajv's errors as short lines (instance path and message), for assertions that show what is wrong. */
export function oscalErrors(document: unknown): string[] {
  const validate = oscalValidator();
  if (validate(document)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? e.keyword}`);
}
