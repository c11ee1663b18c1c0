import { z } from "zod";
import { SCRIPT_OUTPUT_SCHEMAS, type ScriptId, type ScriptOutput } from "../schemas/device";

/** Why a device's stdout is not a usable output document. */
export type ScriptOutputFailureKind = "empty" | "invalid-json" | "wrong-script" | "wrong-version" | "schema-invalid";

/** A device output that cannot be used, with a message fit for evidence (bounded, never the raw output). */
export interface ScriptOutputFailure {
  kind: ScriptOutputFailureKind;
  message: string;
}

/** The outcome of reading one script's stdout: a typed document or a typed failure, never an exception. */
export type ParsedScriptOutput<Id extends ScriptId> =
  { ok: true; output: ScriptOutput<Id> } | { ok: false; failure: ScriptOutputFailure };

/** The script the backend sent, to check the document against. */
export interface ExpectedScript<Id extends ScriptId> {
  id: Id;
  version: string;
}

const MAX_MESSAGE = 2000;

const fail = (kind: ScriptOutputFailureKind, message: string): { ok: false; failure: ScriptOutputFailure } => ({
  ok: false,
  failure: { kind, message: message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}...` : message },
});

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

/**
 * Reads a script's stdout. The whole text should be the document; when it is not (an agent banner or a stray
 * warning line before it), the last non-empty line is tried, because the scripts print their document last.
 */
export function parseScriptOutput<Id extends ScriptId>(
  stdout: string,
  expected: ExpectedScript<Id>,
): ParsedScriptOutput<Id> {
  const text = stdout.replace(/^\uFEFF/, "").trim();
  if (text === "") return fail("empty", "the script printed nothing on stdout");
  let parsed = parseJson(text);
  if (!parsed.ok) {
    const lastLine =
      text
        .split(/\r?\n/)
        .filter((line) => line.trim() !== "")
        .pop() ?? "";
    parsed = parseJson(lastLine.trim());
  }
  if (!parsed.ok) return fail("invalid-json", `stdout is not a JSON document (${text.length} characters)`);
  const doc = parsed.value;
  if (typeof doc !== "object" || doc === null || Array.isArray(doc))
    return fail("schema-invalid", "the document is not a JSON object");
  const { scriptId, scriptVersion } = doc as { scriptId?: unknown; scriptVersion?: unknown };
  if (scriptId !== expected.id)
    return fail("wrong-script", `expected scriptId ${expected.id}, got ${JSON.stringify(scriptId)?.slice(0, 100)}`);
  if (scriptVersion !== expected.version) {
    return fail(
      "wrong-version",
      `expected ${expected.id}@${expected.version}, got ${JSON.stringify(scriptVersion)?.slice(0, 100)}`,
    );
  }
  const result = SCRIPT_OUTPUT_SCHEMAS[expected.id].safeParse(doc);
  if (!result.success) return fail("schema-invalid", z.prettifyError(result.error));
  return { ok: true, output: result.data as ScriptOutput<Id> };
}
