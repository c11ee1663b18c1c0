import { existsSync } from "node:fs";
import { formatProgressTable } from "../../../local/run/progressTable";
import { makeTempDir, removeTempDir } from "../../../local/run/tempDirs";

describe("live progress table", () => {
  it("counts devices per stage, done and failed, with a bar and the simulated time, in a few lines", () => {
    const devices = [
      { device: "a", stage: "05 install", progress: 0.5, done: false },
      { device: "b", stage: "05 install", progress: 0.5, done: false },
      { device: "c", stage: "06 reboot", progress: 0.6, done: false },
      { device: "d", stage: "completed", progress: 1, done: true },
      { device: "e", stage: "failed", progress: 1, done: true },
    ];
    const text = formatProgressTable(devices, new Date("2026-01-20T02:30:00Z"), new Date("2026-01-20T01:00:00Z"));
    const lines = text.split("\n");
    expect(lines[0]).toContain("5 devices: 1 done, 1 failed, 3 running");
    expect(lines[0]).toContain("simulated 2026-01-20 02:30Z (+90 min)");
    expect(lines[0]).toMatch(/\[#{22}-{8}\] {2}72%/);
    expect(lines.slice(1)).toEqual(["      2  05 install", "      1  06 reboot"]);
  });

  it("stays one line per stage however many devices run", () => {
    const many = Array.from({ length: 2000 }, (_, i) => ({
      device: `d${i}`,
      stage: i % 2 === 0 ? "02 baseline" : "completed",
      progress: i % 2 === 0 ? 0.1 : 1,
      done: i % 2 !== 0,
    }));
    expect(formatProgressTable(many, new Date(0), new Date(0)).split("\n")).toHaveLength(2);
  });
});

describe("temp folders of a local run", () => {
  it("are named patchpilot-* and removed on request", () => {
    const dir = makeTempDir("unit");
    expect(dir).toMatch(/patchpilot-unit-/);
    expect(existsSync(dir)).toBe(true);
    removeTempDir(dir);
    expect(existsSync(dir)).toBe(false);
  });
});
