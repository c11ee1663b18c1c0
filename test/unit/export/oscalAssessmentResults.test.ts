import { createWriteStream, mkdtempSync, readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { ARTIFACTS } from "../../../lib/domain/artifacts";
import { DNS_NAMESPACE, uuidV5 } from "../../../lib/export/oscalUuid";
import { PACKAGE_FILES } from "../../../lib/export/packageLayout";
import { verifyPackage } from "../../../lib/export/verifyPackage";
import { writeExportPackage, type ExportPackageInput } from "../../../lib/export/writeExportPackage";
import type { RunRef } from "../../../lib/schemas/common";
import { writeSampleRun } from "../../../local/demo/sampleRun";
import { AzuriteEvidence } from "../../harness/azuriteEvidence";
import { OSCAL_EXAMPLE_FILE, OSCAL_SCHEMA_FILE, oscalErrors } from "../../harness/oscalValidator";
import { uniqueRunId } from "../../harness/storage";
import { readZip } from "../../harness/zipFiles";

// The document is read field by field below; its shape is what NIST's schema checks.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const dir = mkdtempSync(path.join(os.tmpdir(), "pp-oscal-"));

describe("the validator (NIST's OSCAL 1.2.1 JSON schema, Ajv draft-07)", () => {
  const example: Json = JSON.parse(readFileSync(OSCAL_EXAMPLE_FILE, "utf8"));

  it("uses the vendored files byte for byte (digests as shared/reference/SHA256SUMS lists them)", () => {
    const digest = (file: string): string => createHash("sha256").update(readFileSync(file)).digest("hex");
    expect(digest(OSCAL_SCHEMA_FILE)).toBe("4f9e277a177adbcca9527612ce450a33dc6096773fa229d413d801d196c61985");
    expect(digest(OSCAL_EXAMPLE_FILE)).toBe("13bde5421ac9f8986e293b74e7caa025fd1f61a4c55d94bb68dce44417ff0eb6");
  });

  it("accepts NIST's own assessment-results example", () => {
    expect(oscalErrors(example)).toEqual([]);
  });

  it("refuses the example with a bad UUID, a missing required field, an unknown field and a non-token id", () => {
    const broken = (edit: (d: Json) => void): Json => {
      const copy: Json = structuredClone(example);
      edit(copy);
      return copy;
    };
    expect(oscalErrors(broken((d) => (d["assessment-results"].uuid = "not-a-uuid"))).join()).toMatch(/uuid/);
    expect(oscalErrors(broken((d) => delete d["assessment-results"]["import-ap"])).join()).toMatch(/import-ap/);
    expect(oscalErrors(broken((d) => (d["assessment-results"].extra = 1))).length).toBeGreaterThan(0);
    // \p{L} patterns: a token must start with a letter or underscore, in any script (needs the u flag).
    expect(oscalErrors(broken((d) => (d["assessment-results"].metadata.roles[0].id = "7.3"))).length).toBeGreaterThan(
      0,
    );
    expect(oscalErrors(broken((d) => (d["assessment-results"].metadata.roles[0].id = "prüfer")))).toEqual([]);
  });
});

describe("uuidV5", () => {
  it("matches RFC 9562's example (www.example.com in the DNS name space)", () => {
    expect(uuidV5("www.example.com", DNS_NAMESPACE)).toBe("2ed6657d-e927-568b-95e1-2665a8aea6a2");
  });
});

describe("the export's OSCAL assessment results", () => {
  async function exportOf(runs: RunRef[], damage?: (memory: AzuriteEvidence) => Promise<void>) {
    const memory = await AzuriteEvidence.connect();
    for (const run of runs) {
      await writeSampleRun(memory.deps(), run);
      memory.track(run);
    }
    await damage?.(memory);
    const input: ExportPackageInput = {
      exportId: "x20260401-00000001",
      tenant: "contoso-msp",
      request: { from: "2026-01-01T00:00:00.000Z", to: "2026-04-01T00:00:00.000Z" },
      createdAt: "2026-04-01T08:00:00.000Z",
      runs: await memory.inScope(),
    };
    const zip = path.join(dir, `${uniqueRunId("oscal")}.zip`);
    const output = createWriteStream(zip);
    const done = new Promise<void>((resolve) => output.on("close", () => resolve()));
    await writeExportPackage(memory.source(), input, output);
    await done;
    return { zip, files: await readZip(zip) };
  }
  const runRef = (device: string): RunRef => ({
    tenant: "contoso-msp",
    client: "acme",
    device,
    runId: uniqueRunId("r20260120"),
  });

  it("validates against NIST's schema, covers every run, cites packaged files by their SHA-256, and is in SHA256SUMS", async () => {
    const runs = [runRef("WIN-SERVER01"), runRef("WIN-SQL01")];
    const { zip, files } = await exportOf(runs);
    const bytes = files.get(PACKAGE_FILES.oscal);
    if (bytes === undefined) throw new Error("no OSCAL document in the package");
    const doc: Json = JSON.parse(bytes.toString("utf8"));
    expect(oscalErrors(doc)).toEqual([]);

    const ar = doc["assessment-results"];
    expect(ar.results).toHaveLength(2);
    for (const [i, result] of ar.results.entries()) {
      const run = runs[i] as RunRef;
      expect(result.title).toContain(run.runId);
      const controls = result["reviewed-controls"]["control-selections"][0]["include-controls"].map(
        (c: Json) => c["control-id"],
      );
      expect(controls).toEqual(expect.arrayContaining(["si-2", "cm-3", "au-9"]));
      // One observation per update outcome of install-summary.jsonl, citing its line.
      const installs = result.observations.filter((o: Json) => o.props.some((p: Json) => p.name === "update-id"));
      expect(installs.length).toBeGreaterThan(0);
      expect(installs[0]["relevant-evidence"][0].description).toMatch(/install-summary\.jsonl, line \d+/);
      const si2 = result.findings.find((f: Json) => f.target["target-id"] === "si-2_obj");
      expect(si2.target.status.state).toBe("satisfied");
    }
    // Every cited resource is a packaged file whose bytes hash to the SHA-256 the document states.
    const resources: Json[] = ar["back-matter"].resources;
    expect(resources.length).toBeGreaterThan(10);
    for (const resource of resources) {
      const link = resource.rlinks[0];
      const packaged = files.get(path.posix.normalize(path.posix.join("oscal", link.href)));
      expect({ href: link.href, present: packaged !== undefined }).toEqual({ href: link.href, present: true });
      expect(
        createHash("sha256")
          .update(packaged as Buffer)
          .digest("hex"),
      ).toBe(link.hashes[0].value);
    }
    // Every observation's evidence points at a resource of the document.
    const ids = new Set(resources.map((r) => `#${r.uuid}`));
    for (const result of ar.results)
      for (const o of result.observations)
        for (const e of o["relevant-evidence"] ?? []) expect(ids.has(e.href)).toBe(true);
    const sums = (files.get(PACKAGE_FILES.sums) as Buffer).toString("utf8");
    expect(sums).toContain(`  ${PACKAGE_FILES.oscal}`);
    expect((await verifyPackage(zip)).ok).toBe(true);
  });

  it("is byte-identical when the same evidence is exported again (UUIDs from run ids, not random)", async () => {
    const run = runRef("WIN-SERVER01");
    const memory = await AzuriteEvidence.connect();
    await writeSampleRun(memory.deps(), run);
    memory.track(run);
    const build = async (): Promise<Buffer> => {
      const zip = path.join(dir, `${uniqueRunId("again")}.zip`);
      const output = createWriteStream(zip);
      const closed = new Promise<void>((resolve) => output.on("close", () => resolve()));
      await writeExportPackage(
        memory.source(),
        {
          exportId: "x20260401-00000002",
          tenant: run.tenant,
          request: { from: "2026-01-01T00:00:00.000Z", to: "2026-04-01T00:00:00.000Z" },
          createdAt: "2026-04-01T08:00:00.000Z",
          runs: await memory.inScope(),
        },
        output,
      );
      await closed;
      return (await readZip(zip)).get(PACKAGE_FILES.oscal) as Buffer;
    };
    const first = await build();
    expect((await build()).equals(first)).toBe(true);
  });

  it("marks SI-2 not satisfied when an artifact it cites is gone, and still validates", async () => {
    const run = runRef("WIN-SERVER01");
    const { files } = await exportOf([run], (memory) =>
      memory.deleteBlob(`${run.tenant}/${run.client}/${run.device}/${run.runId}/${ARTIFACTS.catalog.path}`),
    );
    const doc: Json = JSON.parse((files.get(PACKAGE_FILES.oscal) as Buffer).toString("utf8"));
    expect(oscalErrors(doc)).toEqual([]);
    const [result] = doc["assessment-results"].results;
    const si2 = result.findings.find((f: Json) => f.target["target-id"] === "si-2_obj");
    expect(si2.target.status.state).toBe("not-satisfied");
    expect(result.props).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: "export-verification", value: "failed" })]),
    );
  });
});
