import type { RegressionSource } from "../../schemas/policies";
import type { BaselineDiff, SystemSnapshot } from "../../schemas/artifacts/snapshot";

type DriftRegressions = NonNullable<BaselineDiff["driftRegressions"]>;

/** Windows `Auto` (also `Auto (Delayed Start)` as some tools write it), systemd `enabled`. */
function isAutomatic(startType: string): boolean {
  return /^auto/i.test(startType) || startType === "enabled";
}

/** Windows `Running`, systemd sub-state `running`. */
function isRunning(state: string): boolean {
  return state.toLowerCase() === "running";
}

/** A section the script could not collect reads as `[]` in the snapshot; its collection error says so. */
function couldNotCollect(snapshot: SystemSnapshot, section: string): boolean {
  return (snapshot.collectionErrors ?? []).some((e) => e.section === section);
}

function judgeServices(
  source: Extract<RegressionSource, { type: "automaticService" }>,
  before: SystemSnapshot,
  after: SystemSnapshot,
  out: DriftRegressions,
): void {
  for (const [which, snap] of [
    ["baseline", before],
    ["post snapshot", after],
  ] as const) {
    if (couldNotCollect(snap, "services")) {
      out.unjudged.push({ source: source.name, why: `services could not be collected in the ${which}` });
      return;
    }
  }
  const now = new Map(after.services.map((s) => [s.name.toLowerCase(), s]));
  const candidates = before.services.filter(
    (s) =>
      isAutomatic(s.startType) &&
      isRunning(s.state) &&
      (source.service === undefined || s.name.toLowerCase() === source.service.toLowerCase()),
  );
  for (const was of candidates) {
    const is = now.get(was.name.toLowerCase());
    if (is !== undefined && isRunning(is.state)) continue;
    out.regressions.push({
      source: source.name,
      type: source.type,
      subject: was.name,
      before: `${was.state}/${was.startType}`,
      after: is === undefined ? "absent" : `${is.state}/${is.startType}`,
    });
  }
}

function judgePorts(
  source: Extract<RegressionSource, { type: "listeningPort" }>,
  before: SystemSnapshot,
  after: SystemSnapshot,
  out: DriftRegressions,
): void {
  if (before.listeningPorts === undefined || after.listeningPorts === undefined) {
    out.unjudged.push({ source: source.name, why: "listening ports were not reported by both snapshots" });
    return;
  }
  for (const [which, snap] of [
    ["baseline", before],
    ["post snapshot", after],
  ] as const) {
    if (couldNotCollect(snap, "listeningPorts")) {
      out.unjudged.push({ source: source.name, why: `listening ports could not be collected in the ${which}` });
      return;
    }
  }
  const listening = new Set(after.listeningPorts.map((p) => `${p.protocol}/${p.port}`));
  const was = [
    ...new Set(
      before.listeningPorts
        .filter((p) => p.protocol === source.protocol && (source.port === undefined || p.port === source.port))
        .map((p) => p.port),
    ),
  ].sort((a, b) => a - b);
  for (const port of was) {
    if (listening.has(`${source.protocol}/${port}`)) continue;
    out.regressions.push({
      source: source.name,
      type: source.type,
      subject: `${source.protocol}/${port}`,
      before: "listening",
      after: "not listening",
    });
  }
}

/**
 * Judges the policy's regression sources over the baseline and the post snapshot. Pure. Drift is a regression only
 * where it is evidenced by both snapshots; a source whose section either could not collect is `unjudged`, never clean.
 */
export function detectDriftRegressions(
  sources: readonly RegressionSource[],
  before: SystemSnapshot,
  after: SystemSnapshot,
): DriftRegressions {
  const out: DriftRegressions = { regressions: [], unjudged: [] };
  for (const source of sources) {
    if (source.type === "automaticService") judgeServices(source, before, after, out);
    else judgePorts(source, before, after, out);
  }
  return out;
}
