import type { z } from "zod";
import { LockContentionSchema, PhaseFailureSchema, RunRecordSchema } from "../schemas/artifacts/run";
import { BaselineDiffSchema, SystemSnapshotSchema } from "../schemas/artifacts/snapshot";
import { TranscriptStatusSchema } from "../schemas/artifacts/transcript";
import { RegressionsSchema, ValidationReportSchema } from "../schemas/artifacts/validation";
import {
  CatalogSchema,
  DiagnosticsSchema,
  InstallOutcomeSchema,
  RebootRecordSchema,
} from "../schemas/artifacts/catalog";
import { GateReportSchema } from "../schemas/artifacts/gates";
import { HookReportSchema } from "../schemas/artifacts/hooks";
import { LoadBalancerActionSchema, LoadBalancerPoolsBeforeSchema } from "../schemas/artifacts/loadBalancer";
import { ArtifactIndexSchema, ManifestSchema, RunEventSchema } from "../schemas/artifacts/integrity";
import { ExitCodeRecordSchema, FinalReportSchema } from "../schemas/artifacts/outcome";
import { RunReceiptSchema } from "../schemas/artifacts/receipt";
import { RemediationRecordSchema, UninstallRecordSchema } from "../schemas/artifacts/remediation";
import { DiskSnapshotsRecordSchema, RestoreRecordSchema } from "../schemas/artifacts/diskSnapshots";

/** Phase folders, numbered as in the seed engine (the numbers are stable names, not execution order). */
export const PHASES = {
  init: "01-init",
  baseline: "02-baseline",
  catalog: "03-catalog",
  preValidation: "04-pre-validation",
  install: "05-install",
  reboot: "06-reboot",
  postSnapshot: "07-post-snapshot",
  postValidation: "08-post-validation",
  diagnostics: "09-diagnostics",
  index: "10-index",
  report: "11-report",
  /** After a regression, when the policy asks for it: the removal (or restore) and the POST validation run again. */
  remediation: "12-remediation",
} as const;
export type PhaseKey = keyof typeof PHASES;
export type PhaseFolder = (typeof PHASES)[PhaseKey];

/** Execution order (pre-validation runs before the catalog, as in DESIGN.md). */
export const PHASE_ORDER: readonly PhaseKey[] = [
  "init",
  "baseline",
  "preValidation",
  "catalog",
  "install",
  "reboot",
  "postSnapshot",
  "postValidation",
  "diagnostics",
  "remediation",
  "index",
  "report",
];

/** How an artifact's bytes are laid out. */
export type ArtifactFormat = "json" | "jsonl" | "html" | "text";

/** An artifact kind: where it lives in the run folder and the schema its content must satisfy. */
export interface ArtifactSpec {
  path: string;
  format: ArtifactFormat;
  contentType: string;
  /** For json: the document; for jsonl: each line. Absent for html/text. */
  schema?: z.ZodType;
}

function json(path: string, schema: z.ZodType): ArtifactSpec {
  return { path, format: "json", contentType: "application/json", schema };
}

/** Every artifact of DESIGN.md's phase table, plus the exit code and the failure/contention records. */
export const ARTIFACTS = {
  run: json(`${PHASES.init}/run.json`, RunRecordSchema),
  lockContention: json(`${PHASES.init}/lock-contention.json`, LockContentionSchema),
  baseline: json(`${PHASES.baseline}/baseline.json`, SystemSnapshotSchema),
  preValidation: json(`${PHASES.preValidation}/pre-validation.json`, ValidationReportSchema),
  /** Pre-patch gates judged before anything changed (issue 20; only when the effective policy has gates). */
  gates: json(`${PHASES.preValidation}/gates.json`, GateReportSchema),
  catalog: json(`${PHASES.catalog}/catalog.json`, CatalogSchema),
  /** Hooks that act (issue 20): what each point did, action by action; only when the policy has hooks. */
  hooksPreInstall: json(`${PHASES.install}/hooks-pre-install.json`, HookReportSchema),
  hooksPostInstall: json(`${PHASES.install}/hooks-post-install.json`, HookReportSchema),
  hooksPostReboot: json(`${PHASES.postSnapshot}/hooks-post-reboot.json`, HookReportSchema),
  hooksOnFailure: json(`${PHASES.postSnapshot}/hooks-on-failure.json`, HookReportSchema),
  hooksAlways: json(`${PHASES.postSnapshot}/hooks-always.json`, HookReportSchema),
  /** Managed-disk snapshots taken before the install (issue 20; only when the policy takes them). */
  diskSnapshots: json(`${PHASES.install}/snapshots.json`, DiskSnapshotsRecordSchema),
  /** Load-balancer drain (issue 20): the membership before (sealed first), the drain, the restore; ARM-side. */
  lbPoolsBefore: json(`${PHASES.install}/lb-pools-before.json`, LoadBalancerPoolsBeforeSchema),
  lbDrain: json(`${PHASES.install}/lb-drain.json`, LoadBalancerActionSchema),
  lbRestore: json(`${PHASES.postSnapshot}/lb-restore.json`, LoadBalancerActionSchema),
  installSummary: {
    path: `${PHASES.install}/install-summary.jsonl`,
    format: "jsonl",
    contentType: "application/x-ndjson",
    schema: InstallOutcomeSchema,
  },
  reboot: json(`${PHASES.reboot}/reboot.json`, RebootRecordSchema),
  snapshot: json(`${PHASES.postSnapshot}/snapshot.json`, SystemSnapshotSchema),
  baselineDiff: json(`${PHASES.postSnapshot}/baseline-diff.json`, BaselineDiffSchema),
  postValidation: json(`${PHASES.postValidation}/post-validation.json`, ValidationReportSchema),
  regressions: json(`${PHASES.postValidation}/regressions.json`, RegressionsSchema),
  diagnostics: json(`${PHASES.diagnostics}/diagnostics.json`, DiagnosticsSchema),
  uninstall: json(`${PHASES.remediation}/uninstall.json`, UninstallRecordSchema),
  remediationValidation: json(`${PHASES.remediation}/post-validation.json`, ValidationReportSchema),
  remediationRegressions: json(`${PHASES.remediation}/regressions.json`, RegressionsSchema),
  remediation: json(`${PHASES.remediation}/remediation.json`, RemediationRecordSchema),
  /** A restoreSnapshot remediation's OS-disk swap (issue 20). */
  restore: json(`${PHASES.remediation}/restore.json`, RestoreRecordSchema),
  events: {
    path: `${PHASES.index}/events.jsonl`,
    format: "jsonl",
    contentType: "application/x-ndjson",
    schema: RunEventSchema,
  },
  artifactIndex: json(`${PHASES.index}/artifact-index.json`, ArtifactIndexSchema),
  manifest: json(`${PHASES.index}/manifest.json`, ManifestSchema),
  exitCode: json(`${PHASES.report}/exit-code.json`, ExitCodeRecordSchema),
  finalReport: json(`${PHASES.report}/final-report.json`, FinalReportSchema),
  reportHtml: { path: `${PHASES.report}/report.html`, format: "html", contentType: "text/html; charset=utf-8" },
  /** The run's commitment (sealed root + decision + report), the leaf of the tenant's transparency log. */
  receipt: json(`${PHASES.report}/receipt.json`, RunReceiptSchema),
} as const satisfies Record<string, ArtifactSpec>;
export type ArtifactKey = keyof typeof ARTIFACTS;

/** Path of the failure record of a phase that did not produce its artifact. */
export function failurePath(phase: PhaseKey): string {
  return `${PHASES[phase]}/failure.json`;
}

/**
 * Path of a raw Run Command transcript (stdout or stderr, exactly as the agent wrote it), kept as evidence beside the
 * parsed artifact or the failure record. Named after the run command, since a phase may run its script more than once
 * (a re-run after a reboot or a disconnect).
 */
export function transcriptPath(phase: PhaseKey, runCommandName: string, stream: "stdout" | "stderr"): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9-]{0,79}$/.test(runCommandName))
    throw new Error(`invalid run command name: ${runCommandName}`);
  return `${PHASES[phase]}/transcripts/${runCommandName}.${stream}.txt`;
}

const FAILURE_SPEC_SCHEMA = PhaseFailureSchema;

/** Path of the status record kept beside a run command's transcripts (how it ended; see transcriptPath). */
export function transcriptStatusPath(phase: PhaseKey, runCommandName: string): string {
  return transcriptPath(phase, runCommandName, "stdout").replace(/\.stdout\.txt$/, ".status.json");
}

const TRANSCRIPT_STATUS = /^\d\d-[a-z-]+\/transcripts\/[A-Za-z0-9][A-Za-z0-9-]{0,79}\.status\.json$/;

/** The spec an artifact path is checked against; transcripts and unknown files are bytes only. */
export function specForPath(path: string): ArtifactSpec {
  for (const spec of Object.values(ARTIFACTS)) if (spec.path === path) return spec;
  if (TRANSCRIPT_STATUS.test(path)) return json(path, TranscriptStatusSchema);
  if (path.endsWith("/failure.json")) return json(path, FAILURE_SPEC_SCHEMA);
  if (path.endsWith(".json")) return { path, format: "json", contentType: "application/json" };
  return { path, format: "text", contentType: "text/plain; charset=utf-8" };
}

/** Result of parsing an artifact's bytes against its spec. */
export type ParsedArtifact =
  { ok: true; value: unknown } | { ok: false; kind: "unreadable" | "schema-invalid"; problem: string };

/** Decodes and schema-checks an artifact's bytes; never throws. */
export function parseArtifact(spec: ArtifactSpec, bytes: Uint8Array): ParsedArtifact {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return { ok: false, kind: "unreadable", problem: "not valid UTF-8" };
  }
  if (spec.format === "html" || spec.format === "text") return { ok: true, value: text };
  const docs: unknown[] = [];
  const lines = spec.format === "jsonl" ? text.split("\n").filter((l) => l.trim() !== "") : [text];
  for (const [i, line] of lines.entries()) {
    try {
      docs.push(JSON.parse(line));
    } catch {
      return {
        ok: false,
        kind: "unreadable",
        problem: spec.format === "jsonl" ? `line ${i + 1} is not JSON` : "not JSON",
      };
    }
  }
  if (spec.schema === undefined) return { ok: true, value: spec.format === "jsonl" ? docs : docs[0] };
  const values: unknown[] = [];
  for (const [i, doc] of docs.entries()) {
    const result = spec.schema.safeParse(doc);
    if (!result.success) {
      const issue = result.error.issues[0];
      const where = issue && issue.path.length > 0 ? issue.path.join(".") : "(document)";
      const line = spec.format === "jsonl" ? `line ${i + 1}: ` : "";
      return { ok: false, kind: "schema-invalid", problem: `${line}${where}: ${issue?.message ?? "invalid"}` };
    }
    values.push(result.data);
  }
  return { ok: true, value: spec.format === "jsonl" ? values : values[0] };
}
