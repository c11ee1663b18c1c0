import { createHash } from "node:crypto";
import { DEFAULT_GLOBAL_POLICY } from "../../../lib/domain/policy/defaultPolicy";
import { resolveEffectivePolicy } from "../../../lib/domain/policy/overlay";
import { alwaysActions, preInstallActions, toParams } from "../../../lib/domain/hooks/hookActions";
import { newDeviceRunState } from "../../../lib/domain/run/newDeviceRunState";
import { planStart } from "../../../lib/domain/run/planDeviceRun";

const sha256 = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex");
const verified = (s: { sha256: string; text: string }): boolean => sha256(s.text) === s.sha256;
const stop = { type: "stopServices", services: [{ name: "W3SVC" }, { name: "WAS", timeoutSeconds: 30 }] } as const;

describe("hooks", () => {
  it("a more specific layer replaces a point whole and is named in the provenance", () => {
    const { policy, provenance } = resolveEffectivePolicy([
      DEFAULT_GLOBAL_POLICY,
      { schemaVersion: 1, scope: { level: "tenant", tenant: "t" }, hooks: { preInstall: [stop], always: [] } },
      {
        schemaVersion: 1,
        scope: { level: "client", tenant: "t", client: "c" },
        hooks: { preInstall: [{ type: "stopServices", services: [{ name: "nginx" }] }] },
      },
    ]);
    expect(policy.hooks?.preInstall).toEqual([
      { type: "stopServices", services: [{ name: "nginx", timeoutSeconds: 120 }] },
    ]);
    expect(provenance["hooks.preInstall"]).toBe("client:t/c");
    expect(provenance["hooks.always"]).toBe("tenant:t");
  });

  it("the always point starts what pre-install stopped in the reverse order, then the policy's always hooks", () => {
    const off = { sha256: sha256("off"), text: "off", timeoutSeconds: 60 };
    const hooks = {
      preInstall: [
        {
          ...stop,
          services: [
            { name: "W3SVC", timeoutSeconds: 120 },
            { name: "WAS", timeoutSeconds: 30 },
          ],
        },
      ],
      always: [{ type: "script" as const, name: "maint-off", script: { windows: off } }],
    };
    expect(preInstallActions(hooks, "windows").map((a) => `${a.kind} ${a.target}`)).toEqual(["stop W3SVC", "stop WAS"]);
    expect(alwaysActions(hooks, "windows").map((a) => `${a.kind} ${a.target}`)).toEqual([
      "start WAS",
      "start W3SVC",
      "script maint-off",
    ]);
    // No script for Linux: the hook does not apply there.
    expect(toParams(alwaysActions(hooks, "linux"), verified).actions.map((a) => a.target)).toEqual(["WAS", "W3SVC"]);
  });

  it("refuses a script whose text does not hash to the policy's SHA-256", () => {
    const tampered = { sha256: sha256("Set-Maintenance -On"), text: "Remove-Item C:\\ -Recurse", timeoutSeconds: 60 };
    const { actions, refused } = toParams([{ kind: "script", target: "maint-on", script: tampered }], verified);
    expect(actions).toEqual([]);
    expect(refused).toEqual(["maint-on"]);
  });

  it("runs without hooks plan exactly the stages they planned before", () => {
    const { policy } = resolveEffectivePolicy([DEFAULT_GLOBAL_POLICY]);
    const state = newDeviceRunState(policy, new Date("2026-01-20T01:00:00Z"));
    expect(state.policy).not.toHaveProperty("preInstallHooks");
    expect(state.policy).not.toHaveProperty("alwaysHooks");
    expect(planStart(state, new Date("2026-01-20T01:00:00Z")).submit).toEqual(["baseline", "preValidation"]);
  });
});
