import { describe, expect, it } from 'vitest';
import { Activity, rateKindOf } from '../../lib/console/activity';
import type { FeedEvent } from '../../lib/console/feed';

const at = (seconds: number) => new Date(Date.UTC(2026, 10, 30, 0, 0, seconds)).toISOString();
let seq = 0;
const event = (event: string, seconds: number, extra: Partial<FeedEvent> = {}): FeedEvent => ({
  seq: ++seq,
  at: at(seconds),
  event,
  ...extra,
});

describe('console activity', () => {
  it('counts ingest outcomes as received, processed as processed, retries and dead letters as failed', () => {
    const kinds = (...names: string[]) => names.map((name) => rateKindOf({ event: name }));
    expect(kinds('queued', 'duplicate', 'ignored', 'rejected')).toEqual(Array(4).fill('received'));
    expect(kinds('processed')).toEqual(['processed']);
    expect(kinds('retried', 'dead-lettered')).toEqual(['failed', 'failed']);
    expect(kinds('scheduled')).toEqual([undefined]);
  });

  it("counts an event received once when a consumer's idempotency skips its redelivery", () => {
    const activity = new Activity({ bucketSeconds: 10, buckets: 1 });
    activity.add([
      event('queued', 1, { id: 'a', source: 'github', queue: 'events', status: 202 }),
      event('processed', 2, { id: 'a', source: 'github', queue: 'events', attempt: 1 }),
      event('duplicate', 5, { id: 'a', source: 'github', queue: 'events', attempt: 2 }),
    ]);
    const series = activity.series('queue:events', Date.parse(at(9)));
    expect(series.received).toEqual([1]);
    expect(series.processed).toEqual([1]);
    expect(activity.series('source:github', Date.parse(at(9))).received).toEqual([1]);
  });

  it('buckets rates per queue and per source, ending at the current bucket', () => {
    const activity = new Activity({ bucketSeconds: 10, buckets: 3 });
    activity.add([
      event('queued', 1, { source: 'github', queue: 'events,orders' }),
      event('processed', 12, { source: 'github', queue: 'events' }),
      event('processed', 15, { source: 'github', queue: 'events' }),
      event('dead-lettered', 25, { source: 'stripe', queue: 'events' }),
    ]);
    const now = Date.parse(at(29));
    expect(activity.series('queue:events', now)).toEqual({
      bucketSeconds: 10,
      received: [1, 0, 0],
      processed: [0, 2, 0],
      failed: [0, 0, 1],
    });
    expect(activity.series('queue:orders', now).received).toEqual([1, 0, 0]);
    expect(activity.series('source:stripe', now).failed).toEqual([0, 0, 1]);
    expect(activity.series('queue:events', Date.parse(at(35))).processed).toEqual([2, 0, 0]);
  });

  it('lists the newest events first, filtered by source, type, outcome and id', () => {
    const activity = new Activity({ keep: 3 });
    activity.add([
      event('queued', 1, { id: 'old', source: 'github' }),
      event('queued', 2, { id: 'a', source: 'github', type: 'push' }),
      event('retried', 3, { id: 'a', source: 'github', type: 'push' }),
      event('queued', 4, { id: 'b', source: 'stripe', type: 'invoice.paid' }),
    ]);
    expect(activity.list({}).map((e) => `${e.event}:${e.id}`)).toEqual(['queued:b', 'retried:a', 'queued:a']);
    expect(activity.list({ source: 'github' }).map((e) => e.id)).toEqual(['a', 'a']);
    expect(activity.list({ outcome: 'failed' }).map((e) => e.event)).toEqual(['retried']);
    expect(activity.list({ outcome: 'queued', type: 'invoice' }).map((e) => e.id)).toEqual(['b']);
    expect(activity.list({ id: 'a' }).length).toBe(2);
    expect(activity.seen()).toEqual({ sources: ['github', 'stripe'], types: ['invoice.paid', 'push'] });
  });
});
