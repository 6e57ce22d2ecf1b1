import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  CloudWatchLogsClient,
  FilteredLogEvent,
  FilterLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../lib/cli/errors';
import {
  CALL_SPACING_MS,
  LATE_LINE_WINDOW_MS,
  OutcomeLogPoller,
  outcomeLinesPattern,
  PolledEvents,
  pollIntervalMs,
} from '../../lib/cli/outcome-log-poll';
import { colorsFor } from '../../lib/cli/output';
import {
  checkSince,
  renderTailLine,
  TAIL_OUTCOMES,
  type TailLine,
  TailTimelines,
  tailSelection,
  tailSourceNote,
} from '../../lib/cli/tail';
import { tailLogGroups } from '../../lib/cli/tail-logs';
import { logEventRow, OUTCOME_LINE_MESSAGES, type OutcomeRow } from '../../lib/cli/trace';
import { JournalFollower } from '../../lib/local/journal-read';
import { localTestTarget, stackTarget, testBackend } from './helpers';

const line = (fields: Record<string, unknown>) =>
  `${JSON.stringify({ at: '2026-12-05T10:00:00.000Z', ...fields })}\n`;

describe("following local mode's journal file", () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hookline-tail-journal-'));
    path = join(dir, 'journal.jsonl');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('takes a line written in two chunks once, when its newline is written', () => {
    writeFileSync(path, '');
    const follower = new JournalFollower(path, 'start');
    const whole = line({ event: 'queued', id: 'a', status: 202 });
    appendFileSync(path, whole.slice(0, 20));
    expect(follower.read()).toEqual([]);
    appendFileSync(path, whole.slice(20));
    expect(follower.read().map((e) => e.id)).toEqual(['a']);
    expect(follower.read()).toEqual([]);
  });

  it('from the end, shows only the lines written after it started', () => {
    writeFileSync(path, line({ event: 'queued', id: 'before', status: 202 }));
    const follower = new JournalFollower(path, 'end');
    appendFileSync(path, line({ event: 'queued', id: 'after', status: 202 }));
    expect(follower.read().map((e) => e.id)).toEqual(['after']);
  });

  it('reads a journal that started over from its start, shorter or already longer than what was read', () => {
    writeFileSync(path, line({ event: 'queued', id: 'run1-a', status: 202, run: 'r1' }));
    const follower = new JournalFollower(path, 'start');
    expect(follower.read().map((e) => e.id)).toEqual(['run1-a']);

    // Local mode restarted on a new data directory: the file is emptied, then written again.
    writeFileSync(path, line({ event: 'queued', id: 'b', status: 202 }));
    expect(follower.read().map((e) => e.id)).toEqual(['b']);

    // Started over again and grew past the old end before the next read.
    writeFileSync(
      path,
      line({ event: 'queued', id: 'run3-first', status: 202, run: 'r3' }) +
        line({ event: 'queued', id: 'run3-second', status: 202, run: 'r3' }),
    );
    expect(follower.read().map((e) => e.id)).toEqual(['run3-first', 'run3-second']);
  });

  it('waits for a journal that does not exist yet, and reads a removed one again from its start', () => {
    const follower = new JournalFollower(path, 'end');
    expect(follower.read()).toEqual([]);
    writeFileSync(path, line({ event: 'queued', id: 'first', status: 202 }));
    expect(follower.read().map((e) => e.id)).toEqual(['first']);
    rmSync(path);
    expect(follower.read()).toEqual([]);
    writeFileSync(path, line({ event: 'queued', id: 'again', status: 202 }));
    expect(follower.read().map((e) => e.id)).toEqual(['again']);
  });
});

const ingest = (over: Partial<OutcomeRow> = {}): OutcomeRow => ({
  at: '2026-12-05T10:00:00.000Z',
  kind: 'ingest',
  id: 'e1',
  source: 'github',
  type: 'invoice.paid',
  outcome: 'queued',
  status: 202,
  queue: 'events,audit',
  ...over,
});
const attempt = (over: Partial<OutcomeRow> = {}): OutcomeRow => ({
  at: '2026-12-05T10:00:01.000Z',
  kind: 'consumer',
  id: 'e1',
  source: 'github',
  type: 'invoice.paid',
  queue: 'events',
  attempt: 1,
  outcome: 'processed',
  durationMs: 12,
  ...over,
});

describe('tail filters', () => {
  const target = localTestTarget({
    sources: ['github', 'stripe'],
    queues: { events: { name: 'events' } as never, audit: { name: 'audit' } as never },
  });

  it('takes a well-formed source the configuration does not name, with a notice, and refuses a malformed one', () => {
    const removed = tailSelection(target, { source: 'retired' });
    expect(removed(ingest({ source: 'retired' }))).toBe(true);
    expect(removed(ingest())).toBe(false);
    expect(tailSourceNote(target, { source: 'retired' })).toBe(
      'source "retired" is not in the configuration (github, stripe, schedule, job): showing its lines anyway, as a source removed from it may still have events in the pipeline',
    );
    // A close spelling of a configured source is most likely a typo: the notice names the source meant.
    expect(tailSourceNote(target, { source: 'githb' })).toBe(
      'source "githb" is not in the configuration (github, stripe, schedule, job) (did you mean github?): showing its lines anyway, as a source removed from it may still have events in the pipeline',
    );
    expect(tailSourceNote(target, { source: 'github' })).toBeUndefined();
    expect(tailSourceNote(target, { source: 'job' })).toBeUndefined();
    expect(tailSourceNote(localTestTarget(), { source: 'retired' })).toBeUndefined();
    expect(() => tailSelection(target, { source: 'Stripe!' })).toThrow(UsageError);
    expect(() => tailSelection(target, { source: 'Stripe!' })).toThrow(
      '--source "Stripe!" is not a source name: source names are lower-case letters, digits and dashes, starting with a letter, at most 40 characters',
    );
  });

  it('refuses an unknown queue, naming the queues and the one a misspelt name meant', () => {
    expect(() => tailSelection(target, { queue: 'nope' })).toThrow(
      'unknown queue "nope" in local mode: use one of events, audit',
    );
    expect(() => tailSelection(target, { queue: 'event' })).toThrow(
      'unknown queue "event" in local mode (did you mean events?): use one of events, audit',
    );
  });

  it('refuses an outcome no line has, listing those that exist', () => {
    expect(() => tailSelection(target, { outcome: 'exploded' })).toThrow(
      `unknown outcome "exploded": use one of ${TAIL_OUTCOMES.join(', ')}`,
    );
    expect(TAIL_OUTCOMES).toEqual(
      expect.arrayContaining(['received', 'failed', 'dead-lettered', 'replayed']),
    );
    expect(TAIL_OUTCOMES).not.toContain('error');
  });

  it('refuses an invalid or empty type pattern', () => {
    expect(() => tailSelection(target, { type: 'invoice..paid' })).toThrow(/not a valid type pattern/);
    expect(() => tailSelection(target, { type: ' ' })).toThrow(/--type must not be empty/);
  });

  it("selects by source, by any queue of a fan-out, and by type in the routes' pattern dialect", () => {
    expect(tailSelection(target, { source: 'github' })(ingest())).toBe(true);
    expect(tailSelection(target, { source: 'stripe' })(ingest())).toBe(false);
    expect(tailSelection(target, { queue: 'audit' })(ingest())).toBe(true);
    expect(tailSelection(target, { queue: 'audit' })(attempt())).toBe(false);
    expect(tailSelection(target, { type: 'invoice.*' })(ingest())).toBe(true);
    expect(tailSelection(target, { type: 'invoice.*' })(ingest({ type: 'invoice.payment.failed' }))).toBe(
      false,
    );
    expect(tailSelection(target, { type: 'invoice.**' })(ingest({ type: 'invoice.payment.failed' }))).toBe(
      true,
    );
  });

  it('selects by outcome name, or by the rate it counts towards as the console does', () => {
    const failed = tailSelection(target, { outcome: 'failed' });
    expect(failed(attempt({ outcome: 'retried' }))).toBe(true);
    expect(failed(attempt({ outcome: 'dead-lettered' }))).toBe(true);
    expect(failed(attempt())).toBe(false);
    expect(failed(ingest())).toBe(false);
    const received = tailSelection(target, { outcome: 'received' });
    expect(received(ingest())).toBe(true);
    // A consumer's duplicate is a redelivery its idempotency skipped, not a second arrival.
    expect(received(attempt({ outcome: 'duplicate' }))).toBe(false);
    expect(tailSelection(target, { outcome: 'retried' })(attempt({ outcome: 'retried' }))).toBe(true);
  });
});

describe('tail --since', () => {
  it('refuses a time in the future, where nothing has happened yet', () => {
    const now = Date.parse('2026-12-05T10:00:00Z');
    expect(() => checkSince(new Date(now + 60_000), now)).toThrow(
      '--since 2026-12-05T10:01:00.000Z is in the future (it is 2026-12-05T10:00:00.000Z)',
    );
    expect(() => checkSince(new Date(now - 60_000), now)).not.toThrow();
  });
});

describe('tail lines', () => {
  it('are the steps trace shows, each with its event id', () => {
    const timelines = new TailTimelines();
    expect(timelines.steps(ingest())).toEqual([
      expect.objectContaining({ id: 'e1', step: 'received', status: 202, outcome: 'queued' }),
      expect.objectContaining({ id: 'e1', step: 'queued', queues: ['events', 'audit'] }),
    ]);
    expect(timelines.steps(attempt({ outcome: 'dead-lettered', reason: 'boom' }))).toEqual([
      expect.objectContaining({ step: 'attempt', outcome: 'dead-lettered', error: 'boom' }),
      expect.objectContaining({ step: 'dead-lettered', queue: 'events', error: 'boom' }),
    ]);
    // The attempt after a dead-lettering follows a redrive, as trace infers it.
    expect(
      timelines.steps(attempt({ attempt: 1, at: '2026-12-05T10:05:00.000Z' })).map((s) => s.step),
    ).toEqual(['redriven', 'attempt']);
  });

  it('show a replay run once, whatever number of queues its lines name', () => {
    const timelines = new TailTimelines();
    const replayed = (queue: string): OutcomeRow => ({
      at: '2026-12-05T10:00:00.000Z',
      kind: 'replayed',
      outcome: 'replayed',
      id: 'e1',
      queue,
      replayId: 'run-1',
    });
    expect(timelines.steps(replayed('events')).map((s) => s.step)).toEqual(['replayed']);
    expect(timelines.steps(replayed('audit'))).toEqual([]);
  });

  it('forget the oldest events beyond what they remember', () => {
    const timelines = new TailTimelines(1);
    timelines.steps(attempt({ outcome: 'dead-lettered' }));
    timelines.steps(attempt({ id: 'e2' }));
    expect(timelines.steps(attempt()).map((s) => s.step)).toEqual(['attempt']);
  });

  it('read as time, step, the event and what trace says of the step', () => {
    const [received] = new TailTimelines().steps(ingest({ latencyMs: 14.2 }));
    expect(renderTailLine(colorsFor(false), received as never)).toBe(
      '2026-12-05T10:00:00.000Z  received      e1 github invoice.paid queued status=202 14ms',
    );
    const [failed] = new TailTimelines().steps(
      attempt({ outcome: 'retried', reason: 'HTTP 500 from the API' }),
    );
    expect(renderTailLine(colorsFor(false), failed as never)).toBe(
      '2026-12-05T10:00:01.000Z  attempt       e1 github invoice.paid queue=events attempt=1 retried took 12ms HTTP 500 from the API',
    );
  });
});

describe('deployed tail: reading polled log events', () => {
  const event = (id: string, timestamp: number, message = '{}'): FilteredLogEvent => ({
    eventId: id,
    timestamp,
    message,
    logStreamName: 's',
  });

  it('shows each polled event once across overlapping windows', () => {
    const polled = new PolledEvents();
    expect([event('a', 1000), event('b', 2000)].filter((e) => polled.isFresh(e))).toHaveLength(2);
    expect(
      [event('a', 1000), event('c', 1500), event('b', 2000)]
        .filter((e) => polled.isFresh(e))
        .map((e) => e.eventId),
    ).toEqual(['c']);
  });

  it('forgets ids older than the window, which no later poll reads again', () => {
    const polled = new PolledEvents();
    polled.isFresh(event('a', 1000));
    polled.forgetBefore(5000);
    expect(polled.isFresh(event('a', 1000))).toBe(true);
  });

  it('keeps only the ids of the late-line window before the newest event, however long a window it reads', () => {
    const polled = new PolledEvents();
    for (let i = 0; i < 100; i += 1) polled.isFresh(event(`e${i}`, i * 10_000));
    // 990 s in: the ids of the last minute are kept (a later window reads them again), the older ones are not.
    expect(polled.isFresh(event('e99', 990_000))).toBe(false);
    expect(
      polled.isFresh(event(`e${99 - LATE_LINE_WINDOW_MS / 10_000}`, 990_000 - LATE_LINE_WINDOW_MS)),
    ).toBe(false);
    expect(polled.isFresh(event('e0', 0))).toBe(true);
  });

  it("sends a window's lines in time order across the log groups as it pages, holding one page per group", async () => {
    const backend = testBackend();
    const now = backend.clock.now();
    const line = (id: string, at: number) =>
      event(id, at, JSON.stringify({ message: 'record outcome', outcome: 'processed', id, queue: 'events' }));
    // Two groups, 20 lines each, interleaved in time, two a page.
    const groups: Record<string, FilteredLogEvent[]> = {
      '/aws/lambda/Ingest': Array.from({ length: 20 }, (_, i) => line(`i${i}`, now - 100_000 + i * 2_000)),
      '/aws/lambda/Events': Array.from({ length: 20 }, (_, i) => line(`c${i}`, now - 99_000 + i * 2_000)),
    };
    let answered = 0;
    let sent = 0;
    let mostHeld = 0;
    const send = async (command: FilterLogEventsCommand) => {
      const { logGroupName = '', nextToken } = command.input;
      const from = Number(nextToken ?? 0);
      const page = (groups[logGroupName] ?? []).slice(from, from + 2);
      mostHeld = Math.max(mostHeld, answered - sent);
      answered += page.length;
      return { events: page, ...(from + 2 < 20 ? { nextToken: String(from + 2) } : {}) };
    };
    const target = {
      ...stackTarget(),
      logGroups: { ingest: '/aws/lambda/Ingest', consumers: { events: '/aws/lambda/Events' } },
    };
    const poller = new OutcomeLogPoller(
      { ...backend, logs: { send } as unknown as CloudWatchLogsClient },
      target,
      now - 200_000,
    );
    const ids: string[] = [];
    await poller.poll((row) => {
      sent += 1;
      ids.push(row.id ?? '');
    });
    expect(ids).toEqual(Array.from({ length: 20 }, (_, i) => [`i${i}`, `c${i}`]).flat());
    // Never more than a page of each group read and not yet sent.
    expect(mostHeld).toBeLessThanOrEqual(4);
  });

  it('marks late only a line printed after a printed line of a later time, not after a line its filters left out', async () => {
    const backend = testBackend();
    const now = backend.clock.now();
    const line = (id: string, at: number) =>
      event(id, at, JSON.stringify({ message: 'record outcome', outcome: 'processed', id, queue: 'events' }));
    // The first poll reads a line the filters leave out; CloudWatch Logs takes in one of an earlier time after it.
    const first = [line('shown-first', now - 3_000), line('left-out', now - 1_000)];
    const later = [...first, line('taken-in-late', now - 2_000)];
    let consumerPolls = 0;
    const send = async (command: FilterLogEventsCommand) => {
      if (command.input.logGroupName !== '/aws/lambda/Events') return { events: [] };
      return { events: consumerPolls++ === 0 ? first : later };
    };
    const target = {
      ...stackTarget(),
      logGroups: { ingest: '/aws/lambda/Ingest', consumers: { events: '/aws/lambda/Events' } },
    };
    const emitted: TailLine[] = [];
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), 10_000);
    await tailLogGroups(
      { ...backend, logs: { send } as unknown as CloudWatchLogsClient },
      target,
      (row) => row.id !== 'left-out',
      {
        emit: (tailLine) => {
          emitted.push(tailLine);
          if (tailLine.id === 'taken-in-late') stop.abort();
        },
        signal: stop.signal,
        since: new Date(now - 60_000),
        pollIntervalMs: 1,
      },
    );
    clearTimeout(timer);
    expect(emitted.map((l) => `${l.id}${l.late ? ' late' : ''}`)).toEqual(['shown-first', 'taken-in-late']);
  });

  /** A poller of three log groups whose every group has `pages` pages of two lines, answering after `latencyMs`. */
  const pagedPoller = (pages: number, latencyMs = 0) => {
    const backend = testBackend();
    const now = backend.clock.now();
    const callsAt: number[] = [];
    const send = async (command: FilterLogEventsCommand) => {
      callsAt.push(backend.clock.now());
      if (latencyMs > 0) await backend.clock.sleep(latencyMs);
      const from = Number(command.input.nextToken ?? 0);
      const events = [from, from + 1].map((i) =>
        event(
          `${command.input.logGroupName}-${i}`,
          now - 3_600_000 + i * 1_000,
          JSON.stringify({ message: 'record outcome', outcome: 'processed', id: `e${i}`, queue: 'events' }),
        ),
      );
      return { events, ...(from + 2 < pages * 2 ? { nextToken: String(from + 2) } : {}) };
    };
    const target = {
      ...stackTarget(),
      logGroups: {
        ingest: '/aws/lambda/Ingest',
        consumers: { events: '/aws/lambda/Events', orders: '/aws/lambda/Orders' },
      },
    };
    const poller = new OutcomeLogPoller(
      { ...backend, logs: { send } as unknown as CloudWatchLogsClient },
      target,
      now - 3_600_000,
    );
    return { poller, callsAt, sleeps: backend.clock.sleeps };
  };

  it("spaces a catch-up's page calls, and the next poll's, 0.4 s apart: never more than 2.5 calls a second", async () => {
    const { poller, callsAt, sleeps } = pagedPoller(10);
    let rows = 0;
    await poller.poll(() => {
      rows += 1;
    });
    expect(rows).toBe(60);
    expect(callsAt).toHaveLength(30);
    // The first call goes at once; each later one waits out the spacing (the fake answers take no time at all).
    expect(sleeps).toEqual(Array(29).fill(CALL_SPACING_MS));
    const gaps = callsAt.slice(1).map((at, i) => at - (callsAt[i] as number));
    expect(Math.min(...gaps)).toBe(CALL_SPACING_MS);
    const mostInASecond = Math.max(
      ...callsAt.map((at) => callsAt.filter((t) => t >= at && t < at + 1_000).length),
    );
    expect(mostInASecond).toBeLessThanOrEqual(3);
    // A poll right after (the console's reader asks every second) waits for the spacing before its first call.
    await poller.poll(() => {});
    expect((callsAt[30] as number) - (callsAt[29] as number)).toBe(CALL_SPACING_MS);
  });

  it('stops waiting for the spacing when the signal is aborted (Ctrl-C), and makes no further call', async () => {
    const backend = testBackend();
    const now = backend.clock.now();
    let waiting: (() => void) | undefined;
    // A clock whose sleep ends only when the signal it was given is aborted: a wait for the spacing that ignored
    // Ctrl-C would never end here.
    const clock = {
      now: () => now,
      sleep: (_ms: number, signal?: AbortSignal) =>
        new Promise<void>((resolve) => {
          signal?.addEventListener('abort', () => resolve(), { once: true });
          waiting?.();
        }),
    };
    let calls = 0;
    const send = async (command: FilterLogEventsCommand) => {
      calls += 1;
      return { events: [], ...(command.input.nextToken ? {} : { nextToken: '1' }) };
    };
    const target = { ...stackTarget(), logGroups: { ingest: '/aws/lambda/Ingest', consumers: {} } };
    const poller = new OutcomeLogPoller(
      { ...backend, clock, logs: { send } as unknown as CloudWatchLogsClient },
      target,
      now - 60_000,
    );
    const stop = new AbortController();
    const inSpacing = new Promise<void>((resolve) => {
      waiting = resolve;
    });
    const polled = poller.poll(() => {}, stop.signal);
    await inSpacing;
    stop.abort();
    await polled;
    expect(calls).toBe(1);
  });

  it('waits for no call whose previous one took the spacing to answer', async () => {
    const { poller, callsAt, sleeps } = pagedPoller(3, CALL_SPACING_MS + 100);
    await poller.poll(() => {});
    expect(callsAt).toHaveLength(9);
    // Every sleep is an answer's own latency: the spacing added none.
    expect(sleeps).toEqual(Array(9).fill(CALL_SPACING_MS + 100));
  });

  it('goes on from the last line it sent when a poll fails part way through its window', async () => {
    const backend = testBackend();
    const now = backend.clock.now();
    const line = (id: string, at: number) =>
      event(id, at, JSON.stringify({ message: 'record outcome', outcome: 'processed', id, queue: 'events' }));
    const lines = Array.from({ length: 10 }, (_, i) => line(`e${i}`, now - 3_600_000 + i * 300_000));
    let failAt: number | undefined = 4;
    const starts: number[] = [];
    const send = async (command: FilterLogEventsCommand) => {
      const from = Number(command.input.nextToken ?? 0);
      if (from === failAt) {
        failAt = undefined;
        throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      }
      if (from === 0) starts.push(command.input.startTime ?? 0);
      const inWindow = lines.filter((l) => (l.timestamp ?? 0) >= (command.input.startTime ?? 0));
      return {
        events: inWindow.slice(from, from + 2),
        ...(from + 2 < inWindow.length ? { nextToken: String(from + 2) } : {}),
      };
    };
    const target = { ...stackTarget(), logGroups: { ingest: '/aws/lambda/Ingest', consumers: {} } };
    const poller = new OutcomeLogPoller(
      { ...backend, logs: { send } as unknown as CloudWatchLogsClient },
      target,
      now - 3_600_000,
    );
    const ids: string[] = [];
    await expect(poller.poll((row) => ids.push(row.id ?? ''))).rejects.toThrow('Rate exceeded');
    expect(poller.started).toBe(true);
    expect(ids).toEqual(['e0', 'e1', 'e2', 'e3']);
    await poller.poll((row) => ids.push(row.id ?? ''));
    expect(ids).toEqual(Array.from({ length: 10 }, (_, i) => `e${i}`));
    // The second poll read from a late-line window before the last line sent, not from the window's start again.
    expect(starts[1]).toBe((lines[3]?.timestamp ?? 0) - LATE_LINE_WINDOW_MS);
  });

  it('reads an ingest outcome line as trace reads it from Logs Insights, its fan-out from the line itself', () => {
    const message = JSON.stringify({
      level: 'INFO',
      message: 'webhook outcome',
      service: 'ingest',
      outcome: 'queued',
      id: 'e1',
      source: 'github',
      type: 'push',
      queues: ['events', 'audit', 'archive', 'fourth'],
      status: 202,
      latencyMs: 14,
    });
    expect(logEventRow(Date.parse('2026-12-05T10:00:00.123Z'), message)).toEqual({
      at: '2026-12-05T10:00:00.123Z',
      kind: 'ingest',
      outcome: 'queued',
      id: 'e1',
      source: 'github',
      type: 'push',
      queue: 'events,audit,archive,fourth',
      status: 202,
      latencyMs: 14,
    });
  });

  it("reads a consumer outcome line written in Lambda's text format, and no other line", () => {
    const consumer = `2026-12-05T10:00:01.000Z\treq-1\tINFO\t${JSON.stringify({
      message: 'record outcome',
      outcome: 'retried',
      id: 'e1',
      queue: 'events',
      attempt: 2,
      durationMs: 30,
      reason: 'boom',
    })}`;
    expect(logEventRow(Date.parse('2026-12-05T10:00:01.000Z'), consumer)).toMatchObject({
      kind: 'consumer',
      outcome: 'retried',
      attempt: 2,
      reason: 'boom',
    });
    expect(logEventRow(0, JSON.stringify({ message: 'handler started' }))).toBeUndefined();
    expect(logEventRow(0, 'START RequestId: req-1 Version: $LATEST')).toBeUndefined();
  });

  it('asks CloudWatch Logs for the outcome lines alone, paced by the number of groups', () => {
    const pattern = outcomeLinesPattern();
    for (const message of OUTCOME_LINE_MESSAGES) expect(pattern).toContain(`($.message = "${message}")`);
    expect(pattern).toMatch(/^\{ .* \}$/);
    expect(pollIntervalMs(1)).toBe(2_000);
    expect(pollIntervalMs(10)).toBe(4_000);
    expect(LATE_LINE_WINDOW_MS).toBeGreaterThan(pollIntervalMs(10));
  });

  it('refuses a stack that publishes no log groups', async () => {
    const { outcomeLogGroups } = await import('../../lib/cli/trace');
    const { testBackend } = await import('./helpers');
    expect(() => outcomeLogGroups(testBackend({ logs: {} as never }), stackTarget())).toThrow(
      'stack Hookline in us-east-1 publishes no log group outputs: redeploy with npx cdk deploy',
    );
  });
});
