import { ARTIFACTS } from "../../domain/artifacts";
import { installsPartition, runPrefix } from "../../evidence/keys";
import { hashLeaf, inclusionProof, verifyInclusion } from "../../evidence/merkle";
import { merkleLeafData, merkleLeafHashes, sortByPath } from "../../evidence/seal";
import { sha256Hex } from "../../evidence/sha256";
import type { InstallProof, ProofCheck } from "../../schemas/api/installs";
import { InstallOutcomeSchema } from "../../schemas/artifacts/catalog";
import { ClientIdSchema, RunIdSchema, type RunRef } from "../../schemas/common";
import type { InstallRow } from "../../schemas/tableRows";
import type { RunSeal } from "./checkRunSeal";
import { hashCheck, rowClaim } from "./hashCheck";
import type { ProofInputs } from "./readProofInputs";

/** Where an Installs row's evidence must live, or why the row is refused before anything is read for it. */
export type RowScope = { ok: true; run: RunRef } | { ok: false; problem: string };

// Relative segments that start with a letter or digit: no "..", no leading "/", nothing a URL parser would rewrite.
const PLAIN_PATH = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;

/**
 * Scopes a row to the tenant and device asked about. Blob names are built from the request's tenant and device and
 * the row's (validated) client and run id, so a refused row is never read and an accepted one can only name blobs
 * under `{tenant}/{client}/{device}/{runId}/`.
 */
export function scopeRow(row: InstallRow, tenant: string, device: string): RowScope {
  if (row.partitionKey !== installsPartition(tenant, device))
    return { ok: false, problem: "the row is not in this device's partition" };
  if (row.tenant !== tenant) return { ok: false, problem: `the row's tenant field is not ${tenant}` };
  if (row.device !== device) return { ok: false, problem: `the row's device field is not ${device}` };
  if (!ClientIdSchema.safeParse(row.client).success)
    return { ok: false, problem: "the row's client is not a client id" };
  if (!RunIdSchema.safeParse(row.runId).success) return { ok: false, problem: "the row's runId is not a run id" };
  if (!PLAIN_PATH.test(row.artifactPath))
    return { ok: false, problem: "the row's artifactPath is not a plain relative path" };
  return { ok: true, run: { tenant, client: row.client, device, runId: row.runId } };
}

/** What one cited artifact of a run proves, computed once for every record that cites it. */
export interface ArtifactProof {
  path: string;
  /** SHA-256 of the bytes stored now; absent when the blob is missing. */
  sha256?: string;
  /** Size from the Artifacts row. */
  size?: number;
  /** Non-blank lines (numbered as the index numbers them), or why the bytes cannot be split into lines. */
  lines: string[] | { problem: string };
  /** Set when an Artifacts row the proof relies on names a blob outside the run's folder. */
  scopeProblem?: string;
  inclusion: ProofCheck;
  merkle?: InstallProof["merkle"];
}

/** Recomputes the artifact's hash, splits it into lines and proves its leaf is in the run's sealed Merkle tree. */
export function proveArtifact(inputs: ProofInputs, seal: RunSeal, path: string): ArtifactProof {
  const bytes = inputs.blobs.get(path);
  const sha256 = bytes === undefined ? undefined : sha256Hex(bytes);
  const lookup = inputs.rows.get(path);
  const prefix = runPrefix(inputs.run);
  const outside = [...inputs.rows.values()].some((r) => r.status === "outside");
  const inclusion = proveInclusion(seal, path, sha256);
  return {
    path,
    ...(sha256 !== undefined ? { sha256 } : {}),
    ...(lookup?.status === "found" ? { size: lookup.row.size } : {}),
    lines: splitLines(bytes, path),
    // Never echo the foreign blob name: it may belong to another tenant.
    ...(outside ? { scopeProblem: `an Artifacts row of run ${inputs.run.runId} names a blob outside ${prefix}` } : {}),
    inclusion: inclusion.check,
    ...(inclusion.merkle !== undefined ? { merkle: inclusion.merkle } : {}),
  };
}

function splitLines(bytes: Buffer | undefined, path: string): string[] | { problem: string } {
  if (bytes === undefined) return { problem: `${path} is missing` };
  try {
    // Blank lines are skipped exactly as the indexer skipped them (parseArtifact), so line numbers agree.
    return new TextDecoder("utf-8", { fatal: true })
      .decode(bytes)
      .split("\n")
      .filter((l) => l.trim() !== "");
  } catch {
    return { problem: `${path} is not valid UTF-8` };
  }
}

function proveInclusion(
  seal: RunSeal,
  path: string,
  sha256: string | undefined,
): { check: ProofCheck; merkle?: InstallProof["merkle"] } {
  const name = "merkle.inclusion";
  if (seal.index === undefined)
    return { check: { name, ok: false, detail: `no readable ${ARTIFACTS.artifactIndex.path}` } };
  if (seal.manifest === undefined)
    return { check: { name, ok: false, detail: `no readable ${ARTIFACTS.manifest.path}` } };
  const entries = sortByPath(seal.index.entries);
  const leafIndex = entries.findIndex((e) => e.path === path);
  const entry = entries[leafIndex];
  if (entry === undefined)
    return { check: { name, ok: false, detail: `${path} is not a leaf of ${ARTIFACTS.artifactIndex.path}` } };
  const problems: string[] = [];
  if (sha256 !== undefined && entry.sha256 !== sha256)
    problems.push(`the sealed leaf says ${entry.sha256}, ${path} hashes to ${sha256}`);
  if (sha256 === undefined) problems.push(`${path} is missing`);
  const leafHash = hashLeaf(merkleLeafData(entry));
  const auditPath = inclusionProof(merkleLeafHashes(entries), leafIndex);
  const root = seal.manifest.merkle.root;
  if (!verifyInclusion(leafHash, leafIndex, entries.length, auditPath, Buffer.from(root, "hex"))) {
    problems.push(`the audit path of leaf ${leafIndex} does not lead to the sealed root`);
  }
  return {
    check: problems.length === 0 ? { name, ok: true } : { name, ok: false, detail: problems.join("; ") },
    merkle: {
      root,
      leafIndex,
      treeSize: entries.length,
      leafHash: leafHash.toString("hex"),
      auditPath: auditPath.map((h) => h.toString("hex")),
    },
  };
}

/** Path of an artifact in the evidence API (the route that serves it, verified). */
export function artifactHref(tenant: string, runId: string, artifactPath: string): string {
  const path = artifactPath.split("/").map(encodeURIComponent).join("/");
  return `/api/v1/tenants/${encodeURIComponent(tenant)}/runs/${encodeURIComponent(runId)}/artifacts/${path}`;
}

/** The fields of a record that come from the Installs row itself. */
function recordBase(row: InstallRow, tenant: string): Omit<InstallProof, "verification"> {
  return {
    runId: row.runId,
    client: row.client,
    updateId: row.updateId,
    ...(row.kb !== undefined ? { kb: row.kb } : {}),
    title: row.title,
    installed: row.installed,
    result: row.result,
    finishedAt: row.finishedAt,
    evidence: {
      artifactPath: row.artifactPath,
      sha256: row.artifactSha256,
      line: row.line,
      href: artifactHref(tenant, row.runId, row.artifactPath),
    },
  };
}

/** A row refused by the scope check: reported as the index holds it, with nothing read or proven for it. */
export function refusedRecord(row: InstallRow, tenant: string, problem: string, now: Date): InstallProof {
  return {
    ...recordBase(row, tenant),
    verification: { ok: false, checkedAt: now.toISOString(), checks: [{ name: "scope", ok: false, detail: problem }] },
  };
}

const COMPARED = ["updateId", "kb", "title", "installed", "result", "finishedAt"] as const;

/** The cited line exists, is an install outcome, and says what the row says. */
function checkLine(row: InstallRow, lines: ArtifactProof["lines"]): { check: ProofCheck; lineSha256?: string } {
  const name = "summary.line";
  if (!Array.isArray(lines)) return { check: { name, ok: false, detail: lines.problem } };
  const line = lines[row.line - 1];
  if (line === undefined)
    return {
      check: {
        name,
        ok: false,
        detail: `${row.artifactPath} has ${lines.length} lines, the row cites line ${row.line}`,
      },
    };
  const lineSha256 = sha256Hex(Buffer.from(line, "utf8"));
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch {
    return { check: { name, ok: false, detail: `line ${row.line} is not JSON` }, lineSha256 };
  }
  const parsed = InstallOutcomeSchema.safeParse(doc);
  if (!parsed.success)
    return { check: { name, ok: false, detail: `line ${row.line} is not an install outcome` }, lineSha256 };
  const differ = COMPARED.filter((k) => parsed.data[k] !== row[k]).map(
    (k) => `${k}: the line says ${JSON.stringify(parsed.data[k])}, the row says ${JSON.stringify(row[k])}`,
  );
  return {
    check: differ.length === 0 ? { name, ok: true } : { name, ok: false, detail: differ.join("; ") },
    lineSha256,
  };
}

/** One record with its evidence, its inclusion proof and every check recomputed now; ok only when all pass. */
export function proveRecord(
  row: InstallRow,
  inputs: ProofInputs,
  seal: RunSeal,
  artifact: ArtifactProof,
  now: Date,
): InstallProof {
  const { tenant } = inputs.run;
  if (artifact.scopeProblem !== undefined) return refusedRecord(row, tenant, artifact.scopeProblem, now);
  const line = checkLine(row, artifact.lines);
  const checks: ProofCheck[] = [
    { name: "scope", ok: true },
    hashCheck("summary.sha256", row.artifactPath, artifact.sha256, [
      { source: "Installs row", sha256: row.artifactSha256 },
      rowClaim(inputs.rows.get(row.artifactPath)),
    ]),
    line.check,
    artifact.inclusion,
    ...seal.checks,
  ];
  const base = recordBase(row, tenant);
  return {
    ...base,
    evidence: {
      ...base.evidence,
      ...(artifact.size !== undefined ? { size: artifact.size } : {}),
      ...(line.lineSha256 !== undefined ? { lineSha256: line.lineSha256 } : {}),
    },
    ...(artifact.merkle !== undefined ? { merkle: artifact.merkle } : {}),
    ...(seal.manifest !== undefined && seal.manifestSha256 !== undefined
      ? { manifest: { path: ARTIFACTS.manifest.path, sha256: seal.manifestSha256, sealedAt: seal.manifest.sealedAt } }
      : {}),
    ...(seal.manifest !== undefined ? { eventsChainHead: seal.manifest.events.chainHead } : {}),
    verification: { ok: checks.every((c) => c.ok), checkedAt: now.toISOString(), checks },
  };
}
