/**
 * The console's live feed of a deployed stack: the outcome lines of its ingest, jobs endpoint and consumer log
 * groups, read by the poller `hookline tail` reads them with ({@link OutcomeLogPoller}), each line an event of the
 * feed as local mode's journal numbers its lines.
 *
 * It starts at the console's start, as `tail` without `--since` does: a look-back would page through every group's
 * lines of that time, one call per group and page at 2.5 calls a second at most, before the first new line showed;
 * an event of before that is `hookline trace`'s. It keeps the newest {@link DEPLOYED_FEED_KEEP} lines, as local
 * mode's feed keeps its newest lines, so a console left open holds no more.
 */
import type { Backend } from '../cli/backend';
import {
  ActionDeniedError,
  CliError,
  type Denial,
  denialOf,
  explainError,
  isAccessDenial,
} from '../cli/errors';
import {
  isPassingPollFailure,
  OUTCOME_POLL_PERMISSION,
  OutcomeLogPoller,
  pollFailedNote,
} from '../cli/outcome-log-poll';
import type { StackTarget } from '../cli/target';
import type { OutcomeRow } from '../cli/trace';
import { deniedValue } from '../cli/unreadable';
import type { EventFeed, FeedEvent, FeedPage } from './feed';

/** The lines a deployed feed keeps for its reader: its newest, as local mode's feed keeps its newest 5,000. */
export const DEPLOYED_FEED_KEEP = 5_000;

/** The most lines one page of the feed holds (its reader asks again until it has them all). */
const PAGE_LINES = 1_000;

export interface DeployedFeedOptions {
  /** Lines from this time (epoch ms) on. @default - the time the feed is made: the console's start */
  readonly start?: number;
  /** The newest lines kept. @default DEPLOYED_FEED_KEEP */
  readonly keep?: number;
}

/**
 * The feed of a deployed stack's outcome lines; unavailable, saying why, for a stack that publishes no log group
 * outputs (deployed before it did).
 */
export function deployedEventFeed(
  backend: Backend,
  target: StackTarget,
  options: DeployedFeedOptions = {},
): EventFeed {
  let poller: OutcomeLogPoller;
  try {
    poller = new OutcomeLogPoller(backend, target, options.start ?? backend.clock.now());
  } catch (error) {
    if (error instanceof CliError)
      return { unavailable: error.message, after: async (seq) => ({ events: [], latest: seq }) };
    throw error;
  }
  return new PolledFeed(poller, backend, target, options.keep ?? DEPLOYED_FEED_KEEP);
}

/** An outcome row as the feed's event: its outcome is the event, as in local mode's journal. */
export function feedEventOf(row: OutcomeRow, seq: number): FeedEvent {
  const { at, kind, outcome, id, source, type, queue, tenant, attempt, status, latencyMs, reason } = row;
  const optional = { id, source, type, queue, tenant, attempt, status, latencyMs, reason };
  return {
    seq,
    at,
    event: outcome ?? kind,
    ...Object.fromEntries(Object.entries(optional).filter(([, value]) => value !== undefined)),
    ...(row.keyHeldElsewhere ? { keyHeldElsewhere: true as const } : {}),
  };
}

/**
 * Polls when a poll is due (its reader asks every second; the poller's pace is slower) and serves its numbered
 * lines. A failed poll is the feed's failure until the next poll, so the page goes on saying it between polls; it
 * comes with the lines read before it that its reader has not had yet (a page holds at most {@link PAGE_LINES}),
 * never instead of them.
 * One poll at a time: a poll the SDK retries (throttled) outlasts the pace, and a second one beside it would read the
 * same window again and could end first, its outcome then overwritten by the older poll's.
 */
class PolledFeed implements EventFeed {
  readonly unavailable = null;
  private lines: FeedEvent[] = [];
  private latest = 0;
  private lastPollAt: number | undefined;
  private polling = false;
  private failure: Error | undefined;

  constructor(
    private readonly poller: OutcomeLogPoller,
    private readonly backend: Backend,
    private readonly target: StackTarget,
    private readonly keep: number,
  ) {}

  async after(seq: number): Promise<FeedPage> {
    await this.pollWhenDue();
    const events = this.lines.filter((line) => line.seq > seq).slice(0, PAGE_LINES);
    return { events, latest: this.latest, ...(this.failure ? { failure: this.failure } : {}) };
  }

  private async pollWhenDue(): Promise<void> {
    const now = this.backend.clock.now();
    // A reader meanwhile is served what the last poll that ended left: lines and failure alike.
    if (this.polling) return;
    if (this.lastPollAt !== undefined && now - this.lastPollAt < this.poller.intervalMs) return;
    this.lastPollAt = now;
    this.polling = true;
    try {
      await this.poller.poll((row) => this.lines.push(feedEventOf(row, ++this.latest)));
      this.failure = undefined;
    } catch (error) {
      this.failure = feedFailure(error, this.target);
    } finally {
      if (this.lines.length > this.keep) this.lines.splice(0, this.lines.length - this.keep);
      this.polling = false;
    }
  }
}

/** The feed may not be read: said as a part the identity may not read, its action in the missing-permissions line. */
export class FeedDeniedError extends CliError {
  constructor(readonly denial: Denial) {
    super(deniedValue(denial));
    this.name = 'FeedDeniedError';
  }
}

/**
 * A poll's failure in the CLI's words: a denial as the console says a part it may not read (naming the action), a
 * passing one (throttled, AWS's fault, no answer) as `tail` says it, any other as the operator's error.
 */
function feedFailure(error: unknown, target: StackTarget): Error {
  if (isAccessDenial(error))
    return new FeedDeniedError(denialOf(new ActionDeniedError(OUTCOME_POLL_PERMISSION, error)));
  if (isPassingPollFailure(error)) return new Error(pollFailedNote(error));
  const explained = explainError(error, {
    target: target.description,
    local: false,
    stackName: target.stackName,
    region: target.region,
    permissions: [OUTCOME_POLL_PERMISSION],
  });
  return explained instanceof Error ? explained : new Error(String(explained));
}
