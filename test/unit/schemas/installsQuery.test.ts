import { InstallsParamsSchema, InstallsQuerySchema, installsWindow } from "../../../lib/schemas/api/installs";

/** The fields zod blames, as `invalidInput` would name them. */
function refusedFields(query: Record<string, string>): string[] {
  const result = InstallsQuerySchema.safeParse(query);
  return result.success ? [] : result.error.issues.map((i) => i.path.join("."));
}

describe("InstallsQuerySchema", () => {
  it("accepts the auditor's question and its variants", () => {
    for (const query of [
      { kb: "KB5012345", on: "2026-01-20" },
      { kb: "KB5012345", from: "2026-01-01", to: "2026-01-31" },
      { updateId: "openssl", from: "2026-01-01T00:00:00Z", to: "2026-01-31T12:00:00+02:00" },
      { on: "2024-02-29" },
      {},
    ]) {
      expect(InstallsQuerySchema.parse(query)).toEqual(query);
    }
  });

  it("refuses on together with from or to, naming the field", () => {
    expect(refusedFields({ on: "2026-01-20", from: "2026-01-01" })).toEqual(["from"]);
    expect(refusedFields({ on: "2026-01-20", to: "2026-01-31" })).toEqual(["to"]);
  });

  it("refuses a bad kb", () => {
    expect(refusedFields({ kb: "5012345" })).toEqual(["kb"]);
    expect(refusedFields({ kb: "KB12" })).toEqual(["kb"]);
  });

  it("refuses bad dates", () => {
    expect(refusedFields({ on: "2026-02-30" })).toEqual(["on"]);
    expect(refusedFields({ on: "20260120" })).toEqual(["on"]);
    expect(refusedFields({ on: "2026-01-20T00:00:00Z" })).toEqual(["on"]);
    expect(refusedFields({ from: "yesterday", to: "2026-01-20" })).toEqual(["from"]);
    expect(refusedFields({ from: "2026-01-20T10:00:00", to: "2026-01-21" })).toEqual(["from"]);
  });

  it("refuses windows that are open, inverted or longer than 400 days", () => {
    expect(refusedFields({ from: "2026-01-01" })).toEqual(["to"]);
    expect(refusedFields({ to: "2026-01-01" })).toEqual(["from"]);
    expect(refusedFields({ from: "2026-01-20", to: "2026-01-19" })).toEqual(["to"]);
    expect(refusedFields({ from: "2026-01-20T10:00:00Z", to: "2026-01-20T10:00:00Z" })).toEqual(["to"]);
    expect(refusedFields({ from: "2025-01-01", to: "2026-02-04" })).toEqual([]);
    expect(refusedFields({ from: "2025-01-01", to: "2026-02-05" })).toEqual(["to"]);
  });

  it("refuses kb with updateId, and unknown parameters", () => {
    expect(refusedFields({ kb: "KB5012345", updateId: "x" })).toEqual(["updateId"]);
    expect(InstallsQuerySchema.safeParse({ kb: "KB5012345", day: "2026-01-20" }).success).toBe(false);
  });

  it("resolves the window: on is one UTC day, a day as to includes that day", () => {
    const day = Date.parse("2026-01-20T00:00:00Z");
    expect(installsWindow({ on: "2026-01-20" })).toEqual({ start: day, end: day + 86_400_000 });
    expect(installsWindow({ from: "2026-01-20", to: "2026-01-20" })).toEqual({ start: day, end: day + 86_400_000 });
    expect(installsWindow({ from: "2026-01-20T01:00:00+01:00", to: "2026-01-20T12:00:00Z" })).toEqual({
      start: day,
      end: day + 12 * 3_600_000,
    });
    expect(installsWindow({})).toEqual({});
  });
});

describe("InstallsParamsSchema", () => {
  it("takes a tenant slug and a host name", () => {
    expect(InstallsParamsSchema.safeParse({ tenant: "contoso", device: "WIN-SERVER01" }).success).toBe(true);
    expect(InstallsParamsSchema.safeParse({ tenant: "Contoso", device: "WIN-SERVER01" }).success).toBe(false);
    expect(InstallsParamsSchema.safeParse({ tenant: "contoso", device: "../x" }).success).toBe(false);
  });
});
