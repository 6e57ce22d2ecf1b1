/**
 * `hookline/producer`: send typed jobs from application code into a hookline pipeline.
 *
 * ```ts
 * import { createProducer, defineJob } from 'hookline/producer';
 * export const welcomeEmail = defineJob('email.welcome', z.object({ userId: z.string() }), { queue: 'jobs' });
 * const producer = createProducer(); // queues from grantSend's environment, or the running local mode
 * await producer.send(welcomeEmail, { userId: 'u1' }, { id: 'welcome-u1', delay: { hours: 2 } });
 * await producer.send(welcomeEmail, { userId: 'u2' }, { id: 'welcome-u2', attempts: 2, backoff: { base: { seconds: 5 } } });
 * const done = await producer.waitFor('welcome-u2', { timeout: { minutes: 2 } }); // completed, dead-lettered or cancelled
 * ```
 *
 * Imports only `lambda/shared` and AWS SDK clients, so it bundles into any function or server.
 */

import { shownDelay } from '../shared/duration';
import { awsCollaborators, defaultClients, type ProducerClients } from './aws';
import { type DiscoveryOptions, discoverProducer } from './discover';
import { Producer, ProducerConfigError } from './producer';

export {
  defineJob,
  type JobDefinition,
  type JobInput,
  type JobPayload,
  JobPayloadError,
  type ParentOnFailure,
} from '../shared/job';
export type { FlowChildren, JobState, JobStatus } from '../shared/job-record';
export type { ProducerSettings } from '../shared/producer-config';
export { PRODUCER_ERROR_CODES, type ProducerErrorCode } from '../shared/producer-error-codes';
export type { StandardSchemaV1 } from '../shared/standard-schema';
export { atExpression, type ProducerClients } from './aws';
export type { DiscoveryOptions, ExplicitQueue, ResolvedProducer } from './discover';
export { type FlowJob, type FlowJobOptions, type FlowResult, MAX_FLOW_CHILDREN } from './flow';
export {
  type Backoff,
  type BatchItem,
  type DebounceOptions,
  type Delay,
  type DurationLike,
  type FailedJob,
  JobBatchError,
  JobNotFoundError,
  JobRecordError,
  JobSendError,
  JobTooLargeError,
  JobWaitTimeoutError,
  MAX_PARENT_MESSAGE_BYTES,
  MAX_SQS_DELAY_SECONDS,
  Producer,
  ProducerConfigError,
  type SendOptions,
  type SendResult,
  type WaitOptions,
} from './producer';

/** Options of {@link createProducer}. */
export interface ProducerOptions extends DiscoveryOptions {
  /**
   * SDK clients to use instead of new ones (to share them, or to inject faults in tests).
   * @default - new clients for the queues found: local mode's emulators, else the SDK's standard environment
   */
  readonly clients?: Partial<ProducerClients>;
  /**
   * Attempts per SQS batch entry (and per S3, DynamoDB or Scheduler call) before a job is reported failed.
   * @default 5
   */
  readonly attempts?: number;
  /**
   * First backoff between attempts, doubled each time (with jitter).
   * @default 100
   */
  readonly baseDelayMs?: number;
}

/**
 * A producer for the queues it finds: `options.queues`, else the environment set by the stack's
 * `grantSend(fn, queue)`, else the running local mode (`.hookline/local.json`, or `HOOKLINE_STATE_DIR`).
 */
export function createProducer(options: ProducerOptions = {}): Producer {
  checkRetryOptions(options);
  const resolved = discoverProducer(options);
  const clients = { ...defaultClients(resolved), ...options.clients };
  return new Producer(
    awsCollaborators(resolved, clients, {
      attempts: options.attempts ?? 5,
      baseDelayMs: options.baseDelayMs ?? 100,
    }),
  );
}

/**
 * Refuses retry options that would send nothing: `attempts: 0` (or NaN, or a negative number) made every send
 * fail at once as a `JobSendError`, which reads as an outage a retry of the job would get past.
 */
function checkRetryOptions({ attempts, baseDelayMs }: ProducerOptions): void {
  const problems: string[] = [];
  if (attempts !== undefined && !(Number.isSafeInteger(attempts) && attempts >= 1)) {
    problems.push(
      `attempts ${shownDelay(attempts)} is not a whole number of 1 or more (the tries of each SQS batch entry, and of each S3, DynamoDB or Scheduler call, before a job is reported failed; 1 tries once): leave it out for 5`,
    );
  }
  if (baseDelayMs !== undefined && !(Number.isFinite(baseDelayMs) && baseDelayMs >= 0)) {
    problems.push(
      `baseDelayMs ${shownDelay(baseDelayMs)} is not a number of milliseconds of 0 or more (the first pause between tries, doubled each time): leave it out for 100`,
    );
  }
  if (problems.length > 0) throw new ProducerConfigError(`createProducer: ${problems.join('; ')}`);
}
