// infra/ through the real Bicep compiler (0.49, restored from NuGet by `npm run tools`): `bicep build` of
// main.bicep and every module, `bicep lint` of all of them, and `bicep build-params` of main.bicep with both values
// of every feature flag (test/unit/infra/fixtures/*.bicepparam). Skipped naming the tool where it is not installed;
// required under CI=true (test/harness/tools.ts).
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { describeWithTool } from "../../harness/tools";
import { buildParams, describeDiagnostics, runBicep, type BicepDiagnostic } from "./bicepCli";

const ROOT = resolve(__dirname, "../../..");
const INFRA = join(ROOT, "infra");
const FIXTURES = join(__dirname, "fixtures");

/**
 * Warnings we keep on purpose, by "file code" (file relative to the repository), each with its reason. Empty: the
 * default rule set reports none today; a new warning must be fixed, or justified here and beside the code.
 */
const JUSTIFIED_WARNINGS: Record<string, string> = {};

function bicepSources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...bicepSources(full));
    else if (entry.name.endsWith(".bicep")) out.push(full);
  }
  return out.sort();
}

const unjustified = (diagnostics: readonly BicepDiagnostic[]): BicepDiagnostic[] =>
  diagnostics.filter(
    (d) => d.level === "Error" || JUSTIFIED_WARNINGS[`${relative(ROOT, d.file)} ${d.code}`] === undefined,
  );

const PARAM_FILES = readdirSync(FIXTURES)
  .filter((f) => f.endsWith(".bicepparam"))
  .sort()
  .map((f) => join(FIXTURES, f));

describeWithTool(["bicep"], "infra: the real Bicep compiler", () => {
  it("finds main.bicep, every module and the parameter files", () => {
    const files = bicepSources(INFRA).map((f) => relative(INFRA, f));
    expect(files).toContain("main.bicep");
    expect(files.filter((f) => f.startsWith("modules/")).length).toBeGreaterThanOrEqual(11);
    expect(PARAM_FILES.map((f) => relative(FIXTURES, f))).toEqual([
      "defaults.bicepparam",
      "flags-off.bicepparam",
      "flags-on.bicepparam",
    ]);
  });

  it("builds main.bicep and every module with no error and no unjustified warning", () => {
    const out = mkdtempSync(join(tmpdir(), "patchpilot-bicep-"));
    try {
      const run = runBicep(["build", "--pattern", "infra/**/*.bicep", "--outdir", out]);
      expect({
        diagnostics: describeDiagnostics(unjustified(run.diagnostics)),
        other: run.other,
        exit: run.status,
      }).toEqual({ diagnostics: [], other: [], exit: 0 });
      const built = readdirSync(join(out, "modules")).sort();
      expect(built).toEqual(
        bicepSources(join(INFRA, "modules")).map((f) =>
          relative(join(INFRA, "modules"), f).replace(/\.bicep$/, ".json"),
        ),
      );
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("lints main.bicep, every module and the parameter files with no error and no unjustified warning", () => {
    for (const pattern of ["infra/**/*.bicep", "test/unit/infra/fixtures/*.bicepparam"]) {
      const run = runBicep(["lint", "--pattern", pattern]);
      expect({
        pattern,
        diagnostics: describeDiagnostics(unjustified(run.diagnostics)),
        other: run.other,
        exit: run.status,
      }).toEqual({ pattern, diagnostics: [], other: [], exit: 0 });
    }
  });

  it("every justified warning still occurs (a fixed one leaves the list)", () => {
    const run = runBicep(["lint", "--pattern", "infra/**/*.bicep"]);
    const seen = new Set(run.diagnostics.map((d) => `${relative(ROOT, d.file)} ${d.code}`));
    expect(Object.keys(JUSTIFIED_WARNINGS).filter((k) => !seen.has(k))).toEqual([]);
  });

  describe("main.bicep with both values of every feature flag", () => {
    type Built = { file: string } & ReturnType<typeof buildParams>;
    let built: Built[] = [];
    let declared: NonNullable<Built["template"]["parameters"]> = {};
    beforeAll(() => {
      built = PARAM_FILES.map((file) => ({ file: relative(FIXTURES, file), ...buildParams(file) }));
      declared = built[0]?.template.parameters ?? {};
    });
    /** Parameter value in a fixture, the template's default when the fixture leaves it out. */
    const value = (b: Built, name: string): unknown =>
      name in b.parameters ? b.parameters[name] : declared[name]?.defaultValue;

    it("every fixture builds against main.bicep (types, allowed values and ranges checked by the compiler)", () => {
      expect(built.map((b) => b.file)).toEqual(PARAM_FILES.map((f) => relative(FIXTURES, f)));
      for (const b of built) expect(Object.keys(b.template.resources).length).toBeGreaterThan(5);
    });

    it("gives every bool parameter of main.bicep both values", () => {
      const bools = Object.entries(declared).filter(([, p]) => p.type === "bool");
      expect(bools.map(([name]) => name).sort()).toEqual([
        "deployEventSubscription",
        "diskSnapshots",
        "evidenceRetentionLocked",
        "inventoryReaderOnSubscriptions",
        "useCustomRunCommandRole",
      ]);
      for (const [name] of bools) {
        expect({ name, values: [...new Set(built.map((b) => value(b, name)))].sort() }).toEqual({
          name,
          values: [false, true],
        });
      }
    });

    it("gives every optional parameter whose emptiness switches resources both an empty and a set value", () => {
      for (const name of ["entraClientId", "operatorPrincipalId", "alertActionGroupId", "managedResourceGroups"]) {
        const emptiness = new Set(
          built.map((b) => {
            const v = value(b, name);
            return Array.isArray(v) ? v.length === 0 : typeof v !== "string" || v.length === 0;
          }),
        );
        expect({ name, emptiness: [...emptiness].sort() }).toEqual({ name, emptiness: [false, true] });
      }
    });
  });
});
