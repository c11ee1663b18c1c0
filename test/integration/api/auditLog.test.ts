import type { TableClient } from "@azure/data-tables";
import { AuditLog, verifyAuditChain, type AuditEventInput } from "../../../lib/api/audit/auditLog";
import { GENESIS_HASH } from "../../../lib/evidence/hashChain";
import { testStorage, uniqueRunId } from "../../harness/storage";

const input = (i: number, extra: Partial<AuditEventInput> = {}): AuditEventInput => ({
  at: new Date(Date.UTC(2026, 0, 20, 9, 0, i)).toISOString(),
  actor: { kind: "apiKey", id: "0123456789abcdef", name: "NinjaOne" },
  action: "runs.verify",
  resource: `/api/tenants/t/runs/run-${i}/verify`,
  outcome: 200,
  requestId: `req-${i}`,
  ...extra,
});

describe("AuditLog (Azurite)", () => {
  let table: TableClient;
  let log: AuditLog;
  beforeAll(async () => {
    table = (await testStorage()).tables.auditLog;
    log = new AuditLog(table);
  });
  const tenant = (): string => uniqueRunId("audit");

  it("chains appended events from genesis and verifies them", async () => {
    const t = tenant();
    const first = await log.append(
      t,
      input(0, { action: "exports.create", outcome: 202, details: { clients: 2, zip: true, scope: "acme" } }),
    );
    const second = await log.append(t, input(1, { action: "artifacts.read" }));
    expect(first).toMatchObject({
      schemaVersion: 1,
      tenant: t,
      seq: 0,
      prevHash: GENESIS_HASH,
      details: { clients: 2, zip: true, scope: "acme" },
    });
    expect(second).toMatchObject({ seq: 1, prevHash: first.hash, action: "artifacts.read" });
    const events = await log.read(t);
    expect(events).toEqual([first, second]);
    expect(verifyAuditChain(t, events)).toEqual({ ok: true, count: 2, head: second.hash, problems: [] });
    expect(await log.head(t)).toEqual({ seq: 1, hash: second.hash });
  });

  it("reads a range with fromSeq and limit", async () => {
    const t = tenant();
    for (let i = 0; i < 5; i += 1) await log.append(t, input(i));
    expect((await log.read(t, { fromSeq: 2 })).map((e) => e.seq)).toEqual([2, 3, 4]);
    expect((await log.read(t, { fromSeq: 1, limit: 2 })).map((e) => e.seq)).toEqual([1, 2]);
    expect(await log.read(uniqueRunId("nothing"))).toEqual([]);
  });

  it("serialises 20 concurrent appends into seq 0..19 with no gap and a valid chain", async () => {
    const t = tenant();
    const appended = await Promise.all(Array.from({ length: 20 }, (_, i) => log.append(t, input(i))));
    expect(appended.map((e) => e.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    const events = await log.read(t);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    // Every request id made it in exactly once.
    expect(new Set(events.map((e) => e.requestId)).size).toBe(20);
    const verification = verifyAuditChain(t, events);
    expect(verification.problems).toEqual([]);
    expect(verification.ok).toBe(true);
    expect(await log.head(t)).toEqual({ seq: 19, hash: verification.head });
  });

  it("commits 200 concurrent appends from three instances (each batching its own) into seq 0..199 with a valid chain", async () => {
    const t = tenant();
    // Three function instances: each groups its calls, and the instances contend for the head between them.
    const instances = [new AuditLog(table), new AuditLog(table), new AuditLog(table)];
    const appended = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        (instances[i % 3] as AuditLog).append(t, input(i, { requestId: `c-${i}` })),
      ),
    );
    expect(appended.map((e) => e.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    const events = await log.read(t);
    expect(events).toHaveLength(200);
    expect(new Set(events.map((e) => e.requestId))).toEqual(new Set(Array.from({ length: 200 }, (_, i) => `c-${i}`)));
    // What each caller got back is what the chain holds at its seq.
    for (const e of appended) expect(events[e.seq]).toEqual(e);
    const verification = verifyAuditChain(t, events);
    expect(verification.problems).toEqual([]);
    expect(await log.head(t)).toEqual({ seq: 199, hash: verification.head });
  });

  it("refuses an invalid event without sinking the calls batched with it", async () => {
    const t = tenant();
    const results = await Promise.allSettled([
      log.append(t, input(0)),
      log.append(t, input(1, { action: "Not An Action" })),
      log.append(t, input(2)),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    const events = await log.read(t);
    expect(events.map((e) => e.requestId)).toEqual(["req-0", "req-2"]);
    expect(verifyAuditChain(t, events).ok).toBe(true);
  });

  it("gives up with a clear error after bounded attempts when it keeps losing", async () => {
    const t = tenant();
    await log.append(t, input(0));
    // A stale head: the row for seq 1 already exists, so every attempt with a fresh head must be the one to fail.
    await table.createEntity({ partitionKey: t, rowKey: "000000000001", event: "{}" });
    await expect(log.append(t, input(1), { maxAttempts: 3, backoffMs: 1 })).rejects.toThrow(/3 attempts to append/);
  });

  it("catches an edited stored event", async () => {
    const t = tenant();
    for (let i = 0; i < 3; i += 1) await log.append(t, input(i));
    const row = await table.getEntity<{ event: string }>(t, "000000000001");
    const tampered = JSON.parse(row.event) as Record<string, unknown>;
    tampered.outcome = 403;
    await table.updateEntity({ partitionKey: t, rowKey: "000000000001", event: JSON.stringify(tampered) }, "Merge");
    const verification = verifyAuditChain(t, await log.read(t));
    expect(verification.ok).toBe(false);
    expect(verification.problems).toEqual([expect.stringMatching(/^event 1: hash .* does not match content/)]);
  });

  it("catches a removed event and an added field", async () => {
    const t = tenant();
    const events = [];
    for (let i = 0; i < 3; i += 1) events.push(await log.append(t, input(i)));
    const withoutMiddle = verifyAuditChain(t, [events[0], events[2]]);
    expect(withoutMiddle.ok).toBe(false);
    expect(withoutMiddle.problems.join("\n")).toMatch(/seq 2, expected 1[\s\S]*prevHash/);
    const extra = verifyAuditChain(t, [{ ...events[0], note: "added later" }]);
    expect(extra.ok).toBe(false);
    expect(verifyAuditChain("someone-else", events).problems).toHaveLength(3);
    expect(verifyAuditChain(t, [null]).ok).toBe(false);
  });

  it("keeps independent chains per tenant", async () => {
    const a = tenant();
    const b = tenant();
    await log.append(a, input(0));
    await log.append(a, input(1));
    const firstOfB = await log.append(b, input(2));
    await log.append(a, input(3));
    expect(firstOfB).toMatchObject({ seq: 0, prevHash: GENESIS_HASH, tenant: b });
    const eventsA = await log.read(a);
    const eventsB = await log.read(b);
    expect(eventsA.map((e) => e.seq)).toEqual([0, 1, 2]);
    expect(eventsB.map((e) => e.requestId)).toEqual(["req-2"]);
    expect(verifyAuditChain(a, eventsA).ok).toBe(true);
    expect(verifyAuditChain(b, eventsB).ok).toBe(true);
  });

  it("refuses an invalid event before writing anything", async () => {
    const t = tenant();
    await expect(log.append(t, input(0, { action: "Not An Action" }))).rejects.toThrow();
    await expect(log.append(t, input(0, { outcome: 42 }))).rejects.toThrow();
    expect(await log.head(t)).toBeUndefined();
    expect(await log.read(t)).toEqual([]);
  });
});
