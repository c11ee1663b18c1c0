import type { ExitCode } from "../../../schemas/artifacts/outcome";
import type { RunRecord } from "../../../schemas/artifacts/run";
import { escapeHtml } from "./escape";
import { formatTime } from "./format";
import type { ReportHtmlInput } from "./types";

type Tone = "green" | "amber" | "grey" | "red";

/** How each exit code reads to a client's IT manager: a tone, a one-word verdict and one plain sentence. */
export const OUTCOMES: Readonly<Record<ExitCode, { tone: Tone; label: string; meaning: string }>> = {
  0: {
    tone: "green",
    label: "Succeeded",
    meaning:
      "The approved updates are installed and the business applications still pass the checks they passed before patching.",
  },
  150: {
    tone: "amber",
    label: "Action needed",
    meaning: "The updates are installed, but the device still needs a restart to finish them; schedule one.",
  },
  170: {
    tone: "grey",
    label: "Not run",
    meaning: "Nothing was done: another patch run was already working on this device, so this one changed nothing.",
  },
  210: {
    tone: "red",
    label: "Failed",
    meaning: "One or more approved updates did not install; the device may still be missing the fixes they carry.",
  },
  220: {
    tone: "red",
    label: "Failed",
    meaning: "The updates were applied, but a business application check that passed before patching fails after it.",
  },
  230: {
    tone: "red",
    label: "Failed",
    meaning:
      "The diagnostics this client requires after patching could not be collected, so the device's health is unconfirmed.",
  },
  240: {
    tone: "red",
    label: "Failed",
    meaning: "The evidence of this run is incomplete or failed an integrity check, so its outcome cannot be confirmed.",
  },
};

function describeTrigger(trigger: RunRecord["trigger"]): string {
  switch (trigger.kind) {
    case "window":
      return `maintenance window ${trigger.windowId}, ring ${trigger.ring}`;
    case "api":
      return `on request by ${trigger.requestedBy}`;
    case "demo":
      return "demo run";
    case "deployment":
      return `emergency deployment ${trigger.deploymentId} by ${trigger.requestedBy}`;
  }
}

function describeReboot({ report, reboot }: ReportHtmlInput): string {
  if (reboot === undefined) return escapeHtml(report.reboot);
  const parts = [
    `policy ${reboot.policy}`,
    `required: ${reboot.required ? "yes" : "no"}`,
    `requested: ${reboot.requested ? "yes" : "no"}`,
    `restarts: ${reboot.rebootCount}`,
  ];
  const boots =
    reboot.bootTimeBefore !== undefined && reboot.bootTimeAfter !== undefined
      ? `; boot time ${formatTime(reboot.bootTimeBefore)} → ${formatTime(reboot.bootTimeAfter)}`
      : "";
  return `<b>${escapeHtml(reboot.outcome)}</b> (${escapeHtml(parts.join(", "))})${boots}`;
}

/** The banner: the exit code, its name, a verdict word and what it means, before anything else on the page. */
export function renderBanner({ report }: ReportHtmlInput): string {
  const outcome = OUTCOMES[report.exitCode];
  return [
    `<div class="banner outcome-${outcome.tone}" role="status" data-testid="exit-code" data-exit-code="${report.exitCode}">`,
    `<h1>PatchPilot patch report: ${escapeHtml(report.run.device)}</h1>`,
    `<p class="code">Exit code <span class="num">${report.exitCode}</span> <span class="name">${escapeHtml(report.exitCodeName)}</span> <span class="label">${escapeHtml(outcome.label)}</span></p>`,
    `<p class="meaning">${escapeHtml(outcome.meaning)}</p>`,
    "</div>",
  ].join("");
}

/** Section 1: the banner, who/what/when, why this exit code, and the counts. */
export function renderSummary(input: ReportHtmlInput): string {
  const { report, runRecord } = input;
  const { run } = report;
  const na = '<span class="na">not available</span>';
  const facts: [string, string][] = [
    ["Tenant", escapeHtml(run.tenant)],
    ["Client", escapeHtml(run.client)],
    ["Device", escapeHtml(run.device)],
    ["Run id", `<code>${escapeHtml(run.runId)}</code>`],
    [
      "Trigger",
      runRecord === undefined
        ? na
        : escapeHtml(describeTrigger(runRecord.trigger)) + (runRecord.dryRun ? " (dry run: nothing installed)" : ""),
    ],
    ["Started", runRecord === undefined ? na : formatTime(runRecord.startedAt)],
    ["Report generated", formatTime(report.generatedAt)],
    ["Reboot", describeReboot(input)],
  ];
  const u = report.updates;
  const counts: [number, string][] = [
    [u.applicable, "applicable"],
    [u.approved, "approved"],
    [u.installed, "installed"],
    [u.failed, "failed"],
    [report.regressions, report.regressions === 1 ? "regression" : "regressions"],
  ];
  return [
    '<section id="summary" data-section="summary">',
    renderBanner(input),
    '<h2 id="summary-h">Summary</h2>',
    `<dl class="facts">${facts.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${v}</dd>`).join("")}</dl>`,
    `<ul class="counts" data-testid="counts">${counts.map(([n, what]) => `<li><b>${n}</b> ${escapeHtml(what)}</li>`).join("")}</ul>`,
    "<h3>Why this exit code</h3>",
    report.reasons.length === 0
      ? '<p class="na">No reasons recorded.</p>'
      : `<ul class="reasons">${report.reasons.map((r) => `<li>${escapeHtml(r)}</li>`).join("")}</ul>`,
    "</section>",
  ].join("\n");
}
