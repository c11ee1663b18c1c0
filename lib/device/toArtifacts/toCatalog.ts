import type { Catalog, CatalogEntry } from "../../schemas/artifacts/catalog";
import type { ScriptSource } from "../../schemas/artifacts/source";
import type { OsFamily } from "../../schemas/common";
import type { ApplicableUpdate as RawUpdate, CatalogOutput } from "../../schemas/device/catalog";
import type { UpdatePolicy } from "../../schemas/policies";
import type { ReleaseAllowance } from "../../schemas/release";
import { decideUpdates, type ApplicableUpdate } from "../../domain/catalog/decideUpdates";
import { restrictToDeployment, type DeploymentScope } from "../../domain/catalog/restrictToDeployment";
import { mapApplicableUpdate } from "../mapCatalog";
import { describeMissing, provenance, type Conversion } from "./conversion";
import { uninstallableReason } from "./installableUpdate";

/** The raw entry in policy terms, with only the fields catalog.json records (raw names stay in the transcript). */
function toPolicyTerms(raw: RawUpdate, os: OsFamily): ApplicableUpdate {
  const mapped = mapApplicableUpdate(raw, os);
  return {
    updateId: mapped.updateId,
    ...(mapped.revision !== undefined ? { revision: mapped.revision } : {}),
    ...(mapped.kb !== undefined ? { kb: mapped.kb } : {}),
    title: mapped.title,
    classification: mapped.policyClassification,
    severity: mapped.policySeverity,
    releaseDate: mapped.releaseDate,
    ...(mapped.sizeBytes !== undefined ? { sizeBytes: mapped.sizeBytes } : {}),
    ...(mapped.version !== undefined ? { version: mapped.version } : {}),
    rebootBehavior: mapped.rebootBehavior,
  };
}

/**
 * An approved entry the install script would refuse (an id that is not a WUA GUID, a package without a pinnable
 * version) is excluded here with the reason, so catalog.json never approves what cannot be requested.
 */
function refuseUninstallable(entry: CatalogEntry, os: OsFamily): CatalogEntry {
  if (entry.decision !== "approved") return entry;
  const why = uninstallableReason(entry, os);
  return why === undefined
    ? entry
    : { ...entry, decision: "excluded", reason: `${why} (policy said: ${entry.reason})` };
}

/**
 * `catalog` output → `catalog.json`: raw agent terms mapped to policy terms (lib/device/mapCatalog), then every entry
 * approved or excluded by the UpdatePolicy at `evaluatedAt` (lib/domain). Refused when the update list itself could
 * not be read: an empty catalog would claim there is nothing to install.
 */
export function toCatalog(
  output: CatalogOutput,
  os: OsFamily,
  policy: UpdatePolicy,
  evaluatedAt: Date,
  source: ScriptSource,
  /** A ring following a promoted release: only its exact set is approved (lib/domain/catalog/decideUpdates.ts). */
  release?: ReleaseAllowance,
  /** An emergency deployment's run: exactly its updates are approved (lib/domain/catalog/restrictToDeployment.ts). */
  deployment?: DeploymentScope,
): Conversion<Catalog> {
  const raw = output.data.updates;
  if (raw === null)
    return { ok: false, reason: `catalog has no update list: ${describeMissing(["updates"], output.errors)}` };
  const byPolicy = decideUpdates(
    raw.map((u) => toPolicyTerms(u, os)),
    policy,
    evaluatedAt,
    release,
  );
  const decided = deployment === undefined ? byPolicy : restrictToDeployment(byPolicy, policy, deployment);
  return {
    ok: true,
    value: {
      ...provenance(source, output.errors),
      schemaVersion: 1,
      evaluatedAt: evaluatedAt.toISOString(),
      updates: decided.map((entry) => refuseUninstallable(entry, os)),
    },
  };
}
