/**
 * The job producer's logic, free of SDK clients: every side effect goes through the collaborators, so unit tests
 * drive it with fakes and `createProducer` wires real clients.
 *
 * Per job: validate -> envelope -> claim check fit -> dedupe claim (`job#<id>`, whose generation the envelope
 * then carries) -> payload upload -> deliver (SQS, with DelaySeconds up to 15 minutes; a one-time EventBridge
 * Scheduler schedule beyond) -> complete the claim with the job's state. A job whose delivery failed for good has
 * its claim released (its lease ended, so the caller's retry continues the same generation) and is reported,
 * never dropped.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { archivableEnvelopeBytes, archiveOriginOf } from '../shared/archive';
import {
  attributeBytes,
  type FitOptions,
  fitEnvelope,
  type PayloadObject,
  SQS_MAX_MESSAGE_BYTES,
  sqsBatches,
} from '../shared/claim-check';
import { isConditionFailure } from '../shared/condition-failure';
import {
  type CredentialFailure,
  credentialFailureOfError,
  signInAgainCommand,
} from '../shared/credential-failure';
import type { ClaimCondition, ClaimResult, DedupeStore } from '../shared/dedupe-store';
import { type Delay, type DurationLike, delayMsOf, shownDelay } from '../shared/duration';
import {
  MAX_SQS_DELAY_SECONDS,
  MAX_SQS_RETENTION_SECONDS,
  MESSAGE_ATTRIBUTES,
  type WebhookEnvelope,
} from '../shared/envelope';
import { schedulerMinuteAtOrAfter } from '../shared/iso-time';
import {
  JOB_CHILDREN_HEADER,
  JOB_DEBOUNCE_HEADER,
  JOB_PARENT_HEADER,
  JOB_PARENT_ON_FAILURE_HEADER,
  JOB_SOURCE,
  type JobDefinition,
  type JobInput,
  jobEnvelope,
  type ParentOnFailure,
  SCHEDULER_INPUT_LIMIT,
  validateSentJobPayload,
} from '../shared/job';
import {
  type CancelledJob,
  cancelOrSayWhy,
  DEBOUNCE_CYCLE_ENDED,
  type DebouncedSend,
  type DebouncedWrite,
  enqueuedJobFields,
  enqueuedState,
  type JobState,
  type JobStatus,
  jobRecordKey,
  namesNoOtherDebouncedSend,
  type ParentMessage,
  waitingParentFields,
} from '../shared/job-record';
import { type BackoffSeconds, type JobRetry, jobRetryHeaders, retryRuleReasons } from '../shared/job-retry';
import { START_LOCAL_MODE } from '../shared/local-mode-command';
import { mapLimited } from '../shared/map-limited';
import { jobScheduleHashLength, type ProducerQueue, type ProducerSettings } from '../shared/producer-config';
import type { ProducerErrorCode } from '../shared/producer-error-codes';
import { isSafeId, isSqsGroupId, MAX_GROUP_ID_LENGTH, MAX_SAFE_ID_LENGTH } from '../shared/safe-ids';
import type { ResolvedProducer } from './discover';
import { type FlowJob, type FlowNode, type FlowResult, flattenFlow, flowResultOf } from './flow';

export type { Delay, DurationLike };
export { MAX_SQS_DELAY_SECONDS };

/**
 * Fits a job's envelope before its key is claimed: as long as a claim's generation (a UUID), so the envelope
 * with the real one fits the same way.
 */
const GENERATION_STAND_IN = '00000000-0000-0000-0000-000000000000';
/**
 * The largest message a flow parent's record keeps inline until its children complete (DynamoDB items hold 400 KB,
 * and its children's ids and results share it); a larger payload goes to the payload bucket.
 */
export const MAX_PARENT_MESSAGE_BYTES = 64 * 1024;
/** How long a delayed job's payload must outlive its due time: room for the job's retries. */
const PAYLOAD_RETRY_MARGIN_SECONDS = 86_400;

/**
 * A job's own backoff, as its queue's `consumer.retry` (whole seconds, the same bounds and equal jitter): the wait
 * after attempt `n` is drawn from `min(max, base × factor^(n−1))`. A field left out is the queue's.
 */
export interface Backoff {
  /** Wait before the first retry; 0 retries at once. */
  readonly base?: DurationLike;
  /** Growth of the wait per retry, from 1 to 10. */
  readonly factor?: number;
  /** Longest wait between two retries, from 1 second to 12 hours. */
  readonly max?: DurationLike;
}

/** Options of one job. */
export interface SendOptions {
  /**
   * The job key: the same key is enqueued and processed once within the dedupe window; sent again after it, it is
   * a new job, run again. 1 to 200 printable ASCII characters without spaces (it is a message attribute, a table
   * key and part of a schedule's name). Default: a new id.
   */
  readonly id?: string;
  /**
   * Run no earlier than this; up to 15 minutes through SQS (to the second), longer through a one-time schedule
   * (from the first whole minute at or after it, and due before the year 10000). A Date already past is no delay.
   */
  readonly delay?: Delay;
  /** FIFO message group (FIFO queues only): 1 to 128 printable ASCII characters without spaces. Default: the job type. */
  readonly group?: string;
  /**
   * The tenant the job belongs to (standard queues only), sent as the SQS message group id so that SQS fair queues
   * serve quiet tenants first while one has a backlog: 1 to 128 printable ASCII characters without spaces. A job
   * delayed beyond 15 minutes arrives without it (EventBridge Scheduler sets a message group for FIFO queues only).
   * Default: none, and SQS counts each job without a tenant as a tenant of its own.
   */
  readonly tenant?: string;
  /**
   * The most times the job runs, from 1 (no retry) up to its queue's `maxReceiveCount`, at which SQS moves a message
   * to the dead-letter queue whatever the job asks (more is refused when the producer knows the queue's limit, and
   * is that limit otherwise). The consumer dead-letters the job when its last attempt fails, with the reason
   * `attempts exhausted`. Default: the queue's `maxReceiveCount`.
   */
  readonly attempts?: number;
  /** The job's own retry curve. Default: its queue's `consumer.retry`. */
  readonly backoff?: Backoff;
  /**
   * Debounces the job (BullMQ's deduplication debounce mode, Inngest's `debounce`): it runs once, its period after
   * the last send with its `id` (which it needs), with that send's payload. A duration is the period; `{ period,
   * maxWait }` also caps how long sends may push the start ({@link DebounceOptions}). Each send while it has not
   * started replaces the payload and pushes its start to its period after that send; a send once it started (or
   * ended, or was cancelled) starts a new cycle, which runs again. From 1 second; the delay rules apply (up to 15
   * minutes through SQS, longer through a one-time schedule). Not with `delay`, on a FIFO queue, in `sendBatch` or
   * in a flow. Default: not debounced (a send with the same id within the dedupe window is a duplicate).
   */
  readonly debounce?: DurationLike | DebounceOptions;
}

/** A debounce with a maximum wait: `debounce: { period: { seconds: 30 }, maxWait: { minutes: 5 } }`. */
export interface DebounceOptions {
  /** How long the job waits after each send: the plain `debounce` duration. */
  readonly period: DurationLike;
  /**
   * The longest a cycle's sends may push its start, counted from the cycle's first send (Inngest's
   * `debounce.timeout`, lodash's `maxWait`): a send due later than that is due then, so a key sent faster than its
   * period still runs, with the payload of its last send by then. At least `period`; each send's own `maxWait`
   * caps its due time.
   * @default - no limit: sends that keep coming sooner than the period keep pushing the start
   */
  readonly maxWait?: DurationLike;
}

/** One job of a batch. */
export interface BatchItem<J extends JobDefinition = JobDefinition> {
  /** The job's definition (`defineJob`): its type, schema and queue. */
  readonly job: J;
  /** The payload, checked against the job's schema before anything of the batch is sent. */
  readonly payload: JobInput<J>;
  /**
   * What `send` takes for one job.
   * @default - a new id, no delay, and the queue's attempts and backoff
   */
  readonly options?: SendOptions;
}

/** What happened to one job. */
export interface SendResult {
  readonly id: string;
  /**
   * `scheduled` while delayed, else `queued`; for a duplicate, the state of the job already sent with this id
   * (`completed`, `cancelled` ...), or `queued` when no record of it is kept.
   */
  readonly state: JobState;
  /** The key was already enqueued within the dedupe window: nothing was sent. */
  readonly duplicate: boolean;
  /**
   * When a delayed job is due (ISO 8601). A debounced send's is when the job runs as its record stands: this
   * send's, or the send's it gave way to; its own while a send that took its claim over has not written the record.
   */
  readonly dueAt?: string;
  /**
   * The tenant its message carries (its SQS message group on a fair queue): absent for a duplicate, which sent
   * nothing, and for a job delayed beyond 15 minutes, which a schedule sends without a group.
   */
  readonly tenant?: string;
}

/** A job that could not be enqueued after every retry. */
export interface FailedJob {
  readonly index: number;
  readonly id: string;
  readonly error: string;
}

/** Thrown by `sendBatch` when some jobs could not be enqueued: the others were, and are listed too. */
export class JobBatchError extends Error {
  constructor(
    readonly sent: readonly (SendResult & { readonly index: number })[],
    readonly failed: readonly FailedJob[],
  ) {
    super(
      `${failed.length} of ${sent.length + failed.length} jobs were not enqueued: ${failed
        .slice(0, 3)
        .map((f) => `${f.id}: ${f.error}`)
        .join('; ')}${failed.length > 3 ? '; ...' : ''}`,
    );
    this.name = 'JobBatchError';
  }
  /** Always `NOT_ENQUEUED`: each failed job's reason says why. */
  readonly code: ProducerErrorCode = 'NOT_ENQUEUED';
}

/**
 * Thrown by `send` when its job could not be enqueued after every retry (a queue, the dedupe table, the payload
 * bucket or Scheduler failed): nothing of it runs, its claim is released, and sending it again with the same id is
 * safe. Also when another caller was still sending the same id after every retry: that caller's job may run, and
 * sending it again answers `duplicate: true` once it is queued. `cause` is the {@link JobBatchError} of its batch of
 * one.
 */
export class JobSendError extends Error {
  override name = 'JobSendError';
  constructor(
    readonly id: string,
    readonly jobType: string,
    /** Why, as the batch error lists it (`not enqueued after 5 attempts: ...`). */
    readonly reason: string,
    cause: JobBatchError,
  ) {
    super(`job ${jobType} (id ${JSON.stringify(id.slice(0, 80))}) was not enqueued: ${reason}`, { cause });
    this.code = setupCodeOfFailed(cause.failed.find((f) => f.id === id)) ?? 'NOT_ENQUEUED';
  }
  /**
   * `NO_CREDENTIALS` or `NO_REGION` when this process lacks them, `CREDENTIALS_EXPIRED` or `CREDENTIALS_REJECTED`
   * when AWS refused its credentials, else `NOT_ENQUEUED`.
   */
  readonly code: ProducerErrorCode;
}

/**
 * Thrown by `status`, `cancel` and `waitFor` when the job's record could not be read or changed: the dedupe table
 * failed, or this process has no AWS credentials or region, or AWS refused its credentials (the message then says
 * what to do, as a failed send's does). `cause` is the SDK's error.
 */
export class JobRecordError extends Error {
  override name = 'JobRecordError';
  constructor(
    /** The call that failed. */
    readonly operation: 'status' | 'cancel' | 'waitFor',
    readonly id: string,
    cause: unknown,
  ) {
    super(
      `${operation} of job ${JSON.stringify(id.slice(0, 80))} failed: dedupe table unavailable: ${describe(cause)}`,
      { cause },
    );
    this.code = setupCodeOf(cause) ?? 'RECORDS_UNAVAILABLE';
  }
  /**
   * `NO_CREDENTIALS` or `NO_REGION` when this process lacks them, `CREDENTIALS_EXPIRED` or `CREDENTIALS_REJECTED`
   * when AWS refused its credentials, else `RECORDS_UNAVAILABLE`.
   */
  readonly code: ProducerErrorCode;
}

/** Options of a {@link ProducerConfigError}. */
export interface ProducerConfigErrorOptions {
  /** @default 'INVALID_OPTION' */
  readonly code?: ProducerErrorCode;
  /** @default - the message */
  readonly withoutValues?: string;
}

/** A misuse the caller must fix (unknown queue, delay on FIFO, no table for an id ...). */
export class ProducerConfigError extends Error {
  override name = 'ProducerConfigError';
  /**
   * The message without what the caller passed (an id, a group or a tenant may hold personal data or a secret):
   * what a log may keep.
   */
  readonly withoutValues: string;
  /** What to fix, as a stable code: `INVALID_OPTION`, `UNKNOWN_QUEUE` or `NOT_GRANTED` (`JOB_TOO_LARGE` for {@link JobTooLargeError}). */
  readonly code: ProducerErrorCode;
  constructor(
    message: string,
    { code = 'INVALID_OPTION', withoutValues = message }: ProducerConfigErrorOptions = {},
  ) {
    super(message);
    this.withoutValues = withoutValues;
    this.code = code;
  }
}

/**
 * A job too large for a message, with no payload bucket to hold it: the caller's mistake, and a 413 over HTTP. Its
 * own class, because other refusals quote the caller's id or group, which may hold any words.
 */
export class JobTooLargeError extends ProducerConfigError {
  override name = 'JobTooLargeError';
  override readonly code: ProducerErrorCode = 'JOB_TOO_LARGE';
}

/** Options of {@link Producer.waitFor}. */
export interface WaitOptions {
  /** How long to wait at most: a duration (`{ minutes: 5 }`) or the time to give up at. */
  readonly timeout: Delay;
  /**
   * Stops waiting when aborted (the promise rejects with the signal's reason).
   * @default - waits until the job finishes or `timeout` passes
   */
  readonly signal?: AbortSignal;
}

/** `waitFor` gave up: the job had not finished when its timeout passed. */
export class JobWaitTimeoutError extends Error {
  override name = 'JobWaitTimeoutError';
  constructor(
    /** The job's status when the wait gave up. */
    readonly lastStatus: JobStatus,
    waitedMs: number,
  ) {
    super(`job ${lastStatus.id} is still ${lastStatus.state} after waiting ${Math.round(waitedMs / 1000)} s`);
  }
  readonly code: ProducerErrorCode = 'WAIT_TIMEOUT';
}

/** The job has no record to wait on or read: never sent, sent without the dedupe table, or its record expired. */
export class JobNotFoundError extends Error {
  override name = 'JobNotFoundError';
  readonly code: ProducerErrorCode = 'JOB_NOT_FOUND';
  constructor(readonly id: string) {
    super(
      `job ${id} has no record: it was never sent, was sent without the dedupe table (no job records), or its record expired after dedupe.ttl`,
    );
  }
}

/**
 * The states a job does not leave by itself: what `waitFor` waits for. A `child-failed` parent leaves it only when
 * an operator acts (a redrive of the child that failed it, or a cancel).
 */
const FINAL_STATES: readonly JobState[] = ['completed', 'dead-lettered', 'child-failed', 'cancelled'];
/** `waitFor` reads a job's record after this long, then doubles the wait up to the longest. */
const WAIT_FIRST_PAUSE_MS = 100;
const WAIT_LONGEST_PAUSE_MS = 2000;

/**
 * How long a job's record keeps its id from its send: the dedupe window (`ttl`) after the job is due. A debounced
 * job's record also names which of its sends' messages runs, so it lasts at least as long as SQS may keep those
 * messages after they are due (a paused queue keeps them for its retention, up to 14 days, which no producer's
 * environment names): deleted sooner, every send's waiting message would run untracked, each with its own payload.
 */
function recordLifetimeSeconds(p: Prepared, ttl: number): number {
  return (p.debounceSend === undefined ? ttl : Math.max(ttl, MAX_SQS_RETENTION_SECONDS)) + p.delaySeconds;
}

/** `work`, or the signal's reason as soon as it aborts. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason);
    if (signal.aborted) return abort();
    signal.addEventListener('abort', abort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}

/** One SendMessageBatch entry. */
export interface BatchEntry {
  readonly Id: string;
  readonly MessageBody: string;
  readonly DelaySeconds?: number;
  readonly MessageAttributes: Record<string, { DataType: 'String'; StringValue: string }>;
  readonly MessageGroupId?: string;
  readonly MessageDeduplicationId?: string;
}

/** A one-time schedule that sends `input` to a queue at `at` and then deletes itself. */
export interface OneTimeSchedule {
  readonly name: string;
  readonly at: Date;
  readonly queueArn: string;
  readonly roleArn: string;
  readonly groupName?: string;
  readonly input: string;
  readonly messageGroupId?: string;
  /** Where Scheduler puts the job when it gives up delivering it (otherwise it is dropped). */
  readonly deadLetterQueueArn?: string;
}

/** Everything the producer needs from the outside world. */
export interface ProducerCollaborators {
  readonly queues: Readonly<Record<string, ProducerQueue>>;
  /**
   * Where the queues came from: local mode knows every configured queue, so a missing one is a configuration fix,
   * not a grant. @default 'options' (a grant or createProducer({ queues }))
   */
  readonly queuesFrom?: ResolvedProducer['source'];
  readonly settings: ProducerSettings;
  /** SendMessageBatch; resolves with the entries SQS refused (by `Id`), throws when the call failed. */
  sendBatch(
    queueUrl: string,
    entries: readonly BatchEntry[],
  ): Promise<readonly { id: string; error: string }[]>;
  putPayload(object: PayloadObject): Promise<void>;
  readonly dedupe?: DedupeStore;
  readonly records?: {
    read(id: string): Promise<JobStatus | undefined>;
    cancel(id: string): Promise<CancelledJob | undefined>;
    /**
     * Makes a debounced job's record name one more send while it has not started (`JobRecords.debounced`): the
     * schedule of the send it replaced, the sends taken since this one's read, or undefined when the job started
     * since.
     * @default - a send with `debounce` is refused (ProducerConfigError), as without the dedupe table
     */
    debounced?(id: string, send: DebouncedSend): Promise<DebouncedWrite>;
    /**
     * Whether a debounced send's message still runs, or ran, as job `id`'s record stands
     * (`JobRecords.runsDebouncedSend`). Asked when a debounced send's claim complete was refused, its message out.
     * @default - such a send reads the record as after a duplicate claim, and starts a new cycle or joins the one
     * the record holds
     */
    runsDebouncedSend?(id: string, generation: string | undefined, send: string): Promise<boolean>;
  };
  readonly scheduler?: {
    create(schedule: OneTimeSchedule): Promise<void>;
    /** False when no such schedule exists (it fired, or was deleted). */
    delete(name: string, groupName?: string): Promise<boolean>;
  };
  now(): number;
  sleep(ms: number): Promise<void>;
  /** Retries of entries SQS refused or a failed call: attempts in all, and the first backoff. */
  readonly retry: { readonly attempts: number; readonly baseDelayMs: number };
}

/** A validated job ready to go. */
interface Prepared {
  readonly index: number;
  readonly id: string;
  readonly job: JobDefinition;
  readonly queue: ProducerQueue;
  /** The envelope without a generation, and how it is fitted into a message. */
  readonly envelope: WebhookEnvelope;
  readonly fit: FitOptions;
  /** The message as sent: once claimed, the envelope with the claim's generation. */
  readonly message: string;
  /** Which enqueue of the key this is (the claim's); undefined without the dedupe table. */
  readonly generation?: string;
  readonly payload: PayloadObject | undefined;
  readonly attributes: Readonly<Record<string, string>>;
  readonly dueAt: Date | undefined;
  readonly delaySeconds: number;
  /** A FIFO queue's message group. */
  readonly groupId: string | undefined;
  /** A standard queue's tenant, sent as its message group (fair queues). */
  readonly tenant: string | undefined;
  readonly enqueuedAt: Date;
  /** In a flow: the parent this job is a child of. */
  readonly parentId?: string;
  /** In a flow: what this child's dead-lettering does to its parent. */
  readonly parentOnFailure?: ParentOnFailure;
  /** A debounced job: which send this is, as its envelope names it. */
  readonly debounceSend?: string;
  /** A debounced job's `maxWait`: its due time is at most this long after its cycle's first send. */
  readonly debounceMaxWaitMs?: number;
}

/**
 * Where a job stands in a flow, for its envelope: its parent (and what its dead-lettering does to it), and how many
 * children it waits for.
 */
interface FlowPlace {
  readonly parentId?: string;
  readonly parentOnFailure?: ParentOnFailure;
  readonly children?: number;
}

type Outcome = { readonly ok: true; readonly result: SendResult } | Failure;

/**
 * A job that could not be enqueued: why, in the words its {@link FailedJob} gives, and the code of the setup failure
 * that caused it, carried beside the words so that rewording them never changes a code.
 */
interface Failure {
  readonly ok: false;
  readonly error: string;
  readonly setupCode?: SetupCode;
}

/**
 * A debounced send its record names, or gave way in (a later send named instead, due at `gaveWay.dueAt`): the
 * schedules it deletes.
 */
interface NamedDebouncedSend {
  readonly deletes: readonly string[];
  readonly gaveWay?: { readonly dueAt?: string };
}

/**
 * A debounced send found the job started (or its record gone) after its claim answered: its cycle ended, and the
 * next claim starts one.
 */
const STARTED_MEANWHILE = Symbol('started meanwhile');
/** Claims a debounced send makes before it gives up on a job that keeps starting under it. */
const DEBOUNCE_ROUNDS = 3;
/** The shortest debounce: SQS delays whole seconds. */
const MIN_DEBOUNCE_MS = 1000;

/** Milliseconds of a {@link Delay} from `now`; `name` is the option's, for its errors (a {@link ProducerConfigError}). */
function delayMs(delay: Delay | undefined, now: number, name = 'delay', dates = true): number {
  return delayMsOf(delay, now, name, (message) => new ProducerConfigError(message), { dates });
}

/** The last moment a one-time schedule's `at()` expression (a four-digit year) can name. */
const LATEST_DUE_MS = Date.UTC(9999, 11, 31, 23, 59, 59);

/**
 * When a job is due, in epoch milliseconds: SQS delays whole seconds, so a short delay is rounded up to the
 * second. EventBridge Scheduler fires a one-time schedule anywhere within the minute its `at()` names, so a
 * longer delay is rounded up to the minute: a schedule named for the due second could fire up to 59 seconds
 * before it.
 */
function dueTimeOf(now: number, waitMs: number): number {
  const seconds = Math.ceil(waitMs / 1000);
  if (seconds <= MAX_SQS_DELAY_SECONDS) return now + seconds * 1000;
  return schedulerMinuteAtOrAfter(now + waitMs);
}

/** Refuses a delay that ends past any time a schedule (or a JavaScript date) can hold. */
function checkDueTime(job: JobDefinition, dueMs: number): void {
  if (!(dueMs <= LATEST_DUE_MS)) {
    throw new ProducerConfigError(
      `job ${job.type}: the delay ends after 9999-12-31, later than a schedule can name: use a nearer time`,
    );
  }
}

/**
 * The schedule name of a job: the granted prefix and a hash of the id and its generation (names allow 64
 * characters). A retry of one enqueue finds its own schedule; the id enqueued again after the dedupe window
 * gets a schedule (and a `ClientToken`) of its own, and so does each send of a debounced job.
 */
export function jobScheduleName(
  prefix: string,
  id: string,
  generation?: string,
  debounceSend?: string,
): string {
  const key = enqueueKey(id, generation);
  return `${prefix}${createHash('sha256')
    .update(debounceSend === undefined ? key : `${key}#${debounceSend}`)
    .digest('hex')
    .slice(0, jobScheduleHashLength(prefix))}`;
}

/** One enqueue of a job: its id, and its generation when the key was claimed. */
function enqueueKey(id: string, generation: string | undefined): string {
  return generation === undefined ? id : `${id}#${generation}`;
}

/** The steps of a send that wait on a dependency, in the order they start. */
export type SendStep = 'dedupe_claim' | 'payload_upload' | 'enqueue' | 'schedule';

/**
 * Told each step of a send before it starts; false stops the send there, for a caller with a deadline (the jobs
 * endpoint): the job fails (a {@link JobSendError}) and its claim is released, so sending the same id again is safe.
 * A step already started runs to its end and settles the claim as usual (a late delivery is kept, and marked).
 */
export type SendGate = (step: SendStep) => boolean;

/** The gate of a caller without a deadline: every step starts. */
const OPEN_GATE: SendGate = () => true;

/** {@link sendGated}'s way into a producer's send; set once, by the class. */
let gatedSendOf: (
  producer: Producer,
) => (job: JobDefinition, payload: unknown, options: SendOptions, gate: SendGate) => Promise<SendResult>;

/**
 * `producer.send` for a caller with a deadline (the jobs endpoint): `gate` may stop the send before a step (see
 * {@link SendGate}). Not on the class, so the public `send` stays `(job, payload, options?)`: the gate is the
 * endpoint's, and not part of `hookline/producer`.
 */
export function sendGated(
  producer: Producer,
  job: JobDefinition,
  payload: unknown,
  options: SendOptions,
  gate: SendGate,
): Promise<SendResult> {
  return gatedSendOf(producer)(job, payload, options, gate);
}

/** The producer: send, sendBatch, status, cancel. */
export class Producer {
  static {
    gatedSendOf = (producer) => (job, payload, options, gate) =>
      producer.#send(job, payload as never, options, gate);
  }

  constructor(private readonly deps: ProducerCollaborators) {}

  /**
   * Sends one job. Throws a `JobPayloadError` for a payload that does not fit the job's schema, a
   * `ProducerConfigError` for an option or grant to fix, and a {@link JobSendError} naming the job when it could not
   * be enqueued.
   */
  async send<J extends JobDefinition>(
    job: J,
    payload: JobInput<J>,
    options: SendOptions = {},
  ): Promise<SendResult> {
    return this.#send(job, payload, options, OPEN_GATE);
  }

  /** {@link send}, asking `gate` before each step. */
  async #send<J extends JobDefinition>(
    job: J,
    payload: JobInput<J>,
    options: SendOptions,
    gate: SendGate,
  ): Promise<SendResult> {
    try {
      const prepared = await this.prepareAll([{ job, payload, options }]);
      if (prepared[0]?.debounceSend !== undefined) return await this.sendDebounced(prepared[0], gate);
      const [result] = await this.sendPrepared(prepared, gate);
      return result as SendResult;
    } catch (error) {
      const [failed] = error instanceof JobBatchError ? error.failed : [];
      if (failed) throw new JobSendError(failed.id, job.type, failed.error, error as JobBatchError);
      throw error;
    }
  }

  /**
   * Sends many jobs: SendMessageBatch by ten, entries SQS refuses retried with backoff. Every payload is
   * validated before anything is sent. Throws {@link JobBatchError} listing what was and was not enqueued.
   */
  async sendBatch<J extends JobDefinition>(items: readonly BatchItem<J>[]): Promise<SendResult[]> {
    checkBatchItems(items);
    refuseDebounce(items, 'sendBatch item', 'send them one by one with send');
    return this.sendPrepared(await this.prepareAll(items));
  }

  /**
   * A debounced send ({@link SendOptions.debounce}). The first send of a cycle claims the id and goes out as any
   * delayed job, its record naming it. A later one, while the job has not started, sends its own message and makes
   * the record name it ({@link replaceDebounced}), so that only its message runs. A job that started between the
   * claim and that write has ended its cycle: the next claim starts a new one.
   */
  private async sendDebounced(p: Prepared, gate: SendGate): Promise<SendResult> {
    for (let round = 1; ; round++) {
      const [result] = await this.sendPrepared([p], gate);
      if (!result?.duplicate) return result as SendResult;
      const replaced = await this.replaceDebounced(p);
      if (replaced !== STARTED_MEANWHILE) return replaced;
      if (round >= DEBOUNCE_ROUNDS)
        notSent(p, `the job started while each of ${round} sends was made: send it again`);
    }
  }

  /**
   * One more send of a debounced job whose record holds the id: while the job has not started, its own message
   * (the record's generation, this send's due time, no later than its `maxWait` after the cycle's first send, which
   * the record read here keeps as `enqueuedAt`), then the record's one conditional write naming it. Sent before
   * the write, so a message the record names always exists: a write refused (the job started since) or failed
   * leaves a message the consumer skips, and the send before it runs. A job sent without `debounce` holds the id: a
   * duplicate of it, as any send of its id.
   */
  private async replaceDebounced(p: Prepared): Promise<SendResult | typeof STARTED_MEANWHILE> {
    const records = this.deps.records;
    const status = await records
      ?.read(p.id)
      .catch((error: unknown) => notSent(p, failedBy('dedupe table unavailable: ', error)));
    const debounced = records?.debounced?.bind(records);
    // Deleted since the claim found it (its lifetime ended): nothing holds the id now, so the next claim takes it.
    if (debounced && status === undefined) return STARTED_MEANWHILE;
    if (!debounced || !status?.debounce || status.generation === undefined)
      return duplicateResult(p.id, status);
    if (status.state !== 'scheduled' && status.state !== 'queued') return STARTED_MEANWHILE;
    const sent = await this.deliverDebounced(dueWithinMaxWait(p, status), status.generation);
    const send = this.debouncedSendOf(sent, status);
    const named = await this.nameDebouncedSend(p, debounced, send);
    if (!named) return STARTED_MEANWHILE;
    // Best effort: a schedule left in place delivers a send the consumer skips.
    for (const name of named.deletes)
      await this.deps.scheduler?.delete(name, this.deps.settings.scheduler?.groupName).catch(() => false);
    return named.gaveWay ? gaveWayResult(sent, named.gaveWay) : resultOf(sent);
  }

  /**
   * Makes the record name a debounced send just delivered: the schedules to delete (the one it replaced; its own
   * too when it gave way to a later send, with when that one is due), or undefined when the job started since. The
   * record counts the sends it took, one per write, so a refused write tells whether this send's own write may be
   * among them: when one send was taken since this one's read, it was another's, and this send is written again
   * after it (the last write names its send, as without the race). When more were, this send's own may have landed
   * (a write whose answer was lost, retried by the SDK or here) and been replaced already, its schedule deleted: it
   * then gives way to the send the record names, which runs, rather than being named again without a schedule to
   * send it.
   */
  private async nameDebouncedSend(
    p: Prepared,
    debounced: NonNullable<NonNullable<ProducerCollaborators['records']>['debounced']>,
    first: DebouncedSend,
  ): Promise<NamedDebouncedSend | undefined> {
    const { attempts, baseDelayMs } = this.deps.retry;
    let send = first;
    for (let attempt = 1, raced = 0; ; ) {
      let written: DebouncedWrite;
      try {
        written = await debounced(p.id, send);
      } catch (error) {
        if (attempt >= attempts)
          notSent(
            p,
            failedBy(
              'its message was sent, but its record could not name it, so the send before it runs: ',
              error,
            ),
          );
        await this.deps.sleep(backoff(baseDelayMs, ++attempt));
        continue;
      }
      if (written === undefined) return undefined;
      if (!('takenSince' in written))
        return { deletes: written.replacedSchedule ? [written.replacedSchedule] : [] };
      const { sends, scheduleName, dueAt } = written.takenSince;
      const anotherOnly = send.after !== undefined && sends === send.after + 1;
      if (!anotherOnly || ++raced >= DEBOUNCE_ROUNDS)
        return {
          deletes: [send.replaces, send.scheduleName].filter((name): name is string => name !== undefined),
          gaveWay: dueAt === undefined ? {} : { dueAt },
        };
      send = { ...send, after: sends, replaces: scheduleName };
    }
  }

  /** Sends a debounced job's message in the record's generation: its payload stored, then queued or scheduled. */
  private async deliverDebounced(p: Prepared, generation: string): Promise<Prepared> {
    const fitted = fitEnvelope({ ...p.envelope, generation }, p.fit);
    if (!fitted) notSent(p, `generation ${generation} makes the job too large to send`);
    const sent: Prepared = { ...p, message: fitted.serialized, payload: fitted.payload, generation };
    const outcomes = new Array<Outcome>(p.index + 1);
    const uploaded = await this.uploadAll([sent], outcomes);
    if (sent.delaySeconds > MAX_SQS_DELAY_SECONDS) await this.scheduleAll(uploaded, outcomes);
    else await this.enqueueAll(uploaded, outcomes);
    collectResults([sent], outcomes);
    return sent;
  }

  /**
   * What the record of a debounced job takes of a send just delivered, after the record as this send read it (its
   * sends, and the schedule of the one it named, which a repeat of a write that landed reports replaced).
   */
  private debouncedSendOf(sent: Prepared, read: JobStatus): DebouncedSend {
    const replaces = read.scheduleName;
    const scheduleName = scheduleNameOf(sent, this.deps.settings);
    const ttl = this.deps.settings.dedupe?.ttlSeconds;
    return {
      generation: sent.generation as string,
      send: sent.debounceSend as string,
      ...(sent.dueAt === undefined ? {} : { dueAt: sent.dueAt }),
      ...(ttl === undefined
        ? {}
        : { expiresAt: Math.floor(this.deps.now() / 1000) + recordLifetimeSeconds(sent, ttl) }),
      ...(scheduleName === undefined ? {} : { scheduleName }),
      ...(replaces === undefined ? {} : { replaces }),
      ...(read.debounce === undefined ? {} : { after: read.debounce.sends }),
    };
  }

  /**
   * Sends a flow: `flow.job` runs only after every job of `flow.children` completed (each may have children of
   * its own), and its handler reads their results (`ctx.children`). Every payload is validated first; then each
   * parent's record is written `waiting-children` with the message to send later (its payload in the payload
   * bucket when large), and only then are the jobs without children sent. Parent and children may be on different
   * queues. Needs the dedupe table. Give every job an `id` so that a retry after a failure (a `JobBatchError`)
   * sends what is missing rather than a second flow.
   */
  async sendFlow(flow: FlowJob): Promise<FlowResult> {
    this.requireRecords('sendFlow');
    const nodes = flattenFlow(flow, randomUUID);
    refuseDebounce(
      nodes.map((node) => node.item),
      'sendFlow job',
      "a flow's jobs run when their flow says: send a debounced job on its own with send",
    );
    for (const node of nodes) this.checkFlowQueue(node.item.job);
    const prepared = await this.prepareAll(
      nodes.map((node) => node.item),
      nodes.map((node) => ({
        ...(node.parentId ? { parentId: node.parentId } : {}),
        ...(node.parentOnFailure ? { parentOnFailure: node.parentOnFailure } : {}),
        ...(node.children ? { children: node.children.length } : {}),
      })),
      'sendFlow job',
    );
    const parents = prepared.filter((p) => nodes[p.index]?.children);
    const waiting = await this.recordWaiting(parents, nodes);
    const sent = await this.sendPrepared(prepared.filter((p) => !nodes[p.index]?.children));
    const results = new Map<number, SendResult>();
    for (const [i, p] of parents.entries()) results.set(p.index, waiting[i] as SendResult);
    for (const [i, p] of prepared.filter((q) => !nodes[q.index]?.children).entries())
      results.set(p.index, sent[i] as SendResult);
    return flowResultOf(nodes, results);
  }

  /** Refuses a flow job on a queue the stack granted without flows: its consumer could not send a parent. */
  private checkFlowQueue(job: JobDefinition): void {
    if (this.deps.queues[job.queue]?.flows !== false) return;
    throw new ProducerConfigError(
      `job ${job.type}: queue "${job.queue}" was granted without flows, so its consumer may not send a flow's parent when its last child completes: grant it with pipeline.grantSend(fn, '${job.queue}', { flows: true })`,
      { code: 'NOT_GRANTED' },
    );
  }

  /**
   * Claims each parent's id and records it `waiting-children` with its message instead of sending it; a parent
   * already recorded (a retry of the flow) stays as it is. Throws a {@link JobBatchError} before any child is sent
   * when a parent could not be recorded: nothing of the flow then runs.
   */
  private async recordWaiting(
    parents: readonly Prepared[],
    nodes: readonly FlowNode[],
  ): Promise<SendResult[]> {
    const outcomes = new Array<Outcome>(nodes.length);
    const claimed = await this.claimAll(parents, outcomes);
    const uploaded = new Set(await this.uploadAll(claimed, outcomes));
    const dedupe = this.deps.dedupe as DedupeStore;
    await mapLimited(claimed, 16, async (p) => {
      if (!uploaded.has(p) || !p.token) return;
      const childIds = (nodes[p.index]?.children ?? []).map((i) => nodes[i]?.id as string);
      const fields = {
        ...waitingParentFields(
          { type: p.job.type, queue: p.job.queue, tenant: p.tenant },
          childIds,
          parentMessageOf(p),
          p.enqueuedAt,
        ),
        ...flowChildFields(p),
      };
      try {
        await this.withRetry(() => dedupe.complete(jobRecordKey(p.id), p.token as string, fields));
        outcomes[p.index] = { ok: true, result: { id: p.id, state: 'waiting-children', duplicate: false } };
      } catch (error) {
        outcomes[p.index] = failedBy('could not record it waiting for its children: ', error);
      }
    });
    await this.settleClaims(
      claimed.filter((p) => !outcomes[p.index]?.ok),
      outcomes,
    );
    return collectResults(parents, outcomes);
  }

  /** Claims, uploads, sends and settles prepared jobs: what `sendBatch` does after checking them. */
  private async sendPrepared(
    prepared: readonly Prepared[],
    gate: SendGate = OPEN_GATE,
  ): Promise<SendResult[]> {
    // Indexed by each job's index in its call (a flow sends only some of its jobs here).
    const outcomes = new Array<Outcome>(prepared.reduce((size, p) => Math.max(size, p.index + 1), 0));
    // A key repeated within the batch is the same job: only its first occurrence is claimed and sent (two
    // concurrent claims of one key would fail one of them as "being enqueued right now").
    const firstOfKey = new Map<string, number>();
    const repeats = new Map<number, number>();
    for (const p of prepared) {
      const first = firstOfKey.get(p.id);
      if (first === undefined) firstOfKey.set(p.id, p.index);
      else repeats.set(p.index, first);
    }
    const firsts = prepared.filter((p) => !repeats.has(p.index));
    const claimed = await this.claimAll(this.passGate(gate, 'dedupe_claim', firsts, outcomes), outcomes);
    const uploaded = await this.uploadAll(this.passGate(gate, 'payload_upload', claimed, outcomes), outcomes);
    const [scheduled, enqueued] = [
      uploaded.filter((p) => p.delaySeconds > MAX_SQS_DELAY_SECONDS),
      uploaded.filter((p) => p.delaySeconds <= MAX_SQS_DELAY_SECONDS),
    ];
    await Promise.all([
      this.scheduleAll(this.passGate(gate, 'schedule', scheduled, outcomes), outcomes),
      this.enqueueAll(this.passGate(gate, 'enqueue', enqueued, outcomes), outcomes),
    ]);
    // Every claim, not only the uploaded ones: a job whose payload could not be stored is reported failed, and
    // its claim released, so the caller's retry is not told the id is being enqueued.
    await this.settleClaims(claimed, outcomes);
    for (const [index, first] of repeats) outcomes[index] = repeatOf(outcomes[first]);
    return collectResults(prepared, outcomes);
  }

  /**
   * The jobs that go on to `step`: all of them, unless the gate stops the send there (each then fails, and its
   * claim is released with the others'). The gate is asked only when the step waits on a dependency for them.
   */
  private passGate<P extends Prepared>(
    gate: SendGate,
    step: SendStep,
    jobs: readonly P[],
    outcomes: Outcome[],
  ): P[] {
    const waits =
      jobs.length > 0 &&
      (step !== 'dedupe_claim' || this.deps.dedupe !== undefined) &&
      (step !== 'payload_upload' || jobs.some((p) => p.payload));
    if (!waits || gate(step)) return [...jobs];
    for (const p of jobs)
      outcomes[p.index] = { ok: false, error: `stopped before its ${step}: the caller's deadline passed` };
    return [];
  }

  /**
   * Every item checked before anything is sent. Of a batch, the first refused item's error names its position
   * (and id), and how many others were refused: a type's message alone does not say which of a hundred jobs it was.
   */
  private async prepareAll(
    items: readonly BatchItem<JobDefinition>[],
    places: readonly FlowPlace[] = [],
    label = 'sendBatch item',
  ): Promise<Prepared[]> {
    const settled = await Promise.allSettled(
      items.map((item, index) => this.prepare(item, index, places[index] ?? {})),
    );
    const refused = settled.flatMap((s, index) => (s.status === 'rejected' ? [index] : []));
    const [first] = refused;
    if (first === undefined) return settled.map((s) => (s as PromiseFulfilledResult<Prepared>).value);
    const error = (settled[first] as PromiseRejectedResult).reason;
    if (items.length > 1 && error instanceof Error) {
      const id = items[first]?.options?.id;
      const which = `${label} ${first}${id === undefined ? '' : ` (id ${shownOption(id)})`}`;
      error.message = `${which}: ${error.message}${othersRefused(refused.slice(1))}; nothing was sent`;
    }
    throw error;
  }

  /** A job's state and result; undefined when unknown (never sent, or its record expired). */
  async status(id: string): Promise<JobStatus | undefined> {
    const records = this.requireRecords('status');
    return recordCall('status', id, () => records.read(id));
  }

  /**
   * Cancels a job that has not started yet (a delayed one until it is due, one still waiting in its queue, or a
   * flow parent waiting for its children or failed by one of them). True when the job will not run: cancelled by
   * this call, or already before it (a second cancel, another process's, `hookline jobs cancel`); false when it
   * already started, finished or is unknown.
   */
  async cancel(id: string): Promise<boolean> {
    const records = this.requireRecords('cancel');
    const answer = await recordCall('cancel', id, () => cancelOrSayWhy(records, id));
    if (answer.outcome !== 'cancelled') return answer.outcome === 'already-cancelled';
    const cancelled = answer.job;
    // The record says cancelled first, so a schedule firing meanwhile, or one that could not be deleted (a
    // throttle, a producer granted no delays), delivers a job the consumer skips. The job is cancelled either
    // way, and failing here would tell the caller otherwise, though its retry finds the job cancelled.
    if (cancelled.scheduleName && this.deps.scheduler) {
      await this.deps.scheduler
        .delete(cancelled.scheduleName, this.deps.settings.scheduler?.groupName)
        .catch(() => false);
    }
    return true;
  }

  /**
   * Waits until a job has finished: resolves with its status (as {@link status} answers it) once it is
   * `completed`, `dead-lettered`, `child-failed` (a flow parent, with its reason) or `cancelled`. Reads its record at once, then after 100 ms, the wait doubling
   * up to every 2 seconds (about 30 strongly consistent reads a minute). Rejects with a {@link JobWaitTimeoutError}
   * carrying the last status seen when `timeout` passes first, with a {@link JobNotFoundError} at once when the
   * job has no record (never sent, sent without the dedupe table, or expired), and with the signal's reason when
   * `signal` aborts.
   */
  async waitFor(id: string, options: WaitOptions): Promise<JobStatus> {
    const records = this.requireRecords('waitFor');
    if (options?.timeout === undefined)
      throw new ProducerConfigError('waitFor needs a timeout: waitFor(id, { timeout: { minutes: 5 } })');
    const start = this.deps.now();
    const deadline = start + delayMs(options.timeout, start, 'timeout');
    const { signal } = options;
    let pause = WAIT_FIRST_PAUSE_MS;
    for (;;) {
      signal?.throwIfAborted();
      const status = await recordCall('waitFor', id, () => records.read(id));
      if (!status) throw new JobNotFoundError(id);
      if (FINAL_STATES.includes(status.state)) return status;
      const left = deadline - this.deps.now();
      if (left <= 0) throw new JobWaitTimeoutError(status, this.deps.now() - start);
      await untilAborted(this.deps.sleep(Math.min(pause, left)), signal);
      pause = Math.min(pause * 2, WAIT_LONGEST_PAUSE_MS);
    }
  }

  /** Whether a debounced job's record can name the send that runs: the dedupe table's claims and its records. */
  private keepsDebouncedRecords(): boolean {
    return this.deps.dedupe !== undefined && this.deps.records?.debounced !== undefined;
  }

  private requireRecords(what: string) {
    if (!this.deps.records) {
      throw new ProducerConfigError(
        `${what} needs the dedupe table: enable dedupe in the configuration and grantSend`,
        { code: 'NOT_GRANTED' },
      );
    }
    return this.deps.records;
  }

  private async prepare(item: BatchItem<JobDefinition>, index: number, place: FlowPlace): Promise<Prepared> {
    const job: unknown = item?.job;
    checkJobDefinition(job);
    const options = sendOptionsOf(job, item.options);
    const body = await validateSentJobPayload(job, item.payload);
    const queue = this.queueOf(job);
    const now = this.deps.now();
    const debounce = debounceOf(job, queue, options, now, this.keepsDebouncedRecords());
    const dueMs = dueTimeOf(now, debounce?.periodMs ?? delayMs(options.delay, now));
    const delaySeconds = Math.ceil((dueMs - now) / 1000);
    checkDueTime(job, dueMs);
    this.checkOptions(job, queue, options, delaySeconds);
    const retryHeaders = jobRetryHeaders(retryOptions(job, queue, options));
    const id = options.id ?? randomUUID();
    const enqueuedAt = new Date(now);
    const plain = withFlowHeaders(
      jobEnvelope(job, body, id, enqueuedAt, this.deps.records !== undefined),
      place,
    );
    const debounced = debounceSendMarks(id, debounce);
    const envelope = { ...plain, headers: { ...plain.headers, ...retryHeaders, ...debounced.headers } };
    const attributes = {
      [MESSAGE_ATTRIBUTES.source]: envelope.source,
      [MESSAGE_ATTRIBUTES.type]: envelope.type,
      [MESSAGE_ATTRIBUTES.eventId]: id,
      ...(options.tenant !== undefined ? { [MESSAGE_ATTRIBUTES.tenant]: options.tenant } : {}),
    };
    const scheduled = delaySeconds > MAX_SQS_DELAY_SECONDS;
    const groupId = queue.fifo ? (options.group ?? job.type) : undefined;
    const fit: FitOptions = {
      inlineLimitBytes: scheduled
        ? SCHEDULER_INPUT_LIMIT
        : Math.min(
            this.deps.settings.payloads?.inlineLimitBytes ?? SQS_MAX_MESSAGE_BYTES,
            SQS_MAX_MESSAGE_BYTES - attributeBytes(attributes),
            this.archivableBytes(queue, groupId ?? options.tenant),
            place.children ? MAX_PARENT_MESSAGE_BYTES : SQS_MAX_MESSAGE_BYTES,
          ),
      bucket: this.deps.settings.payloads?.bucket,
      body: Buffer.from(envelope.body ?? ''),
      receivedAt: enqueuedAt,
      ...debounced.fit,
    };
    const fitted = fitEnvelope(
      this.deps.dedupe ? { ...envelope, generation: GENERATION_STAND_IN } : envelope,
      fit,
    );
    if (!fitted) throw tooLargeError(job, place, scheduled);
    if (scheduled && fitted.payload) this.checkPayloadOutlivesDelay(job, dueMs - now);
    return {
      index,
      id,
      job,
      queue,
      envelope,
      fit,
      message: fitted.serialized,
      payload: fitted.payload,
      attributes,
      dueAt: delaySeconds > 0 ? new Date(dueMs) : undefined,
      delaySeconds,
      groupId,
      tenant: options.tenant,
      enqueuedAt,
      ...(place.parentId ? { parentId: place.parentId } : {}),
      ...(place.parentOnFailure ? { parentOnFailure: place.parentOnFailure } : {}),
      ...(debounced.send === undefined ? {} : { debounceSend: debounced.send }),
      ...(debounce?.maxWaitMs === undefined ? {} : { debounceMaxWaitMs: debounce.maxWaitMs }),
    };
  }

  /**
   * The largest envelope the queue's consumer can archive (its record, as the consumer writes it, fits a delivery
   * stream record, a little less than SQS takes): a larger one travels through the payload bucket, so the job is
   * archived and `hookline replay` finds it, as the ingest does for webhooks. The producer cannot tell whether the
   * stack archives, so a job that close to the SQS limit is claim-checked either way; without a bucket nothing else
   * could carry it, and SQS's limit alone applies.
   */
  private archivableBytes(queue: ProducerQueue, group: string | undefined): number {
    if (!this.deps.settings.payloads?.bucket) return SQS_MAX_MESSAGE_BYTES;
    return archivableEnvelopeBytes(JOB_SOURCE, archiveOriginOf({ source: JOB_SOURCE }), [queue.name], group);
  }

  private queueOf(job: JobDefinition): ProducerQueue {
    const queue = this.deps.queues[job.queue];
    if (queue) return queue;
    const known = Object.keys(this.deps.queues);
    throw new ProducerConfigError(
      `job ${job.type} goes to queue "${job.queue}", which this producer cannot send to (${known.length ? `it can send to: ${known.join(', ')}` : 'no queues found'}): ${
        this.deps.queuesFrom === 'local'
          ? `the running local mode has no such queue: configure it under queues in hookline.config.ts (or fix the job's queue), then restart local mode (${START_LOCAL_MODE})`
          : `grant it with pipeline.grantSend(fn, '${job.queue}')`
      }`,
      { code: 'UNKNOWN_QUEUE' },
    );
  }

  private checkOptions(
    job: JobDefinition,
    queue: ProducerQueue,
    options: SendOptions,
    delaySeconds: number,
  ): void {
    checkOptionNames(job, options);
    if (queue.fifo && delaySeconds > 0) {
      throw new ProducerConfigError(
        `job ${job.type}: queue "${queue.name}" is FIFO, and SQS cannot delay a single FIFO message: send it without delay, or use a standard queue`,
      );
    }
    if (options.id !== undefined && !(typeof options.id === 'string' && isSafeId(options.id))) {
      throw optionError(
        job,
        'id',
        options.id,
        `must be 1 to ${MAX_SAFE_ID_LENGTH} printable ASCII characters without spaces`,
      );
    }
    if (options.group !== undefined && !isGroupId(options.group)) {
      throw optionError(
        job,
        'group',
        options.group,
        `must be 1 to ${MAX_GROUP_ID_LENGTH} printable ASCII characters without spaces (an SQS message group id)`,
      );
    }
    if (!queue.fifo && options.group !== undefined) {
      throw new ProducerConfigError(
        `job ${job.type}: group is for FIFO queues, and "${queue.name}" is a standard queue: to name a tenant for fair queues, use tenant`,
      );
    }
    if (options.tenant !== undefined && !isGroupId(options.tenant)) {
      throw optionError(
        job,
        'tenant',
        options.tenant,
        `must be 1 to ${MAX_GROUP_ID_LENGTH} printable ASCII characters without spaces (an SQS message group id)`,
      );
    }
    if (queue.fifo && options.tenant !== undefined) {
      throw new ProducerConfigError(
        `job ${job.type}: tenant is for standard queues, and "${queue.name}" is FIFO, where the message group orders jobs instead: use group`,
      );
    }
    if (options.id !== undefined && !this.deps.dedupe) {
      throw new ProducerConfigError(
        `job ${job.type}: a job id needs the dedupe table (dedupe enabled, and grantSend)`,
        { code: 'NOT_GRANTED' },
      );
    }
    if (delaySeconds > MAX_SQS_DELAY_SECONDS && !this.schedulerRoleOf(queue)) {
      throw new ProducerConfigError(
        `job ${job.type}: a delay over 15 minutes needs a one-time schedule: grant it with pipeline.grantSend(fn, '${queue.name}', { delays: true })`,
        { code: 'NOT_GRANTED' },
      );
    }
  }

  /**
   * A schedule carries 8 KB, so a larger job waits for its due time with its payload in the bucket, whose
   * lifecycle deletes it after `payloads.expiry`: a job due later would be sent pointing at nothing. A day is
   * left for the job's retries.
   */
  private checkPayloadOutlivesDelay(job: JobDefinition, delayMs: number): void {
    const expirySeconds = this.deps.settings.payloads?.expirySeconds;
    if (expirySeconds === undefined || delayMs <= (expirySeconds - PAYLOAD_RETRY_MARGIN_SECONDS) * 1000)
      return;
    throw new ProducerConfigError(
      `job ${job.type}: its envelope is over ${SCHEDULER_INPUT_LIMIT} bytes, so its payload waits in the payload bucket, which deletes payloads after ${expirySeconds / 86_400} days (payloads.expiry), before this job is due and has had a day for its retries: send a smaller payload (an id to look the data up), a nearer delay, or raise payloads.expiry`,
    );
  }

  /** The role a one-time schedule sends to this queue with; undefined when this producer may not schedule. */
  private schedulerRoleOf(queue: ProducerQueue): string | undefined {
    if (!this.deps.scheduler || !this.deps.settings.scheduler || !queue.arn) return undefined;
    return queue.schedulerRoleArn ?? this.deps.settings.scheduler.roleArn;
  }

  /**
   * Claims every job's key, and puts the claim's generation in its message; duplicates and keys held elsewhere
   * end there.
   */
  private async claimAll(
    prepared: readonly Prepared[],
    outcomes: Outcome[],
  ): Promise<(Prepared & { token?: string })[]> {
    const { dedupe } = this.deps;
    if (!dedupe) return [...prepared];
    const ttl = this.deps.settings.dedupe?.ttlSeconds;
    const claimed: (Prepared & { token?: string })[] = [];
    await mapLimited(prepared, 16, async (p) => {
      try {
        const key = jobRecordKey(p.id);
        const claim = await this.claimWhenFree(
          dedupe,
          key,
          ttl === undefined ? undefined : recordLifetimeSeconds(p, ttl),
          p.debounceSend === undefined ? undefined : DEBOUNCE_CYCLE_ENDED,
        );
        if (claim.status === 'claimed') {
          const { generation, token } = claim;
          // No generation only where a retry continues a send made before generations were kept: it sends the same.
          const fitted = fitEnvelope(
            generation === undefined ? p.envelope : { ...p.envelope, generation },
            p.fit,
          );
          if (fitted) {
            claimed.push({ ...p, message: fitted.serialized, payload: fitted.payload, generation, token });
            return;
          }
          await dedupe.release(key, token);
          outcomes[p.index] = {
            ok: false,
            error: `generation ${generation} makes the job too large to send`,
          };
        } else if (claim.status === 'duplicate')
          // A debounced send reads the record next, to take its place (sendDebounced).
          outcomes[p.index] = {
            ok: true,
            result:
              p.debounceSend === undefined
                ? await this.duplicateOf(p.id)
                : { id: p.id, state: 'queued', duplicate: true },
          };
        else
          outcomes[p.index] = {
            ok: false,
            error: 'the same job id is being enqueued right now: retry shortly',
          };
      } catch (error) {
        outcomes[p.index] = failedBy('dedupe table unavailable: ', error);
      }
    });
    return claimed.sort((a, b) => a.index - b.index);
  }

  /**
   * Claims `key`, waiting out another send of the same id that holds it right now (with the backoff of the retry
   * policy, as that send's own enqueue retries): once that one is queued this one is its duplicate, and once it
   * failed (its lease ended) this one takes the claim over and sends. Still `in_progress` only when the other holds
   * it after every retry (it may have died: its lease runs 30 seconds).
   */
  private async claimWhenFree(
    dedupe: DedupeStore,
    key: string,
    ttlSeconds: number | undefined,
    replaceIf: ClaimCondition | undefined,
  ): Promise<ClaimResult> {
    const { attempts, baseDelayMs } = this.deps.retry;
    for (let attempt = 1; ; attempt++) {
      const claim = await (replaceIf
        ? dedupe.claim(key, ttlSeconds, replaceIf)
        : dedupe.claim(key, ttlSeconds));
      if (claim.status !== 'in_progress' || attempt >= attempts) return claim;
      await this.deps.sleep(backoff(baseDelayMs, attempt + 1));
    }
  }

  /** What a repeated key reports: the job already sent with it, as its record has it now. */
  private async duplicateOf(id: string): Promise<SendResult> {
    return duplicateResult(id, await this.deps.records?.read(id));
  }

  private async uploadAll<P extends Prepared>(jobs: readonly P[], outcomes: Outcome[]): Promise<P[]> {
    const ready: P[] = [];
    await mapLimited(jobs, 8, async (p) => {
      if (!p.payload) return void ready.push(p);
      try {
        await this.withRetry(() => this.deps.putPayload(p.payload as PayloadObject));
        ready.push(p);
      } catch (error) {
        outcomes[p.index] = failedBy('payload upload failed: ', error);
      }
    });
    return ready.sort((a, b) => a.index - b.index);
  }

  private async scheduleAll(jobs: readonly Prepared[], outcomes: Outcome[]): Promise<void> {
    const { scheduler } = this.deps;
    const settings = this.deps.settings.scheduler;
    await mapLimited(jobs, 8, async (p) => {
      const roleArn = this.schedulerRoleOf(p.queue);
      if (!scheduler || !settings || !roleArn || !p.queue.arn || !p.dueAt) return;
      try {
        await this.withRetry(() =>
          scheduler.create({
            name: jobScheduleName(settings.namePrefix, p.id, p.generation, p.debounceSend),
            at: p.dueAt as Date,
            queueArn: p.queue.arn as string,
            roleArn,
            ...(settings.groupName ? { groupName: settings.groupName } : {}),
            ...(settings.deadLetterQueueArn ? { deadLetterQueueArn: settings.deadLetterQueueArn } : {}),
            input: p.message,
          }),
        );
        outcomes[p.index] = { ok: true, result: resultOf(p) };
      } catch (error) {
        outcomes[p.index] = failedBy('schedule failed: ', error);
      }
    });
  }

  /** SendMessageBatch per queue, by ten (and within SQS's batch size); refused entries retried with backoff. */
  private async enqueueAll(jobs: readonly Prepared[], outcomes: Outcome[]): Promise<void> {
    const batches = toBatches(jobs);
    const standard = batches.filter((batch) => !batch[0]?.queue.fifo);
    const fifo = new Map<string, Prepared[][]>();
    for (const batch of batches) {
      const url = batch[0]?.queue.fifo ? batch[0].queue.url : undefined;
      if (url !== undefined) appendTo(fifo, url, batch);
    }
    await Promise.all([
      mapLimited(standard, 8, (batch) => this.enqueueBatch(batch, outcomes)),
      mapLimited([...fifo.values()], 8, (queueBatches) => this.enqueueInOrder(queueBatches, outcomes)),
    ]);
  }

  /**
   * One FIFO queue's batches, one after another: SQS orders a message group by arrival, so batches sent at once
   * could land a later job before an earlier one of its group. A job of a group that could not be enqueued holds
   * back the later jobs of that group (reported failed, not sent), so a retry of the failed ones keeps the order.
   */
  private async enqueueInOrder(batches: readonly Prepared[][], outcomes: Outcome[]): Promise<void> {
    const held = new Set<string>();
    for (const batch of batches) {
      const sendable: Prepared[] = [];
      for (const p of batch) {
        if (p.groupId !== undefined && held.has(p.groupId)) {
          outcomes[p.index] = {
            ok: false,
            error: `not sent: an earlier job of its FIFO group "${p.groupId}" was not enqueued, and this one would have overtaken it`,
          };
        } else sendable.push(p);
      }
      if (sendable.length > 0) await this.enqueueBatch(sendable, outcomes);
      for (const p of sendable) if (!outcomes[p.index]?.ok && p.groupId !== undefined) held.add(p.groupId);
    }
  }

  private async enqueueBatch(batch: readonly Prepared[], outcomes: Outcome[]): Promise<void> {
    let pending = [...batch];
    let lastError = new Map<string, Failure>();
    const { attempts, baseDelayMs } = this.deps.retry;
    let made = 0;
    for (let again = true; again && made < attempts && pending.length > 0; ) {
      made += 1;
      if (made > 1) await this.deps.sleep(backoff(baseDelayMs, made));
      const queueUrl = (pending[0] as Prepared).queue.url;
      try {
        const refused = await this.deps.sendBatch(queueUrl, pending.map(entryOf));
        lastError = new Map(refused.map((r) => [r.id, { ok: false, error: r.error }]));
      } catch (error) {
        const failure = failedBy('', error);
        lastError = new Map(pending.map((p) => [String(p.index), failure]));
        again = retryable(error);
      }
      for (const p of pending)
        if (!lastError.has(String(p.index))) outcomes[p.index] = { ok: true, result: resultOf(p) };
      pending = pending.filter((p) => lastError.has(String(p.index)));
    }
    for (const p of pending) {
      const last = lastError.get(String(p.index)) as Failure;
      outcomes[p.index] = {
        ...last,
        error: `not enqueued after ${made} attempt${made === 1 ? '' : 's'}: ${last.error}`,
      };
    }
  }

  /** Completes the claim of every enqueued job (with its state), releases the others so a retry can claim again. */
  private async settleClaims(
    jobs: readonly (Prepared & { token?: string })[],
    outcomes: Outcome[],
  ): Promise<void> {
    const { dedupe } = this.deps;
    if (!dedupe) return;
    await mapLimited(jobs, 16, async (p) => {
      if (!p.token) return;
      const key = jobRecordKey(p.id);
      const outcome = outcomes[p.index];
      try {
        if (outcome?.ok) await this.completeClaim(dedupe, key, p);
        else await dedupe.release(key, p.token);
      } catch (error) {
        // A debounced send whose record a consumer made name another send meanwhile (a takeover of a first send's
        // claim, whose message started before this write), or whose claim another send took over, its lease run
        // out: unless its own message still runs, this send reads the record next, as after a duplicate claim,
        // and starts a new cycle or joins the one the record holds rather than being skipped as superseded.
        if (p.debounceSend !== undefined && isConditionFailure(error) && !(await this.stillRuns(p)))
          outcomes[p.index] = { ok: true, result: { id: p.id, state: 'queued', duplicate: true } };
        // Otherwise, complete: the job is durably queued; its record says pending until the lease runs out, and a
        // repeat after that may enqueue it again, which the consumers' idempotency absorbs. release: the lease
        // runs out.
      }
    });
  }

  /**
   * Whether a debounced send whose claim complete was refused still runs, its message out: its record, of the
   * same enqueue, names it (a consumer started its message after another send took its claim over, its lease run
   * out) or names no send yet (the send that took the claim over has not written it: if that one never does, the
   * first message of the enqueue to start runs). Sent, then: the takeover's write, when it lands, replaces it as
   * a later send does. False when unknown (no such question, or a fault reading the record).
   */
  private async stillRuns(p: Prepared): Promise<boolean> {
    const runs = this.deps.records?.runsDebouncedSend;
    if (!runs || p.debounceSend === undefined) return false;
    return runs.call(this.deps.records, p.id, p.generation, p.debounceSend).catch(() => false);
  }

  /**
   * Completes a claim with its job's record fields; a debounced send's only while its record names this send or
   * none, as a consumer's start leaves it ({@link namesNoOtherDebouncedSend}).
   */
  private completeClaim(dedupe: DedupeStore, key: string, p: Prepared & { token?: string }): Promise<void> {
    const fields = recordFields(p, this.deps.settings);
    const token = p.token as string;
    return this.withRetry(() =>
      p.debounceSend === undefined
        ? dedupe.complete(key, token, fields)
        : dedupe.complete(key, token, fields, namesNoOtherDebouncedSend(p.debounceSend)),
    );
  }

  private async withRetry<T>(work: () => Promise<T>): Promise<T> {
    const { attempts, baseDelayMs } = this.deps.retry;
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (error) {
        if (attempt >= attempts || !retryable(error)) throw error;
        await this.deps.sleep(backoff(baseDelayMs, attempt + 1));
      }
    }
  }
}

/** A call on a job's record, its failure a {@link JobRecordError} naming the call and the job. */
async function recordCall<T>(
  operation: JobRecordError['operation'],
  id: string,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw new JobRecordError(operation, id, error);
  }
}

/** The one-time schedule that sends a job delayed beyond 15 minutes; undefined for a job SQS delays. */
function scheduleNameOf(p: Prepared, settings: ProducerSettings): string | undefined {
  return p.delaySeconds > MAX_SQS_DELAY_SECONDS && settings.scheduler
    ? jobScheduleName(settings.scheduler.namePrefix, p.id, p.generation, p.debounceSend)
    : undefined;
}

/**
 * A later send of a debounced job, due no later than its `maxWait` after its cycle's first send: the record's
 * `enqueuedAt`, which the cycle's first send wrote and its later sends leave alone. Due at once when that time has
 * passed (the job came due and has not started yet). The due time keeps the delay rules (to the second through SQS,
 * to the minute through a schedule); unchanged without `maxWait`, or when its period ends first.
 */
function dueWithinMaxWait(p: Prepared, cycle: JobStatus): Prepared {
  const firstSendMs = cycle.enqueuedAt === undefined ? Number.NaN : Date.parse(cycle.enqueuedAt);
  if (p.debounceMaxWaitMs === undefined || Number.isNaN(firstSendMs)) return p;
  const now = p.enqueuedAt.getTime();
  const dueMs = dueTimeOf(now, Math.max(0, firstSendMs + p.debounceMaxWaitMs - now));
  if (dueMs >= (p.dueAt?.getTime() ?? now)) return p;
  const delaySeconds = Math.ceil((dueMs - now) / 1000);
  return { ...p, delaySeconds, dueAt: delaySeconds > 0 ? new Date(dueMs) : undefined };
}

/** What a repeated key reports, from its record as read (undefined: no record is kept of it). */
function duplicateResult(id: string, status: JobStatus | undefined): SendResult {
  return {
    id,
    state: status?.state ?? 'queued',
    duplicate: true,
    ...(status?.dueAt ? { dueAt: status.dueAt } : {}),
  };
}

function recordFields(p: Prepared, settings: ProducerSettings): Record<string, AttributeValue> {
  const scheduleName = scheduleNameOf(p, settings);
  return {
    ...enqueuedJobFields({
      type: p.job.type,
      queue: p.job.queue,
      enqueuedAt: p.enqueuedAt,
      ...(p.dueAt ? { dueAt: p.dueAt } : {}),
      ...(scheduleName ? { scheduleName } : {}),
      // Whom it is for, also when a delay beyond 15 minutes sends it without its message group.
      ...(p.tenant !== undefined ? { tenant: p.tenant } : {}),
      ...(p.debounceSend !== undefined ? { debounceSend: p.debounceSend } : {}),
    }),
    ...flowChildFields(p),
  };
}

/** A job that fits nowhere without a payload bucket, naming the limit it is over: a record's, a schedule's or a message's. */
function tooLargeError(job: JobDefinition, place: FlowPlace, scheduled: boolean): JobTooLargeError {
  const over = place.children
    ? `its record, which keeps a flow parent's message (up to ${MAX_PARENT_MESSAGE_BYTES} bytes) until its children complete`
    : scheduled
      ? `the one-time schedule that holds a job delayed beyond 15 minutes until it is due (an input of up to ${SCHEDULER_INPUT_LIMIT} characters)`
      : 'a message';
  const fix = scheduled
    ? 'send a smaller payload (an id to look the data up), delay it at most 15 minutes, or set a payload bucket'
    : 'send a smaller payload (an id to look the data up), or set a payload bucket';
  return new JobTooLargeError(
    `payload of job ${job.type} is too large for ${over}, and no payload bucket is set: ${fix}`,
  );
}

/** What a flow child's record keeps of its place: its parent, and what its dead-lettering does to it. */
function flowChildFields(p: Prepared): Record<string, AttributeValue> {
  return {
    ...(p.parentId ? { parent: { S: p.parentId } } : {}),
    ...(p.parentOnFailure ? { parentOnFailure: { S: p.parentOnFailure } } : {}),
  };
}

/** A job's envelope with its place in a flow: its parent's id, and how many children it waits for. */
function withFlowHeaders(envelope: WebhookEnvelope, place: FlowPlace): WebhookEnvelope {
  if (!place.parentId && !place.children) return envelope;
  return {
    ...envelope,
    headers: {
      ...envelope.headers,
      ...(place.parentId ? { [JOB_PARENT_HEADER]: place.parentId } : {}),
      ...(place.parentOnFailure ? { [JOB_PARENT_ON_FAILURE_HEADER]: place.parentOnFailure } : {}),
      ...(place.children ? { [JOB_CHILDREN_HEADER]: String(place.children) } : {}),
    },
  };
}

/** What a flow parent's record keeps to send it later: its message as `entryOf` would send it. */
function parentMessageOf(p: Prepared): ParentMessage {
  const entry = entryOf(p);
  return {
    queueUrl: p.queue.url,
    body: entry.MessageBody,
    attributes: p.attributes,
    ...(entry.MessageGroupId !== undefined ? { groupId: entry.MessageGroupId } : {}),
    ...(entry.MessageDeduplicationId !== undefined ? { deduplicationId: entry.MessageDeduplicationId } : {}),
  };
}

/** The outcome of a key's later occurrence in one batch: a duplicate of its first, or the same failure. */
function repeatOf(first: Outcome | undefined): Outcome {
  if (!first) return { ok: false, error: 'not attempted' };
  if (!first.ok) return first;
  const { tenant: _sentOnce, ...result } = first.result;
  return { ok: true, result: { ...result, duplicate: true } };
}

function resultOf(p: Prepared): SendResult {
  return {
    id: p.id,
    state: enqueuedState(p.dueAt),
    duplicate: false,
    ...(p.dueAt ? { dueAt: p.dueAt.toISOString() } : {}),
    ...(p.tenant !== undefined && p.delaySeconds <= MAX_SQS_DELAY_SECONDS ? { tenant: p.tenant } : {}),
  };
}

/**
 * What a debounced send that gave way answers: sent, its message out, but the job runs when the send its record
 * names is due (queued, due at once, when that one has no due time).
 */
function gaveWayResult(p: Prepared, named: { readonly dueAt?: string }): SendResult {
  const { dueAt: _own, ...sent } = resultOf(p);
  return {
    ...sent,
    state: enqueuedState(named.dueAt),
    ...(named.dueAt === undefined ? {} : { dueAt: named.dueAt }),
  };
}

/** A job of one send that could not be enqueued: the {@link JobBatchError} `send` turns into a `JobSendError`. */
function notSent(p: Prepared, failure: string | Failure): never {
  throw new JobBatchError(
    [],
    [failedJob(p, typeof failure === 'string' ? { ok: false, error: failure } : failure)],
  );
}

/**
 * The setup failure's code of each failed job that has one, beside the job rather than on it: {@link FailedJob} is
 * what callers of `sendBatch` see, and `send` reads the code back for its {@link JobSendError}.
 */
const SETUP_CODES_OF_FAILED = new WeakMap<FailedJob, SetupCode>();

/** Job `p` failed: as `JobBatchError` lists it, with its setup failure's code kept beside it. */
function failedJob(p: Prepared, failure: Failure): FailedJob {
  const failed: FailedJob = { index: p.index, id: p.id, error: failure.error };
  if (failure.setupCode) SETUP_CODES_OF_FAILED.set(failed, failure.setupCode);
  return failed;
}

/** The code of the setup failure that failed a job ({@link failedJob}); undefined for any other failure. */
function setupCodeOfFailed(failed: FailedJob | undefined): SetupCode | undefined {
  return failed && SETUP_CODES_OF_FAILED.get(failed);
}

function collectResults(prepared: readonly Prepared[], outcomes: readonly Outcome[]): SendResult[] {
  const sent: (SendResult & { index: number })[] = [];
  const failed: FailedJob[] = [];
  for (const p of prepared) {
    const outcome = outcomes[p.index] ?? { ok: false, error: 'not attempted' };
    if (outcome.ok) sent.push({ ...outcome.result, index: p.index });
    else failed.push(failedJob(p, outcome));
  }
  if (failed.length > 0) throw new JobBatchError(sent, failed);
  return sent.map(({ index: _index, ...result }) => result);
}

function entryOf(p: Prepared): BatchEntry {
  return {
    Id: String(p.index),
    MessageBody: p.message,
    ...(p.delaySeconds > 0 ? { DelaySeconds: p.delaySeconds } : {}),
    MessageAttributes: Object.fromEntries(
      Object.entries(p.attributes).map(([name, value]) => [
        name,
        { DataType: 'String' as const, StringValue: value },
      ]),
    ),
    ...(p.groupId !== undefined
      ? {
          MessageGroupId: p.groupId,
          MessageDeduplicationId: createHash('sha256').update(enqueueKey(p.id, p.generation)).digest('hex'),
        }
      : {}),
    // A standard queue takes a message group without a deduplication id, which only FIFO queues accept.
    ...(p.tenant !== undefined ? { MessageGroupId: p.tenant } : {}),
  };
}

/** Adds `item` to the list under `key` in place: copying the list at each job made a large batch quadratic. */
function appendTo<T>(lists: Map<string, T[]>, key: string, item: T): void {
  const list = lists.get(key);
  if (list) list.push(item);
  else lists.set(key, [item]);
}

/** Groups jobs by queue into batches of at most ten entries and SQS's batch payload limit. */
function toBatches(jobs: readonly Prepared[]): Prepared[][] {
  const byQueue = new Map<string, Prepared[]>();
  for (const p of jobs) appendTo(byQueue, p.queue.url, p);
  return [...byQueue.values()].flatMap((queued) =>
    sqsBatches(queued, (p) => Buffer.byteLength(p.message) + attributeBytes(p.attributes)),
  );
}

/** Exponential backoff with equal jitter. */
function backoff(baseMs: number, attempt: number): number {
  const ceiling = baseMs * 2 ** (attempt - 2);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/**
 * A failed call as a job's failure says it; a process whose AWS setup failed the call (no credentials or region, as
 * a script run outside the role it was granted; a sign-in that expired; credentials AWS rejects) is told what to do,
 * as the SDK's own words do not say.
 */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const failure = credentialFailureOfError(error);
  return `${error.name}: ${error.message}${failure ? setupFix(failure) : ''}`;
}

/**
 * Whether another attempt may succeed. A refused condition is an answer, the same on every attempt; a process
 * without usable AWS credentials or a region stays so for the whole send, and retrying only made it fail later (some 9
 * seconds, the SDK's credential chain tried again each time). Other failures are faults a retry may get past.
 *
 * A credential endpoint that failed for a moment (ECS's container endpoint, EC2's instance metadata) is not retried
 * either: the SDK's default chain ends every provider failure in the same "Could not load credentials from any
 * providers", so it cannot be told from a process given no credentials at all, and the SDK's container providers
 * already asked the endpoint five times (four a second apart, then once more) before giving up.
 */
function retryable(error: unknown): boolean {
  return !isConditionFailure(error) && credentialFailureOfError(error) === undefined;
}

/**
 * The failure `context` names (it ends in its separator), caused by `error`: in {@link describe}'s words, with the code
 * of the setup failure when the process's AWS setup caused it.
 */
function failedBy(context: string, error: unknown): Failure {
  const setupCode = setupCodeOf(error);
  return { ok: false, error: `${context}${describe(error)}`, ...(setupCode ? { setupCode } : {}) };
}

/** The stable code of a failure the process's AWS setup caused; undefined for any other failure. */
function setupCodeOf(error: unknown): SetupCode | undefined {
  const failure = credentialFailureOfError(error);
  return failure && SETUP_CODES[failure];
}

/** The producer's codes of the setup failures: one for an expired sign-in, whichever way AWS said it. */
type SetupCode = Extract<
  ProducerErrorCode,
  'NO_CREDENTIALS' | 'NO_REGION' | 'CREDENTIALS_EXPIRED' | 'CREDENTIALS_REJECTED'
>;

const SETUP_CODES: Readonly<Record<CredentialFailure, SetupCode>> = {
  NO_CREDENTIALS: 'NO_CREDENTIALS',
  NO_REGION: 'NO_REGION',
  SSO_SESSION_EXPIRED: 'CREDENTIALS_EXPIRED',
  CREDENTIALS_EXPIRED: 'CREDENTIALS_EXPIRED',
  CREDENTIALS_REJECTED: 'CREDENTIALS_REJECTED',
};

/**
 * What a process whose AWS setup failed the call must do, in parentheses, after the SDK's words: an expired sign-in
 * names the exact command, with the profile the process runs with.
 */
function setupFix(failure: CredentialFailure): string {
  switch (failure) {
    case 'NO_CREDENTIALS':
      return ' (this process has no AWS credentials: run it as the role or user the stack granted with grantSend, e.g. AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for a script)';
    case 'NO_REGION':
      return " (this process has no AWS region: set AWS_REGION to the pipeline's region)";
    case 'SSO_SESSION_EXPIRED':
      return ` (the SSO session this process signs in with expired: sign in again with ${signInAgainCommand()}, then send again)`;
    case 'CREDENTIALS_EXPIRED':
      return ` (this process's temporary AWS credentials expired: sign in again with ${signInAgainCommand()}, or give it new ones, as credentials exported from an assumed role end with its session)`;
    case 'CREDENTIALS_REJECTED':
      return " (AWS rejected this process's credentials: they are not AWS's, were deactivated or deleted, or their secret does not match: give it the credentials of the role or user the stack granted with grantSend)";
  }
}

/** ` (2 more refused: items 57, 81)`, the first ten named; empty when no other item was refused. */
function othersRefused(others: readonly number[]): string {
  if (others.length === 0) return '';
  const named = `${others.slice(0, 10).join(', ')}${others.length > 10 ? ', ...' : ''}`;
  return ` (${others.length} more refused: item${others.length > 1 ? 's' : ''} ${named})`;
}

/**
 * Whether a group or tenant is one SQS takes. Checked as a string first: from JavaScript or JSON it may be a
 * number (a GitHub installation id) or a list, which the group rule alone would crash on or let through.
 */
function isGroupId(value: unknown): boolean {
  return typeof value === 'string' && isSqsGroupId(value);
}

/** The options `send` takes; any other is refused. */
const SEND_OPTIONS: readonly string[] = ['id', 'delay', 'group', 'tenant', 'attempts', 'backoff', 'debounce'];

/**
 * What hookline does instead of the options a BullMQ `queue.add` takes, for the error that refuses them: ignored,
 * `jobId` would silently lose the job's dedupe, and `attempts` or `backoff` the retries the caller meant.
 */
const INSTEAD_OF: Readonly<Record<string, string>> = {
  jobId: 'the job key is id',
  deduplication:
    'the job key is id (its window is dedupe.ttl); for debounce mode, send(job, payload, { id, debounce })',
  priority: 'there are no priorities: send urgent jobs to a queue of their own',
  lifo: 'jobs are taken in arrival order (FIFO queues) or about it (standard queues)',
  repeat: 'repeating jobs are schedules in hookline.config.ts',
  removeOnComplete: 'job records expire after dedupe.ttl in hookline.config.ts',
  removeOnFail: 'dead-lettered jobs stay in the dead-letter queue for its retention period',
  failParentOnFailure: "it is a flow child's option: send the job as a child in producer.sendFlow",
  ignoreDependencyOnFailure: "it is a flow child's option: send the job as a child in producer.sendFlow",
  removeDependencyOnFailure:
    'a flow child sent with ignoreDependencyOnFailure lets its parent run without it, and keeps why it failed',
  continueParentOnFailure:
    'a flow parent never runs before its children ended: a child sent with ignoreDependencyOnFailure lets it run without that one',
};

/**
 * Refuses a job argument that is not what `defineJob` returns: from JavaScript, `send(undefined, ...)` (an import
 * misspelt) or a job's type name failed with a TypeError about reading `type` or `~standard`, naming neither.
 */
function checkJobDefinition(job: unknown): asserts job is JobDefinition {
  const definition = job as Partial<JobDefinition> | null | undefined;
  const schema = definition?.schema as { readonly '~standard'?: { readonly validate?: unknown } } | undefined;
  if (
    typeof definition === 'object' &&
    definition !== null &&
    typeof definition.type === 'string' &&
    typeof definition.queue === 'string' &&
    typeof schema?.['~standard']?.validate === 'function'
  )
    return;
  const given =
    typeof job === 'string'
      ? `the string ${JSON.stringify(job.slice(0, 80))}: pass the definition, not its type name`
      : `${job === null ? 'null' : Array.isArray(job) ? 'an array' : typeof job === 'object' ? 'an object without a type, a schema and a queue' : typeof job}: pass the value defineJob returns`;
  throw new ProducerConfigError(
    `the job argument is not a job definition, it is ${given} (const welcomeEmail = defineJob('email.welcome', schema, { queue }); send(welcomeEmail, payload))`,
  );
}

/**
 * Refuses a `sendBatch` argument that is not an array: from JavaScript, `sendBatch(undefined)` (a list not built yet)
 * or one item given without its brackets failed with a TypeError about `findIndex`, naming neither.
 */
function checkBatchItems(items: unknown): asserts items is readonly unknown[] {
  if (Array.isArray(items)) return;
  throw new ProducerConfigError(
    `the items argument of sendBatch is not an array, it is ${notAnArray(items)} (sendBatch([{ job, payload, options }, ...]))`,
  );
}

/** What a `sendBatch` argument that is not an array is, and what to pass instead where it can be told. */
function notAnArray(items: unknown): string {
  if (items === undefined || items === null) return String(items);
  if (typeof items !== 'object') return `a ${typeof items}`;
  if (items instanceof Map) return 'a Map: pass an array of its items ([...items.values()])';
  if (Symbol.iterator in items)
    return `a ${items.constructor?.name || 'list'}: pass an array of its items ([...items])`;
  return 'an object: pass [{ job, payload }] for one job';
}

/** No options (undefined or null, as a JavaScript caller may pass) are none; anything but an object is refused. */
function sendOptionsOf(job: JobDefinition, options: unknown): SendOptions {
  if (options === undefined || options === null) return {};
  if (typeof options === 'object' && !Array.isArray(options)) return options as SendOptions;
  throw new ProducerConfigError(
    `job ${job.type}: options must be an object such as { id, delay }, not ${Array.isArray(options) ? 'an array' : typeof options}`,
  );
}

/** Refuses an option `send` does not know, which would otherwise be ignored without a word. */
function checkOptionNames(job: JobDefinition, options: SendOptions): void {
  const unknown = Object.keys(options).filter((name) => !SEND_OPTIONS.includes(name));
  if (unknown.length === 0) return;
  const hints = unknown.flatMap((name) => (Object.hasOwn(INSTEAD_OF, name) ? [INSTEAD_OF[name]] : []));
  throw new ProducerConfigError(
    `job ${job.type}: ${unknown.length === 1 ? 'option' : 'options'} ${unknown.map((n) => JSON.stringify(n.slice(0, 40))).join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not one send takes (${SEND_OPTIONS.join(', ')})${hints.length ? `: ${hints.join('; ')}` : ''}`,
  );
}

/**
 * Refuses `debounce` where each job is not sent on its own: a debounced send is a claim, a read and a conditional
 * write on its record around its own message, which a batch's one SendMessageBatch and a flow's records (a
 * parent's kept message, a child's place) do not make.
 */
function refuseDebounce(items: readonly BatchItem<JobDefinition>[], label: string, fix: string): void {
  // An item that is no object is refused by the job check that follows, naming its position.
  const index = items.findIndex((item) => (item?.options as SendOptions | undefined)?.debounce !== undefined);
  if (index < 0) return;
  throw new ProducerConfigError(
    `${label} ${index} (job ${items[index]?.job?.type}): debounce is for send only, which sends one job with its own record write: ${fix}`,
  );
}

/** A debounced send's waits, in milliseconds: after this send, and at most after its cycle's first send. */
interface Debounce {
  readonly periodMs: number;
  readonly maxWaitMs?: number;
}

/** The fields of `debounce: { period, maxWait }`; a plain duration has none of them. */
const DEBOUNCE_FIELDS: readonly string[] = ['period', 'maxWait'];

/**
 * A debounced send's own name: in its message's header (the consumer runs only the send its record names) and in
 * its payload object's key (a later send's large payload never overwrites the one that runs). Nothing for a job
 * sent without `debounce`.
 */
function debounceSendMarks(
  id: string,
  debounce: Debounce | undefined,
): { readonly send?: string; readonly headers: Record<string, string>; readonly fit: { objectId?: string } } {
  if (debounce === undefined) return { headers: {}, fit: {} };
  const send = randomUUID();
  return { send, headers: { [JOB_DEBOUNCE_HEADER]: send }, fit: { objectId: `${id}.debounce-${send}` } };
}

/**
 * How long a debounced job waits (its due time then follows the delay rules); undefined when the job is not
 * debounced. Refuses what debounce cannot be: without an id (the sends that share it are the one job), with a
 * delay (the period is when it runs), on a FIFO queue (SQS cannot delay one FIFO message), a period that is not a
 * duration of at least a second, or a maxWait that is not a duration of at least the period.
 */
function debounceOf(
  job: JobDefinition,
  queue: ProducerQueue,
  options: SendOptions,
  now: number,
  keepsRecords: boolean,
): Debounce | undefined {
  const debounce = options.debounce;
  if (debounce === undefined) return undefined;
  const refuse = (why: string, code?: ProducerErrorCode) =>
    new ProducerConfigError(`job ${job.type}: debounce ${why}`, code ? { code } : {});
  if (!keepsRecords)
    throw refuse(
      "needs the dedupe table: the job's record names the send that runs, and without it every send would run: enable dedupe in the configuration and grantSend",
      'NOT_GRANTED',
    );
  if (options.id === undefined)
    throw refuse(
      'needs an id: the sends with the same id are the one job that runs: send(job, payload, { id, debounce })',
    );
  if (options.delay !== undefined)
    throw refuse(
      'and delay both say when the job runs: debounce runs it its period after the last send, so drop delay',
    );
  if (queue.fifo)
    throw refuse(
      `waits with a message delay, and queue "${queue.name}" is FIFO, where SQS cannot delay a single message: debounce on a standard queue`,
    );
  const { period, maxWait, named } = debounceParts(debounce, refuse);
  const periodMs = debounceMs(job, period, named ? 'debounce.period' : 'debounce', 'each send', now);
  if (periodMs < MIN_DEBOUNCE_MS)
    throw refuse(
      `${named ? 'period ' : ''}is ${periodMs / 1000} s: use at least 1 second (SQS delays whole seconds)`,
    );
  if (maxWait === undefined) return { periodMs };
  const maxWaitMs = debounceMs(job, maxWait, 'debounce.maxWait', "the cycle's first send", now);
  if (maxWaitMs < periodMs)
    throw refuse(
      `maxWait (${maxWaitMs / 1000} s) is shorter than its period (${periodMs / 1000} s): a job waits its period after a send, so give maxWait at least the period, or drop it`,
    );
  return { periodMs, maxWaitMs };
}

/** `debounce` as its period and maxWait: a plain duration, or `{ period, maxWait }` (named: its errors say which). */
function debounceParts(
  debounce: NonNullable<SendOptions['debounce']>,
  refuse: (why: string) => ProducerConfigError,
): { readonly period: unknown; readonly maxWait?: unknown; readonly named: boolean } {
  const keys = typeof debounce === 'object' && debounce !== null ? Object.keys(debounce) : [];
  if (!keys.some((key) => DEBOUNCE_FIELDS.includes(key))) return { period: debounce, named: false };
  const others = keys.filter((key) => !DEBOUNCE_FIELDS.includes(key));
  if (others.length > 0)
    throw refuse(
      `has ${others.map((key) => JSON.stringify(key)).join(', ')} beside ${DEBOUNCE_FIELDS.join(' and ')}: pass a duration ({ seconds: 30 }) or { period: { seconds: 30 }, maxWait: { minutes: 5 } }`,
    );
  const { period, maxWait } = debounce as DebounceOptions;
  if (period === undefined)
    throw refuse(
      'has maxWait but no period: pass { period: { seconds: 30 }, maxWait: { minutes: 5 } } (maxWait at least the period)',
    );
  return { period, maxWait, named: true };
}

/** Milliseconds of a debounce duration named `name`, counted from `from`; a Date, or no duration, is refused. */
function debounceMs(job: JobDefinition, value: unknown, name: string, from: string, now: number): number {
  if (value instanceof Date)
    throw new ProducerConfigError(
      `job ${job.type}: ${name} is a Date: pass a duration, such as { seconds: 30 }, counted from ${from}`,
    );
  return delayMs(value as DurationLike, now, `job ${job.type}: ${name}`, false);
}

/** Refuses an option as the caller gave it; the log keeps the option's name and the rule, not its value. */
function optionError(job: JobDefinition, name: string, value: unknown, rule: string): ProducerConfigError {
  return new ProducerConfigError(`job ${job.type}: ${name} ${shownOption(value)} ${rule}`, {
    withoutValues: `job ${job.type}: ${name} ${rule}`,
  });
}

/** An id, group or tenant option as a refusal shows it: a string quoted (at most 80 characters), else its type. */
export function shownOption(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 80));
  return `${String(value).slice(0, 80)} (a ${Array.isArray(value) ? 'list' : typeof value}, not a string)`;
}

/**
 * A job's `attempts` and `backoff`, checked and in whole seconds as the envelope carries them. SQS moves a message
 * to the dead-letter queue on its receive number `maxReceiveCount` whatever the job asks, so more attempts than
 * that are refused where the producer knows the queue's limit (local mode, explicit queues).
 */
function retryOptions(job: JobDefinition, queue: ProducerQueue, options: SendOptions): JobRetry {
  const { attempts, backoff } = options;
  const limit = queue.maxReceiveCount;
  if (attempts !== undefined && !(Number.isSafeInteger(attempts) && attempts >= 1)) {
    throw new ProducerConfigError(
      `job ${job.type}: attempts ${shownDelay(attempts)} is not a whole number from 1 (one run, no retry) up to the queue's maxReceiveCount${limit === undefined ? '' : ` (${limit})`}`,
    );
  }
  if (attempts !== undefined && limit !== undefined && attempts > limit) {
    throw new ProducerConfigError(
      `job ${job.type}: attempts ${attempts} is more than queue "${queue.name}" gives a job: SQS moves a message to its dead-letter queue on receive ${limit} (its maxReceiveCount) whatever the job asks: use at most ${limit}, or raise queues.${queue.name}.maxReceiveCount in hookline.config.ts`,
    );
  }
  return {
    ...(attempts !== undefined ? { attempts } : {}),
    ...(backoff !== undefined ? { backoff: backoffSeconds(job, backoff) } : {}),
  };
}

const BACKOFF_FIELDS: readonly string[] = ['base', 'factor', 'max'];

/** A job's backoff in whole seconds; refused, with every reason at once, when `consumer.retry` could not be it. */
function backoffSeconds(job: JobDefinition, backoff: Backoff): BackoffSeconds {
  const refuse = (why: string) => new ProducerConfigError(`job ${job.type}: backoff ${why}`);
  if (typeof backoff !== 'object' || backoff === null || Array.isArray(backoff) || backoff instanceof Date)
    throw refuse(`${shownDelay(backoff)} is not { base, factor, max }`);
  const unknown = Object.keys(backoff).filter((name) => !BACKOFF_FIELDS.includes(name));
  if (unknown.length > 0) {
    // BullMQ's `{ type: 'exponential', delay: 1000 }` would otherwise pass for no backoff at all.
    throw refuse(
      `has ${unknown.map((n) => JSON.stringify(n.slice(0, 40))).join(', ')}: it takes { base, factor, max } (BullMQ's { type: 'exponential', delay: ms } is { base: { seconds: ms / 1000 }, factor: 2 })`,
    );
  }
  const { base, factor, max } = backoff;
  if (factor !== undefined && typeof factor !== 'number')
    throw refuse(`factor ${shownDelay(factor)} is not a number`);
  const seconds: BackoffSeconds = {
    ...(base !== undefined ? { baseSeconds: wholeSeconds(job, 'backoff.base', base) } : {}),
    ...(factor !== undefined ? { factor } : {}),
    ...(max !== undefined ? { maxSeconds: wholeSeconds(job, 'backoff.max', max) } : {}),
  };
  const why = retryRuleReasons(seconds);
  if (why.length > 0) throw refuse(why.join('; '));
  return seconds;
}

/** A duration of a backoff in whole seconds, as `consumer.retry` takes it. */
function wholeSeconds(job: JobDefinition, name: string, value: DurationLike): number {
  if (value instanceof Date)
    throw new ProducerConfigError(`job ${job.type}: ${name} is a Date: pass a duration, { seconds: n }`);
  const ms = delayMs(value, 0, `job ${job.type}: ${name}`, false);
  if (ms % 1000 !== 0)
    throw new ProducerConfigError(
      `job ${job.type}: ${name} is ${ms / 1000} s: use whole seconds (as consumer.retry)`,
    );
  return ms / 1000;
}
