/**
 * A deployment's cron schedule: the API's rules for the expression and the time zone, and the next run times.
 *
 * The rules are the SDK's (`BetaManagedAgentsCronScheduleParams`): "5-field POSIX cron expression: minute hour
 * day-of-month month day-of-week (e.g., "0 9 * * 1-5" for weekdays at 9am). Day-of-week is 0-7 where 0 and 7 both
 * mean Sunday. Extended cron syntax - seconds or year fields, and the special characters L, W, #, and ? - is not
 * supported, nor are predefined shortcuts (@daily)", and the time zone is "Required. IANA timezone identifier (e.g.,
 * "America/Los_Angeles", "UTC"). Validated against the IANA timezone database". The fields are parsed and the run
 * times computed by croner (a maintained cron library with time-zone support); the time zone is checked against the
 * IANA database Node.js ships (`Intl`). One implementation serves the spec layer (located errors before any API
 * call), the plan (next run times) and the emulator (the API's 400 and `upcoming_runs_at`), so they cannot disagree.
 */
import { Cron } from "croner";

/** Letters of the extended syntax the SDK lists as unsupported (`L` last, `W` weekday); `#` and `?` are checked apart. */
const EXTENDED = /[LW]/i;

/** Month and weekday names croner reads (`JAN`, `MON`); anything else alphabetic is not POSIX cron. */
const NAMES = /^(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|sun|mon|tue|wed|thu|fri|sat)$/i;

/** The shape of an IANA zone name (`Europe/Paris`, `UTC`, `America/Argentina/Buenos_Aires`, `Etc/GMT+5`). */
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;

/** The longest expression or zone name looked at (a real one is a few dozen characters). */
const MAX_LENGTH = 200;

/** At most this many answers are remembered per memo below (a fleet repeats a handful of schedules and zones). */
const MEMO_LIMIT = 1000;

/**
 * `fn` remembering its answers by key: the checks and run times below are pure and a fleet of deployments repeats
 * the same few schedules, so each is computed once per process (issue 10 item 6: croner and `Intl` cost about a
 * millisecond per call). The memo is emptied when full. Answers are strings or frozen arrays, never mutated.
 */
function memo<A extends unknown[], R>(key: (...args: A) => string, fn: (...args: A) => R): (...args: A) => R {
  const known = new Map<string, R>();
  return (...args: A) => {
    const k = key(...args);
    if (known.has(k)) return known.get(k) as R;
    const value = fn(...args);
    if (known.size >= MEMO_LIMIT) known.clear();
    known.set(k, value);
    return value;
  };
}

/** croner's options for the API's semantics: five fields, day-of-month OR day-of-week (POSIX), never started. */
function cron(expression: string, timezone: string): Cron {
  return new Cron(expression, { mode: "5-part", timezone, paused: true, domAndDow: false });
}

/**
 * Why `expression` is not a schedule the API accepts, or undefined when it is one. The message is a sentence that
 * says what to write instead, and quotes no more of the input than a short field.
 */
export const cronExpressionProblem: (expression: string) => string | undefined = memo(
  (expression) => expression,
  cronProblem,
);

function cronProblem(expression: string): string | undefined {
  if (expression.length > MAX_LENGTH) return `is longer than ${MAX_LENGTH} characters; write 5 cron fields`;
  const trimmed = expression.trim();
  if (trimmed.startsWith("@")) {
    return "predefined shortcuts such as @daily are not supported: write the 5 fields (minute hour day-of-month month day-of-week), e.g. 0 0 * * * for daily at midnight";
  }
  const fields = trimmed === "" ? [] : trimmed.split(/\s+/);
  if (fields.length !== 5) {
    const extra = fields.length > 5 ? " (seconds and year fields are not supported)" : "";
    return `must have exactly 5 fields (minute hour day-of-month month day-of-week), not ${fields.length}${extra}; e.g. 0 9 * * 1-5 for weekdays at 9:00`;
  }
  for (const field of fields) {
    const shown = `"${field.slice(0, 20)}"`;
    const extended = `the special characters L, W, # and ? are not supported (in ${shown}): use numbers, ranges (1-5), lists (1,15) and steps (*/15)`;
    if (/[#?]/.test(field)) return extended;
    for (const word of field.match(/[A-Za-z]+/g) ?? []) {
      if (NAMES.test(word)) continue;
      return EXTENDED.test(word) ? extended : `${shown} is not a cron field: use numbers, ranges, lists and steps`;
    }
  }
  let parsed: Cron;
  try {
    parsed = cron(trimmed, "UTC");
  } catch (error) {
    const reason = (error as Error).message.replace(/^CronPattern:\s*/, "").slice(0, 160);
    return `is not a valid cron expression: ${reason}`;
  }
  // The API lists upcoming runs for every active or paused deployment, so a schedule must fire at least once.
  if (parsed.nextRun() === null)
    return "never fires: no date matches its day-of-month and month (like 30 2 for February 30)";
  return undefined;
}

/**
 * Why `timezone` is not an IANA time zone name, or undefined when it is one. Offsets (`+01:00`) and abbreviations
 * that are not zone names are refused; a name in the wrong case gets the right one as a hint (`europe/paris` →
 * `Europe/Paris`).
 */
export const timeZoneProblem: (timezone: string) => string | undefined = memo((timezone) => timezone, zoneProblem);

function zoneProblem(timezone: string): string | undefined {
  const hint = 'an IANA time zone name such as "Europe/Paris", "America/Los_Angeles" or "UTC"';
  if (timezone.length > MAX_LENGTH || !ZONE_NAME.test(timezone)) return `must be ${hint}`;
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat("en-US", { timeZone: timezone }).resolvedOptions().timeZone;
  } catch {
    return `"${timezone.slice(0, 60)}" is not in the IANA time zone database: use ${hint}`;
  }
  const canonical = [resolved, ...Intl.supportedValuesOf("timeZone")].find(
    (name) => name.toLowerCase() === timezone.toLowerCase(),
  );
  if (canonical !== undefined && canonical !== timezone) {
    return `time zone names are case-sensitive: did you mean "${canonical}"?`;
  }
  return undefined;
}

/**
 * The next `count` times the schedule fires after `from` (exclusive), as Dates (UTC instants), computed in the
 * schedule's time zone ("Literal wall-clock matching in the configured timezone", SDK
 * `BetaManagedAgentsCronScheduleParams`). Around daylight-saving changes croner behaves like classic cron: a time that
 * occurs twice fires at its first occurrence, a time skipped by the change fires right after the gap (02:30 on the
 * night clocks jump from 02:00 to 03:00 fires at 03:00). The API does not document its choice there.
 * @throws Error when the expression or the zone is invalid (check them first with `cronExpressionProblem` and
 *   `timeZoneProblem`)
 */
export function nextRunTimes(expression: string, timezone: string, count: number, from: Date): Date[] {
  return runTimes(expression, timezone, count, from.getTime()).map((ms) => new Date(ms));
}

/** The last run times computed per schedule and count, with the instant they were computed from (`runTimes`). */
const runWindows = new Map<string, { from: number; runs: readonly number[] }>();

/**
 * `nextRunTimes` as epoch milliseconds. The same runs follow every instant from the one they were computed from up to
 * (not including) the first of them, so within that window the last answer is given again, whatever `from` is: the
 * emulator lists deployments as of each request's time, and computing each schedule's runs anew (about a millisecond
 * with croner) held its thread for tens of milliseconds per page (issue 10 item 6). Exact: outside the window, the
 * runs are computed again.
 */
function runTimes(expression: string, timezone: string, count: number, from: number): readonly number[] {
  const key = `${expression}\n${timezone}\n${count}`;
  const known = runWindows.get(key);
  if (known && known.from <= from && from < (known.runs[0] ?? Number.POSITIVE_INFINITY)) return known.runs;
  const runs = Object.freeze(
    cron(expression.trim(), timezone)
      .nextRuns(count, new Date(from))
      .map((d) => d.getTime()),
  );
  if (runWindows.size >= MEMO_LIMIT) runWindows.clear();
  runWindows.set(key, { from, runs });
  return runs;
}

/** One wall-clock formatter per zone (building an `Intl.DateTimeFormat` costs more than formatting with it). */
const zoneFormatter = memo(
  (timezone: string) => timezone,
  (timezone: string) =>
    new Intl.DateTimeFormat("en-CA", {
      timeZone: timezone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    }),
);

/**
 * `instant` as wall-clock time in `timezone`, with the zone: `2026-11-27 02:00 Europe/Paris (01:00 UTC)`. The UTC
 * time is left out for zones at UTC.
 */
export function formatInZone(instant: Date, timezone: string): string {
  const parts = zoneFormatter(timezone).formatToParts(instant);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  const local = `${part("year")}-${part("month")}-${part("day")} ${part("hour")}:${part("minute")}`;
  const utc = instant.toISOString().replace("T", " ").slice(0, 16);
  const sameAsUtc = local === utc;
  return `${local} ${timezone}${sameAsUtc ? "" : ` (${utc.slice(11)} UTC${local.slice(0, 10) === utc.slice(0, 10) ? "" : ` on ${utc.slice(0, 10)}`})`}`;
}
