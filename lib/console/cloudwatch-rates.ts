/**
 * A deployed stack's queue rates from CloudWatch's SQS metrics (there is no live feed to count): messages sent
 * to the queue (received), deleted from it (processed: a consumer deletes what it handled) and sent to its DLQ
 * (failed: the consumer dead-letters with SendMessage). One `GetMetricData` call for every queue, 1-minute sums.
 */
import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import { needing } from '../cli/errors';
import type { QueueTarget } from '../cli/target';
import type { RateKind, RateSeries } from './activity';

const METRIC_OF: Readonly<Record<RateKind, { metric: string; dlq: boolean }>> = {
  received: { metric: 'NumberOfMessagesSent', dlq: false },
  processed: { metric: 'NumberOfMessagesDeleted', dlq: false },
  failed: { metric: 'NumberOfMessagesSent', dlq: true },
};
const KINDS = Object.keys(METRIC_OF) as RateKind[];

/** The IAM action the rates are read with, named where it is denied. */
export const RATES_ACTION = 'cloudwatch:GetMetricData';

const queueNameOf = (url: string) => url.split('/').pop() ?? url;

function queriesFor(queues: readonly QueueTarget[], periodSeconds: number): MetricDataQuery[] {
  return queues.flatMap((queue, i) =>
    KINDS.map((kind) => ({
      Id: `q${i}_${kind}`,
      ReturnData: true,
      MetricStat: {
        Metric: {
          Namespace: 'AWS/SQS',
          MetricName: METRIC_OF[kind].metric,
          Dimensions: [
            { Name: 'QueueName', Value: queueNameOf(METRIC_OF[kind].dlq ? queue.deadLetterUrl : queue.url) },
          ],
        },
        Period: periodSeconds,
        Stat: 'Sum',
      },
    })),
  );
}

/**
 * Per queue name, the last `buckets` periods of each rate, oldest first, ending with the current period. A denied
 * read throws an `ActionDeniedError` naming {@link RATES_ACTION}.
 */
export async function queueRatesFromCloudWatch(
  cloudwatch: CloudWatchClient,
  queues: readonly QueueTarget[],
  nowMs: number,
  options: { periodSeconds?: number; buckets?: number } = {},
): Promise<Map<string, RateSeries>> {
  const periodSeconds = options.periodSeconds ?? 60;
  const buckets = options.buckets ?? 30;
  const last = Math.floor(nowMs / 1000 / periodSeconds);
  const first = last - buckets + 1;
  const series = new Map<string, Record<RateKind, number[]>>(
    queues.map((q) => [
      q.name,
      { received: Array(buckets).fill(0), processed: Array(buckets).fill(0), failed: Array(buckets).fill(0) },
    ]),
  );
  if (queues.length === 0) return new Map();
  let token: string | undefined;
  do {
    const answer = await needing(
      RATES_ACTION,
      cloudwatch.send(
        new GetMetricDataCommand({
          StartTime: new Date(first * periodSeconds * 1000),
          EndTime: new Date((last + 1) * periodSeconds * 1000),
          MetricDataQueries: queriesFor(queues, periodSeconds),
          ...(token ? { NextToken: token } : {}),
        }),
      ),
    );
    for (const result of answer.MetricDataResults ?? []) {
      const [, index, kind] = /^q(\d+)_(\w+)$/.exec(result.Id ?? '') ?? [];
      const line = series.get(queues[Number(index)]?.name ?? '')?.[kind as RateKind];
      if (!line) continue;
      (result.Timestamps ?? []).forEach((time, n) => {
        const slot = Math.floor(time.getTime() / 1000 / periodSeconds) - first;
        if (slot >= 0 && slot < buckets) line[slot] = (line[slot] ?? 0) + (result.Values?.[n] ?? 0);
      });
    }
    token = answer.NextToken;
  } while (token);
  return new Map([...series].map(([name, lines]) => [name, { bucketSeconds: periodSeconds, ...lines }]));
}
