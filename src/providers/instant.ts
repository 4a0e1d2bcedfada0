/**
 * Timestamps compared as instants, not as strings: `2027-01-01T02:00:00+02:00` and `2027-01-01T00:00:00.000Z` are the
 * same moment and must not show as a change. RFC 3339 (the format the SDK documents for `expires_at`).
 */

const RFC3339 = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * The canonical UTC form of an RFC 3339 timestamp: `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`, the fraction kept to microseconds
 * (trailing zeros dropped, no fraction when it is zero). Returns `null` for a string that is not a valid RFC 3339
 * timestamp; never throws.
 */
export function canonicalInstant(value: string): string | null {
  const m = RFC3339.exec(value);
  if (!m) return null;
  const [, date, time, fraction = "", offset = "Z"] = m;
  const seconds = Date.parse(`${date}T${time}${offset.toUpperCase()}`);
  if (Number.isNaN(seconds)) return null;
  const micros = fraction.padEnd(6, "0").slice(0, 6).replace(/0+$/, "");
  const base = new Date(seconds).toISOString().slice(0, 19);
  return `${base}${micros === "" ? "" : `.${micros}`}Z`;
}

/** `value` in canonical UTC form when it is a valid RFC 3339 timestamp, else the value unchanged (or null). */
export function instantOrSelf(value: unknown): string | null {
  if (typeof value !== "string") return null;
  return canonicalInstant(value) ?? value;
}
