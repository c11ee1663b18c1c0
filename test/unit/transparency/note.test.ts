import { generateKeyPairSync, sign } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { ecP256Spki, jwsToDer } from "../../../lib/transparency/keyVaultKey";
import {
  formatCheckpoint,
  formatVerifierKey,
  keyIdOf,
  openNote,
  parseCheckpoint,
  parseVerifierKey,
  signNote,
  SIGNATURE_TYPES,
  type NoteSigner,
} from "../../../lib/transparency/note";

// The specs' own examples, read out of the vendored C2SP documents (test/fixtures/reference/README.md).
const C2SP = path.resolve(__dirname, "../../fixtures/reference/c2sp");
const signedNote = readFileSync(path.join(C2SP, "signed-note.md"), "utf8");
const checkpointSpec = readFileSync(path.join(C2SP, "tlog-checkpoint.md"), "utf8");

/** The fenced block after a heading or phrase, as the spec shows it. */
function fencedAfter(doc: string, marker: string): string {
  const from = doc.indexOf(marker);
  const open = doc.indexOf("```\n", from);
  const close = doc.indexOf("```", open + 4);
  return doc.slice(open + 4, close);
}

describe("signed notes against the C2SP signed-note spec's example", () => {
  const vkey = (/^ {4}(example\.com\/foo\+[0-9a-f]{8}\+\S+)$/m.exec(signedNote) ?? [])[1] as string;
  const note = fencedAfter(signedNote, "verifies the following signed note");

  it("parses the example verifier key (name, key ID from the spec's formula, Ed25519)", () => {
    const verifier = parseVerifierKey(vkey);
    expect(verifier).toMatchObject({ name: "example.com/foo", type: SIGNATURE_TYPES.ed25519 });
    expect(verifier.keyId).toBe(keyIdOf("example.com/foo", SIGNATURE_TYPES.ed25519, verifier.publicKey));
    expect(formatVerifierKey(verifier)).toBe(vkey);
  });

  it("verifies the example note with the example key, and refuses it altered or with no trusted key", () => {
    const verifier = parseVerifierKey(vkey);
    expect(openNote(note, [verifier])).toEqual({
      ok: true,
      text: "This is an example message.\n",
      verifiedBy: ["example.com/foo"],
    });
    expect(openNote(note.replace("example message", "exemplary message"), [verifier])).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/does not verify/),
    });
    expect(openNote(note, [])).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/no signature of a trusted/),
    });
  });

  it("ignores a signature of an unknown key (same name, other ID) as the spec requires", () => {
    const other = parseVerifierKey(vkey);
    const unknown = { ...other, keyId: other.keyId ^ 1 };
    expect(openNote(note, [unknown])).toMatchObject({ ok: false, problem: expect.stringMatching(/no signature/) });
  });
});

describe("checkpoints against the C2SP tlog-checkpoint spec's example", () => {
  const example = fencedAfter(checkpointSpec, "essential parts of a log's Merkle tree head");

  it("parses the example's note text: origin, tree size, base64 root", () => {
    const text = example.slice(0, example.lastIndexOf("\n\n") + 1);
    const cp = parseCheckpoint(text);
    expect(cp).toMatchObject({ origin: "example.com/behind-the-sofa", size: 20852163 });
    expect(cp.root).toHaveLength(32);
    expect(formatCheckpoint(cp)).toBe(text);
  });

  it("refuses leading zeros, a short root and a missing line", () => {
    const root = Buffer.alloc(32, 7).toString("base64");
    expect(() => parseCheckpoint(`o\n012\n${root}\n`)).toThrow(/leading zeros/);
    expect(() => parseCheckpoint(`o\n12\n${Buffer.alloc(31).toString("base64")}\n`)).toThrow(/32 bytes/);
    expect(() => parseCheckpoint(`o\n12\n`)).toThrow(/three lines/);
  });
});

describe("our signatures in the note format", () => {
  it("an Ed25519 checkpoint we sign verifies with the published key, and not with another's", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const raw = Buffer.from(publicKey.export({ format: "jwk" }).x as string, "base64url");
    const name = "patchpilot.local/log/contoso-msp";
    const signer: NoteSigner = {
      name,
      type: SIGNATURE_TYPES.ed25519,
      publicKey: raw,
      keyId: keyIdOf(name, SIGNATURE_TYPES.ed25519, raw),
      sign: (t) => Promise.resolve(sign(null, t, privateKey)),
    };
    const note = await signNote(formatCheckpoint({ origin: name, size: 3, root: Buffer.alloc(32, 1) }), [signer]);
    expect(note).toMatch(
      /^patchpilot\.local\/log\/contoso-msp\n3\n[A-Za-z0-9+/]{43}=\n\n\u2014 patchpilot\.local\/log\/contoso-msp [A-Za-z0-9+/=]+\n$/u,
    );
    expect(openNote(note, [parseVerifierKey(formatVerifierKey(signer))]).ok).toBe(true);
    const stranger = generateKeyPairSync("ed25519").publicKey;
    const strangerRaw = Buffer.from(stranger.export({ format: "jwk" }).x as string, "base64url");
    const strangerKey = formatVerifierKey({ ...signer, publicKey: strangerRaw, keyId: keyIdOf(name, 1, strangerRaw) });
    expect(openNote(note, [parseVerifierKey(strangerKey)]).ok).toBe(false);
  });

  it("an ECDSA P-256 signature in Key Vault's JWS form (r‖s) becomes the DER a type 0x02 verifier accepts", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const jwk = publicKey.export({ format: "jwk" });
    const spki = ecP256Spki(Buffer.from(jwk.x as string, "base64url"), Buffer.from(jwk.y as string, "base64url"));
    expect(spki.equals(publicKey.export({ type: "spki", format: "der" }))).toBe(true);
    const name = "patchpilot.example/log/contoso-msp";
    const signer: NoteSigner = {
      name,
      type: SIGNATURE_TYPES.ecdsa,
      publicKey: spki,
      keyId: keyIdOf(name, SIGNATURE_TYPES.ecdsa, spki),
      // As Key Vault's ES256 answers: IEEE P1363 r‖s, converted as the Key Vault signer converts it.
      sign: (t) => Promise.resolve(jwsToDer(sign("sha256", t, { key: privateKey, dsaEncoding: "ieee-p1363" }))),
    };
    for (let i = 0; i < 20; i++) {
      const note = await signNote(formatCheckpoint({ origin: name, size: i, root: Buffer.alloc(32, i) }), [signer]);
      expect(openNote(note, [parseVerifierKey(formatVerifierKey(signer))]).ok).toBe(true);
    }
  });
});
