import { createHash } from "node:crypto";
import { BUNDLE_HEADER_PATTERN } from "../../lib/device/bundle";

// Issue 22: the emulator keeps every run command's script, as ARM does (a GET returns `source.script`). At fleet scale
// that was most of the bench's heap: one 40-60 KB bundle per device and slot, each a separate copy of the same device
// scripts (plus a JSON copy of the whole PUT body as its fingerprint). A bundle differs from its siblings only in its
// nonce, so the text is kept as the pieces between nonce occurrences, each piece shared by every command that has it,
// and rebuilt exactly on read. A script without a nonce (a single device script) is shared whole.

/** A script text held by shared pieces: `pieces.join(nonce)` is the text. */
export interface SharedScript {
  readonly pieces: readonly string[];
  readonly nonce: string;
}

/** The pieces seen so far, each held once. Emulator-wide: a piece is the same text whichever device ran it. */
const pieces = new Map<string, string>();

/**
 * A copy that owns its characters: V8 may represent a split or regex result as a slice of the whole text, which would
 * keep every whole script alive through its pieces.
 */
function detached(text: string): string {
  return Buffer.from(text, "utf8").toString("utf8");
}

function share(piece: string): string {
  const known = pieces.get(piece);
  if (known !== undefined) return known;
  const own = detached(piece);
  pieces.set(own, own);
  return own;
}

/** The script as shared pieces (the same text back from `scriptTextOf`). */
export function shareScript(text: string): SharedScript {
  const nonce = BUNDLE_HEADER_PATTERN.exec(text)?.[2];
  if (nonce === undefined) return { pieces: [share(text)], nonce: "" };
  return { pieces: text.split(nonce).map(share), nonce: detached(nonce) };
}

export function scriptTextOf(script: SharedScript): string {
  return script.pieces.join(script.nonce);
}

/** How many distinct pieces are held (for tests and the bench: it stays flat as the fleet grows). */
export function sharedPieceCount(): number {
  return pieces.size;
}

/** A fixed-size fingerprint of a PUT body: equal bodies, equal fingerprints (no copy of the body kept). */
export function fingerprintOf(body: unknown): string {
  return createHash("sha256").update(JSON.stringify(body)).digest("hex");
}
