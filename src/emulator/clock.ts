/**
 * Timestamps for `created_at` / `updated_at` / `archived_at`: RFC 3339 in UTC with microseconds
 * (`2026-04-01T12:00:00.123456Z`), strictly increasing within one emulator, so "newest first" is well defined even
 * for resources created in the same millisecond. All timestamps have the same width, so they sort as strings.
 */
export class Clock {
  private lastMicros = 0;

  /** The current time, at least one microsecond after the previous call's. */
  now(): string {
    let micros = Date.now() * 1000;
    if (micros <= this.lastMicros) micros = this.lastMicros + 1;
    this.lastMicros = micros;
    const ms = Math.floor(micros / 1000);
    const extra = String(micros % 1000).padStart(3, "0");
    return new Date(ms).toISOString().replace("Z", `${extra}Z`);
  }
}

/**
 * Epoch microseconds of an RFC 3339 timestamp with up to microsecond precision, as the clock writes them and
 * `validate.ts#timestamp` normalises them (sort keys, `created_at[...]` filters). Digits past the sixth are ignored.
 */
export function epochMicros(ts: string): number {
  const frac = /\.(\d+)/.exec(ts)?.[1] ?? "";
  return Date.parse(ts) * 1000 + (Number(frac.padEnd(6, "0").slice(3, 6)) || 0);
}
