import { readFileSync } from "node:fs";
import path from "node:path";
import { RoleSchema } from "../../../lib/schemas/api/access";

// The Entra app roles the deployment declares (infra/entra/appRoles.json) must be exactly the roles the API
// accepts in x-ms-client-principal, in the shape Microsoft Graph's appRole resource has (allowedMemberTypes,
// description, displayName, id, isEnabled, value; value without spaces, not starting with a dot).

interface AppRole {
  allowedMemberTypes: string[];
  description: string;
  displayName: string;
  id: string;
  isEnabled: boolean;
  value: string;
}

const roles = JSON.parse(
  readFileSync(path.resolve(__dirname, "../../../infra/entra/appRoles.json"), "utf8"),
) as AppRole[];

describe("infra/entra/appRoles.json", () => {
  it("declares every role the API knows, and no other", () => {
    expect(roles.map((r) => r.value).sort()).toEqual([...RoleSchema.options].sort());
  });

  it("has Graph appRole objects: unique GUID ids, enabled, for users and applications", () => {
    expect(new Set(roles.map((r) => r.id)).size).toBe(roles.length);
    for (const role of roles) {
      expect(Object.keys(role).sort()).toEqual([
        "allowedMemberTypes",
        "description",
        "displayName",
        "id",
        "isEnabled",
        "value",
      ]);
      expect(role.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(role.isEnabled).toBe(true);
      expect(role.allowedMemberTypes.sort()).toEqual(["Application", "User"]);
      expect(role.value).toMatch(/^[^.\s][^\s]*$/);
      expect(role.description.length).toBeGreaterThan(0);
    }
  });
});
