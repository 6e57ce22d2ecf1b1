/**
 * What the console remembers of the feed: the recent events (for the live list, its filters and the event page)
 * and per-minute-ish rates per queue and source (the overview's sparklines). Pure: the server feeds it.
 */
import { LOCAL_EVENT_NAMES } from '../local/reporter';
import type { FeedEvent } from './feed';

/** Which rate an event counts towards. */
export type RateKind = 'received' | 'processed' | 'failed';

/** What the live list's outcome filter takes: a rate kind, or any event name the feed carries. */
export const EVENT_OUTCOMES: readonly string[] = [
  ...new Set<string>(['received', 'processed', 'failed', ...LOCAL_EVENT_NAMES]),
];

/** Ingest outcomes: an event arrived (whatever became of it). */
const RECEIVED = new Set(['queued', 'duplicate', 'ignored', 'rejected']);
const FAILED = new Set(['retried', 'dead-lettered', 'failed', 'error']);

/**
 * The rate an event counts towards, if any. A consumer's outcome always carries its attempt, an ingest's never:
 * a consumer's `duplicate` (a redelivered record its idempotency skipped) is not a second arrival of the event,
 * and a copy retried because another execution held its idempotency key is no failure (its handler did not run).
 */
export function rateKindOf(
  event: Pick<FeedEvent, 'event' | 'attempt' | 'keyHeldElsewhere'>,
): RateKind | undefined {
  const name = event.event;
  if (RECEIVED.has(name)) return event.attempt === undefined ? 'received' : undefined;
  if (name === 'processed') return 'processed';
  return FAILED.has(name) && event.keyHeldElsewhere !== true ? 'failed' : undefined;
}

/** Filters of the live list; absent or empty means any. */
export interface EventFilter {
  readonly source?: string;
  readonly type?: string;
  /** An event name (`processed`) or a rate kind (`failed`). */
  readonly outcome?: string;
  readonly queue?: string;
  readonly id?: string;
}

export function matches(event: FeedEvent, filter: EventFilter): boolean {
  if (filter.source && event.source !== filter.source) return false;
  if (filter.type && !(event.type ?? '').includes(filter.type)) return false;
  if (filter.id && event.id !== filter.id) return false;
  if (filter.queue && !(event.queue ?? '').split(',').includes(filter.queue)) return false;
  if (filter.outcome && event.event !== filter.outcome && rateKindOf(event) !== filter.outcome) return false;
  return true;
}

/** Sparkline series: counts per bucket, oldest first. */
export interface RateSeries {
  readonly bucketSeconds: number;
  readonly received: readonly number[];
  readonly processed: readonly number[];
  readonly failed: readonly number[];
}

export interface ActivityOptions {
  /** Events kept for the list and the event page. @default 2000 */
  readonly keep?: number;
  /** @default 10 */
  readonly bucketSeconds?: number;
  /** Buckets per series. @default 30 (five minutes of 10 s buckets) */
  readonly buckets?: number;
}

/**
 * The recent events and their rates. A rate counts events, each once per bucket: an event a source fanned out to
 * three queues is one processed event of that source (and one of each queue), and one retried twice in a bucket
 * is one failed event there. A line without an event id (a request rejected before it had one) counts alone.
 */
export class Activity {
  private readonly events: FeedEvent[] = [];
  /** `queue:<name>` or `source:<name>` -> kind -> bucket index (epoch / bucketSeconds) -> the events counted. */
  private readonly counts = new Map<string, Map<RateKind, Map<number, Set<string>>>>();
  /** How many events are kept: older ones are forgotten, and the list says so. */
  readonly keep: number;
  readonly bucketSeconds: number;
  private readonly buckets: number;

  constructor(options: ActivityOptions = {}) {
    this.keep = options.keep ?? 2_000;
    this.bucketSeconds = options.bucketSeconds ?? 10;
    this.buckets = options.buckets ?? 30;
  }

  add(events: readonly FeedEvent[]): void {
    for (const event of events) {
      this.events.push(event);
      const kind = rateKindOf(event);
      if (!kind) continue;
      const bucket = Math.floor(Date.parse(event.at) / 1000 / this.bucketSeconds);
      const counted = event.id ?? `line:${event.seq}`;
      for (const queue of (event.queue ?? '').split(',').filter(Boolean))
        this.count(`queue:${queue}`, kind, bucket, counted);
      if (event.source) this.count(`source:${event.source}`, kind, bucket, counted);
    }
    if (this.events.length > this.keep) this.events.splice(0, this.events.length - this.keep);
  }

  private count(key: string, kind: RateKind, bucket: number, eventKey: string): void {
    let byKind = this.counts.get(key);
    if (!byKind) {
      byKind = new Map();
      this.counts.set(key, byKind);
    }
    let byBucket = byKind.get(kind);
    if (!byBucket) {
      byBucket = new Map();
      byKind.set(kind, byBucket);
    }
    let counted = byBucket.get(bucket);
    if (!counted) {
      counted = new Set();
      byBucket.set(bucket, counted);
    }
    counted.add(eventKey);
    for (const old of byBucket.keys()) if (old <= bucket - this.buckets * 2) byBucket.delete(old);
  }

  /** How far back the series reach: events older than that count in no rate. */
  get windowMs(): number {
    return this.buckets * this.bucketSeconds * 1000;
  }

  /** The series of a queue or source, ending with the bucket that holds `nowMs`. */
  series(key: `queue:${string}` | `source:${string}`, nowMs: number): RateSeries {
    const last = Math.floor(nowMs / 1000 / this.bucketSeconds);
    const line = (kind: RateKind) => {
      const byBucket = this.counts.get(key)?.get(kind);
      return Array.from(
        { length: this.buckets },
        (_, i) => byBucket?.get(last - this.buckets + 1 + i)?.size ?? 0,
      );
    };
    return {
      bucketSeconds: this.bucketSeconds,
      received: line('received'),
      processed: line('processed'),
      failed: line('failed'),
    };
  }

  /** Newest first, at most `limit`. */
  list(filter: EventFilter, limit = 200): FeedEvent[] {
    const found: FeedEvent[] = [];
    for (let i = this.events.length - 1; i >= 0 && found.length < limit; i--) {
      const event = this.events[i];
      if (event && matches(event, filter)) found.push(event);
    }
    return found;
  }

  /** How many of the kept events match `filter`: the list shows only the newest of them, and says of how many. */
  matching(filter: EventFilter): number {
    return this.events.reduce((n, event) => (matches(event, filter) ? n + 1 : n), 0);
  }

  /** Sources and types seen, for the filter choices. */
  seen(): { sources: string[]; types: string[] } {
    const sources = new Set<string>();
    const types = new Set<string>();
    for (const e of this.events) {
      if (e.source) sources.add(e.source);
      if (e.type) types.add(e.type);
    }
    return { sources: [...sources].sort(), types: [...types].sort() };
  }
}
