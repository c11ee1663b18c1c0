import { QuarantineStore } from "../../../lib/quarantine/quarantineStore";
import type { QuarantineRequest } from "../../../lib/schemas/quarantine";
import { testStorage, uniqueRunId } from "../../harness/storage";

// The store on Azurite's Table API: idempotent quarantines, scope, lifts kept in history.
describe("QuarantineStore (Azurite)", () => {
  let store: QuarantineStore;
  beforeAll(async () => {
    store = new QuarantineStore((await testStorage()).tables.quarantine);
  });
  const tenant = (): string => uniqueRunId("t").toLowerCase().slice(0, 40);
  const at = (minute: number): string => new Date(Date.UTC(2026, 0, 20, 3, minute)).toISOString();
  const clientKb = (t: string, client: string, kb: string, minute = 0): QuarantineRequest => ({
    tenant: t,
    scope: "client",
    client,
    update: { kind: "kb", kb },
    reason: `${kb} regressed WebApp`,
    source: { runs: [`run-${client}-0001`], clients: [client] },
    quarantinedAt: at(minute),
    quarantinedBy: "patchpilot",
  });

  it("quarantines once: a second request for the same client and KB returns the first entry unchanged", async () => {
    const t = tenant();
    const first = await store.quarantine(clientKb(t, "fabrikam", "KB5012345", 0));
    const again = await store.quarantine({ ...clientKb(t, "fabrikam", "KB5012345", 9), reason: "later run" });
    expect(first.created).toBe(true);
    expect(again).toEqual({ entry: first.entry, created: false });
    expect(first.entry).toMatchObject({ id: "client.fabrikam.kb.KB5012345", quarantinedAt: at(0), history: [] });
    expect(await store.list(t)).toEqual([first.entry]);
  });

  it("applies a client entry to that client only and a tenant entry to every client", async () => {
    const t = tenant();
    await store.quarantine(clientKb(t, "fabrikam", "KB5012345"));
    await store.quarantine({
      ...clientKb(t, "adatum", "KB5012346"),
      scope: "tenant",
      client: undefined,
      source: { runs: ["run-a-00000001", "run-b-00000001"], clients: ["adatum", "fabrikam"] },
    });
    const ids = async (client: string): Promise<string[]> => (await store.activeFor(t, client)).map((e) => e.id);
    expect(await ids("fabrikam")).toEqual(["client.fabrikam.kb.KB5012345", "tenant.kb.KB5012346"]);
    expect(await ids("adatum")).toEqual(["tenant.kb.KB5012346"]);
    expect(await store.activeFor(tenant(), "fabrikam")).toEqual([]);
  });

  it("lifts once, stops applying, and keeps the lifted period when quarantined again", async () => {
    const t = tenant();
    const { entry } = await store.quarantine(clientKb(t, "fabrikam", "KB5012345", 0));
    const lift = { at: at(30), by: "alice@contoso-msp.example", reason: "vendor re-released the KB" };
    const lifted = await store.lift(t, entry.id, lift);
    const liftedAgain = await store.lift(t, entry.id, { ...lift, at: at(40), by: "bob" });
    expect(lifted?.lifted).toEqual(lift);
    expect(liftedAgain).toEqual(lifted);
    expect(await store.activeFor(t, "fabrikam")).toEqual([]);

    const reopened = await store.quarantine(clientKb(t, "fabrikam", "KB5012345", 50));
    expect(reopened.created).toBe(true);
    expect(reopened.entry.lifted).toBeUndefined();
    expect(reopened.entry.quarantinedAt).toBe(at(50));
    expect(reopened.entry.history).toEqual([
      { quarantinedAt: at(0), quarantinedBy: "patchpilot", reason: entry.reason, source: entry.source, lifted: lift },
    ]);
    expect(await store.get(t, entry.id)).toEqual(reopened.entry);
  });

  it("answers undefined for an entry it does not have, and refuses a client entry without a client", async () => {
    const t = tenant();
    expect(await store.get(t, "client.nobody.kb.KB5012345")).toBeUndefined();
    expect(await store.lift(t, "client.nobody.kb.KB5012345", { at: at(1), by: "x", reason: "y" })).toBeUndefined();
    await expect(store.quarantine({ ...clientKb(t, "fabrikam", "KB5012345"), client: undefined })).rejects.toThrow(
      /client is required/,
    );
    expect(await store.list(t)).toEqual([]);
  });

  it("lets only one of two racing first quarantines create the entry", async () => {
    const t = tenant();
    const outcomes = await Promise.all([
      store.quarantine(clientKb(t, "fabrikam", "KB5012345", 1)),
      store.quarantine(clientKb(t, "fabrikam", "KB5012345", 2)),
    ]);
    expect(outcomes.filter((o) => o.created)).toHaveLength(1);
    expect(outcomes[0]?.entry).toEqual(outcomes[1]?.entry);
  });
});
