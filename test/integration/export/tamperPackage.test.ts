import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { makeBuildEvidenceExport } from "../../../functions/activities/buildEvidenceExport";
import { ExportStore } from "../../../lib/export/exportStore";
import type { PackageManifest } from "../../../lib/export/packageLayout";
import { verifyPackage, type PackageVerification } from "../../../lib/export/verifyPackage";
import { readScenarioFile } from "../../../local/fleet/scenario/parseScenario";
import { startLocalStack, type LocalStack } from "../../../local/run/localStack";
import { runWindows, type DeviceSummary } from "../../../local/run/runWindows";
import { generateKeyPairSync, sign } from "node:crypto";
import { writeFileSync } from "node:fs";
import { hashLeaf, merkleRootFromLeafHashes } from "../../../lib/evidence/merkle";
import { sha256Hex } from "../../../lib/evidence/sha256";
import {
  formatCheckpoint,
  formatVerifierKey,
  keyIdOf,
  noteText,
  parseCheckpoint,
  signNote,
  SIGNATURE_TYPES,
  type NoteSigner,
} from "../../../lib/transparency/note";
import { runVerifyPackageCommand } from "../../../local/cli/verifyPackageCommand";
import { verifyConsistency } from "../../../lib/transparency/consistency";
import { openNote, parseVerifierKey } from "../../../lib/transparency/note";
import { LOCAL_CHECKPOINT_CONTAINER } from "../../../local/run/checkpointContainer";
import { PackageForger } from "../../harness/forgePackage";

// Tampering as an auditor found it (issue 19): each forged package recomputes every hash, index row and sum it can,
// and the verifier must refuse it, naming the first offending file.
const DEMO = path.resolve(__dirname, "../../../local/scenarios/demo.json");
const T0 = new Date("2026-01-20T01:00:00.000Z");
const EXPORTED_AT = "2026-04-01T08:00:00.000Z";
const A = "contoso-msp";

let stack: LocalStack;
let devices: DeviceSummary[];
let zip: string;
const dir = mkdtempSync(path.join(os.tmpdir(), "pp-tamper-it-"));
let n = 0;

beforeAll(async () => {
  stack = await startLocalStack({ scenario: readScenarioFile(DEMO), clock: "virtual", startTime: T0, httpPort: 0 });
  devices = (await runWindows(stack, undefined, { verify: false })).devices;
  const exportId = "x20260401-tamper01";
  await new ExportStore(stack.deps.storage.tables.exports).create(
    A,
    exportId,
    { from: "2026-01-01T00:00:00.000Z", to: "2026-04-01T00:00:00.000Z" },
    "key-auditor-1",
    new Date(EXPORTED_AT),
  );
  const summary = await makeBuildEvidenceExport(stack.deps)({ tenant: A, exportId, now: EXPORTED_AT });
  zip = path.join(dir, "package.zip");
  await stack.deps.storage.exports.getBlockBlobClient(summary.blobName).downloadToFile(zip);
}, 300_000);
afterAll(async () => {
  await stack?.stop();
});

async function forged(
  edit: (f: PackageForger) => void | Promise<void>,
  anchor: { checkpoint?: string; key?: string } = {},
): Promise<PackageVerification> {
  const forger = await PackageForger.open(zip);
  await edit(forger);
  const out = path.join(dir, `forged-${(n += 1)}.zip`);
  await forger.write(out);
  return verifyPackage(out, anchor);
}

/** The tenant log's key as the app publishes it, and its latest checkpoint as published in the checkpoints container. */
async function published(): Promise<{ key: string; checkpoint: string }> {
  const log = stack.deps.evidence.log;
  if (log === undefined) throw new Error("the local stack has no transparency log");
  const container = stack.deps.storage.blobService.getContainerClient(LOCAL_CHECKPOINT_CONTAINER);
  const names: string[] = [];
  for await (const blob of container.listBlobsFlat({ prefix: `${A}/` })) names.push(blob.name);
  const newest = names.sort().at(-1) as string;
  return {
    key: await log.verifierKey(A),
    checkpoint: (await container.getBlobClient(newest).downloadToBuffer()).toString("utf8"),
  };
}

/** A forger's own Ed25519 key under the log's name (it can sign, but it is not the log's key). */
function forgerSigner(name: string): NoteSigner {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const raw = Buffer.from(publicKey.export({ format: "jwk" }).x as string, "base64url");
  return {
    name,
    type: SIGNATURE_TYPES.ed25519,
    publicKey: raw,
    keyId: keyIdOf(name, SIGNATURE_TYPES.ed25519, raw),
    sign: (t) => Promise.resolve(sign(null, t, privateKey)),
  };
}

/** Rewrites the package's log with the run's new receipt and signs it with the forger's key (and ships that key). */
async function resignLog(f: PackageForger, folder: string): Promise<void> {
  const receipt = f.text(`${folder}11-report/receipt.json`);
  const runId = folder.split("/")[3] as string;
  const lines = f
    .text("transparency/receipts.jsonl")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => (l.includes(`"runId":"${runId}"`) ? receipt : l));
  f.set("transparency/receipts.jsonl", lines.map((l) => `${l}\n`).join(""));
  const origin = parseCheckpoint(noteText(f.text("transparency/checkpoint.txt"))).origin;
  const root = merkleRootFromLeafHashes(lines.map((l) => hashLeaf(Buffer.from(l, "utf8"))));
  const signer = forgerSigner(origin);
  const note = await signNote(formatCheckpoint({ origin, size: lines.length, root }), [signer]);
  f.set("transparency/checkpoint.txt", note);
  f.set("transparency/log-key.txt", `${formatVerifierKey(signer)}\n`);
  f.setJson("transparency/consistency.json", {
    schemaVersion: 1,
    algorithm: "rfc6962-sha256",
    from: { size: lines.length, root: root.toString("hex") },
    latest: note,
    proof: [],
  });
}

/** The run with a failed install (210) the auditor turned into a success; another failure code if the demo has none. */
function failedRun(f: PackageForger): PackageManifest["runs"][number] {
  const runs = f.json<PackageManifest>("export.json").runs;
  const run = runs.find((r) => r.exitCode === 210) ?? runs.find((r) => r.exitCode !== undefined && r.exitCode !== 0);
  if (run === undefined) throw new Error("the demo has no failed run");
  return run;
}

function setExitCode(value: Record<string, unknown>, field: "exitCode", name: string, nameField: string): unknown {
  return { ...value, [field]: 0, [nameField]: name };
}

describe("a forged package fails verification, naming the first offending item", () => {
  it("the untouched package verifies, and the demo has a failed run to forge", async () => {
    const result = await verifyPackage(zip);
    expect(result.problems).toEqual([]);
    expect(devices.some((d) => d.tenant === A && d.exitCode !== null && d.exitCode !== 0)).toBe(true);
  });

  it("exit code changed to 0 in exit-code.json, final-report.json and export.json (index and sums rewritten)", async () => {
    let folder = "";
    const result = await forged((f) => {
      const run = failedRun(f);
      folder = run.folder;
      const exitPath = `${folder}11-report/exit-code.json`;
      f.setCanonical(exitPath, setExitCode(f.json(exitPath), "exitCode", "Success", "name"));
      const reportPath = `${folder}11-report/final-report.json`;
      f.setCanonical(reportPath, setExitCode(f.json(reportPath), "exitCode", "Success", "exitCodeName"));
      const manifest = f.json<PackageManifest>("export.json");
      for (const r of manifest.runs)
        if (r.folder === folder) Object.assign(r, { exitCode: 0, exitCodeName: "Success" });
      f.setJson("export.json", manifest);
      f.reindex(folder);
    });
    expect(result.ok).toBe(false);
    // export.json is the first file of the zip that disagrees with the run's receipt.
    expect(result.problems[0]).toMatchObject({ path: "export.json", problem: expect.stringMatching(/exit code 0/) });
    expect(result.problems.map((p) => p.path)).toEqual(
      expect.arrayContaining([`${folder}11-report/exit-code.json`, `${folder}11-report/final-report.json`]),
    );
  });

  it("exit code changed in exit-code.json alone (index and sums rewritten): names exit-code.json", async () => {
    let target = "";
    const result = await forged((f) => {
      const run = failedRun(f);
      target = `${run.folder}11-report/exit-code.json`;
      f.setCanonical(target, setExitCode(f.json(target), "exitCode", "Success", "name"));
      f.reindex(run.folder);
    });
    expect(result.problems[0]).toMatchObject({ path: target, problem: expect.stringMatching(/receipt commits to/) });
  });

  it("export.json's exit code disagrees with exit-code.json: names export.json", async () => {
    const result = await forged((f) => {
      const manifest = f.json<PackageManifest>("export.json");
      const run = failedRun(f);
      for (const r of manifest.runs) if (r.folder === run.folder) r.exitCode = 0;
      f.setJson("export.json", manifest);
    });
    expect(result.problems[0]).toMatchObject({ path: "export.json", problem: expect.stringMatching(/receipt/) });
  });

  it("an edited report.html (index and sums rewritten): names report.html", async () => {
    let target = "";
    const result = await forged((f) => {
      const run = failedRun(f);
      target = `${run.folder}11-report/report.html`;
      f.set(target, f.text(target).replace("<body", "<body data-edited"));
      f.reindex(run.folder);
    });
    expect(result.problems[0]).toMatchObject({ path: target, problem: expect.stringMatching(/receipt commits to/) });
  });

  it("installs.jsonl edited (a failed install shown as installed) with SHA256SUMS rewritten: names installs.jsonl", async () => {
    const result = await forged((f) => {
      const lines = f.text("installs.jsonl").split("\n");
      const i = lines.findIndex((l) => l.includes('"installed":false'));
      const j = i >= 0 ? i : 0;
      lines[j] = (lines[j] as string).includes('"installed":false')
        ? (lines[j] as string).replace('"installed":false', '"installed":true')
        : (lines[j] as string).replace('"installed":true', '"installed":false');
      f.set("installs.jsonl", lines.join("\n"));
    });
    expect(result.problems[0]).toMatchObject({
      path: "installs.jsonl",
      problem: expect.stringMatching(/not an outcome of run .*sealed install-summary/),
    });
  });

  it("a receipt removed with its index row and sums rewritten: names the missing receipt", async () => {
    let target = "";
    const result = await forged((f) => {
      const run = failedRun(f);
      target = `${run.folder}11-report/receipt.json`;
      f.remove(target).reindex(run.folder);
    });
    expect(result.problems[0]).toMatchObject({ path: target, problem: expect.stringMatching(/not committed/) });
  });

  it("the untouched package verifies against the published key and checkpoint (and through the CLI)", async () => {
    const anchor = await published();
    const result = await verifyPackage(zip, anchor);
    expect(result.problems).toEqual([]);
    expect(result.anchor).toMatchObject({ origin: `patchpilot.local/log/${A}`, keyFrom: "given" });
    const checkpointFile = path.join(dir, "checkpoint.txt");
    writeFileSync(checkpointFile, anchor.checkpoint);
    const lines: string[] = [];
    expect(
      await runVerifyPackageCommand(zip, (l) => lines.push(l), { checkpoint: checkpointFile, key: anchor.key }),
    ).toBe(0);
    expect(lines.join("\n")).toMatch(/^VERIFIED .*\nAnchored: every receipt is in patchpilot\.local\/log\/contoso-msp/);
  });

  it("one run dropped (its folder, its export.json entry and its installs rows) with sums rewritten: names the run", async () => {
    let folder = "";
    const result = await forged((f) => {
      const run = failedRun(f);
      folder = run.folder;
      f.remove(folder);
      const manifest = f.json<PackageManifest>("export.json");
      manifest.runs = manifest.runs.filter((r) => r.folder !== folder);
      f.setJson("export.json", manifest);
      const installs = f.text("installs.jsonl").split("\n");
      f.set("installs.jsonl", installs.filter((l) => !l.includes(`"runId":"${run.runId}"`)).join("\n"));
    });
    expect(result.problems[0]).toMatchObject({
      path: folder,
      problem: expect.stringMatching(/in the tenant's log .* in the export's scope, but not in the package/),
    });
  });

  it("a sealed artifact edited and the index, manifest, root, proofs, receipt and sums all recomputed: the log refuses the receipt", async () => {
    let folder = "";
    const result = await forged((f) => {
      const run = failedRun(f);
      folder = run.folder;
      const target = `${folder}05-install/install-summary.jsonl`;
      f.set(target, f.text(target).replace(/"installed":false/g, '"installed":true'));
      f.reseal(folder);
      // The forger drops the installs rows' disagreement too: the rows are rebuilt from the edited summary.
      const installs = f.text("installs.jsonl").replace(/"installed":false/g, '"installed":true');
      f.set("installs.jsonl", installs);
    });
    expect(result.problems[0]).toMatchObject({
      path: `${folder}11-report/receipt.json`,
      problem: expect.stringMatching(/not a receipt of the tenant's transparency log/),
    });
  });

  it("a truncated event chain re-sealed: the log refuses the receipt", async () => {
    let folder = "";
    const result = await forged((f) => {
      const run = failedRun(f);
      folder = run.folder;
      const events = `${folder}10-index/events.jsonl`;
      const lines = f
        .text(events)
        .split("\n")
        .filter((l) => l !== "");
      f.set(
        events,
        lines
          .slice(0, -2)
          .map((l) => `${l}\n`)
          .join(""),
      );
      f.reseal(folder);
    });
    expect(result.problems[0]).toMatchObject({
      path: `${folder}11-report/receipt.json`,
      problem: expect.stringMatching(/not a receipt of the tenant's transparency log/),
    });
  });

  it("the log rewritten and re-signed by another key: passes only self-consistency, and fails against the published key and checkpoint", async () => {
    const anchor = await published();
    const edit = (f: PackageForger): Promise<void> => {
      const run = failedRun(f);
      const exitPath = `${run.folder}11-report/exit-code.json`;
      f.setCanonical(exitPath, setExitCode(f.json(exitPath), "exitCode", "Success", "name"));
      const reportPath = `${run.folder}11-report/final-report.json`;
      const report = f.json<{ evidence: Record<string, string> }>(reportPath);
      report.evidence.exitCodeSha256 = sha256Hex(f.files.get(exitPath) as Buffer);
      f.setCanonical(reportPath, setExitCode(report, "exitCode", "Success", "exitCodeName"));
      const manifest = f.json<PackageManifest>("export.json");
      for (const r of manifest.runs)
        if (r.folder === run.folder) Object.assign(r, { exitCode: 0, exitCodeName: "Success" });
      f.setJson("export.json", manifest);
      const receiptPath = `${run.folder}11-report/receipt.json`;
      const receipt = f.json<{ exitCode: { code: number; name: string } }>(receiptPath);
      f.setCanonical(receiptPath, { ...receipt, exitCode: { ...receipt.exitCode, code: 0, name: "Success" } });
      f.reseal(run.folder);
      return resignLog(f, run.folder);
    };
    // With only what the package carries, the forgery is self-consistent: the README says why the key matters.
    const alone = await forged(edit);
    expect(alone.problems).toEqual([]);
    expect(alone.anchor?.keyFrom).toBe("package");
    const withKey = await forged(edit, { key: anchor.key });
    expect(withKey.problems[0]).toMatchObject({
      path: "transparency/checkpoint.txt",
      problem: expect.stringMatching(/no signature of a trusted key/),
    });
    // Against the published checkpoint, with the forger's own key shipped in the package: the trees differ.
    const withCheckpoint = await forged(edit, { checkpoint: anchor.checkpoint });
    expect(withCheckpoint.ok).toBe(false);
    expect(withCheckpoint.problems[0]?.path).toBe("--checkpoint");
  });

  it("a checkpoint signed by another key is refused as the anchor", async () => {
    const anchor = await published();
    const origin = parseCheckpoint(noteText(anchor.checkpoint)).origin;
    const stranger = forgerSigner(origin);
    const foreign = await signNote(noteText(anchor.checkpoint), [stranger]);
    const result = await verifyPackage(zip, { checkpoint: foreign, key: anchor.key });
    expect(result.problems[0]).toMatchObject({
      path: "--checkpoint",
      problem: expect.stringMatching(/not a checkpoint signed/),
    });
    const withStrangerKey = await verifyPackage(zip, { key: formatVerifierKey(stranger) });
    expect(withStrangerKey.problems[0]?.path).toBe("transparency/checkpoint.txt");
  });
});

describe("the transparency log over the API and in the run's CloudEvent", () => {
  let auditor = "";
  let other = "";
  const get = async (urlPath: string, key: string): Promise<{ status: number; text: string; type: string }> => {
    const response = await fetch(`${stack.host.httpBaseUrl ?? ""}/api/v1${urlPath}`, { headers: { "x-api-key": key } });
    return { status: response.status, text: await response.text(), type: response.headers.get("content-type") ?? "" };
  };
  beforeAll(async () => {
    const now = stack.host.now();
    auditor = (await stack.deps.apiKeys.issue(A, { name: "audit-2026", roles: ["Auditor"] }, now)).key;
    other = (await stack.deps.apiKeys.issue("northwind-it", { name: "nw", roles: ["Auditor"] }, now)).key;
  });

  it("publishes the log's key and its checkpoints; another tenant's key gets 403", async () => {
    const key = await get(`/tenants/${A}/transparency/key`, auditor);
    expect(key).toMatchObject({ status: 200, type: expect.stringMatching(/^text\/plain/) });
    const verifier = parseVerifierKey(key.text);
    const latest = await get(`/tenants/${A}/transparency/checkpoint`, auditor);
    expect(latest.status).toBe(200);
    const opened = openNote(latest.text, [verifier]);
    expect(opened.ok).toBe(true);
    const size = parseCheckpoint(noteText(latest.text)).size;
    expect(size).toBe(devices.filter((d) => d.tenant === A && d.status === "completed").length);
    expect((await get(`/tenants/${A}/transparency/checkpoint?size=1`, auditor)).text).toMatch(/\n1\n/);
    expect((await get(`/tenants/${A}/transparency/checkpoint?size=${size + 5}`, auditor)).status).toBe(404);
    expect((await get(`/tenants/${A}/transparency/checkpoint`, other)).status).toBe(403);
  });

  it("serves RFC 6962 consistency proofs between any two checkpoints, and 400 naming the field for a bad range", async () => {
    const verifier = parseVerifierKey((await get(`/tenants/${A}/transparency/key`, auditor)).text);
    const checkpointAt = async (size: number) => {
      const opened = openNote((await get(`/tenants/${A}/transparency/checkpoint?size=${size}`, auditor)).text, [
        verifier,
      ]);
      if (!opened.ok) throw new Error(opened.problem);
      return parseCheckpoint(opened.text);
    };
    const latest = parseCheckpoint(noteText((await get(`/tenants/${A}/transparency/checkpoint`, auditor)).text));
    for (const [from, to] of [
      [1, latest.size],
      [2, 3],
      [3, latest.size - 1],
    ] as const) {
      const r = await get(`/tenants/${A}/transparency/consistency?from=${from}&to=${to}`, auditor);
      expect(r.status).toBe(200);
      const body = JSON.parse(r.text) as { proof: string[]; from: number; to: number };
      const [a, b] = [await checkpointAt(from), await checkpointAt(to)];
      expect(
        verifyConsistency(
          from,
          to,
          a.root,
          b.root,
          body.proof.map((h) => Buffer.from(h, "hex")),
        ),
      ).toBe(true);
    }
    const bad = await get(`/tenants/${A}/transparency/consistency?from=3&to=2`, auditor);
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text)).toMatchObject({ errors: [{ field: "query.from" }] });
  });

  it("carries each run's leaf and the signed checkpoint that included it in its CloudEvent", async () => {
    const verifier = parseVerifierKey(
      await (stack.deps.evidence.log as NonNullable<typeof stack.deps.evidence.log>).verifierKey(A),
    );
    const completed = stack.eventGrid.published.filter(
      (e) =>
        (e.data as { run?: { tenant?: string } } | undefined)?.run?.tenant === A && e.type.endsWith("run.completed"),
    );
    expect(completed.length).toBeGreaterThan(0);
    for (const e of completed) {
      const t = (e.data as { evidence: { transparency?: { leafIndex: number; treeSize: number; checkpoint: string } } })
        .evidence.transparency;
      expect(t).toBeDefined();
      const opened = openNote(t?.checkpoint ?? "", [verifier]);
      expect(opened.ok).toBe(true);
      expect(t?.treeSize).toBe((t?.leafIndex ?? -2) + 1);
    }
  });
});
