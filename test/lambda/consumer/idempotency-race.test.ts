/**
 * Two copies of one event taking its idempotency key at once, through the consumer's Powertools gate on dynalite
 * (local mode's DynamoDB). dynalite, unlike DynamoDB, does not hand back the record a conditional put collided with,
 * so Powertools reads it back in a second call: a copy whose run fails and releases the key between the two leaves
 * nothing to read.
 */
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { powertoolsIdempotencyGate } from '../../../lambda/consumer/aws';
import { describeError } from '../../../lambda/consumer/errors';
import { IDEMPOTENCY_TABLE } from '../../../lambda/shared/contracts';
import { ensureTable } from '../../../lib/local/topology';
import { useDedupeTable } from '../../helpers/local/dedupe-table';

const table = 'idempotency-race';
const invocation = { getRemainingTimeInMillis: () => 10_000 };

let dynalite: DynamoDBClient;
// The emulators and their client, as the dedupe tests start them; this test makes its own idempotency table.
useDedupeTable('idempotency-race-dedupe', (ready) => {
  dynalite = ready;
});
beforeAll(async () => {
  await ensureTable(dynalite, table, IDEMPOTENCY_TABLE.partitionKey, IDEMPOTENCY_TABLE.ttlAttribute);
});

/**
 * dynalite as a client whose refused lock is answered only once `between` has run: what another copy does between
 * this copy's collision and its read of the record.
 */
function clientWithGap(between: () => Promise<void>): DynamoDBClient {
  const client = new DynamoDBClient({ region: 'us-east-1' });
  client.send = (async (command: { constructor: { name: string } }) => {
    try {
      return await dynalite.send(command as never);
    } catch (error) {
      if (command.constructor.name === 'PutItemCommand' && error instanceof ConditionalCheckFailedException)
        await between();
      throw error;
    }
  }) as never;
  return client;
}

describe('a copy of an event whose other copy released the key mid-way', () => {
  it('is retried with a reason that says another copy held the key and released it, not a Powertools error name', async () => {
    const key = `events#github#race-${Date.now()}`;
    let failFirst: () => void = () => {};
    const firstMayFail = new Promise<void>((resolve) => {
      failFirst = resolve;
    });
    let firstStarted: () => void = () => {};
    const started = new Promise<void>((resolve) => {
      firstStarted = resolve;
    });
    const firstGate = powertoolsIdempotencyGate({ tableName: table, expirySeconds: 600 }, 'events', dynalite);
    const first = firstGate.run(
      key,
      async () => {
        firstStarted();
        await firstMayFail;
        throw new Error('the first copy failed');
      },
      invocation,
    );
    const firstSettled = first.catch(() => undefined);
    await started;
    // The second copy's lock collides with the first's; the first then fails and releases the key.
    const secondGate = powertoolsIdempotencyGate(
      { tableName: table, expirySeconds: 600 },
      'events',
      clientWithGap(async () => {
        failFirst();
        await firstSettled;
      }),
    );
    const runs: string[] = [];
    const second = secondGate.run(key, async () => void runs.push('second copy'), invocation);

    const error = await second.then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    await expect(first).rejects.toThrow('the first copy failed');
    expect(runs).toEqual([]);
    const reason = describeError(error);
    expect(reason.name).toBe('KeyReleasedByOtherCopyError');
    expect(reason.message).toMatch(
      /^another copy of this event held its idempotency key when this copy tried to take it, and released it before this copy could read it/,
    );
    // The key is free again: the retry runs the event.
    await expect(secondGate.run(key, async () => void runs.push('retry'), invocation)).resolves.toBe('ran');
    expect(runs).toEqual(['retry']);
  });
});
