/**
 * Local mode's DynamoDB emulator answers a refused conditional write as DynamoDB does: with the item it found, in
 * the error's `Item`, when the write asked for `ReturnValuesOnConditionCheckFailure: ALL_OLD`. Through the real
 * SDK client, against dynalite as local mode starts it.
 */
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { localDynamoClient } from '../../../lib/local/clients';
import { fixConditionFailureItem } from '../../../lib/local/dynalite-fixes';
import { startEmulatorsInThread } from '../../../lib/local/emulator-thread';
import { ensureTable } from '../../../lib/local/topology';
import { useDedupeTable } from '../../helpers/local/dedupe-table';

const table = 'condition-item';
let dynamo: DynamoDBClient;
useDedupeTable(table, (ready) => {
  dynamo = ready;
});

const held = { pk: { S: 'held' }, status: { S: 'INPROGRESS' }, expiresAt: { N: '1900000000' } };
const onlyIfAbsent = { ConditionExpression: 'attribute_not_exists(pk)' } as const;

/** What the write was refused with; fails the test when it was not refused. */
async function refusal(write: Promise<unknown>): Promise<ConditionalCheckFailedException> {
  const outcome = await write.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(ConditionalCheckFailedException);
  return outcome as ConditionalCheckFailedException;
}

describe('a refused conditional write on local mode’s DynamoDB emulator', () => {
  it('carries the item it found, marshalled, when a PutItem, UpdateItem or DeleteItem asked for ALL_OLD', async () => {
    await dynamo.send(new PutItemCommand({ TableName: table, Item: held }));
    const asked = { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } as const;

    const put = await refusal(
      dynamo.send(
        new PutItemCommand({
          TableName: table,
          Item: { pk: { S: 'held' }, status: { S: 'mine' } },
          ...onlyIfAbsent,
          ...asked,
        }),
      ),
    );
    const update = await refusal(
      dynamo.send(
        new UpdateItemCommand({
          TableName: table,
          Key: { pk: { S: 'held' } },
          UpdateExpression: 'SET #s = :s',
          ConditionExpression: '#s = :other',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':s': { S: 'mine' }, ':other': { S: 'COMPLETED' } },
          ...asked,
        }),
      ),
    );
    const deleted = await refusal(
      dynamo.send(
        new DeleteItemCommand({
          TableName: table,
          Key: { pk: { S: 'held' } },
          ...onlyIfAbsent,
          ...asked,
        }),
      ),
    );

    expect(put.Item).toEqual(held);
    expect(update.Item).toEqual(held);
    expect(deleted.Item).toEqual(held);
    expect(put.message).toBe('The conditional request failed');
  });

  it('carries no item when the write did not ask for one, or found none', async () => {
    await dynamo.send(new PutItemCommand({ TableName: table, Item: { ...held, pk: { S: 'quiet' } } }));
    const notAsked = await refusal(
      dynamo.send(new PutItemCommand({ TableName: table, Item: { pk: { S: 'quiet' } }, ...onlyIfAbsent })),
    );
    const none = await refusal(
      dynamo.send(
        new PutItemCommand({
          TableName: table,
          Item: { pk: { S: 'quiet' } },
          ...onlyIfAbsent,
          ReturnValuesOnConditionCheckFailure: 'NONE',
        }),
      ),
    );
    const nothingThere = await refusal(
      dynamo.send(
        new DeleteItemCommand({
          TableName: table,
          Key: { pk: { S: 'never-written' } },
          ConditionExpression: 'attribute_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );

    expect(notAsked.Item).toBeUndefined();
    expect(none.Item).toBeUndefined();
    expect(nothingThere.Item).toBeUndefined();
  });

  it('finds the dynalite internals it corrects (a dynalite upgrade that moved them fails here)', () => {
    expect(fixConditionFailureItem(createRequire(import.meta.url))).toBe(true);
  });

  it('answers so in the emulators’ own thread too, as local mode runs them (bundled, dynalite loaded there)', async () => {
    const buildDir = join(process.cwd(), '.hookline', 'build', `dynalite-fixes-test-${process.pid}`);
    const emulators = await startEmulatorsInThread({ buildDir });
    const threaded = localDynamoClient(emulators);
    try {
      await ensureTable(threaded, table, 'pk', 'expiresAt');
      await threaded.send(new PutItemCommand({ TableName: table, Item: held }));
      const put = await refusal(
        threaded.send(
          new PutItemCommand({
            TableName: table,
            Item: { pk: { S: 'held' } },
            ...onlyIfAbsent,
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      expect(put.Item).toEqual(held);
    } finally {
      threaded.destroy();
      await emulators.stop();
      rmSync(buildDir, { recursive: true, force: true });
    }
  });
});
