import { Readable } from "node:stream";
import type { StoredArtifact } from "../../lib/evidence/blobStore";
import { artifactBlobName, installsPartition, installsRowKey, runsPartition, toTableKey } from "../../lib/evidence/keys";
import type { EvidenceDeps } from "../../lib/evidence/runEvidence";
import { sha256Hex } from "../../lib/evidence/sha256";
import type { InstallIndexRecord } from "../../lib/evidence/tableIndex";
import type { ExportSource } from "../../lib/export/exportSource";
import type { RunInScope } from "../../lib/export/listRunsInScope";
import type { RunRef } from "../../lib/schemas/common";
import type { ArtifactRow, InstallRow, RunRow } from "../../lib/schemas/tableRows";

/**
 * The evidence store and index in memory, for unit tests of code above them (the export writer): the same write
 * paths as lib/evidence (writeSampleRun, sealRun) land here, and an ExportSource reads them back as streams.
 */
export class MemoryEvidence {
  readonly blobs = new Map<string, Buffer>();
  readonly artifacts = new Map<string, Map<string, ArtifactRow>>();
  readonly installs = new Map<string, InstallRow[]>();
  readonly runs = new Map<string, { run: RunRef; row: RunRow }>();

  /** EvidenceDeps over the maps (only what writing and sealing a run uses). */
  deps(): EvidenceDeps {
    const store = {
      stats: { blobWrites: 0, blobReads: 0 },
      put: (run: RunRef, path: string, bytes: Uint8Array): Promise<StoredArtifact> => {
        const blobName = artifactBlobName(run, path);
        this.blobs.set(blobName, Buffer.from(bytes));
        return Promise.resolve({ path, blobName, sha256: sha256Hex(bytes), size: bytes.byteLength, created: true });
      },
      get: (run: RunRef, path: string) => Promise.resolve(this.blobs.get(artifactBlobName(run, path))),
      readBlob: (name: string) => Promise.resolve(this.blobs.get(name)),
      listBlobNames: (prefix: string) => Promise.resolve([...this.blobs.keys()].filter((k) => k.startsWith(prefix)).sort()),
    };
    const index = {
      stats: { transactions: 0, queries: 0 },
      indexArtifacts: (run: RunRef, list: (StoredArtifact & { merkleLeaf: boolean })[]) => {
        const rows = this.artifacts.get(run.runId) ?? new Map<string, ArtifactRow>();
        for (const a of list) {
          rows.set(a.path, { partitionKey: run.runId, rowKey: toTableKey(a.path), path: a.path, blobName: a.blobName, sha256: a.sha256, size: a.size, merkleLeaf: a.merkleLeaf });
        }
        this.artifacts.set(run.runId, rows);
        return Promise.resolve();
      },
      readArtifacts: (runId: string) => Promise.resolve(new Map(this.artifacts.get(runId) ?? [])),
      indexInstalls: (run: RunRef, artifact: { path: string; sha256: string }, records: InstallIndexRecord[]) => {
        const partitionKey = installsPartition(run.tenant, run.device);
        const rows = this.installs.get(partitionKey) ?? [];
        for (const r of records) {
          rows.push({
            partitionKey,
            rowKey: installsRowKey(r.kb ?? r.updateId, run.runId),
            tenant: run.tenant,
            client: run.client,
            device: run.device,
            runId: run.runId,
            updateId: r.updateId,
            ...(r.kb ? { kb: r.kb } : {}),
            title: r.title,
            installed: r.installed,
            result: r.result,
            finishedAt: r.finishedAt,
            artifactPath: artifact.path,
            artifactSha256: artifact.sha256,
            line: r.line,
          });
        }
        this.installs.set(partitionKey, rows.sort((a, b) => (a.rowKey < b.rowKey ? -1 : 1)));
        return Promise.resolve();
      },
      readInstalls: (tenant: string, device: string) => Promise.resolve([...(this.installs.get(installsPartition(tenant, device)) ?? [])]),
      upsertRun: (run: RunRef, fields: Partial<RunRow>) => {
        const key = `${runsPartition(run.tenant, run.client)}/${run.runId}`;
        const before = this.runs.get(key)?.row;
        const row = { ...(before ?? {}), partitionKey: runsPartition(run.tenant, run.client), rowKey: run.runId, device: run.device, ...fields } as RunRow;
        this.runs.set(key, { run, row });
        return Promise.resolve();
      },
    };
    return { store, index } as unknown as EvidenceDeps;
  }

  /** The export source over the maps; blobs stream in small chunks, as a download would. */
  source(): ExportSource {
    const deps = this.deps();
    return {
      readArtifacts: (runId) => deps.index.readArtifacts(runId),
      listBlobNames: (prefix) => deps.store.listBlobNames(prefix),
      readInstalls: (tenant, device) => deps.index.readInstalls(tenant, device),
      openBlob: (name) => {
        const bytes = this.blobs.get(name);
        if (bytes === undefined) return Promise.resolve(undefined);
        const chunks: Buffer[] = [];
        for (let i = 0; i < bytes.length; i += 1000) chunks.push(bytes.subarray(i, i + 1000));
        return Promise.resolve(Readable.from(chunks, { objectMode: false }));
      },
    };
  }

  /** The runs as listRunsInScope would give them (every run stored, in its order). */
  inScope(): RunInScope[] {
    return [...this.runs.values()]
      .map(({ run, row }) => ({
        run,
        status: row.status,
        startedAt: row.startedAt,
        ...(row.merkleRoot === undefined ? {} : { merkleRoot: row.merkleRoot }),
        ...(row.eventsChainHead === undefined ? {} : { eventsChainHead: row.eventsChainHead }),
      }))
      .sort((a, b) => (`${a.run.client}/${a.run.device}` < `${b.run.client}/${b.run.device}` ? -1 : 1));
  }
}
