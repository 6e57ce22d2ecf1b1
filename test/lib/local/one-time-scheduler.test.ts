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
    dataDir = mkdtempSync(join(tmpdir(), 'hookline-one-time-'));
    let now = Date.parse('2026-06-01T00:00:00Z');
    const held = heldSqs();
    const scheduler = await startOneTimeScheduler({
      sqs: held.sqs,
      queueUrlsByArn: { [QUEUE_ARN]: QUEUE_URL },
      dataDir,
      region: 'us-east-1',
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
    ['not a list', '{"name": "job-1"}', 'expected a list of schedules'],
    [
      'a schedule without its due time',
      '[{"name":"job-1","groupName":"default","expression":"at(2026-06-01T00:00:00)","targetArn":"a","input":"{}"}]',
      'schedule 1 has no valid dueAt',
    ],
  ])(
    'refuses to start on a schedules file with %s, naming the file and the fix, and leaves it as it was',
    async (_, content, reason) => {
      dataDir = mkdtempSync(join(tmpdir(), 'hookline-one-time-'));
      const file = join(dataDir, SCHEDULES_FILE);
      writeFileSync(file, content);
      const started = startOneTimeScheduler({
        sqs: heldSqs().sqs,
        queueUrlsByArn: { [QUEUE_ARN]: QUEUE_URL },
        dataDir,
        region: 'us-east-1',
      });
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
  it('refuses a schedule a web page posts, so no page the developer visits can send to a local queue', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'hookline-one-time-'));
    const held = heldSqs();
    const scheduler = await startOneTimeScheduler({
      sqs: held.sqs,
      queueUrlsByArn: { [QUEUE_ARN]: QUEUE_URL },
      region: 'us-east-1',
      now: () => Date.parse('2026-06-01T00:00:00Z'),
    });
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
