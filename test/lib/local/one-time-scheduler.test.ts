import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type OneTimeScheduleRecord,
  SCHEDULES_FILE,
  startOneTimeScheduler,
} from '../../../lib/local/scheduler';
import { LocalStartProblem } from '../../../lib/local/start-problem';
import { waitFor } from '../../helpers/wait-for';

const QUEUE_ARN = 'arn:aws:sqs:us-east-1:000000000000:OneTime-jobs';
const QUEUE_URL = 'http://127.0.0.1:1/000000000000/OneTime-jobs';

let dataDir: string;
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

/** A new data directory, removed after the test. */
const freshDataDir = () => mkdtempSync(join(tmpdir(), 'hookline-one-time-'));

/** Starts the stand-in sending through `sqs`, with the test's queue local; `options` adds to or overrides that. */
function startWith(sqs: SQSClient, options: Partial<Parameters<typeof startOneTimeScheduler>[0]> = {}) {
  return startOneTimeScheduler({
    sqs,
    queueUrlsByArn: { [QUEUE_ARN]: QUEUE_URL },
    region: 'us-east-1',
    ...options,
  });
}

/** A schedule as the stand-in saves it: job-1 of the default group, due at 2026-06-01T00:00:30, to the test's queue. */
const savedSchedule = (fields: Partial<OneTimeScheduleRecord> = {}): OneTimeScheduleRecord => ({
  name: 'job-1',
  groupName: 'default',
  expression: 'at(2026-06-01T00:00:30)',
  dueAt: Date.parse('2026-06-01T00:00:30Z'),
  targetArn: QUEUE_ARN,
  input: 'job-1',
  ...fields,
});

/** An SQS client whose sends wait until the test lets them go; it records what was sent. */
function heldSqs() {
  const sent: string[] = [];
  const waiting: (() => void)[] = [];
  const sqs = {
    send: (command: { input: { MessageBody?: string } }) =>
      new Promise<object>((done) => {
        waiting.push(() => {
          sent.push(command.input.MessageBody ?? '');
          done({});
        });
      }),
  } as unknown as SQSClient;
  const releaseAll = () => {
    for (const go of waiting.splice(0)) go();
  };
  return { sqs, sent, waiting, releaseAll };
}

const savedNames = () =>
  (JSON.parse(readFileSync(join(dataDir, SCHEDULES_FILE), 'utf8')) as OneTimeScheduleRecord[]).map(
    (s) => s.name,
  );

async function create(url: string, name: string, at: string): Promise<number> {
  const response = await fetch(`${url}/schedules/${name}`, {
    method: 'POST',
    body: JSON.stringify({ ScheduleExpression: `at(${at})`, Target: { Arn: QUEUE_ARN, Input: name } }),
  });
  return response.status;
}

describe('one-time job schedules saved in a data directory', () => {
  it('keeps a due schedule saved until its message is sent, so a crash meanwhile cannot lose it', async () => {
    dataDir = freshDataDir();
    let now = Date.parse('2026-06-01T00:00:00Z');
    const held = heldSqs();
    const scheduler = await startWith(held.sqs, {
      dataDir,
      now: () => now,
      tickMs: 10,
    });
    try {
      expect(await create(scheduler.url, 'due-first', '2026-06-01T00:00:30')).toBe(200);
      now = Date.parse('2026-06-01T00:01:00Z');
      await waitFor(() => held.waiting.length === 1, 5_000, 'the send of due-first');
      // Another producer call saves the file while due-first's message is still on its way.
      expect(await create(scheduler.url, 'later', '2026-06-02T00:00:00')).toBe(200);
      expect(savedNames().sort()).toEqual(['due-first', 'later']);
      // Ticks keep coming while the send is pending: the schedule is not sent a second time.
      await new Promise((r) => setTimeout(r, 100));
      expect(held.waiting).toHaveLength(1);

      held.releaseAll();
      await waitFor(() => savedNames().length === 1, 5_000, 'due-first removed');
      expect(savedNames()).toEqual(['later']);
      expect(held.sent).toEqual(['due-first']);
    } finally {
      held.releaseAll();
      await scheduler.stop();
    }
  });

  it.each([
    ['truncated JSON', '[{"name": "job-1", "groupName": "def', 'Unexpected end of JSON input|Unterminated'],
    // A payload that lost its quotes: the parser's own message would quote it.
    [
      'a bare word, without quoting the text around it',
      '[{"name":"job-1","input":card-4242424242424242}]',
      "^[^]*\\(Unexpected token 'c': not valid JSON\\)[^4]*$",
    ],
    ['not a list', '{"name": "job-1"}', 'expected a list of schedules'],
    [
      'a schedule without its due time',
      '[{"name":"job-1","groupName":"default","expression":"at(2026-06-01T00:00:00)","targetArn":"a","input":"{}"}]',
      'schedule 1 has no valid dueAt',
    ],
    [
      'a schedule without its name',
      '[{"groupName":"default","expression":"at(2026-06-01T00:00:00)","dueAt":1,"targetArn":"a","input":"{}"}]',
      'schedule 1 has no valid name',
    ],
    ['a null schedule', '[null]', 'schedule 1 has no valid name'],
  ])(
    'refuses to start on a schedules file with %s, naming the file and the fix, and leaves it as it was',
    async (_, content, reason) => {
      dataDir = freshDataDir();
      const file = join(dataDir, SCHEDULES_FILE);
      writeFileSync(file, content);
      const started = startWith(heldSqs().sqs, { dataDir });
      const error = await started.then(
        async (scheduler) => {
          await scheduler.stop();
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(LocalStartProblem);
      const message = (error as Error).message;
      expect(message).toContain(`${file} is unreadable (`);
      expect(message).toMatch(new RegExp(reason));
      expect(message).toContain('Repair it, or move it aside');
      expect(readFileSync(file, 'utf8')).toBe(content);
    },
  );
});

describe('the one-time scheduler stand-in', () => {
  it('listens on 127.0.0.1 only: another loopback address is refused', async () => {
    dataDir = freshDataDir();
    const scheduler = await startWith(heldSqs().sqs);
    try {
      const other = scheduler.url.replace('127.0.0.1', '127.0.0.2');
      const error = await fetch(`${other}/schedules/x`).then(
        () => undefined,
        (e: { cause?: { code?: string } }) => e.cause?.code,
      );
      expect(error).toBe('ECONNREFUSED');
      expect((await fetch(`${scheduler.url}/schedules/x`)).status).toBe(404);
    } finally {
      await scheduler.stop();
    }
  });

  it('refuses a schedule a web page posts, so no page the developer visits can send to a local queue', async () => {
    dataDir = freshDataDir();
    const held = heldSqs();
    const scheduler = await startWith(held.sqs, { now: () => Date.parse('2026-06-01T00:00:00Z') });
    try {
      // A cross-site "simple" request: text/plain needs no preflight, so only the Origin tells it apart.
      const response = await fetch(`${scheduler.url}/schedules/from-page`, {
        method: 'POST',
        headers: { origin: 'http://evil.example', 'content-type': 'text/plain' },
        body: JSON.stringify({
          ScheduleExpression: 'at(2026-06-01T00:00:00)',
          Target: { Arn: QUEUE_ARN, Input: 'x' },
        }),
      });
      expect(response.status).toBe(403);
      expect(scheduler.list()).toEqual([]);
      expect(await create(scheduler.url, 'from-producer', '2026-06-02T00:00:00')).toBe(200);
      expect(scheduler.list().map((s) => s.name)).toEqual(['from-producer']);
    } finally {
      await scheduler.stop();
    }
  });
});

describe('one-time schedules as the producer uses them', () => {
  /** An SQS client whose first `failures` sends throw, each with its `reasons` entry ('emulator busy' by default). */
  function flakySqs(failures: number, reasons: readonly string[] = []) {
    const sent: { body: string; groupId?: string; dedupeId?: string }[] = [];
    let calls = 0;
    const sqs = {
      send: async (command: {
        input: { MessageBody?: string; MessageGroupId?: string; MessageDeduplicationId?: string };
      }) => {
        calls += 1;
        if (calls <= failures) throw new Error(reasons[calls - 1] ?? 'emulator busy');
        sent.push({
          body: command.input.MessageBody ?? '',
          ...(command.input.MessageGroupId ? { groupId: command.input.MessageGroupId } : {}),
          ...(command.input.MessageDeduplicationId ? { dedupeId: command.input.MessageDeduplicationId } : {}),
        });
        return {};
      },
    } as unknown as SQSClient;
    return { sqs, sent, calls: () => calls };
  }

  const request = (url: string, method: string, path: string, body?: unknown) =>
    fetch(`${url}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

  it('refuses a second schedule of the same name in its group with ConflictException, keeping the first', async () => {
    dataDir = freshDataDir();
    const scheduler = await startWith(flakySqs(0).sqs, { now: () => Date.parse('2026-06-01T00:00:00Z') });
    try {
      expect(await create(scheduler.url, 'job-1', '2026-06-02T00:00:00')).toBe(200);
      const again = await request(scheduler.url, 'POST', '/schedules/job-1', {
        ScheduleExpression: 'at(2026-06-03T00:00:00)',
        Target: { Arn: QUEUE_ARN, Input: 'other' },
      });
      expect(again.status).toBe(409);
      expect(again.headers.get('x-amzn-errortype')).toBe('ConflictException');
      expect(await again.json()).toEqual({ Message: 'Schedule job-1 already exists.' });
      expect(scheduler.list()).toMatchObject([{ name: 'job-1', input: 'job-1' }]);
      const otherGroup = await request(scheduler.url, 'POST', '/schedules/job-1', {
        GroupName: 'jobs',
        ScheduleExpression: 'at(2026-06-03T00:00:00)',
        Target: { Arn: QUEUE_ARN, Input: 'other' },
      });
      expect(otherGroup.status).toBe(200);
      expect((await otherGroup.json()) as unknown).toEqual({
        ScheduleArn: 'arn:aws:scheduler:us-east-1:000000000000:schedule/jobs/job-1',
      });
      // The producer deletes a job's schedule in its group: that one goes, the default group's stays.
      expect((await request(scheduler.url, 'DELETE', '/schedules/job-1?groupName=jobs')).status).toBe(200);
      expect(scheduler.list()).toMatchObject([{ name: 'job-1', groupName: 'default', input: 'job-1' }]);
    } finally {
      await scheduler.stop();
    }
  });

  it('never sends a schedule deleted before its time, and answers ResourceNotFoundException for one it does not hold', async () => {
    dataDir = freshDataDir();
    let now = Date.parse('2026-06-01T00:00:00Z');
    const sqs = flakySqs(0);
    const scheduler = await startWith(sqs.sqs, {
      dataDir,
      now: () => now,
      tickMs: 10,
    });
    try {
      expect(await create(scheduler.url, 'job-1', '2026-06-01T00:00:30')).toBe(200);
      const held = await request(scheduler.url, 'GET', '/schedules/job-1');
      expect([held.status, await held.json()]).toEqual([
        200,
        {
          Name: 'job-1',
          GroupName: 'default',
          Arn: 'arn:aws:scheduler:us-east-1:000000000000:schedule/default/job-1',
          ScheduleExpression: 'at(2026-06-01T00:00:30)',
          ScheduleExpressionTimezone: 'UTC',
          ActionAfterCompletion: 'DELETE',
          State: 'ENABLED',
          FlexibleTimeWindow: { Mode: 'OFF' },
          Target: { Arn: QUEUE_ARN, Input: 'job-1', RoleArn: 'arn:aws:iam::000000000000:role/local' },
        },
      ]);
      // UpdateSchedule is not emulated: refused, and the schedule stays as it was.
      const update = await request(scheduler.url, 'PUT', '/schedules/job-1', {
        ScheduleExpression: 'at(2026-06-01T00:00:10)',
      });
      expect([update.status, update.headers.get('x-amzn-errortype')]).toEqual([405, 'ValidationException']);
      expect(scheduler.list()).toMatchObject([{ name: 'job-1', expression: 'at(2026-06-01T00:00:30)' }]);
      expect((await request(scheduler.url, 'DELETE', '/schedules/job-1')).status).toBe(200);
      // Deleted from the file too: a restart does not bring it back.
      expect(savedNames()).toEqual([]);
      now = Date.parse('2026-06-01T00:01:00Z');
      for (const method of ['GET', 'DELETE']) {
        const gone = await request(scheduler.url, method, '/schedules/job-1');
        expect(gone.status).toBe(404);
        expect(gone.headers.get('x-amzn-errortype')).toBe('ResourceNotFoundException');
      }
      // The schedule of another group is another schedule.
      const created = await request(scheduler.url, 'POST', '/schedules/job-2', {
        ScheduleExpression: 'at(2026-06-01T00:00:30)',
        Target: { Arn: QUEUE_ARN, Input: 'job-2', SqsParameters: { MessageGroupId: 'tenant-b' } },
      });
      expect(created.status).toBe(200);
      expect((await request(scheduler.url, 'GET', '/schedules/job-2?groupName=jobs')).status).toBe(404);
      await waitFor(() => sqs.sent.length > 0, 5_000, 'job-2 sent');
      expect(sqs.sent).toEqual([{ body: 'job-2', groupId: 'tenant-b', dedupeId: expect.any(String) }]);
    } finally {
      await scheduler.stop();
    }
  });

  it.each([
    ['a rate expression', { ScheduleExpression: 'rate(5 minutes)', Target: { Arn: QUEUE_ARN, Input: 'x' } }],
    [
      'another time zone',
      {
        ScheduleExpression: 'at(2026-06-02T00:00:00)',
        ScheduleExpressionTimezone: 'Europe/Paris',
        Target: { Arn: QUEUE_ARN, Input: 'x' },
      },
    ],
    [
      'a date that does not exist',
      { ScheduleExpression: 'at(2026-13-01T00:00:00)', Target: { Arn: QUEUE_ARN, Input: 'x' } },
    ],
    [
      'a target that is not a local queue',
      { ScheduleExpression: 'at(2026-06-02T00:00:00)', Target: { Arn: 'arn:x' } },
    ],
    ['no target', { ScheduleExpression: 'at(2026-06-02T00:00:00)' }],
    ['a body that is not JSON', '{'],
  ])('refuses a schedule with %s (ValidationException) and holds nothing', async (_, body) => {
    dataDir = freshDataDir();
    const scheduler = await startWith(flakySqs(0).sqs, { now: () => Date.parse('2026-06-01T00:00:00Z') });
    try {
      const response = await fetch(`${scheduler.url}/schedules/job-1`, {
        method: 'POST',
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      expect(response.status).toBe(400);
      expect(response.headers.get('x-amzn-errortype')).toBe('ValidationException');
      expect(scheduler.list()).toEqual([]);
      const elsewhere = await request(scheduler.url, 'POST', '/other', {});
      expect(elsewhere.status).toBe(404);
    } finally {
      await scheduler.stop();
    }
  });

  it('answers a malformed schedule name with ValidationException and keeps serving', async () => {
    dataDir = freshDataDir();
    const scheduler = await startWith(flakySqs(0).sqs, { now: () => Date.parse('2026-06-01T00:00:00Z') });
    try {
      for (const method of ['GET', 'DELETE', 'POST']) {
        const body =
          method === 'POST'
            ? { ScheduleExpression: 'at(2026-06-02T00:00:00)', Target: { Arn: QUEUE_ARN, Input: 'x' } }
            : undefined;
        const response = await request(scheduler.url, method, '/schedules/job%E0%A4%A', body);
        expect([method, response.status, response.headers.get('x-amzn-errortype')]).toEqual([
          method,
          400,
          'ValidationException',
        ]);
      }
      expect(scheduler.list()).toEqual([]);
      expect(await create(scheduler.url, 'job-1', '2026-06-02T00:00:00')).toBe(200);
    } finally {
      await scheduler.stop();
    }
  });

  it('reports a schedules file it cannot write after a send, rather than ending local mode', async () => {
    dataDir = freshDataDir();
    let now = Date.parse('2026-06-01T00:00:00Z');
    const sqs = flakySqs(0);
    const failures: string[] = [];
    const scheduler = await startWith(sqs.sqs, {
      dataDir,
      now: () => now,
      tickMs: 10,
      onError: (s, error) => failures.push(`${s.name}: ${(error as NodeJS.ErrnoException).code}`),
    });
    try {
      expect(await create(scheduler.url, 'job-1', '2026-06-01T00:00:30')).toBe(200);
      rmSync(dataDir, { recursive: true, force: true });
      writeFileSync(dataDir, '');
      now = Date.parse('2026-06-01T00:01:00Z');
      await waitFor(() => failures.length > 0, 5_000, 'the failed save reported');
      expect(sqs.sent.map((s) => s.body)).toEqual(['job-1']);
      expect(failures[0]).toMatch(/^job-1: E/);
    } finally {
      await scheduler.stop();
    }
  });

  it('answers 500 when the schedules file cannot be written, and keeps serving', async () => {
    dataDir = freshDataDir();
    const scheduler = await startWith(flakySqs(0).sqs, {
      dataDir,
      now: () => Date.parse('2026-06-01T00:00:00Z'),
    });
    try {
      // A file where the data directory was: nothing can be written there.
      rmSync(dataDir, { recursive: true, force: true });
      writeFileSync(dataDir, '');
      const failed = await request(scheduler.url, 'POST', '/schedules/job-1', {
        ScheduleExpression: 'at(2026-06-02T00:00:00)',
        Target: { Arn: QUEUE_ARN, Input: 'x' },
      });
      expect([failed.status, failed.headers.get('x-amzn-errortype')]).toEqual([
        500,
        'InternalServerException',
      ]);
      expect((await request(scheduler.url, 'GET', '/schedules/other')).status).toBe(404);
    } finally {
      await scheduler.stop();
    }
  });

  it('keeps a schedule created again under the same name while the first one was being sent, and stop waits for that send', async () => {
    dataDir = freshDataDir();
    let now = Date.parse('2026-06-01T00:00:00Z');
    const held = heldSqs();
    const scheduler = await startWith(held.sqs, {
      now: () => now,
      tickMs: 10,
    });
    let stopped = false;
    try {
      expect(await create(scheduler.url, 'job-1', '2026-06-01T00:00:30')).toBe(200);
      now = Date.parse('2026-06-01T00:01:00Z');
      await waitFor(() => held.waiting.length === 1, 5_000, 'the send of job-1');
      expect((await request(scheduler.url, 'DELETE', '/schedules/job-1')).status).toBe(200);
      expect(await create(scheduler.url, 'job-1', '2026-06-02T00:00:00')).toBe(200);
      const stopping = scheduler.stop().then(() => {
        stopped = true;
      });
      await new Promise((r) => setImmediate(r));
      expect(stopped).toBe(false);
      held.releaseAll();
      await stopping;
      expect(held.sent).toEqual(['job-1']);
      expect(scheduler.list()).toMatchObject([{ name: 'job-1', dueAt: Date.parse('2026-06-02T00:00:00Z') }]);
    } finally {
      held.releaseAll();
      if (!stopped) await scheduler.stop();
    }
  });

  it('tries a failed send again on the next tick, keeping the schedule until it is sent, and reports each new reason once', async () => {
    dataDir = freshDataDir();
    const sqs = flakySqs(5, [
      'emulator busy',
      'emulator busy',
      'emulator busy',
      'access denied',
      'access denied',
    ]);
    const failures: string[] = [];
    const scheduler = await startWith(sqs.sqs, {
      dataDir,
      now: () => Date.parse('2026-06-01T00:01:00Z'),
      tickMs: 10,
      onError: (s, error) => failures.push(`${s.name}: ${(error as Error).message}`),
    });
    try {
      expect(await create(scheduler.url, 'job-1', '2026-06-01T00:00:30')).toBe(200);
      await waitFor(() => sqs.sent.length > 0, 5_000, 'job-1 sent');
      expect(sqs.calls()).toBe(6);
      expect(failures).toEqual(['job-1: emulator busy', 'job-1: access denied']);
      expect(sqs.sent.map((s) => s.body)).toEqual(['job-1']);
      await waitFor(() => savedNames().length === 0, 5_000, 'job-1 removed once sent');
    } finally {
      await scheduler.stop();
    }
  });

  it('keeps and reports a saved schedule whose queue is no longer local, sending it nowhere', async () => {
    dataDir = freshDataDir();
    const gone = 'arn:aws:sqs:us-east-1:000000000000:OneTime-removed';
    writeFileSync(join(dataDir, SCHEDULES_FILE), JSON.stringify([savedSchedule({ targetArn: gone })]));
    const sqs = flakySqs(0);
    const failures: string[] = [];
    const scheduler = await startWith(sqs.sqs, {
      dataDir,
      now: () => Date.parse('2026-06-02T00:00:00Z'),
      tickMs: 3_600_000,
      onError: (s, error) => failures.push(`${s.name}: ${(error as Error).message}`),
    });
    try {
      await waitFor(() => failures.length > 0, 5_000, 'the failure reported');
      expect(failures).toEqual([`job-1: target ${gone} is no longer a local queue`]);
      expect(sqs.calls()).toBe(0);
      expect(savedNames()).toEqual(['job-1']);
    } finally {
      await scheduler.stop();
    }
  });

  it('sends at start a saved schedule that came due while local mode was stopped, to its FIFO group', async () => {
    dataDir = freshDataDir();
    writeFileSync(
      join(dataDir, SCHEDULES_FILE),
      JSON.stringify([savedSchedule({ messageGroupId: 'tenant-a' })]),
    );
    const sqs = flakySqs(0);
    const scheduler = await startWith(sqs.sqs, {
      dataDir,
      now: () => Date.parse('2026-06-02T00:00:00Z'),
      // No tick during the test: only the start's own look sends it.
      tickMs: 3_600_000,
    });
    try {
      await waitFor(() => sqs.sent.length > 0, 5_000, 'job-1 sent at start');
      expect(sqs.sent).toEqual([{ body: 'job-1', groupId: 'tenant-a', dedupeId: expect.any(String) }]);
    } finally {
      await scheduler.stop();
    }
  });
});
