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
    expect(kinds('retried', 'dead-lettered', 'failed', 'error')).toEqual(Array(4).fill('failed'));
    expect(kinds('scheduled')).toEqual([undefined]);
  });

  it('does not count a copy retried or dead-lettered because another execution held its idempotency key as failed', () => {
    expect(rateKindOf({ event: 'retried', attempt: 1, keyHeldElsewhere: true })).toBeUndefined();
    expect(rateKindOf({ event: 'dead-lettered', attempt: 5, keyHeldElsewhere: true })).toBeUndefined();
    const activity = new Activity({ bucketSeconds: 10, buckets: 1 });
    activity.add([
      event('retried', 1, { id: 'copy', queue: 'events', attempt: 1, keyHeldElsewhere: true }),
      event('retried', 2, { id: 'broken', queue: 'events', attempt: 1 }),
    ]);
    expect(activity.series('queue:events', Date.parse(at(9))).failed).toEqual([1]);
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

  it('counts each event once per bucket: a fan-out processed in three queues, a retry and its dead-lettering', () => {
    const activity = new Activity({ bucketSeconds: 10, buckets: 2 });
    activity.add([
      event('queued', 1, { id: 'fan', source: 'github', queue: 'a,b,c', status: 202 }),
      ...['a', 'b', 'c'].map((queue) =>
        event('processed', 2, { id: 'fan', source: 'github', queue, attempt: 1 }),
      ),
      event('queued', 3, { id: 'bad', source: 'github', queue: 'a', status: 202 }),
      event('retried', 4, { id: 'bad', source: 'github', queue: 'a', attempt: 1 }),
      event('dead-lettered', 6, { id: 'bad', source: 'github', queue: 'a', attempt: 2 }),
      event('retried', 12, { id: 'bad', source: 'github', queue: 'a', attempt: 3 }),
      // No event id yet (refused before one was given): each line is its own.
      event('rejected', 7, { source: 'github', status: 401 }),
      event('rejected', 8, { source: 'github', status: 401 }),
    ]);
    const now = Date.parse(at(19));
    expect(activity.series('source:github', now)).toMatchObject({
      received: [4, 0],
      processed: [1, 0],
      failed: [1, 1],
    });
    expect(activity.series('queue:a', now)).toMatchObject({ processed: [1, 0], failed: [1, 1] });
    expect(activity.series('queue:c', now).processed).toEqual([1, 0]);
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

  it('keeps every bucket of the window, however old within it, in buckets of the size asked for', () => {
    const activity = new Activity({ bucketSeconds: 5, buckets: 4 });
    activity.add([event('processed', 1, { queue: 'events' }), event('processed', 16, { queue: 'events' })]);
    const series = activity.series('queue:events', Date.parse(at(19)));
    expect(series).toMatchObject({ bucketSeconds: 5, processed: [1, 0, 0, 1] });
    expect(activity.series('queue:never-seen', Date.parse(at(19)))).toEqual({
      bucketSeconds: 5,
      received: [0, 0, 0, 0],
      processed: [0, 0, 0, 0],
      failed: [0, 0, 0, 0],
    });
  });

  it('lists at most the number asked for, filters by any queue an event went to, and starts empty', () => {
    const activity = new Activity();
    expect(activity.list({})).toEqual([]);
    activity.add([
      event('queued', 1, { id: 'both', queue: 'events,orders' }),
      event('queued', 2, { id: 'events-only', queue: 'events' }),
      event('queued', 3, { id: 'none' }),
    ]);
    expect(activity.list({}, 2).map((e) => e.id)).toEqual(['none', 'events-only']);
    expect(activity.list({ queue: 'orders' }).map((e) => e.id)).toEqual(['both']);
    expect(activity.list({ queue: 'events' }).map((e) => e.id)).toEqual(['events-only', 'both']);
    expect(activity.list({ type: 'push' })).toEqual([]);
  });

  it('counts every kept event a filter matches, beyond the page the list shows, and forgets what it no longer keeps', () => {
    const activity = new Activity({ keep: 4 });
    activity.add([
      event('queued', 1, { id: 'forgotten', source: 'github' }),
      event('queued', 2, { id: 'a', source: 'github' }),
      event('queued', 3, { id: 'b', source: 'github' }),
      event('queued', 4, { id: 'c', source: 'github' }),
      event('queued', 5, { id: 'd', source: 'stripe' }),
    ]);
    expect(activity.list({ source: 'github' }, 2).map((e) => e.id)).toEqual(['c', 'b']);
    expect(activity.matching({ source: 'github' })).toBe(3);
    expect(activity.matching({})).toBe(4);
    expect(activity.matching({ source: 'slack' })).toBe(0);
    expect(activity.keep).toBe(4);
  });

  it('offers as filter choices only the sources and types seen, sorted', () => {
    const activity = new Activity();
    activity.add([
      event('queued', 1, { source: 'stripe', type: 'invoice.paid' }),
      event('rejected', 2, {}),
      event('queued', 3, { source: 'github', type: 'push' }),
    ]);
    expect(activity.seen()).toEqual({ sources: ['github', 'stripe'], types: ['invoice.paid', 'push'] });
  });
});
