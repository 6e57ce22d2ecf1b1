import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudWatchLogsClient,
  GetQueryResultsCommand,
  type ResultField,
  StartQueryCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { idempotencyWorkKey } from '../../lambda/shared/idempotency-key';
import type { JobStatus } from '../../lambda/shared/job-record';
import { sanitizeId } from '../../lambda/shared/safe-ids';
import { UnknownSourceError } from '../../lib/cli/errors';
import type { JobRecordLookup } from '../../lib/cli/jobs';
import { hooklineCommandFor } from '../../lib/cli/output';
import { runCli } from '../../lib/cli/program';
import { renderTrace } from '../../lib/cli/render';
import type { LocalTarget } from '../../lib/cli/target';
import {
  buildTimeline,
  ENQUEUE_NOT_RECORDED_WITHOUT_DEDUPE,
  ENQUEUE_NOT_RECORDED_WITHOUT_RECORD,
  insightsRow,
  type OutcomeRow,
  TRACE_QUERY_LIMIT,
  trace,
  traceQuery,
  withJobRecord,
} from '../../lib/cli/trace';
import { parseOutcomeLine } from '../../lib/local/reporter';
import { cliHarness, localTestTarget, recordingOutput, stackTarget, testBackend } from './helpers';

const logs = mockClient(CloudWatchLogsClient);
beforeEach(() => logs.reset());

const row = (fields: Record<string, string>): ResultField[] =>
  Object.entries(fields).map(([field, value]) => ({ field, value }));

const target = () => ({
  ...stackTarget(),
  logGroups: { ingest: '/aws/lambda/ingest', consumers: { events: '/aws/lambda/events' } },
});

const LINES = [
  row({
    '@timestamp': '2026-11-30 10:00:00.000',
    message: 'webhook outcome',
    outcome: 'queued',
    id: 'e1',
    source: 'stripe',
    type: 'invoice.paid',
    'queues.0': 'events',
    status: '202',
    latencyMs: '31',
  }),
  row({
    '@timestamp': '2026-11-30 10:00:01.000',
    message: 'record outcome',
    outcome: 'retried',
    id: 'e1',
    queue: 'events',
    attempt: '1',
    durationMs: '12',
    reason: 'Error: boom',
  }),
  row({
    '@timestamp': '2026-11-30 10:00:05.000',
    message: 'record outcome',
    outcome: 'dead-lettered',
    id: 'e1',
    queue: 'events',
    attempt: '2',
    durationMs: '9',
    reason: 'Error: boom',
  }),
  row({
    '@timestamp': '2026-11-30 11:00:00.000',
    message: 'record outcome',
    outcome: 'processed',
    id: 'e1',
    queue: 'events',
    attempt: '1',
    durationMs: '7',
  }),
  row({
    '@timestamp': '2026-11-30 12:00:00.000',
    message: 'record outcome',
    outcome: 'processed',
    id: 'e1',
    queue: 'events',
    attempt: '1',
    durationMs: '8',
    replayId: 'r-1',
  }),
];

describe('trace on a deployed stack', () => {
  it('queries both outcome lines of the id in the ingest and consumer log groups, and says so while results arrive, once per change', async () => {
    logs.on(StartQueryCommand).resolves({ queryId: 'q-1' });
    logs
      .on(GetQueryResultsCommand)
      .resolvesOnce({ status: 'Scheduled', results: [] })
      .resolvesOnce({ status: 'Running', results: LINES.slice(0, 1) })
      .resolvesOnce({ status: 'Running', results: LINES.slice(0, 1) })
      .resolvesOnce({ status: 'Running', results: LINES.slice(0, 1) })
      .resolvesOnce({ status: 'Running', results: LINES.slice(0, 2) })
      .resolves({ status: 'Complete', results: LINES });
    const backend = testBackend({ logs: new CloudWatchLogsClient({ region: 'us-east-1' }) });
    const result = await trace(backend, target(), 'e1', { journalPath: '/nonexistent' });

    const start = logs.commandCalls(StartQueryCommand)[0]?.args[0].input;
    expect(start?.logGroupNames).toEqual(['/aws/lambda/ingest', '/aws/lambda/events']);
    expect(start?.queryString).toContain('filter id = "e1"');
    expect(start?.queryString).toContain('"webhook outcome"');
    expect(start?.queryString).toContain('"record outcome"');
    expect(backend.output.notes.filter((n) => n.startsWith('results still arriving'))).toEqual([
      'results still arriving (query Scheduled, 0 line(s) so far)...',
      'results still arriving (query Running, 1 line(s) so far)...',
      'results still arriving (query Running, 2 line(s) so far)...',
    ]);

    expect(result.source).toBe('stripe');
    expect(result.steps.map((s) => (s.step === 'attempt' ? `attempt:${s.outcome}` : s.step))).toEqual([
      'received',
      'queued',
      'attempt:retried',
      'attempt:dead-lettered',
      'dead-lettered',
      'redriven',
      'attempt:processed',
      'replayed',
      'attempt:processed',
    ]);
    expect(result.steps[0]).toMatchObject({ status: 202, latencyMs: 31, at: '2026-11-30T10:00:00.000Z' });
    expect(result.steps[1]).toMatchObject({ queues: ['events'] });
    expect(result.steps[2]).toMatchObject({ attempt: 1, durationMs: 12, error: 'Error: boom' });
  });

  it('shows every queue an event was queued to, however wide the fan-out (Logs Insights flattens the list)', async () => {
    const queues = ['events', 'orders', 'audit', 'billing'];
    logs.on(StartQueryCommand).resolves({ queryId: 'q-1' });
    logs.on(GetQueryResultsCommand).resolves({
      status: 'Complete',
      results: [
        row({
          '@timestamp': '2026-11-30 10:00:00.000',
          '@message': JSON.stringify({ level: 'INFO', message: 'webhook outcome', id: 'wide-1', queues }),
          message: 'webhook outcome',
          outcome: 'queued',
          id: 'wide-1',
          source: 'stripe',
          type: 'invoice.paid',
          'queues.0': 'events',
          'queues.1': 'orders',
          'queues.2': 'audit',
          status: '202',
        }),
      ],
    });
    const backend = testBackend({ logs: new CloudWatchLogsClient({ region: 'us-east-1' }) });
    const result = await trace(backend, target(), 'wide-1', { journalPath: '/x' });
    expect(result.steps.find((s) => s.step === 'queued')?.queues).toEqual(queues);
    expect(logs.commandCalls(StartQueryCommand)[0]?.args[0].input.queryString).toContain('@message');
  });

  it('is an error when no line mentions the id, or the query fails', async () => {
    logs.on(StartQueryCommand).resolves({ queryId: 'q-2' });
    logs.on(GetQueryResultsCommand).resolves({ status: 'Complete', results: [] });
    const backend = testBackend({ logs: new CloudWatchLogsClient({ region: 'us-east-1' }) });
    await expect(trace(backend, target(), 'nope', { journalPath: '/x' })).rejects.toThrow(
      /no event with id nope in the logs of stack Hookline/,
    );
    logs.on(GetQueryResultsCommand).resolves({ status: 'Failed' });
    await expect(trace(backend, target(), 'nope', { journalPath: '/x' })).rejects.toThrow(
      /query ended Failed/,
    );
  });

  it('keeps two events that two sources sent with the same id apart: one timeline per source', async () => {
    const received = (at: string, source: string, type: string) =>
      row({
        '@timestamp': at,
        message: 'webhook outcome',
        outcome: 'queued',
        id: 'dup-1',
        source,
        type,
        'queues.0': 'events',
        status: '202',
      });
    const attempt = (at: string, source: string, type: string) =>
      row({
        '@timestamp': at,
        message: 'record outcome',
        outcome: 'processed',
        id: 'dup-1',
        source,
        type,
        queue: 'events',
        attempt: '1',
      });
    logs.on(StartQueryCommand).resolves({ queryId: 'q-3' });
    logs.on(GetQueryResultsCommand).resolves({
      status: 'Complete',
      results: [
        received('2026-11-30 10:00:00.000', 'generic', 'order.created'),
        attempt('2026-11-30 10:00:01.000', 'generic', 'order.created'),
        received('2026-11-30 10:05:00.000', 'github', 'push'),
        attempt('2026-11-30 10:05:01.000', 'github', 'push'),
      ],
    });
    const backend = testBackend({ logs: new CloudWatchLogsClient({ region: 'us-east-1' }) });
    await expect(trace(backend, target(), 'dup-1', { journalPath: '/x' })).rejects.toThrow(
      'id dup-1 names 2 events, from the sources generic, github: pass --source <name> to trace one',
    );
    const github = await trace(backend, target(), 'dup-1', { journalPath: '/x', source: 'github' });
    expect(github).toMatchObject({ source: 'github', type: 'push' });
    expect(github.steps.map((s) => [s.step, s.at])).toEqual([
      ['received', '2026-11-30T10:05:00.000Z'],
      ['queued', '2026-11-30T10:05:00.000Z'],
      ['attempt', '2026-11-30T10:05:01.000Z'],
    ]);
    await expect(trace(backend, target(), 'dup-1', { journalPath: '/x', source: 'stripe' })).rejects.toThrow(
      /no event with id dup-1 from stripe in the logs/,
    );
    const listed = { ...target(), sources: ['stripe', 'generic', 'github'] };
    await expect(trace(backend, listed, 'dup-1', { journalPath: '/x', source: 'strpe' })).rejects.toThrow(
      'unknown source "strpe" (did you mean stripe?): use one of stripe, generic, github, schedule, job',
    );
  });

  it('searches the last 7 days of logs, up to now', async () => {
    logs.on(StartQueryCommand).resolves({ queryId: 'q-w' });
    logs.on(GetQueryResultsCommand).resolves({ status: 'Complete', results: LINES });
    const backend = testBackend({ logs: new CloudWatchLogsClient({ region: 'us-east-1' }) });
    await trace(backend, target(), 'e1', { journalPath: '/x' });
    const now = backend.clock.now() / 1000;
    expect(logs.commandCalls(StartQueryCommand)[0]?.args[0].input).toMatchObject({
      startTime: now - 7 * 86_400,
      endTime: now,
    });
  });

  it('searches back as far as --since says, for a dead letter older than the 7 days searched by default', async () => {
    logs.on(StartQueryCommand).resolves({ queryId: 'q-since' });
    logs.on(GetQueryResultsCommand).resolves({ status: 'Complete', results: LINES });
    const backend = testBackend({ logs: new CloudWatchLogsClient({ region: 'us-east-1' }) });
    const h = cliHarness({ connect: async () => ({ target: target(), backend }) });

    const before = Date.now();
    expect(await runCli(['trace', 'e1', '--since', '14d', '--json'], h.deps)).toBe(0);
    const after = Date.now();

    // 14 days before the command was run, however long it then takes to load and connect.
    const startTime = logs.commandCalls(StartQueryCommand)[0]?.args[0].input.startTime ?? 0;
    expect(startTime).toBeGreaterThanOrEqual(Math.floor((before - 14 * 86_400_000) / 1000));
    expect(startTime).toBeLessThanOrEqual(Math.floor((after - 14 * 86_400_000) / 1000));
  });

  it('refuses a --since in the future as a usage error, before any query', async () => {
    const h = cliHarness();
    expect(await runCli(['trace', 'e1', '--since', '2999-01-01'], h.deps)).toBe(2);
    expect(h.stderr()).toContain('error: --since 2999-01-01T00:00:00.000Z is in the future (it is ');
    expect(h.stderr()).toContain('or leave it out to search the last 7 days');
    expect(logs.commandCalls(StartQueryCommand)).toHaveLength(0);
  });

  it('says, when no line of the last 7 days names the id, that --since searches further back', async () => {
    logs.on(StartQueryCommand).resolves({ queryId: 'q-none' });
    logs.on(GetQueryResultsCommand).resolves({ status: 'Complete', results: [] });
    const backend = testBackend({ logs: new CloudWatchLogsClient({ region: 'us-east-1' }) });
    await expect(trace(backend, target(), 'old-1', { journalPath: '/x' })).rejects.toThrow(
      'in the logs of stack Hookline in us-east-1 (the last 7 days; hookline trace old-1 --since 30d searches further back, as far as the log groups keep lines: logRetentionDays, 30 days unless set)',
    );
  });

  it('names the commands to run next as commands that run: the id quoted for the shell, its --source kept', async () => {
    logs.on(StartQueryCommand).resolves({ queryId: 'q-none' });
    logs.on(GetQueryResultsCommand).resolves({ status: 'Complete', results: [] });
    const backend = testBackend({ logs: new CloudWatchLogsClient({ region: 'us-east-1' }) });
    const error = await trace(backend, target(), 'order #1', { journalPath: '/x', source: 'stripe' }).catch(
      (e: unknown) => e,
    );
    expect(String(error)).toContain(
      "(the last 7 days; hookline trace 'order #1' --source stripe --since 30d searches further back",
    );
    expect(String(error)).toContain("hookline jobs show 'order #1' shows its state");
  });

  it('names the trace to run again after a query that gave out with the --since it searched from', async () => {
    logs.on(StartQueryCommand).resolves({ queryId: 'q-failed' });
    logs.on(GetQueryResultsCommand).resolves({ status: 'Failed' });
    const backend = testBackend({ logs: new CloudWatchLogsClient({ region: 'us-east-1' }) });
    const since = new Date('2026-11-20T00:00:00.000Z');
    await expect(trace(backend, target(), 'e1', { journalPath: '/x', since })).rejects.toThrow(
      'the Logs Insights query ended Failed: run hookline trace e1 --since 2026-11-20T00:00:00.000Z again',
    );
  });

  it('gives up on a query that is still running after its timeout, and on one that failed, saying so with the trace to run again under its flags', async () => {
    logs.on(StartQueryCommand).resolves({ queryId: 'q-slow' });
    logs.on(GetQueryResultsCommand).resolves({ status: 'Running', results: [] });
    const output = {
      ...recordingOutput(),
      command: (args: string) => hooklineCommandFor({ stack: 'Hookline', region: 'us-east-1' }, args),
    };
    const backend = testBackend({ logs: new CloudWatchLogsClient({ region: 'us-east-1' }), output });
    await expect(trace(backend, target(), 'e1', { journalPath: '/x' })).rejects.toThrow(
      'the Logs Insights query is still Running after 120 s: run hookline trace e1 --stack Hookline --region us-east-1 again',
    );
    expect(backend.clock.sleeps).toHaveLength(120);
    expect(new Set(backend.clock.sleeps)).toEqual(new Set([1000]));
    logs.on(GetQueryResultsCommand).resolves({ status: 'Failed' });
    await expect(trace(backend, target(), 'e1', { journalPath: '/x', source: 'github' })).rejects.toThrow(
      'the Logs Insights query ended Failed: run hookline trace e1 --source github --stack Hookline --region us-east-1 again',
    );
  });

  it('with --source keeps the lines that name no source (a consumer line), and refuses a blank --source', async () => {
    logs.on(StartQueryCommand).resolves({ queryId: 'q-s' });
    logs.on(GetQueryResultsCommand).resolves({ status: 'Complete', results: LINES });
    const backend = testBackend({ logs: new CloudWatchLogsClient({ region: 'us-east-1' }) });
    const result = await trace(backend, target(), 'e1', { journalPath: '/x', source: 'stripe' });
    expect(result.steps).toHaveLength(9);
    await expect(trace(backend, target(), 'e1', { journalPath: '/x', source: ' ' })).rejects.toThrow(
      '--source is empty: name the source of the event, or leave it out',
    );
  });

  it('refuses an empty id', async () => {
    await expect(trace(testBackend(), target(), ' ', { journalPath: '/x' })).rejects.toThrow(/id is empty/);
  });

  it('says when the query returned its most lines, the oldest: later steps may be missing', async () => {
    /** The ingest line and `count - 1` retried attempts, a second apart. */
    const linesOf = (count: number) => [
      LINES[0] as ResultField[],
      ...Array.from({ length: count - 1 }, (_, i) =>
        row({
          '@timestamp': new Date(Date.parse('2026-11-30T10:00:01.000Z') + i * 1000)
            .toISOString()
            .replace('T', ' ')
            .slice(0, -1),
          message: 'record outcome',
          outcome: 'retried',
          id: 'e1',
          queue: 'events',
          attempt: String(i + 1),
          reason: 'Error: boom',
        }),
      ),
    ];
    const backend = testBackend({ logs: new CloudWatchLogsClient({ region: 'us-east-1' }) });
    logs.on(StartQueryCommand).resolves({ queryId: 'q-1' });
    logs.on(GetQueryResultsCommand).resolves({ status: 'Complete', results: linesOf(TRACE_QUERY_LIMIT) });
    const bounded = await trace(backend, target(), 'e1', { journalPath: '/nonexistent' });
    expect(bounded.notes).toEqual([
      `only the oldest ${TRACE_QUERY_LIMIT} log lines of this id in the last 7 days are shown (a Logs Insights query returns at most ${TRACE_QUERY_LIMIT}): later steps may be missing; search the logs in CloudWatch Logs Insights for the rest`,
    ]);
    expect(logs.commandCalls(StartQueryCommand)[0]?.args[0].input.queryString).toContain(
      `limit ${TRACE_QUERY_LIMIT}`,
    );
    const output = recordingOutput();
    renderTrace(output, bounded);
    expect(output.lines.at(-1)).toContain('later steps may be missing');

    logs.on(GetQueryResultsCommand).resolves({ status: 'Complete', results: linesOf(TRACE_QUERY_LIMIT - 1) });
    const whole = await trace(backend, target(), 'e1', { journalPath: '/nonexistent' });
    expect(whole.notes).toBeUndefined();
  });
});

describe('a timeline from outcome rows', () => {
  it('ignores other events and orders rows by time', () => {
    const result = buildTimeline('a', [
      {
        at: '2026-11-30T10:00:02.000Z',
        kind: 'consumer',
        outcome: 'processed',
        id: 'a',
        queue: 'events',
        attempt: 1,
      },
      {
        at: '2026-11-30T10:00:01.000Z',
        kind: 'ingest',
        outcome: 'queued',
        id: 'a',
        source: 's',
        queue: 'events',
        status: 202,
      },
      {
        at: '2026-11-30T10:00:01.500Z',
        kind: 'consumer',
        outcome: 'processed',
        id: 'b',
        queue: 'events',
        attempt: 1,
      },
    ]);
    expect(result.steps.map((s) => s.step)).toEqual(['received', 'queued', 'attempt']);
  });
});

describe('a timeline of a dead-lettered event that is replayed', () => {
  it('shows the replay, not a redrive, and a later redrive of the original as a redrive', () => {
    const at = (second: number) => `2026-11-30T10:00:${String(second).padStart(2, '0')}.000Z`;
    const result = buildTimeline('e', [
      { at: at(1), kind: 'ingest', outcome: 'queued', id: 'e', source: 's', queue: 'events', status: 202 },
      { at: at(2), kind: 'consumer', outcome: 'dead-lettered', id: 'e', queue: 'events', attempt: 1 },
      { at: at(3), kind: 'replayed', id: 'e', queue: 'events', replayId: 'r-1' },
      {
        at: at(4),
        kind: 'consumer',
        outcome: 'processed',
        id: 'e',
        queue: 'events',
        attempt: 1,
        replayId: 'r-1',
      },
      { at: at(5), kind: 'consumer', outcome: 'processed', id: 'e', queue: 'events', attempt: 1 },
    ]);
    expect(
      result.steps.map((s) => (s.step === 'attempt' ? `attempt:${s.replayId ?? 'original'}` : s.step)),
    ).toEqual([
      'received',
      'queued',
      'attempt:original',
      'dead-lettered',
      'replayed',
      'attempt:r-1',
      'redriven',
      'attempt:original',
    ]);
  });
});

describe('idempotency of replays', () => {
  it('keys a replay as new work, and a retry of that replay as the same work', () => {
    const original = idempotencyWorkKey('events', { source: 'shop', id: 'e1' });
    const replay = idempotencyWorkKey('events', { source: 'shop', id: 'e1', replay: { id: 'r-1' } });
    expect(replay).not.toBe(original);
    expect(idempotencyWorkKey('events', { source: 'shop', id: 'e1', replay: { id: 'r-1' } })).toBe(replay);
    expect(idempotencyWorkKey('events', { source: 'shop', id: 'e1', replay: { id: 'r-2' } })).not.toBe(
      replay,
    );
    expect(replay.startsWith('events#')).toBe(true);
  });
});

describe('trace in local mode', () => {
  const local: LocalTarget = localTestTarget();

  it('names where an id comes from with --local on its commands: for an empty id and for one the journal never saw', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookline-trace-hints-'));
    const journalPath = join(dir, 'journal.jsonl');
    writeFileSync(journalPath, '');
    const output = {
      ...recordingOutput(),
      command: (args: string) => hooklineCommandFor({ local: true }, args),
    };
    try {
      await expect(trace(testBackend({ output }), local, ' ', { journalPath })).rejects.toThrow(
        'the event id is empty: pass the id from the webhook answer or hookline failed list <queue> --local',
      );
      await expect(trace(testBackend({ output }), local, 'nope', { journalPath })).rejects.toThrow(
        "use the id from the webhook's answer, hookline failed list <queue> --local or the job's send",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('shows only the journal lines from --since on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookline-trace-since-'));
    const journalPath = join(dir, 'journal.jsonl');
    const lines = [
      { event: 'processed', id: 'e1', queue: 'events', attempt: 1, at: '2026-11-24T10:00:00.000Z' },
      {
        event: 'processed',
        id: 'e1',
        queue: 'events',
        attempt: 1,
        replayId: 'r-1',
        at: '2026-11-25T02:30:00.000Z',
      },
    ];
    writeFileSync(journalPath, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    try {
      const since = new Date('2026-11-25T02:00:00.000Z');
      const result = await trace(testBackend(), localTestTarget(), 'e1', { journalPath, since });
      expect(result.steps.map((s) => [s.step, s.at])).toEqual([
        ['replayed', '2026-11-25T02:30:00.000Z'],
        ['attempt', '2026-11-25T02:30:00.000Z'],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says that a --source naming no source is not one, naming those it knows, and keeps "no event" for a known one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookline-trace-source-'));
    const journalPath = join(dir, 'journal.jsonl');
    const lines = [
      { event: 'received', id: 'e1', source: 'retired', status: 202, at: '2026-11-30T10:00:00.000Z' },
      {
        event: 'queued',
        id: 'e1',
        source: 'retired',
        status: 202,
        queue: 'events',
        at: '2026-11-30T10:00:00.000Z',
      },
      // A consumer's line names no source: kept under any --source, it alone made a timeline of a source mistyped.
      { event: 'processed', id: 'e1', queue: 'events', at: '2026-11-30T10:00:01.000Z' },
    ];
    writeFileSync(journalPath, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    const listed = localTestTarget({ sources: ['stripe', 'crm'] });
    try {
      const unknown = trace(testBackend(), listed, 'e1', { journalPath, source: 'nope' });
      await expect(unknown).rejects.toThrow(UnknownSourceError);
      await expect(unknown).rejects.toThrow(
        'unknown source "nope": use one of stripe, crm, schedule, job, retired',
      );
      // Configured, or sent something once (since removed from the configuration): a source, with no such event.
      await expect(trace(testBackend(), listed, 'e2', { journalPath, source: 'crm' })).rejects.toThrow(
        /^no event with id e2 from crm in local mode's journal/,
      );
      await expect(trace(testBackend(), listed, 'e2', { journalPath, source: 'retired' })).rejects.toThrow(
        /^no event with id e2 from retired/,
      );
      const backend = testBackend();
      const found = await trace(backend, listed, 'e1', { journalPath, source: 'retired' });
      expect(found.source).toBe('retired');
      // Taken as tail takes it, with the same notice.
      expect(backend.output.notes).toEqual([
        'source "retired" is not in the configuration (stripe, crm, schedule, job): showing its lines anyway, as a source removed from it may still have events in the pipeline',
      ]);
      // A name no source could have is the command line's fault, before anything is read.
      await expect(trace(testBackend(), listed, 'e1', { journalPath, source: 'Retired' })).rejects.toThrow(
        /^--source "Retired" is not a source name/,
      );
      // A local mode that did not list its sources: nothing to judge by, so no claim either way.
      await expect(trace(testBackend(), local, 'e2', { journalPath, source: 'nope' })).rejects.toThrow(
        /^no event with id e2 from nope/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads each kind of journal line as its outcome line, and skips lines about no event's outcome", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookline-trace-kinds-'));
    const journalPath = join(dir, 'journal.jsonl');
    const at = (second: number) => `2026-11-30T10:00:0${second}.000Z`;
    const lines = [
      {
        event: 'scheduled',
        via: 'jobs endpoint',
        id: 'x',
        source: 'job',
        status: 202,
        queue: 'events',
        at: at(1),
      },
      { event: 'queued', id: 'x', source: 'job', status: 202, queue: 'events', at: at(2) },
      { event: 'received', id: 'x', source: 'job', status: 202, at: at(3) },
      { event: 'retried', id: 'x', queue: 'events', attempt: 1, reason: 'E', at: at(4) },
      { event: 'processed', id: 'x', queue: 'events', at: at(5) },
      { event: 'log', id: 'x', queue: 'events', attempt: 1, at: at(6) },
      // A one-time job schedule sending the job: not its enqueue (the line above and the record give that).
      { event: 'scheduled', id: 'x', source: 'job', type: 't', queue: 'events', at: at(7) },
    ];
    writeFileSync(journalPath, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    try {
      const result = await trace(testBackend(), local, 'x', { journalPath });
      expect(result.steps.map((s) => [s.step, s.at])).toEqual([
        ['received', at(1)],
        ['scheduled', at(1)],
        ['received', at(2)],
        ['queued', at(2)],
        ['attempt', at(4)],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads the whole journal, beyond the 5,000 events of the live feed, and says which journal it searched', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookline-trace-journal-'));
    const journalPath = join(dir, 'journal.jsonl');
    const line = (id: string, second: number) =>
      JSON.stringify({
        event: 'processed',
        id,
        source: 'job',
        type: 'email.welcome',
        queue: 'events',
        attempt: 1,
        durationMs: 3,
        at: new Date(Date.UTC(2026, 10, 30, 10, 0, second)).toISOString(),
      });
    writeFileSync(
      journalPath,
      `${['oldest', ...Array.from({ length: 6_000 }, (_, i) => `later-${i}`)].map((id, i) => line(id, i)).join('\n')}\n`,
    );
    try {
      const oldest = await trace(testBackend(), local, 'oldest', { journalPath });
      expect(oldest.steps.map((s) => s.step)).toEqual(['attempt']);
      const unknown = trace(testBackend(), local, 'nope', { journalPath });
      await expect(unknown).rejects.toThrow(journalPath);
      // A delayed job has no line until it runs: the error points at where its state is.
      await expect(trace(testBackend(), local, 'nope', { journalPath })).rejects.toThrow(
        /hookline jobs show nope/,
      );
      // With the target flags it ran with, so following it reads the same pipeline's records.
      const asLocal = {
        ...recordingOutput(),
        command: (args: string) => hooklineCommandFor({ local: true }, args),
      };
      await expect(trace(testBackend({ output: asLocal }), local, 'nope', { journalPath })).rejects.toThrow(
        /hookline jobs show nope --local shows its state/,
      );
      await expect(trace(testBackend(), local, 'nope', { journalPath })).rejects.not.toThrow(/last 5,000/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("how a job's timeline starts", () => {
  const at = (minute: number) => `2026-11-30T10:${String(minute).padStart(2, '0')}:00.000Z`;
  const attempt: OutcomeRow = {
    at: at(5),
    kind: 'consumer',
    outcome: 'processed',
    id: 'j',
    source: 'job',
    type: 'email.welcome',
    queue: 'jobs',
    attempt: 1,
  };
  const record = (fields: Partial<JobStatus> = {}): JobRecordLookup => ({
    kept: true,
    job: { id: 'j', state: 'completed', type: 'email.welcome', queue: 'jobs', enqueuedAt: at(1), ...fields },
  });

  it("starts with the enqueue the job's record keeps, sent by app code's producer when the endpoint's lines were searched", () => {
    const timeline = buildTimeline('j', [attempt]);
    const searched = withJobRecord(timeline, record(), { endpointSearched: true });
    expect(searched.steps.map((s) => s.step)).toEqual(['queued', 'attempt']);
    expect(searched.steps[0]).toEqual({ at: at(1), step: 'queued', queues: ['jobs'], via: 'producer' });
    expect(searched.job).toEqual({ state: 'completed' });
    expect(searched.notes).toBeUndefined();
    // A stack that does not publish the endpoint's log group: how the job was sent is not known.
    const unsearched = withJobRecord(timeline, record(), { endpointSearched: false });
    expect(unsearched.steps[0]?.via).toBeUndefined();
  });

  it("starts a flow parent's timeline with its wait for its children, not a queue it was not on then", () => {
    const parent = record({ children: { total: 2, completed: ['a', 'b'], pending: [] } });
    const result = withJobRecord(buildTimeline('j', [attempt]), parent, { endpointSearched: true });
    expect(result.steps[0]).toEqual({
      at: at(1),
      step: 'waiting-children',
      outcome: 'for 2 children',
      queues: ['jobs'],
      via: 'producer',
    });
  });

  it("times a job's last redrive exactly from its record instead of inferring it from the next attempt", () => {
    const dead: OutcomeRow = { ...attempt, outcome: 'dead-lettered', reason: 'Error: boom', attempt: 3 };
    const rerun: OutcomeRow = { ...attempt, at: at(30), attempt: 1 };
    const redriven = record({ redrivenAt: at(20) });
    const result = withJobRecord(buildTimeline('j', [dead, rerun]), redriven, { endpointSearched: true });
    expect(result.steps.map((s) => [s.step, s.at, s.inferred])).toEqual([
      ['queued', at(1), undefined],
      ['attempt', at(5), undefined],
      ['dead-lettered', at(5), undefined],
      ['redriven', at(20), undefined],
      ['attempt', at(30), undefined],
    ]);
    // Redriven twice: the first redrive stays inferred, the record times the last one.
    const again: OutcomeRow = { ...dead, at: at(31) };
    const third: OutcomeRow = { ...attempt, at: at(50), attempt: 1 };
    const twice = withJobRecord(
      buildTimeline('j', [dead, rerun, again, third]),
      record({ redrivenAt: at(40) }),
      {
        endpointSearched: true,
      },
    );
    expect(twice.steps.filter((s) => s.step === 'redriven')).toEqual([
      { at: at(30), step: 'redriven', queue: 'jobs', inferred: true },
      { at: at(40), step: 'redriven', queue: 'jobs' },
    ]);
  });

  it('shows a redriven job that has not run again as redriven at the time its record says', () => {
    const dead: OutcomeRow = { ...attempt, outcome: 'dead-lettered', reason: 'Error: boom', attempt: 3 };
    const waiting = record({ state: 'queued', redrivenAt: at(20), lastError: 'Error: boom' });
    const result = withJobRecord(buildTimeline('j', [dead]), waiting, { endpointSearched: true });
    expect(result.steps.map((s) => s.step)).toEqual(['queued', 'attempt', 'dead-lettered', 'redriven']);
    expect(result.steps[3]).toEqual({ at: at(20), step: 'redriven', queue: 'jobs' });
    expect(result.job).toEqual({ state: 'queued' });
    // A clock that puts the redrive before the dead-lettering: nothing is made up.
    const skewed = withJobRecord(buildTimeline('j', [dead]), record({ state: 'queued', redrivenAt: at(4) }), {
      endpointSearched: true,
    });
    expect(skewed.steps.map((s) => s.step)).toEqual(['queued', 'attempt', 'dead-lettered']);
  });

  it('shows a job redriven in the same instant it was dead-lettered as redriven then', () => {
    const dead: OutcomeRow = { ...attempt, outcome: 'dead-lettered', reason: 'Error: boom', attempt: 3 };
    const waiting = record({ state: 'queued', redrivenAt: at(5), lastError: 'Error: boom' });
    const result = withJobRecord(buildTimeline('j', [dead]), waiting, { endpointSearched: true });
    expect(result.steps.slice(2)).toEqual([
      expect.objectContaining({ at: at(5), step: 'dead-lettered' }),
      { at: at(5), step: 'redriven', queue: 'jobs' },
    ]);
  });

  it('keeps an inferred redrive where it was when the record times a redrive after the attempt it led to', () => {
    // The record's redrive came later (its dead-lettering is not in the lines read): moving the inferred one to
    // that time would put a redrive after the attempt it started.
    const dead: OutcomeRow = { ...attempt, outcome: 'dead-lettered', reason: 'Error: boom', attempt: 3 };
    const rerun: OutcomeRow = { ...attempt, at: at(30), attempt: 1 };
    const result = withJobRecord(buildTimeline('j', [dead, rerun]), record({ redrivenAt: at(40) }), {
      endpointSearched: true,
    });
    expect(result.steps.map((s) => [s.step, s.at, s.inferred])).toEqual([
      ['queued', at(1), undefined],
      ['attempt', at(5), undefined],
      ['dead-lettered', at(5), undefined],
      ['redriven', at(30), true],
      ['attempt', at(30), undefined],
    ]);
  });

  it("ends a child-failed flow parent's timeline with its failing, at the time its record says, with the reason", () => {
    const reason = 'FlowChildFailedError: child b dead-lettered: PermanentError: no data';
    const parent = record({
      state: 'child-failed',
      reason,
      updatedAt: at(9),
      children: { total: 2, completed: ['a'], pending: [], failed: { b: 'PermanentError: no data' } },
    });
    const result = withJobRecord(buildTimeline('j', []), parent, { endpointSearched: true });
    expect(result.steps.map((s) => s.step)).toEqual(['waiting-children', 'child-failed']);
    expect(result.steps[1]).toEqual({ at: at(9), step: 'child-failed', error: reason, inferred: true });
  });

  it("places the record's enqueue before an attempt of the same time, takes a named attempt as the record's when the record names no generation, and adds no enqueue without its time", () => {
    const same = withJobRecord(buildTimeline('j', [{ ...attempt, at: at(1) }]), record(), {
      endpointSearched: true,
    });
    expect(same.steps.map((s) => s.step)).toEqual(['queued', 'attempt']);
    const named = withJobRecord(buildTimeline('j', [{ ...attempt, generation: '2' }]), record(), {
      endpointSearched: true,
    });
    expect(named.steps.map((s) => s.step)).toEqual(['queued', 'attempt']);
    expect(named.notes).toBeUndefined();
    const timeless = withJobRecord(buildTimeline('j', [attempt]), record({ enqueuedAt: undefined }), {
      endpointSearched: true,
    });
    expect(timeless.steps.map((s) => s.step)).toEqual(['attempt']);
  });

  it('shows an id enqueued again after its dedupe window in time order, once each, and says the earlier enqueue is not shown', () => {
    const second: OutcomeRow = { ...attempt, at: at(40) };
    const result = withJobRecord(buildTimeline('j', [attempt, second]), record({ enqueuedAt: at(30) }), {
      endpointSearched: true,
    });
    expect(result.steps.map((s) => [s.at, s.step])).toEqual([
      [at(5), 'attempt'],
      [at(30), 'queued'],
      [at(40), 'attempt'],
    ]);
    expect(result.notes).toEqual([
      expect.stringMatching(
        /^this job id was enqueued before: the attempt before the first enqueue shown ran an earlier enqueue, which is not shown \(a job's record keeps only the newest enqueue \(the one at 2026-11-30T10:30:00\.000Z\)/,
      ),
    ]);
  });

  it("groups a reused id's attempts by the generation their lines name, where times alone would misplace them", () => {
    const newest = record({ enqueuedAt: at(30), generation: 'g-2' });
    const own: OutcomeRow = { ...attempt, at: at(40), generation: 'g-2' };
    // The earlier enqueue's attempt ended a minute after the newest enqueue.
    const endedLate: OutcomeRow = { ...attempt, at: at(31), generation: 'g-1' };
    const late = withJobRecord(buildTimeline('j', [endedLate, own]), newest, { endpointSearched: true });
    expect(late.steps.map((s) => [s.step, s.generation])).toEqual([
      ['attempt', 'g-1'],
      ['queued', undefined],
      ['attempt', 'g-2'],
    ]);
    expect(late.notes).toEqual([
      expect.stringMatching(/^this job id was enqueued before: the attempt before the first enqueue shown/),
    ]);
    // The newest enqueue's own attempt, logged by a clock a minute behind the producer's.
    const behind: OutcomeRow = { ...own, at: at(29), outcome: 'retried' };
    const early = withJobRecord(buildTimeline('j', [behind, { ...own, attempt: 2 }]), newest, {
      endpointSearched: true,
    });
    expect(early.steps.map((s) => [s.step, s.generation])).toEqual([
      ['queued', undefined],
      ['attempt', 'g-2'],
      ['attempt', 'g-2'],
    ]);
    expect(early.notes).toBeUndefined();
  });

  it("shows the tenant a webhook was queued under in its fair queues, from the deployed line and from local mode's journal", async () => {
    const line = {
      level: 'INFO',
      message: 'webhook outcome',
      outcome: 'queued',
      id: 'fair-1',
      queues: ['events', 'plain'],
      tenants: { events: 'acme.myshopify.com' },
    };
    // Logs Insights flattens the object into one field per queue; the whole line has it whole.
    const deployed = insightsRow(
      row({
        '@timestamp': '2026-11-30 10:00:00.000',
        '@message': JSON.stringify(line),
        message: 'webhook outcome',
        outcome: 'queued',
        id: 'fair-1',
        source: 'shop',
        'tenants.events': 'acme.myshopify.com',
        status: '202',
      }),
    );
    expect(buildTimeline('fair-1', [deployed]).steps.find((s) => s.step === 'queued')).toMatchObject({
      queues: ['events', 'plain'],
      tenant: 'acme.myshopify.com',
    });
    const dir = mkdtempSync(join(tmpdir(), 'hookline-trace-tenant-'));
    const journalPath = join(dir, 'journal.jsonl');
    const queued = {
      event: 'queued',
      id: 'fair-1',
      source: 'shop',
      status: 202,
      queue: 'events,plain',
      tenant: 'acme.myshopify.com',
      at: '2026-11-30T10:00:00.000Z',
    };
    writeFileSync(journalPath, `${JSON.stringify(queued)}\n`);
    try {
      const result = await trace(testBackend(), localTestTarget(), 'fair-1', { journalPath });
      const output = recordingOutput();
      renderTrace(output, result);
      expect(output.lines.join('\n')).toMatch(/queued +-> events, plain tenant=acme\.myshopify\.com$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finds an event by the delivery id its sender gave, when the ingest stored it hashed', async () => {
    // A sender's id outside 1-200 printable ASCII characters is stored as h_<sha256>; the operator has the sender's.
    const given = '注文 #1';
    const stored = sanitizeId(given);
    expect(stored).toMatch(/^h_[0-9a-f]{64}$/);
    const dir = mkdtempSync(join(tmpdir(), 'hookline-trace-hashed-'));
    const journalPath = join(dir, 'journal.jsonl');
    const queued = {
      event: 'queued',
      id: stored,
      source: 'generic',
      status: 202,
      queue: 'events',
      at: '2026-11-30T10:00:00.000Z',
    };
    writeFileSync(journalPath, `${JSON.stringify(queued)}\n`);
    try {
      const result = await trace(testBackend(), localTestTarget(), given, { journalPath });
      expect(result).toMatchObject({ id: stored, source: 'generic' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    logs.on(StartQueryCommand).resolves({ queryId: 'q-1' });
    logs.on(GetQueryResultsCommand).resolves({ status: 'Complete', results: [] });
    const backend = testBackend({ logs: new CloudWatchLogsClient({ region: 'us-east-1' }) });
    await expect(trace(backend, target(), given, { journalPath: '/x' })).rejects.toThrow(
      `no event with id ${given} (stored as ${stored})`,
    );
    expect(logs.commandCalls(StartQueryCommand)[0]?.args[0].input.queryString).toContain(
      `filter id = "${stored}"`,
    );
  });

  it("shows the tenant a job was queued under, from the jobs endpoint's deployed line and from local mode's journal", async () => {
    const line = {
      level: 'INFO',
      message: 'job enqueued',
      outcome: 'queued',
      id: 'job-fair',
      source: 'job',
      type: 'report.build',
      queue: 'events',
      status: 202,
      tenants: { events: 'acme' },
    };
    const deployed = insightsRow(
      row({
        '@timestamp': '2026-11-30 10:00:00.000',
        '@message': JSON.stringify(line),
        message: 'job enqueued',
        outcome: 'queued',
        id: 'job-fair',
        source: 'job',
        type: 'report.build',
        queue: 'events',
        'tenants.events': 'acme',
        status: '202',
      }),
    );
    expect(buildTimeline('job-fair', [deployed]).steps.find((s) => s.step === 'queued')).toMatchObject({
      queues: ['events'],
      tenant: 'acme',
    });
    const dir = mkdtempSync(join(tmpdir(), 'hookline-trace-job-tenant-'));
    const journalPath = join(dir, 'journal.jsonl');
    const local = parseOutcomeLine(JSON.stringify(line), 'jobs-endpoint');
    writeFileSync(journalPath, `${JSON.stringify({ ...local, at: '2026-11-30T10:00:00.000Z' })}\n`);
    try {
      const result = await trace(testBackend(), localTestTarget(), 'job-fair', { journalPath });
      const output = recordingOutput();
      renderTrace(output, result);
      expect(output.lines.join('\n')).toMatch(/queued +-> events tenant=acme$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads the generation of a deployed consumer's outcome line, and asks Logs Insights for it", () => {
    const read = insightsRow(
      row({ '@timestamp': '2026-11-30 10:00:01.000', message: 'record outcome', id: 'j', generation: 'g-2' }),
    );
    expect(read.generation).toBe('g-2');
    expect(traceQuery('j')).toMatch(/^fields [^|]*\bgeneration\b/);
  });

  it("shows both enqueues of a reused id when the jobs endpoint logged the first, with the record's schedule only on the newest", () => {
    const endpoint: OutcomeRow = {
      at: at(1),
      kind: 'job',
      outcome: 'queued',
      id: 'j',
      source: 'job',
      queue: 'jobs',
      status: 202,
    };
    const later: OutcomeRow = { ...attempt, at: at(40) };
    const result = withJobRecord(
      buildTimeline('j', [endpoint, attempt, later]),
      record({ enqueuedAt: at(30), scheduleName: 'Hookline-job-2' }),
      { endpointSearched: true },
    );
    expect(result.steps.map((s) => [s.at, s.step, s.scheduleName])).toEqual([
      [at(1), 'received', undefined],
      [at(1), 'queued', undefined],
      [at(5), 'attempt', undefined],
      [at(30), 'queued', 'Hookline-job-2'],
      [at(40), 'attempt', undefined],
    ]);
    expect(result.notes).toBeUndefined();
  });

  it('ends a delayed job that is not due yet with its due time, after its schedule', () => {
    const result = withJobRecord(
      buildTimeline('j', []),
      record({ state: 'scheduled', dueAt: at(30), scheduleName: 'Hookline-job-1' }),
      { endpointSearched: true },
    );
    expect(result).toMatchObject({ source: 'job', type: 'email.welcome', job: { state: 'scheduled' } });
    expect(result.steps).toEqual([
      {
        at: at(1),
        step: 'scheduled',
        queues: ['jobs'],
        dueAt: at(30),
        scheduleName: 'Hookline-job-1',
        via: 'producer',
      },
      { at: at(30), step: 'due', queues: ['jobs'], pending: true },
    ]);
  });

  it('ends a delayed job Scheduler gave up on with its dead-lettering in the job_schedules queue', () => {
    const reason = 'EventBridge Scheduler could not deliver it to its queue (AccessDenied)';
    const result = withJobRecord(
      buildTimeline('j', []),
      record({ state: 'dead-lettered', dueAt: at(30), scheduleName: 'Hookline-job-1', reason }),
      { endpointSearched: true },
    );
    expect(result.steps.map((s) => s.step)).toEqual(['scheduled', 'dead-lettered']);
    expect(result.steps[1]).toEqual({
      at: at(30),
      step: 'dead-lettered',
      queue: 'job_schedules',
      error: reason,
      inferred: true,
    });
    expect(result.job).toEqual({ state: 'dead-lettered', reason });
  });

  it("keeps the jobs endpoint's reception as the start, adding the schedule only its record names", () => {
    const endpoint: OutcomeRow = {
      at: at(1),
      kind: 'job',
      outcome: 'scheduled',
      id: 'j',
      source: 'job',
      type: 'email.welcome',
      queue: 'jobs',
      status: 202,
      dueAt: at(30),
    };
    const result = withJobRecord(
      buildTimeline('j', [endpoint]),
      record({ state: 'scheduled', dueAt: at(30), scheduleName: 'Hookline-job-1' }),
      { endpointSearched: true },
    );
    expect(result.steps).toEqual([
      {
        at: at(1),
        step: 'received',
        via: 'jobs endpoint',
        type: 'email.welcome',
        status: 202,
        outcome: 'scheduled',
      },
      { at: at(1), step: 'scheduled', queues: ['jobs'], dueAt: at(30), scheduleName: 'Hookline-job-1' },
      { at: at(30), step: 'due', queues: ['jobs'], pending: true },
    ]);
  });

  it('says why the enqueue is not recorded when no line and no record give it, and nothing when a line does', () => {
    const attempts = buildTimeline('j', [attempt]);
    expect(withJobRecord(attempts, { kept: false }, { endpointSearched: true }).notes).toEqual([
      ENQUEUE_NOT_RECORDED_WITHOUT_DEDUPE,
    ]);
    expect(withJobRecord(attempts, { kept: true }, { endpointSearched: true }).notes).toEqual([
      ENQUEUE_NOT_RECORDED_WITHOUT_RECORD,
    ]);
    const fromEndpoint = buildTimeline('j', [
      { at: at(1), kind: 'job', outcome: 'queued', id: 'j', source: 'job', queue: 'jobs', status: 202 },
      attempt,
    ]);
    expect(withJobRecord(fromEndpoint, { kept: false }, { endpointSearched: true })).toEqual(fromEndpoint);
  });
});

describe('trace of a job on a deployed stack', () => {
  const withEndpoint = () => ({
    ...stackTarget(),
    logGroups: {
      ingest: '/aws/lambda/ingest',
      jobsEndpoint: '/aws/lambda/jobs-endpoint',
      consumers: { events: '/aws/lambda/events' },
    },
  });

  it("queries the jobs endpoint's log group for its line, and shows the job received over HTTP", async () => {
    logs.on(StartQueryCommand).resolves({ queryId: 'q-j' });
    logs.on(GetQueryResultsCommand).resolves({
      status: 'Complete',
      results: [
        row({
          '@timestamp': '2026-11-30 10:00:00.000',
          message: 'job enqueued',
          outcome: 'scheduled',
          id: 'job-1',
          source: 'job',
          type: 'email.reminder',
          queue: 'events',
          status: '202',
          dueAt: '2026-11-30T11:00:00.000Z',
        }),
      ],
    });
    const backend = testBackend({ logs: new CloudWatchLogsClient({ region: 'us-east-1' }) });
    const result = await trace(backend, withEndpoint(), 'job-1', {
      journalPath: '/x',
      readJob: async () => ({ kept: false }),
    });
    const start = logs.commandCalls(StartQueryCommand)[0]?.args[0].input;
    expect(start?.logGroupNames).toContain('/aws/lambda/jobs-endpoint');
    expect(start?.queryString).toContain('message = "job enqueued"');
    expect(result.steps).toEqual([
      {
        at: '2026-11-30T10:00:00.000Z',
        step: 'received',
        via: 'jobs endpoint',
        type: 'email.reminder',
        status: 202,
        outcome: 'scheduled',
      },
      {
        at: '2026-11-30T10:00:00.000Z',
        step: 'scheduled',
        queues: ['events'],
        dueAt: '2026-11-30T11:00:00.000Z',
      },
    ]);
  });

  it('receives a job the endpoint sent after answering its request 503 by its late line, saying the caller was told to retry', async () => {
    const fields = { id: 'job-late', source: 'job', type: 'math.double', queue: 'events', status: '503' };
    logs.on(StartQueryCommand).resolves({ queryId: 'q-late' });
    logs.on(GetQueryResultsCommand).resolves({
      status: 'Complete',
      results: [
        row({
          '@timestamp': '2026-11-30 10:00:03.000',
          message: 'job rejected',
          outcome: 'failed',
          ...fields,
          reason: 'deadline_enqueue',
        }),
        row({
          '@timestamp': '2026-11-30 10:00:04.000',
          message: 'job enqueued after its deadline',
          outcome: 'queued',
          ...fields,
          reason: 'deadline_enqueue',
        }),
        row({
          '@timestamp': '2026-11-30 10:00:05.000',
          message: 'record outcome',
          outcome: 'processed',
          id: 'job-late',
          source: 'job',
          queue: 'events',
          attempt: '1',
        }),
      ],
    });
    const backend = testBackend({ logs: new CloudWatchLogsClient({ region: 'us-east-1' }) });
    const result = await trace(backend, withEndpoint(), 'job-late', {
      journalPath: '/x',
      readJob: async () => ({
        kept: true,
        job: { id: 'job-late', state: 'completed', queue: 'events', enqueuedAt: '2026-11-30T10:00:04.000Z' },
      }),
    });

    const query = logs.commandCalls(StartQueryCommand)[0]?.args[0].input.queryString;
    expect(query).toContain('message = "job enqueued after its deadline"');
    expect(query).toContain('message = "job rejected"');
    // The late line is the job's reception: no enqueue is made up from the record as app code's.
    expect(result.steps.slice(0, 3)).toEqual([
      {
        at: '2026-11-30T10:00:03.000Z',
        step: 'received',
        via: 'jobs endpoint',
        type: 'math.double',
        status: 503,
        outcome: 'failed',
        error: 'deadline_enqueue',
      },
      {
        at: '2026-11-30T10:00:04.000Z',
        step: 'received',
        via: 'jobs endpoint',
        type: 'math.double',
        status: 503,
        outcome: 'queued',
        sentAfter503: true,
        error: 'deadline_enqueue',
      },
      { at: '2026-11-30T10:00:04.000Z', step: 'queued', queues: ['events'] },
    ]);
    expect(result.steps.some((s) => s.via === 'producer')).toBe(false);
    const output = recordingOutput();
    renderTrace(output, result);
    expect(output.lines.join('\n')).toMatch(
      /received +via jobs endpoint queued status=503 sent after its 503: the caller was told to retry deadline_enqueue$/m,
    );
  });

  it("receives a job sent after its request's 503 from local mode's journal too", async () => {
    const line = {
      level: 'WARN',
      message: 'job enqueued after its deadline',
      outcome: 'queued',
      id: 'job-late-local',
      source: 'job',
      type: 'math.double',
      queue: 'jobs',
      state: 'queued',
      status: 503,
      reason: 'deadline_enqueue',
    };
    const local = parseOutcomeLine(JSON.stringify(line), 'jobs-endpoint');
    expect(local).toMatchObject({ event: 'queued', via: 'jobs endpoint', sentAfter503: true, status: 503 });
    const dir = mkdtempSync(join(tmpdir(), 'hookline-trace-job-late-'));
    const journalPath = join(dir, 'journal.jsonl');
    writeFileSync(journalPath, `${JSON.stringify({ ...local, at: '2026-11-30T10:00:04.000Z' })}\n`);
    try {
      const result = await trace(testBackend(), localTestTarget(), 'job-late-local', { journalPath });
      expect(result.steps[0]).toMatchObject({
        step: 'received',
        via: 'jobs endpoint',
        outcome: 'queued',
        status: 503,
        sentAfter503: true,
      });
      expect(result.steps[1]).toMatchObject({ step: 'queued', queues: ['jobs'] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("shows a job's lines and says, in the operator's terms, why its record could not be read", async () => {
    logs.on(StartQueryCommand).resolves({ queryId: 'q-r' });
    logs.on(GetQueryResultsCommand).resolves({
      status: 'Complete',
      results: [
        row({
          '@timestamp': '2026-11-30 10:00:05.000',
          message: 'record outcome',
          outcome: 'processed',
          id: 'job-2',
          source: 'job',
          queue: 'events',
          attempt: '1',
        }),
      ],
    });
    const backend = testBackend({ logs: new CloudWatchLogsClient({ region: 'us-east-1' }) });
    const denied = Object.assign(new Error('not authorized to perform: dynamodb:GetItem'), {
      name: 'AccessDeniedException',
    });
    const result = await trace(backend, withEndpoint(), 'job-2', {
      journalPath: '/x',
      readJob: async () => {
        throw denied;
      },
    });
    expect(result.steps.map((s) => s.step)).toEqual(['attempt']);
    expect(result.notes).toEqual([
      "the job's record could not be read (access denied in stack Hookline in us-east-1: not authorized to perform: dynamodb:GetItem (grant that permission to your AWS identity)): its enqueue, due time and state are not shown",
    ]);
  });

  it('does not read job records for a webhook, and says dedupe is off when an id has no line and no record', async () => {
    logs.on(StartQueryCommand).resolves({ queryId: 'q-k' });
    logs.on(GetQueryResultsCommand).resolves({ status: 'Complete', results: LINES });
    const backend = testBackend({ logs: new CloudWatchLogsClient({ region: 'us-east-1' }) });
    const looked: string[] = [];
    const readJob = async (id: string): Promise<JobRecordLookup> => {
      looked.push(id);
      return { kept: false };
    };
    await trace(backend, withEndpoint(), 'e1', { journalPath: '/x', readJob });
    expect(looked).toEqual([]);
    logs.on(GetQueryResultsCommand).resolves({ status: 'Complete', results: [] });
    await expect(trace(backend, withEndpoint(), 'nope', { journalPath: '/x', readJob })).rejects.toThrow(
      `if it is a job, ${ENQUEUE_NOT_RECORDED_WITHOUT_DEDUPE}`,
    );
    expect(looked).toEqual(['nope']);
  });
});

describe("a job's timeline from its record, on a deployed stack", () => {
  const attemptLine = row({
    '@timestamp': '2026-11-30 10:00:05.000',
    message: 'record outcome',
    outcome: 'processed',
    id: 'job-3',
    source: 'job',
    queue: 'events',
    attempt: '1',
  });
  const readJob = async (): Promise<JobRecordLookup> => ({
    kept: true,
    job: { id: 'job-3', state: 'completed', queue: 'events', enqueuedAt: '2026-11-30T10:00:00.000Z' },
  });

  it("names the producer as the sender only where the jobs endpoint's lines were searched", async () => {
    logs.on(StartQueryCommand).resolves({ queryId: 'q-p' });
    logs.on(GetQueryResultsCommand).resolves({ status: 'Complete', results: [attemptLine] });
    const backend = testBackend({ logs: new CloudWatchLogsClient({ region: 'us-east-1' }) });
    const before = await trace(backend, target(), 'job-3', { journalPath: '/x', readJob });
    expect(before.steps[0]).toEqual({ at: '2026-11-30T10:00:00.000Z', step: 'queued', queues: ['events'] });
    const withEndpoint = {
      ...target(),
      logGroups: { ...target().logGroups, jobsEndpoint: '/aws/lambda/jobs-endpoint' },
    };
    const after = await trace(backend, withEndpoint, 'job-3', { journalPath: '/x', readJob });
    expect(after.steps[0]).toMatchObject({ step: 'queued', via: 'producer' });
  });
});

describe('what each outcome line adds to a timeline', () => {
  const at = (second: number) => `2026-11-30T10:00:${String(second).padStart(2, '0')}.000Z`;

  it('queues nothing for a webhook or job that was not queued, and keeps the reason it was refused', () => {
    const result = buildTimeline('e', [
      {
        at: at(1),
        kind: 'ingest',
        outcome: 'rejected',
        id: 'e',
        source: 's',
        status: 401,
        reason: 'bad signature',
      },
      { at: at(2), kind: 'ingest', outcome: 'duplicate', id: 'e', source: 's', status: 200, queue: 'events' },
      { at: at(3), kind: 'job', outcome: 'duplicate', id: 'e', source: 'job', status: 200, queue: 'events' },
    ]);
    expect(result.steps).toEqual([
      { at: at(1), step: 'received', source: 's', status: 401, outcome: 'rejected', error: 'bad signature' },
      { at: at(2), step: 'received', source: 's', status: 200, outcome: 'duplicate' },
      { at: at(3), step: 'received', via: 'jobs endpoint', status: 200, outcome: 'duplicate' },
    ]);
  });

  it("shows a schedule's firing recorded by local mode, and marks a redrive and a replay as inferred", () => {
    const result = buildTimeline('e', [
      {
        at: at(1),
        kind: 'scheduled',
        id: 'e',
        source: 'schedule',
        type: 'schedule.heartbeat',
        queue: 'events',
      },
      {
        at: at(2),
        kind: 'consumer',
        outcome: 'dead-lettered',
        id: 'e',
        queue: 'events',
        attempt: 1,
        reason: 'E',
      },
      { at: at(3), kind: 'consumer', outcome: 'processed', id: 'e', queue: 'events', attempt: 1 },
      {
        at: at(4),
        kind: 'consumer',
        outcome: 'processed',
        id: 'e',
        queue: 'events',
        attempt: 1,
        replayId: 'r',
      },
    ]);
    expect(result.steps.filter((s) => s.step !== 'attempt')).toEqual([
      { at: at(1), step: 'scheduled', source: 'schedule', type: 'schedule.heartbeat', queues: ['events'] },
      { at: at(2), step: 'dead-lettered', queue: 'events', error: 'E' },
      { at: at(3), step: 'redriven', queue: 'events', inferred: true },
      { at: at(4), step: 'replayed', queues: ['events'], replayId: 'r', inferred: true },
    ]);
  });
});

describe('a timeline of replay runs recorded by local mode', () => {
  const at = (second: number) => `2026-11-30T10:00:${String(second).padStart(2, '0')}.000Z`;

  it('shows each run once, where local mode recorded it, naming every queue it sent the event to', () => {
    const result = buildTimeline('e', [
      { at: at(1), kind: 'replayed', id: 'e', source: 's', queue: 'events', replayId: 'r-1' },
      { at: at(1), kind: 'replayed', id: 'e', source: 's', queue: 'audit', replayId: 'r-1' },
      {
        at: at(2),
        kind: 'consumer',
        outcome: 'processed',
        id: 'e',
        queue: 'events',
        attempt: 1,
        replayId: 'r-1',
      },
      { at: at(3), kind: 'replayed', id: 'e', source: 's', queue: 'events', replayId: 'r-2' },
      { at: at(4), kind: 'replayed', id: 'e', source: 's', queue: 'events' },
    ]);
    expect(result.steps).toEqual([
      { at: at(1), step: 'replayed', queues: ['events', 'audit'], replayId: 'r-1' },
      { at: at(2), step: 'attempt', queue: 'events', attempt: 1, outcome: 'processed', replayId: 'r-1' },
      { at: at(3), step: 'replayed', queues: ['events'], replayId: 'r-2' },
    ]);
  });

  it('names every queue a run reached when only the attempts show it (deployed: a replay logs no line)', () => {
    const attempt = (second: number, queue: string): OutcomeRow => ({
      at: at(second),
      kind: 'consumer',
      outcome: 'processed',
      id: 'e',
      queue,
      attempt: 1,
      replayId: 'r-1',
    });
    const result = buildTimeline('e', [attempt(1, 'audit'), attempt(2, 'events')]);
    expect(result.steps.filter((s) => s.step === 'replayed')).toEqual([
      { at: at(1), step: 'replayed', queues: ['audit', 'events'], replayId: 'r-1', inferred: true },
    ]);
  });
});

describe('how a job timeline ends', () => {
  const at = (minute: number) => `2026-11-30T10:${String(minute).padStart(2, '0')}:00.000Z`;
  const attempt: OutcomeRow = {
    at: at(30),
    kind: 'consumer',
    outcome: 'dead-lettered',
    id: 'j',
    source: 'job',
    queue: 'jobs',
    attempt: 3,
    reason: 'Error: bad input',
  };
  const job = (fields: Partial<JobStatus>): JobRecordLookup => ({
    kept: true,
    job: {
      id: 'j',
      state: 'completed',
      queue: 'jobs',
      enqueuedAt: at(1),
      dueAt: at(30),
      scheduleName: 'Hookline-job-1',
      ...fields,
    },
  });

  it('shows no pending due time for a delayed job that already ran', () => {
    const done = withJobRecord(
      buildTimeline('j', [{ ...attempt, outcome: 'processed', reason: undefined }]),
      job({}),
      {
        endpointSearched: true,
      },
    );
    expect(done.steps.map((s) => s.step)).toEqual(['scheduled', 'attempt']);
    expect(done.job).toEqual({ state: 'completed' });
  });

  it('does not blame Scheduler for a delayed job its consumer dead-lettered', () => {
    const reason = 'Error: bad input';
    const dead = withJobRecord(buildTimeline('j', [attempt]), job({ state: 'dead-lettered', reason }), {
      endpointSearched: true,
    });
    expect(dead.steps.map((s) => [s.step, s.queue ?? s.queues?.join()])).toEqual([
      ['scheduled', 'jobs'],
      ['attempt', 'jobs'],
      ['dead-lettered', 'jobs'],
    ]);
    expect(dead.job).toEqual({ state: 'dead-lettered', reason });
  });
});

describe('a timeline of a redriven event', () => {
  const at = (second: number) => `2026-11-30T10:00:${String(second).padStart(2, '0')}.000Z`;

  it('shows one redrive before the first attempt after it, not before every later retry', () => {
    const result = buildTimeline('e', [
      { at: at(1), kind: 'ingest', outcome: 'queued', id: 'e', source: 's', queue: 'events', status: 202 },
      { at: at(2), kind: 'consumer', outcome: 'dead-lettered', id: 'e', queue: 'events', attempt: 1 },
      { at: at(3), kind: 'consumer', outcome: 'retried', id: 'e', queue: 'events', attempt: 1 },
      { at: at(4), kind: 'consumer', outcome: 'processed', id: 'e', queue: 'events', attempt: 2 },
    ]);
    expect(result.steps.map((s) => s.step)).toEqual([
      'received',
      'queued',
      'attempt',
      'dead-lettered',
      'redriven',
      'attempt',
      'attempt',
    ]);
  });

  it('gives an error only to attempts that failed, and lists only the queues it went to', () => {
    const result = buildTimeline('e', [
      { at: at(1), kind: 'ingest', outcome: 'queued', id: 'e', source: 's', queue: 'events,', status: 202 },
      { at: at(2), kind: 'consumer', outcome: 'retried', id: 'e', queue: 'events', reason: 'Error: boom' },
      { at: at(3), kind: 'consumer', outcome: 'duplicate', id: 'e', queue: 'events', reason: 'already done' },
    ]);
    expect(result.steps[1]).toEqual({ at: at(1), step: 'queued', queues: ['events'] });
    expect(result.steps.slice(2).map((s) => s.error)).toEqual(['Error: boom', undefined]);
  });
});
