/**
 * The ingest function's variable says where the stack is once and each queue and stack-made secret by its name;
 * the configuration derived from it at cold start holds the URLs and ARNs AWS gives, and every default the
 * variable leaves out.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_KEEP_HEADERS,
  type IngestConfigVariable,
  ingestConfigOf,
  readIngestConfig,
} from '../../../lambda/shared/ingest-config';
import { SENDER_KEPT_HEADERS } from '../../../lambda/shared/senders';

const commercial = {
  partition: 'aws',
  region: 'eu-west-1',
  account: '123456789012',
  urlSuffix: 'amazonaws.com',
};

const variable = (overrides: Partial<IngestConfigVariable> = {}): IngestConfigVariable => ({
  where: commercial,
  sources: {},
  queues: {},
  routes: [],
  defaultRoute: { queues: ['events'] },
  secretCacheSeconds: 300,
  ...overrides,
});

describe('the ingest configuration derived from its variable', () => {
  it("completes a stack secret's ARN tail with where the stack is, and keeps any other id as written", () => {
    const config = ingestConfigOf(
      variable({
        sources: {
          own: { type: 'github', secretId: 'secret:SecretOwn1A2B3C4D-AbCdEfGhIjKl-x1Y2z3' },
          foreign: {
            type: 'stripe',
            secretId: 'arn:aws:secretsmanager:us-east-1:210987654321:secret:s-AbC123',
            toleranceSeconds: 300,
          },
          named: { type: 'github', secretId: 'prod/github-webhook' },
          local: { type: 'github', secretId: 'env:HOOKLINE_SECRET_LOCAL' },
          open: { type: 'unverified' },
        },
      }),
    );
    expect(config.sources).toEqual({
      own: {
        type: 'github',
        secretId:
          'arn:aws:secretsmanager:eu-west-1:123456789012:secret:SecretOwn1A2B3C4D-AbCdEfGhIjKl-x1Y2z3',
      },
      foreign: {
        type: 'stripe',
        secretId: 'arn:aws:secretsmanager:us-east-1:210987654321:secret:s-AbC123',
        toleranceSeconds: 300,
      },
      named: { type: 'github', secretId: 'prod/github-webhook' },
      local: { type: 'github', secretId: 'env:HOOKLINE_SECRET_LOCAL' },
      open: { type: 'unverified' },
    });
  });

  it('gives each queue the URL SQS gives it, FIFO exactly when its name ends in .fifo, in every partition and locally', () => {
    const queues = {
      events: { queue: 'Hookline-QueueEvents-AbC123' },
      orders: { queue: 'Hookline-QueueOrders-XyZ789.fifo', grouping: { by: 'path' as const, path: 'id' } },
      fair: {
        queue: 'Hookline-QueueFair-Q1',
        tenants: { shop: { by: 'header' as const, header: 'x-shop' } },
      },
    };
    expect(ingestConfigOf(variable({ queues })).queues).toEqual({
      events: {
        url: 'https://sqs.eu-west-1.amazonaws.com/123456789012/Hookline-QueueEvents-AbC123',
        fifo: false,
      },
      orders: {
        url: 'https://sqs.eu-west-1.amazonaws.com/123456789012/Hookline-QueueOrders-XyZ789.fifo',
        fifo: true,
        grouping: { by: 'path', path: 'id' },
      },
      fair: {
        url: 'https://sqs.eu-west-1.amazonaws.com/123456789012/Hookline-QueueFair-Q1',
        fifo: false,
        tenants: { shop: { by: 'header', header: 'x-shop' } },
      },
    });
    const china = { partition: 'aws-cn', region: 'cn-north-1', account: '1', urlSuffix: 'amazonaws.com.cn' };
    const cn = ingestConfigOf(
      variable({ where: china, queues, sources: { gh: { type: 'github', secretId: 'secret:S-a-b' } } }),
    );
    expect(cn.queues.events?.url).toBe(
      'https://sqs.cn-north-1.amazonaws.com.cn/1/Hookline-QueueEvents-AbC123',
    );
    expect(cn.sources.gh).toEqual({
      type: 'github',
      secretId: 'arn:aws-cn:secretsmanager:cn-north-1:1:secret:S-a-b',
    });
    const local = { ...commercial, account: '000000000000', sqsEndpoint: 'http://127.0.0.1:4711' };
    expect(ingestConfigOf(variable({ where: local, queues })).queues.events?.url).toBe(
      'http://127.0.0.1:4711/000000000000/Hookline-QueueEvents-AbC123',
    );
  });

  it('fills in what the variable leaves out: any source and type, no queues, not ignored, the default headers', () => {
    const config = ingestConfigOf(
      variable({
        routes: [
          { source: 'github', queues: ['a'] },
          { type: 'ping', ignore: true },
        ],
        defaultRoute: { ignore: true },
      }),
    );
    expect(config.routes).toEqual([
      { source: 'github', type: '*', queues: ['a'], ignore: false },
      { source: '*', type: 'ping', queues: [], ignore: true },
    ]);
    expect(config.defaultRoute).toEqual({ queues: [], ignore: true });
    expect(config.keepHeaders).toEqual(DEFAULT_KEEP_HEADERS);
    expect(ingestConfigOf(variable({ keepHeaders: ['x-one'] })).keepHeaders).toEqual(['x-one']);
  });

  it('refuses a variable without where the stack is, naming the field and the fix', () => {
    const { where: _, ...withoutWhere } = variable();
    expect(() => readIngestConfig({ HOOKLINE_INGEST_CONFIG: JSON.stringify(withoutWhere) })).toThrow(
      /HOOKLINE_INGEST_CONFIG is invalid at where: .*redeploy with a valid configuration/,
    );
  });

  it('keeps, read back from the variable, every setting the stack wrote: dedupe, claim check, archive, grouping, tenants and routes', () => {
    const written = variable({
      sources: { gh: { type: 'github', secretId: 'prod/github-webhook' } },
      queues: {
        bySource: { queue: 'a.fifo', grouping: { by: 'source' } },
        byType: { queue: 'b.fifo', grouping: { by: 'type' } },
        byPath: { queue: 'c.fifo', grouping: { by: 'path', path: 'customer.id' } },
        fair: { queue: 'd', tenants: { gh: { by: 'header', header: 'x-shop' } } },
      },
      routes: [{ source: 'gh', type: 'push', queues: ['byType'], ignore: false }],
      defaultRoute: { queues: ['bySource'] },
      dedupe: { tableName: 'Hookline-dedupe', ttlSeconds: 259_200 },
      payloads: { bucket: 'Hookline-payloads', inlineLimitBytes: 1_032_192 },
      archive: { deliveryStream: 'Hookline-archive' },
      keepHeaders: ['x-one'],
      secretCacheSeconds: 120,
    });
    expect(readIngestConfig({ HOOKLINE_INGEST_CONFIG: JSON.stringify(written) })).toEqual(
      ingestConfigOf(written),
    );
    expect(ingestConfigOf(written)).toMatchObject({
      dedupe: { tableName: 'Hookline-dedupe', ttlSeconds: 259_200 },
      payloads: { bucket: 'Hookline-payloads', inlineLimitBytes: 1_032_192 },
      archive: { deliveryStream: 'Hookline-archive' },
      secretCacheSeconds: 120,
      routes: [{ source: 'gh', type: 'push', queues: ['byType'], ignore: false }],
      queues: {
        bySource: { grouping: { by: 'source' } },
        byType: { grouping: { by: 'type' } },
        byPath: { grouping: { by: 'path', path: 'customer.id' } },
        fair: { tenants: { gh: { by: 'header', header: 'x-shop' } } },
      },
    });
  });

  it.each([
    ['dedupe.ttlSeconds', { dedupe: { tableName: 't', ttlSeconds: 0 } }],
    ['payloads.inlineLimitBytes', { payloads: { bucket: 'b', inlineLimitBytes: 1.5 } }],
    ['archive.deliveryStream', { archive: { deliveryStream: '' } }],
    ['secretCacheSeconds', { secretCacheSeconds: -1 }],
    ['queues.q.grouping', { queues: { q: { queue: 'q.fifo', grouping: { by: 'path' } } } }],
    ['queues.q.grouping', { queues: { q: { queue: 'q.fifo', grouping: { by: 'tenant' } } } }],
    ['routes.0.queues.0', { routes: [{ queues: [''] }] }],
  ])('refuses a bad %s, naming it and the fix', (path, overrides) => {
    const written = { ...variable(), ...overrides };
    expect(() => readIngestConfig({ HOOKLINE_INGEST_CONFIG: JSON.stringify(written) })).toThrow(
      new RegExp(`HOOKLINE_INGEST_CONFIG is invalid at ${path.replaceAll('.', '\\.')}: .*redeploy`),
    );
  });

  it("keeps by default the generic headers and every sender's event headers", () => {
    expect(DEFAULT_KEEP_HEADERS).toEqual(
      expect.arrayContaining(['content-type', 'user-agent', 'x-github-event']),
    );
    expect(DEFAULT_KEEP_HEADERS).toEqual(expect.arrayContaining([...SENDER_KEPT_HEADERS]));
  });
});
