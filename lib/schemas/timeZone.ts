// IANA time-zone names, checked with the ECMAScript Intl API only (no Node built-ins). It lives in lib/schemas, below
// lib/domain, because the policy schemas validate with it and schemas must not depend on domain logic.

/** Whether the runtime knows an IANA time zone name (its ICU data decides, as it does for the schedule arithmetic). */
export function isKnownTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone });
    return true;
  } catch (error) {
    if (error instanceof RangeError) return false;
    throw error;
  }
}
