/**
 * Record factories and in-memory collaborators for the consumer core's unit tests.
 */
import { randomUUID } from 'node:crypto';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type { ArchiveBatchSink } from '../../../lambda/consumer/archive-arrivals';
import {
  type ConsumerCollaborators,
  type ConsumerCore,
  createConsumerCore,
  type FlowParents,
  type IdempotencyGate,
  type InvocationContext,
  type JobRecordUpdates,
  type StartSlots,
  type TypeMetrics,
} from '../../../lambda/consumer/core';
import type { DeadLetterMessage } from '../../../lambda/consumer/dead-letter';
import type { HeldReceives } from '../../../lambda/consumer/held-receives';
import type { ConsumerDefinition } from '../../../lambda/consumer/types';
import { ENVELOPE_VERSION, MESSAGE_ATTRIBUTES, type WebhookEnvelope } from '../../../lambda/shared/envelope';
import type { Alarm } from '../../../lambda/shared/invocation-deadline';
import type { ConsumerRuntimeConfig } from '../../../lambda/shared/runtime-config';
import { type LogLine, RecordingLogger } from '../../../lambda/testing/context';

export const NOW = Date.parse('2026-11-25T12:00:00.000Z');

/** One type's counts for a metrics sink, spelled out: zero but for `counts`. */
export const typeCounts = (counts: Partial<TypeMetrics>): TypeMetrics => ({
  Processed: 0,
  Cancelled: 0,
  Failed: 0,
  Retried: 0,
  DeadLettered: 0,
  Permanent: 0,
  KeyHeldElsewhere: 0,
  Duplicate: 0,
  Deferred: 0,
  DeleteFailed: 0,
  endToEndLatencyMs: [],
  ...counts,
});

export function envelope(overrides: Partial<WebhookEnvelope> = {}): WebhookEnvelope {
  return {
    v: ENVELOPE_VERSION,
    id: `evt-${randomUUID()}`,
    source: 'github',
    type: 'push',
    receivedAt: new Date(NOW - 1_500).toISOString(),
    headers: { 'content-type': 'application/json' },
    contentType: 'application/json',
    body: JSON.stringify({ ref: 'refs/heads/main' }),
    bodyEncoding: 'utf8',
    ...overrides,
  };
}

export interface RecordOptions {
  readonly messageId?: string;
  readonly attempt?: number;
  readonly groupId?: string;
  readonly body?: string;
  readonly extraAttributes?: SQSRecord['messageAttributes'];
}

export function record(env: WebhookEnvelope, options: RecordOptions = {}): SQSRecord {
  const messageId = options.messageId ?? randomUUID();
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body: options.body ?? JSON.stringify(env),
    attributes: {
      ApproximateReceiveCount: String(options.attempt ?? 1),
      SentTimestamp: String(NOW - 1_000),
      SenderId: 'AIDATEST',
      ApproximateFirstReceiveTimestamp: String(NOW - 900),
      ...(options.groupId ? { MessageGroupId: options.groupId, MessageDeduplicationId: env.id } : {}),
    },
    messageAttributes: {
      [MESSAGE_ATTRIBUTES.source]: { dataType: 'String', stringValue: env.source },
      [MESSAGE_ATTRIBUTES.type]: { dataType: 'String', stringValue: env.type },
      [MESSAGE_ATTRIBUTES.eventId]: { dataType: 'String', stringValue: env.id },
      ...options.extraAttributes,
    },
    md5OfBody: 'unused',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:events',
    awsRegion: 'us-east-1',
  };
}

export const sqsEvent = (records: SQSRecord[]): SQSEvent => ({ Records: records });

export function runtimeConfig(overrides: Partial<ConsumerRuntimeConfig> = {}): ConsumerRuntimeConfig {
  return {
    name: 'events',
    queueUrl: 'http://sqs.local/000000000000/events',
    deadLetterQueueUrl: 'http://sqs.local/000000000000/events-dlq',
    fifo: false,
    maxReceiveCount: 5,
    parallelism: 10,
    retry: { baseSeconds: 10, factor: 2, maxSeconds: 900 },
    deadlineMarginMs: 3_000,
    ...overrides,
  };
}

export type { LogLine };

/** The kit's recording logger, with the outcome lines a core test reads. */
export class FakeLogger extends RecordingLogger {
  outcomes(): Record<string, unknown>[] {
    return this.lines.filter((l) => l.message === 'record outcome').map((l) => l.attributes);
  }
  outcomeOf(messageIdOrId: string): Record<string, unknown> | undefined {
    const matches = this.outcomes().filter((o) => o.messageId === messageIdOrId || o.id === messageIdOrId);
    if (matches.length > 1) throw new Error(`more than one outcome line for ${messageIdOrId}`);
    return matches[0];
  }
}

/** A character SQS refuses in a message body or string attribute (a lone surrogate among them). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what SQS refuses.
const SQS_REFUSED_CHARACTER = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ud800-\udfff\ufffe\uffff]/u;

export class FakeQueue {
  readonly visibilityChanges: Array<{ messageId: string; seconds: number }> = [];
  /** The message ids of each `ChangeMessageVisibilityBatch` call, also listed one by one in `visibilityChanges`. */
  readonly visibilityBatches: string[][] = [];
  readonly deadLetters: DeadLetterMessage[] = [];
  /** Message ids deleted by the runtime itself (not by the batch response). */
  readonly deleted: string[] = [];
  /** Dead-letter sends and deletes in call order: `send-dlq:<event id>`, `delete:<messageId>`. */
  readonly calls: string[] = [];
  failVisibility = false;
  /** Set: a single record's visibility change (a failed record's backoff) waits for it, as a slow SQS call does. */
  visibilityCall: Promise<void> | undefined;
  failDeadLetter = false;
  failDelete = false;
  readonly operations = {
    changeVisibility: async (rec: SQSRecord, seconds: number) => {
      await this.visibilityCall;
      if (this.failVisibility) throw new Error('visibility change refused');
      this.visibilityChanges.push({ messageId: rec.messageId, seconds });
    },
    changeVisibilities: async (records: readonly SQSRecord[], seconds: number) => {
      if (this.failVisibility)
        return records.map((r) => ({ messageId: r.messageId, reason: 'visibility change refused' }));
      for (let i = 0; i < records.length; i += 10) {
        const chunk = records.slice(i, i + 10);
        this.visibilityBatches.push(chunk.map((r) => r.messageId));
        for (const r of chunk) this.visibilityChanges.push({ messageId: r.messageId, seconds });
      }
      return [];
    },
    sendToDeadLetter: async (message: DeadLetterMessage) => {
      if (this.failDeadLetter) throw new Error('dead-letter queue unavailable');
      for (const [name, value] of Object.entries(message.attributes)) {
        // As SQS: a string attribute takes the characters a body takes, and the whole send fails otherwise.
        if (value.StringValue !== undefined && SQS_REFUSED_CHARACTER.test(value.StringValue)) {
          throw new Error(`InvalidParameterValue: message attribute ${name} contains invalid characters`);
        }
      }
      this.deadLetters.push(message);
      this.calls.push(`send-dlq:${message.attributes[MESSAGE_ATTRIBUTES.eventId]?.StringValue}`);
    },
    deleteMessage: async (rec: SQSRecord) => {
      if (this.failDelete) throw new Error('receipt handle expired');
      this.deleted.push(rec.messageId);
      this.calls.push(`delete:${rec.messageId}`);
    },
  };
}

/** An in-memory idempotency store with Powertools' observable behaviour. */
export class FakeIdempotency implements IdempotencyGate {
  readonly states = new Map<string, 'in-progress' | 'completed'>();
  readonly contexts: InvocationContext[] = [];
  /** Set: the write marking a key completed fails, as Powertools reports a DynamoDB fault after the work ran. */
  completionFails = false;
  /** Set: the write marking a key completed waits for it, as a slow DynamoDB write does. */
  completionWrite: Promise<void> | undefined;
  /** Set: releasing a failed key fails, as Powertools reports a DynamoDB fault deleting it: the key stays locked. */
  releaseFails = false;
  async run(key: string, work: () => Promise<void>, context: InvocationContext) {
    this.contexts.push(context);
    const state = this.states.get(key);
    if (state === 'completed') return 'duplicate' as const;
    if (state === 'in-progress') {
      const error = new Error(`There is already an execution in progress with idempotency key: ${key}`);
      error.name = 'IdempotencyAlreadyInProgressError';
      throw error;
    }
    this.states.set(key, 'in-progress');
    try {
      await work();
    } catch (error) {
      if (this.releaseFails) {
        const fault = new Error('Failed to delete record from idempotency store', { cause: error });
        fault.name = 'IdempotencyPersistenceLayerError';
        throw fault;
      }
      this.states.delete(key);
      throw error;
    }
    await this.completionWrite;
    if (this.completionFails) {
      const error = new Error('Failed to update success record to idempotency store');
      error.name = 'IdempotencyPersistenceLayerError';
      throw error;
    }
    this.states.set(key, 'completed');
    return 'ran' as const;
  }
}

export class FakeMetrics {
  readonly published: Array<Map<string, TypeMetrics>> = [];
  readonly archiveFailures: number[] = [];
  publish(byType: ReadonlyMap<string, TypeMetrics>) {
    this.published.push(new Map(byType));
  }
  archiveFailed(count: number) {
    this.archiveFailures.push(count);
  }
  total(name: Exclude<keyof TypeMetrics, 'endToEndLatencyMs'>): number {
    let sum = 0;
    for (const batch of this.published) for (const m of batch.values()) sum += m[name];
    return sum;
  }
}

/**
 * The batch's deadline alarm, rung by the test: the delay each batch asked for, and `ring()` to reach the
 * deadline margin now (no timers, no waiting).
 */
export class FakeAlarm {
  readonly delays: number[] = [];
  #rings: Array<() => void> = [];
  readonly alarm = (delayMs: number, ring: () => void) => {
    this.delays.push(delayMs);
    this.#rings.push(ring);
    return () => {
      this.#rings = this.#rings.filter((r) => r !== ring);
    };
  };
  /** Rings every alarm still set; false when none was (every batch had finished, or none set one). */
  ring(): boolean {
    const rings = this.#rings;
    this.#rings = [];
    for (const ring of rings) ring();
    return rings.length > 0;
  }
}

export const lambdaContext = (remainingMs = 25_000): InvocationContext => ({
  getRemainingTimeInMillis: () => remainingMs,
});

/** A context whose remaining time runs down with the wall clock, as Lambda's does. */
export function runningDownContext(ms: number): InvocationContext {
  const end = performance.now() + ms;
  return { getRemainingTimeInMillis: () => Math.floor(end - performance.now()) };
}

export interface Harness {
  readonly core: ConsumerCore;
  readonly queue: FakeQueue;
  readonly logger: FakeLogger;
  readonly metrics: FakeMetrics;
  readonly idempotency?: FakeIdempotency;
  readonly payloads: Map<string, Buffer>;
  readonly deadline: FakeAlarm;
}

export function harness<Schemas extends Record<string, unknown>>(
  definition: ConsumerDefinition<Schemas>,
  configOverrides: Partial<ConsumerRuntimeConfig> = {},
  options: {
    idempotency?: boolean;
    random?: () => number;
    archive?: ArchiveBatchSink;
    jobs?: JobRecordUpdates;
    flows?: FlowParents;
    rateLimiter?: StartSlots;
    heldReceives?: HeldReceives;
    /** The runtime's alarms on real timers (`timerAlarm`) rather than rung by the test (`deadline`). */
    alarm?: Alarm;
    /** The runtime's clock, where the test shares it with records on a table. @default - fixed at `NOW` */
    now?: () => number;
  } = {},
): Harness {
  const queue = new FakeQueue();
  const logger = new FakeLogger();
  const metrics = new FakeMetrics();
  const idempotency = options.idempotency ? new FakeIdempotency() : undefined;
  const payloads = new Map<string, Buffer>();
  const deadline = new FakeAlarm();
  const collaborators: ConsumerCollaborators = {
    sqs: queue.operations,
    loadPayload: async (ref) => {
      const bytes = payloads.get(`${ref.bucket}/${ref.key}`);
      if (!bytes) throw new Error(`NoSuchKey: ${ref.key}`);
      return bytes;
    },
    ...(idempotency ? { idempotency } : {}),
    ...(options.archive ? { archive: options.archive } : {}),
    ...(options.jobs ? { jobs: options.jobs } : {}),
    ...(options.flows ? { flows: options.flows } : {}),
    ...(options.rateLimiter ? { rateLimiter: options.rateLimiter } : {}),
    ...(options.heldReceives ? { heldReceives: options.heldReceives } : {}),
    now: options.now ?? (() => NOW),
    random: options.random ?? (() => 0.5),
    alarm: options.alarm ?? deadline.alarm,
    logger,
    metrics,
  };
  const core = createConsumerCore(
    definition as ConsumerDefinition,
    runtimeConfig(configOverrides),
    collaborators,
  );
  return { core, queue, logger, metrics, ...(idempotency ? { idempotency } : {}), payloads, deadline };
}

export const failedIds = (response: { batchItemFailures: Array<{ itemIdentifier: string }> }) =>
  response.batchItemFailures.map((f) => f.itemIdentifier);
