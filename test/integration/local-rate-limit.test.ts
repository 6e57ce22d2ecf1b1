/**
 * A consumer rate limit in local mode, end to end: the real consumer runtime in its sandboxes, two concurrent
 * invocations counting their starts in dynalite. 20 webhooks at 5 per second need four windows: the counts in the
 * shared table say no window started more than 5 and the windows span at least 3 seconds, and every record ran
 * once, on its first receive (held back inside its invocation, it spent no attempt), none dead-lettered.
 */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { Duration } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localDynamoClient } from '../../lib/local/clients';
import { localResourceNames } from '../../lib/local/topology';
import { recordingQueue, startTestPipeline, type TestPipeline, testConfig } from '../helpers/local/pipeline';

const RECORDS = 20;
const LIMIT = 5;

describe('local mode: a consumer rate limit of 5 per second', () => {
  let pipeline: TestPipeline;

  beforeAll(async () => {
    pipeline = await startTestPipeline(
      testConfig({
        events: recordingQueue(
          {},
          {
            timeout: Duration.seconds(10),
            maxConcurrency: 2,
            rateLimit: { limit: LIMIT, interval: Duration.seconds(1) },
          },
        ),
      }),
    );
  }, 120_000);
  afterAll(async () => {
    await pipeline?.stop();
  });

  it('starts 20 records in windows of at most 5 spanning at least 3 seconds, each once on its first receive, none dead-lettered', async () => {
    const ids = Array.from({ length: RECORDS }, (_, i) => `limited-${i}-${process.pid}`);
    const statuses = await Promise.all(
      ids.map(async (id) => (await pipeline.post('generic', { id, type: 'load.test' })).status),
    );
    expect(statuses.every((status) => status === 202)).toBe(true);
    const wanted = new Set(ids);
    const effects = () => pipeline.sideEffects().filter((e) => wanted.has(e.id));
    await pipeline.waitFor(() => effects().length >= RECORDS, 60_000, 'every record run');
    await pipeline.settled('events', 30_000);

    // Each ran once, on its first receive: no record was handed back for the limit.
    expect(effects()).toHaveLength(RECORDS);
    expect(effects().filter((e) => e.attempt !== 1)).toEqual([]);
    const outcomes = pipeline.events.filter((e) => wanted.has(e.id ?? ''));
    expect(outcomes.filter((e) => ['dead-lettered', 'retried', 'deferred'].includes(e.event))).toEqual([]);

    // The windows the starts were counted in, as the shared table holds them.
    const dynamo = localDynamoClient(pipeline.local.emulators);
    try {
      const scan = await dynamo.send(
        new ScanCommand({ TableName: localResourceNames(pipeline.config.stackName).idempotencyTable }),
      );
      const windows = (scan.Items ?? [])
        .filter((item) => item.id?.S?.startsWith('events#rate-limit#'))
        .map((item) => ({ window: Number(item.id?.S?.split('#')[2]), starts: Number(item.starts?.N) }));
      expect(windows.reduce((sum, w) => sum + w.starts, 0)).toBe(RECORDS);
      expect(Math.max(...windows.map((w) => w.starts))).toBeLessThanOrEqual(LIMIT);
      const indices = windows.map((w) => w.window);
      // 1-second windows: the first start and the last are at least 3 windows apart.
      expect(Math.max(...indices) - Math.min(...indices)).toBeGreaterThanOrEqual(3);
    } finally {
      dynamo.destroy();
    }
  }, 120_000);
});
