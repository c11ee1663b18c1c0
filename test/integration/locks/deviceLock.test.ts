import { DeviceLocks } from "../../../lib/locks/deviceLock";
import { testStorage, uniqueRunId } from "../../harness/storage";

describe("DeviceLocks (Azurite)", () => {
  let locks: DeviceLocks;
  beforeAll(async () => {
    locks = new DeviceLocks((await testStorage()).tables.locks);
  });
  const at = (minute: number): Date => new Date(Date.UTC(2026, 0, 20, 2, minute));
  const request = (runId: string, device: string) => ({ tenant: "contoso", client: "acme", device, runId });

  it("gives a free device to the first run and tells the second who holds it", async () => {
    const device = uniqueRunId("WIN");
    const first = await locks.acquire(request("run-aaaaaaaa", device), at(0), 240);
    const second = await locks.acquire(request("run-bbbbbbbb", device), at(5), 240);
    expect(first).toEqual({
      acquired: true,
      holder: { runId: "run-aaaaaaaa", acquiredAt: at(0).toISOString(), expiresAt: at(240).toISOString() },
    });
    expect(second).toEqual({ acquired: false, holder: first.holder });
  });

  it("is idempotent for the same run (an activity retry)", async () => {
    const device = uniqueRunId("WIN");
    const first = await locks.acquire(request("run-aaaaaaaa", device), at(0), 60);
    const again = await locks.acquire(request("run-aaaaaaaa", device), at(1), 60);
    expect(again).toEqual(first);
  });

  it("takes over an expired lease, and only one of two racing runs wins it", async () => {
    const device = uniqueRunId("WIN");
    await locks.acquire(request("run-stale000", device), at(0), 10);
    const outcomes = await Promise.all([
      locks.acquire(request("run-cccccccc", device), at(11), 60),
      locks.acquire(request("run-dddddddd", device), at(11), 60),
    ]);
    expect(outcomes.filter((o) => o.acquired)).toHaveLength(1);
    const winner = outcomes.find((o) => o.acquired)?.holder.runId;
    expect(outcomes.find((o) => !o.acquired)?.holder.runId).toBe(winner);
    expect((await locks.read("contoso", device))?.runId).toBe(winner);
  });

  it("releases only its own lock", async () => {
    const device = uniqueRunId("WIN");
    await locks.acquire(request("run-owner000", device), at(0), 60);
    expect(await locks.release(request("run-other000", device))).toBe("not-held");
    expect(await locks.release(request("run-owner000", device))).toBe("released");
    expect(await locks.release(request("run-owner000", device))).toBe("not-held");
    expect((await locks.acquire(request("run-next0000", device), at(1), 60)).acquired).toBe(true);
  });
});
