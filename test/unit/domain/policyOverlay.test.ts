import { DEFAULT_GLOBAL_POLICY } from "../../../lib/domain/policy/defaultPolicy";
import {
  PolicyValidationError,
  layerName,
  resolveEffectivePolicy,
  type PolicyIssue,
} from "../../../lib/domain/policy/overlay";
import { EffectivePolicySchema, PolicyLayerSchema } from "../../../lib/schemas/policyLayer";

// Layer fixtures are plain JSON (as they arrive from storage), built fresh per call so no test can leak
// mutations into another.

const GLOBAL = "global";
const TENANT = "tenant:contoso";
const CLIENT = "client:contoso/acme";
const DEVICE = "device:contoso/acme/web01";

const httpCheck = (name: string, url: string) => ({ name, type: "http", url });
const serviceCheck = (name: string, serviceName: string) => ({ name, type: "service", serviceName });

function globalLayer(): Record<string, unknown> {
  return {
    schemaVersion: 1,
    scope: { level: "global" },
    update: {
      classifications: ["Critical", "Security", "UpdateRollup", "Definition"],
      severities: ["Critical", "Important", "Moderate", "Low", "Unspecified"],
      deferralDays: 0,
      includeKbs: ["KB5000100"],
      excludeKbs: ["KB5000001"],
      excludePackages: ["openssl"],
      rebootPolicy: "IfRequired",
      maxInstallMinutes: 120,
      maxReboots: 3,
      rebootTimeoutMinutes: 30,
    },
    appValidation: {
      apps: [
        { name: "WebApp", checks: [httpCheck("home", "https://web.example.com/")] },
        { name: "Sql", checks: [serviceCheck("engine", "MSSQLSERVER")] },
      ],
    },
    diagnostics: { required: false, eventLogLookbackHours: 24 },
  };
}

function tenantLayer(): Record<string, unknown> {
  return {
    schemaVersion: 1,
    scope: { level: "tenant", tenant: "contoso" },
    update: { deferralDays: 7, excludeKbs: ["KB5012345", "KB5000001"] },
    appValidation: { apps: [{ name: "Sql", checks: [serviceCheck("agent", "SQLSERVERAGENT")] }] },
    diagnostics: { required: true },
  };
}

function clientLayer(): Record<string, unknown> {
  return {
    schemaVersion: 1,
    scope: { level: "client", tenant: "contoso", client: "acme" },
    update: {
      classifications: ["Critical", "Security"],
      includeKbs: ["KB5012345"],
      excludeKbs: ["KB5009999"],
      excludePackages: ["linux-image-generic", "openssl"],
      maxReboots: 1,
    },
    appValidation: { apps: [{ name: "Erp", checks: [httpCheck("login", "https://erp.acme.example/login")] }] },
  };
}

function deviceLayer(): Record<string, unknown> {
  return {
    schemaVersion: 1,
    scope: { level: "device", tenant: "contoso", client: "acme", device: "web01" },
    update: { rebootPolicy: "Never", excludeKbs: ["KB5020000", "KB5012345", "KB5000002"] },
    appValidation: {
      apps: [
        {
          name: "WebApp",
          checks: [httpCheck("health", "https://web01.acme.example/health"), serviceCheck("iis", "W3SVC")],
        },
      ],
    },
    diagnostics: { eventLogLookbackHours: 48 },
  };
}

const fourLayers = (): Record<string, unknown>[] => [globalLayer(), tenantLayer(), clientLayer(), deviceLayer()];

/** Runs the overlay and returns the PolicyValidationError it must throw. */
function refusal(layers: readonly unknown[]): PolicyValidationError {
  try {
    resolveEffectivePolicy(layers);
  } catch (err) {
    if (err instanceof PolicyValidationError) return err;
    throw err;
  }
  throw new Error("expected resolveEffectivePolicy to throw PolicyValidationError");
}

function withUpdate(layer: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  return { ...layer, update: { ...(layer.update as Record<string, unknown>), ...patch } };
}

describe("resolveEffectivePolicy: merge and provenance across four layers", () => {
  const { policy, provenance } = resolveEffectivePolicy(fourLayers());

  it("records the winning layer for every field, one key per union item and per app", () => {
    expect(provenance).toStrictEqual({
      // replace (scalars and replace-lists): most specific layer that sets it
      "update.classifications": CLIENT,
      "update.severities": GLOBAL,
      "update.deferralDays": TENANT,
      "update.rebootPolicy": DEVICE,
      "update.maxInstallMinutes": GLOBAL,
      "update.maxReboots": CLIENT,
      "update.rebootTimeoutMinutes": GLOBAL,
      "diagnostics.required": TENANT,
      "diagnostics.eventLogLookbackHours": DEVICE,
      // union: least specific layer that introduced the item
      "update.includeKbs[KB5000100]": GLOBAL,
      "update.includeKbs[KB5012345]": CLIENT,
      "update.excludeKbs[KB5000001]": GLOBAL,
      "update.excludeKbs[KB5000002]": DEVICE,
      "update.excludeKbs[KB5009999]": CLIENT,
      "update.excludeKbs[KB5012345]": TENANT,
      "update.excludeKbs[KB5020000]": DEVICE,
      "update.excludePackages[linux-image-generic]": CLIENT,
      "update.excludePackages[openssl]": GLOBAL,
      // keyed union: the layer whose definition won
      "appValidation.apps[Erp]": CLIENT,
      "appValidation.apps[Sql]": TENANT,
      "appValidation.apps[WebApp]": DEVICE,
    });
  });

  it("takes each scalar from the most specific layer that sets it", () => {
    expect(policy.update.deferralDays).toBe(7);
    expect(policy.update.rebootPolicy).toBe("Never");
    expect(policy.update.maxInstallMinutes).toBe(120);
    expect(policy.update.maxReboots).toBe(1);
    expect(policy.diagnostics).toEqual({ schemaVersion: 1, required: true, eventLogLookbackHours: 48, rules: [] });
    expect(policy.appValidation.schemaVersion).toBe(1);
    expect(policy.update.schemaVersion).toBe(1);
    expect(policy.schemaVersion).toBe(1);
  });

  it("lets a client narrow classifications (replace, not union)", () => {
    expect(policy.update.classifications).toEqual(["Critical", "Security"]);
    expect(policy.update.classifications).not.toContain("UpdateRollup");
    expect(policy.update.severities).toEqual(["Critical", "Important", "Moderate", "Low", "Unspecified"]);
  });

  it("unions KB and package lists across layers, de-duplicated and sorted", () => {
    expect(policy.update.excludeKbs).toEqual(["KB5000001", "KB5000002", "KB5009999", "KB5012345", "KB5020000"]);
    expect(policy.update.includeKbs).toEqual(["KB5000100", "KB5012345"]);
    expect(policy.update.excludePackages).toEqual(["linux-image-generic", "openssl"]);
  });

  it("keeps a KB that is both included and excluded on both lists (catalog filtering decides, exclusion wins)", () => {
    expect(policy.update.includeKbs).toContain("KB5012345");
    expect(policy.update.excludeKbs).toContain("KB5012345");
  });

  it("merges apps by name: a more specific definition replaces the whole app, others accumulate, sorted", () => {
    expect(policy.appValidation.apps.map((a) => a.name)).toEqual(["Erp", "Sql", "WebApp"]);
    const checks = Object.fromEntries(policy.appValidation.apps.map((a) => [a.name, a.checks.map((c) => c.name)]));
    // WebApp: device's two checks, not the global "home" check too.
    expect(checks).toEqual({ Erp: ["login"], Sql: ["agent"], WebApp: ["health", "iis"] });
    // Check defaults are applied by the schema.
    expect(policy.appValidation.apps[2]?.checks[0]).toMatchObject({ attempts: 3, timeoutSeconds: 30, method: "GET" });
  });

  it("merges diagnostics rules by name with provenance: a more specific rule replaces the whole rule", () => {
    const tenant = {
      ...tenantLayer(),
      diagnostics: {
        required: true,
        rules: [
          { type: "diskFree", name: "system-disk", minFreePercent: 10 },
          { type: "updateAgentErrors", name: "wu" },
        ],
      },
    };
    const device = {
      ...deviceLayer(),
      diagnostics: { rules: [{ type: "diskFree", name: "system-disk", minFreeBytes: 5_000_000_000 }] },
    };
    const { policy, provenance } = resolveEffectivePolicy([globalLayer(), tenant, clientLayer(), device]);
    expect(policy.diagnostics.rules).toEqual([
      { type: "diskFree", name: "system-disk", minFreeBytes: 5_000_000_000 },
      { type: "updateAgentErrors", name: "wu", maxCount: 0 },
    ]);
    expect(provenance["diagnostics.rules[system-disk]"]).toBe(DEVICE);
    expect(provenance["diagnostics.rules[wu]"]).toBe(TENANT);
    const bad = { ...device, diagnostics: { rules: [{ type: "diskFree", name: "system-disk" }] } };
    expect(refusal([globalLayer(), bad]).issues[0]).toMatchObject({
      layer: DEVICE,
      path: "diagnostics.rules[0].minFreePercent",
    });
  });

  it("produces a policy that passes EffectivePolicySchema", () => {
    expect(EffectivePolicySchema.parse(policy)).toEqual(policy);
  });
});

describe("resolveEffectivePolicy: determinism", () => {
  it("gives deep-equal output with identically serialised, sorted keys for the same input", () => {
    const a = resolveEffectivePolicy(fourLayers());
    const b = resolveEffectivePolicy(fourLayers());
    expect(a).toStrictEqual(b);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    const keys = Object.keys(a.provenance);
    expect(keys).toEqual([...keys].sort());
    expect(keys.length).toBe(21);
  });

  it("does not depend on item order inside a layer's union lists or app list", () => {
    const shuffled = fourLayers();
    const device = deviceLayer();
    shuffled[3] = withUpdate(device, { excludeKbs: ["KB5000002", "KB5020000", "KB5012345"] });
    const global = globalLayer();
    const apps = (global.appValidation as { apps: unknown[] }).apps;
    shuffled[0] = { ...global, appValidation: { apps: [...apps].reverse() } };
    expect(JSON.stringify(resolveEffectivePolicy(shuffled))).toBe(JSON.stringify(resolveEffectivePolicy(fourLayers())));
  });

  it("does not mutate its input", () => {
    const layers = fourLayers();
    const before = structuredClone(layers);
    resolveEffectivePolicy(layers);
    expect(layers).toStrictEqual(before);
  });
});

describe("resolveEffectivePolicy: refusals", () => {
  it("names the layer and dotted field path of each problem in a malformed device layer", () => {
    const device = deviceLayer();
    const bad = {
      ...device,
      update: { deferralDays: -1, rebootPolicyy: "Never", excludeKbs: ["KB5000002", "5012345"] },
    };
    const err = refusal([globalLayer(), tenantLayer(), clientLayer(), bad]);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe("PolicyValidationError");
    const at = err.issues.map((i) => `${i.layer} ${i.path}`).sort();
    expect(at).toEqual([
      `${DEVICE} update.deferralDays`,
      `${DEVICE} update.excludeKbs[1]`,
      `${DEVICE} update.rebootPolicyy`,
    ]);
    expect(err.issues.find((i) => i.path === "update.rebootPolicyy")?.message).toMatch(/unknown field/);
    expect(err.issues.find((i) => i.path === "update.excludeKbs[1]")?.message).toMatch(/KB5012345/);
    for (const path of ["update.deferralDays", "update.rebootPolicyy", "update.excludeKbs[1]"]) {
      expect(err.message).toContain(`${DEVICE} ${path}`);
    }
  });

  it("names an unknown top-level field and a malformed app check", () => {
    const client = { ...clientLayer(), diagnostic: { required: true } };
    const device = {
      ...deviceLayer(),
      appValidation: { apps: [{ name: "WebApp", checks: [{ name: "x", type: "ftp" }] }] },
    };
    const err = refusal([globalLayer(), client, device]);
    const at = err.issues.map((i) => `${i.layer} ${i.path}`);
    expect(at).toContain(`${CLIENT} diagnostic`);
    expect(at).toContain(`${DEVICE} appValidation.apps[0].checks[0].type`);
  });

  it("names a layer whose scope cannot be read by its position", () => {
    const err = refusal([globalLayer(), { ...tenantLayer(), scope: { level: "region", tenant: "contoso" } }, null]);
    const at = err.issues.map((i) => `${i.layer} ${i.path}`);
    expect(at).toContain("layers[1] scope.level");
    expect(at).toContain("layers[2] ");
  });

  it("refuses a client layer of another tenant and a device layer of another client", () => {
    const client = { ...clientLayer(), scope: { level: "client", tenant: "fabrikam", client: "acme" } };
    const device = {
      ...deviceLayer(),
      scope: { level: "device", tenant: "contoso", client: "globex", device: "web01" },
    };
    const err = refusal([globalLayer(), tenantLayer(), client, device]);
    expect(err.issues).toEqual<PolicyIssue[]>([
      { layer: "client:fabrikam/acme", path: "scope.tenant", message: expect.stringContaining(TENANT) as string },
      {
        layer: "device:contoso/globex/web01",
        path: "scope.client",
        message: expect.stringContaining("client:fabrikam/acme") as string,
      },
    ]);
  });

  it("refuses a device layer whose tenant differs from its client layer's when there is no tenant layer", () => {
    const device = {
      ...deviceLayer(),
      scope: { level: "device", tenant: "fabrikam", client: "acme", device: "web01" },
    };
    const err = refusal([globalLayer(), clientLayer(), device]);
    expect(err.issues.map((i) => `${i.layer} ${i.path}`)).toEqual(["device:fabrikam/acme/web01 scope.tenant"]);
  });

  it("refuses layers out of order or two of one level", () => {
    expect(refusal([tenantLayer(), globalLayer()]).issues).toEqual([
      expect.objectContaining({ layer: GLOBAL, path: "scope.level" }),
    ]);
    expect(refusal([globalLayer(), deviceLayer(), clientLayer()]).issues).toEqual([
      expect.objectContaining({ layer: CLIENT, path: "scope.level" }),
    ]);
    const twoGlobals = refusal([globalLayer(), globalLayer()]);
    expect(twoGlobals.issues).toEqual([expect.objectContaining({ layer: GLOBAL, path: "scope.level" })]);
    expect(twoGlobals.message).toMatch(/second global layer/);
  });

  it("refuses a field that no layer sets, naming it with layer `effective`", () => {
    const global = globalLayer();
    const { maxReboots: _m, ...update } = global.update as Record<string, unknown>;
    const { appValidation: _a, ...noApps }: Record<string, unknown> = { ...global, update };
    const { appValidation: _t, ...tenantNoApps } = tenantLayer();
    const { appValidation: _c, ...clientNoApps } = withUpdate(clientLayer(), { maxReboots: undefined });
    const err = refusal([noApps, tenantNoApps, clientNoApps]);
    expect(err.issues).toEqual([
      expect.objectContaining({ layer: "effective", path: "update.maxReboots" }),
      expect.objectContaining({ layer: "effective", path: "appValidation.apps" }),
    ]);
    expect(err.message).toContain("effective update.maxReboots");
  });

  it("refuses an empty layer list, naming every field", () => {
    const err = refusal([]);
    expect(err.issues.every((i) => i.layer === "effective")).toBe(true);
    expect(err.issues.map((i) => i.path)).toEqual([
      "update.classifications",
      "update.severities",
      "update.deferralDays",
      "update.includeKbs",
      "update.excludeKbs",
      "update.excludePackages",
      "update.rebootPolicy",
      "update.maxInstallMinutes",
      "update.maxReboots",
      "update.rebootTimeoutMinutes",
      "appValidation.apps",
      "diagnostics.required",
      "diagnostics.eventLogLookbackHours",
    ]);
  });
});

describe("resolveEffectivePolicy: explicit removal (remove)", () => {
  const client = (remove: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    schemaVersion: 1,
    scope: { level: "client", tenant: "contoso", client: "acme" },
    remove,
    ...extra,
  });

  it("drops an inherited app and records which layer removed it", () => {
    const { policy, provenance } = resolveEffectivePolicy([globalLayer(), tenantLayer(), client({ apps: ["WebApp"] })]);
    expect(policy.appValidation.apps.map((a) => a.name)).toEqual(["Sql"]);
    expect(provenance["appValidation.apps[WebApp]"]).toBeUndefined();
    expect(provenance["removed.appValidation.apps[WebApp]"]).toBe(CLIENT);
  });

  it("drops one check of an inherited app and keeps the rest of it", () => {
    const twoChecks = globalLayer();
    (twoChecks.appValidation as { apps: unknown[] }).apps = [
      { name: "WebApp", checks: [httpCheck("home", "https://web.example.com/"), serviceCheck("iis", "W3SVC")] },
    ];
    const { policy, provenance } = resolveEffectivePolicy([
      twoChecks,
      client({ checks: [{ app: "WebApp", check: "iis" }] }),
    ]);
    expect(policy.appValidation.apps.map((a) => [a.name, a.checks.map((c) => c.name)])).toEqual([["WebApp", ["home"]]]);
    expect(provenance["appValidation.apps[WebApp]"]).toBe(GLOBAL);
    expect(provenance["removed.appValidation.apps[WebApp].checks[iis]"]).toBe(CLIENT);
  });

  it("drops an inherited force-include KB; a more specific layer may add it back, and then owns it", () => {
    const removed = resolveEffectivePolicy([globalLayer(), client({ includeKbs: ["KB5000100"] })]);
    expect(removed.policy.update.includeKbs).toEqual([]);
    expect(removed.provenance["removed.update.includeKbs[KB5000100]"]).toBe(CLIENT);
    const readded = resolveEffectivePolicy([
      globalLayer(),
      client({ includeKbs: ["KB5000100"] }),
      {
        schemaVersion: 1,
        scope: { level: "device", tenant: "contoso", client: "acme", device: "web01" },
        update: { includeKbs: ["KB5000100"] },
      },
    ]);
    expect(readded.policy.update.includeKbs).toEqual(["KB5000100"]);
    expect(readded.provenance["update.includeKbs[KB5000100]"]).toBe(DEVICE);
    expect(readded.provenance["removed.update.includeKbs[KB5000100]"]).toBeUndefined();
  });

  it("refuses removing what no less specific layer adds, and removing exclusions at all", () => {
    const issues = (layers: unknown[]): PolicyIssue[] => {
      try {
        resolveEffectivePolicy(layers);
      } catch (error) {
        if (error instanceof PolicyValidationError) return [...error.issues];
        throw error;
      }
      throw new Error("expected a refusal");
    };
    expect(issues([globalLayer(), client({ apps: ["Nope"] })])).toEqual([
      { layer: CLIENT, path: "remove.apps[0]", message: expect.stringContaining("Nope") },
    ]);
    expect(issues([globalLayer(), client({ checks: [{ app: "WebApp", check: "home" }] })])[0]?.message).toContain(
      "without checks",
    );
    expect(issues([globalLayer(), client({ excludeKbs: ["KB5000001"] })])[0]).toMatchObject({
      layer: CLIENT,
      path: "remove.excludeKbs",
    });
  });
});

describe("layerName", () => {
  it("names each level", () => {
    expect(layerName({ level: "global" })).toBe("global");
    expect(layerName({ level: "tenant", tenant: "t" })).toBe("tenant:t");
    expect(layerName({ level: "client", tenant: "t", client: "c" })).toBe("client:t/c");
    expect(layerName({ level: "device", tenant: "t", client: "c", device: "d" })).toBe("device:t/c/d");
  });
});

describe("DEFAULT_GLOBAL_POLICY", () => {
  it("is a valid, frozen global layer that alone resolves to a complete policy", () => {
    expect(PolicyLayerSchema.parse(DEFAULT_GLOBAL_POLICY)).toEqual(DEFAULT_GLOBAL_POLICY);
    expect(Object.isFrozen(DEFAULT_GLOBAL_POLICY.update?.classifications)).toBe(true);
    const { policy, provenance } = resolveEffectivePolicy([DEFAULT_GLOBAL_POLICY]);
    expect(policy.update).toEqual({
      schemaVersion: 1,
      classifications: ["Critical", "Security", "UpdateRollup", "Definition"],
      severities: ["Critical", "Important", "Moderate", "Low", "Unspecified"],
      deferralDays: 0,
      includeKbs: [],
      excludeKbs: [],
      excludePackages: [],
      rebootPolicy: "IfRequired",
      maxInstallMinutes: 120,
      maxReboots: 3,
      rebootTimeoutMinutes: 30,
    });
    expect(policy.appValidation.apps).toEqual([]);
    expect(policy.diagnostics).toEqual({ schemaVersion: 1, required: false, eventLogLookbackHours: 24, rules: [] });
    expect(new Set(Object.values(provenance))).toEqual(new Set([GLOBAL]));
  });

  it("is overlaid by a device layer directly (levels may be skipped)", () => {
    const { policy, provenance } = resolveEffectivePolicy([DEFAULT_GLOBAL_POLICY, deviceLayer()]);
    expect(policy.update.rebootPolicy).toBe("Never");
    expect(provenance["update.rebootPolicy"]).toBe(DEVICE);
    expect(provenance["update.maxReboots"]).toBe(GLOBAL);
  });
});
