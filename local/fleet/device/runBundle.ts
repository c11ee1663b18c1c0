import { BUNDLE_HEADER_PATTERN, sectionParameterName } from "../../../lib/device/bundle";
import { formatScriptHeader } from "../../../lib/device/header";
import { ScriptIdSchema } from "../../../lib/schemas/device/envelope";
import type { ScriptRequest, ScriptResult } from "../contract";

/** One section named by a bundle's header: `step=script@version`. */
interface Section {
  step: string;
  id: string;
  version: string;
}

/** The sections and nonce of a bundle (lib/device/bundle.ts), or undefined for a single script. */
export function parseBundle(script: string): { sections: Section[]; nonce: string } | undefined {
  const match = BUNDLE_HEADER_PATTERN.exec(script);
  if (match === null) return undefined;
  const sections = (match[1] ?? "").split(" ").map((entry) => {
    const found = /^([A-Za-z0-9]+)=([a-z][a-z0-9-]*)@(\d+\.\d+\.\d+)$/.exec(entry);
    if (found === null) throw new Error(`bundle header entry ${entry} is not step=script@version`);
    return { step: found[1] as string, id: found[2] as string, version: found[3] as string };
  });
  return { sections, nonce: match[2] as string };
}

/**
 * Runs a bundle as the composed script does on a device: each section's script in turn, with its own parameters
 * (the bundle's `S{n}_` ones), its output between section markers, then the final marker with the nonce. A section
 * that hangs hangs the bundle (its end marker never comes); one the agent could not run ends with exit code 1.
 */
export function runBundle(
  request: ScriptRequest,
  bundle: { sections: Section[]; nonce: string },
  execute: (request: ScriptRequest) => ScriptResult,
): ScriptResult {
  let stdout = "";
  let stderr = "";
  let elapsed = 0;
  for (const [index, section] of bundle.sections.entries()) {
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
