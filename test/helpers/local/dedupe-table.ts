import { type AttributeValue, type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { DEDUPE_TABLE } from '../../../lambda/shared/contracts';
import { localDynamoClient } from '../../../lib/local/clients';
import { type Emulators, startEmulators } from '../../../lib/local/emulators';
import { ensureTable } from '../../../lib/local/topology';

/**
 * Starts the emulators before the enclosing tests and stops them after, with a dedupe table created by local
 * mode's own `ensureTable`; `onReady` receives the DynamoDB client (dynalite) the tests use, and the emulators (for a
 * local target on them).
 */
export function useDedupeTable(
  table: string,
  onReady: (client: DynamoDBClient, emulators: Emulators) => void,
): void {
  let emulators: Emulators | undefined;
  let client: DynamoDBClient | undefined;
  beforeAll(async () => {
    emulators = await startEmulators();
    client = localDynamoClient(emulators);
    await ensureTable(client, table, DEDUPE_TABLE.partitionKey, DEDUPE_TABLE.ttlAttribute);
    onReady(client, emulators);
  }, 60_000);
  afterAll(async () => {
    client?.destroy();
    await emulators?.stop();
  });
}

/** A clock the test moves, in seconds. */
export function testClock(start = Date.parse('2026-11-30T12:00:00Z')) {
  let now = start;
  return {
    now: () => now,
    advance(seconds: number) {
      now += seconds * 1000;
    },
  };
}

/**
 * A claim as the dedupe store made it before generations were kept: pending, without a generation, its lease
 * already run out, its window `windowSeconds` from `nowMs`.
 */
export async function putLegacyPendingClaim(
  client: DynamoDBClient,
  table: string,
  {
    key,
    nowMs,
    windowSeconds,
    fields = {},
  }: {
    key: string;
    nowMs: number;
    windowSeconds: number;
    fields?: Record<string, AttributeValue>;
  },
): Promise<void> {
  const nowSeconds = Math.floor(nowMs / 1000);
  await client.send(
    new PutItemCommand({
      TableName: table,
      Item: {
        [DEDUPE_TABLE.partitionKey]: { S: key },
        status: { S: 'pending' },
        token: { S: 'old-token' },
        leaseUntil: { N: String(nowSeconds - 1) },
        [DEDUPE_TABLE.ttlAttribute]: { N: String(nowSeconds + windowSeconds) },
        ...fields,
      },
    }),
  );
}
