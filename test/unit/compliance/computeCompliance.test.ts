import { computeCompliance, type Assessment } from "../../../lib/compliance/computeCompliance";
import { renderComplianceCsv } from "../../../lib/compliance/renderComplianceReport";

const sla = { Critical: 7, Important: 30, Moderate: 60, Low: 90, Unspecified: 90 };
const update = (updateId: string, severity: "Critical" | "Important" | "Unspecified", releaseDate: string | null) => ({
  updateId,
  kb: updateId.startsWith("KB") ? updateId : undefined,
  title: `=HYPERLINK("x") ${updateId}`,
  severity,
  releaseDate,
  decision: "approved" as const,
});

function assessment(device: string, at: string, updates: Assessment["updates"], installed: string[] = []): Assessment {
  return { device, runId: `r-${device}-${at.slice(0, 10)}`, at, catalogSha256: "a".repeat(64), updates, installed };
}

describe("computeCompliance", () => {
  const input = {
    tenant: "contoso",
    client: "acme",
    from: "2026-03-01",
    to: "2026-03-03",
    sla,
    generatedAt: "2026-03-04T00:00:00Z",
    devices: ["web01", "db01", "never01"],
    unreadable: [],
    assessments: [
      // web01: a critical update released 2026-02-20 is 9 days old at the end of 03-01 (> 7): a breach.
      assessment("web01", "2026-03-01T02:00:00Z", [update("KB1", "Critical", "2026-02-20T00:00:00Z")]),
      // db01, 03-02: the critical one went in this run; an undated package counts from when it was first seen.
      assessment(
        "db01",
        "2026-03-02T02:00:00Z",
        [update("KB1", "Critical", "2026-02-20T00:00:00Z"), update("openssl", "Unspecified", null)],
        ["KB1"],
      ),
    ],
  };

  it("counts a device without an assessment as unknown, in the denominator, never compliant", () => {
    const report = computeCompliance(input);
    expect(report.devices.map((d) => [d.device, d.status])).toEqual([
      ["db01", "compliant"],
      ["never01", "unknown"],
      ["web01", "noncompliant"],
    ]);
    expect(report.summary).toMatchObject({ devices: 3, compliant: 1, noncompliant: 1, unknown: 1, percent: 33.3 });
  });

  it("ages from the release date, or from the first assessment that saw it missing, to each day's end", () => {
    const report = computeCompliance(input);
    const web = report.devices.find((d) => d.device === "web01")!;
    // 2026-02-20T00:00 → 2026-03-03T23:59:59.999: 11 whole days.
    expect(web.missing[0]).toMatchObject({ updateId: "KB1", ageDays: 11, slaDays: 7, breached: true });
    const db = report.devices.find((d) => d.device === "db01")!;
    expect(db.missing.map((m) => [m.updateId, m.ageDays, m.since])).toEqual([
      ["openssl", 1, "2026-03-02T02:00:00.000Z"],
    ]);
    expect(report.summary.breachesBySeverity).toMatchObject({ Critical: 1, Unspecified: 0 });
  });

  it("gives the trend per day from the assessments taken up to that day", () => {
    const report = computeCompliance(input);
    expect(report.trend.map((t) => [t.day, t.compliant, t.noncompliant, t.unknown])).toEqual([
      ["2026-03-01", 0, 1, 2],
      ["2026-03-02", 1, 1, 1],
      ["2026-03-03", 1, 1, 1],
    ]);
  });

  it("writes a CSV that a spreadsheet reads as text (formula prefixes neutralised, quotes doubled)", () => {
    const csv = renderComplianceCsv(computeCompliance(input));
    expect(csv).toContain(`"'=HYPERLINK(""x"") KB1"`);
    expect(csv.split("\r\n")[0]).toMatch(/^tenant,client,device,status/);
  });
});
