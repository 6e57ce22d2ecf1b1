/**
 * The envelope a schedule delivers, shared by the stack (the Scheduler target's input) and local mode's
 * scheduler. Kept apart from `pipeline-schedules.ts` so local mode loads it without the CDK construct modules.
 */
import { ENVELOPE_VERSION, type WebhookEnvelope } from '../lambda/shared/envelope';
import { SCHEDULE_SOURCE } from '../lambda/shared/job';
import type { ResolvedSchedule } from './config';

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
