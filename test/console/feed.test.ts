/**
 * Local mode's event journal as the console reads it, with the control API's HTTP answers faked: an answer that
 * is not a page of events is an error the overview shows, never an empty feed. A deployed stack's feed, with
 * CloudWatch Logs' answers faked (its real HTTP is test/console/deployed-feed.integration.test.ts's).
 */

import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { describe, expect, it } from 'vitest';
import type { HttpFetch } from '../../lib/cli/backend';
import { deployedEventFeed } from '../../lib/console/deployed-feed';
import { feedFor, localEventFeed } from '../../lib/console/feed';
import { FeedFollower } from '../../lib/console/feed-follower';
import { localTestTarget, stackTarget, testBackend } from '../cli/helpers';

const controlUrl = 'http://127.0.0.1:3000/_hookline';

function answering(status: number, body: unknown): HttpFetch & { asked: string[] } {
  const asked: string[] = [];
  const http = async (url: string) => {
    asked.push(url);
    return new Response(JSON.stringify(body), { status });
  };
  return Object.assign(http, { asked });
}

describe('console event feed of local mode', () => {
  it('asks the journal for the events after the last one read, a page at a time', async () => {
    const event = { seq: 8, at: '2026-11-30T10:00:00.000Z', event: 'queued', id: 'a' };
    const http = answering(200, { events: [event], latest: 9, run: 'r1' });
    expect(await localEventFeed(controlUrl, http, 'console-1').after(7)).toEqual({
      events: [event],
      latest: 9,
      run: 'r1',
    });
    expect(http.asked).toEqual([`${controlUrl}/events?after=7&limit=1000&follower=console-1`]);
    expect(await localEventFeed(controlUrl, answering(200, {})).after(7)).toEqual({ events: [], latest: 7 });
  });

  it('fails, naming why, when local mode answers anything but a page of events', async () => {
    await expect(
      localEventFeed(controlUrl, answering(404, { message: 'not found' })).after(0),
    ).rejects.toThrow(
      'this local mode has no event journal: restart it with the current hookline (npm start or npx hookline dev)',
    );
    await expect(localEventFeed(controlUrl, answering(500, { events: [] })).after(0)).rejects.toThrow(
      'local mode answered HTTP 500 for its events',
    );
  });

  it("follows local mode's journal, and says why a stack without log group outputs has no live feed", async () => {
    const http = answering(200, { events: [], latest: 0 });
    const local = feedFor(localTestTarget(), testBackend({ http }));
    expect(local.unavailable).toBeNull();
    await local.after(0);
    expect(http.asked).toEqual([
      expect.stringMatching(
        /^http:\/\/127\.0\.0\.1:3000\/_hookline\/events\?after=0&limit=1000&follower=[\w-]+$/,
      ),
    ]);
    const stack = feedFor(stackTarget(), testBackend({ http }));
    expect(stack.unavailable).toBe(
      'stack Hookline in us-east-1 publishes no log group outputs: redeploy with npx cdk deploy',
    );
    expect(await stack.after(5)).toEqual({ events: [], latest: 5 });
  });
});

/** A CloudWatch Logs client answering every `FilterLogEvents` with the lines `lines()` gives then, in one page. */
function logsAnswering(lines: () => { timestamp: number; message: string }[]) {
  let calls = 0;
  const send = async () => {
    calls += 1;
    return { events: lines().map((l, i) => ({ ...l, eventId: `${l.timestamp}-${l.message}-${i}` })) };
  };
  return { client: { send } as unknown as CloudWatchLogsClient, calls: () => calls };
}

const consumerLine = (at: number, id: string, extra: Record<string, unknown> = {}) => ({
  timestamp: at,
  message: JSON.stringify({
    level: 'INFO',
    message: 'record outcome',
    outcome: 'retried',
    id,
    source: 'stripe',
    type: 'invoice.paid',
    queue: 'events',
    attempt: 1,
    ...extra,
  }),
});

describe('console event feed of a deployed stack', () => {
  const target = {
    ...stackTarget(),
    logGroups: { ingest: '/aws/lambda/Ingest', consumers: { events: '/aws/lambda/Events' } },
  };

  it('numbers each outcome line once, as the event it is, and polls no more often than the poller paces', async () => {
    const backend = testBackend();
    const start = backend.clock.now();
    const logs = logsAnswering(() => [
      consumerLine(start + 1_000, 'evt_1'),
      consumerLine(start + 2_000, 'evt_2', { keyHeldElsewhere: true }),
    ]);
    const feed = deployedEventFeed({ ...backend, logs: logs.client }, target);
    const page = await feed.after(0);
    expect(page.latest).toBe(2);
    expect(page.events[0]).toEqual({
      seq: 1,
      at: new Date(start + 1_000).toISOString(),
      event: 'retried',
      id: 'evt_1',
      source: 'stripe',
      type: 'invoice.paid',
      queue: 'events',
      attempt: 1,
    });
    expect(page.events[1]).toMatchObject({ seq: 2, id: 'evt_2', keyHeldElsewhere: true });
    const calls = logs.calls();
    expect(await feed.after(2)).toEqual({ events: [], latest: 2 });
    expect(logs.calls()).toBe(calls);
    await backend.clock.sleep(60_000);
    expect(await feed.after(2)).toEqual({ events: [], latest: 2 });
    expect(logs.calls()).toBeGreaterThan(calls);
  });

  it('polls once at a time: a reader while a slow poll (throttled, retried) runs past the pace starts no second one', async () => {
    const backend = testBackend();
    const start = backend.clock.now();
    let calls = 0;
    let answer: (value: unknown) => void = () => undefined;
    const send = () => {
      calls += 1;
      return new Promise((resolve) => {
        answer = resolve;
      });
    };
    const feed = deployedEventFeed(
      { ...backend, logs: { send } as unknown as CloudWatchLogsClient },
      { ...target, logGroups: { ingest: '/aws/lambda/Ingest', consumers: {} } },
    );
    const first = feed.after(0);
    await backend.clock.sleep(60_000);
    // Past the pace, the first poll still waiting on its answer: served what is there, no second call.
    expect(await feed.after(0)).toEqual({ events: [], latest: 0 });
    expect(calls).toBe(1);
    answer({ events: [{ ...consumerLine(start + 1_000, 'evt_1'), eventId: 'e1' }] });
    expect((await first).latest).toBe(1);
  });

  it('serves the lines it holds when a later poll fails, then reports that failure as the feed cannot be read', async () => {
    const backend = testBackend();
    const start = backend.clock.now();
    let throttled = false;
    const send = async () => {
      if (throttled) throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      return {
        events: Array.from({ length: 1_500 }, (_, i) => ({
          ...consumerLine(start + i, `evt_${i}`),
          eventId: `e${i}`,
        })),
      };
    };
    const feed = deployedEventFeed(
      { ...backend, logs: { send } as unknown as CloudWatchLogsClient },
      { ...target, logGroups: { ingest: '/aws/lambda/Ingest', consumers: {} } },
    );
    const first = await feed.after(0);
    expect(first.events).toHaveLength(1_000);
    expect(first.latest).toBe(1_500);
    // The next page's read is due for a poll, which fails: the 500 lines already read still come, with the failure.
    await backend.clock.sleep(60_000);
    throttled = true;
    const held = await feed.after(1_000);
    expect(held.events.map((e) => e.seq)).toEqual(Array.from({ length: 500 }, (_, i) => 1_001 + i));
    expect(held.failure?.message).toBe(
      'CloudWatch Logs did not answer a poll (ThrottlingException): polling again; no line is lost, the next poll reads that time again',
    );

    // Its reader (the console's follower) delivers every held line, then fails as the feed's failure.
    const delivered: number[] = [];
    const follower = new FeedFollower((events) => delivered.push(...events.map((e) => e.seq)));
    await backend.clock.sleep(60_000);
    await expect(follower.read(feed)).rejects.toThrow(/^CloudWatch Logs did not answer a poll/);
    expect(delivered).toEqual(Array.from({ length: 1_500 }, (_, i) => i + 1));
  });

  it('keeps only its newest lines, as local mode keeps its newest', async () => {
    const backend = testBackend();
    const start = backend.clock.now();
    const logs = logsAnswering(() =>
      Array.from({ length: 5 }, (_, i) => consumerLine(start + i, `evt_${i}`)),
    );
    const feed = deployedEventFeed({ ...backend, logs: logs.client }, target, { keep: 3 });
    const page = await feed.after(0);
    expect(page.latest).toBe(5);
    expect(page.events.map((e) => e.id)).toEqual(['evt_2', 'evt_3', 'evt_4']);
  });
});

describe("the console's follower before its first page", () => {
  const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString();
  const line = (run: string, seq: number, second: number) => ({
    seq,
    at: at(second),
    event: 'processed',
    id: `${run}-${seq}`,
    run,
  });

  it('takes as earlier lines only those written before the run it first reads began, not those of a run that followed it meanwhile', async () => {
    // The first page is run-1's; local mode restarts (run-2) before the journal file is read, so the file ends with
    // run-2's first line, which the feed serves again once the follower sees run-2.
    const pages = [
      { events: [line('run-1', 1, 10), line('run-1', 2, 11)], latest: 2, run: 'run-1' },
      { events: [line('run-2', 1, 20)], latest: 1, run: 'run-2' },
      { events: [line('run-2', 1, 20)], latest: 1, run: 'run-2' },
    ];
    const feed = {
      unavailable: null,
      after: async () => pages.shift() ?? { events: [], latest: 1, run: 'run-2' },
    };
    const journal = [line('run-0', 1, 5), line('run-1', 1, 10), line('run-1', 2, 11), line('run-2', 1, 20)];
    const delivered: string[] = [];
    const follower = new FeedFollower(
      (events) => delivered.push(...events.map((e) => `${e.seq} ${e.id}`)),
      (run) => journal.filter((l) => l.run === run),
      async () => journal,
    );
    await follower.read(feed);
    await follower.read(feed);
    expect(delivered).toEqual(['1 run-0-1', '2 run-1-1', '3 run-1-2', '4 run-2-1']);
    expect(follower.gaps().missed).toBe(0);
  });
});
