/**
 * Reading a dead-letter queue without consuming it: messages are received with a visibility timeout (held),
 * inspected, and made visible again with `ChangeMessageVisibility 0`, so they return to the DLQ at once.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  type ListMessageMoveTasksResultEntry,
  type Message,
  type MessageAttributeValue,
  type QueueAttributeName,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import {
  FAILURE_ATTRIBUTES,
  MESSAGE_ATTRIBUTES,
  parseEnvelope,
  type WebhookEnvelope,
} from '../../lambda/shared/envelope';
import { idempotencyWorkKey } from '../../lambda/shared/idempotency-key';
import { mapLimited } from '../../lambda/shared/map-limited';

/** The most recent SQS move task (`hookline redrive` of everything) out of the dead-letter queue `sourceArn`. */
export async function latestMoveTask(
  sqs: SQSClient,
  sourceArn: string,
): Promise<ListMessageMoveTasksResultEntry | undefined> {
  const answer = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: sourceArn, MaxResults: 1 }));
  return answer.Results?.[0];
}

/** Why a message was dead-lettered, from the attributes a consumer sets (absent after maxReceiveCount). */
export interface FailureReason {
  readonly errorName?: string;
  readonly errorMessage?: string;
  readonly attempt?: string;
  readonly consumer?: string;
  readonly failedAt?: string;
}

/** One dead-lettered message as the CLI shows it. */
export interface DeadLetter {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  /** The parsed envelope, or undefined when the body is not one (`envelopeError` says why). */
  readonly envelope?: WebhookEnvelope;
  readonly envelopeError?: string;
  /**
   * The event's id, source and type: the envelope's, else (a body that is not an envelope, such as one of a newer
   * envelope version) the `hookline.*` attributes the message carries, which the consumer's outcome line names it by.
   */
  readonly event: { readonly id?: string; readonly source?: string; readonly type?: string };
  readonly failure: FailureReason;
  /** ISO time the message was first sent (to the source queue on standard queues). */
  readonly sentAt?: string;
  /**
   * How many times the consumer received the message: the attempt it recorded when it dead-lettered it, else
   * (moved by SQS) the source queue's maxReceiveCount, the receives after which SQS moves a message.
   */
  readonly receiveCount?: number;
  readonly messageGroupId?: string;
  readonly messageAttributes: Readonly<Record<string, MessageAttributeValue>>;
}

const attr = (message: Message, name: string) => message.MessageAttributes?.[name]?.StringValue;

/** The attributes EventBridge Scheduler gives a delivery it put in a schedule's dead-letter queue. */
const SCHEDULER_FAILURE_ATTRIBUTES = { errorName: 'ERROR_CODE', errorMessage: 'ERROR_MESSAGE' } as const;

/** Scheduler's attribute naming the schedule whose delivery it gave up on (`.../schedule/<group>/<name>`). */
export const SCHEDULE_ARN_ATTRIBUTE = 'SCHEDULE_ARN';

/** Scheduler's attribute naming the target (the queue) a delivery it gave up on was meant for. */
export const SCHEDULER_TARGET_ATTRIBUTE = 'TARGET_ARN';

/** Scheduler's attribute naming the one run of the schedule whose delivery it gave up on. */
export const SCHEDULER_EXECUTION_ATTRIBUTE = 'EXECUTION_ID';

/** Scheduler's attribute counting the retries it made before it gave up. */
export const SCHEDULER_RETRIES_ATTRIBUTE = 'RETRY_ATTEMPTS';

/**
 * Every attribute EventBridge Scheduler gives a delivery it put in a schedule's dead-letter queue; the body is the
 * schedule's input, as the target would have received it (the dead-letter event of
 * https://docs.aws.amazon.com/scheduler/latest/UserGuide/configuring-schedule-dlq.html).
 */
export const SCHEDULER_DEAD_LETTER_ATTRIBUTES: ReadonlySet<string> = new Set([
  ...Object.values(SCHEDULER_FAILURE_ATTRIBUTES),
  SCHEDULER_EXECUTION_ATTRIBUTE,
  SCHEDULER_RETRIES_ATTRIBUTE,
  SCHEDULE_ARN_ATTRIBUTE,
  SCHEDULER_TARGET_ATTRIBUTE,
]);

/** Whether EventBridge Scheduler put the message there: known by any of its attributes, also one without its reason. */
export function isFromScheduler(attributes: Readonly<Record<string, MessageAttributeValue>>): boolean {
  return [...SCHEDULER_DEAD_LETTER_ATTRIBUTES].some((name) => attributes[name]?.StringValue !== undefined);
}

/**
 * Turns an SQS message into a {@link DeadLetter}. `maxReceiveCount` is the source queue's (from its redrive
 * policy), for the messages SQS moved there itself.
 */
export function describeDeadLetter(message: Message, maxReceiveCount?: number): DeadLetter {
  const body = message.Body ?? '';
  let envelope: WebhookEnvelope | undefined;
  let envelopeError: string | undefined;
  try {
    envelope = parseEnvelope(body);
  } catch (error) {
    envelopeError = error instanceof SyntaxError ? 'body is not JSON' : 'body is not a hookline envelope';
  }
  const failure: Record<string, string> = {};
  for (const [key, name] of Object.entries(FAILURE_ATTRIBUTES)) {
    const value = attr(message, name);
    if (value !== undefined) failure[key] = value;
  }
  const fromScheduler = isFromScheduler(message.MessageAttributes ?? {});
  if (failure.errorName === undefined && failure.errorMessage === undefined) {
    // A delivery EventBridge Scheduler gave up on carries Scheduler's reason, not a consumer's.
    for (const [key, name] of Object.entries(SCHEDULER_FAILURE_ATTRIBUTES)) {
      const value = attr(message, name);
      if (value !== undefined) failure[key] = value;
    }
  }
  const sent = Number(message.Attributes?.SentTimestamp);
  // No consumer ever received what Scheduler could not deliver: its SQS receive count counts only reads of the
  // DLQ (Scheduler's own retries are its RETRY_ATTEMPTS attribute).
  const count = fromScheduler
    ? Number.NaN
    : consumerReceives(failure.attempt, maxReceiveCount, message.Attributes?.ApproximateReceiveCount);
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body,
    ...(envelope ? { envelope } : {}),
    ...(envelopeError ? { envelopeError } : {}),
    event: envelope
      ? { id: envelope.id, source: envelope.source, type: envelope.type }
      : {
          id: attr(message, MESSAGE_ATTRIBUTES.eventId),
          source: attr(message, MESSAGE_ATTRIBUTES.source),
          type: attr(message, MESSAGE_ATTRIBUTES.type),
        },
    failure,
    ...(Number.isFinite(sent) && sent > 0 ? { sentAt: new Date(sent).toISOString() } : {}),
    ...(Number.isFinite(count) && count > 0 ? { receiveCount: count } : {}),
    ...(message.Attributes?.MessageGroupId ? { messageGroupId: message.Attributes.MessageGroupId } : {}),
    messageAttributes: message.MessageAttributes ?? {},
  };
}

/**
 * The consumer's receives of a dead letter. A message the consumer dead-lettered is a new DLQ message (its SQS
 * receive count counts only DLQ reads), so the attempt it recorded is the count. SQS moves a message once it has
 * been received maxReceiveCount times, so that is the count of the others: the DLQ message's own receive count
 * would not do, as every read of the DLQ (this one, each earlier `failed list`) adds one to it. Only without the
 * redrive policy is that count, less this read's receive, the best there is.
 */
function consumerReceives(
  attempt: string | undefined,
  maxReceiveCount: number | undefined,
  sqsCount: string | undefined,
): number {
  const recorded = Number(attempt);
  if (Number.isInteger(recorded) && recorded > 0) return recorded;
  if (maxReceiveCount !== undefined) return maxReceiveCount;
  return Number(sqsCount) - 1;
}

/**
 * The source queue's maxReceiveCount, from its redrive policy; undefined when the queue has none or it cannot be
 * read (the counts then fall back to SQS's own).
 */
export async function maxReceiveCountOf(sqs: SQSClient, queueUrl: string): Promise<number | undefined> {
  try {
    const answer = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] }),
    );
    const policy = answer?.Attributes?.RedrivePolicy;
    if (!policy) return undefined;
    const count = Number((JSON.parse(policy) as { maxReceiveCount?: unknown }).maxReceiveCount);
    return Number.isInteger(count) && count > 0 ? count : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The queue's `MessageRetentionPeriod` in seconds (how long SQS keeps a message); undefined when it cannot be read:
 * the listing goes on without the deletion times.
 */
export async function retentionSecondsOf(sqs: SQSClient, queueUrl: string): Promise<number | undefined> {
  try {
    const answer = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['MessageRetentionPeriod'] }),
    );
    const seconds = Number(answer?.Attributes?.MessageRetentionPeriod);
    return Number.isInteger(seconds) && seconds > 0 ? seconds : undefined;
  } catch {
    return undefined;
  }
}

/** Receives up to `max` (<= 10) messages and hides them for `holdSeconds`. */
export async function receiveHeld(
  sqs: SQSClient,
  queueUrl: string,
  options: { max: number; holdSeconds: number; waitSeconds: number },
): Promise<Message[]> {
  const answer = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: Math.max(1, Math.min(10, options.max)),
      VisibilityTimeout: options.holdSeconds,
      WaitTimeSeconds: options.waitSeconds,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['All'],
    }),
  );
  return answer.Messages ?? [];
}

/**
 * Makes held messages visible again at once. Returns how many were not (they reappear when the hold ends): those SQS
 * refused, and, once a call fails, the ones it and the calls after it would have handed back.
 */
export async function releaseHeld(
  sqs: SQSClient,
  queueUrl: string,
  receiptHandles: readonly string[],
  onAnswered?: (handles: number) => void,
): Promise<number> {
  return (await holdFor(sqs, queueUrl, receiptHandles, 0, onAnswered)).size;
}

/**
 * How many `ChangeMessageVisibilityBatch` calls a hold or release has in flight at once: a pass over a DLQ of tens of
 * thousands hands back thousands of batches of ten, which one after another took longer than the read itself.
 */
export const VISIBILITY_CALLS_AT_ONCE = 8;

/**
 * Holds the messages for `seconds` from now (0 makes them visible again), {@link VISIBILITY_CALLS_AT_ONCE} batches
 * at a time. Returns the receipt handles that were not: those SQS refused, and, once a call fails, the ones it was
 * for and those of the calls not started yet (calls already under way finish and count as they end).
 * `onAnswered` is told, as each call SQS answers ends, how many receipt handles it was for (held or refused).
 */
export async function holdFor(
  sqs: SQSClient,
  queueUrl: string,
  receiptHandles: readonly string[],
  seconds: number,
  onAnswered?: (handles: number) => void,
): Promise<ReadonlySet<string>> {
  const notHeld = new Set<string>();
  const chunks: string[][] = [];
  for (let i = 0; i < receiptHandles.length; i += 10) chunks.push(receiptHandles.slice(i, i + 10));
  let failed = false;
  const holdChunk = async (chunk: readonly string[]) => {
    try {
      const answer = await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((handle, n) => ({
            Id: String(n),
            ReceiptHandle: handle,
            VisibilityTimeout: seconds,
          })),
        }),
      );
      for (const refused of answer.Failed ?? []) notHeld.add(chunk[Number(refused.Id)] ?? '');
      onAnswered?.(chunk.length);
    } catch {
      // Each call is already tried again on a transient error: the next ones would only wait as long to fail.
      failed = true;
      for (const handle of chunk) notHeld.add(handle);
    }
  };
  const started = await mapLimited(chunks, VISIBILITY_CALLS_AT_ONCE, holdChunk, { stopWhen: () => failed });
  for (const chunk of chunks.slice(started.length)) for (const handle of chunk) notHeld.add(handle);
  return notHeld;
}

/** Approximate counts of a queue. */
export interface QueueDepth {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
}

/** `GetQueueAttributes` for the three approximate counts. */
export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<QueueDepth> {
  const answer = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  const count = (name: QueueAttributeName) => Number(answer.Attributes?.[name] ?? 0) || 0;
  return {
    visible: count('ApproximateNumberOfMessages'),
    inFlight: count('ApproximateNumberOfMessagesNotVisible'),
    delayed: count('ApproximateNumberOfMessagesDelayed'),
  };
}

/** Compact, JSON-friendly form of a dead letter for `failed list`. */
export function summarize(letter: DeadLetter) {
  return {
    messageId: letter.messageId,
    id: letter.event.id ?? null,
    source: letter.event.source ?? null,
    type: letter.event.type ?? null,
    receivedAt: letter.envelope?.receivedAt ?? null,
    sentAt: letter.sentAt ?? null,
    receiveCount: letter.receiveCount ?? null,
    /** Set on a copy sent by `hookline replay`: the run's id (the original has the same envelope id). */
    replayId: letter.envelope?.replay?.id ?? null,
    /** A job's enqueue (the producer's dedupe claim): a job id sent again after its dedupe window is new work. */
    generation: letter.envelope?.generation ?? null,
    ...(letter.messageGroupId ? { messageGroupId: letter.messageGroupId } : {}),
    // A fair queue's tenant: the consumer's copy in a standard DLQ has no group id, only this attribute.
    tenant: letter.messageAttributes[MESSAGE_ATTRIBUTES.tenant]?.StringValue ?? null,
    error: letter.failure.errorName
      ? `${letter.failure.errorName}: ${letter.failure.errorMessage ?? ''}`.trim()
      : (letter.failure.errorMessage ?? null),
    failure: letter.failure,
    ...(letter.envelopeError ? { envelopeError: letter.envelopeError } : {}),
  };
}
export type DeadLetterSummary = ReturnType<typeof summarize>;

/** What names the event a dead letter is a copy of. */
type EventFields = Pick<DeadLetterSummary, 'id' | 'source' | 'generation' | 'replayId'>;

/**
 * The event a dead letter is a copy of, as the consumer's idempotency keys its work (`idempotencyWorkKey`): source and
 * id (ids are unique per source only), a job's generation and a replay's run. Two dead letters with one key are two
 * copies of one event, which idempotency runs once; an original and its replay are two events. Undefined for a
 * letter with no id.
 */
export function eventKeyOf(letter: EventFields): string | undefined {
  if (letter.id === null) return undefined;
  return idempotencyWorkKey('', {
    source: letter.source ?? '',
    id: letter.id,
    generation: letter.generation ?? undefined,
    replay: letter.replayId === null ? undefined : { id: letter.replayId },
  });
}

/** An event a dead-letter queue holds more than once, and the SQS message id of each copy. */
export interface EventHeldMoreThanOnce {
  readonly id: string;
  readonly source: string | null;
  readonly type: string | null;
  readonly replayId: string | null;
  readonly generation: string | null;
  readonly copies: number;
  readonly messageIds: readonly string[];
}

type CopiedLetter = EventFields & Pick<DeadLetterSummary, 'type' | 'messageId'>;

/**
 * Counts the events among dead letters as they are read, and which are there more than once: a consumer that stopped
 * between a record's DLQ send and its delete (a crash, an out-of-memory kill, `kill -9` locally) dead-letters it again
 * when it comes back. Keeps one SQS message id per event (as the scan keeps one per message), a list only for copies.
 */
export class EventCopies {
  /** Per event: its one message's SQS id, or (held more than once) every copy read. */
  private readonly byEvent = new Map<string, string | CopiedLetter[]>();
  private keyless = 0;

  add(letter: CopiedLetter): void {
    const key = eventKeyOf(letter);
    if (key === undefined) {
      this.keyless++;
      return;
    }
    const earlier = this.byEvent.get(key);
    if (earlier === undefined) this.byEvent.set(key, letter.messageId);
    // The first copy's fields are the event's, as the second's are: only its message id is its own.
    else if (typeof earlier === 'string') this.byEvent.set(key, [{ ...letter, messageId: earlier }, letter]);
    else earlier.push(letter);
  }

  /** How many events the letters added are copies of (a letter without an id counts as one). */
  get events(): number {
    return this.byEvent.size + this.keyless;
  }

  /** The events added more than once, most copies first (ties in the order first read). */
  heldMoreThanOnce(): EventHeldMoreThanOnce[] {
    const held: EventHeldMoreThanOnce[] = [];
    for (const copies of this.byEvent.values()) {
      if (typeof copies === 'string') continue;
      const [first] = copies;
      if (!first) continue;
      held.push({
        id: first.id ?? '',
        source: first.source,
        type: first.type,
        replayId: first.replayId,
        generation: first.generation,
        copies: copies.length,
        messageIds: copies.map((c) => c.messageId),
      });
    }
    return held.sort((a, b) => b.copies - a.copies);
  }
}
