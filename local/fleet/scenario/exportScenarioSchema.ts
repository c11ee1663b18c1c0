/**
 * Writes the JSON Schema of fleet scenario files (docs/scenarios/scenario.schema.json) from the zod schema:
 *
 *   npm run build && node dist/local/fleet/scenario/exportScenarioSchema.js
 *
 * `renderScenarioSchema()` is pure, so a unit test fails when the checked-in file drifts from the zod source.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { ScenarioSchema } from "./scenarioSchema";

export const SCENARIO_SCHEMA_ID = "https://patchpilot.dev/scenarios/scenario.schema.json";

/** The schema file's text: draft 2020-12, input side (defaulted fields optional), 2-space indent, trailing newline. */
export function renderScenarioSchema(): string {
  const generated = z.toJSONSchema(ScenarioSchema, { target: "draft-2020-12", io: "input", reused: "ref" }) as Record<
    string,
    unknown
  >;
  const { $schema: _ignored, ...rest } = generated;
  const json = {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: SCENARIO_SCHEMA_ID,
    title: "PatchPilot fleet emulator scenario",
    description:
      "Tenants, clients, windows, policies and the simulated servers the local fleet emulator serves (docs/scenarios.md). " +
      "Also enforced when parsed, not expressible here: unique names (devices case-insensitively) and every reference " +
      "(tenant, client, window, ring, scale set, update set, update, check, subscription, resource group) resolves.",
    ...rest,
  };
  return `${JSON.stringify(json, null, 2)}\n`;
}

/** Where the schema is checked in, relative to the repository root. */
export const SCENARIO_SCHEMA_FILE = path.join("docs", "scenarios", "scenario.schema.json");

function repoRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "package.json"))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${__dirname}`);
  }
}

if (require.main === module) {
  const file = path.join(repoRoot(), SCENARIO_SCHEMA_FILE);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, renderScenarioSchema(), "utf8");
  console.log(`Wrote ${SCENARIO_SCHEMA_FILE}`);
}
