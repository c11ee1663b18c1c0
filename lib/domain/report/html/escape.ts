/**
 * Code points that must never reach the page raw: C0/C1 controls (NUL, ESC, ...; tab and line breaks are kept, they
 * are layout) and Unicode's Bidi_Control set (U+202A-U+202E overrides/embeddings, U+2066-U+2069 isolates, marks), which
 * can make a hostile update title or check detail read differently from what it is (the "Trojan Source" trick).
 */
const INVISIBLE = /(?![\t\n\r])[\p{Cc}\p{Bidi_Control}]/gu;

/** `[U+202E]`: visible, unambiguous, and safe in element content and attributes alike. */
function visible(c: string): string {
  return `[U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}]`;
}

/**
 * Escapes text for HTML element content and double-quoted attributes: device output is untrusted. Markup characters
 * become character references; controls and bidi formatting characters are shown as `[U+XXXX]`.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`).replace(INVISIBLE, visible);
}
