/**
 * Ctrl-C on the real `hookline console --local` process while a job it started is moving messages: the job stops
 * at a safe point (nothing lost, nothing duplicated, held messages handed back), what it did is printed, and the
 * process exits at once instead of moving the rest of the dead-letter queue behind the operator's back.
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetQueueAttributesCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import exampleConfig from '../../hookline.config';
import { MESSAGE_ATTRIBUTES } from '../../lambda/shared/envelope';
import { type ResolvedConfig, resolveConfig } from '../../lib/config';
import { localSqsClient } from '../../lib/local/clients';
import { type LocalMode, startLocalMode } from '../../lib/local/local-mode';
import { Reporter } from '../../lib/local/reporter';
import { type ConsoleProcess, startConsoleProcess, stopConsoleProcess } from '../helpers/console-process';
import { waitFor } from '../helpers/wait-for';

const stateDir = mkdtempSync(join(tmpdir(), 'hookline-console-interrupt-'));
const buildDir = join(process.cwd(), '.hookline', 'build', `console-interrupt-${process.pid}`);
const config: ResolvedConfig = {
  ...resolveConfig({ ...exampleConfig, stackName: `ConsoleInterrupt${process.pid}` }),
  schedules: [],
};
const DEAD_LETTERS = 3000;
let local: LocalMode | undefined;
let sqs: SQSClient | undefined;
let consoleProcess: ConsoleProcess | undefined;

async function depth(url: string): Promise<{ visible: number; inFlight: number }> {
  const answer = await sqs?.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(answer?.Attributes?.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(answer?.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

async function seedDeadLetters(url: string, count: number): Promise<void> {
  const sends = [];
  for (let i = 0; i < count; i += 10) {
    sends.push(
      sqs?.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: Array.from({ length: Math.min(10, count - i) }, (_, n) => ({
            Id: String(n),
            MessageBody: JSON.stringify({
              v: 1,
              id: `dead-${i + n}`,
              source: 'stripe',
              type: 'invoice.paid',
            }),
            MessageAttributes: {
              [MESSAGE_ATTRIBUTES.eventId]: { DataType: 'String', StringValue: `dead-${i + n}` },
            },
          })),
        }),
      ),
    );
  }
  await Promise.all(sends);
}

beforeAll(async () => {
  local = await startLocalMode({
    config,
    port: 0,
    stateDir,
    reporter: new Reporter({ json: true, color: false, write: () => {} }),
    env: {},
    buildDir,
    waitTimeSeconds: 1,
  });
  sqs = localSqsClient(local.emulators);
  consoleProcess = startConsoleProcess(stateDir);
  await consoleProcess.url;
}, 180_000);

afterAll(async () => {
  stopConsoleProcess(consoleProcess);
  sqs?.destroy();
  await local?.stop();
  rmSync(stateDir, { recursive: true, force: true });
  rmSync(buildDir, { recursive: true, force: true });
}, 60_000);

describe('hookline console: Ctrl-C during a job it started', () => {
  it('stops a redrive between batches, hands back what it held, prints what it moved and exits', async () => {
    const queue = local?.topology.queues.events;
    if (!local || !queue || !consoleProcess) throw new Error('local mode did not start');
    // Paused, so what the redrive moves stays in the queue to be counted.
    expect(await local.pauseConsumer('events')).toBe(true);
    await seedDeadLetters(queue.deadLetterUrl, DEAD_LETTERS);
    const url = await consoleProcess.url;
    const token = url.searchParams.get('token') ?? '';
    const api = async (path: string, init: RequestInit = {}) => {
      const answer = await fetch(new URL(path, url.origin), {
        ...init,
        headers: { 'x-hookline-token': token, 'content-type': 'application/json' },
      });
      expect(answer.status).toBe(200);
      return (await answer.json()) as { id: string; progress: { done: number } | null; state: string };
    };
    const job = await api('/api/queues/events/redrive', { method: 'POST', body: '{}' });
    await waitFor(
      async () => ((await api(`/api/jobs/${job.id}`)).progress?.done ?? 0) > 0,
      30_000,
      'the redrive to move its first messages',
    );

    const exited = once(consoleProcess.child, 'exit');
    stopConsoleProcess(consoleProcess);
    const started = Date.now();
    const [code] = (await exited) as [number | null];
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(code).toBe(130);

    const { stdout, stderr } = consoleProcess.output();
    expect(stderr).toMatch(/stopping: 1 running job stops at its next safe point/);
    const moved = Number(/moved (\d+), skipped 0, failed 0/.exec(stdout)?.[1]);
    expect(stdout).toContain('redrive events: all: stopped by Ctrl-C');
    expect(moved).toBeGreaterThan(0);
    expect(moved).toBeLessThan(DEAD_LETTERS);
    expect(stdout).toContain(`left in the dead-letter queue: ${DEAD_LETTERS - moved}`);
    // Nothing lost, nothing duplicated, nothing left hidden: every message is in exactly one of the two queues.
    expect(await depth(queue.url)).toEqual({ visible: moved, inFlight: 0 });
    expect(await depth(queue.deadLetterUrl)).toEqual({ visible: DEAD_LETTERS - moved, inFlight: 0 });
  }, 180_000);
});
