/**
 * `hookline status`: per queue, where messages are (visible, in flight, delayed, dead-lettered), how old the
 * oldest is, and whether its consumer is running.
 */
import { type Backend, contextOf } from './backend';
import { consumerState } from './consumers';
import { queueDepth } from './dead-letters';
import { explainError } from './errors';
import { type QueueTarget, queueOf, type Target } from './target';

export interface QueueStatus {
  readonly queue: string;
  readonly fifo: boolean;
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
  /** Visible messages in the dead-letter queue. */
  readonly deadLettered: number;
  /** Age of the oldest message in seconds (CloudWatch `ApproximateAgeOfOldestMessage`), null when unknown. */
  readonly oldestMessageAgeSeconds: number | null;
  /** Why the age is unknown, when it is. */
  readonly oldestMessageAgeNote?: string;
  /** `Enabled`, `Disabled`, a transition (`Disabling`...), or null when the queue has no consumer. */
  readonly consumer: string | null;
}

export interface StatusResult {
  readonly target: string;
  readonly queues: readonly QueueStatus[];
}

/** The last 15 minutes of `ApproximateAgeOfOldestMessage` (published every minute); the newest value wins. */
async function oldestAges(
  backend: Backend,
  queues: readonly QueueTarget[],
): Promise<{ ages: Map<string, number>; note?: string }> {
  const end = new Date(backend.clock.now());
  const start = new Date(end.getTime() - 15 * 60_000);
  const ages = new Map<string, number>();
  // Loaded for a deployed stack only: local mode has no CloudWatch.
  const { GetMetricDataCommand } = await import('@aws-sdk/client-cloudwatch');
  try {
    const answer = await backend.cloudwatch.send(
      new GetMetricDataCommand({
        StartTime: start,
        EndTime: end,
        ScanBy: 'TimestampDescending',
        MetricDataQueries: queues.map((q, i) => ({
          Id: `age${i}`,
          ReturnData: true,
          MetricStat: {
            Metric: {
              Namespace: 'AWS/SQS',
              MetricName: 'ApproximateAgeOfOldestMessage',
              Dimensions: [{ Name: 'QueueName', Value: q.url.split('/').pop() ?? q.name }],
            },
            Period: 60,
            Stat: 'Maximum',
          },
        })),
      }),
    );
    for (const result of answer.MetricDataResults ?? []) {
      const index = Number(result.Id?.slice(3));
      const queue = queues[index];
      const value = result.Values?.[0];
      if (queue && value !== undefined) ages.set(queue.name, value);
    }
    return { ages };
  } catch (error) {
    const name = error instanceof Error ? error.name : 'error';
    return { ages, note: `CloudWatch unavailable (${name})` };
  }
}

/** Collects the status of every queue (or of one). */
export async function status(
  backend: Backend,
  target: Target,
  options: { queue?: string } = {},
): Promise<StatusResult> {
  const queues = options.queue ? [queueOf(target, options.queue)] : Object.values(target.queues);
  try {
    const ages =
      target.kind === 'stack' && queues.length > 0
        ? await oldestAges(backend, queues)
        : { ages: new Map<string, number>(), note: 'not available in local mode (a CloudWatch metric)' };
    const rows = await Promise.all(
      queues.map(async (queue): Promise<QueueStatus> => {
        const [depth, dead, consumer] = await Promise.all([
          queueDepth(backend.sqs, queue.url),
          queueDepth(backend.sqs, queue.deadLetterUrl),
          consumerState(backend, target, queue),
        ]);
        const age = ages.ages.get(queue.name);
        return {
          queue: queue.name,
          fifo: queue.fifo,
          visible: depth.visible,
          inFlight: depth.inFlight,
          delayed: depth.delayed,
          deadLettered: dead.visible,
          oldestMessageAgeSeconds: age ?? null,
          ...(age === undefined
            ? { oldestMessageAgeNote: ages.note ?? 'no data in the last 15 minutes (queue idle)' }
            : {}),
          consumer,
        };
      }),
    );
    return { target: target.description, queues: rows };
  } catch (error) {
    throw explainError(error, contextOf(target));
  }
}

/** `95` -> `1m 35s`. */
export function humanAge(seconds: number | null): string {
  if (seconds === null) return '-';
  if (seconds < 60) return `${Math.round(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${Math.round(seconds % 60)}s`;
  const hours = Math.floor(seconds / 3600);
  return hours < 48
    ? `${hours}h ${Math.floor((seconds % 3600) / 60)}m`
    : `${Math.floor(hours / 24)}d ${hours % 24}h`;
}
