import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { Duration } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { type QueueConfig, resolveConfig } from '../../../lib/config';
import { localDynamoClient, localS3Client, localSqsClient } from '../../../lib/local/clients';
import { startEmulators } from '../../../lib/local/emulators';
import {
  createTopology,
  emulatorLocation,
  type LocalQueue,
  localQueueNameClashes,
  localQueueNames,
  localResourceNames,
  nameInUrl,
  withCurrentPort,
} from '../../../lib/local/topology';

const config = (queues: Record<string, QueueConfig>, dedupe = true, stackName = 'Topo', archive = true) =>
  resolveConfig({
    stackName,
    sources: {
      github: { type: 'github' },
      open: { type: 'unverified', dangerouslyAcceptUnverifiedRequests: true },
    },
    queues,
    dedupe: { enabled: dedupe },
    archive: { enabled: archive },
    payloads: { expiry: Duration.days(18) },
  });
const consumer = (idempotency: boolean) => ({ entry: 'x.ts', idempotency: { enabled: idempotency } });

const queue = (name: string, account = '000000000000'): LocalQueue => ({
  name,
  url: `http://127.0.0.1:4566/000000000000/Topo-${name}`,
  arn: `arn:aws:sqs:us-east-1:${account}:Topo-${name}`,
  deadLetterUrl: `http://127.0.0.1:4566/000000000000/Topo-${name}-dlq`,
  deadLetterArn: `arn:aws:sqs:us-east-1:000000000000:Topo-${name}-dlq`,
  fifo: false,
});

describe('emulatorLocation', () => {
  it("reads the account, region and endpoint the functions address queues with from the emulator's queues", () => {
    expect(emulatorLocation([queue('a'), queue('b')])).toEqual({
      partition: 'aws',
      region: 'us-east-1',
      account: '000000000000',
      urlSuffix: 'amazonaws.com',
      sqsEndpoint: 'http://127.0.0.1:4566',
    });
  });

  it('stops local mode when a queue is not where the functions would look for it', () => {
    expect(() => emulatorLocation([queue('a'), queue('b', '111111111111')])).toThrow(
      /queue http:\/\/127\.0\.0\.1:4566\/000000000000\/Topo-b .* is not where hookline's functions would look/,
    );
  });

  it('refuses a queue URL that names no queue', () => {
    expect(() => nameInUrl('http://127.0.0.1:4566/')).toThrow(/is not a queue URL/);
  });
});

describe('localQueueNameClashes', () => {
  it("names a queue that would share its local name with another queue's dead-letter queue, FIFO with FIFO", () => {
    const clashes = localQueueNameClashes('Topo', [
      { name: 'orders', fifo: true },
      { name: 'orders-dlq', fifo: true },
      { name: 'events', fifo: false },
      { name: 'events-dlq', fifo: false },
    ]);
    expect(clashes).toHaveLength(2);
    expect(clashes[0]).toMatch(
      /^queues\.orders-dlq: local mode names this queue Topo-orders-dlq\.fifo, .*queue "orders"/,
    );
    expect(clashes[1]).toMatch(
      /^queues\.events-dlq: local mode names this queue Topo-events-dlq, .*queue "events"/,
    );
  });

  it('suggests only names the name rule takes and no queue has', () => {
    const [taken] = localQueueNameClashes('Topo', [
      { name: 'events', fifo: false },
      { name: 'events-dlq', fifo: false },
      { name: 'events-dead', fifo: false },
    ]);
    expect(taken).toMatch(/Fix: rename queue "events-dlq" \(e\.g\. "events-failures" or "dead-events"\)$/);
    const long = 'a'.repeat(36);
    const [tooLong] = localQueueNameClashes('Topo', [
      { name: long, fifo: false },
      { name: `${long}-dlq`, fifo: false },
    ]);
    expect(tooLong).toMatch(new RegExp(`Fix: rename queue "${long}-dlq"$`));
  });

  it('passes names that only look alike: a FIFO queue beside a standard one, or -dlq in the middle', () => {
    expect(
      localQueueNameClashes('Topo', [
        { name: 'orders', fifo: true },
        { name: 'orders-dlq', fifo: false },
        { name: 'events', fifo: false },
        { name: 'events-dlq-audit', fifo: false },
        { name: 'dlq', fifo: false },
      ]),
    ).toEqual([]);
  });
});

describe('createTopology', () => {
  it('names queues <stack>-<queue>, DLQs <stack>-<queue>-dlq, with .fifo on FIFO queues', () => {
    expect(localQueueNames('Hookline', { name: 'events', fifo: false })).toEqual({
      queue: 'Hookline-events',
      deadLetter: 'Hookline-events-dlq',
    });
    expect(localQueueNames('Hookline', { name: 'orders', fifo: true })).toEqual({
      queue: 'Hookline-orders.fifo',
      deadLetter: 'Hookline-orders-dlq.fifo',
    });
  });

  it('keeps every local name within what AWS takes for the longest stack and queue names the configuration takes', () => {
    // GIVEN the longest stack name (128) and queue name (40) the configuration takes
    const stack = `S${'s'.repeat(127)}`;
    const longest = 'q'.repeat(40);
    // WHEN local mode names their resources
    const fifo = localQueueNames(stack, { name: longest, fifo: true });
    const standard = localQueueNames(stack, { name: longest, fifo: false });
    const resources = localResourceNames(stack);
    // THEN SQS takes the queue names (at most 80, .fifo included), S3 the buckets' (at most 63), Firehose the stream's
    for (const name of [fifo.queue, fifo.deadLetter, standard.queue, standard.deadLetter]) {
      expect(name).toMatch(/^[A-Za-z0-9_-]+(\.fifo)?$/);
      expect(name.length).toBeLessThanOrEqual(80);
    }
    expect(fifo.deadLetter).toMatch(/-dlq\.fifo$/);
    expect(standard.deadLetter).toBe(`${standard.queue}-dlq`);
    for (const bucket of [resources.payloadBucket, resources.archiveBucket])
      expect(bucket).toMatch(/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/);
    expect(resources.archiveStream.length).toBeLessThanOrEqual(64);
    // AND two long names that differ only past the cut keep names of their own
    expect(localQueueNames(`${stack.slice(0, -1)}x`, { name: longest, fifo: true }).queue).not.toBe(
      fifo.queue,
    );
    expect(localResourceNames(`${stack.slice(0, -1)}x`).payloadBucket).not.toBe(resources.payloadBucket);
  });

  it('creates the queues and buckets of the longest stack and queue names on the emulators', async () => {
    const emulators = await startEmulators();
    const s3 = localS3Client(emulators);
    try {
      const longest = config(
        { ['q'.repeat(40)]: { consumer: consumer(false) } },
        false,
        `S${'s'.repeat(127)}`,
      );
      const { resources } = await createTopology(longest, emulators);
      await s3.send(new HeadBucketCommand({ Bucket: resources.payloadBucketName }));
      expect(resources.queueNames?.['q'.repeat(40)]?.length).toBeLessThanOrEqual(80);
    } finally {
      s3.destroy();
      await emulators.stop();
    }
  });

  it('creates the tables only when needed, the bucket always, and secret ids for the sources that verify', async () => {
    const emulators = await startEmulators();
    const dynamo = localDynamoClient(emulators);
    const s3 = localS3Client(emulators);
    try {
      const none = await createTopology(config({ a: { consumer: consumer(false) } }, false), emulators);
      expect(none.resources).toEqual({
        location: {
          partition: 'aws',
          region: emulators.region,
          account: '000000000000',
          urlSuffix: 'amazonaws.com',
          sqsEndpoint: expect.stringMatching(/^http:\/\//),
        },
        queueUrls: { a: expect.stringContaining('/Topo-a') },
        queueNames: { a: 'Topo-a' },
        deadLetterQueueUrls: { a: expect.stringContaining('/Topo-a-dlq') },
        secretIds: { github: 'env:HOOKLINE_SECRET_GITHUB' },
        payloadBucketName: 'topo-payloads',
        archiveStreamName: 'Topo-archive',
      });
      expect((await dynamo.send(new ListTablesCommand({}))).TableNames).toEqual([]);
      await s3.send(new HeadBucketCommand({ Bucket: 'topo-payloads' }));
      await s3.send(new HeadBucketCommand({ Bucket: 'topo-archive' }));

      const mixed = await createTopology(
        config({ a: { consumer: consumer(false) }, b: { consumer: consumer(true) } }, false, 'Mixed', false),
        emulators,
      );
      expect(mixed.resources).toMatchObject({ idempotencyTableName: 'Mixed-idempotency' });
      expect(mixed.resources).not.toHaveProperty('archiveStreamName');
      expect(mixed).not.toHaveProperty('archive');
      expect((await dynamo.send(new ListTablesCommand({}))).TableNames).toEqual(['Mixed-idempotency']);
      await expect(s3.send(new HeadBucketCommand({ Bucket: 'mixed-archive' }))).rejects.toThrow();

      const both = await createTopology(config({ a: { consumer: consumer(true) } }, true), emulators);
      expect(both.resources).toMatchObject({
        dedupeTableName: 'Topo-dedupe',
        idempotencyTableName: 'Topo-idempotency',
      });
      const dedupe = await dynamo.send(new DescribeTableCommand({ TableName: 'Topo-dedupe' }));
      expect(dedupe.Table?.KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }]);
      const idempotency = await dynamo.send(new DescribeTableCommand({ TableName: 'Topo-idempotency' }));
      expect(idempotency.Table?.KeySchema).toEqual([{ AttributeName: 'id', KeyType: 'HASH' }]);
    } finally {
      dynamo.destroy();
      s3.destroy();
      await emulators.stop();
    }
  });

  it('is idempotent, survives a restart with a data directory, and applies changed queue settings', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hookline-topology-'));
    try {
      const first = await startEmulators({ dataDir });
      const before = await createTopology(config({ a: { consumer: consumer(true) } }), first);
      const again = await createTopology(config({ a: { consumer: consumer(true) } }), first);
      expect(again.queues).toEqual(before.queues);
      const sqs1 = localSqsClient(first);
      await sqs1.send(new SendMessageCommand({ QueueUrl: before.queues.a?.url, MessageBody: 'kept' }));
      sqs1.destroy();
      await first.stop();

      const second = await startEmulators({ dataDir });
      const sqs2 = localSqsClient(second);
      try {
        const changed = config({
          a: { maxReceiveCount: 9, consumer: { ...consumer(true), timeout: Duration.seconds(40) } },
        });
        const after = await createTopology(changed, second);
        expect(after.queues.a?.arn).toBe(before.queues.a?.arn);
        expect(new URL(after.queues.a?.url ?? '').port).toBe(new URL(second.endpoints.sqs).port);
        const { Attributes = {} } = await sqs2.send(
          new GetQueueAttributesCommand({ QueueUrl: after.queues.a?.url, AttributeNames: ['All'] }),
        );
        expect(Attributes.ApproximateNumberOfMessages).toBe('1');
        expect(Attributes.VisibilityTimeout).toBe('240');
        expect(JSON.parse(Attributes.RedrivePolicy ?? '{}')).toEqual({
          deadLetterTargetArn: after.queues.a?.deadLetterArn,
          maxReceiveCount: 9,
        });
      } finally {
        sqs2.destroy();
        await second.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('rewrites only the port of a queue URL', () => {
    expect(withCurrentPort('http://sqs.us-east-1.localhost:1234/000000000000/q', '5678')).toBe(
      'http://sqs.us-east-1.localhost:5678/000000000000/q',
    );
    expect(withCurrentPort('http://127.0.0.1/000000000000/q', '5678')).toBe(
      'http://127.0.0.1:5678/000000000000/q',
    );
  });
});
