/**
 * The CLI against the real local mode: emulators, ingest, consumers, control API and state file. Cores are
 * called in-process through `connect({ local: true })`, commands run through the real CLI program in this process,
 * and the real `bin/hookline.ts` runs as a child process where the process itself is what a test proves.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAILURE_ATTRIBUTES, MESSAGE_ATTRIBUTES, parseEnvelope } from '../../lambda/shared/envelope';
import { type Backend, connect } from '../../lib/cli/backend';
import { setConsumerEnabled } from '../../lib/cli/consumers';
import { failedList, failedShow } from '../../lib/cli/failed';
import { purge } from '../../lib/cli/purge';
import { redrive, redriveMarkOf } from '../../lib/cli/redrive';
import { sendWebhook } from '../../lib/cli/send';
import { status } from '../../lib/cli/status';
import type { Target } from '../../lib/cli/target';
import type { ResolvedConfig } from '../../lib/config';
import type { LocalMode } from '../../lib/local/local-mode';
import type { LocalEvent } from '../../lib/local/reporter';
import { runHooklineInProcess, runHooklineOkWith, runHooklineWith } from '../helpers/local/cli';
import { startExampleLocalMode } from '../helpers/local/example-local-mode';
import { waitFor } from '../helpers/wait-for';
import { type RecordingOutput, recordingOutput } from './helpers';

let local: LocalMode;
let config: ResolvedConfig;
let stateDir: string;
const buildDir = join(process.cwd(), '.hookline', 'build', `cli-test-${process.pid}`);
let target: Target;
let backend: Backend & { output: RecordingOutput };
let sqs: SQSClient;
let events: LocalEvent[];

const env = () => ({ ...process.env, HOOKLINE_STATE_DIR: stateDir, NO_COLOR: '1' });

/** Runs the real CLI program in this process; resolves with exit code, stdout and stderr. */
const cli = (...args: string[]) => runHooklineInProcess(stateDir, args);
/** Runs the real `bin/hookline.ts` as a process of its own; resolves with exit code, stdout and stderr. */
const binary = (...args: string[]) => runHooklineWith(env(), args);

async function depth(url: string): Promise<{ visible: number; inFlight: number }> {
  const answer = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(answer.Attributes?.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(answer.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

/** Receives and deletes everything in a queue; returns the messages. */
async function drain(url: string): Promise<Message[]> {
  const all: Message[] = [];
  for (let empty = 0; empty < 2; ) {
    const answer = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 60,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
    );
    const messages = answer.Messages ?? [];
    if (messages.length === 0) {
      empty++;
      continue;
    }
    empty = 0;
    all.push(...messages);
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
  }
  return all;
}

function envelope(
  id: string,
  type: string,
  source = 'stripe',
  body: unknown = { id, type, data: { object: {} } },
) {
  return JSON.stringify({
    v: 1,
    id,
    source,
    type,
    receivedAt: new Date().toISOString(),
    headers: { 'content-type': 'application/json' },
    contentType: 'application/json',
    body: JSON.stringify(body),
    bodyEncoding: 'utf8',
  });
}

/** Puts messages straight into a DLQ as a consumer would have dead-lettered them. */
async function seedDeadLetters(
  url: string,
  ids: readonly string[],
  options: { fifo?: boolean; groups?: number } = {},
) {
  for (let i = 0; i < ids.length; i += 10) {
    const chunk = ids.slice(i, i + 10);
    const answer = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: chunk.map((id, n) => ({
          Id: String(n),
          MessageBody: envelope(id, 'invoice.paid'),
          MessageAttributes: {
            [MESSAGE_ATTRIBUTES.eventId]: { DataType: 'String', StringValue: id },
            [MESSAGE_ATTRIBUTES.type]: { DataType: 'String', StringValue: 'invoice.paid' },
            [FAILURE_ATTRIBUTES.errorName]: { DataType: 'String', StringValue: 'PermanentError' },
            [FAILURE_ATTRIBUTES.errorMessage]: { DataType: 'String', StringValue: 'seeded' },
          },
          ...(options.fifo
            ? { MessageGroupId: `g${(i + n) % (options.groups ?? 1)}`, MessageDeduplicationId: id }
            : {}),
        })),
      }),
    );
    expect(answer.Failed ?? []).toEqual([]);
  }
}

const queueUrl = (name: string) => {
  const q = target.queues[name];
  if (!q) throw new Error(`no queue ${name}`);
  return q;
};

beforeAll(async () => {
  ({ local, config, stateDir, events } = await startExampleLocalMode('CliTest', buildDir));
  const connected = await connect({ local: true }, recordingOutput(), { HOOKLINE_STATE_DIR: stateDir });
  target = connected.target;
  backend = { ...connected.backend, output: recordingOutput() };
  sqs = backend.sqs;
}, 120_000);

afterAll(async () => {
  await local?.stop();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  rmSync(buildDir, { recursive: true, force: true });
}, 60_000);

describe('hookline CLI against local mode', () => {
  it('send: posts a signed sample for every configured source type, and the consumer processes it', async () => {
    for (const source of ['github', 'stripe', 'slack', 'shopify', 'standard', 'generic']) {
      const result = await sendWebhook(backend, target, config, { source }, {});
      expect(result, source).toMatchObject({ status: 202, ok: true, secretFrom: 'development default' });
      expect(result.id).toBeTruthy();
      await waitFor(
        () => events.some((e) => e.event === 'processed' && e.id === result.id),
        20_000,
        `${source} processed`,
      );
    }
    const shopify = events.find((e) => e.event === 'processed' && e.source === 'shopify');
    expect(shopify).toMatchObject({ type: 'orders/create', queue: 'orders' });
  });

  it('send: a wrong secret is rejected with 401 (the signature is really checked)', async () => {
    const result = await sendWebhook(backend, target, config, { source: 'github', secret: 'wrong' }, {});
    expect(result).toMatchObject({ status: 401, ok: false, id: null });
  });

  it('status: shows every queue and its consumer state', async () => {
    const result = await status(backend, target);
    expect(result.queues.map((q) => [q.queue, q.fifo, q.consumer])).toEqual([
      ['events', false, 'Enabled'],
      ['orders', true, 'Enabled'],
    ]);
    // Each queue's deployed oldest-message alarm threshold (the default 15 minutes).
    expect(result.queues.map((q) => q.oldestMessageAgeAlarmSeconds)).toEqual([900, 900]);
    // Each queue has the age of its oldest message, read from the emulator, or holds none.
    for (const q of result.queues) {
      if (q.oldestMessageAgeSeconds === null)
        expect(q.oldestMessageAgeNote).toBe('no message waiting or in flight');
    }
  });

  it('pause / resume: a paused consumer leaves events in the queue, aging in status, until resumed', async () => {
    const paused = await setConsumerEnabled(backend, target, false, { queue: 'events' });
    expect(paused.state).toBe('Disabled');
    // Once its pollers are idle: a long poll already in flight has ended.
    await local.pauseConsumer('events');
    const sent = await sendWebhook(backend, target, config, { source: 'github' }, {});
    expect(sent.status).toBe(202);
    await waitFor(async () => (await depth(queueUrl('events').url)).visible === 1, 5000, 'message waiting');
    // The waiting event's age, which the deployed oldest-message alarm reads from CloudWatch.
    expect((await status(backend, target, { queue: 'events' })).queues[0]).toMatchObject({
      visible: 1,
      consumer: 'Disabled',
      oldestMessageAgeSeconds: expect.any(Number),
    });
    expect(events.some((e) => e.event === 'processed' && e.id === sent.id)).toBe(false);

    const resumed = await setConsumerEnabled(backend, target, true, { queue: 'events' });
    expect(resumed.state).toBe('Enabled');
    await waitFor(
      () => events.some((e) => e.event === 'processed' && e.id === sent.id),
      20_000,
      'processed after resume',
    );
  });

  it("status: a paused FIFO queue's waiting message has an age, as the oldest-message alarm reads it", async () => {
    await setConsumerEnabled(backend, target, false, { queue: 'orders' });
    await local.pauseConsumer('orders');
    const sent = await sendWebhook(backend, target, config, { source: 'shopify' }, {});
    expect(sent.status).toBe(202);
    await waitFor(async () => (await depth(queueUrl('orders').url)).visible === 1, 5000, 'message waiting');
    const [orders] = (await status(backend, target, { queue: 'orders' })).queues;
    expect(orders).toMatchObject({
      visible: 1,
      consumer: 'Disabled',
      oldestMessageAgeSeconds: expect.any(Number),
    });
    expect(orders?.oldestMessageAgeNote).toBeUndefined();

    await setConsumerEnabled(backend, target, true, { queue: 'orders' });
    await waitFor(
      () => events.some((e) => e.event === 'processed' && e.id === sent.id),
      20_000,
      'processed after resume',
    );
  });

  it('failed list / show: reads a message the consumer dead-lettered, with its reason, without consuming it', async () => {
    const id = `mismatch-${randomUUID()}`;
    // The example consumer refuses (PermanentError) a Stripe event whose body type differs from the envelope's.
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl('events').url,
        MessageBody: envelope(id, 'invoice.paid', 'stripe', {
          id,
          type: 'invoice.voided',
          data: { object: {} },
        }),
      }),
    );
    // This message's own outcome, not the DLQ's depth: another test may have left dead letters there. The
    // consumer logs it once the message is in the DLQ.
    await waitFor(
      () => events.some((e) => e.event === 'dead-lettered' && e.id === id),
      30_000,
      'dead-lettered',
    );

    // The emulator keeps the DLQ in one store: the read tells its end at once, without SQS's long poll.
    const waits: unknown[] = [];
    sqs.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'ReceiveMessageCommand')
          waits.push((args.input as { WaitTimeSeconds?: number }).WaitTimeSeconds);
        return next(args);
      },
      { name: 'recordReceiveWaits' },
    );
    const listed = await failedList(backend, target, { queue: 'events' }).finally(() =>
      sqs.middlewareStack.remove('recordReceiveWaits'),
    );
    expect(waits.length).toBeGreaterThanOrEqual(2);
    expect(new Set(waits)).toEqual(new Set([0]));
    const entry = listed.messages.find((m) => m.id === id);
    expect(entry).toMatchObject({
      source: 'stripe',
      type: 'invoice.paid',
      failure: { errorName: 'PermanentError', consumer: 'events' },
    });
    expect(entry?.error).toMatch(/does not match envelope type/);
    const shown = await failedShow(backend, target, { queue: 'events', id });
    expect(JSON.parse(shown.body ?? '{}')).toMatchObject({ type: 'invoice.voided' });
    // Still there, visible: nothing was consumed.
    expect(await depth(queueUrl('events').deadLetterUrl)).toEqual({
      visible: listed.approximateDepth,
      inFlight: 0,
    });

    const child = await cli('failed', 'list', 'events', '--local', '--json');
    expect(child.code).toBe(0);
    expect(JSON.parse(child.stdout).messages.map((m: { id: string }) => m.id)).toContain(id);
    const human = await cli('failed', 'show', 'events', id, '--local');
    expect(human.stdout).toMatch(
      /PermanentError: body type invoice.voided does not match envelope type invoice.paid/,
    );
    // A wait of up to 30 s for the dead-letter: more than the default 30 s.
  }, 120_000);

  it('redrive: 1,000 dead-lettered messages go back with progress, none lost (move-task fallback)', async () => {
    const events_ = queueUrl('events');
    await setConsumerEnabled(backend, target, false, { queue: 'events' });
    await local.pauseConsumer('events');
    await purge(backend, target, { queue: 'events', deadLetter: true, yes: true });
    await purge(backend, target, { queue: 'events', yes: true });
    const ids = Array.from({ length: 1000 }, (_, i) => `redrive-${i}-${randomUUID()}`);
    await seedDeadLetters(events_.deadLetterUrl, ids);
    expect(await depth(events_.deadLetterUrl)).toEqual({ visible: 1000, inFlight: 0 });

    const output = recordingOutput();
    const result = await redrive({ ...backend, output }, target, { env: env(), queue: 'events' });

    expect(result).toMatchObject({
      method: 'one-by-one',
      moved: 1000,
      failed: 0,
      skipped: 0,
      notDeleted: 0,
      deadLetterDepthBefore: 1000,
    });
    expect(result.fallbackReason).toMatch(/StartMessageMoveTask is not available/);
    expect(output.notes.join('\n')).not.toMatch(/one by one/);
    const progress = output.progressUpdates.map(([, done]) => done);
    expect(progress.length).toBeGreaterThanOrEqual(100);
    expect(progress.at(-1)).toBe(1000);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);
    // The summary is the result (rendered once), not repeated by the progress bar.
    expect(output.progressSummaries).toEqual([]);

    expect(await depth(events_.deadLetterUrl)).toEqual({ visible: 0, inFlight: 0 });
    const back = await drain(events_.url);
    const backIds = back.map((m) => parseEnvelope(m.Body ?? '').id);
    expect(backIds).toHaveLength(1000);
    expect(new Set(backIds)).toEqual(new Set(ids));
    for (const m of back) {
      expect(Object.keys(m.MessageAttributes ?? {}).sort()).toEqual([
        MESSAGE_ATTRIBUTES.eventId,
        MESSAGE_ATTRIBUTES.redrive,
        MESSAGE_ATTRIBUTES.type,
      ]);
    }
    // One run, one run id in every marker: it tells the run's own messages that come back from other copies of an
    // event; each marker also says when its message was sent.
    expect(new Set(back.map((m) => redriveMarkOf(m)?.runId)).size).toBe(1);
    expect(back.every((m) => redriveMarkOf(m)?.movedAt !== undefined)).toBe(true);
    await setConsumerEnabled(backend, target, true, { queue: 'events' });
  }, 120_000);

  it('redrive (real binary): FIFO messages return in group order with their groups, with progress on stderr', async () => {
    const orders = queueUrl('orders');
    await setConsumerEnabled(backend, target, false, { queue: 'orders' });
    await local.pauseConsumer('orders');
    const ids = Array.from({ length: 30 }, (_, i) => `order-${String(i).padStart(2, '0')}-${randomUUID()}`);
    await seedDeadLetters(orders.deadLetterUrl, ids, { fifo: true, groups: 3 });

    const child = await binary('redrive', 'orders', '--local', '--json');
    expect(child.code).toBe(0);
    const result = JSON.parse(child.stdout);
    expect(result).toMatchObject({ method: 'one-by-one', moved: 30, failed: 0 });
    expect(child.stderr).toMatch(/\] 100% 30\/30 moved to orders/);

    const back = await drain(orders.url);
    expect(back).toHaveLength(30);
    for (let g = 0; g < 3; g++) {
      const inGroup = back
        .filter((m) => m.Attributes?.MessageGroupId === `g${g}`)
        .map((m) => parseEnvelope(m.Body ?? '').id);
      expect(inGroup).toEqual(ids.filter((_, i) => i % 3 === g));
    }
    await setConsumerEnabled(backend, target, true, { queue: 'orders' });
  }, 120_000);

  it('redrive --id: moves only the chosen message', async () => {
    const events_ = queueUrl('events');
    await setConsumerEnabled(backend, target, false, { queue: 'events' });
    await local.pauseConsumer('events');
    await purge(backend, target, { queue: 'events', deadLetter: true, yes: true });
    const ids = Array.from({ length: 5 }, () => `pick-${randomUUID()}`);
    await seedDeadLetters(events_.deadLetterUrl, ids);
    const result = await redrive(backend, target, { env: env(), queue: 'events', ids: [ids[2] ?? ''] });
    expect(result).toMatchObject({ moved: 1, skipped: 4, movedIds: [ids[2]] });
    expect(await depth(events_.deadLetterUrl)).toEqual({ visible: 4, inFlight: 0 });
    expect((await drain(events_.url)).map((m) => parseEnvelope(m.Body ?? '').id)).toEqual([ids[2]]);
    await setConsumerEnabled(backend, target, true, { queue: 'events' });
  }, 60_000);

  it('redrive --limit: says how many it moved and how many are left in the DLQ, held ones included', async () => {
    const events_ = queueUrl('events');
    await setConsumerEnabled(backend, target, false, { queue: 'events' });
    await local.pauseConsumer('events');
    await purge(backend, target, { queue: 'events', deadLetter: true, yes: true });
    await purge(backend, target, { queue: 'events', yes: true });
    await seedDeadLetters(
      events_.deadLetterUrl,
      Array.from({ length: 25 }, (_, i) => `limit-${i}-${randomUUID()}`),
    );
    // Someone reads one dead letter (failed show, the console): in flight, still in the DLQ, as status counts it.
    const read = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: events_.deadLetterUrl,
        MaxNumberOfMessages: 1,
        VisibilityTimeout: 120,
      }),
    );
    expect(read.Messages).toHaveLength(1);

    const json = await cli('redrive', 'events', '--limit', '10', '--local', '--json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ moved: 10, deadLetterDepthAfter: 15 });
    const text = await cli('redrive', 'events', '--limit', '4', '--local');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('moved 4, skipped 0, failed 0');
    expect(text.stdout).toContain('left in the dead-letter queue: 11 (hookline failed list events --local)');
    expect(await depth(events_.deadLetterUrl)).toEqual({ visible: 10, inFlight: 1 });
    expect(await drain(events_.url)).toHaveLength(14);
    await purge(backend, target, { queue: 'events', deadLetter: true, yes: true });
    await setConsumerEnabled(backend, target, true, { queue: 'events' });
  }, 120_000);

  it('redrive of the whole DLQ: says how many dead letters another reader held, which it could not move', async () => {
    const events_ = queueUrl('events');
    await local.pauseConsumer('events');
    await purge(backend, target, { queue: 'events', deadLetter: true, yes: true });
    await purge(backend, target, { queue: 'events', yes: true });
    await seedDeadLetters(
      events_.deadLetterUrl,
      Array.from({ length: 12 }, (_, i) => `held-${i}-${randomUUID()}`),
    );
    // Another reader (failed delete, the console) holds some while the redrive reads the DLQ to its end.
    const read = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: events_.deadLetterUrl,
        MaxNumberOfMessages: 3,
        VisibilityTimeout: 120,
      }),
    );
    const held = read.Messages?.length ?? 0;
    expect(held).toBeGreaterThan(0);

    const run = await cli('redrive', 'events', '--local', '--json');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      moved: 12 - held,
      failed: 0,
      heldByOthers: held,
      deadLetterDepthAfter: held,
    });
    expect(await drain(events_.url)).toHaveLength(12 - held);
    await purge(backend, target, { queue: 'events', deadLetter: true, yes: true });
    await setConsumerEnabled(backend, target, true, { queue: 'events' });
  }, 120_000);

  it('redrive (real binary): Ctrl-C stops between batches, makes held messages visible again, prints the result and exits 130', async () => {
    const events_ = queueUrl('events');
    await setConsumerEnabled(backend, target, false, { queue: 'events' });
    await local.pauseConsumer('events');
    await purge(backend, target, { queue: 'events', deadLetter: true, yes: true });
    await purge(backend, target, { queue: 'events', yes: true });
    const ids = Array.from({ length: 60 }, (_, i) => `interrupt-${i}-${randomUUID()}`);
    await seedDeadLetters(events_.deadLetterUrl, ids);

    // Node itself (not npx or the tsx launcher) receives the signal, as a terminal's Ctrl-C would reach it.
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'bin/hookline.ts',
        'redrive',
        'events',
        '--type',
        'invoice.*',
        '--rate',
        '5',
        '--local',
        '--json',
      ],
      { env: env() },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const exited = once(child, 'exit');
    // At 5 messages a second the 60 take 12 s: interrupt after the first batch is reported.
    await waitFor(() => /scanned in the events DLQ/.test(stderr), 30_000, 'the first batch');
    child.kill('SIGINT');
    const [code] = await exited;

    expect(code).toBe(130);
    expect(stderr).toMatch(/stopping after this batch/);
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({
      method: 'one-by-one',
      stoppedBy: 'Interrupted: stopped by Ctrl-C',
      failed: 0,
    });
    expect(result.moved).toBeGreaterThan(0);
    expect(result.moved).toBeLessThan(60);
    expect(await depth(events_.deadLetterUrl)).toEqual({ visible: 60 - result.moved, inFlight: 0 });
    expect(await drain(events_.url)).toHaveLength(result.moved);
    await purge(backend, target, { queue: 'events', deadLetter: true, yes: true });
    await setConsumerEnabled(backend, target, true, { queue: 'events' });
  }, 120_000);

  it('failed delete: deletes every copy of the chosen ids, counts each event once, hands the rest back', async () => {
    const dlq = queueUrl('events').deadLetterUrl;
    await purge(backend, target, { queue: 'events', deadLetter: true, yes: true });
    const [dup, one, keep1, keep2] = ['dup', 'one', 'keep-1', 'keep-2'].map(
      (n) => `del-${n}-${randomUUID()}`,
    );
    await seedDeadLetters(dlq, [dup ?? '', one ?? '', keep1 ?? '', dup ?? '', keep2 ?? '']);

    const refused = await cli('failed', 'delete', 'events', '--id', one ?? '', '--local');
    expect([refused.code, refused.stderr.trim().split('\n').at(-1)]).toEqual([
      1,
      'error: refusing to delete dead letters of the events dead-letter queue without confirmation in a non-interactive shell: pass --yes',
    ]);
    const unselected = await cli('failed', 'delete', 'events', '--local', '--yes');
    // No selector is the command line's fault, as jobs cancel's: a usage error, nothing read.
    expect(unselected.code).toBe(2);
    // Its hints act on local mode too: the list of this queue and the purge, each with --local.
    expect(unselected.stderr).toContain(
      'error: failed delete needs --id <id...>, --type <pattern> or --failure <key> (hookline failed list events --local shows ids and types, hookline failed summary events --local failure keys); to delete every dead letter, hookline purge events --dlq --local',
    );
    const blank = await cli('failed', 'delete', 'events', '--id', ' ', '--local', '--yes');
    expect(blank.stderr).toContain(
      'error: --id must not be empty: give envelope ids (or SQS message ids) from hookline failed list events --local, or select with --type',
    );
    const missing = await cli('failed', 'delete', 'events', '--id', 'no-such-id', '--local', '--yes');
    expect([missing.code, missing.stderr.trim().split('\n').at(-1)]).toEqual([
      1,
      'error: no message in the events dead-letter queue matches --id no-such-id: nothing was deleted; list them with hookline failed list events --local',
    ]);
    expect(await depth(dlq)).toEqual({ visible: 5, inFlight: 0 });

    const json = await cli(
      'failed',
      'delete',
      'events',
      '--id',
      dup ?? '',
      one ?? '',
      '--local',
      '--yes',
      '--json',
    );
    expect(json.code).toBe(0);
    const result = JSON.parse(json.stdout);
    expect(result).toMatchObject({
      deletedEvents: 2,
      deletedMessages: 3,
      skipped: 2,
      failed: 0,
      notFound: [],
    });
    expect([...result.deletedIds].sort()).toEqual([dup, one].sort());
    expect(result.deadLetterDepthAfter).toBe(2);
    // The two not selected are visible again at once, not held until their hold ends.
    expect(await depth(dlq)).toEqual({ visible: 2, inFlight: 0 });

    const text = await cli('failed', 'delete', 'events', '--type', 'invoice.*', '--local', '--yes');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^deleted 2 events from the events dead-letter queue: del-keep-/m);
    expect(text.stdout).toContain('left in the dead-letter queue: 0');
    expect(await depth(dlq)).toEqual({ visible: 0, inFlight: 0 });
  }, 120_000);

  it('failed summary: groups the whole DLQ by failure, each message once, leaving every one there; --failure deletes or redrives one failure', async () => {
    const dlq = queueUrl('events').deadLetterUrl;
    await purge(backend, target, { queue: 'events', deadLetter: true, yes: true });
    const failures = [
      ...Array.from({ length: 23 }, (_, n) => ({
        name: 'PermanentError',
        message: `customer cus_${n} not found`,
      })),
      ...Array.from({ length: 2 }, () => ({
        name: 'TypeError',
        message: "Cannot read properties of undefined (reading 'email')",
      })),
    ];
    for (let i = 0; i < failures.length; i += 10) {
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: dlq,
          Entries: failures.slice(i, i + 10).map((failure, n) => {
            const id = `sum-${i + n}-${randomUUID()}`;
            return {
              Id: String(n),
              MessageBody: envelope(id, 'invoice.paid'),
              MessageAttributes: {
                [MESSAGE_ATTRIBUTES.eventId]: { DataType: 'String', StringValue: id },
                [FAILURE_ATTRIBUTES.errorName]: { DataType: 'String', StringValue: failure.name },
                [FAILURE_ATTRIBUTES.errorMessage]: { DataType: 'String', StringValue: failure.message },
              },
            };
          }),
        }),
      );
    }

    const json = await cli('failed', 'summary', 'events', '--local', '--json');
    expect(json.code).toBe(0);
    const result = JSON.parse(json.stdout);
    expect(result.read).toBe(25);
    expect(result.groups.map((g: { pattern: string; count: number }) => [g.pattern, g.count])).toEqual([
      ['PermanentError: customer <id> not found', 23],
      ["TypeError: Cannot read properties of undefined (reading 'email')", 2],
    ]);
    expect(await depth(dlq)).toEqual({ visible: 25, inFlight: 0 });

    const text = await cli('failed', 'summary', 'events', '--local');
    expect(text.stdout).toContain(
      'events dead-letter queue: 25 messages read, 2 distinct failures (left in place)',
    );
    expect(text.stdout).toMatch(/^0a78ca1c +23 +PermanentError: customer <id> not found +invoice\.paid 23 /m);
    // Piped, stdout carries the result alone: the next commands are hints, on stderr.
    expect(text.stderr).toContain('details: hookline failed show events <example> --local');
    expect(text.stderr).toContain('once fixed: hookline redrive events --failure <key> --local');
    expect(text.stdout).not.toContain('details: ');

    // Acting on one failure by its key: delete the TypeErrors, redrive the missing customers.
    const typeErrors = result.groups[1].key;
    const deleted = await cli(
      'failed',
      'delete',
      'events',
      '--failure',
      typeErrors,
      '--local',
      '--yes',
      '--json',
    );
    expect(deleted.code).toBe(0);
    expect(JSON.parse(deleted.stdout)).toMatchObject({ deletedEvents: 2, failed: 0 });
    await setConsumerEnabled(backend, target, false, { queue: 'events' });
    await local.pauseConsumer('events');
    try {
      const moved = await cli('redrive', 'events', '--failure', result.groups[0].key, '--local', '--json');
      expect(moved.code).toBe(0);
      expect(JSON.parse(moved.stdout)).toMatchObject({ moved: 23, failed: 0 });
      expect(await depth(dlq)).toEqual({ visible: 0, inFlight: 0 });
      await drain(queueUrl('events').url);
    } finally {
      await setConsumerEnabled(backend, target, true, { queue: 'events' });
    }
    const unknown = await cli('failed', 'summary', 'nope', '--local');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error: .*nope/m);
  }, 120_000);

  it('a --failure value that is no failure key is a usage error (exit 2) on redrive and failed delete, nothing moved or deleted', async () => {
    const dlq = queueUrl('events').deadLetterUrl;
    await purge(backend, target, { queue: 'events', deadLetter: true, yes: true });
    await seedDeadLetters(dlq, [`key-${randomUUID()}`]);
    const runs = [
      await cli('redrive', 'events', '--failure', 'TypeError', '--local'),
      await cli('redrive', 'events', '--failure', '', '--local', '--json'),
      await cli('failed', 'delete', 'events', '--failure', 'nope', '--local', '--yes'),
    ];
    expect(runs.map((r) => r.code)).toEqual([2, 2, 2]);
    expect(runs[0]?.stderr).toMatch(
      /^error: --failure "TypeError" is not a failure key: give the KEY column of hookline failed summary events --local .*, or leave --failure out$/m,
    );
    expect(JSON.parse(runs[1]?.stdout ?? '')).toMatchObject({
      error: expect.stringMatching(/^--failure "" is not a failure key/),
    });
    expect(runs[2]?.stderr).toMatch(
      /^error: --failure "nope" is not a failure key: .*, or select with --id$/m,
    );
    expect(runs.map((r) => r.stderr).join('')).not.toMatch(/\n\s+at /);
    expect(await depth(dlq)).toEqual({ visible: 1, inFlight: 0 });
    await purge(backend, target, { queue: 'events', deadLetter: true, yes: true });
  }, 60_000);

  it('failed list and summary: name an event the DLQ holds twice, count events apart from messages, leaving both in place', async () => {
    const dlq = queueUrl('events').deadLetterUrl;
    await purge(backend, target, { queue: 'events', deadLetter: true, yes: true });
    const [twice, once] = ['twice', 'once'].map((n) => `copies-${n}-${randomUUID()}`);
    // As a consumer killed between its DLQ send and its delete leaves it: the event dead-lettered a second time.
    await seedDeadLetters(dlq, [twice ?? '', once ?? '']);
    await seedDeadLetters(dlq, [twice ?? '']);

    const json = await cli('failed', 'list', 'events', '--local', '--json');
    expect(json.code).toBe(0);
    const listed = JSON.parse(json.stdout);
    expect([listed.messages.length, listed.events]).toEqual([3, 2]);
    expect(listed.eventsHeldMoreThanOnce).toMatchObject([{ id: twice, source: 'stripe', copies: 2 }]);
    const copyIds = listed.messages
      .filter((m: { id: string }) => m.id === twice)
      .map((m: { messageId: string }) => m.messageId);
    expect([...listed.eventsHeldMoreThanOnce[0].messageIds].sort()).toEqual(copyIds.sort());

    const text = await cli('failed', 'list', 'events', '--local');
    expect(text.stdout).toContain(
      'events dead-letter queue: ~3 messages, showing 3 (2 events) (left in place)',
    );
    expect(text.stdout).toContain(
      `1 event is in the DLQ more than once among those listed: ${twice} 2 copies. `,
    );
    expect(text.stdout).toContain('hookline failed delete events --id <sqs id> --local');

    const summary = await cli('failed', 'summary', 'events', '--local');
    expect(summary.stdout).toContain(
      'events dead-letter queue: 3 messages read (2 events), 1 distinct failure (left in place)',
    );
    expect(summary.stdout).toContain(
      `1 event is in the DLQ more than once among the 3 read: ${twice} 2 copies. `,
    );
    // Nothing consumed by either read.
    expect(await depth(dlq)).toEqual({ visible: 3, inFlight: 0 });
    await purge(backend, target, { queue: 'events', deadLetter: true, yes: true });
  }, 120_000);

  it('purge: refuses without --yes in a non-interactive shell, empties the DLQ with it', async () => {
    const dlq = queueUrl('events').deadLetterUrl;
    await seedDeadLetters(dlq, ['p-1', 'p-2']);
    const refused = await cli('purge', 'events', '--dlq', '--local');
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split('\n').at(-1)).toBe(
      'error: refusing to purge the events dead-letter queue without confirmation in a non-interactive shell: pass --yes',
    );
    expect((await depth(dlq)).visible).toBeGreaterThanOrEqual(2);
    const done = await cli('purge', 'events', '--dlq', '--local', '--yes', '--json');
    expect(done.code).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({
      queue: 'events',
      deadLetter: true,
      finishesWithinSeconds: 0,
    });
    expect((await depth(dlq)).visible).toBe(0);
    // Local mode empties the queue before it answers: no "SQS may take up to 60 s", which only AWS needs.
    await seedDeadLetters(dlq, ['p-3']);
    const text = await cli('purge', 'events', '--dlq', '--local', '--yes');
    expect(text.stdout.trim()).toBe('purged the events dead-letter queue (~1 message)');
    expect((await depth(dlq)).visible).toBe(0);
  }, 60_000);

  it('the real binary: status, send and pause/resume with --json', async () => {
    const statusRun = await binary('status', '--local', '--json');
    expect(statusRun.code).toBe(0);
    expect(JSON.parse(statusRun.stdout).queues.map((q: { queue: string }) => q.queue)).toEqual([
      'events',
      'orders',
    ]);
    // Whether a redelivered or redriven copy runs again, from local mode's own configuration.
    expect(JSON.parse(statusRun.stdout).queues.map((q: { idempotency?: unknown }) => q.idempotency)).toEqual([
      { expirySeconds: 259_200 },
      { expirySeconds: 259_200 },
    ]);

    const sendRun = await binary('send', 'stripe', '--local', '--json', '--type', 'invoice.payment_failed');
    expect(sendRun.code).toBe(0);
    const sent = JSON.parse(sendRun.stdout);
    expect(sent).toMatchObject({ status: 202, type: 'invoice.payment_failed' });
    await waitFor(() => events.some((e) => e.event === 'processed' && e.id === sent.id), 20_000, 'processed');

    const pauseRun = await binary('pause', 'orders', '--local', '--json');
    expect(JSON.parse(pauseRun.stdout)).toEqual({ queue: 'orders', state: 'Disabled' });
    const resumeRun = await binary('resume', 'orders', '--local');
    expect(resumeRun.stdout.trim()).toBe('orders consumer: Enabled');

    const humanStatus = await binary('status', '--local');
    expect(humanStatus.stdout).toMatch(/QUEUE\s+VISIBLE\s+IN FLIGHT\s+DELAYED\s+DLQ\s+OLDEST\s+CONSUMER/);
    expect(humanStatus.stdout).toContain(
      'idempotency: on for events, orders (a copy of an event completed in the last 3d 0h, redelivered or redriven, is skipped)\n',
    );
    expect(humanStatus.stdout.includes('\u001b[')).toBe(false);
  }, 120_000);

  it('the real binary: send shows the id of a Slack slash command, whose answer is an empty 200 carrying it in X-Hookline-Id', async () => {
    const form = join(stateDir, `slash-${randomUUID()}.txt`);
    writeFileSync(form, 'command=%2Fdeploy&text=staging&team_id=T1');
    const flags = ['--local', '--file', form, '--content-type', 'application/x-www-form-urlencoded'];
    const sendRun = await binary('send', 'slack', ...flags, '--json');
    expect(sendRun.code).toBe(0);
    const sent = JSON.parse(sendRun.stdout);
    expect(sent).toMatchObject({ status: 200, ok: true, type: 'slash_command' });
    expect(sent.id).toEqual(expect.any(String));
    expect(sent).not.toHaveProperty('response');
    await waitFor(() => events.some((e) => e.event === 'queued' && e.id === sent.id), 20_000, 'queued');

    const human = await binary('send', 'slack', ...flags);
    expect(human.stdout).toMatch(
      /^200 slack slash_command -> http:\/\/127\.0\.0\.1:\d+\/webhooks\/slack id \S+\n$/,
    );
  }, 60_000);

  it('the real binary: status --local asks local mode and loads no AWS SDK, no zod and no aws-cdk-lib, as a table or as JSON', async () => {
    const preload = join(import.meta.dirname, 'record-loaded-packages.mjs');
    const loadedBy = async (...flags: string[]) => {
      const record = join(stateDir, `loaded-${randomUUID()}.txt`);
      const { stdout } = await runHooklineOkWith(
        { ...env(), RECORD_LOADED_PACKAGES: record, NODE_OPTIONS: `--import ${pathToFileURL(preload).href}` },
        ['status', '--local', ...flags],
      );
      return { stdout, loaded: [...new Set(readFileSync(record, 'utf8').split('\n'))].filter(Boolean) };
    };
    const asJson = await loadedBy('--json');
    expect(JSON.parse(asJson.stdout).queues.length).toBeGreaterThan(0);
    // The table renders through other modules (its notes among them) than the JSON.
    const asTable = await loadedBy();
    expect(asTable.stdout).toMatch(/QUEUE\s+VISIBLE/);
    for (const { loaded } of [asJson, asTable]) {
      // The recorder works: the CLI's own argument parser is there.
      expect(loaded).toContain('commander');
      expect(loaded.filter((name) => /^@aws-sdk\/|^@smithy\/|^zod$|^aws-cdk-lib$/.test(name))).toEqual([]);
    }
  }, 120_000);

  it('the real binary: expected errors are one line with the fix and exit code 1', async () => {
    const unknown = await binary('failed', 'list', 'nope', '--local');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error: unknown queue "nope" in local mode: use one of events, orders$/m);
    expect(unknown.stderr).not.toMatch(/\n\s+at /);
    // The example pipeline forwards nowhere: the error says how to have a forwarding queue, not "are none".
    const noForward = await binary('forward', 'secret', 'events', '--local');
    expect(noForward.code).toBe(1);
    expect(noForward.stderr.trim()).toBe(
      'error: queue events does not forward in the running local mode: its forwarding queues are none: set consumer.forward on a queue and restart local mode (npm start or npx hookline dev)',
    );
    const stopped = await runHooklineWith({ ...process.env, HOOKLINE_STATE_DIR: join(stateDir, 'nowhere') }, [
      'status',
      '--local',
    ]);
    expect(stopped).toMatchObject({ code: 1 });
    expect(stopped.stderr).toMatch(
      /^error: local mode is not running: start it with npm start or npx hookline dev$/m,
    );
  }, 60_000);
});
