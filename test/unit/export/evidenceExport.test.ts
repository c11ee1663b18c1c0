import { evidenceExport } from "../../../orchestrators/evidenceExport";
import { EXPORT_ACTIVITIES } from "../../../orchestrators/exportNames";
import { driveOrchestration } from "../orchestrators/driveOrchestration";

const T0 = "2026-04-01T08:00:00.000Z";
const input = { tenant: "contoso-msp", exportId: "x20260401-3f9a1c2b" };
const summary = {
  ...input,
  blobName: "contoso-msp/x20260401-3f9a1c2b.zip",
  sha256: "a".repeat(64),
  size: 10,
  counts: { runs: 1, artifacts: 2, bytes: 3 },
  verified: true,
};

describe("evidenceExport (replayed from hand-built history)", () => {
  it("builds the package once with the orchestration's time and returns the summary", async () => {
    const drive = await driveOrchestration(evidenceExport, input, () => ({ ok: summary }), T0);
    expect(drive.outcome).toMatchObject({ status: "completed", output: summary });
    expect(drive.calls.map((c) => [c.name, c.input])).toEqual([
      [EXPORT_ACTIVITIES.buildEvidenceExport, { ...input, now: T0 }],
    ]);
  });

  it("marks the export failed with the build's error after its retries, then fails", async () => {
    const drive = await driveOrchestration(
      evidenceExport,
      input,
      (call) =>
        call.name === EXPORT_ACTIVITIES.buildEvidenceExport ? { error: "evidence account unreachable" } : { ok: null },
      T0,
    );
    expect(drive.outcome.status).toBe("failed");
    const names = drive.calls.filter((c) => c.kind === "activity").map((c) => c.name);
    // activityRetry: 6 attempts of the build, then one call that records the failure.
    expect(names).toEqual([
      ...Array<string>(6).fill(EXPORT_ACTIVITIES.buildEvidenceExport),
      EXPORT_ACTIVITIES.failEvidenceExport,
    ]);
    const failed = drive.calls.find((c) => c.name === EXPORT_ACTIVITIES.failEvidenceExport);
    expect(failed?.input).toMatchObject({ ...input, message: expect.stringContaining("evidence account unreachable") });
  });

  it("refuses an input that is not a tenant and an export id", async () => {
    const drive = await driveOrchestration(
      evidenceExport,
      { tenant: "../x", exportId: "x1" },
      () => ({ ok: null }),
      T0,
    );
    expect(drive.outcome.status).toBe("failed");
    expect(drive.calls).toEqual([]);
  });
});
