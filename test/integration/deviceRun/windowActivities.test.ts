import { makeDiscoverWindowTargets } from "../../../functions/activities/discoverWindowTargets";
import { makeWriteWindowReport } from "../../../functions/activities/writeWindowReport";
import { EvidenceConflictError } from "../../../lib/evidence/errors";
import { sha256Hex } from "../../../lib/evidence/sha256";
import type { WindowReport, WindowTargets } from "../../../lib/schemas/window";
import { uniqueRunId } from "../../harness/storage";
import { arcDevice, fleetOf, ManualClock, startEmulator, SUB_A } from "../fleet/testFleet";
import { evidenceFor, startDemo, type DemoEnv } from "./deviceRunHarness";

let env: DemoEnv;
beforeAll(async () => {
  env = await startDemo();
});
afterAll(async () => {
  await env?.close();
});

const names = (found: WindowTargets): string[] =>
  found.targets.map((t) => `${t.client}/${t.ring}/${t.device.name}`).sort();

describe("discoverWindowTargets", () => {
  const discover = () => makeDiscoverWindowTargets({ arm: env.arm, subscriptionIds: env.subscriptionIds });
  const fabrikam = {
    tenant: "contoso-msp",
    windowId: "fabrikam-nightly",
    clients: [],
    targetTags: {},
    rings: ["dev", "prod"],
  };

  it("finds the window's Arc machines and VMSS instances with their client and ring tags", async () => {
    expect(names(await discover()(fabrikam))).toEqual([
      "fabrikam/dev/fab-lnx01",
      "fabrikam/prod/FAB-APP01",
      "fabrikam/prod/FAB-SQL01",
      "fabrikam/prod/FAB-WEB01",
      "fabrikam/prod/WIN-SERVER01",
      "fabrikam/prod/fabwebvm000000",
      "fabrikam/prod/fabwebvm000001",
      "fabrikam/prod/fabwebvm000002",
    ]);
  });

  it("keeps only devices carrying every target tag", async () => {
    const found = await discover()({ ...fabrikam, targetTags: { role: "web" } });
    expect(names(found)).toEqual([
      "fabrikam/prod/WIN-SERVER01",
      "fabrikam/prod/fabwebvm000000",
      "fabrikam/prod/fabwebvm000001",
      "fabrikam/prod/fabwebvm000002",
    ]);
  });

  it("skips, with the reason, a device whose ring the window does not run", async () => {
    const found = await discover()({ ...fabrikam, rings: ["prod"] });
    expect(found.targets.every((t) => t.ring === "prod")).toBe(true);
    expect(found.skipped.map((s) => [s.resource.split("/").pop(), s.reason])).toEqual(
      ["fab-lnx01"].map((n) => [n, "ring dev is not one of the window's rings (prod)"]),
    );
  });

  it("leaves out clients the window does not cover, and refuses a bad input", async () => {
    expect((await discover()({ ...fabrikam, clients: ["adatum"] })).targets).toEqual([]);
    await expect(discover()({ ...fabrikam, rings: [] })).rejects.toThrow();
  });
});

describe("discoverWindowTargets on devices with missing tags", () => {
  it("puts a device without a ring tag in the last ring and skips one without a client tag", async () => {
    const tags = { "patchpilot:tenant": "t1", "patchpilot:window": "w1" };
    const sut = await startEmulator({
      fleet: fleetOf([
        arcDevice("no-ring", { ...tags, "patchpilot:client": "c1" }),
        arcDevice("no-client", tags),
        arcDevice("in-dev", { ...tags, "patchpilot:client": "c1", "patchpilot:ring": "dev" }),
        arcDevice("other-window", { ...tags, "patchpilot:window": "w2", "patchpilot:client": "c1" }),
      ]),
      clock: new ManualClock(),
    });
    try {
      const found = await makeDiscoverWindowTargets({ arm: sut.arm, subscriptionIds: [SUB_A] })({
        tenant: "t1",
        windowId: "w1",
        clients: [],
        targetTags: {},
        rings: ["dev", "prod"],
      });
      expect(names(found)).toEqual(["c1/dev/in-dev", "c1/prod/no-ring"]);
      expect(found.skipped.map((s) => [s.resource.split("/").pop(), s.reason])).toEqual([
        ["no-client", "no valid patchpilot:client tag"],
      ]);
    } finally {
      await sut.emulator.close();
    }
  });
});

describe("writeWindowReport", () => {
  function report(instanceId: string, finishedAt = "2026-01-20T05:00:00.000Z"): WindowReport {
    return {
      schemaVersion: 1,
      tenant: "contoso-msp",
      windowId: "fabrikam-nightly",
      occurrence: {
        windowId: "fabrikam-nightly",
        localDate: "2026-01-20",
        instanceId,
        start: "2026-01-20T01:00:00.000Z",
        end: "2026-01-20T05:00:00.000Z",
        cutoff: "2026-01-20T04:30:00.000Z",
      },
      startedBy: "schedule",
      finishedAt,
      rings: [{ ring: "dev", started: false, reason: "no devices", rollouts: [] }],
      skipped: [],
      decisions: ["0 devices targeted, 0 tagged resources skipped"],
      totals: { targets: 0, completed: 0, notStarted: 0, orchestrationFailed: 0, byExitCode: {} },
    };
  }

  it("stores the report write-once under the window folder and indexes it under the occurrence", async () => {
    const evidence = evidenceFor(env);
    const write = makeWriteWindowReport({ evidence });
    const instanceId = `window-contoso-msp-fabrikam-nightly-${uniqueRunId("w")}`;
    const written = await write(report(instanceId));
    expect(written.path).toBe(`contoso-msp/_windows/fabrikam-nightly/${instanceId}/window-report.json`);
    expect(await write(report(instanceId))).toEqual(written);

    const bytes = await env.storage.evidence.getBlobClient(written.path).downloadToBuffer();
    expect(sha256Hex(bytes)).toBe(written.sha256);
    const rows = await evidence.index.readArtifacts(instanceId);
    expect([...rows.values()].map((r) => [r.path, r.blobName, r.sha256])).toEqual([
      ["window-report.json", written.path, written.sha256],
    ]);

    await expect(write(report(instanceId, "2026-01-20T05:01:00.000Z"))).rejects.toBeInstanceOf(EvidenceConflictError);
    await expect(write({ ...report(instanceId), tenant: "Not A Slug" })).rejects.toThrow();
  });
});
