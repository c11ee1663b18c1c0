import { ARTIFACTS } from "../artifacts";
import type { FinalReport } from "../../schemas/artifacts/outcome";

type Framework = FinalReport["compliance"][number]["framework"];

/**
 * A control (NIST SP 800-53r5), phase (NIST SP 800-40r4, the seed's Plan/Assess/Deploy/Verify) or control/safeguard
 * (CIS Controls v8) and the run artifacts that evidence it.
 */
export interface ComplianceMapping {
  framework: Framework;
  /** Control id (SI-2), phase (Verify) or CIS control/safeguard number (7.3, 16). */
  id: string;
  title: string;
  /** Artifact paths inside a run folder. */
  paths: readonly string[];
}

const A = ARTIFACTS;

/**
 * The one compliance mapping: the per-run final report (and report.html) and the export's matrix both render it.
 * Starts from the seed's "Standards Mapping" (every control it names, with at least the artifacts it names; its
 * UpdatePolicy.json / AppValidationPolicy.json are the effective policy recorded in run.json) and adds only controls
 * an auditor can check against this run's artifacts. Deliberately not claimed: CIS 7.4 (application patch
 * management: PatchPilot patches what the OS update source offers, no third-party application catalogue exists) and
 * SP 800-40r4's monitoring between runs (no single run evidences it).
 */
export const COMPLIANCE_MAP: readonly ComplianceMapping[] = [
  {
    framework: "NIST SP 800-40r4",
    id: "Plan",
    title: "Plan: the update and app-validation policy in force for the run, and where each value came from",
    paths: [A.run.path],
  },
  {
    framework: "NIST SP 800-40r4",
    id: "Assess",
    title: "Assess: the device's state, the applicable updates and the business apps' health before patching",
    paths: [A.baseline.path, A.catalog.path, A.preValidation.path],
  },
  {
    framework: "NIST SP 800-40r4",
    id: "Deploy",
    title: "Deploy: what was approved and installed, and the reboot",
    paths: [A.installSummary.path, A.reboot.path],
  },
  {
    framework: "NIST SP 800-40r4",
    id: "Verify",
    title: "Verify: the patches took effect without breaking the business apps",
    paths: [A.postValidation.path, A.regressions.path, A.snapshot.path, A.baselineDiff.path],
  },
  {
    framework: "NIST SP 800-53r5",
    id: "SI-2",
    title: "Flaw Remediation",
    paths: [A.catalog.path, A.installSummary.path, A.baselineDiff.path, A.finalReport.path],
  },
  {
    framework: "NIST SP 800-53r5",
    id: "RA-5",
    title: "Vulnerability Monitoring and Scanning",
    paths: [A.catalog.path],
  },
  {
    framework: "NIST SP 800-53r5",
    id: "CM-2",
    title: "Baseline Configuration",
    paths: [A.baseline.path, A.snapshot.path],
  },
  {
    framework: "NIST SP 800-53r5",
    id: "CM-3",
    title: "Configuration Change Control",
    paths: [A.run.path, A.baseline.path, A.snapshot.path, A.baselineDiff.path],
  },
  { framework: "NIST SP 800-53r5", id: "CM-8", title: "System Component Inventory", paths: [A.baseline.path] },
  {
    framework: "NIST SP 800-53r5",
    id: "AU-9",
    title: "Protection of Audit Information",
    paths: [A.artifactIndex.path, A.manifest.path, A.events.path],
  },
  {
    framework: "NIST SP 800-53r5",
    id: "SI-7",
    title: "Software, Firmware, and Information Integrity",
    paths: [A.artifactIndex.path, A.manifest.path],
  },
  {
    framework: "CIS Controls v8",
    id: "7.3",
    title: "Perform Automated Operating System Patch Management",
    paths: [A.catalog.path, A.installSummary.path, A.reboot.path],
  },
  { framework: "CIS Controls v8", id: "8.2", title: "Collect Audit Logs", paths: [A.events.path, A.diagnostics.path] },
  {
    framework: "CIS Controls v8",
    id: "12",
    title: "Network Infrastructure Management: driver and service inventory before and after patching",
    paths: [A.baseline.path, A.snapshot.path],
  },
  {
    framework: "CIS Controls v8",
    id: "16",
    title: "Application Software Security: the business apps' checks before and after patching",
    paths: [A.preValidation.path, A.postValidation.path],
  },
];

/** How the final report names a control in its `control` field: `SI-2 Flaw Remediation`, `Verify: …`. */
export function controlLabel(m: Pick<ComplianceMapping, "id" | "title">): string {
  return m.title.startsWith(`${m.id}:`) ? m.title : `${m.id} ${m.title}`;
}
