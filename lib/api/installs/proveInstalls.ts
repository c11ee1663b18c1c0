import type { EvidenceDeps } from "../../evidence/runEvidence";
import type { InstallsFilter } from "../../evidence/tableIndex";
import {
  InstallsParamsSchema,
  InstallsQuerySchema,
  installsWindow,
  type InstallProof,
  type InstallProofResponse,
  type InstallsQuery,
  type InstallsWindow,
} from "../../schemas/api/installs";
import type { RunRef } from "../../schemas/common";
import type { InstallRow } from "../../schemas/tableRows";
import { invalidInput } from "../apiProblem";
import { checkRunSeal } from "./checkRunSeal";
import { proveArtifact, proveRecord, refusedRecord, scopeRow, type ArtifactProof } from "./proveRecord";
import { readProofInputs } from "./readProofInputs";

const DAY_MS = 86_400_000;

/** Runs proven at once: each costs ~7 parallel storage requests, so this bounds a wide query to ~56 in flight. */
const RUN_CONCURRENCY = 8;

/**
 * Text bounds on `finishedAt` for the table query. A stored timestamp's local date is within 14 h of its UTC instant,
 * so a day before the window's start and two days after its end keep every match whatever its offset; the exact
 * window is applied to parsed instants afterwards.
 */
function finishedAtText(window: InstallsWindow): InstallsFilter["finishedAtText"] {
  if (window.start === undefined || window.end === undefined) return undefined;
  const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
  return { ge: day(window.start - DAY_MS), lt: day(window.end + 2 * DAY_MS) };
}

function inWindow(finishedAt: string, window: InstallsWindow): boolean {
  const t = Date.parse(finishedAt);
  if (Number.isNaN(t)) return false;
  return (window.start === undefined || t >= window.start) && (window.end === undefined || t < window.end);
}

/** Maps with at most `limit` calls in flight, keeping the input order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** The accepted rows of one run, with the artifacts they cite. */
interface RunGroup {
  run: RunRef;
  rows: InstallRow[];
}

/** Proves every record of one run from one parallel read of its evidence. */
async function proveRun(deps: EvidenceDeps, group: RunGroup, now: Date): Promise<InstallProof[]> {
  const paths = [...new Set(group.rows.map((r) => r.artifactPath))];
  const inputs = await readProofInputs(deps, group.run, paths);
  const seal = checkRunSeal(inputs);
  const artifacts = new Map<string, ArtifactProof>(paths.map((p) => [p, proveArtifact(inputs, seal, p)]));
  return group.rows.map((row) => proveRecord(row, inputs, seal, artifacts.get(row.artifactPath) as ArtifactProof, now));
}

function byTimeThenRun(a: InstallProof, b: InstallProof): number {
  const ta = Date.parse(a.finishedAt);
  const tb = Date.parse(b.finishedAt);
  if (ta !== tb) return ta - tb;
  if (a.runId !== b.runId) return a.runId < b.runId ? -1 : 1;
  return a.evidence.line - b.evidence.line;
}

/** Options of {@link proveInstalls}. */
export interface ProveInstallsOptions {
  /** The device's name as the index spells it, when the name asked matches no partition exactly. */
  resolveDevice?: (tenant: string, device: string) => Promise<string | undefined>;
}

/**
 * Answers "prove update X was installed on device D on day Y": the matching Installs rows (one table query), and for
 * each run among them its evidence read back in parallel and re-verified now (artifact hashes against the index, the
 * cited JSONL line against the row, the Merkle inclusion proof against the sealed root, the manifest, the event
 * chain). Tampered or missing evidence is reported as failed checks, never thrown; storage errors other than a
 * missing blob or row are thrown. Invalid arguments throw a 400 `ApiProblem` naming the field.
 */
export async function proveInstalls(
  deps: EvidenceDeps,
  tenant: string,
  device: string,
  query: InstallsQuery,
  now: Date,
  options: ProveInstallsOptions = {},
): Promise<InstallProofResponse> {
  // Re-validated here because both values become table keys and blob prefixes.
  const params = InstallsParamsSchema.safeParse({ tenant, device });
  if (!params.success) throw invalidInput("path", params.error);
  const parsedQuery = InstallsQuerySchema.safeParse(query);
  if (!parsedQuery.success) throw invalidInput("query", parsedQuery.error);
  const q = parsedQuery.data;
  const window = installsWindow(q);
  const text = finishedAtText(window);
  const filter = {
    ...(q.kb !== undefined ? { updateKey: q.kb } : {}),
    ...(q.updateId !== undefined ? { updateId: q.updateId } : {}),
    ...(text !== undefined ? { finishedAtText: text } : {}),
  };
  const requestedDevice = device;
  let { rows, invalid } = await deps.index.queryInstalls(tenant, device, filter);
  // Nothing under the name as asked: it may be the device's name in other letter cases (the index keeps one).
  if (rows.length === 0 && invalid.length === 0 && options.resolveDevice !== undefined) {
    const canonical = await options.resolveDevice(tenant, device);
    if (canonical !== undefined && canonical !== device) {
      device = canonical;
      ({ rows, invalid } = await deps.index.queryInstalls(tenant, device, filter));
    }
  }

  const records: InstallProof[] = [];
  const groups = new Map<string, RunGroup>();
  for (const row of rows.filter((r) => inWindow(r.finishedAt, window))) {
    const scope = scopeRow(row, tenant, device);
    if (!scope.ok) {
      records.push(refusedRecord(row, tenant, scope.problem, now));
      continue;
    }
    const key = `${scope.run.client}/${scope.run.runId}`;
    const group = groups.get(key) ?? { run: scope.run, rows: [] };
    group.rows.push(row);
    groups.set(key, group);
  }
  for (const proofs of await mapLimit([...groups.values()], RUN_CONCURRENCY, (g) => proveRun(deps, g, now)))
    records.push(...proofs);
  records.sort(byTimeThenRun);

  return {
    tenant,
    device,
    ...(requestedDevice !== device ? { requestedDevice } : {}),
    query: q,
    generatedAt: now.toISOString(),
    count: records.length,
    records,
    ...(invalid.length > 0 ? { unreadableRows: invalid } : {}),
  };
}
