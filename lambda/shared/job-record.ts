/**
 * A job's record: the dedupe item `job#<id>` the producer claims (`./dedupe-store`), which also keeps the job's
 * state and, once it ran, the value its handler returned or why it was dead-lettered. The producer writes
 * `scheduled`/`queued`, the consumer `processing`, `completed` and `dead-lettered` (and, on a flow parent, the count
 * of its children and `child-failed`), `cancel` writes `cancelled`.
 */

import { randomUUID } from 'node:crypto';
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { isConditionFailure } from './condition-failure';
import { DEDUPE_TABLE, JOB_RECORD_KEY_PREFIX } from './contracts';
import type { ClaimCondition } from './dedupe-store';
import { MESSAGE_ATTRIBUTES } from './envelope';
import { MAX_INVOCATION_MS } from './invocation-deadline';
import { isParentOnFailure, type ParentOnFailure } from './job';
import { JOB_STATES, type JobState } from './job-state';
import { plural } from './plural';

const { partitionKey: PK, ttlAttribute: TTL } = DEDUPE_TABLE;

export { isJobState, JOB_STATES, type JobState } from './job-state';

/** The largest handler result kept (DynamoDB items hold 400 KB); a larger one is recorded as too large. */
export const MAX_RESULT_BYTES = 256 * 1024;

/**
 * The largest child result a flow's parent keeps in its own record (its 400 KB item holds every child's): a larger
 * one is read from the child's record when the parent runs.
 */
export const MAX_CHILD_RESULT_BYTES = 4 * 1024;

/**
 * A flow parent's message, kept in its record until its last child completes and whoever records that sends it:
 * the serialized envelope (a large payload already in the payload bucket) and what SQS needs beside it.
 */
export interface ParentMessage {
  readonly queueUrl: string;
  readonly body: string;
  readonly attributes: Readonly<Record<string, string>>;
  /** FIFO: the message group and deduplication id the job would have been sent with. */
  readonly groupId?: string;
  readonly deduplicationId?: string;
  /**
   * The send this message is, once a consumer claimed it on the parent's record (absent in the record): also in
   * its attributes, so the parent's delivery tells a send that another one replaced ({@link JobRecords.start}).
   */
  readonly sendToken?: string;
  /** The parent this message is, once claimed: a child's completion may send a parent further up its flow. */
  readonly parentId?: string;
}

/**
 * Another delivery of one of the parent's children claimed its send and has not said it was sent: this one comes
 * back, and sends it itself only once that claim lapsed (the invocation holding it ended).
 */
export class ParentSendHeldError extends Error {
  constructor(parentId: string, until: string) {
    super(`another delivery is sending flow parent ${parentId} (its claim lasts until ${until})`);
    this.name = 'ParentSendHeldError';
  }
}

/**
 * A child's completion that failed (`cause`: most often {@link ParentSendHeldError} for its own parent) after its
 * walk up the flow claimed the sends of parents further up: the caller makes those sends (`sends`), since no one else
 * will (the child's next delivery finds its walk done), then fails with `cause`.
 */
export class UnsentParentsError extends Error {
  constructor(
    readonly sends: readonly ParentMessage[],
    override readonly cause: unknown,
  ) {
    super(
      `the walk up the flow claimed ${plural(sends.length, 'parent send')} before the completion failed`,
      {
        cause,
      },
    );
    this.name = 'UnsentParentsError';
  }
}

/** A flow parent's children as its record has them. */
export interface FlowChildren {
  readonly total: number;
  /** Completed children, by id, in id order. */
  readonly completed: readonly string[];
  /** Children not completed yet (nor dead-lettered with an option that settles them), by id, in id order. */
  readonly pending: readonly string[];
  /**
   * Children sent with `failParentOnFailure` that were dead-lettered (or, themselves parents, failed so), each with
   * why: while one is here the parent is `child-failed`. Absent when none.
   */
  readonly failed?: Readonly<Record<string, string>>;
  /**
   * Children sent with `ignoreDependencyOnFailure` that were dead-lettered (or failed so), each with why: they count
   * as done, and the parent's handler reads them as `ctx.failedChildren`. Absent when none.
   */
  readonly ignored?: Readonly<Record<string, string>>;
}

/** What a flow parent's handler reads of its children: the results of those that completed, why others failed. */
export interface FlowChildOutcomes {
  /** Each completed child's result, by id (`ctx.children`). */
  readonly results: Record<string, unknown>;
  /** Each child sent with `ignoreDependencyOnFailure` that was dead-lettered: why, by id (`ctx.failedChildren`). */
  readonly failures: Record<string, string>;
}

/**
 * What counting a dead-lettered child on its parent asks of the caller: send the parent (its last pending child was
 * ignored), or tell the parent's own parent that it failed (it is `child-failed` now, and is itself a child sent
 * with one of the options).
 */
export type ChildFailureOutcome =
  | { readonly send: ParentMessage; readonly parentId: string }
  | {
      readonly failed: {
        readonly id: string;
        readonly reason: string;
        readonly parent: string;
        readonly parentOnFailure: ParentOnFailure;
      };
    };

/** How every `child-failed` parent's reason starts. */
const FLOW_CHILD_FAILED = 'FlowChildFailedError';

/**
 * A `child-failed` parent's reason: which child, what became of it (dead-lettered, or, a parent itself, failed by
 * a child of its own: its reason is then one of these), and why. One shape, so that a parent of that parent
 * (nested flows) carries the whole chain.
 */
export function flowChildFailedReason(childId: string, reason: string): string {
  const became = reason.startsWith(`${FLOW_CHILD_FAILED}: `) ? 'failed' : 'dead-lettered';
  return `${FLOW_CHILD_FAILED}: child ${childId} ${became}: ${reason}`;
}

/** What `status(id)` answers. */
export interface JobStatus {
  readonly id: string;
  readonly state: JobState;
  readonly type?: string;
  readonly queue?: string;
  /** Whom the job is for: the `tenant` it was sent with (standard queues), as the producer recorded it. */
  readonly tenant?: string;
  /** When a delayed job is due (ISO). */
  readonly dueAt?: string;
  readonly enqueuedAt?: string;
  readonly updatedAt?: string;
  /** The consumer's attempt that last started it. */
  readonly attempt?: number;
  /** The value the handler returned (JSON). */
  readonly result?: unknown;
  /**
   * What the handler last reported with `ctx.progress` (a percentage or a small JSON value), kept when a later
   * attempt starts (as BullMQ keeps it) until that attempt reports its own; `progressAt` says when it was reported.
   */
  readonly progress?: unknown;
  /** When `progress` was reported (ISO). */
  readonly progressAt?: string;
  /** Why it was dead-lettered. */
  readonly reason?: string;
  /**
   * The error of its last failed attempt while it waits to run again: `retrying` (its backoff), or `queued` after
   * a redrive (why it had been dead-lettered). Dropped when it starts again.
   */
  readonly lastError?: string;
  /** When a `retrying` job's next attempt is due (ISO); absent when the consumer could not set its backoff. */
  readonly retryAt?: string;
  /** When `hookline redrive` last sent it back to its queue from the dead-letter queue (ISO). */
  readonly redrivenAt?: string;
  /**
   * When an operator deleted it from its dead-letter queue (`hookline failed delete`, ISO): it stays
   * `dead-lettered`, with its reason, and does not run again. Dropped if it runs again (a replay). A flow child
   * that ran but could not tell its parent (`FlowParentError`) stays `completed`: its parent is never told now.
   */
  readonly discardedAt?: string;
  /** The one-time schedule that will send it (delays beyond SQS's 15 minutes). */
  readonly scheduleName?: string;
  /**
   * A debounced job (`send(..., { id, debounce })`): how many sends of this cycle its record took. Until it starts,
   * each one replaced the payload and pushed `dueAt` to its `debounce` after it; the last one runs, once.
   */
  readonly debounce?: { readonly sends: number };
  /**
   * Which enqueue of the id the record holds (absent on a record claimed before generations were kept); a
   * consumer's outcome line names the generation of the delivery it ran.
   */
  readonly generation?: string;
  /**
   * A flow parent's children (`sendFlow`): it is `waiting-children` until every one completed (or was dead-lettered
   * with `ignoreDependencyOnFailure`), `child-failed` while one dead-lettered with `failParentOnFailure` fails it.
   */
  readonly children?: FlowChildren;
  /**
   * A flow parent still waiting whose send a consumer claimed and has not said it made (ISO): until when the claim
   * lasts. After it, a child coming back sends the parent again, and a send the claim's holder did make is skipped.
   */
  readonly sendClaimedUntil?: string;
  /** The flow parent this job is a child of. */
  readonly parent?: string;
  /**
   * A flow child sent with `failParentOnFailure` (`fail`) or `ignoreDependencyOnFailure` (`ignore`): what its
   * dead-lettering does to its parent.
   */
  readonly parentOnFailure?: ParentOnFailure;
}

/**
 * What cancelling a job found in the record it changed: the state it was in, when it was due, and the one-time
 * schedule that was to send it, if it was delayed that far.
 */
export interface CancelledJob {
  /** `scheduled`, `queued`, `waiting-children` or `child-failed`: the only states a cancel changes. */
  readonly was: JobState;
  readonly dueAt?: string;
  readonly scheduleName?: string;
}

/**
 * What a cancel of a job found: `cancelled` by this call (with what its record was just before), `already-cancelled`
 * (a second cancel, or another's: nothing changed), `not-cancellable` (it started or finished: its state now), or
 * `not-found` (never sent, or its record expired).
 */
export type CancelOutcome =
  | { readonly outcome: 'cancelled'; readonly job: CancelledJob }
  | { readonly outcome: 'already-cancelled' }
  | { readonly outcome: 'not-cancellable'; readonly state: JobState }
  | { readonly outcome: 'not-found' };

/**
 * Cancels job `id` ({@link JobRecords.cancel}) and, when the record refused, reads it again to say why: a job
 * cancelled before is answered as such, since asking for what is already so is no failure, and a job that started,
 * finished or expired since it was last seen by its state now. The producer's `cancel` and `hookline jobs cancel`
 * both answer from this, each in its own words.
 */
export async function cancelOrSayWhy(
  records: Pick<JobRecords, 'cancel' | 'read'>,
  id: string,
): Promise<CancelOutcome> {
  const cancelled = await records.cancel(id);
  if (cancelled) return { outcome: 'cancelled', job: cancelled };
  const now = await records.read(id);
  if (!now) return { outcome: 'not-found' };
  if (now.state === 'cancelled') return { outcome: 'already-cancelled' };
  return { outcome: 'not-cancellable', state: now.state };
}

/** The record's key in the dedupe table. */
export function jobRecordKey(id: string): string {
  return `${JOB_RECORD_KEY_PREFIX}${id}`;
}

/** The state a job is recorded in when it is enqueued: `scheduled` when delayed, else `queued`. */
export function enqueuedState(dueAt: unknown): JobState {
  return dueAt ? 'scheduled' : 'queued';
}

/** The fields the producer writes when it completes its claim. */
export function enqueuedJobFields(job: {
  readonly type: string;
  readonly queue: string;
  readonly enqueuedAt: Date;
  readonly dueAt?: Date;
  readonly scheduleName?: string;
  readonly tenant?: string;
  /** A debounced job's first send of a cycle: the send its record names, the one that runs unless another follows. */
  readonly debounceSend?: string;
}): Record<string, AttributeValue> {
  return {
    state: { S: enqueuedState(job.dueAt) },
    type: { S: job.type },
    queue: { S: job.queue },
    enqueuedAt: { S: job.enqueuedAt.toISOString() },
    updatedAt: { S: job.enqueuedAt.toISOString() },
    ...(job.dueAt ? { dueAt: { S: job.dueAt.toISOString() } } : {}),
    ...(job.scheduleName ? { scheduleName: { S: job.scheduleName } } : {}),
    ...(job.tenant !== undefined ? { tenant: { S: job.tenant } } : {}),
    ...(job.debounceSend !== undefined
      ? { debounceSend: { S: job.debounceSend }, debounceSends: { N: '1' } }
      : {}),
  };
}

/**
 * A debounced job's record that starts a new cycle when its id is sent again: one that started (or ended, or was
 * cancelled) since the sends it took. The claim then replaces it, as it replaces an expired record: a new
 * generation, whose run takes the sends from then on. A record still waiting to start takes them instead
 * ({@link JobRecords.debounced}), and a record of a job sent without `debounce` answers them as duplicates.
 * Whatever its claim says: a first send whose record write failed leaves its claim pending, and a takeover of
 * that claim would continue the enqueue whose job started, naming the send that ran, so this send's message would
 * be skipped as superseded.
 */
export const DEBOUNCE_CYCLE_ENDED: ClaimCondition = {
  expression:
    'attribute_exists(debounceSend) AND #debounceState IN (:debounceProcessing, :debounceCompleted, :debounceDead, :debounceCancelled)',
  names: { '#debounceState': 'state' },
  values: {
    ':debounceProcessing': { S: 'processing' },
    ':debounceCompleted': { S: 'completed' },
    ':debounceDead': { S: 'dead-lettered' },
    ':debounceCancelled': { S: 'cancelled' },
  },
};

/** One more send of a debounced job that has not started: the message it sent and when that one is due. */
export interface DebouncedSend {
  /** The enqueue the record holds, which the message carries. */
  readonly generation: string;
  /** The send, as its message's envelope names it. */
  readonly send: string;
  /** When its message is due; none when it is sent due at once (its `maxWait` passed): the record is then `queued`. */
  readonly dueAt?: Date;
  /**
   * The record's new expiry (epoch seconds): the longest SQS keeps its message (or the dedupe window, when longer)
   * from its new due time. @default - unchanged
   */
  readonly expiresAt?: number;
  /** The one-time schedule that sends it (beyond 15 minutes). */
  readonly scheduleName?: string;
  /**
   * The schedule of the send the record named when this send read it: the one a repeat of this send's write
   * answers replaced, when the first write landed but its answer was lost (the record no longer holds it).
   * @default - none: a repeat deletes no schedule
   */
  readonly replaces?: string;
  /**
   * How many sends the record had taken when this send read it: the write is refused, answering what was taken
   * since ({@link DebouncedWrite}), when another send's write came after that read.
   * @default - the write takes this send whatever the record took since
   */
  readonly after?: number;
}

/**
 * What a debounced send's write did: took the send (the schedule of the send it replaced, for the caller to
 * delete); found another send of the same enqueue taken since the send's read, the job still waiting (`takenSince`:
 * how many sends the record has taken, and the schedule and due time of the one it names); or, undefined, found the
 * job started, ended or replaced by a later cycle.
 */
export type DebouncedWrite =
  | { readonly replacedSchedule?: string }
  | {
      readonly takenSince: {
        readonly sends: number;
        readonly scheduleName?: string;
        /** When the send the record names is due (ISO 8601); none when it was sent due at once. */
        readonly dueAt?: string;
      };
    }
  | undefined;

/** The schedule a debounced send's write replaced, for its caller to delete: never the send's own. */
function replacedScheduleOf(
  replaced: string | undefined,
  send: DebouncedSend,
): { readonly replacedSchedule?: string } {
  return replaced !== undefined && replaced !== send.scheduleName ? { replacedSchedule: replaced } : {};
}

/**
 * What a refused debounced write found: the record naming this very send in its enqueue (its write landed,
 * whatever happened since: the job that started is this send's; each send has a token of its own, so no other
 * send's write leaves this), another send taken since this one's read while the job still waits, or neither.
 */
function refusedDebouncedWrite(
  record: Record<string, AttributeValue> | undefined,
  send: DebouncedSend,
): DebouncedWrite {
  if (record?.generation?.S !== send.generation || record.debounceSend?.S === undefined) return undefined;
  if (record.debounceSend.S === send.send) return replacedScheduleOf(send.replaces, send);
  const waiting = record.state?.S === 'scheduled' || record.state?.S === 'queued';
  if (record.status?.S !== 'queued' || !waiting) return undefined;
  const scheduleName = record.scheduleName?.S;
  const dueAt = record.dueAt?.S;
  return {
    takenSince: {
      sends: Number(record.debounceSends?.N ?? 1),
      ...(scheduleName === undefined ? {} : { scheduleName }),
      ...(dueAt === undefined ? {} : { dueAt }),
    },
  };
}

/**
 * The condition that a debounced job's record took `after` sends (none for no `after`); a record written before
 * sends were counted has taken its first.
 */
function debouncedSendsTaken(after: number | undefined): {
  readonly condition: string;
  readonly values: Record<string, AttributeValue>;
} {
  if (after === undefined) return { condition: '', values: {} };
  const counted = 'debounceSends = :after';
  return {
    condition: ` AND ${after === 1 ? `(attribute_not_exists(debounceSends) OR ${counted})` : counted}`,
    values: { ':after': { N: String(after) } },
  };
}

/**
 * What a debounced job's record takes of one more send (`JobRecords.debounced`): the send it names, its state and due
 * time (none, and `queued`, for a send due at once), its expiry and schedule, and one more send counted.
 */
function debouncedSendUpdate(send: DebouncedSend, now: Date) {
  const set = [
    'debounceSend = :send',
    '#state = :state',
    'updatedAt = :now',
    ...(send.dueAt === undefined ? [] : ['dueAt = :dueAt']),
    ...(send.expiresAt === undefined ? [] : ['#expiresAt = :expiresAt']),
    ...(send.scheduleName === undefined ? [] : ['scheduleName = :scheduleName']),
  ];
  const remove = [
    ...(send.dueAt === undefined ? ['dueAt'] : []),
    ...(send.scheduleName === undefined ? ['scheduleName'] : []),
  ];
  return {
    UpdateExpression: `SET ${set.join(', ')} ADD debounceSends :one${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`,
    ExpressionAttributeNames: {
      '#state': 'state',
      ...(send.expiresAt === undefined ? {} : { '#expiresAt': TTL }),
    },
    ExpressionAttributeValues: {
      ':send': { S: send.send },
      ':state': { S: enqueuedState(send.dueAt) },
      ':now': { S: now.toISOString() },
      ':one': { N: '1' },
      ...(send.dueAt === undefined ? {} : { ':dueAt': { S: send.dueAt.toISOString() } }),
      ...(send.expiresAt === undefined ? {} : { ':expiresAt': { N: String(send.expiresAt) } }),
      ...(send.scheduleName === undefined ? {} : { ':scheduleName': { S: send.scheduleName } }),
    } satisfies Record<string, AttributeValue>,
  };
}

/**
 * The fields of a flow parent's record, written instead of sending it: `waiting-children`, its children's ids and
 * the message its last child's completion sends.
 */
export function waitingParentFields(
  job: { readonly type: string; readonly queue: string; readonly tenant?: string },
  childIds: readonly string[],
  message: ParentMessage,
  enqueuedAt: Date,
): Record<string, AttributeValue> {
  return {
    ...enqueuedJobFields({ type: job.type, queue: job.queue, tenant: job.tenant, enqueuedAt }),
    state: { S: 'waiting-children' },
    childIds: { SS: [...new Set(childIds)] },
    childResults: { M: {} },
    childFailures: { M: {} },
    parentMessage: { S: JSON.stringify(message) },
  };
}

/** A flow's children as a parent's record holds them; undefined for a job that is no parent. */
function flowChildrenOf(item: Record<string, AttributeValue>): FlowChildren | undefined {
  const ids = item.childIds?.SS;
  if (!ids) return undefined;
  const done = new Set(item.childrenDone?.SS ?? []);
  const failed = item.childrenFailed?.SS ?? [];
  const ignored = item.childrenIgnored?.SS ?? [];
  const settled = new Set([...done, ...failed, ...ignored]);
  const sorted = [...ids].sort();
  return {
    total: ids.length,
    completed: sorted.filter((id) => done.has(id)),
    pending: sorted.filter((id) => !settled.has(id)),
    ...(failed.length > 0 ? { failed: failuresOf(item, failed) } : {}),
    ...(ignored.length > 0 ? { ignored: failuresOf(item, ignored) } : {}),
  };
}

/** The reasons a parent's record keeps for some of its children, by id, in id order. */
function failuresOf(item: Record<string, AttributeValue>, ids: readonly string[]): Record<string, string> {
  const reasons = item.childFailures?.M ?? {};
  return Object.fromEntries([...ids].sort().map((id) => [id, reasons[id]?.S ?? 'no reason recorded']));
}

/**
 * A stored state as a reader should see it: a delayed job is `scheduled` until due, then `queued` (its message
 * is on the queue, or the schedule is sending it); a `processing` job whose last attempt failed is `retrying`.
 */
function effectiveState(
  stored: JobState,
  dueAt: string | undefined,
  lastError: string | undefined,
  nowMs: number,
): JobState {
  if (stored === 'processing' && lastError !== undefined) return 'retrying';
  if (stored !== 'scheduled' && stored !== 'queued') return stored;
  if (dueAt === undefined) return stored;
  return Date.parse(dueAt) > nowMs ? 'scheduled' : 'queued';
}

/**
 * Whether a record's window has passed, as the dedupe store reads it (its TTL before the current second): DynamoDB
 * deletes such an item days later, dynalite never, and a send of its id is already a new job meanwhile.
 */
function expired(item: Record<string, AttributeValue>, nowMs: number): boolean {
  const expiresAt = Number(item[TTL]?.N);
  return Number.isFinite(expiresAt) && expiresAt < Math.floor(nowMs / 1000);
}

/**
 * A stored item as a {@link JobStatus}; undefined for an item that is no job record, still pending, or expired (no
 * longer the job's record, though not deleted yet).
 */
export function jobStatusOf(item: Record<string, AttributeValue>, nowMs: number): JobStatus | undefined {
  const key = item[PK]?.S;
  const stored = item.state?.S as JobState | undefined;
  if (!key?.startsWith(JOB_RECORD_KEY_PREFIX) || !stored || !JOB_STATES.includes(stored)) return undefined;
  if (expired(item, nowMs)) return undefined;
  const text = (name: string) => item[name]?.S;
  const result = text('result');
  const progress = text('progress');
  const children = flowChildrenOf(item);
  const parentOnFailure = text('parentOnFailure');
  return {
    id: key.slice(JOB_RECORD_KEY_PREFIX.length),
    state: effectiveState(stored, text('dueAt'), text('lastError'), nowMs),
    ...optional('type', text('type')),
    ...optional('queue', text('queue')),
    ...optional('tenant', text('tenant')),
    ...optional('dueAt', text('dueAt')),
    ...optional('enqueuedAt', text('enqueuedAt')),
    ...optional('updatedAt', text('updatedAt')),
    ...optional('scheduleName', text('scheduleName')),
    ...optional('reason', text('reason')),
    ...optional('lastError', text('lastError')),
    ...optional('retryAt', text('retryAt')),
    ...optional('redrivenAt', text('redrivenAt')),
    ...optional('discardedAt', text('discardedAt')),
    ...optional('generation', text('generation')),
    ...(item.debounceSend?.S ? { debounce: { sends: Number(item.debounceSends?.N ?? 1) } } : {}),
    ...(item.attempt?.N ? { attempt: Number(item.attempt.N) } : {}),
    ...(result !== undefined ? { result: JSON.parse(result) } : {}),
    ...(progress !== undefined ? { progress: JSON.parse(progress) } : {}),
    ...optional('progressAt', text('progressAt')),
    ...(children ? { children } : {}),
    // A claim outlives its holder's runtime, which may die after the send ran the parent: pending only while it waits.
    ...(stored === 'waiting-children' ? optional('sendClaimedUntil', text('parentSendUntil')) : {}),
    ...optional('parent', text('parent')),
    ...(isParentOnFailure(parentOnFailure) ? { parentOnFailure } : {}),
  };
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}

/** `update` of whatever enqueue the record holds now (a cancel names the id, not one of its enqueues). */
const ANY_ENQUEUE = Symbol('any enqueue');

/**
 * Whether a record is that of the enqueue a delivery carries `generation` of. A record without a generation was
 * claimed before generations were kept (a takeover keeps it without), and is the record of every delivery of
 * its key; a delivery without one was sent then, and is only that record's: a record with a generation belongs
 * to a later enqueue.
 */
function isSameEnqueue(item: Record<string, AttributeValue>, generation: string | undefined): boolean {
  const recorded = item.generation?.S;
  return recorded === undefined || recorded === generation;
}

/**
 * Why a delivery's start was refused, from its record as it is now: `untracked` (no record of its enqueue: it runs,
 * and leaves the record alone), `cancelled`, or `superseded` (a later send runs instead: a flow parent's later
 * claim of its send, or a debounced job's later send or cycle).
 */
function startRefusal(
  item: Record<string, AttributeValue> | undefined,
  generation: string | undefined,
  sendToken: string | undefined,
  debounceSend: string | undefined,
): 'cancelled' | 'untracked' | 'superseded' {
  if (!item) return 'untracked';
  if (!isSameEnqueue(item, generation)) return debounceSend === undefined ? 'untracked' : 'superseded';
  if (item.state?.S === 'cancelled') return 'cancelled';
  if (debounceSend !== undefined && item.debounceSend?.S !== debounceSend) return 'superseded';
  const claimed = item.parentSendToken?.S;
  return sendToken !== undefined && claimed !== undefined && claimed !== sendToken
    ? 'superseded'
    : 'untracked';
}

/**
 * Whether a debounced job's record replaced the send a delivery carries (its enqueue's `generation`, its
 * `debounceSend`): a later cycle claimed the id, or the record names another send of its cycle. Its consumer skips
 * such a delivery as `superseded` ({@link JobRecords.start}), also once it is redriven from its dead-letter queue; a
 * cancelled job's is `cancelled` instead, and a record that names no send yet runs it.
 */
export function replacesDebouncedSend(
  item: Record<string, AttributeValue>,
  generation: string | undefined,
  debounceSend: string,
): boolean {
  if (!isSameEnqueue(item, generation)) return true;
  if (item.state?.S === 'cancelled') return false;
  const named = item.debounceSend?.S;
  return named !== undefined && named !== debounceSend;
}

/**
 * The condition, for a write of a debounced delivery's (`debounceSend`), that its record still names that send (or
 * names none yet), which {@link replacesDebouncedSend} reads: carried by the write itself, so a later send that
 * replaced it after a read is never written over. Nothing for a delivery that is not debounced.
 */
function stillNamesDebouncedSend(debounceSend: string | undefined): {
  readonly condition: string;
  readonly values: Record<string, AttributeValue>;
} {
  if (debounceSend === undefined) return { condition: '', values: {} };
  const { expression, values } = namesNoOtherDebouncedSend(debounceSend);
  return { condition: ` AND (${expression})`, values };
}

/**
 * The condition that a debounced job's record names `debounceSend` or no send yet, as a condition of its own (the
 * producer's claim complete carries it): a consumer that started the cycle's first send before the complete
 * landed made the record name that send, and a complete naming another would be kept out by it (the complete
 * writes only fields the record lacks), its send skipped as superseded. Refused, the send starts a new cycle.
 */
export function namesNoOtherDebouncedSend(debounceSend: string): ClaimCondition {
  return {
    expression: 'attribute_not_exists(debounceSend) OR debounceSend = :debounceSend',
    names: {},
    values: { ':debounceSend': { S: debounceSend } },
  };
}

/** What a job waiting to run again keeps, gone once it starts or ends. */
const WAITING_FIELDS = ['lastError', 'retryAt'] as const;

/** An error as a record keeps it: cut to 4,000 characters. */
const reasonText = (reason: string) => reason.slice(0, 4000);

/** Job records on one table. */
export class JobRecords {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
    /**
     * How long the job's dead-letter queue keeps a message: a dead-lettered job's record lives at least that
     * long from then, so `jobs show` finds it as long as `failed list` does (the dedupe window alone may be
     * shorter). Unset: the record keeps the expiry its claim gave it.
     */
    private readonly deadLetterRetentionSeconds?: number,
  ) {}

  async read(id: string): Promise<JobStatus | undefined> {
    const item = await this.readItem(id);
    return item ? jobStatusOf(item, this.now()) : undefined;
  }

  /**
   * Whether job `id`'s record replaced a debounced delivery's send ({@link replacesDebouncedSend}), so its consumer
   * skips it as `superseded`; false when there is no record (the delivery then runs, untracked).
   */
  async replacedDebouncedSend(
    id: string,
    generation: string | undefined,
    debounceSend: string,
  ): Promise<boolean> {
    const item = await this.readItem(id);
    return item !== undefined && replacesDebouncedSend(item, generation, debounceSend);
  }

  /**
   * Whether a debounced send's message still runs, or ran, as job `id`'s record stands: one of its enqueue, not
   * cancelled, naming that send, or naming none while its claim is pending (the first message of the enqueue to
   * start then runs); or no record (it runs untracked). A record a send without `debounce` completed names none and
   * holds the id for that job. The producer asks it when its claim complete was refused, its message already out.
   */
  async runsDebouncedSend(
    id: string,
    generation: string | undefined,
    debounceSend: string,
  ): Promise<boolean> {
    const item = await this.readItem(id);
    if (item === undefined) return true;
    if (item.state?.S === 'cancelled' || replacesDebouncedSend(item, generation, debounceSend)) return false;
    return item.debounceSend?.S !== undefined || item.status?.S === 'pending';
  }

  /**
   * Marks the job processing unless it was cancelled: `run`, `cancelled`, or `untracked` when there is no
   * record of this enqueue (it expired, was never written, or the id was sent again since: `generation` names
   * the enqueue the delivery belongs to, and a delivery without one was sent before generations were kept, so
   * only a record without one is its), in which case the job runs and the record is left to its own enqueue.
   * A flow parent's delivery carries the send it is (`sendToken`): `superseded` when the record names another, a
   * send claimed after this one's sender ended without saying it was sent, which is the one that runs. So does a
   * debounced job's (`debounceSend`): `superseded` when its record names a later send, or a later cycle replaced
   * the record (that cycle's run takes this one's place, also for a run that failed and would retry).
   */
  async start(
    id: string,
    attempt: number,
    generation?: string,
    sendToken?: string,
    debounceSend?: string,
  ): Promise<'run' | 'cancelled' | 'untracked' | 'superseded'> {
    try {
      // A dead-lettered job redriven or replayed runs again: why it failed then is not why it is processing now.
      // A debounced delivery whose record names no send yet is its cycle's first, delivered before its sender's
      // record write landed (or after that write failed): it runs, and its record names it from now on, so that the
      // write, which keeps what a consumer wrote, never names another send of this cycle to run again.
      const debounced = stillNamesDebouncedSend(debounceSend);
      await this.update(
        id,
        'processing',
        {
          attempt: { N: String(attempt) },
          ...(debounceSend === undefined ? {} : { debounceSend: { S: debounceSend } }),
        },
        generation,
        `AND #state <> :cancelled${sendToken === undefined ? '' : ' AND (attribute_not_exists(parentSendToken) OR parentSendToken = :sendToken)'}${debounced.condition}`,
        {
          ':cancelled': { S: 'cancelled' },
          ...(sendToken === undefined ? {} : { ':sendToken': { S: sendToken } }),
          ...debounced.values,
        },
        undefined,
        ['reason', 'discardedAt', ...WAITING_FIELDS],
      );
      return 'run';
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    return startRefusal(await this.readItem(id), generation, sendToken, debounceSend);
  }

  /**
   * Takes one more send of a debounced job that has not started: its record names `send.send` (the message just
   * sent), is due at its due time (`queued`, without one, when it was sent due at once), and counts it. One
   * conditional write, only while the record is of the same enqueue, claimed, debounced and `scheduled` or
   * `queued`, names another send and, given `send.after`, has taken no send since this send read it. A repeat of a
   * write that landed (the SDK or the caller retrying after its answer was lost) finds the record naming this very
   * send: the same answer, from `send.replaces`, and the send counted once. See {@link DebouncedWrite}.
   */
  async debounced(id: string, send: DebouncedSend): Promise<DebouncedWrite> {
    const update = debouncedSendUpdate(send, new Date(this.now()));
    const after = debouncedSendsTaken(send.after);
    try {
      const { Attributes: before } = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { [PK]: { S: jobRecordKey(id) } },
          ConditionExpression: `attribute_exists(debounceSend) AND debounceSend <> :send AND #claim = :queued AND #generation = :generation AND #state IN (:scheduled, :queued)${after.condition}`,
          ...update,
          ExpressionAttributeNames: {
            ...update.ExpressionAttributeNames,
            '#claim': 'status',
            '#generation': 'generation',
          },
          ExpressionAttributeValues: {
            ...update.ExpressionAttributeValues,
            ':scheduled': { S: 'scheduled' },
            ':queued': { S: 'queued' },
            ':generation': { S: send.generation },
            ...after.values,
          },
          ReturnValues: 'ALL_OLD',
          // The record a refused write found, at no read: this send's own write landed already, or another's.
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return replacedScheduleOf(before?.scheduleName?.S, send);
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const found = (error as { Item?: Record<string, AttributeValue> }).Item;
      return refusedDebouncedWrite(
        found && Object.keys(found).length > 0 ? found : await this.readItem(id),
        send,
      );
    }
  }

  /**
   * Records the handler's result (JSON; too large a result is recorded as such). When that write fails, the job
   * is recorded completed without its result, saying why, rather than left `processing` for good (the handler
   * ran, and is not run again for a status): the item may not take the result (DynamoDB's 400 KB holds the
   * record's other fields too), and a smaller write is one more try after a fault. Only while the record still
   * says `processing`, so a first write that landed although its answer was lost keeps the result.
   */
  async complete(id: string, result: unknown, generation?: string): Promise<void> {
    const fields = resultFields(result);
    // The record is this run's: a reason or result an earlier run of the job left (it failed, or returned
    // something else) would pass for this one's.
    const stale = ['result', 'reason'].filter((name) => !(name in fields));
    try {
      await this.updateIfPresent(id, 'completed', fields, generation, [...stale, ...WAITING_FIELDS]);
    } catch (error) {
      if (!('result' in fields)) throw error;
      const why = (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).split(
        '\n',
        1,
      )[0];
      try {
        await this.update(
          id,
          'completed',
          { reason: { S: reasonText(`result not kept: could not write it (${why})`) } },
          generation,
          'AND #state = :processing',
          { ':processing': { S: 'processing' } },
          undefined,
          ['result', ...WAITING_FIELDS],
        );
      } catch (fallbackError) {
        if (!isConditionFailure(fallbackError)) throw error;
      }
    }
  }

  /**
   * Records why the job was dead-lettered, and keeps the record for as long as its dead-letter queue keeps the
   * message (never shortening a longer expiry), so the id stays claimed meanwhile: sending it again answers
   * `duplicate` with this state until the message is redriven and runs, or its retention ends.
   */
  async deadLettered(id: string, reason: string, generation?: string): Promise<void> {
    await this.updateIfPresent(
      id,
      'dead-lettered',
      { reason: { S: reasonText(reason) } },
      generation,
      WAITING_FIELDS,
    );
    if (this.deadLetterRetentionSeconds !== undefined) await this.keepUntil(id, generation);
  }

  /** Extends the record's expiry to the dead-letter retention from now, unless it already lasts longer. */
  private async keepUntil(id: string, generation: string | undefined): Promise<void> {
    const until = Math.floor(this.now() / 1000) + (this.deadLetterRetentionSeconds ?? 0);
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { [PK]: { S: jobRecordKey(id) } },
          UpdateExpression: 'SET #expiresAt = :until',
          ConditionExpression: `attribute_exists(${PK}) AND ${generation === undefined ? 'attribute_not_exists(#generation)' : '(attribute_not_exists(#generation) OR #generation = :generation)'} AND (attribute_not_exists(#expiresAt) OR #expiresAt < :until)`,
          ExpressionAttributeNames: { '#expiresAt': TTL, '#generation': 'generation' },
          ExpressionAttributeValues: {
            ':until': { N: String(until) },
            ...(generation === undefined ? {} : { ':generation': { S: generation } }),
          },
        }),
      );
    } catch (error) {
      // No record of this enqueue, or one that already outlives the dead letter: nothing to extend.
      if (!isConditionFailure(error)) throw error;
    }
  }

  /**
   * Records that attempt `attempt` failed and the job waits out its backoff until `retryAt` (unknown when the
   * consumer could not set it): it reads `retrying`. Only while that attempt is the one the record says runs, so
   * a next attempt that started meanwhile is never shown waiting.
   */
  async retrying(
    id: string,
    attempt: number,
    error: string,
    retryAt: Date | undefined,
    generation?: string,
  ): Promise<void> {
    try {
      await this.update(
        id,
        'processing',
        {
          lastError: { S: reasonText(error) },
          ...(retryAt ? { retryAt: { S: retryAt.toISOString() } } : {}),
        },
        generation,
        'AND #state = :processing AND attempt = :attempt',
        { ':processing': { S: 'processing' }, ':attempt': { N: String(attempt) } },
        undefined,
        retryAt ? [] : ['retryAt'],
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  /**
   * Records what attempt `attempt` reported with `ctx.progress` (JSON) at `at`. Only while the record says that
   * very attempt runs (`processing`, no failure recorded for it): a late write from an attempt that timed out or
   * ended must not overwrite what a later attempt, or the job's outcome, recorded. Leaves `updatedAt` alone, which
   * says when the state last changed. False when the record no longer belongs to the attempt.
   */
  async progress(id: string, attempt: number, json: string, at: Date, generation?: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { [PK]: { S: jobRecordKey(id) } },
          UpdateExpression: 'SET progress = :progress, progressAt = :at',
          ConditionExpression: `attribute_exists(${PK}) AND ${generation === undefined ? 'attribute_not_exists(#generation)' : '(attribute_not_exists(#generation) OR #generation = :generation)'} AND #state = :processing AND attempt = :attempt AND attribute_not_exists(lastError)`,
          ExpressionAttributeNames: { '#state': 'state', '#generation': 'generation' },
          ExpressionAttributeValues: {
            ':progress': { S: json },
            ':at': { S: at.toISOString() },
            ':processing': { S: 'processing' },
            ':attempt': { N: String(attempt) },
            ...(generation === undefined ? {} : { ':generation': { S: generation } }),
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /**
   * Records that a redrive sent the job back to its queue from the dead-letter queue at `sentAt` (the redrive's
   * clock, shown as `redrivenAt`): `queued` again, its failure (`reason`, the dead letter's) kept as `lastError` until
   * it starts. Only a job the record says is dead-lettered, or still processing (its last attempt ended without
   * recording it), and unchanged since the redrive read it just before its send (`seen`: its `updatedAt` then,
   * absent for a record that had none): the redriven delivery may already have started, or even failed again, and
   * the record then tells that. The record's own timestamp against itself, never the redrive's clock against the
   * consumer's, which may disagree by minutes. True when it was marked.
   */
  async redriven(
    id: string,
    reason: string,
    sentAt: Date,
    generation: string | undefined,
    seen: { readonly updatedAt?: string },
  ): Promise<boolean> {
    try {
      await this.update(
        id,
        'queued',
        { redrivenAt: { S: sentAt.toISOString() }, lastError: { S: reasonText(reason) } },
        generation,
        `AND #state IN (:dead, :processing) AND ${seen.updatedAt === undefined ? 'attribute_not_exists(updatedAt)' : 'updatedAt = :seen'}`,
        {
          ':dead': { S: 'dead-lettered' },
          ':processing': { S: 'processing' },
          ...(seen.updatedAt === undefined ? {} : { ':seen': { S: seen.updatedAt } }),
        },
        undefined,
        ['reason', 'retryAt'],
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /**
   * Records that an operator deleted the job's dead letter at `at` (`hookline failed delete`): `dead-lettered`,
   * with `discardedAt`, its reason kept. A record that still says `processing` (SQS moved the message after an
   * attempt that recorded nothing) takes `reason`, the dead letter's. Only a job the record says is dead-lettered
   * or processing: one that runs again from another copy, or finished, is left as it is. A debounced job's letter
   * (`debounceSend`, the send it carries) marks only a record that still names that send: one a later send replaced
   * tells of that send, which may be running. True when it was marked.
   */
  async discarded(
    id: string,
    reason: string,
    at: Date,
    generation?: string,
    debounceSend?: string,
  ): Promise<boolean> {
    const discardedAt = { discardedAt: { S: at.toISOString() } };
    const debounced = stillNamesDebouncedSend(debounceSend);
    for (const [state, fields] of [
      ['dead-lettered', discardedAt],
      ['processing', { ...discardedAt, reason: { S: reasonText(reason) } }],
    ] as const) {
      try {
        await this.update(
          id,
          'dead-lettered',
          fields,
          generation,
          `AND #state = :was${debounced.condition}`,
          { ':was': { S: state }, ...debounced.values },
          undefined,
          WAITING_FIELDS,
        );
        return true;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    }
    return false;
  }

  /**
   * Records that an operator deleted, at `at`, the dead letter of a flow child that ran but could not tell its
   * parent (`FlowParentError`): the record keeps `completed` and its `updatedAt` (the child did complete, then) and
   * takes `discardedAt`, so what `jobs show` says of the child and of its parent tells that nothing will tell the
   * parent now. Only a completed child of a flow, of this enqueue (and, for a debounced letter, of its send, as
   * {@link discarded} marks). True when it was marked.
   */
  async discardedUntoldChild(
    id: string,
    at: Date,
    generation?: string,
    debounceSend?: string,
  ): Promise<boolean> {
    const debounced = stillNamesDebouncedSend(debounceSend);
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { [PK]: { S: jobRecordKey(id) } },
          UpdateExpression: 'SET discardedAt = :at',
          ConditionExpression: `attribute_exists(${PK}) AND ${generation === undefined ? 'attribute_not_exists(#generation)' : '(attribute_not_exists(#generation) OR #generation = :generation)'} AND #state = :completed AND attribute_exists(parent)${debounced.condition}`,
          ExpressionAttributeNames: { '#state': 'state', '#generation': 'generation' },
          ExpressionAttributeValues: {
            ':at': { S: at.toISOString() },
            ':completed': { S: 'completed' },
            ...(generation === undefined ? {} : { ':generation': { S: generation } }),
            ...debounced.values,
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /**
   * Cancels a job that has not started: the record as it was just before (so the caller deletes the schedule of
   * the enqueue it cancelled, and reports the state it changed, not those of a record it read earlier), or
   * undefined when it already started, finished or does not exist.
   */
  async cancel(id: string): Promise<CancelledJob | undefined> {
    try {
      const { Attributes: before } = await this.update(
        id,
        'cancelled',
        {},
        ANY_ENQUEUE,
        'AND #state IN (:scheduled, :queued, :waiting, :childFailed)',
        {
          ':scheduled': { S: 'scheduled' },
          ':queued': { S: 'queued' },
          ':waiting': { S: 'waiting-children' },
          ':childFailed': { S: 'child-failed' },
        },
        'ALL_OLD',
      );
      const text = (name: string) => before?.[name]?.S;
      const was = effectiveState(text('state') as JobState, text('dueAt'), text('lastError'), this.now());
      return { was, ...optional('dueAt', text('dueAt')), ...optional('scheduleName', text('scheduleName')) };
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  /**
   * Records on a flow parent that one of its children completed, with the child's result (up to
   * {@link MAX_CHILD_RESULT_BYTES}; a larger one, or none, is read from the child's record when the parent runs).
   * One conditional write, idempotent per child: only while the parent waits (or is cancelled, or `child-failed`)
   * and has not counted this child completed. A child counted dead-lettered before (a redrive ran it again) is
   * counted completed instead; when it was the last child that failed its parent, the parent waits again (and is
   * sent if every child is now done, by the one completion whose write made it wait again). Resolves with the messages
   * of the parents to send, each claimed for the caller until `sendUntil` ({@link claimSend}), which the caller sends
   * and then marks with {@link parentSent}: the parent's, when every child is settled and it still waits, and any
   * further up that the walk up the flow settled (see {@link failedAgainMeanwhile}); none, most often. Failing after
   * the walk claimed sends (another delivery holding the parent's own send, most often), it rejects with an
   * {@link UnsentParentsError} that carries them, since the child's next delivery finds the walk done. A repeat for a child already counted (its delivery came again, the
   * runtime having died between this write and the send, or before marking it sent) checks again, so the parent is
   * sent then, once the earlier claim lapsed; it is never sent while cancelled or once it left `waiting-children`,
   * and a send that a later claim replaced is skipped when delivered ({@link start}).
   */
  async childCompleted(
    parentId: string,
    childId: string,
    result: unknown,
    sendUntil?: Date,
  ): Promise<readonly ParentMessage[]> {
    const json = childResultJson(result);
    const item = await this.countChild(parentId, childId, 'childrenDone', {
      update:
        'ADD childrenDone :child DELETE childrenFailed :child, childrenIgnored :child SET childResults.#child = :result, updatedAt = :now',
      // Counted on a cancelled parent too, so its record says which children completed; only a waiting
      // parent is sent (`parentMessageOf`).
      condition: `#state IN (:waiting, :cancelled, :childFailed) AND contains(childIds, :id) AND NOT contains(childrenDone, :id)`,
      values: { ':result': json === undefined ? { NULL: true } : { S: json } },
    });
    if (!item) return [];
    const walk: FlowWalk = { sendUntil, sends: [] };
    try {
      const after = await this.afterFailedChildLeft(parentId, childId, item, walk);
      const message = after ? parentMessageOf(after) : undefined;
      const own = message ? await this.claimSend(parentId, message, sendUntil) : undefined;
      // Each claimed send is the caller's to make: one left out is never made, its claim held by no one who sends.
      return own ? [own, ...walk.sends] : walk.sends;
    } catch (error) {
      // Also when the own parent's send is held by another delivery: this child's retry finds the walk done.
      throw walk.sends.length > 0 ? new UnsentParentsError(walk.sends, error) : error;
    }
  }

  /**
   * Records on a flow parent that one of its children sent with `failParentOnFailure` or
   * `ignoreDependencyOnFailure` (`policy`) was dead-lettered (or, a parent itself, failed so), with why. One conditional write per child, once: only while the parent has not counted this child either way.
   * `ignore`: the child counts as done but failed; resolves with the parent's message when that settled its last
   * pending child and the parent waits. `fail`: a waiting parent becomes `child-failed`, its reason naming the
   * child; resolves with what its own parent must be told when it is itself a child sent with one of the options
   * (a parent already failed, or cancelled, only counts the child). A repeat after a runtime died between this
   * write and what follows it resolves the same again; the next write is conditional in turn.
   */
  async childFailed(
    parentId: string,
    childId: string,
    failure: { readonly reason: string; readonly policy: ParentOnFailure },
    sendUntil?: Date,
  ): Promise<ChildFailureOutcome | undefined> {
    const reason = { ':reason': { S: reasonText(failure.reason) } };
    const unsettled = `contains(childIds, :id) AND NOT contains(childrenDone, :id) AND NOT contains(childrenFailed, :id) AND NOT contains(childrenIgnored, :id)`;
    if (failure.policy === 'ignore') {
      const item = await this.countChild(parentId, childId, 'childrenIgnored', {
        update: 'ADD childrenIgnored :child SET childFailures.#child = :reason, updatedAt = :now',
        condition: `#state IN (:waiting, :cancelled, :childFailed) AND ${unsettled}`,
        values: reason,
      });
      const message = item ? parentMessageOf(item) : undefined;
      const claimed = message ? await this.claimSend(parentId, message, sendUntil) : undefined;
      return claimed ? { send: claimed, parentId } : undefined;
    }
    const parentReason = flowChildFailedReason(childId, failure.reason);
    const failed = await this.countChild(parentId, childId, 'childrenFailed', {
      update:
        'ADD childrenFailed :child SET childFailures.#child = :reason, #state = :childFailed, reason = :parentReason, updatedAt = :now',
      condition: `#state = :waiting AND ${unsettled}`,
      values: { ...reason, ':parentReason': { S: reasonText(parentReason) } },
      // Only counted: a parent already failed by another child, or cancelled, keeps its state and reason.
      otherwise: {
        update: 'ADD childrenFailed :child SET childFailures.#child = :reason, updatedAt = :now',
        condition: `#state IN (:cancelled, :childFailed) AND ${unsettled}`,
        values: reason,
      },
    });
    return failed ? failedParentOf(parentId, failed) : undefined;
  }

  /**
   * One conditional count of a child on its parent's record (`write`, else `write.otherwise`): the parent's record
   * after it when it was this call's (the first write's, or a repeat's finding it in `countedIn`), undefined when
   * the child is not counted so. `undefined` too for the `otherwise` write: the parent was not changed by it. When
   * both are refused although the parent still takes the child (its state changed between them: another child
   * failed it, or a redrive made it wait again), they are tried again.
   */
  private async countChild(
    parentId: string,
    childId: string,
    countedIn: 'childrenDone' | 'childrenFailed' | 'childrenIgnored',
    write: ChildCount & { readonly otherwise?: ChildCount },
  ): Promise<Record<string, AttributeValue> | undefined> {
    for (let round = 1; ; round++) {
      const written = await this.tryCounts(parentId, childId, write);
      if (written !== REFUSED) return written;
      const item = await this.readItem(parentId);
      if (item?.[countedIn]?.SS?.includes(childId)) return item;
      if (!write.otherwise || round >= 3 || !takesChild(item, childId)) return undefined;
    }
  }

  /** `write`, else `write.otherwise`: as {@link countChild} answers, or {@link REFUSED} when both were refused. */
  private async tryCounts(
    parentId: string,
    childId: string,
    write: ChildCount & { readonly otherwise?: ChildCount },
  ): Promise<Record<string, AttributeValue> | undefined | typeof REFUSED> {
    for (const [step, count] of [write, write.otherwise].entries()) {
      if (!count) continue;
      try {
        const { Attributes } = await this.client.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: { [PK]: { S: jobRecordKey(parentId) } },
            UpdateExpression: count.update,
            ConditionExpression: `attribute_exists(${PK}) AND ${count.condition}`,
            ExpressionAttributeNames: { '#state': 'state', '#child': childId },
            ExpressionAttributeValues: usedValues(`${count.update} ${count.condition}`, {
              ':child': { SS: [childId] },
              ':id': { S: childId },
              ':now': { S: new Date(this.now()).toISOString() },
              ...STATE_VALUES,
              ...count.values,
            }),
            ReturnValues: 'ALL_NEW',
          }),
        );
        return step === 0 ? Attributes : undefined;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    }
    return REFUSED;
  }

  /**
   * A parent after one of its children completed, which may have been one that failed it: a `child-failed` parent
   * none of whose children fails it any longer waits again (and, where it had failed its own parent in turn, that
   * parent no longer counts it failed); one still failed by another names that one. The parent's record after that,
   * or undefined when another child's completion made it wait again at the same moment: that one goes on from
   * there, sending it once.
   */
  private async afterFailedChildLeft(
    parentId: string,
    childId: string,
    item: Record<string, AttributeValue>,
    walk: FlowWalk,
  ): Promise<Record<string, AttributeValue> | undefined> {
    let after = item;
    if ((after.childrenFailed?.SS?.length ?? 0) === 0 && after.state?.S === 'child-failed') {
      const waited = await this.waitAgain(parentId, after);
      if (!waited) return undefined;
      after = waited;
    }
    // Still failed by another child (also when one failed it while this one made it wait again).
    if (after.state?.S === 'child-failed') {
      await this.nameOtherFailure(parentId, childId, after, after.childrenFailed?.SS ?? []);
      return after;
    }
    // Also when it already waited: a runtime that died after it waited again comes back here with the child's
    // next delivery, and its own parent is then told.
    if (after.state?.S === 'waiting-children') await this.parentRunsAgain(parentId, after, walk);
    return after;
  }

  /**
   * A `child-failed` parent none of whose children fails it any longer waits again: its record after that, or
   * undefined when another writer made it wait again first. Two of its children completing at once (the redrive of
   * the one that failed it, and the last pending one) both find it so; only the one whose write this is sends it.
   */
  private async waitAgain(
    parentId: string,
    item: Record<string, AttributeValue>,
  ): Promise<Record<string, AttributeValue> | undefined> {
    try {
      const { Attributes } = await this.update(
        parentId,
        'waiting-children',
        {},
        ANY_ENQUEUE,
        // DynamoDB drops a set whose last element was deleted.
        'AND #state = :childFailed AND attribute_not_exists(childrenFailed)',
        { ':childFailed': { S: 'child-failed' } },
        'ALL_NEW',
        ['reason'],
      );
      return Attributes ?? item;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // Failed again by another child, or cancelled, it is read as it is now; waiting, it is the other writer's.
      const now = (await this.readItem(parentId)) ?? item;
      return now.state?.S === 'waiting-children' ? undefined : now;
    }
  }

  /**
   * A parent waiting again (its failing child completed) that is itself a child sent with one of the options: its
   * own parent, which counted it failed or ignored, waits for it again, and so on up. Conditional: nothing happens
   * where it was not counted so.
   */
  private async parentRunsAgain(
    parentId: string,
    item: Record<string, AttributeValue>,
    walk: FlowWalk,
  ): Promise<void> {
    const grandparentId = item.parent?.S;
    if (!grandparentId || !isParentOnFailure(item.parentOnFailure?.S)) return;
    try {
      const { Attributes } = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { [PK]: { S: jobRecordKey(grandparentId) } },
          UpdateExpression: 'DELETE childrenFailed :child, childrenIgnored :child SET updatedAt = :now',
          ConditionExpression: `attribute_exists(${PK}) AND #state IN (:waiting, :cancelled, :childFailed) AND (contains(childrenFailed, :id) OR contains(childrenIgnored, :id))`,
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':child': { SS: [parentId] },
            ':id': { S: parentId },
            ':now': { S: new Date(this.now()).toISOString() },
            ...STATE_VALUES,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      if (!Attributes) return;
      await this.afterFailedChildLeft(grandparentId, parentId, Attributes, walk);
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return;
    }
    await this.failedAgainMeanwhile(grandparentId, parentId, walk);
  }

  /**
   * A parent whose own parent just stopped counting it failed (or ignored) may have been failed again meanwhile by
   * another of its children (a redrive made it wait again while that one was dead-lettered): that child's count up
   * the flow found it still counted there and stopped, and this write then removed the count. Read after the write,
   * it is counted again, and so on up, as the failing child would have; a parent that this settles is claimed and
   * kept in `walk` for the caller to send.
   */
  private async failedAgainMeanwhile(grandparentId: string, parentId: string, walk: FlowWalk): Promise<void> {
    const now = await this.readItem(parentId);
    const policy = now?.parentOnFailure?.S;
    if (now?.state?.S !== 'child-failed' || !isParentOnFailure(policy)) return;
    const reason = now.reason?.S ?? 'no reason recorded';
    let next = await this.childFailed(grandparentId, parentId, { reason, policy }, walk.sendUntil);
    while (next && 'failed' in next) {
      const { id, reason: why, parent, parentOnFailure } = next.failed;
      next = await this.childFailed(parent, id, { reason: why, policy: parentOnFailure }, walk.sendUntil);
    }
    if (next) walk.sends.push(next.send);
  }

  /**
   * A parent still failed by other children whose reason named the child that just completed: it names one of
   * the others now, so the reason is never that of a child that completed.
   */
  private async nameOtherFailure(
    parentId: string,
    childId: string,
    item: Record<string, AttributeValue>,
    failing: readonly string[],
  ): Promise<void> {
    if (failing.length === 0 || !item.reason?.S?.startsWith(`${FLOW_CHILD_FAILED}: child ${childId} `))
      return;
    const other = [...failing].sort()[0] as string;
    const reason = flowChildFailedReason(other, item.childFailures?.M?.[other]?.S ?? 'no reason recorded');
    try {
      await this.update(
        parentId,
        'child-failed',
        { reason: { S: reasonText(reason) } },
        ANY_ENQUEUE,
        'AND #state = :childFailed AND contains(childrenFailed, :other)',
        { ':childFailed': { S: 'child-failed' }, ':other': { S: other } },
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  /**
   * Claims the send of a parent whose children are all settled, so that one sender sends it: only while it waits
   * and no other claim is held (one lapses at `until`, when the invocation holding it has ended). The message with
   * the claim's token, which the caller sends and then marks with {@link parentSent} (or, its send refused, hands
   * back with {@link parentSendFailed}); undefined when it no longer waits. Throws {@link ParentSendHeldError}
   * while another delivery holds the claim: whether that one sent it is not known yet, so this one comes back. A
   * caller without a deadline holds it for Lambda's longest timeout: no invocation runs longer.
   */
  private async claimSend(
    parentId: string,
    message: ParentMessage,
    until = new Date(this.now() + MAX_INVOCATION_MS),
  ): Promise<ParentMessage | undefined> {
    const token = randomUUID();
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { [PK]: { S: jobRecordKey(parentId) } },
          UpdateExpression: 'SET parentSendToken = :token, parentSendUntil = :until',
          ConditionExpression: `attribute_exists(${PK}) AND #state = :waiting AND attribute_exists(parentMessage) AND (attribute_not_exists(parentSendUntil) OR parentSendUntil < :now)`,
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':token': { S: token },
            ':until': { S: until.toISOString() },
            ':now': { S: new Date(this.now()).toISOString() },
            ':waiting': { S: 'waiting-children' },
          },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const item = await this.readItem(parentId);
      const held = item?.parentSendUntil?.S;
      if (item?.state?.S === 'waiting-children' && held !== undefined)
        throw new ParentSendHeldError(parentId, held);
      return undefined;
    }
    const attributes = { ...message.attributes, [MESSAGE_ATTRIBUTES.flowSend]: token };
    return { ...message, attributes, sendToken: token, parentId };
  }

  /**
   * Marks a flow parent `queued` once its message was sent, only while it still waits and the send was this
   * claim's (`sendToken`): its delivery may already have started it, or it was cancelled meanwhile (then the
   * consumer skips it). The token stays, so a send that another claim replaced is skipped when delivered.
   */
  async parentSent(parentId: string, sendToken?: string): Promise<void> {
    try {
      await this.update(
        parentId,
        'queued',
        {},
        ANY_ENQUEUE,
        `AND #state = :waiting${sendToken === undefined ? '' : ' AND parentSendToken = :token'}`,
        {
          ':waiting': { S: 'waiting-children' },
          ...(sendToken === undefined ? {} : { ':token': { S: sendToken } }),
        },
        undefined,
        ['parentMessage', 'parentSendUntil'],
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  /**
   * Hands back the claim of a send that failed (SQS refused it; one that went out after all is replaced by the next
   * claim's send): the child's next delivery claims and sends the parent at once, instead of after the claim
   * lapsed. Only the claim `sendToken` names.
   */
  async parentSendFailed(parentId: string, sendToken: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { [PK]: { S: jobRecordKey(parentId) } },
          UpdateExpression: 'REMOVE parentSendUntil',
          ConditionExpression: `attribute_exists(${PK}) AND parentSendToken = :token`,
          ExpressionAttributeValues: { ':token': { S: sendToken } },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  /**
   * What a flow parent's handler reads of its children: each completed child's result by id (`ctx.children`), from
   * its record and, for a result too large for it, from the child's own; and why each child sent with
   * `ignoreDependencyOnFailure` was dead-lettered (`ctx.failedChildren`).
   */
  async childOutcomes(parentId: string): Promise<FlowChildOutcomes> {
    const item = await this.readItem(parentId);
    const kept = item?.childResults?.M ?? {};
    const entries = await Promise.all(
      Object.entries(kept).map(
        async ([childId, value]): Promise<[string, unknown]> => [
          childId,
          value.S !== undefined ? JSON.parse(value.S) : (await this.read(childId))?.result,
        ],
      ),
    );
    const ignored = item?.childrenIgnored?.SS ?? [];
    return { results: Object.fromEntries(entries), failures: item ? failuresOf(item, ignored) : {} };
  }

  private async updateIfPresent(
    id: string,
    state: JobState,
    fields: Record<string, AttributeValue>,
    generation: string | undefined,
    remove: readonly string[] = [],
  ) {
    try {
      await this.update(id, state, fields, generation, '', {}, undefined, remove);
    } catch (error) {
      // No record of this enqueue (it expired, the producer wrote none, or the id was sent again since): nothing
      // to keep the state in.
      if (!isConditionFailure(error)) throw error;
    }
  }

  private async readItem(id: string): Promise<Record<string, AttributeValue> | undefined> {
    const answer = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { [PK]: { S: jobRecordKey(id) } },
        ConsistentRead: true,
      }),
    );
    return answer.Item;
  }

  /**
   * Sets the state (and fields) of an existing record while it is the record of the delivery's enqueue
   * ({@link isSameEnqueue}); `ANY_ENQUEUE` for whatever enqueue it holds now.
   */
  private async update(
    id: string,
    state: JobState,
    fields: Record<string, AttributeValue>,
    generation: string | undefined | typeof ANY_ENQUEUE,
    condition = '',
    values: Record<string, AttributeValue> = {},
    returnValues?: 'ALL_OLD' | 'ALL_NEW',
    /** Fields the record no longer has (set fields are never among them). */
    remove: readonly string[] = [],
  ): Promise<{ Attributes?: Record<string, AttributeValue> }> {
    const names = Object.keys(fields);
    const sameEnqueue =
      generation === ANY_ENQUEUE
        ? ''
        : generation === undefined
          ? 'AND attribute_not_exists(#generation)'
          : 'AND (attribute_not_exists(#generation) OR #generation = :generation)';
    return this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: { [PK]: { S: jobRecordKey(id) } },
        ...(returnValues ? { ReturnValues: returnValues } : {}),
        UpdateExpression: `SET #state = :state, updatedAt = :now${names.map((_, i) => `, #f${i} = :f${i}`).join('')}${remove.length ? ` REMOVE ${remove.map((_, i) => `#r${i}`).join(', ')}` : ''}`,
        ConditionExpression: `attribute_exists(${PK}) ${sameEnqueue} ${condition}`
          .replace(/\s+/g, ' ')
          .trim(),
        ExpressionAttributeNames: {
          '#state': 'state',
          ...(generation === ANY_ENQUEUE ? {} : { '#generation': 'generation' }),
          ...Object.fromEntries(names.map((name, i) => [`#f${i}`, name])),
          ...Object.fromEntries(remove.map((name, i) => [`#r${i}`, name])),
        },
        ExpressionAttributeValues: {
          ':state': { S: state },
          ':now': { S: new Date(this.now()).toISOString() },
          ...(generation === ANY_ENQUEUE || generation === undefined
            ? {}
            : { ':generation': { S: generation } }),
          ...Object.fromEntries(names.map((name, i) => [`:f${i}`, fields[name] as AttributeValue])),
          ...values,
        },
      }),
    );
  }
}

/** The states a flow parent's counts compare with, by placeholder. */
const STATE_VALUES: Record<string, AttributeValue> = {
  ':waiting': { S: 'waiting-children' },
  ':cancelled': { S: 'cancelled' },
  ':childFailed': { S: 'child-failed' },
};

/** The values an expression names: DynamoDB refuses one it does not. */
function usedValues(
  expression: string,
  values: Record<string, AttributeValue>,
): Record<string, AttributeValue> {
  return Object.fromEntries(
    Object.entries(values).filter(([name]) => new RegExp(`${name}(?![A-Za-z0-9_])`).test(expression)),
  );
}

/**
 * What a walk up a flow after a child completed carries: until when a send it claims is held, and the sends of
 * parents further up that it claimed, for the caller to make.
 */
interface FlowWalk {
  readonly sendUntil: Date | undefined;
  readonly sends: ParentMessage[];
}

/** Both writes of a child's count refused by their conditions. */
const REFUSED = Symbol('refused');

/** Whether a parent's record still takes a count of the child: one of its own, not counted yet, the flow not over. */
function takesChild(item: Record<string, AttributeValue> | undefined, childId: string): boolean {
  const state = item?.state?.S;
  if (!item || (state !== 'waiting-children' && state !== 'child-failed' && state !== 'cancelled'))
    return false;
  const counted = [item.childrenDone, item.childrenFailed, item.childrenIgnored].some((set) =>
    set?.SS?.includes(childId),
  );
  return item.childIds?.SS?.includes(childId) === true && !counted;
}

/** One conditional count of a child on its parent's record: the update, its condition, and its own values. */
interface ChildCount {
  readonly update: string;
  readonly condition: string;
  readonly values: Record<string, AttributeValue>;
}

/** What a parent that failed must tell its own parent: only for a child sent with one of the options. */
function failedParentOf(
  parentId: string,
  item: Record<string, AttributeValue>,
): ChildFailureOutcome | undefined {
  const parent = item.parent?.S;
  const parentOnFailure = item.parentOnFailure?.S;
  if (item.state?.S !== 'child-failed' || !parent || !isParentOnFailure(parentOnFailure)) return undefined;
  return {
    failed: { id: parentId, reason: item.reason?.S ?? 'no reason recorded', parent, parentOnFailure },
  };
}

/** A flow parent's message when all its children are settled and it still waits; undefined otherwise. */
function parentMessageOf(item: Record<string, AttributeValue>): ParentMessage | undefined {
  const children = flowChildrenOf(item);
  const message = item.parentMessage?.S;
  if (item.state?.S !== 'waiting-children' || !children || children.pending.length > 0 || !message)
    return undefined;
  return JSON.parse(message) as ParentMessage;
}

/** A child's result as its parent's record keeps it: JSON up to {@link MAX_CHILD_RESULT_BYTES}, else undefined. */
function childResultJson(result: unknown): string | undefined {
  try {
    const json = result === undefined ? undefined : JSON.stringify(result);
    return json !== undefined && Buffer.byteLength(json) <= MAX_CHILD_RESULT_BYTES ? json : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What a completed job's record keeps of its handler's result: the JSON, or why not. A result JSON cannot write
 * (a BigInt, a cycle) is a reason, never a failure: the job did run, and its record must still say completed.
 */
function resultFields(result: unknown): Record<string, AttributeValue> {
  let json: string | undefined;
  try {
    json = result === undefined ? undefined : JSON.stringify(result);
  } catch (error) {
    const why = (error instanceof Error ? error.message : String(error)).split('\n', 1)[0];
    return { reason: { S: `result not kept: not JSON (${why})` } };
  }
  if (json === undefined) return {};
  const bytes = Buffer.byteLength(json);
  return bytes <= MAX_RESULT_BYTES
    ? { result: { S: json } }
    : { reason: { S: `result not kept: ${bytes} bytes > ${MAX_RESULT_BYTES}` } };
}
