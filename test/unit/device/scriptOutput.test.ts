import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { mapApplicableUpdate, mapClassification, mapSeverity } from "../../../lib/device/mapCatalog";
import { parseScriptOutput } from "../../../lib/device/parseScriptOutput";
import {
  findScriptRoot,
  getDeviceScript,
  hashScript,
  loadDeviceScript,
  loadDeviceScripts,
} from "../../../lib/device/registry";
import { SCRIPT_OUTPUT_SCHEMAS, ScriptIdSchema } from "../../../lib/schemas/device";

const rebootDoc = {
  schemaVersion: 1,
  scriptId: "reboot",
  scriptVersion: "1.0.0",
  data: {
    bootTimeBefore: "2026-01-20T01:00:00Z",
    scheduledAt: "2026-01-20T02:00:00Z",
    delaySeconds: 60,
    method: "shutdown",
    scheduled: true,
  },
  errors: [],
};
const expected = { id: "reboot", version: "1.0.0" } as const;

describe("parseScriptOutput", () => {
  it("returns the typed document", () => {
    const parsed = parseScriptOutput(`${JSON.stringify(rebootDoc)}\n`, expected);
    expect(parsed).toEqual({ ok: true, output: rebootDoc });
  });

  it("reads the last line when something printed before the document", () => {
    const parsed = parseScriptOutput(`\uFEFFWARNING: something\r\n${JSON.stringify(rebootDoc)}\r\n`, expected);
    expect(parsed.ok).toBe(true);
  });

  it.each([
    ["empty", "  \n"],
    ["invalid-json", '{"schemaVersion":1,'],
    ["schema-invalid", "[1,2]"],
    ["wrong-script", JSON.stringify({ ...rebootDoc, scriptId: "install" })],
    ["wrong-version", JSON.stringify({ ...rebootDoc, scriptVersion: "1.0.1" })],
    ["schema-invalid", JSON.stringify({ ...rebootDoc, data: { ...rebootDoc.data, delaySeconds: -1 } })],
    ["schema-invalid", JSON.stringify({ ...rebootDoc, errors: [{ section: "", message: "x" }] })],
  ])("reports %s without throwing", (kind, stdout) => {
    const parsed = parseScriptOutput(stdout, expected);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.failure.kind).toBe(kind);
  });

  it("bounds the failure message and never repeats the raw output", () => {
    const parsed = parseScriptOutput(`secret-${"x".repeat(10_000)}`, expected);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.failure.message.length).toBeLessThanOrEqual(2003);
      expect(parsed.failure.message).not.toContain("secret");
    }
  });
});

describe("device script registry", () => {
  const scripts = loadDeviceScripts();

  it("registers every script for both OSes with its header version, hash, schema and timeout", () => {
    expect(scripts.size).toBe(ScriptIdSchema.options.length * 2);
    for (const script of scripts.values()) {
      const text = readFileSync(path.join(findScriptRoot(), script.file), "utf8");
      expect(script.text).toBe(text);
      expect(script.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(script.sha256).toBe(hashScript(text));
      expect(script.version).toBe("1.0.0");
      expect(script.outputSchema).toBe(SCRIPT_OUTPUT_SCHEMAS[script.id]);
      expect(script.timeoutSeconds).toBeGreaterThanOrEqual(60);
    }
    expect(getDeviceScript("install", "linux").file).toBe("linux/install.sh");
    expect(getDeviceScript("install", "windows").sha256).not.toBe(getDeviceScript("install", "linux").sha256);
  });

  it("refuses a missing file and a file whose header names another script", () => {
    const root = mkdtempSync(path.join(os.tmpdir(), "patchpilot-registry-"));
    try {
      expect(() => loadDeviceScript(root, "install", "linux")).toThrow(/missing/);
      mkdirSync(path.join(root, "linux"));
      writeFileSync(path.join(root, "linux", "install.sh"), "#!/bin/bash\n# patchpilot-script: baseline@1.0.0\n");
      expect(() => loadDeviceScript(root, "install", "linux")).toThrow(/header names baseline, expected install/);
      writeFileSync(path.join(root, "linux", "install.sh"), "#!/bin/bash\necho hi\n");
      expect(() => loadDeviceScript(root, "install", "linux")).toThrow(/no `# patchpilot-script/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("hashes the exact text: one changed byte is a different script", () => {
    expect(hashScript("a\n")).not.toBe(hashScript("a\r\n"));
    expect(hashScript("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });
});

describe("catalog mapping", () => {
  it.each([
    ["Security Updates", "Security"],
    ["Critical Updates", "Critical"],
    ["Update Rollups", "UpdateRollup"],
    ["Feature Packs", "FeaturePack"],
    ["Service Packs", "ServicePack"],
    ["Definition Updates", "Definition"],
    ["Tools", "Tools"],
    ["Updates", "Updates"],
    ["Drivers", "Driver"],
    [" security updates ", "Security"],
    ["Upgrades", "Other"],
    ["Sicherheitsupdates", "Other"],
    ["", "Other"],
  ] as const)("maps WUA %j to %s", (raw, policy) => {
    expect(mapClassification(raw, "windows")).toBe(policy);
  });

  it("maps Linux origins: Security stays Security, anything else is Other", () => {
    expect(mapClassification("Security", "linux")).toBe("Security");
    expect(mapClassification("Other", "linux")).toBe("Other");
    expect(mapClassification("Security Updates", "linux")).toBe("Other");
  });

  it("maps MSRC severities and treats missing or unknown ones as Unspecified", () => {
    expect(["Critical", "Important", "Moderate", "Low", "important"].map(mapSeverity)).toEqual([
      "Critical",
      "Important",
      "Moderate",
      "Low",
      "Important",
    ]);
    expect([null, undefined, "", "Unspecified", "High"].map(mapSeverity)).toEqual(Array(5).fill("Unspecified"));
  });

  it("keeps the raw terms beside the policy ones", () => {
    const update = {
      updateId: "openssl",
      title: "openssl 3",
      classification: "Security",
      severity: null,
      releaseDate: null,
      rebootBehavior: "NeverReboots" as const,
    };
    expect(mapApplicableUpdate(update, "linux")).toEqual({
      ...update,
      policyClassification: "Security",
      policySeverity: "Unspecified",
    });
  });
});
