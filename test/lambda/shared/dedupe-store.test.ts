/**
 * The dedupe store's decisions and what they cost in DynamoDB calls. dynalite holds the table; DynamoDB returns the
 * record a conditional write collided with on its `ConditionalCheckFailedException`
 * (`ReturnValuesOnConditionCheckFailure: 'ALL_OLD'`), and so does local mode's dynalite once corrected
 * (`lib/local/dynalite-fixes.ts`). The counting client hands that record back (read aside where the dynalite in use
 * leaves it out) or strips it, as a store that does not return it would, and counts the calls the store makes.
 * Every decision is checked both ways, so the one-call path and the fallback agree.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { DEDUPE_TABLE } from '../../../lambda/shared/contracts';
import { createDynamoDedupeStore, type DedupeStore } from '../../../lambda/shared/dedupe-store';
import { putLegacyPendingClaim, testClock, useDedupeTable } from '../../helpers/local/dedupe-table';

const WINDOW_SECONDS = 3600;
const LEASE_SECONDS = 30;
const table = 'dedupe-store-decisions';

let dynalite: DynamoDBClient;
useDedupeTable(table, (ready) => {
  dynalite = ready;
});

/** A client that counts the store's calls by command; `returnsItem` makes a condition failure carry the record. */
function countingClient(returnsItem: boolean) {
  const calls: string[] = [];
  const inputs: Record<string, unknown>[] = [];
  const client = {
    async send(command: { constructor: { name: string }; input: Record<string, unknown> }) {
      calls.push(command.constructor.name);
      inputs.push(command.input);
      try {
        return await dynalite.send(command as never);
      } catch (error) {
        const wantsItem = command.input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD';
        if (!wantsItem || !(error instanceof Error)) throw error;
        if (error.name !== 'ConditionalCheckFailedException') throw error;
        if (!returnsItem) {
          // A store that does not hand the record back, whatever the dynalite in use does.
          throw new ConditionalCheckFailedException({ message: error.message, $metadata: {} });
        }
        // The write failed, so the record is as it was: read it aside (uncounted) to hand back as AWS does.
        const pk = DEDUPE_TABLE.partitionKey;
        const written = (command.input.Key ?? command.input.Item) as Record<string, AttributeValue>;
        const { Item: current } = await dynalite.send(
          new GetItemCommand({
            TableName: table,
            Key: { [pk]: written[pk] as AttributeValue },
            ConsistentRead: true,
          }),
        );
        throw new ConditionalCheckFailedException({
          message: 'The conditional request failed',
          $metadata: {},
          ...(current ? { Item: current } : {}),
        });
      }
    },
  } as unknown as DynamoDBClient;
  return { client, calls, inputs };
}

function storeOn(client: DynamoDBClient, now: () => number): DedupeStore {
  return createDynamoDedupeStore({
    client,
    tableName: table,
    ttlSeconds: WINDOW_SECONDS,
    leaseSeconds: LEASE_SECONDS,
    now,
  });
}

let keys = 0;

/** A fresh key, the store on a plain client that sets the record up, and the counted store under test. */
function setup(returnsItem: boolean) {
  const time = testClock();
  const key = `job#decision-${returnsItem ? 'aws' : 'dynalite'}-${++keys}`;
  const counted = countingClient(returnsItem);
  return {
    time,
    key,
    setUp: storeOn(dynalite, time.now),
    store: storeOn(counted.client, time.now),
    calls: counted.calls,
    inputs: counted.inputs,
    client: counted.client,
  };
}

describe.each([
  { name: 'with the record returned on a condition failure (AWS)', returnsItem: true },
  { name: 'without it (dynalite): the fallback', returnsItem: false },
])('dedupe claims $name', ({ returnsItem }) => {
  it('claims a key nobody holds with one conditional put', async () => {
    const { key, store, calls } = setup(returnsItem);
    expect(await store.claim(key)).toMatchObject({ status: 'claimed' });
    expect(calls).toEqual(['PutItemCommand']);
  });

  it('answers a completed key as a duplicate', async () => {
    const { key, setUp, store, calls, inputs } = setup(returnsItem);
    const first = await setUp.claim(key);
    if (first.status !== 'claimed') throw new Error(first.status);
    await setUp.complete(key, first.token);
    expect(await store.claim(key)).toEqual({ status: 'duplicate' });
    expect(calls).toEqual(
      returnsItem ? ['PutItemCommand'] : ['PutItemCommand', 'UpdateItemCommand', 'GetItemCommand'],
    );
    // The fallback reads right after a write collided: only a consistent read is sure to see that write.
    if (!returnsItem) expect(inputs[2]).toMatchObject({ ConsistentRead: true });
  });

  it('answers a lease in its last second as in progress, without a takeover DynamoDB would refuse', async () => {
    const { time, key, setUp, store, calls } = setup(returnsItem);
    await setUp.claim(key);
    time.advance(LEASE_SECONDS);
    expect(await store.claim(key)).toEqual({ status: 'in_progress' });
    expect(calls).toEqual(
      returnsItem ? ['PutItemCommand'] : ['PutItemCommand', 'UpdateItemCommand', 'GetItemCommand'],
    );
  });

  it('takes over a lease that ran out in the last second of its window', async () => {
    const { time, key, store, calls } = setup(returnsItem);
    const shortWindow = createDynamoDedupeStore({
      client: dynalite,
      tableName: table,
      ttlSeconds: LEASE_SECONDS + 5,
      leaseSeconds: LEASE_SECONDS,
      now: time.now,
    });
    const first = await shortWindow.claim(key);
    if (first.status !== 'claimed') throw new Error(first.status);
    // The record still stands (its TTL is not before now), so only a takeover can claim it.
    time.advance(LEASE_SECONDS + 5);
    expect(await store.claim(key)).toMatchObject({ status: 'claimed', generation: first.generation });
    expect(calls).toEqual(['PutItemCommand', 'UpdateItemCommand']);
  });

  it('rejects with the error, not as a delivery in progress, when the claim fails for another reason than its condition', async () => {
    const { key, store, client, calls } = setup(returnsItem);
    const original = client.send.bind(client);
    let failed = false;
    client.send = (async (command: never) => {
      if (!failed) {
        failed = true;
        calls.push('refused');
        throw Object.assign(new Error('Rate of requests exceeds the allowed throughput'), {
          name: 'ThrottlingException',
        });
      }
      return original(command);
    }) as never;
    await expect(store.claim(key)).rejects.toThrow(/allowed throughput/);
    expect(calls).toEqual(['refused']);
  });

  it('lets a former holder end its lease after a takeover without ending the lease of the new holder', async () => {
    const { time, key, setUp, store } = setup(returnsItem);
    const first = await setUp.claim(key);
    if (first.status !== 'claimed') throw new Error(first.status);
    time.advance(LEASE_SECONDS + 1);
    expect(await store.claim(key)).toMatchObject({ status: 'claimed' });
    await expect(setUp.release(key, first.token)).resolves.toBeUndefined();
    expect(await setUp.claim(key)).toEqual({ status: 'in_progress' });
  });

  it('rejects a release the table fails to answer, so the caller can say the lease was not ended', async () => {
    const { key, setUp, store, client } = setup(returnsItem);
    const first = await setUp.claim(key);
    if (first.status !== 'claimed') throw new Error(first.status);
    client.send = (async () => {
      throw Object.assign(new Error('internal server error'), { name: 'InternalServerError' });
    }) as never;
    await expect(store.release(key, first.token)).rejects.toThrow(/internal server error/);
  });

  it('answers a key whose lease is live as in progress', async () => {
    const { key, setUp, store, calls } = setup(returnsItem);
    await setUp.claim(key);
    expect(await store.claim(key)).toEqual({ status: 'in_progress' });
    expect(calls).toEqual(
      returnsItem ? ['PutItemCommand'] : ['PutItemCommand', 'UpdateItemCommand', 'GetItemCommand'],
    );
  });

  it('takes over a lease that ran out, keeping its generation', async () => {
    const { time, key, setUp, store, calls } = setup(returnsItem);
    const first = await setUp.claim(key);
    if (first.status !== 'claimed') throw new Error(first.status);
    time.advance(LEASE_SECONDS + 1);
    const taken = await store.claim(key);
    expect(taken).toMatchObject({ status: 'claimed', generation: first.generation });
    expect(calls).toEqual(['PutItemCommand', 'UpdateItemCommand']);
    // The lease is the taker's now: the first holder can no longer complete it.
    await expect(setUp.complete(key, first.token)).rejects.toThrow(ConditionalCheckFailedException);
  });

  it('lets a retry take over at once a claim whose enqueue failed, keeping its generation', async () => {
    const { key, setUp, store, calls } = setup(returnsItem);
    const first = await setUp.claim(key);
    if (first.status !== 'claimed') throw new Error(first.status);
    await setUp.release(key, first.token);
    expect(await store.claim(key)).toMatchObject({ status: 'claimed', generation: first.generation });
    expect(calls).toEqual(['PutItemCommand', 'UpdateItemCommand']);
  });

  it('starts a new generation once the window has passed', async () => {
    const { time, key, setUp, store, calls } = setup(returnsItem);
    const first = await setUp.claim(key);
    if (first.status !== 'claimed') throw new Error(first.status);
    await setUp.complete(key, first.token);
    time.advance(WINDOW_SECONDS + 1);
    const again = await store.claim(key);
    expect(again.status).toBe('claimed');
    expect(again.status === 'claimed' && again.generation).not.toBe(first.generation);
    expect(calls).toEqual(['PutItemCommand']);
  });

  it('answers in progress when another retry took the lease over first', async () => {
    const { time, key, setUp } = setup(returnsItem);
    await setUp.claim(key);
    time.advance(LEASE_SECONDS + 1);
    // The record this claim's put collides with still shows the lease run out; a rival takes it over before
    // this claim's takeover, which then fails.
    const rival = storeOn(dynalite, time.now);
    const racing = countingClient(returnsItem);
    const original = racing.client.send.bind(racing.client);
    let rivalDone = false;
    racing.client.send = (async (command: never) => {
      if ((command as object) instanceof UpdateItemCommand && !rivalDone) {
        rivalDone = true;
        expect(await rival.claim(key)).toMatchObject({ status: 'claimed' });
      }
      return original(command);
    }) as never;
    expect(await storeOn(racing.client, time.now).claim(key)).toEqual({ status: 'in_progress' });
    expect(racing.calls).toEqual(
      returnsItem
        ? ['PutItemCommand', 'UpdateItemCommand']
        : ['PutItemCommand', 'UpdateItemCommand', 'GetItemCommand'],
    );
  });
});

describe('a record written before generations were kept', () => {
  it('is taken over when its lease ran out, from the record DynamoDB returned, and keeps no generation', async () => {
    const { time, key, store, calls } = setup(true);
    await putLegacyPendingClaim(dynalite, table, { key, nowMs: time.now(), windowSeconds: WINDOW_SECONDS });
    expect(await store.claim(key)).toEqual({
      status: 'claimed',
      token: expect.any(String),
      generation: undefined,
    });
    expect(calls).toEqual(['PutItemCommand', 'UpdateItemCommand']);
  });
});

describe("a claim's complete", () => {
  const namesSend = (send: string) => ({
    expression: 'attribute_not_exists(debounceSend) OR debounceSend = :debounceSend',
    names: {},
    values: { ':debounceSend': { S: send } },
  });

  it('is refused, the claim left pending, when the record no longer holds what it completes only if', async () => {
    const { key, setUp } = setup(true);
    const claim = await setUp.claim(key);
    if (claim.status !== 'claimed') throw new Error(claim.status);
    // A consumer named another send first.
    await dynalite.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { [DEDUPE_TABLE.partitionKey]: { S: key } },
        UpdateExpression: 'SET debounceSend = :other',
        ExpressionAttributeValues: { ':other': { S: 'send-1' } },
      }),
    );
    await expect(
      setUp.complete(key, claim.token, { debounceSend: { S: 'send-2' } }, namesSend('send-2')),
    ).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    const { Item } = await dynalite.send(
      new GetItemCommand({
        TableName: table,
        Key: { [DEDUPE_TABLE.partitionKey]: { S: key } },
        ConsistentRead: true,
      }),
    );
    expect(Item).toMatchObject({ status: { S: 'pending' }, debounceSend: { S: 'send-1' } });
  });

  it('answers a repeat of a complete that landed as done, though the record no longer holds what it completes only if', async () => {
    const { key, setUp } = setup(true);
    const claim = await setUp.claim(key);
    if (claim.status !== 'claimed') throw new Error(claim.status);
    await setUp.complete(key, claim.token, { debounceSend: { S: 'send-1' } }, namesSend('send-1'));
    // A later send was taken before the repeat (the first complete's answer was lost).
    await dynalite.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { [DEDUPE_TABLE.partitionKey]: { S: key } },
        UpdateExpression: 'SET debounceSend = :other',
        ExpressionAttributeValues: { ':other': { S: 'send-2' } },
      }),
    );
    await expect(
      setUp.complete(key, claim.token, { debounceSend: { S: 'send-1' } }, namesSend('send-1')),
    ).resolves.toBeUndefined();
  });

  it('completes while the record holds what it completes only if', async () => {
    const { key, setUp } = setup(true);
    const claim = await setUp.claim(key);
    if (claim.status !== 'claimed') throw new Error(claim.status);
    await setUp.complete(key, claim.token, { debounceSend: { S: 'send-2' } }, namesSend('send-2'));
    expect(await setUp.claim(key)).toEqual({ status: 'duplicate' });
  });
});
