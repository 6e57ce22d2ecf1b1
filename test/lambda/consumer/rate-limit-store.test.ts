/**
 * The rate limit's shared window counts on dynalite (local mode's DynamoDB), several sandboxes taking start slots at
 * the same moment: one conditional `UpdateItem` per start, so a window never hands out more than its limit.
 */
import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { RateLimiter } from '../../../lambda/consumer/rate-limit';
import { dynamoWindowStore } from '../../../lambda/consumer/rate-limit-store';
import { IDEMPOTENCY_TABLE } from '../../../lambda/shared/contracts';
import { rateLimitWindowKey } from '../../../lambda/shared/idempotency-key';
import { ensureTable } from '../../../lib/local/topology';
import { useDedupeTable } from '../../helpers/local/dedupe-table';

const table = 'rate-limit-windows';
let client: DynamoDBClient;
useDedupeTable('rate-limit-windows-dedupe', (ready) => {
  client = ready;
});
beforeAll(async () => {
  await ensureTable(client, table, IDEMPOTENCY_TABLE.partitionKey, IDEMPOTENCY_TABLE.ttlAttribute);
});

const INTERVAL_MS = 1_000;

/** A sandbox's limiter on the shared table, its clock at `now()`; it never waits for a later window. */
function sandbox(consumer: string, limit: number, now: () => number) {
  return new RateLimiter({
    limit,
    intervalMs: INTERVAL_MS,
    keyOf: (window) => rateLimitWindowKey(consumer, window),
    store: dynamoWindowStore(client, table),
    now,
    sleep: async () => {},
  });
}

describe('rate limit windows taken by several sandboxes at once', () => {
  it('hand out exactly the limit per window, and count no start they refused', async () => {
    let now = Date.parse('2026-12-05T12:00:00.000Z');
    const sandboxes = Array.from({ length: 4 }, () => sandbox('orders', 5, () => now));
    const takeAll = () =>
      Promise.all(sandboxes.flatMap((limiter) => Array.from({ length: 10 }, () => limiter.acquire(now))));

    const first = await takeAll();
    expect(first.filter(Boolean)).toHaveLength(5);
    const window = Math.floor(now / INTERVAL_MS);
    const { Item } = await client.send(
      new GetItemCommand({
        TableName: table,
        Key: { [IDEMPOTENCY_TABLE.partitionKey]: { S: rateLimitWindowKey('orders', window) } },
        ConsistentRead: true,
      }),
    );
    expect(Item?.starts?.N).toBe('5');

    now += INTERVAL_MS;
    expect((await takeAll()).filter(Boolean)).toHaveLength(5);
  });
});
