import { ApiProblem } from "../../../lib/api/apiProblem";
import { parseClientPrincipal } from "../../../lib/api/auth/clientPrincipal";

const OID = "http://schemas.microsoft.com/identity/claims/objectidentifier";
const ROLE_TYP = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role";
const NAME_TYP = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name";

const encode = (value: unknown): string => Buffer.from(JSON.stringify(value), "utf8").toString("base64");
const principal = (claims: { typ: string; val: string }[], extra: Record<string, unknown> = {}): string =>
  encode({ auth_typ: "aad", name_typ: NAME_TYP, role_typ: ROLE_TYP, claims, ...extra });

function expect401(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ApiProblem);
    expect((error as ApiProblem).status).toBe(401);
    return;
  }
  throw new Error("expected a 401");
}

describe("parseClientPrincipal", () => {
  it("reads id, name, roles and tenants from Easy Auth claims", () => {
    const header = principal([
      { typ: OID, val: "0b6f7c1e-1111-2222-3333-444455556666" },
      { typ: NAME_TYP, val: "alice@contoso.example" },
      { typ: ROLE_TYP, val: "Auditor" },
      { typ: "patchpilot_tenants", val: "contoso-msp" },
    ]);
    expect(parseClientPrincipal(header, "patchpilot_tenants")).toEqual({
      kind: "principal",
      id: "0b6f7c1e-1111-2222-3333-444455556666",
      name: "alice@contoso.example",
      roles: ["Auditor"],
      tenants: ["contoso-msp"],
    });
  });

  it("takes roles from role_typ and `roles` claims, keeping only known roles once", () => {
    const header = principal([
      { typ: "oid", val: "oid-1" },
      { typ: ROLE_TYP, val: "Operator" },
      { typ: "roles", val: "Auditor" },
      { typ: "roles", val: "Operator" },
      { typ: "roles", val: "GlobalAdmin" },
      { typ: "groups", val: "Auditor" },
    ]);
    expect(parseClientPrincipal(header, "patchpilot_tenants").roles.sort()).toEqual(["Auditor", "Operator"]);
  });

  it("splits comma-separated and repeated tenant claims and drops invalid slugs", () => {
    const header = principal([
      { typ: "oid", val: "oid-1" },
      { typ: "msp_tenants", val: "contoso-msp, fabrikam-msp" },
      { typ: "msp_tenants", val: "northwind" },
      { typ: "msp_tenants", val: "Bad Tenant,../etc,contoso-msp" },
      { typ: "patchpilot_tenants", val: "other-claim-tenant" },
    ]);
    expect(parseClientPrincipal(header, "msp_tenants").tenants).toEqual(["contoso-msp", "fabrikam-msp", "northwind"]);
  });

  it("falls back to preferred_username, then the id, for the name", () => {
    const withUpn = encode({
      role_typ: ROLE_TYP,
      claims: [
        { typ: "oid", val: "oid-2" },
        { typ: "preferred_username", val: "bob@x.example" },
      ],
    });
    expect(parseClientPrincipal(withUpn, "patchpilot_tenants").name).toBe("bob@x.example");
    const bare = principal([{ typ: "oid", val: "oid-3" }]);
    expect(parseClientPrincipal(bare, "patchpilot_tenants")).toMatchObject({ name: "oid-3", roles: [], tenants: [] });
  });

  it("prefers the long object id claim over oid", () => {
    const header = principal([
      { typ: "oid", val: "short" },
      { typ: OID, val: "long" },
    ]);
    expect(parseClientPrincipal(header, "patchpilot_tenants").id).toBe("long");
  });

  it("refuses malformed headers with 401", () => {
    expect401(() => parseClientPrincipal("not base64 at all!", "patchpilot_tenants"));
    expect401(() => parseClientPrincipal(Buffer.from("{not json").toString("base64"), "patchpilot_tenants"));
    expect401(() => parseClientPrincipal(encode({ claims: "nope" }), "patchpilot_tenants"));
    expect401(() => parseClientPrincipal(encode({ claims: [{ typ: "oid" }] }), "patchpilot_tenants"));
    expect401(() => parseClientPrincipal(encode([1, 2]), "patchpilot_tenants"));
    expect401(() => parseClientPrincipal("", "patchpilot_tenants"));
  });

  it("refuses a principal without an object id", () => {
    expect401(() =>
      parseClientPrincipal(
        principal([
          { typ: NAME_TYP, val: "x" },
          { typ: ROLE_TYP, val: "Operator" },
        ]),
        "patchpilot_tenants",
      ),
    );
  });
});
