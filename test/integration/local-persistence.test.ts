import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetQueueAttributesCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { Duration } from 'aws-cdk-lib';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { localSqsClient } from '../../lib/local/clients';
import { parseJournal } from '../../lib/local/journal';
import { JOURNAL_FILE_NAME, parseLocalState, STATE_FILE_NAME } from '../../lib/local/state-file';
import { type CliRun, runHooklineInProcess } from '../helpers/local/cli';
import { recordingQueue, startTestPipeline, type TestPipeline, testConfig } from '../helpers/local/pipeline';

describe('local mode with a data directory (HOOKLINE_DATA_DIR)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hookline-data-'));
  const recordDir = mkdtempSync(join(tmpdir(), 'hookline-records-'));
  const stateDir = mkdtempSync(join(tmpdir(), 'hookline-state-'));
  afterAll(() => {
    for (const dir of [dataDir, recordDir, stateDir]) rmSync(dir, { recursive: true, force: true });
  });
  /** What the CLI reads: the state file's consumer states, and the journal's events for one id. */
  const consumerState = () =>
    parseLocalState(JSON.parse(readFileSync(join(stateDir, STATE_FILE_NAME), 'utf8'))).consumers.events
      ?.state;
  const journaled = (id: string) =>
    parseJournal(readFileSync(join(stateDir, JOURNAL_FILE_NAME), 'utf8'))
      .filter((e) => e.id === id)
      .map((e) => e.event);

  it('keeps a queued webhook and the pause across a restart, and processes the webhook once resumed', async () => {
    const config = testConfig({ events: recordingQueue() });
    const id = `persisted-${randomUUID()}`;

    const first = await startTestPipeline(config, { dataDir, recordDir, stateDir });
    try {
      expect(await first.local.pauseConsumer('events')).toBe(true);
      expect(consumerState()).toBe('Disabled');
      expect((await first.post('generic', { id, type: 'kept.across.restart' })).status).toBe(202);
    } finally {
      await first.stop();
    }
    // The data directory keeps the message: stopping discards nothing, so it says nothing of discarding.
    expect(first.output).not.toContainEqual(expect.stringContaining('discarding'));
    expect(first.sideEffects().some((e) => e.id === id)).toBe(false);
    // A clean stop removes the state file, so the CLI does not take the stopped local mode for a running one.
    expect(existsSync(join(stateDir, STATE_FILE_NAME))).toBe(false);
    expect(journaled(id)).toEqual(['queued']);

    const second = await startTestPipeline(config, {
      dataDir,
      recordDir,
      stateDir,
      configFile: 'configs/staging.config.ts',
    });
    try {
      // The pause was saved in the data dir: the consumer starts paused and the webhook waits for a resume.
      expect(consumerState()).toBe('Disabled');
      expect(second.output).toContainEqual(expect.stringContaining('consumer events is paused (saved in '));
      // Its command carries the configuration local mode was started with, as every hint of the CLI does.
      expect(second.output).toContainEqual(
        expect.stringContaining(
          'resume it with hookline resume events --local --config configs/staging.config.ts',
        ),
      );
      await new Promise((r) => setTimeout(r, 1_500));
      expect(second.sideEffects().some((e) => e.id === id)).toBe(false);
      expect(second.local.setConsumerEnabled('events', true)).toBe('Enabled');
      expect(consumerState()).toBe('Enabled');
      await second.waitFor(
        () => second.sideEffects().some((e) => e.id === id),
        20_000,
        'the persisted event',
      );
      expect(second.sideEffects().filter((e) => e.id === id)).toEqual([{ id, attempt: 1 }]);
      // The journal kept the first run's line with the persisted queue: trace shows the whole story, once.
      await second.waitFor(() => journaled(id).length === 2, 10_000, 'the journal line');
      expect(journaled(id)).toEqual(['queued', 'processed']);
      // The dedupe table persisted too: the same delivery sent again is recognised as a duplicate.
      expect((await second.post('generic', { id, type: 'kept.across.restart' })).status).toBe(202);
      await second.waitFor(
        () => second.events.some((e) => e.event === 'duplicate' && e.id === id),
        10_000,
        'the duplicate outcome',
      );
    } finally {
      await second.stop();
    }
  }, 90_000);

  it('says at a stop which batch it waits for, journals it unfinished, and runs it again after the restart', async () => {
    const config = testConfig({ events: recordingQueue({}, { timeout: Duration.seconds(3) }) });
    const id = `in-flight-${randomUUID()}`;
    const attempts = (run: TestPipeline) =>
      run
        .poisonAttempts()
        .filter((a) => a.id === id)
        .map((a) => a.attempt);

    const first = await startTestPipeline(config, { dataDir, recordDir, stateDir });
    try {
      expect((await first.post('generic', { id, type: 'test.stall' })).status).toBe(202);
      // The handler never settles: its batch is still running when the stop begins, until its timeout.
      await first.waitFor(() => attempts(first).length === 1, 20_000, 'the running attempt');
    } finally {
      await first.stop();
    }
    const lines = first.output.map(
      (line) => JSON.parse(line) as { event?: string; message?: string; id?: string },
    );
    const waiting = lines.findIndex(
      (l) =>
        l.message ===
        'stopping: waiting for 1 batch in flight on consumer events to finish (at most its 3 s timeout)',
    );
    expect(waiting).toBeGreaterThan(-1);
    expect(waiting).toBeLessThan(lines.findIndex((l) => l.event === 'retried' && l.id === id));
    // Not processed: the journal says the record came back, and the restart runs it again.
    expect(journaled(id)).toEqual(['queued', 'retried']);

    const second = await startTestPipeline(config, { dataDir, recordDir, stateDir });
    try {
      await second.waitFor(() => attempts(second).includes(2), 20_000, 'the attempt after the restart');
    } finally {
      await second.stop();
    }
    expect(attempts(second).slice(0, 2)).toEqual([1, 2]);
  }, 90_000);

  it('says which accepted webhooks an in-memory stop discards, and how to keep them', async () => {
    const pipeline = await startTestPipeline(testConfig({ events: recordingQueue() }));
    try {
      expect(await pipeline.local.pauseConsumer('events')).toBe(true);
      for (const n of [1, 2]) {
        const id = `discarded-${n}-${randomUUID()}`;
        expect((await pipeline.post('generic', { id, type: 'lost.on.stop' })).status).toBe(202);
      }
    } finally {
      await pipeline.stop();
    }
    expect(pipeline.output).toContainEqual(
      expect.stringContaining(
        'discarding 2 messages kept only in memory (events: 2 queued); to keep messages across a restart, start with HOOKLINE_DATA_DIR set',
      ),
    );
  }, 60_000);

  it('names a renamed queue that still holds accepted webhooks at the next start and in status, with its count', async () => {
    const ownDir = mkdtempSync(join(tmpdir(), 'hookline-data-'));
    try {
      const before = testConfig({ events: recordingQueue() });
      const first = await startTestPipeline(before, { dataDir: ownDir });
      try {
        expect(await first.local.pauseConsumer('events')).toBe(true);
        expect((await first.post('generic', { id: `renamed-${randomUUID()}`, type: 'x' })).status).toBe(202);
      } finally {
        await first.stop();
      }
      // The same data directory with the queue renamed: nothing polls the old queue any more.
      const stateDir = join(ownDir, 'state');
      const second = await startTestPipeline(testConfig({ inbox: recordingQueue() }), {
        dataDir: ownDir,
        stateDir,
      });
      let text: CliRun;
      let json: CliRun;
      try {
        // Long after the start line scrolled away, status still says where the accepted webhook is.
        [text, json] = await Promise.all([
          runHooklineInProcess(stateDir, ['status', '--local']),
          runHooklineInProcess(stateDir, ['status', '--local', '--json']),
        ]);
      } finally {
        await second.stop();
      }
      expect(text.stdout).toContain(
        `the data directory ${ownDir} holds messages in queues the configuration does not have, which nothing processes: ${before.stackName}-events (1).`,
      );
      expect(JSON.parse(json.stdout).unconfiguredQueues).toEqual({
        dataDir: ownDir,
        queues: [{ name: `${before.stackName}-events`, messages: 1 }],
      });
      expect(second.output).toContainEqual(
        expect.stringContaining(
          `holds messages in queues the configuration does not have, which nothing processes: ${before.stackName}-events (1).`,
        ),
      );
      // The renamed queue's dead-letter queue is empty, and the configured ones are not named.
      expect(second.output.join('\n')).not.toMatch(/-dlq \(|-inbox \(/);
    } finally {
      rmSync(ownDir, { recursive: true, force: true });
    }
  }, 90_000);

  it("announces at a restart a dead letter the redrive policy moved that is past its expiry alarm's age", async () => {
    const ownDir = mkdtempSync(join(tmpdir(), 'hookline-data-'));
    // Its dead letters live 2 minutes (22 - 20), so the expiry alarm fires at 1 minute.
    const config = testConfig({
      events: recordingQueue({
        retentionPeriod: Duration.minutes(20),
        deadLetterRetentionPeriod: Duration.minutes(22),
        oldestMessageAgeAlarm: Duration.minutes(1),
      }),
    });
    const expiring = (pipeline: TestPipeline) =>
      pipeline.output
        .map((line) => JSON.parse(line) as { event: string; alarm?: string; queue?: string; state?: string })
        .filter((line) => line.event === 'alarm' && line.alarm === 'dead-letters-expiring');
    try {
      const first = await startTestPipeline(config, { dataDir: ownDir, stateDir: join(ownDir, 'state') });
      const sqs = localSqsClient(first.local.emulators);
      try {
        expect(await first.local.pauseConsumer('events')).toBe(true);
        const QueueUrl = first.local.topology.queues.events?.url ?? '';
        await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: '{"crashes":"every time"}' }));
        // Received maxReceiveCount (3) times and never deleted, as by a consumer that crashes: the fourth receive
        // moves it, received 4 times, none of them in the dead-letter queue.
        for (let receive = 1; receive <= 4; receive++)
          await sqs.send(new ReceiveMessageCommand({ QueueUrl, VisibilityTimeout: 0 }));
        const depth = await sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: first.local.topology.queues.events?.deadLetterUrl,
            AttributeNames: ['ApproximateNumberOfMessages'],
          }),
        );
        expect(depth.Attributes?.ApproximateNumberOfMessages).toBe('1');
      } finally {
        sqs.destroy();
        await first.stop();
      }
      expect(expiring(first)).toEqual([]);
      // Three minutes on (local mode's clock; the emulator thread keeps the real one): past the alarm's minute.
      const real = Date.now.bind(Date);
      vi.spyOn(Date, 'now').mockImplementation(() => real() + 180_000);
      const second = await startTestPipeline(config, { dataDir: ownDir, stateDir: join(ownDir, 'state') });
      try {
        await second.waitFor(
          () => expiring(second).length > 0,
          30_000,
          'the expiry alarm of the moved letter',
        );
        expect(expiring(second)).toMatchObject([{ queue: 'events', state: 'ALARM' }]);
      } finally {
        await second.stop();
      }
    } finally {
      vi.restoreAllMocks();
      rmSync(ownDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('answers the queue rows without naming strays when the data directory has none, or when looking for them fails', async () => {
    const ownDir = mkdtempSync(join(tmpdir(), 'hookline-data-'));
    const pipeline = await startTestPipeline(testConfig({ events: recordingQueue() }), { dataDir: ownDir });
    const queues = async () => {
      const answer = await fetch(`${pipeline.local.url}/_hookline/queues`);
      return { status: answer.status, body: (await answer.json()) as Record<string, unknown> };
    };
    try {
      const none = await queues();
      expect(none.status).toBe(200);
      expect(none.body).not.toHaveProperty('unconfiguredQueues');
      // The look for strays lists the emulator's queues; a failure there must not take status and the overview down.
      const send = SQSClient.prototype.send;
      const failing = vi.spyOn(SQSClient.prototype, 'send').mockImplementation(function (
        this: SQSClient,
        ...args: Parameters<typeof send>
      ) {
        if (args[0] instanceof ListQueuesCommand) return Promise.reject(new Error('ListQueues failed'));
        return send.apply(this, args);
      } as typeof send);
      try {
        const failed = await queues();
        expect(failed.status).toBe(200);
        expect(failed.body.queues).toEqual(none.body.queues);
        expect(failed.body).not.toHaveProperty('unconfiguredQueues');
        expect(failing.mock.calls.some(([command]) => command instanceof ListQueuesCommand)).toBe(true);
      } finally {
        failing.mockRestore();
      }
    } finally {
      await pipeline.stop();
      rmSync(ownDir, { recursive: true, force: true });
    }
  }, 60_000);
});
