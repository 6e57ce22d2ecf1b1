/**
 * Deployed: whether a paused consumer was paused by its circuit breaker, and what tripped it. There is no record of
 * the trip besides what CloudWatch and Lambda keep, so it is read from them: the breaker alarm's last transition to
 * ALARM (its history), and the mapping's `LastModified`. The breaker function disables the mapping seconds after the
 * alarm fires; an operator's pause or resume after that, or a pause before it (the function then leaves the mapping
 * alone), moves `LastModified` out of that moment, and the pause is the operator's. The counts are CloudWatch's sums
 * of the breaker metrics over the window before the trip.
 */

import { BREAKER_METRICS, type BreakerTrip, breakerAlarmName } from '../../lambda/shared/circuit-breaker';
import { METRIC_DIMENSIONS, metricsNamespaceOf } from '../../lambda/shared/contracts';
import type { Backend } from './backend';
import type { QueueTarget, StackTarget } from './target';

/** The longest an alarm's Lambda action takes to disable the mapping, retries included: later is someone else. */
export const BREAKER_ACTION_WITHIN_MS = 5 * 60_000;
/** Lambda's and CloudWatch's clocks may disagree this much. */
const CLOCK_SKEW_MS = 5_000;

/** Whether a mapping last changed at `lastModifiedMs` was disabled by the breaker alarm that fired at `alarmAtMs`. */
export function pausedByBreaker(lastModifiedMs: number, alarmAtMs: number): boolean {
  return (
    lastModifiedMs >= alarmAtMs - CLOCK_SKEW_MS && lastModifiedMs <= alarmAtMs + BREAKER_ACTION_WITHIN_MS
  );
}

/**
 * What tripped the breaker that paused a deployed queue's consumer; undefined when it is running, has no breaker,
 * was paused by an operator, or CloudWatch cannot be read (the consumer still shows `Disabled`, which is true).
 */
export async function deployedBreakerTrip(
  backend: Backend,
  target: StackTarget,
  queue: QueueTarget,
): Promise<BreakerTrip | undefined> {
  if (!queue.eventSourceMappingId) return undefined;
  try {
    const { GetEventSourceMappingCommand } = await import('@aws-sdk/client-lambda');
    const mapping = await backend.lambda.send(
      new GetEventSourceMappingCommand({ UUID: queue.eventSourceMappingId }),
    );
    if (mapping?.State !== 'Disabled' && mapping?.State !== 'Disabling') return undefined;
    const alarm = await lastAlarm(backend, breakerAlarmName(target.stackName, queue.name));
    const lastModified = mapping.LastModified?.getTime();
    if (!alarm || lastModified === undefined || !pausedByBreaker(lastModified, alarm.atMs)) return undefined;
    const counts = await countsBefore(backend, target, queue.name, alarm);
    return {
      trippedAt: new Date(alarm.atMs).toISOString(),
      ...counts,
      windowMinutes: alarm.periodSeconds / 60,
    };
  } catch {
    return undefined;
  }
}

/** The breaker alarm's period and its last transition to ALARM; undefined when it does not exist or never fired. */
async function lastAlarm(
  backend: Backend,
  alarmName: string,
): Promise<{ atMs: number; periodSeconds: number } | undefined> {
  const { DescribeAlarmsCommand, DescribeAlarmHistoryCommand } = await import('@aws-sdk/client-cloudwatch');
  const described = await backend.cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: [alarmName] }));
  const alarm = described?.MetricAlarms?.[0];
  const periodSeconds = alarm?.Metrics?.find((m) => m.MetricStat)?.MetricStat?.Period;
  if (!alarm || periodSeconds === undefined) return undefined;
  const history = await backend.cloudwatch.send(
    new DescribeAlarmHistoryCommand({
      AlarmName: alarmName,
      HistoryItemType: 'StateUpdate',
      ScanBy: 'TimestampDescending',
      MaxRecords: 20,
    }),
  );
  const fired = (history?.AlarmHistoryItems ?? []).find((item) => {
    try {
      return (
        (JSON.parse(item.HistoryData ?? '{}') as { newState?: { stateValue?: string } }).newState
          ?.stateValue === 'ALARM'
      );
    } catch {
      return false;
    }
  });
  const atMs = fired?.Timestamp?.getTime();
  return atMs === undefined ? undefined : { atMs, periodSeconds };
}

/** CloudWatch's sums of the breaker metrics over the window that ended when the alarm fired. */
async function countsBefore(
  backend: Backend,
  target: StackTarget,
  queue: string,
  alarm: { atMs: number; periodSeconds: number },
): Promise<{ failed: number; ended: number }> {
  const { GetMetricDataCommand } = await import('@aws-sdk/client-cloudwatch');
  const query = (id: string, metricName: string) => ({
    Id: id,
    ReturnData: true,
    MetricStat: {
      Metric: {
        Namespace: metricsNamespaceOf(target.stackName),
        MetricName: metricName,
        Dimensions: [{ Name: METRIC_DIMENSIONS.service, Value: queue }],
      },
      Period: alarm.periodSeconds,
      Stat: 'Sum',
    },
  });
  const answer = await backend.cloudwatch.send(
    new GetMetricDataCommand({
      StartTime: new Date(alarm.atMs - alarm.periodSeconds * 1000),
      EndTime: new Date(alarm.atMs),
      MetricDataQueries: [query('ended', BREAKER_METRICS.ended), query('failed', BREAKER_METRICS.failed)],
    }),
  );
  const sum = (id: string) =>
    (answer?.MetricDataResults?.find((r) => r.Id === id)?.Values ?? []).reduce((a, b) => a + b, 0);
  return { failed: sum('failed'), ended: sum('ended') };
}
