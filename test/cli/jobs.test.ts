/** `hookline jobs list` over a mocked DynamoDB: what it lists, what it says it left out, and its progress. */
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { jobsList, renderJobList } from '../../lib/cli/jobs';
import { recordingOutput } from './helpers';

const dynamodb = mockClient(DynamoDBClient);
afterEach(() => dynamodb.reset());

const job = (id: string, enqueuedAt: string) => ({
  pk: { S: `job#${id}` },
  state: { S: 'completed' },
  type: { S: 'email.welcome' },
  queue: { S: 'events' },
  enqueuedAt: { S: enqueuedAt },
});

describe('jobs list', () => {
  it('reports the scan page by page, and says how many jobs --limit left out', async () => {
    dynamodb
      .on(ScanCommand)
      .resolvesOnce({
        Items: [job('b', '2026-11-30T10:00:02Z')],
        ScannedCount: 1000,
        LastEvaluatedKey: { pk: { S: 'x' } },
      })
      .resolvesOnce({
        Items: [job('a', '2026-11-30T10:00:01Z'), job('c', '2026-11-30T10:00:03Z')],
        ScannedCount: 500,
      });
    const output = recordingOutput();
    const store = { client: new DynamoDBClient({ region: 'us-east-1' }), tableName: 'dedupe' };
    const list = await jobsList(store, { limit: 2, progress: output.progress('scanned') });
    expect(output.progressUpdates).toEqual([
      ['scanned', 1000, undefined],
      ['scanned', 1500, undefined],
    ]);
    expect(list).toMatchObject({ total: 3, jobs: [{ id: 'a' }, { id: 'b' }] });
    renderJobList(output, list);
    expect(output.lines).toContain('showing the 2 oldest of 3 jobs: pass --limit 3 to see them all');
  });

  it('says nothing was left out when every job is shown', async () => {
    dynamodb.on(ScanCommand).resolves({ Items: [job('a', '2026-11-30T10:00:01Z')], ScannedCount: 7 });
    const output = recordingOutput();
    const store = { client: new DynamoDBClient({ region: 'us-east-1' }), tableName: 'dedupe' };
    renderJobList(output, await jobsList(store, { limit: 50 }));
    expect(output.lines.some((line) => line.startsWith('showing'))).toBe(false);
  });
});
