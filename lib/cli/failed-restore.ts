/**
 * `hookline failed restore <queue> <file>`: puts the dead letters `failed save` wrote back in the queue's
 * dead-letter queue, as SQS held them (body, attributes, FIFO group), so `failed` and `redrive` work on them as
 * before. A claim-checked letter's saved body is uploaded again to the claim-check bucket before the letter is sent,
 * so its consumer finds it however long ago the bucket deleted it. Each upload done and each letter SQS took is
 * written to a journal beside the file as it goes: run again after a partial failure, the restore uploads and sends
 * only what is not in it, never one twice.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  SendMessageBatchCommand,
  type SendMessageBatchCommandOutput,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { entryBytes, SqsBatcher } from '../../lambda/shared/claim-check';
import { isFifoQueueName } from '../../lambda/shared/contracts';
import { plural } from '../../lambda/shared/plural';
import { type Backend, contextOf } from './backend';
import type { DeadLetter } from './dead-letters';
import { CliError, CredentialsError, type ErrorContext, errorLine, explainError } from './errors';
import { optionalFailureSelector } from './failure-groups';
import { type CommandHints, hint, nextCommand, type Output } from './output';
import {
  checkSavedFile,
  deadLetterOf,
  type SavedHeader,
  type SavedLetter,
  savedLetters,
  sqsAttributesOf,
} from './saved-dead-letters';
import { bodyReferring, uploadStoredBody, WRITE_STORED_BODY } from './stored-bodies';
import { type DeadLetterQueueTarget, deadLetterQueueOf, type Target } from './target';

export interface FailedRestoreOptions {
  readonly queue: string;
  readonly file: string;
  /** Only letters of this failure: its key as `failed summary` prints it. */
  readonly failure?: string;
  /** Aborted (Ctrl-C): stop between batches; the journal says what was sent. */
  readonly signal?: AbortSignal;
}

/** A saved letter SQS did not take, and why. */
export interface RestoreFailure {
  /** Its line's `n` in the saved file. */
  readonly n: number;
  /** Its SQS message id when saved. */
  readonly messageId: string;
  /** Its envelope id, null for a letter without one. */
  readonly id: string | null;
  readonly error: string;
}

export interface FailedRestoreResult {
  readonly queue: string;
  readonly deadLetterQueueUrl: string;
  readonly file: string;
  /** The file listing the saved SQS message id of every letter sent back (by this run or an earlier one). */
  readonly journal: string;
  readonly savedAt: string;
  /** Letters in the file. */
  readonly letters: number;
  /** Letters `--failure` selected (all of them without it). */
  readonly selected: number;
  /** Selected letters an earlier run sent back (in the journal): not sent again. */
  readonly alreadyRestored: number;
  readonly sent: number;
  readonly failed: number;
  readonly failures: readonly RestoreFailure[];
  /** Whether the saved file held every dead letter the save could see (its end line's `complete`). */
  readonly savedComplete: boolean;
  readonly interrupted: boolean;
  /** Letters Ctrl-C stopped the run before (not sent, not in the journal): a run again sends them. */
  readonly notReached: number;
  /** Where saved bodies go again: the pipeline's claim-check bucket (null: none was to upload). */
  readonly payloadBucket: string | null;
  /** Saved bodies this run uploaded again, each before its letter was sent. */
  readonly payloadsUploaded: number;
  /** Selected claim-checked letters whose file holds no body (gone when saved, or saved by an older hookline). */
  readonly payloadsMissing: number;
}

/** The journal of a restore of `file`: beside it, so a second run finds it. */
export const restoreJournalOf = (file: string): string => `${file}.restored`;

/** Sends the saved letters of `file` to the dead-letter queue of `options.queue`, ten at a time. */
export async function failedRestore(
  backend: Backend,
  target: Target,
  options: FailedRestoreOptions,
): Promise<FailedRestoreResult> {
  const queue = deadLetterQueueOf(target, options.queue);
  const wanted = optionalFailureSelector(options.failure, { output: backend.output, queue: queue.name });
  const { header, end, payloads } = await checkSavedFile(options.file, backend.output);
  refuseOtherPipeline(header, queue, target, options.file, backend.output);
  const journal = new RestoreJournal(restoreJournalOf(options.file), header, backend.output);
  const uploads = payloads > 0 ? new PayloadUploads(backend.s3, target, journal) : undefined;
  if (uploads) await uploads.refuseUnwritable(options.file, wanted);
  // The queue as it is now decides: a deduplication id is what SQS requires of a FIFO queue and refuses elsewhere.
  const run = new RestoreRun(backend.sqs, queue, journal, isFifoQueueName(queue.deadLetterUrl), uploads);
  const progress = backend.output.progress(`restored to the ${queue.name} DLQ`, end.letters);
  let done = 0;
  try {
    for await (const letter of savedLetters(options.file)) {
      // After a refused batch the rest is still gone through, each letter reported as not sent, with why.
      if (options.signal?.aborted) break;
      done++;
      progress.update(done);
      if (wanted && !wanted(deadLetterOf(letter.sqs))) continue;
      await run.add(letter);
    }
    // Also after Ctrl-C: the letters already taken into the last batch are sent, so the report counts every one.
    await run.flush();
  } catch (error) {
    throw explainError(error, contextOf(target, queue.name));
  } finally {
    progress.done();
  }
  if (wanted && run.selected === 0) {
    throw new CliError(
      `no letter in ${options.file} is of failure ${options.failure}: nothing was restored; its failures are those of ${nextCommand(backend.output, `failed summary ${queue.name}`)} when it was saved`,
    );
  }
  return {
    queue: queue.name,
    deadLetterQueueUrl: queue.deadLetterUrl,
    file: options.file,
    journal: journal.path,
    savedAt: header.savedAt,
    letters: end.letters,
    selected: run.selected,
    alreadyRestored: run.alreadyRestored,
    sent: run.sent,
    failed: run.failures.length,
    failures: run.failures,
    savedComplete: end.complete,
    interrupted: Boolean(options.signal?.aborted),
    notReached: end.letters - done,
    payloadBucket: uploads?.bucket ?? null,
    payloadsUploaded: uploads?.uploaded ?? 0,
    payloadsMissing: run.payloadsMissing,
  };
}

/** A file saved from another queue or pipeline is refused: its letters would land where they never failed. */
function refuseOtherPipeline(
  header: SavedHeader,
  queue: DeadLetterQueueTarget,
  target: Target,
  file: string,
  hints: CommandHints,
): void {
  if (header.queue !== queue.name) {
    throw new CliError(
      `${file} holds dead letters of the ${header.queue} queue, not ${queue.name}: restore it with ${nextCommand(hints, `failed restore ${header.queue} ${file}`)}`,
    );
  }
  if (header.target !== target.description) {
    throw new CliError(
      `${file} was saved from ${header.target}, not ${target.description}: restore it there (its --local, or --stack and --region)`,
    );
  }
}

/**
 * The saved SQS message ids of the letters a restore of one save sent back, one a line, appended as SQS takes each
 * batch, and `payload <id>` for a letter whose body was uploaded again. Its first line names the save, so a journal
 * of another save (a file saved again to the same path) is refused rather than taken to say what was sent; its second,
 * `run <id>`, names the restore run it journals, which a run again resumes (see {@link deduplicationIdOf}).
 */
class RestoreJournal {
  private readonly sentIds = new Set<string>();
  private readonly uploadedIds = new Set<string>();
  /** The run this journal resumes; undefined in a journal an older hookline began, which had none. */
  readonly runId: string | undefined;

  constructor(
    readonly path: string,
    header: SavedHeader,
    hints: CommandHints,
  ) {
    const first = `save ${header.saveId}`;
    if (!existsSync(path)) {
      this.runId = randomUUID();
      appendFileSync(path, `${first}\n${RUN_LINE}${this.runId}\n`, { mode: 0o600 });
      return;
    }
    const [head, ...ids] = readFileSync(path, 'utf8').split('\n');
    if (head !== first) {
      throw new CliError(
        `${path} is the journal of another save than ${header.saveId}: move it away to restore this file (${nextCommand(hints, `failed restore ${header.queue} <file>`)} then sends every letter)`,
      );
    }
    for (const id of ids) {
      if (id.startsWith(PAYLOAD_LINE)) this.uploadedIds.add(id.slice(PAYLOAD_LINE.length));
      else if (id.startsWith(RUN_LINE)) this.runId ??= id.slice(RUN_LINE.length);
      else if (id !== '') this.sentIds.add(id);
    }
  }

  has(messageId: string): boolean {
    return this.sentIds.has(messageId);
  }

  hasPayload(messageId: string): boolean {
    return this.uploadedIds.has(messageId);
  }

  /** Records a body uploaded again, before its letter is sent: a run again does not upload it twice. */
  recordPayload(messageId: string): void {
    appendFileSync(this.path, `${PAYLOAD_LINE}${messageId}\n`);
    this.uploadedIds.add(messageId);
  }

  /** Records letters SQS took; written before the next batch is sent, so a crash loses at most the one in flight. */
  record(messageIds: readonly string[]): void {
    if (messageIds.length === 0) return;
    appendFileSync(this.path, messageIds.map((id) => `${id}\n`).join(''));
    for (const id of messageIds) this.sentIds.add(id);
  }
}

/** A journal line's start for an uploaded body (an SQS message id has no space). */
const PAYLOAD_LINE = 'payload ';
/** A journal line's start for the run it journals. */
const RUN_LINE = 'run ';

/**
 * A FIFO letter's deduplication id in one restore run: the same however often the run is resumed from its journal, so
 * SQS drops a second copy of a batch sent just before a crash (sent, not yet journaled) within its five-minute window;
 * another for a new run (a journal moved away), whose letters SQS would otherwise accept as successfully sent and
 * drop, as it does a duplicate, when the same file was restored less than five minutes before. A journal an older
 * hookline began names no run: its letters keep the id that hookline gave them, so resuming it still deduplicates.
 *
 * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/FIFO-key-terms.html
 */
export function deduplicationIdOf(runId: string | undefined, savedMessageId: string): string {
  const id = runId === undefined ? `restore-${savedMessageId}` : `restore-${runId}-${savedMessageId}`;
  return id.slice(0, MAX_DEDUPLICATION_ID);
}

/** SQS's longest `MessageDeduplicationId`. */
const MAX_DEDUPLICATION_ID = 128;

/** The claim-check bucket, or why a restore cannot upload there. */
class PayloadUploads {
  uploaded = 0;
  readonly bucket: string | undefined;

  constructor(
    private readonly s3: S3Client | undefined,
    private readonly target: Target,
    private readonly journal: RestoreJournal,
  ) {
    this.bucket = target.payloadBucket;
  }

  /**
   * Uploads the first body this run has to, before any letter is sent: a bucket the CLI may not write to (no
   * `s3:PutObject`, no bucket) refuses the restore with nothing sent, rather than after letters went without theirs.
   */
  async refuseUnwritable(file: string, wanted: ((letter: DeadLetter) => boolean) | undefined): Promise<void> {
    for await (const letter of savedLetters(file)) {
      if (!letter.payload || this.journal.has(letter.sqs.messageId)) continue;
      if (this.journal.hasPayload(letter.sqs.messageId)) return;
      if (wanted && !wanted(deadLetterOf(letter.sqs))) continue;
      const refused = await this.upload(letter);
      if (refused === undefined) return;
      throw new CliError(`${refused}: nothing was restored`);
    }
  }

  /** Uploads the letter's saved body (once: the journal keeps it); why it could not, else undefined. */
  async upload(letter: SavedLetter): Promise<string | undefined> {
    const { payload } = letter;
    if (!payload || this.journal.hasPayload(letter.sqs.messageId)) return undefined;
    const bucket = this.bucketFor(letter);
    const at = `s3://${bucket}/${payload.key}`;
    if (!this.s3)
      return `cannot upload the saved body to ${at}: ${this.target.description} has no S3 endpoint`;
    try {
      await uploadStoredBody(this.s3, bucket, payload);
    } catch (error) {
      const context: ErrorContext = { ...contextOf(this.target), permissions: [...WRITE_STORED_BODY] };
      const explained = explainError(error, context);
      if (explained instanceof CredentialsError) throw explained;
      return `cannot upload the saved body to the claim-check bucket, ${at} (${errorLine(explained)})`;
    }
    this.journal.recordPayload(letter.sqs.messageId);
    this.uploaded++;
    return undefined;
  }

  /** The bucket a letter's body goes to: the pipeline's claim-check bucket, else (not known) the one it came from. */
  bucketFor(letter: SavedLetter): string {
    return this.bucket ?? letter.payload?.bucket ?? letter.payloadRef?.bucket ?? '';
  }
}

/** What a failure report needs of a letter sent (not its saved body, which the batch need not hold). */
type SentLetter = Pick<SavedLetter, 'n' | 'id'> & {
  readonly sqs: Pick<SavedLetter['sqs'], 'messageId' | 'messageGroupId'>;
};

/** A letter to send, with its entry. */
interface Outgoing {
  readonly letter: SentLetter;
  readonly entry: SendMessageBatchRequestEntry;
}

/**
 * The sends of a restore: batches of up to ten in file order, a FIFO batch with at most one letter of a group (SQS may
 * take some entries of a batch and refuse others, and a later letter of a group would then pass an earlier one).
 */
class RestoreRun {
  selected = 0;
  alreadyRestored = 0;
  sent = 0;
  payloadsMissing = 0;
  readonly failures: RestoreFailure[] = [];
  /** The error that stopped the run (a whole batch refused): the rest is not sent. */
  stopped: unknown;
  private readonly batcher = new SqsBatcher<Outgoing>();
  private readonly groupsInBatch = new Set<string>();
  /** FIFO groups with a letter SQS did not take: their later letters are not sent either, keeping group order. */
  private readonly refusedGroups = new Set<string>();

  constructor(
    private readonly sqs: SQSClient,
    private readonly queue: DeadLetterQueueTarget,
    private readonly journal: RestoreJournal,
    private readonly fifo: boolean,
    private readonly uploads: PayloadUploads | undefined,
  ) {}

  async add(letter: SavedLetter): Promise<void> {
    this.selected++;
    if (this.journal.has(letter.sqs.messageId)) {
      this.alreadyRestored++;
      return;
    }
    const group = letter.sqs.messageGroupId;
    if (this.fifo && group !== undefined && this.refusedGroups.has(group)) {
      this.fail(
        letter,
        `behind an earlier letter of FIFO group ${group} that SQS did not take (group order is kept): run the restore again`,
      );
      return;
    }
    if (letter.payloadRef && !letter.payload) this.payloadsMissing++;
    // After a whole batch was refused nothing more is sent: nor uploaded for a send that will not be made.
    if (this.stopped !== undefined) {
      this.fail(letter, errorLine(this.stopped));
      return;
    }
    const refused = await this.uploads?.upload(letter);
    if (refused !== undefined) {
      this.fail(letter, refused);
      if (group !== undefined) this.refusedGroups.add(group);
      return;
    }
    if (this.fifo && group !== undefined && this.groupsInBatch.has(group)) await this.flush();
    const held: SentLetter = {
      n: letter.n,
      id: letter.id,
      sqs: { messageId: letter.sqs.messageId, ...(group !== undefined ? { messageGroupId: group } : {}) },
    };
    const outgoing = { letter: held, entry: this.entryOf(letter, this.selected) };
    const closed = this.batcher.add(outgoing, entryBytes(outgoing.entry));
    if (closed) await this.send(closed);
    this.groupsInBatch.add(group ?? '');
  }

  async flush(): Promise<void> {
    const batch = this.batcher.flush();
    if (batch) await this.send(batch);
  }

  /** A letter as SQS held it; FIFO, with its deduplication id in this run. */
  private entryOf(letter: SavedLetter, index: number): SendMessageBatchRequestEntry {
    const { sqs } = letter;
    // A body uploaded again may be in another bucket than saved (the pipeline's own): the reference says where.
    const body =
      letter.payload && this.uploads ? bodyReferring(sqs.body, this.uploads.bucketFor(letter)) : sqs.body;
    return {
      Id: String(index),
      MessageBody: body,
      MessageAttributes: sqsAttributesOf(sqs),
      ...(sqs.messageGroupId !== undefined ? { MessageGroupId: sqs.messageGroupId } : {}),
      ...(this.fifo ? { MessageDeduplicationId: deduplicationIdOf(this.journal.runId, sqs.messageId) } : {}),
    };
  }

  private async send(batch: readonly Outgoing[]): Promise<void> {
    this.groupsInBatch.clear();
    if (this.stopped !== undefined) {
      for (const t of batch) this.fail(t.letter, errorLine(this.stopped));
      return;
    }
    let answer: SendMessageBatchCommandOutput;
    try {
      answer = await this.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: this.queue.deadLetterUrl,
          Entries: batch.map((t) => t.entry),
        }),
      );
    } catch (error) {
      // Not known to be sent: not journaled, so a run again sends it (a FIFO copy SQS drops within five minutes).
      this.stopped = error;
      for (const t of batch) this.fail(t.letter, errorLine(error));
      return;
    }
    const byId = new Map(batch.map((t) => [t.entry.Id, t]));
    const taken = (answer.Successful ?? []).flatMap((s) => {
      const t = byId.get(s.Id);
      return t ? [t.letter.sqs.messageId] : [];
    });
    this.journal.record(taken);
    this.sent += taken.length;
    for (const f of answer.Failed ?? []) {
      const t = byId.get(f.Id);
      if (!t) continue;
      this.fail(t.letter, `${f.Code ?? 'Refused'}: ${f.Message ?? ''}`.trim());
      if (t.letter.sqs.messageGroupId !== undefined) this.refusedGroups.add(t.letter.sqs.messageGroupId);
    }
  }

  private fail(letter: SentLetter, error: string): void {
    this.failures.push({ n: letter.n, messageId: letter.sqs.messageId, id: letter.id, error });
  }
}

/** The most failures a person is shown; `--json` has them all. */
const SHOWN_FAILURES = 20;

export function renderFailedRestore(output: Output, result: FailedRestoreResult): void {
  const c = output.colors;
  const again = result.alreadyRestored > 0 ? `, ${result.alreadyRestored} sent by an earlier run` : '';
  const of = result.selected < result.letters ? ` (${result.selected} selected)` : '';
  output.line(
    `restored ${c.green(String(result.sent))} of ${result.letters} saved ${result.letters === 1 ? 'letter' : 'letters'}${of} to the ${result.queue} dead-letter queue${again}; saved ${result.savedAt}`,
  );
  if (result.payloadsUploaded > 0) {
    output.line(
      `re-uploaded ${plural(result.payloadsUploaded, 'saved body', 'saved bodies')} to the claim-check bucket ${result.payloadBucket ?? ''} (payloads.expiry starts again)`,
    );
  }
  if (result.payloadsMissing > 0) {
    output.line(
      c.yellow(
        `${result.payloadsMissing} claim-checked ${result.payloadsMissing === 1 ? 'letter has' : 'letters have'} no body in the file (gone when saved, or saved by an older hookline): restored with the reference only, ${result.payloadsMissing === 1 ? 'it fails' : 'they fail'} again with PayloadGoneError once the payload bucket deleted the body`,
      ),
    );
  }
  if (result.failed > 0) output.line(c.red(`not sent: ${result.failed}`));
  for (const f of result.failures.slice(0, SHOWN_FAILURES))
    output.line(c.red(`  letter ${f.n} (${f.id ?? `sqs ${f.messageId}`}): ${f.error}`));
  if (result.failed > SHOWN_FAILURES)
    output.line(c.red(`  and ${result.failed - SHOWN_FAILURES} more (--json)`));
  if (result.interrupted)
    output.line(c.yellow(`stopped by Ctrl-C: ${plural(result.notReached, 'letter')} not reached`));
  if (!result.savedComplete) {
    output.line(
      c.yellow(
        'the save did not hold every dead letter (its end line says "complete": false): letters it missed are not in it',
      ),
    );
  }
  output.line(`journal of what was sent: ${result.journal}`);
  if (result.failed > 0 || result.interrupted) {
    hint(
      output,
      `run it again to send only those not sent: ${nextCommand(output, `failed restore ${result.queue} ${result.file}`)}`,
    );
  }
  hint(
    output,
    `then: ${nextCommand(output, `failed summary ${result.queue}`)}    once fixed: ${nextCommand(output, `redrive ${result.queue}`)}`,
  );
}
