/**
 * `hookline failed delete <queue> --id <id...> | --type <pattern>`: deletes chosen dead letters (BullMQ's
 * `job.remove()` of a failed job), after a confirmation. Selects as `redrive` does (`--id` envelope or SQS message
 * ids, `--type` in the routes' dialect) and reads as it does: each message is received with a hold, a selected one
 * is deleted, every other one is made visible again once the scan ends (or stops). A deleted job's record says so.
 */
import { DeleteMessageBatchCommand, type Message } from '@aws-sdk/client-sqs';
import { FLOW_PARENT_ERROR } from '../../lambda/consumer/errors';
import { JOB_PARENT_HEADER, JOB_PARENT_ON_FAILURE_HEADER, JOB_SOURCE } from '../../lambda/shared/job';
import { plural } from '../../lambda/shared/plural';
import { type Backend, contextOf } from './backend';
import { describeSelection, nothingMatched, notReachedWhileHeld, unreadWhileHeld } from './dead-letter-notes';
import { commandScan, type DeadLetterScan, DeadLetterSelection } from './dead-letter-scan';
import { type DeadLetter, describeDeadLetter, queueDepth } from './dead-letters';
import { CliError, errorLine, explainError, UsageError } from './errors';
import { failureSelector } from './failure-groups';
import { deletedJobsRecorder, type RecordJobs, withJobsRecorder } from './jobs';
import { type CommandHints, nextCommand, type Output } from './output';
import { idSelector, type RedriveFailure, trackedJobOf, typeSelector } from './redrive';
import { type DeadLetterQueueTarget, deadLetterQueueOf, type Target } from './target';

export interface FailedDeleteOptions {
  readonly queue: string;
  /** Only these envelope ids (every copy) or SQS message ids. */
  readonly ids?: readonly string[];
  /** Only envelopes whose type matches this pattern (`lambda/shared/type-pattern.ts`). */
  readonly type?: string;
  /** Only dead letters of this failure: its key as `hookline failed summary` prints it (`failure-groups.ts`). */
  readonly failure?: string;
  /** Skip the confirmation (required in a non-interactive shell). @default false */
  readonly yes?: boolean;
  /** How long a scanned message stays hidden while the scan goes on. @default DEFAULT_HOLD_SECONDS (300) */
  readonly holdSeconds?: number;
  /** Stops the scan between batches (Ctrl-C); held messages are made visible again. */
  readonly signal?: AbortSignal;
  /** Records the tracked jobs deleted. @default their job records on the target (`deletedJobsRecorder`) */
  readonly recordJobs?: RecordJobs;
  /**
   * The environment the job records are found through when `recordJobs` is not given (local mode's state file):
   * the command's own, never assumed to be the process's.
   */
  readonly env: Record<string, string | undefined>;
  /**
   * Report a selection that matches nothing as a result (its ids under `notFound`) instead of refusing it: the
   * console's, whose ids come from a list read before, so one gone since was deleted or redriven meanwhile.
   * @default false
   */
  readonly reportNoMatch?: boolean;
}

export interface FailedDeleteResult {
  readonly queue: string;
  /** Dead letters when the command started, visible and held by a reader, as `status` counts them. */
  readonly deadLetterDepthBefore: number;
  /** Dead letters left when it ended; null when they could not be read then. */
  readonly deadLetterDepthAfter: number | null;
  /** Events deleted, each once however many copies of it the DLQ held (`deletedIds`). */
  readonly deletedEvents: number;
  /** Messages deleted: every copy. */
  readonly deletedMessages: number;
  /** The deleted events' envelope ids (SQS message ids for a body that is no envelope), each once. */
  readonly deletedIds: readonly string[];
  /** Scanned and not selected: left in the DLQ. */
  readonly skipped: number;
  /** Selected but not deleted (left in the DLQ), with why. */
  readonly failed: number;
  readonly failures: readonly RedriveFailure[];
  /** `--id` values the scan saw the whole DLQ without finding. */
  readonly notFound: readonly string[];
  /**
   * Flow parents of the deleted jobs, which wait for them: a deleted child never completes, and one that completed
   * and could not tell its parent (`FlowParentError`) never tells it now.
   */
  readonly flowParents: readonly string[];
  /**
   * Of `flowParents`, those every deleted child of which ran and could not tell them (`FlowParentError`): one that
   * counted every child (only its send failed) is still sent by another child coming back, such as the redrive of
   * another dead letter with `FlowParentError`; `jobs show` of the parent says whether it can be. The others can
   * never be sent now. Always set by `failedDelete`; absent, none.
   */
  readonly untoldFlowParents?: readonly string[];
  /**
   * Dead letters another reader held when a delete selecting by `--type` or `--failure` started, which none of its
   * receives returned: some of them may match, and stay in the DLQ. Absent when there were none.
   */
  readonly heldByOthers?: number;
  /** The error (or Ctrl-C) that ended the scan early: what it did not reach stays. */
  readonly stoppedBy?: string;
}

/**
 * Why a delete without `--id`, `--type` or `--failure` is refused, with the commands that list the queue's dead
 * letters or its failures, or empty it.
 */
function needsSelection(output: CommandHints, queue: string): UsageError {
  return new UsageError(
    `failed delete needs --id <id...>, --type <pattern> or --failure <key> (${nextCommand(output, `failed list ${queue}`)} shows ids and types, ${nextCommand(output, `failed summary ${queue}`)} failure keys); to delete every dead letter, ${nextCommand(output, `purge ${queue} --dlq`)}`,
  );
}

/** Deletes the selected dead letters of one dead-letter queue once the operator confirmed. */
export async function failedDelete(
  backend: Backend,
  target: Target,
  options: FailedDeleteOptions,
): Promise<FailedDeleteResult> {
  const queue = deadLetterQueueOf(target, options.queue);
  // Checked before anything is read: an empty selection never means "everything".
  const wantedIds = idSelector(options.ids, 'or select with --type', {
    output: backend.output,
    queue: queue.name,
  });
  const typePattern =
    options.type === undefined ? undefined : typeSelector(options.type, 'or select with --id');
  const failureTest =
    options.failure === undefined
      ? undefined
      : failureSelector(
          options.failure,
          { output: backend.output, queue: queue.name },
          'or select with --id',
        );
  if (wantedIds.size === 0 && typePattern === undefined && failureTest === undefined)
    throw needsSelection(backend.output, queue.name);
  try {
    const before = await queueDepth(backend.sqs, queue.deadLetterUrl);
    if (before.visible + before.inFlight + before.delayed === 0) {
      if (options.reportNoMatch) return emptyDeletion(queue.name, wantedIds);
      throw nothingMatched(backend.output, queue.name, options, 0, 'deleted');
    }
    await confirmDelete(backend, target, queue, options);
    const selection = new DeadLetterSelection(
      wantedIds,
      typePattern && ((type) => typePattern.test(type)),
      failureTest,
    );
    const result = await withJobsRecorder(
      options.recordJobs,
      () => deletedJobsRecorder(backend, target, options.env),
      (recordJobs) =>
        new DeadLetterDeletion(
          backend,
          queue,
          options,
          {
            selection,
            recordJobs,
            heldByOthers: before.inFlight,
            explain: (error) => explainError(error, contextOf(target, queue.name)),
          },
          before.visible + before.inFlight,
        ).run(),
    );
    const none = result.deletedMessages + result.failed === 0 && result.stoppedBy === undefined;
    if (none && !options.reportNoMatch)
      throw nothingMatched(backend.output, queue.name, options, before.inFlight, 'deleted');
    const after = await queueDepth(backend.sqs, queue.deadLetterUrl).catch(() => undefined);
    return {
      ...result,
      deadLetterDepthBefore: before.visible + before.inFlight,
      deadLetterDepthAfter: after === undefined ? null : after.visible + after.inFlight,
    };
  } catch (error) {
    throw explainError(error, contextOf(target, queue.name));
  }
}

/** An empty dead-letter queue's answer to a selection reported rather than refused: every id not found. */
function emptyDeletion(queue: string, wantedIds: ReadonlySet<string>): FailedDeleteResult {
  return {
    queue,
    deadLetterDepthBefore: 0,
    deadLetterDepthAfter: 0,
    deletedEvents: 0,
    deletedMessages: 0,
    deletedIds: [],
    skipped: 0,
    failed: 0,
    failures: [],
    notFound: [...wantedIds],
    flowParents: [],
    untoldFlowParents: [],
  };
}

async function confirmDelete(
  backend: Backend,
  target: Target,
  queue: DeadLetterQueueTarget,
  options: FailedDeleteOptions,
): Promise<void> {
  if (options.yes) return;
  const label = `the ${queue.name} dead-letter queue`;
  if (!backend.output.interactive) {
    throw new CliError(
      `refusing to delete dead letters of ${label} without confirmation in a non-interactive shell: pass --yes`,
    );
  }
  const ok = await backend.output.confirm(
    `Delete every dead letter of ${label} in ${target.description} matching ${describeSelection(options)} (every copy of an id)? This cannot be undone.`,
  );
  if (!ok) throw new CliError('delete cancelled: nothing was deleted');
}

/** What a deletion selects, how it records the deleted jobs, and what it could not read. */
interface DeletionContext {
  readonly selection: DeadLetterSelection;
  readonly recordJobs: RecordJobs;
  readonly heldByOthers: number;
  /** The error that stopped the scan in the operator's terms for the target, as the command's own error is. */
  readonly explain: (error: unknown) => unknown;
}

type DeletionResult = Omit<FailedDeleteResult, 'deadLetterDepthBefore' | 'deadLetterDepthAfter'>;

/** One scan of a DLQ that deletes what is selected and hands everything else back when it ends. */
class DeadLetterDeletion {
  private readonly scan: DeadLetterScan;
  private readonly deletedIds = new Set<string>();
  private readonly flowParents = new Set<string>();
  /** Flow parents of deleted children that never completed: nothing can send them now. */
  private readonly abandonedFlowParents = new Set<string>();
  private readonly failures: RedriveFailure[] = [];
  private deletedMessages = 0;
  private skipped = 0;
  /** Recording deleted jobs failed once: the rest of the run leaves their records. */
  private unrecordedJobs = false;

  constructor(
    private readonly backend: Backend,
    private readonly queue: DeadLetterQueueTarget,
    options: FailedDeleteOptions,
    private readonly context: DeletionContext,
    depth: number,
  ) {
    this.scan = commandScan(backend, queue.deadLetterUrl, options, {
      label: `scanned in the ${queue.name} DLQ`,
      depth,
      queue: queue.name,
    });
  }

  async run(): Promise<DeletionResult> {
    await this.scan.run({
      batchSize: () => 10,
      // Stopped by an error, or every `--id` found as an SQS message id (no other message has it).
      finished: () => this.scan.stopped !== undefined || this.context.selection.allFound(),
      act: async (fresh) => {
        const chosen = fresh.filter((m) => this.choose(m));
        if (chosen.length > 0) await this.delete(chosen);
        return true;
      },
      done: () => this.scan.scanned,
    });
    return this.report();
  }

  /** Whether the message is to be deleted; one that is not is held until the scan ends. */
  private choose(m: Message): boolean {
    const selected = this.context.selection.selects(describeDeadLetter(m));
    if (!selected) {
      this.skipped++;
      this.scan.hold(m);
    }
    return selected;
  }

  /** Deletes one batch; what SQS refuses stays (held, so it reappears at the end), with why. */
  private async delete(chosen: readonly Message[]): Promise<void> {
    const letters = chosen.map((m) => describeDeadLetter(m));
    const idOf = (letter: DeadLetter) => letter.event.id ?? letter.messageId;
    let failed: ReadonlyMap<string, string>;
    try {
      const answer = await this.backend.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.queue.deadLetterUrl,
          Entries: letters.map((letter, i) => ({ Id: String(i), ReceiptHandle: letter.receiptHandle })),
        }),
      );
      failed = new Map(
        (answer.Failed ?? []).map((f) => [f.Id ?? '', `${f.Code}: ${f.Message ?? ''}`.trim()]),
      );
    } catch (error) {
      this.scan.stop(error);
      failed = new Map(letters.map((_, i) => [String(i), errorLine(error)]));
    }
    const deleted: DeadLetter[] = [];
    for (const [i, letter] of letters.entries()) {
      const why = failed.get(String(i));
      if (why === undefined) {
        deleted.push(letter);
        this.deletedMessages++;
        this.deletedIds.add(idOf(letter));
        this.countFlowParent(letter);
        continue;
      }
      this.failures.push({ messageId: letter.messageId, id: letter.event.id ?? null, reason: why });
      this.scan.hold(chosen[i] as Message);
    }
    await this.recordDeletedJobs(deleted);
  }

  /** The flow parent that waits for the deleted letter's job, if any, and whether that job ever completed. */
  private countFlowParent(letter: DeadLetter): void {
    const envelope = letter.envelope;
    const parent = envelope?.source === JOB_SOURCE ? envelope.headers[JOB_PARENT_HEADER] : undefined;
    // A child sent with ignoreDependencyOnFailure was counted as failed: its parent does not wait for it.
    if (!parent || envelope?.headers[JOB_PARENT_ON_FAILURE_HEADER] === 'ignore') return;
    this.flowParents.add(parent);
    if (letter.failure.errorName !== FLOW_PARENT_ERROR) this.abandonedFlowParents.add(parent);
  }

  /** Best effort, as for a redrive: the dead letters are gone whatever the records say. */
  private async recordDeletedJobs(deleted: readonly DeadLetter[]): Promise<void> {
    const jobs = deleted.flatMap((letter) => {
      const job = trackedJobOf(letter, this.queue.name);
      return job ? [job] : [];
    });
    if (jobs.length === 0 || this.unrecordedJobs) return;
    try {
      await this.context.recordJobs(jobs, new Date(this.backend.clock.now()));
    } catch (error) {
      this.unrecordedJobs = true;
      this.backend.output.note(
        `could not record deleted jobs in their records (hookline jobs show says dead-lettered, no longer in the dead-letter queue): ${errorLine(error)}`,
      );
    }
  }

  private report(): DeletionResult {
    const notFound: string[] = [];
    for (const id of this.context.selection.unseenIds()) {
      const why = this.whyNotReached();
      if (why === undefined) notFound.push(id);
      else this.failures.push({ messageId: '', id, reason: why });
    }
    const { stopped } = this.scan;
    return {
      queue: this.queue.name,
      deletedEvents: this.deletedIds.size,
      deletedMessages: this.deletedMessages,
      deletedIds: [...this.deletedIds],
      skipped: this.skipped,
      failed: this.failures.length,
      failures: this.failures,
      notFound,
      flowParents: [...this.flowParents],
      untoldFlowParents: [...this.flowParents].filter((parent) => !this.abandonedFlowParents.has(parent)),
      ...(this.context.selection.selectsByContent && this.context.heldByOthers > 0
        ? { heldByOthers: this.context.heldByOthers }
        : {}),
      ...(stopped !== undefined ? { stoppedBy: errorLine(this.context.explain(stopped)) } : {}),
    };
  }

  /** Why the scan may have missed an `--id`, or undefined when it read the whole DLQ. */
  private whyNotReached(): string | undefined {
    const { stopped } = this.scan;
    if (stopped !== undefined)
      return `not reached: the scan stopped first (${errorLine(this.context.explain(stopped))})`;
    if (this.queue.deadLetterUrl.endsWith('.fifo') && this.skipped > 0) {
      return 'not reached, if it is in the DLQ at all: SQS returns no later message of a FIFO group while an earlier one it holds stays; run it again';
    }
    if (this.context.heldByOthers > 0) {
      return notReachedWhileHeld(this.context.heldByOthers);
    }
    return undefined;
  }
}

/** How many of the deleted ids (and of the flow parents) the text output names; `--json` has every one. */
const SHOWN_IDS = 20;

export function renderFailedDelete(output: Output, result: FailedDeleteResult): void {
  const c = output.colors;
  const events = plural(result.deletedEvents, 'event');
  const copies =
    result.deletedMessages === result.deletedEvents
      ? ''
      : ` (${result.deletedMessages} messages: the DLQ held more than one copy of an id)`;
  // A delete by --type or --failure can take thousands: the first ids say what went, --json has them all.
  const shown = result.deletedIds.slice(0, SHOWN_IDS).join(', ') || '-';
  const more = result.deletedIds.length - SHOWN_IDS;
  output.line(
    `deleted ${c.green(events)} from the ${result.queue} dead-letter queue${copies}: ${shown}${more > 0 ? ` and ${more} more (--json)` : ''}`,
  );
  if (result.failed > 0) output.line(c.red(`not deleted: ${result.failed} (they stay in the DLQ)`));
  for (const f of result.failures.slice(0, 20)) output.line(c.red(`  ${f.id ?? f.messageId}: ${f.reason}`));
  output.line(
    result.deadLetterDepthAfter === null
      ? 'left in the dead-letter queue: not known, it could not be read after the run'
      : `left in the dead-letter queue: ${result.deadLetterDepthAfter}`,
  );
  if (result.heldByOthers) output.line(c.yellow(unreadWhileHeld(result.heldByOthers, 'deleted')));
  if (result.stoppedBy) output.line(c.red(`stopped early: ${result.stoppedBy}; the rest stays in the DLQ`));
  const untold = new Set(result.untoldFlowParents ?? []);
  renderFlowParents(
    output,
    result.flowParents.filter((parent) => !untold.has(parent)),
    'flow parents of deleted jobs, which can never be sent now (a deleted child never completes, nor tells its parent it did): cancel them',
    'jobs cancel',
  );
  renderFlowParents(
    output,
    result.untoldFlowParents ?? [],
    "flow parents of deleted jobs that ran and could not tell them (FlowParentError): one that counted every child is sent by the redrive of another child's dead letter with FlowParentError, if one is left; jobs show says whether, else cancel it",
    'jobs show',
  );
}

/** A warning about flow parents, then the command (`jobs cancel`, `jobs show`) for each of the first 20. */
function renderFlowParents(
  output: Output,
  parents: readonly string[],
  warning: string,
  command: string,
): void {
  if (parents.length === 0) return;
  output.line(output.colors.yellow(warning));
  for (const parent of parents.slice(0, SHOWN_IDS))
    output.line(`  ${nextCommand(output, `${command} ${parent}`)}`);
  if (parents.length > SHOWN_IDS) output.line(`  and ${parents.length - SHOWN_IDS} more (--json)`);
}
