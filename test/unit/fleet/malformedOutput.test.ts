import { SCRIPT_OUTPUT_SCHEMAS } from "../../../lib/schemas/device";
import { HOSTILE_STRINGS } from "../../../local/fleet/device/hostileStrings";
import { request, runScript, smallFleet, T0 } from "../../fixtures/fleet/scenarios";

function stdoutFor(mode: string, extra: Record<string, unknown> = {}): string {
  const { win } = smallFleet(
    (s) => ((s.devices[0] as { malformed?: unknown }).malformed = [{ script: "catalog", mode, ...extra }]),
  );
  const r = win.execute(request("catalog", { simulate: false }, T0));
  if (r.kind !== "completed") throw new Error(r.kind);
  return r.stdout;
}

describe("malformed output", () => {
  it("invalidJson is not JSON", () => {
    expect(() => JSON.parse(stdoutFor("invalidJson"))).toThrow(SyntaxError);
    expect(stdoutFor("invalidJson")).toContain("Get-CimInstance : Access denied");
  });

  it("truncated is the document cut short", () => {
    const { win } = smallFleet();
    const full = runScript(win, "catalog", { simulate: false }, T0).result;
    const cut = stdoutFor("truncated");
    expect(full.kind === "completed" && full.stdout.startsWith(cut)).toBe(true);
    expect(() => JSON.parse(cut)).toThrow(SyntaxError);
  });

  it("oversized is schema-valid but larger than asked", () => {
    const out = stdoutFor("oversized", { sizeBytes: 1_000_000 });
    expect(out.length).toBeGreaterThan(1_000_000);
    expect(SCRIPT_OUTPUT_SCHEMAS.catalog.safeParse(JSON.parse(out)).success).toBe(true);
  });

  it("hostileStrings keeps the schema and the ids but fills titles with hostile text", () => {
    const doc = SCRIPT_OUTPUT_SCHEMAS.catalog.parse(JSON.parse(stdoutFor("hostileStrings")));
    expect(doc.data.updates?.map((u) => u.kb)).toEqual(["KB5012345", "KB5012346", "KB890830"]);
    expect(doc.data.updates?.map((u) => u.title)).toEqual(HOSTILE_STRINGS.slice(0, 3));
  });

  it("schemaViolation is JSON that the schema refuses; empty is nothing", () => {
    expect(SCRIPT_OUTPUT_SCHEMAS.catalog.safeParse(JSON.parse(stdoutFor("schemaViolation"))).success).toBe(false);
    expect(stdoutFor("empty")).toBe("");
  });

  it("targets one occurrence of one script only", () => {
    const { win } = smallFleet(
      (s) =>
        ((s.devices[0] as { malformed?: unknown }).malformed = [{ script: "baseline", mode: "empty", occurrence: 2 }]),
    );
    expect(runScript(win, "baseline", {}, T0).output.scriptId).toBe("baseline");
    const second = win.execute(request("baseline", {}, T0));
    expect(second.kind === "completed" && second.stdout).toBe("");
    expect(runScript(win, "baseline", {}, T0).output.scriptId).toBe("baseline");
  });

  it("section errors null the section and explain it", () => {
    const { lnx } = smallFleet(
      (s) =>
        ((s.devices[1] as { sectionErrors?: unknown }).sectionErrors = [
          { script: "baseline", section: "services", message: "systemctl not found", code: "not-available" },
        ]),
    );
    const doc = runScript(lnx, "baseline", {}, T0).output;
    expect(doc.data.services).toBeNull();
    expect(doc.errors).toEqual([{ section: "services", message: "systemctl not found", code: "not-available" }]);
  });
});
