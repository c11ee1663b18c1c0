import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { createDefinitions, definitions } from "../../functions/index";
import { ACTIVITY_CONTRACTS } from "../../lib/schemas/activities";
import { ACTIVITIES, ORCHESTRATORS } from "../../orchestrators/activityNames";

describe("functions/index", () => {
  it("lists every function once, by name", () => {
    const names = definitions.map((d) => d.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it("registers every activity and orchestrator the orchestrators call, with the right kind", () => {
    const kinds = new Map(definitions.map((d) => [d.name, d.kind]));
    for (const name of Object.values(ACTIVITIES)) expect([name, kinds.get(name)]).toEqual([name, "activity"]);
    for (const name of Object.values(ORCHESTRATORS)) expect([name, kinds.get(name)]).toEqual([name, "orchestrator"]);
  });

  it("starts due maintenance windows from a timer with a durable client, every five minutes", () => {
    const timer = definitions.find((d) => d.name === "startDueWindows");
    expect(timer).toMatchObject({ kind: "timer", schedule: "0 */5 * * * *", durableClient: true });
  });

  it("seals the clients' compliance reports from a timer daily at 06:00 UTC (six-field NCRONTAB)", () => {
    const timer = definitions.find((d) => d.name === "generateScheduledComplianceReports");
    expect(timer).toMatchObject({ kind: "timer", schedule: "0 0 6 * * *" });
  });

  it("resolves dependencies only when a handler runs", () => {
    const getDeps = jest.fn(() => {
      throw new Error("not configured");
    });
    const defs = createDefinitions(getDeps);
    expect(getDeps).not.toHaveBeenCalled();
    for (const name of Object.values(ACTIVITIES)) {
      const activity = defs.find((d) => d.name === name);
      expect(() => activity?.handler({}, {} as never)).toThrow("not configured");
    }
  });
});

describe("registered activities", () => {
  it("are exactly the contract table's, and every one is called by some orchestrator (none registered but unused)", () => {
    const registered = definitions.filter((d) => d.kind === "activity").map((d) => d.name);
    expect([...registered].sort()).toEqual(Object.keys(ACTIVITY_CONTRACTS).sort());
    const dir = path.resolve(__dirname, "../../orchestrators");
    const source = readdirSync(dir)
      .filter((f) => f.endsWith(".ts"))
      .map((f) => readFileSync(path.join(dir, f), "utf8"))
      .join("\n");
    const called = new Set([...source.matchAll(/callActivity\(\s*context,\s*"([A-Za-z]+)"/g)].map((m) => m[1]));
    expect(registered.filter((name) => !called.has(name))).toEqual([]);
  });
});
