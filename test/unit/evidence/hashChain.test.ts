import { GENESIS_HASH, chainEvents, sealEvents, verifyEventChain } from "../../../lib/evidence/hashChain";

const INPUTS = [
  { at: "2026-01-20T02:00:00.000Z", type: "run.started" },
  { at: "2026-01-20T02:01:00.000Z", type: "phase.completed", phase: "02-baseline" },
  { at: "2026-01-20T02:35:00.000Z", type: "phase.completed", phase: "05-install", data: { installed: 3 } },
];

describe("hash-chained events", () => {
  it("links each event to the previous one, starting from the genesis hash", () => {
    const events = chainEvents("run-chain-0001", INPUTS);
    expect(events[0]?.prevHash).toBe(GENESIS_HASH);
    expect(events[1]?.prevHash).toBe(events[0]?.hash);
    expect(events[2]?.prevHash).toBe(events[1]?.hash);
    const result = verifyEventChain(sealEvents(events), "run-chain-0001");
    expect(result).toEqual({ ok: true, count: 3, head: events[2]?.hash, problems: [] });
  });

  it("detects an edited, a removed and a reordered event", () => {
    const events = chainEvents("run-chain-0001", INPUTS);
    const edited = events.map((e, i) => (i === 1 ? { ...e, phase: "03-catalog" } : e));
    expect(verifyEventChain(sealEvents(edited), "run-chain-0001").ok).toBe(false);
    expect(verifyEventChain(sealEvents([events[0]!, events[2]!]), "run-chain-0001").ok).toBe(false);
    expect(verifyEventChain(sealEvents([events[1]!, events[0]!, events[2]!]), "run-chain-0001").ok).toBe(false);
  });

  it("refuses events of another run", () => {
    const events = chainEvents("run-chain-0001", INPUTS);
    expect(verifyEventChain(sealEvents(events), "run-chain-0002").problems[0]).toContain(
      "belongs to run run-chain-0001",
    );
  });

  it("is deterministic", () => {
    expect(sealEvents(chainEvents("r-00000001", INPUTS)).equals(sealEvents(chainEvents("r-00000001", INPUTS)))).toBe(
      true,
    );
  });
});
