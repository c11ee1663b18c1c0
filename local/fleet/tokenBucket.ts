/** One ARM throttling bucket: `capacity` requests at once, refilled at `refillPerSecond` (real time). */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly capacity: number,
    private readonly refillPerSecond: number,
    // Throttling is about real request rates, so it reads a monotonic real clock even when devices run on virtual time.
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    this.tokens = capacity;
    this.last = nowMs();
  }

  /** Takes a token; or returns the whole seconds to wait (at least 1) until one is there, as ARM's Retry-After. */
  take(): { ok: true; remaining: number } | { ok: false; retryAfterSeconds: number } {
    const now = this.nowMs();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.refillPerSecond);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true, remaining: Math.floor(this.tokens) };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - this.tokens) / this.refillPerSecond)) };
  }
}
