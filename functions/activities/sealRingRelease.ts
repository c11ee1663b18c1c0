import type { EvidenceDeps } from "../../lib/evidence/runEvidence";
import type { QuarantineStore } from "../../lib/quarantine/quarantineStore";
import { sealRingRelease } from "../../lib/release/sealRingRelease";
import { SealRingReleaseInputSchema, type SealRingReleaseResult } from "../../lib/schemas/release";

/** Builds the activity that seals a ring's release and applies the fleet-wide quarantine rule (lib/release). */
export function makeSealRingRelease(deps: { evidence: EvidenceDeps; quarantine: QuarantineStore }) {
  return async function sealRingReleaseActivity(rawInput: unknown): Promise<SealRingReleaseResult> {
    return sealRingRelease(deps.evidence, SealRingReleaseInputSchema.parse(rawInput), deps.quarantine);
  };
}
