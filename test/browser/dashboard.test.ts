import { mkdirSync } from "node:fs";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { ARTIFACTS } from "../../lib/domain/artifacts";
import { readVerified } from "../../lib/evidence/runEvidence";
import type { InstallOutcome } from "../../lib/schemas/artifacts/catalog";
import type { ExitCodeRecord, FinalReport } from "../../lib/schemas/artifacts/outcome";
import type { RemediationRecord } from "../../lib/schemas/artifacts/remediation";
import type { Regressions } from "../../lib/schemas/artifacts/validation";
import type { RunRef } from "../../lib/schemas/common";
import { readScenarioFile } from "../../local/fleet/scenario/parseScenario";
import { startLocalStack, type LocalStack } from "../../local/run/localStack";
import { runWindows, type DeviceSummary, type WindowsSummary } from "../../local/run/runWindows";
import { EXPECTED_DEMO_EXIT_CODES } from "../harness/demoExpectations";
import { chooseChromium } from "./chromium";

const ROOT = path.resolve(__dirname, "../..");
const RESULTS = path.join(ROOT, "test-results");
const DEMO = path.join(ROOT, "local/scenarios/demo.json");

/** One run as its sealed evidence says it ended: read back from the evidence store and verified against the index. */
interface RunEvidence {
  device: DeviceSummary;
  exitCode: ExitCodeRecord;
  report: FinalReport;
  installs: InstallOutcome[];
  regressions: Regressions | undefined;
}

let stack: LocalStack;
let summary: WindowsSummary;
let evidence: RunEvidence[];
let browser: Browser;

async function readRun(device: DeviceSummary): Promise<RunEvidence> {
  const run: RunRef = { tenant: device.tenant, client: device.client, device: device.device, runId: device.runId };
  const rows = await stack.deps.evidence.index.readArtifacts(run.runId);
  const read = async <T>(key: keyof typeof ARTIFACTS): Promise<T | undefined> => {
    const reading = await readVerified(stack.deps.evidence, run, ARTIFACTS[key], rows.get(ARTIFACTS[key].path));
    return reading.read.status === "verified" ? (reading.value as T) : undefined;
  };
  const exitCode = await read<ExitCodeRecord>("exitCode");
  const report = await read<FinalReport>("finalReport");
  if (exitCode === undefined || report === undefined)
    throw new Error(`${device.device}: exit code or report not verified`);
  return {
    device,
    exitCode,
    report,
    installs: (await read<InstallOutcome[]>("installSummary")) ?? [],
    regressions: await read<Regressions>("regressions"),
  };
}

/** Opens a page and collects every console error, uncaught exception and failed request. */
async function open(url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => errors.push(`request failed: ${r.url()}`));
  page.on("response", (r) => {
    if (r.status() >= 400) errors.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  const response = await page.goto(url, { waitUntil: "load" });
  expect(response?.status()).toBe(200);
  return { page, errors };
}

const attrs = (page: Page, testId: string, names: readonly string[]): Promise<Record<string, string | null>[]> =>
  page
    .getByTestId(testId)
    .evaluateAll(
      (elements, list) => elements.map((el) => Object.fromEntries(list.map((n) => [n, el.getAttribute(n)]))),
      names,
    );

beforeAll(async () => {
  mkdirSync(RESULTS, { recursive: true });
  // Issue 20: FAB-WEB01 remediates its regression by uninstall (it still ends 220, so the demo's codes hold), so the
  // dashboard has a remediation and a quarantine entry to show.
  const scenario = readScenarioFile(DEMO);
  const web = scenario.policies.find((l) => l.scope.level === "device" && l.scope.device === "FAB-WEB01");
  if (web === undefined) throw new Error("no FAB-WEB01 device layer in the demo");
  Object.assign(web, { remediation: { mode: "uninstall" } });
  stack = await startLocalStack({ scenario, clock: "virtual", httpPort: 0 });
  summary = await runWindows(stack);
  await stack.eventGrid.idle();
  await stack.host.runUntilIdle({ advance: false });
  evidence = await Promise.all(summary.devices.filter((d) => d.status === "completed").map(readRun));
  // /usr/bin/chromium when installed, else the Chromium inside the @sparticuz/chromium npm package (chromium.ts).
  const { executablePath } = chooseChromium();
  browser = await chromium.launch({ executablePath, headless: true, args: ["--no-sandbox"] });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe("fleet dashboard and run report in headless Chromium (demo fleet)", () => {
  it("the dashboard loads without console errors and shows the figures the evidence gives", async () => {
    expect(Object.fromEntries(evidence.map((r) => [r.device.device, r.exitCode.exitCode]))).toEqual(
      EXPECTED_DEMO_EXIT_CODES,
    );
    const { page, errors } = await open(stack.dashboardUrl ?? "");
    await page.screenshot({ path: path.join(RESULTS, "dashboard.png"), fullPage: true });
    expect(errors).toEqual([]);

    // Compliance: a device is compliant when its run ended 0; per tenant and per client. A 170 run changed nothing
    // and says nothing about the device's state, but the device is known: it counts as unknown, in the denominator
    // and never compliant (issues 21 and 24: a device without a state is not left out).
    const expectedCompliance = new Map<string, { compliant: number; devices: number }>();
    for (const r of evidence) {
      for (const key of [r.device.tenant, `${r.device.tenant}/${r.device.client}`]) {
        const c = expectedCompliance.get(key) ?? { compliant: 0, devices: 0 };
        c.devices += 1;
        if (r.exitCode.exitCode === 0) c.compliant += 1;
        expectedCompliance.set(key, c);
      }
    }
    const shown = await attrs(page, "compliance-percent", [
      "data-tenant",
      "data-client",
      "data-compliant",
      "data-devices",
      "data-percent",
    ]);
    expect(
      new Map(
        shown.map((s) => [
          s["data-client"] === null ? s["data-tenant"] : `${s["data-tenant"]}/${s["data-client"]}`,
          { compliant: Number(s["data-compliant"]), devices: Number(s["data-devices"]) },
        ]),
      ),
    ).toEqual(expectedCompliance);
    for (const s of shown)
      expect(Number(s["data-percent"])).toBeCloseTo((100 * Number(s["data-compliant"])) / Number(s["data-devices"]), 0);

    // Exit codes per day: every run counted once under the day its exit code was decided.
    const expectedBars = new Map<string, number>();
    for (const r of evidence) {
      const key = `${r.exitCode.decidedAt.slice(0, 10)}|${r.exitCode.exitCode}`;
      expectedBars.set(key, (expectedBars.get(key) ?? 0) + 1);
    }
    const bars = await attrs(page, "exit-code-bar", ["data-day", "data-code", "data-count"]);
    expect(new Map(bars.map((b) => [`${b["data-day"]}|${b["data-code"]}`, Number(b["data-count"])]))).toEqual(
      expectedBars,
    );

    // Open regressions and pending reboots: the runs whose exit code says so.
    const runsEnding = (code: number) =>
      evidence
        .filter((r) => r.exitCode.exitCode === code)
        .map((r) => r.device.runId)
        .sort();
    expect((await attrs(page, "open-regression", ["data-run-id"])).map((a) => a["data-run-id"]).sort()).toEqual(
      runsEnding(220),
    );
    expect((await attrs(page, "pending-reboot", ["data-run-id"])).map((a) => a["data-run-id"]).sort()).toEqual(
      runsEnding(150),
    );

    // Failing KBs: failed install outcomes in the install summaries, per KB.
    const failures = new Map<string, number>();
    for (const r of evidence) {
      for (const i of r.installs)
        if (!i.installed && i.result !== "NotAttempted")
          failures.set(i.kb ?? i.updateId, (failures.get(i.kb ?? i.updateId) ?? 0) + 1);
    }
    // The page lists the top 10 (by failures, then KB), as the workbook does.
    const top = [...failures.entries()].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0)).slice(0, 10);
    const kbs = await attrs(page, "failing-kb", ["data-kb", "data-failures"]);
    expect(kbs.map((k) => [k["data-kb"], Number(k["data-failures"])])).toEqual(top);
    await page.close();
  }, 60_000);

  it("a regression links to its run's report.html, which shows the exit code first, PRE and POST side by side, and the seal", async () => {
    const { page: dashboard } = await open(stack.dashboardUrl ?? "");
    const sql = evidence.find((r) => r.device.device === "FAB-SQL01");
    if (sql === undefined) throw new Error("no FAB-SQL01 run");
    const link = dashboard.locator(
      `[data-testid="open-regression"][data-run-id="${sql.device.runId}"] [data-testid="report-link"]`,
    );
    const href = await link.getAttribute("href");
    expect(href).toBeTruthy();
    await dashboard.close();

    const { page, errors } = await open(new URL(href ?? "", stack.dashboardUrl).href);
    await page.screenshot({ path: path.join(RESULTS, "run-report.png"), fullPage: true });
    await page.emulateMedia({ media: "print" });
    await page.screenshot({ path: path.join(RESULTS, "run-report-print.png"), fullPage: true });
    expect(errors).toEqual([]);

    expect(await page.getByTestId("exit-code").getAttribute("data-exit-code")).toBe(String(sql.exitCode.exitCode));
    // The exit code is the first thing on the page.
    expect(await page.locator("[data-testid]").first().getAttribute("data-testid")).toBe("exit-code");
    const shownChecks = (await attrs(page, "regression", ["data-app", "data-check"]))
      .map((a) => `${a["data-app"]}/${a["data-check"]}`)
      .sort();
    expect(shownChecks).toEqual((sql.regressions?.regressions ?? []).map((r) => `${r.app}/${r.check}`).sort());
    const first = page.getByTestId("regression").first();
    await expect(first.locator('[data-side="pre"]').textContent()).resolves.toContain(
      sql.regressions?.regressions[0]?.pre.detail.slice(0, 40) ?? "",
    );
    await expect(first.locator('[data-side="post"]').textContent()).resolves.toContain(
      sql.regressions?.regressions[0]?.post.detail.slice(0, 40) ?? "",
    );
    expect((await page.getByTestId("merkle-root").textContent())?.trim()).toBe(sql.device.merkleRoot);
    expect(await page.getByTestId("update-row").count()).toBe(sql.installs.length);
    await page.close();
  }, 60_000);

  it("shows each remediation as its sealed remediation.json says: outcome, removed updates, quarantine entry", async () => {
    const remediated: { runId: string; record: RemediationRecord }[] = [];
    for (const r of evidence) {
      const run: RunRef = {
        tenant: r.device.tenant,
        client: r.device.client,
        device: r.device.device,
        runId: r.device.runId,
      };
      const rows = await stack.deps.evidence.index.readArtifacts(run.runId);
      const row = rows.get(ARTIFACTS.remediation.path);
      if (row === undefined) continue;
      const reading = await readVerified(stack.deps.evidence, run, ARTIFACTS.remediation, row);
      if (reading.read.status !== "verified") throw new Error(`${run.device}: remediation.json not verified`);
      remediated.push({ runId: run.runId, record: reading.value as RemediationRecord });
    }
    expect(remediated.map((r) => r.record.outcome)).toEqual(["recovered"]);
    const quarantine = (await stack.deps.quarantine.list("contoso-msp")).filter((q) => q.lifted === undefined);
    const { page, errors } = await open(stack.dashboardUrl ?? "");
    await page.screenshot({ path: path.join(RESULTS, "dashboard-remediation.png"), fullPage: true });
    expect(errors).toEqual([]);
    const shown = await attrs(page, "remediation", ["data-run-id", "data-outcome", "data-removed", "data-quarantined"]);
    expect(shown).toEqual(
      remediated.map(({ runId, record }) => ({
        "data-run-id": runId,
        "data-outcome": record.outcome,
        "data-removed": record.uninstalled.map((u) => u.kb ?? u.updateId).join(","),
        // The store's entries that name the run (what the next windows exclude).
        "data-quarantined": quarantine
          .filter((q) => q.source.runs.includes(runId))
          .map((q) => (q.update.kind === "kb" ? q.update.kb : q.update.name))
          .join(","),
      })),
    );
    // Recovered: the removed updates are the ones quarantined, and the quarantine section lists them too.
    const split = (v: string | null | undefined): string[] => (v ?? "").split(",").filter(Boolean).sort();
    const removed = split(shown[0]?.["data-removed"]);
    expect(removed.length).toBeGreaterThan(0);
    expect(split(shown[0]?.["data-quarantined"])).toEqual(removed);
    const listed = await attrs(page, "quarantined-update", ["data-update"]);
    expect(listed.map((q) => q["data-update"])).toEqual(expect.arrayContaining(removed));
    await page.close();
  }, 60_000);

  it("serves a report only inside its tenant and only while it hashes to the index (404, 409; never a 500)", async () => {
    const sql = evidence.find((r) => r.device.device === "FAB-SQL01");
    if (sql === undefined || stack.dashboardUrl === undefined) throw new Error("no FAB-SQL01 run or no dashboard");
    const origin = new URL(stack.dashboardUrl).origin;
    const status = async (p: string) => (await fetch(`${origin}${p}`)).status;
    expect(await status(`/dashboard/reports/contoso-msp/${sql.device.runId}/report.html`)).toBe(200);
    expect(await status(`/dashboard/reports/northwind-it/${sql.device.runId}/report.html`)).toBe(404);
    expect(await status(`/dashboard/reports/contoso-msp/%E0%A4%A/report.html`)).toBe(404);
    expect(await status(`/dashboard/reports/contoso-msp/..%2F..%2Fx/report.html`)).toBe(404);
    expect((await fetch(`${origin}/dashboard`, { method: "POST" })).status).toBe(405);

    // Tamper with the stored report: the page refuses to serve bytes that no longer match their index row.
    const row = (await stack.deps.evidence.index.readArtifacts(sql.device.runId)).get(ARTIFACTS.reportHtml.path);
    await stack.deps.storage.evidence.getBlockBlobClient(row?.blobName ?? "").upload("<h1>all good</h1>", 17);
    expect(await status(`/dashboard/reports/contoso-msp/${sql.device.runId}/report.html`)).toBe(409);
  });
});
