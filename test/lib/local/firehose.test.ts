/**
 * The local Firehose stand-in against the real S3 emulator: a buffer it cannot write stays buffered for the next
 * flush, and the flush says so, so `replay --local` never reads a partial archive as the whole.
 */

import { gunzipSync } from 'node:zlib';
import { FirehoseClient, PutRecordBatchCommand, PutRecordCommand } from '@aws-sdk/client-firehose';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ARCHIVE_RECORD_MAX_BYTES, archiveLine, parseArchiveLines } from '../../../lambda/shared/archive';
import { LOCAL_CREDENTIALS, localS3Client } from '../../../lib/local/clients';
import { type Emulators, startEmulators } from '../../../lib/local/emulators';
import { startLocalFirehose } from '../../../lib/local/firehose';

let emulators: Emulators;
beforeAll(async () => {
  emulators = await startEmulators();
}, 60_000);
afterAll(async () => {
  await emulators?.stop();
});

const envelope = (id: string) => ({
  v: 1 as const,
  id,
  source: 'github',
  type: 'push',
  receivedAt: new Date().toISOString(),
  headers: {},
  body: '{}',
  bodyEncoding: 'utf8' as const,
});

/** Every line of every object under `prefix`, unzipped. */
async function archivedLines(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  const lines: string[] = [];
  for (const object of listed.Contents ?? []) {
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key }));
    const text = gunzipSync(Buffer.from((await got.Body?.transformToByteArray()) ?? [])).toString('utf8');
    lines.push(...text.split('\n').filter(Boolean));
  }
  return lines;
}

let buckets = 0;
/** A new bucket in the local S3, so each test reads only its own objects. */
async function newBucket(s3: S3Client): Promise<string> {
  const bucket = `archive-${process.pid}-${++buckets}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

const line = (id: string) => archiveLine(envelope(id), 'webhook', ['events']) ?? Buffer.alloc(0);

describe('local Firehose stand-in', () => {
  it('keeps a buffer it could not write, says so once, and writes it at the next flush', async () => {
    const s3 = localS3Client(emulators);
    const errors: unknown[] = [];
    const firehose = await startLocalFirehose({
      s3,
      bucket: 'archive-not-yet-created',
      streamName: 'stream',
      bufferIntervalMs: 60_000,
      onError: (error) => errors.push(error),
    });
    try {
      await firehose.put(archiveLine(envelope('e-1'), 'webhook', ['events']) ?? Buffer.alloc(0));
      await expect(firehose.flush()).rejects.toThrow(/1 archive record could not be written/);
      await expect(firehose.flush()).rejects.toThrow(/could not be written/);
      expect(errors).toHaveLength(1);

      await s3.send(new CreateBucketCommand({ Bucket: 'archive-not-yet-created' }));
      await firehose.put(archiveLine(envelope('e-2'), 'webhook', ['events']) ?? Buffer.alloc(0));
      await firehose.flush();
      const listed = await s3.send(
        new ListObjectsV2Command({ Bucket: 'archive-not-yet-created', Prefix: 'archive/source=github/' }),
      );
      const ids: string[] = [];
      for (const object of listed.Contents ?? []) {
        const got = await s3.send(
          new GetObjectCommand({ Bucket: 'archive-not-yet-created', Key: object.Key }),
        );
        const text = gunzipSync(Buffer.from((await got.Body?.transformToByteArray()) ?? [])).toString('utf8');
        ids.push(...parseArchiveLines(text).records.map((r) => r.envelope.id));
      }
      expect(ids).toEqual(['e-1', 'e-2']);
    } finally {
      await firehose.stop();
      s3.destroy();
    }
  });

  it('says so again when writes fail again after they had recovered', async () => {
    const s3 = localS3Client(emulators);
    const bucket = `archive-${process.pid}-flaky`;
    const errors: unknown[] = [];
    const firehose = await startLocalFirehose({
      s3,
      bucket,
      streamName: 'stream',
      bufferIntervalMs: 600_000,
      onError: (error) => errors.push(error),
    });
    try {
      await firehose.put(line('e-1'));
      await expect(firehose.flush()).rejects.toThrow(/could not be written/);
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      await firehose.flush();
      expect(errors).toHaveLength(1);
      // The bucket goes away again: a new outage, said once more.
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
      for (const object of listed.Contents ?? [])
        await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: object.Key }));
      await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
      await firehose.put(line('e-2'));
      await expect(firehose.flush()).rejects.toThrow(/could not be written/);
      expect(errors).toHaveLength(2);
    } finally {
      await s3.send(new CreateBucketCommand({ Bucket: bucket })).catch(() => undefined);
      await firehose.stop();
      s3.destroy();
    }
  });

  it('says once, at stop, that the records it could not write are lost with the stop, not kept', async () => {
    const s3 = localS3Client(emulators);
    const errors: Error[] = [];
    const firehose = await startLocalFirehose({
      s3,
      bucket: 'archive-never-created',
      streamName: 'stream',
      bufferIntervalMs: 60_000,
      onError: (error) => errors.push(error as Error),
    });
    await firehose.put(line('e-1'));
    await firehose.stop();
    s3.destroy();
    expect(errors.map((e) => e.message)).toEqual([
      expect.stringMatching(
        /^1 archive record could not be written to the local S3 and is lost with this stop: /,
      ),
    ]);
  });

  it('writes a partition as soon as it holds bufferBytes, and every buffer interval, without a flush', async () => {
    const s3 = localS3Client(emulators);
    const full = await newBucket(s3);
    const byBytes = await startLocalFirehose({
      s3,
      bucket: full,
      streamName: 'stream',
      bufferIntervalMs: 600_000,
      // Exactly the record's size: a partition is written once it holds that much, not only beyond it.
      bufferBytes: line('full-1').length,
    });
    const timed = await newBucket(s3);
    const byTime = await startLocalFirehose({
      s3,
      bucket: timed,
      streamName: 'stream',
      bufferIntervalMs: 20,
    });
    try {
      await byBytes.put(line('full-1'));
      await byTime.put(line('timed-1'));
      await vi.waitFor(async () => expect(await archivedLines(s3, full, 'archive/')).toHaveLength(1), {
        timeout: 20_000,
      });
      await vi.waitFor(async () => expect(await archivedLines(s3, timed, 'archive/')).toHaveLength(1), {
        timeout: 20_000,
      });
    } finally {
      await byBytes.stop();
      await byTime.stop();
      s3.destroy();
    }
  });

  it('takes PutRecord and PutRecordBatch as Firehose does: one stream, records of 1 byte to the limit, each partitioned by its source', async () => {
    const s3 = localS3Client(emulators);
    const bucket = await newBucket(s3);
    const firehose = await startLocalFirehose({
      s3,
      bucket,
      streamName: 'stream',
      bufferIntervalMs: 600_000,
    });
    const client = new FirehoseClient({
      region: emulators.region,
      endpoint: firehose.endpoint,
      credentials: LOCAL_CREDENTIALS,
      maxAttempts: 1,
    });
    // A record of exactly the largest size Firehose takes (its newline included), under source `big`.
    const head = '{"source":"big","pad":"';
    const largest = Buffer.from(`${head}${'x'.repeat(ARCHIVE_RECORD_MAX_BYTES - head.length - 3)}"}\n`);
    try {
      await expect(
        client.send(new PutRecordCommand({ DeliveryStreamName: 'other', Record: { Data: line('x') } })),
      ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
      await expect(
        client.send(
          new PutRecordCommand({ DeliveryStreamName: 'stream', Record: { Data: new Uint8Array() } }),
        ),
      ).rejects.toMatchObject({ name: 'InvalidArgumentException' });
      await expect(
        client.send(
          new PutRecordCommand({
            DeliveryStreamName: 'stream',
            Record: { Data: Buffer.alloc(ARCHIVE_RECORD_MAX_BYTES + 1, 'x') },
          }),
        ),
      ).rejects.toMatchObject({ name: 'InvalidArgumentException' });
      const single = await client.send(
        new PutRecordCommand({ DeliveryStreamName: 'stream', Record: { Data: line('single-1') } }),
      );
      expect(single.RecordId).toEqual(expect.any(String));
      const batch = await client.send(
        new PutRecordBatchCommand({
          DeliveryStreamName: 'stream',
          Records: [
            { Data: line('batch-1') },
            { Data: new Uint8Array() },
            { Data: Buffer.from('not json\n') },
            { Data: Buffer.from(`${JSON.stringify({ source: '', n: 1 })}\n`) },
            { Data: Buffer.from(`${JSON.stringify({ source: 42, n: 2 })}\n`) },
            { Data: Buffer.alloc(ARCHIVE_RECORD_MAX_BYTES + 1, 'x') },
            { Data: largest },
          ],
        }),
      );
      expect(batch.FailedPutCount).toBe(2);
      expect(batch.RequestResponses?.map((r) => r.ErrorCode ?? typeof r.RecordId)).toEqual([
        'string',
        'InvalidArgumentException',
        'string',
        'string',
        'string',
        'InvalidArgumentException',
        'string',
      ]);
      // Any other action is refused, whatever its body holds.
      const other = await fetch(firehose.endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': 'Firehose_20150804.DeleteDeliveryStream',
        },
        body: JSON.stringify({
          DeliveryStreamName: 'stream',
          Records: [{ Data: line('x').toString('base64') }],
        }),
      });
      expect(other.status).toBe(400);
      expect(await other.json()).toMatchObject({ __type: 'InvalidAction' });
      expect(firehose.accepted).toBe(6);
      await firehose.flush();
      const github = await archivedLines(s3, bucket, 'archive/source=github/');
      expect(parseArchiveLines(github.join('\n')).records.map((r) => r.envelope.id)).toEqual([
        'single-1',
        'batch-1',
      ]);
      // A record without a readable source lands under `unknown`, as Firehose's error prefix would take it.
      expect(await archivedLines(s3, bucket, 'archive/source=unknown/')).toEqual([
        'not json',
        JSON.stringify({ source: '', n: 1 }),
        JSON.stringify({ source: 42, n: 2 }),
      ]);
      expect((await archivedLines(s3, bucket, 'archive/source=big/')).map((l) => l.length)).toEqual([
        ARCHIVE_RECORD_MAX_BYTES - 1,
      ]);
    } finally {
      client.destroy();
      await firehose.stop();
      s3.destroy();
    }
  });

  it('listens on 127.0.0.1 only: neither the IPv6 loopback nor another address of the machine reaches it', async () => {
    const s3 = localS3Client(emulators);
    const firehose = await startLocalFirehose({ s3, bucket: 'any', streamName: 'stream' });
    try {
      const { port } = new URL(firehose.endpoint);
      expect(firehose.endpoint).toBe(`http://127.0.0.1:${port}`);
      await expect(
        fetch(`http://[::1]:${port}/`, { method: 'POST', signal: AbortSignal.timeout(2_000) }),
      ).rejects.toThrow();
    } finally {
      await firehose.stop();
      s3.destroy();
    }
  });
});
