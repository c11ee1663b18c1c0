// Checks of the Azure deployment (infra/) against the code, reading both as text: no Azure, no Bicep CLI.
import { EVENT_TYPES } from "../../../lib/azure/events/eventData";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { TABLES } from "../../../lib/azure/storageClients";
import { EnvSchema } from "../../../lib/config/config";
import {
  bicepFiles,
  propertyLine,
  readBicep,
  rel,
  resources,
  scanBicep,
  varObjectKeys,
  varStringArray,
  type BicepText,
  type ResourceBlock,
} from "./bicep";

const ROOT = resolve(__dirname, "../../..");
const INFRA = join(ROOT, "infra");
const bicep = (file: string): BicepText => readBicep(join(INFRA, file));

const MAIN = "main.bicep";
const FUNCTION_APP = "modules/functionApp.bicep";
const EVIDENCE = "modules/evidenceStorage.bicep";
const HOST = "modules/hostStorage.bicep";
const MONITORING = "modules/monitoring.bicep";

describe("infra: app settings", () => {
  const text = bicep(FUNCTION_APP);

  it("patchPilotSettings has exactly the keys of EnvSchema", () => {
    const keys = varObjectKeys(text, "patchPilotSettings");
    expect(new Set(keys).size).toBe(keys.length);
    expect([...keys].sort()).toEqual(Object.keys(EnvSchema.shape).sort());
  });

  it("keeps platform settings apart: none of them is PatchPilot's, none is forbidden on Flex Consumption", () => {
    const platform = varObjectKeys(text, "platformSettings");
    const ours = new Set(Object.keys(EnvSchema.shape));
    expect(platform.filter((k) => ours.has(k))).toEqual([]);
    expect(varObjectKeys(text, "patchPilotSettings")).toContain("AzureWebJobsStorage__accountName");
    expect(platform).toContain("APPLICATIONINSIGHTS_CONNECTION_STRING");
    for (const forbidden of [
      "FUNCTIONS_WORKER_RUNTIME",
      "FUNCTIONS_EXTENSION_VERSION",
      "WEBSITE_RUN_FROM_PACKAGE",
      "WEBSITE_NODE_DEFAULT_VERSION",
    ]) {
      expect(platform).not.toContain(forbidden);
    }
  });

  it("deploys both lists, leaving out only the local connection-string form of AzureWebJobsStorage", () => {
    expect(varStringArray(text, "settingsNotDeployed")).toEqual(["AzureWebJobsStorage"]);
    const appSettings = resources(text).find(
      (r) => r.type.startsWith("Microsoft.Web/sites/config@") && /name:\s*'appsettings'/.test(r.body),
    );
    expect(appSettings).toBeDefined();
    expect(propertyLine(appSettings?.body ?? "", "properties")).toBe(
      // The Durable Task Scheduler's host overrides sit between them (empty with the Azure Storage backend).
      "union(platformSettings, durableSchedulerSettings, deployedPatchPilotSettings)",
    );
    expect(text.code).toMatch(
      /var deployedPatchPilotSettings = toObject\(\s*filter\(items\(patchPilotSettings\), setting => !contains\(settingsNotDeployed, setting\.key\)\)/,
    );
  });

  it("trusts the client principal only when App Service Authentication is configured", () => {
    expect(text.code).toMatch(/PATCHPILOT_TRUST_CLIENT_PRINCIPAL:\s*entraAuthEnabled \? 'true' : 'false'/);
    const auth = resources(text).find((r) => /name:\s*'authsettingsV2'/.test(r.body));
    expect(auth?.body).toMatch(/^\s*if \(entraAuthEnabled\)/);
    expect(auth?.body).toMatch(/unauthenticatedClientAction:\s*'AllowAnonymous'/);
  });
});

// Which roles are assigned, and whether they cover what the code does: roles.test.ts (against Microsoft's role list).
describe("infra: role assignment names", () => {
  it("names every role assignment guid(scope, principal, role)", () => {
    const all = bicepFiles(INFRA).flatMap((file) =>
      resources(readBicep(file)).filter(
        (r) => r.type.startsWith("Microsoft.Authorization/roleAssignments@") && !r.existing,
      ),
    );
    expect(all.length).toBeGreaterThan(0);
    const badNames = all
      .filter((r) => !/(^|\n)\s*name:\s*guid\([^,]+,\s*[A-Za-z]*[pP]rincipalId,\s*[^)]+\)/.test(r.body))
      .map((r) => `${rel(ROOT, r.file)}: ${r.symbol}`);
    expect(badNames).toEqual([]);
  });
});

describe("infra: evidence storage", () => {
  const text = bicep(EVIDENCE);
  const all = resources(text);
  const containerName = varObjectStringsSafe(text);
  const containers = all.filter((r) => r.type.startsWith("Microsoft.Storage/storageAccounts/blobServices/containers@"));
  const nameOf = (r: ResourceBlock): string => {
    const expr = propertyLine(r.body, "name") ?? "";
    return /^'(.*)'$/.exec(expr)?.[1] ?? containerName[expr] ?? expr;
  };
  const evidence = containers.find((r) => nameOf(r) === "evidence");

  it("has version-level immutability on the evidence container, and only there", () => {
    expect(evidence).toBeDefined();
    expect(evidence?.body).toMatch(/immutableStorageWithVersioning:\s*\{\s*enabled:\s*true\s*\}/);
    const others = containers.filter((r) => r !== evidence);
    expect(others.map(nameOf).sort()).toEqual(["exports", "policies", "runcommand-output"]);
    for (const other of others) expect(other.body).not.toMatch(/immutableStorageWithVersioning/);
  });

  it("gives the evidence container a default time-based retention policy from a parameter (400 days, unlocked)", () => {
    const policy = all.find((r) =>
      r.type.startsWith("Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies@"),
    );
    expect(policy).toBeDefined();
    expect(propertyLine(policy?.body ?? "", "parent")).toBe(evidence?.symbol);
    expect(propertyLine(policy?.body ?? "", "name")).toBe("'default'");
    expect(propertyLine(policy?.body ?? "", "immutabilityPeriodSinceCreationInDays")).toBe("evidenceRetentionDays");
    expect(text.code).toMatch(/param evidenceRetentionDays int = 400/);
    expect(bicep(MAIN).code).toMatch(/param evidenceRetentionDays int = 400/);
    expect(bicep(MAIN).code).toMatch(/evidenceRetentionDays:\s*evidenceRetentionDays/);
    // Locking is an operator's deliberate act (docs/deploy.md), never the template's.
    expect(text.code).not.toMatch(/\/lock\b|'Locked'/);
  });

  it("turns on blob versioning and soft delete", () => {
    const blobService = all.find((r) => r.type.startsWith("Microsoft.Storage/storageAccounts/blobServices@"));
    expect(propertyLine(blobService?.body ?? "", "isVersioningEnabled")).toBe("true");
    expect(blobService?.body).toMatch(/deleteRetentionPolicy:\s*\{\s*enabled:\s*true/);
    expect(blobService?.body).toMatch(/containerDeleteRetentionPolicy:\s*\{\s*enabled:\s*true/);
  });

  it("expires staging output and export packages by lifecycle rules", () => {
    const lifecycle = all.find((r) => r.type.startsWith("Microsoft.Storage/storageAccounts/managementPolicies@"));
    expect(lifecycle?.body).toMatch(/prefixMatch:\s*\[\s*'\$\{stagingContainerName\}\/'\s*\]/);
    expect(lifecycle?.body).toMatch(/prefixMatch:\s*\[\s*'\$\{exportContainerName\}\/'\s*\]/);
    expect(lifecycle?.body).not.toMatch(/evidenceContainerName/);
  });

  it("declares every table of lib/azure/storageClients.ts", () => {
    expect(varStringArray(text, "tableNames").sort()).toEqual(Object.values(TABLES).sort());
  });
});

describe("infra: no keys", () => {
  it("never reads or builds a storage key", () => {
    const offenders = bicepFiles(INFRA).flatMap((file) => {
      const { code } = readBicep(file);
      return [/listKeys\s*\(/i, /AccountKey=/i, /DefaultEndpointsProtocol=/i, /listAccountSas|listServiceSas/i]
        .filter((p) => p.test(code))
        .map((p) => `${rel(ROOT, file)}: ${p.source}`);
    });
    expect(offenders).toEqual([]);
  });

  it.each([
    [EVIDENCE, true],
    [HOST, false],
  ])("%s: shared keys off, TLS 1.2, https only, no public blobs", (file, isEvidence) => {
    const account = resources(bicep(file)).find(
      (r) => r.type.startsWith("Microsoft.Storage/storageAccounts@") && !r.existing,
    );
    const body = account?.body ?? "";
    expect(propertyLine(body, "allowSharedKeyAccess")).toBe("false");
    expect(propertyLine(body, "minimumTlsVersion")).toBe("'TLS1_2'");
    expect(propertyLine(body, "allowBlobPublicAccess")).toBe("false");
    expect(propertyLine(body, "supportsHttpsTrafficOnly")).toBe("true");
    if (isEvidence) expect(propertyLine(body, "defaultToOAuthAuthentication")).toBe("true");
  });

  it("deploys the app package with the managed identity and disables local auth on Event Grid", () => {
    expect(bicep(FUNCTION_APP).code).toMatch(/authentication:\s*\{\s*type:\s*'SystemAssignedIdentity'\s*\}/);
    expect(bicep("modules/eventGrid.bicep").code).toMatch(/disableLocalAuth:\s*true/);
  });
});

describe("infra: custom log tables", () => {
  const tablesPath = join(INFRA, "logs/tables.json");
  const doc = JSON.parse(readFileSync(tablesPath, "utf8")) as {
    tables: { name: string; stream: string; columns: { name: string; type: string }[] }[];
  };
  const monitoring = bicep(MONITORING);

  it("declares PatchPilotRuns_CL, PatchPilotUpdates_CL and PatchPilotWindows_CL with their streams", () => {
    expect(doc.tables.map((t) => [t.name, t.stream])).toEqual([
      ["PatchPilotRuns_CL", "Custom-PatchPilotRuns"],
      ["PatchPilotUpdates_CL", "Custom-PatchPilotUpdates"],
      ["PatchPilotWindows_CL", "Custom-PatchPilotWindows"],
    ]);
  });

  it("gives every table TimeGenerated (datetime), unique column names and DCR column types", () => {
    const allowed = new Set(["string", "int", "long", "real", "boolean", "datetime", "dynamic"]);
    for (const table of doc.tables) {
      expect(table.name).toMatch(/^[A-Za-z][A-Za-z0-9_]*_CL$/);
      expect(table.stream).toMatch(/^Custom-[A-Za-z0-9_]+$/);
      expect(table.columns.find((c) => c.name === "TimeGenerated")?.type).toBe("datetime");
      const names = table.columns.map((c) => c.name);
      expect(new Set(names).size).toBe(names.length);
      expect(table.columns.filter((c) => !allowed.has(c.type))).toEqual([]);
      // The same column objects become the DCR stream columns, which take name and type only.
      expect(table.columns.filter((c) => Object.keys(c).sort().join() !== "name,type")).toEqual([]);
    }
  });

  it("is the one source of the workspace tables and the DCR streams", () => {
    const load = /var\s+(\w+)\s*=\s*loadJsonContent\('([^']+)'\)\.tables/.exec(monitoring.code);
    expect(load).not.toBeNull();
    const [, variable = "", path = ""] = load ?? [];
    expect(existsSync(resolve(dirname(join(INFRA, MONITORING)), path))).toBe(true);
    expect(resolve(dirname(join(INFRA, MONITORING)), path)).toBe(tablesPath);

    const all = resources(monitoring);
    const tables = all.find((r) => r.type.startsWith("Microsoft.OperationalInsights/workspaces/tables@"));
    expect(tables?.body).toMatch(new RegExp(`^\\s*\\[for \\w+ in ${variable}:`));
    const dcr = all.find((r) => r.type.startsWith("Microsoft.Insights/dataCollectionRules@"));
    expect(dcr?.body).toMatch(new RegExp(`streamDeclarations:\\s*toObject\\(${variable},`));
    expect(dcr?.body).toMatch(new RegExp(`dataFlows:\\s*\\[for \\w+ in ${variable}:`));
    // No column is declared a second time by hand.
    for (const column of doc.tables.flatMap((t) => t.columns).filter((c) => c.name !== "TimeGenerated")) {
      expect(monitoring.code).not.toContain(`'${column.name}'`);
    }
  });
});

describe("bicep reader (test helper)", () => {
  it("ignores keys in comments and strings, and nested objects", () => {
    const text = scanBicep(
      [
        "var o = {",
        "  // Fake: 'x'",
        "  A: 'a // not a comment: ${f('}')}' // , Z: 'x'",
        "  /* B: 1 */ C: {",
        "    D: 1",
        "  }",
        "  'E-F': cond",
        "    ? 1",
        "    : 2",
        "  G: [",
        "    { H: 1 }",
        "  ]",
        "}",
      ].join("\n"),
    );
    expect(varObjectKeys(text, "o")).toEqual(["A", "C", "E-F", "G"]);
  });
});

function varObjectStringsSafe(text: BicepText): Record<string, string> {
  // evidenceStorage.bicep names its containers with `var xContainerName = '...'` lines; collect them.
  const out: Record<string, string> = {};
  for (const match of text.code.matchAll(/(^|\n)\s*var\s+(\w+ContainerName)\s*=\s*'([^']*)'/g))
    out[match[2] ?? ""] = match[3] ?? "";
  return out;
}

describe("infra: the Event Grid subscription to ingestPatchEvents", () => {
  const code = bicep("modules/eventSubscription.bicep").code;

  it("subscribes exactly the event types that become rows, and keeps what it cannot deliver", () => {
    const included = /includedEventTypes:\s*\[([^\]]*)\]/.exec(code)?.[1] ?? "";
    expect([...included.matchAll(/'([^']+)'/g)].map((m) => m[1]).sort()).toEqual(
      [EVENT_TYPES.runCompleted, EVENT_TYPES.windowCompleted].sort(),
    );
    expect(code).toMatch(/deadLetterWithResourceIdentity:\s*\{/);
    expect(code).toMatch(/endpointType:\s*'StorageBlob'/);
    expect(code).toMatch(/eventDeliverySchema:\s*'CloudEventSchemaV1_0'/);
    expect(code).toMatch(/name:\s*'ingestPatchEvents'|param functionName string = 'ingestPatchEvents'/);
  });
});
