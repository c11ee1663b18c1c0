import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { ClientIdSchema, DeviceIdSchema, TenantIdSchema } from "../../lib/schemas/common";

// `patchpilot policy|window|ring …`: the management API from a shell. Every command is one or two HTTP calls to
// /api/v1 (the API does the validation, versioning and auditing; nothing here writes storage), so what works here
// works from any HTTP client. The API's URL and key come from --url/--key or PATCHPILOT_URL/PATCHPILOT_API_KEY.

/** Usage of the management commands. */
export const MANAGE_USAGE = `usage (management API; --url or PATCHPILOT_URL, --key or PATCHPILOT_API_KEY (a PolicyAuthor key to change)):
  patchpilot policy list    --tenant T
  patchpilot policy get     --tenant T [--client C [--device D]] [--global]
      the stored layer, its version, SHA-256 and ETag
  patchpilot policy set     --tenant T [--client C [--device D]] --file LAYER.json (--etag ETAG | --create)
      save a new version: --etag the ETag you read (412 if someone saved since), --create for a new layer
  patchpilot policy history --tenant T [--client C [--device D]] [--global] [--version N]
  patchpilot policy preview --tenant T --client C --device D
      dry run: the effective policy the device's next run would use, with the layer of each value
  patchpilot policy import  --file DOC.json [--file ...]
      move documents that used to be uploaded as blobs (policy layers, windows) into the API: each becomes a new
      version of the document it names (created, or replacing what is stored), audited like any other save
  patchpilot policy import-global --file GLOBAL.json
      the deployment's global layer, straight into the policy container (storage settings from the environment)
  patchpilot window list    --tenant T
  patchpilot window get     --tenant T --window W
  patchpilot window set     --tenant T --window W --file WINDOW.json (--etag ETAG | --create)
  patchpilot window history --tenant T --window W [--version N]
  patchpilot window targets --tenant T --window W
      dry run: the devices the window would target now
  patchpilot ring get       --tenant T --window W
  patchpilot ring set       --tenant T --window W --file RINGS.json --etag ETAG
      replace the window's ring order (RINGS.json: {"rings": [{"name": "dev"}, …]})`;

/** A command line this command refuses. */
export class ManageUsageError extends Error {}

/** Where the command sends its calls, and where it writes. */
export interface ManageIo {
  url: string | undefined;
  key: string | undefined;
  out(line: string): void;
  err(line: string): void;
  readFile?(file: string): string;
}

const OPTIONS = {
  tenant: { type: "string" },
  client: { type: "string" },
  device: { type: "string" },
  window: { type: "string" },
  global: { type: "boolean", default: false },
  file: { type: "string", multiple: true },
  etag: { type: "string" },
  create: { type: "boolean", default: false },
  version: { type: "string" },
  url: { type: "string" },
  key: { type: "string" },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: false }>>["values"];

function slug(value: string | undefined, flag: string, schema = TenantIdSchema): string {
  if (value === undefined) throw new ManageUsageError(`${flag} is required`);
  if (!schema.safeParse(value).success) throw new ManageUsageError(`${flag} ${value}: not a valid id`);
  return encodeURIComponent(value);
}

/** The API path of the layer the flags name. */
function layerPath(v: Values): string {
  const tenant = slug(v.tenant, "--tenant");
  if (v.global) return `tenants/${tenant}/global-policy`;
  if (v.client === undefined) {
    if (v.device !== undefined) throw new ManageUsageError("--device needs --client");
    return `tenants/${tenant}/policy`;
  }
  const client = slug(v.client, "--client", ClientIdSchema);
  if (v.device === undefined) return `tenants/${tenant}/clients/${client}/policy`;
  return `tenants/${tenant}/clients/${client}/devices/${slug(v.device, "--device", DeviceIdSchema)}/policy`;
}

function windowPath(v: Values): string {
  return `tenants/${slug(v.tenant, "--tenant")}/windows/${slug(v.window, "--window")}`;
}

function precondition(v: Values): Record<string, string> {
  if (v.etag !== undefined && v.create) throw new ManageUsageError("--etag and --create exclude each other");
  if (v.etag !== undefined) return { "if-match": v.etag };
  if (v.create) return { "if-none-match": "*" };
  throw new ManageUsageError("--etag ETAG (from get) or --create is required: a save never overwrites blindly");
}

interface Answer {
  status: number;
  json: unknown;
  etag: string | null;
}

class Api {
  constructor(
    private readonly url: string,
    private readonly key: string | undefined,
  ) {}

  async call(
    method: "GET" | "PUT",
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer> {
    const all: Record<string, string> = { accept: "application/json", ...headers };
    if (this.key !== undefined) all["x-api-key"] = this.key;
    if (body !== undefined) all["content-type"] = "application/json";
    const response = await fetch(`${this.url.replace(/\/+$/, "")}/api/v1/${path}`, {
      method,
      headers: all,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    let json: unknown = text;
    try {
      json = JSON.parse(text);
    } catch {
      // Not JSON (a proxy's error page): shown as text.
    }
    return { status: response.status, json, etag: response.headers.get("etag") };
  }
}

function readJson(io: ManageIo, file: string): unknown {
  const text = (io.readFile ?? ((f: string) => readFileSync(f, "utf8")))(file);
  try {
    return JSON.parse(text.replace(/^\uFEFF/, "")) as unknown;
  } catch (error) {
    throw new ManageUsageError(`${file}: not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
}

function oneFile(v: Values): string {
  const files = v.file ?? [];
  if (files.length !== 1) throw new ManageUsageError("--file FILE is required (once)");
  return files[0]!;
}

/** Prints an answer: the JSON body on success (exit 0); the problem's detail and fields on stderr otherwise (1). */
function report(io: ManageIo, answer: Answer): number {
  if (answer.status < 400) {
    io.out(JSON.stringify(answer.json, null, 2));
    return 0;
  }
  const problem = answer.json as { title?: string; detail?: string; errors?: { field: string; reason: string }[] };
  io.err(`${answer.status} ${problem.title ?? ""}: ${problem.detail ?? JSON.stringify(answer.json)}`);
  for (const e of problem.errors ?? []) io.err(`  ${e.field}: ${e.reason}`);
  return 1;
}

/** The API path a document to import belongs at (a policy layer by its scope, a window by tenant and id). */
function importPath(document: unknown, file: string): string {
  const doc = document as {
    scope?: { level?: string; tenant?: string; client?: string; device?: string };
    tenant?: string;
    id?: string;
    recurrence?: unknown;
    rings?: unknown;
  } | null;
  if (doc?.scope !== undefined) {
    const { level, tenant, client, device } = doc.scope;
    if (level === "global")
      throw new ManageUsageError(
        `${file}: the global layer is the deployment's; the API does not change it (patchpilot policy import-global)`,
      );
    return layerPath({ tenant, client, device, global: false, create: false });
  }
  // A scan window may leave its recurrence out (daily): its rings say it is a window too.
  if (doc?.recurrence !== undefined || doc?.rings !== undefined)
    return windowPath({ tenant: doc.tenant, window: doc.id } as Values);
  throw new ManageUsageError(`${file}: neither a policy layer (scope) nor a maintenance window (recurrence, rings)`);
}

/** Runs `policy|window|ring …`; returns the exit status (0 ok, 1 refused by the API, 2 usage). */
export async function runManageCommand(noun: string, args: string[], io: ManageIo): Promise<number> {
  try {
    const [verb, ...rest] = args;
    const { values: v } = parseArgs({ args: rest, options: OPTIONS, strict: true, allowPositionals: false });
    const url = v.url ?? io.url;
    if (url === undefined) throw new ManageUsageError("--url or PATCHPILOT_URL is required");
    const api = new Api(url, v.key ?? io.key);
    const versionSuffix = (): string => {
      if (v.version === undefined) return "/versions";
      if (!/^[1-9][0-9]*$/.test(v.version)) throw new ManageUsageError(`--version ${v.version}: a version number`);
      return `/versions/${v.version}`;
    };
    const key = `${noun} ${verb ?? ""}`;
    switch (key) {
      case "policy list":
        return report(io, await api.call("GET", `tenants/${slug(v.tenant, "--tenant")}/policies`));
      case "policy get":
        return report(io, await api.call("GET", layerPath(v)));
      case "policy set":
        return report(io, await api.call("PUT", layerPath(v), readJson(io, oneFile(v)), precondition(v)));
      case "policy history":
        return report(io, await api.call("GET", `${layerPath(v)}${versionSuffix()}`));
      case "policy preview": {
        const device = layerPath(v).replace(/\/policy$/, "/effective-policy");
        if (v.device === undefined) throw new ManageUsageError("--client and --device are required");
        return report(io, await api.call("GET", device));
      }
      case "policy import": {
        const files = v.file ?? [];
        if (files.length === 0) throw new ManageUsageError("--file FILE is required (one or more)");
        let status = 0;
        for (const file of files) {
          const document = readJson(io, file);
          const path = importPath(document, file);
          const current = await api.call("GET", path);
          if (current.status !== 200 && current.status !== 404) {
            status = Math.max(status, report(io, current));
            continue;
          }
          const headers: Record<string, string> =
            current.status === 200 && current.etag !== null ? { "if-match": current.etag } : { "if-none-match": "*" };
          const saved = await api.call("PUT", path, document, headers);
          if (saved.status < 400) io.out(`${file} -> ${path}: version ${(saved.json as { version: number }).version}`);
          else status = Math.max(status, report(io, saved));
        }
        return status;
      }
      case "window list":
        return report(io, await api.call("GET", `tenants/${slug(v.tenant, "--tenant")}/windows`));
      case "window get":
        return report(io, await api.call("GET", windowPath(v)));
      case "window set":
        return report(io, await api.call("PUT", windowPath(v), readJson(io, oneFile(v)), precondition(v)));
      case "window history":
        return report(io, await api.call("GET", `${windowPath(v)}${versionSuffix()}`));
      case "window targets":
        return report(io, await api.call("GET", `${windowPath(v)}/targets`));
      case "ring get":
        return report(io, await api.call("GET", `${windowPath(v)}/rings`));
      case "ring set":
        return report(io, await api.call("PUT", `${windowPath(v)}/rings`, readJson(io, oneFile(v)), precondition(v)));
      default:
        throw new ManageUsageError(`unknown command: patchpilot ${key.trim()}`);
    }
  } catch (error) {
    if (error instanceof ManageUsageError || (error instanceof TypeError && "code" in error)) {
      io.err(`${error.message}\n${MANAGE_USAGE}`);
      return 2;
    }
    throw error;
  }
}
