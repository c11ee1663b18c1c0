import { detectRegressions } from "../../../lib/domain/validation/detectRegressions";
import { RegressionsSchema, type CheckResult, type ValidationReport } from "../../../lib/schemas/artifacts/validation";

const result = (app: string, check: string, ...attempts: boolean[]): CheckResult => ({
  app,
  check,
  type: "http",
  success: attempts[attempts.length - 1] ?? false,
  attempts: attempts.map((success, i) => ({
    at: `2026-01-20T02:0${i}:00Z`,
    success,
    detail: success ? "HTTP 200" : `HTTP 503 (try ${i + 1})`,
  })),
});
const report = (stage: "pre" | "post", ...results: CheckResult[]): ValidationReport => ({
  schemaVersion: 1,
  stage,
  startedAt: "2026-01-20T02:00:00Z",
  results,
});

describe("detectRegressions", () => {
  it("counts a check that passed PRE and fails POST after its attempts", () => {
    const r = detectRegressions(
      report("pre", result("Shop", "home", true)),
      report("post", result("Shop", "home", false, false, false)),
    );
    expect(r.TotalRegressions).toBe(1);
    expect(r.regressions[0]).toEqual({
      app: "Shop",
      check: "home",
      pre: { success: true, detail: "HTTP 200" },
      post: { success: false, detail: "HTTP 503 (try 3)" },
    });
    expect(RegressionsSchema.safeParse(r).success).toBe(true);
  });

  it("does not count a POST check that recovered on a retry", () => {
    const r = detectRegressions(
      report("pre", result("Shop", "home", true)),
      report("post", result("Shop", "home", false, true)),
    );
    expect(r.TotalRegressions).toBe(0);
  });

  it("reports checks already failing PRE as pre-existing, never as regressions", () => {
    const r = detectRegressions(
      report("pre", result("ERP", "api", false)),
      report("post", result("ERP", "api", false)),
    );
    expect(r.TotalRegressions).toBe(0);
    expect(r.preExisting).toHaveLength(1);
  });

  it("treats a PRE-passing check missing from POST as a regression, and ignores checks only in POST", () => {
    const r = detectRegressions(
      report("pre", result("Shop", "home", true)),
      report("post", result("Shop", "new", false)),
    );
    expect(r.regressions).toEqual([
      {
        app: "Shop",
        check: "home",
        pre: { success: true, detail: "HTTP 200" },
        post: { success: false, detail: "not run after patching" },
      },
    ]);
  });

  it("matches by app and check together", () => {
    const r = detectRegressions(
      report("pre", result("A", "health", true), result("B", "health", true)),
      report("post", result("A", "health", true), result("B", "health", false)),
    );
    expect(r.regressions.map((x) => x.app)).toEqual(["B"]);
  });
});
