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
