import { ApiProblem } from "../../../lib/api/apiProblem";
import { ApiKeyStore } from "../../../lib/api/auth/apiKeyStore";
import { API_KEY_HEADER, authenticate, type AuthDeps } from "../../../lib/api/auth/authenticate";
import { testStorage, uniqueRunId } from "../../harness/storage";

const principalHeader = (claims: { typ: string; val: string }[]): string =>
  Buffer.from(JSON.stringify({ auth_typ: "aad", name_typ: "name", role_typ: "roles", claims })).toString("base64");

async function refusal(promise: Promise<unknown>): Promise<ApiProblem> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiProblem) return error;
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("authenticate (Azurite)", () => {
  let apiKeys: ApiKeyStore;
  let trusted: AuthDeps;
  let untrusted: AuthDeps;
  beforeAll(async () => {
    apiKeys = new ApiKeyStore((await testStorage()).tables.apiKeys);
    trusted = { apiKeys, trustClientPrincipal: true, tenantsClaim: "patchpilot_tenants" };
    untrusted = { ...trusted, trustClientPrincipal: false };
  });
  const now = new Date(Date.UTC(2026, 0, 20, 9, 0));
  const alice = principalHeader([
    { typ: "oid", val: "oid-alice" },
    { typ: "name", val: "alice@contoso.example" },
    { typ: "roles", val: "Auditor" },
    { typ: "patchpilot_tenants", val: "contoso-msp" },
  ]);

  it("turns a valid API key into a caller of exactly its tenant and roles", async () => {
    const tenant = uniqueRunId("auth");
    const { key, info } = await apiKeys.issue(tenant, { name: "NinjaOne", roles: ["Operator"] }, now);
    const caller = await authenticate(new Headers({ [API_KEY_HEADER]: key }), untrusted);
    expect(caller).toEqual({
      kind: "apiKey",
      id: info.keyId,
      name: "NinjaOne",
      roles: ["Operator"],
      tenants: [tenant],
    });
  });

  it("gives one answer for unknown, wrong and revoked keys", async () => {
    const tenant = uniqueRunId("auth");
    const { key, info } = await apiKeys.issue(tenant, { name: "rmm", roles: ["Operator"] }, now);
    const wrong = `${key.slice(0, -2)}${key.endsWith("AA") ? "BB" : "AA"}`;
    const unknown = `ppk_${"f".repeat(16)}_${key.slice(21)}`;
    await apiKeys.revoke(tenant, info.keyId, now);
    const details = new Set<string | undefined>();
    for (const presented of [wrong, unknown, "garbage", key]) {
      const problem = await refusal(authenticate(new Headers({ [API_KEY_HEADER]: presented }), trusted));
      expect(problem.status).toBe(401);
      details.add(problem.detail);
    }
    expect([...details]).toEqual(["the API key is not valid"]);
  });

  it("does not fall back to the principal when an API key is sent but invalid", async () => {
    const problem = await refusal(
      authenticate(new Headers({ [API_KEY_HEADER]: "ppk_bad", "x-ms-client-principal": alice }), trusted),
    );
    expect(problem.status).toBe(401);
  });

  it("accepts the Easy Auth principal when trusted", async () => {
    const caller = await authenticate(new Headers({ "x-ms-client-principal": alice }), trusted);
    expect(caller).toEqual({
      kind: "principal",
      id: "oid-alice",
      name: "alice@contoso.example",
      roles: ["Auditor"],
      tenants: ["contoso-msp"],
    });
  });

  it("ignores a principal header it does not trust (anyone could forge it)", async () => {
    const problem = await refusal(authenticate(new Headers({ "x-ms-client-principal": alice }), untrusted));
    expect(problem.status).toBe(401);
    expect(problem.detail).toBe("send an API key in x-api-key, or sign in with Entra ID");
  });

  it("refuses a malformed trusted principal, and a request with no credentials", async () => {
    expect((await refusal(authenticate(new Headers({ "x-ms-client-principal": "%%%" }), trusted))).status).toBe(401);
    const none = await refusal(authenticate(new Headers(), trusted));
    expect(none.status).toBe(401);
    expect(none.detail).toBe("send an API key in x-api-key, or sign in with Entra ID");
  });
});
