// Tenant isolation on the engine's read-back: finishDeviceRun reads the run's evidence through one run-bound session
// (lib/evidence/evidenceSession.ts) for the exit code, final-report.json and report.html. A row of this run that
// names another tenant's blob (with that blob's true SHA-256 and size, so hash checks alone would pass) is refused.
import { makeFinishDeviceRun } from "../../../functions/activities/finishDeviceRun";
import { ARTIFACTS } from "../../../lib/domain/artifacts";
import { DEFAULT_GLOBAL_POLICY } from "../../../lib/domain/policy/defaultPolicy";
import { resolveEffectivePolicy } from "../../../lib/domain/policy/overlay";
import { newDeviceRunState } from "../../../lib/domain/run/newDeviceRunState";
import { createEvidenceDeps } from "../../../lib/evidence/createEvidenceDeps";
import { OUTSIDE_RUN_PROBLEM } from "../../../lib/evidence/evidenceSession";
import { ExitCodeRecordSchema, FinalReportSchema } from "../../../lib/schemas/artifacts/outcome";
import type { DeviceLocks } from "../../../lib/locks/deviceLock";
import { RegressionsSchema } from "../../../lib/schemas/artifacts/validation";
import { plantOutsideRow } from "../../harness/outsideRunRow";
import { testConfig, testStorage } from "../../harness/storage";

it("finish refuses a row pointing into another tenant's run: no 220 from foreign regressions, none in the report", async () => {
  const config = testConfig();
  const storage = await testStorage(config);
  const evidence = createEvidenceDeps(config, storage);
  // Tenant B's real regressions (schema-valid): one regression of an app run A never had.
  const foreign = {
    schemaVersion: 1,
    TotalRegressions: 1,
    regressions: [
      {
        app: "ForeignTenantApp",
        check: "svc",
        pre: { success: true, detail: "running" },
        post: { success: false, detail: "stopped" },
      },
    ],
    preExisting: [],
  };
  expect(RegressionsSchema.safeParse(foreign).success).toBe(true); // only the folder check can refuse it
  const planted = await plantOutsideRow(storage, evidence, {
    path: ARTIFACTS.regressions.path,
    bytes: Buffer.from(JSON.stringify(foreign)),
  });
  const now = "2026-01-20T03:00:00.000Z";
  const state = {
    ...newDeviceRunState(resolveEffectivePolicy([DEFAULT_GLOBAL_POLICY]).policy, new Date(now)),
    stage: "done" as const,
    // A contended run: finish seals and decides, and takes no lock action (so no lock table is needed).
    lockContended: true,
  };
  const device = {
    kind: "arc" as const,
    machineName: "DEV-A",
    resourceId: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/DEV-A",
    name: "DEV-A",
    os: "windows" as const,
    tags: {},
    status: "Connected" as const,
    subscriptionId: "s",
    resourceGroup: "rg",
    location: "westeurope",
  };
  const finish = makeFinishDeviceRun({ evidence, locks: {} as DeviceLocks });
  const result = await finish({ input: { run: planted.runA, device, trigger: { kind: "demo" } }, state, now });

  expect(result.exitCode).toBe(240); // 220 if the foreign regressions had been believed
  expect(result.counts.regressions).toBe(0);
  const decision = ExitCodeRecordSchema.parse(
    JSON.parse(String(await evidence.store.get(planted.runA, ARTIFACTS.exitCode.path))),
  );
  expect(decision.artifactsRead.find((r) => r.path === ARTIFACTS.regressions.path)).toMatchObject({
    status: "hash-mismatch",
    problem: OUTSIDE_RUN_PROBLEM,
  });
  const report = FinalReportSchema.parse(
    JSON.parse(String(await evidence.store.get(planted.runA, ARTIFACTS.finalReport.path))),
  );
  expect(report.regressions).toBe(0);
  const html = String(await evidence.store.get(planted.runA, ARTIFACTS.reportHtml.path));
  expect(html).not.toContain("ForeignTenantApp");
  expect(html).not.toContain(planted.foreignBlobName);
});
