/**
 * `hookline failed restore <queue> <file>`: puts the dead letters `failed save` wrote back in the queue's
 * dead-letter queue, as SQS held them (body, attributes, FIFO group), so `failed` and `redrive` work on them as
 * before. Each letter SQS took is written to a journal beside the file as it goes: run again after a partial
 * failure, the restore sends only those not in it, never one twice.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import {
  SendMessageBatchCommand,
  type SendMessageBatchCommandOutput,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { entryBytes, SqsBatcher } from '../../lambda/shared/claim-check';
import { isFifoQueueName } from '../../lambda/shared/contracts';
import { type Backend, contextOf } from './backend';
import { CliError, errorLine, explainError } from './errors';
import { failureSelector } from './failure-groups';
import { type CommandHints, hint, nextCommand, type Output } from './output';
import {
  checkSavedFile,
  deadLetterOf,
  type SavedHeader,
  type SavedLetter,
  savedLetters,
  sqsAttributesOf,
} from './saved-dead-letters';
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
  const wanted =
    options.failure === undefined
      ? undefined
      : failureSelector(options.failure, { output: backend.output, queue: queue.name });
  const { header, end } = await checkSavedFile(options.file, backend.output);
  refuseOtherPipeline(header, queue, target, options.file, backend.output);
  const journal = new RestoreJournal(restoreJournalOf(options.file), header, backend.output);
  // The queue as it is now decides: a deduplication id is what SQS requires of a FIFO queue and refuses elsewhere.
  const run = new RestoreRun(backend.sqs, queue, journal, isFifoQueueName(queue.deadLetterUrl));
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
 * batch. Its first line names the save, so a journal of another save (a file saved again to the same path) is
 * refused rather than taken to say what was sent.
 */
class RestoreJournal {
  private readonly sentIds = new Set<string>();

  constructor(
    readonly path: string,
    header: SavedHeader,
    hints: CommandHints,
  ) {
    const first = `save ${header.saveId}`;
    if (!existsSync(path)) {
      appendFileSync(path, `${first}\n`, { mode: 0o600 });
      return;
    }
    const [head, ...ids] = readFileSync(path, 'utf8').split('\n');
    if (head !== first) {
      throw new CliError(
        `${path} is the journal of another save than ${header.saveId}: move it away to restore this file (${nextCommand(hints, `failed restore ${header.queue} <file>`)} then sends every letter)`,
      );
    }
    for (const id of ids) if (id !== '') this.sentIds.add(id);
  }

  has(messageId: string): boolean {
    return this.sentIds.has(messageId);
  }

  /** Records letters SQS took; written before the next batch is sent, so a crash loses at most the one in flight. */
  record(messageIds: readonly string[]): void {
    if (messageIds.length === 0) return;
    appendFileSync(this.path, messageIds.map((id) => `${id}\n`).join(''));
    for (const id of messageIds) this.sentIds.add(id);
  }
}

/** A letter to send, with its entry. */
interface Outgoing {
  readonly letter: SavedLetter;
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
    if (this.fifo && group !== undefined && this.groupsInBatch.has(group)) await this.flush();
    const outgoing = { letter, entry: this.entryOf(letter, this.selected) };
    const closed = this.batcher.add(outgoing, entryBytes(outgoing.entry));
    if (closed) await this.send(closed);
    this.groupsInBatch.add(group ?? '');
  }

  async flush(): Promise<void> {
    const batch = this.batcher.flush();
    if (batch) await this.send(batch);
  }

  /**
   * A letter as SQS held it. A FIFO letter's deduplication id is its saved SQS id, so SQS itself drops a second
   * copy sent within its five-minute window (a batch sent just before a crash, before the journal recorded it).
   */
  private entryOf(letter: SavedLetter, index: number): SendMessageBatchRequestEntry {
    const { sqs } = letter;
    return {
      Id: String(index),
      MessageBody: sqs.body,
      MessageAttributes: sqsAttributesOf(sqs),
      ...(sqs.messageGroupId !== undefined ? { MessageGroupId: sqs.messageGroupId } : {}),
      ...(this.fifo ? { MessageDeduplicationId: `restore-${sqs.messageId}`.slice(0, 128) } : {}),
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

  private fail(letter: SavedLetter, error: string): void {
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
    `restored ${c.green(String(result.sent))} of ${result.letters} saved letters${of} to the ${result.queue} dead-letter queue${again}; saved ${result.savedAt}`,
  );
  if (result.failed > 0) output.line(c.red(`not sent: ${result.failed}`));
  for (const f of result.failures.slice(0, SHOWN_FAILURES))
    output.line(c.red(`  letter ${f.n} (${f.id ?? `sqs ${f.messageId}`}): ${f.error}`));
  if (result.failed > SHOWN_FAILURES)
    output.line(c.red(`  and ${result.failed - SHOWN_FAILURES} more (--json)`));
  if (result.interrupted)
    output.line(c.yellow(`stopped by Ctrl-C: ${result.notReached} letters not reached`));
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
