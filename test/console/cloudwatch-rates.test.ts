/**
 * A deployed stack's queue rates from CloudWatch's SQS metrics, with the CloudWatch client mocked: which metric
 * each rate reads, and how its points fall into the overview's buckets.
 */
import {
  CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
} from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { queueRatesFromCloudWatch } from '../../lib/console/cloudwatch-rates';
import { EVENTS, ORDERS } from '../cli/helpers';

const cloudwatch = mockClient(CloudWatchClient);
const client = new CloudWatchClient({
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});
const now = Date.parse('2026-11-30T10:05:30Z');
const minute = (hhmm: string) => new Date(`2026-11-30T${hhmm}:00Z`);

beforeEach(() => cloudwatch.reset());

describe('queue rates from CloudWatch', () => {
  it('reads sent to the queue as received, deleted from it as processed, sent to its DLQ as failed', async () => {
    const asked: GetMetricDataCommandInput[] = [];
    cloudwatch.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => {
      asked.push(input);
      return { MetricDataResults: [] };
    });
    await queueRatesFromCloudWatch(client, [EVENTS, ORDERS], now, { buckets: 3 });
    for (const q of asked[0]?.MetricDataQueries ?? []) {
      expect([
        q.ReturnData,
        q.MetricStat?.Metric?.Namespace,
        q.MetricStat?.Metric?.Dimensions?.[0]?.Name,
      ]).toEqual([true, 'AWS/SQS', 'QueueName']);
    }
    const queries = (asked[0]?.MetricDataQueries ?? []).map((q) => [
      q.Id,
      q.MetricStat?.Metric?.MetricName,
      q.MetricStat?.Metric?.Dimensions?.[0]?.Value,
      q.MetricStat?.Stat,
      q.MetricStat?.Period,
    ]);
    expect(queries).toEqual([
      ['q0_received', 'NumberOfMessagesSent', 'Hookline-events', 'Sum', 60],
      ['q0_processed', 'NumberOfMessagesDeleted', 'Hookline-events', 'Sum', 60],
      ['q0_failed', 'NumberOfMessagesSent', 'Hookline-events-dlq', 'Sum', 60],
      ['q1_received', 'NumberOfMessagesSent', 'Hookline-orders.fifo', 'Sum', 60],
      ['q1_processed', 'NumberOfMessagesDeleted', 'Hookline-orders.fifo', 'Sum', 60],
      ['q1_failed', 'NumberOfMessagesSent', 'Hookline-orders-dlq.fifo', 'Sum', 60],
    ]);
    expect([asked[0]?.StartTime, asked[0]?.EndTime]).toEqual([minute('10:03'), minute('10:06')]);
  });

  it('puts each point in its minute, adds the pages up, and drops points outside the window', async () => {
    cloudwatch
      .on(GetMetricDataCommand)
      .resolvesOnce({
        MetricDataResults: [
          {
            Id: 'q0_received',
            Timestamps: [minute('10:05'), minute('10:03'), minute('10:02')],
            Values: [4, 1, 9],
          },
        ],
        NextToken: 'page-2',
      })
      .resolves({
        MetricDataResults: [
          // A point of a minute after now (clocks differ) is outside the window too.
          { Id: 'q0_received', Timestamps: [minute('10:05'), minute('10:06')], Values: [2, 5] },
          { Id: 'q1_failed', Timestamps: [minute('10:04')], Values: [3] },
        ],
      });
    const rates = await queueRatesFromCloudWatch(client, [EVENTS, ORDERS], now, { buckets: 3 });
    expect(rates.get('events')).toEqual({
      bucketSeconds: 60,
      received: [1, 0, 6],
      processed: [0, 0, 0],
      failed: [0, 0, 0],
    });
    expect(rates.get('orders')?.failed).toEqual([0, 3, 0]);
    expect(cloudwatch.commandCalls(GetMetricDataCommand)[1]?.args[0].input.NextToken).toBe('page-2');
  });

  it('asks nothing when there is no queue', async () => {
    expect(await queueRatesFromCloudWatch(client, [], now)).toEqual(new Map());
    expect(cloudwatch.calls()).toHaveLength(0);
  });

  it('gives the eleventh queue and beyond their own rates', async () => {
    const queues = Array.from({ length: 12 }, (_, i) => ({ ...EVENTS, name: `queue${i}` }));
    cloudwatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [{ Id: 'q11_processed', Timestamps: [minute('10:05')], Values: [8] }],
    });
    const rates = await queueRatesFromCloudWatch(client, queues, now, { buckets: 1 });
    expect(rates.get('queue11')?.processed).toEqual([8]);
    expect(rates.get('queue1')?.processed).toEqual([0]);
  });
});
