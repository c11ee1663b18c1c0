import type { z } from "zod";
import type { MalformedModeSchema } from "../scenario/deviceSchema";
import { hostileString } from "./hostileStrings";

type MalformedMode = z.infer<typeof MalformedModeSchema>;

// Fields a hostile device can fill freely without breaking the schema (identity fields such as updateId, app and
// check stay intact, so the backend still matches PRE/POST and requests/results), with their length limits.
const HOSTILE_FIELDS: Readonly<Record<string, number>> = {
  title: 2000,
  message: 4000,
  detail: 4000,
  publisher: 200,
  source: 500,
  name: 256,
};

function poison(value: unknown, counter: { i: number }, key?: string): unknown {
  if (Array.isArray(value)) return value.map((v) => poison(v, counter));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, poison(v, counter, k)]));
  }
  if (typeof value === "string" && key !== undefined && key in HOSTILE_FIELDS)
    return hostileString(counter.i++, HOSTILE_FIELDS[key] ?? 200);
  return value;
}

/** The document with hostile strings in every free-text field (still schema-valid). */
export function withHostileStrings<T>(document: T): T {
  return poison(document, { i: 0 }) as T;
}

/**
 * Turns a valid document into the malformed output a broken or compromised device prints. `hostileStrings` is
 * applied before serialisation (see withHostileStrings); the other modes work on the text.
 */
export function malformOutput(
  document: Record<string, unknown>,
  mode: Exclude<MalformedMode, "hostileStrings">,
  sizeBytes: number,
): string {
  const text = JSON.stringify(document);
  switch (mode) {
    case "empty":
      return "";
    case "truncated":
      return text.slice(0, Math.floor(text.length / 2));
    case "invalidJson": {
      // What a PowerShell error record written to stdout in the middle of the JSON looks like.
      const cut = Math.floor(text.length / 2);
      return `${text.slice(0, cut)}\nGet-CimInstance : Access denied\nAt line:42 char:9\n+ CategoryInfo : PermissionDenied\n${text.slice(cut)}`;
    }
    case "schemaViolation":
      return JSON.stringify({ ...document, scriptVersion: "1.0", data: { unexpected: true }, errors: "none" });
    case "oversized": {
      // Schema-valid but huge: the kind of output a script that logs every warning produces.
      const message = "W".repeat(4000);
      const count = Math.ceil(sizeBytes / (message.length + 40));
      const errors = [
        ...((document.errors as unknown[]) ?? []),
        ...Array.from({ length: count }, () => ({ section: "warnings", message })),
      ];
      return JSON.stringify({ ...document, errors });
    }
  }
}
