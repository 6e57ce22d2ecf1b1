/**
 * One pass over a dead-letter queue, as `failed delete` and a one-by-one `redrive` make it: each receive holds its
 * messages (a visibility timeout), the ones this pass had not received yet go to the command's act step, every
 * message it leaves is held until the pass ends, and then all held messages are made visible again, so what the
 * command did not take is back in the DLQ at once. Each SQS message is handed to the act step once, however often a
 * receive returns it.
 */
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import { DEFAULT_HOLD_SECONDS } from './dead-letter-notes';
import { type DeadLetter, receiveHeld, releaseHeld } from './dead-letters';
import type { Output } from './output';

/** What a command does in a pass: the act step the pass hands each batch to, and when the pass is done. */
export interface DeadLetterScanStep {
  /** The most messages the next receive may take (1-10). */
  batchSize(): number;
  /** Whether the pass ends before the next receive for a reason of the command's own (Ctrl-C is the pass's). */
  finished(): boolean;
  /**
   * Acts on messages this pass received for the first time, holding (`DeadLetterScan.hold`) every one it leaves in
   * the DLQ; false ends the pass.
   */
  act(fresh: readonly Message[]): Promise<boolean>;
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
  /** The progress bar's label, and the count it starts from as its total. */
  readonly progressLabel: string;
  readonly depth: number;
}

/** What a command's options say of its pass: how long it holds (default 300 s, `DEFAULT_HOLD_SECONDS`) and Ctrl-C. */
export interface ScanFlags {
  readonly holdSeconds?: number;
  readonly signal?: AbortSignal;
}

/** The pass a command makes over the dead-letter queue at `deadLetterUrl`, with its flags. */
export function commandScan(
  backend: { readonly sqs: SQSClient; readonly output: Output },
  deadLetterUrl: string,
  flags: ScanFlags,
  progress: { readonly label: string; readonly depth: number },
): DeadLetterScan {
  return new DeadLetterScan({
    sqs: backend.sqs,
    deadLetterUrl,
    output: backend.output,
    holdSeconds: flags.holdSeconds ?? DEFAULT_HOLD_SECONDS,
    ...(flags.signal ? { signal: flags.signal } : {}),
    progressLabel: progress.label,
    depth: progress.depth,
  });
}

/** One pass over a dead-letter queue; the command reads what stopped it and what it held. */
export class DeadLetterScan {
  /** FIFO: groups of held messages; SQS returns none of their later messages until the hold ends. */
  readonly heldGroups = new Set<string>();
  private scannedCount = 0;
  private stoppedBy: unknown;
  private interruptedBy = false;
  /** Receipt handles of the messages left in place, made visible again at the end. */
  private readonly held: string[] = [];
  /** SQS message ids received so far. */
  private readonly seen = new Set<string>();

  constructor(private readonly options: DeadLetterScanOptions) {}

  /** Receives, acts and holds batch after batch until the step is done, the DLQ has nothing new, or it stops. */
  async run(step: DeadLetterScanStep): Promise<void> {
    const { output, progressLabel, depth } = this.options;
    const progress = output.progress(progressLabel, depth);
    let quiet = 0;
    try {
      for (;;) {
        if (this.interrupt() || step.finished()) break;
        let fresh: Message[];
        try {
          fresh = await this.receiveFresh(step.batchSize());
        } catch (error) {
          // Before anything was read the error alone says it all; after, the summary must still say what was done.
          if (this.scanned === 0) throw error;
          this.stop(error);
          break;
        }
        if (fresh.length === 0) {
          // Empty twice in a row (or only messages already seen): the DLQ has nothing new for this pass.
          if (++quiet >= 2) break;
          continue;
        }
        quiet = 0;
        if (!(await step.act(fresh))) break;
        const done = step.done();
        progress.update(done, Math.max(depth, done));
      }
    } finally {
      await this.release();
    }
    // The summary is the command's result (rendered once by the caller), not a progress line.
    progress.done();
  }

  /** Messages handed to the act step so far. */
  get scanned(): number {
    return this.scannedCount;
  }

  /** The error (or Ctrl-C) that ended the pass early, or undefined. */
  get stopped(): unknown {
    return this.stoppedBy;
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
    if (message.ReceiptHandle) this.held.push(message.ReceiptHandle);
    const group = message.Attributes?.MessageGroupId;
    if (group !== undefined) this.heldGroups.add(group);
  }

  /** Receives the next batch, holding (not handing over again) the messages already received in this pass. */
  private async receiveFresh(max: number): Promise<Message[]> {
    const messages = await receiveHeld(this.options.sqs, this.options.deadLetterUrl, {
      max,
      holdSeconds: this.options.holdSeconds,
      waitSeconds: 1,
    });
    const fresh: Message[] = [];
    for (const m of messages) {
      if (this.seen.has(m.MessageId ?? '')) {
        this.hold(m);
        continue;
      }
      this.seen.add(m.MessageId ?? '');
      this.scannedCount++;
      fresh.push(m);
    }
    return fresh;
  }

  /** Makes every held message visible again. */
  private async release(): Promise<void> {
    const { sqs, deadLetterUrl, holdSeconds, output } = this.options;
    const refused = await releaseHeld(sqs, deadLetterUrl, this.held).catch(() => this.held.length);
    if (refused > 0)
      output.note(
        `${refused} messages could not be made visible again: they return to the DLQ within ${holdSeconds} s`,
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

  constructor(
    readonly wantedIds: ReadonlySet<string>,
    /** The `--type` test of an envelope's type, when there is one. */
    private readonly typeTest?: (type: string) => boolean,
    /** The `--failure` test of a dead letter's failure, when there is one. */
    private readonly failureTest?: (letter: DeadLetter) => boolean,
  ) {}

  /** Whether `--id`, `--type` and `--failure` select the letter (recording which `--id` was found). */
  selects(letter: DeadLetter): boolean {
    let selected = true;
    if (this.wantedIds.size > 0) {
      const hit = [letter.event.id, letter.messageId].find((x) => x !== undefined && this.wantedIds.has(x));
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
