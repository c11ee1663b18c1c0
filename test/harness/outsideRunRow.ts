import { createHash } from "node:crypto";
import type { StorageClients } from "../../lib/azure/storageClients";
import { toTableKey } from "../../lib/evidence/keys";
import type { EvidenceDeps } from "../../lib/evidence/runEvidence";
import type { RunRef } from "../../lib/schemas/common";
import type { RunRow } from "../../lib/schemas/tableRows";
import { uniqueRunId } from "./storage";

/** What {@link plantOutsideRow} planted: run A's forged row and the tenant-B blob it names. */
export interface OutsideRow {
  /** The run whose Artifacts partition holds the forged row (tenant A). */
  runA: RunRef;
  /** The other tenant's run that really stored the bytes (tenant B). */
  runB: RunRef;
  path: string;
  /** Tenant B's bytes: a test asserts these are never served, cited or packaged for run A. */
  foreign: Buffer;
  /** Their SHA-256, computed here with node:crypto (not with the code under test), and carried by the forged row. */
  foreignSha256: string;
  /** The blob name the forged row points at, inside tenant B's run folder. */
  foreignBlobName: string;
}

/** Options of {@link plantOutsideRow}. */
export interface PlantOptions {
  /** Artifact path of the forged row (and of B's real artifact). */
  path: string;
  /** Tenant B's bytes, or a function of B's run giving them (make them schema-valid, so only the folder check refuses). */
  bytes: Buffer | ((runB: RunRef) => Buffer);
  /** Status of both runs' Runs rows; default completed. */
  status?: RunRow["status"];
  /** Tenants to use (default t-iso-a, t-iso-b); a test that reaches a tenant-scoped API passes its own. */
  tenantA?: string;
  tenantB?: string;
}

/**
 * The shared fixture of the tenant-isolation tests: tenant B legitimately stores an artifact (write-once store, its
 * own index row), and run A of tenant A gets an Artifacts row for the same path whose blobName points into B's run
 * folder, with B's matching SHA-256 and size. Hash checks alone would accept it; only the "row must name
 * `artifactBlobName(run, path)`" rule refuses it. Both runs get Runs rows, so tenant-scoped lookups find run A.
 */
export async function plantOutsideRow(
  storage: StorageClients,
  evidence: EvidenceDeps,
  options: PlantOptions,
): Promise<OutsideRow> {
  const status = options.status ?? "completed";
  const runA: RunRef = {
    tenant: options.tenantA ?? "t-iso-a",
    client: "c-a",
    device: "DEV-A",
    runId: uniqueRunId("iso-a"),
  };
  const runB: RunRef = {
    tenant: options.tenantB ?? "t-iso-b",
    client: "c-b",
    device: "DEV-B",
    runId: uniqueRunId("iso-b"),
  };
  const bytes = typeof options.bytes === "function" ? options.bytes(runB) : options.bytes;
  const stored = await evidence.store.put(runB, options.path, bytes, "application/octet-stream");
  await evidence.index.indexArtifacts(runB, [{ ...stored, merkleLeaf: true }]);
  const startedAt = "2026-01-20T02:00:00.000Z";
  await evidence.index.upsertRun(runB, { status, startedAt });
  await evidence.index.upsertRun(runA, { status, startedAt });

  const foreignSha256 = createHash("sha256").update(bytes).digest("hex");
  const foreignBlobName = `${runB.tenant}/${runB.client}/${runB.device}/${runB.runId}/${options.path}`;
  // The forgery: no code path writes this (the store and index only write inside the run), so the test does it.
  await storage.tables.artifacts.upsertEntity(
    {
      partitionKey: runA.runId,
      rowKey: toTableKey(options.path),
      path: options.path,
      blobName: foreignBlobName,
      sha256: foreignSha256,
      size: bytes.byteLength,
      merkleLeaf: true,
    },
    "Replace",
  );
  return { runA, runB, path: options.path, foreign: bytes, foreignSha256, foreignBlobName };
}
