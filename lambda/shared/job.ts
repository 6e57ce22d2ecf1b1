/**
 * Typed job definitions, shared by the producer (`lambda/producer`) and the consumer runtime (`lambda/consumer`):
 * one `defineJob(type, schema, { queue })` types and validates the payload on both sides.
 *
 * A job travels in the same envelope as a webhook, with `source: "job"` and `type` the job's type, so a consumer
 * handles it under the key `job.<type>` and the ingest's claim check, dead-letter reasons and idempotency apply.
 */
import { ENVELOPE_VERSION, type WebhookEnvelope } from './envelope';
import { unwritablePart } from './json-unwritable';
import type { ProducerErrorCode } from './producer-error-codes';
import { MAX_EVENT_TYPE_LENGTH } from './safe-ids';
import { describeIssue, type StandardSchemaV1, standardValidate } from './standard-schema';

/** The envelope `source` of every job. */
export const JOB_SOURCE = 'job';

/** The envelope `source` of every event a configured schedule sends. */
export const SCHEDULE_SOURCE = 'schedule';

/** EventBridge Scheduler limits a target's input to 8,192 characters (a schedule's envelope, a delayed job's). */
export const SCHEDULER_INPUT_LIMIT = 8192;

/** Envelope header marking a job whose state is kept in a job record (the producer had the dedupe table). */
export const JOB_RECORD_HEADER = 'x-hookline-job-record';

/** Envelope header of a flow's child: its parent's job id, whose record counts the child when it completes. */
export const JOB_PARENT_HEADER = 'x-hookline-parent';

/**
 * Envelope header of a flow's child sent with `failParentOnFailure` (`fail`) or `ignoreDependencyOnFailure`
 * (`ignore`): what its dead-lettering does to its parent. Without it the parent waits until the child runs again.
 */
export const JOB_PARENT_ON_FAILURE_HEADER = 'x-hookline-parent-on-failure';

/** What a flow child's dead-lettering does to its parent: fail it, or count the child as done but failed. */
export type ParentOnFailure = 'fail' | 'ignore';

/** True when `value` is a {@link ParentOnFailure}. */
export const isParentOnFailure = (value: string | undefined): value is ParentOnFailure =>
  value === 'fail' || value === 'ignore';

/** Envelope header of a flow's parent: how many children it waited for, whose results its handler reads. */
export const JOB_CHILDREN_HEADER = 'x-hookline-children';

/**
 * Envelope header of a debounced job's message (`send(..., { id, debounce })`): the send it is, which its record names
 * once it is the latest send of the job. The consumer skips a message whose send the record no longer names.
 */
export const JOB_DEBOUNCE_HEADER = 'x-hookline-debounce';

/** A job type: the same dot-separated segments as event types (`email.welcome`). */
const JOB_TYPE = /^[a-zA-Z0-9_-]+(\.[a-zA-Z0-9_-]+)*$/;

/** How a type hookline names itself (a job's, a configured schedule's) is written. */
export const EVENT_TYPE_RULE = `up to ${MAX_EVENT_TYPE_LENGTH} letters, digits, '-' and '_' in dot-separated segments`;

/** Whether a type hookline names itself (a job's, a configured schedule's) follows {@link EVENT_TYPE_RULE}. */
export function isEventTypeName(type: string): boolean {
  return JOB_TYPE.test(type) && type.length <= MAX_EVENT_TYPE_LENGTH;
}

/** A job: its type, the schema of its payload and the queue that carries it. */
export interface JobDefinition<Type extends string = string, Input = unknown, Output = Input> {
  readonly type: Type;
  readonly schema: StandardSchemaV1<Input, Output>;
  /** The configured queue (name) the job is sent to and consumed from. */
  readonly queue: string;
}

/** What a producer must send for a job. */
export type JobInput<J> = J extends JobDefinition<string, infer Input, unknown> ? Input : never;
/** What a consumer's job handler receives. */
export type JobPayload<J> = J extends JobDefinition<string, unknown, infer Output> ? Output : never;

/**
 * Defines a job once for both sides.
 *
 * @example
 * export const welcomeEmail = defineJob('email.welcome', z.object({ userId: z.string() }), { queue: 'jobs' });
 */
export function defineJob<Type extends string, Input, Output>(
  type: Type,
  schema: StandardSchemaV1<Input, Output>,
  options: { readonly queue: string },
): JobDefinition<Type, Input, Output> {
  if (!isEventTypeName(type)) {
    throw new Error(`job type ${JSON.stringify(type.slice(0, 80))} is invalid: use ${EVENT_TYPE_RULE}`);
  }
  if (!options.queue) throw new Error(`job ${type} names no queue: pass { queue: '<configured queue>' }`);
  return { type, schema, queue: options.queue };
}

/** A payload that does not fit its job's schema: retrying cannot fix it. */
export class JobPayloadError extends Error {
  constructor(
    readonly jobType: string,
    readonly issues: readonly StandardSchemaV1.Issue[],
    /** `PAYLOAD_NOT_JSON` when JSON cannot write the payload, else `PAYLOAD_INVALID` (see `ProducerErrorCode`). */
    readonly code: Extract<ProducerErrorCode, 'PAYLOAD_INVALID' | 'PAYLOAD_NOT_JSON'> = 'PAYLOAD_INVALID',
  ) {
    super(`payload of job ${jobType} is invalid: ${issues.map(describeIssue).join('; ')}`);
    this.name = 'JobPayloadError';
  }
}

/** Validates a payload with the job's schema; the validated value, or a {@link JobPayloadError}. */
export async function validateJobPayload<Input, Output>(
  job: JobDefinition<string, Input, Output>,
  payload: unknown,
): Promise<Output> {
  const result = await standardValidate(job.schema, payload);
  if ('issues' in result) throw new JobPayloadError(job.type, result.issues);
  return result.value;
}

/** The consumer handler key of a job type. */
export function jobHandlerKey(type: string): string {
  return `${JOB_SOURCE}.${type}`;
}

/**
 * The payload as JSON, or a {@link JobPayloadError}: a payload JSON cannot hold (nothing, a cycle, a BigInt, or
 * nesting deeper than the serializer's stack, which a body of a few hundred kilobytes reaches) is the caller's
 * to change, not a server fault.
 */
function payloadJson(type: string, payload: unknown): string {
  let body: string | undefined;
  try {
    body = JSON.stringify(payload);
  } catch (error) {
    if (error instanceof RangeError)
      throw new JobPayloadError(
        type,
        [{ message: 'is not JSON-serializable: it is nested too deeply' }],
        'PAYLOAD_NOT_JSON',
      );
    const part = unwritablePart(payload);
    throw new JobPayloadError(
      type,
      [
        part
          ? {
              path: part.path,
              message: `is not JSON-serializable: it ${part.why}${part.fix ? `: ${part.fix}` : ''}`,
            }
          : { message: 'is not JSON-serializable: it has a cycle or a value JSON cannot hold' },
      ],
      'PAYLOAD_NOT_JSON',
    );
  }
  if (body === undefined)
    throw new JobPayloadError(type, [{ message: 'is not JSON-serializable' }], 'PAYLOAD_NOT_JSON');
  return body;
}

/**
 * What JSON changes of a value that still fits a schema in the caller's hands; a refusal of the payload as its
 * consumer receives it ends with it.
 */
const CHANGED_BY_JSON =
  'as its consumer receives it: a job travels as JSON, which turns a Date into a string, NaN and Infinity into null, and a Map or a Set into {}, so its consumer would refuse it on every attempt: send JSON values (a date as an ISO string, read with z.coerce.date() or z.iso.datetime())';

/**
 * Validates a payload as the producer sends it: its JSON, read back, by the job's schema, which is what its
 * consumer validates. A payload that fits the schema only before JSON changes it (a `z.date()` field given a
 * Date) would otherwise be sent, and dead-lettered as an `InvalidPayloadError` on its first attempt. Returns the
 * JSON, the envelope's body; a {@link JobPayloadError} in the caller's terms (the payload as given) when the
 * payload does not fit the schema at all.
 */
export async function validateSentJobPayload(job: JobDefinition, payload: unknown): Promise<string> {
  const body = payloadJson(job.type, payload);
  const sent = await standardValidate(job.schema, JSON.parse(body));
  if (!('issues' in sent)) return body;
  await validateJobPayload(job, payload);
  const error = new JobPayloadError(job.type, sent.issues);
  error.message = `${error.message} (${CHANGED_BY_JSON})`;
  throw error;
}

/**
 * The envelope of one job: its payload's JSON (from {@link validateSentJobPayload}) inline; the claim check may move
 * it to S3 later.
 */
export function jobEnvelope(
  job: Pick<JobDefinition, 'type'>,
  body: string,
  id: string,
  enqueuedAt: Date,
  tracked: boolean,
): WebhookEnvelope {
  return {
    v: ENVELOPE_VERSION,
    id,
    source: JOB_SOURCE,
    type: job.type,
    receivedAt: enqueuedAt.toISOString(),
    headers: tracked ? { [JOB_RECORD_HEADER]: '1' } : {},
    contentType: 'application/json',
    body,
    bodyEncoding: 'utf8',
  };
}
