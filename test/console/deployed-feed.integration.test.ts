/**
 * The console's live event feed of a deployed stack: the real console (spawned `bin/hookline.ts console`) polling
 * CloudWatch Logs' `FilterLogEvents` of the stand-in (`test/helpers/deployed-stand-in.ts`), which speaks AWS's JSON
 * protocol and pages its answers, read over the console's real HTTP API as its pages read it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  consumerOutcomeLine,
  type DeployedStandIn,
  ingestOutcomeLine,
  STAND_IN_LOG_GROUPS,
  stackWithLogGroups,
  startDeployedStandIn,
} from '../helpers/deployed-stand-in';
import { type RunningCli, watchCli } from '../helpers/running-cli';
import { waitFor } from '../helpers/wait-for';

const { ingest: INGEST_GROUP, eventsConsumer: CONSUMER_GROUP } = STAND_IN_LOG_GROUPS;
const DENIED = 'unknown: access denied (needs logs:FilterLogEvents)';

let standIn: DeployedStandIn;
let consoleCli: RunningCli;
let consoleUrl: URL;

beforeAll(async () => {
  standIn = await startDeployedStandIn();
  const orders = await standIn.queueWithDeadLetters('orders', { fifo: true });
  await stackWithLogGroups(standIn, orders.outputs);
  consoleCli = watchCli(standIn.spawn(['console', '--no-open']));
  consoleUrl = await waitFor(
    () => {
      const match = /(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(consoleCli.stdout());
      return match?.[1] ? new URL(match[1]) : undefined;
    },
    60_000,
    `the console's URL (stderr: ${consoleCli?.stderr()})`,
  );
}, 90_000);

afterAll(async () => {
  consoleCli?.child.kill('SIGINT');
  await consoleCli?.exited;
  await standIn?.close();
});

interface FeedAnswer {
  events: { seq: number; event: string; id?: string; source?: string; queue?: string; attempt?: number }[];
  feed: { unavailable: string | null; error: string | null };
}

async function get<T>(path: string): Promise<T> {
  const answer = await fetch(new URL(path, consoleUrl), {
    headers: { 'x-hookline-token': consoleUrl.searchParams.get('token') ?? '' },
  });
  expect(answer.status).toBe(200);
  return (await answer.json()) as T;
}

const events = (query = '') => get<FeedAnswer>(`/api/events${query}`);
const ids = (answer: FeedAnswer) => answer.events.map((e) => `${e.id}:${e.event}`).sort();

const received = (id: string, source: string) => ingestOutcomeLine(id, { source });
const attempt = (id: string, source: string, outcome: string) => consumerOutcomeLine(id, outcome, { source });

describe('the console of a deployed stack', () => {
  it("lists the stack's outcome lines live, once each, with the Events page's filters, and an event's timeline", async () => {
    expect((await events()).feed).toEqual(expect.objectContaining({ unavailable: null, error: null }));
    standIn.logGroups.get(INGEST_GROUP)?.push(received('evt_a', 'stripe'), received('evt_b', 'github'));
    standIn.logGroups
      .get(CONSUMER_GROUP)
      ?.push(attempt('evt_a', 'stripe', 'processed'), attempt('evt_b', 'github', 'retried'));

    await waitFor(async () => (await events()).events.length === 4, 30_000, 'four lines in /api/events');
    expect(ids(await events())).toEqual(['evt_a:processed', 'evt_a:queued', 'evt_b:queued', 'evt_b:retried']);
    expect(ids(await events('?source=github'))).toEqual(['evt_b:queued', 'evt_b:retried']);
    expect(ids(await events('?outcome=failed'))).toEqual(['evt_b:retried']);
    expect(ids(await events('?outcome=received'))).toEqual(['evt_a:queued', 'evt_b:queued']);
    expect(ids(await events('?outcome=processed&source=stripe'))).toEqual(['evt_a:processed']);

    // Every poll reads the last minute again: a line read before is not listed twice.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    expect((await events()).events).toHaveLength(4);

    const page = await get<{ timeline: { event: string; queue?: string; attempt?: number }[] }>(
      '/api/events/evt_b',
    );
    expect(page.timeline.map((e) => e.event)).toEqual(['queued', 'retried']);
    expect(page.timeline[1]).toMatchObject({ queue: 'events', attempt: 1 });

    // The feed misses a line CloudWatch Logs takes in more than a minute late: its rates are unknown (null, shown
    // as `-`, never as zero), and the note says why.
    const overview = await get<{
      sources: { name: string; rates: { received: number[]; failed: number[] } | null }[];
      ratesNote: string;
    }>('/api/overview');
    const github = overview.sources.find((s) => s.name === 'github');
    expect(github).toBeDefined();
    expect(github?.rates).toBeNull();
    expect(overview.ratesNote).toContain(
      'sources: no per-source metric; the live event feed does not count them exactly, as it never reads a line CloudWatch Logs takes in more than 60 s late',
    );
    // Read at most once a minute for every refresh: the note says how old the rates shown are.
    expect(overview.ratesNote).toMatch(/; as of (just now|\d+s ago), read again at most every 1m 0s$/);
  }, 90_000);

  it('says once, in the words of a part it may not read, that the identity may not call FilterLogEvents', async () => {
    standIn.denyLogs(true);
    try {
      await waitFor(async () => (await events()).feed.error === DENIED, 30_000, 'the denial on the page');
      // Polls go on (the grant may come): the page goes on saying it, the console's output says it once.
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      expect((await events()).feed.error).toBe(DENIED);
      expect(consoleCli.stderr().split(DENIED).length - 1).toBe(1);
      expect(consoleCli.stderr()).toContain(`the event feed cannot be read: ${DENIED}\n`);
      const overview = await get<{ missingPermissions: string | null }>('/api/overview');
      expect(overview.missingPermissions).toMatch(
        /^incomplete: your AWS identity may not call [^:]*logs:FilterLogEvents/,
      );
    } finally {
      standIn.denyLogs(false);
    }
    standIn.logGroups.get(CONSUMER_GROUP)?.push(attempt('evt_c', 'stripe', 'processed'));
    await waitFor(
      async () => ids(await events('?source=stripe')).includes('evt_c:processed'),
      30_000,
      'evt_c',
    );
    expect((await events()).feed.error).toBeNull();
  }, 90_000);

  it("says a throttled poll in tail's words, and loses no line of its time", async () => {
    // Every try of the SDK (five) of the next call is throttled: that poll fails, the next one succeeds.
    standIn.failLogs({ code: 'ThrottlingException', status: 400, times: 5 });
    standIn.logGroups.get(CONSUMER_GROUP)?.push(attempt('evt_d', 'stripe', 'processed'));
    await waitFor(
      async () =>
        (await events()).feed.error?.startsWith(
          'CloudWatch Logs did not answer a poll (ThrottlingException)',
        ),
      30_000,
      'the throttled poll on the page',
    );
    expect((await events()).feed.error).toBe(
      'CloudWatch Logs did not answer a poll (ThrottlingException): polling again; no line is lost, the next poll reads that time again',
    );
    await waitFor(async () => ids(await events()).includes('evt_d:processed'), 40_000, 'evt_d');
    expect((await events()).feed.error).toBeNull();
  }, 90_000);
});
