/**
 * Deployed: whether a consumer's circuit breaker paused it (or is probing it), and what tripped it. A breaker with
 * `halfOpenAfter` records its circuit exactly, as the `hookline:circuit-breaker` tag on the event source mapping
 * (`ListTags`): open, or half-open while a probe runs; an operator's pause or resume through hookline removes it.
 * Without the tag (a breaker without a probe, or an operator without `lambda:ListTags`) the pause is inferred from
 * what CloudWatch and Lambda keep: the breaker alarm's last transition to ALARM (its history), and the mapping's
 * `LastModified`. The breaker function disables the mapping seconds after the alarm fires; an operator's pause or
 * resume after that, or a pause before it (the function then leaves the mapping alone), moves `LastModified` out of
 * that moment, and the pause is the operator's. The counts are CloudWatch's sums of the breaker metrics over the
 * window before the trip.
 */

import type { MetricAlarm } from '@aws-sdk/client-cloudwatch';
import { eventSourceMappingArnNear } from '../../lambda/shared/aws-location';
import {
  BREAKER_METRICS,
  BREAKER_TAG,
  type BreakerCircuit,
  type BreakerTrip,
  breakerAlarmName,
  type MappingScaling,
  parseCircuitTag,
  previousBreakerAlarmName,
} from '../../lambda/shared/circuit-breaker';
import { METRIC_DIMENSIONS, metricsNamespaceOf } from '../../lambda/shared/contracts';
import type { Backend } from './backend';
import { ActionDeniedError, type Denial, denialOf, needing } from './errors';
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

/** Told each action a read of the breaker's record was denied: what the read answers is then incomplete. */
export type DeniedActions = (denial: Denial) => void;

/** Tells `denied` the action `error` was denied, if it is a denial. */
function tellDenial(error: unknown, denied: DeniedActions | undefined): void {
  if (error instanceof ActionDeniedError) denied?.(denialOf(error));
}

/**
 * The breaker's tag on a mapping: its circuit and the scaling to restore; undefined when absent or unreadable (a
 * denial told to `denied`).
 */
export async function readBreakerTag(
  backend: Backend,
  mappingArn: string | undefined,
  denied?: DeniedActions,
): Promise<{ circuit: BreakerCircuit; restore?: MappingScaling } | undefined> {
  if (!mappingArn) return undefined;
  try {
    const { ListTagsCommand } = await import('@aws-sdk/client-lambda');
    const answer = await needing(
      'lambda:ListTags',
      backend.lambda.send(new ListTagsCommand({ Resource: mappingArn })),
    );
    return parseCircuitTag(answer?.Tags?.[BREAKER_TAG]);
  } catch (error) {
    // Without lambda:ListTags the pause is inferred as before; the mapping's own state is still shown, and true.
    tellDenial(error, denied);
    return undefined;
  }
}

const STOPPED = new Set(['Disabled', 'Disabling']);

/**
 * What tripped the breaker that paused a deployed queue's consumer, and (with a probe) its circuit, also while a
 * probe runs it; undefined when it is running normally, has no breaker, was paused by an operator, or CloudWatch
 * cannot be read (the consumer still shows `Disabled`, which is true). Each action it was denied is told to
 * `denied`: then an undefined answer, or a trip without counts, is what it could read, not all there is.
 */
export async function deployedBreakerTrip(
  backend: Backend,
  target: StackTarget,
  queue: QueueTarget,
  denied?: DeniedActions,
): Promise<BreakerTrip | undefined> {
  if (!queue.eventSourceMappingId) return undefined;
  try {
    const { GetEventSourceMappingCommand } = await import('@aws-sdk/client-lambda');
    const mapping = await needing(
      'lambda:GetEventSourceMapping',
      backend.lambda.send(new GetEventSourceMappingCommand({ UUID: queue.eventSourceMappingId })),
    );
    const stopped = STOPPED.has(mapping?.State ?? '');
    const tag = await readBreakerTag(
      backend,
      mapping?.EventSourceMappingArn ?? eventSourceMappingArnNear(queue.arn, queue.eventSourceMappingId),
      // A breaker without a probe writes no tag: not reading it leaves nothing unknown.
      queue.breakerProbes ? denied : undefined,
    );
    if (tag) return await recordedTrip(backend, target, queue, tag.circuit, stopped, denied);
    if (!stopped) return undefined;
    const lastModified = mapping.LastModified?.getTime();
    const alarm = await lastAlarm(backend, {
      stackName: target.stackName,
      queue: queue.name,
      breakerConfigured: queue.breakerConfigured === true,
      ...(lastModified === undefined ? {} : { pausedAt: lastModified }),
    });
    if (!alarm || lastModified === undefined || !pausedByBreaker(lastModified, alarm.atMs)) return undefined;
    const counts = await countsBefore(backend, target, queue.name, alarm);
    return {
      trippedAt: new Date(alarm.atMs).toISOString(),
      ...counts,
      windowMinutes: alarm.periodSeconds / 60,
    };
  } catch (error) {
    tellDenial(error, denied);
    return undefined;
  }
}

/**
 * The trip a tag records: its circuit as it is, with the last ALARM's time and counts (the trip that opened it). A
 * record that no longer matches the mapping (open while it runs, half-open while paused: changed by other means than
 * hookline, which removes the tag) is not the breaker's state any more.
 */
async function recordedTrip(
  backend: Backend,
  target: StackTarget,
  queue: QueueTarget,
  circuit: BreakerCircuit,
  stopped: boolean,
  denied: DeniedActions | undefined,
): Promise<BreakerTrip | undefined> {
  if (stopped !== (circuit.state === 'open')) return undefined;
  // Without CloudWatch's answers the tag still says exactly where the circuit stands; the counts are left out,
  // never shown as zeros.
  const unread = (error: unknown) => {
    tellDenial(error, denied);
    return undefined;
  };
  const alarm = await lastAlarm(backend, {
    stackName: target.stackName,
    queue: queue.name,
    // A tag is written only by a breaker: the queue has one, configured or not in what the CLI read.
    breakerConfigured: true,
    pausedAt: Date.parse(circuit.since),
  }).catch(unread);
  const counts = alarm ? await countsBefore(backend, target, queue.name, alarm).catch(unread) : undefined;
  return {
    trippedAt: alarm ? new Date(alarm.atMs).toISOString() : circuit.since,
    ...(counts && alarm ? { ...counts, windowMinutes: alarm.periodSeconds / 60 } : {}),
    circuit,
  };
}

/** Which breaker alarm to read: a queue's in a stack, and when its consumer was paused, where that is known. */
interface BreakerAlarmQuery {
  readonly stackName: string;
  readonly queue: string;
  /** The queue's consumer has a breaker configured: only then may the alarm's earlier name be its. */
  readonly breakerConfigured: boolean;
  /** When the consumer was paused (ms), to tell a pause older than the alarm as it is now. */
  readonly pausedAt?: number;
}

/**
 * The breaker alarm's period and its last transition to ALARM; undefined when it does not exist or never fired.
 *
 * The alarm was renamed (`<stack>/<queue>/circuit-breaker`, earlier `<stack>-<queue>-circuit-breaker`): a stack not
 * deployed again since still has the earlier one, and a stack deployed since has a new alarm whose history starts at
 * the deploy, while a consumer its predecessor paused before stays paused. So where the alarm is missing, or was
 * configured after the pause, the earlier name's history is read too (CloudWatch keeps an alarm's history after the
 * alarm is deleted: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarmHistory.html),
 * and only for a queue with a breaker configured: another stack's earlier alarm can have that name. Its reads are
 * denied as the current name's are, as a part left unknown.
 */
async function lastAlarm(
  backend: Backend,
  query: BreakerAlarmQuery,
): Promise<{ atMs: number; periodSeconds: number } | undefined> {
  const name = breakerAlarmName(query.stackName, query.queue);
  const current = await describeAlarm(backend, name);
  const firedNow = current ? await lastFired(backend, name) : undefined;
  const configuredAt = current?.AlarmConfigurationUpdatedTimestamp?.getTime();
  const olderPause =
    current === undefined ||
    (query.pausedAt !== undefined && configuredAt !== undefined && configuredAt > query.pausedAt);
  // The current alarm's trip, when it is the one that paused the consumer: then the earlier name is not read.
  const explained =
    firedNow !== undefined && (query.pausedAt === undefined || pausedByBreaker(query.pausedAt, firedNow));
  const previous = previousBreakerAlarmName(name);
  const earlier =
    !explained && olderPause && query.breakerConfigured
      ? {
          alarm: current ?? (await describeAlarm(backend, previous)),
          atMs: await lastFired(backend, previous),
        }
      : undefined;
  const alarm = earlier?.alarm ?? current;
  const atMs = earlier?.atMs ?? firedNow;
  const periodSeconds = alarm?.Metrics?.find((m) => m.MetricStat)?.MetricStat?.Period;
  return atMs === undefined || periodSeconds === undefined ? undefined : { atMs, periodSeconds };
}

async function describeAlarm(backend: Backend, alarmName: string): Promise<MetricAlarm | undefined> {
  const { DescribeAlarmsCommand } = await import('@aws-sdk/client-cloudwatch');
  const described = await needing(
    'cloudwatch:DescribeAlarms',
    backend.cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: [alarmName] })),
  );
  return described?.MetricAlarms?.[0];
}

/** When the alarm named last went into ALARM, from its history (kept after the alarm is deleted). */
async function lastFired(backend: Backend, alarmName: string): Promise<number | undefined> {
  const { DescribeAlarmHistoryCommand } = await import('@aws-sdk/client-cloudwatch');
  const history = await needing(
    'cloudwatch:DescribeAlarmHistory',
    backend.cloudwatch.send(
      new DescribeAlarmHistoryCommand({
        AlarmName: alarmName,
        HistoryItemType: 'StateUpdate',
        ScanBy: 'TimestampDescending',
        MaxRecords: 20,
      }),
    ),
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
  return fired?.Timestamp?.getTime();
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
  const answer = await needing(
    'cloudwatch:GetMetricData',
    backend.cloudwatch.send(
      new GetMetricDataCommand({
        StartTime: new Date(alarm.atMs - alarm.periodSeconds * 1000),
        EndTime: new Date(alarm.atMs),
        MetricDataQueries: [query('ended', BREAKER_METRICS.ended), query('failed', BREAKER_METRICS.failed)],
      }),
    ),
  );
  const sum = (id: string) =>
    (answer?.MetricDataResults?.find((r) => r.Id === id)?.Values ?? []).reduce((a, b) => a + b, 0);
  return { failed: sum('failed'), ended: sum('ended') };
}

/**
 * An operator's pause or resume ends the breaker's record: what it was (for the answer), and the tag removed first,
 * so a probe or close that comes due meanwhile finds no record and leaves the consumer alone. A probe's scaling is
 * written back with the operator's change (`restore`), so the consumer runs at its configured scaling once resumed.
 * Without the tag (no probe), a resume still reports the inferred trip it ends.
 */
export async function endBreakerRecord(
  backend: Backend,
  target: StackTarget,
  queue: QueueTarget,
  resuming: boolean,
): Promise<{ cleared?: BreakerTrip; restore?: MappingScaling; untagFailed?: string }> {
  const uuid = queue.eventSourceMappingId;
  if (!uuid) return {};
  const { UntagResourceCommand } = await import('@aws-sdk/client-lambda');
  const arn = eventSourceMappingArnNear(queue.arn, uuid);
  const tag = await readBreakerTag(backend, arn);
  const trip = tag || resuming ? await deployedBreakerTrip(backend, target, queue) : undefined;
  if (!tag || !arn) return trip ? { cleared: trip } : {};
  // The configured scaling: a probe lowered it, and a re-opened probe's mapping still has the probe's.
  const { restore } = tag;
  try {
    await backend.lambda.send(new UntagResourceCommand({ Resource: arn, TagKeys: [BREAKER_TAG] }));
  } catch (error) {
    // The scaling still goes back: a resume must not leave the consumer at the probe's concurrency for good.
    const untagFailed = (error as Error).name ?? String(error);
    return { ...(trip ? { cleared: trip } : {}), ...(restore ? { restore } : {}), untagFailed };
  }
  return { ...(trip ? { cleared: trip } : {}), ...(restore ? { restore } : {}) };
}
