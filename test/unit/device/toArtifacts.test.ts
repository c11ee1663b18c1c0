import {
  ARTIFACTS,
  parseArtifact,
  transcriptPath,
  type ArtifactSpec,
  type PhaseKey,
} from "../../../lib/domain/artifacts";
import { DEFAULT_GLOBAL_POLICY } from "../../../lib/domain/policy/defaultPolicy";
import { resolveEffectivePolicy } from "../../../lib/domain/policy/overlay";
import { diffSnapshots } from "../../../lib/domain/snapshot/diffSnapshots";
import { detectRegressions } from "../../../lib/domain/validation/detectRegressions";
import { encodeParameters, type ScriptParams } from "../../../lib/device/parameters";
import { getDeviceScript } from "../../../lib/device/registry";
import {
  approvedInstallParams,
  toCatalog,
  toDiagnostics,
  toInstallOutcomes,
  toSystemSnapshot,
  toValidationReport,
} from "../../../lib/device/toArtifacts";
import { canonicalJsonBytes, canonicalJsonLinesBytes } from "../../../lib/evidence/canonicalJson";
import { BaselineDiffSchema } from "../../../lib/schemas/artifacts/snapshot";
import { RegressionsSchema } from "../../../lib/schemas/artifacts/validation";
import type { CatalogEntry } from "../../../lib/schemas/artifacts/catalog";
import type { ScriptSource } from "../../../lib/schemas/artifacts/source";
import {
  SCRIPT_OUTPUT_SCHEMAS,
  type ApplicableUpdate,
  type BaselineOutput,
  type CatalogOutput,
  type DiagnosticsOutput,
  type InstallOutput,
  type ScriptId,
  type ScriptOutput,
  type ValidateOutput,
} from "../../../lib/schemas/device";
import type { UpdatePolicy } from "../../../lib/schemas/policies";
import type { SimulatedServer } from "../../../local/fleet/device/simulatedServer";
import { HOSTILE_STRINGS } from "../../../local/fleet/device/hostileStrings";
import { buildFleet } from "../../../local/fleet/scenario/buildFleet";
import { readScenarioFile } from "../../../local/fleet/scenario/parseScenario";
import type { Scenario } from "../../../local/fleet/scenario/scenarioSchema";
import { after, fixedClock, smallFleet, T0 } from "../../fixtures/fleet/scenarios";

const SHA = "a".repeat(64);
const source = (scriptId: ScriptId, runCommandName = `pp-${scriptId}-1`): ScriptSource => ({
  scriptId,
  scriptVersion: "1.0.0",
  scriptSha256: SHA,
  runCommandName,
  transcript: `xx/transcripts/${runCommandName}.stdout.txt`,
});

/** Stores the value as the evidence layer would (canonical JSON), reads it back with the artifact's schema, and
 * demands nothing was lost or stripped on the way. */
function expectStorable(spec: ArtifactSpec, value: unknown): void {
  const bytes = spec.format === "jsonl" ? canonicalJsonLinesBytes(value as unknown[]) : canonicalJsonBytes(value);
  const parsed = parseArtifact(spec, bytes);
  if (!parsed.ok) throw new Error(`${spec.path}: ${parsed.problem}`);
  expect(parsed.value).toEqual(value);
}

const POLICY: UpdatePolicy = {
  schemaVersion: 1,
  ...(DEFAULT_GLOBAL_POLICY.update as Omit<UpdatePolicy, "schemaVersion">),
};

// ---------------------------------------------------------------------------------------------
// Hand-built documents
// ---------------------------------------------------------------------------------------------

function baselineDoc(
  edit: (d: BaselineOutput["data"]) => void = () => undefined,
  errors: BaselineOutput["errors"] = [],
): BaselineOutput {
  const data: BaselineOutput["data"] = {
    capturedAt: "2026-01-20T02:00:20Z",
    os: {
      family: "windows",
      name: "Microsoft Windows Server 2022 Standard",
      version: "10.0.20348",
      build: "20348.2340",
    },
    installedUpdates: [{ id: "KB5010001", kb: "KB5010001", installedOn: "2025-12-10" }],
    updateHistory: [
      {
        kb: "KB5010001",
        title: "2025-12 Cumulative Update (KB5010001)",
        date: "2025-12-10T03:00:00Z",
        operation: "Installation",
        resultCode: 2,
      },
    ],
    services: [{ name: "W3SVC", state: "Running", startType: "Automatic" }],
    drivers: [{ name: "storahci", version: "10.0.20348.1", provider: "Microsoft" }],
    apps: [{ name: "IIS", version: "10.0", publisher: "Microsoft" }],
    pendingReboot: { pending: false, signals: [] },
    lastBootTime: "2026-01-12T04:00:00Z",
    disks: [{ mount: "C:", freeBytes: 40_000_000_000, totalBytes: 128_000_000_000 }],
  };
  edit(data);
  return SCRIPT_OUTPUT_SCHEMAS.baseline.parse({
    schemaVersion: 1,
    scriptId: "baseline",
    scriptVersion: "1.0.0",
    data,
    errors,
  });
}

const rawWin = (over: Partial<ApplicableUpdate> & { updateId: string }): ApplicableUpdate => ({
  title: `Update ${over.updateId}`,
  classification: "Security Updates",
  severity: "Important",
  releaseDate: "2026-01-13T18:00:00Z",
  rebootBehavior: "CanRequestReboot" as const,
  ...over,
});

const GUID = (n: number): string => `5c1e000${n}-2026-4a01-9c1d-00000000000${n}`;

function catalogDoc(updates: CatalogOutput["data"]["updates"], errors: CatalogOutput["errors"] = []): CatalogOutput {
  return SCRIPT_OUTPUT_SCHEMAS.catalog.parse({
    schemaVersion: 1,
    scriptId: "catalog",
    scriptVersion: "1.0.0",
    data: { searchedAt: "2026-01-20T02:01:00Z", agent: "wua", simulate: false, updates },
    errors,
  });
}

function installDoc(results: InstallOutput["data"]["results"], errors: InstallOutput["errors"] = []): InstallOutput {
  return SCRIPT_OUTPUT_SCHEMAS.install.parse({
    schemaVersion: 1,
    scriptId: "install",
    scriptVersion: "1.0.0",
    data: { startedAt: "2026-01-20T02:05:00Z", finishedAt: "2026-01-20T02:20:00Z", results, rebootRequired: true },
    errors,
  });
}

function diagnosticsDoc(
  edit: (d: DiagnosticsOutput["data"]) => void = () => undefined,
  errors: DiagnosticsOutput["errors"] = [],
): DiagnosticsOutput {
  const data: DiagnosticsOutput["data"] = {
    collectedAt: "2026-01-20T03:00:00Z",
    eventLogErrors: [
      {
        log: "System",
        source: "Service Control Manager",
        id: 7031,
        level: "Error",
        time: "2026-01-20T02:30:00Z",
        message: "W3SVC terminated",
      },
    ],
    updateAgentErrors: [{ time: "2026-01-20T02:10:00Z", hresult: -2146498530, message: "Installation Failure" }],
    disks: [{ mount: "C:", freeBytes: 39_000_000_000, totalBytes: 128_000_000_000 }],
  };
  edit(data);
  return SCRIPT_OUTPUT_SCHEMAS.diagnostics.parse({
    schemaVersion: 1,
    scriptId: "diagnostics",
    scriptVersion: "1.0.0",
    data,
    errors,
  });
}

const entry = (over: Partial<CatalogEntry> & { updateId: string }): CatalogEntry => ({
  title: `Update ${over.updateId}`,
  classification: "Security",
  severity: "Important",
  releaseDate: "2026-01-13T18:00:00Z",
  rebootBehavior: "CanRequestReboot",
  decision: "approved",
  reason: "test",
  ...over,
});

// ---------------------------------------------------------------------------------------------
// Snapshot
// ---------------------------------------------------------------------------------------------

describe("toSystemSnapshot", () => {
  it("keeps every fact and records the source and an empty error list", () => {
    const out = baselineDoc();
    const result = toSystemSnapshot(out, source("baseline"));
    if (!result.ok) throw new Error(result.reason);
    expect(result.value).toMatchObject({
      capturedAt: out.data.capturedAt,
      os: out.data.os,
      lastBootTime: out.data.lastBootTime,
      collectionErrors: [],
    });
    expect(result.value.source).toEqual(source("baseline"));
    expectStorable(ARTIFACTS.baseline, result.value);
  });

  it("turns null list sections into [] and keeps why in collectionErrors", () => {
    const errors = [
      { section: "services", message: "Get-CimInstance : Access denied", code: "0x80070005" },
      { section: "apps", message: "registry hive unreadable" },
    ];
    const out = baselineDoc((d) => {
      d.services = null;
      d.apps = null;
      d.installedUpdates = null;
      d.updateHistory = null;
      d.drivers = null;
      d.disks = null;
    }, errors);
    const result = toSystemSnapshot(out, source("baseline"));
    if (!result.ok) throw new Error(result.reason);
    expect(result.value).toMatchObject({
      services: [],
      apps: [],
      installedUpdates: [],
      updateHistory: [],
      drivers: [],
      disks: [],
    });
    expect(result.value.collectionErrors).toEqual(errors);
    expectStorable(ARTIFACTS.snapshot, result.value);
  });

  it.each([["os"], ["lastBootTime"], ["pendingReboot"]] as const)(
    "cannot stand without %s, and says why",
    (section) => {
      const out = baselineDoc(
        (d) => {
          d[section] = null;
        },
        [{ section, message: "WMI repository is corrupt", code: "0x8004100E" }],
      );
      const result = toSystemSnapshot(out, source("baseline"));
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.reason).toContain(section);
      expect(result.reason).toContain("WMI repository is corrupt");
    },
  );

  it("names a null section the script gave no reason for", () => {
    const result = toSystemSnapshot(
      baselineDoc((d) => {
        d.os = null;
        d.lastBootTime = null;
      }),
      source("baseline"),
    );
    expect(result).toEqual({
      ok: false,
      reason: "baseline cannot stand without os (no reason given); lastBootTime (no reason given)",
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

describe("toValidationReport", () => {
  it("keeps every check with every attempt, for either stage", () => {
    const out: ValidateOutput = SCRIPT_OUTPUT_SCHEMAS.validate.parse({
      schemaVersion: 1,
      scriptId: "validate",
      scriptVersion: "1.0.0",
      data: {
        startedAt: "2026-01-20T02:02:00Z",
        finishedAt: "2026-01-20T02:02:30Z",
        results: [
          {
            app: "WebApp",
            check: "home",
            type: "http",
            success: true,
            attempts: [
              { at: "2026-01-20T02:02:01Z", success: false, detail: "503" },
              { at: "2026-01-20T02:02:11Z", success: true, detail: "200" },
            ],
          },
        ],
      },
      errors: [],
    });
    for (const stage of ["pre", "post"] as const) {
      const report = toValidationReport(out, stage, source("validate"));
      expect(report).toMatchObject({ stage, startedAt: "2026-01-20T02:02:00Z", results: out.data.results });
      expectStorable(stage === "pre" ? ARTIFACTS.preValidation : ARTIFACTS.postValidation, report);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Catalog
// ---------------------------------------------------------------------------------------------

describe("toCatalog", () => {
  const evaluatedAt = new Date("2026-01-20T02:01:30Z");

  it("maps agent terms to policy terms and lets the policy decide each entry, with its reason", () => {
    const out = catalogDoc([
      rawWin({ updateId: GUID(1), kb: "KB5012345", severity: "Critical", revision: 201, sizeBytes: 734003200 }),
      rawWin({ updateId: GUID(2), kb: "KB5012346" }),
      rawWin({ updateId: GUID(3), kb: "KB5012347", releaseDate: "2026-01-19T00:00:00Z" }),
      rawWin({ updateId: GUID(4), kb: "KB5012348", classification: "Drivers", severity: null }),
      rawWin({ updateId: GUID(5), kb: "KB5012349", classification: "Feature Packs", severity: "" }),
      rawWin({ updateId: GUID(6), kb: "KB5012350", classification: "Upgrades", releaseDate: null }),
    ]);
    const policy: UpdatePolicy = {
      ...POLICY,
      deferralDays: 3,
      excludeKbs: ["KB5012346"],
      includeKbs: ["KB5012349"],
      classifications: ["Security", "Other"],
    };
    const result = toCatalog(out, "windows", policy, evaluatedAt, source("catalog"));
    if (!result.ok) throw new Error(result.reason);
    const byKb = new Map(result.value.updates.map((u) => [u.kb, u]));
    expect(byKb.get("KB5012345")).toMatchObject({
      decision: "approved",
      classification: "Security",
      severity: "Critical",
      revision: 201,
      sizeBytes: 734003200,
    });
    expect(byKb.get("KB5012346")).toMatchObject({ decision: "excluded", reason: "KB5012346 is in excludeKbs" });
    expect(byKb.get("KB5012347")).toMatchObject({
      decision: "excluded",
      reason: expect.stringContaining("deferred until 2026-01-22") as string,
    });
    expect(byKb.get("KB5012348")).toMatchObject({
      decision: "excluded",
      classification: "Driver",
      severity: "Unspecified",
    });
    expect(byKb.get("KB5012349")).toMatchObject({
      decision: "approved",
      classification: "FeaturePack",
      reason: expect.stringContaining("includeKbs") as string,
    });
    expect(byKb.get("KB5012350")).toMatchObject({
      decision: "approved",
      classification: "Other",
      releaseDate: null,
      reason: expect.stringContaining("release date unknown") as string,
    });
    expect(result.value.evaluatedAt).toBe("2026-01-20T02:01:30.000Z");
    expect(result.value.updates.map((u) => u.updateId)).toEqual([1, 2, 3, 4, 5, 6].map(GUID));
    expectStorable(ARTIFACTS.catalog, result.value);

    expect(approvedInstallParams(result.value, "windows")).toEqual({
      os: "windows",
      updateIds: [GUID(1), GUID(5), GUID(6)],
    });
  });

  it("pins Linux packages to the candidate version, honours excludePackages, drops raw-only fields", () => {
    const out = SCRIPT_OUTPUT_SCHEMAS.catalog.parse({
      schemaVersion: 1,
      scriptId: "catalog",
      scriptVersion: "1.0.0",
      data: {
        searchedAt: "2026-01-20T02:01:00Z",
        agent: "apt",
        simulate: true,
        updates: [
          {
            updateId: "openssl",
            title: "openssl",
            classification: "Security",
            severity: null,
            releaseDate: null,
            currentVersion: "3.0.2-0ubuntu1.15",
            version: "3.0.2-0ubuntu1.19",
            source: "Ubuntu:22.04/jammy-security",
            rebootBehavior: "NeverReboots",
          },
          {
            updateId: "linux-image-generic",
            title: "linux-image-generic",
            classification: "Security",
            severity: null,
            releaseDate: null,
            currentVersion: null,
            version: "5.15.0.130.130",
            rebootBehavior: "CanRequestReboot",
          },
          {
            updateId: "vim",
            title: "vim",
            classification: "Other",
            severity: null,
            releaseDate: null,
            version: "2:8.2.3995-1ubuntu2.21",
            rebootBehavior: "NeverReboots",
          },
          {
            updateId: "nodeless",
            title: "no candidate",
            classification: "Security",
            severity: null,
            releaseDate: null,
            rebootBehavior: "NeverReboots",
          },
        ],
      },
      errors: [],
    });
    const policy: UpdatePolicy = { ...POLICY, excludePackages: ["linux-image-generic"] };
    const result = toCatalog(out, "linux", policy, evaluatedAt, source("catalog"));
    if (!result.ok) throw new Error(result.reason);
    const [openssl, kernel, vim, noVersion] = result.value.updates;
    expect(openssl).toMatchObject({
      decision: "approved",
      classification: "Security",
      severity: "Unspecified",
      version: "3.0.2-0ubuntu1.19",
    });
    expect(openssl).not.toHaveProperty("currentVersion");
    expect(openssl).not.toHaveProperty("source");
    expect(kernel).toMatchObject({ decision: "excluded", reason: "package linux-image-generic is in excludePackages" });
    expect(vim).toMatchObject({ decision: "excluded", classification: "Other" });
    // Approved by policy, but the install script could not be asked for it without a version: excluded, and why.
    expect(noVersion).toMatchObject({
      decision: "excluded",
      reason: expect.stringMatching(
        /^not installable: .*no candidate version.*policy said: classification Security/,
      ) as string,
    });
    expectStorable(ARTIFACTS.catalog, result.value);
    expect(approvedInstallParams(result.value, "linux")).toEqual({
      os: "linux",
      packages: [{ name: "openssl", version: "3.0.2-0ubuntu1.19" }],
    });
  });

  it("never approves a Windows id the install script would refuse", () => {
    const result = toCatalog(
      catalogDoc([rawWin({ updateId: "$(Invoke-Expression calc)", kb: "KB5012345" })]),
      "windows",
      POLICY,
      evaluatedAt,
      source("catalog"),
    );
    if (!result.ok) throw new Error(result.reason);
    expect(result.value.updates[0]).toMatchObject({
      decision: "excluded",
      reason: expect.stringContaining("not a WUA update id") as string,
    });
    expect(approvedInstallParams(result.value, "windows")).toBeUndefined();
  });

  it("refuses a catalog without an update list (an empty one would say there is nothing to install)", () => {
    const out = catalogDoc(null, [{ section: "updates", message: "WUA search failed", code: "0x8024402C" }]);
    expect(toCatalog(out, "windows", POLICY, evaluatedAt, source("catalog"))).toEqual({
      ok: false,
      reason: "catalog has no update list: updates (WUA search failed [0x8024402C])",
    });
  });

  it("keeps an empty list as an empty catalog, with nothing to install", () => {
    const result = toCatalog(catalogDoc([]), "windows", POLICY, evaluatedAt, source("catalog"));
    if (!result.ok) throw new Error(result.reason);
    expect(result.value.updates).toEqual([]);
    expect(approvedInstallParams(result.value, "windows")).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------
// Install
// ---------------------------------------------------------------------------------------------

describe("toInstallOutcomes", () => {
  const requested = [
    entry({ updateId: GUID(1), kb: "KB5012345", title: "Cumulative Update (KB5012345)" }),
    entry({ updateId: GUID(2), kb: "KB5012346", title: ".NET (KB5012346)" }),
    entry({ updateId: GUID(3), kb: "KB890830", title: "MSRT (KB890830)" }),
    entry({ updateId: GUID(4), kb: "KB2267602", title: "Defender (KB2267602)" }),
    entry({ updateId: GUID(5), kb: "KB5012399", title: "WebView2 (KB5012399)" }),
  ];

  it("gives one outcome per requested update, in request order, with installed true only when it is in place", () => {
    const out = installDoc([
      // Reported out of order: the outcome order is the request's.
      {
        updateId: GUID(2),
        kb: "KB5012346",
        result: "Failed",
        resultCode: 4,
        hresult: -2147023293,
        rebootRequired: false,
        finishedAt: "2026-01-20T02:10:00Z",
      },
      {
        updateId: GUID(1),
        kb: "KB5012345",
        title: "Cumulative Update (KB5012345)",
        result: "Succeeded",
        resultCode: 2,
        hresult: 0,
        rebootRequired: true,
        finishedAt: "2026-01-20T02:15:00Z",
      },
      {
        updateId: GUID(3).toUpperCase(),
        result: "SucceededWithErrors",
        resultCode: 3,
        rebootRequired: false,
        finishedAt: "2026-01-20T02:16:00Z",
      },
      { updateId: GUID(4), result: "NotFound", rebootRequired: false, finishedAt: "2026-01-20T02:17:00Z" },
      { updateId: GUID(9), result: "Succeeded", rebootRequired: false, finishedAt: "2026-01-20T02:18:00Z" },
    ]);
    const outcomes = toInstallOutcomes(out, requested, source("install"));
    expect(outcomes.map((o) => [o.updateId, o.result, o.installed])).toEqual([
      [GUID(1), "Succeeded", true],
      [GUID(2), "Failed", false],
      [GUID(3), "SucceededWithErrors", true],
      [GUID(4), "Failed", false],
      [GUID(5), "NotAttempted", false],
    ]);
    expect(outcomes[0]).toMatchObject({ hresult: 0, rebootRequired: true, finishedAt: "2026-01-20T02:15:00Z" });
    // The catalog fills what the device left out.
    expect(outcomes[1]).toMatchObject({ title: ".NET (KB5012346)", kb: "KB5012346", hresult: -2147023293 });
    expect(outcomes[3]?.collectionErrors).toEqual([
      { section: "results", message: `the update agent no longer offers ${GUID(4)}`, code: "not-found" },
    ]);
    expect(outcomes[4]).toMatchObject({
      rebootRequired: false,
      finishedAt: "2026-01-20T02:20:00Z",
      title: "WebView2 (KB5012399)",
    });
    expect(outcomes[4]?.collectionErrors).toEqual([expect.objectContaining({ code: "not-reported" })]);
    expect(outcomes[0]?.collectionErrors).toEqual([]);
    expectStorable(ARTIFACTS.installSummary, outcomes);
  });

  it("marks everything NotAttempted when the script could not start, with its errors on every line", () => {
    const errors = [{ section: "parameters", message: "UpdateIds: not a GUID", code: "invalid-parameter" }];
    const outcomes = toInstallOutcomes(installDoc([], errors), requested.slice(0, 2), source("install"));
    expect(outcomes.map((o) => o.result)).toEqual(["NotAttempted", "NotAttempted"]);
    for (const o of outcomes) expect(o.collectionErrors?.[0]).toEqual(errors[0]);
    expectStorable(ARTIFACTS.installSummary, outcomes);
  });

  it("matches Linux packages by name and keeps the version installed", () => {
    const pinned = [
      entry({ updateId: "openssl", version: "3.0.2-0ubuntu1.19", classification: "Security", severity: "Unspecified" }),
    ];
    const outcomes = toInstallOutcomes(
      installDoc([
        {
          updateId: "openssl",
          version: "3.0.2-0ubuntu1.19",
          result: "Succeeded",
          hresult: 0,
          rebootRequired: false,
          finishedAt: "2026-01-20T02:06:00Z",
        },
      ]),
      pinned,
      source("install"),
    );
    expect(outcomes).toEqual([
      expect.objectContaining({
        updateId: "openssl",
        version: "3.0.2-0ubuntu1.19",
        installed: true,
        title: "Update openssl",
      }),
    ]);
    expect(outcomes[0]).not.toHaveProperty("kb");
    // Package names are case-sensitive: OpenSSL is another package.
    const other = toInstallOutcomes(
      installDoc([
        { updateId: "OpenSSL", result: "Succeeded", rebootRequired: false, finishedAt: "2026-01-20T02:06:00Z" },
      ]),
      pinned,
      source("install"),
    );
    expect(other[0]?.result).toBe("NotAttempted");
  });
});

// ---------------------------------------------------------------------------------------------
// Diagnostics
// ---------------------------------------------------------------------------------------------

describe("toDiagnostics", () => {
  it("is ok when every section was collected", () => {
    const diag = toDiagnostics(diagnosticsDoc(), source("diagnostics"));
    expect(diag.status).toBe("ok");
    expect(diag).not.toHaveProperty("failureReason");
    expect(diag.eventLogErrors).toHaveLength(1);
    expectStorable(ARTIFACTS.diagnostics, diag);
  });

  it("fails naming every section that was not collected and why; null sections become []", () => {
    const errors = [
      { section: "eventLogErrors", message: "Get-WinEvent: The RPC server is unavailable", code: "0x800706BA" },
      { section: "disks", message: "partial: D: not readable" },
    ];
    const diag = toDiagnostics(
      diagnosticsDoc((d) => {
        d.eventLogErrors = null;
        d.updateAgentErrors = null;
      }, errors),
      source("diagnostics"),
    );
    expect(diag).toMatchObject({
      status: "failed",
      eventLogErrors: [],
      updateAgentErrors: [],
      collectionErrors: errors,
    });
    expect(diag.failureReason).toBe(
      "diagnostics incomplete: eventLogErrors (Get-WinEvent: The RPC server is unavailable [0x800706BA]); " +
        "updateAgentErrors (no reason given); disks (partial: D: not readable)",
    );
    expect(diag.disks).toHaveLength(1);
    expectStorable(ARTIFACTS.diagnostics, diag);
  });
});

// ---------------------------------------------------------------------------------------------
// Hostile strings are data
// ---------------------------------------------------------------------------------------------

describe("hostile strings", () => {
  it("pass through every conversion untouched", () => {
    const hostile = HOSTILE_STRINGS.map((s) => s.slice(0, 2000));
    const snap = toSystemSnapshot(
      baselineDoc(
        (d) => {
          d.services = hostile.map((name, i) => ({ name: name.slice(0, 256), state: "Running", startType: `t${i}` }));
          d.apps = hostile.map((name) => ({ name, publisher: name.slice(0, 200) }));
        },
        [{ section: "drivers", message: hostile[0] ?? "" }],
      ),
      source("baseline"),
    );
    if (!snap.ok) throw new Error(snap.reason);
    expect(snap.value.apps.map((a) => a.name)).toEqual(hostile);
    expect(snap.value.services.map((s) => s.name)).toEqual(hostile.map((h) => h.slice(0, 256)));
    expect(snap.value.collectionErrors?.[0]?.message).toBe(hostile[0]);
    expectStorable(ARTIFACTS.baseline, snap.value);

    const cat = toCatalog(
      catalogDoc(hostile.map((title, i) => rawWin({ updateId: GUID(i % 9), title }))),
      "windows",
      POLICY,
      new Date("2026-01-20T02:00:00Z"),
      source("catalog"),
    );
    if (!cat.ok) throw new Error(cat.reason);
    expect(cat.value.updates.map((u) => u.title)).toEqual(hostile);
    expectStorable(ARTIFACTS.catalog, cat.value);

    const requested = hostile.map((title, i) => entry({ updateId: `pkg${i}`, title, version: "1.0" }));
    const outcomes = toInstallOutcomes(installDoc([]), requested, source("install"));
    expect(outcomes.map((o) => o.title)).toEqual(hostile);
    expectStorable(ARTIFACTS.installSummary, outcomes);
  });

  it("survive from an emulated device that puts them in every free-text field", () => {
    const { win } = smallFleet((s) => {
      const device = s.devices[0];
      if (device === undefined) throw new Error("no device");
      device.malformed = (["baseline", "catalog", "install", "validate", "diagnostics"] as const).map((script) => ({
        script,
        mode: "hostileStrings" as const,
      }));
    });
    const base = runReal(win, "baseline", {}, T0, "baseline");
    const snap = toSystemSnapshot(base.output, base.source);
    if (!snap.ok) throw new Error(snap.reason);
    expect(snap.value.services.map((s) => s.name)).toEqual(base.output.data.services?.map((s) => s.name));
    expect(
      snap.value.services.some((s) => HOSTILE_STRINGS.some((h) => h.startsWith(s.name) && s.name.length > 5)),
    ).toBe(true);
    expectStorable(ARTIFACTS.baseline, snap.value);

    const catalogRun = runReal(win, "catalog", { simulate: false }, T0, "catalog");
    const cat = toCatalog(catalogRun.output, "windows", POLICY, T0, catalogRun.source);
    if (!cat.ok) throw new Error(cat.reason);
    expect(cat.value.updates.map((u) => u.title)).toEqual(catalogRun.output.data.updates?.map((u) => u.title));
    expectStorable(ARTIFACTS.catalog, cat.value);
  });
});

// ---------------------------------------------------------------------------------------------
// Real scripts on the fleet emulator's demo devices
// ---------------------------------------------------------------------------------------------

let commandCounter = 0;

/** Runs the real registered script text on a simulated device and parses its stdout with the script's schema. */
function runReal<Id extends ScriptId>(
  device: SimulatedServer,
  id: Id,
  params: ScriptParams[Id],
  at: Date,
  phase: PhaseKey,
): { output: ScriptOutput<Id>; source: ScriptSource; finishedAt: Date } {
  const script = getDeviceScript(id, device.os);
  commandCounter += 1;
  const runCommandName = `pp-${id}-${commandCounter}`;
  const result = device.execute({
    runCommandName,
    script: script.text,
    parameters: encodeParameters(id, params),
    startedAt: at,
    timeoutInSeconds: script.timeoutSeconds,
  });
  if (result.kind !== "completed") throw new Error(`${id} on ${device.name}: ${result.kind}`);
  const output = SCRIPT_OUTPUT_SCHEMAS[id].parse(JSON.parse(result.stdout)) as ScriptOutput<Id>;
  expect(output.scriptVersion).toBe(script.version);
  return {
    output,
    source: {
      scriptId: id,
      scriptVersion: script.version,
      scriptSha256: script.sha256,
      runCommandName,
      transcript: transcriptPath(phase, runCommandName, "stdout"),
    },
    finishedAt: new Date(at.getTime() + result.durationMs),
  };
}

/** The layers of a demo device, resolved as the run resolves them (default global layer first). */
function effectivePolicy(scenario: Scenario, device: SimulatedServer) {
  const spec = scenario.devices.find((d) => d.name === device.name);
  const applies = scenario.policies.filter((p) => {
    const s = p.scope;
    if (s.level === "global") return true;
    if (s.tenant !== spec?.tenant) return false;
    if (s.level === "tenant") return true;
    if (s.client !== spec?.client) return false;
    return s.level === "client" || s.device === device.name;
  });
  const rank = { global: 0, tenant: 1, client: 2, device: 3 } as const;
  return resolveEffectivePolicy([
    DEFAULT_GLOBAL_POLICY,
    ...applies.sort((a, b) => rank[a.scope.level] - rank[b.scope.level]),
  ]).policy;
}

describe("every script's emulator output on demo devices converts to valid artifacts", () => {
  const scenario = readScenarioFile("local/scenarios/demo.json");

  it.each([["WIN-SERVER01"], ["fab-lnx01"]])("%s: a whole run, phase by phase", (name) => {
    const fleet = buildFleet(scenario, fixedClock());
    const device = fleet.devices.find((d) => d.name === name);
    if (device === undefined) throw new Error(`no demo device ${name}`);
    const policy = effectivePolicy(scenario, device);
    const checks = policy.appValidation.apps.flatMap((app) => app.checks.map((check) => ({ app: app.name, check })));
    expect(checks.length).toBeGreaterThan(0);

    // 02 baseline
    const base = runReal(device, "baseline", {}, T0, "baseline");
    const baseline = toSystemSnapshot(base.output, base.source);
    if (!baseline.ok) throw new Error(baseline.reason);
    expect(baseline.value.os.family).toBe(device.os);
    expect(baseline.value.source?.scriptSha256).toBe(getDeviceScript("baseline", device.os).sha256);
    expectStorable(ARTIFACTS.baseline, baseline.value);

    // 04 pre-validation
    const preRun = runReal(device, "validate", { checks }, base.finishedAt, "preValidation");
    const pre = toValidationReport(preRun.output, "pre", preRun.source);
    expect(pre.results.map((r) => `${r.app}/${r.check}`).sort()).toEqual(
      checks.map((c) => `${c.app}/${c.check.name}`).sort(),
    );
    expectStorable(ARTIFACTS.preValidation, pre);

    // 03 catalog
    const catRun = runReal(device, "catalog", { simulate: device.os === "linux" }, preRun.finishedAt, "catalog");
    const catalog = toCatalog(catRun.output, device.os, policy.update, catRun.finishedAt, catRun.source);
    if (!catalog.ok) throw new Error(catalog.reason);
    expect(catalog.value.updates).toHaveLength(catRun.output.data.updates?.length ?? -1);
    expectStorable(ARTIFACTS.catalog, catalog.value);
    const params = approvedInstallParams(catalog.value, device.os);
    if (params === undefined) throw new Error(`${name}: nothing approved`);
    const approved = catalog.value.updates.filter((u) => u.decision === "approved");
    if (params.os === "linux") expect(params.packages.map((p) => p.version)).toEqual(approved.map((u) => u.version));

    // 05 install, then the same install again as a re-run after a crash would
    const installRun = runReal(device, "install", params, catRun.finishedAt, "install");
    const outcomes = toInstallOutcomes(installRun.output, approved, installRun.source);
    expect(outcomes.map((o) => o.updateId)).toEqual(approved.map((u) => u.updateId));
    expect(outcomes.every((o) => o.installed && o.result === "Succeeded")).toBe(true);
    expect(outcomes.map((o) => o.title)).toEqual(approved.map((u) => u.title));
    expectStorable(ARTIFACTS.installSummary, outcomes);

    const rerun = runReal(device, "install", params, installRun.finishedAt, "install");
    const again = toInstallOutcomes(rerun.output, approved, rerun.source);
    expect(again.map((o) => [o.result, o.installed])).toEqual(approved.map(() => ["AlreadyInstalled", true]));
    expectStorable(ARTIFACTS.installSummary, again);

    // 06 reboot (reboot.json is the orchestrator's own), 07 post snapshot after the machine is back
    const rebootRun = runReal(
      device,
      "reboot",
      { delaySeconds: 30, comment: "PatchPilot run 1" },
      rerun.finishedAt,
      "reboot",
    );
    expect(rebootRun.output.data.scheduled).toBe(true);
    const back = after(rebootRun.finishedAt, 30);
    const postRun = runReal(device, "baseline", {}, back, "postSnapshot");
    const post = toSystemSnapshot(postRun.output, postRun.source);
    if (!post.ok) throw new Error(post.reason);
    expect(Date.parse(post.value.lastBootTime)).toBeGreaterThan(Date.parse(baseline.value.lastBootTime));
    expectStorable(ARTIFACTS.snapshot, post.value);
    const diff = diffSnapshots(baseline.value, post.value);
    expect(BaselineDiffSchema.parse(diff).updatesAdded.length).toBeGreaterThan(0);

    // 08 post-validation and regressions
    const postValRun = runReal(device, "validate", { checks }, postRun.finishedAt, "postValidation");
    const postVal = toValidationReport(postValRun.output, "post", postValRun.source);
    expectStorable(ARTIFACTS.postValidation, postVal);
    expect(RegressionsSchema.safeParse(detectRegressions(pre, postVal)).success).toBe(true);

    // 09 diagnostics
    const diagRun = runReal(
      device,
      "diagnostics",
      { since: T0.toISOString(), maxEvents: 100 },
      postValRun.finishedAt,
      "diagnostics",
    );
    const diagnostics = toDiagnostics(diagRun.output, diagRun.source);
    expect(diagnostics.status).toBe("ok");
    expectStorable(ARTIFACTS.diagnostics, diagnostics);
  });

  it("converts the baseline, catalog and diagnostics of every demo device into valid artifacts", () => {
    const fleet = buildFleet(scenario, fixedClock());
    for (const device of fleet.devices) {
      const base = runReal(device, "baseline", {}, T0, "baseline");
      const snap = toSystemSnapshot(base.output, base.source);
      if (!snap.ok) throw new Error(`${device.name}: ${snap.reason}`);
      expectStorable(ARTIFACTS.baseline, snap.value);
      const cat = runReal(device, "catalog", { simulate: false }, T0, "catalog");
      const catalog = toCatalog(cat.output, device.os, POLICY, T0, cat.source);
      if (!catalog.ok) throw new Error(`${device.name}: ${catalog.reason}`);
      expectStorable(ARTIFACTS.catalog, catalog.value);
      const diag = runReal(device, "diagnostics", { since: T0.toISOString() }, T0, "diagnostics");
      expectStorable(ARTIFACTS.diagnostics, toDiagnostics(diag.output, diag.source));
    }
  });

  it("keeps a section the emulated device could not collect visible as a collection error", () => {
    const { win } = smallFleet((s) => {
      const device = s.devices[0];
      if (device === undefined) throw new Error("no device");
      device.sectionErrors = [
        { script: "baseline", section: "services", message: "Get-CimInstance : Access denied", code: "0x80070005" },
        { script: "diagnostics", section: "updateAgentErrors", message: "WindowsUpdateClient log missing" },
      ];
    });
    const base = runReal(win, "baseline", {}, T0, "baseline");
    const snap = toSystemSnapshot(base.output, base.source);
    if (!snap.ok) throw new Error(snap.reason);
    expect(snap.value.services).toEqual([]);
    expect(snap.value.collectionErrors).toEqual([
      { section: "services", message: "Get-CimInstance : Access denied", code: "0x80070005" },
    ]);
    expectStorable(ARTIFACTS.baseline, snap.value);
    const diag = runReal(win, "diagnostics", { since: T0.toISOString() }, T0, "diagnostics");
    const diagnostics = toDiagnostics(diag.output, diag.source);
    expect(diagnostics).toMatchObject({
      status: "failed",
      updateAgentErrors: [],
      failureReason: expect.stringContaining("WindowsUpdateClient log missing") as string,
    });
  });
});
