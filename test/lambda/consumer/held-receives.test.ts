/**
 * A FIFO job's held receives on dynalite: counted once per receive, and started over for a message id that comes
 * back with fewer receives (SQS counts a message moved back from its dead-letter queue anew).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoHeldReceives } from '../../../lambda/consumer/held-receives';
import { useDedupeTable } from '../../helpers/local/dedupe-table';

const table = 'held-receives';

let dynalite: DynamoDBClient;
useDedupeTable(table, (ready) => {
  dynalite = ready;
});

describe('held receives of a FIFO job', () => {
  it('counts each held receive once, for the receives after it', async () => {
    const held = new DynamoHeldReceives(dynalite, table);
    expect(await held.count('m-1', 2)).toBe(0);
    await held.add('m-1', 1);
    await held.add('m-1', 2);
    // A write retried after its answer was lost counts nothing more.
    await held.add('m-1', 2);
    expect(await held.count('m-1', 3)).toBe(2);
    expect(await held.count('m-other', 3)).toBe(0);
  });

  it('answers each count with the receives held before it, which the receive less is its attempt', async () => {
    const held = new DynamoHeldReceives(dynalite, table);
    expect(await held.add('m-3', 2)).toBe(0);
    expect(await held.add('m-3', 3)).toBe(1);
    expect(await held.add('m-3', 5)).toBe(2);
    // A write retried after its answer was lost: already counted, how many before it is not told.
    expect(await held.add('m-3', 5)).toBeUndefined();
    // Received anew (fewer receives than counted): an earlier life's count is not this one's.
    expect(await held.add('m-3', 2)).toBe(0);
  });

  it('starts over for the same message id received anew, and never reads an earlier life', async () => {
    const held = new DynamoHeldReceives(dynalite, table);
    await held.add('m-2', 1);
    await held.add('m-2', 2);
    await held.add('m-2', 3);
    // Moved to the DLQ and back: its receives count from 1 again.
    expect(await held.count('m-2', 2)).toBe(0);
    await held.add('m-2', 1);
    expect(await held.count('m-2', 2)).toBe(1);
  });
});
