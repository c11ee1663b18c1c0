import { ARTIFACTS, PHASE_ORDER, PHASES, type PhaseKey } from "../../artifacts";
import type { IndexEntry, RunEvent } from "../../../schemas/artifacts/integrity";
import { escapeHtml } from "./escape";
import { formatDuration, formatTime, notAvailable, table } from "./format";
import type { ReportHtmlInput } from "./types";

const PHASE_TITLES: Readonly<Record<PhaseKey, string>> = {
  init: "Init: device lock, policy, run record",
  baseline: "Baseline snapshot",
  preValidation: "Pre-validation of business apps",
  catalog: "Catalog: applicable and approved updates",
  install: "Install approved updates",
  reboot: "Reboot",
  postSnapshot: "Post snapshot",
  postValidation: "Post-validation and regressions",
  diagnostics: "Diagnostics",
  remediation: "Remediation of a regression: removal and POST validation again",
  index: "Index and seal",
  report: "Report",
};

type Status = { text: string; tone: "ok" | "bad" | "warn" | "skip" };

/** One row of the timeline: a phase folder and the events recorded under it. */
export interface PhaseSpan {
  phase: PhaseKey;
  events: RunEvent[];
  /** Epoch ms of the first and last event; undefined without events (or with unparseable times). */
  first?: number;
  last?: number;
}

const FOLDER_TO_KEY = new Map<string, PhaseKey>(PHASE_ORDER.map((k) => [PHASES[k], k]));

/**
 * Groups events by phase folder, in PHASE_ORDER. An event without a (known) phase belongs to the phase of the event
 * before it, since it happened while that phase was running; before any phased event that is init.
 */
export function groupEventsByPhase(events: readonly RunEvent[]): PhaseSpan[] {
  const spans = new Map<PhaseKey, PhaseSpan>(PHASE_ORDER.map((phase) => [phase, { phase, events: [] }]));
  let current: PhaseKey = "init";
  for (const event of events) {
    const key = event.phase === undefined ? undefined : FOLDER_TO_KEY.get(event.phase);
    if (key !== undefined) current = key;
    const span = spans.get(current);
    if (span === undefined) continue;
    span.events.push(event);
    const ms = Date.parse(event.at);
    if (Number.isNaN(ms)) continue;
    span.first = span.first === undefined ? ms : Math.min(span.first, ms);
    span.last = span.last === undefined ? ms : Math.max(span.last, ms);
  }
  return PHASE_ORDER.map((phase) => spans.get(phase) ?? { phase, events: [] });
}

const BOOKKEEPING = new Set<PhaseKey>(["index", "report"]);
/** Phases only some runs have (a remediation after a regression): no row unless the run has events or files there. */
const OPTIONAL = new Set<PhaseKey>(["remediation"]);

const FAILED = /(^|\.)(failed|gave-up|timed-out|loop-guard)$/;

function phaseStatus(span: PhaseSpan, reachedLater: boolean, folderFiles: readonly string[]): Status {
  const types = span.events.map((e) => e.type);
  const failureRecorded = folderFiles.some((p) => p.endsWith("/failure.json"));
  if (failureRecorded || types.some((t) => FAILED.test(t))) return { text: "failed", tone: "bad" };
  if (types.includes("lock.contended")) return { text: "stopped: device locked by another run", tone: "skip" };
  if (types.includes("run.stopped")) return { text: "stopped the run", tone: "warn" };
  if (types.some((t) => t.endsWith(".skipped"))) return { text: "skipped", tone: "skip" };
  if (span.events.length > 0)
    return reachedLater || types.includes("phase.completed") || types.includes("run.sealed")
      ? { text: "completed", tone: "ok" }
      : { text: "started", tone: "warn" };
  // No events: the sealed artifacts still show whether the phase ran.
  if (folderFiles.length > 0) return { text: "completed (no events recorded)", tone: "ok" };
  return reachedLater ? { text: "skipped", tone: "skip" } : { text: "not reached", tone: "skip" };
}

/** Section 2: one row per phase in execution order, with the times of its events, from `events.jsonl`. */
export function renderTimeline({ report, events, artifactIndex }: ReportHtmlInput): string {
  const head = '<section id="timeline" data-section="timeline"><h2>Phase timeline</h2>';
  if (events === undefined) return `${head}${notAvailable(ARTIFACTS.events.path, "the run's event log")}</section>`;
  const paths = (artifactIndex ?? []).map((e: IndexEntry) => e.path);
  const filesOf = (phase: PhaseKey): string[] => paths.filter((p) => p.startsWith(`${PHASES[phase]}/`));
  const spans = groupEventsByPhase(events).filter(
    (s) => !OPTIONAL.has(s.phase) || s.events.length > 0 || filesOf(s.phase).length > 0,
  );
  // Index and report run for every run, even one stopped early, so only the device phases say how far it got.
  const lastReached = spans.reduce(
    (acc, s, i) => (!BOOKKEEPING.has(s.phase) && (s.events.length > 0 || filesOf(s.phase).length > 0) ? i : acc),
    -1,
  );
  const times = events.map((e) => Date.parse(e.at)).filter((ms) => !Number.isNaN(ms));
  const runStart = times.length === 0 ? undefined : Math.min(...times);
  const runEnd = times.length === 0 ? undefined : Math.max(...times);

  let previousEnd = runStart;
  const rows = spans.map((span, i) => {
    const label = `${PHASES[span.phase]} ${PHASE_TITLES[span.phase]}`;
    if (span.phase === "report") {
      // Phase 11 runs after events.jsonl is sealed, so its only time is this report's own.
      return `<tr data-phase="${PHASES[span.phase]}"><td>${escapeHtml(label)}</td><td><span class="tag ok">this report</span></td><td>${formatTime(report.generatedAt)}</td><td>${formatTime(report.generatedAt)}</td><td>—</td><td>—</td><td class="muted">—</td></tr>`;
    }
    const status = phaseStatus(span, i < lastReached, filesOf(span.phase));
    const cells = [
      escapeHtml(label),
      `<span class="tag ${status.tone}">${escapeHtml(status.text)}</span>`,
      span.first === undefined ? "—" : formatTime(new Date(span.first).toISOString()),
      span.last === undefined ? "—" : formatTime(new Date(span.last).toISOString()),
      span.first === undefined || span.last === undefined ? "—" : formatDuration(span.last - span.first),
      span.last === undefined || previousEnd === undefined ? "—" : formatDuration(span.last - previousEnd),
      span.events.length === 0 ? "—" : escapeHtml([...new Set(span.events.map((e) => e.type))].join(", ")),
    ];
    if (span.last !== undefined) previousEnd = span.last;
    return `<tr data-phase="${PHASES[span.phase]}">${cells.map((c) => `<td>${c}</td>`).join("")}</tr>`;
  });
  const total =
    runStart === undefined || runEnd === undefined
      ? '<p class="na">The event log has no readable times.</p>'
      : `<p>First event ${formatTime(new Date(runStart).toISOString())}, last event ${formatTime(new Date(runEnd).toISOString())}: <b data-testid="run-duration">${formatDuration(runEnd - runStart)}</b> in all, ${events.length} events.</p>`;
  return [
    head,
    total,
    table(
      ["Phase", "Status", "First event", "Last event", "Duration", "Since previous phase", "Events"],
      rows,
      "timeline",
    ),
    '<p class="muted">Duration spans a phase\'s first to last event; "since previous phase" runs from the last event of the phase before it, which is closer to how long the phase took when it records only its completion.</p>',
    "</section>",
  ].join("\n");
}
