import { progressBar, renderTable } from "../../../local/run/renderTable";

describe("renderTable", () => {
  it("pads columns to the widest cell and right-aligns numeric columns", () => {
    expect(
      renderTable(
        ["device", "exit"],
        [
          ["WIN-SERVER01", 0],
          ["db", 210],
        ],
      ),
    ).toBe(["device        exit", "------------  ----", "WIN-SERVER01     0", "db             210"].join("\n"));
  });
  it("draws a bar clamped to 0-1", () => {
    expect(progressBar(0.5, 10)).toBe("[#####-----]");
    expect(progressBar(2, 4)).toBe("[####]");
    expect(progressBar(-1, 4)).toBe("[----]");
  });
});
