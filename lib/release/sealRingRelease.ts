import { ARTIFACTS } from "../domain/artifacts";
import { buildRelease, keysToQuarantine, recutRelease, type RingRunReading } from "../domain/release/buildRelease";
import { openEvidenceSession, type EvidenceDeps } from "../evidence/evidenceSession";
import { hashLeaf, inclusionProof } from "../evidence/merkle";
import { merkleLeafData, merkleLeafHashes, sortByPath } from "../evidence/seal";
import { sha256Hex } from "../evidence/sha256";
import type { Catalog, InstallOutcome } from "../schemas/artifacts/catalog";
import type { ArtifactIndex, Manifest } from "../schemas/artifacts/integrity";
import type { ExitCodeRecord } from "../schemas/artifacts/outcome";
import type { RunRef } from "../schemas/common";
import { quarantineId, type QuarantinedUpdate } from "../schemas/quarantine";
import type { QuarantineStore } from "../quarantine/quarantineStore";
import type { ReleaseProof, SealRingReleaseInput, SealRingReleaseResult } from "../schemas/release";
import { currentReleases, listReleases, putQuarantineDecision, putRelease } from "./releaseStore";

/** The quarantine store (lib/quarantine), as far as the rule needs it. */
export type QuarantineSink = Pick<QuarantineStore, "quarantine" | "get">;

/** A release key as the quarantine store names it: a KB, or a package. */
export function quarantinedUpdate(key: string): QuarantinedUpdate {
  return /^KB\d{6,8}$/.test(key) ? { kind: "kb", kb: key } : { kind: "package", name: key };
}

/** A ring's release id: readable, and the same on every retry of the same ring of the same occurrence. */
export function releaseIdFor(ring: string, localDate: string, windowId: string, instanceId: string): string {
  const digest = sha256Hex(Buffer.from(`${windowId}/${instanceId}/${ring}`, "utf8")).slice(0, 8);
  return `rel-${ring}-${localDate.replace(/-/g, "")}-${digest}`;
}

/** One run of the ring read back through its evidence session: the seal must verify, or nothing of it is used. */
async function readRingRun(deps: EvidenceDeps, run: RunRef): Promise<RingRunReading | undefined> {
  const session = openEvidenceSession(deps, run);
  const back = await session.readAll({ skip: (p) => p.includes("/transcripts/") });
  const value = <T>(path: string): T | undefined => {
    const r = back.readings.get(path);
    return r?.read.status === "verified" ? (r.value as T) : undefined;
  };
  const exit = value<ExitCodeRecord>(ARTIFACTS.exitCode.path);
  const manifest = value<Manifest>(ARTIFACTS.manifest.path);
  const index = value<ArtifactIndex>(ARTIFACTS.artifactIndex.path);
  // A run whose decision or seal does not verify is not evidence of anything: left out of the release.
  if (exit === undefined || manifest === undefined || index === undefined || back.sealProblems.length > 0)
    return undefined;
  const installs = value<InstallOutcome[]>(ARTIFACTS.installSummary.path) ?? [];
  const catalog = value<Catalog>(ARTIFACTS.catalog.path);
  const path = ARTIFACTS.installSummary.path;
  const entries = sortByPath(index.entries);
  const leafIndex = entries.findIndex((e) => e.path === path);
  const entry = entries[leafIndex];
  let proof: ReleaseProof | undefined;
  if (entry !== undefined) {
    const logged = await deps.log?.find(run);
    proof = {
      run,
      artifact: { path, sha256: entry.sha256 },
      merkle: {
        root: manifest.merkle.root,
        leafIndex,
        treeSize: entries.length,
        leafHash: hashLeaf(merkleLeafData(entry)).toString("hex"),
        auditPath: inclusionProof(merkleLeafHashes(entries), leafIndex).map((h) => h.toString("hex")),
      },
      ...(logged !== undefined
        ? { log: { index: logged.index, leafHash: logged.leafHash, treeSize: logged.size } }
        : {}),
    };
  }
  return { run, exitCode: exit.exitCode, installs, catalog, proof };
}

/**
 * After a ring of a window with a `release` block: reads each completed run back verified, seals the ring's release
 * (exact bits installed without 210/220/240, each with its proof; the ring's 220s with the keys they installed),
 * then applies the fleet-wide quarantine rule over every release of the tenant (a key regressed at N clients or
 * more) and re-cuts each current release that still contains a quarantined key. Idempotent: ids and times derive
 * from the input, so a retry writes the same bytes.
 */
export async function sealRingRelease(
  deps: EvidenceDeps,
  input: SealRingReleaseInput,
  quarantine?: QuarantineSink,
): Promise<SealRingReleaseResult> {
  const readings: RingRunReading[] = [];
  for (const run of input.runs) {
    const r = await readRingRun(deps, run);
    if (r !== undefined) readings.push(r);
  }
  const id = releaseIdFor(input.ring, input.occurrence.localDate, input.windowId, input.occurrence.instanceId);
  const release = buildRelease({
    id,
    tenant: input.tenant,
    source: {
      windowId: input.windowId,
      ring: input.ring,
      occurrence: input.occurrence.instanceId,
      localDate: input.occurrence.localDate,
    },
    ringFinishedAt: input.finishedAt,
    targeted: input.targeted,
    runs: readings,
  });
  const stored = await putRelease(deps, release);
  const decisions = [
    `ring ${input.ring} sealed release ${id}: ${release.updates.length} updates from ${release.devices.succeeded} of ${release.devices.targeted} devices` +
      (release.regressions.length > 0 ? `, ${release.regressions.length} regressions` : ""),
  ];

  // Fleet-wide quarantine: over every release the tenant sealed (read back verified), not just this ring's.
  const all = await listReleases(deps, input.tenant);
  const regressed = keysToQuarantine(
    all.flatMap((r) => r.value.regressions),
    input.quarantineAfterClients,
  );
  const quarantined: string[] = [];
  const reasons = new Map<string, string>();
  const made: { key: string; entryId: string; reason: string; clients: string[]; runs: string[] }[] = [];
  for (const [key, clients] of regressed) {
    const update = quarantinedUpdate(key);
    // An operator's lift stands until the key regresses at N clients again in rings that finished after it.
    const existing = await quarantine?.get(input.tenant, quarantineId("tenant", undefined, update));
    const lifted = existing?.lifted;
    const counted =
      lifted === undefined
        ? clients
        : (keysToQuarantine(
            all.filter((r) => r.value.ringFinishedAt > lifted.at).flatMap((r) => r.value.regressions),
            input.quarantineAfterClients,
          ).get(key) ?? []);
    if (counted.length === 0) continue;
    const reason = `regressed at ${counted.length} clients (${counted.join(", ")}); quarantined tenant-wide`;
    reasons.set(key, reason);
    quarantined.push(key);
    const runs = all.flatMap((r) =>
      r.value.regressions.filter((g) => g.keys.includes(key) && counted.includes(g.client)).map((g) => g.runId),
    );
    const outcome = await quarantine?.quarantine({
      tenant: input.tenant,
      scope: "tenant",
      update,
      reason,
      source: { runs: [...new Set(runs)].sort(), clients: counted },
      quarantinedAt: input.finishedAt,
      quarantinedBy: "patchpilot",
    });
    // Only a quarantine this ring made (a retry finds its own entry, same time) gets a decision and an event.
    if (outcome === undefined || outcome.entry.quarantinedAt === input.finishedAt)
      made.push({
        key,
        entryId: outcome?.entry.id ?? quarantineId("tenant", undefined, update),
        reason,
        clients: counted,
        runs: [...new Set(runs)].sort(),
      });
  }
  if (quarantined.length > 0) decisions.push(`quarantined tenant-wide: ${quarantined.join(", ")}`);
  const recut: SealRingReleaseResult["recut"] = [];
  for (const current of currentReleases(all)) {
    const remove = new Map([...reasons].filter(([k]) => current.value.updates.some((u) => u.key === k)));
    if (remove.size === 0) continue;
    const next = recutRelease(current.value, current.stored.sha256, remove, input.finishedAt);
    await putRelease(deps, next);
    recut.push({ id: next.id, replaces: current.value.id, removed: [...remove.keys()] });
    decisions.push(`release ${current.value.id} re-cut as ${next.id} without ${[...remove.keys()].join(", ")}`);
  }
  const quarantineDecisions = [];
  for (const m of made) {
    quarantineDecisions.push(
      await putQuarantineDecision(deps, {
        schemaVersion: 1,
        kind: "patchpilot-quarantine-decision",
        tenant: input.tenant,
        scope: "tenant",
        key: m.key,
        entryId: m.entryId,
        reason: m.reason,
        quarantinedAt: input.finishedAt,
        clients: m.clients,
        runs: m.runs,
        threshold: input.quarantineAfterClients,
        window: { windowId: input.windowId, occurrence: input.occurrence.instanceId, ring: input.ring },
        releases: all
          .filter((r) => r.value.regressions.some((g) => g.keys.includes(m.key)))
          .map((r) => ({ id: r.value.id, sha256: r.stored.sha256 })),
        recut: recut.filter((r) => r.removed.includes(m.key)).map((r) => ({ id: r.id, replaces: r.replaces })),
      }),
    );
  }
  return {
    quarantineDecisions,
    release: {
      ...stored,
      id,
      updates: release.updates.length,
      regressions: release.regressions.length,
    },
    quarantined,
    recut,
    decisions,
  };
}
