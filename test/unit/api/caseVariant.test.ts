import { isCaseVariant, nextCaseVariantAfter } from "../../../lib/api/installs/resolveDeviceName";

/** Every case variant of a name, enumerated by brute force: the definition the skip scan must agree with. */
function allVariants(name: string): string[] {
  let out = [""];
  for (const c of name) {
    const options = /[A-Za-z]/.test(c) ? [c.toUpperCase(), c.toLowerCase()] : [c];
    out = out.flatMap((prefix) => options.map((o) => prefix + o));
  }
  return [...new Set(out)];
}

/** Ordinal comparison, as Table storage sorts keys (UTF-16 code units; names here are ASCII). */
const ordinal = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

describe("nextCaseVariantAfter (the skip scan's jump)", () => {
  const names = ["fab-app01", "Ab", "a.b_c-9", "WIN-SERVER01", "x"];
  const keys = [
    "",
    "A",
    "AB",
    "Ab",
    "Ab0",
    "FAB-APP01",
    "FAB-APP010",
    "FAB-APQ",
    "Fab-App01",
    "fab-app01",
    "fab-app02",
    "fab-z",
    "fab",
    "win-server01",
    "WIN-SERVER01X",
    "~",
    "a.B_C-9",
    "a.b_c-9",
    "X",
    "x",
    "y",
  ];
  it.each(names)("agrees with brute-force enumeration for %s", (name) => {
    const variants = allVariants(name).sort(ordinal);
    for (const key of keys) {
      const expected = variants.find((v) => v > key);
      expect({ key, next: nextCaseVariantAfter(key, name) }).toEqual({ key, next: expected });
    }
    for (const v of variants) expect(isCaseVariant(v, name)).toBe(true);
  });

  it("tells variants from other names", () => {
    expect(isCaseVariant("FAB-APP01", "fab-app01")).toBe(true);
    expect(isCaseVariant("FAB-APP010", "fab-app01")).toBe(false);
    expect(isCaseVariant("FAB_APP01", "fab-app01")).toBe(false);
  });
});
