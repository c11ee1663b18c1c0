import { readFileSync } from "node:fs";
import path from "node:path";
import { SPEC_ROOT, SpecIndex, type Exchange } from "./swaggerSpecs";

// The validator itself, against Microsoft's own examples: each example passes, and each kind of deviation the issue
// names (a field the spec does not define, a missing required field, a wrong enum) fails.
const HC = "specification/hybridcompute/resource-manager/Microsoft.HybridCompute/HybridCompute/stable/2025-01-13";
const GET_EXAMPLE = JSON.parse(
  readFileSync(path.join(SPEC_ROOT, HC, "examples/runCommand/RunCommands_Get.json"), "utf8"),
) as {
  responses: { "200": { body: Record<string, unknown> & { properties: Record<string, unknown> } } };
};
const URL_GET =
  "/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/m1/runCommands/rc1?api-version=2025-01-13";

function exchange(body: unknown, url = URL_GET): Exchange {
  return { method: "GET", url, requestBody: undefined, status: 200, responseBody: body };
}

describe("the Swagger 2.0 validator over the vendored specs", () => {
  const specs = new SpecIndex();
  const example = GET_EXAMPLE.responses["200"].body;

  it("accepts Microsoft's own example", () => {
    expect(specs.check(exchange(example))).toEqual([]);
  });

  it("fails a field the spec does not define, at any depth", () => {
    expect(specs.check(exchange({ ...example, surprise: 1 })).join()).toMatch(/surprise/);
    const nested = {
      ...example,
      properties: { ...example.properties, instanceView: { executionState: "Running", bogus: true } },
    };
    expect(specs.check(exchange(nested)).join()).toMatch(/bogus/);
  });

  it("fails a missing required field", () => {
    const { location: _location, ...withoutLocation } = example;
    expect(specs.check(exchange(withoutLocation)).join()).toMatch(/location/);
  });

  it("fails a wrong enum value", () => {
    const wrong = { ...example, properties: { ...example.properties, instanceView: { executionState: "Done" } } };
    expect(specs.check(exchange(wrong)).join()).toMatch(/allowed values/);
  });

  it("fails a query parameter the operation does not define, and a status it does not answer", () => {
    expect(specs.check(exchange(example, `${URL_GET}&$expand=instanceView`)).join()).toMatch(/\$expand is not defined/);
    expect(specs.check({ ...exchange(undefined), method: "DELETE", status: 200 }).join()).toMatch(
      /200 is not a response/,
    );
  });

  it("finds no operation for an api-version it does not hold", () => {
    expect(specs.check(exchange(example, URL_GET.replace("2025-01-13", "2021-05-20"))).join()).toMatch(/no operation/);
  });
});
