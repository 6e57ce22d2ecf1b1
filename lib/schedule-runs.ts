/**
 * When a schedule runs: its expression converted for croner, which local mode fires it with, and whether it can
 * fire again at all. `cdk synth` and `npm start` warn of a schedule that cannot, in the same words (one home).
 */
import { Cron } from 'croner';
import { parseScheduleExpression } from './schedule-expression';

/** A schedule expression converted for local timers. */
export type LocalSchedule =
  | { readonly kind: 'rate'; readonly intervalMs: number }
  | { readonly kind: 'cron'; readonly pattern: string }
  | { readonly kind: 'at'; readonly dateTime: string };

/**
 * Converts an EventBridge `rate(n unit)`, 6-field `cron(min hour day-of-month month day-of-week year)` or
 * `at(yyyy-mm-ddThh:mm:ss)` for local timers. A cron becomes a croner pattern: a seconds field of 0 is prepended,
 * `?` becomes `*`, `a/n` becomes `a-<max>/n`, and the year is kept (croner's 7-part mode); weekdays stay 1 = Sunday ... 7 = Saturday through
 * croner's `alternativeWeekdays` (Quartz numbering). The expression is validated by the shared parser.
 */
export function toLocalSchedule(expression: string): LocalSchedule {
  const parsed = parseScheduleExpression(expression);
  if (!parsed.ok) {
    const problem = parsed.problems[0];
    throw new Error(`invalid schedule ${expression}: ${problem?.message}; ${problem?.fix}`);
  }
  const schedule = parsed.expression;
  if (schedule.kind === 'rate') return { kind: 'rate', intervalMs: schedule.intervalMs };
  if (schedule.kind === 'at') return { kind: 'at', dateTime: schedule.dateTime };
  const { minutes, hours, dayOfMonth, month, dayOfWeek, year } = schedule.fields;
  const fields = [minutes, hours, dayOfMonth, month, dayOfWeek, year].map((f, i) =>
    f === '?' ? '*' : withClosedSteps(f, CRON_FIELD_MIN[i] as number, CRON_FIELD_MAX[i] as number),
  );
  // A lone L in day-of-week is the last day of the week, Saturday (7 in Scheduler's numbering); croner reads L
  // there only after a weekday (`6L`, the month's last Friday).
  fields[4] = (fields[4] as string)
    .split(',')
    .map((item) => (item.toUpperCase() === 'L' ? '7' : item))
    .join(',');
  return { kind: 'cron', pattern: ['0', ...fields].join(' ') };
}

/** The smallest and largest value of each Scheduler cron field, in order (minutes ... year). */
const CRON_FIELD_MIN = [0, 0, 1, 1, 1, 1970];
const CRON_FIELD_MAX = [59, 23, 31, 12, 7, 2199];

/**
 * Scheduler reads `a/n` as "from a, every n" (`0/15` in minutes: 0, 15, 30, 45) and `*\/n` as "from the field's
 * first value, every n"; croner refuses a start without an end, and counts a year's `*\/n` from year 0, so
 * `a/n` becomes `a-<field max>/n` and `*\/n` becomes `<field min>-<field max>/n`, which croner reads as Scheduler
 * does.
 */
function withClosedSteps(field: string, min: number, max: number): string {
  return field
    .split(',')
    .map((item) => {
      if (/^\*\/\d+$/.test(item)) return item.replace('*', `${min}-${max}`);
      return /^[^*/-]+\/\d+$/.test(item) ? item.replace('/', `-${max}/`) : item;
    })
    .join(',');
}

/** A croner job for a converted cron pattern (exported so tests can ask it for the next runs). */
export function cronJob(pattern: string, timezone: string, onTick?: () => void): Cron {
  const options = { timezone, mode: '7-part' as const, alternativeWeekdays: true, paused: !onTick };
  return onTick ? new Cron(pattern, options, onTick) : new Cron(pattern, options);
}

/**
 * When a one-time `at(...)` expression comes due, in epoch milliseconds, its date and time read in `timezone` as
 * local mode's scheduler reads them (croner); undefined for any other expression.
 */
export function atDueTime(expression: string, timezone: string): number | undefined {
  const parsed = parseScheduleExpression(expression);
  if (!parsed.ok || parsed.expression.kind !== 'at') return undefined;
  // UTC needs no zone data: the first Intl time zone lookup costs about 0.1 s of a start.
  if (timezone === 'UTC') return Date.parse(`${parsed.expression.dateTime}Z`);
  return new Cron(parsed.expression.dateTime, { timezone }).getOnce()?.getTime();
}

/** Why a schedule will not fire again: a one-time time that has passed, or a cron that matches no time to come. */
export type NeverFires = 'passed' | 'noTimeToCome';

/**
 * Whether a valid schedule can fire after `now` (epoch milliseconds); undefined when it can, or when the expression
 * is invalid (a configuration error said elsewhere).
 */
export function neverFires(expression: string, timezone: string, now: number): NeverFires | undefined {
  const parsed = parseScheduleExpression(expression);
  if (!parsed.ok || parsed.expression.kind === 'rate') return undefined;
  if (parsed.expression.kind === 'at') {
    const due = atDueTime(expression, timezone);
    return due !== undefined && due < now ? 'passed' : undefined;
  }
  const local = toLocalSchedule(expression);
  if (local.kind !== 'cron') return undefined;
  return cronJob(local.pattern, timezone).nextRun(new Date(now)) === null ? 'noTimeToCome' : undefined;
}

/** The schedule a warning names: the configured one, at its index in `schedules`. */
export interface NamedSchedule {
  readonly name: string;
  readonly expression: string;
  readonly timezone: string;
}

/**
 * What `cdk synth` and `npm start` say of a schedule that will not fire again. A warning, never an error: a one-time
 * schedule that has fired stays in the configuration until someone removes it, and refusing it would stop every
 * later deploy and start. EventBridge Scheduler's documentation does not say what it does with a one-time schedule
 * whose time has passed, so the words claim nothing about it beyond that.
 */
export function neverFiresWarning(schedule: NamedSchedule, index: number, why: NeverFires): string {
  const where = `schedule ${schedule.name} (schedules.${index}.expression)`;
  if (why === 'noTimeToCome') {
    return `${where}: ${schedule.expression} matches no time from now on (its years have passed, or none of those left has its day, such as February 29 of years that are not leap years), so it will never fire, deployed or in local mode. Fix schedules.${index}.expression, or remove the schedule from the configuration`;
  }
  const due = atDueTime(schedule.expression, schedule.timezone);
  const utc = due === undefined ? '' : `${new Date(due).toISOString().slice(0, 19)}Z`;
  const zone = schedule.timezone === 'UTC' || utc === '' ? '' : ` in ${schedule.timezone} (${utc})`;
  return `${where}: the time of the one-time schedule ${schedule.expression}${zone} has passed, so it will not fire again: deployed before that time, it has fired already; never deployed, EventBridge Scheduler may refuse to create it, or it never fires; local mode does not fire it. Remove the schedule from the configuration`;
}
