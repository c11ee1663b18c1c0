import { ArmPacer, armLimitsAt } from "../../../lib/azure/armPacer";

/** Published per-subscription figures (learn.microsoft.com, "request limits and throttling"), not the pacer's. */
const WRITES = { capacity: 200, perSecond: 10 };
const READS = { capacity: 250, perSecond: 25 };

const SUB = "https://management.azure.com/subscriptions/0000-a/resourceGroups/rg/providers/Microsoft.HybridCompute";
const put = (i: number): string => `${SUB}/machines/m-${i}/runCommands/patchpilot-install?api-version=2025-01-13`;
const headers = (values: Record<string, string>) => ({ get: (name: string) => values[name] });

describe("client-side ARM pacing per subscription", () => {
  let now = 0;
  const clock = (): Date => new Date(now);

  it("lets the published burst through, then books each refused request its own slot in arrival order", () => {
    now = 0;
    const pacer = new ArmPacer(clock);
    for (let i = 0; i < WRITES.capacity; i += 1) expect(pacer.admit("PUT", put(i))).toEqual({ ok: true });
    const first = pacer.admit("PUT", put(1000));
    const second = pacer.admit("PUT", put(1001));
    if (first.ok || second.ok) throw new Error("the 201st and 202nd writes must be held back");
    // One token every 1/10 s: the first waits about 100 ms, the second about 200 ms.
    expect(first.waitMs).toBeGreaterThanOrEqual(1000 / WRITES.perSecond);
    expect(first.waitMs).toBeLessThan(1000 / WRITES.perSecond + 5);
    expect(second.waitMs - first.waitMs).toBeGreaterThanOrEqual(1000 / WRITES.perSecond - 1);
    expect(pacer.stats.booked).toBe(2);

    // Coming back early: still held, told the rest of its wait, no second booking.
    now = 50;
    const early = pacer.admit("PUT", put(1000));
    expect(early.ok).toBe(false);
    expect(pacer.stats).toMatchObject({ booked: 2, early: 1 });
    // At its slot: through, without taking another token (a new request then waits behind the second booking).
    now = first.waitMs;
    expect(pacer.admit("PUT", put(1000))).toEqual({ ok: true });
    const third = pacer.admit("PUT", put(1002));
    if (third.ok) throw new Error("the third held request must wait behind the second");
    expect(now + third.waitMs).toBeGreaterThan(second.waitMs);
  });

  it("counts reads, writes and deletes in their own buckets and leaves tenant-level calls alone", () => {
    now = 0;
    const pacer = new ArmPacer(clock);
    for (let i = 0; i < WRITES.capacity; i += 1) pacer.admit("PUT", put(i));
    expect(pacer.admit("PUT", put(999)).ok).toBe(false);
    expect(pacer.admit("DELETE", put(1)).ok).toBe(true);
    for (let i = 0; i < READS.capacity; i += 1) expect(pacer.admit("GET", put(i)).ok).toBe(true);
    expect(pacer.admit("GET", put(READS.capacity)).ok).toBe(false);
    expect(
      pacer.admit(
        "POST",
        "https://management.azure.com/providers/Microsoft.ResourceGraph/resources?api-version=2024-04-01",
      ).ok,
    ).toBe(true);
    // Another subscription has its own buckets.
    expect(pacer.admit("PUT", put(0).replace("0000-a", "0000-b")).ok).toBe(true);
  });

  it("trusts ARM's count over its own: a lower remaining header or a 429 holds the next requests back", () => {
    now = 0;
    const pacer = new ArmPacer(clock);
    pacer.observe("PUT", put(0), 201, headers({ "x-ms-ratelimit-remaining-subscription-writes": "0" }));
    const held = pacer.admit("PUT", put(1));
    expect(held.ok).toBe(false);

    const other = new ArmPacer(clock);
    other.observe("GET", put(0), 429, headers({ "retry-after": "3" }));
    const afterThrottle = other.admit("GET", put(1));
    if (afterThrottle.ok) throw new Error("a read right after ARM's 429 must wait");
    expect(afterThrottle.waitMs).toBeGreaterThanOrEqual(3000);
    expect(other.stats.throttledByArm).toBe(1);
  });

  it("paces at a share of the published buckets when told to leave headroom", () => {
    now = 0;
    const pacer = new ArmPacer(clock, armLimitsAt(10));
    // 10 % of 200 writes refilled at 10/s: 20 at once, then one every second.
    for (let i = 0; i < WRITES.capacity / 10; i += 1) expect(pacer.admit("PUT", put(i)).ok).toBe(true);
    const held = pacer.admit("PUT", put(999));
    if (held.ok) throw new Error("the 21st write must be held back");
    expect(held.waitMs).toBeGreaterThanOrEqual(1000 / (WRITES.perSecond / 10));
    expect(armLimitsAt(100).reads).toEqual({ capacity: READS.capacity, refillPerSecond: READS.perSecond });
  });
});
