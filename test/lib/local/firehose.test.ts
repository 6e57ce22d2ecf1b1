/**
 * The local Firehose stand-in against the real S3 emulator: a buffer it cannot write stays buffered for the next
 * flush, and the flush says so, so `replay --local` never reads a partial archive as the whole.
 */

import { gunzipSync } from 'node:zlib';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveLine, parseArchiveLines } from '../../../lambda/shared/archive';
import { localS3Client } from '../../../lib/local/clients';
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
      await expect(firehose.flush()).rejects.toThrow(/1 archive record\(s\) could not be written/);
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
        ids.push(...parseArchiveLines(text).map((r) => r.envelope.id));
      }
      expect(ids).toEqual(['e-1', 'e-2']);
    } finally {
      await firehose.stop();
      s3.destroy();
    }
  });
});
