import type { ZodType } from "zod";
import { canonicalJsonBytes } from "../evidence/canonicalJson";
import { EvidenceConflictError } from "../evidence/errors";
import { openEvidenceSession, type EvidenceDeps } from "../evidence/evidenceSession";
import { sha256Hex } from "../evidence/sha256";
import type { RunRef } from "../schemas/common";
import {
  QuarantineDecisionSchema,
  type QuarantineDecision,
  PromotionDecisionSchema,
  ReleaseApprovalSchema,
  ReleaseSchema,
  type PromotionDecision,
  type Release,
  type ReleaseApproval,
  type StoredDocument,
} from "../schemas/release";

export const RELEASE_FILE = "release.json";
const JSON_TYPE = "application/json";

// Releases use the run-scoped store and index as window reports do (lib/evidence/windowEvidence.ts): the release maps
// onto `{tenant}/_releases/{ring}/{releaseId}/`, a client slug no real client can have, so each document gets the
// same create-once blob and create-once index row, and reads back through the same verified session.
export function releaseScope(tenant: string, ring: string, id: string): RunRef {
  return { tenant, client: "_releases", device: ring, runId: id };
}

/** Promotion decisions live beside the window occurrence's report: `{tenant}/_windows/{window}/{occurrence}/`. */
function windowScope(tenant: string, windowId: string, occurrence: string): RunRef {
  return { tenant, client: "_windows", device: windowId, runId: occurrence };
}

async function putDocument(deps: EvidenceDeps, scope: RunRef, path: string, value: unknown): Promise<StoredDocument> {
  const session = openEvidenceSession(deps, scope);
  const stored = await session.putBytes(path, canonicalJsonBytes(value), JSON_TYPE);
  await session.index([{ ...stored, merkleLeaf: false }]);
  return { path: stored.blobName, sha256: stored.sha256 };
}

/** A document read back through the scope's evidence session: confined, SHA-256 checked against its row, parsed. */
async function readDocument<T>(
  deps: EvidenceDeps,
  scope: RunRef,
  path: string,
  schema: ZodType<T>,
): Promise<{ value: T; stored: StoredDocument } | undefined> {
  const session = openEvidenceSession(deps, scope);
  const reading = await session.readBytes(path);
  if (reading.read.status === "missing") return undefined;
  if (reading.bytes === undefined || reading.row === undefined)
    throw new Error(`${session.prefix}${path} cannot be read back verified: ${reading.read.status}`);
  const value = schema.parse(JSON.parse(reading.bytes.toString("utf8")));
  return { value, stored: { path: reading.row.blobName, sha256: reading.row.sha256 } };
}

/** Seals a release (create-once: the same bytes again succeed, different bytes under its id are a conflict). */
export function putRelease(deps: EvidenceDeps, release: Release): Promise<StoredDocument> {
  const parsed = ReleaseSchema.parse(release);
  return putDocument(deps, releaseScope(parsed.tenant, parsed.source.ring, parsed.id), RELEASE_FILE, parsed);
}

/** A release read back verified, or undefined when it was never sealed. */
export function readRelease(
  deps: EvidenceDeps,
  tenant: string,
  ring: string,
  id: string,
): Promise<{ value: Release; stored: StoredDocument } | undefined> {
  return readDocument(deps, releaseScope(tenant, ring, id), RELEASE_FILE, ReleaseSchema);
}

/** Every release of a tenant, read back verified (oldest sealed first). */
export async function listReleases(
  deps: EvidenceDeps,
  tenant: string,
): Promise<{ value: Release; stored: StoredDocument }[]> {
  const prefix = `${tenant}/_releases/`;
  const names = (await deps.store.listBlobNames(prefix)).filter((n) => n.endsWith(`/${RELEASE_FILE}`));
  const out: { value: Release; stored: StoredDocument }[] = [];
  for (const name of names) {
    const [ring, id] = name.slice(prefix.length).split("/");
    if (ring === undefined || id === undefined) continue;
    const read = await readRelease(deps, tenant, ring, id);
    if (read !== undefined) out.push(read);
  }
  return out.sort((a, b) =>
    a.value.sealedAt === b.value.sealedAt
      ? a.value.id < b.value.id
        ? -1
        : 1
      : a.value.sealedAt < b.value.sealedAt
        ? -1
        : 1,
  );
}

/** The releases no re-cut replaced (a re-cut names the one it replaces). */
export function currentReleases<T extends { value: Release }>(all: readonly T[]): T[] {
  const replaced = new Set(all.flatMap((r) => (r.value.replaces === undefined ? [] : [r.value.replaces.id])));
  return all.filter((r) => !replaced.has(r.value.id));
}

/** The current release sealed by a ring: its latest release that no re-cut replaced. */
export function currentReleaseOf<T extends { value: Release }>(all: readonly T[], ring: string): T | undefined {
  return currentReleases(all)
    .filter((r) => r.value.source.ring === ring)
    .at(-1);
}

/** Seals a promotion decision beside its window occurrence's report. */
export function putPromotion(deps: EvidenceDeps, decision: PromotionDecision): Promise<StoredDocument> {
  const parsed = PromotionDecisionSchema.parse(decision);
  return putDocument(
    deps,
    windowScope(parsed.tenant, parsed.windowId, parsed.occurrence),
    `promotions/${parsed.ring}-${parsed.attempt}.json`,
    parsed,
  );
}

/** A promotion decision read back verified. */
export function readPromotion(
  deps: EvidenceDeps,
  tenant: string,
  windowId: string,
  occurrence: string,
  ring: string,
  attempt: number,
): Promise<{ value: PromotionDecision; stored: StoredDocument } | undefined> {
  return readDocument(
    deps,
    windowScope(tenant, windowId, occurrence),
    `promotions/${ring}-${attempt}.json`,
    PromotionDecisionSchema,
  );
}

function approvalPath(principal: string): string {
  return `approvals/${sha256Hex(Buffer.from(principal, "utf8")).slice(0, 32)}.json`;
}

/**
 * Records an approval beside the release (one per principal, create-once): a second approval by the same principal
 * keeps the first and returns it (`created: false`).
 */
export async function putApproval(
  deps: EvidenceDeps,
  ring: string,
  approval: ReleaseApproval,
): Promise<{ approval: ReleaseApproval; stored: StoredDocument; created: boolean }> {
  const parsed = ReleaseApprovalSchema.parse(approval);
  const scope = releaseScope(parsed.tenant, ring, parsed.release.id);
  try {
    const stored = await putDocument(deps, scope, approvalPath(parsed.principal), parsed);
    return { approval: parsed, stored, created: true };
  } catch (error) {
    if (!(error instanceof EvidenceConflictError)) throw error;
    const existing = await readDocument(deps, scope, approvalPath(parsed.principal), ReleaseApprovalSchema);
    if (existing === undefined) throw error;
    return { approval: existing.value, stored: existing.stored, created: false };
  }
}

/** The approvals of a release, read back verified. */
export async function listApprovals(
  deps: EvidenceDeps,
  tenant: string,
  ring: string,
  id: string,
): Promise<{ value: ReleaseApproval; stored: StoredDocument }[]> {
  const scope = releaseScope(tenant, ring, id);
  const session = openEvidenceSession(deps, scope);
  const paths = (await session.storedPaths()).filter((p) => p.startsWith("approvals/"));
  const out: { value: ReleaseApproval; stored: StoredDocument }[] = [];
  for (const path of paths) {
    const read = await readDocument(deps, scope, path, ReleaseApprovalSchema);
    if (read !== undefined) out.push(read);
  }
  return out;
}

/** Where a quarantine decision is sealed: `{tenant}/_quarantine/tenant/{q-…}/quarantine.json`. */
export function quarantineDecisionScope(
  decision: Pick<QuarantineDecision, "tenant" | "key" | "quarantinedAt">,
): RunRef {
  const key = sha256Hex(Buffer.from(decision.key, "utf8")).slice(0, 12);
  const at = decision.quarantinedAt.replace(/[^0-9]/g, "").slice(0, 14);
  return { tenant: decision.tenant, client: "_quarantine", device: "tenant", runId: `q-${key}-${at}` };
}

/** Seals a quarantine decision (create-once; a retry with the same decision writes the same bytes). */
export function putQuarantineDecision(deps: EvidenceDeps, decision: QuarantineDecision): Promise<StoredDocument> {
  const parsed = QuarantineDecisionSchema.parse(decision);
  return putDocument(deps, quarantineDecisionScope(parsed), "quarantine.json", parsed);
}

/** A sealed quarantine decision read back by its blob name, checked against the SHA-256 it was sealed with. */
export async function readQuarantineDecision(deps: EvidenceDeps, stored: StoredDocument): Promise<QuarantineDecision> {
  const bytes = await deps.store.readBlob(stored.path);
  if (bytes === undefined) throw new Error(`quarantine decision ${stored.path} is gone`);
  const actual = sha256Hex(bytes);
  if (actual !== stored.sha256)
    throw new Error(`quarantine decision ${stored.path} hashes to ${actual}, sealed as ${stored.sha256}`);
  return QuarantineDecisionSchema.parse(JSON.parse(bytes.toString("utf8")));
}
