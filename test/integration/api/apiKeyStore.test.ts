import { ApiKeyStore } from "../../../lib/api/auth/apiKeyStore";
import { sha256Hex } from "../../../lib/evidence/sha256";
import { testStorage, uniqueRunId } from "../../harness/storage";
import type { TableClient } from "@azure/data-tables";

describe("ApiKeyStore (Azurite)", () => {
  let table: TableClient;
  let store: ApiKeyStore;
  beforeAll(async () => {
    table = (await testStorage()).tables.apiKeys;
    store = new ApiKeyStore(table);
  });
  const at = (minute: number): Date => new Date(Date.UTC(2026, 0, 20, 9, minute));
  const tenant = (): string => uniqueRunId("keys");

  it("issues a key in the documented format that checks back to its info", async () => {
    const t = tenant();
    const { key, info } = await store.issue(t, { name: "NinjaOne", roles: ["Operator"] }, at(0));
    expect(key).toMatch(/^ppk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(key.slice(4, 20)).toBe(info.keyId);
    expect(info).toEqual({
      keyId: info.keyId,
      tenant: t,
      name: "NinjaOne",
      roles: ["Operator"],
      createdAt: at(0).toISOString(),
    });
    expect(await store.check(key)).toEqual(info);
  });

  it("stores only the SHA-256 of the key, never the key or its secret", async () => {
    const { key, info } = await store.issue(tenant(), { name: "Datto", roles: ["Auditor", "Operator"] }, at(0));
    const row = await table.getEntity<Record<string, unknown>>(info.keyId, "key");
    expect(row.sha256).toBe(sha256Hex(key));
    expect(row.roles).toBe("Auditor,Operator");
    const secret = key.slice(21);
    for (const value of Object.values(row)) {
      expect(String(value)).not.toContain(secret);
    }
  });

  it("refuses a wrong secret, a malformed key and an unknown id", async () => {
    const { key } = await store.issue(tenant(), { name: "N-able", roles: ["Operator"] }, at(0));
    const last = key.at(-1) === "A" ? "B" : "A";
    expect(await store.check(`${key.slice(0, -1)}${last}`)).toBeUndefined();
    expect(await store.check(`${key}x`)).toBeUndefined();
    expect(await store.check(key.slice(0, -1))).toBeUndefined();
    expect(await store.check(key.toUpperCase())).toBeUndefined();
    expect(await store.check("")).toBeUndefined();
    expect(await store.check("Bearer something")).toBeUndefined();
    expect(await store.check(`ppk_0000000000000000_${key.slice(21)}`)).toBeUndefined();
    // The real key still works: the refusals above were about the text, not the key.
    expect(await store.check(key)).toBeDefined();
  });

  it("revokes a key: refused afterwards, idempotent, first revokedAt kept", async () => {
    const t = tenant();
    const { key, info } = await store.issue(t, { name: "ConnectWise", roles: ["Operator"] }, at(0));
    expect(await store.revoke(t, info.keyId, at(5))).toBe(true);
    expect(await store.check(key)).toBeUndefined();
    expect(await store.revoke(t, info.keyId, at(9))).toBe(true);
    expect(await store.list(t)).toEqual([{ ...info, revokedAt: at(5).toISOString() }]);
  });

  it("never revokes another tenant's key, and says false for unknown or malformed ids", async () => {
    const owner = tenant();
    const other = tenant();
    const { key, info } = await store.issue(owner, { name: "Kaseya", roles: ["Auditor"] }, at(0));
    expect(await store.revoke(other, info.keyId, at(1))).toBe(false);
    expect(await store.check(key)).toEqual(info);
    expect(await store.revoke(owner, "0000000000000000", at(1))).toBe(false);
    expect(await store.revoke(owner, "not-a-key-id", at(1))).toBe(false);
    expect(await store.revoke(owner, "' or tenant ne '", at(1))).toBe(false);
  });

  it("holds several keys per tenant, all valid, so a key can be rotated", async () => {
    const t = tenant();
    const old = await store.issue(t, { name: "rmm", roles: ["Operator"] }, at(0));
    const next = await store.issue(t, { name: "rmm (rotated)", roles: ["Operator"] }, at(1));
    expect(next.info.keyId).not.toBe(old.info.keyId);
    expect(await store.check(old.key)).toEqual(old.info);
    expect(await store.check(next.key)).toEqual(next.info);
    await store.revoke(t, old.info.keyId, at(2));
    expect(await store.check(old.key)).toBeUndefined();
    expect(await store.check(next.key)).toEqual(next.info);
  });

  it("lists only the tenant's keys, oldest first, without hashes", async () => {
    const t = tenant();
    const other = tenant();
    const second = await store.issue(t, { name: "second", roles: ["Auditor"] }, at(2));
    const first = await store.issue(t, { name: "first", roles: ["Operator"] }, at(1));
    await store.issue(other, { name: "theirs", roles: ["Operator"] }, at(0));
    const listed = await store.list(t);
    expect(listed).toEqual([first.info, second.info]);
    expect(JSON.stringify(listed)).not.toMatch(/sha256|ppk_/);
    expect(await store.list(uniqueRunId("empty"))).toEqual([]);
  });

  it("refuses to issue a key without roles or for an invalid tenant", async () => {
    await expect(store.issue(tenant(), { name: "x", roles: [] }, at(0))).rejects.toThrow();
    await expect(store.issue("Not A Slug", { name: "x", roles: ["Operator"] }, at(0))).rejects.toThrow();
  });
});
