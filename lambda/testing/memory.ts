/**
 * The consumer runtime's collaborators in memory, for `hookline/testing`: what the runtime did with each record
 * (its visibility change, its dead letter), an idempotency gate and job records that last as long as their runner.
 */
import type { SQSRecord } from 'aws-lambda';
import type {
  ConsumerQueueOperations,
  IdempotencyGate,
  IdempotencyResult,
  JobRecordUpdates,
  MetricsSink,
  VisibilityRefusal,
} from '../consumer/core';
import type { DeadLetterMessage } from '../consumer/dead-letter';
import { KEY_IN_PROGRESS_ERROR } from '../consumer/errors';

/** SQS as the runtime uses it: each visibility change by message id, each dead letter, each early delete. */
export class MemoryQueue implements ConsumerQueueOperations {
  /** The last visibility (seconds) the runtime set, by message id: a retried record's backoff. */
  readonly visibility = new Map<string, number>();
  /** Dead letters the runtime sent, in order. */
  readonly deadLetters: DeadLetterMessage[] = [];
  /** Message ids the runtime deleted itself. */
  readonly deleted = new Set<string>();

  async changeVisibility(record: SQSRecord, visibilityTimeoutSeconds: number): Promise<void> {
    this.visibility.set(record.messageId, visibilityTimeoutSeconds);
  }

  async changeVisibilities(
    records: readonly SQSRecord[],
    visibilityTimeoutSeconds: number,
  ): Promise<VisibilityRefusal[]> {
    for (const record of records) this.visibility.set(record.messageId, visibilityTimeoutSeconds);
    return [];
  }

  async sendToDeadLetter(message: DeadLetterMessage): Promise<void> {
    this.deadLetters.push(message);
  }

  async deleteMessage(record: SQSRecord): Promise<void> {
    this.deleted.add(record.messageId);
  }
}

/**
 * Idempotency as Powertools keeps it in DynamoDB, in memory: a key whose work completed answers `duplicate`
 * without running it, a key whose work is running answers `IdempotencyAlreadyInProgressError`, and failed work
 * releases its key. Keys never expire: a runner lasts one test.
 */
export class MemoryIdempotency implements IdempotencyGate {
  readonly #keys = new Map<string, 'in-progress' | 'completed'>();

  async run(key: string, work: () => Promise<void>): Promise<IdempotencyResult> {
    const state = this.#keys.get(key);
    if (state === 'completed') return 'duplicate';
    if (state === 'in-progress') throw keyInProgress(key);
    this.#keys.set(key, 'in-progress');
    try {
      await work();
    } catch (error) {
      this.#keys.delete(key);
      throw error;
    }
    this.#keys.set(key, 'completed');
    return 'ran';
  }
}

function keyInProgress(key: string): Error {
  const error = new Error(`There is already an execution in progress with idempotency key: ${key}`);
  error.name = KEY_IN_PROGRESS_ERROR;
  return error;
}

/** A job's record as a test reads it: what its handler returned and last reported, by job id. */
export interface JobFacts {
  readonly result?: { readonly value: unknown };
  readonly progress?: { readonly value: unknown };
}

/** Job records in memory: every job runs (none is cancelled); a start forgets what an earlier attempt left. */
export class MemoryJobRecords implements JobRecordUpdates {
  readonly #jobs = new Map<string, JobFacts>();

  /** What the job's latest attempt left: its result once it completed, its last progress. */
  facts(id: string): JobFacts {
    return this.#jobs.get(id) ?? {};
  }

  async start(id: string): Promise<'run'> {
    this.#jobs.set(id, {});
    return 'run';
  }

  async complete(id: string, result: unknown): Promise<void> {
    this.#jobs.set(id, { ...this.facts(id), result: { value: result } });
  }

  async progress(id: string, _attempt: number, json: string): Promise<boolean> {
    this.#jobs.set(id, { ...this.facts(id), progress: { value: JSON.parse(json) } });
    return true;
  }

  async deadLettered(): Promise<void> {}

  async retrying(): Promise<void> {}
}

/** Metrics go nowhere: a test asserts on each record's outcome instead. */
export const NO_METRICS: MetricsSink = { publish: () => {}, archiveFailed: () => {} };
