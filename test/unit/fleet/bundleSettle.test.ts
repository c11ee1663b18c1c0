import { composeBundle, SETTLE_PATTERN, splitBundleOutput } from "../../../lib/device/bundle";
import { getDeviceScript } from "../../../lib/device/registry";
import { BaselineOutputSchema } from "../../../lib/schemas/device/baseline";
import type { SimulatedServer } from "../../../local/fleet/device/simulatedServer";
import { smallFleet, T0 } from "../../fixtures/fleet/scenarios";

// Issue 22: the fleet emulator runs a bundle's settle wait as the device does: until the boot in effect (from the
// device's timeline) has been up the settle seconds. A device that restarts during the wait takes the command with
// it: the agent reports it failed once it is back, with the output so far; the section after the wait never began.

const NONCE = "settle-emulator-01";
const STEPS = ["bootProbe", "stableProbe"];

function settleBundle(device: SimulatedServer, startedAt: Date, settle = 300) {
  const baseline = getDeviceScript("baseline", device.os);
  const bundle = composeBundle(
    device.os,
    [
      { step: "bootProbe", script: baseline, parameters: [] },
      { step: "stableProbe", script: baseline, parameters: [], settleUptimeSeconds: settle },
    ],
    NONCE,
  );
  return device.execute({
    runCommandName: "pp-settle",
    script: bundle.script,
    parameters: bundle.parameters,
    startedAt,
    timeoutInSeconds: 3600,
  });
}

const bootOf = (stdout: string, step: string): string | null | undefined => {
  const text = splitBundleOutput(stdout, STEPS, NONCE).sections.get(step)?.text ?? "";
  return BaselineOutputSchema.parse(JSON.parse(text)).data.lastBootTime;
};

/** Reboots the device (no delay) at T0: it boots `durationSeconds` later. */
function rebooted(edit: Record<string, unknown> = {}): { win: SimulatedServer; bootAt: number } {
  const { win } = smallFleet(
    (s) =>
      ((s.devices[0] as { reboot?: unknown }).reboot = { durationSeconds: 100, reconnectDelaySeconds: 10, ...edit }),
  );
  win.execute({
    runCommandName: "pp-reboot",
    script: `# patchpilot-script: reboot@${getDeviceScript("reboot", "windows").version}\n`,
    parameters: [
      { name: "DelaySeconds", value: "0" },
      { name: "Comment", value: "x" },
    ],
    startedAt: T0,
    timeoutInSeconds: 600,
  });
  const probe = settleBundle(win, new Date(T0.getTime() + 3_600_000), 0);
  if (probe.kind !== "completed") throw new Error(probe.kind);
  return { win, bootAt: Date.parse(bootOf(probe.stdout, "bootProbe") ?? "") };
}

describe("the emulator's bundle settle wait", () => {
  it("lasts until the device has been up the settle seconds, from the boot on its timeline", () => {
    const { win, bootAt } = rebooted();
    // Submitted 20 s after the agent is back (boot + 30 s): the wait ends at boot + 300 s, then the probe runs.
    const startedAt = new Date(bootAt + 30_000);
    const result = settleBundle(win, startedAt);
    expect(result.kind).toBe("completed");
    if (result.kind !== "completed") return;
    const settle = SETTLE_PATTERN.exec(result.stdout);
    expect(settle?.slice(1)).toEqual(["stableProbe", "300", "300"]);
    // The command ran past boot + 300 s by the probe's own duration, and the probe read the same boot.
    expect(startedAt.getTime() + result.durationMs).toBeGreaterThan(bootAt + 300_000);
    expect(bootOf(result.stdout, "stableProbe")).toBe(bootOf(result.stdout, "bootProbe"));
    expect(splitBundleOutput(result.stdout, STEPS, NONCE).complete).toBe(true);
  });

  it("does not wait on a device up longer than the settle time", () => {
    const { win, bootAt } = rebooted();
    const startedAt = new Date(bootAt + 600_000);
    const waited = settleBundle(win, startedAt);
    const plain = settleBundle(win, startedAt, 0);
    expect(waited.kind === "completed" && plain.kind === "completed").toBe(true);
    if (waited.kind !== "completed" || plain.kind !== "completed") return;
    expect(waited.durationMs).toBe(plain.durationMs);
  });

  it("ends the command when the device restarts during the wait: failed once the agent is back, the probe never began", () => {
    // A reboot loop: 120 s after each boot the device goes down again by itself (100 s down, 10 s to reconnect).
    const { win } = smallFleet(
      (s) =>
        ((s.devices[0] as { reboot?: unknown }).reboot = {
          durationSeconds: 100,
          reconnectDelaySeconds: 10,
          loops: 1,
          loopUptimeSeconds: 120,
        }),
    );
    win.execute({
      runCommandName: "pp-reboot",
      script: `# patchpilot-script: reboot@${getDeviceScript("reboot", "windows").version}\n`,
      parameters: [
        { name: "DelaySeconds", value: "0" },
        { name: "Comment", value: "x" },
      ],
      startedAt: T0,
      timeoutInSeconds: 600,
    });
    // The first boot after the request, probed 40 s after it: the loop's shutdown comes 80 s into the command.
    const loopStart = win.state.timeline.firstBootBetween(T0.getTime(), T0.getTime() + 3_600_000);
    expect(loopStart).toBeDefined();
    const firstBoot = loopStart?.at ?? 0;
    const startedAt = new Date(firstBoot + 40_000);
    const result = settleBundle(win, startedAt);
    expect(result.kind).toBe("completed");
    if (result.kind !== "completed") return;
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/restarted/);
    const split = splitBundleOutput(result.stdout, STEPS, NONCE);
    expect(split.complete).toBe(false);
    expect(split.sections.get("bootProbe")?.exitCode).toBe(0);
    expect(split.sections.has("stableProbe")).toBe(false);
    // Reported when the agent is back after the loop's boot (shutdown + 100 s + 10 s), not before.
    const secondBoot = firstBoot + 120_000 + 100_000;
    expect(startedAt.getTime() + result.durationMs).toBe(secondBoot + 10_000);
    expect(win.agentStatus(new Date(secondBoot + 10_000))).toBe("Connected");
  });
});
