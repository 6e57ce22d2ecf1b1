/**
 * `producer.cancel` at the same moment as the consumer starts the job: the producer and the consumer runtime on job
 * records in dynalite (see `./flow-world`), the deliveries and the cancels all at once.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { useDedupeTable } from '../../helpers/local/dedupe-table';
import { flowWorld, part, QUEUES } from './flow-world';

const table = 'cancel-race-dedupe';
let client: DynamoDBClient;
useDedupeTable(table, (ready) => {
  client = ready;
});

describe('a cancel racing the job starting', () => {
  it('is true exactly for the jobs whose handler never runs, and each record says which won', async () => {
    const world = flowWorld(client, table);
    const ids = Array.from({ length: 20 }, (_, i) => `race-${i}`);
    for (const [n, id] of ids.entries()) await world.producer.send(part, { n }, { id });

    // One invocation per job, each racing that job's cancel: sent at once for half of them, a few milliseconds later
    // for the others, so both orders occur.
    const later = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const cancels = await Promise.all(
      ids.flatMap((id, i) => [
        (i % 2 === 0 ? Promise.resolve() : later(i % 5)).then(() => world.producer.cancel(id)),
        world.deliver(QUEUES.jobs.url, [id]).then(() => undefined),
      ]),
    );
    const cancelled = ids.filter((_, i) => cancels[2 * i] === true);

    expect(world.runs.filter((id) => cancelled.includes(id))).toEqual([]);
    expect([...world.runs].sort()).toEqual(ids.filter((id) => !cancelled.includes(id)).sort());
    for (const id of ids) {
      expect((await world.records.read(id))?.state).toBe(cancelled.includes(id) ? 'cancelled' : 'completed');
    }
  });
});
