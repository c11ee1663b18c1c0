import type { OsFamily } from "../schemas/common";
import type { RunCommandParameter } from "./parameters";
import type { DeviceScript } from "./registry";

// A bundle runs several device scripts back to back in one run command, by composition: the scripts' texts are
// embedded unchanged, each runs on its own (a bash process per section on Linux, a fresh PowerShell runspace per
// section on Windows) with its own parameters, and its stdout and stderr are delimited by section markers so the
// collector files each section under its own phase with its own hash. A final marker carrying the execution's nonce
// says the bundle ran to its end (a stale or truncated output never has it).

/** The header line of a bundle (the fleet emulator reads it to run each section's answer). */
export const BUNDLE_HEADER_PATTERN = /^# patchpilot-bundle: (.+) nonce=([A-Za-z0-9-]+)\s*$/m;

/** One script of a bundle: the step it serves, the script, its parameters as the script alone would get them. */
export interface BundleSection {
  step: string;
  script: Pick<DeviceScript, "id" | "version" | "text">;
  parameters: readonly RunCommandParameter[];
  /**
   * Before this section runs, wait on the device until it has been up this many seconds (issue 22: the stability
   * probe rides at the end of the boot probe's command instead of costing two history iterations of its own). A
   * device that reboots during the wait ends the command there: the section never begins, and the run judges that.
   */
  settleUptimeSeconds?: number;
  /**
   * Before this section runs, wait until the command has been running this many seconds (issue 22: the reboot at the
   * end of an install's command starts no earlier than the install's estimate, so the device restarts when the run
   * expects it to and is back by the run's first look, as when the reboot was a command of its own). A section
   * reached later runs at once.
   */
  startAfterSeconds?: number;
}

/** A composed bundle: the script text and the run command's parameters (each section's, prefixed `S{n}_`). */
export interface Bundle {
  script: string;
  parameters: RunCommandParameter[];
}

const begin = (step: string): string => `##patchpilot-section:begin:${step}##`;
const END = /^##patchpilot-section:end:([A-Za-z0-9]+):(-?\d+)##$/;
const done = (nonce: string): string => `##patchpilot-bundle:done:${nonce}##`;
/** The line a settle wait prints before its section (outside every section, so no transcript holds it). */
export const SETTLE_PATTERN = /^##patchpilot-settle:([A-Za-z0-9]+):(\d+):(\d+)##$/m;
/** The line a start-after wait prints before its section: the step, the seconds waited for, the seconds reached. */
export const START_AFTER_PATTERN = /^##patchpilot-after:([A-Za-z0-9]+):(\d+):(\d+)##$/m;

/** The run command parameter that carries section `index`'s parameter `name`. */
export function sectionParameterName(index: number, name: string): string {
  return `S${index + 1}_${name}`;
}

function checkSections(sections: readonly BundleSection[], nonce: string): void {
  if (sections.length === 0) throw new Error("a bundle needs at least one section");
  if (!/^[A-Za-z0-9-]{8,64}$/.test(nonce)) throw new Error(`bundle nonce ${nonce} must be 8-64 letters, digits or '-'`);
  for (const s of sections) {
    if (!/^[A-Za-z0-9]+$/.test(s.step)) throw new Error(`bundle step ${s.step} must be letters and digits`);
    for (const p of s.parameters)
      if (!/^[A-Za-z][A-Za-z0-9]*$/.test(p.name)) throw new Error(`parameter ${p.name} of ${s.step}: not a plain name`);
    for (const [what, value] of [
      ["settle", s.settleUptimeSeconds],
      ["start-after", s.startAfterSeconds],
    ] as const)
      if (value !== undefined && !(Number.isInteger(value) && value >= 0 && value <= 86_400))
        throw new Error(`${what} of ${s.step}: ${value} is not a whole number of seconds within a day`);
  }
}

function headerOf(sections: readonly BundleSection[], nonce: string): string {
  const entry = (s: BundleSection): string =>
    `${s.step}=${s.script.id}@${s.script.version}${s.settleUptimeSeconds === undefined ? "" : `+settle${s.settleUptimeSeconds}`}${s.startAfterSeconds === undefined ? "" : `+after${s.startAfterSeconds}`}`;
  return `# patchpilot-bundle: ${sections.map(entry).join(" ")} nonce=${nonce}`;
}

function composeLinux(sections: readonly BundleSection[], nonce: string): string {
  const lines = [
    "#!/bin/bash",
    headerOf(sections, nonce),
    "# Composed by PatchPilot (lib/device/bundle.ts): each section is one device script, unchanged, run by its own bash",
    "# process with its own parameters; its stdout and stderr are delimited by section markers.",
    'if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi',
    "pp_section() {",
    "  local step=$1 file=$2 rc=0",
    "  shift 2",
    "  printf '##patchpilot-section:begin:%s##\\n' \"$step\"",
    "  printf '##patchpilot-section:begin:%s##\\n' \"$step\" >&2",
    '  env "$@" bash "$file" || rc=$?',
    '  printf \'\\n##patchpilot-section:end:%s:%d##\\n\' "$step" "$rc"',
    '  printf \'\\n##patchpilot-section:end:%s:%d##\\n\' "$step" "$rc" >&2',
    "}",
    "# Waits until the device has been up $2 seconds (the kernel's /proc/uptime), then says so before section $1.",
    "pp_settle() {",
    "  local up",
    "  while :; do",
    "    read -r up _ </proc/uptime",
    "    up=${up%%.*}",
    '    [ "$up" -ge "$2" ] && break',
    "    sleep $(( $2 - up ))",
    "  done",
    '  printf \'##patchpilot-settle:%s:%d:%d##\\n\' "$1" "$2" "$up"',
    "}",
    "# Waits until this command has been running $2 seconds (bash's SECONDS), then says so before section $1.",
    "pp_after() {",
    '  while [ "$SECONDS" -lt "$2" ]; do sleep $(( $2 - SECONDS )); done',
    '  printf \'##patchpilot-after:%s:%d:%d##\\n\' "$1" "$2" "$SECONDS"',
    "}",
    'PP_BUNDLE=$(mktemp -d "${TMPDIR:-/tmp}/patchpilot-bundle.XXXXXX")',
    "trap 'rm -rf -- \"$PP_BUNDLE\"' EXIT",
  ];
  sections.forEach((s, i) => {
    const delimiter = `PP_SECTION_${i + 1}_${nonce.replace(/-/g, "_")}`;
    const text = s.script.text.endsWith("\n") ? s.script.text : `${s.script.text}\n`;
    if (text.split("\n").includes(delimiter)) throw new Error(`script ${s.script.id} contains ${delimiter}`);
    lines.push(`cat > "$PP_BUNDLE/${i + 1}.sh" <<'${delimiter}'`, text + delimiter);
  });
  sections.forEach((s, i) => {
    const env = s.parameters.map((p) => `"${p.name}=\${${sectionParameterName(i, p.name)}-}"`).join(" ");
    if (s.startAfterSeconds !== undefined) lines.push(`pp_after ${s.step} ${s.startAfterSeconds}`);
    if (s.settleUptimeSeconds !== undefined) lines.push(`pp_settle ${s.step} ${s.settleUptimeSeconds}`);
    lines.push(`pp_section ${s.step} "$PP_BUNDLE/${i + 1}.sh"${env === "" ? "" : ` ${env}`}`);
  });
  lines.push(`printf '%s\\n' '${done(nonce)}'`, "");
  return lines.join("\n");
}

function composeWindows(sections: readonly BundleSection[], nonce: string): string {
  const names = sections.flatMap((s, i) => s.parameters.map((p) => sectionParameterName(i, p.name)));
  const lines = [
    headerOf(sections, nonce),
    "# Composed by PatchPilot (lib/device/bundle.ts): each section is one device script, unchanged, run in a fresh",
    "# runspace with its own parameters; its output and errors are delimited by section markers.",
    `param(${names.map((n) => `[string]$${n} = ''`).join(", ")})`,
    "$ErrorActionPreference = 'Continue'",
    "$PatchPilotClock = [System.Diagnostics.Stopwatch]::StartNew()",
    "function Invoke-PatchPilotSection([string]$Step, [string]$Text, [hashtable]$Parameters) {",
    "    [Console]::Out.Write(('##patchpilot-section:begin:{0}##' -f $Step) + \"`n\")",
    "    [Console]::Error.Write(('##patchpilot-section:begin:{0}##' -f $Step) + \"`n\")",
    "    $rc = 0",
    "    $ps = [powershell]::Create()",
    "    try {",
    "        [void]$ps.AddScript($Text)",
    "        foreach ($key in $Parameters.Keys) { [void]$ps.AddParameter($key, $Parameters[$key]) }",
    '        foreach ($item in $ps.Invoke()) { [Console]::Out.Write([string]$item + "`n") }',
    '        foreach ($e in $ps.Streams.Error) { [Console]::Error.Write([string]$e + "`n") }',
    "        if ($ps.HadErrors) { $rc = 1 }",
    "    } catch {",
    '        [Console]::Error.Write([string]$_ + "`n")',
    "        $rc = 1",
    "    } finally {",
    "        $ps.Dispose()",
    "    }",
    '    [Console]::Out.Write("`n" + (\'##patchpilot-section:end:{0}:{1}##\' -f $Step, $rc) + "`n")',
    '    [Console]::Error.Write("`n" + (\'##patchpilot-section:end:{0}:{1}##\' -f $Step, $rc) + "`n")',
    "}",
    "# Waits until the device has been up $Seconds (Get-Uptime on PowerShell 6.1+, the OS's boot time on 5.1).",
    "function Wait-PatchPilotUptime([string]$Step, [int]$Seconds) {",
    "    while ($true) {",
    "        if (Get-Command -Name Get-Uptime -ErrorAction SilentlyContinue) { $up = [int][Math]::Floor((Get-Uptime).TotalSeconds) }",
    "        else { $up = [int][Math]::Floor(((Get-Date) - (Get-CimInstance -ClassName Win32_OperatingSystem).LastBootUpTime).TotalSeconds) }",
    "        if ($up -ge $Seconds) { break }",
    "        Start-Sleep -Seconds ($Seconds - $up)",
    "    }",
    "    [Console]::Out.Write(('##patchpilot-settle:{0}:{1}:{2}##' -f $Step, $Seconds, $up) + \"`n\")",
    "}",
    "# Waits until this command has been running $Seconds, then says so before the section.",
    "function Wait-PatchPilotElapsed([string]$Step, [int]$Seconds) {",
    "    while ($PatchPilotClock.Elapsed.TotalSeconds -lt $Seconds) {",
    "        Start-Sleep -Milliseconds ([int][Math]::Ceiling(($Seconds - $PatchPilotClock.Elapsed.TotalSeconds) * 1000))",
    "    }",
    "    [Console]::Out.Write(('##patchpilot-after:{0}:{1}:{2}##' -f $Step, $Seconds, [int][Math]::Floor($PatchPilotClock.Elapsed.TotalSeconds)) + \"`n\")",
    "}",
  ];
  sections.forEach((s, i) => {
    const text = s.script.text.replace(/\r\n/g, "\n");
    if (/^'@/m.test(text)) throw new Error(`script ${s.script.id} has a line starting with '@ (ends a here-string)`);
    lines.push(`$PatchPilotSection${i + 1} = @'`, text.endsWith("\n") ? text.slice(0, -1) : text, "'@");
  });
  sections.forEach((s, i) => {
    const params = s.parameters.map((p) => `${p.name} = $${sectionParameterName(i, p.name)}`).join("; ");
    if (s.startAfterSeconds !== undefined) lines.push(`Wait-PatchPilotElapsed '${s.step}' ${s.startAfterSeconds}`);
    if (s.settleUptimeSeconds !== undefined) lines.push(`Wait-PatchPilotUptime '${s.step}' ${s.settleUptimeSeconds}`);
    lines.push(`Invoke-PatchPilotSection '${s.step}' $PatchPilotSection${i + 1} @{ ${params} }`);
  });
  lines.push(`[Console]::Out.Write('${done(nonce)}' + "\`n")`, "");
  return lines.join("\n");
}

/** Composes the sections into one run command: the scripts unchanged, each section's parameters prefixed. */
export function composeBundle(os: OsFamily, sections: readonly BundleSection[], nonce: string): Bundle {
  checkSections(sections, nonce);
  return {
    script: os === "linux" ? composeLinux(sections, nonce) : composeWindows(sections, nonce),
    parameters: sections.flatMap((s, i) =>
      s.parameters.map((p) => ({ name: sectionParameterName(i, p.name), value: p.value })),
    ),
  };
}

/** One section of a bundle's output: its text exactly as the script printed it, and its exit code when it ended. */
export interface OutputSection {
  text: string;
  /** Undefined when the section began but its end marker never came (timed out, cancelled, agent lost). */
  exitCode: number | undefined;
}

/** A bundle's output split by section; `complete` when the final marker of this execution's nonce is there. */
export interface SplitOutput {
  sections: ReadonlyMap<string, OutputSection>;
  complete: boolean;
}

/**
 * Splits a bundle's stdout (or stderr) into its sections. A section's text is exactly what its script printed;
 * text outside sections is ignored.
 */
export function splitBundleOutput(output: string, steps: readonly string[], nonce: string): SplitOutput {
  const sections = new Map<string, OutputSection>();
  const lines = output.replace(/\r\n/g, "\n").split("\n");
  let current: { step: string; lines: string[] } | undefined;
  let complete = false;
  for (const line of lines) {
    const end = END.exec(line);
    if (current !== undefined && end !== null && end[1] === current.step) {
      // The newline the bundle writes before the end marker is the line break consumed by the split.
      sections.set(current.step, { text: current.lines.join("\n"), exitCode: Number(end[2]) });
      current = undefined;
      continue;
    }
    const starting = steps.find((step) => line === begin(step));
    if (starting !== undefined) {
      if (current !== undefined) sections.set(current.step, { text: current.lines.join("\n"), exitCode: undefined });
      current = { step: starting, lines: [] };
      continue;
    }
    if (current === undefined && line === done(nonce)) {
      complete = true;
      continue;
    }
    current?.lines.push(line);
  }
  if (current !== undefined) sections.set(current.step, { text: current.lines.join("\n"), exitCode: undefined });
  return { sections, complete };
}
