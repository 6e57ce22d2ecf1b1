/**
 * `failed save` says when its file is not the whole DLQ (a FIFO group's later letters hidden behind the ones it
 * holds, Ctrl-C), in its result and the file's end line, and `failed restore` refuses a file of another pipeline.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { failedRestore, renderFailedRestore } from '../../lib/cli/failed-restore';
import { failedSave, renderFailedSave } from '../../lib/cli/failed-save';
import { installFakeQueue } from './fake-queue';
import {
  deadLetterMessage,
  EVENTS,
  localTestTarget,
  mockCommandClients,
  ORDERS,
  recordingOutput,
  stackTarget,
  testBackend,
} from './helpers';

const { sqs } = mockCommandClients();
const s3 = mockClient(S3Client);
beforeEach(() => s3.reset());
const dir = mkdtempSync(join(tmpdir(), 'hookline-save-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Saves `queue` of the stack target into memory: the result and the file's lines. */
async function save(queue: string, signal?: AbortSignal) {
  const lines: string[] = [];
  const backend = testBackend({ s3: new S3Client({ region: 'us-east-1' }) });
  const result = await failedSave(backend, stackTarget(), {
    queue,
    file: 'saved.jsonl',
    write: (line) => lines.push(line),
    ...(signal ? { signal } : {}),
  });
  return { result, lines: lines.map((l) => JSON.parse(l)) };
}

describe('failed save', () => {
  it('keeps each letter as SQS holds it, binary attributes in base64, and what failed show reads', async () => {
    const message = deadLetterMessage(1);
    message.MessageAttributes = {
      ...message.MessageAttributes,
      blob: { DataType: 'Binary', BinaryValue: Uint8Array.from([0, 255]) },
    };
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [message]);
    const { result, lines } = await save('events');
    expect(result).toMatchObject({ saved: 1, complete: true, heldByOthers: 0, behindHeldGroups: 0 });
    expect(lines[0]).toMatchObject({
      format: 'hookline.dead-letters',
      queue: 'events',
      target: 'stack Hookline in us-east-1',
    });
    expect(lines[1]).toMatchObject({ n: 1, id: 'evt-1', type: 'invoice.paid', body: '{"n":1}' });
    expect(lines[1].sqs.body).toBe(message.Body);
    expect(lines[1].sqs.messageAttributes.blob).toEqual({ dataType: 'Binary', binaryValue: 'AP8=' });
    expect(lines[2]).toEqual({
      end: true,
      letters: 1,
      complete: true,
      notSaved: { heldByOthers: 0, behindHeldGroups: 0, interrupted: false },
    });
  });

  it('counts one saved letter in the singular', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [deadLetterMessage(1)]);
    const { result } = await save('events');
    const output = recordingOutput();
    renderFailedSave(output, result);
    expect(output.lines.join('\n')).toMatch(/^saved 1 dead letter of the events dead-letter queue to /m);
  });

  it('says a FIFO DLQ save is incomplete when its groups hid their later letters, in the result and the end line', async () => {
    // Two groups of three: while the read holds the first of a group, SQS returns none of its later ones.
    const messages = Array.from({ length: 6 }, (_, n) => deadLetterMessage(n, { group: `g-${n % 2}` }));
    installFakeQueue(sqs, ORDERS.deadLetterUrl, messages, { fifo: true, headsOnly: true });
    const { result, lines } = await save('orders');
    expect(result).toMatchObject({ saved: 2, complete: false, behindHeldGroups: 4 });
    expect(lines.at(-1)).toMatchObject({
      end: true,
      letters: 2,
      complete: false,
      notSaved: { behindHeldGroups: 4 },
    });
    const output = recordingOutput();
    renderFailedSave(output, result);
    expect(output.lines.join('\n')).toMatch(
      /about 4 could not be read and are not saved: SQS shows them once the earlier letters of their group leave the DLQ/,
    );
  });

  it('ends the file as incomplete when Ctrl-C stopped the read', async () => {
    installFakeQueue(
      sqs,
      EVENTS.deadLetterUrl,
      Array.from({ length: 3 }, (_, n) => deadLetterMessage(n)),
    );
    const stopped = new AbortController();
    stopped.abort();
    const { result, lines } = await save('events', stopped.signal);
    expect(result).toMatchObject({ interrupted: true, complete: false });
    expect(lines.at(-1)).toMatchObject({ end: true, complete: false, notSaved: { interrupted: true } });
  });
});

/** A dead letter whose body the ingest claim-checked to the payload bucket. */
function claimChecked(n: number) {
  const message = deadLetterMessage(n);
  const { body: _inline, ...envelope } = JSON.parse(message.Body ?? '');
  const payloadRef = {
    bucket: 'hookline-payloads',
    key: `payloads/stripe/2026/11/25/evt-${n}`,
    sizeBytes: 7,
  };
  return { ...message, Body: JSON.stringify({ ...envelope, payloadRef }) };
}

const s3Refusal = (name: string, httpStatusCode: number) =>
  Object.assign(new Error(name === 'AccessDenied' ? 'Access Denied' : 'The specified key does not exist.'), {
    name,
    $fault: 'client',
    $metadata: { httpStatusCode, attempts: 1 },
  });

describe('failed save of claim-checked letters', () => {
  it('saves a body S3 refuses to let it read with its reference and why, trying no other after the first refusal', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [claimChecked(1), claimChecked(2), deadLetterMessage(3)]);
    s3.on(GetObjectCommand).rejects(s3Refusal('AccessDenied', 403));
    const { result, lines } = await save('events');
    expect(result).toMatchObject({ saved: 3, claimChecked: 2, payloadsSaved: 0, payloadsNotSaved: 2 });
    expect(result.payloadsRefused).toMatch(
      /cannot read s3:\/\/hookline-payloads\/payloads\/stripe\/2026\/11\/25\/evt-1 \(access denied in stack Hookline in us-east-1: Access Denied \(grant your AWS identity s3:GetObject and s3:ListBucket\)\)/,
    );
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(1);
    expect(lines[1].payload).toBeUndefined();
    expect(lines[2].payloadNotSaved).toBe(result.payloadsRefused);
    const output = recordingOutput();
    renderFailedSave(output, result);
    expect(output.lines.join('\n')).toMatch(
      /2 bodies stored in S3 could not be read, so the file holds only their reference: cannot read s3:.*; save again once they can be read/,
    );
  });

  it('says a body the payload bucket no longer has is gone, and reads the others', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [claimChecked(1), claimChecked(2)]);
    s3.on(GetObjectCommand, { Key: 'payloads/stripe/2026/11/25/evt-1' }).rejects(s3Refusal('NoSuchKey', 404));
    s3.on(GetObjectCommand, { Key: 'payloads/stripe/2026/11/25/evt-2' }).resolves({
      Body: { transformToByteArray: async () => Buffer.from('{"n":2}') },
      ContentType: 'application/json',
    } as never);
    const { result, lines } = await save('events');
    expect(result).toMatchObject({
      payloadsSaved: 1,
      payloadsGone: 1,
      payloadsNotSaved: 0,
      payloadsRefused: null,
    });
    expect(lines[1].payloadNotSaved).toMatch(/evt-1 was gone \(payloads.expiry\) when it was saved/);
    expect(lines[2].payload).toEqual({
      bucket: 'hookline-payloads',
      key: 'payloads/stripe/2026/11/25/evt-2',
      sizeBytes: 7,
      contentType: 'application/json',
      base64: Buffer.from('{"n":2}').toString('base64'),
    });
  });
});

describe('failed restore', () => {
  it('says how many saved bodies it uploaded again, and how many claim-checked letters came without one', () => {
    const output = recordingOutput();
    renderFailedRestore(output, {
      queue: 'events',
      deadLetterQueueUrl: EVENTS.deadLetterUrl,
      file: 'saved.jsonl',
      journal: 'saved.jsonl.restored',
      savedAt: '2026-11-25T02:00:00.000Z',
      letters: 4,
      selected: 4,
      alreadyRestored: 0,
      sent: 4,
      failed: 0,
      failures: [],
      savedComplete: true,
      interrupted: false,
      notReached: 0,
      payloadBucket: 'hookline-payloads',
      payloadsUploaded: 2,
      payloadsMissing: 1,
    });
    const said = output.lines.join('\n');
    expect(said).toContain(
      're-uploaded 2 saved bodies to the claim-check bucket hookline-payloads (payloads.expiry starts again)',
    );
    expect(said).toContain(
      '1 claim-checked letter has no body in the file (gone when saved, or saved by an older hookline): restored with the reference only',
    );
  });

  it('refuses a file saved from another pipeline before sending anything', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [deadLetterMessage(1)]);
    const { lines } = await save('events');
    const file = join(dir, 'stack.jsonl');
    writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n'));
    const local = localTestTarget({ queues: { events: { ...EVENTS } } });
    await expect(failedRestore(testBackend(), local, { queue: 'events', file })).rejects.toThrow(
      `${file} was saved from stack Hookline in us-east-1, not local mode: restore it there`,
    );
    expect(readFileSync(file, 'utf8')).toContain('"end":true');
  });

  it('refuses a --failure that is empty or not a key, rather than restoring everything', async () => {
    const file = join(dir, 'stack.jsonl');
    for (const failure of ['', 'everything']) {
      await expect(
        failedRestore(testBackend(), stackTarget(), { queue: 'events', file, failure }),
      ).rejects.toThrow(/is not a failure key/);
    }
  });
});
