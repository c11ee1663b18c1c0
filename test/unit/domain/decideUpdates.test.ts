import { decideUpdates, type ApplicableUpdate } from "../../../lib/domain/catalog/decideUpdates";
import { UpdatePolicySchema, type UpdatePolicy } from "../../../lib/schemas/policies";
import { DEFAULT_GLOBAL_POLICY } from "../../../lib/domain/policy/defaultPolicy";
import { CatalogEntrySchema } from "../../../lib/schemas/artifacts/catalog";

const policy = (over: Partial<UpdatePolicy> = {}): UpdatePolicy =>
  UpdatePolicySchema.parse({ ...DEFAULT_GLOBAL_POLICY.update, schemaVersion: 1, ...over });
const now = new Date("2026-01-20T02:00:00Z");
const update = (over: Partial<ApplicableUpdate> = {}): ApplicableUpdate => ({
  updateId: "0f1e2d3c-0000-4000-8000-000000000001",
  kb: "KB5012345",
  title: "2026-01 Cumulative Update",
  classification: "Security",
  severity: "Critical",
  releaseDate: "2026-01-13T18:00:00Z",
  rebootBehavior: "CanRequestReboot",
  ...over,
});

describe("decideUpdates", () => {
  it("approves an update the policy covers and says why", () => {
    const [entry] = decideUpdates([update()], policy(), now);
    expect(entry).toMatchObject({ decision: "approved" });
    expect(entry?.reason).toContain("classification Security, severity Critical");
    expect(CatalogEntrySchema.safeParse(entry).success).toBe(true);
  });

  it("excludes by classification and by severity", () => {
    const [tools, low] = decideUpdates(
      [update({ classification: "Tools" }), update({ severity: "Low" })],
      policy({ severities: ["Critical"] }),
      now,
    );
    expect(tools).toMatchObject({ decision: "excluded", reason: "classification Tools is not in the policy" });
    expect(low).toMatchObject({ decision: "excluded", reason: "severity Low is not in the policy" });
  });

  it("defers an update until deferralDays after its release, to the millisecond", () => {
    const p = policy({ deferralDays: 7 });
    const [early] = decideUpdates([update({ releaseDate: "2026-01-13T02:00:01Z" })], p, now);
    const [due] = decideUpdates([update({ releaseDate: "2026-01-13T02:00:00Z" })], p, now);
    expect(early).toMatchObject({
      decision: "excluded",
      reason: expect.stringContaining("deferred until 2026-01-20T02:00:01.000Z"),
    });
    expect(due).toMatchObject({ decision: "approved" });
  });

  it("lets excludeKbs win over includeKbs, and includeKbs win over everything else", () => {
    const p = policy({
      includeKbs: ["KB5012345", "KB5000001"],
      excludeKbs: ["KB5012345"],
      classifications: ["Critical"],
      deferralDays: 30,
    });
    const [bad, forced] = decideUpdates([update(), update({ kb: "KB5000001", classification: "Tools" })], p, now);
    expect(bad).toMatchObject({ decision: "excluded", reason: "KB5012345 is in excludeKbs" });
    expect(forced).toMatchObject({ decision: "approved", reason: expect.stringContaining("includeKbs") });
  });

  it("excludes Linux packages by name, and says when a deferral cannot apply to an undated package", () => {
    const pkg = update({ kb: undefined, updateId: "openssl", version: "3.0.15-1~deb12u1", releaseDate: null });
    const [held] = decideUpdates([pkg], policy({ excludePackages: ["openssl"] }), now);
    const [undated] = decideUpdates([pkg], policy({ deferralDays: 5 }), now);
    expect(held).toMatchObject({ decision: "excluded", reason: "package openssl is in excludePackages" });
    expect(undated).toMatchObject({
      decision: "approved",
      reason: expect.stringContaining("release date unknown, so the 5-day deferral cannot apply"),
    });
  });

  it("keeps every update, in input order", () => {
    const out = decideUpdates(
      [update({ updateId: "a" }), update({ updateId: "b", classification: "Tools" })],
      policy(),
      now,
    );
    expect(out.map((e) => [e.updateId, e.decision])).toEqual([
      ["a", "approved"],
      ["b", "excluded"],
    ]);
  });
});
