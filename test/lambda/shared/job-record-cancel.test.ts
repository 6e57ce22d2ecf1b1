import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { createDynamoDedupeStore } from '../../../lambda/shared/dedupe-store';
import {
  cancelOrSayWhy,
  enqueuedJobFields,
  JobRecords,
  jobRecordKey,
} from '../../../lambda/shared/job-record';
import { useDedupeTable } from '../../helpers/local/dedupe-table';

// One answer to "cancel, and if refused, why", which the producer's cancel and `hookline jobs cancel` both give.
describe('cancelling a job and saying why a refused cancel was refused', () => {
  let client: DynamoDBClient;
  const table = 'cancel-dedupe';
  useDedupeTable(table, (ready) => {
    client = ready;
  });

  /** Job `id` recorded queued, as the producer leaves it once sent; its claim's generation. */
  async function queued(id: string): Promise<string | undefined> {
    const dedupe = createDynamoDedupeStore({ client, tableName: table, ttlSeconds: 3600 });
    const claim = await dedupe.claim(jobRecordKey(id));
    if (claim.status !== 'claimed') throw new Error(`expected a claim, got ${claim.status}`);
    const fields = enqueuedJobFields({ type: 'email.welcome', queue: 'events', enqueuedAt: new Date() });
    await dedupe.complete(jobRecordKey(id), claim.token, fields);
    return claim.generation;
  }

  it('cancels a queued job, with what its record was', async () => {
    await queued('to-cancel');
    const answer = await cancelOrSayWhy(new JobRecords(client, table), 'to-cancel');
    expect(answer).toEqual({ outcome: 'cancelled', job: { was: 'queued' } });
  });

  it('answers a job cancelled before as already cancelled, changing nothing', async () => {
    await queued('twice');
    const records = new JobRecords(client, table);
    await cancelOrSayWhy(records, 'twice');
    expect(await cancelOrSayWhy(records, 'twice')).toEqual({ outcome: 'already-cancelled' });
    expect((await records.read('twice'))?.state).toBe('cancelled');
  });

  it('names the state of a job that started', async () => {
    const generation = await queued('started');
    const records = new JobRecords(client, table);
    expect(await records.start('started', 1, generation)).toBe('run');
    expect(await cancelOrSayWhy(records, 'started')).toEqual({
      outcome: 'not-cancellable',
      state: 'processing',
    });
  });

  it('says a job without a record was not found', async () => {
    const answer = await cancelOrSayWhy(new JobRecords(client, table), 'never-sent');
    expect(answer).toEqual({ outcome: 'not-found' });
  });
});
