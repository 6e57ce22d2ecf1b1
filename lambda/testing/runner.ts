/**
 * `consumerRunner`: runs a consumer's real runtime core (`lambda/consumer/core.ts`: routing, schema validation,
 * error classification, backoff, dead-letter reasons, idempotency) on a batch of test events, its collaborators in
 * memory, and says what hookline did with each record. No AWS, no emulator, no environment variable.
 */
import type { SQSRecord } from 'aws-lambda';
import { type ConsumerCore, createConsumerCore, type RecordOutcome } from '../consumer/core';
import type { DeadLetterMessage } from '../consumer/dead-letter';
import { type ConsumerHandler, definitionOf } from '../consumer/define-consumer';
import type { ConsumerDefinition } from '../consumer/types';
import {
  CONSUMER_RUNTIME_DEFAULTS,
  type ConsumerRuntimeConfig,
  consumerRuntimeSchema,
} from '../shared/consumer-config';
import { CONSUMER_OUTCOME_MESSAGE } from '../shared/contracts';
import { type DurationLike, delayMsOf } from '../shared/duration';
import { FAILURE_ATTRIBUTES, MESSAGE_ATTRIBUTES } from '../shared/envelope';
import { timerAlarm } from '../shared/invocation-deadline';
import { JOB_SOURCE } from '../shared/job';
import { retryRuleReasons } from '../shared/job-retry';
import { INVOCATION_MS, type LogLine, RecordingLogger } from './context';
import { sqsRecordOf, type TestEvent } from './events';
import { MemoryIdempotency, MemoryJobRecords, MemoryQueue, NO_METRICS } from './memory';

/** How the runner's consumer is set up: a queue's consumer settings, each defaulting as the configuration does. */
export interface ConsumerRunnerOptions {
  /**
   * The consumer (queue) name: `ctx.consumer`, and the `consumer` of a dead letter's reason.
   * @default 'test-consumer'
   */
  readonly consumer?: string;
  /**
   * The queue's `maxReceiveCount`: an event delivered with this `attempt` (or later) is on its last one.
   * @default 5
   */
  readonly maxReceiveCount?: number;
  /**
   * The consumer's `retry`, as in `hookline.config.ts`, its durations as `{ seconds: n }` (whole seconds), refused
   * where the configuration refuses it: a `base` from 1 second up to `max`, a `factor` from 1 to 10, a `max` up to 12
   * hours.
   * @default - a base of 10 seconds, a factor of 2, a maximum of 15 minutes
   */
  readonly retry?: {
    readonly base?: DurationLike;
    readonly factor?: number;
    readonly max?: DurationLike;
  };
  /**
   * The consumer's idempotency: kept in memory for the runner's life, so an event id run again (in a later `run`
   * too) is a `duplicate`.
   * @default true
   */
  readonly idempotency?: boolean;
  /**
   * Records of one batch run at once (`consumer.parallelism`).
   * @default 10
   */
  readonly parallelism?: number;
  /**
   * The queue is FIFO: the runtime's FIFO path runs the batch, each group's events in order; a failure holds back
   * the rest of its group in the batch (`deferred`, with the group's backoff, and on their last receive
   * dead-lettered), and the other groups go on. An event's group is its `group` (see `webhookEvent`, `jobEvent`).
   * @default false
   */
  readonly fifo?: boolean;
  /**
   * The backoff's jitter, uniform in [0, 1): `() => 1 - Number.EPSILON` draws the ceiling, `() => 0` half of it.
   * @default Math.random
   */
  readonly random?: () => number;
}

/** Why a record was dead-lettered, as its dead letter's `hookline.error.*` attributes say (`hookline failed`). */
export interface DeadLetterReason {
  readonly errorName: string;
  readonly errorMessage: string;
  readonly attempt: number;
  readonly consumer: string;
  /** ISO time. */
  readonly failedAt: string;
}

/** What hookline did with one event, in the order the events were given. */
export interface TestOutcome {
  /** The event's id. */
  readonly id: string;
  /** Its handler key, `<source>.<type>`. */
  readonly key: string;
  readonly attempt: number;
  /**
   * `processed`, `retried` (it comes back after `retryDelaySeconds`), `dead-lettered` (`deadLetter` says why),
   * `duplicate` (its id already ran: skipped), or `deferred` (not started: before the deadline margin, or, on a
   * FIFO queue, held back behind an earlier failure of its group).
   */
  readonly outcome: RecordOutcome;
  /**
   * Why it failed (`<error name>: <message>`) or was not started, as its outcome line says; absent for a record that
   * was processed or skipped.
   */
  readonly reason?: string;
  /**
   * A retried record's delay before its next delivery: its backoff, or longer when a `RetryLaterError` asked; on a
   * FIFO queue, a record deferred behind its group's failure comes back after the failure's delay, given here too.
   */
  readonly retryDelaySeconds?: number;
  /** A dead-lettered record's reason, as its dead letter carries it. */
  readonly deadLetter?: DeadLetterReason;
  /** A job that completed: what its handler returned (its record's `result`). */
  readonly result?: unknown;
  /** A job: what its handler last reported with `ctx.progress`. */
  readonly progress?: unknown;
  /** What its handler logged through `ctx.logger`. */
  readonly logs: readonly LogLine[];
}

/** A consumer in memory: `run` delivers events to it as one batch; idempotency lasts across runs. */
export interface ConsumerRunner {
  /** Delivers the events as one SQS batch and resolves with what happened to each, in their order. */
  run(events: readonly TestEvent[]): Promise<TestOutcome[]>;
  /** The runtime's own lines: each record's outcome line, and its warnings. */
  readonly runtimeLogs: readonly LogLine[];
}

/**
 * A runner for a consumer: the `handler` its file exports (what `defineConsumer` returns) or its definition.
 *
 * @example
 * import { handler } from '../consumers/events';
 * const [outcome] = await consumerRunner(handler).run([webhookEvent('github.push', { ref: 'refs/heads/main' })]);
 * expect(outcome.outcome).toBe('processed');
 */
export function consumerRunner(
  consumer: ConsumerHandler | ConsumerDefinition,
  options: ConsumerRunnerOptions = {},
): ConsumerRunner {
  const definition = typeof consumer === 'function' ? definitionOf(consumer) : consumer;
  if (!definition) {
    throw new TypeError(
      'consumerRunner: this function was not made by defineConsumer: pass the handler your consumer file exports, or its definition',
    );
  }
  return new MemoryRunner(definition, runnerConfig(options), options);
}

/** The runtime configuration the stack would write for these options, checked by the runtime's own schema. */
function runnerConfig(options: ConsumerRunnerOptions): ConsumerRuntimeConfig {
  const name = options.consumer ?? 'test-consumer';
  const defaults = CONSUMER_RUNTIME_DEFAULTS;
  const config = {
    name,
    queueUrl: `memory://${name}`,
    deadLetterQueueUrl: `memory://${name}-dlq`,
    fifo: options.fifo ?? false,
    maxReceiveCount: options.maxReceiveCount ?? defaults.maxReceiveCount,
    parallelism: options.parallelism ?? defaults.parallelism,
    retry: {
      baseSeconds: wholeSeconds('retry.base', options.retry?.base) ?? defaults.retry.baseSeconds,
      factor: options.retry?.factor ?? defaults.retry.factor,
      maxSeconds: wholeSeconds('retry.max', options.retry?.max) ?? defaults.retry.maxSeconds,
    },
    deadlineMarginMs: defaults.deadlineMarginMs,
    ...(options.idempotency === false ? {} : { idempotency: { tableName: 'memory', expirySeconds: 1 } }),
    jobRecords: { tableName: 'memory' },
  };
  const parsed = consumerRuntimeSchema.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.join('.') ?? '(root)';
    const value = JSON.stringify(valueAt(config, issue?.path ?? []));
    const option = OPTION_IN_SECONDS[path];
    const given = option ? `${option} is ${value} s` : `${path} is ${value}`;
    throw new TypeError(`consumerRunner: ${given}: ${issue?.message} (the runtime would refuse it)`);
  }
  throwIfDeployRefuses(parsed.data.retry);
  return parsed.data;
}

/**
 * Refuses a backoff a deploy refuses (`consumer.retry` in `hookline.config.ts`, `QueueConsumer`'s `retry`), by the
 * same rule: the runtime would run it, so a test would pass on a curve that never deploys.
 */
function throwIfDeployRefuses(retry: ConsumerRuntimeConfig['retry']): void {
  const reasons = retryRuleReasons(retry, (name) => `retry.${name}`);
  if (reasons.length === 0) return;
  throw new TypeError(`consumerRunner: ${reasons.join('; ')} (a deploy refuses it too)`);
}

/** The options the runtime configuration holds in seconds, by the name of its field. */
const OPTION_IN_SECONDS: Readonly<Record<string, string>> = {
  'retry.baseSeconds': 'retry.base',
  'retry.maxSeconds': 'retry.max',
};

function wholeSeconds(name: string, value: DurationLike | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = delayMsOf(value, 0, `consumerRunner: ${name}`, (message) => new TypeError(message));
  if (ms % 1000 !== 0) throw new TypeError(`consumerRunner: ${name} is ${ms / 1000} s: use whole seconds`);
  return ms / 1000;
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>((at, key) => (at as Record<PropertyKey, unknown> | undefined)?.[key], value);
}

class MemoryRunner implements ConsumerRunner {
  readonly #queue = new MemoryQueue();
  readonly #jobs = new MemoryJobRecords();
  /** The handlers' lines: a record's `logs`. */
  readonly #handlerLines: LogLine[] = [];
  /** The runtime's own lines, its children's (the handlers') kept apart. */
  readonly #logger = new RecordingLogger({}, [], this.#handlerLines);
  readonly #core: ConsumerCore;
  readonly #fifo: boolean;
  #sequence = 0;

  constructor(definition: ConsumerDefinition, config: ConsumerRuntimeConfig, options: ConsumerRunnerOptions) {
    this.#fifo = config.fifo;
    this.#core = createConsumerCore(definition, config, {
      sqs: this.#queue,
      loadPayload: async (ref) => {
        throw new Error(`hookline/testing keeps no claim-checked payloads (s3://${ref.bucket}/${ref.key})`);
      },
      ...(config.idempotency ? { idempotency: new MemoryIdempotency() } : {}),
      jobs: this.#jobs,
      now: Date.now,
      random: options.random ?? Math.random,
      alarm: timerAlarm,
      logger: this.#logger,
      metrics: NO_METRICS,
    });
  }

  get runtimeLogs(): readonly LogLine[] {
    return this.#logger.lines;
  }

  async run(events: readonly TestEvent[]): Promise<TestOutcome[]> {
    const records = events.map((event) => {
      const sequence = ++this.#sequence;
      return sqsRecordOf(event, `message-${sequence}`, { fifo: this.#fifo, sequence });
    });
    const deadline = Date.now() + INVOCATION_MS;
    const since = { runtime: this.#logger.lines.length, handlers: this.#handlerLines.length };
    const firstDeadLetter = this.#queue.deadLetters.length;
    await this.#core.processBatch(
      { Records: records },
      { getRemainingTimeInMillis: () => deadline - Date.now() },
    );
    const batch: BatchLines = {
      runtime: this.#logger.lines.slice(since.runtime),
      handlers: this.#handlerLines.slice(since.handlers),
      deadLetters: this.#queue.deadLetters.slice(firstDeadLetter),
    };
    return events.map((event, index) => this.#outcomeOf(records[index] as SQSRecord, event, batch));
  }

  #outcomeOf(record: SQSRecord, event: TestEvent, batch: BatchLines): TestOutcome {
    const line = batch.runtime.findLast(
      (l) => l.message === CONSUMER_OUTCOME_MESSAGE && l.attributes.messageId === record.messageId,
    )?.attributes;
    if (!line) throw new Error(`hookline/testing: the runtime logged no outcome for event ${event.id}`);
    const outcome = line.outcome as RecordOutcome;
    const job = event.source === JOB_SOURCE && outcome !== 'duplicate' ? this.#jobs.facts(event.id) : {};
    const retryDelaySeconds = this.#queue.visibility.get(record.messageId);
    const deadLetter = outcome === 'dead-lettered' ? claimDeadLetter(batch.deadLetters, record) : undefined;
    return {
      id: event.id,
      key: `${event.source}.${event.type}`,
      attempt: event.attempt,
      outcome,
      ...(typeof line.reason === 'string' ? { reason: line.reason } : {}),
      ...(DELAYED.has(outcome) && retryDelaySeconds !== undefined ? { retryDelaySeconds } : {}),
      ...(deadLetter ? { deadLetter } : {}),
      ...(outcome === 'processed' && job.result ? { result: job.result.value } : {}),
      ...(job.progress ? { progress: job.progress.value } : {}),
      logs: batch.handlers.filter(
        (l) => l.attributes.id === event.id && l.attributes.attempt === event.attempt,
      ),
    };
  }
}

/** Outcomes after which a record comes back after a delay the runtime set (a FIFO group's deferral takes one). */
const DELAYED: ReadonlySet<RecordOutcome> = new Set(['retried', 'deferred']);

/** What one batch left: its lines, and the dead letters its records have not claimed yet. */
interface BatchLines {
  readonly runtime: readonly LogLine[];
  readonly handlers: readonly LogLine[];
  readonly deadLetters: DeadLetterMessage[];
}

/** The dead letter sent for this record (the first not yet claimed that carries its body), read back as its reason. */
function claimDeadLetter(unclaimed: DeadLetterMessage[], record: SQSRecord): DeadLetterReason | undefined {
  const id = record.messageAttributes[MESSAGE_ATTRIBUTES.eventId]?.stringValue;
  const at = unclaimed.findIndex(
    (m) => m.body === record.body && m.attributes[MESSAGE_ATTRIBUTES.eventId]?.StringValue === id,
  );
  const [message] = at === -1 ? [] : unclaimed.splice(at, 1);
  if (!message) return undefined;
  const text = (name: string) => message.attributes[name]?.StringValue ?? '';
  return {
    errorName: text(FAILURE_ATTRIBUTES.errorName),
    errorMessage: text(FAILURE_ATTRIBUTES.errorMessage),
    attempt: Number(text(FAILURE_ATTRIBUTES.attempt)),
    consumer: text(FAILURE_ATTRIBUTES.consumer),
    failedAt: text(FAILURE_ATTRIBUTES.failedAt),
  };
}
