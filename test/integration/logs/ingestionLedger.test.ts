import type { InvocationContext } from "@azure/functions";
import { buildRunEvents } from "../../../lib/azure/events/buildEvents";
import { EventInFlightError, IngestionLedger } from "../../../lib/azure/logs/ingestionLedger";
import type { LogRows } from "../../../lib/azure/logs/logRows";
import { makeIngestPatchEvents } from "../../../functions/eventGrid/ingestPatchEvents";
import { testStorage, uniqueRunId } from "../../harness/storage";

describe("IngestionLedger (Azurite)", () => {
  let now = new Date("2026-01-20T03:00:00.000Z");
  const clock = () => now;
  const source = "/patchpilot/tenants/contoso-msp";

  it("claims a new event once; after the mark, redeliveries are acknowledged without a second upload", async () => {
    const storage = await testStorage();
    const ledger = new IngestionLedger(storage.tables.ingestions, { clock });
    const id = `contoso-msp/${uniqueRunId()}/run.completed`;
    expect(await ledger.claim(source, id)).toMatchObject({ kind: "ingest" });
    await ledger.markIngested(source, id, 3);
    expect(await ledger.claim(source, id)).toEqual({ kind: "already-ingested" });
    // The same id from another source is another event (CloudEvents identity is source + id).
    expect(await ledger.claim("/patchpilot/tenants/northwind-it", id)).toMatchObject({ kind: "ingest" });
  });

  it("refuses a delivery while another holds a fresh claim, and lets one taker have a claim left by a crash", async () => {
    const storage = await testStorage();
    const ledger = new IngestionLedger(storage.tables.ingestions, { clock, leaseMs: 60_000 });
    const id = `contoso-msp/${uniqueRunId()}/run.completed`;
    expect(await ledger.claim(source, id)).toMatchObject({ kind: "ingest" });
    await expect(ledger.claim(source, id)).rejects.toBeInstanceOf(EventInFlightError);

    now = new Date(now.getTime() + 61_000); // the first attempt never marked: it crashed
    const takers = await Promise.allSettled([
      ledger.claim(source, id),
      ledger.claim(source, id),
      ledger.claim(source, id),
    ]);
    expect(takers.filter((t) => t.status === "fulfilled")).toHaveLength(1);
    expect(takers.filter((t) => t.status === "rejected").map((t) => t.reason)).toEqual([
      expect.any(EventInFlightError),
      expect.any(EventInFlightError),
    ]);
    await ledger.markIngested(source, id, 1);
    expect(await ledger.claim(source, id)).toEqual({ kind: "already-ingested" });
  });

  it("keys events whose ids hold characters table keys refuse", async () => {
    const storage = await testStorage();
    const ledger = new IngestionLedger(storage.tables.ingestions, { clock });
    const id = `a/b\\c#d?e ${uniqueRunId()}`;
    expect(await ledger.claim(source, id)).toMatchObject({ kind: "ingest" });
  });

  it("releases the claim of a failed upload, so the next delivery ingests at once instead of waiting out the lease", async () => {
    const storage = await testStorage();
    const ledger = new IngestionLedger(storage.tables.ingestions, { clock, leaseMs: 120_000 });
    const uploads: LogRows[] = [];
    let failures = 1;
    const ingester = {
      upload(rows: LogRows): Promise<void> {
        if (failures-- > 0) return Promise.reject(new Error("503 from the DCE"));
        uploads.push(rows);
        return Promise.resolve();
      },
    };
    const ingest = makeIngestPatchEvents({ ledger, ingester });
    const context = { log: () => undefined } as unknown as InvocationContext;
    const runId = uniqueRunId();
    const [event] = buildRunEvents({
      schemaVersion: 1,
      run: { tenant: "contoso-msp", client: "fabrikam", device: "FAB-SQL01", runId },
      trigger: { kind: "demo" },
      dryRun: false,
      exitCode: 220,
      exitCodeName: "ValidationFailure",
      rule: "220.regressions",
      reasons: ["r"],
      decidedAt: now.toISOString(),
      counts: { approved: 0, installed: 0, failed: 0, regressions: 1 },
      reboot: "NotRequired",
      regressions: [],
      updates: [],
      evidence: { prefix: "p/", artifacts: [] },
    });
    await expect(ingest(event, context)).rejects.toThrow("503 from the DCE");
    // Event Grid's first retry comes 10 s later: well inside the lease, and it must not be refused.
    now = new Date(now.getTime() + 10_000);
    await ingest(event, context);
    await ingest(event, context);
    expect(uploads).toHaveLength(1);
    expect(uploads[0]?.runs.map((r) => r.RunId)).toEqual([runId]);
  });
});
