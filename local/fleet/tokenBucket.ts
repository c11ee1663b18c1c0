/**
 * One ARM throttling bucket: `capacity` requests at once, refilled at `refillPerSecond`.
 *
 * Azure Resource Manager throttles with token buckets per subscription, per security principal, per operation type
 * (reads, writes, deletes) and per region of the ARM instance that serves the request (since 2024): a subscription's
 * reads bucket holds 250 tokens refilled at 25 per second, its writes and deletes buckets 200 refilled at 10 per
 * second; a request that finds its bucket empty is answered 429 with `Retry-After` (seconds), and every answered
 * request carries the bucket's remaining count in `x-ms-ratelimit-remaining-subscription-{reads|writes|deletes}`.
 * Source: https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling
 * ("Regional throttling and token bucket algorithm", "Remaining requests"). {@link ARM_SUBSCRIPTION_LIMITS}.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly capacity: number,
    private readonly refillPerSecond: number,
    // Real time by default (the interactive `npm run fleet`); the fleet's clock when the buckets run on virtual time.
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    this.tokens = capacity;
    this.last = nowMs();
  }

  private refill(): void {
    const now = this.nowMs();
    this.tokens = Math.min(this.capacity, this.tokens + (Math.max(0, now - this.last) / 1000) * this.refillPerSecond);
    this.last = Math.max(this.last, now);
  }

  /** Takes a token; or returns the whole seconds to wait (at least 1) until one is there, as ARM's Retry-After. */
  take(): { ok: true; remaining: number } | { ok: false; retryAfterSeconds: number } {
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true, remaining: Math.floor(this.tokens) };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - this.tokens) / this.refillPerSecond)) };
  }
}

/** The kinds of ARM request a subscription's buckets count apart. */
export type ArmOperationKind = "reads" | "writes" | "deletes";

/** ARM's kind of a request: GET (and HEAD) read, DELETE deletes, everything else writes. */
export function armOperationKind(method: string): ArmOperationKind {
  const upper = method.toUpperCase();
  if (upper === "GET" || upper === "HEAD") return "reads";
  if (upper === "DELETE") return "deletes";
  return "writes";
}

/**
 * Azure's published per-subscription limits (per principal, per region of the ARM instance; tenant scope has the same
 * figures): see the class comment above for the page. Resource providers may throttle below these; Microsoft.Compute
 * documents its own per-operation policies only by the `x-ms-ratelimit-remaining-resource` header's format (no figures
 * for Run Command), and Microsoft.HybridCompute publishes none, so these buckets are the only published ceiling.
 */
export const ARM_SUBSCRIPTION_LIMITS: Readonly<
  Record<ArmOperationKind, { capacity: number; refillPerSecond: number }>
> = {
  reads: { capacity: 250, refillPerSecond: 25 },
  writes: { capacity: 200, refillPerSecond: 10 },
  deletes: { capacity: 200, refillPerSecond: 10 },
};
