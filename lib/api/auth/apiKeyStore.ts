import { randomBytes, timingSafeEqual } from "node:crypto";
import type { TableClient } from "@azure/data-tables";
import { z } from "zod";
import { isStatus } from "../../evidence/errors";
import { sha256 } from "../../evidence/sha256";
import { RoleSchema } from "../../schemas/api/access";
import { TenantIdSchema, TimestampSchema } from "../../schemas/common";

/**
 * `ppk_<keyId>_<secret>`: keyId is 16 lowercase hex characters (the table's partition key, safe to log), secret is
 * 32 random bytes in base64url (43 characters). base64url may itself contain `_`, so the text is parsed with this
 * anchored pattern, never split on `_`.
 */
const KEY_PATTERN = /^ppk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

/** An API key's id: the part of the key that may be shown, logged and audited. */
export const ApiKeyIdSchema = z.string().regex(/^[0-9a-f]{16}$/, "must be 16 lowercase hex characters");

/** The only row of a key's partition. */
const ROW_KEY = "key";

/** What an API key is, without its secret or hash: what `list` shows and what `check` answers. */
export const ApiKeyInfoSchema = z.object({
  keyId: ApiKeyIdSchema,
  tenant: TenantIdSchema,
  name: z.string().min(1).max(200),
  roles: z.array(RoleSchema).min(1),
  createdAt: TimestampSchema,
  revokedAt: TimestampSchema.optional(),
});
export type ApiKeyInfo = z.infer<typeof ApiKeyInfoSchema>;

/** What an operator asks for when issuing a key. */
export const ApiKeyRequestSchema = ApiKeyInfoSchema.pick({ name: true, roles: true });
export type ApiKeyRequest = z.infer<typeof ApiKeyRequestSchema>;

/** A row of the `ApiKeys` table (PK keyId, RK "key"). Roles are stored comma-joined (tables have no arrays). */
const ApiKeyRowSchema = z.object({
  partitionKey: ApiKeyIdSchema,
  rowKey: z.literal(ROW_KEY),
  tenant: TenantIdSchema,
  name: z.string().min(1),
  roles: z
    .string()
    .transform((v) => v.split(","))
    .pipe(z.array(RoleSchema).min(1)),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  createdAt: TimestampSchema,
  revokedAt: TimestampSchema.optional(),
  etag: z.string(),
});
type ApiKeyRow = z.infer<typeof ApiKeyRowSchema>;

const infoOf = (row: ApiKeyRow): ApiKeyInfo => ({
  keyId: row.partitionKey,
  tenant: row.tenant,
  name: row.name,
  roles: row.roles,
  createdAt: row.createdAt,
  ...(row.revokedAt === undefined ? {} : { revokedAt: row.revokedAt }),
});

/**
 * Per-tenant API keys for RMM tools in the `ApiKeys` table. A key is shown once, at issue; only the SHA-256 of its
 * whole text is stored. No pepper or slow hash is needed: the secret is 256 random bits, so even with the table in
 * hand, finding a key from its SHA-256 is a 2^256 search (slow hashes exist for low-entropy passwords, not this).
 * One partition per key makes `check` a single point read; a tenant may hold several keys at once, so a key is
 * rotated by issuing the new one, switching the RMM tool over, then revoking the old one.
 */
export class ApiKeyStore {
  constructor(private readonly table: TableClient) {}

  /** Creates a key for a tenant; the returned `key` text exists nowhere else, so it must be stored by the caller now. */
  async issue(tenant: string, request: ApiKeyRequest, now: Date): Promise<{ key: string; info: ApiKeyInfo }> {
    const validTenant = TenantIdSchema.parse(tenant);
    const { name, roles } = ApiKeyRequestSchema.parse(request);
    const uniqueRoles = [...new Set(roles)];
    for (let attempt = 0; ; attempt += 1) {
      const keyId = randomBytes(8).toString("hex");
      const key = `ppk_${keyId}_${randomBytes(32).toString("base64url")}`;
      const info: ApiKeyInfo = { keyId, tenant: validTenant, name, roles: uniqueRoles, createdAt: now.toISOString() };
      try {
        await this.table.createEntity({
          partitionKey: keyId,
          rowKey: ROW_KEY,
          tenant: validTenant,
          name,
          roles: uniqueRoles.join(","),
          sha256: sha256(key).toString("hex"),
          createdAt: info.createdAt,
        });
        return { key, info };
      } catch (error) {
        // 409: a 64-bit id collided with an existing key (vanishingly rare); draw another, never overwrite.
        if (!isStatus(error, 409) || attempt >= 2) throw error;
      }
    }
  }

  /**
   * Revokes a tenant's key. False when that tenant has no key with this id (a key of another tenant included: it is
   * left untouched). Revoking a revoked key is true and keeps the first `revokedAt`.
   */
  async revoke(tenant: string, keyId: string, now: Date): Promise<boolean> {
    if (!ApiKeyIdSchema.safeParse(keyId).success) return false;
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const row = await this.read(keyId);
      if (row === undefined || row.tenant !== tenant) return false;
      if (row.revokedAt !== undefined) return true;
      try {
        await this.table.updateEntity({ partitionKey: keyId, rowKey: ROW_KEY, revokedAt: now.toISOString() }, "Merge", {
          etag: row.etag,
        });
        return true;
      } catch (error) {
        // 412: the row changed since we read it (a concurrent revoke); read again so the first revokedAt stands.
        if (!isStatus(error, 412)) throw error;
      }
    }
    throw new Error(`API key ${keyId} kept changing while being revoked`);
  }

  /** A tenant's keys, revoked ones included, oldest first (a scan: operator tooling, not a request path). */
  async list(tenant: string): Promise<ApiKeyInfo[]> {
    const validTenant = TenantIdSchema.parse(tenant);
    const out: ApiKeyInfo[] = [];
    const filter = `RowKey eq '${ROW_KEY}' and tenant eq '${validTenant}'`;
    for await (const entity of this.table.listEntities({ queryOptions: { filter } })) {
      out.push(infoOf(ApiKeyRowSchema.parse(entity)));
    }
    return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.keyId.localeCompare(b.keyId));
  }

  /** The key's info when the text is a live key: undefined if malformed, unknown, wrong or revoked (never says which). */
  async check(presented: string): Promise<ApiKeyInfo | undefined> {
    const match = KEY_PATTERN.exec(presented);
    const keyId = match?.[1];
    if (keyId === undefined) return undefined;
    const row = await this.read(keyId);
    if (row === undefined) return undefined;
    // Constant time, so response timing does not reveal how much of a guessed secret's hash matched.
    const matches = timingSafeEqual(sha256(presented), Buffer.from(row.sha256, "hex"));
    if (!matches || row.revokedAt !== undefined) return undefined;
    return infoOf(row);
  }

  private async read(keyId: string): Promise<ApiKeyRow | undefined> {
    try {
      return ApiKeyRowSchema.parse(await this.table.getEntity(keyId, ROW_KEY));
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }
}
