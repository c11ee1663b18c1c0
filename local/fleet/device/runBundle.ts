import { BUNDLE_HEADER_PATTERN, sectionParameterName } from "../../../lib/device/bundle";
import { formatScriptHeader } from "../../../lib/device/header";
import { ScriptIdSchema } from "../../../lib/schemas/device/envelope";
import type { ScriptRequest, ScriptResult } from "../contract";

/** One section named by a bundle's header: `step=script@version`. */
interface Section {
  step: string;
  id: string;
  version: string;
  /** Wait before it until the device has been up this many seconds (lib/device/bundle.ts `settleUptimeSeconds`). */
  settleSeconds?: number;
  /** Start no earlier than this many seconds into the command (lib/device/bundle.ts `startAfterSeconds`). */
  afterSeconds?: number;
}

/** How a settle wait ended on the simulated device: up long enough at `until`, or rebooted at `rebootedAt`. */
export type SettleEnd =
  | { kind: "settled"; until: number; uptimeSeconds: number }
  /** Shut down at `at`; the agent reports the command's end at `reportedAt` (Infinity: never back). */
  | { kind: "rebooted"; at: number; reportedAt: number };

/** The sections and nonce of a bundle (lib/device/bundle.ts), or undefined for a single script. */
export function parseBundle(script: string): { sections: Section[]; nonce: string } | undefined {
  const match = BUNDLE_HEADER_PATTERN.exec(script);
  if (match === null) return undefined;
  const sections = (match[1] ?? "").split(" ").map((entry) => {
    const found = /^([A-Za-z0-9]+)=([a-z][a-z0-9-]*)@(\d+\.\d+\.\d+)(?:\+settle(\d+))?(?:\+after(\d+))?$/.exec(entry);
    if (found === null) throw new Error(`bundle header entry ${entry} is not step=script@version`);
    return {
      step: found[1] as string,
      id: found[2] as string,
      version: found[3] as string,
      ...(found[4] === undefined ? {} : { settleSeconds: Number(found[4]) }),
      ...(found[5] === undefined ? {} : { afterSeconds: Number(found[5]) }),
    };
  });
  return { sections, nonce: match[2] as string };
}

/**
 * Runs a bundle as the composed script does on a device: each section's script in turn, with its own parameters
 * (the bundle's `S{n}_` ones), its output between section markers, then the final marker with the nonce. A section
 * that hangs hangs the bundle (its end marker never comes); one the agent could not run ends with exit code 1. A
 * settle wait lasts until the device's uptime (from its timeline) reaches the section's settle seconds; a device that
 * restarts meanwhile takes the command down with it: the agent reports it failed (exit code 1, the output so far)
 * once it is back, and the sections after the wait never began.
 */
export function runBundle(
  request: ScriptRequest,
  bundle: { sections: Section[]; nonce: string },
  execute: (request: ScriptRequest) => ScriptResult,
  settle: (from: number, seconds: number) => SettleEnd = (from) => ({ kind: "settled", until: from, uptimeSeconds: 0 }),
): ScriptResult {
  let stdout = "";
  let stderr = "";
  let elapsed = 0;
  for (const [index, section] of bundle.sections.entries()) {
    if (section.afterSeconds !== undefined) {
      // The composed script waits until the command has been running that long (a section reached later runs at once).
      elapsed = Math.max(elapsed, section.afterSeconds * 1000);
      stdout += `##patchpilot-after:${section.step}:${section.afterSeconds}:${Math.floor(elapsed / 1000)}##\n`;
    }
    if (section.settleSeconds !== undefined) {
      const from = request.startedAt.getTime() + elapsed;
      const end = settle(from, section.settleSeconds);
      if (end.kind === "rebooted") {
        // The restart killed the command: the agent reports it failed once it is back (never, if it never is).
        if (!Number.isFinite(end.reportedAt)) return { kind: "hang", stdout, stderr };
        const message = `the device restarted at ${new Date(end.at).toISOString()} during the command\n`;
        const durationMs = end.reportedAt - request.startedAt.getTime();
        return { kind: "completed", durationMs, exitCode: 1, stdout, stderr: stderr + message };
      }
      elapsed = end.until - request.startedAt.getTime();
      stdout += `##patchpilot-settle:${section.step}:${section.settleSeconds}:${end.uptimeSeconds}##\n`;
    }
    const prefix = sectionParameterName(index, "");
    const parameters = request.parameters
      .filter((p) => p.name.startsWith(prefix))
      .map((p) => ({ name: p.name.slice(prefix.length), value: p.value }));
    const id = ScriptIdSchema.parse(section.id);
    const result = execute({
      ...request,
      script: formatScriptHeader({ id, version: section.version }),
      parameters,
      startedAt: new Date(request.startedAt.getTime() + elapsed),
    });
    stdout += `##patchpilot-section:begin:${section.step}##\n`;
    stderr += `##patchpilot-section:begin:${section.step}##\n`;
    if (result.kind === "hang") return { kind: "hang", stdout: stdout + result.stdout, stderr: stderr + result.stderr };
    const [out, err, code] =
      result.kind === "failed" ? ["", `${result.message}\n`, 1] : [result.stdout, result.stderr, result.exitCode];
    stdout += `${out}\n##patchpilot-section:end:${section.step}:${code}##\n`;
    stderr += `${err}\n##patchpilot-section:end:${section.step}:${code}##\n`;
    elapsed += result.durationMs;
  }
  stdout += `##patchpilot-bundle:done:${bundle.nonce}##\n`;
  return { kind: "completed", durationMs: elapsed, exitCode: 0, stdout, stderr };
}
