import { ApiProblem } from "../../../lib/api/apiProblem";
import { authorize } from "../../../lib/api/auth/authenticate";
import type { Caller, Permission } from "../../../lib/schemas/api/access";

const caller = (roles: Caller["roles"], tenants: string[]): Caller => ({
  kind: "principal",
  id: "oid-1",
  name: "alice",
  roles,
  tenants,
});

function refusal(fn: () => void): ApiProblem {
  try {
    fn();
  } catch (error) {
    if (error instanceof ApiProblem) return error;
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("authorize", () => {
  it("lets each role do exactly what ROLE_PERMISSIONS grants it", () => {
    const allowed = (roles: Caller["roles"], permission: Permission): boolean => {
      try {
        authorize(caller(roles, ["contoso"]), "contoso", permission);
        return true;
      } catch {
        return false;
      }
    };
    expect(allowed(["Operator"], "runs:start")).toBe(true);
    expect(allowed(["Operator"], "runs:read")).toBe(true);
    expect(allowed(["Operator"], "evidence:read")).toBe(false);
    expect(allowed(["Operator"], "evidence:export")).toBe(false);
    expect(allowed(["Auditor"], "runs:start")).toBe(false);
    expect(allowed(["Auditor"], "evidence:export")).toBe(true);
    expect(allowed(["Auditor"], "evidence:read")).toBe(true);
    expect(allowed(["Operator", "Auditor"], "evidence:export")).toBe(true);
    expect(allowed([], "runs:read")).toBe(false);
    // PolicyAuthor changes configuration only: it can neither start runs nor read evidence; auditors read policy.
    expect(allowed(["PolicyAuthor"], "policies:write")).toBe(true);
    expect(allowed(["PolicyAuthor"], "policies:read")).toBe(true);
    expect(allowed(["PolicyAuthor"], "runs:start")).toBe(false);
    expect(allowed(["PolicyAuthor"], "evidence:read")).toBe(false);
    expect(allowed(["Operator"], "policies:write")).toBe(false);
    expect(allowed(["Operator"], "policies:read")).toBe(false);
    expect(allowed(["Auditor"], "policies:read")).toBe(true);
    expect(allowed(["Auditor"], "policies:write")).toBe(false);
  });

  it("refuses another tenant with 403 without naming any tenant", () => {
    const problem = refusal(() =>
      authorize(caller(["Operator", "Auditor"], ["contoso", "fabrikam"]), "northwind", "runs:read"),
    );
    expect(problem.status).toBe(403);
    expect(problem.detail).toBe("this caller may not act for this tenant");
    expect(problem.message).not.toMatch(/contoso|fabrikam|northwind/);
  });

  it("checks the tenant before the permission", () => {
    const problem = refusal(() => authorize(caller([], ["contoso"]), "fabrikam", "runs:start"));
    expect(problem.detail).toBe("this caller may not act for this tenant");
  });

  it("names the missing permission and the roles that grant it", () => {
    const problem = refusal(() => authorize(caller(["Operator"], ["contoso"]), "contoso", "evidence:export"));
    expect(problem.status).toBe(403);
    expect(problem.detail).toContain("evidence:export");
    expect(problem.detail).toContain("Auditor");
    expect(problem.detail).not.toContain("Operator");
    const both = refusal(() => authorize(caller([], ["contoso"]), "contoso", "runs:read"));
    expect(both.detail).toMatch(/Operator or Auditor/);
  });
});
