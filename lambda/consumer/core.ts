/**
 * The consumer runtime's logic, free of AWS clients and globals: everything it touches comes in as a
 * collaborator, so tests drive it with fakes and `defineConsumer` only wires the real ones.
 *
 * Per record: deadline check -> envelope -> handler lookup -> (idempotency gate -> claim check -> payload ->
 * schema -> handler). A failure is then either retried with backoff (ChangeMessageVisibility, reported in
 * `batchItemFailures`) or, when permanent or on the last attempt, sent to the DLQ with its reason, deleted from
 * the source queue at once and reported as a success. Batches go through `@aws-lambda-powertools/batch`. Records
 * still running when the invocation reaches its deadline margin are no longer waited for (`untilDeadline`): they fail
 * as timed out, so the batch can report them and dead-letter them with a reason before Lambda's own timeout.
 *
 * Why delete at once instead of leaving it to the batch response: the response only exists if the invocation
 * returns. When another record runs the invocation into its timeout, every record of the batch comes back, so a
 * dead-lettered one would be dead-lettered again (a second DLQ copy), and on FIFO, where records run one after
 * another, the records already processed would come back and climb towards `maxReceiveCount` for nothing.
 */
import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { SQSBatchItemFailure, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { KEY_HELD_RECORD, POISON_RECORD } from '../shared/circuit-breaker';
import type { ConsumerRuntimeConfig } from '../shared/consumer-config';
import { CONSUMER_OUTCOME_MESSAGE, metricTypeOf } from '../shared/contracts';
import { MESSAGE_ATTRIBUTES, type PayloadRef, parseEnvelope, type WebhookEnvelope } from '../shared/envelope';
import { idempotencyWorkKey } from '../shared/idempotency-key';
import {
  type Alarm,
  type InvocationContext,
  MAX_ALARM_MS,
  MAX_INVOCATION_MS,
} from '../shared/invocation-deadline';
import {
  isParentOnFailure,
  JOB_CHILDREN_HEADER,
  JOB_DEBOUNCE_HEADER,
  JOB_PARENT_HEADER,
  JOB_PARENT_ON_FAILURE_HEADER,
  JOB_RECORD_HEADER,
  JOB_SOURCE,
  jobHandlerKey,
  type ParentOnFailure,
} from '../shared/job';
import {
  type ChildFailureOutcome,
  type FlowChildOutcomes,
  type JobStatus,
  type ParentMessage,
  UnsentParentsError,
} from '../shared/job-record';
import { type JobRetry, jobRetryOf } from '../shared/job-retry';
import { jsonErrorWithoutInput } from '../shared/json-text';
import { describeIssue, standardValidate } from '../shared/standard-schema';
import { type ArchiveBatchSink, type ArchivingArrivals, archiveArrivals } from './archive-arrivals';
import { backoffDelaySeconds } from './backoff';
import { BoundedBatchProcessor } from './bounded-processor';
import { type DeadLetterMessage, deadLetterMessage } from './dead-letter';
import {
  AttemptsExhaustedError,
  DuplicateCopyError,
  describeError,
  FlowParentError,
  InvalidEnvelopeError,
  InvalidPayloadError,
  InvocationTimeoutError,
  isKeyHeldElsewhere,
  isKeyInProgress,
  isPermanent,
  loggedError,
  NotStartedError,
  RetentionEndsError,
  requestedRetryDelaySeconds,
  retryDelaySeconds,
  UnknownEventTypeError,
} from './errors';
import { HandBack } from './hand-back';
import type { HeldReceives } from './held-receives';
import { validateJob } from './jobs';
import { inlineBody, parsePayload } from './payload';
import { type JobProgress, ProgressReporter, progressJson } from './progress';
import { HandlerRouter } from './routing';
import { OUT_OF_TIME, SettleBudget, settleGuardMs } from './settle-budget';
import type {
  ConsumerDefinition,
  ConsumerEvent,
  ConsumerLogger,
  EventHandler,
  HandlerContext,
  HandlerSpec,
} from './types';

/** The part of the Lambda context the runtime needs. */
export type { InvocationContext };

/** The root logger: logs the per-record outcome line and makes per-record children for handlers. */
export interface RootLogger extends ConsumerLogger {
  child(keys: Record<string, unknown>): ConsumerLogger;
}

/** A record whose visibility SQS did not change, and why. */
export interface VisibilityRefusal {
  readonly messageId: string;
  readonly reason: string;
}

/** SQS operations on the record's own queue and on the dead-letter queue. */
export interface ConsumerQueueOperations {
  /** ChangeMessageVisibility on the record's receipt handle. */
  changeVisibility(record: SQSRecord, visibilityTimeoutSeconds: number): Promise<void>;
  /**
   * ChangeMessageVisibilityBatch, ten records a call: resolves with the records whose visibility was not changed
   * (an entry SQS refused, or a call that failed), never rejects.
   */
  changeVisibilities(
    records: readonly SQSRecord[],
    visibilityTimeoutSeconds: number,
  ): Promise<VisibilityRefusal[]>;
  /** SendMessage to the dead-letter queue. */
  sendToDeadLetter(message: DeadLetterMessage): Promise<void>;
  /** DeleteMessage of the record from its own queue, by its receipt handle. */
  deleteMessage(record: SQSRecord): Promise<void>;
}

/** The rate limit (`./rate-limit`): resolves true once a record may start, false when no slot comes before `untilMs`. */
export interface StartSlots {
  acquire(untilMs: number): Promise<boolean>;
}

/** Result of the idempotency gate. */
export type IdempotencyResult = 'ran' | 'duplicate';

/**
 * Runs `work` at most once per key. Resolves `duplicate` without running it when the key already completed;
 * rejects with an error named `IdempotencyAlreadyInProgressError` while another execution holds the key, and with a
 * `KeyReleasedByOtherCopyError` when that execution released it before its record could be read. When
 * `work` threw and the key could not be released, rejects with that fault instead of what `work` threw.
 */
export interface IdempotencyGate {
  run(key: string, work: () => Promise<void>, context: InvocationContext): Promise<IdempotencyResult>;
}

/**
 * A job's record (`lambda/shared/job-record.ts`): the consumer says when a job starts, what its handler returned
 * and why it was dead-lettered.
 */
export interface JobRecordUpdates {
  /**
   * `cancelled`: the job was cancelled before it started, and must not run. `superseded`: a flow parent's send
   * (`sendToken`) that a later claim of its send replaced, or a debounced job's send (`debounceSend`) that a later
   * send or cycle replaced, which runs instead: this one must not.
   */
  start(
    id: string,
    attempt: number,
    generation?: string,
    sendToken?: string,
    debounceSend?: string,
  ): Promise<'run' | 'cancelled' | 'untracked' | 'superseded'>;
  complete(id: string, result: unknown, generation?: string): Promise<void>;
  deadLettered(id: string, reason: string, generation?: string): Promise<void>;
  /** What attempt `attempt` reported with `ctx.progress`; false when the record no longer says it runs. */
  progress(id: string, attempt: number, json: string, at: Date, generation?: string): Promise<boolean>;
  /** Attempt `attempt` failed; the next is due at `retryAt` (undefined when the backoff could not be set). */
  retrying(
    id: string,
    attempt: number,
    error: string,
    retryAt: Date | undefined,
    generation?: string,
  ): Promise<void>;
}

/**
 * Flows (`producer.sendFlow`, records in `lambda/shared/job-record.ts`): a completed child is counted on its parent,
 * and so is a dead-lettered one sent with `failParentOnFailure` or `ignoreDependencyOnFailure`; whoever settles the
 * last one sends the parent, and a parent's handler reads its children's results and ignored failures.
 */
export interface FlowParents {
  /**
   * The messages of the parents to send, each claimed by this caller until `sendUntil`: the parent's once every child
   * completed and it still waits, and any further up its walk settled (`JobRecords.childCompleted`). Rejects with
   * an `UnsentParentsError` when it failed after its walk claimed sends, which are still the caller's to make.
   */
  childCompleted(
    parentId: string,
    childId: string,
    result: unknown,
    sendUntil: Date,
  ): Promise<readonly ParentMessage[]>;
  /** Marks a parent whose message (the send `sendToken` claimed) was sent `queued`, while it still waits. */
  parentSent(parentId: string, sendToken?: string): Promise<void>;
  /** Hands back the claim of a parent's send that SQS refused, so that the next delivery sends it at once. */
  parentSendFailed(parentId: string, sendToken: string): Promise<void>;
  /** A dead-lettered child counted on its parent (`JobRecords.childFailed`): what the caller does next. */
  childFailed(
    parentId: string,
    childId: string,
    failure: { readonly reason: string; readonly policy: ParentOnFailure },
    sendUntil: Date,
  ): Promise<ChildFailureOutcome | undefined>;
  /** A parent's children's results, and why its ignored children failed, by child id. */
  childOutcomes(parentId: string): Promise<FlowChildOutcomes>;
  /** A job's record: a child's result when its delivery comes again after it ran. */
  read(id: string): Promise<JobStatus | undefined>;
  /** SendMessage of a parent to its queue. */
  send(message: ParentMessage): Promise<void>;
}

/** Counters per record outcome; published once per batch, per event type (or `other`, as `metricTypes` says). */
export interface TypeMetrics {
  Processed: number;
  /** Jobs cancelled before they started, skipped. */
  Cancelled: number;
  /** Records that failed: their processing threw, or was given up at the deadline margin; never a key held elsewhere. */
  Failed: number;
  Retried: number;
  DeadLettered: number;
  /** Of `DeadLettered`, the poison records (`POISON_RECORD`): not published alone, left out of the breaker's totals. */
  Permanent: number;
  /**
   * Of `Retried` and `DeadLettered`, the copies whose idempotency key another execution held (`KEY_HELD_RECORD`):
   * published, never among `Failed`, left out of the breaker's totals.
   */
  KeyHeldElsewhere: number;
  Duplicate: number;
  Deferred: number;
  /** Records finished early (dead-lettered, or processed on FIFO or on their last receive) whose DeleteMessage failed. */
  DeleteFailed: number;
  /** Now minus the envelope's `receivedAt`, one value per finished record. */
  readonly endToEndLatencyMs: number[];
}

/** Receives the batch's metrics, keyed by event type (`${source}.${type}`, or `other` where `metricTypes` says). */
export interface MetricsSink {
  publish(byType: ReadonlyMap<string, TypeMetrics>): void;
  /** Counts envelopes the archive did not take (`ArchiveFailed`, by consumer only: one alarm sums them all). */
  archiveFailed(count: number): void;
}

/** Everything the core needs from the outside world. */
export interface ConsumerCollaborators {
  readonly sqs: ConsumerQueueOperations;
  /** Claim check: the body stored in S3 for an oversized envelope. */
  readonly loadPayload: (ref: PayloadRef) => Promise<Buffer>;
  /** Absent when idempotency is disabled. */
  readonly idempotency?: IdempotencyGate;
  /** Absent when the pipeline keeps no job records (no dedupe table). */
  readonly jobs?: JobRecordUpdates;
  /** The receives a job was handed back without running, left out of its attempts; absent without job records. */
  readonly heldReceives?: HeldReceives;
  /** Flow parents, on the same records; absent without them. */
  readonly flows?: FlowParents;
  /** The rate limit's start slots; absent when the consumer has no rate limit. */
  readonly rateLimiter?: StartSlots;
  /** The event archive, for jobs and scheduled events (first receive); absent when archiving is off. */
  readonly archive?: ArchiveBatchSink;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  /** Uniform in [0, 1), for backoff jitter. */
  readonly random: () => number;
  /** Calls `ring` once, `delayMs` from now, unless the returned cancel is called first (`setTimeout`). */
  readonly alarm: Alarm;
  readonly logger: RootLogger;
  readonly metrics: MetricsSink;
}

/** The outcome of one record, as logged in the `record outcome` line. */
export type RecordOutcome =
  | 'processed'
  | 'retried'
  | 'dead-lettered'
  | 'duplicate'
  | 'deferred'
  | 'cancelled';

/** Thrown to Powertools to mark a record failed; carries no stack (it is not a bug, just a verdict). */
const RECORD_FAILED: Error = Object.freeze(
  Object.assign(Object.create(Error.prototype), {
    name: 'RecordFailed',
    message: 'record reported in batchItemFailures',
  }),
) as Error;

const INVALID_TYPE_KEY = 'invalid';

interface RouteTarget {
  readonly handle: EventHandler<unknown>;
  readonly validate?: (payload: unknown) => unknown;
}

/**
 * What a job's handler run came to: it ran, the job was cancelled before it could, or the delivery was a flow
 * parent's send that a later one replaced (that one runs it).
 */
const RAN = 'ran';
const CANCELLED = 'cancelled';
const SUPERSEDED = 'superseded';
type JobRun = typeof RAN | typeof CANCELLED | typeof SUPERSEDED;

/**
 * Thrown inside the idempotency gate for a superseded send, so that the gate releases the key (the send that
 * replaced it has the same key, and must still run) rather than marking it completed.
 */
const SUPERSEDED_SEND = new Error('a flow parent send that a later claim replaced');

interface BatchState {
  readonly context: InvocationContext;
  readonly metrics: Map<string, TypeMetrics>;
  /** Records our handler was entered for, by message id; those never started (or skipped on FIFO) are the others. */
  readonly started: Map<string, RecordInfo>;
  /** FIFO: backoff given to the first failed record of a group, applied to the rest of the group too. */
  readonly groupDelaySeconds: Map<string, number>;
  /** Records not started for want of time, for which no delay was set: made visible again before the batch returns. */
  handBack: HandBack | undefined;
  /** Bounds the bookkeeping that must end before the batch response; made when the batch first needs it. */
  budget: SettleBudget | undefined;
  /** FIFO: groups whose first failed record did not start in time: those held behind it are released too. */
  readonly releasedGroups: Set<string>;
  /** The deadline margin was reached with records still running: they were reported, nothing of theirs counts now. */
  expired: boolean;
  /**
   * What was left of the invocation when the batch arrived: about the function's timeout, which is the longest
   * another execution's in-progress idempotency lock lasts.
   */
  readonly invocationMs: number;
}

const DONE = Promise.resolve(true);
const NOT_DONE = Promise.resolve(false);
/** A record handed back with no held receive to count: it may be released at once. */
const COUNTED = Promise.resolve(true);
const DEADLINE_DEFERRAL = 'not started: the invocation is close to its timeout';
const RATE_LIMIT_DEFERRAL =
  'not started: the rate limit had no slot before the invocation got close to its timeout';

/** The rate limit's answer for a record: it may start, no slot came before the deadline margin, or the store failed. */
const SLOT_FREE = 'free';
const NO_SLOT = 'none';
type Slot = typeof SLOT_FREE | typeof NO_SLOT | { readonly error: unknown };

/** What the batch's deadline alarm resolves to, told apart from the records' response. */
const EXPIRED = Symbol('deadline margin reached');

/** A promise that never settles: an abandoned record's late result goes nowhere. */
const neverSettles = (): Promise<never> => new Promise<never>(() => {});

interface RecordInfo {
  readonly record: SQSRecord;
  /** SQS's receive count (`ApproximateReceiveCount`): `maxReceiveCount` bounds it. */
  readonly receive: number;
  /** The attempt: the receive, less those a job was handed back without running (`heldReceives`). */
  attempt: number;
  id: string;
  source: string;
  type: string;
  typeKey: string;
  receivedAtMs: number;
  /** When this record's processing started (its attempt's duration in the outcome line). */
  readonly startedMs: number;
  /** The replay run that re-sent this event, for a replayed event. */
  replayId?: string;
  /** A job whose state is kept in a job record. */
  tracked: boolean;
  /** A job's enqueue (its envelope's generation): only that enqueue's record is updated. */
  generation?: string;
  /** This delivery marked its job's record processing: its failure is that run's, never another copy's. */
  startedJob?: boolean;
  /** A job's own attempts and backoff (`send(..., { attempts, backoff })`), over its queue's. */
  jobRetry?: JobRetry;
  /** The progress `ctx.progress` reports, for a job whose record this delivery marked processing. */
  progress?: ProgressReporter;
  /** A flow's child: its parent's id (the envelope's `x-hookline-parent`). */
  parentId?: string;
  /** A flow parent's delivery: the send of it a consumer claimed (`hookline.flow-send`). */
  sendToken?: string;
  /** A debounced job's delivery: which of its sends it is (the envelope's `x-hookline-debounce`). */
  debounceSend?: string;
  /** Its start was refused because a later send runs instead: a duplicate, logged `superseded`. */
  superseded?: boolean;
  /** A flow's child sent with `failParentOnFailure` or `ignoreDependencyOnFailure`: its dead-lettering tells its parent. */
  parentOnFailure?: ParentOnFailure;
  /**
   * Its handler returned before the deadline margin: only the writes that record it (its idempotency key, its job
   * record) may still be running, and the margin reached now does not make it a failure.
   */
  handled: boolean;
  /** What this delivery's handler returned, once it ran (a duplicate's is read from its record). */
  jobResult?: { readonly value: unknown };
  /** A flow parent's children's results and ignored failures, read before its handler runs. */
  children?: FlowChildOutcomes;
  /** Set once its outcome is being settled: resolves true when it is done, false when it is reported failed. */
  done: Promise<boolean> | undefined;
  /** Seconds its idempotency key stays locked after its handler failed and the key could not be released. */
  keyLockedSeconds?: number;
  /** It failed because another execution held its idempotency key: its handler did not run (`KEY_HELD_RECORD`). */
  keyHeldElsewhere?: boolean;
}

/** The processing core built from a consumer definition, its runtime configuration and collaborators. */
export interface ConsumerCore {
  processBatch(event: SQSEvent, context: InvocationContext): Promise<SQSBatchResponse>;
}

function toTarget(spec: HandlerSpec): RouteTarget {
  if (typeof spec === 'function') return { handle: spec };
  const schema = spec.schema;
  return {
    handle: spec.handle as EventHandler<unknown>,
    // Through Standard Schema, as a job's schema: zod's own `safeParse` throws on an async refinement, which
    // would retry (and then dead-letter) every event a valid schema accepts.
    validate: async (payload) => {
      const result = await standardValidate(schema, payload);
      if ('issues' in result) {
        const issue = result.issues[0];
        const where = issue ? describeIssue(issue) : '(root): invalid';
        throw new InvalidPayloadError(`payload failed schema validation at ${where}`, {
          cause: new Error(result.issues.map(describeIssue).join('; ')),
        });
      }
      return result.value;
    },
  };
}

function newTypeMetrics(): TypeMetrics {
  return {
    Processed: 0,
    Cancelled: 0,
    Failed: 0,
    Retried: 0,
    DeadLettered: 0,
    Permanent: 0,
    KeyHeldElsewhere: 0,
    Duplicate: 0,
    Deferred: 0,
    DeleteFailed: 0,
    endToEndLatencyMs: [],
  };
}

/** The handler's `ctx`. A class, not a literal with a getter: it is built for every record. */
class RecordContext implements HandlerContext {
  readonly attempt: number;
  #child: ConsumerLogger | undefined;
  #record: SQSRecord | undefined;

  constructor(
    private readonly info: RecordInfo,
    readonly consumer: string,
    private readonly invocation: InvocationContext,
    private readonly root: RootLogger,
  ) {
    this.attempt = info.attempt;
  }

  /**
   * The handler's own copy of the record, made on first use: the runtime dead-letters, deletes and reports the
   * record by its body, attributes, receipt handle and message id after the handler ran, so a handler that changed
   * them must not change what reaches the DLQ or which record the batch response names.
   */
  get record(): SQSRecord {
    this.#record ??= structuredClone(this.info.record);
    return this.#record;
  }

  remainingTimeMs(): number {
    return this.invocation.getRemainingTimeInMillis();
  }

  progress(value: JobProgress): void {
    // Checked for every handler, so a mistake shows in a test without job records too.
    const json = progressJson(value);
    this.info.progress?.report(json);
  }

  /** A flow parent's children's results, by child id; undefined for a job that is no flow parent. */
  get children(): Readonly<Record<string, unknown>> | undefined {
    return this.info.children?.results;
  }

  /** Why a flow parent's ignored children were dead-lettered, by child id; undefined for a job that is no parent. */
  get failedChildren(): Readonly<Record<string, string>> | undefined {
    return this.info.children?.failures;
  }

  /** Created on first use: most handlers never log, and a Powertools child logger is not free. */
  get logger(): ConsumerLogger {
    // The keys of the record's outcome line, so one Logs Insights filter finds a record's handler and outcome lines.
    this.#child ??= this.root.child({
      id: this.info.id,
      source: this.info.source,
      type: this.info.type,
      attempt: this.info.attempt,
    });
    return this.#child;
  }
}

/**
 * Reuses batch processors: their constructors read the environment (slow in Node), and a new one per batch cost
 * ~0.7 µs per record at batch size 10. A pool, not a single instance, because a processor holds one batch's
 * state and local mode may run batches of one consumer concurrently.
 */
class ProcessorPool<P> {
  readonly #free: P[] = [];
  constructor(private readonly create: () => P) {}
  async use<T>(work: (processor: P) => Promise<T>): Promise<T> {
    const processor = this.#free.pop() ?? this.create();
    try {
      return await work(processor);
    } finally {
      this.#free.push(processor);
    }
  }
}

/** Builds the core. Throws at once on an invalid handler key (a deploy-time mistake, not a record failure). */
export function createConsumerCore(
  definition: ConsumerDefinition,
  config: ConsumerRuntimeConfig,
  collaborators: ConsumerCollaborators,
): ConsumerCore {
  return new ConsumerRuntime(routesOf(definition), config, collaborators);
}

interface Routes {
  readonly router: HandlerRouter<RouteTarget>;
  readonly fallback: RouteTarget | undefined;
}

function routesOf(definition: ConsumerDefinition): Routes {
  const handlers = Object.entries(definition.handlers as Record<string, HandlerSpec>);
  const jobs = (definition.jobs ?? []).map(({ job, handle }): [string, RouteTarget] => [
    jobHandlerKey(job.type),
    { handle: handle as EventHandler<unknown>, validate: (payload) => validateJob(job, payload) },
  ]);
  return {
    router: new HandlerRouter<RouteTarget>([
      ...handlers.map(([key, spec]): [string, RouteTarget] => [key, toTarget(spec)]),
      ...jobs,
    ]),
    fallback: definition.default ? { handle: definition.default } : undefined,
  };
}

function newBatchState(context: InvocationContext): BatchState {
  return {
    context,
    metrics: new Map(),
    started: new Map(),
    groupDelaySeconds: new Map(),
    handBack: undefined,
    budget: undefined,
    releasedGroups: new Set(),
    expired: false,
    invocationMs: context.getRemainingTimeInMillis(),
  };
}

function metricsFor(state: BatchState, typeKey: string): TypeMetrics {
  let entry = state.metrics.get(typeKey);
  if (!entry) {
    entry = newTypeMetrics();
    state.metrics.set(typeKey, entry);
  }
  return entry;
}

const OUTCOME_COUNTER: Record<RecordOutcome, keyof Omit<TypeMetrics, 'endToEndLatencyMs'>> = {
  processed: 'Processed',
  retried: 'Retried',
  'dead-lettered': 'DeadLettered',
  duplicate: 'Duplicate',
  deferred: 'Deferred',
  cancelled: 'Cancelled',
};

/**
 * The level of each outcome's line, so that an operator who keeps only WARN and above (`POWERTOOLS_LOG_LEVEL`, or
 * Lambda's application log level) still reads every record that failed: one that comes back WARN, one that went to
 * the DLQ (a person must redrive it) ERROR; records that ended well, or were held back to come back, stay INFO.
 */
const OUTCOME_LEVEL: Record<RecordOutcome, 'info' | 'warn' | 'error'> = {
  processed: 'info',
  duplicate: 'info',
  cancelled: 'info',
  deferred: 'info',
  retried: 'warn',
  'dead-lettered': 'error',
};

/**
 * The share of a batch's settle budget left that a dead letter on a job's last receive waits for the read of its
 * attempt: the send keeps the rest, so that it starts and ends in time.
 */
const ATTEMPT_READ_SHARE = 0.25;

/**
 * The receives of a job held before this one, which a write retried after its answer was lost counted already (`add`
 * answers nothing then): those held before the next receive, this one among them, less it. Undefined when they
 * cannot be read: the attempt then stays the receive.
 */
async function heldBeforeCounted(held: HeldReceives, info: RecordInfo): Promise<number | undefined> {
  try {
    return Math.max(0, (await held.count(info.record.messageId, info.receive + 1)) - 1);
  } catch {
    return undefined;
  }
}

/** A flow parent's send token, where the delivery carries one. */
function optionalSendToken(token: string | undefined): { sendToken?: string } {
  return token === undefined ? {} : { sendToken: token };
}

/** What the record looks like before its envelope is parsed: the attributes the ingest function set. */
function recordInfo(record: SQSRecord, startedMs: number): RecordInfo {
  const attrs = record.messageAttributes ?? {};
  const source = attrs[MESSAGE_ATTRIBUTES.source]?.stringValue;
  const type = attrs[MESSAGE_ATTRIBUTES.type]?.stringValue;
  const sentMs = Number(record.attributes?.SentTimestamp);
  return {
    record,
    startedMs,
    receive: attemptOf(record),
    attempt: attemptOf(record),
    id: attrs[MESSAGE_ATTRIBUTES.eventId]?.stringValue ?? record.messageId,
    ...optionalSendToken(attrs[MESSAGE_ATTRIBUTES.flowSend]?.stringValue),
    source: source ?? 'unknown',
    type: type ?? 'unknown',
    // Until the envelope is parsed, the attributes the ingest function set are the best guess.
    typeKey: source && type ? `${source}.${type}` : INVALID_TYPE_KEY,
    receivedAtMs: Number.isFinite(sentMs) && sentMs > 0 ? sentMs : Number.NaN,
    tracked: false,
    handled: false,
    done: undefined,
  };
}

/** Once parsed, the envelope is the truth about the record. */
function adoptEnvelope(info: RecordInfo, envelope: WebhookEnvelope): void {
  info.id = envelope.id;
  info.source = envelope.source;
  info.type = envelope.type;
  info.typeKey = `${envelope.source}.${envelope.type}`;
  if (envelope.replay) info.replayId = envelope.replay.id;
  if (envelope.generation !== undefined) info.generation = envelope.generation;
  info.tracked = envelope.source === JOB_SOURCE && envelope.headers[JOB_RECORD_HEADER] !== undefined;
  if (envelope.source === JOB_SOURCE) info.jobRetry = jobRetryOf(envelope.headers);
  const debounceSend = info.tracked ? envelope.headers[JOB_DEBOUNCE_HEADER] : undefined;
  if (debounceSend !== undefined) info.debounceSend = debounceSend;
  const parentId = info.tracked ? envelope.headers[JOB_PARENT_HEADER] : undefined;
  if (parentId) info.parentId = parentId;
  const onFailure = parentId ? envelope.headers[JOB_PARENT_ON_FAILURE_HEADER] : undefined;
  if (isParentOnFailure(onFailure)) info.parentOnFailure = onFailure;
  const received = Date.parse(envelope.receivedAt);
  if (Number.isFinite(received)) info.receivedAtMs = received;
}

function envelopeOf(record: SQSRecord): WebhookEnvelope {
  try {
    return parseEnvelope(record.body);
  } catch (error) {
    throw new InvalidEnvelopeError(
      `message body is not a hookline envelope: ${jsonErrorWithoutInput(describeError(error).message)}`,
    );
  }
}

/** `Name: message`, for warning lines. */
function errorText(error: unknown): string {
  const failure = describeError(error);
  return `${failure.name}: ${failure.message}`;
}

/** The runtime itself: one instance per consumer, one {@link BatchState} per batch. */
class ConsumerRuntime implements ConsumerCore {
  readonly #fifoProcessors: ProcessorPool<SqsFifoPartialProcessorAsync> | undefined;
  readonly #standardProcessors: ProcessorPool<BoundedBatchProcessor>;
  /** The `type` a record's metrics are counted under: its own, or `other` where `metricTypes` bounds them. */
  readonly #metricType: (typeKey: string) => string;

  constructor(
    private readonly routes: Routes,
    private readonly config: ConsumerRuntimeConfig,
    private readonly deps: ConsumerCollaborators,
  ) {
    this.#fifoProcessors = config.fifo
      ? new ProcessorPool(() => new SqsFifoPartialProcessorAsync())
      : undefined;
    this.#standardProcessors = new ProcessorPool(() => new BoundedBatchProcessor(config.parallelism));
    this.#metricType = metricTypeOf(config.metricTypes);
  }

  async processBatch(event: SQSEvent, context: InvocationContext): Promise<SQSBatchResponse> {
    const state = newBatchState(context);
    // Beside the records, not before them: the batch waits for the slower of the two, and never for a failure.
    const archiving = archiveArrivals(event.Records, this.config.name, this.deps.archive, this.deps.logger);
    try {
      const failures = await this.untilDeadline(event, state);
      if (archiving) await this.untilArchived(archiving, state);
      return { batchItemFailures: failures };
    } finally {
      state.budget?.close();
      this.publishMetrics(state);
    }
  }

  /**
   * The archive put, waited for within the batch's budget: a delivery stream that has not answered by the guard
   * does not hold the response past the timeout (which would send the whole batch back, processed records
   * included); its lines are counted as not archived, as a failed put's are.
   */
  private async untilArchived(archiving: ArchivingArrivals, state: BatchState): Promise<void> {
    let notArchived = archiving.answered()
      ? await archiving.notArchived
      : await this.budgetOf(state).within(archiving.notArchived);
    if (notArchived === OUT_OF_TIME) {
      notArchived = archiving.giveUp(
        'no answer from the delivery stream before the batch response was due; the lines may or may not be archived',
      );
    }
    if (notArchived > 0) this.deps.metrics.archiveFailed(notArchived);
  }

  /**
   * The batch's records, waited for until they finish or until the deadline margin is reached, whichever comes
   * first (one alarm per batch). Past the margin the records still running are abandoned, so that the batch can
   * still report them, dead-letter them with a reason and publish its metrics before Lambda ends the invocation.
   */
  private async untilDeadline(event: SQSEvent, state: BatchState): Promise<SQSBatchItemFailure[]> {
    const records = this.runRecords(event, state);
    const delayMs = state.context.getRemainingTimeInMillis() - this.config.deadlineMarginMs;
    let first: SQSBatchResponse | typeof EXPIRED;
    if (delayMs >= 0 && delayMs <= MAX_ALARM_MS) {
      let cancel = () => {};
      const expired = new Promise<typeof EXPIRED>((resolve) => {
        cancel = this.deps.alarm(delayMs, () => {
          state.expired = true;
          resolve(EXPIRED);
        });
      });
      try {
        first = await Promise.race([records, expired]);
      } finally {
        cancel();
      }
    } else {
      first = await records;
    }
    const failures =
      first === EXPIRED
        ? await this.abandonUnfinished(event, state)
        : await this.settleRecords(event, state, first);
    await this.releaseNotStarted(state);
    return failures;
  }

  /**
   * The batch's {@link SettleBudget}, made on first use: a batch with nothing to settle in a hurry sets no alarm.
   * Its guard is a share of the deadline margin, the time the margin keeps for the response itself.
   */
  private budgetOf(state: BatchState): SettleBudget {
    state.budget ??= new SettleBudget(
      state.context,
      settleGuardMs(this.config.deadlineMarginMs),
      this.deps.alarm,
    );
    return state.budget;
  }

  /** The failures of a batch whose records all settled: on FIFO, the records skipped after a failure are settled too. */
  private async settleRecords(
    event: SQSEvent,
    state: BatchState,
    response: SQSBatchResponse,
  ): Promise<SQSBatchItemFailure[]> {
    const failures = checkedFailures(event, response);
    if (this.config.fifo && failures.length > 0) return this.settleSkipped(event, state, failures);
    return failures;
  }

  /**
   * Hands back at once the records not started for want of time, rather than after the queue's visibility timeout
   * (six times the function's): no failure of theirs asks for a delay, and on FIFO their group stays locked while
   * any of them is in flight. Reported failed all the same, so their receive is spent as before. Best effort, within
   * the batch's budget: a record SQS did not release, or that the time left did not reach, comes back after the
   * visibility timeout, as it did.
   */
  private async releaseNotStarted(state: BatchState): Promise<void> {
    if (!state.handBack) return;
    const { refused, notHandedBack } = await state.handBack.finish();
    if (refused.length > 0) {
      this.deps.logger.warn(
        'ChangeMessageVisibility failed for records not started; they return after the queue visibility timeout',
        {
          count: refused.length,
          messageIds: refused.slice(0, 10).map((r) => r.messageId),
          reason: refused[0]?.reason,
        },
      );
    }
    if (notHandedBack > 0) {
      this.deps.logger.warn(
        'records not started were not handed back at once (no time left); they return after the queue visibility timeout',
        { count: notHandedBack },
      );
    }
  }

  /**
   * At the deadline margin: each record still running fails as timed out (retried with backoff, or dead-lettered
   * with that reason on its last attempt), the ones never started are deferred, and the failures are returned.
   */
  private async abandonUnfinished(event: SQSEvent, state: BatchState): Promise<SQSBatchItemFailure[]> {
    this.abandonStarted(state);
    // The records never started that no started record holds back are deferred (counted, handed back) beside the
    // settling of those, not after it: a slow settle (a backoff, a job record, a dead letter) would otherwise spend
    // the budget they need, and leave them to the visibility timeout.
    const free = this.freeOfStarted(event, state);
    const freeSettled = this.deferSkippedRecords(free, state, new Set()).then((done) => {
      state.handBack?.flush();
      return done;
    });
    // A record's settling (its backoff, or its dead letter with the SQS and job-record calls that go with it) is
    // waited for only until the budget's guard: past it, the record is reported failed, and the response goes out.
    const budget = this.budgetOf(state);
    const failures: SQSBatchItemFailure[] = [];
    for (const record of event.Records) {
      const done = state.started.get(record.messageId)?.done;
      if (!done || (await budget.within(done)) !== true) failures.push({ itemIdentifier: record.messageId });
    }
    const freeIds = new Set(free.map((r) => r.messageId));
    const held = await this.settleSkipped(
      event,
      state,
      failures.filter((f) => !freeIds.has(f.itemIdentifier)),
    );
    const freeDone = await freeSettled;
    const reported = new Set(held.map((f) => f.itemIdentifier));
    for (const id of freeIds) if (!freeDone.has(id)) reported.add(id);
    return checkedFailures(event, {
      batchItemFailures: failures.filter((f) => reported.has(f.itemIdentifier)),
    });
  }

  /**
   * Each record still running fails as timed out (retried with backoff, or dead-lettered with that reason on its
   * last attempt); one whose handler returned is finished as processed.
   */
  private abandonStarted(state: BatchState): void {
    const timedOut = new InvocationTimeoutError(this.config.deadlineMarginMs);
    // The abandoned record's idempotency lock expires with this invocation (Powertools' in-progress expiry): a
    // retry arriving sooner would find it held, and spend an attempt on `IdempotencyAlreadyInProgressError`.
    const notBeforeSeconds = Math.ceil(Math.max(0, state.context.getRemainingTimeInMillis()) / 1000);
    for (const info of state.started.values()) {
      // A handler that returned, whose key or job record is still being written, did its work: reported failed, it
      // would run again, or be dead-lettered on its last receive as never finished. A flow's child is not done until
      // its parent is told, which the margin stops.
      info.done ??=
        info.handled && info.parentId === undefined
          ? this.finish(state, info, 'processed')
          : this.settleFailure(info, state, timedOut, notBeforeSeconds);
    }
  }

  /**
   * The records never started whose deferral does not hang on how a started record ends: all of them on a standard
   * queue; on FIFO, those of a group none of whose records started (a failed one would stop its group behind it).
   */
  private freeOfStarted(event: SQSEvent, state: BatchState): SQSRecord[] {
    const startedGroups = new Set<string | undefined>();
    if (this.config.fifo)
      for (const info of state.started.values()) startedGroups.add(info.record.attributes?.MessageGroupId);
    return event.Records.filter(
      (record) =>
        !state.started.has(record.messageId) && !startedGroups.has(record.attributes?.MessageGroupId),
    );
  }

  /** Every record through Powertools' batch processing: FIFO stops a group at its first failure. */
  private runRecords(event: SQSEvent, state: BatchState): Promise<SQSBatchResponse> {
    const recordHandler = (record: SQSRecord) => this.handleRecord(record, state);
    if (this.#fifoProcessors) {
      return this.#fifoProcessors.use((processor) =>
        processPartialResponse(event, recordHandler, processor, {
          skipGroupOnError: true,
          throwOnFullBatchFailure: false,
        }),
      );
    }
    return this.#standardProcessors.use((processor) =>
      processPartialResponse(event, recordHandler, processor, { throwOnFullBatchFailure: false }),
    );
  }

  /** Less than this left of the invocation, a record is not started (deferred): see `startMarginMs`. */
  private get startMarginMs(): number {
    return this.config.startMarginMs ?? this.config.deadlineMarginMs;
  }

  /** One record; throws {@link RECORD_FAILED} to report it in `batchItemFailures`. */
  private async handleRecord(record: SQSRecord, state: BatchState): Promise<void> {
    // The processor goes on when a record abandoned at the deadline settles late: the rest were reported then.
    if (state.expired) throw RECORD_FAILED;
    let slot: Slot = SLOT_FREE;
    if (this.deps.rateLimiter) {
      // The wait for a slot comes first: a record still waiting at the deadline margin has not started, so it is
      // deferred with the rest instead of failing as timed out (which would spend a retry, or dead-letter it).
      slot = await this.startSlot(this.deps.rateLimiter, state);
      if (state.expired) throw RECORD_FAILED;
    }
    const info = recordInfo(record, this.deps.now());
    state.started.set(record.messageId, info);
    const deferral =
      slot === NO_SLOT
        ? RATE_LIMIT_DEFERRAL
        : state.context.getRemainingTimeInMillis() < this.startMarginMs
          ? DEADLINE_DEFERRAL
          : undefined;
    if (deferral) {
      info.done = this.settleNotStarted(state, info, deferral);
      if (!(await info.done)) throw RECORD_FAILED;
      return;
    }
    let done: Promise<boolean>;
    try {
      // The limit's store failing is a fault like any other: the record is retried with backoff.
      if (typeof slot === 'object') throw slot.error;
      const outcome = await this.process(info, state);
      // Already set when the record was abandoned at the deadline: its late result is neither logged nor acted on.
      done = info.done ?? this.finish(state, info, outcome);
    } catch (error) {
      const notBefore = Math.max(
        requestedRetryDelaySeconds(error),
        info.keyLockedSeconds ?? 0,
        // A copy whose key another execution holds (a duplicate delivery running elsewhere) comes back once that
        // lock has ended, completed or expired: with backoff alone, a handler that outlasts the retries would have
        // the copy dead-lettered as in progress although the delivery ran.
        isKeyInProgress(error) ? retryDelaySeconds(state.invocationMs / 1000) : 0,
      );
      done = info.done ?? this.settleFailure(info, state, error, notBefore);
    }
    info.done = done;
    if (done !== DONE && !(await done)) throw RECORD_FAILED;
  }

  /**
   * Waits for the rate limit's next start slot, at most until the deadline margin.
   * Held back here, inside the invocation, a record spends no receive (each one counts towards maxReceiveCount).
   */
  private async startSlot(rateLimiter: StartSlots, state: BatchState): Promise<Slot> {
    const untilMs = this.deps.now() + state.context.getRemainingTimeInMillis() - this.startMarginMs;
    try {
      return (await rateLimiter.acquire(untilMs)) ? SLOT_FREE : NO_SLOT;
    } catch (error) {
      return { error };
    }
  }

  /** Envelope -> handler lookup -> idempotency gate -> handler; resolves with how it ended, throws what failed. */
  private async process(
    info: RecordInfo,
    state: BatchState,
  ): Promise<'processed' | 'duplicate' | 'cancelled'> {
    const envelope = envelopeOf(info.record);
    adoptEnvelope(info, envelope);
    await this.attemptOfJob(info);
    const target = this.routes.router.resolve(info.typeKey)?.value ?? this.routes.fallback;
    if (!target) throw new UnknownEventTypeError(info.typeKey);
    const outcome = await this.runOnce(info, envelope, target, state);
    if (info.parentId !== undefined && outcome !== 'cancelled') await this.completeChild(info, state);
    return outcome;
  }

  /**
   * A flow's child ran (or its delivery came again after it ran): counted on its parent, and when it was the last
   * the parent is sent, then marked `queued`. Outside the idempotency gate, so a runtime that died before this
   * ended has the child's next delivery, a duplicate, do it; a failure here fails the record, which comes back
   * for this step alone (its handler does not run again where idempotency is on).
   */
  private async completeChild(info: RecordInfo, state: BatchState): Promise<void> {
    const flows = this.deps.flows;
    const parentId = info.parentId as string;
    if (!flows || state.expired) return;
    try {
      const result = info.jobResult ? info.jobResult.value : (await flows.read(info.id))?.result;
      let cause: { readonly error: unknown } | undefined;
      const messages = await flows
        .childCompleted(parentId, info.id, result, this.sendUntil(state))
        .catch((error: unknown) => {
          if (!(error instanceof UnsentParentsError)) throw error;
          cause = { error: error.cause };
          return error.sends;
        });
      // Every one, even after another failed: a send claimed further up is made by no one else.
      const sends = await Promise.allSettled(
        messages.map((message) => this.sendParent(flows, message.parentId ?? parentId, message)),
      );
      const failed = sends.find((send) => send.status === 'rejected');
      if (failed) throw failed.reason;
      if (cause) throw cause.error;
    } catch (error) {
      throw new FlowParentError(parentId, error);
    }
  }

  /**
   * Sends a parent whose send this delivery claimed, then marks it `queued`. A send that failed is handed back so the
   * record's next delivery sends it at once: SQS refused it, or, had it gone out after all, the next claim's send
   * replaces it. A hand-back that fails too leaves the claim to lapse at the end of this invocation.
   */
  private async sendParent(flows: FlowParents, parentId: string, message: ParentMessage): Promise<void> {
    try {
      await flows.send(message);
    } catch (error) {
      const token = message.sendToken;
      if (token !== undefined) await flows.parentSendFailed(parentId, token).catch(() => undefined);
      throw error;
    }
    await flows.parentSent(parentId, message.sendToken);
  }

  /**
   * Until when this invocation holds a parent's send it claims: its end, after which no runtime of it can still
   * send (at most Lambda's longest timeout, for a caller without a deadline).
   */
  private sendUntil(state: BatchState): Date {
    const remainingMs = Math.min(state.context.getRemainingTimeInMillis(), MAX_INVOCATION_MS);
    return new Date(this.deps.now() + remainingMs);
  }

  /** A record that ended without failing: its outcome line, and its early delete where one is due. */
  private finish(
    state: BatchState,
    info: RecordInfo,
    outcome: 'processed' | 'duplicate' | 'cancelled',
  ): Promise<boolean> {
    this.logOutcome(state, info, outcome);
    // FIFO records run one after another: without this, a later record running the invocation into its
    // timeout would bring this one back (and count one more receive) although it is done. On its last receive
    // a finished record of any queue is deleted now too: if the invocation then times out, SQS would move it
    // to the DLQ, where a done event would be listed as failed and redriven.
    if (this.config.fifo || info.receive >= this.config.maxReceiveCount) {
      return this.deleteFinished(state, info).then(() => true);
    }
    return DONE;
  }

  /** The job behind the idempotency gate (when on); resolves with how the record ended. */
  private async runOnce(
    info: RecordInfo,
    envelope: WebhookEnvelope,
    target: RouteTarget,
    state: BatchState,
  ): Promise<'processed' | 'duplicate' | 'cancelled'> {
    const { idempotency } = this.deps;
    if (!idempotency) {
      // The common case without a job record: straight to the handler, one promise fewer per record.
      if (!info.tracked) await this.runHandler(info, envelope, target, state);
      else {
        const ran = await this.runJob(info, envelope, target, state);
        if (ran !== RAN) return ran === CANCELLED ? 'cancelled' : 'duplicate';
      }
      return 'processed';
    }
    let run = RAN as JobRun;
    let finished = false;
    let failed: { readonly error: unknown } | undefined;
    // Abandoned at the deadline, the work never settles for Powertools, as if Lambda had ended it: its record
    // stays in progress until its expiry (this invocation's timeout), and then the retry takes it over. A late
    // "completed" would turn that retry into a duplicate of a record reported failed, and a late failure would
    // delete the key, whoever holds it by then.
    const work = () =>
      this.runJob(info, envelope, target, state).then(
        (ran) => {
          // A handler that returned before the margin counts as processed then: its key may be marked completed.
          if (state.expired && !info.handled) return neverSettles();
          if (ran === SUPERSEDED) throw SUPERSEDED_SEND;
          run = ran;
          finished = true;
          if (ran === RAN) info.handled = true;
        },
        (error: unknown) => {
          if (state.expired) return neverSettles();
          failed = { error };
          throw error;
        },
      );
    let result: IdempotencyResult;
    try {
      result = await idempotency.run(idempotencyWorkKey(this.config.name, envelope), work, state.context);
    } catch (error) {
      if (error === SUPERSEDED_SEND) return 'duplicate';
      if (failed !== undefined && error !== failed.error)
        throw this.keptLocked(info, state, failed.error, error);
      if (!finished) throw error;
      // The handler finished and only marking its key completed failed: a retry would run its side effects
      // again once the in-progress lock expires, so the record counts as done.
      this.deps.logger.warn('could not mark the record completed in the idempotency table', {
        id: info.id,
        error: errorText(error),
      });
      result = 'ran';
    }
    return result === 'duplicate' ? 'duplicate' : run === CANCELLED ? 'cancelled' : 'processed';
  }

  /**
   * The handler failed and releasing its idempotency key failed too (Powertools then reports only the release's
   * fault): the handler's error is what happened to the record, so a PermanentError is still dead-lettered; the
   * key stays locked until its in-progress expiry (this invocation's end), so a retry comes no sooner, instead of
   * spending an attempt on `IdempotencyAlreadyInProgressError`. Returns the handler's error, to throw.
   */
  private keptLocked(
    info: RecordInfo,
    state: BatchState,
    handlerError: unknown,
    releaseError: unknown,
  ): unknown {
    this.deps.logger.warn('could not release the record’s idempotency key after its handler failed', {
      id: info.id,
      error: errorText(releaseError),
    });
    // At most the longest retry delay: an invocation without a deadline (outside Lambda) locks it for good.
    info.keyLockedSeconds = retryDelaySeconds(state.context.getRemainingTimeInMillis() / 1000);
    return handlerError;
  }

  /**
   * A tracked job: marked processing unless cancelled, then the handler, then its result recorded. Inside the
   * idempotency gate, so a duplicate delivery never moves a finished job back to processing.
   */
  private async runJob(
    info: RecordInfo,
    envelope: WebhookEnvelope,
    target: RouteTarget,
    state: BatchState,
  ): Promise<JobRun> {
    const records = info.tracked ? this.deps.jobs : undefined;
    if (!records) {
      await this.runHandler(info, envelope, target, state);
      return RAN;
    }
    // Abandoned while the gate was still taking its lock: too late to mark it processing or to run it.
    if (state.expired) throw RECORD_FAILED;
    const started = await records.start(
      info.id,
      info.attempt,
      info.generation,
      info.sendToken,
      info.debounceSend,
    );
    if (started === 'cancelled') return CANCELLED;
    if (started === 'superseded') {
      info.superseded = true;
      return SUPERSEDED;
    }
    info.startedJob = started === 'run';
    if (info.startedJob) info.progress = this.progressReporter(records, info);
    if (envelope.headers[JOB_CHILDREN_HEADER] !== undefined && this.deps.flows)
      info.children = await this.deps.flows.childOutcomes(info.id);
    const result = await this.runHandler(info, envelope, target, state);
    info.jobResult = { value: result };
    // Abandoned: its record already says what the runtime reported (dead-lettered with the timeout, or retried).
    if (state.expired) throw RECORD_FAILED;
    info.handled = true;
    await info.progress?.settle();
    try {
      await records.complete(info.id, result, info.generation);
    } catch (error) {
      // The job did run: failing now would run it again for a status line.
      this.deps.logger.warn('could not record the job result', { id: info.id, error: errorText(error) });
    }
    return RAN;
  }

  /** The job's progress, written to its record as this attempt's. */
  private progressReporter(records: JobRecordUpdates, info: RecordInfo): ProgressReporter {
    const { now, alarm, logger } = this.deps;
    return new ProgressReporter(
      (json, at) => records.progress(info.id, info.attempt, json, at, info.generation),
      { now, alarm },
      (message, error) => logger.warn(message, { id: info.id, error: errorText(error) }),
    );
  }

  /** Claim check -> payload -> schema -> the handler; resolves with what the handler returned. */
  private async runHandler(
    info: RecordInfo,
    envelope: WebhookEnvelope,
    target: RouteTarget,
    state: BatchState,
  ): Promise<unknown> {
    const bytes = envelope.payloadRef ? await this.deps.loadPayload(envelope.payloadRef) : undefined;
    const body = bytes ? inlineBody(envelope, bytes) : envelope.body;
    if (body === undefined) throw new InvalidPayloadError(`envelope ${envelope.id} has no body`);
    let payload = parsePayload(envelope, bytes);
    if (target.validate) payload = await target.validate(payload);
    const event: ConsumerEvent<unknown> = { ...envelope, body, payload };
    // Abandoned at the deadline while its payload was being fetched or validated: too late to start the handler.
    if (state.expired) throw RECORD_FAILED;
    const ctx = new RecordContext(info, this.config.name, state.context, this.deps.logger);
    return target.handle(event, ctx);
  }

  /**
   * A failed record: dead-lettered when permanent or on its last attempt, else retried with backoff.
   * True when the record is done (safely in the DLQ), false when it must be reported failed.
   */
  private async settleFailure(
    info: RecordInfo,
    state: BatchState,
    error: unknown,
    notBeforeSeconds = 0,
  ): Promise<boolean> {
    // A copy that found its key held elsewhere is retried (or dead-lettered) as any failure, but its handler did
    // not fail: counted so, duplicate deliveries would read as a failing handler, and could pause its consumer.
    if (isKeyHeldElsewhere(error)) info.keyHeldElsewhere = true;
    else metricsFor(state, this.#metricType(info.typeKey)).Failed++;
    if (isPermanent(error) || info.receive >= this.config.maxReceiveCount) {
      const why = info.keyHeldElsewhere ? new DuplicateCopyError(this.config.maxReceiveCount, error) : error;
      return this.deadLetter(state, info, why);
    }
    // A job's own attempts end before its queue's: SQS would retry it, so the runtime dead-letters it, saying why.
    // They count runs of its handler: a child that ran and could not tell its parent is retried for that step alone
    // (idempotency answers its next delivery without running it) up to its queue's limit. Without idempotency a
    // retry would run it again, so it is dead-lettered as it failed, its record still `completed`.
    // A copy whose key another execution held did not run: it spent a receive, not one of the job's attempts.
    const attempts = info.keyHeldElsewhere ? undefined : info.jobRetry?.attempts;
    if (attempts !== undefined && info.attempt >= attempts) {
      if (!(error instanceof FlowParentError))
        return this.deadLetter(state, info, new AttemptsExhaustedError(info.attempt, attempts, error));
      if (!this.deps.idempotency) return this.deadLetter(state, info, error);
    }
    const delay = this.retryDelay(info, notBeforeSeconds);
    // SQS deletes a message at its retention, unseen and never to the DLQ: a retry that would come later is
    // dead-lettered now, with its error, so a redrive can still run it.
    const leftSeconds = this.retentionLeftSeconds(info);
    if (leftSeconds !== undefined && delay >= leftSeconds) {
      const why =
        error instanceof FlowParentError ? error : new RetentionEndsError(delay, leftSeconds, error);
      return this.deadLetter(state, info, why);
    }
    if (info.keyHeldElsewhere) await this.countHeld(info);
    await this.retryLater(state, info, error, delay);
    return false;
  }

  /** The failed record's delay before its next attempt: its backoff, or longer when the failure asks (seconds). */
  private retryDelay(info: RecordInfo, notBeforeSeconds: number): number {
    const backoff = backoffDelaySeconds(
      { ...this.config.retry, ...info.jobRetry?.backoff },
      info.attempt,
      this.deps.random,
    );
    return Math.max(notBeforeSeconds, backoff);
  }

  /** Whole seconds before SQS deletes the record's message (its queue's retention, from its send); undefined if unknown. */
  private retentionLeftSeconds(info: RecordInfo): number | undefined {
    const retentionSeconds = this.config.retentionSeconds;
    const sentMs = Number(info.record.attributes?.SentTimestamp);
    if (retentionSeconds === undefined || !(sentMs > 0)) return undefined;
    return Math.floor((sentMs + retentionSeconds * 1000 - this.deps.now()) / 1000);
  }

  /** Sends the record to the DLQ, then deletes it; true when it is safely there. */
  private async deadLetter(state: BatchState, info: RecordInfo, error: unknown): Promise<boolean> {
    const { name, message } = describeError(error);
    // A child whose parent could not be told its failure stays on its queue, and this step comes again.
    if (!(await this.failChild(state, info, error))) return false;
    const failure = {
      errorName: name,
      errorMessage: message,
      attempt: info.attempt,
      consumer: this.config.name,
      failedAtMs: this.deps.now(),
    };
    try {
      await this.deps.sqs.sendToDeadLetter(
        deadLetterMessage(info.record, failure, this.config.fifo, info.id),
      );
    } catch (sendError) {
      this.deps.logger.error('dead-letter send failed; the record stays on the queue', {
        id: info.id,
        messageId: info.record.messageId,
        error: errorText(sendError),
      });
      const reason = `${name}: ${message} (dead-letter send failed: ${describeError(sendError).message})`;
      this.logOutcome(state, info, 'retried', reason, { error });
      // Its record still says this attempt runs: the value waiting is written, and later ones are dropped.
      void info.progress?.settle();
      return false;
    }
    this.logOutcome(state, info, 'dead-lettered', `${name}: ${message}`, { error });
    // A flow's child whose parent could not be told did run: its record keeps saying `completed`.
    if (!(error instanceof FlowParentError)) await this.recordDeadLetter(info, `${name}: ${message}`);
    await this.deleteFinished(state, info);
    return true;
  }

  /**
   * A flow's child sent with `failParentOnFailure` or `ignoreDependencyOnFailure`, about to be dead-lettered: counted
   * on its parent first, then up the flow while a failed parent is itself such a child; a parent whose last pending
   * child this settled is sent. Before the dead-letter send, so that a runtime dying between the two leaves the
   * message on its queue (on its queue's last receive SQS moves it to the DLQ itself, the parent already told): its
   * next delivery fails again and finds the child counted (each count is conditional, once per child), or
   * completes, which counts it completed instead. False when a write or send failed (logged): the record is then
   * reported failed and comes back.
   */
  private async failChild(state: BatchState, info: RecordInfo, error: unknown): Promise<boolean> {
    const flows = this.deps.flows;
    if (!flows || !info.parentId || !info.parentOnFailure || error instanceof FlowParentError) return true;
    // A copy whose key another execution held did not fail the child: that execution tells the parent how it ended.
    if (info.keyHeldElsewhere) return true;
    const { name, message } = describeError(error);
    try {
      const until = this.sendUntil(state);
      let next = await flows.childFailed(
        info.parentId,
        info.id,
        { reason: `${name}: ${message}`, policy: info.parentOnFailure },
        until,
      );
      while (next && 'failed' in next) {
        const { id, reason, parent, parentOnFailure } = next.failed;
        next = await flows.childFailed(parent, id, { reason, policy: parentOnFailure }, until);
      }
      if (next) await this.sendParent(flows, next.parentId, next.send);
      return true;
    } catch (parentError) {
      const reason = `${name}: ${message} (its flow parent ${info.parentId} could not be told: ${describeError(parentError).message})`;
      this.deps.logger.error(
        'a flow parent could not be told of its child failing; the record stays on the queue',
        {
          id: info.id,
          parentId: info.parentId,
          error: errorText(parentError),
        },
      );
      this.logOutcome(state, info, 'retried', reason, { error });
      // Its record still says this attempt runs: the value waiting is written, and later ones are dropped.
      void info.progress?.settle();
      return false;
    }
  }

  /** The reason on a tracked job's record; best effort, the message itself is safely in the DLQ. */
  private async recordDeadLetter(info: RecordInfo, reason: string): Promise<void> {
    // A copy whose key another execution held never ran: the record is that execution's, which says what it did.
    if (!info.tracked || !this.deps.jobs || info.keyHeldElsewhere) return;
    // The attempt's last progress goes before its outcome, which would refuse it; only now, so that a slow write
    // never holds back the dead-letter send (at the deadline margin, that must happen before Lambda's timeout).
    await info.progress?.settle();
    try {
      await this.deps.jobs.deadLettered(info.id, reason, info.generation);
    } catch (error) {
      this.deps.logger.warn('could not record the job as dead-lettered', {
        id: info.id,
        error: errorText(error),
      });
    }
  }

  private async retryLater(
    state: BatchState,
    info: RecordInfo,
    error: unknown,
    delay: number,
  ): Promise<void> {
    const groupId = info.record.attributes?.MessageGroupId;
    if (this.config.fifo && groupId && !state.groupDelaySeconds.has(groupId)) {
      state.groupDelaySeconds.set(groupId, delay);
    }
    let retryAt: Date | undefined = new Date(this.deps.now() + delay * 1000);
    try {
      await this.deps.sqs.changeVisibility(info.record, delay);
    } catch (visibilityError) {
      retryAt = undefined;
      this.deps.logger.warn(
        'ChangeMessageVisibility failed; the record returns after the queue visibility timeout',
        { id: info.id, messageId: info.record.messageId, error: errorText(visibilityError) },
      );
    }
    this.logOutcome(state, info, 'retried', errorText(error), { error });
    // Best effort, as for a dead letter: the record says it waits to retry rather than that it runs.
    if (info.startedJob && this.deps.jobs) {
      await info.progress?.settle();
      await this.deps.jobs
        .retrying(info.id, info.attempt, errorText(error), retryAt, info.generation)
        .catch((recordError: unknown) =>
          this.deps.logger.warn('could not record the job as waiting to retry', {
            id: info.id,
            error: errorText(recordError),
          }),
        );
    }
  }

  /**
   * Deletes a finished record from its queue now rather than at the end of the batch. Only ever after the record
   * is done (processed, or safely in the DLQ), so nothing is lost; a failed delete is logged and counted, and the
   * record is still reported as done, leaving the delete to the batch response as before.
   */
  private async deleteFinished(state: BatchState, info: RecordInfo): Promise<void> {
    try {
      await this.deps.sqs.deleteMessage(info.record);
    } catch (error) {
      metricsFor(state, this.#metricType(info.typeKey)).DeleteFailed++;
      this.deps.logger.warn('DeleteMessage failed; the record is deleted with the batch response instead', {
        id: info.id,
        messageId: info.record.messageId,
        error: errorText(error),
      });
    }
  }

  /**
   * A record held back before it started: deferred, it comes back with one more receive. On its last receive SQS
   * would move it to the DLQ on the next one, without a reason: the runtime dead-letters it itself, saying why.
   * True when it is done (safely in the DLQ).
   */
  private settleNotStarted(state: BatchState, info: RecordInfo, reason: string): Promise<boolean> {
    if (info.receive < this.config.maxReceiveCount) {
      if (!this.countsHeld(info)) {
        this.logOutcome(state, info, 'deferred', reason);
        if (reason === DEADLINE_DEFERRAL) this.release(state, info.record, COUNTED);
        return NOT_DONE;
      }
      const counted = this.countHeldInTime(state, info);
      if (reason === DEADLINE_DEFERRAL) this.release(state, info.record, counted);
      // Logged once counted: the count's answer tells the job's attempt, which its line shows as its runs do.
      return counted.then(() => {
        this.logOutcome(state, info, 'deferred', reason);
        return false;
      });
    }
    try {
      adoptEnvelope(info, parseEnvelope(info.record.body));
    } catch {
      // The DLQ keeps the body as it came; the attributes the ingest set name the event.
    }
    return this.deadLetterInTime(state, info, reason);
  }

  /**
   * A record not started, on its last receive, dead-lettered within the batch's budget (a batch that never fits its
   * timeout brings all its records to their last receive at once). One whose dead letter did not start in time is
   * reported failed and deferred: SQS moves it to the DLQ on its next receive, without a reason, as before the runtime
   * sent it itself. One whose dead letter started but did not end in time is reported failed too, and its send and
   * delete land when they do.
   */
  private async deadLetterInTime(state: BatchState, info: RecordInfo, reason: string): Promise<boolean> {
    const budget = this.budgetOf(state);
    let started = false;
    const done = await budget.run(async () => {
      // Its attempt, as its dead letter's reason and outcome line say it for a job that ran. Read in a share of the
      // time left: a slow read leaves the attempt at the receive rather than holding the send past the budget (the
      // record reported failed while its dead letter still lands, and SQS moves it to the DLQ a second time).
      const attempt = await budget.briefly(this.heldAttemptOf(info), ATTEMPT_READ_SHARE);
      if (typeof attempt === 'number') info.attempt = attempt;
      started = true;
      return this.deadLetter(state, info, new NotStartedError(reason, this.config.maxReceiveCount));
    });
    if (done !== OUT_OF_TIME) return done;
    if (!started)
      this.logOutcome(
        state,
        info,
        'deferred',
        `${reason}; no time left to dead-letter it on its last receive`,
      );
    return false;
  }

  /**
   * Failed records that never started: on FIFO, those skipped after a failure in their group get the same
   * backoff as the failed one (or are released with it); the rest were stopped by the deadline, and are released.
   * Returns the failures still to report (a record dead-lettered on its last receive is done).
   */
  private async settleSkipped(
    event: SQSEvent,
    state: BatchState,
    failures: SQSBatchItemFailure[],
  ): Promise<SQSBatchItemFailure[]> {
    const failed = new Set(failures.map((f) => f.itemIdentifier));
    const stoppedGroups = new Set<string>();
    const skipped: SQSRecord[] = [];
    for (const record of event.Records) {
      if (!failed.has(record.messageId)) continue;
      if (!state.started.has(record.messageId)) skipped.push(record);
      // Only FIFO stops a group at a failure: a fair standard queue's tenant (its group id) holds nothing back.
      else if (this.config.fifo && record.attributes?.MessageGroupId)
        stoppedGroups.add(record.attributes.MessageGroupId);
    }
    if (skipped.length === 0) return failures;
    const done = await this.deferSkippedRecords(skipped, state, stoppedGroups);
    return failures.filter((f) => !done.has(f.itemIdentifier));
  }

  /** Defers records never started, each waited for within the budget; the message ids of those done. */
  private async deferSkippedRecords(
    skipped: readonly SQSRecord[],
    state: BatchState,
    stoppedGroups: ReadonlySet<string>,
  ): Promise<Set<string>> {
    if (skipped.length === 0) return new Set();
    const budget = this.budgetOf(state);
    const settled = await Promise.all(
      skipped.map(async (record) => ({
        id: record.messageId,
        done: (await budget.within(this.deferSkipped(record, state, stoppedGroups))) === true,
      })),
    );
    return new Set(settled.filter((s) => s.done).map((s) => s.id));
  }

  /** True when the skipped record is done (dead-lettered on its last receive). */
  private async deferSkipped(
    record: SQSRecord,
    state: BatchState,
    stoppedGroups: ReadonlySet<string>,
  ): Promise<boolean> {
    const info = recordInfo(record, this.deps.now());
    try {
      adoptEnvelope(info, parseEnvelope(record.body));
    } catch {
      // Only for the log line; the record itself is handled on its next delivery.
    }
    const groupId = record.attributes?.MessageGroupId ?? '';
    const delay = state.groupDelaySeconds.get(groupId);
    const reason = stoppedGroups.has(groupId)
      ? `not started: an earlier message of group ${groupId} failed`
      : DEADLINE_DEFERRAL;
    if (info.receive >= this.config.maxReceiveCount) return this.settleNotStarted(state, info, reason);
    if (delay !== undefined) {
      try {
        await this.deps.sqs.changeVisibility(record, delay);
      } catch (error) {
        this.deps.logger.warn('ChangeMessageVisibility failed for a skipped FIFO record', {
          messageId: record.messageId,
          error: describeError(error).message,
        });
      }
    }
    const counted = this.countsHeld(info) ? this.countHeldInTime(state, info) : COUNTED;
    if (delay === undefined && (!stoppedGroups.has(groupId) || state.releasedGroups.has(groupId))) {
      // Never reached before the deadline margin, or held behind a record of its group released so.
      this.release(state, record, counted);
    }
    await counted;
    this.logOutcome(state, info, 'deferred', reason);
    return false;
  }

  /**
   * A record not started for want of time, which no failure of its own delays: handed back before the batch
   * returns (`releaseNotStarted`). Not on a consumer with a rate limit: there every record waits for a slot of the
   * same limit, whose windows were full up to the deadline margin, and the visibility timeout spaces out the
   * receives it would otherwise spend waiting for them again at once (each counts towards `maxReceiveCount`).
   * Only once its held receive's write ended (`counted` true): released before, a job would come back at once to
   * read a count that leaves this receive among its attempts; it comes back after the visibility timeout instead.
   */
  private release(state: BatchState, record: SQSRecord, counted: Promise<boolean>): void {
    if (this.deps.rateLimiter) return;
    const groupId = record.attributes?.MessageGroupId;
    if (this.config.fifo && groupId) state.releasedGroups.add(groupId);
    state.handBack ??= new HandBack(this.deps.sqs, this.budgetOf(state));
    state.handBack.add(record, counted);
  }

  /** Whether a record handed back without running has a held receive to count: a job, with the dedupe table. */
  private countsHeld(info: RecordInfo): boolean {
    return this.deps.heldReceives !== undefined && info.source === JOB_SOURCE;
  }

  /**
   * A job handed back without running, counted within the batch's budget: true once its held-receive write ended,
   * written or failed; false when it did not start or end in the time left. A failed count leaves this receive
   * among the job's attempts however late the job comes back, so it may go back at once, as any record; one still
   * being written may not, or the job could read its count before this receive is in it.
   */
  private async countHeldInTime(state: BatchState, info: RecordInfo): Promise<boolean> {
    return (await this.budgetOf(state).run(() => this.countHeld(info))) !== OUT_OF_TIME;
  }

  /**
   * A job handed back without running: its receive is counted as held, so its next run keeps its attempt. Best
   * effort: a count that failed leaves the receive among its attempts, as SQS counts it. True when written.
   */
  private async countHeld(info: RecordInfo): Promise<boolean> {
    const held = this.deps.heldReceives;
    if (!held || info.source !== JOB_SOURCE) return false;
    try {
      const before =
        (await held.add(info.record.messageId, info.receive)) ?? (await heldBeforeCounted(held, info));
      // The attempt this receive would have been (a job that did not run yet has not read its count).
      if (before !== undefined) info.attempt = Math.max(1, info.receive - before);
      return true;
    } catch (error) {
      this.deps.logger.warn('could not count the held receive; it counts as an attempt', {
        id: info.id,
        messageId: info.record.messageId,
        error: errorText(error),
      });
      return false;
    }
  }

  /** A job's attempt: its receive less those it was held without running (none on its first receive). */
  private async attemptOfJob(info: RecordInfo): Promise<void> {
    const attempt = await this.heldAttemptOf(info);
    if (attempt !== undefined) info.attempt = attempt;
  }

  /** A job's attempt, read from its held receives: undefined when there is none to read, or the read failed. */
  private async heldAttemptOf(info: RecordInfo): Promise<number | undefined> {
    const held = this.deps.heldReceives;
    if (!held || info.source !== JOB_SOURCE || info.receive === 1) return undefined;
    try {
      return Math.max(1, info.receive - (await held.count(info.record.messageId, info.receive)));
    } catch (error) {
      this.deps.logger.warn('could not read the held receives; the attempt counts every receive', {
        id: info.id,
        messageId: info.record.messageId,
        error: errorText(error),
      });
      return undefined;
    }
  }

  /**
   * Counts the outcome for the batch's metrics and logs the record's one outcome line; a failed record's line
   * carries what failed (`error`, with its stack) beside the short `reason`.
   */
  private logOutcome(
    state: BatchState,
    info: RecordInfo,
    outcome: RecordOutcome,
    reason?: string,
    failure?: { readonly error: unknown },
  ): void {
    const now = this.deps.now();
    const latencyMs = Number.isFinite(info.receivedAtMs) ? Math.max(0, now - info.receivedAtMs) : undefined;
    const entry = metricsFor(state, this.#metricType(info.typeKey));
    entry[OUTCOME_COUNTER[outcome]]++;
    // One value per finished record: a deferred or retried record comes back, and adds its value when it ends,
    // so an event retried twice is not three samples of how long events take.
    if (latencyMs !== undefined && outcome !== 'deferred' && outcome !== 'retried') {
      entry.endToEndLatencyMs.push(latencyMs);
    }
    const line: Record<string, unknown> = {
      outcome,
      id: info.id,
      source: info.source,
      type: info.type,
      queue: this.config.name,
      attempt: info.attempt,
      latencyMs,
      messageId: info.record.messageId,
      // SQS's count beside a job's attempt that leaves out its held receives: `maxReceiveCount` bounds this one.
      ...(info.receive !== info.attempt ? { receive: info.receive } : {}),
      durationMs: Math.max(0, now - info.startedMs),
    };
    if (info.replayId !== undefined) line.replayId = info.replayId;
    if (info.generation !== undefined) line.generation = info.generation;
    // A duplicate that is a send replaced by a later one (a debounced job's, a flow parent's), not a redelivery.
    if (outcome === 'duplicate' && info.superseded) line.superseded = true;
    if (reason !== undefined) line.reason = reason;
    if (failure) line.error = loggedError(failure.error);
    if (outcome === 'dead-lettered' && isPermanent(failure?.error)) {
      entry[POISON_RECORD.metric]++;
      line[POISON_RECORD.outcomeField] = true;
    }
    if (info.keyHeldElsewhere && (outcome === 'retried' || outcome === 'dead-lettered')) {
      entry[KEY_HELD_RECORD.metric]++;
      line[KEY_HELD_RECORD.outcomeField] = true;
    }
    const level = this.outcomeLevel(info, outcome);
    try {
      this.deps.logger[level](CONSUMER_OUTCOME_MESSAGE, line);
    } catch (logError) {
      // An error the logger cannot format (a `cause` chain that loops back on itself overflows Powertools' stack)
      // must not cost the record its outcome: thrown from here, a record already in the DLQ would be reported
      // failed, not deleted, and dead-lettered again on every receive. Its name and message always log.
      if (!failure) throw logError;
      line.error = describeError(failure.error);
      this.deps.logger[level](CONSUMER_OUTCOME_MESSAGE, line);
    }
  }

  /**
   * The level of a record's outcome line ({@link OUTCOME_LEVEL}). A record deferred on its last receive had no time
   * left to be dead-lettered: SQS moves it to the DLQ on its next receive, where no line of ours follows, so its
   * line is the dead letter's, ERROR.
   */
  private outcomeLevel(info: RecordInfo, outcome: RecordOutcome): 'info' | 'warn' | 'error' {
    if (outcome === 'deferred' && info.receive >= this.config.maxReceiveCount) return 'error';
    return OUTCOME_LEVEL[outcome];
  }

  private publishMetrics(state: BatchState): void {
    if (state.metrics.size === 0) return;
    try {
      this.deps.metrics.publish(state.metrics);
    } catch (error) {
      this.deps.logger.warn('metrics publish failed', { error: describeError(error).message });
    }
  }
}

/**
 * The failures to report, checked against the batch: an empty, null or unknown `itemIdentifier` makes Lambda
 * fail the whole batch, so rather than emit one, this throws (which also redelivers the whole batch, but
 * visibly, with an error that says why).
 */
export function checkedFailures(
  event: SQSEvent,
  response: SQSBatchResponse | undefined,
): SQSBatchItemFailure[] {
  const reported = response?.batchItemFailures ?? [];
  if (reported.length === 0) return [];
  const known = new Set<string>();
  for (const record of event.Records) if (record.messageId) known.add(record.messageId);
  const seen = new Set<string>();
  const failures: SQSBatchItemFailure[] = [];
  for (const failure of reported) {
    const id = failure.itemIdentifier;
    if (typeof id !== 'string' || !known.has(id)) {
      throw new Error(`cannot report a failed record without a valid messageId (${JSON.stringify(id)})`);
    }
    if (!seen.has(id)) {
      seen.add(id);
      failures.push({ itemIdentifier: id });
    }
  }
  return failures;
}

/** The record's attempt number (ApproximateReceiveCount), 1 when absent or malformed. */
export function attemptOf(record: SQSRecord): number {
  const attempt = Number.parseInt(record.attributes?.ApproximateReceiveCount ?? '', 10);
  return Number.isFinite(attempt) && attempt > 0 ? attempt : 1;
}
