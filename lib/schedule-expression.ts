/**
 * EventBridge Scheduler schedule expressions and time zones: the one parser and validator, used by the
 * configuration, the `PipelineSchedules` construct and local mode's scheduler. Pure.
 *
 * @see https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html
 */

/** A parsed schedule expression. */
export type ScheduleExpression =
  | { readonly kind: 'rate'; readonly count: number; readonly unit: RateUnit; readonly intervalMs: number }
  | { readonly kind: 'cron'; readonly fields: CronFields }
  | { readonly kind: 'at'; readonly dateTime: string };

export type RateUnit = 'minute' | 'hour' | 'day';

/** The six fields of a Scheduler cron expression, as written. */
export interface CronFields {
  readonly minutes: string;
  readonly hours: string;
  readonly dayOfMonth: string;
  readonly month: string;
  readonly dayOfWeek: string;
  readonly year: string;
}

/** Why an expression or time zone is refused, and how to fix it. */
export interface ScheduleProblem {
  readonly field: 'expression' | 'timezone';
  readonly message: string;
  readonly fix: string;
}

export type ParseResult =
  | { readonly ok: true; readonly expression: ScheduleExpression }
  | { readonly ok: false; readonly problems: readonly ScheduleProblem[] };

const UNIT_MS: Record<RateUnit, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const CRON = /^cron\((.*)\)$/;
/** A rate, cron or at expression however it is spaced around and inside its parentheses. */
const SPACED = /^\s*(rate|cron|at)\s*\((.*)\)\s*$/s;
const AT = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/;

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface FieldRule {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  /** Whether `/` increments are allowed. */
  readonly step: boolean;
  /** The largest increment Scheduler accepts (Scheduler refuses an increment of 60 minutes). */
  readonly maxStep?: number;
  /** Extra single tokens this field accepts (`?`, `L`, `LW`). */
  readonly special: readonly string[];
  /** Accepts a value with a suffix, e.g. `15W` or `6L` or `3#2`. */
  readonly suffixed?: RegExp;
}

const CRON_FIELDS: readonly (FieldRule & { readonly key: keyof CronFields })[] = [
  { key: 'minutes', name: 'minutes', min: 0, max: 59, step: true, maxStep: 59, special: [] },
  { key: 'hours', name: 'hours', min: 0, max: 23, step: true, maxStep: 23, special: [] },
  {
    key: 'dayOfMonth',
    name: 'day-of-month',
    min: 1,
    max: 31,
    step: true,
    maxStep: 31,
    special: ['?', 'L', 'LW'],
    suffixed: /^(\d{1,2})W$/,
  },
  { key: 'month', name: 'month', min: 1, max: 12, names: MONTHS, step: true, maxStep: 12, special: [] },
  {
    key: 'dayOfWeek',
    name: 'day-of-week',
    min: 1,
    max: 7,
    names: WEEKDAYS,
    step: false,
    special: ['?', 'L'],
    suffixed: /^(\w{1,3})(?:L|#[1-5])$/,
  },
  { key: 'year', name: 'year', min: 1970, max: 2199, step: true, maxStep: 229, special: [] },
];

const FIELD_HELP =
  'cron(minutes hours day-of-month month day-of-week year): minutes 0-59, hours 0-23, day-of-month 1-31 (or ? L W), month 1-12 or JAN-DEC, day-of-week 1-7 or SUN-SAT (or ? L #), year 1970-2199';
const EXAMPLES = 'use e.g. "rate(5 minutes)", "cron(0 9 ? * MON-FRI *)" or "at(2030-01-31T09:00:00)"';

/** The numeric value of one field value (`5`, `JAN`, `MON`), or undefined when it is out of range. */
function fieldValue(token: string, rule: FieldRule): number | undefined {
  const index = rule.names?.indexOf(token.toUpperCase()) ?? -1;
  if (index >= 0) return rule.min + index;
  if (!/^\d+$/.test(token)) return undefined;
  const n = Number(token);
  return n >= rule.min && n <= rule.max ? n : undefined;
}

/** Checks one comma-separated item of a field: `*`, `v`, `a-b`, `*\/n`, `a/n`, `a-b/n` or a special form. */
function itemProblem(item: string, rule: FieldRule): string | undefined {
  if (rule.special.includes(item.toUpperCase())) return undefined;
  const suffixed = rule.suffixed?.exec(item.toUpperCase());
  if (suffixed) {
    return fieldValue(suffixed[1] ?? '', rule) === undefined
      ? `"${item}" is out of range in the ${rule.name} field (${rule.min}-${rule.max})`
      : undefined;
  }
  const [range = '', step, ...rest] = item.split('/');
  if (rest.length > 0 || (step !== undefined && (!rule.step || !/^\d+$/.test(step) || Number(step) < 1))) {
    return `"${item}" is not a valid ${rule.name} value${rule.step ? '' : ' (increments are not allowed here)'}`;
  }
  if (step !== undefined && rule.maxStep !== undefined && Number(step) > rule.maxStep) {
    return `"${item}": the increment is at most ${rule.maxStep} in the ${rule.name} field`;
  }
  if (range === '*') return undefined;
  const bounds = range.split('-');
  const values = bounds.map((b) => fieldValue(b, rule));
  if (bounds.length > 2 || values.some((v) => v === undefined)) {
    return `"${item}" is out of range in the ${rule.name} field (${rule.min}-${rule.max}${rule.names ? ` or ${rule.names[0]}-${rule.names.at(-1)}` : ''})`;
  }
  const [from = 0, to = from] = values as number[];
  if (from > to) {
    return `"${item}" runs backwards in the ${rule.name} field: a range goes from the smaller value to the larger (write "${wrappedRange(bounds, rule)}")`;
  }
  return undefined;
}

/**
 * A backwards range (`22-2`, `FRI-MON`) split in two that run forwards (`22-23,0-2`, `FRI-SAT,SUN-MON`); years do
 * not wrap around, so a backwards year range is turned round.
 */
function wrappedRange(bounds: readonly string[], rule: FieldRule): string {
  const [from = '', to = ''] = bounds;
  if (rule.name === 'year') return `${to}-${from}`;
  const named = rule.names !== undefined && !/^\d+$/.test(from);
  const last = named ? (rule.names?.at(-1) ?? '') : String(rule.max);
  const first = named ? (rule.names?.[0] ?? '') : String(rule.min);
  const upper = (token: string) => (named ? token.toUpperCase() : token);
  const head = upper(from) === last ? last : `${from}-${last}`;
  const tail = upper(to) === first ? first : `${first}-${to}`;
  return `${head},${tail}`;
}

function cronProblems(body: string): { fields?: CronFields; problems: string[] } {
  const parts = body.trim().split(/\s+/).filter(Boolean);
  if (parts.length !== 6) return { problems: [`a cron expression has 6 fields, got ${parts.length}`] };
  const problems: string[] = [];
  const fields = Object.fromEntries(
    CRON_FIELDS.map((rule, i) => [rule.key, parts[i] ?? '']),
  ) as unknown as CronFields;
  for (const rule of CRON_FIELDS) {
    const text = fields[rule.key];
    const items = text.split(',');
    // Scheduler (like Quartz) takes `?`, `n#k` and a weekday `nW` / `LW` only as the field's one value.
    if (items.length > 1 && items.some((i) => i === '?' || i.includes('#') || /W$/i.test(i))) {
      problems.push(`"${text}": ?, # and W cannot be combined with other values in the ${rule.name} field`);
      continue;
    }
    for (const item of items) {
      const problem = itemProblem(item, rule);
      if (problem) problems.push(problem);
    }
  }
  if ((fields.dayOfMonth === '?') === (fields.dayOfWeek === '?')) {
    problems.push('exactly one of day-of-month and day-of-week must be "?"');
  }
  if (problems.length === 0) {
    const never = missingDayProblem(fields);
    if (never) problems.push(never);
  }
  return { fields, problems };
}

/** The most days each month has (February 29, in a leap year). */
const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The months (1-12) a valid month field names. */
function monthsOf(field: string): number[] {
  const rule = CRON_FIELDS[3] as FieldRule;
  const months = new Set<number>();
  for (const item of field.split(',')) {
    const [range = '', step] = item.split('/');
    const bounds = range === '*' ? ['1', '12'] : range.split('-');
    const from = fieldValue(bounds[0] ?? '', rule) ?? 1;
    const to = bounds.length > 1 || step !== undefined ? (fieldValue(bounds[1] ?? '12', rule) ?? 12) : from;
    for (let m = from; m <= to; m += Number(step ?? 1)) months.add(m);
  }
  return [...months];
}

/**
 * Rule: the day of the month occurs in at least one of the months named (`cron(0 9 31 2 ? *)`, February 31,
 * would never fire). Checked on a valid expression whose day-of-month is days (not `?`, `L` or `LW`).
 */
function missingDayProblem(fields: CronFields): string | undefined {
  if (fields.dayOfMonth === '?' || /L/i.test(fields.dayOfMonth)) return undefined;
  const firstDay = Math.min(
    ...fields.dayOfMonth.split(',').map((item) => (item.startsWith('*') ? 1 : Number.parseInt(item, 10))),
  );
  const months = monthsOf(fields.month);
  if (months.some((m) => (MONTH_DAYS[m - 1] ?? 31) >= firstDay)) return undefined;
  const named = months.map((m) => MONTHS[m - 1]).join(', ');
  return `day-of-month "${fields.dayOfMonth}" is past the end of every month the expression names (${named}), so the schedule would never fire; for a month's last day write L`;
}

function atProblem(match: RegExpExecArray): string | undefined {
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  const sameFields =
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    date.getUTCHours() === hour &&
    date.getUTCMinutes() === minute &&
    date.getUTCSeconds() === second;
  return sameFields ? undefined : 'the date or time does not exist';
}

/**
 * The expression as Scheduler's grammar writes it, `rate(value unit)`, `cron(fields)` and `at(date-time)`: one
 * space between fields, none inside the parentheses, before them or around the expression. Scheduler documents no
 * other spacing, and local mode must not run an expression the deploy could refuse, so any other spacing is refused
 * with this spelling as the fix.
 */
function documentedSpacing(expression: string): string {
  const match = SPACED.exec(expression);
  if (!match) return expression;
  return `${match[1]}(${(match[2] ?? '').trim().split(/\s+/).join(' ')})`;
}

/** Parses a Scheduler expression: `rate(n unit)`, `cron(6 fields)` or `at(yyyy-mm-ddThh:mm:ss)`. */
export function parseScheduleExpression(expression: string): ParseResult {
  const spaced = documentedSpacing(expression);
  if (spaced === expression) return parseSpaced(expression);
  const parsed = parseSpaced(spaced);
  const spacing: ScheduleProblem = {
    field: 'expression',
    message:
      'is spaced as EventBridge Scheduler does not document: one space between fields and none inside the parentheses',
    fix: `write "${spaced}"`,
  };
  return { ok: false, problems: [spacing, ...(parsed.ok ? [] : parsed.problems)] };
}

/** Parses an expression spaced as Scheduler documents it. */
function parseSpaced(expression: string): ParseResult {
  const fail = (message: string, fix = EXAMPLES): ParseResult => ({
    ok: false,
    problems: [{ field: 'expression', message, fix }],
  });
  const rate = RATE.exec(expression);
  if (rate) {
    const count = Number(rate[1]);
    const written = rate[2] ?? '';
    const unit = written.replace(/s$/, '') as RateUnit;
    if (count < 1) return fail('a rate must be at least 1', 'use e.g. "rate(5 minutes)"');
    if ((written === unit) !== (count === 1)) {
      return fail(
        'Scheduler wants the singular unit for 1 and the plural otherwise',
        count === 1 ? `write "rate(1 ${unit})"` : `write "rate(${count} ${unit}s)"`,
      );
    }
    return { ok: true, expression: { kind: 'rate', count, unit, intervalMs: count * UNIT_MS[unit] } };
  }
  const cron = CRON.exec(expression);
  if (cron) {
    const { fields, problems } = cronProblems(cron[1] ?? '');
    if (problems.length > 0 || !fields) return fail(problems.join('; '), FIELD_HELP);
    return { ok: true, expression: { kind: 'cron', fields } };
  }
  const at = AT.exec(expression);
  if (at) {
    const problem = atProblem(at);
    if (problem) return fail(problem, 'use a real date and time, e.g. "at(2030-01-31T09:00:00)"');
    return { ok: true, expression: { kind: 'at', dateTime: expression.slice(3, -1) } };
  }
  return fail('expected rate(<n> <unit>), cron(<6 fields>) or at(yyyy-mm-ddThh:mm:ss)');
}

/**
 * The spelling Scheduler accepts for an IANA time zone name (`UTC`, `Europe/Paris`), or undefined when the name is
 * no zone (offsets such as `+02:00` are not zone names). Intl matches names in any case, Scheduler only as the
 * time zone database writes them: `europe/paris` is a zone here, but not spelled right.
 */
export function ianaTimeZoneSpelling(name: string): string | undefined {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(name)) return undefined;
  // The default needs no check, and the first Intl time zone lookup loads ICU's zone data (~0.1 s of a start).
  if (name === 'UTC') return name;
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
  // An alias (`US/Eastern`, `Etc/UTC`) resolves to another zone and is spelled as written.
  return resolved.toLowerCase() === name.toLowerCase() ? resolved : name;
}

/** Every problem of an expression and its time zone (empty when Scheduler accepts both). */
export function scheduleProblems(expression: string, timezone: string): ScheduleProblem[] {
  const parsed = parseScheduleExpression(expression);
  const problems = parsed.ok ? [] : [...parsed.problems];
  const spelling = ianaTimeZoneSpelling(timezone);
  if (spelling === undefined) {
    problems.push({
      field: 'timezone',
      message: 'is not an IANA time zone name',
      fix: 'use a name such as "UTC", "Europe/Paris" or "America/New_York"',
    });
  } else if (spelling !== timezone) {
    problems.push({
      field: 'timezone',
      message: 'is an IANA time zone spelled in the wrong case: Scheduler matches zone names exactly',
      fix: `write "${spelling}"`,
    });
  }
  return problems;
}
