/**
 * The envelope a schedule delivers, shared by the stack (the Scheduler target's input) and local mode's
 * scheduler. Kept apart from `pipeline-schedules.ts` so local mode loads it without the CDK construct modules.
 */
import { ENVELOPE_VERSION, type WebhookEnvelope } from '../lambda/shared/envelope';
import { SCHEDULE_SOURCE, SCHEDULER_INPUT_LIMIT } from '../lambda/shared/job';
import { unwritablePart } from '../lambda/shared/json-unwritable';
import type { ResolvedSchedule } from './config/resolved';

export { SCHEDULER_INPUT_LIMIT };

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

/** Scheduler context attributes, substituted at each invocation. */
export const SCHEDULER_CONTEXT = {
  scheduledTime: '<aws.scheduler.scheduled-time>',
  executionId: '<aws.scheduler.execution-id>',
} as const;

/** The envelope text Scheduler sends, with its context attributes left for Scheduler to substitute. */
export function scheduleTargetInput(schedule: Pick<ResolvedSchedule, 'name' | 'type' | 'payload'>): string {
  return JSON.stringify(scheduleEnvelope(schedule, SCHEDULER_CONTEXT));
}

/**
 * Rule: a schedule's payload becomes the envelope's JSON body, and the envelope fits Scheduler's target input.
 * A payload JSON cannot write (a BigInt, a cycle) or writes as nothing (a function, a symbol) would leave every
 * delivery without a body, which the consumer dead-letters. Checked by the configuration (so `npm start` refuses
 * what `cdk synth` would) and by the construct.
 */
export function schedulePayloadProblem(
  schedule: Pick<ResolvedSchedule, 'name' | 'type' | 'payload'>,
): { readonly message: string; readonly fix: string } | undefined {
  let body: string | undefined;
  try {
    body = JSON.stringify(schedule.payload ?? {});
  } catch {
    const part = unwritablePart(schedule.payload, ['payload']);
    if (part) {
      return {
        message: `is not JSON-serializable: ${part.path.join('.')} ${part.why}, so a delivery would carry no body`,
        fix: part.fix ?? 'use plain objects, arrays, strings, numbers and booleans',
      };
    }
  }
  if (typeof body !== 'string') {
    return {
      message: 'is not JSON-serializable, so a delivery would carry no body',
      fix: 'use plain objects, arrays, strings, numbers and booleans',
    };
  }
  const lost = partJsonChanges(schedule.payload, 'payload');
  if (lost) {
    return {
      message: `is delivered as JSON, and ${lost}, so every delivery would lack it`,
      fix: 'use plain objects, arrays, strings, finite numbers, booleans and null (a Map as an object, a Set as a list)',
    };
  }
  const length = scheduleTargetInput(schedule).length;
  if (length <= SCHEDULER_INPUT_LIMIT) return undefined;
  return {
    message: `makes an envelope of ${length} characters; EventBridge Scheduler accepts at most ${SCHEDULER_INPUT_LIMIT}`,
    fix: 'send a small payload that points at the data (an id or an S3 key)',
  };
}

/**
 * The first part of `value` that JSON leaves out or writes as something else, said with its path (`payload.a.0 is a
 * Map, which JSON writes as {}`); undefined when JSON keeps it all. A field left undefined is as good as absent, and an
 * object with `toJSON` (a Date) says itself what it becomes.
 */
function partJsonChanges(value: unknown, path: string): string | undefined {
  if (typeof value === 'function' || typeof value === 'symbol')
    return `${path} is a ${typeof value}, which JSON leaves out`;
  if (typeof value === 'number' && !Number.isFinite(value))
    return `${path} is ${value}, which JSON writes as null`;
  if (
    value === null ||
    typeof value !== 'object' ||
    typeof (value as { toJSON?: unknown }).toJSON === 'function'
  )
    return undefined;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const lost =
        item === undefined
          ? `${path}.${i} is undefined, which JSON writes as null`
          : partJsonChanges(item, `${path}.${i}`);
      if (lost) return lost;
    }
    return undefined;
  }
  const prototype = Object.getPrototypeOf(value);
  // A Map, a Set, a RegExp or an Error keeps its content where JSON does not look: it writes them as {}.
  if (prototype !== Object.prototype && prototype !== null && Object.keys(value).length === 0)
    return `${path} is a ${value.constructor?.name ?? 'object'}, which JSON writes as {}`;
  for (const [key, item] of Object.entries(value)) {
    const lost = partJsonChanges(item, `${path}.${key}`);
    if (lost) return lost;
  }
  return undefined;
}
