import { ARTIFACTS } from "../artifacts";
import type { FinalReport } from "../../schemas/artifacts/outcome";

type Framework = FinalReport["compliance"][number]["framework"];

/** A control and the artifacts that evidence it. */
export interface ComplianceMapping {
  framework: Framework;
  control: string;
  paths: readonly string[];
}

const A = ARTIFACTS;

/**
 * Which run artifacts evidence which controls. Deliberately narrow: an artifact is listed only where an auditor
 * could check the control against it (e.g. SI-2 flaw remediation against the catalog decisions and install outcomes).
 */
export const COMPLIANCE_MAP: readonly ComplianceMapping[] = [
  {
    framework: "NIST SP 800-40r4",
    control: "Patch deployment: what was applicable, approved and installed",
    paths: [A.catalog.path, A.installSummary.path],
  },
  {
    framework: "NIST SP 800-40r4",
    control: "Verification that patches took effect without breaking operations",
    paths: [A.snapshot.path, A.baselineDiff.path, A.regressions.path],
  },
  {
    framework: "NIST SP 800-53r5",
    control: "SI-2 Flaw Remediation",
    paths: [A.catalog.path, A.installSummary.path, A.baselineDiff.path],
  },
  {
    framework: "NIST SP 800-53r5",
    control: "CM-3 Configuration Change Control",
    paths: [A.run.path, A.baseline.path, A.snapshot.path, A.baselineDiff.path],
  },
  { framework: "NIST SP 800-53r5", control: "CM-8 System Component Inventory", paths: [A.baseline.path] },
  {
    framework: "NIST SP 800-53r5",
    control: "AU-9 Protection of Audit Information",
    paths: [A.artifactIndex.path, A.manifest.path, A.events.path],
  },
  {
    framework: "NIST SP 800-53r5",
    control: "SI-7 Software, Firmware, and Information Integrity",
    paths: [A.artifactIndex.path, A.manifest.path],
  },
  {
    framework: "CIS Controls v8",
    control: "7.3 Perform Automated Operating System Patch Management",
    paths: [A.catalog.path, A.installSummary.path, A.reboot.path],
  },
  {
    framework: "CIS Controls v8",
    control: "7.4 Perform Automated Application Patch Management",
    paths: [A.catalog.path, A.installSummary.path],
  },
  { framework: "CIS Controls v8", control: "8.2 Collect Audit Logs", paths: [A.events.path, A.diagnostics.path] },
];
