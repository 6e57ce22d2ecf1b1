/**
 * One reading of an absolute time a person or a client writes: ISO 8601 with a zone, or a UTC day. The CLI's
 * `--since`/`--until` and the jobs endpoint's `delay` read times this way, so a time means the same instant on a
 * laptop, in Lambda and in the console.
 */

const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * `2026-11-30T10:00:00Z`, `2026-11-30T11:00:00+01:00` (seconds and fractions optional), or a UTC day
 * (`2026-11-30`, its midnight UTC). Undefined for anything else: a date-time without a zone (which the clock's
 * own zone would silently shift, so a laptop and Lambda would read different instants), a day or hour that does
 * not exist (2026-02-30, 24:30), or trailing text.
 */
export function parseIsoTime(text: string): Date | undefined {
  const trimmed = text.trim();
  const iso = ISO_TIME.exec(trimmed);
  if (!iso) return undefined;
  const [, year, month, day, hour, minute, second, , zone] = iso;
  if (hour !== undefined && zone === undefined) return undefined;
  const fields = [year, month, day, hour ?? '0', minute ?? '0', second ?? '0'].map(Number);
  const [y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0] = fields;
  const wall = new Date(Date.UTC(y, mo - 1, d, h, mi, se));
  const readBack = [
    wall.getUTCFullYear(),
    wall.getUTCMonth() + 1,
    wall.getUTCDate(),
    wall.getUTCHours(),
    wall.getUTCMinutes(),
    wall.getUTCSeconds(),
  ];
  // Date rolls a day or an hour that does not exist over (2026-02-30 is 2 March): each must read back as written.
  if (readBack.some((value, i) => value !== fields[i])) return undefined;
  const parsed = Date.parse(
    hour === undefined ? `${year}-${month}-${day}T00:00:00Z` : trimmed.replace(' ', 'T'),
  );
  return Number.isFinite(parsed) ? new Date(parsed) : undefined;
}

const MINUTE_MS = 60_000;

/**
 * The time a one-time schedule names for something due at `dueMs` (epoch milliseconds): EventBridge Scheduler fires
 * it anywhere within the minute its `at()` names, so a schedule named for the due second could fire up to 59 seconds
 * before it; the first whole minute at or after the due time never fires early.
 */
export const schedulerMinuteAtOrAfter = (dueMs: number): number => Math.ceil(dueMs / MINUTE_MS) * MINUTE_MS;

/** An EventBridge Scheduler `at(...)` expression (UTC, to the second): a job's delay, a circuit breaker's probe. */
export function atExpression(at: Date): string {
  return `at(${at.toISOString().slice(0, 19)})`;
}
