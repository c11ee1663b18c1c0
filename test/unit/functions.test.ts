import { createDefinitions, definitions } from "../../functions/index";

describe("functions/index", () => {
  it("lists every function once, by name", () => {
    const names = definitions.map((d) => d.name);
    expect(names).toContain("computeExitCode");
    expect(new Set(names).size).toBe(names.length);
  });

  it("resolves dependencies only when a handler runs", () => {
    const getDeps = jest.fn(() => {
      throw new Error("not configured");
    });
    const defs = createDefinitions(getDeps);
    expect(getDeps).not.toHaveBeenCalled();
    const activity = defs.find((d) => d.name === "computeExitCode");
    expect(() => activity?.handler({}, {} as never)).toThrow("not configured");
  });
});
