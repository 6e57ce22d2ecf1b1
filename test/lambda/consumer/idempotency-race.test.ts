/**
 * Two copies of one event taking its idempotency key at once, through the consumer's Powertools gate on dynalite
 * (local mode's DynamoDB). DynamoDB hands back the record a conditional put collided with
 * (`ReturnValuesOnConditionCheckFailure: ALL_OLD`), and local mode's emulator now does too (`lib/local/
 * dynalite-fixes.ts`), so the colliding copy is in progress elsewhere whatever the holder does next. A store that
 * does not hand it back makes Powertools read the record in a second call: a holder whose run fails and releases the
 * key between the two leaves nothing to read, which the runtime names `KeyReleasedByOtherCopyError`.
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
const settings = { tableName: table, expirySeconds: 600 };

let dynalite: DynamoDBClient;
// The emulators as local mode starts them, and their client; this test makes its own idempotency table.
useDedupeTable('idempotency-race-dedupe', (ready) => {
  dynalite = ready;
});
beforeAll(async () => {
  await ensureTable(dynalite, table, IDEMPOTENCY_TABLE.partitionKey, IDEMPOTENCY_TABLE.ttlAttribute);
});

/** What a copy's client saw: the commands it sent, and the refusal its lock met. */
interface Seen {
  readonly commands: string[];
  collision?: ConditionalCheckFailedException;
}

/**
 * dynalite as a client whose refused lock is answered only once `between` has run: what another copy does between
 * this copy's collision and the answer. `withoutItem` drops the record from the refusal, as a store that does not
 * hand it back answers.
 */
function clientWithGap(between: () => Promise<void>, seen: Seen, withoutItem = false): DynamoDBClient {
  const client = new DynamoDBClient({ region: 'us-east-1' });
  client.send = (async (command: { constructor: { name: string } }) => {
    seen.commands.push(command.constructor.name);
    try {
      return await dynalite.send(command as never);
    } catch (error) {
      if (command.constructor.name === 'PutItemCommand' && error instanceof ConditionalCheckFailedException) {
        seen.collision = error;
        await between();
        if (withoutItem) error.Item = undefined;
      }
      throw error;
    }
  }) as never;
  return client;
}

/**
 * A first copy holding `key` until `release` is called, then failing (which releases the key), and a second copy
 * that collides with it while it holds the key; the first fails and releases the key before the second hears back.
 */
async function copiesColliding(key: string, withoutItem: boolean) {
  let failFirst: () => void = () => {};
  const firstMayFail = new Promise<void>((resolve) => {
    failFirst = resolve;
  });
  let firstStarted: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    firstStarted = resolve;
  });
  const first = powertoolsIdempotencyGate(settings, 'events', dynalite).run(
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
  const seen: Seen = { commands: [] };
  const between = async () => {
    failFirst();
    await firstSettled;
  };
  const secondGate = powertoolsIdempotencyGate(settings, 'events', clientWithGap(between, seen, withoutItem));
  const runs: string[] = [];
  const second = await secondGate
    .run(key, async () => void runs.push('second copy'), invocation)
    .then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
  await expect(first).rejects.toThrow('the first copy failed');
  return { second, seen, runs, secondGate };
}

describe('two copies of one event taking its idempotency key at once on local mode’s DynamoDB emulator', () => {
  it('the colliding copy is in progress elsewhere, told by the holder’s record its refused lock carried, even when the holder releases the key before the copy hears back', async () => {
    const { second, seen, runs } = await copiesColliding(`events#github#race-${Date.now()}`, false);

    expect(runs).toEqual([]);
    expect(describeError(second).name).toBe('IdempotencyAlreadyInProgressError');
    // The holder's record came with the refusal, as DynamoDB sends it: no second read, so no window to miss it in.
    const holder = seen.collision?.Item;
    expect(holder?.status).toEqual({ S: 'INPROGRESS' });
    expect(holder?.[IDEMPOTENCY_TABLE.partitionKey]?.S).toMatch(/^events#\S+$/);
    expect(describeError(second).message).toBe(
      `There is already an execution in progress with idempotency key: ${holder?.[IDEMPOTENCY_TABLE.partitionKey]?.S}`,
    );
    expect(seen.commands).toEqual(['PutItemCommand']);
  });

  it('through a store that does not hand the record back, the copy is retried with KeyReleasedByOtherCopyError, and its retry runs the event', async () => {
    const key = `events#github#race-${Date.now()}`;
    const { second, seen, runs, secondGate } = await copiesColliding(key, true);

    expect(runs).toEqual([]);
    expect(seen.commands).toEqual(['PutItemCommand', 'GetItemCommand']);
    const reason = describeError(second);
    expect(reason.name).toBe('KeyReleasedByOtherCopyError');
    expect(reason.message).toMatch(
      /^another copy of this event held its idempotency key when this copy tried to take it, and released it before this copy could read it/,
    );
    // The key is free again: the retry runs the event.
    await expect(secondGate.run(key, async () => void runs.push('retry'), invocation)).resolves.toBe('ran');
    expect(runs).toEqual(['retry']);
  });
});
