/**
 * Where the console's live events come from. Local mode records its events in a journal served by its control
 * API (`GET /_hookline/events`); a deployed stack has no feed the console can follow yet. Anything that can
 * answer "the events after sequence N" (the archive's event journal, once it exists) plugs in as an
 * {@link EventFeed}.
 */
import type { HttpFetch } from '../cli/backend';
import type { Target } from '../cli/target';

/** One pipeline event as the console shows it: what happened to which event, where and when. */
export interface FeedEvent {
  /** Increasing within a feed. */
  readonly seq: number;
  /** ISO time the event was recorded. */
  readonly at: string;
  /** `queued`, `processed`, `retried`, `dead-lettered`, `rejected`... */
  readonly event: string;
  readonly id?: string;
  readonly source?: string;
  readonly type?: string;
  /** A queue name, or several joined by commas (an event routed to more than one queue). */
  readonly queue?: string;
  /** The tenant it was queued under in its fair queues (distinct values, comma-separated). */
  readonly tenant?: string;
  readonly attempt?: number;
  readonly status?: number;
  readonly latencyMs?: number;
  readonly reason?: string;
}

/** A followable source of pipeline events. */
export interface EventFeed {
  /** Null when there is a feed; otherwise why there is none (shown instead of the live feed). */
  readonly unavailable: string | null;
  /** Events after `seq`, oldest first, and the newest sequence number of the feed. */
  after(seq: number): Promise<{ events: readonly FeedEvent[]; latest: number }>;
}

/** Local mode's event journal, read through its control API. */
export function localEventFeed(controlUrl: string, http: HttpFetch): EventFeed {
  return {
    unavailable: null,
    async after(seq) {
      const response = await http(`${controlUrl}/events?after=${seq}&limit=1000`);
      if (response.status === 404) {
        throw new Error('this local mode has no event journal: restart it with the current npm start');
      }
      if (!response.ok) throw new Error(`local mode answered HTTP ${response.status} for its events`);
      const page = (await response.json()) as { events?: FeedEvent[]; latest?: number };
      return { events: page.events ?? [], latest: page.latest ?? seq };
    },
  };
}

/** A feed that has nothing to follow, with the reason. */
export function unavailableFeed(reason: string): EventFeed {
  return { unavailable: reason, after: async (seq) => ({ events: [], latest: seq }) };
}

/** The feed of a target: local mode's journal, else none yet. */
export function feedFor(target: Target, http: HttpFetch): EventFeed {
  if (target.kind === 'local') return localEventFeed(target.controlUrl, http);
  return unavailableFeed(
    'no live event feed for a deployed stack yet: the overview counts come from SQS, failures from the DLQs',
  );
}
