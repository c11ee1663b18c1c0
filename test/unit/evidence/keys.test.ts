import { fromTableKey, installsRowKey, toTableKey } from "../../../lib/evidence/keys";

describe("table keys", () => {
  it("encodes the characters Azure Table keys forbid, reversibly", () => {
    const path = "02-baseline/baseline.json";
    expect(toTableKey(path)).not.toMatch(/[/\\#?]/);
    expect(fromTableKey(toTableKey(path))).toBe(path);
    expect(fromTableKey(toTableKey("a#b?c\\d%e\u0001"))).toBe("a#b?c\\d%e\u0001");
  });

  it("starts install row keys with the update so one KB's rows are contiguous", () => {
    expect(installsRowKey("KB5012345", "run-1")).toBe("KB5012345|run-1");
  });
});
