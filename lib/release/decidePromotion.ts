import { evaluateGates } from "../domain/release/evaluateGates";
import type { EvidenceDeps } from "../evidence/evidenceSession";
import type {
  DecidePromotionInput,
  DecidePromotionResult,
  PromotionDecision,
  ReleaseAllowance,
} from "../schemas/release";
import type { QuarantineStore } from "../quarantine/quarantineStore";
import { currentReleaseOf, listApprovals, listReleases, putPromotion } from "./releaseStore";

/** The quarantine store (lib/quarantine): a lifted tenant-wide quarantine closes the key's regressions. */
export type LiftedKeys = Pick<QuarantineStore, "list">;

async function liftedKeys(store: LiftedKeys | undefined, tenant: string): Promise<string[]> {
  if (store === undefined) return [];
  const entries = await store.list(tenant);
  return entries
    .filter((e) => e.scope === "tenant" && e.lifted !== undefined)
    .map((e) => (e.update.kind === "kb" ? e.update.kb : e.update.name));
}

/**
 * When a ring that follows another is about to start: reads the followed ring's current release, every release's
 * observed regressions and the release's approvals back verified, evaluates the gates, and seals the decision beside
 * the window occurrence's report (`promotions/{ring}-{attempt}.json`). Promoted: the release's exact set, with each
 * update's proof reference, for the ring's device runs.
 */
export async function decidePromotion(
  deps: EvidenceDeps,
  input: DecidePromotionInput,
  lifted?: LiftedKeys,
): Promise<DecidePromotionResult> {
  const all = await listReleases(deps, input.tenant);
  const current = currentReleaseOf(all, input.follows);
  const approvals =
    current === undefined ? [] : await listApprovals(deps, input.tenant, input.follows, current.value.id);
  const verdict = evaluateGates({
    now: new Date(input.now),
    gates: input.gates,
    followedRing: input.follows,
    release: current?.value,
    regressions: all.flatMap((r) => r.value.regressions),
    closedKeys: await liftedKeys(lifted, input.tenant),
    approvals: approvals.map((a) => a.value),
  });
  const decision: PromotionDecision = {
    schemaVersion: 1,
    kind: "patchpilot-promotion",
    tenant: input.tenant,
    windowId: input.windowId,
    occurrence: input.occurrence,
    ring: input.ring,
    follows: input.follows,
    attempt: input.attempt,
    decidedAt: input.now,
    ...(current === undefined
      ? {}
      : { release: { id: current.value.id, sha256: current.stored.sha256, path: current.stored.path } }),
    gates: verdict.gates,
    approvals: approvals.map((a) => ({ principal: a.value.principal, at: a.value.at, sha256: a.stored.sha256 })),
    promoted: verdict.promoted,
    ...(verdict.recheckAt !== undefined ? { recheckAt: verdict.recheckAt } : {}),
    reason: verdict.reason,
  };
  const stored = await putPromotion(deps, decision);
  const allowance: ReleaseAllowance | undefined =
    verdict.promoted && current !== undefined
      ? {
          id: current.value.id,
          sha256: current.stored.sha256,
          promotion: stored,
          updates: current.value.updates.map((u) => ({
            key: u.key,
            updateId: u.updateId,
            ...(u.revision !== undefined ? { revision: u.revision } : {}),
            ...(u.version !== undefined ? { version: u.version } : {}),
            proof: {
              runId: u.proof.run.runId,
              path: u.proof.artifact.path,
              leafIndex: u.proof.merkle.leafIndex,
              root: u.proof.merkle.root,
            },
          })),
        }
      : undefined;
  return {
    promoted: verdict.promoted,
    reason: verdict.reason,
    ...(verdict.recheckAt !== undefined ? { recheckAt: verdict.recheckAt } : {}),
    decision: stored,
    ...(allowance !== undefined ? { allowance } : {}),
  };
}
