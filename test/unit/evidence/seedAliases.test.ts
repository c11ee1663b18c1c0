import { checkSeal } from "../../../lib/evidence/checkSeal";
import { buildArtifactIndex, buildManifest } from "../../../lib/evidence/seal";
import { ManifestSchema } from "../../../lib/schemas/artifacts/integrity";
import { RegressionsSchema, regressionsByApplication } from "../../../lib/schemas/artifacts/validation";
import type { ArtifactRow } from "../../../lib/schemas/tableRows";

const run = { tenant: "contoso-msp", client: "acme", device: "WIN-SERVER01", runId: "r20260120-0001" };
const sha = (c: string): string => c.repeat(64);
const index = buildArtifactIndex(run.runId, [
  { path: "05-install/install-summary.jsonl", sha256: sha("a"), size: 10 },
  { path: "10-index/events.jsonl", sha256: sha("b"), size: 20 },
]);
const manifest = buildManifest(run, "2026-01-20T03:00:00.000Z", index, { count: 2, chainHead: sha("c") });
const rows = new Map<string, ArtifactRow>(
  index.entries.map((e) => [
    e.path,
    {
      partitionKey: run.runId,
      rowKey: e.path,
      path: e.path,
      sha256: e.sha256,
      size: e.size,
      merkleLeaf: true,
    } as ArtifactRow,
  ]),
);

describe("seed-compatible aliases are sealed: each must say what the canonical field says", () => {
  it("the manifest carries the seed's names, equal to the canonical fields", () => {
    expect(manifest).toMatchObject({
      merkleRoot: manifest.merkle.root,
      eventsChainHead: sha("c"),
      timestamp: "2026-01-20T03:00:00.000Z",
    });
    expect(ManifestSchema.safeParse(manifest).success).toBe(true);
    expect(checkSeal(run.runId, manifest, rows, index, undefined)).toEqual([]);
  });

  it.each([
    ["merkleRoot", sha("d")],
    ["eventsChainHead", sha("e")],
    ["timestamp", "2026-01-21T03:00:00.000Z"],
  ])("refuses a manifest whose %s alias was edited alone", (field, value) => {
    const parsed = ManifestSchema.safeParse({ ...manifest, [field]: value });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual([field]);
  });

  it("catches a list alias that is not the index's entries (hash in the manifest, row in the index)", () => {
    const edited = { ...manifest, artifactIndexListSha256: sha("f") };
    expect(checkSeal(run.runId, edited, rows, index, undefined).join()).toMatch(/artifactIndexListSha256/);
    const withRow = new Map(rows);
    withRow.set("10-index/artifact-index.list.json", {
      partitionKey: run.runId,
      rowKey: "10-index/artifact-index.list.json",
      path: "10-index/artifact-index.list.json",
      sha256: sha("0"),
      size: 5,
      merkleLeaf: false,
    } as ArtifactRow);
    expect(checkSeal(run.runId, manifest, withRow, index, undefined).join()).toMatch(
      /not the list the manifest sealed/,
    );
  });

  it("groups regressions by application, and refuses a grouping that says something else", () => {
    const regressions = [
      {
        app: "WebApp",
        check: "Health",
        pre: { success: true, detail: "200" },
        post: { success: false, detail: "500" },
      },
      { app: "Sql", check: "Port", pre: { success: true, detail: "open" }, post: { success: false, detail: "closed" } },
      { app: "WebApp", check: "Login", pre: { success: true, detail: "ok" }, post: { success: false, detail: "401" } },
    ];
    const applications = regressionsByApplication(regressions);
    expect(applications).toEqual([
      {
        name: "WebApp",
        regressions: [
          { pattern: "Health", preSuccess: true, postSuccess: false, notes: "500" },
          { pattern: "Login", preSuccess: true, postSuccess: false, notes: "401" },
        ],
      },
      { name: "Sql", regressions: [{ pattern: "Port", preSuccess: true, postSuccess: false, notes: "closed" }] },
    ]);
    const doc = { schemaVersion: 1, TotalRegressions: 3, regressions, preExisting: [], applications };
    expect(RegressionsSchema.safeParse(doc).success).toBe(true);
    // Canonical JSON sorts keys; the check must not depend on key order.
    const sortedKeys = JSON.parse(
      JSON.stringify(
        doc,
        Object.keys(doc)
          .concat([
            "name",
            "notes",
            "pattern",
            "postSuccess",
            "preSuccess",
            "app",
            "check",
            "pre",
            "post",
            "success",
            "detail",
          ])
          .sort(),
      ),
    ) as unknown;
    expect(RegressionsSchema.safeParse(sortedKeys).success).toBe(true);
    const hidden = { ...doc, applications: applications.slice(1) };
    expect(RegressionsSchema.safeParse(hidden).success).toBe(false);
  });
});
