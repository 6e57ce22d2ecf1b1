/**
 * `hookline jobs cancel` against dynalite when the job moves on between the read that shows it and the conditional
 * write that cancels it: what it reports comes from the record the cancel changed, or, when the cancel lost the
 * race, from the record as it is now.
 */
import {
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { DEDUPE_TABLE } from '../../lambda/shared/contracts';
import { jobRecordKey } from '../../lambda/shared/job-record';
import { CliError, NotFoundError } from '../../lib/cli/errors';
import { jobsCancel } from '../../lib/cli/jobs';
import { useDedupeTable } from '../helpers/local/dedupe-table';

const table = 'cancel-race-dedupe';
const output = {};

describe('jobs cancel when the job moves on meanwhile', () => {
  let client: DynamoDBClient;
  useDedupeTable(table, (ready) => {
    client = ready;
  });

  const key = (id: string) => ({ [DEDUPE_TABLE.partitionKey]: { S: jobRecordKey(id) } });
  const put = (id: string, state: string) =>
    client.send(
      new PutItemCommand({
        TableName: table,
        Item: { ...key(id), status: { S: 'queued' }, state: { S: state } },
      }),
    );

  /** The table's client, which runs `meanwhile` once, right after the first read of a record answers. */
  function movingOnAfterFirstRead(meanwhile: () => Promise<unknown>): DynamoDBClient {
    let moved = false;
    const send = async (command: unknown) => {
      const answer = await client.send(command as GetItemCommand);
      if (!moved && command instanceof GetItemCommand) {
        moved = true;
        await meanwhile();
      }
      return answer;
    };
    return { send } as unknown as DynamoDBClient;
  }

  it('says what the job was when cancelled, not what it was when read: a dead-lettered job redriven meanwhile was queued', async () => {
    await put('redriven', 'dead-lettered');
    const store = { client: movingOnAfterFirstRead(() => put('redriven', 'queued')), tableName: table };
    expect(await jobsCancel(store, 'redriven', output)).toEqual({
      id: 'redriven',
      cancelled: true,
      was: 'queued',
    });
  });

  it('says the job is not found when its record is gone by the time of the cancel, not that it is still queued', async () => {
    await put('expired', 'queued');
    const gone = () => client.send(new DeleteItemCommand({ TableName: table, Key: key('expired') }));
    const store = { client: movingOnAfterFirstRead(gone), tableName: table };
    const failure = jobsCancel(store, 'expired', output);
    await expect(failure).rejects.toThrow(NotFoundError);
    await expect(failure).rejects.toThrow('job expired not found');
  });

  it('names the state a job that started meanwhile is in', async () => {
    await put('started', 'queued');
    const store = { client: movingOnAfterFirstRead(() => put('started', 'processing')), tableName: table };
    const failure = jobsCancel(store, 'started', output);
    await expect(failure).rejects.toThrow(CliError);
    await expect(failure).rejects.toThrow('job started is processing: only a scheduled');
  });
});
