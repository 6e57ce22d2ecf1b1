import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { createDynamoDedupeStore } from '../../../lambda/shared/dedupe-store';
import { enqueuedJobFields, JobRecords, jobRecordKey } from '../../../lambda/shared/job-record';
import { useDedupeTable } from '../../helpers/local/dedupe-table';

// The producer sends a job, then records it as queued; a fast consumer can start and finish it in between.
describe('a job record written by the producer after the send', () => {
  let client: DynamoDBClient;
  const table = 'race-dedupe';
  useDedupeTable(table, (ready) => {
    client = ready;
  });

  it('never moves a job the consumer already finished back to queued', async () => {
    const dedupe = createDynamoDedupeStore({ client, tableName: table, ttlSeconds: 3600 });
    const records = new JobRecords(client, table);
    const claim = await dedupe.claim(jobRecordKey('fast-job'));
    if (claim.status !== 'claimed') throw new Error(`expected a claim, got ${claim.status}`);

    expect(await records.start('fast-job', 1, claim.generation)).toBe('run');
    await records.complete('fast-job', { sent: true }, claim.generation);
    await dedupe.complete(
      jobRecordKey('fast-job'),
      claim.token,
      enqueuedJobFields({ type: 'email.welcome', queue: 'events', enqueuedAt: new Date() }),
    );

    const status = await records.read('fast-job');
    expect(status?.state).toBe('completed');
    expect(status?.result).toEqual({ sent: true });
    expect(status?.type).toBe('email.welcome');
  });

  it('records a job the consumer has not seen yet as queued', async () => {
    const dedupe = createDynamoDedupeStore({ client, tableName: table, ttlSeconds: 3600 });
    const records = new JobRecords(client, table);
    const claim = await dedupe.claim(jobRecordKey('slow-job'));
    if (claim.status !== 'claimed') throw new Error(`expected a claim, got ${claim.status}`);
    await dedupe.complete(
      jobRecordKey('slow-job'),
      claim.token,
      enqueuedJobFields({ type: 'email.welcome', queue: 'events', enqueuedAt: new Date() }),
    );
    expect((await records.read('slow-job'))?.state).toBe('queued');
  });
});
