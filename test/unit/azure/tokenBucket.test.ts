import { TokenBucket } from "../../../local/fleet/tokenBucket";

describe("ARM token bucket", () => {
  it("spends its capacity, then asks for the whole seconds until a token refills", () => {
    let now = 0;
    const bucket = new TokenBucket(3, 0.5, () => now);
    expect([bucket.take().ok, bucket.take().ok, bucket.take().ok]).toEqual([true, true, true]);
    expect(bucket.take()).toEqual({ ok: false, retryAfterSeconds: 2 });
    now = 2_000;
    expect(bucket.take().ok).toBe(true);
    expect(bucket.take().ok).toBe(false);
  });

  it("never refills beyond capacity", () => {
    let now = 0;
    const bucket = new TokenBucket(2, 10, () => now);
    now = 60_000;
    expect([bucket.take().ok, bucket.take().ok, bucket.take().ok]).toEqual([true, true, false]);
  });
});
