/**
 * `hookline tail` on a deployed stack: the outcome lines of the ingest, jobs endpoint and consumer log groups (the
 * stack outputs `trace` reads), polled with CloudWatch Logs' `FilterLogEvents`.
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
import { errorName, explainError, httpStatus, isThrottling, isUnanswered } from './errors';
import { pause, type TailLine, type TailRun, TailTimelines } from './tail';
import type { StackTarget } from './target';
import { logEventRow, OUTCOME_LINE_MESSAGES, type OutcomeRow, outcomeLogGroups } from './trace';

/** The IAM action a deployed tail needs, named in the error an access denial gives. */
export const TAIL_PERMISSION = 'logs:FilterLogEvents';

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
 * Sends `run.emit` every step of the outcome lines `select` selects, from the stack's log groups, until the signal
 * is aborted: from `run.since`, else from now. A poll that fails once the tail is running (throttled, AWS's fault, no
 * answer) is said on stderr and polled again, its time read again by the next poll; any other failure, or one of the
 * first poll, ends the tail with its error.
 */
export async function tailLogGroups(
  backend: Backend,
  target: StackTarget,
  select: (row: OutcomeRow) => boolean,
  run: TailRun,
): Promise<void> {
  const groups = outcomeLogGroups(backend, target);
  const polled = new PolledEvents();
  const timelines = new TailTimelines();
  const start = run.since?.getTime() ?? backend.clock.now();
  /** The end of the last window read; undefined until a poll succeeded. */
  let readUntil: number | undefined;
  let failing = false;
  while (!run.signal.aborted) {
    const now = backend.clock.now();
    const from = Math.max(start, (readUntil ?? start) - LATE_LINE_WINDOW_MS);
    try {
      const events = await readWindow(backend, groups, from, now, run.signal);
      for (const line of linesOf(polled.fresh(events, from), timelines, select)) run.emit(line);
      readUntil = now;
      failing = false;
    } catch (error) {
      if (readUntil === undefined || !isPassing(error)) throw explainTailError(error, target);
      if (!failing) backend.output.note(pollFailedNote(error));
      failing = true;
    }
    await pause(run.pollIntervalMs ?? pollIntervalMs(groups.length), run.signal);
  }
}

/** The tail lines of polled events, in their order: the steps of the outcome lines `select` selects. */
function linesOf(
  events: readonly FilteredLogEvent[],
  timelines: TailTimelines,
  select: (row: OutcomeRow) => boolean,
): TailLine[] {
  return events.flatMap((event) => {
    const row = logEventRow(event.timestamp ?? 0, event.message ?? '');
    if (!row) return [];
    const lines = timelines.steps(row);
    return select(row) ? lines : [];
  });
}

/** A failure that passes: throttling, AWS's own fault, or no answer (the SDK retried each already). */
function isPassing(error: unknown): boolean {
  return isThrottling(error) || (httpStatus(error) ?? 0) >= 500 || isUnanswered(error);
}

/** What stderr says of a poll that failed while the tail runs, once until a poll succeeds again. */
export function pollFailedNote(error: unknown): string {
  return `CloudWatch Logs did not answer a poll (${errorName(error)}): polling again; no line is lost, the next poll reads that time again`;
}

/** Every outcome line of every group in [from, until], every page of each; none once the signal is aborted. */
async function readWindow(
  backend: Backend,
  groups: readonly string[],
  from: number,
  until: number,
  signal: AbortSignal,
): Promise<FilteredLogEvent[]> {
  const logs = backend.logs as CloudWatchLogsClient;
  const events: FilteredLogEvent[] = [];
  for (const logGroupName of groups) {
    let nextToken: string | undefined;
    do {
      if (signal.aborted) return [];
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

/** A failure that ends the tail, in the operator's terms, naming the permission a denial lacks. */
function explainTailError(error: unknown, target: StackTarget): unknown {
  return explainError(error, {
    target: target.description,
    local: false,
    stackName: target.stackName,
    region: target.region,
    permissions: [TAIL_PERMISSION],
  });
}
