/**
 * The configuration the functions run with, as the ingest function completes it at cold start: what the stack and
 * local mode both hand over (`ingestRuntimeConfig`, `consumerRuntimeConfig`), read back the way the functions
 * read it (`ingestConfigOf`).
 */
import { Duration } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { DEFAULT_KEEP_HEADERS, ingestConfigOf } from '../../lambda/shared/ingest-config';
import { type HooklineConfig, resolveConfig } from '../../lib/config';
import {
  consumerRuntimeConfig,
  ingestRuntimeConfig,
  type PipelineResources,
  routedQueues,
} from '../../lib/runtime-wiring';

const consumer = { entry: 'lambda/consumers/events.ts' };
const where = { partition: 'aws', region: 'eu-west-1', account: '123456789012', urlSuffix: 'amazonaws.com' };

function pipelineConfig(overrides: Partial<HooklineConfig> = {}) {
  return resolveConfig({
    sources: { github: { type: 'github' }, stripe: { type: 'stripe' } },
    queues: {
      events: { consumer, tenants: { github: { path: 'installation.id' } } },
      orders: { fifo: true, fifoGrouping: { header: 'X-Shop' }, consumer },
      audit: { fifo: true, consumer },
      'jobs-only': { consumer },
      'ignored-only': { consumer },
    },
    routes: [
      { source: 'stripe', type: 'charge.*', queues: ['orders', 'audit'] },
      { source: '*', type: 'ping', ignore: true },
      { source: 'github', queues: ['audit'] },
    ],
    defaultRoute: { queues: ['events'] },
    ...overrides,
  });
}

function resources(over: Partial<PipelineResources> = {}): PipelineResources {
  const names = ['events', 'orders', 'audit', 'jobs-only', 'ignored-only'];
  const physical = (n: string) => (n === 'orders' || n === 'audit' ? `Stack-${n}.fifo` : `Stack-${n}`);
  return {
    location: where,
    queueNames: Object.fromEntries(names.map((n) => [n, physical(n)])),
    queueUrls: Object.fromEntries(names.map((n) => [n, `https://queue/${n}`])),
    deadLetterQueueUrls: Object.fromEntries(names.map((n) => [n, `https://queue/${n}-dlq`])),
    secretIds: { github: 'secret:github-abc', stripe: 'arn:aws:secretsmanager:us-east-1:1:secret:other' },
    dedupeTableName: 'Dedupe',
    payloadBucketName: 'claims',
    archiveStreamName: 'archive',
    ...over,
  };
}

const ingestOf = (config = pipelineConfig(), res = resources()) =>
  ingestConfigOf(ingestRuntimeConfig(config, res));

describe('the ingest function configuration, as the function reads it', () => {
  it('routes first match wins, with "any" source and type filled back in, and ignoring routes kept', () => {
    const config = ingestOf();
    expect(config.routes).toEqual([
      { source: 'stripe', type: 'charge.*', queues: ['orders', 'audit'], ignore: false },
      { source: '*', type: 'ping', queues: [], ignore: true },
      { source: 'github', type: '*', queues: ['audit'], ignore: false },
    ]);
    expect(config.defaultRoute).toEqual({ queues: ['events'], ignore: false });
  });

  it('reaches only the queues a route or the default route enqueues to, each at its URL in the stack', () => {
    const config = ingestOf();
    expect(Object.keys(config.queues).sort()).toEqual(['audit', 'events', 'orders']);
    expect(config.queues.events).toMatchObject({
      url: 'https://sqs.eu-west-1.amazonaws.com/123456789012/Stack-events',
      fifo: false,
    });
    expect(config.queues.orders).toMatchObject({
      url: 'https://sqs.eu-west-1.amazonaws.com/123456789012/Stack-orders.fifo',
      fifo: true,
    });
  });

  it('groups FIFO queues by their rule (by source when unset) and fair queues by their tenant rules', () => {
    const { queues } = ingestOf();
    expect(queues.orders?.grouping).toEqual({ by: 'header', header: 'x-shop' });
    expect(queues.audit).not.toHaveProperty('grouping');
    expect(queues.audit).not.toHaveProperty('tenants');
    expect(queues.events?.tenants).toEqual({ github: { by: 'path', path: 'installation.id' } });
    expect(queues.events).not.toHaveProperty('grouping');
  });

  it('groups a FIFO queue by type when configured', () => {
    const config = pipelineConfig({
      queues: { orders: { fifo: true, fifoGrouping: 'type', consumer } },
      routes: [],
      defaultRoute: { queues: ['orders'] },
    });
    expect(ingestOf(config, resources()).queues.orders?.grouping).toEqual({ by: 'type' });
  });

  it("resolves a stack secret's id to its ARN in the stack's account, and keeps another account's ARN", () => {
    const { sources } = ingestOf();
    expect(sources.github).toMatchObject({
      type: 'github',
      secretId: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:github-abc',
    });
    expect(sources.stripe).toMatchObject({ secretId: 'arn:aws:secretsmanager:us-east-1:1:secret:other' });
  });

  it('claims delivery ids for the dedupe window, puts large bodies in the bucket and archives, when each is there', () => {
    const config = ingestOf(pipelineConfig({ dedupe: { enabled: true, ttl: Duration.days(4) } }));
    expect(config.dedupe).toEqual({ tableName: 'Dedupe', ttlSeconds: 345_600 });
    expect(config.payloads).toEqual({ bucket: 'claims', inlineLimitBytes: expect.any(Number) });
    expect(config.archive).toEqual({ deliveryStream: 'archive' });
    const bare = ingestOf(
      pipelineConfig(),
      resources({ dedupeTableName: undefined, payloadBucketName: undefined, archiveStreamName: undefined }),
    );
    expect(bare).not.toHaveProperty('dedupe');
    expect(bare).not.toHaveProperty('payloads');
    expect(bare).not.toHaveProperty('archive');
    const off = ingestOf(pipelineConfig({ dedupe: { enabled: false } }));
    expect(off).not.toHaveProperty('dedupe');
  });

  it('keeps the default headers unless the configuration lists others, and caches secrets as configured', () => {
    expect(ingestOf().keepHeaders).toEqual([...DEFAULT_KEEP_HEADERS]);
    const custom = ingestOf(
      pipelineConfig({ ingest: { keepHeaders: ['x-request-id'], secretCache: Duration.minutes(2) } }),
    );
    expect(custom.keepHeaders).toContain('x-request-id');
    expect(custom.secretCacheSeconds).toBe(120);
  });

  it('keeps a configured header list of the default length that differs in one header, and leaves the defaults out of the variable', () => {
    const sameLength = [...DEFAULT_KEEP_HEADERS.slice(0, -1), 'x-request-id'];
    expect(ingestOf(pipelineConfig({ ingest: { keepHeaders: sameLength } })).keepHeaders).toEqual(sameLength);
    const variable = ingestRuntimeConfig(
      pipelineConfig({ ingest: { keepHeaders: [...DEFAULT_KEEP_HEADERS] } }),
      resources(),
    );
    expect(variable).not.toHaveProperty('keepHeaders');
  });

  it('refuses resources without the queue location or a routed queue name, naming what is missing', () => {
    expect(() => ingestRuntimeConfig(pipelineConfig(), resources({ location: undefined }))).toThrow(
      'no queue location',
    );
    const { orders: _orders, ...names } = resources().queueNames ?? {};
    expect(() => ingestRuntimeConfig(pipelineConfig(), resources({ queueNames: names }))).toThrow(
      'no queue name for "orders"',
    );
  });
});

describe('routedQueues', () => {
  it('leaves out queues only ignoring routes name, and queues no route names (fed by jobs and schedules)', () => {
    const config = pipelineConfig({
      routes: [{ source: '*', type: 'ping', ignore: true }],
      defaultRoute: { queues: ['events'] },
    });
    expect(routedQueues(config).map((q) => q.name)).toEqual(['events']);
  });
});

describe('a consumer function configuration', () => {
  const queueOf = (config: ReturnType<typeof pipelineConfig>, name: string) => {
    const queue = config.queues.find((q) => q.name === name);
    if (!queue) throw new Error(`no queue ${name}`);
    return queue;
  };

  it("carries its queue (and how long it keeps a message), DLQ (and how long it keeps one), retry and deadline settings, and the shared resources' names", () => {
    const config = pipelineConfig({
      queues: {
        events: {
          fifo: false,
          maxReceiveCount: 7,
          retentionPeriod: Duration.days(2),
          deadLetterRetentionPeriod: Duration.days(10),
          consumer: {
            ...consumer,
            parallelism: 4,
            retry: { base: Duration.seconds(2), factor: 3, max: Duration.minutes(5) },
            deadlineMargin: Duration.seconds(3),
            idempotency: { enabled: true, expiry: Duration.hours(2) },
          },
        },
      },
      routes: [],
      defaultRoute: { queues: ['events'] },
    });
    expect(
      consumerRuntimeConfig(queueOf(config, 'events'), resources({ idempotencyTableName: 'Idem' })),
    ).toEqual({
      name: 'events',
      queueUrl: 'https://queue/events',
      deadLetterQueueUrl: 'https://queue/events-dlq',
      fifo: false,
      maxReceiveCount: 7,
      retentionSeconds: 172_800,
      parallelism: 4,
      retry: { baseSeconds: 2, factor: 3, maxSeconds: 300 },
      deadlineMarginMs: 3000,
      idempotency: { tableName: 'Idem', expirySeconds: 7200 },
      payloadBucket: 'claims',
      jobRecords: { tableName: 'Dedupe', deadLetterRetentionSeconds: 864_000 },
      archive: { deliveryStream: 'archive' },
      // metricTypes 'none', the default: no type kept, every record's metrics under `other`.
      metricTypes: [],
    });
  });

  it("tells a consumer the types it writes metrics under their own type: none by default, the listed ones, or every type with 'each'", () => {
    const withTypes = (metricTypes?: 'each' | 'none' | readonly string[]) =>
      consumerRuntimeConfig(
        queueOf(
          pipelineConfig({
            queues: { events: { consumer: { ...consumer, ...(metricTypes ? { metricTypes } : {}) } } },
            routes: [],
            defaultRoute: { queues: ['events'] },
          }),
          'events',
        ),
        resources(),
      );
    expect(withTypes()).toMatchObject({ metricTypes: [] });
    expect(withTypes('none')).toMatchObject({ metricTypes: [] });
    expect(withTypes(['github.push'])).toMatchObject({ metricTypes: ['github.push'] });
    expect(withTypes('each')).not.toHaveProperty('metricTypes');
  });

  it('tells a consumer with a circuit breaker to publish its totals, and one without nothing', () => {
    const on = pipelineConfig({
      queues: { events: { consumer: { ...consumer, circuitBreaker: {} } } },
      routes: [],
      defaultRoute: { queues: ['events'] },
    });
    expect(consumerRuntimeConfig(queueOf(on, 'events'), resources())).toMatchObject({ circuitBreaker: true });
    const off = pipelineConfig();
    expect(consumerRuntimeConfig(queueOf(off, 'events'), resources())).not.toHaveProperty('circuitBreaker');
  });

  it('has no idempotency without the table, or when the consumer turns it off', () => {
    const on = pipelineConfig();
    expect(consumerRuntimeConfig(queueOf(on, 'events'), resources())).not.toHaveProperty('idempotency');
    const off = pipelineConfig({
      queues: { events: { consumer: { ...consumer, idempotency: { enabled: false } } } },
      routes: [],
      defaultRoute: { queues: ['events'] },
    });
    expect(
      consumerRuntimeConfig(queueOf(off, 'events'), resources({ idempotencyTableName: 'Idem' })),
    ).not.toHaveProperty('idempotency');
  });

  it('refuses a queue without a consumer, and resources without its URLs', () => {
    const config = pipelineConfig({
      queues: { events: { consumer }, plain: {} },
      routes: [],
      defaultRoute: { queues: ['events'] },
    });
    expect(() => consumerRuntimeConfig(queueOf(config, 'plain'), resources())).toThrow(
      'queue "plain" has no consumer',
    );
    expect(() =>
      consumerRuntimeConfig(queueOf(config, 'events'), resources({ deadLetterQueueUrls: {} })),
    ).toThrow('no dead-letter queue URL for "events"');
  });
});
