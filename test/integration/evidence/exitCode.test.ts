import { computeExitCode, type ComputeExitCodeInput } from "../../../lib/deviceRun/computeExitCode";
import { ARTIFACTS } from "../../../lib/domain/artifacts";
import { canonicalJsonBytes } from "../../../lib/evidence/canonicalJson";
import { createEvidenceDeps } from "../../../lib/evidence/createEvidenceDeps";
import { artifactBlobName } from "../../../lib/evidence/keys";
import { putArtifact, sealRun } from "../../../lib/evidence/runEvidence";
import { verifyRun } from "../../../lib/evidence/verifyRun";
import { ExitCodeRecordSchema } from "../../../lib/schemas/artifacts/outcome";
import type { RunRef } from "../../../lib/schemas/common";
import { at, buildSampleArtifacts, writeSampleRun, type SampleScenario } from "../../../local/demo/sampleRun";
import { testConfig, testStorage, uniqueRunId } from "../../harness/storage";

async function setup() {
  const config = testConfig();
  const clients = await testStorage(config);
  const deps = createEvidenceDeps(config, clients);
  const run: RunRef = { tenant: "contoso-msp", client: "acme", device: "WIN-SERVER01", runId: uniqueRunId("exit") };
  const compute = (input: ComputeExitCodeInput) => computeExitCode(deps, input);
  return { clients, deps, run, compute };
}

async function readExitRecord(s: Awaited<ReturnType<typeof setup>>) {
  const bytes = await s.deps.store.get(s.run, ARTIFACTS.exitCode.path);
  return ExitCodeRecordSchema.parse(JSON.parse(String(bytes)));
}

describe("computeExitCode, inside finishDeviceRun (reads the evidence back from Azurite)", () => {
  it.each<[SampleScenario, number]>([
    [{}, 0],
    [{ rebootPolicy: "Never" }, 150],
    [{ lockHeldBy: "run-held-by-another-0001" }, 170],
    [{ failedKb: "KB5012346" }, 210],
    [{ regression: true }, 220],
    [{ diagnosticsFail: true, diagnosticsRequired: true }, 230],
    [{ omit: ["regressions"] }, 240],
  ])("scenario %j ends in %i, recorded in exit-code.json with every artifact read", async (scenario, code) => {
    const s = await setup();
    await writeSampleRun(s.deps, s.run, scenario);
    const result = await s.compute({ run: s.run, decidedAt: at(57) });

    expect(result.exitCode).toBe(code);
    const record = await readExitRecord(s);
    expect(record.exitCode).toBe(code);
    expect(record.rule).toBe(result.rule);
    const rows = await s.deps.index.readArtifacts(s.run.runId);
    // Every indexed input was read, with the hash the index promised.
    for (const row of rows.values()) {
      if (row.path.startsWith("11-report/")) continue;
      expect(record.artifactsRead).toContainEqual(
        expect.objectContaining({ path: row.path, indexedSha256: row.sha256, status: "verified" }),
      );
    }
    expect(rows.get(ARTIFACTS.exitCode.path)?.sha256).toBe(result.sha256);
    expect(await s.deps.index.getRun(s.run.tenant, s.run.client, s.run.runId)).toMatchObject({
      status: "completed",
      exitCode: code,
    });
  });

  it("is idempotent: a retry writes the same exit-code.json and succeeds", async () => {
    const s = await setup();
    await writeSampleRun(s.deps, s.run, { regression: true });
    const first = await s.compute({ run: s.run, decidedAt: at(57) });
    const retry = await s.compute({ run: s.run, decidedAt: at(57) });
    expect(retry).toEqual(first);
  });

  it("gives 240 for an artifact tampered in storage after indexing, and verify names it", async () => {
    const s = await setup();
    await writeSampleRun(s.deps, s.run, {});
    const name = artifactBlobName(s.run, ARTIFACTS.installSummary.path);
    const original = await s.clients.evidence.getBlockBlobClient(name).downloadToBuffer();
    // An insider flips a failed install to success, bypassing PatchPilot (Azurite has no WORM to stop it).
    await s.clients.evidence
      .getBlockBlobClient(name)
      .uploadData(Buffer.from(original.toString().replace('"installed":true', '"installed":false')));

    const result = await s.compute({ run: s.run, decidedAt: at(57) });
    expect(result.exitCode).toBe(240);
    expect((await readExitRecord(s)).reasons.join("\n")).toContain("05-install/install-summary.jsonl is hash-mismatch");

    const report = await verifyRun(s.deps, s.run);
    expect(report.ok).toBe(false);
    expect(report.artifacts.find((a) => a.path === ARTIFACTS.installSummary.path)).toMatchObject({
      status: "hash-mismatch",
    });
    expect(report.artifacts.filter((a) => a.status !== "verified").map((a) => a.path)).toEqual([
      ARTIFACTS.installSummary.path,
    ]);
  });

  it("gives 240 for a schema-invalid artifact (hash intact), and verify names it", async () => {
    const s = await setup();
    const { artifacts, events } = buildSampleArtifacts(s.run, {});
    const stored = [];
    for (const [key, value] of Object.entries(artifacts)) {
      const spec = ARTIFACTS[key as keyof typeof ARTIFACTS];
      if (key === "regressions") {
        // A buggy writer bypassing putArtifact's check: TotalRegressions disagrees with the list.
        stored.push(
          await s.deps.store.put(
            s.run,
            spec.path,
            canonicalJsonBytes({ ...(value as object), TotalRegressions: 2 }),
            spec.contentType,
          ),
        );
      } else {
        stored.push(await putArtifact(s.deps, s.run, spec, value));
      }
    }
    await sealRun(s.deps, s.run, { sealedAt: at(56), artifacts: stored, events });

    const result = await s.compute({ run: s.run, decidedAt: at(57) });
    expect(result.exitCode).toBe(240);
    const report = await verifyRun(s.deps, s.run);
    expect(report.artifacts.find((a) => a.path === ARTIFACTS.regressions.path)).toMatchObject({
      status: "schema-invalid",
    });
    expect(report.ok).toBe(false);
    expect(report.seal.ok).toBe(true);
  });

  it("gives 240 for an artifact deleted after indexing, and verify names it", async () => {
    const s = await setup();
    await writeSampleRun(s.deps, s.run, {});
    await s.clients.evidence.getBlobClient(artifactBlobName(s.run, ARTIFACTS.catalog.path)).delete();

    expect((await s.compute({ run: s.run, decidedAt: at(57) })).exitCode).toBe(240);
    const report = await verifyRun(s.deps, s.run);
    expect(report.artifacts.find((a) => a.path === ARTIFACTS.catalog.path)).toMatchObject({ status: "missing" });
    expect(report.ok).toBe(false);
  });

  it("names a never-written required artifact in the reasons", async () => {
    const s = await setup();
    await writeSampleRun(s.deps, s.run, { omit: ["snapshot"] });
    await s.compute({ run: s.run, decidedAt: at(57) });
    const record = await readExitRecord(s);
    expect(record.exitCode).toBe(240);
    expect(record.reasons).toContain("07-post-snapshot/snapshot.json is missing");
  });

  it("gives 240 when an index row is altered so the Merkle root no longer matches the manifest", async () => {
    const s = await setup();
    await writeSampleRun(s.deps, s.run, {});
    // Tamper consistently with blob AND index row: only the seal can catch it.
    const path = ARTIFACTS.regressions.path;
    const forged = canonicalJsonBytes({
      schemaVersion: 1,
      TotalRegressions: 0,
      regressions: [],
      preExisting: [
        { app: "x", check: "y", pre: { success: false, detail: "" }, post: { success: false, detail: "" } },
      ],
    });
    await s.clients.evidence.getBlockBlobClient(artifactBlobName(s.run, path)).uploadData(forged);
    const row = (await s.deps.index.readArtifacts(s.run.runId)).get(path);
    const { sha256Hex } = await import("../../../lib/evidence/sha256");
    await s.clients.tables.artifacts.updateEntity(
      { partitionKey: row!.partitionKey, rowKey: row!.rowKey, sha256: sha256Hex(forged), size: forged.length },
      "Merge",
    );

    expect((await s.compute({ run: s.run, decidedAt: at(57) })).exitCode).toBe(240);
    const report = await verifyRun(s.deps, s.run);
    expect(report.seal.ok).toBe(false);
    expect(report.seal.problems.join("\n")).toContain("Merkle root");
    expect(report.ok).toBe(false);
  });

  it("verifies a clean run: every artifact, the Merkle root and the event chain", async () => {
    const s = await setup();
    const { seal } = await writeSampleRun(s.deps, s.run, {});
    await s.compute({ run: s.run, decidedAt: at(57) });
    const report = await verifyRun(s.deps, s.run);
    expect(report.ok).toBe(true);
    expect(report.merkleRoot).toBe(seal.manifest.merkle.root);
    expect(report.artifacts.every((a) => a.status === "verified")).toBe(true);
    expect(report.artifacts.map((a) => a.path)).toContain(ARTIFACTS.exitCode.path);
    expect(report.unindexed).toEqual([]);
  });

  it("indexes the install outcomes for the audit question 'was KB5012345 installed on WIN-SERVER01?'", async () => {
    const s = await setup();
    const { seal } = await writeSampleRun(s.deps, s.run, {});
    const rows = await s.deps.index.readInstalls(s.run.tenant, s.run.device, "KB5012345");
    const mine = rows.find((r) => r.runId === s.run.runId);
    const summary = seal.stored.find((a) => a.path === ARTIFACTS.installSummary.path);
    expect(mine).toMatchObject({
      installed: true,
      result: "Succeeded",
      artifactPath: ARTIFACTS.installSummary.path,
      artifactSha256: summary?.sha256,
      line: 1,
    });
  });
});
