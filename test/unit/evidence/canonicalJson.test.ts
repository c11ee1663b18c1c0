import { canonicalJson, canonicalJsonLinesBytes } from "../../../lib/evidence/canonicalJson";

describe("canonicalJson (RFC 8785)", () => {
  it("matches the RFC 8785 section 3.2.2 example", () => {
    // Input and output of RFC 8785 §3.2.2 (sorting by UTF-16 code units, ES6 number serialization, minimal escaping).
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}',
    ) as unknown;
    expect(canonicalJson(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it("gives the same bytes whatever the key order", () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: 3 } })).toBe(canonicalJson({ a: { c: 3, d: 2 }, b: 1 }));
  });

  it("writes JSON Lines with one canonical document per line", () => {
    expect(canonicalJsonLinesBytes([{ b: 1, a: 2 }, { c: 3 }]).toString()).toBe('{"a":2,"b":1}\n{"c":3}\n');
  });
});
