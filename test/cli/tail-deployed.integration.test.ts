/**
 * `hookline tail` on a deployed stack: the real CLI (spawned `bin/hookline.ts`) polling CloudWatch Logs'
 * `FilterLogEvents` of the stand-in (`test/helpers/deployed-stand-in.ts`), which speaks AWS's JSON protocol and pages
 * its answers, for the outcome lines of the ingest and consumer log groups the stack outputs name.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TailLine } from '../../lib/cli/tail';
import {
  consumerOutcomeLine,
  type DeployedStandIn,
  ingestOutcomeLine,
  STAND_IN_LOG_GROUPS,
  stackWithLogGroups,
  startDeployedStandIn,
} from '../helpers/deployed-stand-in';
import { watchCli } from '../helpers/running-cli';
import { waitFor } from '../helpers/wait-for';

const { ingest: INGEST_GROUP, eventsConsumer: CONSUMER_GROUP } = STAND_IN_LOG_GROUPS;

let standIn: DeployedStandIn;

beforeAll(async () => {
  standIn = await startDeployedStandIn();
  await stackWithLogGroups(standIn);
});

afterAll(async () => {
  await standIn?.close();
});

const received = (at: number, id: string) => ingestOutcomeLine(id, { at });
const attempt = (at: number, id: string, attemptNumber: number, outcome: string, reason?: string) =>
  consumerOutcomeLine(id, outcome, { at, attempt: attemptNumber, reason });

const steps = (lines: readonly TailLine[], id: string) =>
  lines.filter((l) => l.id === id).map((l) => (l.step === 'attempt' ? `attempt:${l.outcome}` : l.step));

describe('hookline tail on a deployed stack', () => {
  it('starts with the recent past (--since), follows new lines once each, and Ctrl-C ends it with 0', async () => {
    const now = Date.now();
    standIn.logGroups.set(INGEST_GROUP, [
      received(now - 30 * 60_000, 'too-old'),
      received(now - 60_000, 'evt_1'),
      { timestamp: now - 60_000, message: 'START RequestId: 1 Version: $LATEST' },
    ]);
    // More lines than a page holds, recent enough to stay in every poll's window: a line added later is on a
    // later page.
    standIn.logGroups.set(CONSUMER_GROUP, [
      attempt(now - 50_000, 'evt_1', 1, 'retried', 'HTTP 500 from the API'),
      attempt(now - 40_000, 'evt_1', 2, 'dead-lettered', 'HTTP 500 from the API'),
      attempt(now - 5_000, 'evt_0', 1, 'processed'),
    ]);
    const tail = watchCli(standIn.spawn(['tail', '--since', '10m', '--json']));

    await waitFor(
      () => steps(tail.jsonLines(), 'evt_1').includes('dead-lettered'),
      30_000,
      'evt_1 dead-lettered',
    );
    expect(steps(tail.jsonLines(), 'evt_1')).toEqual([
      'received',
      'queued',
      'attempt:retried',
      'attempt:dead-lettered',
      'dead-lettered',
    ]);
    expect(tail.jsonLines<TailLine>().find((l) => l.step === 'attempt')).toMatchObject({
      id: 'evt_1',
      queue: 'events',
      attempt: 1,
      durationMs: 25,
      error: 'HTTP 500 from the API',
    });

    // A line written while it runs shows once, however many polls read its window again; so does one that
    // CloudWatch Logs took in late, with a time before the last poll.
    const lines = standIn.logGroups.get(CONSUMER_GROUP);
    lines?.push(attempt(Date.now(), 'evt_2', 1, 'processed'));
    lines?.push(attempt(Date.now() - 20_000, 'evt_late', 1, 'processed'));
    await waitFor(() => steps(tail.jsonLines(), 'evt_2').length > 0, 10_000, 'evt_2 processed');
    await waitFor(() => steps(tail.jsonLines(), 'evt_late').length > 0, 10_000, 'evt_late processed');
    const shown = tail.stdout();
    await new Promise((resolve) => setTimeout(resolve, 4_500));
    expect(tail.stdout()).toBe(shown);
    expect(steps(tail.jsonLines(), 'evt_2')).toEqual(['attempt:processed']);
    expect(steps(tail.jsonLines(), 'evt_late')).toEqual(['attempt:processed']);
    expect(steps(tail.jsonLines(), 'too-old')).toEqual([]);

    tail.child.kill('SIGINT');
    expect(await tail.exited).toBe(0);
    expect(tail.stdout()).toBe(shown);
    expect(tail.stderr()).toBe('');
  }, 90_000);

  it('marks a line CloudWatch Logs took in after a later one was printed as late, in the human line and --json', async () => {
    standIn.logGroups.set(INGEST_GROUP, []);
    standIn.logGroups.set(CONSUMER_GROUP, []);
    const lines = standIn.logGroups.get(CONSUMER_GROUP) ?? [];
    const json = watchCli(standIn.spawn(['tail', '--json']));
    const human = watchCli(standIn.spawn(['tail']));
    // Both tails start at "now": once a line written after they started shows in both, both are polling. A line a
    // second at most, as every poll reads the last minute again, two lines a page.
    let pushedAt = 0;
    await waitFor(
      () => {
        if (Date.now() - pushedAt >= 1_000) {
          pushedAt = Date.now();
          lines.push(attempt(pushedAt, `warmup-${lines.length}`, 1, 'processed'));
        }
        return json.jsonLines().length > 0 && human.stdout().includes('warmup-');
      },
      30_000,
      'the tails to poll',
    );
    const now = Date.now();
    lines.push(attempt(now, 'evt_on_time', 1, 'processed'));
    await waitFor(
      () => steps(json.jsonLines(), 'evt_on_time').length > 0 && human.stdout().includes('evt_on_time'),
      10_000,
      'evt_on_time shown',
    );
    // CloudWatch Logs makes this line searchable only now, after a poll has read past its time.
    lines.push(attempt(now - 1_000, 'evt_taken_in_late', 1, 'processed'));
    await waitFor(
      () =>
        steps(json.jsonLines(), 'evt_taken_in_late').length > 0 &&
        human.stdout().includes('evt_taken_in_late'),
      10_000,
      'evt_taken_in_late shown',
    );

    expect(json.jsonLines<TailLine>().find((l) => l.id === 'evt_taken_in_late')).toMatchObject({
      step: 'attempt',
      late: true,
    });
    expect(json.jsonLines<TailLine>().find((l) => l.id === 'evt_on_time')).not.toHaveProperty('late');
    const humanLine = (id: string) =>
      human
        .stdout()
        .split('\n')
        .find((l) => l.includes(id)) ?? '';
    expect(humanLine('evt_taken_in_late')).toMatch(/ \(written late\)$/);
    expect(humanLine('evt_on_time')).not.toContain('late');
    for (const tail of [json, human]) {
      tail.child.kill('SIGINT');
      expect(await tail.exited).toBe(0);
      expect(tail.stderr()).toBe('');
    }
  }, 90_000);

  it('prints a long --since window as it pages it, in time order across the log groups, saying how far it has read', async () => {
    const now = Date.now();
    // Two hours of lines, 20 in each group, interleaved in time: 10 pages of each group.
    const hour = 60 * 60_000;
    standIn.logGroups.set(
      INGEST_GROUP,
      Array.from({ length: 20 }, (_, i) => received(now - 2 * hour + (i + 1) * 5 * 60_000, `evt_w${i}`)),
    );
    standIn.logGroups.set(
      CONSUMER_GROUP,
      Array.from({ length: 20 }, (_, i) =>
        attempt(now - 2 * hour + (i + 1) * 5 * 60_000 + 1_000, `evt_w${i}`, 1, 'processed'),
      ),
    );
    // The first six pages are answered; the seventh waits, as a slow page of a long window would.
    const slowPage = standIn.holdLogs(6);
    const tail = watchCli(standIn.spawn(['tail', '--since', '2h', '--json']));
    try {
      await waitFor(() => slowPage.held() > 0, 30_000, 'the tail to reach the held page');
      // What the pages read so far hold is printed already, not held back until the window's last page.
      await waitFor(() => tail.jsonLines().length > 0, 10_000, 'lines printed while a page is held');
      expect(steps(tail.jsonLines(), 'evt_w0')).toEqual(['received', 'queued', 'attempt:processed']);
      expect(steps(tail.jsonLines(), 'evt_w19')).toEqual([]);
    } finally {
      slowPage.release();
    }
    await waitFor(
      () => steps(tail.jsonLines(), 'evt_w19').includes('attempt:processed'),
      30_000,
      'the whole window printed',
    );
    const times = tail.jsonLines<TailLine>().map((l) => l.at);
    expect(times).toEqual([...times].sort());
    expect(tail.jsonLines<TailLine>().filter((l) => l.step === 'attempt')).toHaveLength(20);
    await waitFor(() => tail.stderr().includes('caught up from --since'), 10_000, 'the catch-up note');
    expect(tail.stderr()).toMatch(/^catching up from --since: read up to \S+ \(10%\)\n/);
    expect(tail.stderr()).toContain('caught up from --since: following new lines as they come\n');
    tail.child.kill('SIGINT');
    expect(await tail.exited).toBe(0);
  }, 90_000);

  it('goes on through a throttled poll, says so once on stderr, and loses no line of that time', async () => {
    standIn.logGroups.set(INGEST_GROUP, []);
    standIn.logGroups.set(CONSUMER_GROUP, []);
    const tail = watchCli(standIn.spawn(['tail', '--json']));
    const lines = standIn.logGroups.get(CONSUMER_GROUP) ?? [];
    // The tail starts at "now": once a line written after it started shows, it is polling.
    await waitFor(
      () => {
        lines.push(attempt(Date.now(), `warmup-${lines.length}`, 1, 'processed'));
        return tail.jsonLines().length > 0;
      },
      30_000,
      'the tail to poll',
    );

    // Every try of the SDK (five) of the next call is throttled: that poll fails, the next one succeeds.
    standIn.failLogs({ code: 'ThrottlingException', status: 400, times: 5 });
    lines.push(attempt(Date.now(), 'evt_during', 1, 'processed'));
    await waitFor(() => steps(tail.jsonLines(), 'evt_during').length > 0, 40_000, 'evt_during shown');

    expect(steps(tail.jsonLines(), 'evt_during')).toEqual(['attempt:processed']);
    expect(tail.stderr()).toBe(
      'CloudWatch Logs did not answer a poll (ThrottlingException): polling again; no line is lost, the next poll reads that time again\n',
    );
    tail.child.kill('SIGINT');
    expect(await tail.exited).toBe(0);
  }, 90_000);

  it('tails a source removed from the configuration, saying so once, and refuses a malformed source name', async () => {
    const now = Date.now();
    const retired = (at: number, id: string) =>
      consumerOutcomeLine(id, 'processed', { at, source: 'retired' });
    standIn.logGroups.set(INGEST_GROUP, [received(now - 30_000, 'evt_kept')]);
    standIn.logGroups.set(CONSUMER_GROUP, [retired(now - 20_000, 'evt_draining')]);
    const tail = watchCli(standIn.spawn(['tail', '--source', 'retired', '--since', '5m', '--json']));
    await waitFor(() => steps(tail.jsonLines(), 'evt_draining').length > 0, 30_000, 'the removed source');
    expect(tail.jsonLines<TailLine>().map((l) => `${l.id}:${l.source}`)).toEqual(['evt_draining:retired']);
    expect(tail.stderr()).toMatch(
      /^source "retired" is not in the configuration \(github, stripe, .*schedule, job\): showing its lines anyway, as a source removed from it may still have events in the pipeline\n$/,
    );
    tail.child.kill('SIGINT');
    expect(await tail.exited).toBe(0);

    const malformed = await standIn.run(['tail', '--source', 'Retired!']);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toBe(
      'error: --source "Retired!" is not a source name: source names are lower-case letters, digits and dashes, starting with a letter, at most 40 characters\n',
    );
  }, 90_000);

  it('names the permission it needs when CloudWatch Logs denies it', async () => {
    standIn.denyLogs(true);
    try {
      const run = await standIn.run(['tail']);
      expect(run.code).toBe(1);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(/^error: access denied in stack Hookline in us-east-1: /);
      expect(run.stderr.trim()).toMatch(/\(grant your AWS identity logs:FilterLogEvents\)$/);
    } finally {
      standIn.denyLogs(false);
    }
  }, 60_000);
});
