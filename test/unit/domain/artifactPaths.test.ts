import { ARTIFACTS, failurePath, parseArtifact, specForPath, transcriptPath } from "../../../lib/domain/artifacts";

describe("artifact paths", () => {
  it("names transcripts by phase and run command, kept as plain bytes", () => {
    const path = transcriptPath("install", "pp-5f2c-install-1", "stdout");
    expect(path).toBe("05-install/transcripts/pp-5f2c-install-1.stdout.txt");
    expect(specForPath(path)).toMatchObject({ format: "text" });
    const hostile = new TextEncoder().encode('{"not": "parsed"}\u0000<script>');
    expect(parseArtifact(specForPath(path), hostile)).toEqual({ ok: true, value: '{"not": "parsed"}\u0000<script>' });
  });

  it("refuses a run command name that could escape the run folder", () => {
    expect(() => transcriptPath("install", "../../other-run/x", "stderr")).toThrow(/invalid run command name/);
  });

  it("schema-checks failure records and known artifacts, naming the bad field", () => {
    expect(specForPath(failurePath("catalog")).schema).toBeDefined();
    const bad = parseArtifact(ARTIFACTS.reboot, new TextEncoder().encode(JSON.stringify({ schemaVersion: 1 })));
    expect(bad).toMatchObject({ ok: false, kind: "schema-invalid", problem: expect.stringMatching(/^policy: /) });
  });
});
