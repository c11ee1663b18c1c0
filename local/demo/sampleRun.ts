import { ARTIFACTS, PHASES, failurePath, specForPath } from "../../lib/domain/artifacts";
import { DEFAULT_GLOBAL_POLICY } from "../../lib/domain/policy/defaultPolicy";
import { resolveEffectivePolicy } from "../../lib/domain/policy/overlay";
import type { StoredArtifact } from "../../lib/evidence/blobStore";
import type { RunEventInput } from "../../lib/evidence/hashChain";
import { putArtifact, sealRun, type EvidenceDeps, type SealResult } from "../../lib/evidence/runEvidence";
import type { Catalog, Diagnostics, InstallOutcome, RebootRecord } from "../../lib/schemas/artifacts/catalog";
import type { LockContention, PhaseFailure, RunRecord } from "../../lib/schemas/artifacts/run";
import type { BaselineDiff, SystemSnapshot } from "../../lib/schemas/artifacts/snapshot";
import {
  regressionsByApplication,
  type Regressions,
  type ValidationReport,
} from "../../lib/schemas/artifacts/validation";
import type { RunRef } from "../../lib/schemas/common";
import type { RebootPolicy } from "../../lib/schemas/policies";

/** Switches that make the sample run end in each outcome. */
export interface SampleScenario {
  /** WebApp's health endpoint answers 500 after patching (220). */
  regression?: boolean;
  /** This KB fails to install (210). */
  failedKb?: string;
  /** The install phase itself fails: no summary, a failure record (210). */
  installPhaseFails?: boolean;
  /** Reboot policy; Never with a required reboot leaves it pending (150). */
  rebootPolicy?: RebootPolicy;
  /** The post snapshot still shows a pending reboot (150). */
  pendingRebootAfter?: boolean;
  /** Diagnostics collection fails (230 when required). */
  diagnosticsFail?: boolean;
  diagnosticsRequired?: boolean;
  /** Another run holds the device lock (170): only run.json and lock-contention.json are written. */
  lockHeldBy?: string;
  /** Artifacts not written at all (to test 240 for missing evidence). */
  omit?: readonly (keyof typeof ARTIFACTS)[];
}

const T0 = Date.parse("2026-01-20T02:00:00Z");
/** Deterministic timestamps: minutes after the sample window opened. */
export function at(minutes: number): string {
  return new Date(T0 + minutes * 60_000).toISOString();
}

const UPDATES = [
  {
    updateId: "b7f1c0de-0001-4a1e-9c1d-000000000001",
    kb: "KB5012345",
    title:
      "2026-01 Cumulative Update for Microsoft server operating system version 21H2 for x64-based Systems (KB5012345)",
    classification: "Security",
    severity: "Critical",
  },
  {
    updateId: "b7f1c0de-0002-4a1e-9c1d-000000000002",
    kb: "KB5012346",
    title: "2026-01 Cumulative Update for .NET Framework 3.5, 4.8 and 4.8.1 (KB5012346)",
    classification: "Security",
    severity: "Important",
  },
  {
    updateId: "b7f1c0de-0003-4a1e-9c1d-000000000003",
    kb: "KB890830",
    title: "Windows Malicious Software Removal Tool x64 - v5.137 (KB890830)",
    classification: "UpdateRollup",
    severity: "Unspecified",
  },
  {
    updateId: "b7f1c0de-0004-4a1e-9c1d-000000000004",
    kb: "KB5012399",
    title: "Microsoft Silverlight (KB5012399)",
    classification: "FeaturePack",
    severity: "Unspecified",
  },
] as const;

function snapshot(
  capturedAt: string,
  build: string,
  kbs: readonly string[],
  pending: boolean,
  bootTime: string,
): SystemSnapshot {
  return {
    schemaVersion: 1,
    capturedAt,
    os: { family: "windows", name: "Microsoft Windows Server 2022 Datacenter", version: "10.0.20348", build },
    installedUpdates: kbs.map((kb) => ({ id: kb, kb })),
    updateHistory: [],
    services: [
      { name: "W3SVC", state: "Running", startType: "Automatic" },
      { name: "MSSQLSERVER", state: "Running", startType: "Automatic" },
      { name: "wuauserv", state: "Running", startType: "Manual" },
    ],
    drivers: [{ name: "storvsc", version: "10.0.20348.1", provider: "Microsoft" }],
    apps: [{ name: "Contoso WebApp", version: "4.2.0", publisher: "Contoso" }],
    pendingReboot: { pending, signals: pending ? ["CBS", "WindowsUpdate"] : [] },
    lastBootTime: bootTime,
    disks: [{ mount: "C:", freeBytes: 48_000_000_000, totalBytes: 127_000_000_000 }],
  };
}

function validation(stage: "pre" | "post", startedAt: string, healthOk: boolean): ValidationReport {
  const health = healthOk ? "HTTP 200 in 84 ms" : "HTTP 500 Internal Server Error";
  return {
    schemaVersion: 1,
    stage,
    startedAt,
    results: [
      {
        app: "WebApp",
        check: "HealthEndpoint",
        type: "http",
        success: healthOk,
        attempts: (healthOk ? [1] : [1, 2, 3]).map((n) => ({
          at: startedAt,
          success: healthOk,
          detail: `${health} (try ${n})`,
        })),
      },
      {
        app: "WebApp",
        check: "W3SVC",
        type: "service",
        success: true,
        attempts: [{ at: startedAt, success: true, detail: "Running" }],
      },
    ],
  };
}

/** The artifacts phases 01-09 would write for the sample device, and the events they would record. */
export function buildSampleArtifacts(
  run: RunRef,
  scenario: SampleScenario = {},
): {
  artifacts: Partial<Record<keyof typeof ARTIFACTS, unknown>>;
  failures: { path: string; value: PhaseFailure }[];
  events: RunEventInput[];
} {
  const layers: unknown[] = [
    DEFAULT_GLOBAL_POLICY,
    {
      schemaVersion: 1,
      scope: { level: "client", tenant: run.tenant, client: run.client },
      update: { rebootPolicy: scenario.rebootPolicy ?? "IfRequired", excludeKbs: ["KB5012399"] },
      appValidation: {
        apps: [
          {
            name: "WebApp",
            checks: [
              { type: "http", name: "HealthEndpoint", url: "https://webapp.acme.example/health" },
              { type: "service", name: "W3SVC", serviceName: "W3SVC" },
            ],
          },
        ],
      },
      diagnostics: { required: scenario.diagnosticsRequired ?? false },
    },
  ];
  const { policy, provenance } = resolveEffectivePolicy(layers);
  const record: RunRecord = {
    schemaVersion: 1,
    run,
    target: {
      resourceId: `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-${run.client}/providers/Microsoft.HybridCompute/machines/${run.device}`,
      kind: "arc",
      os: "windows",
    },
    startedAt: at(0),
    trigger: { kind: "demo" },
    dryRun: false,
    policy,
    policyProvenance: provenance,
  };
  const events: RunEventInput[] = [
    { at: at(0), type: "run.started", phase: PHASES.init, data: { device: run.device } },
  ];

  if (scenario.lockHeldBy !== undefined) {
    const contention: LockContention = {
      schemaVersion: 1,
      run,
      observedAt: at(0),
      holder: { runId: scenario.lockHeldBy, acquiredAt: at(-30), expiresAt: at(210) },
    };
    events.push({ at: at(0), type: "lock.contended", phase: PHASES.init, data: { holder: scenario.lockHeldBy } });
    return { artifacts: { run: record, lockContention: contention }, failures: [], events };
  }

  const approved = UPDATES.filter((u) => u.kb !== "KB5012399");
  const catalog: Catalog = {
    schemaVersion: 1,
    evaluatedAt: at(6),
    updates: UPDATES.map((u) => ({
      ...u,
      releaseDate: "2026-01-13T17:00:00Z",
      rebootBehavior: u.classification === "Security" ? "CanRequestReboot" : "NeverReboots",
      decision: u.kb === "KB5012399" ? "excluded" : "approved",
      reason:
        u.kb === "KB5012399"
          ? "excluded by KB list (client:" + run.tenant + "/" + run.client + ")"
          : `classification ${u.classification} and severity ${u.severity} in policy`,
    })),
  };
  const outcomes: InstallOutcome[] = approved.map((u, i) => {
    const failed = u.kb === scenario.failedKb;
    return {
      schemaVersion: 1,
      updateId: u.updateId,
      kb: u.kb,
      title: u.title,
      installed: !failed,
      result: failed ? "Failed" : "Succeeded",
      ...(failed ? { hresult: -2145124329 } : {}),
      rebootRequired: !failed && u.classification === "Security",
      finishedAt: at(20 + i * 5),
    };
  });
  const rebootRequired = outcomes.some((o) => o.rebootRequired);
  const policyReboot = policy.update.rebootPolicy;
  const rebooted = rebootRequired ? policyReboot !== "Never" : policyReboot === "Always";
  const reboot: RebootRecord = {
    schemaVersion: 1,
    policy: policyReboot,
    required: rebootRequired,
    requested: rebooted,
    ...(rebooted ? { requestedAt: at(40), bootTimeBefore: at(-10080), bootTimeAfter: at(44) } : {}),
    rebootCount: rebooted ? 1 : 0,
    outcome: rebootRequired ? (rebooted ? "Completed" : "NotAllowed") : rebooted ? "Completed" : "NotRequired",
  };
  const installedKbs = outcomes.filter((o) => o.installed).map((o) => o.kb ?? o.updateId);
  const baseline = snapshot(at(1), "20348.2227", ["KB5034129"], false, at(-10080));
  const post = snapshot(
    at(48),
    installedKbs.includes("KB5012345") ? "20348.2340" : "20348.2227",
    ["KB5034129", ...installedKbs],
    (rebootRequired && !rebooted) || (scenario.pendingRebootAfter ?? false),
    rebooted ? at(44) : at(-10080),
  );
  const diff: BaselineDiff = {
    schemaVersion: 1,
    osBuild: { before: baseline.os.build, after: post.os.build },
    updatesAdded: installedKbs,
    updatesRemoved: [],
    services: [],
    drivers: [],
    apps: [],
  };
  const pre = validation("pre", at(3), true);
  const postValidation = validation("post", at(50), !scenario.regression);
  const regressionList: Regressions["regressions"] = scenario.regression
    ? [
        {
          app: "WebApp",
          check: "HealthEndpoint",
          pre: { success: true, detail: "HTTP 200 in 84 ms" },
          post: { success: false, detail: "HTTP 500 Internal Server Error after 3 tries" },
        },
      ]
    : [];
  const regressions: Regressions = {
    schemaVersion: 1,
    TotalRegressions: regressionList.length,
    regressions: regressionList,
    preExisting: [],
    applications: regressionsByApplication(regressionList),
  };
  const diagnostics: Diagnostics = {
    schemaVersion: 1,
    collectedAt: at(55),
    status: scenario.diagnosticsFail ? "failed" : "ok",
    ...(scenario.diagnosticsFail ? { failureReason: "Get-WinEvent: The RPC server is unavailable" } : {}),
    eventLogErrors: [],
    updateAgentErrors: [],
    disks: [{ mount: "C:", freeBytes: 46_500_000_000, totalBytes: 127_000_000_000 }],
  };
  const failures: { path: string; value: PhaseFailure }[] = [];
  const artifacts: Partial<Record<keyof typeof ARTIFACTS, unknown>> = {
    run: record,
    baseline,
    preValidation: pre,
    catalog,
    installSummary: outcomes,
    reboot,
    snapshot: post,
    baselineDiff: diff,
    postValidation,
    regressions,
    diagnostics,
  };
  if (scenario.installPhaseFails) {
    delete artifacts.installSummary;
    failures.push({
      path: failurePath("install"),
      value: {
        schemaVersion: 1,
        phase: PHASES.install,
        kind: "Timeout",
        message: "install did not finish within maxInstallMinutes (120)",
        at: at(126),
        transcripts: [],
      },
    });
  }
  for (const key of scenario.omit ?? []) delete artifacts[key];

  events.push(
    { at: at(1), type: "phase.completed", phase: PHASES.baseline },
    { at: at(3), type: "phase.completed", phase: PHASES.preValidation },
    { at: at(6), type: "phase.completed", phase: PHASES.catalog, data: { approved: approved.length, excluded: 1 } },
    { at: at(35), type: scenario.installPhaseFails ? "phase.failed" : "phase.completed", phase: PHASES.install },
    { at: at(45), type: "phase.completed", phase: PHASES.reboot, data: { outcome: reboot.outcome } },
    { at: at(48), type: "phase.completed", phase: PHASES.postSnapshot },
    {
      at: at(52),
      type: "phase.completed",
      phase: PHASES.postValidation,
      data: { regressions: regressions.TotalRegressions },
    },
    { at: at(55), type: "phase.completed", phase: PHASES.diagnostics },
  );
  return { artifacts, failures, events };
}

/** Writes the sample run's artifacts (phases 01-09) and seals it (phase 10). */
export async function writeSampleRun(
  deps: EvidenceDeps,
  run: RunRef,
  scenario: SampleScenario = {},
): Promise<{ stored: StoredArtifact[]; seal: SealResult }> {
  const { artifacts, failures, events } = buildSampleArtifacts(run, scenario);
  const stored: StoredArtifact[] = [];
  for (const [key, value] of Object.entries(artifacts)) {
    stored.push(await putArtifact(deps, run, ARTIFACTS[key as keyof typeof ARTIFACTS], value));
  }
  for (const f of failures) {
    stored.push(await putArtifact(deps, run, specForPath(f.path), f.value));
  }
  const seal = await sealRun(deps, run, { sealedAt: at(56), artifacts: stored, events });
  return { stored, seal };
}
