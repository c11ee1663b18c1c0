import type { z } from "zod";
import { CatalogSchema, DiagnosticsSchema, InstallOutcomeSchema, RebootRecordSchema } from "./artifacts/catalog";
import { ArtifactIndexSchema, ManifestSchema, RunEventSchema } from "./artifacts/integrity";
import { ExitCodeRecordSchema, FinalReportSchema } from "./artifacts/outcome";
import { LoadBalancerActionSchema, LoadBalancerPoolsBeforeSchema } from "./artifacts/loadBalancer";
import { RunReceiptSchema } from "./artifacts/receipt";
import { RemediationRecordSchema, UninstallRecordSchema } from "./artifacts/remediation";
import { DiskSnapshotsRecordSchema, RestoreRecordSchema } from "./artifacts/diskSnapshots";
import { LockContentionSchema, PhaseFailureSchema, RunRecordSchema } from "./artifacts/run";
import { BaselineDiffSchema, SystemSnapshotSchema } from "./artifacts/snapshot";
import { TranscriptStatusSchema } from "./artifacts/transcript";
import { RegressionsSchema, ValidationReportSchema } from "./artifacts/validation";
import {
  AppValidationPolicySchema,
  ClientProfileSchema,
  DiagnosticsPolicySchema,
  MaintenanceWindowSchema,
  UpdatePolicySchema,
} from "./policies";
import { SCRIPT_OUTPUT_SCHEMAS } from "./device";
import { EffectivePolicySchema, PolicyLayerSchema } from "./policyLayer";
import { QuarantineEntrySchema } from "./quarantine";
import { PromotionDecisionSchema, QuarantineDecisionSchema, ReleaseApprovalSchema, ReleaseSchema } from "./release";
import { WindowReportSchema } from "./window";
import { DeploymentReportSchema } from "./deployment";
import { GateReportSchema } from "./artifacts/gates";
import { HookReportSchema } from "./artifacts/hooks";

export interface SchemaRegistryEntry {
  /**
   * Kebab-case stem of the published `<id>.schema.json`. For an artifact with one fixed file name it is that
   * file's stem (`run`, `exit-code`); otherwise it names the kind of document (`system-snapshot`, `install-outcome`).
   */
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly schema: z.ZodType;
}

/** Every versioned document PatchPilot reads or writes (policies and run artifacts), as published in docs/schemas. */
export const SCHEMA_REGISTRY: readonly SchemaRegistryEntry[] = [
  // Policies: written by people (MSP engineers), read by PatchPilot.
  {
    id: "update-policy",
    title: "Update policy",
    description:
      "Which updates a device gets (classifications, severities, deferral, KB/package lists) and how the install behaves.",
    schema: UpdatePolicySchema,
  },
  {
    id: "app-validation-policy",
    title: "App validation policy",
    description:
      "The business applications validated before and after patching, and the health checks that prove each one works.",
    schema: AppValidationPolicySchema,
  },
  {
    id: "diagnostics-policy",
    title: "Diagnostics policy",
    description: "What the light diagnostics phase collects and whether its failure fails the run (exit code 230).",
    schema: DiagnosticsPolicySchema,
  },
  {
    id: "maintenance-window",
    title: "Maintenance window",
    description:
      "A recurring maintenance window for a tenant's clients: schedule, time zone, rollout rings and concurrency/error limits.",
    schema: MaintenanceWindowSchema,
  },
  {
    id: "client-profile",
    title: "Client profile",
    description:
      "A client (the MSP's customer): its time zone, the maintenance windows its devices are patched in, and its contacts.",
    schema: ClientProfileSchema,
  },
  {
    id: "policy-layer",
    title: "Policy layer",
    description:
      "One layer of the policy overlay (global, tenant, client or device). Every field is optional; unknown fields are refused so a typo is not silently ignored.",
    schema: PolicyLayerSchema,
  },
  {
    id: "effective-policy",
    title: "Effective policy",
    description: "The complete policy a device run uses, after the global → tenant → client → device overlay.",
    schema: EffectivePolicySchema,
  },

  // Run artifacts: written by PatchPilot, one set per device run.
  {
    id: "run",
    title: "Run record (01-init/run.json)",
    description:
      "The run record: run identity, target, trigger, the effective policy and the layer each policy value came from.",
    schema: RunRecordSchema,
  },
  {
    id: "lock-contention",
    title: "Lock contention (01-init/lock-contention.json)",
    description: "Another run held the device lock, so nothing was done (exit code 170).",
    schema: LockContentionSchema,
  },
  {
    id: "phase-failure",
    title: "Phase failure ({phase}/failure.json)",
    description:
      "A phase that did not produce its artifact, and why; the raw transcripts are kept beside it as evidence.",
    schema: PhaseFailureSchema,
  },
  {
    id: "transcript-status",
    title: "Transcript status ({phase}/transcripts/{runCommandName}.status.json)",
    description:
      "How one run command ended (execution state, exit code, times, the script's id, version and SHA-256) and the hashes of its raw stdout/stderr kept beside it.",
    schema: TranscriptStatusSchema,
  },
  {
    id: "system-snapshot",
    title: "System snapshot (02-baseline/baseline.json, 07-post-snapshot/snapshot.json)",
    description:
      "The device's state before and after patching: OS build, installed updates, update history, services, drivers, apps, pending reboot, disks.",
    schema: SystemSnapshotSchema,
  },
  {
    id: "baseline-diff",
    title: "Baseline diff (07-post-snapshot/baseline-diff.json)",
    description: "What changed between the baseline and the post-patch snapshot.",
    schema: BaselineDiffSchema,
  },
  {
    id: "validation-report",
    title: "Validation report (04-pre-validation/pre-validation.json, 08-post-validation/post-validation.json)",
    description: "The outcome of every app health check, with each attempt, before (pre) or after (post) patching.",
    schema: ValidationReportSchema,
  },
  {
    id: "gates",
    title: "Pre-patch gates (04-pre-validation/gates.json)",
    description:
      "The pre-patch gates of the effective policy (disk space, pending reboot, services, backup age, custom checks), each judged pass, fail, could-not-look or refused before anything was installed; a run whose gates did not all pass installs nothing and ends with 170 (170.gate-failed).",
    schema: GateReportSchema,
  },
  {
    id: "hooks",
    title: "Hook point report (05-install/hooks-pre-install.json, 07-post-snapshot/hooks-always.json)",
    description:
      "What a hook point did on the device, action by action (service stop/start with the state reached, MSP scripts with their exit code), whether the device reported it, and the scripts refused because their text does not hash to the policy's SHA-256.",
    schema: HookReportSchema,
  },
  {
    id: "lb-pools-before",
    title: "Load-balancer membership before a drain (05-install/lb-pools-before.json)",
    description:
      "Every NIC ip-configuration of the device and the Azure Load Balancer backend pools it belonged to, read through ARM and sealed before the loadBalancerDrain hook removed anything; the restore puts back exactly what this lists (and the hook names).",
    schema: LoadBalancerPoolsBeforeSchema,
  },
  {
    id: "lb-action",
    title: "Load-balancer drain and restore (05-install/lb-drain.json, 07-post-snapshot/lb-restore.json)",
    description:
      "The ARM-side drain before the install and the restore at the always point: the pools each ip-configuration left (or got back), the pools' own member lists read afterwards as verification, and the outcome (drained, restored, nothing-to-do, not-possible for Arc and Uniform scale-set instances, failed with ARM's answer).",
    schema: LoadBalancerActionSchema,
  },
  {
    id: "regressions",
    title: "Regressions (08-post-validation/regressions.json)",
    description:
      "Checks that passed before patching and fail after it, plus checks already failing before (never counted). TotalRegressions keeps the seed engine's field name for existing RMM checks.",
    schema: RegressionsSchema,
  },
  {
    id: "catalog",
    title: "Update catalog (03-catalog/catalog.json)",
    description:
      "Every applicable update as the device reported it, with the policy decision (approved or excluded) and why.",
    schema: CatalogSchema,
  },
  {
    id: "install-outcome",
    title: "Install outcome (one line of 05-install/install-summary.jsonl)",
    description: "The outcome of one approved update; install-summary.jsonl holds one such JSON object per line.",
    schema: InstallOutcomeSchema,
  },
  {
    id: "reboot",
    title: "Reboot record (06-reboot/reboot.json)",
    description: "Whether a reboot was required and requested, boot times before and after, and how it ended.",
    schema: RebootRecordSchema,
  },
  {
    id: "uninstall",
    title: "Uninstall record (12-remediation/uninstall.json)",
    description:
      "A remediation's removals after a regression: the device's answer per requested update (wusa/DISM, or a package downgrade to the baseline version) and the updates not requested, with why.",
    schema: UninstallRecordSchema,
  },
  {
    id: "disk-snapshots",
    title: "Disk snapshots before install (05-install/snapshots.json)",
    description:
      "The managed-disk incremental snapshots taken after the catalog and before the install command (policy snapshots.mode beforeInstall; Azure VMs and scale-set instances), with their source disks and times, and the older PatchPilot snapshots of the device that retention deleted. ok false: nothing was installed (170.snapshot-failed).",
    schema: DiskSnapshotsRecordSchema,
  },
  {
    id: "restore",
    title: "OS-disk restore (12-remediation/restore.json)",
    description:
      "A restoreSnapshot remediation: the VM deallocated, a disk created from the pre-install OS snapshot, swapped in as the OS disk, the VM started; the snapshot id, the new disk id and the old disk id (kept).",
    schema: RestoreRecordSchema,
  },
  {
    id: "remediation",
    title: "Remediation record (12-remediation/remediation.json)",
    description:
      "What was done about a regression (policy remediation): recovered, still failing or not possible and why, what was removed, and what the client-layer quarantine holds back. The exit code stays 220.",
    schema: RemediationRecordSchema,
  },
  {
    id: "diagnostics",
    title: "Diagnostics (09-diagnostics/diagnostics.json)",
    description: "Event log errors, update agent errors and disk space collected by the light diagnostics phase.",
    schema: DiagnosticsSchema,
  },
  {
    id: "run-event",
    title: "Run event (one line of 10-index/events.jsonl)",
    description:
      "One event of the run's hash chain, bound to the one before it by prevHash; events.jsonl holds one per line.",
    schema: RunEventSchema,
  },
  {
    id: "artifact-index",
    title: "Artifact index (10-index/artifact-index.json)",
    description: "Every sealed artifact with its SHA-256 and size, sorted by path: the Merkle leaves, in order.",
    schema: ArtifactIndexSchema,
  },
  {
    id: "manifest",
    title: "Manifest (10-index/manifest.json)",
    description: "The seal: RFC 6962 Merkle root over the artifact index and the head of the event chain.",
    schema: ManifestSchema,
  },
  {
    id: "exit-code",
    title: "Exit code (11-report/exit-code.json)",
    description:
      "The exit-code decision, the rule that fired, and every artifact read (with its verification status) to reach it.",
    schema: ExitCodeRecordSchema,
  },
  {
    id: "final-report",
    title: "Final report (11-report/final-report.json)",
    description:
      "The run's outcome for RMM tools, dashboards and auditors, with compliance mappings and evidence hashes.",
    schema: FinalReportSchema,
  },
  {
    id: "receipt",
    title: "Run receipt (11-report/receipt.json)",
    description:
      "The run's commitment: its sealed Merkle root bound to exit-code.json, final-report.json and report.html; the leaf it appends to its tenant's transparency log.",
    schema: RunReceiptSchema,
  },

  {
    id: "window-report",
    title: "Window report ({tenant}/_windows/{windowId}/{instanceId}/window-report.json)",
    description:
      "One maintenance-window occurrence: every device's run id and exit code, the rings, and every decision the window took.",
    schema: WindowReportSchema,
  },
  {
    id: "deployment-report",
    title: "Deployment report ({tenant}/_deployments/{id}/deployment-{id}/deployment-report.json)",
    description:
      "One emergency deployment: the request as accepted, every device's run id and exit code, every stop, the pause / resume / cancel log.",
    schema: DeploymentReportSchema,
  },
  {
    id: "quarantine-entry",
    title: "Quarantine entry (table Quarantine; listed in 01-init/run.json while in force)",
    description:
      "An update held back for one client or the whole tenant until an operator lifts it: why, which runs showed the regression, who lifted it and when.",
    schema: QuarantineEntrySchema,
  },
  {
    id: "release",
    title: "Release ({tenant}/_releases/{ring}/{id}/release.json)",
    description:
      "The exact updates a ring's devices installed without 210/220/240, each with a proof into a run that installed it, and the ring's regressions; a re-cut names the release it replaces (docs/releases.md).",
    schema: ReleaseSchema,
  },
  {
    id: "promotion-decision",
    title: "Promotion decision (promotions/{ring}-{attempt}.json beside the window report)",
    description:
      "The promotion gates of a ring following a release, each with its inputs and verdict, the approvals and the release hash.",
    schema: PromotionDecisionSchema,
  },
  {
    id: "release-approval",
    title: "Release approval (approvals/{principal hash}.json beside the release)",
    description: "A principal's approval of a release for promotion (the manual gate), sealed once.",
    schema: ReleaseApprovalSchema,
  },
  {
    id: "quarantine-decision",
    title: "Quarantine decision ({tenant}/_quarantine/tenant/{id}/quarantine.json)",
    description:
      "The fleet rule's decision to quarantine a KB or package tenant-wide: the clients and runs that regressed, the threshold, the releases counted and re-cut.",
    schema: QuarantineDecisionSchema,
  },

  // Device script outputs: printed by the scripts in lib/device, parsed by the backend, generated by the fleet emulator.
  ...Object.entries(SCRIPT_OUTPUT_SCHEMAS).map(([scriptId, schema]) => ({
    id: `script-${scriptId}-output`,
    title: `Device script output: ${scriptId}`,
    description: `The one JSON document the ${scriptId} device script prints on stdout (lib/device, docs/device-scripts.md).`,
    schema,
  })),
];
