/**
 * Local stand-in for EventBridge Scheduler: fires each configured schedule with croner and sends an envelope to
 * its target queue, as the Scheduler's SQS target does in AWS.
 */
import { randomUUID } from 'node:crypto';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { Cron } from 'croner';
import type { WebhookEnvelope } from '../../lambda/shared/envelope';
import type { ResolvedSchedule } from '../config';
import { scheduleEnvelope } from '../pipeline-schedules';
import { parseScheduleExpression } from '../schedule-expression';

/** A schedule expression converted for local timers. */
export type LocalSchedule =
  | { readonly kind: 'rate'; readonly intervalMs: number }
  | { readonly kind: 'cron'; readonly pattern: string }
  | { readonly kind: 'at'; readonly dateTime: string };

/**
 * Converts an EventBridge `rate(n unit)`, 6-field `cron(min hour day-of-month month day-of-week year)` or
 * `at(yyyy-mm-ddThh:mm:ss)` for local timers. A cron becomes a croner pattern: a seconds field of 0 is prepended,
 * `?` becomes `*`, and the year is kept (croner's 7-part mode); weekdays stay 1 = Sunday ... 7 = Saturday through
 * croner's `alternativeWeekdays` (Quartz numbering). The expression is validated by the shared parser.
 */
export function toLocalSchedule(expression: string): LocalSchedule {
  const parsed = parseScheduleExpression(expression.trim());
  if (!parsed.ok) {
    const problem = parsed.problems[0];
    throw new Error(`invalid schedule ${expression}: ${problem?.message}; ${problem?.fix}`);
  }
  const schedule = parsed.expression;
  if (schedule.kind === 'rate') return { kind: 'rate', intervalMs: schedule.intervalMs };
  if (schedule.kind === 'at') return { kind: 'at', dateTime: schedule.dateTime };
  const { minutes, hours, dayOfMonth, month, dayOfWeek, year } = schedule.fields;
  const fields = [minutes, hours, dayOfMonth, month, dayOfWeek, year].map((f) => (f === '?' ? '*' : f));
  return { kind: 'cron', pattern: ['0', ...fields].join(' ') };
}

/** A croner job for a converted cron pattern (exported so tests can ask it for the next runs). */
export function cronJob(pattern: string, timezone: string, onTick?: () => void): Cron {
  const options = { timezone, mode: '7-part' as const, alternativeWeekdays: true, paused: !onTick };
  return onTick ? new Cron(pattern, options, onTick) : new Cron(pattern, options);
}

/**
 * One firing: sends the same envelope the deployed Scheduler target sends (lib/pipeline-schedules.ts), with the
 * firing's scheduled time (to the second) and a fresh execution id, and no message attributes.
 */
export async function sendScheduledEnvelope(
  sqs: SQSClient,
  queueUrl: string,
  schedule: ResolvedSchedule,
  scheduledAt: Date = new Date(),
): Promise<WebhookEnvelope> {
  const scheduledTime = new Date(Math.floor(scheduledAt.getTime() / 1000) * 1000).toISOString();
  const envelope = scheduleEnvelope(schedule, { scheduledTime, executionId: randomUUID() });
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(envelope) }));
  return envelope;
}

/** Options of {@link startScheduler}. */
export interface SchedulerOptions {
  readonly schedules: readonly ResolvedSchedule[];
  readonly queueUrls: Readonly<Record<string, string>>;
  readonly sqs: SQSClient;
  readonly onFire?: (schedule: ResolvedSchedule, envelope: WebhookEnvelope) => void;
  readonly onError?: (schedule: ResolvedSchedule, error: unknown) => void;
}

/** Starts every schedule; the returned function stops them. */
export function startScheduler(options: SchedulerOptions): () => void {
  const stops: (() => void)[] = [];
  for (const schedule of options.schedules) {
    const queueUrl = options.queueUrls[schedule.queue];
    if (!queueUrl) throw new Error(`schedule ${schedule.name} targets unknown queue ${schedule.queue}`);
    const fire = () => {
      sendScheduledEnvelope(options.sqs, queueUrl, schedule).then(
        (envelope) => options.onFire?.(schedule, envelope),
        (error: unknown) => options.onError?.(schedule, error),
      );
    };
    const local = toLocalSchedule(schedule.expression);
    if (local.kind === 'rate') {
      // EventBridge Scheduler starts a rate schedule one interval after it is created.
      const timer = setInterval(fire, local.intervalMs);
      timer.unref();
      stops.push(() => clearInterval(timer));
    } else if (local.kind === 'at') {
      // A one-time schedule: croner reads a local ISO date-time in the schedule's time zone.
      const job = new Cron(local.dateTime, { timezone: schedule.timezone }, fire);
      stops.push(() => job.stop());
    } else {
      const job = cronJob(local.pattern, schedule.timezone, fire);
      stops.push(() => job.stop());
    }
  }
  return () => {
    for (const stop of stops) stop();
  };
}
