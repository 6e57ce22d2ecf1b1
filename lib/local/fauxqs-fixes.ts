/**
 * Corrections to fauxqs 2.4.1 that local mode applies where it assembles the emulator (`emulators.ts`), so
 * the operator's view of a local queue matches what SQS would show, on a persisted data directory as in memory.
 * Kept here rather than as a patch of node_modules so they apply however the package was installed; each one is
 * a no-op once fauxqs behaves (and `fauxqs-fixes.test.ts` fails loudly if the internals they touch move).
 *
 * 1. Releasing a held message (`ChangeMessageVisibility` 0) on a persisted queue writes NULL into the
 *    NOT NULL `approximate_receive_count` column (`PersistenceManager.updateMessageReady`); the SQLite error
 *    surfaces after the message left the in-flight map and before it re-entered the queue, so it vanishes from
 *    the running emulator until a restart, and the caller gets `ReceiptHandleIsInvalid` or a 500. The receive
 *    count must survive a release anyway (SQS keeps counting), so the fix clears only the hold.
 *    Upstream: fauxqs 2.4.1 `updateMessageReady` (dist/persistence.js); no issue found in kibertoad/fauxqs yet.
 * 2. `GetQueueAttributes` counts an expired hold as in flight until the next receive on that queue moves it
 *    back (`processTimers` runs only from receives and long-poll timers), so a queue whose messages were read
 *    and not released reads "0 visible". The fix runs the same timer step before the counts are read.
 *
 * And one addition for local mode's stand-in for SQS fair queues (`event-source-mapping.ts`), which has no
 * SQS call to express it:
 *
 * 3. A fair consumer reads ahead into its tenant lanes, and each of those receives counts; SQS schedules fair
 *    queues on the server and counts only the receive that delivers to the function. Messages handed back
 *    unrun on stop would otherwise carry one receive per restart, and after `maxReceiveCount` restarts the
 *    emulator dead-letters messages that never ran. A `ChangeMessageVisibilityBatch` that carries
 *    {@link UNDELIVERED_HAND_BACK_HEADER} releases its messages and takes back the receive that read them
 *    (persisted, so a restart on a data directory sees the same count); any other release keeps counting.
 *
 * And one difference from SQS's FIFO queues removed, so a FIFO consumer meets locally the batches it meets deployed:
 *
 * 5. A FIFO receive takes one message per message group; SQS returns as many of a group's waiting messages as it
 *    can, in order, so a consumer's batch holds several of one group and a failure holds the rest of its group back
 *    (spending their receives). A receive now takes each group's next messages too, up to its maximum. With
 *    several of a group in flight, fauxqs would put each one that comes back (released, or its hold expired) at the
 *    front of its group, reversing them: they now go back to their place by sequence number.
 *
 * And gaps closed, so code that SQS refuses, or takes, fails or works locally as it would deployed:
 *
 * 4. fauxqs takes any message attributes and any `DelaySeconds` on a standard queue, a `MessageDeduplicationId`
 *    there too (it ignores it), and any message group or deduplication id. `SendMessage` and each
 *    `SendMessageBatch` entry are now refused as SQS refuses them (`sqs-send-rules.ts`): more than 10 attributes, a
 *    reserved or malformed name, an unknown data type, an empty string or a number that is none, a delay outside
 *    0-900 seconds, a deduplication id sent to a standard queue, a group or deduplication id other than 1 to 128
 *    alphanumeric and punctuation characters.
 * 6. fauxqs takes any `ChangeMessageVisibility` from 0 to 12 hours, however long ago the message was received; SQS
 *    keeps a message hidden at most 12 hours from the receive that returned it and refuses a change that would
 *    pass that (`Total VisibilityTimeout for the message is beyond the limit [43200 seconds]`), so code that
 *    extends a hold, or sets a retry delay of up to 12 hours, minutes after its receive passed locally and failed
 *    once deployed. The limit now counts from each receive. Local mode's fair-queue stand-in, which holds what it
 *    read ahead with no SQS counterpart, marks its holds ({@link READ_AHEAD_HOLD_HEADER}): the limit counts from
 *    such a hold, as from a receive. A hold from before a restart on a data directory is not checked (its receive
 *    time is not persisted).
 * 7. fauxqs keeps a message for ever; SQS deletes it once it is `MessageRetentionPeriod` old, counted from its
 *    enqueue (a standard queue's message keeps its first enqueue time in the dead-letter queue, a FIFO queue's
 *    message starts anew there), so a message still failing (or delayed) past its queue's retention vanished
 *    deployed, without reaching the dead-letter queue, and went on locally. Messages waiting in a queue (visible,
 *    delayed, or back from a hold) are now dropped there once past its retention, as SQS drops them. When each
 *    message entered its queue is kept too (and how often it had been received then), so local mode's age of a
 *    dead-letter queue's oldest message counts a letter the redrive policy moved from its move, as SQS's metric
 *    does, not from its first send, and not as a message already received `maxReceiveCount` times; on a data
 *    directory that is kept across a restart too ({@link persistQueueEntries}).
 * 8. fauxqs refuses a message body holding a character beyond U+FFFF (an emoji) with `InvalidMessageContents`: its
 *    check is a regular expression without the `u` flag, which reads the character's two surrogates as invalid.
 *    SQS takes `#x10000` to `#x10FFFF`, so code sending an emoji failed locally and worked deployed. The check now
 *    reads characters as SQS lists them.
 */
import type { ChangeMessageVisibilityBatchCommand } from '@aws-sdk/client-sqs';
import { SQS_REFUSED_CHARACTER } from '../../lambda/shared/envelope';
import { MAX_VISIBILITY_SECONDS } from '../../lambda/shared/job-retry';
import { type SendTarget, type SentMessage, sendProblem } from './sqs-send-rules';

interface FauxqsMessageRow {
  run(...values: unknown[]): unknown;
  all(...values: unknown[]): unknown[];
}
interface FauxqsPersistenceInternals {
  db: { prepare(sql: string): FauxqsMessageRow; exec(sql: string): void };
  updateMessageReady(messageId: string): void;
}
interface FauxqsQueuePrototype {
  processTimers(): void;
  getAllAttributes(names: readonly string[]): Record<string, string>;
}
interface FauxqsMessage {
  messageId: string;
  approximateReceiveCount: number;
  approximateFirstReceiveTimestamp?: number | undefined;
}
interface FauxqsQueue {
  inflightMessages: Map<string, { message: FauxqsMessage }>;
  persistence?: FauxqsPersistenceInternals;
  isFifo(): boolean;
}
type FauxqsSqsHandler = (
  body: unknown,
  store: { getQueue(url: string): FauxqsQueue | undefined },
  request?: { headers: Record<string, string | string[] | undefined> },
) => unknown;
interface FauxqsRouterPrototype {
  register(action: string, handler: FauxqsSqsHandler): void;
}
interface VisibilityBatch {
  QueueUrl?: string;
  Entries?: { Id: string; ReceiptHandle?: string; VisibilityTimeout?: number }[];
}

const PATCHED = Symbol.for('hookline.fauxqs-fixes');

/** Makes `updateMessageReady` clear the hold only, keeping the receive count and first-receive time. */
export function fixReleasePersistence(persistence: unknown): void {
  const manager = persistence as FauxqsPersistenceInternals & { [PATCHED]?: true };
  if (manager[PATCHED]) return;
  const clearHold = manager.db.prepare(
    'UPDATE sqs_messages SET receipt_handle = NULL, visibility_deadline = NULL WHERE message_id = ?',
  );
  manager.updateMessageReady = (messageId: string) => {
    clearHold.run(messageId);
  };
  manager[PATCHED] = true;
}

/** Makes queue counts reflect holds that have expired (as SQS's counts do). */
export function fixExpiredHoldCounts(queueClass: unknown): void {
  const prototype = (queueClass as { prototype: FauxqsQueuePrototype & { [PATCHED]?: true } }).prototype;
  if (prototype[PATCHED]) return;
  const original = prototype.getAllAttributes;
  prototype.getAllAttributes = function getAllAttributes(this: FauxqsQueuePrototype, names) {
    this.processTimers();
    return original.call(this, names);
  };
  prototype[PATCHED] = true;
}

/**
 * Marks a `ChangeMessageVisibilityBatch` (visibility 0) as handing back messages that were read but never
 * delivered to a function: the emulator releases them and takes back the receive that read them.
 */
export const UNDELIVERED_HAND_BACK_HEADER = 'x-hookline-undelivered-hand-back';

/**
 * Marks a `ChangeMessageVisibilityBatch` as local mode's fair-queue stand-in holding messages it read ahead (SQS
 * schedules fair queues on the server, so nothing there corresponds): each message's 12-hour hold limit counts
 * from this call, as from a receive.
 */
export const READ_AHEAD_HOLD_HEADER = 'x-hookline-read-ahead-hold';

/** Adds {@link UNDELIVERED_HAND_BACK_HEADER} to the request of a visibility change (the sender's side). */
export function markUndeliveredHandBack(command: ChangeMessageVisibilityBatchCommand): void {
  markWith(command, UNDELIVERED_HAND_BACK_HEADER, 'hooklineUndeliveredHandBack');
}

/** Adds {@link READ_AHEAD_HOLD_HEADER} to the request of a visibility change (the sender's side). */
export function markReadAheadHold(command: ChangeMessageVisibilityBatchCommand): void {
  markWith(command, READ_AHEAD_HOLD_HEADER, 'hooklineReadAheadHold');
}

function markWith(command: ChangeMessageVisibilityBatchCommand, header: string, name: string): void {
  command.middlewareStack.add(
    (next) => (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (request.headers) request.headers[header] = 'true';
      return next(args);
    },
    { step: 'build', name },
  );
}

const persistedCounts = new WeakMap<FauxqsPersistenceInternals, FauxqsMessageRow>();

/** Writes a message's receive count and first-receive time back to the data directory. */
function persistReceiveCount(persistence: FauxqsPersistenceInternals, message: FauxqsMessage): void {
  let statement = persistedCounts.get(persistence);
  if (!statement) {
    statement = persistence.db.prepare(
      'UPDATE sqs_messages SET approximate_receive_count = ?, approximate_first_receive_timestamp = ? WHERE message_id = ?',
    );
    persistedCounts.set(persistence, statement);
  }
  statement.run(
    message.approximateReceiveCount,
    message.approximateFirstReceiveTimestamp ?? null,
    message.messageId,
  );
}

/**
 * Makes `ChangeMessageVisibilityBatch` with {@link UNDELIVERED_HAND_BACK_HEADER} take back one receive from
 * each message it released (visibility 0): those the action reports successful. A message back at no receive
 * also loses its first-receive time, as if it had never been read.
 */
export function fixUndeliveredHandBack(routerClass: unknown): void {
  const prototype = (routerClass as { prototype: FauxqsRouterPrototype & { [PATCHED]?: true } }).prototype;
  if (prototype[PATCHED]) return;
  const register = prototype.register;
  prototype.register = function registerWithHandBack(this: FauxqsRouterPrototype, action, handler) {
    if (action !== 'ChangeMessageVisibilityBatch') return register.call(this, action, handler);
    const withHandBack: FauxqsSqsHandler = (body, store, request) => {
      if (request?.headers[UNDELIVERED_HAND_BACK_HEADER] !== 'true') return handler(body, store, request);
      const { QueueUrl, Entries = [] } = (body ?? {}) as VisibilityBatch;
      const queue = QueueUrl ? store.getQueue(QueueUrl) : undefined;
      // Read before the action: a released message leaves the in-flight map.
      const released = new Map<string, FauxqsMessage>();
      for (const entry of Entries) {
        const held = entry.ReceiptHandle ? queue?.inflightMessages.get(entry.ReceiptHandle) : undefined;
        if (held && entry.VisibilityTimeout === 0) released.set(entry.Id, held.message);
      }
      // Synchronous in fauxqs 2.4.1, so no receive can take a released message before its count is corrected.
      const answer = handler(body, store, request) as { Successful?: { Id: string }[] };
      for (const { Id } of answer.Successful ?? []) {
        const message = released.get(Id);
        if (!message || message.approximateReceiveCount <= 0) continue;
        message.approximateReceiveCount -= 1;
        if (message.approximateReceiveCount === 0) message.approximateFirstReceiveTimestamp = undefined;
        if (queue?.persistence) persistReceiveCount(queue.persistence, message);
      }
      return answer;
    };
    return register.call(this, action, withHandBack);
  };
  prototype[PATCHED] = true;
}

/** fauxqs's `SqsError`: what an action throws to answer with an SQS error code. */
export type FauxqsSqsErrorClass = new (code: string, message: string) => Error;

const SEND_RULES_PATCHED = Symbol.for('hookline.fauxqs-send-rules');

/**
 * Makes `SendMessage` and `SendMessageBatch` refuse what SQS refuses (`sqs-send-rules.ts`): a send with a
 * problem is answered `InvalidParameterValue` and enqueues nothing; a batch entry with one is listed in
 * `Failed` as SQS lists it, and the other entries are sent.
 */
export function fixSendValidation(routerClass: unknown, SqsError: FauxqsSqsErrorClass): void {
  const prototype = (routerClass as { prototype: FauxqsRouterPrototype & { [SEND_RULES_PATCHED]?: true } })
    .prototype;
  if (prototype[SEND_RULES_PATCHED]) return;
  const register = prototype.register;
  prototype.register = function registerWithSendRules(this: FauxqsRouterPrototype, action, handler) {
    if (action === 'SendMessage') {
      return register.call(this, action, (body, store, request) => {
        const send = (body ?? {}) as SentMessage & { QueueUrl?: string };
        const problem = sendProblem(send, targetOf(store, send.QueueUrl));
        if (problem) throw new SqsError('InvalidParameterValue', problem);
        return handler(body, store, request);
      });
    }
    if (action === 'SendMessageBatch') {
      return register.call(this, action, (body, store, request) =>
        batchWithoutRefused<SentMessage>(body, store, request, handler, (entry, queueUrl) =>
          sendProblem(entry, targetOf(store, queueUrl)),
        ),
      );
    }
    return register.call(this, action, handler);
  };
  prototype[SEND_RULES_PATCHED] = true;
}

/** The queue a send names, as the send rules read it; undefined for one fauxqs will answer does not exist. */
function targetOf(
  store: Parameters<FauxqsSqsHandler>[1],
  queueUrl: string | undefined,
): SendTarget | undefined {
  const queue = queueUrl ? store.getQueue(queueUrl) : undefined;
  return queue ? { fifo: queue.isFifo() } : undefined;
}

/** A batch request as the JSON protocol carries it: the queue and entries with their ids. */
interface EntryBatch<E> {
  QueueUrl?: string;
  Entries?: (E & { Id: string })[];
}
interface BatchAnswer {
  Successful?: unknown[];
  Failed?: { Id: string; SenderFault: boolean; Code: string; Message: string }[];
}

/**
 * Answers a batch as SQS answers one with entries it refuses: those `problemOf` names a problem for are listed in
 * `Failed` (`InvalidParameterValue`), and the others go to fauxqs's own `handler`.
 */
function batchWithoutRefused<E>(
  body: unknown,
  store: Parameters<FauxqsSqsHandler>[1],
  request: Parameters<FauxqsSqsHandler>[2],
  handler: FauxqsSqsHandler,
  problemOf: (entry: E, queueUrl: string | undefined) => string | undefined,
): unknown {
  const batch = (body ?? {}) as EntryBatch<E>;
  const entries = batch.Entries ?? [];
  const refused: NonNullable<BatchAnswer['Failed']> = [];
  const valid = entries.filter((entry) => {
    const problem = problemOf(entry, batch.QueueUrl);
    if (problem)
      refused.push({ Id: entry.Id, SenderFault: true, Code: 'InvalidParameterValue', Message: problem });
    return !problem;
  });
  // A request fauxqs refuses whole (too many entries, repeated ids) is its to answer, bad entries or not.
  const wholeRequestRefused = entries.length > 10 || new Set(entries.map((e) => e.Id)).size < entries.length;
  if (refused.length === 0 || wholeRequestRefused) return handler(body, store, request);
  if (valid.length === 0) return { Successful: [], Failed: refused };
  const answer = handler({ ...batch, Entries: valid }, store, request) as BatchAnswer;
  return { Successful: answer.Successful ?? [], Failed: [...(answer.Failed ?? []), ...refused] };
}

interface FauxqsFifoMessage {
  readonly messageGroupId?: string;
  readonly sequenceNumber?: string;
}
interface FauxqsFifoQueuePrototype {
  isFifo(): boolean;
  fifoLockedGroups: Map<string, number>;
  fifoMessages: Map<string, FauxqsFifoMessage[]>;
  inflightMessages: Map<string, { message: FauxqsFifoMessage; visibilityDeadline: number }>;
  dequeueFifo(maxCount: number, ...rest: unknown[]): { ReceiptHandle: string }[];
  processTimers(): void;
  changeVisibility(receiptHandle: string, timeoutSeconds: number): void;
}

const FIFO_GROUPS_PATCHED = Symbol.for('hookline.fauxqs-fifo-groups');
/** fauxqs's name for the group of a message sent without one. */
const NO_GROUP = '__default';
/** The most messages one receive returns. */
const MAX_RECEIVE = 10;

/** Makes a FIFO receive take a group's waiting messages together, and a returning message go back in order. */
export function fixFifoGroupReceives(queueClass: unknown): void {
  const prototype = (queueClass as { prototype: FauxqsFifoQueuePrototype & { [FIFO_GROUPS_PATCHED]?: true } })
    .prototype;
  if (prototype[FIFO_GROUPS_PATCHED]) return;
  const { dequeueFifo, processTimers, changeVisibility } = prototype;
  prototype.dequeueFifo = function dequeueGroups(this: FauxqsFifoQueuePrototype, maxCount, ...rest) {
    const count = Math.min(maxCount, MAX_RECEIVE);
    const received = dequeueFifo.call(this, count, ...rest);
    let round = received;
    while (received.length < count && round.length > 0) {
      // Each pass takes one message per free group: free the groups this receive took for the next pass (every
      // other free group with a message gave one to the first pass already).
      const mine = new Map<string, number>();
      for (const group of new Set(round.map((m) => groupOfReceived(this, m.ReceiptHandle)))) {
        mine.set(group, this.fifoLockedGroups.get(group) ?? 0);
        this.fifoLockedGroups.delete(group);
      }
      round = dequeueFifo.call(this, count - received.length, ...rest);
      for (const [group, held] of mine)
        this.fifoLockedGroups.set(group, held + (this.fifoLockedGroups.get(group) ?? 0));
      received.push(...round);
    }
    // A group's messages together, in the order of each group's first, as SQS hands them over.
    const groups = [...new Set(received.map((m) => groupOfReceived(this, m.ReceiptHandle)))];
    return received
      .map((m, at) => ({ m, at, group: groups.indexOf(groupOfReceived(this, m.ReceiptHandle)) }))
      .sort((a, b) => a.group - b.group || a.at - b.at)
      .map(({ m }) => m);
  };
  prototype.processTimers = function processTimersInOrder(this: FauxqsFifoQueuePrototype) {
    if (!this.isFifo()) return processTimers.call(this);
    const now = Date.now();
    const returning = new Set<string>();
    for (const { message, visibilityDeadline } of this.inflightMessages.values())
      if (visibilityDeadline <= now) returning.add(message.messageGroupId ?? NO_GROUP);
    processTimers.call(this);
    for (const group of returning) putInOrder(this, group);
  };
  prototype.changeVisibility = function changeVisibilityInOrder(
    this: FauxqsFifoQueuePrototype,
    receiptHandle,
    timeoutSeconds,
  ) {
    const group = this.inflightMessages.get(receiptHandle)?.message.messageGroupId;
    changeVisibility.call(this, receiptHandle, timeoutSeconds);
    if (this.isFifo() && timeoutSeconds === 0 && group !== undefined) putInOrder(this, group);
  };
  prototype[FIFO_GROUPS_PATCHED] = true;
}

function groupOfReceived(queue: FauxqsFifoQueuePrototype, receiptHandle: string): string {
  return queue.inflightMessages.get(receiptHandle)?.message.messageGroupId ?? NO_GROUP;
}

/** Sorts a group's waiting messages by sequence number (20 digits, so text order is number order). */
function putInOrder(queue: FauxqsFifoQueuePrototype, group: string): void {
  const bySequence = (a: FauxqsFifoMessage, b: FauxqsFifoMessage) => {
    const [x, y] = [a.sequenceNumber ?? '', b.sequenceNumber ?? ''];
    return x < y ? -1 : x > y ? 1 : 0;
  };
  queue.fifoMessages.get(group)?.sort(bySequence);
}

/** SQS keeps a message hidden at most this long from the receive that returned it, however often it is extended. */
const MAX_HOLD_MS = MAX_VISIBILITY_SECONDS * 1000;
const HOLD_LIMIT_PATCHED = Symbol.for('hookline.fauxqs-hold-limit');
/** When each hold began (its receive, or local mode's read-ahead hold), by in-flight entry: gone with the entry. */
const holdStarts = new WeakMap<object, number>();

interface FauxqsReceivingQueuePrototype {
  inflightMessages: Map<string, object>;
  dequeue(...args: unknown[]): { ReceiptHandle: string }[];
}
interface VisibilityChange {
  QueueUrl?: string;
  ReceiptHandle?: string;
  VisibilityTimeout?: number;
}

/**
 * Makes a visibility change refuse to hold a message more than 12 hours past its receive, as SQS refuses it: a
 * `ChangeMessageVisibility` with `InvalidParameterValue`, a `ChangeMessageVisibilityBatch` entry listed in `Failed`
 * (the others are changed). A batch with {@link READ_AHEAD_HOLD_HEADER} starts each message's hold anew instead.
 */
export function fixHoldLimit(queueClass: unknown, routerClass: unknown, SqsError: FauxqsSqsErrorClass): void {
  const queue = (queueClass as { prototype: FauxqsReceivingQueuePrototype & { [HOLD_LIMIT_PATCHED]?: true } })
    .prototype;
  const router = (routerClass as { prototype: FauxqsRouterPrototype & { [HOLD_LIMIT_PATCHED]?: true } })
    .prototype;
  if (queue[HOLD_LIMIT_PATCHED] && router[HOLD_LIMIT_PATCHED]) return;
  const { dequeue } = queue;
  queue.dequeue = function dequeueStampingHolds(this: FauxqsReceivingQueuePrototype, ...args) {
    const received = dequeue.apply(this, args);
    const now = Date.now();
    for (const m of received) {
      const entry = this.inflightMessages.get(m.ReceiptHandle);
      if (entry) holdStarts.set(entry, now);
    }
    return received;
  };
  const register = router.register;
  router.register = function registerWithHoldLimit(this: FauxqsRouterPrototype, action, handler) {
    if (action === 'ChangeMessageVisibility') {
      return register.call(this, action, (body, store, request) => {
        const change = (body ?? {}) as VisibilityChange;
        const problem = holdProblem(store, change.QueueUrl, change);
        if (problem) throw new SqsError('InvalidParameterValue', problem);
        return handler(body, store, request);
      });
    }
    if (action === 'ChangeMessageVisibilityBatch') {
      return register.call(this, action, (body, store, request) =>
        request?.headers[READ_AHEAD_HOLD_HEADER] === 'true'
          ? restartHolds(body, store, request, handler)
          : batchWithoutRefused<VisibilityChange>(body, store, request, handler, (entry, queueUrl) =>
              holdProblem(store, queueUrl, entry),
            ),
      );
    }
    return register.call(this, action, handler);
  };
  queue[HOLD_LIMIT_PATCHED] = true;
  router[HOLD_LIMIT_PATCHED] = true;
}

/** The in-flight entry a receipt handle names on the queue a request names, if any. */
function heldEntry(
  store: Parameters<FauxqsSqsHandler>[1],
  queueUrl: string | undefined,
  receiptHandle: string | undefined,
): object | undefined {
  const queue = queueUrl ? store.getQueue(queueUrl) : undefined;
  return receiptHandle ? queue?.inflightMessages.get(receiptHandle) : undefined;
}

/** Why SQS would refuse this change as holding the message past 12 hours from its receive, if it would. */
function holdProblem(
  store: Parameters<FauxqsSqsHandler>[1],
  queueUrl: string | undefined,
  change: VisibilityChange,
): string | undefined {
  const seconds = change.VisibilityTimeout;
  // Out of range, or a hold fauxqs will not find: its own answers.
  if (typeof seconds !== 'number' || seconds < 0 || seconds > MAX_HOLD_MS / 1000) return undefined;
  const entry = heldEntry(store, queueUrl, change.ReceiptHandle);
  const start = entry ? holdStarts.get(entry) : undefined;
  if (start === undefined || Date.now() + seconds * 1000 - start <= MAX_HOLD_MS) return undefined;
  return `Value ${seconds} for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [${MAX_HOLD_MS / 1000} seconds].`;
}

/** Applies a read-ahead hold, then starts the hold limit of each message it holds from now. */
function restartHolds(
  body: unknown,
  store: Parameters<FauxqsSqsHandler>[1],
  request: Parameters<FauxqsSqsHandler>[2],
  handler: FauxqsSqsHandler,
): unknown {
  const answer = handler(body, store, request);
  const batch = (body ?? {}) as VisibilityBatch;
  const now = Date.now();
  for (const entry of batch.Entries ?? []) {
    const held = heldEntry(store, batch.QueueUrl, entry.ReceiptHandle);
    if (held) holdStarts.set(held, now);
  }
  return answer;
}

const RETENTION_PATCHED = Symbol.for('hookline.fauxqs-retention');
/**
 * When a message entered the queue it is in: sent there, or moved there by a redrive policy. A FIFO dead-letter queue
 * restarts its retention from then, and SQS's `ApproximateAgeOfOldestMessage` of any dead-letter queue counts from
 * then ({@link enteredQueueAt}). On a data directory a moved message's is kept too ({@link persistQueueEntries}).
 */
const enqueuedAt = new WeakMap<object, number>();
/**
 * How many times a message had been received when it entered the queue it is in: a dead letter a redrive policy moved
 * arrives with its source queue's receives, which fauxqs keeps counting on.
 */
const receivesBefore = new WeakMap<object, number>();

/**
 * When `message` entered the queue it is in, as SQS's age of the oldest message counts it: its move for a dead letter
 * a redrive policy moved, else its send (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/setting-up-dead-letter-queue-retention.html).
 */
export function enteredQueueAt(message: { readonly sentTimestamp: number }): number {
  return enqueuedAt.get(message) ?? message.sentTimestamp;
}

/**
 * How many times `message` was received in the queue it is in, which a standard queue's age of the oldest message
 * leaves out from the third on: a dead letter just moved counts from its move, as the page above says SQS's metric
 * shows it, not as a message already received `maxReceiveCount` times.
 */
export function receivesInQueue(message: { readonly approximateReceiveCount: number }): number {
  return message.approximateReceiveCount - (receivesBefore.get(message) ?? 0);
}

interface RetainedMessage {
  readonly messageId: string;
  readonly sentTimestamp: number;
  readonly approximateReceiveCount: number;
}
interface FauxqsRetainingQueuePrototype {
  attributes: Record<string, string>;
  messages: RetainedMessage[];
  delayedMessages: RetainedMessage[];
  fifoMessages: Map<string, RetainedMessage[]>;
  fifoDelayed: Map<string, RetainedMessage[]>;
  persistence?: { deleteMessage(messageId: string): void };
  isFifo(): boolean;
  enqueue(message: RetainedMessage): void;
  processTimers(): void;
}

/** Writes a moved message's entry into its queue to the data directory: one row of {@link ENTRIES_TABLE}. */
type EntryWriter = (messageId: string, enteredAt: number, receivesBefore: number) => void;
/** The writer of each persistence manager that keeps entries ({@link persistQueueEntries}). */
const entryWriters = new WeakMap<object, EntryWriter>();

/**
 * hookline's table in fauxqs's SQLite file: when each message a redrive policy moved entered the queue it is in, and
 * how many receives it brought. Its row goes with the message's (a foreign key on fauxqs's own table): deleted,
 * dropped past retention or purged, the message takes its entry along.
 */
const ENTRIES_TABLE = 'hookline_queue_entries';

/**
 * Keeps on the data directory what {@link enteredQueueAt} and {@link receivesInQueue} read of a moved message, and
 * gives it back to the messages `queues` loaded: without it, after a restart a dead letter the redrive policy
 * moved counted from its first send, and its receives in the queue it left (`maxReceiveCount` and one) left it out
 * of the age of its dead-letter queue's oldest message for good, as a message received three times there would
 * be, so local mode's `DeadLettersExpiring` never spoke of it. Only moves are written: a message sent to its queue
 * entered it when sent, with no receives, as its own row says. Call once fauxqs loaded the directory.
 */
export function persistQueueEntries(
  persistence: unknown,
  queues: Iterable<{
    inspectMessages(): { ready: object[]; delayed: object[]; inflight: { message: object }[] };
  }>,
): void {
  const manager = persistence as FauxqsPersistenceInternals;
  manager.db.exec(
    `CREATE TABLE IF NOT EXISTS ${ENTRIES_TABLE} (
      message_id TEXT PRIMARY KEY REFERENCES sqs_messages(message_id) ON DELETE CASCADE,
      entered_at INTEGER NOT NULL,
      receives_before INTEGER NOT NULL
    )`,
  );
  const rows = manager.db
    .prepare(`SELECT message_id, entered_at, receives_before FROM ${ENTRIES_TABLE}`)
    .all() as { message_id: string; entered_at: number; receives_before: number }[];
  const entries = new Map(rows.map((row) => [row.message_id, row]));
  for (const queue of queues) {
    const { ready, delayed, inflight } = queue.inspectMessages();
    for (const message of [...ready, ...delayed, ...inflight.map((entry) => entry.message)]) {
      const entry = entries.get((message as RetainedMessage).messageId);
      if (!entry) continue;
      enqueuedAt.set(message, entry.entered_at);
      receivesBefore.set(message, entry.receives_before);
    }
  }
  const write = manager.db.prepare(
    `INSERT OR REPLACE INTO ${ENTRIES_TABLE} (message_id, entered_at, receives_before) VALUES (?, ?, ?)`,
  );
  entryWriters.set(manager, (messageId, enteredAt, receives) => {
    write.run(messageId, enteredAt, receives);
  });
}

/** Makes a queue drop the messages waiting in it past its retention period, as SQS deletes them. */
export function fixRetention(queueClass: unknown): void {
  const prototype = (
    queueClass as { prototype: FauxqsRetainingQueuePrototype & { [RETENTION_PATCHED]?: true } }
  ).prototype;
  if (prototype[RETENTION_PATCHED]) return;
  const { enqueue, processTimers } = prototype;
  prototype.enqueue = function enqueueStamped(this: FauxqsRetainingQueuePrototype, message) {
    const now = Date.now();
    const receives = message.approximateReceiveCount;
    enqueuedAt.set(message, now);
    receivesBefore.set(message, receives);
    // After fauxqs wrote the message's row, which the entry's row refers to. Only a message already received
    // (moved by a redrive policy) entered its queue other than when sent, with receives.
    enqueue.call(this, message);
    const writeEntry = this.persistence ? entryWriters.get(this.persistence) : undefined;
    if (receives > 0) writeEntry?.(message.messageId, now, receives);
  };
  prototype.processTimers = function processTimersAndRetention(this: FauxqsRetainingQueuePrototype) {
    processTimers.call(this);
    dropExpired(this);
  };
  prototype[RETENTION_PATCHED] = true;
}

/** When each queue last looked for expired messages. */
const retentionChecks = new WeakMap<object, number>();
/** How often a queue looks (retention is whole seconds, at least 60): a receive need not scan a backlog each time. */
const RETENTION_CHECK_MS = 1_000;

/** Removes the queue's waiting messages past its retention, from memory and its data directory. */
function dropExpired(queue: FauxqsRetainingQueuePrototype): void {
  const retentionMs = Number(queue.attributes.MessageRetentionPeriod) * 1000;
  const now = Date.now();
  if (
    !(retentionMs > 0) ||
    now - (retentionChecks.get(queue) ?? Number.NEGATIVE_INFINITY) < RETENTION_CHECK_MS
  )
    return;
  retentionChecks.set(queue, now);
  const oldest = now - retentionMs;
  const kept = (messages: RetainedMessage[]) =>
    messages.filter((m) => {
      // A standard queue's message keeps its first enqueue time in the dead-letter queue; a FIFO one starts anew.
      if ((queue.isFifo() ? enteredQueueAt(m) : m.sentTimestamp) > oldest) return true;
      queue.persistence?.deleteMessage(m.messageId);
      return false;
    });
  queue.messages = kept(queue.messages);
  queue.delayedMessages = kept(queue.delayedMessages);
  for (const groups of [queue.fifoMessages, queue.fifoDelayed]) {
    for (const [group, messages] of groups) {
      const left = kept(messages);
      if (left.length > 0) groups.set(group, left);
      else groups.delete(group);
    }
  }
}

const BODY_CHARACTERS_PATCHED = Symbol.for('hookline.fauxqs-body-characters');

/** Makes fauxqs's message body check (`INVALID_MESSAGE_BODY_CHAR`, one shared object) refuse what SQS refuses. */
export function fixBodyCharacters(invalidBodyCharacter: unknown): void {
  const check = invalidBodyCharacter as RegExp & { [BODY_CHARACTERS_PATCHED]?: true };
  if (check[BODY_CHARACTERS_PATCHED]) return;
  check.test = (body: string) => SQS_REFUSED_CHARACTER.test(body);
  check[BODY_CHARACTERS_PATCHED] = true;
}
