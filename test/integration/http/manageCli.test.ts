import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { readScenarioFile } from "../../../local/fleet/scenario/parseScenario";
import { runManageCommand, type ManageIo } from "../../../local/cli/manageCommand";
import { runImportGlobalCommand } from "../../../local/cli/importGlobalCommand";
import { DEFAULT_GLOBAL_POLICY } from "../../../lib/domain/policy/defaultPolicy";
import { startLocalStack, type LocalStack } from "../../../local/run/localStack";

// `patchpilot policy|window|ring …` against the local stack's HTTP API: the CLI is the API's client, so these go
// through authentication, validation, versioning and the audit chain exactly as any other caller does.

const DEMO = path.resolve(__dirname, "../../../local/scenarios/demo.json");
const A = "contoso-msp";

let stack: LocalStack;
let io: ManageIo & { lines: string[]; errors: string[] };
let dir: string;

function file(name: string, value: unknown): string {
  const f = path.join(dir, name);
  writeFileSync(f, JSON.stringify(value));
  return f;
}

async function run(noun: string, ...args: string[]): Promise<{ status: number; json: unknown; errors: string }> {
  io.lines = [];
  io.errors = [];
  const status = await runManageCommand(noun, args, io);
  let json: unknown;
  try {
    json = JSON.parse(io.lines.join("\n"));
  } catch {
    json = io.lines.join("\n");
  }
  return { status, json, errors: io.errors.join("\n") };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

beforeAll(async () => {
  stack = await startLocalStack({ scenario: readScenarioFile(DEMO), clock: "virtual", httpPort: 0 });
  const key = (await stack.deps.apiKeys.issue(A, { name: "cli", roles: ["PolicyAuthor"] }, stack.host.now())).key;
  dir = mkdtempSync(path.join(os.tmpdir(), "pp-cli-"));
  io = {
    url: stack.host.httpBaseUrl,
    key,
    lines: [],
    errors: [],
    out: (l) => io.lines.push(l),
    err: (l) => io.errors.push(l),
  };
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

describe("patchpilot policy", () => {
  it("gets, sets with the ETag, refuses the stale ETag (exit 1, 412), lists history and previews", async () => {
    const got = await run("policy", "get", "--tenant", A);
    expect(got.status).toBe(0);
    const read = got.json as Json;
    const layer = { ...read.document, update: { ...read.document.update, deferralDays: 5 } };
    const f = file("tenant.json", layer);
    const set = await run("policy", "set", "--tenant", A, "--file", f, "--etag", read.etag);
    expect(set.status).toBe(0);
    expect((set.json as Json).version).toBe(1);
    const stale = await run("policy", "set", "--tenant", A, "--file", f, "--etag", read.etag);
    expect(stale.status).toBe(1);
    expect(stale.errors).toMatch(/^412 Precondition Failed/);
    const blind = await run("policy", "set", "--tenant", A, "--file", f);
    expect(blind.status).toBe(2);
    expect(blind.errors).toContain("--etag ETAG (from get) or --create is required");
    const history = await run("policy", "history", "--tenant", A);
    expect((history.json as Json).versions.map((v: { version: number }) => v.version)).toEqual([1]);
    const preview = await run("policy", "preview", "--tenant", A, "--client", "adatum", "--device", "ADT-WEB01");
    expect(preview.status).toBe(0);
    expect((preview.json as Json).policy.update.deferralDays).toBe(5);
    expect((preview.json as Json).provenance["update.deferralDays"]).toBe(`tenant:${A}`);
  });

  it("imports documents that used to be uploaded as blobs, creating or replacing each as a new version", async () => {
    const device = file("device.json", {
      schemaVersion: 1,
      scope: { level: "device", tenant: A, client: "adatum", device: "ADT-IMPORT01" },
      update: { rebootPolicy: "Never" },
    });
    const window = await run("window", "get", "--tenant", A, "--window", "adatum-weekend");
    const w = file("window.json", { ...(window.json as Json).document, startTime: "02:30" });
    const imported = await run("policy", "import", "--file", device, "--file", w);
    expect(imported.status).toBe(0);
    expect(imported.json).toContain("-> tenants/contoso-msp/clients/adatum/devices/ADT-IMPORT01/policy: version 1");
    expect(imported.json).toContain("-> tenants/contoso-msp/windows/adatum-weekend: version 1");
    const global = file("global.json", { schemaVersion: 1, scope: { level: "global" } });
    const refused = await run("policy", "import", "--file", global);
    expect(refused.status).toBe(2);
    expect(refused.errors).toContain("the global layer is the deployment's");
  });
});

describe("patchpilot policy import-global", () => {
  it("saves the deployment's global layer as a version the API reads, and refuses an incomplete one", async () => {
    const out: string[] = [];
    const incomplete = file("global-incomplete.json", { schemaVersion: 1, scope: { level: "global" } });
    expect(
      await runImportGlobalCommand(stack.deps.storage.policies, incomplete, stack.host.now(), (l) => out.push(l)),
    ).toBe(1);
    expect(out.join("\n")).toContain("effective update.");
    const global = { ...DEFAULT_GLOBAL_POLICY, update: { ...DEFAULT_GLOBAL_POLICY.update, maxReboots: 1 } };
    const f = file("global.json", global);
    expect(await runImportGlobalCommand(stack.deps.storage.policies, f, stack.host.now(), (l) => out.push(l))).toBe(0);
    const read = await run("policy", "get", "--tenant", A, "--global");
    expect(read.status).toBe(0);
    expect((read.json as Json).version).toBe(1);
    expect((read.json as Json).document.update.maxReboots).toBe(1);
    const history = await run("policy", "history", "--tenant", A, "--global", "--version", "1");
    expect((history.json as Json).author.kind).toBe("import");
  });
});

describe("patchpilot window and ring", () => {
  it("names the refused field of an invalid window, replaces rings with the ETag, and previews targets", async () => {
    const got = await run("window", "get", "--tenant", A, "--window", "fabrikam-nightly");
    const read = got.json as Json;
    const bad = file("bad-window.json", { ...read.document, durationMinutes: 45 });
    const refused = await run(
      "window",
      "set",
      "--tenant",
      A,
      "--window",
      "fabrikam-nightly",
      "--file",
      bad,
      "--etag",
      read.etag,
    );
    expect(refused.status).toBe(1);
    expect(refused.errors).toMatch(/body\.durationMinutes/);
    const rings = file("rings.json", { rings: [{ name: "dev" }, { name: "prod", waitAfterPreviousMinutes: 30 }] });
    const set = await run(
      "ring",
      "set",
      "--tenant",
      A,
      "--window",
      "fabrikam-nightly",
      "--file",
      rings,
      "--etag",
      read.etag,
    );
    expect(set.status).toBe(0);
    const ringsNow = await run("ring", "get", "--tenant", A, "--window", "fabrikam-nightly");
    expect((ringsNow.json as Json).rings[1].waitAfterPreviousMinutes).toBe(30);
    const targets = await run("window", "targets", "--tenant", A, "--window", "fabrikam-nightly");
    expect((targets.json as Json).targets.length).toBeGreaterThan(0);
    const list = await run("window", "list", "--tenant", A);
    expect((list.json as Json).windows.length).toBeGreaterThanOrEqual(2);
  });
});
