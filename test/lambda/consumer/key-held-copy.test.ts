/**
 * Two copies of one job delivered at once, each to its own consumer runtime (two Lambda instances), on local mode's
 * DynamoDB emulator: the real core, Powertools' idempotency gate, the job records and the held-receive counts. The
 * copy that finds the key held on its queue's last receive is dead-lettered, saying it is a duplicate copy, and the
 * job's record says what the execution holding the key did.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { powertoolsIdempotencyGate } from '../../../lambda/consumer/aws';
import { type ConsumerCollaborators, createConsumerCore } from '../../../lambda/consumer/core';
import { DynamoHeldReceives } from '../../../lambda/consumer/held-receives';
import { handleJob } from '../../../lambda/consumer/jobs';
import type { ConsumerDefinition } from '../../../lambda/consumer/types';
import { Producer, type ProducerCollaborators } from '../../../lambda/producer/producer';
import { IDEMPOTENCY_TABLE } from '../../../lambda/shared/contracts';
import { createDynamoDedupeStore } from '../../../lambda/shared/dedupe-store';
import { FAILURE_ATTRIBUTES, parseEnvelope } from '../../../lambda/shared/envelope';
import { defineJob } from '../../../lambda/shared/job';
import { JobRecords } from '../../../lambda/shared/job-record';
import { ensureTable } from '../../../lib/local/topology';
import { useDedupeTable } from '../../helpers/local/dedupe-table';
import {
  FakeAlarm,
  FakeLogger,
  FakeMetrics,
  FakeQueue,
  failedIds,
  lambdaContext,
  record,
  runtimeConfig,
  sqsEvent,
} from './fakes';

const dedupeTable = 'key-held-copy-dedupe';
const idempotencyTable = 'key-held-copy-idempotency';
const MAX_RECEIVE_COUNT = 3;

let dynalite: DynamoDBClient;
useDedupeTable(dedupeTable, (ready) => {
  dynalite = ready;
});
beforeAll(async () => {
  await ensureTable(
    dynalite,
    idempotencyTable,
    IDEMPOTENCY_TABLE.partitionKey,
    IDEMPOTENCY_TABLE.ttlAttribute,
  );
});

const report = defineJob('report.build', z.object({ name: z.string() }), { queue: 'jobs' });

/** A job sent by the real producer: its record `queued`, and the message body both copies carry. */
async function sentJob(id: string): Promise<string> {
  const bodies: string[] = [];
  const deps: ProducerCollaborators = {
    queues: { jobs: { name: 'jobs', url: 'https://sqs/jobs', fifo: false } },
    settings: { dedupe: { tableName: dedupeTable, ttlSeconds: 3600 } },
    retry: { attempts: 1, baseDelayMs: 1 },
    now: Date.now,
    sleep: async () => {},
    async sendBatch(_url, entries) {
      bodies.push(...entries.map((e) => e.MessageBody));
      return [];
    },
    putPayload: async () => {},
    dedupe: createDynamoDedupeStore({ client: dynalite, tableName: dedupeTable, ttlSeconds: 3600 }),
    records: new JobRecords(dynalite, dedupeTable),
  };
  await new Producer(deps).send(report, { name: 'weekly' }, { id });
  const [body] = bodies;
  if (body === undefined) throw new Error('the producer sent nothing');
  return body;
}

/** A gate that lets the test hold a call. */
function gate() {
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/**
 * One consumer runtime (a Lambda instance) on the emulator's tables. `idempotencyClient` is its gate's client (a
 * test may hold its writes); `handle` is its job handler.
 */
function runtime(handle: () => Promise<unknown>, idempotencyClient: DynamoDBClient = dynalite) {
  const queue = new FakeQueue();
  const logger = new FakeLogger();
  const config = runtimeConfig({
    name: 'jobs',
    maxReceiveCount: MAX_RECEIVE_COUNT,
    idempotency: { tableName: idempotencyTable, expirySeconds: 600 },
    jobRecords: { tableName: dedupeTable },
  });
  const collaborators: ConsumerCollaborators = {
    sqs: queue.operations,
    loadPayload: async () => Buffer.alloc(0),
    idempotency: powertoolsIdempotencyGate(
      { tableName: idempotencyTable, expirySeconds: 600 },
      'jobs',
      idempotencyClient,
    ),
    jobs: new JobRecords(dynalite, dedupeTable),
    heldReceives: new DynamoHeldReceives(dynalite, dedupeTable),
    now: Date.now,
    random: () => 0.5,
    alarm: new FakeAlarm().alarm,
    logger,
    metrics: new FakeMetrics(),
  };
  const definition: ConsumerDefinition = { handlers: {}, jobs: [handleJob(report, handle)] };
  const core = createConsumerCore(definition, config, collaborators);
  /** Delivers the job's message as SQS delivers a copy: its own message id, on receive `receive`. */
  const deliver = (body: string, messageId: string, receive: number) =>
    core.processBatch(
      sqsEvent([record(parseEnvelope(body), { body, messageId, attempt: receive })]),
      lambdaContext(),
    );
  return { deliver, queue, logger };
}

/** The emulator as a client whose `UpdateItem`s (Powertools marking a key completed) wait for `held` first. */
function clientHoldingUpdates(held: Promise<void>, reached: () => void): DynamoDBClient {
  const client = new DynamoDBClient({ region: 'us-east-1' });
  client.send = (async (command: { constructor: { name: string } }) => {
    if (command.constructor.name === 'UpdateItemCommand') {
      reached();
      await held;
    }
    return dynalite.send(command as never);
  }) as never;
  return client;
}

const records = () => new JobRecords(dynalite, dedupeTable);

describe('a copy of a job dead-lettered on its last receive while another execution holds its key', () => {
  it('leaves the job record to the execution running it, which then completes it; the dead letter says it is a duplicate copy', async () => {
    const id = `held-running-${Date.now()}`;
    const body = await sentJob(id);
    const entered = gate();
    const finish = gate();
    const holder = runtime(async () => {
      entered.open();
      await finish.opened;
      return { pages: 3 };
    });
    const copy = runtime(async () => ({ pages: 0 }));

    const holding = holder.deliver(body, 'm-holder', 1);
    await entered.opened;
    const copied = await copy.deliver(body, 'm-copy', MAX_RECEIVE_COUNT);

    expect(failedIds(copied)).toEqual([]);
    expect(copy.logger.outcomeOf('m-copy')).toMatchObject({
      outcome: 'dead-lettered',
      keyHeldElsewhere: true,
      reason: expect.stringMatching(/^DuplicateCopyError: /),
    });
    const attributes = copy.queue.deadLetters[0]?.attributes ?? {};
    expect(attributes[FAILURE_ATTRIBUTES.errorName]?.StringValue).toBe('DuplicateCopyError');
    expect(attributes[FAILURE_ATTRIBUTES.errorMessage]?.StringValue).toMatch(
      /^a duplicate copy, not run here: another execution held this event's idempotency key on this copy's last receive \(maxReceiveCount 3\); that execution records the event's outcome \(IdempotencyAlreadyInProgressError: There is already an execution in progress/,
    );
    // The execution that runs the job still owns its record: the copy's dead letter did not say otherwise.
    expect(await records().read(id)).toMatchObject({ state: 'processing', attempt: 1 });
    expect((await records().read(id))?.reason).toBeUndefined();

    finish.open();
    expect(failedIds(await holding)).toEqual([]);
    const done = await records().read(id);
    expect(done).toMatchObject({ state: 'completed', result: { pages: 3 } });
    expect(done?.reason).toBeUndefined();
  });

  it('never turns a job its holder completed into dead-lettered, though the copy met the key before the holder marked it done', async () => {
    const id = `held-completing-${Date.now()}`;
    const body = await sentJob(id);
    const release = gate();
    const reached = gate();
    const holder = runtime(async () => ({ pages: 7 }), clientHoldingUpdates(release.opened, reached.open));
    const copy = runtime(async () => ({ pages: 0 }));

    const holding = holder.deliver(body, 'm-holder', 1);
    // The job's record says completed; Powertools' write marking the key completed has not landed yet.
    await reached.opened;
    expect(await records().read(id)).toMatchObject({ state: 'completed', result: { pages: 7 } });
    await copy.deliver(body, 'm-copy', MAX_RECEIVE_COUNT);
    expect(copy.queue.deadLetters[0]?.attributes[FAILURE_ATTRIBUTES.errorName]?.StringValue).toBe(
      'DuplicateCopyError',
    );

    release.open();
    expect(failedIds(await holding)).toEqual([]);
    const done = await records().read(id);
    expect(done).toMatchObject({ state: 'completed', result: { pages: 7 } });
    expect(done?.reason).toBeUndefined();
  });
});
