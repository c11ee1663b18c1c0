import { createDefinitions, definitions } from "../../functions/index";
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
