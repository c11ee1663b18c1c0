// Checks of the Azure deployment (infra/) against the code, reading both as text: no Azure, no Bicep CLI.
import { EVENT_TYPES } from "../../../lib/azure/events/eventData";
import { existsSync, readdirSync, readFileSync } from "node:fs";
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
  varObjectStrings,
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
const APP_ROLES = "modules/roleAssignments.bicep";
const MANAGED_RG_ROLES = "modules/managedResourceGroupRoles.bicep";
const SUBSCRIPTION_ROLES = "modules/subscriptionReader.bicep";
const MONITORING = "modules/monitoring.bicep";

/** Built-in role definition ids. */
const ROLE = {
  reader: "acdd72a7-3c19-4b77-a2f0-69bf1b1e21b0",
  connectedMachineResourceAdministrator: "cd570a14-e51a-42ad-bac8-bafd67325302",
  virtualMachineContributor: "9980e02c-c2be-4d73-94e8-173b1dc7cf3c",
  storageBlobDataOwner: "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
  storageBlobDataContributor: "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
  storageBlobDelegator: "db58b8e5-c6ad-4a2a-8342-4190687cbf4a",
  storageQueueDataContributor: "974c5e8b-45b9-4653-ba55-5f855dd0ad88",
  storageTableDataContributor: "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
  eventGridDataSender: "d5a91429-5739-47e2-a06b-3470a27159e7",
  monitoringMetricsPublisher: "3913510d-42f4-4e42-8a64-420c390055eb",
} as const;

/**
 * Where a role must be assigned: the Bicep file that holds the assignment, the `scope:` symbol it uses (undefined:
 * the module's own target scope), the resource type that symbol must be, and how main.bicep must wire the module
 * so the assignment lands on the right thing for the app's identity.
 */
const SCOPES = {
  evidenceAccount: {
    file: APP_ROLES,
    symbol: "evidenceAccount",
    type: "Microsoft.Storage/storageAccounts@",
    wiring: [
      /evidenceAccountName:\s*evidenceStorage\.outputs\.accountName/,
      /module roleAssignments 'modules\/roleAssignments\.bicep'[\s\S]*?principalId:\s*functionApp\.outputs\.principalId/,
    ],
  },
  hostStorage: {
    file: APP_ROLES,
    symbol: "hostStorage",
    type: "Microsoft.Storage/storageAccounts@",
    wiring: [/hostStorageAccountName:\s*hostStorage\.outputs\.accountName/],
  },
  topic: {
    file: APP_ROLES,
    symbol: "topic",
    type: "Microsoft.EventGrid/topics@",
    wiring: [/topicName:\s*eventGrid\.outputs\.topicName/],
  },
  dataCollectionRule: {
    file: APP_ROLES,
    symbol: "dataCollectionRule",
    type: "Microsoft.Insights/dataCollectionRules@",
    wiring: [/dataCollectionRuleName:\s*monitoring\.outputs\.dataCollectionRuleName/],
  },
  appInsights: {
    file: APP_ROLES,
    symbol: "appInsights",
    type: "Microsoft.Insights/components@",
    wiring: [/appInsightsName:\s*monitoring\.outputs\.appInsightsName/],
  },
  managedResourceGroup: {
    file: MANAGED_RG_ROLES,
    symbol: undefined,
    type: undefined,
    wiring: [
      /module managedResourceGroupRoles 'modules\/managedResourceGroupRoles\.bicep' = \[for \(group, i\) in managedResourceGroups:[\s\S]*?scope:\s*resourceGroup\(group\.subscriptionId, group\.resourceGroup\)[\s\S]*?principalId:\s*functionApp\.outputs\.principalId/,
    ],
  },
  managedSubscription: {
    file: SUBSCRIPTION_ROLES,
    symbol: undefined,
    type: undefined,
    wiring: [
      /module subscriptionReaders 'modules\/subscriptionReader\.bicep' = \[for \(subscriptionId, i\) in managedSubscriptionIds:[\s\S]*?scope:\s*subscription\(subscriptionId\)[\s\S]*?principalId:\s*functionApp\.outputs\.principalId/,
    ],
  },
} as const;
type ScopeName = keyof typeof SCOPES;

interface Need {
  /** Any one of these roles will do. */
  anyOf: readonly string[];
  at: ScopeName;
}

/**
 * Every Azure SDK client class (and our own ARM client classes) the code constructs, with the roles its calls need.
 * A client the code constructs that is missing here fails the test: adding a client forces a decision about its
 * role, in infra/ and here.
 */
const CLIENT_ROLES: Record<string, { why: string; needs: readonly Need[] }> = {
  BlobServiceClient: {
    why: "evidence, staging, policies and exports containers (lib/azure/storageClients.ts)",
    needs: [{ anyOf: [ROLE.storageBlobDataContributor], at: "evidenceAccount" }],
  },
  TableClient: {
    why: "Runs, Artifacts, Installs, Locks, ApiKeys, AuditLog, Exports, Ingestions tables (lib/azure/storageClients.ts)",
    needs: [{ anyOf: [ROLE.storageTableDataContributor], at: "evidenceAccount" }],
  },
  HybridComputeManagementClient: {
    why: "inventory of Arc machines, by resource group and by subscription (lib/azure/inventory.ts)",
    needs: [
      { anyOf: [ROLE.reader], at: "managedResourceGroup" },
      { anyOf: [ROLE.reader], at: "managedSubscription" },
    ],
  },
  ComputeManagementClient: {
    why: "inventory of scale sets and instances (lib/azure/inventory.ts) and VMSS run commands (lib/azure/vmssRunCommandClient.ts)",
    needs: [
      { anyOf: [ROLE.reader], at: "managedResourceGroup" },
      { anyOf: [ROLE.reader], at: "managedSubscription" },
      { anyOf: [ROLE.virtualMachineContributor], at: "managedResourceGroup" },
    ],
  },
  ArcRunCommandClient: {
    why: "Microsoft.HybridCompute/machines/runCommands (lib/azure/arcRunCommandClient.ts)",
    needs: [{ anyOf: [ROLE.connectedMachineResourceAdministrator], at: "managedResourceGroup" }],
  },
  VmssRunCommandClient: {
    why: "virtualMachineScaleSets/virtualMachines/runCommands (lib/azure/vmssRunCommandClient.ts)",
    needs: [{ anyOf: [ROLE.virtualMachineContributor], at: "managedResourceGroup" }],
  },
  EventGridPublisherClient: {
    why: "publishing patch events to the custom topic",
    needs: [{ anyOf: [ROLE.eventGridDataSender], at: "topic" }],
  },
  LogsIngestionClient: {
    why: "uploading rows to the data collection rule's streams",
    needs: [{ anyOf: [ROLE.monitoringMetricsPublisher], at: "dataCollectionRule" }],
  },
};

/** Calls that need a role beyond their client's. */
const OPERATION_ROLES: Record<string, { pattern: RegExp; needs: readonly Need[] }> = {
  getUserDelegationKey: {
    // User delegation SAS for Run Command output blobs (lib/azure/outputBlobSas.ts) and export links (lib/export).
    pattern: /\.getUserDelegationKey\s*\(/,
    needs: [{ anyOf: [ROLE.storageBlobDataContributor, ROLE.storageBlobDelegator], at: "evidenceAccount" }],
  },
};

/** What the Functions host itself needs (not an SDK client in our code). */
const PLATFORM_NEEDS: readonly Need[] = [
  { anyOf: [ROLE.storageBlobDataOwner], at: "hostStorage" },
  { anyOf: [ROLE.storageQueueDataContributor], at: "hostStorage" },
  { anyOf: [ROLE.storageTableDataContributor], at: "hostStorage" },
  { anyOf: [ROLE.monitoringMetricsPublisher], at: "appInsights" },
];

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...tsFiles(full));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) out.push(full);
  }
  return out;
}

const CONSTRUCTED = [
  /\bnew\s+([A-Z][A-Za-z0-9_]*Client)\s*[(<]/g,
  /\b([A-Z][A-Za-z0-9_]*Client)\s*\.\s*from[A-Z][A-Za-z0-9_]*\s*\(/g,
];

/** Client class -> files (relative) that construct it, over lib/ and functions/. */
function constructedClients(sources: readonly { file: string; text: string }[]): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const { file, text } of sources) {
    for (const pattern of CONSTRUCTED) {
      for (const match of text.matchAll(pattern)) {
        const name = match[1] ?? "";
        found.set(name, [...new Set([...(found.get(name) ?? []), file])]);
      }
    }
  }
  return found;
}

/** A role assignment for the function app's identity: where it is and which role ids it may reference. */
interface Assignment {
  file: string;
  symbol: string;
  scopeSymbol: string | undefined;
  roleIds: string[];
}

const GUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/** Role assignments of a file made for `principalId` (the app's identity, not the operator's). */
function appAssignments(file: string): Assignment[] {
  const text = bicep(file);
  let roleTable: Record<string, string> = {};
  try {
    roleTable = varObjectStrings(text, "roleIds");
  } catch {
    roleTable = {};
  }
  return resources(text)
    .filter((r) => r.type.startsWith("Microsoft.Authorization/roleAssignments@") && !r.existing)
    .filter((r) => /(^|\n)\s*principalId:\s*principalId\s*(\n|$)/.test(r.body))
    .map((r) => {
      const roleExpr = propertyLine(r.body, "roleDefinitionId") ?? "";
      const viaTable = [...roleExpr.matchAll(/\broleIds\.([A-Za-z0-9_]+)/g)].map(
        (m) => roleTable[m[1] ?? ""] ?? `unresolved roleIds.${m[1]}`,
      );
      const literal = [...roleExpr.matchAll(GUID)].map((m) => m[0].toLowerCase());
      return { file, symbol: r.symbol, scopeSymbol: propertyLine(r.body, "scope"), roleIds: [...viaTable, ...literal] };
    });
}

const ROLE_FILES = [APP_ROLES, MANAGED_RG_ROLES, SUBSCRIPTION_ROLES];

function unmetNeeds(needs: readonly Need[], assignments: readonly Assignment[], mainCode: string): string[] {
  const problems: string[] = [];
  for (const need of needs) {
    const scope = SCOPES[need.at];
    const match = assignments.find(
      (a) => a.file === scope.file && a.scopeSymbol === scope.symbol && a.roleIds.some((id) => need.anyOf.includes(id)),
    );
    if (match === undefined) {
      problems.push(
        `no role assignment of ${need.anyOf.join(" or ")} at ${need.at} (${scope.file}${scope.symbol ? `, scope: ${scope.symbol}` : ""})`,
      );
      continue;
    }
    if (scope.symbol !== undefined) {
      const declared = resources(bicep(scope.file)).find((r) => r.symbol === scope.symbol);
      if (declared?.type.startsWith(scope.type ?? "") !== true)
        problems.push(`${scope.file}: scope ${scope.symbol} is not a ${scope.type}`);
    }
    for (const wiring of scope.wiring) {
      if (!wiring.test(mainCode)) problems.push(`main.bicep does not wire ${need.at}: ${wiring.source}`);
    }
  }
  return problems;
}

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
      "union(platformSettings, deployedPatchPilotSettings)",
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

describe("infra: every client the code constructs has its role", () => {
  const sources = [...tsFiles(join(ROOT, "lib")), ...tsFiles(join(ROOT, "functions"))].map((file) => ({
    file: rel(ROOT, file),
    text: readFileSync(file, "utf8"),
  }));
  const clients = constructedClients(sources);
  const assignments = ROLE_FILES.flatMap(appAssignments);
  const mainCode = bicep(MAIN).code;

  it("finds the clients it should (the scan works)", () => {
    for (const name of [
      "BlobServiceClient",
      "TableClient",
      "HybridComputeManagementClient",
      "ComputeManagementClient",
      "ArcRunCommandClient",
      "VmssRunCommandClient",
    ]) {
      expect([...clients.keys()]).toContain(name);
    }
  });

  it("maps every constructed client to its roles", () => {
    const unmapped = [...clients.entries()]
      .filter(([name]) => CLIENT_ROLES[name] === undefined)
      .map(([name, files]) => `${name} (${files.join(", ")})`);
    expect(unmapped).toEqual([]);
  });

  it("assigns each client's roles to the app's identity, at the right scope", () => {
    const problems = [...clients.keys()].flatMap((name) =>
      unmetNeeds(CLIENT_ROLES[name]?.needs ?? [], assignments, mainCode).map((p) => `${name}: ${p}`),
    );
    expect(problems).toEqual([]);
  });

  it("assigns the roles of clients a later issue adds (Event Grid publisher, Logs Ingestion) already", () => {
    const problems = ["EventGridPublisherClient", "LogsIngestionClient"].flatMap((name) =>
      unmetNeeds(CLIENT_ROLES[name]?.needs ?? [], assignments, mainCode).map((p) => `${name}: ${p}`),
    );
    expect(problems).toEqual([]);
  });

  it("assigns the roles of operations that need more than their client", () => {
    const problems = Object.entries(OPERATION_ROLES)
      .filter(([, op]) => sources.some((s) => op.pattern.test(s.text)))
      .flatMap(([name, op]) => unmetNeeds(op.needs, assignments, mainCode).map((p) => `${name}: ${p}`));
    expect(problems).toEqual([]);
  });

  it("assigns what the Functions host needs for identity-based storage and telemetry", () => {
    expect(unmetNeeds(PLATFORM_NEEDS, assignments, mainCode)).toEqual([]);
  });

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
