import * as fs from "node:fs";
import type { z } from "zod";
import { ScenarioSchema, type Scenario } from "./scenarioSchema";

/** One bad field of a scenario: its JSON path (`devices[3].updates[0].kb`) and what is wrong. */
export interface ScenarioIssue {
  path: string;
  message: string;
}

/** A scenario file that does not parse; the message names the JSON path of every bad field. */
export class ScenarioError extends Error {
  constructor(
    readonly issues: readonly ScenarioIssue[],
    source = "scenario",
  ) {
    super(`${source} is invalid:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join("\n")}`);
    this.name = "ScenarioError";
  }
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `["devices", 3, "updates", 0, "kb"]` → `devices[3].updates[0].kb`; keys that are not identifiers go in brackets. */
export function formatJsonPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else if (typeof key === "string" && IDENTIFIER.test(key)) out += out === "" ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out === "" ? "(root)" : out;
}

// A union error carries its members' errors; the innermost ones name the actual field.
function flatten(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = []): ScenarioIssue[] {
  return issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path];
    if (issue.code === "invalid_union" && issue.errors.length > 0) {
      const best = issue.errors.reduce((a, b) => (b.length < a.length ? b : a));
      return flatten(best, path);
    }
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({ path: formatJsonPath([...path, key]), message: "unknown field" }));
    }
    return [{ path: formatJsonPath(path), message: issue.message }];
  });
}

/** Parses a scenario (already JSON-decoded), applying defaults; throws ScenarioError naming every bad field. */
export function parseScenario(json: unknown, source?: string): Scenario {
  const result = ScenarioSchema.safeParse(json);
  if (!result.success) throw new ScenarioError(flatten(result.error.issues), source);
  return result.data;
}

/** Reads and parses a scenario file; invalid JSON is a ScenarioError too. */
export function readScenarioFile(file: string): Scenario {
  const text = fs.readFileSync(file, "utf8");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ScenarioError(
      [{ path: "(root)", message: `not JSON: ${error instanceof Error ? error.message : String(error)}` }],
      file,
    );
  }
  return parseScenario(json, file);
}
