import { EventInFlightError, IngestionLedger } from "../../../lib/azure/logs/ingestionLedger";
import { testStorage, uniqueRunId } from "../../harness/storage";

describe("IngestionLedger (Azurite)", () => {
  let now = new Date("2026-01-20T03:00:00.000Z");
  const clock = () => now;
  const source = "/patchpilot/tenants/contoso-msp";

  it("claims a new event once; after the mark, redeliveries are acknowledged without a second upload", async () => {
    const storage = await testStorage();
    const ledger = new IngestionLedger(storage.tables.ingestions, { clock });
    const id = `contoso-msp/${uniqueRunId()}/run.completed`;
    expect(await ledger.claim(source, id)).toEqual({ kind: "ingest" });
    await ledger.markIngested(source, id, 3);
    expect(await ledger.claim(source, id)).toEqual({ kind: "already-ingested" });
    // The same id from another source is another event (CloudEvents identity is source + id).
    expect(await ledger.claim("/patchpilot/tenants/northwind-it", id)).toEqual({ kind: "ingest" });
  });

  it("refuses a delivery while another holds a fresh claim, and lets one taker have a claim left by a crash", async () => {
    const storage = await testStorage();
    const ledger = new IngestionLedger(storage.tables.ingestions, { clock, leaseMs: 60_000 });
    const id = `contoso-msp/${uniqueRunId()}/run.completed`;
    expect(await ledger.claim(source, id)).toEqual({ kind: "ingest" });
    await expect(ledger.claim(source, id)).rejects.toBeInstanceOf(EventInFlightError);

    now = new Date(now.getTime() + 61_000); // the first attempt never marked: it crashed
    const takers = await Promise.allSettled([ledger.claim(source, id), ledger.claim(source, id), ledger.claim(source, id)]);
    expect(takers.filter((t) => t.status === "fulfilled")).toHaveLength(1);
    expect(takers.filter((t) => t.status === "rejected").map((t) => (t).reason)).toEqual([expect.any(EventInFlightError), expect.any(EventInFlightError)]);
    await ledger.markIngested(source, id, 1);
    expect(await ledger.claim(source, id)).toEqual({ kind: "already-ingested" });
  });

  it("keys events whose ids hold characters table keys refuse", async () => {
    const storage = await testStorage();
    const ledger = new IngestionLedger(storage.tables.ingestions, { clock });
    const id = `a/b\\c#d?e ${uniqueRunId()}`;
    expect(await ledger.claim(source, id)).toEqual({ kind: "ingest" });
  });
});
