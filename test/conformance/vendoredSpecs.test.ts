import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { SPEC_ROOT } from "./swaggerSpecs";

// The vendored specs are verbatim copies: each file's digest is the one shared/reference/SHA256SUMS records.
describe("the vendored Azure REST API specs", () => {
  const lines = readFileSync(path.join(SPEC_ROOT, "SHA256SUMS"), "utf8").trim().split("\n");

  it.each(lines.map((line) => line.split(/\s+/) as [string, string]))("%s %s is unchanged", (digest, file) => {
    expect(
      createHash("sha256")
        .update(readFileSync(path.join(SPEC_ROOT, file)))
        .digest("hex"),
    ).toBe(digest);
  });
});
