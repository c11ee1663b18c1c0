import { diffSnapshots } from "../../../lib/domain/snapshot/diffSnapshots";
import { BaselineDiffSchema, type SystemSnapshot } from "../../../lib/schemas/artifacts/snapshot";

const snapshot = (over: Partial<SystemSnapshot>): SystemSnapshot => ({
  schemaVersion: 1,
  capturedAt: "2026-01-20T02:00:00Z",
  os: { family: "windows", name: "Windows Server 2022", version: "10.0.20348", build: "20348.2340" },
  installedUpdates: [{ id: "KB5011111", kb: "KB5011111" }],
  updateHistory: [],
  services: [{ name: "W3SVC", state: "Running", startType: "Automatic" }],
  drivers: [],
  apps: [{ name: "Shop", version: "1.0" }],
  pendingReboot: { pending: false, signals: [] },
  lastBootTime: "2026-01-19T02:00:00Z",
  disks: [],
  ...over,
});

describe("diffSnapshots", () => {
  it("reports build, added and removed updates, and changed services and apps", () => {
    const d = diffSnapshots(
      snapshot({}),
      snapshot({
        os: { family: "windows", name: "Windows Server 2022", version: "10.0.20348", build: "20348.2400" },
        installedUpdates: [{ id: "KB5012345", kb: "KB5012345" }],
        services: [{ name: "W3SVC", state: "Stopped", startType: "Automatic" }],
        apps: [
          { name: "Shop", version: "1.0" },
          { name: "Agent", version: "2" },
        ],
      }),
    );
    expect(d).toEqual({
      schemaVersion: 1,
      osBuild: { before: "20348.2340", after: "20348.2400" },
      updatesAdded: ["KB5012345"],
      updatesRemoved: ["KB5011111"],
      services: [{ name: "W3SVC", before: "Running/Automatic", after: "Stopped/Automatic" }],
      drivers: [],
      apps: [{ name: "Agent", before: null, after: "2" }],
    });
    expect(BaselineDiffSchema.safeParse(d).success).toBe(true);
  });

  it("sees a Linux package upgrade as one removed and one added version", () => {
    const pkg = (version: string): SystemSnapshot["installedUpdates"] => [{ id: "openssl", version }];
    const d = diffSnapshots(
      snapshot({ installedUpdates: pkg("3.0.14") }),
      snapshot({ installedUpdates: pkg("3.0.15") }),
    );
    expect([d.updatesAdded, d.updatesRemoved]).toEqual([["openssl 3.0.15"], ["openssl 3.0.14"]]);
  });
});

describe("diffSnapshots: regression sources from drift", () => {
  const services = (state: string) => [
    { name: "W3SVC", state, startType: "Auto" },
    { name: "wuauserv", state: "Stopped", startType: "Manual" },
    { name: "Spooler", state: "Running", startType: "Manual" },
  ];
  const ports = (list: number[]) => list.map((port) => ({ protocol: "tcp" as const, port, address: "0.0.0.0" }));

  it("an automatic service that ran before and is stopped after, and a port that stopped listening, are regressions", () => {
    const before = snapshot({ services: services("Running"), listeningPorts: ports([80, 443, 3389]) });
    const after = snapshot({
      services: services("Stopped").map((s) => (s.name === "Spooler" ? { ...s, state: "Stopped" } : s)),
      listeningPorts: ports([3389]),
    });
    const d = diffSnapshots(before, after, [
      { type: "automaticService", name: "auto-services" },
      { type: "listeningPort", name: "https", port: 443, protocol: "tcp" },
    ]);
    expect(BaselineDiffSchema.parse(d)).toEqual(d);
    expect(d.driftRegressions).toEqual({
      regressions: [
        {
          source: "auto-services",
          type: "automaticService",
          subject: "W3SVC",
          before: "Running/Auto",
          after: "Stopped/Auto",
        },
        { source: "https", type: "listeningPort", subject: "tcp/443", before: "listening", after: "not listening" },
      ],
      unjudged: [],
    });
  });

  it("without sources it records no drift judgement; a manual service stopping is no regression", () => {
    expect(diffSnapshots(snapshot({}), snapshot({})).driftRegressions).toBeUndefined();
    const after = services("Running").map((s) => (s.name === "Spooler" ? { ...s, state: "Stopped" } : s));
    const d = diffSnapshots(snapshot({ services: services("Running") }), snapshot({ services: after }), [
      { type: "automaticService", name: "auto" },
    ]);
    expect(d.driftRegressions?.regressions).toEqual([]);
  });

  it("a section that could not be collected leaves the source unjudged, never clean nor regressed", () => {
    const blind = snapshot({
      services: [],
      collectionErrors: [{ section: "services", message: "access denied", code: "permission-denied" }],
    });
    const d = diffSnapshots(snapshot({ services: services("Running") }), blind, [
      { type: "automaticService", name: "auto" },
      { type: "listeningPort", name: "any-port", protocol: "tcp" },
    ]);
    expect(d.driftRegressions?.regressions).toEqual([]);
    expect(d.driftRegressions?.unjudged.map((u) => u.source)).toEqual(["auto", "any-port"]);
  });
});
