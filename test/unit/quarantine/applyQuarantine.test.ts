import { explainQuarantine } from "../../../lib/domain/catalog/explainQuarantine";
import { DEFAULT_GLOBAL_POLICY } from "../../../lib/domain/policy/defaultPolicy";
import { applyQuarantine } from "../../../lib/domain/policy/applyQuarantine";
import { resolveEffectivePolicy } from "../../../lib/domain/policy/overlay";
import type { CatalogEntry } from "../../../lib/schemas/artifacts/catalog";
import { QuarantineEntrySchema, quarantineId, type QuarantineEntry } from "../../../lib/schemas/quarantine";

const entry = (over: Partial<QuarantineEntry>): QuarantineEntry =>
  QuarantineEntrySchema.parse({
    schemaVersion: 1,
    id: "client.fabrikam.kb.KB5012346",
    tenant: "contoso-msp",
    scope: "client",
    client: "fabrikam",
    update: { kind: "kb", kb: "KB5012346" },
    reason: "regressed WebApp",
    source: { runs: ["run-20260120-0001"], clients: ["fabrikam"] },
    quarantinedAt: "2026-01-20T04:00:00Z",
    quarantinedBy: "patchpilot",
    history: [],
    ...over,
  });

describe("applyQuarantine", () => {
  const base = resolveEffectivePolicy([
    DEFAULT_GLOBAL_POLICY,
    { schemaVersion: 1, scope: { level: "tenant", tenant: "contoso-msp" }, update: { includeKbs: ["KB5012346"] } },
  ]);

  it("adds active KBs and packages to the exclusions with the entry as provenance; a lifted entry adds nothing", () => {
    const pkg = entry({
      id: "tenant.package.openssl",
      scope: "tenant",
      client: undefined,
      update: { kind: "package", name: "openssl" },
    });
    const lifted = entry({ id: "client.fabrikam.kb.KB5012345", update: { kind: "kb", kb: "KB5012345" } });
    lifted.lifted = { at: "2026-01-21T00:00:00Z", by: "alice", reason: "fixed" };
    const { policy, provenance } = applyQuarantine(base, [entry({}), pkg, lifted]);
    expect(policy.update.excludeKbs).toEqual(["KB5012346"]);
    expect(policy.update.excludePackages).toEqual(["openssl"]);
    expect(provenance["update.excludeKbs[KB5012346]"]).toBe("quarantine:client.fabrikam.kb.KB5012346");
    expect(provenance["update.excludePackages[openssl]"]).toBe("quarantine:tenant.package.openssl");
    expect(provenance["update.excludeKbs[KB5012345]"]).toBeUndefined();
    // includeKbs from a layer cannot let it back in: excludeKbs wins in the catalog decision.
    expect(policy.update.includeKbs).toContain("KB5012346");
    expect(base.policy.update.excludeKbs).toEqual([]); // the input is not changed
  });

  it("keeps a layer's provenance when the layer already excluded the update", () => {
    const excluded = resolveEffectivePolicy([
      DEFAULT_GLOBAL_POLICY,
      { schemaVersion: 1, scope: { level: "tenant", tenant: "contoso-msp" }, update: { excludeKbs: ["KB5012346"] } },
    ]);
    const { policy, provenance } = applyQuarantine(excluded, [entry({})]);
    expect(policy.update.excludeKbs).toEqual(["KB5012346"]);
    expect(provenance["update.excludeKbs[KB5012346]"]).toBe("tenant:contoso-msp");
  });
});

describe("explainQuarantine", () => {
  const catalogEntry = (kb: string, decision: CatalogEntry["decision"]): CatalogEntry => ({
    updateId: `id-${kb}`,
    kb,
    title: kb,
    classification: "Security",
    severity: "Important",
    releaseDate: null,
    rebootBehavior: "CanRequestReboot",
    decision,
    reason: `${kb} is in excludeKbs`,
  });

  it("says who quarantined an excluded update and leaves the others as they were", () => {
    const [held, other] = explainQuarantine(
      [catalogEntry("KB5012346", "excluded"), catalogEntry("KB5012345", "excluded")],
      [entry({})],
    );
    expect(held?.reason).toBe(
      "quarantined for client fabrikam since 2026-01-20T04:00:00Z after run run-20260120-0001 " +
        "(entry client.fabrikam.kb.KB5012346: regressed WebApp); an operator lifts it through the API",
    );
    expect(other?.reason).toBe("KB5012345 is in excludeKbs");
  });
});

describe("quarantineId", () => {
  it("is stable per scope and update and holds no character a URL segment or table key would need escaped", () => {
    expect(quarantineId("tenant", undefined, { kind: "kb", kb: "KB5012345" })).toBe("tenant.kb.KB5012345");
    expect(quarantineId("client", "adatum", { kind: "package", name: "libstdc++6:amd64" })).toBe(
      "client.adatum.package.libstdc~2b~2b6~3aamd64",
    );
  });
});
