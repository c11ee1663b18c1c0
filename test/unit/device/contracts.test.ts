import { formatScriptHeader, parseScriptHeader } from "../../../lib/device/header";
import {
  decodeChecks,
  decodeParameters,
  encodeChecks,
  encodeParameters,
  ScriptParameterError,
} from "../../../lib/device/parameters";
import { CheckSchema } from "../../../lib/schemas/policies";
import { BaselineOutputSchema, SCRIPT_OUTPUT_SCHEMAS } from "../../../lib/schemas/device";

describe("script header", () => {
  it("reads the header from line 1, or line 2 after a shebang", () => {
    expect(parseScriptHeader("# patchpilot-script: baseline@1.2.3\r\nparam()")).toEqual({
      id: "baseline",
      version: "1.2.3",
    });
    expect(parseScriptHeader("#!/usr/bin/env bash\n# patchpilot-script: install@2.0.0\n")).toEqual({
      id: "install",
      version: "2.0.0",
    });
  });
  it("refuses texts that are not PatchPilot scripts", () => {
    expect(parseScriptHeader("echo hi\n# patchpilot-script: baseline@1.0.0")).toBeUndefined();
    expect(parseScriptHeader("# patchpilot-script: rm-rf@1.0.0")).toBeUndefined();
    expect(parseScriptHeader("# patchpilot-script: baseline@1.0")).toBeUndefined();
  });
  it("formats what it parses", () => {
    expect(parseScriptHeader(formatScriptHeader({ id: "validate", version: "1.0.0" }))).toEqual({
      id: "validate",
      version: "1.0.0",
    });
  });
});

describe("script parameters", () => {
  const checks = [
    {
      app: "Shop, Web.",
      check: CheckSchema.parse({
        type: "http",
        name: "home",
        url: "https://shop.local/health?a=1&b=2",
        bodyContains: "OK",
      }),
    },
    { app: "SQL", check: CheckSchema.parse({ type: "service", name: "svc", serviceName: "MSSQL$PROD" }) },
    { app: "SQL", check: CheckSchema.parse({ type: "tcp", name: "port", host: "127.0.0.1", port: 1433 }) },
    {
      app: "Ops",
      check: CheckSchema.parse({
        type: "script",
        name: "s",
        shell: "bash",
        script: "test \"$(id -u)\" = 0 && echo '$x'\n",
      }),
    },
    { app: "Ops", check: CheckSchema.parse({ type: "eventlog", name: "ev", logName: "System", eventIds: [41, 6008] }) },
    { app: "Ops", check: CheckSchema.parse({ type: "process", name: "p", processName: "nginx", minCount: 2 }) },
  ];

  it("round-trips every check type through the Checks string, whose separators never appear inside a field", () => {
    const encoded = encodeChecks(checks);
    expect(encoded.split(",")).toHaveLength(checks.length);
    expect(encoded).toMatch(/^[A-Za-z0-9+/=.,]*$/);
    expect(decodeChecks(encoded)).toEqual(checks);
  });

  it("round-trips each script's parameters", () => {
    const install = { os: "linux" as const, packages: [{ name: "openssl", version: "3.0.15-1~deb12u1" }] };
    expect(encodeParameters("install", install)).toEqual([{ name: "UpdateIds", value: "openssl=3.0.15-1~deb12u1" }]);
    expect(decodeParameters("install", "linux", encodeParameters("install", install))).toEqual(install);
    const reboot = { delaySeconds: 60, comment: "PatchPilot run abc-123" };
    expect(decodeParameters("reboot", "windows", encodeParameters("reboot", reboot))).toEqual(reboot);
    const diag = { since: "2026-01-20T02:00:00Z", maxEvents: 50 };
    expect(decodeParameters("diagnostics", "linux", encodeParameters("diagnostics", diag))).toEqual(diag);
    expect(decodeParameters("catalog", "linux", encodeParameters("catalog", { simulate: true }))).toEqual({
      simulate: true,
      includeDrivers: false,
    });
    // Drivers are a policy choice sent only when chosen, so the parameter list of every other run is unchanged.
    expect(encodeParameters("catalog", { simulate: false })).toEqual([{ name: "Simulate", value: "false" }]);
    const drivers = encodeParameters("catalog", { simulate: false, includeDrivers: true });
    expect(drivers).toEqual([
      { name: "Simulate", value: "false" },
      { name: "IncludeDrivers", value: "true" },
    ]);
    expect(decodeParameters("catalog", "windows", drivers)).toEqual({ simulate: false, includeDrivers: true });
  });

  it("refuses hostile values on the backend side before they are sent", () => {
    expect(() => encodeParameters("reboot", { delaySeconds: 5, comment: "x'; shutdown -a; '" })).toThrow(/plain text/);
    expect(() => encodeParameters("install", { os: "windows", updateIds: ["$(calc)"] })).toThrow(/GUID/);
  });

  it("names the parameter a decoded list gets wrong", () => {
    expect(() => decodeParameters("install", "linux", [{ name: "UpdateIds", value: "openssl=1;rm -rf /" }])).toThrow(
      ScriptParameterError,
    );
    expect(() => decodeParameters("reboot", "linux", [{ name: "Comment", value: "x" }])).toThrow(
      /DelaySeconds: missing/,
    );
    expect(() => decodeParameters("catalog", "linux", [{ name: "Simulate", value: "yes" }])).toThrow(
      /Simulate: must be true or false/,
    );
  });
});

describe("output contracts", () => {
  it("has one schema per script, each pinned to its script id", () => {
    expect(Object.keys(SCRIPT_OUTPUT_SCHEMAS).sort()).toEqual([
      "baseline",
      "catalog",
      "diagnostics",
      "gates",
      "hooks",
      "install",
      "reboot",
      "uninstall",
      "validate",
    ]);
    const doc = {
      schemaVersion: 1,
      scriptId: "baseline",
      scriptVersion: "1.0.0",
      data: {
        capturedAt: "2026-01-20T02:00:00Z",
        os: null,
        installedUpdates: null,
        updateHistory: null,
        services: null,
        drivers: [],
        apps: null,
        pendingReboot: null,
        lastBootTime: null,
        disks: null,
      },
      errors: [{ section: "services", message: "systemctl not found", code: "not-available" }],
    };
    expect(BaselineOutputSchema.safeParse(doc).success).toBe(true);
    expect(SCRIPT_OUTPUT_SCHEMAS.catalog.safeParse({ ...doc, scriptId: "catalog" }).success).toBe(false);
    expect(BaselineOutputSchema.safeParse({ ...doc, scriptId: "install" }).success).toBe(false);
  });
});
