/**
 * One pass over a dead-letter queue, as every command that reads one makes it (`failed delete`, a one-by-one
 * `redrive`, and the reads `failed list|summary|show` and the job views make through `readDeadLetters`): each
 * receive holds its messages (a visibility timeout), the ones this pass had not received yet go to the command's
 * act step, every message it leaves is held until the pass ends, and then all held messages are made visible
 * again, so what the command did not take is back in the DLQ at once. Each SQS message is handed to the act step
 * once, however often a receive returns it.
 */
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import { isFifoQueueName } from '../../lambda/shared/contracts';
import { plural } from '../../lambda/shared/plural';
import { sanitizeId } from '../../lambda/shared/safe-ids';
import type { Backend, Clock } from './backend';
import { DEFAULT_HOLD_SECONDS } from './dead-letter-notes';
import {
  type DeadLetter,
  describeDeadLetter,
  holdFor,
  maxReceiveCountOf,
  receiveHeld,
  releaseHeld,
  VISIBILITY_CALLS_AT_ONCE,
} from './dead-letters';
import { CliError } from './errors';
import type { Output, Progress } from './output';
import type { DeadLetterQueueTarget } from './target';

/** What a command does in a pass: the act step the pass hands each batch to, and when the pass is done. */
export interface DeadLetterScanStep {
  /** The most messages the next receive may take (1-10). */
  batchSize(): number;
  /** Whether the pass ends before the next receive for a reason of the command's own (Ctrl-C is the pass's). */
  finished(): boolean;
  /**
   * Acts on messages this pass received for the first time, holding (`DeadLetterScan.hold`) every one it leaves in
   * the DLQ; false ends the pass. An act that waits on each message may move the progress bar with `progressed`
   * (what `done()` will say), else it moves once the act ends.
   */
  act(fresh: readonly Message[], progressed: (done: number) => void): Promise<boolean>;
  /** How far the command is, for its progress bar (scanned, or moved). */
  done(): number;
}

export interface DeadLetterScanOptions {
  readonly sqs: SQSClient;
  readonly deadLetterUrl: string;
  readonly output: Output;
  /** How long a received message stays hidden while the pass goes on. */
  readonly holdSeconds: number;
  /** Stops the pass between batches (Ctrl-C). */
  readonly signal?: AbortSignal;
  /**
   * The progress bar's label, and the count it starts from as its total.
   * @default - no progress bar (a read that stops early, as `failed list` and the console's event page do, shows none)
   */
  readonly progress?: PassProgress;
  /**
   * The command's result reports the messages the pass could not make visible again (`notReleased`), so the pass
   * writes no note of its own about them (unless the command ends in an error, which has no result to say it).
   * @default false
   */
  readonly reportsNotReleased?: boolean;
  /** How long a receive waits before the DLQ counts as empty for it (see `Backend.emptyReceiveWaitSeconds`). @default 1 */
  readonly emptyReceiveWaitSeconds?: number;
  /** The time, to tell a hold that ran out from SQS delivering a message twice. @default the system clock */
  readonly clock?: Pick<Clock, 'now'>;
  /**
   * Told as each call of the hand-back at the end of the pass ends, so a caller bounding how long a read may stay
   * silent (the console's pages) knows the seconds a large hand-back takes are not a read that got no answer.
   * @default - nothing is told
   */
  readonly onHandBack?: () => void;
}

/**
 * The label of the bar a pass draws while it hands back what it held, after its own bar: it names the queue, as the
 * pass's own bar does, so a command over several dead-letter queues says which one it is handing back.
 */
export const handBackLabel = (queue: string): string => `handed back to the ${queue} DLQ`;

/** A message a pass holds: its receipt handle, and when its latest hold began. */
export interface HeldMessage {
  readonly handle: string;
  readonly messageId: string;
  readonly since: number;
}

/**
 * The holds of a pass in the order they end, for their renewal: each renewal takes those due from the front and
 * looks at no other but the first not due, so a pass over n messages looks at each hold once per renewal of it,
 * not at every hold on every receive.
 */
export class HoldsByEnd {
  /** Holds from `head` on, oldest first; those before `head` were taken out. */
  private queue: HeldMessage[] = [];
  private head = 0;

  /** Adds a hold that began no earlier than any added before (a receive's, or a renewal's). */
  add(hold: HeldMessage): void {
    // Drops what was taken out once it is most of the array, so the array stays as long as the holds in it.
    if (this.head > 1_000 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.queue.push(hold);
  }

  /**
   * Takes out the holds past half of `holdMs` at `now`; those past all of it are dropped rather than returned: the
   * message is visible already and renewing it is no use (it is still made visible again at the end of the pass).
   */
  takeDue(now: number, holdMs: number): HeldMessage[] {
    const due: HeldMessage[] = [];
    for (; this.head < this.queue.length; this.head++) {
      const hold = this.queue[this.head] as HeldMessage;
      const age = now - hold.since;
      if (age < holdMs / 2) break;
      if (age < holdMs) due.push(hold);
    }
    return due;
  }

  /** Puts holds just taken out back at the front, in their order: those SQS did not renew keep the hold they had. */
  putBack(holds: readonly HeldMessage[]): void {
    if (holds.length > this.head) {
      this.queue = [...holds, ...this.queue.slice(this.head)];
      this.head = 0;
      return;
    }
    this.head -= holds.length;
    for (const [n, hold] of holds.entries()) this.queue[this.head + n] = hold;
  }
}

/** A progress bar of a pass: its label, and the count it starts from as its total. */
export interface PassProgress {
  readonly label: string;
  readonly depth: number;
  /** The queue whose dead-letter queue the pass reads (as `failed list` names it), for the hand-back's bar. */
  readonly queue: string;
}

const NO_PROGRESS: Progress = { update() {}, done() {} };

/** What a command's options say of its pass: how long it holds (default 300 s, `DEFAULT_HOLD_SECONDS`) and Ctrl-C. */
export interface ScanFlags {
  readonly holdSeconds?: number;
  readonly signal?: AbortSignal;
}

/** What a pass over a dead-letter queue uses of the command's backend. */
type DeadLetterBackend = Pick<Backend, 'sqs' | 'output' | 'emptyReceiveWaitSeconds'> &
  Partial<Pick<Backend, 'clock'>>;

function waitOf(
  backend: DeadLetterBackend,
): Pick<DeadLetterScanOptions, 'emptyReceiveWaitSeconds' | 'clock'> {
  const wait = backend.emptyReceiveWaitSeconds;
  return {
    ...(wait === undefined ? {} : { emptyReceiveWaitSeconds: wait }),
    ...(backend.clock ? { clock: backend.clock } : {}),
  };
}

/**
 * A pass that ran longer than it holds what it read: the dead letters it read first are visible again and come
 * back among those it has not read, so it cannot tell when it has read them all. Stopped rather than take a
 * receive of only those for the end of the queue, which would report part of it as the whole.
 */
export class HoldRanOutError extends CliError {
  constructor(scanned: number, holdSeconds: number) {
    super(
      `stopped after reading ${plural(scanned, 'dead letter')}: the read took longer than the ${holdSeconds} s it holds each one, so those it read first are visible again and it can no longer tell what it has not read`,
    );
    this.name = 'HoldRanOutError';
  }
}

/** The pass a command makes over the dead-letter queue at `deadLetterUrl`, with its flags. */
export function commandScan(
  backend: DeadLetterBackend,
  deadLetterUrl: string,
  flags: ScanFlags,
  progress: PassProgress,
): DeadLetterScan {
  return new DeadLetterScan({
    sqs: backend.sqs,
    deadLetterUrl,
    output: backend.output,
    holdSeconds: flags.holdSeconds ?? DEFAULT_HOLD_SECONDS,
    ...(flags.signal ? { signal: flags.signal } : {}),
    ...waitOf(backend),
    progress,
  });
}

/** One pass over a dead-letter queue; the command reads what stopped it and what it held. */
export class DeadLetterScan {
  /** FIFO: groups of held messages; SQS returns none of their later messages until the hold ends. */
  readonly heldGroups = new Set<string>();
  private scannedCount = 0;
  private notReleasedCount = 0;
  private stoppedBy: unknown;
  private interruptedBy = false;
  /** The receipt handles of the messages left in place, made visible again at the end. */
  private readonly heldHandles: string[] = [];
  /** The same messages' holds, renewed before they run out (`renewHolds`). */
  private readonly holds = new HoldsByEnd();
  /** When the last receive was made: the hold of what it returned began then. */
  private lastReceiveAt = 0;
  /** SQS message ids received so far, with when their latest hold began (their receive, or its renewal). */
  private readonly seen = new Map<string, number>();
  /** A message came back after its hold ran out (not SQS delivering it twice while held). */
  private holdRanOut = false;

  constructor(private readonly options: DeadLetterScanOptions) {}

  /** Receives, acts and holds batch after batch until the step is done, the DLQ has nothing new, or it stops. */
  async run(step: DeadLetterScanStep): Promise<void> {
    const depth = this.options.progress?.depth ?? 0;
    const progress = this.progressBar();
    let quiet = 0;
    let exhausted = false;
    try {
      for (;;) {
        if (this.interrupt() || step.finished()) break;
        let fresh: Message[];
        try {
          await this.renewHolds();
          fresh = await this.receiveFresh(step.batchSize());
        } catch (error) {
          // Before anything was read the error alone says it all; after, the summary must still say what was done.
          if (this.scanned === 0) throw error;
          this.stop(error);
          break;
        }
        if (this.holdRanOut) {
          this.stop(new HoldRanOutError(this.scanned, this.options.holdSeconds));
          break;
        }
        if (fresh.length === 0) {
          // Empty twice in a row (or only messages already seen): the DLQ has nothing new for this pass.
          exhausted = ++quiet >= 2;
          if (exhausted) break;
          continue;
        }
        quiet = 0;
        if (!(await step.act(fresh, (done) => progress.update(done, Math.max(depth, done))))) break;
        const done = step.done();
        progress.update(done, Math.max(depth, done));
      }
    } finally {
      // The DLQ was read to its end: what it held was what was scanned, though its depth said more (another
      // redrive, a delete or a purge took the rest meanwhile), so the bar ends full rather than at its share.
      const done = step.done();
      if (exhausted && depth > done) progress.update(done, done);
      // The summary is the command's result (rendered once by the caller), not a progress line; the hand-back's
      // bar is drawn where this one was.
      progress.done();
      await this.release();
      if (!this.options.reportsNotReleased) this.noteNotReleased();
    }
  }

  private progressBar(): Progress {
    const { output, progress } = this.options;
    return progress ? output.progress(progress.label, progress.depth) : NO_PROGRESS;
  }

  /**
   * The bar of the hand-back of `held` messages: drawn by a pass that draws one, when it takes more than one round
   * of calls (tens of thousands take seconds; a bar of one round would only flash).
   */
  private handBackBar(held: number): Progress {
    const { output, progress } = this.options;
    const oneRound = VISIBILITY_CALLS_AT_ONCE * 10;
    return progress && held > oneRound ? output.progress(handBackLabel(progress.queue), held) : NO_PROGRESS;
  }

  /** Messages handed to the act step so far. */
  get scanned(): number {
    return this.scannedCount;
  }

  /** The error (or Ctrl-C) that ended the pass early, or undefined. */
  get stopped(): unknown {
    return this.stoppedBy;
  }

  /** Held messages SQS did not make visible again when the pass ended: they return when their hold ends. */
  get notReleased(): number {
    return this.notReleasedCount;
  }

  /** Whether the signal (Ctrl-C) ended the pass. */
  get interrupted(): boolean {
    return this.interruptedBy;
  }

  /** Ends the pass before its next receive, `error` being what stopped it (the first one is kept). */
  stop(error: unknown): void {
    this.stoppedBy ??= error;
  }

  /** Whether the signal asked the pass to stop (recorded as what stopped it). */
  interrupt(): boolean {
    if (!this.options.signal?.aborted) return false;
    this.interruptedBy = true;
    this.stop(Object.assign(new Error('stopped by Ctrl-C'), { name: 'Interrupted' }));
    return true;
  }

  /** Keeps the message hidden until the pass ends: it stays in the DLQ. */
  hold(message: Message): void {
    if (message.ReceiptHandle) {
      const messageId = message.MessageId ?? '';
      this.heldHandles.push(message.ReceiptHandle);
      this.holds.add({ handle: message.ReceiptHandle, messageId, since: this.lastReceiveAt });
    }
    const group = message.Attributes?.MessageGroupId;
    if (group !== undefined) this.heldGroups.add(group);
  }

  /** Receives the next batch, holding (not handing over again) the messages already received in this pass. */
  private now(): number {
    return (this.options.clock ?? Date).now();
  }

  /**
   * Holds again, for the whole hold from now, the messages held for half of it already: a pass longer than its hold
   * (a DLQ of tens of thousands, a paced redrive) would otherwise see them come back among those it has not read
   * and could not tell when it has read them all. What SQS refuses runs out, and `HoldRanOutError` says so.
   */
  private async renewHolds(): Promise<void> {
    const { holdSeconds, sqs, deadLetterUrl } = this.options;
    const now = this.now();
    const due = this.holds.takeDue(now, holdSeconds * 1_000);
    if (due.length === 0) return;
    const notHeld = await holdFor(
      sqs,
      deadLetterUrl,
      due.map((h) => h.handle),
      holdSeconds,
    );
    // What SQS refused keeps its old hold (and the time it began), so it is known once it has run out.
    this.holds.putBack(due.filter((h) => notHeld.has(h.handle)));
    for (const h of due) {
      if (notHeld.has(h.handle)) continue;
      this.holds.add({ ...h, since: now });
      this.seen.set(h.messageId, now);
    }
  }

  private async receiveFresh(max: number): Promise<Message[]> {
    const receivedAt = this.now();
    this.lastReceiveAt = receivedAt;
    const messages = await receiveHeld(this.options.sqs, this.options.deadLetterUrl, {
      max,
      holdSeconds: this.options.holdSeconds,
      waitSeconds: this.options.emptyReceiveWaitSeconds ?? 1,
    });
    const fresh: Message[] = [];
    for (const m of messages) {
      const heldSince = this.seen.get(m.MessageId ?? '');
      if (heldSince !== undefined) {
        // Back before its hold ended is SQS delivering it twice; after, the hold ran out.
        if (this.now() - heldSince >= this.options.holdSeconds * 1_000) this.holdRanOut = true;
        this.hold(m);
        continue;
      }
      this.seen.set(m.MessageId ?? '', receivedAt);
      this.scannedCount++;
      fresh.push(m);
    }
    return fresh;
  }

  /** Makes every held message visible again, counting those SQS did not, with a bar of how far it is. */
  private async release(): Promise<void> {
    const { sqs, deadLetterUrl, onHandBack } = this.options;
    const bar = this.handBackBar(this.heldHandles.length);
    let handedBack = 0;
    this.notReleasedCount = await releaseHeld(sqs, deadLetterUrl, this.heldHandles, (handles) => {
      handedBack += handles;
      bar.update(handedBack);
      onHandBack?.();
    });
    bar.done();
  }

  /** Says on stderr how many held messages could not be made visible again, if any. */
  noteNotReleased(): void {
    const { output, holdSeconds } = this.options;
    const count = this.notReleasedCount;
    if (count === 0) return;
    const hidden = plural(count, 'message');
    output.note(
      `${hidden} could not be made visible again: ${count === 1 ? 'it returns' : 'they return'} to the DLQ within ${holdSeconds} s`,
    );
  }
}

/**
 * Which dead letters `--id` and `--type` select, and which `--id` values a pass found: an `--id` is an envelope id
 * (every copy of it) or an SQS message id.
 */
export class DeadLetterSelection {
  private readonly foundIds = new Set<string>();
  /** `--id` values found as an SQS message id, which (unlike an envelope id) no other message has. */
  private readonly foundAsMessageIds = new Set<string>();
  /**
   * Each `--id` by the envelope id it is stored as: a sender's id the ingest could not keep as it is was stored
   * hashed, and the sender's id selects it too.
   */
  private readonly wantedByEnvelopeId: ReadonlyMap<string, string>;

  constructor(
    readonly wantedIds: ReadonlySet<string>,
    /** The `--type` test of an envelope's type, when there is one. */
    private readonly typeTest?: (type: string) => boolean,
    /** The `--failure` test of a dead letter's failure, when there is one. */
    private readonly failureTest?: (letter: DeadLetter) => boolean,
  ) {
    this.wantedByEnvelopeId = new Map(
      [...wantedIds].flatMap((id) => [[sanitizeId(id), id] as const, [id, id] as const]),
    );
  }

  /** Whether it selects by what a letter holds (`--type`, `--failure`), which a letter not read may match too. */
  get selectsByContent(): boolean {
    return this.typeTest !== undefined || this.failureTest !== undefined;
  }

  /** Whether `--id`, `--type` and `--failure` select the letter (recording which `--id` was found). */
  selects(letter: DeadLetter): boolean {
    let selected = true;
    if (this.wantedIds.size > 0) {
      const byEnvelope =
        letter.event.id === undefined ? undefined : this.wantedByEnvelopeId.get(letter.event.id);
      const hit = byEnvelope ?? (this.wantedIds.has(letter.messageId) ? letter.messageId : undefined);
      selected = hit !== undefined;
      if (hit !== undefined) this.foundIds.add(hit);
      if (hit !== undefined && hit === letter.messageId) this.foundAsMessageIds.add(hit);
    }
    if (selected && this.typeTest)
      selected = letter.envelope !== undefined && this.typeTest(letter.envelope.type);
    if (selected && this.failureTest) selected = this.failureTest(letter);
    return selected;
  }

  /**
   * Whether every `--id` was found as an SQS message id, so no other message can have it. An envelope id can have
   * several copies in the DLQ (an original and its replay, or a message dead-lettered twice), and each copy is
   * selected, so an `--id` envelope id scans the whole DLQ.
   */
  allFound(): boolean {
    return this.wantedIds.size > 0 && this.foundAsMessageIds.size === this.wantedIds.size;
  }

  /** The `--id` values no received message had. */
  unseenIds(): string[] {
    return [...this.wantedIds].filter((id) => !this.foundIds.has(id));
  }
}

/** How a read holds what it reads, whether Ctrl-C stops it, and its progress bar (none unless given). */
export interface DeadLetterReadOptions {
  readonly holdSeconds: number;
  readonly signal?: AbortSignal;
  readonly progress?: PassProgress;
  /** As {@link DeadLetterScanOptions.onHandBack}. @default - nothing is told */
  readonly onHandBack?: () => void;
}

/** What a read left behind: held messages not made visible again, and whether Ctrl-C ended it early. */
export interface DeadLetterRead {
  readonly notReleased: number;
  readonly interrupted: boolean;
  /** A FIFO queue's message groups the read held a message of: SQS returned none of their later messages meanwhile. */
  readonly heldFifoGroups: number;
}

/**
 * Reads the dead letters of `queue` without consuming any: a pass that hands each message to `visit` once, until
 * `visit` returns true ("stop"), the DLQ has nothing new, or Ctrl-C; every message stays in place. A `visit` that
 * waits (`failed save` reading a stored body from S3) moves the progress bar letter by letter, as it waits. An error
 * that ends the read is thrown, also after some letters were read: a read that stopped part way would present part
 * of the DLQ as the whole (a listing missing letters, a summary miscounting every group), and reading again is safe.
 */
export async function readDeadLetters(
  backend: DeadLetterBackend,
  queue: DeadLetterQueueTarget,
  options: DeadLetterReadOptions,
  visit: (letter: DeadLetter) => boolean | Promise<boolean>,
): Promise<DeadLetterRead> {
  // The dead-letter queues Scheduler fills belong to no queue: Scheduler, not a receive count, put messages there.
  const maxReceiveCount = queue.url ? await maxReceiveCountOf(backend.sqs, queue.url) : undefined;
  const scan = new DeadLetterScan({
    sqs: backend.sqs,
    deadLetterUrl: queue.deadLetterUrl,
    output: backend.output,
    reportsNotReleased: true,
    ...waitOf(backend),
    ...options,
  });
  let enough = false;
  try {
    await scan.run({
      batchSize: () => 10,
      finished: () => enough,
      act: async (fresh, progressed) => {
        let visited = scan.scanned - fresh.length;
        for (const message of fresh) {
          scan.hold(message);
          if (enough) continue;
          const answer = visit(describeDeadLetter(message, maxReceiveCount));
          visited++;
          if (typeof answer === 'boolean') enough = answer;
          else {
            enough = await answer;
            progressed(visited);
          }
        }
        return !enough;
      },
      done: () => scan.scanned,
    });
    if (scan.stopped !== undefined && !scan.interrupted) throw scan.stopped;
  } catch (error) {
    // The error is the command's answer: nothing else will say what this read left hidden.
    scan.noteNotReleased();
    throw error;
  }
  return {
    notReleased: scan.notReleased,
    interrupted: scan.interrupted,
    heldFifoGroups: isFifoQueueName(queue.deadLetterUrl) ? scan.heldGroups.size : 0,
  };
}
