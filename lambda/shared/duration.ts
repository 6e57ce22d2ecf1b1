/**
 * Lengths of time as hookline's TypeScript API takes them (`{ seconds: 30 }`, `{ hours: 2 }`, or a Date): a job's
 * `delay`, `timeout` and `backoff` (`lambda/producer`), a `RetryLaterError`'s wait (`lambda/consumer`), and the test
 * runner's options: one reading and one set of refusals for all of them. It imports nothing, so a consumer's bundle
 * pays next to nothing for it.
 */

/** A length of time: `{ seconds: 30 }`, `{ hours: 2 }`, `{ minutes: 1, seconds: 30 }`; each unit a finite number of 0 or more. */
export interface DurationLike {
  readonly days?: number;
  readonly hours?: number;
  readonly minutes?: number;
  readonly seconds?: number;
}

/** A delay: a duration (`{ hours: 2 }`) or the time it ends (the time a job is due, or a retry may start). */
export type Delay = Date | DurationLike;

const DELAY_UNITS: readonly string[] = ['days', 'hours', 'minutes', 'seconds'];

/**
 * A value as an error quotes it: JSON (a string in quotes), cut to 80 characters. A number is written as
 * JavaScript does, since JSON writes NaN and Infinity as `null`, which is not what the caller passed.
 */
export function shownDelay(delay: unknown): string {
  const text = typeof delay === 'number' ? String(delay) : (JSON.stringify(delay) ?? String(delay));
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

/**
 * Milliseconds of a {@link Delay} from `now` (a Date already past is 0); anything else is refused with `refuse`,
 * whose message names the option (`name`), what was given and the fix (suggesting a Date only where `dates`: the
 * caller refuses a Date itself where its option takes none).
 */
export function delayMsOf(
  delay: Delay | undefined,
  now: number,
  name: string,
  refuse: (message: string) => Error,
  { dates = true }: { readonly dates?: boolean } = {},
): number {
  if (delay === undefined) return 0;
  if (delay instanceof Date) {
    if (Number.isNaN(delay.getTime())) throw refuse(`${name} is an invalid Date`);
    return Math.max(0, delay.getTime() - now);
  }
  // Checked at run time too: a caller in JavaScript, or one porting BullMQ's `delay: 5000` (milliseconds), would
  // otherwise have a number, a string or a misspelt unit read as no delay at all and the job run at once.
  if (typeof delay !== 'object' || delay === null || Array.isArray(delay)) {
    // An option that takes no Date (a debounce period, a backoff) must not suggest one.
    const fix = '{ seconds: n } (a number of milliseconds m is { seconds: m / 1000 })';
    throw refuse(
      dates
        ? `${name} ${shownDelay(delay)} is not a duration or a Date: pass ${fix}, { minutes, hours, days }, or a Date to wait until`
        : `${name} ${shownDelay(delay)} is not a duration: pass ${fix} or { minutes, hours, days }`,
    );
  }
  const unknownUnits = Object.keys(delay).filter((unit) => !DELAY_UNITS.includes(unit));
  if (unknownUnits.length > 0) {
    throw refuse(
      `${name} ${shownDelay(delay)} has ${unknownUnits.map((u) => JSON.stringify(u)).join(', ')}, which is not a unit: use days, hours, minutes or seconds`,
    );
  }
  // An object without a unit (`{}`, or `{ seconds: undefined }` from an unset variable) says no length at all: read
  // as no delay, a job would run at once where its caller meant it to wait.
  if (DELAY_UNITS.every((unit) => (delay as Record<string, unknown>)[unit] === undefined)) {
    throw refuse(
      `${name} ${shownDelay(delay)} gives no unit: pass at least one of days, hours, minutes or seconds as a number, e.g. { minutes: 5 }`,
    );
  }
  // A unit's value read as a number by arithmetic would be wrong, not refused: `{ minutes: '1', seconds: '1' }`
  // concatenates to 601 seconds, and `{ seconds: null }` is no delay at all.
  const notNumbers = DELAY_UNITS.filter((unit) => {
    const value = (delay as Record<string, unknown>)[unit];
    return value !== undefined && typeof value !== 'number';
  });
  if (notNumbers.length > 0) {
    throw refuse(
      `${name} ${shownDelay(delay)} has ${notNumbers.map((u) => JSON.stringify(u)).join(', ')} not given as a number: pass numbers, { minutes: 1, seconds: 30 }`,
    );
  }
  // Each unit on its own, not only their sum: `{ minutes: 1, seconds: -30 }` is a typo or a subtraction, not a
  // way to write 30 seconds, and its sum hides which it was.
  const badUnits = DELAY_UNITS.filter((unit) => {
    const value = (delay as Record<string, number | undefined>)[unit];
    return value !== undefined && !(Number.isFinite(value) && value >= 0);
  });
  if (badUnits.length > 0) {
    // Written out, not as JSON, which would show NaN and Infinity as null.
    const units = Object.entries(delay).map(([unit, value]) => `${unit}: ${value}`);
    const named = badUnits.join(' and ');
    throw refuse(
      `${name} { ${units.join(', ')} } is not a duration: ${named} ${badUnits.length === 1 ? 'is not a finite number' : 'are not finite numbers'} of 0 or more; pass each unit as a finite number of 0 or more, e.g. { minutes: 5 }`,
    );
  }
  const { days = 0, hours = 0, minutes = 0, seconds = 0 } = delay;
  const ms = (((days * 24 + hours) * 60 + minutes) * 60 + seconds) * 1000;
  // Finite units can still add up past what a number holds: { days: 1e308, hours: 1e308 }.
  if (!Number.isFinite(ms)) {
    throw refuse(`${name} ${shownDelay(delay)} is too long to count: use a nearer time`);
  }
  return ms;
}
