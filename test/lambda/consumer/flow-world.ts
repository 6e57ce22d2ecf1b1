/**
 * A flow world for tests on dynalite: the producer's `sendFlow` and the consumer runtime on the same job records, with
 * SQS as a list of the messages sent (by queue URL) that the test delivers as it likes: in any order, twice, or after a
 * runtime that died between two steps.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Message } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import type { FlowParents } from '../../../lambda/consumer/core';
import { PermanentError } from '../../../lambda/consumer/errors';
import { handleJob } from '../../../lambda/consumer/jobs';
import { Producer, type ProducerCollaborators } from '../../../lambda/producer/producer';
import { createDynamoDedupeStore } from '../../../lambda/shared/dedupe-store';
import { parseEnvelope } from '../../../lambda/shared/envelope';
import { idempotencyWorkKey } from '../../../lambda/shared/idempotency-key';
import { defineJob } from '../../../lambda/shared/job';
import { JobRecords } from '../../../lambda/shared/job-record';
import { harness, lambdaContext, record, sqsEvent } from './fakes';

export const QUEUES = {
  jobs: { name: 'jobs', url: 'https://sqs/jobs', fifo: false },
  reports: { name: 'reports', url: 'https://sqs/reports', fifo: false },
  orders: { name: 'orders', url: 'https://sqs/orders.fifo', fifo: true },
};
export const part = defineJob('flow.part', z.object({ n: z.number() }), { queue: 'jobs' });
export const report = defineJob('flow.report', z.object({ name: z.string() }), { queue: 'reports' });
export const fifoReport = defineJob('flow.fifo-report', z.object({ name: z.string() }), { queue: 'orders' });

interface Sent {
  readonly url: string;
  readonly body: string;
  /** The message attributes a consumer sent a flow parent with (the producer's are the envelope's). */
  readonly attributes?: Readonly<Record<string, string>>;
}

/** How a breakable part fails while it is broken: as `PermanentError`, or with an error that is retried. */
export type Break = 'permanent' | 'error';

/**
 * A producer and a consumer on the same records; `sent` is every message either sent, in order. A part whose id is
 * in `breaks` fails (until the test deletes it: its cause fixed); `parentWriteFails` makes that many counts of a
 * dead-lettered child on its parent fail, as a runtime dying before it would, and `countFails` that many counts of a
 * completed one; `sendLatencyMs` makes a consumer's send of a parent take as long as a call to SQS. `failures` is what each parent's
 * handler read as `ctx.failedChildren`.
 */
export function flowWorld(
  client: DynamoDBClient,
  table: string,
  options: {
    sendFails?: number;
    countFails?: number;
    failFirstOf?: string;
    idempotency?: boolean;
    breaks?: Record<string, Break>;
    parentWriteFails?: number;
    /** That many marks of a sent parent `queued` fail, as a runtime dying between the send and the mark. */
    sentMarkFails?: number;
    /** The remaining time of each delivery's invocation, which bounds how long its claim of a parent's send lasts. */
    invocationMs?: number;
    /** How long a consumer's send of a parent takes, as a call to SQS does; none by default. */
    sendLatencyMs?: number;
  } = {},
) {
  const sent: Sent[] = [];
  // One clock for the runtime and the records, which the test moves on (`elapse`).
  let elapsedMs = 0;
  const now = () => Date.now() + elapsedMs;
  const records = new JobRecords(client, table, now);
  const deps: ProducerCollaborators = {
    queues: QUEUES,
    settings: { dedupe: { tableName: table, ttlSeconds: 3600 } },
    retry: { attempts: 1, baseDelayMs: 1 },
    now: Date.now,
    sleep: async () => {},
    async sendBatch(url, entries) {
      sent.push(...entries.map((e) => ({ url, body: e.MessageBody })));
      return [];
    },
    putPayload: async () => {},
    dedupe: createDynamoDedupeStore({ client, tableName: table, ttlSeconds: 3600 }),
    records,
  };
  let sendFails = options.sendFails ?? 0;
  let countFails = options.countFails ?? 0;
  let parentWriteFails = options.parentWriteFails ?? 0;
  let sentMarkFails = options.sentMarkFails ?? 0;
  const breaks = new Map(Object.entries(options.breaks ?? {}));
  const flows: FlowParents = {
    async childCompleted(parentId, childId, result, sendUntil) {
      if (countFails-- > 0)
        throw new Error('ProvisionedThroughputExceededException: the parent could not be counted');
      return records.childCompleted(parentId, childId, result, sendUntil);
    },
    async parentSent(parentId, sendToken) {
      if (sentMarkFails-- > 0)
        throw new Error('the runtime died after the send, before marking the parent sent');
      return records.parentSent(parentId, sendToken);
    },
    parentSendFailed: (parentId, sendToken) => records.parentSendFailed(parentId, sendToken),
    async childFailed(parentId, childId, failure, sendUntil) {
      if (parentWriteFails-- > 0) throw new Error('the runtime died before telling the parent');
      return records.childFailed(parentId, childId, failure, sendUntil);
    },
    childOutcomes: (parentId) => records.childOutcomes(parentId),
    read: (id) => records.read(id),
    async send(message) {
      if (sendFails-- > 0) throw new Error('the runtime died before the send');
      if (options.sendLatencyMs) await new Promise((resolve) => setTimeout(resolve, options.sendLatencyMs));
      sent.push({ url: message.queueUrl, body: message.body, attributes: message.attributes });
    },
  };
  const runs: string[] = [];
  const seen: Record<string, unknown>[] = [];
  const failures: (Readonly<Record<string, string>> | undefined)[] = [];
  const failed = new Set<string>();
  const { core, queue, idempotency } = harness(
    {
      handlers: {},
      jobs: [
        handleJob(part, async (event) => {
          runs.push(event.id);
          if (event.id === options.failFirstOf && !failed.has(event.id)) {
            failed.add(event.id);
            throw new PermanentError('the part cannot be built yet');
          }
          const broken = breaks.get(event.id);
          if (broken === 'permanent') throw new PermanentError(`part ${event.payload.n} is broken`);
          if (broken === 'error') throw new Error(`part ${event.payload.n} failed`);
          return { n: event.payload.n * 10 };
        }),
        handleJob(report, async (event, ctx) => {
          runs.push(event.id);
          seen.push({ ...ctx.children });
          failures.push(ctx.failedChildren);
          return { parts: Object.keys(ctx.children ?? {}).length };
        }),
      ],
    },
    { maxReceiveCount: 3 },
    { idempotency: options.idempotency ?? true, jobs: records, flows, now },
  );
  /**
   * Delivers the messages sent so far to `url` whose job id is one of `ids` (all when none), as one batch; resolves
   * with the ids of the records reported failed (they come back).
   */
  const deliver = async (url: string, ids?: readonly string[], attempt = 1) => {
    const bodies = sent.filter((m) => m.url === url && (!ids || ids.includes(parseEnvelope(m.body).id)));
    const records = bodies.map((m) =>
      record(parseEnvelope(m.body), { body: m.body, attempt, extraAttributes: sqsAttributes(m.attributes) }),
    );
    const { batchItemFailures } = await core.processBatch(
      sqsEvent(records),
      lambdaContext(options.invocationMs),
    );
    const failed = new Set(batchItemFailures.map((f) => f.itemIdentifier));
    return records.filter((r) => failed.has(r.messageId)).map((r) => parseEnvelope(r.body).id);
  };
  /** Delivers one message sent so far (of several with the same job id, the one given), alone in its batch. */
  const deliverMessage = async (message: Sent) => {
    const delivery = record(parseEnvelope(message.body), {
      body: message.body,
      extraAttributes: sqsAttributes(message.attributes),
    });
    const { batchItemFailures } = await core.processBatch(
      sqsEvent([delivery]),
      lambdaContext(options.invocationMs),
    );
    return batchItemFailures.length === 0;
  };
  const producer = new Producer(deps);
  /** The messages sent so far to `url` (by job id), as the producer or a consumer sent them. */
  const sentTo = (url: string) => sent.filter((m) => m.url === url).map((m) => parseEnvelope(m.body).id);
  /** What the consumer dead-lettered, as SQS messages of its dead-letter queue. */
  const deadLetters = (): Message[] =>
    queue.deadLetters.map((letter, n) => ({
      MessageId: `dead-${n}`,
      ReceiptHandle: `dead-handle-${n}`,
      Body: letter.body,
      MessageAttributes: letter.attributes,
    }));
  /** Marks a sent job's idempotency key held by another execution (a copy of it running elsewhere). */
  const holdKey = (id: string) => {
    const body = sent.find((m) => parseEnvelope(m.body).id === id)?.body;
    if (!body || !idempotency) throw new Error(`no job ${id} sent, or idempotency off`);
    idempotency.states.set(idempotencyWorkKey('events', parseEnvelope(body)), 'in-progress');
  };
  /** Moves the world's clock on by `ms`: a claim of a parent's send lapses once its invocation's time is past. */
  const elapse = (ms: number) => {
    elapsedMs += ms;
  };
  return {
    producer,
    records,
    sent,
    sentTo,
    runs,
    seen,
    failures,
    breaks,
    queue,
    deliver,
    deliverMessage,
    deadLetters,
    holdKey,
    elapse,
  };
}

/** Attributes as a Lambda event carries them. */
function sqsAttributes(attributes: Readonly<Record<string, string>> = {}) {
  return Object.fromEntries(
    Object.entries(attributes).map(([name, value]) => [name, { dataType: 'String', stringValue: value }]),
  );
}

export const threeParts = (prefix: string) => ({
  job: report,
  payload: { name: 'weekly' },
  options: { id: `${prefix}-parent` },
  children: [1, 2, 3].map((n) => ({ job: part, payload: { n }, options: { id: `${prefix}-c${n}` } })),
});
