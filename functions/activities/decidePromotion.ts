import type { EvidenceDeps } from "../../lib/evidence/runEvidence";
import type { QuarantineStore } from "../../lib/quarantine/quarantineStore";
import { decidePromotion } from "../../lib/release/decidePromotion";
import { DecidePromotionInputSchema, type DecidePromotionResult } from "../../lib/schemas/release";

/** Builds the activity that evaluates and seals a ring's promotion gates (lib/release). */
export function makeDecidePromotion(deps: { evidence: EvidenceDeps; quarantine: QuarantineStore }) {
  return async function decidePromotionActivity(rawInput: unknown): Promise<DecidePromotionResult> {
    return decidePromotion(deps.evidence, DecidePromotionInputSchema.parse(rawInput), deps.quarantine);
  };
}
