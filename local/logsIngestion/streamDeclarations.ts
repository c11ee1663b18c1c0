import fs from "node:fs";
import path from "node:path";
import { z } from "zod";

/** The column types a data collection rule stream declaration allows. */
export const COLUMN_TYPES = ["string", "int", "long", "real", "boolean", "datetime", "dynamic"] as const;

/** A DCR column type. */
export type ColumnType = (typeof COLUMN_TYPES)[number];

const TablesFileSchema = z.object({
  tables: z
    .array(
      z.object({
        name: z.string().regex(/^[A-Za-z][A-Za-z0-9_]*_CL$/, "must be a custom table name ending in _CL"),
        stream: z.string().regex(/^Custom-[A-Za-z0-9_]+$/, "must be a custom stream name (Custom-...)"),
        columns: z.array(z.object({ name: z.string().min(1), type: z.enum(COLUMN_TYPES) })).min(1),
      }),
    )
    .min(1),
});

/** One stream declaration of the rule and the table it lands in. */
export type StreamDeclaration = z.infer<typeof TablesFileSchema>["tables"][number];

/** Where tables.json lives in the repository (the file infra/modules/monitoring.bicep loads too). */
export const TABLES_FILE = path.join("infra", "logs", "tables.json");

function repoRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "package.json"))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${__dirname}`);
  }
}

/** Reads and checks the stream declarations (infra/logs/tables.json unless another file is given). */
export function loadStreamDeclarations(file: string = path.join(repoRoot(), TABLES_FILE)): StreamDeclaration[] {
  const parsed = TablesFileSchema.safeParse(JSON.parse(fs.readFileSync(file, "utf8")));
  if (!parsed.success) {
    throw new Error(`${file}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  }
  return parsed.data.tables;
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
// Log Analytics reads datetimes with an explicit zone; a local time would land at the wrong hour.
const DateTimeSchema = z.iso.datetime({ offset: true });

/** Why `value` does not fit a column of `type`, or undefined when it does (null fits any column: it is an empty cell). */
export function columnTypeProblem(type: ColumnType, value: unknown): string | undefined {
  if (value === null) return undefined;
  const got = Array.isArray(value) ? "array" : typeof value;
  switch (type) {
    case "string":
      return typeof value === "string" ? undefined : `expected a string, got ${got}`;
    case "int":
      return typeof value === "number" && Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX
        ? undefined
        : `expected a 32-bit integer, got ${describe(value)}`;
    case "long":
      return typeof value === "number" && Number.isSafeInteger(value)
        ? undefined
        : `expected an integer, got ${describe(value)}`;
    case "real":
      return typeof value === "number" && Number.isFinite(value)
        ? undefined
        : `expected a number, got ${describe(value)}`;
    case "boolean":
      return typeof value === "boolean" ? undefined : `expected a boolean, got ${describe(value)}`;
    case "datetime":
      return typeof value === "string" && DateTimeSchema.safeParse(value).success && !Number.isNaN(Date.parse(value))
        ? undefined
        : `expected an ISO 8601 date-time with a zone (e.g. 2024-05-01T10:00:00Z), got ${describe(value)}`;
    case "dynamic":
      return undefined;
  }
}

function describe(value: unknown): string {
  const text = JSON.stringify(value);
  const shown = text.length > 60 ? `${text.slice(0, 57)}...` : text;
  return `${Array.isArray(value) ? "array" : typeof value} ${shown}`;
}
