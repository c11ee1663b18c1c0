import { ExportParamsSchema, ExportRequestSchema } from "../../../lib/schemas/api/exports";

describe("export API schemas", () => {
  const ok = { from: "2026-01-01T00:00:00Z", to: "2026-04-01T00:00:00Z" };

  it("accepts a time range with optional client and device filters", () => {
    expect(ExportRequestSchema.parse(ok)).toEqual(ok);
    expect(ExportRequestSchema.parse({ ...ok, clients: ["acme"], devices: ["WIN-SERVER01"] })).toMatchObject({
      clients: ["acme"],
    });
  });

  it("refuses an empty or inverted range, more than 400 days, unknown fields and too many filters", () => {
    const issue = (body: unknown) => ExportRequestSchema.safeParse(body).error?.issues[0];
    expect(issue({ ...ok, to: ok.from })).toMatchObject({ path: ["to"], message: "must be after from" });
    expect(issue({ from: ok.to, to: ok.from })).toMatchObject({ path: ["to"] });
    expect(issue({ from: "2025-01-01T00:00:00Z", to: "2026-02-06T00:00:00Z" })).toMatchObject({
      path: ["to"],
      message: "the range may cover at most 400 days",
    });
    expect(ExportRequestSchema.safeParse({ from: "2025-01-01T00:00:00Z", to: "2026-02-05T00:00:00Z" }).success).toBe(
      true,
    );
    expect(issue({ ...ok, client: ["acme"] })?.code).toBe("unrecognized_keys");
    expect(issue({ ...ok, clients: Array.from({ length: 101 }, (_, i) => `c${i}`) })?.path).toEqual(["clients"]);
    expect(issue({ ...ok, devices: Array.from({ length: 1001 }, (_, i) => `d${i}`) })?.path).toEqual(["devices"]);
    expect(issue({ ...ok, clients: [] })?.path).toEqual(["clients"]);
    expect(issue({ ...ok, clients: ["../other"] })?.path).toEqual(["clients", 0]);
    expect(issue({ ...ok, from: "yesterday" })?.path).toEqual(["from"]);
  });

  it("takes export ids the route generates and nothing path-like", () => {
    expect(ExportParamsSchema.safeParse({ tenant: "contoso-msp", exportId: "x20260401-3f9a1c2b" }).success).toBe(true);
    for (const exportId of ["20260401-3f9a", "x2026", "x20260401/../a", "X20260401-3f9a", `x${"a".repeat(65)}`]) {
      expect(ExportParamsSchema.safeParse({ tenant: "contoso-msp", exportId }).success).toBe(false);
    }
  });
});
