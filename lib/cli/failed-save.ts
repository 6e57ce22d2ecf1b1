/**
 * `hookline failed save <queue>`: every dead letter of a queue (or of one failure) to a file `failed restore` puts
 * back, before SQS deletes them at the end of the DLQ's retention. It reads as `failed summary` does (the whole
 * DLQ, every letter handed back at the end) and deletes nothing; a claim-checked letter's body is read from the
 * payload bucket into the file too, as the bucket deletes it `payloads.expiry` after it arrived.
 */
import { randomUUID } from 'node:crypto';
import { isFifoQueueName } from '../../lambda/shared/contracts';
import { plural } from '../../lambda/shared/plural';
import { CREDENTIAL_HEADERS } from '../../lambda/shared/senders';
import { heldByOthers } from '../console/ui/held-by-others';
import { type Backend, contextOf } from './backend';
import { DEFAULT_HOLD_SECONDS, FIFO_GROUPS_HELD, nothingMatched } from './dead-letter-notes';
import { type DeadLetterRead, readDeadLetters } from './dead-letter-scan';
import { type DeadLetter, EventCopies, type QueueDepth, queueDepth, summarize } from './dead-letters';
import { explainError } from './errors';
import { type ReadableLetterContext, readableLetter, retentionOf } from './failed';
import { failureKeyGiven, optionalFailureSelector } from './failure-groups';
import { hint, nextCommand, type Output } from './output';
import {
  SAVED_FORMAT,
  SAVED_VERSION,
  type SavedEnd,
  type SavedHeader,
  type SavedLetter,
  savedMessageOf,
} from './saved-dead-letters';
import { StoredBodyReader } from './stored-bodies';
import { type DeadLetterQueueTarget, deadLetterQueueOf, type Target } from './target';
import { scheduleContextOf } from './undelivered-schedules';

export interface FailedSaveOptions {
  readonly queue: string;
  /** Only dead letters of this failure: its key as `failed summary` prints it. */
  readonly failure?: string;
  /** Writes one line of the file (without its newline), in order: header, letters, end line. */
  readonly write: (line: string) => void;
  /** The file written, for the result (null: stdout). */
  readonly file: string | null;
  /** Headers the readable fields leave out, as `failed show` does. @default the senders' credential headers */
  readonly credentialHeaders?: ReadonlySet<string>;
  /** Aborted (Ctrl-C): stop between batches, hand back what was held, end the file as incomplete. */
  readonly signal?: AbortSignal;
}

export interface FailedSaveResult {
  readonly queue: string;
  readonly deadLetterQueueUrl: string;
  /** Where the letters went: the `--out` file, null for stdout. */
  readonly file: string | null;
  readonly saved: number;
  /** The events the saved letters are copies of. */
  readonly events: number;
  /** Saved letters whose body is in S3 (a claim check): SQS holds the reference, the file the body too. */
  readonly claimChecked: number;
  /** Claim-checked letters whose body the file holds (`payload`): a restore uploads it again. */
  readonly payloadsSaved: number;
  /** Claim-checked letters whose body the payload bucket no longer had: no save or restore brings it back. */
  readonly payloadsGone: number;
  /** Claim-checked letters whose body could not be read (`payloadNotSaved` says why): save again once it can be. */
  readonly payloadsNotSaved: number;
  /** Why no body was read after the first (S3 refused it), else null. */
  readonly payloadsRefused: string | null;
  /** Whether every dead letter the read could see is saved (the file's end line says the same). */
  readonly complete: boolean;
  /** Dead letters another reader held when the save started: not saved. */
  readonly heldByOthers: number;
  /** FIFO: about how many dead letters waited behind the earliest of their group, which the read held: not saved. */
  readonly behindHeldGroups: number;
  readonly interrupted: boolean;
  /** Messages that could not be made visible again (they return when the hold ends). */
  readonly notReleased: number;
  readonly failure: string | null;
  readonly deadLetterRetentionSeconds: number | null;
}

/** Saves the dead letters of a queue, line by line through `options.write`; every one stays in the DLQ. */
export async function failedSave(
  backend: Backend,
  target: Target,
  options: FailedSaveOptions,
): Promise<FailedSaveResult> {
  const queue = deadLetterQueueOf(target, options.queue);
  const wanted = optionalFailureSelector(options.failure, { output: backend.output, queue: queue.name });
  const failure = options.failure === undefined ? null : failureKeyGiven(options.failure);
  try {
    const depth = await queueDepth(backend.sqs, queue.deadLetterUrl);
    const retention = await retentionOf(backend, queue);
    options.write(JSON.stringify(headerOf(queue, target, failure)));
    const from = {
      context: scheduleContextOf(target, queue.name),
      retentionSeconds: retention,
      credentialHeaders: options.credentialHeaders ?? CREDENTIAL_HEADERS,
    };
    const tally = new SaveTally();
    const bodies = new StoredBodyReader(backend.s3, target);
    const read = await readDeadLetters(
      backend,
      queue,
      {
        holdSeconds: DEFAULT_HOLD_SECONDS,
        ...(options.signal ? { signal: options.signal } : {}),
        progress: { label: `saved from the ${queue.name} DLQ`, depth: depth.visible, queue: queue.name },
      },
      (letter) => {
        tally.scanned++;
        if (wanted && !wanted(letter)) return false;
        const line = tally.add(letter, from);
        if (!line.payloadRef) {
          options.write(JSON.stringify(line));
          return false;
        }
        // One body at a time, written before the next is read: the file, not memory, holds them.
        return withStoredBody(bodies, line).then((whole) => {
          options.write(JSON.stringify(whole));
          return false;
        });
      },
    );
    // A failure no dead letter has is an error, as for failed list: an empty file would read as "nothing to save".
    if (wanted && tally.saved === 0 && !read.interrupted) {
      throw nothingMatched(backend.output, queue.name, { failure: options.failure }, depth.inFlight, 'saved');
    }
    const notSaved = notSavedOf(depth, tally.scanned, read);
    const complete = notSaved.heldByOthers === 0 && notSaved.behindHeldGroups === 0 && !read.interrupted;
    const end: SavedEnd = { end: true, letters: tally.saved, complete, notSaved };
    options.write(JSON.stringify(end));
    return {
      queue: queue.name,
      deadLetterQueueUrl: queue.deadLetterUrl,
      file: options.file,
      saved: tally.saved,
      events: tally.copies.events,
      claimChecked: tally.claimChecked,
      payloadsSaved: bodies.saved,
      payloadsGone: bodies.gone,
      payloadsNotSaved: bodies.notSaved,
      payloadsRefused: bodies.refused ?? null,
      complete,
      ...notSaved,
      notReleased: read.notReleased,
      failure,
      deadLetterRetentionSeconds: retention,
    };
  } catch (error) {
    throw explainError(error, contextOf(target, queue.name));
  }
}

function headerOf(queue: DeadLetterQueueTarget, target: Target, failure: string | null): SavedHeader {
  return {
    format: SAVED_FORMAT,
    version: SAVED_VERSION,
    saveId: randomUUID(),
    queue: queue.name,
    target: target.description,
    fifo: isFifoQueueName(queue.deadLetterUrl),
    failure,
    savedAt: new Date().toISOString(),
  };
}

/** The letters a save read, and the line of each it keeps. */
class SaveTally {
  scanned = 0;
  saved = 0;
  claimChecked = 0;
  readonly copies = new EventCopies();

  add(letter: DeadLetter, from: ReadableLetterContext): SavedLetter {
    this.saved++;
    const line: SavedLetter = { n: this.saved, ...readableLetter(letter, from), sqs: savedMessageOf(letter) };
    if (line.payloadRef) this.claimChecked++;
    this.copies.add(summarize(letter));
    return line;
  }
}

/** A claim-checked letter's line with its body read from the payload bucket, or with why it is not there. */
async function withStoredBody(bodies: StoredBodyReader, line: SavedLetter): Promise<SavedLetter> {
  const ref = line.payloadRef;
  if (!ref) return line;
  const read = await bodies.read(ref);
  if ('payload' in read) return { ...line, payload: read.payload };
  return { ...line, payloadNotSaved: 'gone' in read ? read.why : read.notSaved };
}

/** What the DLQ held that a read of `scanned` letters could not save, from its depth when the save started. */
function notSavedOf(depth: QueueDepth, scanned: number, read: DeadLetterRead): SavedEnd['notSaved'] {
  // SQS returns a FIFO group's later letters only once its earlier ones leave the queue, and this read leaves them.
  const behindHeldGroups =
    read.heldFifoGroups > 0 && !read.interrupted ? Math.max(0, depth.visible - scanned) : 0;
  // SQS's in-flight count lags (a `failed list` just before hands its letters back at once): a read that met as
  // many letters as the DLQ held missed none, whatever that count still says.
  const missed = Math.max(0, depth.visible + depth.inFlight - scanned);
  return {
    heldByOthers: read.interrupted ? depth.inFlight : Math.min(depth.inFlight, missed),
    behindHeldGroups,
    interrupted: read.interrupted,
  };
}

/**
 * What a save did, for a person: on stdout after a save to `--out`, as notes on stderr when stdout carries the
 * letters themselves.
 */
export function renderFailedSave(output: Output, result: FailedSaveResult): void {
  const c = output.colors;
  const say =
    result.file === null ? (text: string) => output.note(text) : (text: string) => output.line(text);
  const of = result.failure === null ? '' : ` of failure ${result.failure}`;
  const where = result.file === null ? 'stdout' : result.file;
  const events = result.events < result.saved ? ` (${plural(result.events, 'event')})` : '';
  const one = result.saved === 1;
  say(
    `saved ${c.green(String(result.saved))} ${one ? 'dead letter' : 'dead letters'}${of}${events} of the ${result.queue} dead-letter queue to ${where} (${one ? 'it stays' : 'they stay'} in the DLQ)`,
  );
  for (const note of unsavedNotes(output, result)) say(c.yellow(note));
  for (const note of storedBodyNotes(output, result)) say(note);
  if (result.file !== null && result.saved > 0)
    hint(output, `put them back: ${nextCommand(output, `failed restore ${result.queue} ${result.file}`)}`);
}

/** What the save did of the bodies in S3 (claim checks), one line each. */
function storedBodyNotes(output: Output, result: FailedSaveResult): string[] {
  const c = output.colors;
  const of = (n: number) => plural(n, 'body', 'bodies');
  const notes: string[] = [];
  if (result.payloadsSaved > 0) {
    notes.push(
      `${of(result.payloadsSaved)} stored in S3 (claim checks) saved in the file too: a restore uploads ${result.payloadsSaved === 1 ? 'it' : 'them'} again, whenever the payload bucket deleted ${result.payloadsSaved === 1 ? 'it' : 'them'} (payloads.expiry)`,
    );
  }
  if (result.payloadsGone > 0) {
    notes.push(
      c.yellow(
        `${of(result.payloadsGone)} stored in S3 ${result.payloadsGone === 1 ? 'was' : 'were'} gone already (payloads.expiry): the file holds only ${result.payloadsGone === 1 ? 'its' : 'their'} reference, and ${result.payloadsGone === 1 ? 'its letter fails' : 'their letters fail'} again with PayloadGoneError; send ${result.payloadsGone === 1 ? 'that event' : 'those events'} again from the source`,
      ),
    );
  }
  if (result.payloadsNotSaved > 0) {
    const why = result.payloadsRefused ?? "each letter's payloadNotSaved says why";
    notes.push(
      c.yellow(
        `${of(result.payloadsNotSaved)} stored in S3 could not be read, so the file holds only ${result.payloadsNotSaved === 1 ? 'its' : 'their'} reference: ${why}; save again once ${result.payloadsNotSaved === 1 ? 'it' : 'they'} can be read, before the payload bucket deletes ${result.payloadsNotSaved === 1 ? 'it' : 'them'} (payloads.expiry)`,
      ),
    );
  }
  return notes;
}

/** Why a save is not the whole DLQ, one line each. */
function unsavedNotes(output: Output, result: FailedSaveResult): string[] {
  const save = (file: string) => nextCommand(output, `failed save ${result.queue} --out ${file}`);
  return [
    ...(result.interrupted ? ['stopped by Ctrl-C: the file ends as incomplete ("complete": false)'] : []),
    ...(result.heldByOthers > 0
      ? [
          `${heldByOthers(result.heldByOthers)} and could not be saved: save again once that hold ends (up to ${DEFAULT_HOLD_SECONDS} s after a redrive stopped) with ${save(result.file ?? '<file>')}`,
        ]
      : []),
    ...(result.behindHeldGroups > 0
      ? [
          `${FIFO_GROUPS_HELD}, so about ${result.behindHeldGroups} could not be read and are not saved: SQS shows them once the earlier letters of their group leave the DLQ (redriven or deleted); then save those with ${save('<another file>')}`,
        ]
      : []),
  ];
}
