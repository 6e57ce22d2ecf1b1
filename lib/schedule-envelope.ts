/**
 * The envelope a schedule delivers, shared by the stack (the Scheduler target's input) and local mode's
 * scheduler. Kept apart from `pipeline-schedules.ts` so local mode loads it without the CDK construct modules.
 */
import { ENVELOPE_VERSION, type WebhookEnvelope } from '../lambda/shared/envelope';
import { SCHEDULE_SOURCE } from '../lambda/shared/job';
import type { ResolvedSchedule } from './config';
import { type Violation, violation } from './violations';

/** EventBridge Scheduler limits the target input to 8,192 characters. */
export const SCHEDULER_INPUT_LIMIT = 8192;

/** Scheduler context attributes, substituted at each invocation. */
export const SCHEDULER_CONTEXT = {
  scheduledTime: '<aws.scheduler.scheduled-time>',
  executionId: '<aws.scheduler.execution-id>',
} as const;

/** Header (in the envelope) naming the schedule that produced it. */
export const SCHEDULE_NAME_HEADER = 'x-hookline-schedule';
/** Header (in the envelope) with the Scheduler execution id of the attempt that delivered it. */
export const SCHEDULE_EXECUTION_HEADER = 'x-hookline-schedule-execution-id';

/**
 * The envelope a schedule sends. Scheduler (or local mode) fills `scheduledTime` and `executionId`.
 *
 * The id is `<schedule name>:<scheduled time>`: the same for every retry of one invocation (Scheduler's
 * execution id changes per attempt), so the consumers' idempotency runs a job once per scheduled time.
 */
export function scheduleEnvelope(
  schedule: Pick<ResolvedSchedule, 'name' | 'type' | 'payload'>,
  invocation: { readonly scheduledTime: string; readonly executionId: string },
): WebhookEnvelope {
  return {
    v: ENVELOPE_VERSION,
    id: `${schedule.name}:${invocation.scheduledTime}`,
    source: SCHEDULE_SOURCE,
    type: schedule.type,
    receivedAt: invocation.scheduledTime,
    headers: { [SCHEDULE_NAME_HEADER]: schedule.name, [SCHEDULE_EXECUTION_HEADER]: invocation.executionId },
    contentType: 'application/json',
    body: JSON.stringify(schedule.payload ?? {}),
    bodyEncoding: 'utf8',
  };
}

/** The envelope text Scheduler sends, with its context attributes left for Scheduler to substitute. */
export function scheduleInput(s: Pick<ResolvedSchedule, 'name' | 'type' | 'payload'>): string {
  return JSON.stringify(
    scheduleEnvelope(s, {
      scheduledTime: SCHEDULER_CONTEXT.scheduledTime,
      executionId: SCHEDULER_CONTEXT.executionId,
    }),
  );
}

/**
 * Rule: the envelope is JSON and fits Scheduler's input limit. The configuration checks it (so `npm start` refuses
 * what a deploy cannot take) and so does the construct, for props given to it directly.
 */
export function scheduleEnvelopeViolations(
  s: Pick<ResolvedSchedule, 'name' | 'type' | 'payload'>,
): Violation[] {
  let input: string;
  try {
    input = scheduleInput(s);
  } catch {
    return [
      violation(
        'payload',
        'the payload is not JSON-serializable',
        s.payload,
        'use plain objects, arrays, strings, numbers and booleans',
      ),
    ];
  }
  if (input.length <= SCHEDULER_INPUT_LIMIT) return [];
  return [
    violation(
      'payload',
      `the envelope is ${input.length} characters; Scheduler accepts at most ${SCHEDULER_INPUT_LIMIT}`,
      s.payload,
      'send a small payload that points at the data (an id or an S3 key)',
    ),
  ];
}
