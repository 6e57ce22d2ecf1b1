/**
 * `hookline status`: per queue, where messages are (visible, in flight, delayed, dead-lettered), how old the
 * oldest is, and whether its consumer is running.
 */

import type { BreakerTrip } from '../../lambda/shared/circuit-breaker';
import { START_LOCAL_MODE } from '../../lambda/shared/local-mode-command';
import { FAIR_QUEUE_METRICS } from '../fair-queue-metrics';
import type { UnconfiguredQueues } from '../local/unconfigured-queues';
import { type Backend, contextOf } from './backend';
import { consumerState } from './consumers';
import { type QueueDepth, queueDepth } from './dead-letters';
import { ActionDeniedError, CliError, type Denial, denialOf, explainError, needing } from './errors';
import { scheduledJobsOf } from './local-status';
import type { ScheduledJobsCounter } from './scheduled-jobs';
import {
  type DeadLetterQueueTarget,
  type LocalTarget,
  MAPPING_MISSING,
  otherDeadLetterQueues,
  type QueueIdempotency,
  type QueueTarget,
  queueOf,
  type Target,
} from './target';
import { deniedValue, type Read, STATUS_PARTS, type UnreadablePart, unlessDenied } from './unreadable';

export interface QueueStatus {
  readonly queue: string;
  readonly fifo: boolean;
  /** Null, as are `inFlight` and `delayed`, when the queue could not be read (`unreadable` in the result says why). */
  readonly visible: number | null;
  readonly inFlight: number | null;
  readonly delayed: number | null;
  /** Messages in the dead-letter queue, visible or held by a reader; null when it could not be read. */
  readonly deadLettered: number | null;
  /** Age of the oldest message in seconds (CloudWatch `ApproximateAgeOfOldestMessage`), null when unknown. */
  readonly oldestMessageAgeSeconds: number | null;
  /** Why the age is unknown, when it is. */
  readonly oldestMessageAgeNote?: string;
  /** The queue's oldest-message alarm threshold (seconds), where the configuration is known. */
  readonly oldestMessageAgeAlarmSeconds?: number;
  /**
   * Its consumer's idempotency, where the configuration is known: `{ expirySeconds }` while on (a copy of an event
   * whose handler completed within that time, delivered again or redriven, is skipped), null when it is off or the
   * queue has no consumer.
   */
  readonly idempotency?: QueueIdempotency | null;
  /**
   * `Enabled`, `Disabled`, a transition (`Disabling`...), or null when the queue has no consumer; absent when its
   * state could not be read (`unreadable` in the result says why).
   */
  readonly consumer?: string | null;
  /**
   * Present when the consumer's circuit breaker paused it (and it was not resumed since): when, and how many of
   * the records that ended in its window failed; with `halfOpenAfter`, also `circuit` (open with its next probe,
   * or half-open while a probe runs the consumer). A paused consumer without it was paused by an operator, unless
   * `unreadable` in the result names its `circuit breaker`: then who paused it is not known.
   */
  readonly circuitBreaker?: BreakerTrip;
  /**
   * A fair queue's quiet tenants (those SQS has not detected as noisy, which it serves first): their visible
   * messages and the age of their oldest. Deployed, from CloudWatch as the alarm and dashboard read them; null
   * when unknown (idle, or CloudWatch unreadable: `oldestMessageAgeNote` says which). Local mode counts them from
   * its emulator and tenant lanes (`visible` 0 and the age null when there are none), with `note` saying what of
   * SQS's noisy-tenant detection it cannot know.
   */
  readonly quietTenants?: {
    readonly visible: number | null;
    readonly oldestMessageAgeSeconds: number | null;
    /** Local mode: what of SQS's noisy-tenant detection its count leaves out. */
    readonly note?: string;
  };
}

/** A dead-letter queue that belongs to no queue: the one-time job schedules' one, or a configured schedule's. */
export interface DeadLetterQueueStatus {
  /** Its name for `hookline failed list`. */
  readonly name: string;
  /** What it holds. */
  readonly holds: string;
  /** Messages in it, visible or held by a reader; null when it could not be read. */
  readonly deadLettered: number | null;
}

/** A queue's status as local mode reads it: its own emulators refuse it nothing, so every part is known. */
export interface LocalQueueStatus extends QueueStatus {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
  readonly deadLettered: number;
  readonly consumer: string | null;
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
  /**
   * Jobs one-time schedules will send later (delayed beyond SQS's 15 minutes, so in no queue's `delayed` yet), of
   * every queue or of `--queue`'s: local mode's stand-in's, or a deployed stack's EventBridge Scheduler schedules
   * (counted when asked, and the stack's producers may delay jobs); absent where it is not read or could not be
   * counted (`scheduledJobsNote` says why), or a local mode that does not answer it.
   */
  readonly scheduledJobs?: number;
  /**
   * A deployed stack: true when `scheduledJobs` is a lower bound, counting having stopped after the first 1,000
   * schedules with more left (`SCHEDULED_JOBS_COUNTED` in ./scheduled-jobs); absent when the count is exact.
   */
  readonly scheduledJobsAtLeast?: true;
  /**
   * A deployed stack whose producers may delay jobs: why its jobs scheduled for later could not be counted (its
   * schedules could not be listed), in place of `scheduledJobs`, which is then absent, never 0.
   */
  readonly scheduledJobsNote?: string;
  /**
   * The parts the caller's AWS identity may not read, each with the IAM action it needs (absent when there are
   * none): their values are null or absent, never guessed, and the command exits 1.
   */
  readonly unreadable?: readonly UnreadablePart[];
}

/** The CloudWatch gauges `status` reads per queue (a fair queue's quiet-tenant ones too), by query id prefix. */
const QUEUE_GAUGES = {
  age: 'ApproximateAgeOfOldestMessage',
  quiet: FAIR_QUEUE_METRICS.quietBacklog,
  quietAge: FAIR_QUEUE_METRICS.quietOldestAge,
} as const;

/** The action `status` reads the oldest ages (and a fair queue's quiet tenants) with. */
const GET_METRIC_DATA = 'cloudwatch:GetMetricData';

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
    const answer = await needing(
      GET_METRIC_DATA,
      backend.cloudwatch.send(
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
      ),
    );
    const byId = new Map(wanted.map((w) => [`${w.gauge.toLowerCase()}${w.i}`, w]));
    for (const result of answer.MetricDataResults ?? []) {
      const query = byId.get(result.Id ?? '');
      const value = result.Values?.[0];
      if (query && value !== undefined) found[query.gauge].set(query.q.name, value);
    }
    return { ages: found.age, quiet: quietOf() };
  } catch (error) {
    if (error instanceof ActionDeniedError)
      return {
        ages: found.age,
        quiet: quietOf(),
        note: deniedValue(denialOf(error)),
        denied: denialOf(error),
      };
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
   * circuit stands, also while a probe runs it (`running`); undefined when the breaker did not pause it. Each action
   * it was denied is told to `denied`: what it answers is then incomplete.
   */
  breakerTrip?(
    queue: QueueTarget,
    running: boolean,
    denied: (denial: Denial) => void,
  ): Promise<BreakerTrip | undefined>;
}

/** A fair queue's quiet tenants as read: what is unknown is absent; local mode's count says what it leaves out. */
export interface QuietTenantsRead {
  readonly visible?: number;
  readonly oldestAgeSeconds?: number | undefined;
  readonly note?: string;
}

export interface OldestAges {
  readonly ages: ReadonlyMap<string, number>;
  /** Each fair queue's quiet tenants, by queue name: from CloudWatch, or local mode's count of them. */
  readonly quiet?: ReadonlyMap<string, QuietTenantsRead>;
  /** Why a queue has no age. */
  readonly note?: string;
  /** Why a queue that holds messages has no age, when that differs from `note`. */
  readonly noteWhenHolding?: string;
  /** The action the ages could not be read without (and any policy explicitly denying it), when the caller may not make it. */
  readonly denied?: Denial;
}

/**
 * Local mode has no CloudWatch: it reads the age of each queue's oldest message from its emulator and answers it
 * with its queue rows. Where it does not answer them, the ages are not known.
 */
export const LOCAL_AGES: OldestAges = {
  ages: new Map(),
  note: `not known: local mode did not answer its queue rows (restart local mode, ${START_LOCAL_MODE}, with this version)`,
};

/**
 * A consumer's state and the circuit breaker's record of it (what tripped it, its circuit), if it has one, with the
 * parts the caller may not read: its state, or some of what tells whether the breaker paused it.
 */
async function consumerAndTrip(
  sources: StatusSources,
  queue: QueueTarget,
): Promise<{ consumer: Read<string | null>; trip?: BreakerTrip; denied: UnreadablePart[] }> {
  const consumer = await unlessDenied(sources.consumer(queue), queue.name, STATUS_PARTS.consumer);
  if (consumer.denied) return { consumer, denied: [consumer.denied] };
  const state = consumer.value;
  if (state === null || state === MAPPING_MISSING) return { consumer, denied: [] };
  const denials = new Map<string, Denial>();
  const trip = await sources.breakerTrip?.(queue, state === 'Enabled', (denial) =>
    denials.set(denial.action, denial),
  );
  return {
    consumer,
    ...(trip ? { trip } : {}),
    denied: [...denials.values()].map((denial) => ({
      queue: queue.name,
      part: STATUS_PARTS.circuitBreaker,
      ...denial,
    })),
  };
}

/** Why a queue shows no age: its source's reason, the one for a queue holding messages when it has one. */
function missingAgeNote(ages: OldestAges, depth: QueueDepth | undefined): string {
  const holding = depth !== undefined && depth.visible + depth.inFlight > 0;
  if (holding && ages.noteWhenHolding !== undefined) return ages.noteWhenHolding;
  return ages.note ?? 'no data in the last 15 minutes (queue idle)';
}

/** A dead-letter queue's messages, visible or held by a reader, or null when it could not be read. */
const deadLettersOf = (dead: Read<QueueDepth>): number | null =>
  // A dead letter that a reader holds (failed list, the console's event page, a redrive) is still there.
  dead.value ? dead.value.visible + dead.value.inFlight : null;

/**
 * The status of each of `queues`, from `sources`; one home for the rows, whoever collects them. A part whose read
 * was denied is left unknown in its row and named in `unreadable`, in the order of the rows.
 */
export async function queueStatuses(
  sources: StatusSources,
  queues: readonly QueueTarget[],
): Promise<{ rows: QueueStatus[]; unreadable: UnreadablePart[] }> {
  const ages = queues.length > 0 ? await sources.oldestAges(queues) : LOCAL_AGES;
  const read = await Promise.all(
    queues.map(async (queue): Promise<{ row: QueueStatus; unreadable: UnreadablePart[] }> => {
      const [depth, dead, consumer] = await Promise.all([
        unlessDenied(sources.depth(queue.url), queue.name, STATUS_PARTS.messages),
        unlessDenied(sources.depth(queue.deadLetterUrl), queue.name, STATUS_PARTS.deadLetters),
        consumerAndTrip(sources, queue),
      ]);
      const age = ages.ages.get(queue.name);
      const quiet = ages.quiet?.get(queue.name);
      const ageDenied =
        age === undefined && ages.denied !== undefined
          ? { queue: queue.name, part: STATUS_PARTS.oldestAge, ...ages.denied }
          : undefined;
      const row: QueueStatus = {
        queue: queue.name,
        fifo: queue.fifo,
        visible: depth.value?.visible ?? null,
        inFlight: depth.value?.inFlight ?? null,
        delayed: depth.value?.delayed ?? null,
        deadLettered: deadLettersOf(dead),
        oldestMessageAgeSeconds: age ?? null,
        ...(age === undefined ? { oldestMessageAgeNote: missingAgeNote(ages, depth.value) } : {}),
        ...(queue.oldestMessageAgeAlarmSeconds !== undefined
          ? { oldestMessageAgeAlarmSeconds: queue.oldestMessageAgeAlarmSeconds }
          : {}),
        ...(queue.idempotency !== undefined ? { idempotency: queue.idempotency } : {}),
        ...(consumer.consumer.denied ? {} : { consumer: consumer.consumer.value }),
        ...(consumer.trip ? { circuitBreaker: consumer.trip } : {}),
        ...(quiet
          ? {
              quietTenants: {
                visible: quiet.visible ?? null,
                oldestMessageAgeSeconds: quiet.oldestAgeSeconds ?? null,
                ...(quiet.note !== undefined ? { note: quiet.note } : {}),
              },
            }
          : {}),
      };
      const unreadable = [depth.denied, dead.denied, ageDenied, ...consumer.denied].filter(
        (part): part is UnreadablePart => part !== undefined,
      );
      return { row, unreadable };
    }),
  );
  return { rows: read.map((r) => r.row), unreadable: read.flatMap((r) => r.unreadable) };
}

/** The queues a status covers: all of them, or the one asked for (an unknown name is an error). */
export function statusQueues(target: Target, options: { queue?: string } = {}): QueueTarget[] {
  return options.queue !== undefined ? [queueOf(target, options.queue)] : Object.values(target.queues);
}

/**
 * Local mode's own rows (its control API): only it knows which messages the emulator counts in flight are
 * waiting in a fair consumer's tenant lanes rather than being processed. Undefined when it does not answer
 * them, and the emulator's counts are read instead. With them, the jobs its one-time schedules will send later
 * (of every queue when `all`, else of the one queue).
 */
async function localModeRows(
  backend: Backend,
  target: LocalTarget,
  queues: readonly QueueTarget[],
  all: boolean,
): Promise<{ rows?: QueueStatus[]; unconfiguredQueues?: UnconfiguredQueues; scheduledJobs?: number }> {
  try {
    const response = await backend.http(`${target.controlUrl}/queues`);
    if (!response.ok) return {};
    const answer = (await response.json()) as {
      queues?: unknown;
      unconfiguredQueues?: UnconfiguredQueues;
      scheduledJobs?: unknown;
    } | null;
    const scheduled = scheduledJobsOf(answer?.scheduledJobs, all ? undefined : queues[0]?.name);
    const unconfigured = {
      ...(answer?.unconfiguredQueues ? { unconfiguredQueues: answer.unconfiguredQueues } : {}),
      ...(scheduled !== undefined ? { scheduledJobs: scheduled } : {}),
    };
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

/** What `status` says of the jobs waiting in a deployed stack's one-time schedules, and the denial that hid them. */
interface DeployedScheduledJobs {
  readonly fields: Pick<StatusResult, 'scheduledJobs' | 'scheduledJobsAtLeast' | 'scheduledJobsNote'>;
  readonly denied?: UnreadablePart;
}

/**
 * Why a nested stack's jobs scheduled for later are not counted: listed under its own name's prefix, none would be
 * found, and 0 would be a guess.
 */
const NESTED_STACK_SCHEDULES =
  "unknown: the stack is nested in another, and its job schedules are named after the top-level stack's name and the pipeline's path in it, which CloudFormation does not give";

/**
 * The jobs waiting beyond SQS's 15 minutes in a deployed stack's one-time schedules, of every queue or of the one
 * asked for: counted only when asked and the stack's producers may delay jobs (it has their schedules' dead-letter
 * queue); otherwise nothing, and no call.
 */
async function deployedScheduledJobs(
  backend: Backend,
  target: Target,
  options: StatusOptions,
): Promise<DeployedScheduledJobs> {
  const scheduler = backend.scheduler;
  if (
    !options.countScheduledJobs ||
    target.kind !== 'stack' ||
    !target.jobSchedulesDeadLetterQueue ||
    !scheduler
  )
    return { fields: {} };
  if (target.nested) return { fields: { scheduledJobsNote: NESTED_STACK_SCHEDULES } };
  const queue = options.queue === undefined ? undefined : queueOf(target, options.queue);
  const count = options.scheduledJobsCounter ?? (await import('./scheduled-jobs')).countScheduledJobs;
  const counted = await count(scheduler, target.stackName, queue?.arn);
  if ('count' in counted)
    return {
      fields: { scheduledJobs: counted.count, ...(counted.atLeast ? { scheduledJobsAtLeast: true } : {}) },
    };
  if ('failed' in counted) return { fields: { scheduledJobsNote: `unknown: ${counted.failed}` } };
  return {
    fields: { scheduledJobsNote: deniedValue(counted.denied) },
    // The queue asked for, if any; the whole stack's count names no queue, rather than a made-up one.
    denied: { ...(queue ? { queue: queue.name } : {}), part: STATUS_PARTS.scheduledJobs, ...counted.denied },
  };
}

/**
 * The selected queues' rows: local mode answers them itself when it can (and says what it holds beyond the
 * configuration); otherwise, and on a deployed stack, each queue's reads.
 */
async function queueRows(
  backend: Backend,
  target: Target,
  queues: readonly QueueTarget[],
  sources: StatusSources,
  allQueues: boolean,
) {
  if (target.kind !== 'local') {
    const read = await queueStatuses(sources, queues);
    return { ...read, unconfiguredQueues: undefined, scheduledJobs: undefined };
  }
  const local = await localModeRows(backend, target, queues, allQueues);
  return local.rows
    ? { ...local, rows: local.rows, unreadable: [] }
    : { ...local, ...(await queueStatuses(sources, queues)) };
}

/** The rows of dead-letter queues no selected queue owns, each with the denial that left it unknown, if any. */
function otherDeadLetterRows(sources: StatusSources, others: readonly DeadLetterQueueTarget[]) {
  return Promise.all(
    others.map(async (d) => {
      const dead = await unlessDenied(sources.depth(d.deadLetterUrl), d.name, STATUS_PARTS.deadLetters);
      const row: DeadLetterQueueStatus = {
        name: d.name,
        holds: d.holds ?? 'dead letters',
        deadLettered: deadLettersOf(dead),
      };
      return { row, denied: dead.denied };
    }),
  );
}

/** What a status covers. */
export interface StatusOptions {
  /** Only this queue. @default every queue */
  readonly queue?: string;
  /**
   * On a deployed stack whose producers may delay jobs, count the jobs waiting in its one-time schedules
   * (`scheduler:ListSchedules`, a call per 100 schedules, at most `SCHEDULED_JOB_PAGES` in ./scheduled-jobs).
   * @default false
   */
  readonly countScheduledJobs?: boolean;
  /**
   * How `countScheduledJobs` counts them: the console's overview reuses a recent count across its refreshes.
   * @default - `countScheduledJobs` of ./scheduled-jobs: the schedules are listed at each status
   */
  readonly scheduledJobsCounter?: ScheduledJobsCounter;
}

/** Collects the status of every queue (or of one) through the backend's clients. */
export async function status(
  backend: Backend,
  target: Target,
  options: StatusOptions = {},
): Promise<StatusResult> {
  const queues = statusQueues(target, options);
  if (options.queue === undefined) refuseStackWithoutQueues(target);
  const others = options.queue === undefined ? otherDeadLetterQueues(target) : [];
  const sources: StatusSources = {
    depth: (url) =>
      needing('sqs:GetQueueAttributes', queueDepth(backend.sqs, url)).catch((error: unknown) => {
        // A denial leaves that queue's counts unknown; anything else fails the status as a whole.
        if (error instanceof ActionDeniedError) throw error;
        // Say which of the queues read at once is missing: the stack's outputs may name one deleted since.
        throw explainError(error, contextOf(target, queueNamed(url, queues, others)));
      }),
    consumer: (queue) => needing('lambda:GetEventSourceMapping', consumerState(backend, target, queue)),
    ...(target.kind === 'stack'
      ? {
          // A running consumer too when its breaker probes: it may be half-open, which the mapping's tag records.
          // Any other running consumer costs no call.
          breakerTrip: async (queue: QueueTarget, running: boolean, denied: (denial: Denial) => void) =>
            running && !queue.breakerProbes
              ? undefined
              : (await breakerStatus()).deployedBreakerTrip(
                  backend,
                  target,
                  queue,
                  // Without a configured breaker, who paused the consumer is known: an operator.
                  queue.breakerConfigured ? denied : undefined,
                ),
        }
      : {}),
    oldestAges: (selected) =>
      target.kind === 'stack' ? oldestAges(backend, selected) : Promise.resolve(LOCAL_AGES),
  };
  try {
    const [{ rows, unreadable: rowsUnreadable, unconfiguredQueues, scheduledJobs }, otherReads, scheduled] =
      await Promise.all([
        queueRows(backend, target, queues, sources, options.queue === undefined),
        otherDeadLetterRows(sources, others),
        deployedScheduledJobs(backend, target, options),
      ]);
    const otherRows = otherReads.map((read) => read.row);
    const unreadable = [
      ...rowsUnreadable,
      ...otherReads.flatMap((read) => (read.denied ? [read.denied] : [])),
      ...(scheduled.denied ? [scheduled.denied] : []),
    ];
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
      ...(scheduledJobs !== undefined ? { scheduledJobs } : {}),
      ...scheduled.fields,
      ...(unreadable.length > 0 ? { unreadable } : {}),
    };
  } catch (error) {
    throw explainError(error, contextOf(target));
  }
}
