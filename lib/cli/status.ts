/**
 * `hookline status`: per queue, where messages are (visible, in flight, delayed, dead-lettered), how old the
 * oldest is, and whether its consumer is running.
 */

import type { BreakerTrip } from '../../lambda/shared/circuit-breaker';
import { FAIR_QUEUE_METRICS } from '../fair-queue-metrics';
import type { UnconfiguredQueues } from '../local/unconfigured-queues';
import { type Backend, contextOf } from './backend';
import { consumerState } from './consumers';
import { type QueueDepth, queueDepth } from './dead-letters';
import { CliError, explainError } from './errors';
import {
  type DeadLetterQueueTarget,
  type LocalTarget,
  MAPPING_MISSING,
  otherDeadLetterQueues,
  type QueueTarget,
  queueOf,
  type Target,
} from './target';

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
  /** The queue's oldest-message alarm threshold (seconds), where the configuration is known. */
  readonly oldestMessageAgeAlarmSeconds?: number;
  /** `Enabled`, `Disabled`, a transition (`Disabling`...), or null when the queue has no consumer. */
  readonly consumer: string | null;
  /**
   * Present when the consumer's circuit breaker paused it (and it was not resumed since): when, and how many of
   * the records that ended in its window failed; with `halfOpenAfter`, also `circuit` (open with its next probe,
   * or half-open while a probe runs the consumer). A paused consumer without it was paused by an operator.
   */
  readonly circuitBreaker?: BreakerTrip;
  /**
   * A deployed fair queue's quiet tenants (those without a backlog, which SQS serves first): their visible
   * messages and the age of their oldest, from CloudWatch as the alarm and dashboard read them; null when
   * unknown (idle, or CloudWatch unreadable: `oldestMessageAgeNote` says which).
   */
  readonly quietTenants?: {
    readonly visible: number | null;
    readonly oldestMessageAgeSeconds: number | null;
  };
}

/** A dead-letter queue that belongs to no queue: the one-time job schedules' one, or a configured schedule's. */
export interface DeadLetterQueueStatus {
  /** Its name for `hookline failed list`. */
  readonly name: string;
  /** What it holds. */
  readonly holds: string;
  /** Messages in it, visible or held by a reader. */
  readonly deadLettered: number;
}

export interface StatusResult {
  readonly target: string;
  readonly queues: readonly QueueStatus[];
  /** Dead-letter queues besides the queues' own (shown with every queue, not with `--queue`). */
  readonly otherDeadLetterQueues?: readonly DeadLetterQueueStatus[];
  /** Configured queues the stack does not publish (an older deployment): not counted, so named. */
  readonly queuesMissingOutputs?: readonly string[];
  /** Configured schedules whose dead-letter queue the stack does not publish yet (an older deployment). */
  readonly schedulesMissingOutputs?: readonly string[];
  /**
   * Local mode: queues its data directory holds that the configuration does not have (renamed or removed), with
   * the messages nothing processes there (shown with every queue, not with `--queue`).
   */
  readonly unconfiguredQueues?: UnconfiguredQueues;
}

/** The CloudWatch gauges `status` reads per queue (a fair queue's quiet-tenant ones too), by query id prefix. */
const QUEUE_GAUGES = {
  age: 'ApproximateAgeOfOldestMessage',
  quiet: FAIR_QUEUE_METRICS.quietBacklog,
  quietAge: FAIR_QUEUE_METRICS.quietOldestAge,
} as const;

/**
 * The last 15 minutes of `ApproximateAgeOfOldestMessage` (published every minute), and of a fair queue's
 * quiet-tenant backlog and age; the newest value wins.
 */
async function oldestAges(backend: Backend, queues: readonly QueueTarget[]): Promise<OldestAges> {
  const end = new Date(backend.clock.now());
  const start = new Date(end.getTime() - 15 * 60_000);
  const found = {
    age: new Map<string, number>(),
    quiet: new Map<string, number>(),
    quietAge: new Map<string, number>(),
  };
  const wanted = queues.flatMap((q, i) =>
    (q.fair ? (['age', 'quiet', 'quietAge'] as const) : (['age'] as const)).map((gauge) => ({ q, i, gauge })),
  );
  // Loaded for a deployed stack only: local mode has no CloudWatch.
  const { GetMetricDataCommand } = await import('@aws-sdk/client-cloudwatch');
  const quietOf = () =>
    new Map(
      queues
        .filter((q) => q.fair)
        .map((q) => [
          q.name,
          { visible: found.quiet.get(q.name), oldestAgeSeconds: found.quietAge.get(q.name) },
        ]),
    );
  try {
    const answer = await backend.cloudwatch.send(
      new GetMetricDataCommand({
        StartTime: start,
        EndTime: end,
        ScanBy: 'TimestampDescending',
        MetricDataQueries: wanted.map(({ q, i, gauge }) => ({
          Id: `${gauge.toLowerCase()}${i}`,
          ReturnData: true,
          MetricStat: {
            Metric: {
              Namespace: 'AWS/SQS',
              MetricName: QUEUE_GAUGES[gauge],
              Dimensions: [{ Name: 'QueueName', Value: q.url.split('/').pop() ?? q.name }],
            },
            Period: 60,
            Stat: 'Maximum',
          },
        })),
      }),
    );
    const byId = new Map(wanted.map((w) => [`${w.gauge.toLowerCase()}${w.i}`, w]));
    for (const result of answer.MetricDataResults ?? []) {
      const query = byId.get(result.Id ?? '');
      const value = result.Values?.[0];
      if (query && value !== undefined) found[query.gauge].set(query.q.name, value);
    }
    return { ages: found.age, quiet: quietOf() };
  } catch (error) {
    const name = error instanceof Error ? error.name : 'error';
    return { ages: found.age, quiet: quietOf(), note: `CloudWatch unavailable (${name})` };
  }
}

/** Where the numbers of a status come from: a deployed stack's APIs, or local mode's own emulators. */
export interface StatusSources {
  /** Visible, in-flight and delayed messages of one queue. */
  depth(queueUrl: string): Promise<QueueDepth>;
  /** The consumer's state, null when the queue has none. */
  consumer(queue: QueueTarget): Promise<string | null>;
  /** The age of each queue's oldest message, where known, or why it is not. */
  oldestAges(queues: readonly QueueTarget[]): Promise<OldestAges>;
  /**
   * The circuit breaker's record of the queue's consumer: what tripped it, and (with `halfOpenAfter`) where its
   * circuit stands, also while a probe runs it (`running`); undefined when the breaker did not pause it.
   */
  breakerTrip?(queue: QueueTarget, running: boolean): Promise<BreakerTrip | undefined>;
}

export interface OldestAges {
  readonly ages: ReadonlyMap<string, number>;
  /** Each fair queue's quiet tenants, by queue name (deployed stacks only: local mode has no CloudWatch). */
  readonly quiet?: ReadonlyMap<string, { readonly visible?: number; readonly oldestAgeSeconds?: number }>;
  /** Why a queue has no age. */
  readonly note?: string;
  /** Why a queue that holds messages has no age, when that differs from `note`. */
  readonly noteWhenHolding?: string;
}

/**
 * Local mode has no CloudWatch: it reads the age of each queue's oldest message from its emulator and answers it
 * with its queue rows. Where it does not answer them, the ages are not known.
 */
export const LOCAL_AGES: OldestAges = {
  ages: new Map(),
  note: 'not known: local mode did not answer its queue rows (restart npm start with this version)',
};

/** A consumer's state and the circuit breaker's record of it (what tripped it, its circuit), if it has one. */
async function consumerAndTrip(
  sources: StatusSources,
  queue: QueueTarget,
): Promise<[string | null, BreakerTrip | undefined]> {
  const consumer = await sources.consumer(queue);
  if (consumer === null || consumer === MAPPING_MISSING) return [consumer, undefined];
  return [consumer, await sources.breakerTrip?.(queue, consumer === 'Enabled')];
}

/** Why a queue shows no age: its source's reason, the one for a queue holding messages when it has one. */
function missingAgeNote(ages: OldestAges, depth: QueueDepth): string {
  const holding = depth.visible + depth.inFlight > 0;
  if (holding && ages.noteWhenHolding !== undefined) return ages.noteWhenHolding;
  return ages.note ?? 'no data in the last 15 minutes (queue idle)';
}

/** The status of each of `queues`, from `sources`; one home for the rows, whoever collects them. */
export async function queueStatuses(
  sources: StatusSources,
  queues: readonly QueueTarget[],
): Promise<QueueStatus[]> {
  const ages = queues.length > 0 ? await sources.oldestAges(queues) : LOCAL_AGES;
  return Promise.all(
    queues.map(async (queue): Promise<QueueStatus> => {
      const [depth, dead, [consumer, trip]] = await Promise.all([
        sources.depth(queue.url),
        sources.depth(queue.deadLetterUrl),
        consumerAndTrip(sources, queue),
      ]);
      const age = ages.ages.get(queue.name);
      const quiet = ages.quiet?.get(queue.name);
      return {
        queue: queue.name,
        fifo: queue.fifo,
        visible: depth.visible,
        inFlight: depth.inFlight,
        delayed: depth.delayed,
        // A dead letter that a reader holds (failed list, the console's event page, a redrive) is still there.
        deadLettered: dead.visible + dead.inFlight,
        oldestMessageAgeSeconds: age ?? null,
        ...(age === undefined ? { oldestMessageAgeNote: missingAgeNote(ages, depth) } : {}),
        ...(queue.oldestMessageAgeAlarmSeconds !== undefined
          ? { oldestMessageAgeAlarmSeconds: queue.oldestMessageAgeAlarmSeconds }
          : {}),
        consumer,
        ...(trip ? { circuitBreaker: trip } : {}),
        ...(quiet
          ? {
              quietTenants: {
                visible: quiet.visible ?? null,
                oldestMessageAgeSeconds: quiet.oldestAgeSeconds ?? null,
              },
            }
          : {}),
      };
    }),
  );
}

/** The queues a status covers: all of them, or the one asked for (an unknown name is an error). */
export function statusQueues(target: Target, options: { queue?: string } = {}): QueueTarget[] {
  return options.queue !== undefined ? [queueOf(target, options.queue)] : Object.values(target.queues);
}

/**
 * Local mode's own rows (its control API): only it knows which messages the emulator counts in flight are
 * waiting in a fair consumer's tenant lanes rather than being processed. Undefined when it does not answer
 * them, and the emulator's counts are read instead.
 */
async function localModeRows(
  backend: Backend,
  target: LocalTarget,
  queues: readonly QueueTarget[],
): Promise<{ rows?: QueueStatus[]; unconfiguredQueues?: UnconfiguredQueues }> {
  try {
    const response = await backend.http(`${target.controlUrl}/queues`);
    if (!response.ok) return {};
    const answer = (await response.json()) as {
      queues?: unknown;
      unconfiguredQueues?: UnconfiguredQueues;
    } | null;
    const unconfigured = answer?.unconfiguredQueues ? { unconfiguredQueues: answer.unconfiguredQueues } : {};
    const rows = answer?.queues;
    if (!Array.isArray(rows)) return unconfigured;
    const selected = queues.map((q) => (rows as QueueStatus[]).find((row) => row?.queue === q.name));
    return selected.every((row) => row !== undefined)
      ? { rows: selected as QueueStatus[], ...unconfigured }
      : unconfigured;
  } catch {
    return {};
  }
}

/**
 * A stack that publishes none of the configured queues is not this configuration's pipeline as this version
 * deploys it (an older version's, another configuration's, not a hookline stack): a status of no queues would
 * read as an empty pipeline, so it is an error saying which.
 */
function refuseStackWithoutQueues(target: Target): void {
  if (target.kind !== 'stack' || target.queuesMissingOutputs.length === 0) return;
  if (Object.keys(target.queues).length > 0) return;
  throw new CliError(
    `${target.description} publishes none of the configured queues (${target.queuesMissingOutputs.join(', ')}) in its outputs: it was deployed by an older hookline version or from another configuration, or is not a hookline stack; redeploy it with npx cdk deploy, or pass the --stack (and --config) of the pipeline you mean`,
  );
}

/** How an error names the queue at `url`: a queue, a queue's dead-letter queue, or a dead-letter queue of its own. */
function queueNamed(
  url: string,
  queues: readonly QueueTarget[],
  others: readonly DeadLetterQueueTarget[],
): string | undefined {
  const queue = queues.find((q) => q.url === url);
  if (queue) return queue.name;
  const deadLetters = queues.find((q) => q.deadLetterUrl === url);
  if (deadLetters) return `${deadLetters.name} (its dead-letter queue)`;
  return others.find((d) => d.deadLetterUrl === url)?.name;
}

/** Loaded for a deployed stack only: `status --local` loads no AWS SDK. */
const breakerStatus = () => import('./breaker-status');

/** Collects the status of every queue (or of one) through the backend's clients. */
export async function status(
  backend: Backend,
  target: Target,
  options: { queue?: string } = {},
): Promise<StatusResult> {
  const queues = statusQueues(target, options);
  if (options.queue === undefined) refuseStackWithoutQueues(target);
  const others = options.queue === undefined ? otherDeadLetterQueues(target) : [];
  const sources: StatusSources = {
    depth: (url) =>
      queueDepth(backend.sqs, url).catch((error: unknown) => {
        // Say which of the queues read at once is missing: the stack's outputs may name one deleted since.
        throw explainError(error, contextOf(target, queueNamed(url, queues, others)));
      }),
    consumer: (queue) => consumerState(backend, target, queue),
    ...(target.kind === 'stack'
      ? {
          // A running consumer too when its breaker probes: it may be half-open, which the mapping's tag records.
          // Any other running consumer costs no call.
          breakerTrip: async (queue: QueueTarget, running: boolean) =>
            running && !queue.breakerProbes
              ? undefined
              : (await breakerStatus()).deployedBreakerTrip(backend, target, queue),
        }
      : {}),
    oldestAges: (selected) =>
      target.kind === 'stack' ? oldestAges(backend, selected) : Promise.resolve(LOCAL_AGES),
  };
  try {
    const [{ rows, unconfiguredQueues }, otherRows] = await Promise.all([
      target.kind === 'local'
        ? localModeRows(backend, target, queues).then(async (local) => ({
            ...local,
            rows: local.rows ?? (await queueStatuses(sources, queues)),
          }))
        : queueStatuses(sources, queues).then((rows) => ({ rows, unconfiguredQueues: undefined })),
      Promise.all(
        others.map(async (d): Promise<DeadLetterQueueStatus> => {
          const depth = await sources.depth(d.deadLetterUrl);
          return {
            name: d.name,
            holds: d.holds ?? 'dead letters',
            deadLettered: depth.visible + depth.inFlight,
          };
        }),
      ),
    ]);
    return {
      target: target.description,
      queues: rows,
      ...(otherRows.length > 0 ? { otherDeadLetterQueues: otherRows } : {}),
      ...(options.queue === undefined && target.kind === 'stack' && target.queuesMissingOutputs.length
        ? { queuesMissingOutputs: target.queuesMissingOutputs }
        : {}),
      ...(options.queue === undefined && target.kind === 'stack' && target.schedulesMissingOutputs?.length
        ? { schedulesMissingOutputs: target.schedulesMissingOutputs }
        : {}),
      ...(options.queue === undefined && unconfiguredQueues ? { unconfiguredQueues } : {}),
    };
  } catch (error) {
    throw explainError(error, contextOf(target));
  }
}
