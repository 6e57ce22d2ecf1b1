/**
 * `hookline failed list|summary|show`: what is in a dead-letter queue and why, without consuming anything.
 */
import { isUtf8 } from 'node:buffer';
import { envelopeBodyBytes } from '../../lambda/shared/envelope';
import { JOB_DEBOUNCE_HEADER } from '../../lambda/shared/job';
import { sanitizeId } from '../../lambda/shared/safe-ids';
import { CREDENTIAL_HEADERS } from '../../lambda/shared/senders';
import { deletedBySqsAt } from '../console/ui/dead-letter-expiry';
import { heldByOthers } from '../console/ui/held-by-others';
import { type Backend, contextOf } from './backend';
import { AFTER_THE_HOLD, DEFAULT_HOLD_SECONDS, FIFO_GROUPS_HELD, nothingMatched } from './dead-letter-notes';
import { type PassProgress, readDeadLetters } from './dead-letter-scan';
import {
  type DeadLetter,
  type DeadLetterSummary,
  EventCopies,
  type EventHeldMoreThanOnce,
  queueDepth,
  retentionSecondsOf,
  summarize,
} from './dead-letters';
import { CliError, explainError, NotFoundError, needing, UsageError } from './errors';
import { type FailureGroup, FailureGroups, optionalFailureSelector } from './failure-groups';
import { nextCommand } from './output';
import { type DeadLetterQueueTarget, deadLetterQueueOf, noReasonRecorded, type Target } from './target';
import {
  type ScheduleContext,
  scheduleContextOf,
  type UndeliveredSchedule,
  undeliveredScheduleOf,
} from './undelivered-schedules';

/** How long a read keeps messages hidden if the CLI dies before releasing them. */
const READ_HOLD_SECONDS = 30;

/**
 * How long a read of the whole DLQ (`failed summary`, `failed show`, a job's dead letter) holds what it read: a large
 * DLQ can take longer to read than 30 s, and a message whose hold ended would come back among the unread ones, so
 * the scan could end before reading them all (the hold redrive and failed delete use; the end of the read, an
 * error and Ctrl-C hand them back at once).
 */
const WHOLE_QUEUE_HOLD_SECONDS = DEFAULT_HOLD_SECONDS;

/**
 * A dead letter as `failed list` and `failed show` give it: its summary, in a dead-letter queue Scheduler fills,
 * what the delivery Scheduler gave up on is (null elsewhere), and when SQS deletes it.
 */
export type FailedLetter = DeadLetterSummary & {
  readonly scheduled: UndeliveredSchedule | null;
  /**
   * When SQS deletes the letter (`dead-letter-expiry`): its `SentTimestamp` plus the DLQ's retention; for a letter SQS
   * moved out of a FIFO queue, the earliest it may. Null when the retention or the send time cannot be read.
   */
  readonly deletedBySqsAt: string | null;
};

function describeLetter(
  letter: DeadLetter,
  context: ScheduleContext,
  retentionSeconds: number | null,
): FailedLetter {
  return {
    ...summarize(letter),
    scheduled: undeliveredScheduleOf(letter, context),
    deletedBySqsAt: deletedBySqsAt(letter.sentAt, retentionSeconds ?? undefined),
  };
}

/** The DLQ's retention in seconds, null when it cannot be read (the listing goes on without deletion times). */
export async function retentionOf(backend: Backend, queue: DeadLetterQueueTarget): Promise<number | null> {
  return (await retentionSecondsOf(backend.sqs, queue.deadLetterUrl)) ?? null;
}

export interface FailedListOptions {
  readonly queue: string;
  /** Most messages to show. @default 20 */
  readonly limit?: number;
  /** Only dead letters of this failure: its key as `failed summary` prints it. */
  readonly failure?: string;
  /**
   * Called as the read goes on (for each dead letter read, and as it hands them back), so a caller bounding how long
   * local mode may stay silent (the console's page) tells a long read of a large queue from one that gets no answer.
   * @default - nothing is told
   */
  readonly onProgress?: () => void;
}

export interface FailedListResult {
  readonly queue: string;
  readonly deadLetterQueueUrl: string;
  /**
   * Approximate number of messages in the DLQ when the command started (at least as many as were read), counted
   * as `status` counts them: visible and held by a reader.
   */
  readonly approximateDepth: number;
  /**
   * Messages another reader (a redrive, the console, another `failed list`) held when the command started: SQS
   * returns none of them until that hold ends, so the listing cannot show them.
   */
  readonly heldByOthers: number;
  readonly messages: readonly FailedLetter[];
  /** The events `messages` are copies of: fewer than the messages when an event is there more than once. */
  readonly events: number;
  /** The events among `messages` that are there more than once, with each copy's SQS message id. */
  readonly eventsHeldMoreThanOnce: readonly EventHeldMoreThanOnce[];
  /** Messages that could not be made visible again (they return when the hold ends: 30 s, 300 s with --failure). */
  readonly notReleased: number;
  /** The `--failure` key the listing was narrowed to, else null. */
  readonly failure: string | null;
  /** The DLQ's `MessageRetentionPeriod` in seconds, null when it could not be read. */
  readonly deadLetterRetentionSeconds: number | null;
}

/** Lists dead-lettered messages with their failure reasons; they all stay in the DLQ. */
export async function failedList(
  backend: Backend,
  target: Target,
  options: FailedListOptions,
): Promise<FailedListResult> {
  const queue = deadLetterQueueOf(target, options.queue);
  const limit = options.limit ?? 20;
  if (!Number.isInteger(limit) || limit < 1)
    throw new CliError(`--limit must be a positive integer (got ${limit})`);
  const wanted = optionalFailureSelector(options.failure, { output: backend.output, queue: queue.name });
  try {
    const depth = await queueDepth(backend.sqs, queue.deadLetterUrl);
    const retention = await retentionOf(backend, queue);
    const letters: DeadLetter[] = [];
    // Always scan: the approximate count lags behind SQS (and an expired hold can still read as in flight), so
    // "0" is no proof the DLQ is empty. An empty DLQ costs two short receives.
    const { notReleased } = await readDeadLetters(
      backend,
      queue,
      // Narrowed to one failure, the read may go through the whole DLQ before it has enough to show.
      {
        holdSeconds: wanted ? WHOLE_QUEUE_HOLD_SECONDS : READ_HOLD_SECONDS,
        ...(options.onProgress ? { onHandBack: options.onProgress } : {}),
      },
      (letter) => {
        options.onProgress?.();
        if (wanted && !wanted(letter)) return false;
        letters.push(letter);
        return letters.length >= limit;
      },
    );
    // A failure no dead letter has is an error, as for redrive and failed delete: an empty listing would read as
    // "that failure is gone" when the key may be mistyped or of another queue.
    if (wanted && letters.length === 0) {
      throw nothingMatched(
        backend.output,
        queue.name,
        { failure: options.failure },
        depth.inFlight,
        'listed',
      );
    }
    const context = scheduleContextOf(target, queue.name);
    const messages = letters.map((letter) => describeLetter(letter, context, retention));
    const copies = new EventCopies();
    for (const message of messages) copies.add(message);
    return {
      queue: queue.name,
      deadLetterQueueUrl: queue.deadLetterUrl,
      // A dead letter another reader holds is still there: counted, though this read cannot receive it.
      approximateDepth: Math.max(depth.visible + depth.inFlight, letters.length),
      heldByOthers: depth.inFlight,
      messages,
      events: copies.events,
      eventsHeldMoreThanOnce: copies.heldMoreThanOnce(),
      notReleased,
      failure: wanted ? (options.failure ?? '').trim().toLowerCase() : null,
      deadLetterRetentionSeconds: retention,
    };
  } catch (error) {
    throw explainError(error, contextOf(target, queue.name));
  }
}

export interface FailedSummaryOptions {
  readonly queue: string;
  /** Aborted (Ctrl-C): stop between batches, hand back what was held and summarize what was read. */
  readonly signal?: AbortSignal;
}

export interface FailedSummaryResult {
  readonly queue: string;
  readonly deadLetterQueueUrl: string;
  /** Dead letters read, each message once: the sum of the groups' counts. */
  readonly read: number;
  /** The events the dead letters read are copies of: fewer than `read` when an event is there more than once. */
  readonly events: number;
  /** The events read more than once, with each copy's SQS message id. */
  readonly eventsHeldMoreThanOnce: readonly EventHeldMoreThanOnce[];
  /** Messages another reader held when the command started: not read, so in no group. */
  readonly heldByOthers: number;
  readonly groups: readonly FailureGroup[];
  /** Messages that could not be made visible again (they return when the 300 s hold ends). */
  readonly notReleased: number;
  /** Stopped by Ctrl-C before the end of the queue: the groups count the `read` messages only. */
  readonly interrupted: boolean;
  /**
   * FIFO: about how many dead letters the read could not receive because an earlier message of their group was
   * held by it (SQS returns a group's later messages only once its earlier ones leave the queue), so in no group.
   */
  readonly behindHeldGroups: number;
  /** The DLQ's `MessageRetentionPeriod` in seconds, null when it could not be read (then no group says when SQS deletes). */
  readonly deadLetterRetentionSeconds: number | null;
}

/**
 * Reads the whole dead-letter queue and groups its messages by failure (`failure-groups`); every message stays in
 * place. Unlike `failed list`, it has no limit: a summary of part of the queue would miscount every group.
 */
export async function failedSummary(
  backend: Backend,
  target: Target,
  options: FailedSummaryOptions,
): Promise<FailedSummaryResult> {
  const queue = deadLetterQueueOf(target, options.queue);
  const copies = new EventCopies();
  const context = scheduleContextOf(target, queue.name);
  try {
    const depth = await queueDepth(backend.sqs, queue.deadLetterUrl);
    const retention = await retentionOf(backend, queue);
    const groups = new FailureGroups(noReasonRecorded(queue.name), retention);
    const { notReleased, interrupted, heldFifoGroups } = await readDeadLetters(
      backend,
      queue,
      {
        holdSeconds: WHOLE_QUEUE_HOLD_SECONDS,
        ...(options.signal ? { signal: options.signal } : {}),
        progress: { label: `read in the ${queue.name} DLQ`, depth: depth.visible, queue: queue.name },
      },
      (letter) => {
        const summary = summarize(letter);
        const subject = undeliveredScheduleOf(letter, context)?.subject;
        groups.add(subject === undefined ? summary : { ...summary, subject });
        copies.add(summary);
        return false;
      },
    );
    return {
      queue: queue.name,
      deadLetterQueueUrl: queue.deadLetterUrl,
      read: groups.letters,
      events: copies.events,
      eventsHeldMoreThanOnce: copies.heldMoreThanOnce(),
      heldByOthers: depth.inFlight,
      groups: groups.result(),
      notReleased,
      interrupted,
      behindHeldGroups: heldFifoGroups > 0 && !interrupted ? Math.max(0, depth.visible - groups.letters) : 0,
      deadLetterRetentionSeconds: retention,
    };
  } catch (error) {
    throw explainError(error, contextOf(target, queue.name));
  }
}

/**
 * The actions reading a dead-letter queue needs first, named by its access denial (`AccessDeniedError.action`), so
 * that a read of several queues can show the others. Its other calls (the source queue's redrive policy, handing
 * held letters back) fail without failing the read.
 */
const RECEIVE = 'sqs:ReceiveMessage';
const GET_ATTRIBUTES = 'sqs:GetQueueAttributes';
/** What a receive from a queue encrypted with a KMS key of the account's (SSE-KMS) also needs, on that key. */
const DECRYPT = 'kms:Decrypt';

/**
 * How a read of a whole dead-letter queue tells how far it is: it takes seconds per thousand letters (receive after
 * receive), so a command shows a bar and the console's page keeps waiting while it goes on.
 */
export interface DeadLetterReading {
  /** Draw a progress bar on the command's output (stderr). @default false */
  readonly progressBar?: boolean;
  /** Called for each dead letter read, and as the read hands them back. @default - nothing is told */
  readonly onProgress?: () => void;
}

/**
 * The dead letters of the dead-letter queue `name` (as `failed list` takes it) that `wanted` selects, read as
 * `failed show` reads them: every one stays in place.
 */
export async function findDeadLetters(
  backend: Backend,
  target: Target,
  name: string,
  wanted: (letter: DeadLetter) => boolean,
  reading: DeadLetterReading = {},
): Promise<DeadLetter[]> {
  const queue = deadLetterQueueOf(target, name);
  const found: DeadLetter[] = [];
  try {
    const progress = reading.progressBar ? await readProgressOf(backend, queue) : {};
    const told = reading.onProgress ? { onHandBack: reading.onProgress } : {};
    await needing(
      RECEIVE,
      readDeadLetters(
        backend,
        queue,
        { holdSeconds: WHOLE_QUEUE_HOLD_SECONDS, ...progress, ...told },
        (letter) => {
          reading.onProgress?.();
          if (wanted(letter)) found.push(letter);
          return false;
        },
      ),
      DECRYPT,
    );
  } catch (error) {
    throw explainError(error, contextOf(target, queue.name));
  }
  return found;
}

/**
 * The progress bar of a read of the whole dead-letter queue, its total the queue's depth; none when the depth cannot
 * be read (an identity that may receive but not count): the read goes on, its result is what matters.
 */
async function readProgressOf(
  backend: Backend,
  queue: DeadLetterQueueTarget,
): Promise<{ progress?: PassProgress }> {
  try {
    const { visible } = await queueDepth(backend.sqs, queue.deadLetterUrl);
    return { progress: { label: `read in the ${queue.name} DLQ`, depth: visible, queue: queue.name } };
  } catch {
    return {};
  }
}

export interface FailedShowOptions {
  readonly queue: string;
  /** Envelope id (the sender's delivery id) or SQS message id. */
  readonly id: string;
  /**
   * Headers never shown, lower-case: the configuration's credential headers (`credentialHeadersOfSources`), which
   * the ingest drops; a dead letter an older version wrote may still hold them.
   * @default the senders' own and the generic credential headers, without those a source's settings name
   */
  readonly credentialHeaders?: ReadonlySet<string>;
  /**
   * Stop at the first message with the envelope id instead of reading the whole DLQ to count every copy (the
   * console's event page shows one per DLQ); `matches` is then 1.
   * @default false
   */
  readonly firstMatch?: boolean;
  /**
   * As {@link FailedListOptions.onProgress}: called for each dead letter read, and as they are handed back.
   * @default - nothing is told
   */
  readonly onProgress?: () => void;
  /**
   * Whether the record of job `id` replaced a debounced send (`JobRecords.replacedDebouncedSend`): a debounced job's
   * dead letter is then of a cycle a later send replaced, which its consumer skips as `superseded` once redriven.
   * @default - not read: `superseded` is left out
   */
  readonly debouncedSendReplaced?: DebouncedSendReplaced;
}

/** Whether job `id`'s record replaced the debounced send `debounceSend` of its enqueue `generation`. */
export type DebouncedSendReplaced = (
  id: string,
  generation: string | undefined,
  debounceSend: string,
) => Promise<boolean>;

/**
 * `failed show` found no message with the id. `heldByOthers`: dead letters another reader held, which this read
 * could not receive, so the id may be among them (the console says so rather than "not in any DLQ").
 */
export class DeadLetterNotFoundError extends NotFoundError {
  constructor(
    message: string,
    readonly heldByOthers: number,
    /** FIFO: about how many dead letters the read could not receive behind the earliest of their group. */
    readonly behindHeldGroups = 0,
  ) {
    super(message);
  }
}

export interface FailedShowResult extends FailedLetter {
  readonly queue: string;
  /** How many messages in the DLQ have the id asked for; the first is shown. */
  readonly matches: number;
  /**
   * The events those messages are copies of: an original and its replays are several, one event dead-lettered twice
   * (a consumer stopped between its DLQ send and its delete) is one.
   */
  readonly events: number;
  readonly headers: Readonly<Record<string, string>>;
  /** The names of the credential headers the envelope holds, which `headers` leaves out (never their values). */
  readonly hiddenHeaders: readonly string[];
  readonly contentType: string | null;
  /** The body as text (base64 bodies decoded when they are UTF-8), or null when claim-checked in S3. */
  readonly body: string | null;
  /**
   * How `body` is written: `base64` when its bytes are not UTF-8 text (decoded, they would print as replacement
   * characters and could not be recovered), null when there is no inline body.
   */
  readonly bodyEncoding: 'utf8' | 'base64' | null;
  readonly payloadRef: { bucket: string; key: string; sizeBytes: number } | null;
  readonly messageAttributes: Readonly<Record<string, string>>;
  /**
   * A debounced job's dead letter: true when its record replaced its send (it names a later send of the cycle, or a
   * later send started a new cycle), so a redrive of it is skipped as `superseded` and its payload never runs; false
   * otherwise (it runs once redriven, unless the job was cancelled). Absent for any other letter, or when the job's
   * record could not be read.
   */
  readonly superseded?: boolean;
}

/** Shows one dead-lettered message in full; it stays in the DLQ. */
export async function failedShow(
  backend: Backend,
  target: Target,
  options: FailedShowOptions,
): Promise<FailedShowResult> {
  const queue = deadLetterQueueOf(target, options.queue);
  if (options.id.trim() === '') {
    throw new UsageError(
      `the id is empty: pass an id from ${nextCommand(backend.output, `failed list ${queue.name}`)}`,
    );
  }
  let matches: DeadLetter[];
  let retention: number | null = null;
  let heldElsewhere = 0;
  let behindHeldGroups = 0;
  try {
    // Held before this read: another reader holds them, so a miss may be one of them (counted as failed list does).
    const before = await needing(GET_ATTRIBUTES, queueDepth(backend.sqs, queue.deadLetterUrl));
    retention = await retentionOf(backend, queue);
    const read = await needing(RECEIVE, lettersWithId(backend, queue, options, before.visible), DECRYPT);
    matches = read.matches;
    heldElsewhere = before.inFlight;
    if (read.heldFifoGroups > 0) behindHeldGroups = Math.max(0, before.visible - read.read);
  } catch (error) {
    throw explainError(error, contextOf(target, queue.name));
  }
  const found = matches[0];
  if (!found && behindHeldGroups > 0) {
    throw new DeadLetterNotFoundError(
      `no message with id ${options.id} among those this read could receive from the ${queue.name} dead-letter queue: ` +
        `${FIFO_GROUPS_HELD}, so about ${behindHeldGroups} could not be read and it may be one of them: ` +
        `${nextCommand(backend.output, `failed list ${queue.name}`)} shows the earliest of each group; once those are redriven or deleted, run it again`,
      heldElsewhere,
      behindHeldGroups,
    );
  }
  if (!found && heldElsewhere > 0) {
    throw new DeadLetterNotFoundError(
      `no message with id ${options.id} among those this read could receive from the ${queue.name} dead-letter queue: ` +
        `${heldByOthers(heldElsewhere)} and could not be read: ${AFTER_THE_HOLD}, or list them with ${nextCommand(backend.output, `failed list ${queue.name}`)}`,
      heldElsewhere,
    );
  }
  if (!found) {
    throw new DeadLetterNotFoundError(
      `no message with id ${options.id} in the ${queue.name} dead-letter queue: list them with ${nextCommand(backend.output, `failed list ${queue.name}`)}`,
      0,
    );
  }
  const shown = readableLetter(found, {
    context: scheduleContextOf(target, queue.name),
    retentionSeconds: retention,
    credentialHeaders: options.credentialHeaders ?? CREDENTIAL_HEADERS,
  });
  const superseded = await debouncedSendSuperseded(found, options.debouncedSendReplaced);
  return {
    queue: queue.name,
    ...shown,
    matches: matches.length,
    events: eventsAmong(matches),
    ...(superseded === undefined ? {} : { superseded }),
  };
}

/**
 * Whether a debounced job's dead letter is of a send its record replaced, so its consumer skips it as `superseded`
 * once redriven (`failed show` marks it, a redrive leaves it); undefined for any other letter, without a reader, or
 * when its record could not be read (the letter is still shown, and moved: saying nothing is not saying it runs).
 */
export async function debouncedSendSuperseded(
  letter: DeadLetter,
  replaced: DebouncedSendReplaced | undefined,
): Promise<boolean | undefined> {
  const envelope = letter.envelope;
  const send = envelope?.headers?.[JOB_DEBOUNCE_HEADER];
  if (!envelope || send === undefined || !replaced) return undefined;
  return replaced(envelope.id, envelope.generation, send).catch(() => undefined);
}

/** A dead letter as `failed show` shows it, without what only a search for one id knows (`matches`, `events`). */
export type ReadableLetter = Omit<FailedShowResult, 'queue' | 'matches' | 'events'>;

/** What `readableLetter` needs of the dead-letter queue a letter was read from. */
export interface ReadableLetterContext {
  readonly context: ScheduleContext;
  readonly retentionSeconds: number | null;
  /** Headers never shown, lower-case (`FailedShowOptions.credentialHeaders`). */
  readonly credentialHeaders: ReadonlySet<string>;
}

/**
 * A dead letter in full as a person reads it (`failed show`, and each letter `failed save` writes): its summary,
 * headers without credentials, the body decoded, the claim check, the attributes as text.
 */
export function readableLetter(letter: DeadLetter, from: ReadableLetterContext): ReadableLetter {
  const envelope = letter.envelope;
  const { shown, hidden } = withoutCredentialHeaders(envelope?.headers ?? {}, from.credentialHeaders);
  return {
    ...describeLetter(letter, from.context, from.retentionSeconds),
    headers: shown,
    hiddenHeaders: hidden,
    contentType: envelope?.contentType ?? null,
    ...shownBody(letter),
    payloadRef: envelope?.payloadRef ?? null,
    messageAttributes: Object.fromEntries(
      Object.entries(letter.messageAttributes).map(([k, v]) => [
        k,
        v.StringValue ?? `<${v.DataType ?? 'binary'}>`,
      ]),
    ),
  };
}

/**
 * A dead letter's body as `failed show` prints it: an envelope's own body decoded (base64 when its bytes are not
 * UTF-8 text), or the raw message body of a letter that is not an envelope.
 */
function shownBody(letter: DeadLetter): Pick<FailedShowResult, 'body' | 'bodyEncoding'> {
  const envelope = letter.envelope;
  if (!envelope) return { body: letter.body, bodyEncoding: letter.body === null ? null : 'utf8' };
  const bytes = envelope.body === undefined ? null : envelopeBodyBytes(envelope);
  if (bytes === null) return { body: null, bodyEncoding: null };
  const bodyEncoding = isUtf8(bytes) ? 'utf8' : 'base64';
  return { body: bytes.toString(bodyEncoding), bodyEncoding };
}

/** How many events the dead letters are copies of. */
function eventsAmong(letters: readonly DeadLetter[]): number {
  const copies = new EventCopies();
  for (const letter of letters) copies.add(summarize(letter));
  return copies.events;
}

/**
 * Every copy with the envelope id `id` (an original and its replays, say), so the view says which one it shows; an
 * SQS message id names one message, so the scan stops there.
 */
async function lettersWithId(
  backend: Backend,
  queue: DeadLetterQueueTarget,
  options: Pick<FailedShowOptions, 'id' | 'firstMatch' | 'onProgress'>,
  depth: number,
): Promise<{ matches: DeadLetter[]; read: number; heldFifoGroups: number }> {
  const matches: DeadLetter[] = [];
  let read = 0;
  // A sender's id the ingest could not keep as it is was stored hashed: the sender's id finds it too.
  const storedId = sanitizeId(options.id);
  // Counting every copy reads the DLQ to its end (minutes for tens of thousands), so it shows how far it is.
  const progress = options.firstMatch
    ? {}
    : { progress: { label: `searched in the ${queue.name} DLQ`, depth, queue: queue.name } };
  const told = options.onProgress ? { onHandBack: options.onProgress } : {};
  const readOptions = { holdSeconds: WHOLE_QUEUE_HOLD_SECONDS, ...progress, ...told };
  const pass = await readDeadLetters(backend, queue, readOptions, (letter) => {
    read++;
    options.onProgress?.();
    if (letter.messageId === options.id) {
      matches.splice(0, matches.length, letter);
      return true;
    }
    if (letter.event.id !== options.id && letter.event.id !== storedId) return false;
    matches.push(letter);
    return options.firstMatch === true;
  });
  return { matches, read, heldFifoGroups: pass.heldFifoGroups };
}

/**
 * Headers minus every credential header (the ingest's rule, `credentialHeadersOf`), and the names of those left
 * out: a dead letter written before that rule covered a header still holds it.
 */
export function withoutCredentialHeaders(
  headers: Readonly<Record<string, string>>,
  credentials: ReadonlySet<string>,
): { shown: Record<string, string>; hidden: string[] } {
  const shown: Record<string, string> = {};
  const hidden: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (credentials.has(name.toLowerCase())) hidden.push(name);
    else shown[name] = value;
  }
  return { shown, hidden };
}
