/** The `schedules` section: jobs EventBridge Scheduler (or local mode) sends to a standard queue. */
import { EVENT_TYPE_RULE, isEventTypeName } from '../../lambda/shared/job';
import { schedulePayloadProblem } from '../schedule-envelope';
import { scheduleProblems } from '../schedule-expression';
import type { ViolationList } from '../violations';
import { checkDistinctIds, checkQueueRef, NAME_PATTERN, NAME_RULE } from './common';
import { DEFAULTS } from './defaults';
import type { ResolvedSchedule } from './resolved';
import type { ParsedConfig } from './schema';

type ScheduleInput = NonNullable<ParsedConfig['schedules']>[number];

/** Rule: schedule names are valid and unique. */
function checkScheduleName(problems: ViolationList, path: string, name: string, seen: Set<string>): void {
  if (!NAME_PATTERN.test(name))
    problems.add(`${path}.name`, `schedule names are ${NAME_RULE}`, name, 'rename it, e.g. "nightly-report"');
  if (seen.has(name))
    problems.add(`${path}.name`, 'schedule names must be unique', name, 'rename one of them');
  seen.add(name);
}

/** Rule: the target is a configured standard queue. */
function checkScheduleQueue(
  problems: ViolationList,
  path: string,
  s: ScheduleInput,
  config: ParsedConfig,
): void {
  checkQueueRef(problems, `${path}.queue`, s.queue, Object.keys(config.queues));
  if (config.queues[s.queue]?.fifo)
    problems.add(
      `${path}.queue`,
      'schedules send to standard queues only',
      s.queue,
      'target a standard queue',
    );
}

/** One schedule, checked, with its defaults filled. */
function resolveSchedule(
  problems: ViolationList,
  index: number,
  s: ScheduleInput,
  context: { readonly config: ParsedConfig; readonly names: Set<string> },
): ResolvedSchedule {
  const path = `schedules.${index}`;
  checkScheduleName(problems, path, s.name, context.names);
  const timezone = s.timezone ?? DEFAULTS.scheduleTimezone;
  for (const problem of scheduleProblems(s.expression, timezone)) {
    const value = problem.field === 'expression' ? s.expression : timezone;
    problems.add(`${path}.${problem.field}`, problem.message, value, problem.fix);
  }
  checkScheduleQueue(problems, path, s, context.config);
  if (!isEventTypeName(s.type))
    problems.add(
      `${path}.type`,
      `a schedule's type is what consumers route on: ${EVENT_TYPE_RULE}`,
      s.type,
      'name it like an event type, e.g. "report.nightly"',
    );
  const resolved = {
    name: s.name,
    expression: s.expression,
    timezone,
    queue: s.queue,
    type: s.type,
    payload: s.payload ?? {},
  };
  const payload = schedulePayloadProblem(resolved);
  if (payload) problems.add(`${path}.payload`, payload.message, s.payload, payload.fix);
  return resolved;
}

/** Every configured schedule, checked. */
export function resolveSchedules(problems: ViolationList, config: ParsedConfig): ResolvedSchedule[] {
  const context = { config, names: new Set<string>() };
  const schedules = config.schedules ?? [];
  // Each schedule's dead-letter queue is published under an output key made from its name.
  checkDistinctIds(
    problems,
    'schedule',
    schedules.map((s, i) => [`schedules.${i}.name`, s.name]),
  );
  return schedules.map((s, i) => resolveSchedule(problems, i, s, context));
}
