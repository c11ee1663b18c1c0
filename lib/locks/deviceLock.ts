import type { TableClient } from "@azure/data-tables";
import { isStatus } from "../evidence/errors";
import { LockRowSchema, type LockRow } from "../schemas/tableRows";

/** Who asks for a device's lock. */
export interface LockRequest {
  tenant: string;
  client: string;
  device: string;
  runId: string;
}

/** The run holding a device's lock. */
export interface LockHolder {
  runId: string;
  acquiredAt: string;
  expiresAt: string;
}

/** The outcome of an acquire: held by this run, or by another one (exit code 170). */
export type LockOutcome = { acquired: true; holder: LockHolder } | { acquired: false; holder: LockHolder };

/** A lock row whose holder changed under us more often than we retry; the caller's activity retry takes over. */
export class LockRaceError extends Error {
  constructor(
    readonly tenant: string,
    readonly device: string,
  ) {
    super(`lock ${tenant}/${device} kept changing while being acquired`);
    this.name = "LockRaceError";
  }
}

const holderOf = (row: LockRow): LockHolder => ({
  runId: row.runId,
  acquiredAt: row.acquiredAt,
  expiresAt: row.expiresAt,
});

/**
 * Device leases in the `Locks` table (PK tenant, RK device). Creating the row takes a free lock; an expired lease is
 * taken over only with the ETag that was read, so two runs racing for it cannot both win. `now` comes from the
 * caller (the orchestrator's replay-safe clock), never from this process's clock.
 */
export class DeviceLocks {
  constructor(private readonly table: TableClient) {}

  /** Takes the device's lock for `ttlMinutes`, or reports who holds it. Retrying for the same run is harmless. */
  async acquire(request: LockRequest, now: Date, ttlMinutes: number): Promise<LockOutcome> {
    const entity = {
      partitionKey: request.tenant,
      rowKey: request.device,
      runId: request.runId,
      client: request.client,
      acquiredAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + ttlMinutes * 60_000).toISOString(),
    };
    const mine = { runId: entity.runId, acquiredAt: entity.acquiredAt, expiresAt: entity.expiresAt };
    for (let attempt = 0; attempt < 3; attempt += 1) {
      try {
        await this.table.createEntity(entity);
        return { acquired: true, holder: mine };
      } catch (error) {
        if (!isStatus(error, 409)) throw error;
      }
      const existing = await this.read(request.tenant, request.device);
      if (existing === undefined) continue; // released between our create and our read
      if (existing.runId === request.runId) return { acquired: true, holder: holderOf(existing) };
      if (Date.parse(existing.expiresAt) > now.getTime()) return { acquired: false, holder: holderOf(existing) };
      try {
        await this.table.updateEntity(entity, "Replace", { etag: existing.etag });
        return { acquired: true, holder: mine };
      } catch (error) {
        // 412: another run took the expired lease first; 404: it was released. Either way, look again.
        if (!isStatus(error, 412) && !isStatus(error, 404)) throw error;
      }
    }
    throw new LockRaceError(request.tenant, request.device);
  }

  /** Releases the lock if this run holds it; a lock that expired and was taken over by another run is left alone. */
  async release(request: Pick<LockRequest, "tenant" | "device" | "runId">): Promise<"released" | "not-held"> {
    const existing = await this.read(request.tenant, request.device);
    if (existing === undefined || existing.runId !== request.runId) return "not-held";
    try {
      await this.table.deleteEntity(request.tenant, request.device, { etag: existing.etag });
      return "released";
    } catch (error) {
      if (isStatus(error, 404) || isStatus(error, 412)) return "not-held";
      throw error;
    }
  }

  /** The current lock row of a device, if any. */
  async read(tenant: string, device: string): Promise<LockRow | undefined> {
    try {
      return LockRowSchema.parse(await this.table.getEntity(tenant, device));
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }
}
