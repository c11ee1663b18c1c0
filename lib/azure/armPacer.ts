import type { PipelinePolicy } from "@azure/core-rest-pipeline";
import { ArmPacedError } from "./armErrors";

/** The kinds of request ARM counts apart per subscription. */
export type ArmRequestKind = "reads" | "writes" | "deletes";

/** One bucket's size and refill rate. */
export interface ArmBucketLimits {
  capacity: number;
  refillPerSecond: number;
}

/**
 * ARM's published per-subscription token buckets (per principal, per region of the ARM instance serving the call):
 * reads 250 refilled at 25/s, writes 200 at 10/s, deletes 200 at 10/s.
 * https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling
 */
export const ARM_PUBLISHED_LIMITS: Readonly<Record<ArmRequestKind, ArmBucketLimits>> = {
  reads: { capacity: 250, refillPerSecond: 25 },
  writes: { capacity: 200, refillPerSecond: 10 },
  deletes: { capacity: 200, refillPerSecond: 10 },
};

/** The published buckets scaled to `percent` of their size and refill rate (at least one token). */
export function armLimitsAt(percent: number): Record<ArmRequestKind, ArmBucketLimits> {
  const scale = (l: ArmBucketLimits): ArmBucketLimits => ({
    capacity: Math.max(1, Math.floor((l.capacity * percent) / 100)),
    refillPerSecond: (l.refillPerSecond * percent) / 100,
  });
  return {
    reads: scale(ARM_PUBLISHED_LIMITS.reads),
    writes: scale(ARM_PUBLISHED_LIMITS.writes),
    deletes: scale(ARM_PUBLISHED_LIMITS.deletes),
  };
}

/** ARM's kind of a request: GET/HEAD read, DELETE deletes, anything else writes. */
export function armRequestKind(method: string): ArmRequestKind {
  const upper = method.toUpperCase();
  if (upper === "GET" || upper === "HEAD") return "reads";
  if (upper === "DELETE") return "deletes";
  return "writes";
}

/** The subscription an ARM URL is scoped to; undefined for tenant-level calls (Resource Graph). */
export function subscriptionOf(url: string): string | undefined {
  return /\/subscriptions\/([^/?]+)/i.exec(new URL(url).pathname)?.[1]?.toLowerCase();
}

/** Leeway so a booked request reaches ARM after its token is there, not a rounding error before. */
const SLOT_MARGIN_MS = 1;
/** Bookings nobody came back for (the run ended another way) are forgotten after this. */
const STALE_BOOKING_MS = 10 * 60_000;

/**
 * One subscription's bucket of one kind, mirrored on the client. A request that finds no token books the next free
 * one (the bucket goes into debt) and is told when: coming back then (same method and URL), it is let through
 * without taking again. So throttled callers queue in the order they came, each waiting exactly for its own slot,
 * instead of all retrying at the same Retry-After and most being refused again.
 */
class PacedBucket {
  private tokens: number;
  private last: number;
  private readonly booked = new Map<string, number>();

  constructor(
    private readonly limits: ArmBucketLimits,
    now: number,
  ) {
    this.tokens = limits.capacity;
    this.last = now;
  }

  private refill(now: number): void {
    const { capacity, refillPerSecond } = this.limits;
    this.tokens = Math.min(capacity, this.tokens + (Math.max(0, now - this.last) / 1000) * refillPerSecond);
    this.last = Math.max(this.last, now);
  }

  admit(key: string, now: number): { ok: true } | { ok: false; waitMs: number; booked: boolean } {
    this.refill(now);
    const slot = this.booked.get(key);
    if (slot !== undefined) {
      if (slot <= now) {
        this.booked.delete(key);
        return { ok: true };
      }
      return { ok: false, waitMs: slot - now, booked: false };
    }
    const before = this.tokens;
    this.tokens -= 1;
    if (before >= 1) return { ok: true };
    const waitMs = Math.ceil(((1 - before) / this.limits.refillPerSecond) * 1000) + SLOT_MARGIN_MS;
    if (this.booked.size > 10_000) this.forgetStale(now);
    this.booked.set(key, now + waitMs);
    return { ok: false, waitMs, booked: true };
  }

  /** ARM's own count is lower (another principal or instance spent tokens): never assume more than ARM has. */
  observeRemaining(remaining: number, now: number): void {
    this.refill(now);
    this.tokens = Math.min(this.tokens, remaining);
  }

  /** ARM answered 429: nothing before `retryAfterMs` from now. */
  observeThrottled(retryAfterMs: number, now: number): void {
    this.refill(now);
    this.tokens = Math.min(this.tokens, 1 - (retryAfterMs / 1000) * this.limits.refillPerSecond);
  }

  private forgetStale(now: number): void {
    for (const [key, slot] of this.booked) if (slot < now - STALE_BOOKING_MS) this.booked.delete(key);
  }
}

/** What the pacer did (benchmarks print it). */
export interface ArmPacerStats {
  admitted: number;
  /** Requests held back and booked a slot. */
  booked: number;
  /** Requests that came back before their slot. */
  early: number;
  /** 429s ARM still answered. */
  throttledByArm: number;
}

/**
 * Client-side pacing of ARM requests per subscription and kind, at ARM's own bucket sizes and rates on the app's clock
 * (the local host's virtual clock in tests and benchmarks). A request ARM would refuse is not sent: the caller gets an
 * {@link ArmPacedError} naming its slot and waits for it in durable time (a device run's next check), which costs no
 * ARM quota and keeps a fleet's requests at the refill rate instead of in bursts of 429s. The remaining-count headers
 * and 429s ARM returns lower the mirror, so several app instances (each with its own pacer) still converge on ARM's
 * count; ARM's own 429 stays the backstop.
 */
export class ArmPacer {
  private readonly buckets = new Map<string, PacedBucket>();
  readonly stats: ArmPacerStats = { admitted: 0, booked: 0, early: 0, throttledByArm: 0 };

  constructor(
    private readonly now: () => Date,
    private readonly limits: Readonly<Record<ArmRequestKind, ArmBucketLimits>> = ARM_PUBLISHED_LIMITS,
  ) {}

  private bucket(subscription: string, kind: ArmRequestKind): PacedBucket {
    const key = `${subscription}|${kind}`;
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      bucket = new PacedBucket(this.limits[kind], this.now().getTime());
      this.buckets.set(key, bucket);
    }
    return bucket;
  }

  /** Lets a request go, or says how long until its slot (the same method and URL is let through then). */
  admit(method: string, url: string): { ok: true } | { ok: false; waitMs: number } {
    const subscription = subscriptionOf(url);
    if (subscription === undefined) return { ok: true };
    const answer = this.bucket(subscription, armRequestKind(method)).admit(
      `${method.toUpperCase()} ${url}`,
      this.now().getTime(),
    );
    if (answer.ok) this.stats.admitted += 1;
    else if (answer.booked) this.stats.booked += 1;
    else this.stats.early += 1;
    return answer.ok ? answer : { ok: false, waitMs: answer.waitMs };
  }

  /** Reads ARM's answer: its remaining count, or its 429 and Retry-After. */
  observe(method: string, url: string, status: number, headers: { get(name: string): string | undefined }): void {
    const subscription = subscriptionOf(url);
    if (subscription === undefined) return;
    const kind = armRequestKind(method);
    const bucket = this.bucket(subscription, kind);
    const now = this.now().getTime();
    if (status === 429) {
      this.stats.throttledByArm += 1;
      const seconds = Number(headers.get("retry-after"));
      bucket.observeThrottled(Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 1000, now);
      return;
    }
    const remaining = Number(headers.get(`x-ms-ratelimit-remaining-subscription-${kind}`));
    if (headers.get(`x-ms-ratelimit-remaining-subscription-${kind}`) !== undefined && Number.isFinite(remaining))
      bucket.observeRemaining(remaining, now);
  }
}

/** The pipeline policy (per call, before the SDK's retries) that asks the pacer before each ARM request. */
export function armPacerPolicy(pacer: ArmPacer): PipelinePolicy {
  return {
    name: "patchpilotArmPacer",
    async sendRequest(request, next) {
      const admitted = pacer.admit(request.method, request.url);
      if (!admitted.ok) {
        throw new ArmPacedError(`${request.method} ${new URL(request.url).pathname}`, admitted.waitMs);
      }
      const response = await next(request);
      pacer.observe(request.method, request.url, response.status, response.headers);
      return response;
    },
  };
}
