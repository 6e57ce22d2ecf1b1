import { randomUUID } from 'node:crypto';
import { ReceiveMessageCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { Duration } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAILURE_ATTRIBUTES, parseEnvelope } from '../../lambda/shared/envelope';
import { localSqsClient } from '../../lib/local/clients';
import { Reporter } from '../../lib/local/reporter';
import { recordingQueue, startTestPipeline, type TestPipeline, testConfig } from '../helpers/local/pipeline';

describe('local mode end to end (real HTTP, emulators, ingest and consumer runtime)', () => {
  let pipeline: TestPipeline;
  let sqs: SQSClient;

  beforeAll(async () => {
    // A machine east of UTC: its consumers must still run in UTC, as Lambda runs them.
    process.env.TZ = 'Asia/Tokyo';
    pipeline = await startTestPipeline(
      testConfig(
        {
          // Consumer timeout 1 s: visibility timeout 6 s, so a crashed batch comes back quickly.
          events: recordingQueue({ maxReceiveCount: 3 }, { timeout: Duration.seconds(1) }),
          // FIFO keeps the batch in order (the consumer runtime runs it sequentially), so "the records before the
          // crash" is well defined. Timeout 2 s: the first invocation must finish two records and start the third
          // before its deadline margin, which 1 s (900 ms before the margin) did not always leave on a busy machine;
          // a crashed batch comes back after 12 s.
          // Its own TZ, which Lambda would honour and local mode cannot: the start says so.
          ordered: recordingQueue(
            { fifo: true, maxReceiveCount: 3 },
            { timeout: Duration.seconds(2), environment: { TZ: 'Europe/Paris' } },
          ),
          // For handlers that never settle: a record abandoned at the margin is settled (its backoff, or its dead
          // letter) before the batch answers only within the margin less its guard. A 1 s timeout's 100 ms margin
          // leaves 50 ms, which a busy machine overran: the batch answered first, and SQS dead-lettered the message
          // itself. A 2 s margin leaves 1.5 s, and the record still has 1 s to start.
          stalls: recordingQueue(
            { maxReceiveCount: 3 },
            { timeout: Duration.seconds(3), deadlineMargin: Duration.seconds(2) },
          ),
        },
        {
          routes: [
            { source: 'generic', type: 'test.stall', queues: ['stalls'] },
            // Succeeds: warms the stalls consumer before a test of timeouts, see there.
            { source: 'generic', type: 'test.warm', queues: ['stalls'] },
          ],
        },
      ),
    );
    sqs = localSqsClient(pipeline.local.emulators);
  });
  afterAll(async () => {
    sqs?.destroy();
    await pipeline?.stop();
  });

  it('delivers signed webhooks from two source types to the consumer exactly once', async () => {
    const id = `evt-${randomUUID()}`;
    const generic = await pipeline.post('generic', { id, type: 'order.created', amount: 3 });
    expect(generic.status).toBe(202);
    const github = await pipeline.post(
      'github',
      { ref: 'refs/heads/main' },
      { 'x-github-event': 'push', 'x-github-delivery': `gh-${id}` },
    );
    expect(github.status).toBe(202);
    await pipeline.waitFor(
      () => pipeline.sideEffects().filter((e) => e.id === id || e.id === `gh-${id}`).length === 2,
      20_000,
      'both side effects',
    );
    expect(pipeline.sideEffects().filter((e) => e.id === id)).toEqual([{ id, attempt: 1 }]);
    // Outcome lines travel through the worker's stdout and can trail the side effect a little.
    await pipeline.waitFor(
      () => pipeline.events.some((e) => e.event === 'processed' && e.id === id),
      10_000,
      'the processed line',
    );
    const processed = pipeline.events.find((e) => e.event === 'processed' && e.id === id);
    expect(processed).toMatchObject({ source: 'generic', type: 'order.created', queue: 'events' });
    expect(pipeline.events.find((e) => e.event === 'queued' && e.id === id)).toMatchObject({
      source: 'generic',
    });
  });

  it('enqueues a webhook delivered five times at once once: one queued, the others duplicates or told to retry', async () => {
    const id = `evt-${randomUUID()}`;
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => pipeline.post('generic', { id, type: 'order.created', amount: 5 })),
    );
    const ingestLines = () =>
      pipeline.events.filter(
        (e) => e.id === id && typeof e.function === 'string' && e.function.endsWith('-ingest'),
      );
    await pipeline.waitFor(() => ingestLines().length === 5, 10_000, 'an ingest line per request');
    // Only the claim's holder queues it; a copy that finds it queued is a duplicate, one that finds it still being
    // queued is told to retry (503, `in_progress`), and its retry is then a duplicate.
    const lines = ingestLines().map((e) => `${e.event} ${e.status}${e.reason ? ` ${e.reason}` : ''}`);
    expect(lines.filter((line) => line === 'queued 202')).toHaveLength(1);
    expect(
      lines.every((line) => ['queued 202', 'duplicate 202', 'failed 503 in_progress'].includes(line)),
    ).toBe(true);
    expect(answers.map((a) => a.status).sort()).toEqual(
      lines.map((line) => Number(line.split(' ')[1])).sort(),
    );
    await pipeline.waitFor(() => pipeline.sideEffects().some((e) => e.id === id), 20_000, 'the side effect');
    await pipeline.settled('events', 20_000);
    expect(pipeline.sideEffects().filter((e) => e.id === id)).toEqual([{ id, attempt: 1 }]);
  });

  it("shows the consumer's own console.log output by default, attributed to its queue", async () => {
    const id = `chatty-${randomUUID()}`;
    expect((await pipeline.post('generic', { id, type: 'test.chatty' })).status).toBe(202);
    const said = (line: string) => line.includes(`chatty ${id}`);
    await pipeline.waitFor(() => pipeline.output.some(said), 20_000, "the consumer's line");
    expect(JSON.parse(pipeline.output.find(said) ?? '{}')).toMatchObject({
      event: 'log',
      queue: 'events',
      line: `chatty ${id}`,
    });
  });

  it("runs consumers in UTC, as Lambda does, whatever this machine's time zone", async () => {
    const id = `clock-${randomUUID()}`;
    expect((await pipeline.post('generic', { id, type: 'test.clock' })).status).toBe(202);
    const said = (line: string) => line.includes(`clock ${id}`);
    await pipeline.waitFor(() => pipeline.output.some(said), 20_000, "the consumer's line");
    expect(JSON.parse(pipeline.output.find(said) ?? '{}').line).toBe(`clock ${id} hour=23 TZ=:UTC`);
    const problems = pipeline.output.map((line) => JSON.parse(line)).filter((e) => e.event === 'error');
    expect(problems.map((e) => e.message)).toContainEqual(
      expect.stringContaining('consumer ordered sets TZ=Europe/Paris: deployed, Lambda runs it in that zone'),
    );
  });

  it('serves the status and pauses/resumes a consumer through the control API', async () => {
    const status = (await (await fetch(`${pipeline.local.url}/_hookline/status`)).json()) as Record<
      string,
      unknown
    >;
    expect(status).toEqual(JSON.parse(JSON.stringify(pipeline.local.status())));
    expect(status).toMatchObject({
      pid: process.pid,
      webhookBaseUrl: pipeline.local.url,
      controlUrl: `${pipeline.local.url}/_hookline`,
      queues: { events: { fifo: false }, ordered: { fifo: true } },
      consumers: { events: { state: 'Enabled' }, ordered: { state: 'Enabled' } },
    });
    const paused = await fetch(`${pipeline.local.url}/_hookline/consumers/ordered/pause`, { method: 'POST' });
    expect(await paused.json()).toEqual({ consumer: 'ordered', state: 'Disabled' });
    expect(pipeline.local.status().consumers.ordered).toEqual({ state: 'Disabled' });
    const resumed = await fetch(`${pipeline.local.url}/_hookline/consumers/ordered/resume`, {
      method: 'POST',
    });
    expect(await resumed.json()).toEqual({ consumer: 'ordered', state: 'Enabled' });
    expect(
      (await fetch(`${pipeline.local.url}/_hookline/consumers/nope/pause`, { method: 'POST' })).status,
    ).toBe(404);
  });

  it('rejects a request with a wrong signature without queueing it', async () => {
    const id = `bad-${randomUUID()}`;
    const response = await fetch(pipeline.local.webhookUrls.generic ?? '', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-signature': `sha256=${'0'.repeat(64)}` },
      body: JSON.stringify({ id, type: 'order.created' }),
    });
    expect(response.status).toBe(401);
    await pipeline.waitFor(
      () => pipeline.events.some((e) => e.event === 'rejected'),
      5_000,
      'the rejected line',
    );
    expect(pipeline.sideEffects().some((e) => e.id === id)).toBe(false);
  });

  it("shows a request naming its source with terminal escapes as visible text on one line of the developer's terminal", async () => {
    // Any page the developer visits may post to the webhook route (a tunnel's host is unknown, so it is not gated).
    const forged = '\u001b]0;owned\u0007\n16:45:01 processed     generic order.created id=fake';
    const url = new URL(pipeline.local.webhookUrls.generic ?? '');
    url.pathname = `/webhooks/${encodeURIComponent(forged)}`;
    const response = await fetch(url, { method: 'POST', body: '{}' });
    expect(response.status).toBe(404);
    await pipeline.waitFor(
      () => pipeline.events.some((e) => e.source === forged),
      5_000,
      'the rejected line',
    );
    const event = pipeline.events.find((e) => e.source === forged) ?? { event: 'none' };
    const line = new Reporter({ json: false, color: true, write: () => {} }).format(event);
    expect(line).toContain('\\u001b]0;owned\\u0007\\u000a16:45:01 processed');
    expect(line).not.toContain('\u001b]');
    expect(line).not.toContain('\u0007');
    expect(line).not.toContain('\n');
  });

  it('moves a poison message to the DLQ after exactly maxReceiveCount attempts', async () => {
    const id = `poison-${randomUUID()}`;
    expect((await pipeline.post('generic', { id, type: 'test.poison' })).status).toBe(202);
    await pipeline.waitFor(
      () => pipeline.events.some((e) => e.event === 'dead-lettered' && e.id === id),
      30_000,
      'the dead-lettered line',
    );
    const attempts = pipeline.poisonAttempts().filter((a) => a.id === id);
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
    // While it runs, local mode says once that the dead-letter queue now holds messages, as its alarm would page.
    const deadLettersAlarm = () =>
      pipeline.output
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((o) => o.event === 'alarm' && o.queue === 'events' && o.alarm === 'dead-letters');
    await pipeline.waitFor(() => deadLettersAlarm().length > 0, 15_000, "the dead-letter queue's alarm line");
    expect(deadLettersAlarm()).toStrictEqual([expect.objectContaining({ state: 'ALARM' })]);
    const dlqUrl = pipeline.local.topology.queues.events?.deadLetterUrl ?? '';
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 2,
        MessageAttributeNames: ['All'],
      }),
    );
    const dead = (received.Messages ?? []).filter((m) => parseEnvelope(m.Body ?? '{}').id === id);
    expect(dead).toHaveLength(1);
    expect(dead[0]?.MessageAttributes?.[FAILURE_ATTRIBUTES.attempt]?.StringValue).toBe('3');
  }, 45_000);

  it("shows under a failed record where the consumer's own code threw, and a thrown string as its text", async () => {
    const typo = `typo-${randomUUID()}`;
    const thrown = `string-${randomUUID()}`;
    expect((await pipeline.post('generic', { id: typo, type: 'test.typo' })).status).toBe(202);
    expect((await pipeline.post('generic', { id: thrown, type: 'test.string' })).status).toBe(202);
    const failed = (id: string) => pipeline.events.find((e) => e.event === 'retried' && e.id === id);
    await pipeline.waitFor(() => !!failed(typo) && !!failed(thrown), 20_000, 'both retried lines');
    expect(failed(typo)?.reason).toMatch(/^TypeError: Cannot read properties of undefined \(reading 'id'\)$/);
    expect(failed(typo)?.frames).toEqual([
      expect.stringMatching(/^ {4}at .*recording-consumer\.ts:\d+:\d+\)$/),
    ]);
    expect(failed(thrown)).toMatchObject({ reason: `NonErrorThrown: no luck with ${thrown}` });
    expect(failed(thrown)?.frames).toBeUndefined();
  }, 30_000);

  it('a handler that never settles is dead-lettered by the consumer with the timeout as its reason, not by SQS without one', async () => {
    // A sandbox's first record also pays for the consumer's first calls (its idempotency claim's client connecting),
    // which on a busy machine took all of the second a record has before the margin: attempt 1 timed out before its
    // handler ran, and only attempts 2 and 3 ran it. A record that succeeds warms the consumer's sandbox first, so
    // each attempt below is the handler's own.
    const warm = `warm-${randomUUID()}`;
    expect((await pipeline.post('generic', { id: warm, type: 'test.warm' })).status).toBe(202);
    await pipeline.waitFor(
      () => pipeline.sideEffects().some((e) => e.id === warm),
      30_000,
      'the warm-up record',
    );
    // Deleted once its invocation answered: the warm sandbox is idle again, and takes the next record.
    await pipeline.settled('stalls', 30_000);
    const id = `stall-${randomUUID()}`;
    expect((await pipeline.post('generic', { id, type: 'test.stall' })).status).toBe(202);
    await pipeline.waitFor(
      () => pipeline.events.some((e) => e.event === 'dead-lettered' && e.id === id),
      30_000,
      'the dead-lettered line',
    );
    const outcomes = pipeline.events.filter((e) => e.id === id && e.attempt !== undefined);
    expect(outcomes.map((e) => `${e.event} ${e.attempt}`)).toEqual([
      'retried 1',
      'retried 2',
      'dead-lettered 3',
    ]);
    for (const outcome of outcomes) {
      expect(outcome.queue).toBe('stalls');
      expect(outcome.reason).toMatch(
        /^InvocationTimeoutError: did not finish before the invocation's timeout/,
      );
    }
    expect(
      pipeline
        .poisonAttempts()
        .filter((a) => a.id === id)
        .map((a) => a.attempt),
    ).toEqual([1, 2, 3]);
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: pipeline.local.topology.queues.stalls?.deadLetterUrl ?? '',
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 2,
        MessageAttributeNames: ['All'],
      }),
    );
    const dead = (received.Messages ?? []).filter((m) => parseEnvelope(m.Body ?? '{}').id === id);
    expect(dead).toHaveLength(1);
    const attributes = dead[0]?.MessageAttributes ?? {};
    expect(attributes[FAILURE_ATTRIBUTES.errorName]?.StringValue).toBe('InvocationTimeoutError');
    expect(attributes[FAILURE_ATTRIBUTES.errorMessage]?.StringValue).toMatch(
      /^did not finish before the invocation's timeout/,
    );
    expect(attributes[FAILURE_ATTRIBUTES.attempt]?.StringValue).toBe('3');
  }, 45_000);

  it('after a timeout, reports a record that had finished as done, not retried, and does not run it twice', async () => {
    expect(await pipeline.local.pauseConsumer('events')).toBe(true);
    const quick = `quick-${randomUUID()}`;
    const slow = `slow-${randomUUID()}`;
    expect((await pipeline.post('generic', { id: quick, type: 'test.ok' })).status).toBe(202);
    // Blocks its thread: no timer of the consumer runtime can run, so the invocation itself times out.
    expect((await pipeline.post('generic', { id: slow, type: 'test.spin' })).status).toBe(202);
    // Both wait in the queue while it is paused, so they arrive as one batch.
    expect(pipeline.local.setConsumerEnabled('events', true)).toBe('Enabled');
    await pipeline.waitFor(
      () => pipeline.sideEffects().some((e) => e.id === slow),
      40_000,
      'the hanging record to run again after the timeout',
    );
    const outcomes = (id: string) =>
      pipeline.events
        .filter((e) => e.id === id && e.attempt !== undefined)
        .map((e) => `${e.event} ${e.attempt}`);
    await pipeline.waitFor(
      () => outcomes(slow).includes('processed 2') && outcomes(quick).includes('duplicate 2'),
      10_000,
      'the second attempt of both records',
    );
    // The quick record finished before the timeout: it is reported processed once; SQS hands it back with the
    // whole batch (a timed-out invocation returns no batch response) and idempotency skips it.
    expect(outcomes(quick)).toEqual(['processed 1', 'duplicate 2']);
    expect(pipeline.sideEffects().filter((e) => e.id === quick)).toEqual([{ id: quick, attempt: 1 }]);
    // Only the record that was cut off is retried, and the reason says what happens to the finished one.
    expect(outcomes(slow)).toEqual(['retried 1', 'processed 2']);
    const retried = pipeline.events.find((e) => e.id === slow && e.event === 'retried');
    expect(retried?.reason).toMatch(/^timeout: Task timed out after 1\.00 seconds/);
    expect(retried?.reason).toContain(
      '1 record of the batch had finished and comes back with it: idempotency skips it',
    );
  }, 60_000);

  it('after a crash mid-batch, redoes only the records that were not completed', async () => {
    const queueUrl = pipeline.local.topology.queues.ordered?.url ?? '';
    expect(await pipeline.local.pauseConsumer('ordered')).toBe(true);
    const ids = Array.from({ length: 5 }, (_, i) => `crash-${i}-${randomUUID()}`);
    const types = ['test.ok', 'test.ok', 'test.crash', 'test.ok', 'test.ok'];
    // Enqueue the batch directly, as the ingest would, while the consumer is paused, so it arrives as one batch.
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: ids.map((id, i) => ({
          Id: String(i),
          // One group per record: fauxqs hands out at most one message per group per receive, in send order.
          MessageGroupId: `crash-${i}`,
          MessageDeduplicationId: id,
          MessageBody: JSON.stringify({
            v: 1,
            id,
            source: 'generic',
            type: types[i],
            receivedAt: new Date().toISOString(),
            headers: {},
            contentType: 'application/json',
            body: JSON.stringify({ id, type: types[i] }),
            bodyEncoding: 'utf8',
          }),
        })),
      }),
    );
    const before = pipeline.sideEffects().length;
    expect(pipeline.local.setConsumerEnabled('ordered', true)).toBe('Enabled');
    await pipeline.waitFor(
      () => ids.every((id) => pipeline.sideEffects().some((e) => e.id === id)),
      30_000,
      'all five side effects',
    );
    const effects = pipeline.sideEffects().slice(before);
    // Each record's side effect happened exactly once: the ones completed before the crash were not redone.
    expect(ids.map((id) => effects.filter((e) => e.id === id).length)).toEqual([1, 1, 1, 1, 1]);
    // The two records before the crash completed on the first delivery; the crashing one and those after it
    // ran on the redelivery.
    expect(ids.map((id) => effects.find((e) => e.id === id)?.attempt)).toEqual([1, 1, 2, 2, 2]);
    await pipeline.waitFor(
      () => ids.slice(2).every((id) => pipeline.events.some((e) => e.event === 'processed' && e.id === id)),
      10_000,
      'a processed line for each record redone after the crash',
    );
    // FIFO records are deleted as they finish, so the completed ones did not even come back as duplicates.
    for (const id of ids.slice(0, 2)) {
      expect(pipeline.events.filter((e) => e.id === id).map((e) => e.event)).toEqual(['processed']);
    }
    expect(pipeline.events.some((e) => e.event === 'retried' && e.reason?.startsWith('crash'))).toBe(true);
  }, 45_000);
});
