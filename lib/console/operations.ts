/**
 * What the console can show and do, each a call into the CLI's own command cores (status, failed, redrive,
 * failed delete, purge, pause/resume, send): the page and the terminal run the same code against the same target.
 * The event page and replay take their data from optional {@link ConsoleExtensions} (the archive's trace and
 * replay), and say what is missing while those are absent.
 */

import { describeBreakerState } from '../../lambda/shared/circuit-breaker';
import { timeOption } from '../cli/archive';
import type { Backend } from '../cli/backend';
import { setConsumerEnabled } from '../cli/consumers';
import { FIFO_GROUPS_HELD, failedListNotes } from '../cli/dead-letter-notes';
import type { DeadLetterSummary } from '../cli/dead-letters';
import {
  AccessDeniedError,
  ActionDeniedError,
  CliError,
  type Denial,
  denialOf,
  isUnanswered,
} from '../cli/errors';
import { DeadLetterNotFoundError, type FailedShowResult, failedList, failedShow } from '../cli/failed';
import { type FailedDeleteResult, failedDelete, renderFailedDelete } from '../cli/failed-delete';
import { FailureGroups, failurePattern, failureSelector } from '../cli/failure-groups';
import { debouncedSendReplacedReader, deletedJobsRecorder, redrivenJobsRecorder } from '../cli/jobs';
import { filterFlags, renderJobsCancelMatching } from '../cli/jobs-cancel-matching';
import { LATE_LINE_WINDOW_MS } from '../cli/outcome-log-poll';
import { type CommandHints, nextCommand, type Output } from '../cli/output';
import { purge } from '../cli/purge';
import { type RedriveResult, redrive, redriveSourceOf, typeSelector } from '../cli/redrive';
import { renderPurge, renderRedrive, scheduledJobsSentence } from '../cli/render';
import { replaySources } from '../cli/replay';
import { countScheduledJobs, type ScheduledJobsCounter } from '../cli/scheduled-jobs';
import { sendFailureHint, sendWebhook } from '../cli/send';
import { type QueueStatus, type StatusResult, status } from '../cli/status';
import {
  deadLetterQueueOf,
  noReasonRecorded,
  otherDeadLetterQueues,
  queueOf,
  type Target,
} from '../cli/target';
import {
  deniedValue,
  missingPermissionsLine,
  STATUS_PARTS,
  type UnreadablePart,
  unreadableLines,
} from '../cli/unreadable';
import type { ResolvedConfig } from '../config';
import { inTimeOrder } from '../local/journal-order';
import { unconfiguredQueuesNotice } from '../local/unconfigured-queues';
import { credentialHeadersOfSources } from '../senders';
import { Activity, EVENT_OUTCOMES, type EventFilter, type RateSeries } from './activity';
import { queueRatesFromCloudWatch } from './cloudwatch-rates';
import { FeedDeniedError } from './deployed-feed';
import type { EventFeed, FeedEvent } from './feed';
import {
  FeedFollower,
  type FollowerGaps,
  type JournalRecentLines,
  type JournalRunLines,
} from './feed-follower';
import {
  cancelJobRecord,
  cancelMatchingDryRun,
  cancelMatchingFilterOf,
  cancelMatchingJobRecords,
  type JobRecordQuery,
  jobRecordFilterOf,
  listJobRecords,
  showJobRecord,
} from './job-records';
import { discardOutput, type Job, Jobs } from './jobs';
import { type ConsoleLog, lastResort, stderrLog, UNEXPECTED_FAILURE } from './last-resort';
import { type PageCursor, pageOf } from './paging';
import { type CountAsOf, ScheduledJobsCounts, withCountAge } from './scheduled-jobs-count';
import { asOfWords, type ReadAnswer, SharedReads } from './shared-reads';
import { saveDeadLettersArgs } from './ui/dead-letter-expiry';
import { heldByOthers } from './ui/held-by-others';

/**
 * A replay as the page asks for it, with the flags of `hookline replay`: one source, a window of receipt times
 * (ISO 8601 or a duration ago, as `--since` and `--until` take them), optionally a type pattern and one queue.
 */
export interface ReplayRequest {
  readonly source?: string;
  readonly type?: string;
  readonly since?: string;
  /** @default now */
  readonly until?: string;
  /** Send every event to this queue instead of through the routes. */
  readonly queue?: string;
  /** Count and show where the events would go; send nothing. */
  readonly dryRun?: boolean;
}

/** A checked replay request: the source and a bounded window, as the replay core takes them. */
export interface ReplaySelection {
  readonly source: string;
  readonly type?: string;
  readonly since: Date;
  readonly until: Date;
  readonly queue?: string;
  readonly dryRun: boolean;
}

/** The checked selection of a replay request; an empty source or window is an error, never "everything". */
export function replaySelectionOf(request: ReplayRequest, now: number): ReplaySelection {
  const source = request.source?.trim() ?? '';
  if (source === '') throw new CliError('choose the source to replay: replay takes one source at a time');
  const since = timeOption('since', request.since ?? '', now);
  const until =
    request.until !== undefined && request.until.trim() !== ''
      ? timeOption('until', request.until, now)
      : new Date(now);
  if (!(since.getTime() < until.getTime())) {
    throw new CliError(
      `since ${since.toISOString()} is not before until ${until.toISOString()}: nothing was replayed`,
    );
  }
  return {
    source,
    since,
    until,
    dryRun: request.dryRun === true,
    ...(request.type !== undefined && request.type !== '' ? { type: request.type } : {}),
    ...(request.queue !== undefined && request.queue !== '' ? { queue: request.queue } : {}),
  };
}

/**
 * Capabilities that live outside the CLI's current cores and plug in when they exist: the full trace of an
 * event (every receipt, attempt and outcome, from the archive) and replaying archived events.
 */
export interface ConsoleExtensions {
  /** The trace of one event by id, or null when the archive has none. */
  readonly trace?: (id: string, output: Output, connection: ConsoleConnection) => Promise<unknown | null>;
  /**
   * Starts a replay; resolves with its result (progress through `output`). `signal` is aborted when the console
   * stops: the replay then stops between batches and resolves with what it sent.
   */
  readonly replay?: (
    selection: ReplaySelection,
    output: Output,
    connection: ConsoleConnection,
    signal: AbortSignal,
  ) => Promise<unknown>;
}

/**
 * The most dead letters the failures page reads of one queue: every letter of a read is held (for 30 s) until the
 * read ends, so a read much longer than that would receive the first ones again.
 */
export const MAX_DEAD_LETTERS_READ = 5000;

/** The most lines of the live feed an event page's timeline shows: its newest. */
export const MAX_TIMELINE_LINES = 500;

/** Newest first by the time the webhook was received (else sent to the DLQ); the SQS id breaks ties. */
const deadLetterPageKey = (m: DeadLetterSummary) => `${m.receivedAt ?? m.sentAt ?? ''}\n${m.messageId}`;

/**
 * The letters read grouped by failure as `hookline failed summary` groups a whole DLQ (the same code, the same keys),
 * each group with the ids of all its letters read, so the page selects exactly a failure's letters, on any page.
 * An id is the one the page selects and redrives a letter by: its envelope id, else its SQS message id. A redrive or
 * delete by envelope id takes every copy of the event, so `sharedIds` counts the group's ids that also name a letter
 * of another failure (a replayed copy that failed otherwise): the page says so rather than act on them silently.
 * Each group says when SQS deletes its oldest letter, from the DLQ's retention (`retentionSeconds`), as the CLI's does.
 */
function failureGroupsOf(
  letters: readonly DeadLetterSummary[],
  noReason: string,
  retentionSeconds: number | null,
) {
  const groups = new FailureGroups(noReason, retentionSeconds);
  const idsByPattern = new Map<string, Set<string>>();
  const patternsById = new Map<string, Set<string>>();
  for (const letter of letters) {
    groups.add(letter);
    const pattern = failurePattern(letter, noReason);
    const id = letter.id ?? letter.messageId;
    idsByPattern.set(pattern, (idsByPattern.get(pattern) ?? new Set()).add(id));
    patternsById.set(id, (patternsById.get(id) ?? new Set()).add(pattern));
  }
  return groups.result().map((group) => {
    const ids = [...(idsByPattern.get(group.pattern) ?? [])];
    const sharedIds = ids.filter((id) => (patternsById.get(id)?.size ?? 0) > 1).length;
    return { ...group, ids, sharedIds };
  });
}

/**
 * Where a deployed stack's rates come from, and why not from its live feed: a line CloudWatch Logs takes in more
 * than the feed's late-line window after its time is never read, and the feed starts at the console's start, so
 * counts of it would undercount without saying by how much.
 */
export const DEPLOYED_RATES_NOTE = `queue rates: CloudWatch SQS metrics, messages per minute over 30 minutes (sources: no per-source metric; the live event feed does not count them exactly, as it never reads a line CloudWatch Logs takes in more than ${LATE_LINE_WINDOW_MS / 1000} s late)`;

/** Shown on the disabled replay control while no replay function is plugged in. */
export const REPLAY_UNAVAILABLE =
  'replay needs the event archive (hookline replay), which this build does not have: redrive puts dead-lettered events back meanwhile';

/** The pipeline the console talks to: its target, the clients for it, and its event feed. */
export interface ConsoleConnection {
  readonly backend: Backend;
  readonly target: Target;
  readonly feed: EventFeed;
}

/** Everything the console operates on. */
export interface ConsoleContext extends ConsoleConnection {
  readonly config: ResolvedConfig;
  /**
   * The connection to the pipeline running now (local mode: read again from its state file, since a restart
   * gives it new emulator ports and a new journal). Throws while it is not running.
   */
  readonly reconnect?: () => Promise<ConsoleConnection>;
  /**
   * Local mode's journal file, where the lines the feed could not give (the last ones of a run that stopped or
   * was restarted, those its ring dropped) are read from.
   * @default - none: such lines are counted as missed
   */
  readonly journalLines?: JournalRunLines;
  /**
   * Local mode's journal file's recent lines, of every run: a console started after a restart shows those of the
   * runs before it that are within its window (the rates' five minutes, the events it keeps).
   * @default - none: the console shows the lines of the run its feed serves
   */
  readonly journalRecentLines?: JournalRecentLines;
  readonly extensions?: ConsoleExtensions;
  readonly env?: Record<string, string | undefined>;
  /**
   * The target flags the console was started with (`--local`, `--stack`, ...), so a command it shows as a next step
   * acts on the pipeline it shows, never on the default one.
   * @default - commands without flags
   */
  readonly hints?: CommandHints;
  /**
   * Where the console writes a failure it cannot tell the page, with its stack (the output of `hookline console`).
   * @default - the process's stderr
   */
  readonly log?: ConsoleLog;
}

/**
 * The selected ids a redrive or delete read the whole DLQ without finding (the CLI prints those as its error, apart
 * from the summary): the page listed them, so they were deleted or redriven since.
 */
function renderIdsNotFound(output: Output, result: { queue: string; notFound: readonly string[] }): void {
  if (result.notFound.length === 0) return;
  output.line(
    `not found, already gone from the ${result.queue} dead-letter queue: ${result.notFound.join(', ')}`,
  );
}

/** `hookline redrive`'s summary, then the selected ids it did not find. */
export function renderConsoleRedrive(output: Output, result: RedriveResult): void {
  renderRedrive(output, result);
  renderIdsNotFound(output, result);
}

/** `hookline failed delete`'s summary, then the selected ids it did not find. */
export function renderConsoleDelete(output: Output, result: FailedDeleteResult): void {
  renderFailedDelete(output, result);
  renderIdsNotFound(output, result);
}

/** What a redrive from the page takes, as `hookline redrive` combines them; none at all redrives everything. */
export interface RedriveSelection {
  readonly ids?: readonly string[];
  readonly type?: string;
  /** Every dead letter of this failure in the whole DLQ: its key as `hookline failed summary` prints it. */
  readonly failure?: string;
}

/** What a delete from the page takes: exactly one of the ids, or a failure's key (its every dead letter). */
export interface DeleteSelection {
  readonly ids?: readonly string[];
  readonly failure?: string;
}

/** A job's label for a selection (`3 selected`, `type invoice.*`, `failure 0a78ca1c`), or undefined for none. */
function selectionLabel(selection: RedriveSelection): string | undefined {
  const parts = [
    ...(selection.ids ? [`${selection.ids.length} selected`] : []),
    ...(selection.type !== undefined ? [`type ${selection.type}`] : []),
    ...(selection.failure !== undefined ? [`failure ${selection.failure}`] : []),
  ];
  return parts.length > 0 ? parts.join(', ') : undefined;
}

/**
 * Refuses a delete selection before anything is read: no selection, both kinds at once (which the page never
 * sends: it deletes the ticked letters or a whole failure), an empty or blank id, or a key that is none.
 */
function checkDeleteSelection(selection: DeleteSelection, listing: { output: CommandHints; queue: string }) {
  const { ids, failure } = selection;
  if (ids !== undefined && failure !== undefined)
    throw new CliError('select either ids or a failure, not both: nothing was deleted');
  if (failure !== undefined) {
    failureSelector(failure, listing, 'or select with --id');
    return;
  }
  if (ids === undefined || ids.length === 0)
    throw new CliError('no event selected: select at least one; nothing was deleted');
  if (ids.some((id) => id.trim() === ''))
    throw new CliError('an event id must not be blank: nothing was deleted');
}

/**
 * The parts the overview leaves unknown: `status`'s, the queue rates where CloudWatch denied them, and the live
 * events where CloudWatch Logs denied the feed.
 */
function withConsoleDenials(
  parts: readonly UnreadablePart[],
  rates: Denial | undefined,
  feed: Denial | undefined,
): readonly UnreadablePart[] {
  return [
    ...parts,
    // Of the whole stack: no queue, as `status` reports its scheduled jobs.
    ...(rates ? [{ part: 'rates', ...rates }] : []),
    ...(feed ? [{ part: 'live events', ...feed }] : []),
  ];
}

/** What `hookline status` says of the data directory's queues the configuration does not have, or null. */
function unconfiguredQueuesNote(result: StatusResult, hints: CommandHints): string | null {
  const { unconfiguredQueues } = result;
  if (!unconfiguredQueues) return null;
  return unconfiguredQueuesNotice(unconfiguredQueues.queues, unconfiguredQueues.dataDir, hints) ?? null;
}

/**
 * What the console says of local mode's runs whose last lines it could not read (the restart emptied the journal
 * file before it looked, or its rotation dropped them), or null.
 */
export function unreadEndsNote(gaps: FollowerGaps): string | null {
  const runs = gaps.runsEndedUnread;
  if (runs === 0) return null;
  return `${runs === 1 ? 'a run' : `${runs} runs`} of local mode ended before this console read ${runs === 1 ? 'its' : 'their'} last events, and the journal no longer holds them (a restart without HOOKLINE_DATA_DIR empties it, and it keeps only the newest HOOKLINE_JOURNAL_MAX): an unknown number of events is missing here and the rates may undercount`;
}

/** Where a target answers; a restarted local mode answers elsewhere (its emulators take new ports). */
function addressOf(target: Target): string {
  return target.kind === 'local' ? JSON.stringify([target.controlUrl, target.endpoints]) : target.description;
}

/**
 * A feed failure that is neither told in the operator's terms, nor a connection that did not answer, nor a failure
 * the feed names itself (a plain `Error`): a `TypeError` and its kin, whose stack is where to look.
 */
function isOwnFault(error: Error): boolean {
  return error.constructor !== Error && !(error instanceof CliError) && !isUnanswered(error);
}

/** A deployed stack's queue rates from CloudWatch, or why there are none (`rates` then empty). */
interface StackRates extends ReadAnswer {
  readonly rates: Map<string, RateSeries>;
  /** CloudWatch answered the rates; false where `note` says why there are none (denied, unavailable). */
  readonly read: boolean;
  readonly note: string;
  readonly denied?: Denial;
}

/**
 * The Events page's lines, the newest first by the time each happened, lines of the same time the last read first:
 * local mode reads functions' lines in whatever order their workers' output comes (a consumer's `processed` can be
 * read before the ingest's `queued`), and each keeps the time it was written.
 */
function newestFirst(newestRead: readonly FeedEvent[]): FeedEvent[] {
  return inTimeOrder([...newestRead].reverse()).reverse();
}

/** The console's operations on one target. */
export class ConsoleOperations {
  readonly activity = new Activity();
  readonly jobs: Jobs;
  /** Every line of the feed once, across local mode's runs, numbered on from run to run. */
  private readonly follower: FeedFollower;
  private feedError: string | null = null;
  /** The feed's last read was denied (a deployed stack's identity may not call `logs:FilterLogEvents`). */
  private feedDenial: Denial | undefined;
  private pumping = false;
  private connection: ConsoleConnection;
  /** A deployed stack's rates, read from CloudWatch at most once a minute (its metrics have 1-minute points). */
  private readonly cloudWatchRates = new SharedReads<StackRates>(() => this.now(), 60_000);
  /** A deployed stack's jobs scheduled for later, listed at most once per interval for every refresh of every tab. */
  private readonly scheduledJobsCounts = new ScheduledJobsCounts({ now: () => this.now() });

  constructor(readonly context: ConsoleContext) {
    this.connection = { backend: context.backend, target: context.target, feed: context.feed };
    // A job's failure is told as a request's is: it runs on after the request that started it has been answered.
    this.jobs = new Jobs(
      context.hints,
      (error, label) =>
        lastResort(error, this.connection.target, this.log, `in the job ${label}`)?.message ??
        UNEXPECTED_FAILURE,
    );
    this.follower = new FeedFollower(
      (events) => this.activity.add(events),
      context.journalLines,
      this.windowOf(context.journalRecentLines),
    );
  }

  /**
   * The journal file's lines the console's activity can hold: within its rates' window, at most those it keeps. The
   * window is of the wall clock that stamped the lines, not of {@link now}: it selects events, it ages no figure.
   */
  private windowOf(recent: JournalRecentLines | undefined) {
    return recent && (() => recent(new Date(Date.now() - this.activity.windowMs), this.activity.keep));
  }

  /**
   * The clock the overview's reused figures are aged by, one for all of them: the backend's, the one the CLI's cores
   * wait and age by (a test's moves when the test says).
   */
  private now(): number {
    return this.connection.backend.clock.now();
  }

  private get hints(): CommandHints {
    return this.context.hints ?? {};
  }

  /** Where the console writes what it cannot tell the page. */
  get log(): ConsoleLog {
    return this.context.log ?? stderrLog;
  }

  /** The pipeline the console talks to now (local mode's latest run, once it was restarted). */
  get target(): Target {
    return this.connection.target;
  }

  /**
   * Follows a restart of local mode: its new process has other emulator ports and a journal numbered from 1
   * again, so the old connection would fail and the old sequence number would hide every new event. While it is
   * not running, the lines of its last run this console had not read are taken from the journal file.
   */
  private async followRestart(): Promise<void> {
    const { reconnect } = this.context;
    if (!reconnect) return;
    let next: ConsoleConnection;
    try {
      next = await reconnect();
    } catch (error) {
      this.follower.readStoppedRun();
      throw error;
    }
    if (addressOf(next.target) === addressOf(this.connection.target)) return;
    this.connection = next;
    this.follower.endRun();
  }

  /** Reads new events from the feed into the activity; a failing feed is reported, not thrown. */
  async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      await this.followRestart();
      if (this.connection.feed.unavailable) return;
      await this.follower.read(this.connection.feed);
      if (this.feedError !== null) this.log('the event feed is read again\n');
      this.feedError = null;
      this.feedDenial = undefined;
    } catch (error) {
      this.feedFailed(error);
    } finally {
      this.pumping = false;
    }
  }

  /**
   * The page shows why the feed cannot be read; the console's output gets it once per change of reason, as the
   * feed is read every second. A fault of the console's own comes with its stack.
   */
  private feedFailed(error: unknown): void {
    this.feedDenial = error instanceof FeedDeniedError ? error.denial : undefined;
    const reason = error instanceof Error ? error.message : String(error);
    if (reason !== this.feedError) {
      const stack = error instanceof Error && isOwnFault(error) ? `\n${error.stack ?? ''}` : '';
      this.log(`the event feed cannot be read: ${reason}${stack}\n`);
    }
    this.feedError = reason;
  }

  /** Queues with their depths and consumer states, sources, and the rates of both. */
  async overview() {
    const { config } = this.context;
    const { target } = this.connection;
    // Counted as `hookline status` counts them: on a deployed stack, from EventBridge Scheduler's list of schedules,
    // reused across refreshes; local mode's count comes with its queues' answer, read at each refresh anyway.
    const scheduled = this.sharedScheduledJobsCounter();
    const result = await status(this.connection.backend, target, {
      countScheduledJobs: true,
      scheduledJobsCounter: scheduled.counter,
    });
    // Local mode's rates are counted from its events by when they were written: by the wall clock that stamped them.
    const now = Date.now();
    const stack = target.kind === 'stack' ? await this.stackRates() : undefined;
    return {
      target: target.description,
      local: target.kind === 'local',
      queues: result.queues.map((q) => {
        const row = overviewQueueRow(q, this.queueRates(q.queue, stack?.rates, now));
        const denied = result.unreadable?.find(
          (p) => p.queue === q.queue && p.part === STATUS_PARTS.consumer,
        );
        return denied ? { ...row, consumerNote: deniedValue(denied) } : row;
      }),
      // Dead-letter queues that belong to no queue (Scheduler's), as `hookline status` lists them.
      deadLetterQueues: result.otherDeadLetterQueues ?? [],
      schedulesMissingOutputs: result.schedulesMissingOutputs ?? [],
      // The jobs delayed beyond 15 minutes, in `hookline status`'s words (its denial is said here, not in a list).
      scheduledJobs: this.agedScheduledJobsSentence(result, scheduled.asOf()),
      unconfiguredQueuesNote: unconfiguredQueuesNote(result, this.hints),
      // Parts the console's AWS identity may not read: unknown in their rows, said as `hookline status` says them.
      unreadable: result.unreadable ?? [],
      unreadableNotes: unreadableLines(result.unreadable ?? []),
      missingPermissions:
        missingPermissionsLine(withConsoleDenials(result.unreadable ?? [], stack?.denied, this.feedDenial)) ??
        null,
      ratesNote: stack ? this.agedRatesNote(stack) : null,
      sources: config.sources.map((s) => ({
        name: s.name,
        type: s.type,
        // Unknown, not zero: a deployed stack's feed cannot count them exactly (see DEPLOYED_RATES_NOTE).
        rates: stack ? null : this.activity.series(`source:${s.name}`, now),
      })),
      feed: this.feedState(),
      replay: this.replayUnavailable(),
      replaySources: replaySources(config),
    };
  }

  /**
   * A counter for one overview that lists the schedules only when the shared count is older than its interval (or
   * joins the listing running), and keeps what it answered, so the overview says how old that is.
   */
  private sharedScheduledJobsCounter(): { counter: ScheduledJobsCounter; asOf: () => CountAsOf | undefined } {
    let answered: CountAsOf | undefined;
    const counter: ScheduledJobsCounter = async (scheduler, stackName, queueArn) => {
      answered = await this.scheduledJobsCounts.count(`${stackName}\n${queueArn ?? ''}`, () =>
        countScheduledJobs(scheduler, stackName, queueArn),
      );
      return answered.counted;
    };
    return { counter, asOf: () => answered };
  }

  /**
   * `hookline status`'s sentence on the jobs scheduled for later, saying how old a deployed stack's count is; a
   * count of none is said too, with its age (a reused "none" must not vanish as if nothing had been counted).
   */
  private agedScheduledJobsSentence(result: StatusResult, asOf: CountAsOf | undefined) {
    const sentence = scheduledJobsSentence(this.hints, result, { sayNone: asOf !== undefined });
    if (!sentence) return null;
    if (!asOf) return sentence;
    return withCountAge(sentence, asOf, this.now(), this.scheduledJobsCounts.recountMs);
  }

  /** What the rates of a deployed stack are (or why there are none), and how old that is: they are reused. */
  private agedRatesNote(stack: StackRates): string {
    const again = stack.read ? 'read' : 'tried';
    return `${stack.note}; ${asOfWords(stack, this.now(), this.cloudWatchRates.reuseMs, again)}`;
  }

  /** Why the page cannot replay (its control is disabled with this reason), or null when it can. */
  private replayUnavailable(): string | null {
    const { extensions } = this.context;
    const { target } = this.connection;
    if (!extensions?.replay) return REPLAY_UNAVAILABLE;
    return target.archiveBucket
      ? null
      : `${target.description} has no event archive: enable archive in hookline.config.ts and deploy (or restart local mode)`;
  }

  /**
   * A queue's rates: a deployed stack's from CloudWatch, local mode's from the feed; null (unknown, shown as such,
   * never as zero) where CloudWatch gave none: a deployed stack's feed does not count them exactly (see
   * {@link DEPLOYED_RATES_NOTE}).
   */
  private queueRates(
    queue: string,
    stackRates: Map<string, RateSeries> | undefined,
    now: number,
  ): RateSeries | null {
    if (!stackRates) return this.activity.series(`queue:${queue}`, now);
    return stackRates.get(queue) ?? null;
  }

  /** A deployed stack's rates, or why there are none, read at most once a minute for every refresh of every tab. */
  private stackRates(): Promise<StackRates> {
    const { backend, target } = this.connection;
    return this.cloudWatchRates.read(addressOf(target), async (at) => {
      try {
        const rates = await queueRatesFromCloudWatch(backend.cloudwatch, Object.values(target.queues), at);
        return { at, rates, read: true, note: DEPLOYED_RATES_NOTE };
      } catch (error) {
        // A denial is said as `hookline status` says a part it may not read, its action in the missing-permissions line.
        const denied = error instanceof ActionDeniedError ? denialOf(error) : undefined;
        const name = error instanceof Error ? error.name : 'error';
        return {
          at,
          rates: new Map(),
          read: false,
          note: `queue rates: ${denied ? deniedValue(denied) : `CloudWatch unavailable (${name})`}`,
          ...(denied ? { denied } : {}),
        };
      }
    });
  }

  private feedState() {
    const gaps = this.follower.gaps();
    return {
      unavailable: this.connection.feed.unavailable,
      error: this.feedError,
      missed: gaps.missed,
      unreadEnds: unreadEndsNote(gaps),
    };
  }

  /**
   * The live list, newest first, with the choices for its filters; `matching` says how many of the `kept` events
   * match, so a page that shows only the newest can say so.
   */
  events(filter: EventFilter) {
    return {
      events: newestFirst(this.activity.list(filter)),
      matching: this.activity.matching(filter),
      kept: this.activity.keep,
      outcomes: EVENT_OUTCOMES,
      ...this.activity.seen(),
      feed: this.feedState(),
    };
  }

  /**
   * One event: what the feed saw of it, its dead-letter record(s), and the archive's trace when there is one.
   * `alive` is told as the reads of the dead-letter queues go on, letter after letter.
   */
  async event(id: string, alive?: () => void) {
    if (id.trim() === '') throw new CliError('an event id is required');
    // In the order it happened: local mode reads functions' lines in whatever order their workers' output comes
    // (a consumer's `processed` can be read before the ingest's `queued`); each keeps the time it was written.
    const newest = this.activity.list({ id }, MAX_TIMELINE_LINES + 1);
    const seen = inTimeOrder(newest.slice(0, MAX_TIMELINE_LINES).reverse());
    const queues = this.queuesOf(seen);
    const read = await Promise.all(queues.map((q) => this.deadLetter(q, id, alive)));
    const deadLetters = read.filter((d): d is FailedShowResult => typeof d === 'object' && d !== null);
    const deadLetterNotes = read.filter((d): d is string => typeof d === 'string');
    const { trace, traceNote } = await this.traceOf(id);
    const envelope = deadLetters[0];
    // Ids are unique per source only: two sources may have sent this one, and those are two events.
    const sources = [
      ...new Set([...seen, ...deadLetters].flatMap((e) => (e.source ? [e.source] : []))),
    ].sort();
    const one = sources.length <= 1;
    return {
      id,
      sources,
      source: one ? (envelope?.source ?? seen.find((e) => e.source)?.source ?? null) : null,
      type: one ? (envelope?.type ?? seen.find((e) => e.type)?.type ?? null) : null,
      timeline: seen,
      // Without `matches`: the read stopped at the first copy, so it counted no others.
      deadLetters: deadLetters.map(({ matches: _first, events: _one, ...d }) => ({
        ...d,
        redriveRefused: this.redriveRefused(d.queue),
        // How the record's warning of its deletion says to save the queue's letters, as the Failures page's does.
        saveCommand: nextCommand(this.hints, saveDeadLettersArgs(d.queue)),
      })),
      deadLetterNotes,
      trace,
      traceNote,
      timelineNote:
        newest.length > MAX_TIMELINE_LINES
          ? `the timeline shows this id's newest ${MAX_TIMELINE_LINES} lines of the live feed; earlier ones are not shown`
          : null,
    };
  }

  /**
   * The archive's trace of an event, or why there is none. A trace that cannot be read (an id the journal or the
   * logs do not mention, such as a dead letter's SQS message id; Logs Insights refusing) is a note on the page:
   * the feed's timeline and the dead-letter record, with its redrive button, still show.
   */
  private async traceOf(id: string): Promise<{ trace: unknown; traceNote: string | null }> {
    const trace = this.context.extensions?.trace;
    if (!trace) {
      return {
        trace: null,
        traceNote:
          'the full trace (every receipt and attempt, also after processing) needs the event archive; shown: the live feed of this console run and the dead-letter queues',
      };
    }
    try {
      return {
        trace: (await trace(id, discardOutput(this.context.hints), this.connection)) ?? null,
        traceNote: null,
      };
    } catch (error) {
      const told = lastResort(error, this.connection.target, this.log, `reading the trace of ${id}`);
      return { trace: null, traceNote: `no trace: ${told?.message ?? UNEXPECTED_FAILURE}` };
    }
  }

  /**
   * The dead-letter queues to look in: those of the queues the feed saw the event in, else every queue's (it may
   * have been dead-lettered before this run); and always the ones Scheduler fills, which the feed never sees.
   */
  private queuesOf(seen: readonly FeedEvent[]): string[] {
    const named = new Set(seen.flatMap((e) => (e.queue ?? '').split(',').filter(Boolean)));
    const known = Object.keys(this.connection.target.queues);
    const wanted = known.filter((q) => named.has(q));
    const scheduler = otherDeadLetterQueues(this.connection.target).map((d) => d.name);
    return [...(wanted.length > 0 ? wanted : known), ...scheduler];
  }

  /** Why the dead-letter queue `name` cannot be redriven (the CLI's reason), or null when it can. */
  private redriveRefused(name: string): string | null {
    try {
      redriveSourceOf(this.connection.target, name, this.hints);
      return null;
    } catch (error) {
      if (error instanceof CliError) return error.message;
      throw error;
    }
  }

  /**
   * The event's record in the dead-letter queue `queue`, null when it is not there, or, when the read missed
   * dead letters another reader holds (a redrive stopped at once holds them up to 300 s), why it may still be.
   */
  private async deadLetter(
    queue: string,
    id: string,
    alive?: () => void,
  ): Promise<FailedShowResult | string | null> {
    const { backend, target } = this.connection;
    try {
      return await failedShow(backend, target, {
        queue,
        id,
        credentialHeaders: credentialHeadersOfSources(this.context.config.sources),
        // One copy is shown: reading on past it to count the others would read the rest of the DLQ for nothing.
        firstMatch: true,
        ...(alive ? { onProgress: alive } : {}),
        // A client per read, as the job pages' reads: the console runs for hours, one event after another.
        debouncedSendReplaced: debouncedSendReplacedReader(backend, target, this.context.env ?? process.env),
      });
    } catch (error) {
      // One dead-letter queue the console's AWS identity may not read leaves the event's others, and its timeline,
      // to show: the page says which one it could not look in, and what that needs.
      if (error instanceof AccessDeniedError && error.action !== undefined) {
        const denial = denialOf({ action: error.action, explicitDeny: error.explicitDeny });
        const fix = denial.explicitDeny
          ? `no grant overrides the deny: ask the owner of that policy to lift it to look in it`
          : "grant that permission to the console's AWS identity to look in it";
        return `${queue} dead-letter queue: ${deniedValue(denial)}, so this event may be there: ${fix}`;
      }
      if (!(error instanceof DeadLetterNotFoundError)) throw error;
      if (error.behindHeldGroups > 0) {
        return `${queue} dead-letter queue: ${FIFO_GROUPS_HELD}, so about ${error.behindHeldGroups} could not be read and this event may be among them: it shows once the earlier ones of its group are redriven or deleted`;
      }
      if (error.heldByOthers === 0) return null;
      return `${queue} dead-letter queue: ${heldByOthers(error.heldByOthers)} and could not be read, so this event may be among them: Refresh once that hold ends`;
    }
  }

  /**
   * A page of a dead-letter queue's letters, newest first, grouped by failure reason (a queue's, or one Scheduler
   * fills, by CLI name). The whole queue is read (up to {@link MAX_DEAD_LETTERS_READ}, left in place), so the
   * pages and every group's count are exact for that read; a page is named by a letter next to it, so walking the
   * pages shows each letter once. `alive` is told as the read goes on, letter after letter.
   */
  async failures(queue: string, cursor: PageCursor = {}, alive?: () => void) {
    const list = await failedList(this.connection.backend, this.connection.target, {
      queue,
      limit: MAX_DEAD_LETTERS_READ,
      ...(alive ? { onProgress: alive } : {}),
    });
    const reasonOf = (m: DeadLetterSummary) => m.error ?? m.envelopeError ?? noReasonRecorded(list.queue);
    const inRead = new Map<string, number>();
    for (const m of list.messages) inRead.set(reasonOf(m), (inRead.get(reasonOf(m)) ?? 0) + 1);
    const { items, ...page } = pageOf(list.messages, deadLetterPageKey, cursor);
    const groups = new Map<string, DeadLetterSummary[]>();
    for (const m of items) groups.set(reasonOf(m), [...(groups.get(reasonOf(m)) ?? []), m]);
    return {
      queue: list.queue,
      redriveRefused: this.redriveRefused(list.queue),
      // Only a queue's own dead-letter queue is purged here; the ones Scheduler fills are read-only.
      purgeable: list.queue in this.connection.target.queues,
      approximateDepth: list.approximateDepth,
      read: list.messages.length,
      heldByOthers: list.heldByOthers,
      // The read stopped at its bound: the queue may hold more than the pages show.
      capped: list.messages.length >= MAX_DEAD_LETTERS_READ,
      page: { ...page, shown: items.length },
      // Why fewer are shown than are there, as failed list says it (held by another reader, not handed back).
      notes: failedListNotes(list, this.hints),
      groups: [...groups].map(([reason, messages]) => ({
        reason,
        count: inRead.get(reason) ?? messages.length,
        messages,
      })),
      failureGroups: failureGroupsOf(
        list.messages,
        noReasonRecorded(list.queue),
        list.deadLetterRetentionSeconds,
      ),
      // When SQS deletes each letter is the letter's `deletedBySqsAt`; null here means none is known.
      deadLetterRetentionSeconds: list.deadLetterRetentionSeconds,
      // How the page's warning of a letter SQS deletes soon says to save the queue's letters, on this pipeline.
      saveCommand: nextCommand(this.hints, saveDeadLettersArgs(list.queue)),
    };
  }

  /**
   * A page of the job records (`hookline jobs list`), newest first, by state and queue. `alive` is told as the read
   * goes on (the table's pages, the dead-letter queues' letters).
   */
  jobRecords(query: JobRecordQuery, cursor: PageCursor, alive?: () => void) {
    const filter = jobRecordFilterOf(this.connection, query);
    const env = this.context.env ?? process.env;
    return listJobRecords(this.connection, env, filter, cursor, this.hints, alive);
  }

  /** One job record (`hookline jobs show`), with the tenants this run's feed saw it under. */
  jobRecord(id: string) {
    const seen = this.activity.list({ id }, 500);
    return showJobRecord(this.connection, this.context.env ?? process.env, id, seen, this.hints);
  }

  /** Cancels a job that has not started (`hookline jobs cancel`), refusing what the CLI refuses. */
  cancelJobRecord(id: string) {
    return cancelJobRecord(this.connection, this.context.env ?? process.env, id, this.hints);
  }

  /**
   * Without `confirmed`, answers what a cancel of the jobs that have not started and match the filters would cancel
   * (`hookline jobs cancel --type ...` without `--yes`), in the request, changing nothing. With them (the ids that
   * answer named, which the operator confirmed), cancels those that still match (`--yes`) as a job, with the scan's
   * and the cancels' progress and the command's summary, as a redrive runs: tens of thousands of cancels outlast a
   * request. A job that matches only since the question is left alone: the confirmation counted the others. The
   * filters are checked first either way: a refusal is the page's error (a 400), and no job starts.
   */
  cancelMatchingJobRecords(query: JobRecordQuery, confirmed?: readonly string[]) {
    const env = this.context.env ?? process.env;
    const filter = cancelMatchingFilterOf(this.connection, query);
    if (confirmed === undefined) return cancelMatchingDryRun(this.connection, env, filter, this.hints);
    return this.jobs.start(
      'cancel',
      `cancel jobs matching ${filterFlags(filter)}`,
      (output, signal) => cancelMatchingJobRecords(this.connection, env, filter, confirmed, output, signal),
      renderJobsCancelMatching,
    );
  }

  /** The redrive, delete or purge of each dead-letter queue this console started, by the queue's CLI name. */
  private readonly deadLetterJobs = new Map<string, Job>();

  /**
   * Refuses a second redrive, delete or purge of a dead-letter queue while this console runs one: two scans at once
   * hold each other's messages, so each reads less of the DLQ (the redrive core still leaves to each what the
   * other moved, for runs this console cannot see).
   */
  private oneJobPerDeadLetterQueue(queue: string, start: () => Job): Job {
    const running = this.deadLetterJobs.get(queue);
    if (running?.state === 'running') {
      throw new CliError(
        `${running.label} is still running in this console (started ${running.startedAt}): nothing was started; wait for it to end, then look at the ${queue} dead-letter queue again`,
      );
    }
    const job = start();
    this.deadLetterJobs.set(queue, job);
    return job;
  }

  /**
   * Redrives all, a selection (`ids`), a type pattern or every dead letter of a failure (its `failed summary` key,
   * across the whole DLQ, not only the letters the page read), as a job; one at a time per dead-letter queue.
   */
  redrive(queue: string, selection: RedriveSelection): Job {
    redriveSourceOf(this.connection.target, queue, this.hints);
    if (selection.ids !== undefined && selection.ids.length === 0)
      throw new CliError('no event selected: select at least one, or redrive all');
    // The core's own checks, before the job starts: a blank or invalid pattern or key is the page's error (a 400).
    if (selection.type !== undefined) typeSelector(selection.type);
    if (selection.failure !== undefined) failureSelector(selection.failure, { output: this.hints, queue });
    const { backend, target } = this.connection;
    return this.oneJobPerDeadLetterQueue(queue, () =>
      this.jobs.start(
        'redrive',
        `redrive ${queue}: ${selectionLabel(selection) ?? 'all'}`,
        (output, signal) => {
          const env = this.context.env ?? process.env;
          const recordJobs = redrivenJobsRecorder(backend, target, env);
          return redrive({ ...backend, output }, target, {
            queue,
            ...selection,
            recordJobs,
            env,
            signal,
          }).finally(() => recordJobs.close());
        },
        renderConsoleRedrive,
      ),
    );
  }

  /**
   * Deletes the selected dead letters (every copy of each id), or every dead letter of a failure in the whole DLQ,
   * as `hookline failed delete --id ... --yes` (or `--failure <key> --yes`) does, as a job; one scan at a time per
   * dead-letter queue. The page confirmed first. An id gone since its list was read is reported not found, not
   * refused; a failure that matches nothing ends the job with the CLI's error, as the terminal reports it.
   */
  deleteDeadLetters(queue: string, selection: DeleteSelection): Job {
    deadLetterQueueOf(this.connection.target, queue);
    checkDeleteSelection(selection, { output: this.hints, queue });
    const { backend, target } = this.connection;
    return this.oneJobPerDeadLetterQueue(queue, () =>
      this.jobs.start(
        'delete',
        `delete from the ${queue} dead-letter queue: ${selectionLabel(selection)}`,
        (output, signal) => {
          // The job's own client for the records, destroyed when it ends: a console runs for hours.
          const env = this.context.env ?? process.env;
          const recordJobs = deletedJobsRecorder(backend, target, env);
          return failedDelete({ ...backend, output }, target, {
            queue,
            ...selection,
            yes: true,
            reportNoMatch: selection.ids !== undefined,
            recordJobs,
            env,
            signal,
          }).finally(() => recordJobs.close());
        },
        renderConsoleDelete,
      ),
    );
  }

  /** Purges a queue or its DLQ once `confirmation` repeats the queue's name, as a job (a DLQ's not during its redrive). */
  purge(queue: string, deadLetter: boolean, confirmation: string): Job {
    queueOf(this.connection.target, queue);
    if (confirmation !== queue) {
      throw new CliError(`type the queue name "${queue}" to confirm the purge: nothing was deleted`);
    }
    const what = deadLetter ? `${queue} dead-letter queue` : `${queue} queue`;
    const start = () =>
      this.jobs.start(
        'purge',
        `purge the ${what}`,
        (output) =>
          purge({ ...this.connection.backend, output }, this.connection.target, {
            queue,
            deadLetter,
            yes: true,
          }),
        renderPurge,
      );
    return deadLetter ? this.oneJobPerDeadLetterQueue(queue, start) : start();
  }

  /** Pauses or resumes a consumer; a deployed mapping is not waited for (the overview shows it settle). */
  setConsumer(queue: string, enabled: boolean) {
    return setConsumerEnabled(this.connection.backend, this.connection.target, enabled, {
      queue,
      wait: false,
    });
  }

  /**
   * Sends a signed sample webhook to a source (the secret is resolved as `hookline send` does, never shown); a
   * rejected one comes with the fix, as the CLI prints it (`hint`, null when it was taken).
   */
  async send(source: string, type?: string) {
    const { config, env } = this.context;
    const { backend, target } = this.connection;
    const result = await sendWebhook(
      backend,
      target,
      config,
      { source, ...(type ? { type } : {}) },
      env ?? process.env,
    );
    return { ...result, hint: result.ok ? null : sendFailureHint(result, 'console', this.hints) };
  }

  /** Starts a replay through the plugged-in function, as a job, once its source and window are checked. */
  replay(request: ReplayRequest): Job {
    const replay = this.context.extensions?.replay;
    const unavailable = this.replayUnavailable();
    if (!replay || unavailable) throw new CliError(unavailable ?? REPLAY_UNAVAILABLE);
    // A window such as "the last hour" is of the wall clock that stamped the archived events.
    const selection = replaySelectionOf(request, Date.now());
    if (selection.queue !== undefined) queueOf(this.connection.target, selection.queue);
    const label = [
      `${selection.dryRun ? 'count' : 'replay'} ${selection.source}`,
      selection.type !== undefined ? `type ${selection.type}` : '',
      `${selection.since.toISOString()} to ${selection.until.toISOString()}`,
      selection.queue !== undefined ? `to ${selection.queue}` : '',
    ]
      .filter(Boolean)
      .join(', ');
    const connection = this.connection;
    return this.jobs.start('replay', label, (output, signal) =>
      replay(selection, output, connection, signal),
    );
  }
}

/**
 * A queue's row of the overview: its status, its rates, and, when its circuit breaker paused it or is probing it
 * (half-open), the sentence `hookline status` prints for that (the page shows it in place of a bare "paused").
 */
export function overviewQueueRow<R>(q: QueueStatus, rates: R): QueueStatus & { rates: R; pausedBy?: string } {
  return {
    ...q,
    rates,
    ...(q.circuitBreaker && (q.consumer !== 'Enabled' || q.circuitBreaker.circuit?.state === 'half-open')
      ? { pausedBy: describeBreakerState(q.circuitBreaker) }
      : {}),
  };
}
