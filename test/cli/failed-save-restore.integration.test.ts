/**
 * `failed save` and `failed restore` through the real CLI program against local mode on the emulators: what is
 * saved puts back every dead letter as SQS held it (a claim-checked body's reference, attributes, FIFO groups in
 * order), so `failed show` reads the same letter and `redrive` delivers it to the consumer; a claim-checked body the
 * payload bucket deleted since is uploaded again from the file; a restore that SQS partly refused sends (and
 * uploads), run again, only what it had not; a FIFO file restored again on purpose arrives again, where a resumed run
 * never sends a letter twice.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAILURE_ATTRIBUTES, MESSAGE_ATTRIBUTES } from '../../lambda/shared/envelope';
import { queueDepth } from '../../lib/cli/dead-letters';
import { localS3Client, localSqsClient } from '../../lib/local/clients';
import { runHooklineInProcess } from '../helpers/local/cli';
import { recordingQueue, startTestPipeline, type TestPipeline, testConfig } from '../helpers/local/pipeline';

let pipeline: TestPipeline;
let sqs: SQSClient;
let s3: S3Client;
let stateDir: string;
let dir: string;

const cli = (...args: string[]) => runHooklineInProcess(stateDir, [...args, '--local']);
const urls = (queue: string) => {
  const q = pipeline.local.topology.queues[queue];
  if (!q) throw new Error(`no queue ${queue}`);
  return q;
};

function envelope(id: string, type = 'order.paid'): string {
  return JSON.stringify({
    v: 1,
    id,
    source: 'generic',
    type,
    receivedAt: new Date().toISOString(),
    headers: { 'content-type': 'application/json', 'x-note': `note ${id}` },
    contentType: 'application/json',
    body: JSON.stringify({ id, type, amount: 42 }),
    bodyEncoding: 'utf8',
  });
}

/** A dead letter as the consumer writes it: the envelope and its failure reason as attributes. */
async function deadLetter(queue: string, body: string, id: string, group?: string): Promise<void> {
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: urls(queue).deadLetterUrl,
      MessageBody: body,
      MessageAttributes: {
        [MESSAGE_ATTRIBUTES.eventId]: { DataType: 'String', StringValue: id },
        [FAILURE_ATTRIBUTES.errorName]: { DataType: 'String', StringValue: 'PermanentError' },
        [FAILURE_ATTRIBUTES.errorMessage]: { DataType: 'String', StringValue: `gave up on ${id}` },
        'x-binary': { DataType: 'Binary', BinaryValue: Buffer.from([0, 1, 2, 255]) },
      },
      ...(group ? { MessageGroupId: group, MessageDeduplicationId: id } : {}),
    }),
  );
}

/** A webhook whose body the ingest claim-checked to S3, moved to the DLQ as the consumer would dead-letter it. */
async function claimCheckedDeadLetter(
  id: string,
  posted: object = { id, type: 'order.big' },
): Promise<string> {
  const answer = await pipeline.post('generic', { ...posted, padding: 'x'.repeat(4_000) });
  expect(answer.status).toBe(202);
  const received = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: urls('events').url,
      WaitTimeSeconds: 5,
      MessageAttributeNames: ['All'],
    }),
  );
  const [message] = received.Messages ?? [];
  const body = message?.Body ?? '';
  expect(JSON.parse(body).payloadRef).toBeDefined();
  await deadLetter('events', body, id);
  await sqs.send(
    new DeleteMessageCommand({ QueueUrl: urls('events').url, ReceiptHandle: message?.ReceiptHandle }),
  );
  return body;
}

/** `failed show --json` of every id: what a person reads of each letter. */
async function shown(queue: string, ids: readonly string[]) {
  const views = [];
  for (const id of ids) {
    const run = await cli('failed', 'show', queue, id, '--json');
    expect(run.code, run.stderr).toBe(0);
    const { body, bodyEncoding, headers, messageAttributes, payloadRef, error, messageGroupId, type } =
      JSON.parse(run.stdout);
    views.push({
      id,
      body,
      bodyEncoding,
      headers,
      messageAttributes,
      payloadRef,
      error,
      messageGroupId,
      type,
    });
  }
  return views;
}

async function purgeDeadLetters(queue: string): Promise<void> {
  const purged = await cli('purge', queue, '--dlq', '--yes');
  expect(purged.code, purged.stderr).toBe(0);
  const depth = await queueDepth(sqs, urls(queue).deadLetterUrl);
  expect(depth.visible + depth.inFlight).toBe(0);
}

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'hookline-save-state-'));
  dir = mkdtempSync(join(tmpdir(), 'hookline-save-files-'));
  const config = testConfig(
    { events: recordingQueue(), orders: recordingQueue({ fifo: true }) },
    { payloads: { inlineLimitBytes: 1024 } },
  );
  pipeline = await startTestPipeline(config, { stateDir });
  sqs = localSqsClient(pipeline.local.emulators);
  s3 = localS3Client(pipeline.local.emulators);
  for (const queue of ['events', 'orders']) expect((await cli('pause', queue)).code).toBe(0);
}, 120_000);

afterAll(async () => {
  sqs?.destroy();
  s3?.destroy();
  await pipeline?.local.stop();
  for (const d of [stateDir, dir]) if (d) rmSync(d, { recursive: true, force: true });
}, 60_000);

describe('failed save, then failed restore, puts the dead letters back as SQS held them', () => {
  it('a standard DLQ with a claim-checked body: failed show reads the same letters, and redrive delivers them', async () => {
    const ids = ['save-1', 'save-2', 'save-3'];
    for (const id of ids) await deadLetter('events', envelope(id), id);
    const big = 'save-big';
    const bigBody = await claimCheckedDeadLetter(big);
    const all = [...ids, big];
    const before = await shown('events', all);
    const file = join(dir, 'events.jsonl');

    const saved = await cli('failed', 'save', 'events', '--out', file, '--json');
    expect(saved.code, saved.stderr).toBe(0);
    expect(JSON.parse(saved.stdout)).toMatchObject({ saved: 4, complete: true, claimChecked: 1, file });
    expect(saved.stderr).toMatch(/100% 4\/4 saved from the events DLQ/);
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({
      format: 'hookline.dead-letters',
      queue: 'events',
      target: 'local mode',
    });
    expect(lines.at(-1)).toMatchObject({ end: true, letters: 4, complete: true });
    const bigLine = lines.find((l) => l.id === big);
    expect(bigLine.sqs.body).toBe(bigBody);
    expect(bigLine.sqs.messageAttributes['x-binary']).toEqual({
      dataType: 'Binary',
      binaryValue: 'AAEC/w==',
    });
    // Saving reads, it never consumes: the letters are all still there.
    expect((await queueDepth(sqs, urls('events').deadLetterUrl)).visible).toBe(4);

    await purgeDeadLetters('events');
    const restored = await cli('failed', 'restore', 'events', file, '--json');
    expect(restored.code, restored.stderr).toBe(0);
    expect(JSON.parse(restored.stdout)).toMatchObject({ letters: 4, sent: 4, failed: 0, alreadyRestored: 0 });
    expect(await shown('events', all)).toEqual(before);

    expect((await cli('resume', 'events')).code).toBe(0);
    const redriven = await cli('redrive', 'events', '--json');
    expect(redriven.code, redriven.stderr).toBe(0);
    await pipeline.waitFor(
      () => all.every((id) => pipeline.sideEffects().some((e) => e.id === id)),
      30_000,
      'the consumer to run every restored letter',
    );
  }, 120_000);

  it('a FIFO DLQ: each group comes back in its order, and redrive delivers it', async () => {
    const ids = ['o-a1', 'o-b1', 'o-a2', 'o-b2', 'o-a3'];
    for (const id of ids) await deadLetter('orders', envelope(id), id, id.slice(0, 3));
    const file = join(dir, 'orders.jsonl');

    const saved = await cli('failed', 'save', 'orders', '--out', file, '--json');
    expect(saved.code, saved.stderr).toBe(0);
    expect(JSON.parse(saved.stdout)).toMatchObject({ saved: 5, complete: true, behindHeldGroups: 0 });
    const before = await shown('orders', ids);

    await purgeDeadLetters('orders');
    const restored = await cli('failed', 'restore', 'orders', file, '--json');
    expect(restored.code, restored.stderr).toBe(0);
    expect(JSON.parse(restored.stdout)).toMatchObject({ sent: 5, failed: 0 });
    expect(await shown('orders', ids)).toEqual(before);
    const listed = JSON.parse((await cli('failed', 'list', 'orders', '--json')).stdout);
    for (const group of ['o-a', 'o-b']) {
      const inGroup = listed.messages.filter((m: { messageGroupId: string }) => m.messageGroupId === group);
      expect(inGroup.map((m: { id: string }) => m.id)).toEqual(ids.filter((id) => id.startsWith(group)));
    }

    expect((await cli('resume', 'orders')).code).toBe(0);
    expect((await cli('redrive', 'orders')).code).toBe(0);
    await pipeline.waitFor(
      () => ids.every((id) => pipeline.sideEffects().some((e) => e.id === id)),
      30_000,
      'the consumer to run every restored FIFO letter',
    );
    const order = pipeline.sideEffects().map((e) => e.id);
    expect(order.filter((id) => id.startsWith('o-a'))).toEqual(['o-a1', 'o-a2', 'o-a3']);
  }, 120_000);

  it('a FIFO file restored again on purpose arrives again, while a resumed run never sends a letter twice', async () => {
    await purgeDeadLetters('orders');
    const ids = ['again-a1', 'again-b1', 'again-a2'];
    for (const id of ids) await deadLetter('orders', envelope(id), id, id.slice(0, 7));
    const file = join(dir, 'orders-again.jsonl');
    expect((await cli('failed', 'save', 'orders', '--out', file)).code).toBe(0);
    const [header, ...letters] = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const savedIds: string[] = letters.filter((l) => l.sqs).map((l) => l.sqs.messageId);
    const journal = `${file}.restored`;
    const dlqDepth = async () => (await queueDepth(sqs, urls('orders').deadLetterUrl)).visible;
    await purgeDeadLetters('orders');

    const first = await cli('failed', 'restore', 'orders', file, '--json');
    expect(JSON.parse(first.stdout)).toMatchObject({ sent: 3, failed: 0 });
    expect(await dlqDepth()).toBe(3);

    // A crash after SQS took the last batch, before the journal said so: resumed, the same run's copy is dropped.
    const journaled = readFileSync(journal, 'utf8');
    writeFileSync(journal, journaled.replace(`${savedIds.at(-1)}\n`, ''));
    const resumed = await cli('failed', 'restore', 'orders', file, '--json');
    expect(JSON.parse(resumed.stdout)).toMatchObject({ sent: 1, alreadyRestored: 2 });
    expect(await dlqDepth()).toBe(3);

    // The letters dead-lettered again and deleted, the journal moved away: a new run, within five minutes.
    await purgeDeadLetters('orders');
    rmSync(journal);
    const deliberate = await cli('failed', 'restore', 'orders', file, '--json');
    expect(JSON.parse(deliberate.stdout)).toMatchObject({ sent: 3, alreadyRestored: 0 });
    expect(await dlqDepth()).toBe(3);
    const listed = JSON.parse((await cli('failed', 'list', 'orders', '--json')).stdout);
    expect(listed.messages.map((m: { id: string }) => m.id).sort()).toEqual([...ids].sort());

    // A journal an older hookline began (no run line), resumed: the letter it sent unjournaled is not sent twice.
    await purgeDeadLetters('orders');
    writeFileSync(journal, `save ${header.saveId}\n`);
    const [firstLetter] = letters;
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: urls('orders').deadLetterUrl,
        MessageBody: firstLetter.sqs.body,
        MessageGroupId: firstLetter.sqs.messageGroupId,
        MessageDeduplicationId: `restore-${firstLetter.sqs.messageId}`,
      }),
    );
    const older = await cli('failed', 'restore', 'orders', file, '--json');
    expect(JSON.parse(older.stdout)).toMatchObject({ sent: 3, failed: 0 });
    expect(await dlqDepth()).toBe(3);
  }, 120_000);

  it('a restore SQS partly refused sends, run again, only the letters it had not sent', async () => {
    expect((await cli('pause', 'events')).code).toBe(0);
    const ids = Array.from({ length: 12 }, (_, i) => `partial-${i}`);
    for (const id of ids) await deadLetter('events', envelope(id), id);
    const file = join(dir, 'partial.jsonl');
    expect((await cli('failed', 'save', 'events', '--out', file)).code).toBe(0);
    await purgeDeadLetters('events');

    // One letter SQS refuses: an empty attribute value, as SQS refuses it.
    const original = readFileSync(file, 'utf8');
    const lines = original.trim().split('\n');
    const broken = JSON.parse(lines[5] ?? '');
    broken.sqs.messageAttributes['x-empty'] = { dataType: 'String', stringValue: '' };
    writeFileSync(file, [...lines.slice(0, 5), JSON.stringify(broken), ...lines.slice(6)].join('\n'));
    const first = await cli('failed', 'restore', 'events', file, '--json');
    expect(first.code).toBe(1);
    const report = JSON.parse(first.stdout);
    expect(report).toMatchObject({ letters: 12, sent: 11, failed: 1 });
    expect(report.failures).toEqual([
      expect.objectContaining({ n: 5, id: broken.id, messageId: broken.sqs.messageId }),
    ]);

    writeFileSync(file, original);
    const again = await cli('failed', 'restore', 'events', file, '--json');
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ sent: 1, alreadyRestored: 11, failed: 0 });
    const listed = JSON.parse((await cli('failed', 'list', 'events', '--limit', '100', '--json')).stdout);
    expect(listed.messages.map((m: { id: string }) => m.id).sort()).toEqual([...ids].sort());
  }, 120_000);

  it('refuses a file of another queue, a file cut short, and a --failure no letter has', async () => {
    const file = join(dir, 'partial.jsonl');
    const other = await cli('failed', 'restore', 'orders', file);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(
      /holds dead letters of the events queue, not orders: restore it with hookline failed restore events /,
    );

    const cut = join(dir, 'cut.jsonl');
    writeFileSync(cut, readFileSync(file, 'utf8').trim().split('\n').slice(0, -1).join('\n'));
    const cutRun = await cli('failed', 'restore', 'events', cut);
    expect(cutRun.code).toBe(1);
    expect(cutRun.stderr).toMatch(/ends before its end line \(12 letters read\): the save did not finish/);
    expect(existsSync(`${cut}.restored`)).toBe(false);

    const toStdout = await cli('failed', 'save', 'events');
    expect(toStdout.code, toStdout.stderr).toBe(0);
    const streamed = toStdout.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(streamed.at(-1)).toMatchObject({ end: true, letters: 12, complete: true });
    expect(toStdout.stderr).toMatch(/saved 12 dead letters of the events dead-letter queue to stdout/);
    const jsonWithoutFile = await cli('failed', 'save', 'events', '--json');
    expect(jsonWithoutFile.code).toBe(2);
    expect(jsonWithoutFile.stderr).toMatch(
      /--json prints the summary on stdout, where the letters go without --out/,
    );

    const unknown = await cli('failed', 'save', 'events', '--failure', '', '--out', join(dir, 'none.jsonl'));
    expect(unknown.code).not.toBe(0);
    expect(existsSync(join(dir, 'none.jsonl'))).toBe(false);
    const nomatch = await cli(
      'failed',
      'save',
      'events',
      '--failure',
      '0000abcd',
      '--out',
      join(dir, 'none.jsonl'),
    );
    expect(nomatch.code).toBe(1);
    expect(nomatch.stderr).toMatch(/nothing was saved/);
    // Neither the file nor the temporary one it was written to: a failed save leaves nothing to take for a save.
    expect(readdirSync(dir).filter((name) => name.includes('none.jsonl'))).toEqual([]);
  }, 120_000);

  it('a claim-checked body the payload bucket deleted comes back: saved in the file, uploaded again on restore, delivered whole by redrive', async () => {
    expect((await cli('pause', 'events')).code).toBe(0);
    await purgeDeadLetters('events');
    const id = 'gone-body';
    const posted = { id, type: 'test.body', lines: Array.from({ length: 60 }, (_, i) => `line ${i} é ✓`) };
    const body = await claimCheckedDeadLetter(id, posted);
    const ref = JSON.parse(body).payloadRef;
    const file = join(dir, 'gone.jsonl');

    const saved = await cli('failed', 'save', 'events', '--out', file, '--json');
    expect(saved.code, saved.stderr).toBe(0);
    expect(JSON.parse(saved.stdout)).toMatchObject({
      saved: 1,
      claimChecked: 1,
      payloadsSaved: 1,
      payloadsNotSaved: 0,
    });
    const line = JSON.parse(readFileSync(file, 'utf8').split('\n')[1] ?? '');
    expect(line.payload).toMatchObject({ bucket: ref.bucket, key: ref.key, sizeBytes: ref.sizeBytes });
    expect(JSON.parse(Buffer.from(line.payload.base64, 'base64').toString('utf8'))).toEqual({
      ...posted,
      padding: 'x'.repeat(4_000),
    });

    // As the bucket's lifecycle would after payloads.expiry, and SQS after the DLQ's retention.
    await s3.send(new DeleteObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
    await purgeDeadLetters('events');

    // SQS refuses the letter on a first run (an empty attribute value): its body is uploaded, and journaled.
    const original = readFileSync(file, 'utf8');
    const lines = original.trim().split('\n');
    const broken = JSON.parse(lines[1] ?? '');
    broken.sqs.messageAttributes['x-empty'] = { dataType: 'String', stringValue: '' };
    writeFileSync(file, [lines[0], JSON.stringify(broken), ...lines.slice(2)].join('\n'));
    const first = await cli('failed', 'restore', 'events', file, '--json');
    expect(first.code).toBe(1);
    expect(JSON.parse(first.stdout)).toMatchObject({ sent: 0, failed: 1, payloadsUploaded: 1 });
    expect(readFileSync(`${file}.restored`, 'utf8')).toContain(`payload ${line.sqs.messageId}`);
    await s3.send(new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key }));

    writeFileSync(file, original);
    const again = await cli('failed', 'restore', 'events', file);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/restored 1 of 1 saved letter to the events dead-letter queue/);
    // Uploaded by the first run, as its journal says: not again.
    expect(again.stdout).not.toMatch(/re-uploaded/);

    expect((await cli('resume', 'events')).code).toBe(0);
    const redriven = await cli('redrive', 'events', '--json');
    expect(redriven.code, redriven.stderr).toBe(0);
    await pipeline.waitFor(
      () => pipeline.sideEffects().some((e) => e.id === id),
      30_000,
      'the consumer to run the restored claim-checked letter',
    );
    const delivered = readFileSync(`${pipeline.recordFile}.bodies`, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .find((b) => b.id === id);
    expect(delivered.payload).toEqual({ ...posted, padding: 'x'.repeat(4_000) });
  }, 120_000);

  it('refuses a restore whose claim-check bucket it cannot write to, before sending any letter', async () => {
    expect((await cli('pause', 'events')).code).toBe(0);
    await purgeDeadLetters('events');
    await claimCheckedDeadLetter('unwritable');
    const file = join(dir, 'unwritable.jsonl');
    expect((await cli('failed', 'save', 'events', '--out', file)).code).toBe(0);
    await purgeDeadLetters('events');

    // The same local mode, its state naming a claim-check bucket that is not there.
    const otherState = mkdtempSync(join(tmpdir(), 'hookline-save-state-other-'));
    const state = JSON.parse(readFileSync(join(stateDir, 'local.json'), 'utf8'));
    state.jobs.payloads.bucket = 'no-such-bucket';
    writeFileSync(join(otherState, 'local.json'), JSON.stringify(state));
    const refused = await runHooklineInProcess(otherState, ['failed', 'restore', 'events', file, '--local']);
    rmSync(otherState, { recursive: true, force: true });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /cannot upload the saved body to the claim-check bucket, s3:\/\/no-such-bucket\/payloads\/.*: nothing was restored/,
    );
    expect(await queueDepth(sqs, urls('events').deadLetterUrl)).toMatchObject({ visible: 0, inFlight: 0 });
  }, 120_000);
});

describe('failed save --out', () => {
  it('leaves no temporary file when the process exits before the save ends (a second Ctrl-C)', () => {
    const out = join(dir, 'quit.jsonl');
    // A second Ctrl-C ends the process at once (process.exit), in the middle of the save.
    const script = `import { savedFileWriter } from './lib/cli/saved-dead-letters.ts';
      const writer = savedFileWriter(${JSON.stringify(out)});
      writer.write('{"format":"hookline.dead-letters"}');
      process.exit(130);`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    expect(run.status, run.stderr).toBe(130);
    expect(readdirSync(dir).filter((name) => name.includes('quit.jsonl'))).toEqual([]);
  });
});
