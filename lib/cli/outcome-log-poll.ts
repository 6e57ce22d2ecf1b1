/**
 * The outcome lines of a deployed stack's ingest, jobs endpoint and consumer log groups (the stack outputs `trace`
 * reads), polled with CloudWatch Logs' `FilterLogEvents` and read as trace's rows ({@link logEventRow}): the one
 * poller of `hookline tail` and of the console's live feed of a deployed stack.
 *
 * Why polling and not `StartLiveTail`: a Live Tail session samples its lines down to 500 a second and drops the
 * oldest when its reader falls behind, so a busy pipeline's tail would silently miss steps; it shows only lines
 * ingested after it started (no `--since`), ends after three hours and is billed per minute. `FilterLogEvents`
 * returns every matching line of a time window, page by page, each with an id: a window polled again overlaps the
 * last one (CloudWatch Logs ingests a line a few seconds after its time) and the ids drop what was already shown.
 * It reads one log group per call, so a poll makes one call per group (and per page): every call, a page of a long
 * `--since` catch-up as much as a poll's first, waits {@link CALL_SPACING_MS} after the one before, below the API's
 * account-wide rate.
 */
import {
  type CloudWatchLogsClient,
  type FilteredLogEvent,
  FilterLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import type { Backend, Clock } from './backend';
import { errorName, httpStatus, isThrottling, isUnanswered } from './errors';
import type { StackTarget } from './target';
import { logEventRow, OUTCOME_LINE_MESSAGES, type OutcomeRow, outcomeLogGroups } from './trace';

/** The IAM action polling the outcome lines needs, named where an access denial is told. */
export const OUTCOME_POLL_PERMISSION = 'logs:FilterLogEvents';

/**
 * How far back each poll reads again: CloudWatch Logs makes a line searchable a few seconds after its time, and a
 * poll that read only from its last end would never see a line that arrived late.
 */
export const LATE_LINE_WINDOW_MS = 60_000;

/**
 * The least time between the starts of two `FilterLogEvents` calls of one poller: at most 2.5 calls a second, half
 * the 5 a second CloudWatch Logs allows it per account and region, which every other reader (the console, a second
 * tail, the Logs console's own searches) shares and which no quota increase raises
 * (https://repost.aws/knowledge-center/cloudwatch-logs-throttling).
 */
export const CALL_SPACING_MS = 400;

/** The least time between two polls. */
const MIN_POLL_INTERVAL_MS = 2_000;
/** Time per log group between polls: a poll of many groups, each a paced call, is followed by as long a rest. */
const POLL_MS_PER_GROUP = CALL_SPACING_MS;

/** The filter pattern that selects outcome lines (JSON lines whose `message` is one of a timeline's). */
export function outcomeLinesPattern(): string {
  return `{ ${OUTCOME_LINE_MESSAGES.map((message) => `($.message = ${JSON.stringify(message)})`).join(' || ')} }`;
}

/** The time between polls of `groups` log groups. */
export function pollIntervalMs(groups: number): number {
  return Math.max(MIN_POLL_INTERVAL_MS, groups * POLL_MS_PER_GROUP);
}

/**
 * Spaces one poller's calls {@link CALL_SPACING_MS} apart, whichever poll and page they read: a window's pages are
 * read one after the other as fast as they answer, so spacing the polls alone let a long catch-up call back to back.
 */
class CallSpacing {
  private lastCallAt: number | undefined;

  constructor(private readonly clock: Clock) {}

  /**
   * Waits until the next call may start (at once when the last started long enough ago), and counts it as started;
   * returns early once `signal` is aborted, so Ctrl-C does not wait out the spacing.
   */
  async beforeCall(signal?: AbortSignal): Promise<void> {
    const wait = this.lastCallAt === undefined ? 0 : this.lastCallAt + CALL_SPACING_MS - this.clock.now();
    if (wait > 0) await this.clock.sleep(wait, signal);
    this.lastCallAt = this.clock.now();
  }
}

/**
 * The log events a poll has not shown yet: each event id once. Only the ids a later window may read again are kept,
 * those of the last {@link LATE_LINE_WINDOW_MS} before the newest event seen: a window read in time order (a week of
 * `--since`) holds a minute of ids, not the week's.
 */
export class PolledEvents {
  private readonly seen = new Map<string, number>();
  private newest = Number.NEGATIVE_INFINITY;

  /** Forgets the ids older than `from`, the start of the window about to be read: none reads them again. */
  forgetBefore(from: number): void {
    for (const [id, at] of this.seen) if (at < from) this.seen.delete(id);
  }

  /** Whether `event` was not seen before; it is remembered as seen. */
  isFresh(event: FilteredLogEvent): boolean {
    const id = event.eventId ?? `${event.logStreamName}\u0000${event.timestamp}\u0000${event.message}`;
    if (this.seen.has(id)) return false;
    const at = event.timestamp ?? 0;
    this.seen.set(id, at);
    if (at > this.newest) {
      this.newest = at;
      this.forgetOlderThan(at - LATE_LINE_WINDOW_MS);
    }
    return true;
  }

  /**
   * Forgets from the oldest remembered on, as they were read: the next window starts no earlier than the newest
   * event's time less the late-line window (a line read late, kept further in, is forgotten by the next window).
   */
  private forgetOlderThan(horizon: number): void {
    for (const [id, at] of this.seen) {
      if (at >= horizon) return;
      this.seen.delete(id);
    }
  }
}

/**
 * A poll's failure that passes: throttling, AWS's own fault, or no answer (the SDK retried each already). The next
 * poll reads its time again, so nothing is lost.
 */
export function isPassingPollFailure(error: unknown): boolean {
  return isThrottling(error) || (httpStatus(error) ?? 0) >= 500 || isUnanswered(error);
}

/** What is said of a poll that failed in passing ({@link isPassingPollFailure}), once until a poll succeeds again. */
export function pollFailedNote(error: unknown): string {
  return `CloudWatch Logs did not answer a poll (${errorName(error)}): polling again; no line is lost, the next poll reads that time again`;
}

/**
 * The outcome lines of a stack's log groups from `start` on, each once, poll after poll, sent on as they are read.
 * Each poll reads from its last end less {@link LATE_LINE_WINDOW_MS} to now, in time order across the groups; a poll
 * that fails leaves the rest of its window to the next one.
 */
export class OutcomeLogPoller {
  readonly groups: readonly string[];
  private readonly polled = new PolledEvents();
  private readonly spacing: CallSpacing;
  /**
   * Up to when every line was sent on: the end of the last window read, or the time of the last line sent by a
   * poll that failed; undefined before.
   */
  private readUntil: number | undefined;
  private answered = false;

  /** Throws when the stack publishes no log group outputs (a stack deployed before it did). */
  constructor(
    private readonly backend: Backend,
    target: StackTarget,
    private readonly start: number,
  ) {
    this.groups = outcomeLogGroups(backend, target);
    this.spacing = new CallSpacing(backend.clock);
  }

  /**
   * CloudWatch Logs has answered a call of this poller: a failure now is one of a poller that runs, not of one that
   * cannot start (a first poll through a long `--since` may fail after pages of lines).
   */
  get started(): boolean {
    return this.answered;
  }

  /** The time between polls, paced for this stack's number of log groups. */
  get intervalMs(): number {
    return pollIntervalMs(this.groups.length);
  }

  /**
   * Sends `onRow` the rows of the outcome lines no poll sent before, oldest first, as the pages are read: it holds
   * one page per log group, however long the window. Returns early once `signal` is aborted.
   */
  async poll(onRow: (row: OutcomeRow) => void, signal?: AbortSignal): Promise<void> {
    const now = this.backend.clock.now();
    const from = Math.max(this.start, (this.readUntil ?? this.start) - LATE_LINE_WINDOW_MS);
    this.polled.forgetBefore(from);
    let sentUntil: number | undefined;
    try {
      await this.readWindow(from, now, signal, (event) => {
        sentUntil = event.timestamp ?? 0;
        if (!this.polled.isFresh(event)) return;
        const row = logEventRow(event.timestamp ?? 0, event.message ?? '');
        if (row) onRow(row);
      });
    } catch (error) {
      // What was sent stays sent: the next window starts a late-line window before it, not at this one's start.
      if (sentUntil !== undefined) this.readUntil = Math.max(this.readUntil ?? sentUntil, sentUntil);
      throw error;
    }
    if (!signal?.aborted) this.readUntil = now;
  }

  /**
   * Every outcome line of every group in [from, until], oldest first: the groups' pages merged by time, one page of
   * each held at a time. FilterLogEvents interleaves a group's log streams and returns its events "sorted by event
   * timestamp" (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html), page
   * after page of one result, so the oldest head of the groups is the oldest line left to send; lines of equal time
   * come in the groups' order (ingest, jobs endpoint, consumers), as a sort of the whole window would give them.
   */
  private async readWindow(
    from: number,
    until: number,
    signal: AbortSignal | undefined,
    onEvent: (event: FilteredLogEvent) => void,
  ): Promise<void> {
    const logs = this.backend.logs as CloudWatchLogsClient;
    const pages = this.groups.map((logGroupName) => new GroupPages(logs, logGroupName, from, until));
    for (;;) {
      let oldest: GroupPages | undefined;
      for (const group of pages) {
        if (signal?.aborted) return;
        while (group.needsPage) {
          await this.spacing.beforeCall(signal);
          if (signal?.aborted) return;
          await group.readPage();
          this.answered = true;
        }
        const head = group.head?.timestamp ?? 0;
        if (group.head && (!oldest?.head || head < (oldest.head.timestamp ?? 0))) oldest = group;
      }
      if (!oldest?.head) return;
      onEvent(oldest.take());
    }
  }
}

/** One log group's outcome lines of a window, a page at a time. */
class GroupPages {
  private events: readonly FilteredLogEvent[] = [];
  private at = 0;
  private nextToken: string | undefined;
  private ended = false;

  constructor(
    private readonly logs: CloudWatchLogsClient,
    private readonly logGroupName: string,
    private readonly from: number,
    private readonly until: number,
  ) {}

  /** The page read is used up and the group has more (a page may be empty while more follow its token). */
  get needsPage(): boolean {
    return this.at >= this.events.length && !this.ended;
  }

  /** The group's oldest line not taken, in the page read; undefined when it needs a page or has ended. */
  get head(): FilteredLogEvent | undefined {
    return this.events[this.at];
  }

  take(): FilteredLogEvent {
    const event = this.events[this.at] as FilteredLogEvent;
    this.at += 1;
    return event;
  }

  async readPage(): Promise<void> {
    const page = await this.logs.send(
      new FilterLogEventsCommand({
        logGroupName: this.logGroupName,
        startTime: this.from,
        endTime: this.until,
        filterPattern: outcomeLinesPattern(),
        ...(this.nextToken ? { nextToken: this.nextToken } : {}),
      }),
    );
    this.events = page.events ?? [];
    this.at = 0;
    this.nextToken = page.nextToken;
    this.ended = !page.nextToken;
  }
}
