import { CheckSchema } from "../../../lib/schemas/policies";
import type { ScenarioInput } from "../../../local/fleet/scenario/scenarioSchema";
import { after, KB_CU, KB_NET, runScript, smallFleet, T0 } from "../../fixtures/fleet/scenarios";

const home = {
  app: "WebApp",
  check: CheckSchema.parse({
    type: "http",
    name: "home",
    url: "https://localhost/health",
    attempts: 3,
    settleSeconds: 20,
  }),
};
const iis = {
  app: "WebApp",
  check: CheckSchema.parse({ type: "service", name: "iis", serviceName: "W3SVC", attempts: 2 }),
};

function withBreak(when: "immediately" | "afterReboot", extra: Record<string, unknown> = {}) {
  return (s: ScenarioInput) => {
    (s.devices[0] as { breaks?: unknown }).breaks = [
      { update: "KB5012345", app: "WebApp", check: "home", when, ...extra },
    ];
  };
}

describe("validate", () => {
  it("regression, immediately: the check passes before the install and fails right after it", () => {
    const { win } = smallFleet(withBreak("immediately", { detail: "GET / -> 500" }));
    const pre = runScript(win, "validate", { checks: [home] }, T0).output.data.results[0];
    expect(pre).toMatchObject({ success: true });
    expect(pre?.attempts).toHaveLength(1);
    const install = runScript(win, "install", { os: "windows", updateIds: [KB_CU.updateId] }, T0);
    const post = runScript(win, "validate", { checks: [home] }, install.finishedAt).output.data.results[0];
    expect(post?.success).toBe(false);
    expect(post?.attempts.map((a) => a.detail)).toEqual(["GET / -> 500", "GET / -> 500", "GET / -> 500"]);
  });

  it("honours the attempts count and advances each attempt's time by the settle delay", () => {
    const { win } = smallFleet(withBreak("immediately"));
    const install = runScript(win, "install", { os: "windows", updateIds: [KB_CU.updateId] }, T0);
    const start = install.finishedAt.getTime();
    const v = runScript(win, "validate", { checks: [home, iis] }, install.finishedAt);
    const times = v.output.data.results[0]?.attempts.map((a) => (Date.parse(a.at) - start) / 1000);
    // 1 s start-up, then per attempt: wait 20 s settle, try (1 s)
    expect(times).toEqual([21, 42, 63]);
    expect(v.output.data.results[1]).toMatchObject({ check: "iis", success: true });
    expect(Date.parse(v.output.data.finishedAt) - start).toBe(v.result.durationMs);
  });

  it("regression, afterReboot: still passing after the install, failing once the device has rebooted", () => {
    const { win } = smallFleet(withBreak("afterReboot", { stopsService: "W3SVC" }));
    const install = runScript(win, "install", { os: "windows", updateIds: [KB_CU.updateId] }, T0);
    expect(
      runScript(win, "validate", { checks: [home, iis] }, install.finishedAt).output.data.results.map((r) => r.success),
    ).toEqual([true, true]);
    runScript(win, "reboot", { delaySeconds: 0, comment: "x" }, install.finishedAt);
    const back = after(install.finishedAt, 10);
    const post = runScript(win, "validate", { checks: [home, iis] }, back).output.data.results;
    expect(post.map((r) => r.success)).toEqual([false, false]);
    expect(post[1]?.attempts[0]?.detail).toBe("W3SVC is Stopped (expected Running)");
    expect(runScript(win, "baseline", {}, back).output.data.services?.find((s) => s.name === "W3SVC")?.state).toBe(
      "Stopped",
    );
    expect(runScript(win, "diagnostics", { since: T0.toISOString() }, back).output.data.eventLogErrors).toEqual(
      expect.arrayContaining([expect.objectContaining({ log: "Application", source: "WebApp", id: 1000 })]),
    );
  });

  it("does not break when the update that breaks the check is not the one installed", () => {
    const { win } = smallFleet(withBreak("immediately"));
    const install = runScript(win, "install", { os: "windows", updateIds: [KB_NET.updateId] }, T0);
    expect(runScript(win, "validate", { checks: [home] }, install.finishedAt).output.data.results[0]?.success).toBe(
      true,
    );
  });

  it("answers declared states: a pre-existing failure fails every time, a flaky check passes on a retry", () => {
    const { win } = smallFleet((s) => {
      (s.devices[0] as { checks?: unknown }).checks = [
        { app: "WebApp", check: "iis", passes: false, detail: "disabled" },
        { app: "WebApp", check: "home", failFirstAttempts: 1 },
      ];
    });
    const results = runScript(win, "validate", { checks: [home, iis] }, T0).output.data.results;
    expect(results.map((r) => [r.success, r.attempts.map((a) => a.success)])).toEqual([
      [true, [false, true]],
      [false, [false, false]],
    ]);
  });

  it("reads service and event-log checks from the device: a missing service fails, a failed install shows up", () => {
    const { lnx } = smallFleet(
      (s) => ((s.devices[1] as { outcomes?: unknown }).outcomes = { curl: { result: "fails", hresult: 100 } }),
    );
    const events = {
      app: "Ops",
      check: CheckSchema.parse({ type: "eventlog", name: "journal", logName: "journal", attempts: 1 }),
    };
    const iisOnLinux = {
      app: "WebApp",
      check: CheckSchema.parse({ type: "service", name: "iis", serviceName: "W3SVC", attempts: 1 }),
    };
    expect(
      runScript(lnx, "validate", { checks: [events, iisOnLinux] }, T0).output.data.results.map((r) => [
        r.success,
        r.attempts[0]?.detail,
      ]),
    ).toEqual([
      [true, "0 matching events in journal in the last 60 min (max 0)"],
      [false, "service W3SVC not found"],
    ]);
    const install = runScript(
      lnx,
      "install",
      { os: "linux", packages: [{ name: "curl", version: "7.81.0-1ubuntu1.20" }] },
      T0,
    );
    expect(install.output.data.results[0]).toMatchObject({ result: "Failed", hresult: 100 });
    expect(runScript(lnx, "validate", { checks: [events] }, install.finishedAt).output.data.results[0]?.success).toBe(
      false,
    );
  });
});
