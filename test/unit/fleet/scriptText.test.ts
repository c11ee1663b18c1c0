import { composeBundle } from "../../../lib/device/bundle";
import { getDeviceScript } from "../../../lib/device/registry";
import type { OsFamily } from "../../../lib/schemas/common";
import { fingerprintOf, scriptTextOf, shareScript, sharedPieceCount } from "../../../local/fleet/scriptText";

// The emulator keeps each run command's script as shared pieces (issue 22: a 5,000-device window held one 40-60 KB
// copy per device and slot). What ARM returns must stay the exact text that was PUT, and bundles that differ only in
// their nonce must not add pieces. The bundles here are composed by the app's own composer from the real scripts.
function bundleOf(os: OsFamily, nonce: string): string {
  const section = (step: string, id: "baseline" | "validate" | "catalog") => ({
    step,
    script: getDeviceScript(id, os),
    parameters: [{ name: "Checks", value: "[]" }],
  });
  return composeBundle(
    os,
    [section("baseline", "baseline"), section("preValidation", "validate"), section("catalog", "catalog")],
    nonce,
  ).script;
}

describe("shared script text (fleet emulator)", () => {
  it.each<OsFamily>(["windows", "linux"])("gives back exactly the %s bundle that was stored", (os) => {
    const text = bundleOf(os, "0123456789abcdef01234567");
    expect(scriptTextOf(shareScript(text))).toBe(text);
  });

  it("adds no pieces for a second bundle that differs only in its nonce", () => {
    shareScript(bundleOf("windows", "aaaaaaaaaaaaaaaaaaaaaaaa"));
    const before = sharedPieceCount();
    const other = bundleOf("windows", "bbbbbbbbbbbbbbbbbbbbbbbb");
    expect(scriptTextOf(shareScript(other))).toBe(other);
    expect(sharedPieceCount()).toBe(before);
  });

  it("keeps a single script (no bundle header) whole and shared", () => {
    const text = getDeviceScript("install", "linux").text;
    shareScript(text);
    const before = sharedPieceCount();
    expect(scriptTextOf(shareScript(`${text}`))).toBe(text);
    expect(sharedPieceCount()).toBe(before);
  });

  it("fingerprints equal bodies equally and different bodies differently, in a fixed size", () => {
    const body = { script: bundleOf("linux", "cccccccccccccccccccccccc"), timeoutInSeconds: 600 };
    expect(fingerprintOf(body)).toBe(fingerprintOf({ ...body }));
    expect(fingerprintOf(body)).not.toBe(fingerprintOf({ ...body, timeoutInSeconds: 601 }));
    expect(fingerprintOf(body)).toHaveLength(64);
  });
});
