import { ARTIFACTS, type ArtifactSpec } from "../domain/artifacts";
import type { EvidenceDeps } from "../evidence/runEvidence";
import type { Catalog } from "../schemas/artifacts/catalog";
import type { RunRecord } from "../schemas/artifacts/run";
import type { RunRef } from "../schemas/common";
import type { StoredArtifactRef } from "../schemas/deviceRun";
import { readStored } from "./storedArtifacts";

/**
 * The stored facts an advance decides with (the run record, the catalog), read back from evidence at most once per
 * activity call and verified against the hashes the run recorded: orchestration state carries only references.
 */
export class RunFacts {
  private record?: Promise<RunRecord>;
  private catalogValue?: Promise<Catalog | undefined>;

  constructor(
    private readonly deps: EvidenceDeps,
    private readonly run: RunRef,
    private readonly stored: () => readonly StoredArtifactRef[],
    known?: RunRecord,
  ) {
    if (known !== undefined) this.record = Promise.resolve(known);
  }

  /** `01-init/run.json`: the effective policy and the start time. */
  runRecord(): Promise<RunRecord> {
    this.record ??= readStored<RunRecord>(this.deps, this.run, this.stored(), ARTIFACTS.run).then((r) => {
      if (r === undefined) throw new Error(`run ${this.run.runId} has no run.json`);
      return r;
    });
    return this.record;
  }

  /** `03-catalog/catalog.json`, once stored. */
  catalog(): Promise<Catalog | undefined> {
    this.catalogValue ??= readStored<Catalog>(this.deps, this.run, this.stored(), ARTIFACTS.catalog);
    return this.catalogValue;
  }

  /** Any artifact this run stored, verified (the remediation reads the install summary and the baseline). */
  read<T>(spec: ArtifactSpec): Promise<T | undefined> {
    return readStored<T>(this.deps, this.run, this.stored(), spec);
  }
}
