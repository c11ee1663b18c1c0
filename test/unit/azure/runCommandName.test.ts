import { MAX_RUN_COMMAND_NAME, runCommandName } from "../../../lib/azure/runCommandName";

describe("runCommandName", () => {
  const id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/m1";
  it("fits the Linux agent's limit", () => {
    expect(runCommandName(id, "t/c/m1/run-00000001/05-install/1").length).toBeLessThanOrEqual(MAX_RUN_COMMAND_NAME);
  });
  it("is stable for the same execution and differs per execution and device", () => {
    const a = runCommandName(id, "t/c/m1/run-00000001/05-install/1");
    expect(runCommandName(id.toUpperCase(), "t/c/m1/run-00000001/05-install/1")).toBe(a);
    expect(runCommandName(id, "t/c/m1/run-00000001/05-install/2")).not.toBe(a);
    expect(runCommandName(id.replace("m1", "m2"), "t/c/m1/run-00000001/05-install/1")).not.toBe(a);
  });
});
