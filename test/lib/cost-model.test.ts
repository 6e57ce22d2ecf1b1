import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import exampleConfig from '../../hookline.config';
import { ARCHIVE_RECORD_MAX_BYTES } from '../../lambda/shared/archive';
import { resolveConfig } from '../../lib/config';
import {
  archiveRecordBytes,
  type CostInput,
  costInputOf,
  envelopeBytes,
  estimateCost,
  flowCalls,
  flowParentRecordBytes,
  formatCount,
  parseCount,
  renderCostTable,
  routedShares,
  sqsRequestsPerMessage,
} from '../../lib/cost-model';

/** One standard queue with a 512 MB consumer, batch 10; 4 KB bodies; dedupe and idempotency on. */
const base: CostInput = {
  eventsPerMonth: 10_000_000,
  bodyBytes: 4096,
  ingestMemorySize: 512,
  dedupe: true,
  inlineLimitBytes: 1_032_192,
  queues: [{ name: 'events', fifo: false, consumer: { memorySize: 512, batchSize: 10, idempotency: true } }],
};
/** The largest body size `fits` holds for, the sizes it holds for being those up to it. */
function largestBody(fits: (bodyBytes: number) => boolean): number {
  let low = 0;
  let high = 16 * 1024 * 1024;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (fits(mid)) low = mid;
    else high = mid - 1;
  }
  return low;
}
const line = (input: CostInput, item: string) =>
  estimateCost(input).lines.find((l) => l.item.startsWith(item))?.usdPerMillion;

describe('cost model arithmetic (per million webhooks, us-east-1 list prices)', () => {
  it('prices the API and the ingest function', () => {
    // HTTP API: $1.00/M. Ingest: $0.20/M requests + 0.5 GB x 0.020 s x $0.0000133334/GB-s x 1e6 = $0.133334.
    expect(line(base, 'HTTP API')).toBeCloseTo(1.0, 6);
    expect(line(base, 'Ingest Lambda')).toBeCloseTo(0.333334, 6);
    // A 600 KB body is two 512 KB HTTP API metering units.
    expect(line({ ...base, bodyBytes: 600 * 1024 }, 'HTTP API')).toBeCloseTo(2.0, 6);
  });

  it('prices dedupe as two DynamoDB writes and its ingest time', () => {
    // 2 WRU x $0.625/M = $1.25, + 0.5 GB x 0.010 s x $0.0000133334 x 1e6 = $0.066667.
    expect(line(base, 'Dedupe')).toBeCloseTo(1.316667, 5);
    expect(line({ ...base, dedupe: false }, 'Dedupe')).toBeUndefined();
  });

  it('prices SQS by 64 KB chunk: send, and a receive and a delete shared by up to 10 messages', () => {
    // 5,120 B message: send 1 + receive ceil(10 x 5,120 / 65,536) = 1 per 10 + delete 1 per 10 = 1.2 requests.
    expect(sqsRequestsPerMessage(5120, 10)).toBeCloseTo(1.2, 9);
    expect(line(base, 'SQS events')).toBeCloseTo(1.2 * 0.4, 9);
    // 40 KB messages: receive of 10 = 410,240 B = 7 chunks -> 1 + 0.7 + 0.1 = 1.8 requests.
    expect(sqsRequestsPerMessage(41_024, 10)).toBeCloseTo(1.8, 9);
    // 100 KB message: send is 2 chunks; batch 1: receive 2 chunks, delete 1 -> 5 requests.
    expect(sqsRequestsPerMessage(102_400, 1)).toBeCloseTo(5, 9);
    // A batch size above 10 still receives 10 at a time.
    expect(sqsRequestsPerMessage(5120, 100)).toBeCloseTo(1.2, 9);
    // No consumer in the stack: only the send.
    expect(line({ ...base, queues: [{ name: 'events', fifo: false }] }, 'SQS events')).toBeCloseTo(0.4, 9);
  });

  it("prices a FIFO queue at $0.50/M with the consumer's own delete of each record as it finishes", () => {
    // The runtime deletes each FIFO record as it finishes (so a later timeout cannot bring it back): one
    // DeleteMessage per record on top of the event source's receive and delete shared by the batch.
    const fifo: CostInput = {
      ...base,
      queues: [{ ...(base.queues[0] as CostInput['queues'][0]), fifo: true }],
    };
    expect(line(fifo, 'SQS events')).toBeCloseTo((1.2 + 1) * 0.5, 9);
    // Without a consumer nothing deletes: only the send.
    expect(line({ ...base, queues: [{ name: 'events', fifo: true }] }, 'SQS events')).toBeCloseTo(0.5, 9);
  });

  it('prices the consumer per full batch, and idempotency per record', () => {
    // (0.20 + 0.5 GB x (10 + 2 x 10) ms x $0.0000133334 x 1e6) / 10 = (0.2 + 0.2) / 10 = $0.04.
    expect(line(base, 'Consumer Lambda events')).toBeCloseTo(0.04, 6);
    // With 50 ms of handler per record: (0.2 + 0.5 x 0.53 x 13.3334) / 10 = $0.373335.
    expect(line({ ...base, handlerMsPerRecord: 50 }, 'Consumer Lambda events')).toBeCloseTo(0.373335, 5);
    // 2 WRU x $0.625 + 0.5 GB x 0.010 s x 13.3334 = $1.316667.
    expect(line(base, 'Idempotency events')).toBeCloseTo(1.316667, 5);
  });

  it("bills the handlers' time of a batch once per round of records run at once (parallelism), not once per record", () => {
    const running = (parallelism: number): CostInput => ({
      ...base,
      handlerMsPerRecord: 50,
      queues: [
        {
          name: 'events',
          fifo: false,
          consumer: { memorySize: 512, batchSize: 10, idempotency: true, parallelism },
        },
      ],
    });
    // All 10 at once: (0.2 + 0.5 GB x (10 + 2 x 10 + 50) ms x 13.3334) / 10 = $0.0733336.
    expect(line(running(10), 'Consumer Lambda events')).toBeCloseTo(0.0733336, 6);
    // 4 at once is 3 rounds: (0.2 + 0.5 x (10 + 20 + 150) ms x 13.3334) / 10 = $0.1400006.
    expect(line(running(4), 'Consumer Lambda events')).toBeCloseTo(0.1400006, 6);
    expect(estimateCost(running(4)).lines.find((l) => l.item === 'Consumer Lambda events')?.basis).toBe(
      '1 invocation per 10 records, 512 MB × (10 + 2 ms × 10 + 50 ms × 3, 4 handlers at once) arm64',
    );
    // One at a time is the sequential sum, as for a FIFO queue.
    expect(line(running(1), 'Consumer Lambda events')).toBeCloseTo(0.373335, 5);
  });

  it("reads a standard queue's parallelism from the configuration, and a FIFO queue's as one at a time", () => {
    const bothQueues = { ...exampleConfig, routes: [], defaultRoute: { queues: ['events', 'orders'] } };
    const input = costInputOf(resolveConfig(bothQueues), { eventsPerMonth: 1_000_000 });
    const byName = new Map(input.queues.map((q) => [q.name, q]));
    expect(byName.get('events')?.consumer?.parallelism).toBe(10);
    expect(byName.get('orders')?.fifo).toBe(true);
    expect(byName.get('orders')?.consumer?.parallelism).toBe(1);
  });

  it('sends bodies above the inline limit through S3: one PUT and one GET per consuming queue', () => {
    const big = { ...base, bodyBytes: 2_000_000 };
    // PUT $0.005/1,000 = $5/M; GET $0.0004/1,000 = $0.40/M.
    expect(line(big, 'S3 claim checks')).toBeCloseTo(5.4, 9);
    // The message itself is a small claim-check envelope: 1.2 requests.
    expect(line(big, 'SQS events')).toBeCloseTo(0.48, 9);
    expect(line(base, 'S3 claim checks')).toBeUndefined();
  });

  it('keeps an envelope of exactly the inline limit inline, as the ingest does', () => {
    const atLimit = { ...base, bodyBytes: largestBody((b) => envelopeBytes(b) <= base.inlineLimitBytes) };
    expect(envelopeBytes(atLimit.bodyBytes)).toBe(base.inlineLimitBytes);
    expect(line(atLimit, 'S3 claim checks')).toBeUndefined();
    expect(line({ ...atLimit, bodyBytes: atLimit.bodyBytes + 1 }, 'S3 claim checks')).toBeCloseTo(5.4, 9);
  });

  it('totals per million and per month, and isolates what exactly-once costs', () => {
    const estimate = estimateCost(base);
    const sum = 1 + 0.333334 + 1.316667 + 0.48 + 0.04 + 1.316667;
    expect(estimate.usdPerMillion).toBeCloseTo(sum, 5);
    expect(estimate.usdPerMonth).toBeCloseTo(sum * 10, 4);
    expect(estimate.exactlyOnceUsdPerMillion).toBeCloseTo(2 * 1.316667, 5);
    const off = estimateCost({
      ...base,
      dedupe: false,
      queues: [
        { name: 'events', fifo: false, consumer: { memorySize: 512, batchSize: 10, idempotency: false } },
      ],
    });
    expect(estimate.usdPerMillion - off.usdPerMillion).toBeCloseTo(estimate.exactlyOnceUsdPerMillion, 9);
  });

  it('adds an archive line when one is passed', () => {
    const archive = { item: 'Archive', basis: 'test', usdPerMillion: 0.05 };
    expect(estimateCost({ ...base, archive }).usdPerMillion).toBeCloseTo(
      estimateCost(base).usdPerMillion + 0.05,
      9,
    );
  });
});

describe('cost model: rate limits and failures', () => {
  const limited: CostInput = {
    ...base,
    queues: [
      {
        name: 'events',
        fifo: false,
        consumer: { memorySize: 512, batchSize: 10, idempotency: true, rateLimit: true },
      },
    ],
  };

  it("prices a rate limit's count of each record's start: one write unit and one round trip per record", () => {
    // 1 WRU x $0.625/M + 0.5 GB x 0.005 s x $0.0000133334 x 1e6 = $0.6583335.
    expect(line(limited, 'Rate limit events')).toBeCloseTo(0.6583335, 6);
    expect(line(base, 'Rate limit events')).toBeUndefined();
    // Not an exactly-once line: turning dedupe and idempotency off keeps it.
    expect(estimateCost(limited).exactlyOnceUsdPerMillion).toBeCloseTo(
      estimateCost(base).exactlyOnceUsdPerMillion,
      9,
    );
  });

  it('reads a rate limit from the configuration', () => {
    const config = resolveConfig({
      ...exampleConfig,
      queues: {
        ...exampleConfig.queues,
        events: {
          consumer: {
            entry: 'lambda/consumers/events.ts',
            maxConcurrency: 2,
            rateLimit: { limit: 10, interval: Duration.seconds(1) },
          },
        },
      },
    });
    const input = costInputOf(config, { eventsPerMonth: 1_000_000 });
    expect(input.queues[0]?.consumer?.rateLimit).toBe(true);
    expect(
      costInputOf(resolveConfig(exampleConfig), { eventsPerMonth: 1 }).queues[0]?.consumer?.rateLimit,
    ).toBe(undefined);
  });

  it('says what a retried and a dead-lettered record add on each consumed queue', () => {
    // Retry: ChangeMessageVisibility + another receive's share (1.1 requests x $0.40/M = $0.44), the failed attempt's
    // idempotency lock written and deleted (2 WRU = $1.25), another invocation's share ($0.04): $1.73.
    // Dead letter: SendMessage + DeleteMessage ($0.80); the lock's DeleteItem replaces its completion.
    expect(estimateCost(base).assumptions).toContain(
      "a failed record adds (your handler's time aside): events $1.73 per million retries, $0.800 per million dead letters (a retry: ChangeMessageVisibility, another receive and invocation, and with idempotency the failed attempt's lock written and deleted; a dead letter: SendMessage to the DLQ and DeleteMessage)",
    );
    const noConsumer = { ...base, queues: [{ name: 'events', fifo: false }] };
    expect(estimateCost(noConsumer).assumptions.some((a) => a.startsWith('a failed record'))).toBe(false);
  });

  it('says what a job sent with the producer costs on each consumed queue, which the total leaves out', () => {
    // Its record's four writes and idempotency's two (6 WRU = $3.75), a SendMessageBatch and its share of a receive
    // and a delete (1.2 requests = $0.48), an invocation's share ($0.04): $4.27.
    expect(estimateCost(base).assumptions.find((a) => a.startsWith('not priced: jobs'))).toMatch(
      /^not priced: jobs sent with hookline\/producer, per million sent one by one \(your handler's time aside\): events \$4\.27 /,
    );
  });

  it("says what each debounced send after a cycle's first adds on each consumed queue, which the total leaves out", () => {
    // Its claim refused, the write naming it, idempotency's lock written and released, its refused start (5 WRU =
    // $3.125); two strongly consistent reads, the producer's and the refused start's (2 RRU = $0.25); a
    // SendMessageBatch of its own and its share of a receive and a delete (1.2 requests = $0.48); an invocation's
    // share ($0.04): $3.895.
    expect(estimateCost(base).assumptions.find((a) => a.startsWith('not priced: debounced'))).toMatch(
      /^not priced: debounced jobs \(producer\.send with debounce, a period up to 15 minutes\), per million sends after a cycle's first, each replacing the send before it, whose payload never runs: events \$3\.90 /,
    );
    // Without the dedupe table `debounce` is refused: nothing to price.
    const withoutDedupe = estimateCost({ ...base, dedupe: false }).assumptions;
    expect(withoutDedupe.some((a) => a.startsWith('not priced: debounced'))).toBe(false);
  });

  it('says what a flow costs per child and per parent on each consumed queue, which the total leaves out', () => {
    // A child of a parent of 3: a job's record writes and idempotency's (6 WRU), its count on its parent's record
    // (512 B of fields + a 1 KB message + 3 × 160 B of children = 2,016 B: 2 WRU), 8 WRU = $5.00; a third of the
    // SendMessageBatch that sends the 3, a receive and a delete share (0.533 requests = $0.213); an invocation's
    // share ($0.04): $5.25. The parent: its claim (1 WRU), its record written waiting (2), its send claimed (2), its
    // record marked queued (2), started and completed once its message left the record (992 B: 1 each), idempotency
    // (2): 11 WRU = $6.875; its SendMessage and its receive and delete shares (1.2 requests = $0.48); its read of its
    // children's results (1 RRU = $0.125); an invocation's share ($0.04): $7.52.
    expect(estimateCost(base).assumptions.find((a) => a.startsWith('not priced: flows'))).toMatch(
      /^not priced: flows sent with producer\.sendFlow \(a parent of 3 children, small payloads, your handlers' time aside\): events \$5\.25 per million children, \$7\.52 per million parents /,
    );
    expect(estimateCost(base).flows).toEqual([
      expect.objectContaining({
        queue: 'events',
        children: 3,
        usdPerMillionChildren: expect.closeTo(5.2533, 3),
      }),
    ]);
  });

  it("bills each write on a waiting flow parent's record by its size, which grows with its children", () => {
    const queue = base.queues[0] as CostInput['queues'][0];
    // Its count on its parent, the last of its calls.
    const countOn = (children: number) =>
      flowCalls(base, queue, queue, children).perChild.at(-1)?.unitsPerCall;
    for (const children of [1, 3, 10, 50])
      expect(countOn(children)).toBe(Math.ceil(flowParentRecordBytes(children) / 1024));
    expect(countOn(50)).toBeGreaterThan(countOn(1) ?? Number.POSITIVE_INFINITY);
    // The parent's send is claimed on its record (a conditional write) before its SendMessage, then marked queued.
    const parent = flowCalls(base, queue, queue, 3).perParent;
    const waiting = Math.ceil(flowParentRecordBytes(3) / 1024);
    expect(parent.filter((c) => c.action === 'UpdateItem' && c.unitsPerCall === waiting)).toHaveLength(3);
    expect(parent.filter((c) => c.action === 'SendMessage')).toHaveLength(1);
    // Flows keep their records in the dedupe table: without it there are none to price.
    expect(estimateCost({ ...base, dedupe: false }).flows).toEqual([]);
  });

  it('claim-checks, with the archive on, an envelope whose archive record would not fit a delivery stream record', () => {
    const on = costInputOf(resolveConfig(exampleConfig), { eventsPerMonth: 1_000_000 });
    expect(on.inlineLimitBytes).toBe(ARCHIVE_RECORD_MAX_BYTES - 128);
    const off = costInputOf(resolveConfig({ ...exampleConfig, archive: { enabled: false } }), {
      eventsPerMonth: 1_000_000,
    });
    expect(off.inlineLimitBytes).toBe(resolveConfig(exampleConfig).payloads.inlineLimitBytes);
  });
});

describe('cost model input from a configuration', () => {
  it('prices the archive record Firehose bills (the envelope and its fields, 5 KB steps), and drops it when off', () => {
    const on = costInputOf(resolveConfig(exampleConfig), { eventsPerMonth: 1_000_000 });
    // A 4 KB body's record is 4,096 x 1.11 (escaped) + 400 (envelope) + 128 (record fields) = 5,075 B: one 5 KB step.
    expect(envelopeBytes(4096)).toBe(4947);
    expect(archiveRecordBytes(4096)).toBe(5075);
    const expected = ((1e6 * 5120) / 1024 ** 3) * 0.029 + ((1e6 * 5075) / 1024 ** 3) * 0.02;
    expect(line(on, 'Event archive')).toBeCloseTo(expected, 6);
    expect(estimateCost(on).lines.find((l) => l.item.startsWith('Event archive'))?.basis).toMatch(
      /1 record of 5075 B per webhook, billed as 1 × 5 KB/,
    );
    // A 5 KB body's record is two steps.
    expect(archiveRecordBytes(5120)).toBe(6212);
    // A body too large for a Firehose record is archived claim-checked, as the ingest does.
    expect(archiveRecordBytes(2 * 1024 * 1024)).toBe(2048 + 128);
    // A record of exactly the largest size still carries the body.
    const fits = largestBody((b) => envelopeBytes(b) + 128 <= ARCHIVE_RECORD_MAX_BYTES);
    expect(archiveRecordBytes(fits)).toBeLessThanOrEqual(ARCHIVE_RECORD_MAX_BYTES);
    expect(archiveRecordBytes(fits)).toBeGreaterThan(ARCHIVE_RECORD_MAX_BYTES - 2);
    expect(archiveRecordBytes(fits + 1)).toBe(2048 + 128);
    const off = costInputOf(resolveConfig({ ...exampleConfig, archive: { enabled: false } }), {
      eventsPerMonth: 1_000_000,
    });
    expect(line(off, 'Event archive')).toBeUndefined();
  });

  it("prices storing each archive record, compressed, for the archive's retention, and drops it when off", () => {
    // 5,075 B / 5 (GZIP) per webhook, kept 90 days = 90 / (365 / 12) months, at $0.023 per GB-month.
    const perMillion = (days: number) => ((1e6 * 5075) / 5 / 1024 ** 3) * 0.023 * (days / (365 / 12));
    const on = costInputOf(resolveConfig(exampleConfig), { eventsPerMonth: 10_000_000 });
    expect(line(on, 'Archive storage')).toBeCloseTo(perMillion(90), 9);
    const month = costInputOf(
      resolveConfig({ ...exampleConfig, archive: { retention: Duration.days(30) } }),
      { eventsPerMonth: 10_000_000 },
    );
    expect(line(month, 'Archive storage')).toBeCloseTo(perMillion(30), 9);
    // The per-month figure is the bill once the bucket holds 90 days of 10M webhooks a month.
    const stored = estimateCost(on).lines.find((l) => l.item.startsWith('Archive storage'));
    expect(stored?.usdPerMonth).toBeCloseTo(perMillion(90) * 10, 9);
    expect(stored?.basis).toBe('5075 B record / 5 (GZIP) × 90 days (archive.retention) × $0.023/GB-month');
    const off = costInputOf(resolveConfig({ ...exampleConfig, archive: { enabled: false } }), {
      eventsPerMonth: 1_000_000,
    });
    expect(line(off, 'Archive storage')).toBeUndefined();
  });

  it('prices storing each claim-checked body until the payload bucket expires it', () => {
    const input = costInputOf(resolveConfig(exampleConfig), {
      eventsPerMonth: 1_000_000,
      bodyBytes: 2_000_000,
    });
    const days = resolveConfig(exampleConfig).payloads.expiry.toDays();
    // 2 MB stored uncompressed per webhook for payloads.expiry days, at $0.023 per GB-month.
    const expected = ((1e6 * 2_000_000) / 1024 ** 3) * 0.023 * (days / (365 / 12));
    expect(line(input, 'S3 claim-check storage')).toBeCloseTo(expected, 9);
    expect(expected).toBeGreaterThan(line(input, 'S3 claim checks') ?? Number.POSITIVE_INFINITY);
    // Bodies kept inline store nothing in the payload bucket.
    const inline = costInputOf(resolveConfig(exampleConfig), { eventsPerMonth: 1_000_000 });
    expect(line(inline, 'S3 claim-check storage')).toBeUndefined();
  });

  it('says how storage is priced when claim-checked bodies are stored, with or without an archive', () => {
    const storage = /^storage: per webhook, until it expires/;
    const claimChecked: CostInput = {
      ...base,
      bodyBytes: base.inlineLimitBytes + 1,
      claimCheckExpiryDays: 7,
    };
    expect(estimateCost(claimChecked).assumptions.some((a) => storage.test(a))).toBe(true);
    // A body kept inline stores nothing, so nothing is said of storage.
    const inline: CostInput = { ...base, claimCheckExpiryDays: 7 };
    expect(estimateCost(inline).assumptions.some((a) => storage.test(a))).toBe(false);
  });

  it("takes the default route's queues and the configured defaults", () => {
    const input = costInputOf(resolveConfig(exampleConfig), { eventsPerMonth: 1_000_000 });
    expect(input).toMatchObject({
      bodyBytes: 4096,
      ingestMemorySize: 512,
      dedupe: true,
      queues: [
        { name: 'events', fifo: false, consumer: { memorySize: 512, batchSize: 10, idempotency: true } },
      ],
    });
    const off = costInputOf(
      resolveConfig({
        ...exampleConfig,
        dedupe: { enabled: false },
        queues: {
          ...exampleConfig.queues,
          events: { consumer: { entry: 'lambda/consumers/events.ts', idempotency: { enabled: false } } },
        },
      }),
      { eventsPerMonth: 1_000_000 },
    );
    expect(off.dedupe).toBe(false);
    expect(off.queues[0]?.consumer?.idempotency).toBe(false);
  });

  it('prices the queues the routes send webhooks to, when the default route ignores them', () => {
    const consumer = { entry: 'lambda/consumers/events.ts' };
    const input = costInputOf(
      resolveConfig({
        sources: { stripe: { type: 'stripe' }, github: { type: 'github' } },
        queues: { billing: { consumer }, audit: { consumer } },
        routes: [
          { source: 'stripe', queues: ['billing', 'audit'] },
          { source: 'github', queues: ['audit'] },
        ],
        defaultRoute: 'ignore',
      }),
      { eventsPerMonth: 1_000_000 },
    );
    // Half the webhooks (stripe) reach billing; all of them (stripe and github) reach audit.
    expect(input.queues.map((q) => [q.name, q.messagesPerWebhook ?? 1])).toEqual([
      ['billing', 0.5],
      ['audit', 1],
    ]);
    const oneQueue: CostInput = { ...base, queues: [{ ...(base.queues[0] as CostInput['queues'][0]) }] };
    expect(line(input, 'Consumer Lambda billing')).toBeCloseTo(
      (line(oneQueue, 'Consumer Lambda') ?? 0) / 2,
      9,
    );
    expect(line(input, 'SQS audit')).toBeCloseTo(line(oneQueue, 'SQS events') ?? 0, 9);
    expect(line(input, 'Idempotency audit')).toBeCloseTo(line(oneQueue, 'Idempotency') ?? 0, 9);
  });

  it('names the routes for particular types it cannot price, and the sources whose webhooks are ignored', () => {
    const { routing } = routedShares(
      resolveConfig({
        ...exampleConfig,
        routes: [...(exampleConfig.routes ?? []), { source: 'slack', ignore: true }],
      }),
    );
    expect(routing.join('\n')).toMatch(/evenly over the 6 sources.*\(ignored, so in no queue: slack\)/);
    expect(routing.join('\n')).toMatch(/not priced .*: shopify orders\/\* → orders/);
  });

  it("prices a source's route for every type (no type, or **) as taking all its webhooks, and lists only typed routes as not priced", () => {
    const consumer = { entry: 'lambda/consumers/events.ts' };
    const config = resolveConfig({
      sources: { stripe: { type: 'stripe' }, github: { type: 'github' } },
      queues: { billing: { consumer }, audit: { consumer } },
      routes: [
        { source: 'stripe', type: 'invoice.paid', queues: ['billing'] },
        { source: 'github', type: '**', queues: ['billing'] },
        { source: '*', queues: ['audit'] },
      ],
      defaultRoute: 'ignore',
    });
    const { shares, routing } = routedShares(config);
    // stripe's webhooks follow the route for every source, github's its own ** route.
    expect(Object.fromEntries(shares)).toEqual({ billing: 0.5, audit: 0.5 });
    expect(routing).toEqual([
      'webhooks spread evenly over the 2 sources, each following its route for every type, else the default route',
      'not priced (the share of these types is unknown): stripe invoice.paid → billing',
    ]);
    // Without routes for particular types, nothing is listed as not priced.
    expect(routedShares(resolveConfig({ ...exampleConfig, routes: [] })).routing).toEqual([
      'webhooks spread evenly over the 6 sources, each following its route for every type, else the default route',
    ]);
  });

  it.each([
    ['10M', 10_000_000],
    ['1.5M', 1_500_000],
    ['250k', 250_000],
    ['2500', 2500],
    ['1_000_000', 1_000_000],
    ['1.25M', 1_250_000],
    ['1e6', 1_000_000],
    ['1.5e6', 1_500_000],
    ['1E7', 10_000_000],
    ['10 M', 10_000_000],
    ['10m', 10_000_000],
    ['1.1M', 1_100_000],
    ['0.001M', 1000],
    ['2.5e3', 2500],
    // 33299999.999999996 as a double: a whole count whose binary error is above a billionth of a webhook.
    ['33.3M', 33_300_000],
  ])('reads %s as %d', (text, n) => {
    expect(parseCount(text)).toBe(n);
  });

  it.each([
    [1_000_000, '1M'],
    [999_999, '1000k'],
    [1000, '1k'],
    [999, '999'],
  ])('writes %d webhooks as %s', (n, text) => {
    expect(formatCount(n)).toBe(text);
  });

  it.each([
    '',
    'ten',
    '-5',
    '0',
    '0.4',
    '0.5',
    '1.5',
    '1.0005k',
    '1.2',
    '2.0004k',
    '0.0000015M',
    '0.0001k',
    '5G',
    '1.5.2M',
    '1e99',
    '1e-3',
    'e6',
    '1e',
  ])('refuses %j', (text) => {
    expect(parseCount(text)).toBeUndefined();
  });
});

describe('README cost table', () => {
  const readmePath = join(__dirname, '..', '..', 'README.md');
  const START =
    '<!-- cost-table:start (generated by test/lib/cost-model.test.ts; UPDATE_README=1 rewrites it) -->';
  const END = '<!-- cost-table:end -->';

  it('is the model output for the example configuration at 10M webhooks a month', () => {
    const table = renderCostTable(
      estimateCost(costInputOf(resolveConfig(exampleConfig), { eventsPerMonth: 10_000_000 })),
    );
    const readme = readFileSync(readmePath, 'utf8');
    const start = readme.indexOf(START);
    const end = readme.indexOf(END);
    expect(start, 'README.md has the cost table markers').toBeGreaterThan(-1);
    const current = readme.slice(start + START.length, end).trim();
    if (process.env.UPDATE_README === '1' && current !== table) {
      writeFileSync(readmePath, `${readme.slice(0, start + START.length)}\n${table}\n${readme.slice(end)}`);
      return;
    }
    expect(current).toBe(table);
  });
});
