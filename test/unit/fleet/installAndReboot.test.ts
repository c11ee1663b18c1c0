import { after, KB_CU, KB_MSRT, KB_NET, runScript, smallFleet, T0 } from "../../fixtures/fleet/scenarios";

const reboot = { delaySeconds: 60, comment: "PatchPilot run 1" };

describe("install", () => {
  it("installs: the next baseline lists the update, the catalog no longer offers it, a reboot is pending", () => {
    const { win } = smallFleet();
    const before = runScript(win, "catalog", { simulate: false }, T0).output.data.updates?.map((u) => u.kb);
    expect(before).toEqual(["KB5012345", "KB5012346", "KB890830"]);
    const install = runScript(win, "install", { os: "windows", updateIds: [KB_CU.updateId, KB_MSRT.updateId] }, T0);
    expect(install.output.data.results.map((r) => [r.kb, r.result, r.resultCode, r.rebootRequired])).toEqual([
      ["KB5012345", "Succeeded", 2, true],
      ["KB890830", "Succeeded", 2, false],
    ]);
    expect(install.output.data.rebootRequired).toBe(true);
    const baseline = runScript(win, "baseline", {}, install.finishedAt).output.data;
    expect(baseline.installedUpdates?.map((u) => u.kb)).toEqual(["KB5010001", "KB5012345", "KB890830"]);
    expect(baseline.pendingReboot).toEqual({ pending: true, signals: ["WindowsUpdate", "CBS"] });
    expect(baseline.updateHistory?.[0]).toMatchObject({ kb: "KB890830", operation: "Installation", resultCode: 2 });
    expect(
      runScript(win, "catalog", { simulate: false }, install.finishedAt).output.data.updates?.map((u) => u.kb),
    ).toEqual(["KB5012346"]);
  });

  it("shows only what finished by the time of a snapshot taken during the install", () => {
    const { win } = smallFleet();
    const install = runScript(win, "install", { os: "windows", updateIds: [KB_MSRT.updateId, KB_CU.updateId] }, T0);
    const mid = new Date(Date.parse(install.output.data.results[0]?.finishedAt ?? "") + 1000);
    expect(runScript(win, "baseline", {}, mid).output.data.installedUpdates?.map((u) => u.kb)).toEqual([
      "KB5010001",
      "KB890830",
    ]);
  });

  it("reports re-runs as AlreadyInstalled and unknown ids / versions as NotFound", () => {
    const { win, lnx } = smallFleet();
    const first = runScript(win, "install", { os: "windows", updateIds: [KB_MSRT.updateId] }, T0);
    const again = runScript(
      win,
      "install",
      { os: "windows", updateIds: [KB_MSRT.updateId.toUpperCase(), "00000000-0000-0000-0000-000000000000"] },
      first.finishedAt,
    );
    expect(again.output.data.results.map((r) => r.result)).toEqual(["AlreadyInstalled", "NotFound"]);
    expect(win.state.installRecords).toHaveLength(1);
    const pinned = runScript(
      lnx,
      "install",
      { os: "linux", packages: [{ name: "openssl", version: "3.0.2-0ubuntu1.99" }] },
      T0,
    );
    expect(pinned.output.data.results[0]).toMatchObject({
      updateId: "openssl",
      result: "NotFound",
      version: "3.0.2-0ubuntu1.99",
    });
  });

  it("fails with the scenario's HRESULT, leaves the update applicable and logs the error for diagnostics", () => {
    const { win } = smallFleet(
      (s) =>
        ((s.devices[0] as { outcomes?: unknown }).outcomes = { KB5012346: { result: "fails", hresult: "0x80070643" } }),
    );
    const install = runScript(win, "install", { os: "windows", updateIds: [KB_NET.updateId] }, T0);
    expect(install.output.data.results[0]).toMatchObject({
      result: "Failed",
      resultCode: 4,
      hresult: -2147023293,
      rebootRequired: false,
    });
    const at = install.finishedAt;
    expect(runScript(win, "catalog", { simulate: false }, at).output.data.updates?.map((u) => u.kb)).toContain(
      "KB5012346",
    );
    expect(runScript(win, "baseline", {}, at).output.data.updateHistory?.[0]).toMatchObject({
      kb: "KB5012346",
      resultCode: 4,
      hresult: -2147023293,
    });
    const diag = runScript(win, "diagnostics", { since: T0.toISOString() }, at).output.data;
    expect(diag.eventLogErrors).toEqual([
      expect.objectContaining({
        source: "Microsoft-Windows-WindowsUpdateClient",
        id: 20,
        message: expect.stringContaining("0x80070643"),
      }),
    ]);
    expect(diag.updateAgentErrors).toEqual([expect.objectContaining({ hresult: -2147023293 })]);
    expect(
      runScript(win, "diagnostics", { since: after(at, 1).toISOString() }, after(at, 2)).output.data.eventLogErrors,
    ).toEqual([]);
  });

  it("hangs on an installer that never returns; a cancel keeps what finished before it", () => {
    const { win } = smallFleet(
      (s) => ((s.devices[0] as { outcomes?: unknown }).outcomes = { KB5012346: { result: "hangs" } }),
    );
    const req = { os: "windows" as const, updateIds: [KB_MSRT.updateId, KB_NET.updateId] };
    const result = win.execute({
      runCommandName: "pp-hang",
      script: "# patchpilot-script: install@1.0.0\n",
      parameters: [{ name: "UpdateIds", value: req.updateIds.join(",") }],
      startedAt: T0,
      timeoutInSeconds: 3600,
    });
    expect(result.kind).toBe("hang");
    win.cancel("pp-hang", after(T0, 60));
    expect(runScript(win, "baseline", {}, after(T0, 61)).output.data.installedUpdates?.map((u) => u.kb)).toEqual([
      "KB5010001",
      "KB890830",
    ]);
  });

  it("a cancel undoes the updates that would have finished after it", () => {
    const { win } = smallFleet();
    const result = win.execute({
      runCommandName: "pp-cancel",
      script: "# patchpilot-script: install@1.0.0\n",
      parameters: [{ name: "UpdateIds", value: `${KB_MSRT.updateId},${KB_CU.updateId}` }],
      startedAt: T0,
      timeoutInSeconds: 3600,
    });
    expect(result.kind).toBe("completed");
    win.cancel("pp-cancel", after(T0, 3));
    expect(runScript(win, "baseline", {}, after(T0, 30)).output.data.installedUpdates?.map((u) => u.kb)).toEqual([
      "KB5010001",
      "KB890830",
    ]);
  });

  it("upgrades Linux packages to the pinned version; the kernel takes effect after the reboot", () => {
    const { lnx } = smallFleet();
    const install = runScript(
      lnx,
      "install",
      {
        os: "linux",
        packages: [
          { name: "openssl", version: "3.0.2-0ubuntu1.18" },
          { name: "linux-image-5.15.0-130-generic", version: "5.15.0-130.140" },
        ],
      },
      T0,
    );
    expect(install.output.data.results.map((r) => [r.updateId, r.result, r.version, r.rebootRequired])).toEqual([
      ["openssl", "Succeeded", "3.0.2-0ubuntu1.18", true],
      ["linux-image-5.15.0-130-generic", "Succeeded", "5.15.0-130.140", true],
    ]);
    const mid = runScript(lnx, "baseline", {}, install.finishedAt).output.data;
    expect(mid.installedUpdates).toEqual(expect.arrayContaining([{ id: "openssl", version: "3.0.2-0ubuntu1.18" }]));
    expect(mid.os?.build).toBe("5.15.0-105-generic");
    expect(mid.pendingReboot).toEqual({ pending: true, signals: ["reboot-required"] });
    runScript(lnx, "reboot", reboot, install.finishedAt);
    const post = runScript(lnx, "baseline", {}, after(install.finishedAt, 10)).output.data;
    expect(post.os?.build).toBe("5.15.0-130-generic");
    expect(post.pendingReboot?.pending).toBe(false);
  });
});

describe("reboot", () => {
  it("moves lastBootTime after delay + reboot duration; the agent is Disconnected until reconnect", () => {
    const { win } = smallFleet();
    const install = runScript(win, "install", { os: "windows", updateIds: [KB_CU.updateId] }, T0);
    const t = install.finishedAt;
    const r = runScript(win, "reboot", reboot, t);
    expect(r.output.data).toMatchObject({
      scheduled: true,
      delaySeconds: 60,
      method: "shutdown.exe",
      bootTimeBefore: "2026-01-10T02:00:00Z",
    });
    // scheduled 2 s after start, down 60 s later, 150 s to boot, 30 s to reconnect
    const down = t.getTime() + 2_000 + 60_000;
    const boot = down + 150_000;
    expect(win.agentStatus(new Date(down - 1))).toBe("Connected");
    expect(win.agentStatus(new Date(down))).toBe("Disconnected");
    expect(win.agentStatus(new Date(boot + 29_000))).toBe("Disconnected");
    expect(win.agentStatus(new Date(boot + 30_000))).toBe("Connected");
    expect(win.nextConnectedAt(new Date(down + 1000))).toEqual(new Date(boot + 30_000));
    const post = runScript(win, "baseline", {}, new Date(boot + 30_000)).output.data;
    expect(post.lastBootTime).toBe(new Date(boot).toISOString().replace(".000", ""));
    expect(post.os?.build).toBe("20348.3091");
    expect(post.pendingReboot).toEqual({ pending: false, signals: [] });
  });

  it("rolls an update back on reboot: history shows the Installation then the Uninstallation; the baseline drops it", () => {
    const { win } = smallFleet(
      (s) => ((s.devices[0] as { outcomes?: unknown }).outcomes = { KB5012345: { result: "rollsBackOnReboot" } }),
    );
    const install = runScript(win, "install", { os: "windows", updateIds: [KB_CU.updateId] }, T0);
    expect(install.output.data.results[0]).toMatchObject({ result: "Succeeded", rebootRequired: true });
    runScript(win, "reboot", { delaySeconds: 0, comment: "x" }, install.finishedAt);
    const post = runScript(win, "baseline", {}, after(install.finishedAt, 15)).output.data;
    expect(post.installedUpdates?.map((u) => u.kb)).toEqual(["KB5010001"]);
    expect(post.os?.build).toBe("20348.2227");
    expect(post.updateHistory?.slice(0, 2).map((h) => [h.kb, h.operation, h.resultCode, h.hresult])).toEqual([
      ["KB5012345", "Uninstallation", 2, 0x800f0922 | 0],
      ["KB5012345", "Installation", 2, 0],
    ]);
    expect(
      runScript(win, "catalog", { simulate: false }, after(install.finishedAt, 15)).output.data.updates?.map(
        (u) => u.kb,
      ),
    ).toContain("KB5012345");
    // The rollback makes the boot slower (5 min) than a plain reboot (150 s).
    expect(Date.parse(post.lastBootTime ?? "") - install.finishedAt.getTime()).toBe(2_000 + 150_000 + 300_000);
  });

  it("reports a reboot that could not be scheduled, and nothing reboots", () => {
    const { win } = smallFleet((s) => ((s.devices[0] as { reboot?: unknown }).reboot = { failsToSchedule: true }));
    const r = runScript(win, "reboot", reboot, T0);
    expect(r.output.data.scheduled).toBe(false);
    expect(r.output.errors[0]).toMatchObject({ section: "scheduled" });
    expect(win.agentStatus(after(T0, 2))).toBe("Connected");
  });

  it("loops: the device reboots again on its own, with unexpected-shutdown events", () => {
    const { win } = smallFleet(
      (s) =>
        ((s.devices[0] as { reboot?: unknown }).reboot = {
          loops: 2,
          loopUptimeSeconds: 60,
          durationSeconds: 100,
          reconnectDelaySeconds: 10,
        }),
    );
    runScript(win, "reboot", { delaySeconds: 0, comment: "x" }, T0);
    const first = T0.getTime() + 2_000 + 100_000;
    const second = first + 60_000 + 100_000;
    const third = second + 60_000 + 100_000;
    expect(win.agentStatus(new Date(first + 20_000))).toBe("Connected");
    expect(win.agentStatus(new Date(first + 60_000 + 1))).toBe("Disconnected");
    expect(runScript(win, "baseline", {}, new Date(first + 20_000)).output.data.lastBootTime).toBe(
      new Date(first).toISOString().replace(".000", ""),
    );
    const end = new Date(third + 20_000);
    expect(runScript(win, "baseline", {}, end).output.data.lastBootTime).toBe(
      new Date(third).toISOString().replace(".000", ""),
    );
    const diag = runScript(win, "diagnostics", { since: T0.toISOString() }, end).output.data;
    expect(diag.eventLogErrors?.filter((e) => e.id === 41)).toHaveLength(2);
  });

  it("keeps the pending-reboot flag across reboots when the scenario says so (the loop guard's case)", () => {
    const { lnx } = smallFleet(
      (s) => ((s.devices[1] as { reboot?: unknown; pendingReboot?: boolean }).reboot = { pendingAfterReboot: true }),
    );
    runScript(lnx, "install", { os: "linux", packages: [{ name: "openssl", version: "3.0.2-0ubuntu1.18" }] }, T0);
    runScript(lnx, "reboot", { delaySeconds: 0, comment: "x" }, after(T0, 5));
    expect(runScript(lnx, "baseline", {}, after(T0, 10)).output.data.pendingReboot?.pending).toBe(true);
  });
});

describe("updates released on given days (scenario releasedOn)", () => {
  // A vendor publishes an update at a time: before it the Windows Update Agent and apt do not know it.
  type Dev = { updates: { releasedOn?: string; name?: string }[] };
  const later = new Date(T0.getTime() + 36 * 3_600_000);
  const released = (s: { devices: unknown[] }) => {
    const [win, lnx] = s.devices as Dev[];
    if (win?.updates[1] !== undefined) win.updates[1].releasedOn = new Date(T0.getTime() + 86_400_000).toISOString();
    const curl = lnx?.updates.find((u) => u.name === "curl");
    if (curl !== undefined) curl.releasedOn = new Date(T0.getTime() + 86_400_000).toISOString();
  };

  it("lists an update in the catalog only from its release time on", () => {
    const { win, lnx } = smallFleet(released);
    const kbs = (at: Date) => runScript(win, "catalog", { simulate: false }, at).output.data.updates?.map((u) => u.kb);
    expect(kbs(T0)).toEqual(["KB5012345", "KB890830"]);
    expect(kbs(later)).toEqual(["KB5012345", "KB5012346", "KB890830"]);
    const pkgs = (at: Date) =>
      runScript(lnx, "catalog", { simulate: false }, at).output.data.updates?.map((u) => u.updateId);
    expect(pkgs(T0)).not.toContain("curl");
    expect(pkgs(later)).toContain("curl");
  });

  it("does not find an unreleased update when asked to install it, and installs it once released", () => {
    const { win } = smallFleet(released);
    const early = runScript(win, "install", { os: "windows", updateIds: [KB_NET.updateId] }, T0);
    expect(early.output.data.results[0]).toMatchObject({ result: "NotFound" });
    expect(win.state.installRecords).toHaveLength(0);
    const late = runScript(win, "install", { os: "windows", updateIds: [KB_NET.updateId] }, later);
    expect(late.output.data.results[0]).toMatchObject({ kb: "KB5012346", result: "Succeeded" });
  });
});
