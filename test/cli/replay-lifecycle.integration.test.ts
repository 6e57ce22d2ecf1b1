/**
 * The retention `hookline replay` applies, read from a real S3 API (fauxqs) as the deployed path reads the archive
 * bucket: the lifecycle rules `EventArchive` synthesizes, put on the bucket as CloudFormation would, and the same
 * rules changed by hand afterwards; and an archive object that is not the GZIP a delivery stream writes.
 */
import { gzipSync } from 'node:zlib';
import {
  CreateBucketCommand,
  DeleteBucketLifecycleCommand,
  type LifecycleRule,
  PutBucketLifecycleConfigurationCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import exampleConfig from '../../hookline.config';
import { archiveLine, archivePrefix } from '../../lambda/shared/archive';
import { ENVELOPE_VERSION, type WebhookEnvelope } from '../../lambda/shared/envelope';
import { replay } from '../../lib/cli/replay';
import { resolveConfig } from '../../lib/config';
import { EventArchive } from '../../lib/event-archive';
import { localS3Client } from '../../lib/local/clients';
import { type Emulators, startEmulators } from '../../lib/local/emulators';
import { fakeClock, localTestTarget, stackTarget, testBackend } from './helpers';

const BUCKET = 'replay-lifecycle-archive';
const receivedAt = '2026-11-30T10:15:00.000Z';
/** The present: at 2026-11-30T12:00 a one-day rule has expired every object created before 2026-11-29T00:00. */
const now = Date.parse('2026-11-30T12:00:00.000Z');
const sinceNovember = {
  source: 'github',
  since: new Date('2026-11-01T00:00:00.000Z'),
  until: new Date('2026-11-30T11:00:00.000Z'),
  dryRun: true,
};
/** The configuration keeps 90 days (the default). */
const config = resolveConfig(exampleConfig);

let emulators: Emulators;
let s3: S3Client;

/** The archive bucket's lifecycle rules as `EventArchive` synthesizes them for `retention`, in the S3 API's shape. */
function synthesizedRules(retention: Duration): LifecycleRule[] {
  const stack = new Stack(new App(), 'Archive');
  new EventArchive(stack, 'Archive', { retention });
  const buckets = Object.values(Template.fromStack(stack).findResources('AWS::S3::Bucket'));
  const rules = buckets[0]?.Properties.LifecycleConfiguration.Rules as {
    Id: string;
    Status: 'Enabled' | 'Disabled';
    Prefix?: string;
    ExpirationInDays?: number;
    AbortIncompleteMultipartUpload?: { DaysAfterInitiation: number };
  }[];
  return rules.map((rule) => ({
    ID: rule.Id,
    Status: rule.Status,
    Filter: { Prefix: rule.Prefix ?? '' },
    ...(rule.ExpirationInDays !== undefined ? { Expiration: { Days: rule.ExpirationInDays } } : {}),
    ...(rule.AbortIncompleteMultipartUpload
      ? { AbortIncompleteMultipartUpload: rule.AbortIncompleteMultipartUpload }
      : {}),
  }));
}

const putRules = (rules: LifecycleRule[]) =>
  s3.send(
    new PutBucketLifecycleConfigurationCommand({ Bucket: BUCKET, LifecycleConfiguration: { Rules: rules } }),
  );

async function replayNovember() {
  const backend = testBackend({ clock: fakeClock(now), s3 });
  const result = await replay(backend, { ...stackTarget(), archiveBucket: BUCKET }, config, sinceNovember);
  return { result, notes: backend.output.notes };
}

beforeAll(async () => {
  emulators = await startEmulators();
  s3 = localS3Client(emulators);
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const envelope: WebhookEnvelope = {
    v: ENVELOPE_VERSION,
    id: 'push-1',
    source: 'github',
    type: 'push',
    receivedAt,
    headers: {},
    body: '{}',
    bodyEncoding: 'utf8',
  };
  const line = archiveLine(envelope, 'webhook', ['events']);
  await s3.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: `${archivePrefix('github', new Date(receivedAt))}part-1`,
      Body: gzipSync(line ?? ''),
    }),
  );
});

afterAll(async () => {
  s3?.destroy();
  await emulators?.stop();
});

describe("replay's retention from the archive bucket's lifecycle rules (fauxqs)", () => {
  it('applies the rule EventArchive synthesizes, and names it', async () => {
    await putRules(synthesizedRules(Duration.days(1)));
    const { result, notes } = await replayNovember();
    expect(result).toMatchObject({
      matched: 1,
      archiveExpiredBefore: '2026-11-28T22:00:00.000Z',
      archiveRetention: { from: 'bucket-lifecycle', days: 1 },
    });
    expect(notes[0]).toBe(
      "the event archive keeps events 1 day (the archive bucket's lifecycle rule): its objects before 2026-11-28T22:00:00.000Z have expired, so the window is read from then",
    );
  });

  it('applies a rule changed by hand after the deploy, not archive.retention', async () => {
    const deployed = synthesizedRules(Duration.days(90));
    await putRules(deployed);
    expect((await replayNovember()).result).not.toHaveProperty('archiveExpiredBefore');
    const changed = deployed.map((rule) =>
      rule.ID === 'ArchiveRetention' ? { ...rule, Expiration: { Days: 2 } } : rule,
    );
    await putRules(changed);
    const { result, notes } = await replayNovember();
    expect(result).toMatchObject({
      matched: 1,
      archiveExpiredBefore: '2026-11-27T22:00:00.000Z',
      archiveRetention: { from: 'bucket-lifecycle', days: 2 },
    });
    expect(notes[0]).toContain("keeps events 2 days (the archive bucket's lifecycle rule)");
  });

  it('reads the whole window of a bucket whose lifecycle rules were removed, and says so', async () => {
    await s3.send(new DeleteBucketLifecycleCommand({ Bucket: BUCKET }));
    const { result, notes } = await replayNovember();
    expect(result.matched).toBe(1);
    expect(result).not.toHaveProperty('archiveExpiredBefore');
    expect(result.archiveRetention).toEqual({ from: 'none', days: null });
    expect(notes[0]).toBe(
      'the archive bucket has no enabled lifecycle rule expiring every archive/source=github/ object: the whole window is read',
    );
  });
});

describe('replay of an archive object it cannot read (fauxqs)', () => {
  it('stops at an archive object that is not GZIP, naming it, rather than failing with a zlib stack trace', async () => {
    const key = `${archivePrefix('stripe', new Date(receivedAt))}part-1`;
    // GZIP's magic bytes, then what no GZIP stream holds: an object cut short, or put there by hand.
    await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: Buffer.from([0x1f, 0x8b, 1, 2, 3]) }),
    );
    const backend = testBackend({ clock: fakeClock(now), s3 });
    const target = { ...stackTarget(), archiveBucket: BUCKET };

    await expect(replay(backend, target, config, { ...sinceNovember, source: 'stripe' })).rejects.toThrow(
      `the archive object s3://${BUCKET}/${key} cannot be read: it is not the GZIP a delivery stream writes`,
    );
  });
});

describe('replay of archive lines that are not archive records (fauxqs)', () => {
  it("counts them, locally as deployed, in a note and in --json, leaving the events' count alone", async () => {
    const prefix = archivePrefix('shopify', new Date(receivedAt));
    const line = (id: string) =>
      archiveLine(
        {
          v: ENVELOPE_VERSION,
          id,
          type: 'orders/create',
          receivedAt,
          headers: {},
          source: 'shopify',
          body: '{}',
          bodyEncoding: 'utf8',
        },
        'webhook',
        ['events'],
      )?.toString('utf8') ?? '';
    const objects = [
      `${line('sh-1')}${line('sh-2').slice(0, 30)}\n`,
      `${line('sh-3')}not an archive record\n{"put":"by hand"}\n`,
    ];
    for (const [i, text] of objects.entries())
      await s3.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}part-${i + 1}`, Body: gzipSync(text) }),
      );
    const flushed = async () => Response.json({ ok: true });
    const targets = [
      { ...stackTarget(), archiveBucket: BUCKET },
      localTestTarget({ archiveBucket: BUCKET, queues: stackTarget().queues }),
    ];
    for (const target of targets) {
      const backend = testBackend({ clock: fakeClock(now), s3, http: flushed });
      const result = await replay(backend, target, config, { ...sinceNovember, source: 'shopify' });
      expect(result.matched).toBe(2);
      expect(result.archiveLinesSkipped).toEqual({ lines: 3, objects: 2 });
      expect(backend.output.notes).toContain(
        '3 lines in 2 archive objects were not archive records and were skipped (a line cut short, or one another writer put there): they hold no event, so no count of events includes them',
      );
    }
  });
});
