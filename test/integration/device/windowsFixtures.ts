// What the Pester suites (test/pester) run the Windows scripts with: each script exactly as lib/device/registry.ts
// loads and hashes it, and every parameter case encoded by lib/device/parameters.ts (the PowerShell side never
// encodes anything itself). Test helper, not a test.
import path from "node:path";
import { encodeParameters, type RunCommandParameter, type ScriptParams } from "../../../lib/device/parameters";
import { loadDeviceScript, findScriptRoot } from "../../../lib/device/registry";
import { ScriptIdSchema, type ScriptId } from "../../../lib/schemas/device";
import type { Check } from "../../../lib/schemas/policies";
import { HOSTILE_STRINGS } from "../../../local/fleet/device/hostileStrings";

/** One named parameter case: the typed parameters and the Run Command list they encode to. */
interface ParameterCase {
  script: ScriptId;
  typed: unknown;
  encoded: RunCommandParameter[];
}

/** The fixtures file the Pester suites read ($env:PATCHPILOT_PESTER_FIXTURES). */
export interface PesterFixtures {
  scripts: Record<ScriptId, { file: string; text: string; sha256: string; version: string }>;
  params: Record<string, ParameterCase>;
  hostile: string[];
  marker: string;
  outputsDir: string;
  http: { base: string; closedPort: number; openPort: number };
}

/** Update ids the install and catalog suites use (WUA UpdateID GUIDs). */
export const UPDATE_IDS = {
  cumulative: "8d3e1f0a-3b5c-4c7e-9a43-2f6b1d0c9e11",
  dotnet: "2a7c5e9d-6f1b-4e3a-8c2d-9b0e4f6a1c22",
  defender: "e4b0c2d1-9a8f-4b7e-a6c5-d3e2f1a0b933",
  installed: "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e44",
  gone: "f0e1d2c3-b4a5-4968-8776-5a4b3c2d1e55",
} as const;

/** PowerShell (and cmd/bash) injections: each creates `marker` if anything ever evaluates the value. */
export function windowsPayloads(marker: string): string[] {
  return [
    `$(New-Item -ItemType File -Path '${marker}')`,
    `'; New-Item -ItemType File -Path '${marker}'; '`,
    `"; New-Item -ItemType File -Path "${marker}"; "`,
    `x\`; New-Item -ItemType File -Path ${marker}`,
    `@(New-Item -ItemType File -Path ${marker})`,
    `x & New-Item -ItemType File -Path ${marker}`,
    `x | New-Item -ItemType File -Path ${marker}`,
    `x\nNew-Item -ItemType File -Path ${marker}`,
    `x; touch ${marker}`,
    `$(touch ${marker})`,
    `-Comment x -DelaySeconds 0`,
    "/r /t 0 /f",
  ];
}

const b64 = (s: string): string => Buffer.from(s, "utf8").toString("base64");

function checkCase(app: string, check: Partial<Check> & Pick<Check, "type" | "name">): { app: string; check: Check } {
  return {
    app,
    check: { attempts: 1, settleSeconds: 0, timeoutSeconds: 2, ...check } as Check,
  };
}

/** Every named parameter case, encoded by the backend's encoder. */
export function parameterCases(http: PesterFixtures["http"]): Record<string, ParameterCase> {
  const cases: Record<string, ParameterCase> = {};
  const add = <Id extends ScriptId>(name: string, script: Id, typed: ScriptParams[Id]): void => {
    cases[name] = { script, typed, encoded: encodeParameters(script, typed) };
  };
  add("baseline", "baseline", {});
  // gates (issue 20): MSP probes run as child processes; the first line of stdout is the answer, the rest dropped.
  const ps = (name: string, script: string, timeoutSeconds = 60) => ({
    name,
    shell: "powershell" as const,
    script,
    timeoutSeconds,
  });
  add("gates.probes", "gates", {
    probes: [
      ps("backup", "(Get-Date).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ')\nWrite-Output 'password=hunter2'"),
      ps("custom.ok", "exit 0"),
      ps("custom.bad", "[Console]::Error.WriteLine('not ready')\nexit 3"),
      { name: "custom.bash", shell: "bash", script: "exit 0", timeoutSeconds: 5 },
    ],
  });
  add("gates.timeout", "gates", { probes: [ps("custom.hang", "Start-Sleep -Seconds 60", 2)] });
  add("gates.none", "gates", { probes: [] });
  // hooks (issue 20): a stop sequence (dependent first), a maintenance-mode script, the restart in reverse order.
  add("hooks.cycle", "hooks", {
    actions: [
      { kind: "stop", target: "W3SVC", timeoutSeconds: 5, script: "" },
      { kind: "stop", target: "MSSQLSERVER", timeoutSeconds: 5, script: "" },
      { kind: "script", target: "maintenance-on", timeoutSeconds: 60, script: "exit 0" },
      { kind: "start", target: "MSSQLSERVER", timeoutSeconds: 5, script: "" },
      { kind: "start", target: "W3SVC", timeoutSeconds: 5, script: "" },
    ],
  });
  add("hooks.wrongOrder", "hooks", {
    actions: [
      { kind: "stop", target: "MSSQLSERVER", timeoutSeconds: 1, script: "" },
      { kind: "stop", target: "Missing", timeoutSeconds: 1, script: "" },
      { kind: "script", target: "maintenance-on", timeoutSeconds: 60, script: "exit 7" },
    ],
  });
  add("catalog", "catalog", { simulate: false });
  add("catalog.simulate", "catalog", { simulate: true });
  add("catalog.drivers", "catalog", { simulate: false, includeDrivers: true });
  const ids = UPDATE_IDS;
  add("install.one", "install", { os: "windows", updateIds: [ids.cumulative] });
  add("install.three", "install", { os: "windows", updateIds: [ids.cumulative, ids.dotnet, ids.defender] });
  add("install.mixed", "install", {
    os: "windows",
    updateIds: [ids.installed, ids.cumulative, ids.gone, ids.dotnet.toUpperCase()],
  });
  add("install.max", "install", {
    os: "windows",
    updateIds: Array.from({ length: 200 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`),
  });
  add("uninstall.one", "uninstall", { os: "windows", kbs: ["KB5012346"] });
  add("uninstall.three", "uninstall", { os: "windows", kbs: ["KB5012346", "KB5034129", "KB5032198"] });
  add("uninstall.max", "uninstall", {
    os: "windows",
    kbs: Array.from({ length: 50 }, (_, i) => `KB${String(6000000 + i)}`),
  });
  add("reboot", "reboot", { delaySeconds: 60, comment: "PatchPilot run r20260120-6f1c2a9e (fabrikam/WIN-SERVER01)" });
  add("reboot.now", "reboot", { delaySeconds: 0, comment: "" });
  // Issue 22: the reboot section of an install's command, and the install that leaves its marker.
  add("reboot.marker", "reboot", { delaySeconds: 60, comment: "PatchPilot run r1", marker: "pp-0123456789abcdef0123" });
  add("install.marker", "install", {
    os: "windows",
    updateIds: [ids.cumulative],
    rebootMarker: "pp-0123456789abcdef0123",
  });
  add("reboot.max", "reboot", { delaySeconds: 600, comment: "a/b:c.d_e (f) -g ".repeat(12).slice(0, 200) });
  add("reboot.switches", "reboot", { delaySeconds: 5, comment: "/r /t 0 /f /a" });
  add("diagnostics", "diagnostics", { since: "2026-01-20T02:00:00Z", maxEvents: 100 });
  add("diagnostics.two", "diagnostics", { since: "2026-01-20T02:00:00Z", maxEvents: 2 });
  add("diagnostics.fraction", "diagnostics", { since: "2026-01-20T02:00:00.250Z", maxEvents: 500 });
  const health = `${http.base}/health`;
  add("validate.none", "validate", { checks: [] });
  add("validate.all", "validate", {
    checks: [
      checkCase("WebApp", { type: "http", name: "home", url: health, method: "GET", expectStatus: [200] }),
      checkCase("WebApp", {
        type: "http",
        name: "body",
        url: health,
        method: "GET",
        expectStatus: [200],
        bodyContains: "healthy",
      }),
      checkCase("WebApp", { type: "http", name: "head", url: health, method: "HEAD", expectStatus: [200, 204] }),
      checkCase("SQL", { type: "service", name: "engine", serviceName: "MSSQLSERVER", expectState: "Running" }),
      checkCase("SQL", { type: "service", name: "agent-off", serviceName: "SQLSERVERAGENT", expectState: "Stopped" }),
      checkCase("SQL", { type: "tcp", name: "port", host: "127.0.0.1", port: http.openPort }),
      checkCase("SQL", { type: "process", name: "sqlservr", processName: "sqlservr.exe", minCount: 1 }),
      checkCase("OS", {
        type: "eventlog",
        name: "no-crashes",
        logName: "Application",
        source: "Application Error",
        eventIds: [1000],
        level: "Error",
        lookbackMinutes: 60,
        maxCount: 0,
      }),
    ],
  });
  add("validate.failing", "validate", {
    checks: [
      checkCase("WebApp", { type: "http", name: "down", url: `${http.base}/down`, expectStatus: [200], attempts: 3 }),
      checkCase("WebApp", { type: "http", name: "text", url: health, expectStatus: [200], bodyContains: "absent" }),
      checkCase("WebApp", { type: "http", name: "moved", url: `${http.base}/moved`, expectStatus: [200] }),
      checkCase("SQL", { type: "service", name: "engine", serviceName: "MSSQLSERVER", expectState: "Running" }),
      checkCase("SQL", { type: "service", name: "missing", serviceName: "NoSuchService", expectState: "Running" }),
      checkCase("SQL", { type: "tcp", name: "closed", host: "127.0.0.1", port: http.closedPort }),
      checkCase("SQL", { type: "process", name: "two", processName: "sqlservr", minCount: 2 }),
      checkCase("OS", { type: "eventlog", name: "crashes", logName: "Application", level: "Error", maxCount: 0 }),
      checkCase("OS", { type: "script", name: "bash", shell: "bash", script: "exit 0", expectExitCode: 0 }),
    ],
  });
  add("validate.timeout", "validate", {
    checks: [
      checkCase("WebApp", { type: "http", name: "hangs", url: `${http.base}/hang`, timeoutSeconds: 1, attempts: 2 }),
    ],
  });
  add("validate.settle", "validate", {
    checks: [
      checkCase("SQL", { type: "service", name: "engine", serviceName: "MSSQLSERVER", settleSeconds: 90, attempts: 3 }),
    ],
  });
  add("validate.unicode", "validate", {
    checks: [
      checkCase("Zahlungsdienst Größe ✓ 中文", {
        type: "service",
        name: "Dienst läuft 😀",
        serviceName: "Spooler-ü",
        expectState: "Running",
      }),
    ],
  });
  add("validate.hostileNames", "validate", {
    checks: HOSTILE_STRINGS.map((s, i) =>
      checkCase(s.slice(0, 100), { type: "service", name: `${i}:${s}`.slice(0, 100), serviceName: "W3SVC" }),
    ),
  });
  add("validate.many", "validate", {
    checks: Array.from({ length: 100 }, (_, i) =>
      checkCase(`App${i % 7}`, { type: "service", name: `service-check-${i}`, serviceName: `Svc${i}`, attempts: 2 }),
    ),
  });
  add("validate.bigCounts", "validate", {
    checks: [
      checkCase("SQL", { type: "process", name: "workers", processName: "w3wp", minCount: 1_000_000 }),
      checkCase("OS", { type: "eventlog", name: "noisy", logName: "System", level: "Warning", maxCount: 2_000_000 }),
    ],
  });
  return cases;
}

/** A raw Checks value built record by record (for values the encoder would never produce). */
export function rawChecks(...records: string[][]): string {
  return records.map((fields) => fields.map(b64).join(".")).join(",");
}

/** The fixtures for one Pester run. */
export function buildFixtures(options: {
  marker: string;
  outputsDir: string;
  http: PesterFixtures["http"];
}): PesterFixtures {
  const root = findScriptRoot();
  const scripts = {} as PesterFixtures["scripts"];
  for (const id of ScriptIdSchema.options) {
    const script = loadDeviceScript(root, id, "windows");
    scripts[id] = {
      file: path.join(root, script.file),
      text: script.text,
      sha256: script.sha256,
      version: script.version,
    };
  }
  const params = parameterCases(options.http);
  // Raw lists the encoder refuses to produce; the scripts must refuse them too.
  params["validate.upperType"] = {
    script: "validate",
    typed: null,
    encoded: [
      {
        name: "Checks",
        value: rawChecks(["SQL", "port", "TCP", "1", "0", "2", "127.0.0.1", String(options.http.openPort)]),
      },
    ],
  };
  return {
    scripts,
    params,
    hostile: [...HOSTILE_STRINGS, ...windowsPayloads(options.marker)],
    marker: options.marker,
    outputsDir: options.outputsDir,
    http: options.http,
  };
}
