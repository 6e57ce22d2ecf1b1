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
 * It reads one log group per call, so a poll makes one call per group (and per page), paced below the API's
 * account-wide rate.
 */
import {
  type CloudWatchLogsClient,
  type FilteredLogEvent,
  FilterLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import type { Backend } from './backend';
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

/** The least time between two polls. */
const MIN_POLL_INTERVAL_MS = 2_000;
/** Time per log group in a poll: a poll's calls stay near 2.5 a second, below FilterLogEvents' account-wide rate. */
const POLL_MS_PER_GROUP = 400;

/** The filter pattern that selects outcome lines (JSON lines whose `message` is one of a timeline's). */
export function outcomeLinesPattern(): string {
  return `{ ${OUTCOME_LINE_MESSAGES.map((message) => `($.message = ${JSON.stringify(message)})`).join(' || ')} }`;
}

/** The time between polls of `groups` log groups. */
export function pollIntervalMs(groups: number): number {
  return Math.max(MIN_POLL_INTERVAL_MS, groups * POLL_MS_PER_GROUP);
}

/**
 * The log events a poll has not shown yet: each event id once. Ids older than a window's start are forgotten, as
 * no later window reads them again.
 */
export class PolledEvents {
  private readonly seen = new Map<string, number>();

  /** The events of `events` not seen before, oldest first; `from` is the start of the window they were read in. */
  fresh(events: readonly FilteredLogEvent[], from: number): FilteredLogEvent[] {
    for (const [id, at] of this.seen) if (at < from) this.seen.delete(id);
    const fresh: FilteredLogEvent[] = [];
    for (const event of events) {
      const id = event.eventId ?? `${event.logStreamName}\u0000${event.timestamp}\u0000${event.message}`;
      if (this.seen.has(id)) continue;
      this.seen.set(id, event.timestamp ?? 0);
      fresh.push(event);
    }
    return fresh.sort((a, b) => (a.timestamp ?? 0) - (b.timestamp ?? 0));
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
 * The outcome lines of a stack's log groups from `start` on, each once, poll after poll. Each poll reads from its
 * last end less {@link LATE_LINE_WINDOW_MS} to now; a poll that fails leaves that time to the next one.
 */
export class OutcomeLogPoller {
  readonly groups: readonly string[];
  private readonly polled = new PolledEvents();
  /** The end of the last window read; undefined until a poll succeeded. */
  private readUntil: number | undefined;

  /** Throws when the stack publishes no log group outputs (a stack deployed before it did). */
  constructor(
    private readonly backend: Backend,
    target: StackTarget,
    private readonly start: number,
  ) {
    this.groups = outcomeLogGroups(backend, target);
  }

  /** A poll has succeeded: a failure now is one of a poller that runs, not of one that cannot start. */
  get started(): boolean {
    return this.readUntil !== undefined;
  }

  /** The time between polls, paced for this stack's number of log groups. */
  get intervalMs(): number {
    return pollIntervalMs(this.groups.length);
  }

  /** The rows of the outcome lines no poll returned before, oldest first; none once `signal` is aborted. */
  async poll(signal?: AbortSignal): Promise<OutcomeRow[]> {
    const now = this.backend.clock.now();
    const from = Math.max(this.start, (this.readUntil ?? this.start) - LATE_LINE_WINDOW_MS);
    const events = await this.readWindow(from, now, signal);
    this.readUntil = now;
    return this.polled.fresh(events, from).flatMap((event) => {
      const row = logEventRow(event.timestamp ?? 0, event.message ?? '');
      return row ? [row] : [];
    });
  }

  /** Every outcome line of every group in [from, until], every page of each. */
  private async readWindow(from: number, until: number, signal?: AbortSignal): Promise<FilteredLogEvent[]> {
    const logs = this.backend.logs as CloudWatchLogsClient;
    const events: FilteredLogEvent[] = [];
    for (const logGroupName of this.groups) {
      let nextToken: string | undefined;
      do {
        if (signal?.aborted) return [];
        const page = await logs.send(
          new FilterLogEventsCommand({
            logGroupName,
            startTime: from,
            endTime: until,
            filterPattern: outcomeLinesPattern(),
            ...(nextToken ? { nextToken } : {}),
          }),
        );
        events.push(...(page.events ?? []));
        nextToken = page.nextToken;
      } while (nextToken);
    }
    return events;
  }
}
