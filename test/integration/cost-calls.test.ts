/**
 * `hookline cost` against the AWS calls hookline really makes. The real ingest handler and consumer runtime run
 * against the embedded emulators (fauxqs, dynalite, local mode's Firehose stand-in) behind a counting proxy
 * (../helpers/aws-call-counter), each consumer fed by local mode's own event source mapping, which receives and
 * deletes as Lambda's does: one receive of up to `min(10, batchSize)` messages per batch, and one DeleteMessageBatch
 * of the records that succeeded (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html: "Lambda reads messages
 * in batches and invokes your function once for each batch. When your function successfully processes a batch,
 * Lambda deletes its messages from the queue"). Each configuration that changes the count is counted per webhook
 * and compared with the calls the model prices (`webhookCalls`, `failureCalls`), and with what each is billed as
 * (64 KB SQS chunks, 5 KB Firehose steps, 1 KB DynamoDB write units): a change to either side fails here.
 */
import { randomUUID } from 'node:crypto';
import { type AttributeValue, ScanCommand } from '@aws-sdk/client-dynamodb';
import { Duration } from 'aws-cdk-lib';
import type { Context, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { defineConsumer, handleJob, PermanentError, RetryLaterError } from '../../lambda/consumer';
import { createProducer } from '../../lambda/producer';
import { defineJob } from '../../lambda/shared/job';
import { CONSUMER_CONFIG_ENV, INGEST_CONFIG_ENV } from '../../lambda/shared/runtime-config';
import { defineConfig, type ResolvedConfig, resolveConfig } from '../../lib/config';
import {
  archiveRecordBytes,
  type CostInput,
  costInputOf,
  costQueueOf,
  debouncedSendCalls,
  envelopeBytes,
  failureCalls,
  flowCalls,
  flowParentRecordBytes,
  jobCalls,
  type ModelledCall,
  webhookCalls,
} from '../../lib/cost-model';
import { localDynamoClient, localS3Client, localSqsClient } from '../../lib/local/clients';
import { type Emulators, startEmulators } from '../../lib/local/emulators';
import { EventSourceMapping } from '../../lib/local/event-source-mapping';
import { type LocalFirehose, startLocalFirehose } from '../../lib/local/firehose';
import type { InvokeResult } from '../../lib/local/function-runtime';
import { secretEnvName } from '../../lib/local/secrets';
import { createTopology, type LocalTopology } from '../../lib/local/topology';
import {
  consumerRuntimeConfig,
  ingestRuntimeConfig,
  producerClaimSettingsOf,
} from '../../lib/runtime-wiring';
import { customMetricsOf } from '../../lib/stack-inventory';
import { type CallCounter, type CountedCall, countingProxy } from '../helpers/aws-call-counter';
import { type Handler, invoke, TEST_SECRETS, webhookEvent } from './ingest-helpers';

/** A job with a small payload, on each job queue (one definition per queue: a job names its queue). */
const pingJobs = {
  jobs: defineJob('cost.ping', z.object({ n: z.number() }), { queue: 'jobs' }),
  batched: defineJob('cost.ping', z.object({ n: z.number() }), { queue: 'batched' }),
};

/** A debounced job on the jobs queue: each id sent twice, the second send replacing the first. */
const debouncedJob = defineJob('cost.debounced', z.object({ n: z.number() }), { queue: 'jobs' });

/** Flow jobs: a part (a child) and the report that waits for its parts (the parent), on a queue pair per shape. */
const flowJobs = {
  2: {
    part: defineJob('cost.part', z.object({ n: z.number() }), { queue: 'parts2' }),
    report: defineJob('cost.report', z.object({ n: z.number() }), { queue: 'reports2' }),
  },
  3: {
    part: defineJob('cost.part', z.object({ n: z.number() }), { queue: 'parts3' }),
    report: defineJob('cost.report', z.object({ n: z.number() }), { queue: 'reports3' }),
  },
} as const;

/**
 * Webhooks (or jobs) per configuration, each configuration on its own queue: a long poll the mapping left waiting
 * when it stopped still takes what its queue gets next (the emulator does not cut it), so no queue is used twice.
 * Ten: one full batch, so every receive and batch delete is shared by 10.
 */
const N = 10;
const BODY_BYTES = 4096;

/**
 * One GitHub source; webhooks reach a queue per configuration by their type (the `x-github-event` header). `on`:
 * the defaults (dedupe, archive); off: both off.
 */
function configOf(stackName: string, on: boolean): ResolvedConfig {
  const consumer = { entry: 'lambda/consumers/events.ts', timeout: Duration.seconds(30), batchSize: 10 };
  const queues = {
    events: { consumer },
    plain: { consumer: { ...consumer, idempotency: { enabled: false } } },
    single: { consumer: { ...consumer, batchSize: 1 } },
    orders: { fifo: true, consumer },
    limited: {
      consumer: {
        ...consumer,
        maxConcurrency: 2,
        rateLimit: { limit: 1000, interval: Duration.seconds(1) },
      },
    },
    guarded: { consumer: { ...consumer, circuitBreaker: {} } },
    retried: {
      consumer: { ...consumer, retry: { base: Duration.seconds(1), factor: 1, max: Duration.seconds(1) } },
    },
    dead: { consumer },
    claim: { consumer },
    // Only sent to: the envelope and archive record are measured as the ingest writes them.
    sized: {},
    jobs: { consumer },
    batched: { consumer },
    parts2: { consumer },
    reports2: { consumer },
    parts3: { consumer },
    reports3: { consumer },
  };
  return resolveConfig(
    defineConfig({
      stackName,
      sources: { github: { type: 'github' } },
      queues,
      routes: Object.keys(queues)
        .filter((name) => name !== 'events')
        .map((name) => ({ source: 'github', type: name, queues: [name] })),
      defaultRoute: { queues: ['events'] },
      ...(on ? {} : { dedupe: { enabled: false }, archive: { enabled: false } }),
    }),
  );
}

/**
 * A pipeline whose one queue gets two event types by name (`push`, `issues`), the dimension values the fixed part's
 * count of custom metrics reads from the configuration: each its own metrics (`metricTypes: 'each'`), or only those
 * `metricTypes` lists, the others under `other`.
 */
function meteredConfig(metricTypes: 'each' | 'none' | readonly string[] = 'each'): ResolvedConfig {
  const consumer = {
    entry: 'lambda/consumers/events.ts',
    timeout: Duration.seconds(30),
    batchSize: 10,
    metricTypes,
  };
  return resolveConfig(
    defineConfig({
      // A stack of its own per setting: no queue holds what another run sent.
      stackName: `CostMetrics${metricTypes === 'each' ? '' : Array.isArray(metricTypes) ? 'Listed' : 'Bounded'}`,
      sources: { github: { type: 'github' } },
      queues: { metered: { consumer } },
      routes: ['push', 'issues'].map((type) => ({ source: 'github', type, queues: ['metered'] })),
      defaultRoute: { queues: ['metered'] },
      // No delivery stream runs for this stack: each put would fail, and write the metric that counts failed puts.
      archive: { enabled: false },
    }),
  );
}

/** A JSON body of exactly `bytes`, shaped like GitHub's push (its share of quotes sets the envelope's escaping). */
function githubBody(bytes: number): string {
  const base = {
    ref: 'refs/heads/main',
    before: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
    after: '0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c',
    repository: { id: 1296269, name: 'hello-world', full_name: 'octocat/hello-world', private: false },
    pusher: { name: 'octocat', email: 'octocat@github.com' },
    sender: { login: 'octocat', id: 1, type: 'User' },
  };
  const commit = {
    id: '0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c',
    message: 'Fix the widget',
    author: { name: 'Monalisa Octocat', email: 'octocat@github.com' },
    url: 'https://github.com/octocat/hello-world/commit/0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c',
  };
  const empty = JSON.stringify({ ...base, pad: '', commits: [commit] }).length;
  const count = Math.max(1, Math.floor((bytes - empty) / (JSON.stringify(commit).length + 1)) + 1);
  const commits = Array.from({ length: count }, () => commit);
  const unpadded = JSON.stringify({ ...base, pad: '', commits }).length;
  return JSON.stringify({ ...base, pad: 'x'.repeat(Math.max(0, bytes - unpadded)), commits });
}

interface Pipeline {
  readonly config: ResolvedConfig;
  readonly topology: LocalTopology;
  readonly runtime: ReturnType<typeof ingestRuntimeConfig>;
  readonly ingest: Handler;
}

let emulators: Emulators;
let counters: CallCounter[] = [];
let firehose: LocalFirehose;
let on: Pipeline;
let off: Pipeline;

const lambdaContext = (): Context =>
  ({
    awsRequestId: randomUUID(),
    functionName: 'cost-calls',
    getRemainingTimeInMillis: () => 25_000,
  }) as unknown as Context;

/** The ingest handler module as Lambda loads it, configured for `config` (it reads its variable at import). */
async function pipeline(config: ResolvedConfig): Promise<Pipeline> {
  const topology = await createTopology(config, emulators);
  const runtime = ingestRuntimeConfig(config, topology.resources);
  process.env[INGEST_CONFIG_ENV] = JSON.stringify(runtime);
  vi.resetModules();
  const { handler } = await import('../../lambda/ingest/handler');
  return { config, topology, runtime, ingest: handler };
}

const allCalls = () => counters.flatMap((c) => c.calls);
const resetCounts = () => {
  for (const counter of counters) counter.reset();
};

/** `n` signed GitHub webhooks of type `type` through the ingest handler, each answered 202. */
async function sendWebhooks(p: Pipeline, type: string, bodyBytes = BODY_BYTES): Promise<void> {
  for (let i = 0; i < N; i++) {
    const body = githubBody(bodyBytes);
    const response = await invoke(
      p.ingest,
      webhookEvent(p.runtime, 'github', body, {
        id: randomUUID(),
        headers: {
          'x-github-event': type,
          'x-github-hook-id': '123456789',
          'user-agent': 'GitHub-Hookshot/044aadd',
        },
      }),
      lambdaContext(),
    );
    expect(response.statusCode).toBe(202);
  }
}

/**
 * Runs `queue`'s consumer (the real runtime, `handle` as its one handler) behind local mode's event source mapping
 * until all `N` records are done (processed or dead-lettered), then stops it; resolves with its invocations.
 */
async function consume(
  p: Pipeline,
  queue: string,
  handle: (id: string) => void = () => {},
  expected = N,
): Promise<number> {
  const resolved = p.config.queues.find((q) => q.name === queue);
  const local = p.topology.queues[queue];
  if (!resolved?.consumer || !local) throw new Error(`no consumer for ${queue}`);
  vi.stubEnv(CONSUMER_CONFIG_ENV, JSON.stringify(consumerRuntimeConfig(resolved, p.topology.resources)));
  const handler = defineConsumer({
    handlers: { '**': async (event) => handle(event.id) },
    jobs: [
      handleJob(pingJobs.jobs, () => 'pong'),
      handleJob(pingJobs.batched, () => 'pong'),
      handleJob(debouncedJob, () => 'pong'),
      ...Object.values(flowJobs).flatMap((f) => [
        handleJob(f.part, (event) => ({ n: event.payload.n * 10 })),
        handleJob(f.report, (_, ctx) => ({ parts: Object.keys(ctx.children ?? {}).length })),
      ]),
    ],
  });
  const sqs = localSqsClient({
    region: emulators.region,
    endpoints: { ...emulators.endpoints, sqs: process.env.AWS_ENDPOINT_URL_SQS ?? '' },
  });
  let done = 0;
  let invocations = 0;
  const mapping = new EventSourceMapping({
    name: queue,
    queueUrl: local.url,
    queueArn: local.arn,
    region: emulators.region,
    sqs,
    batchSize: resolved.consumer.batchSize,
    maximumBatchingWindowMs: 0,
    concurrency: 1,
    waitTimeSeconds: 1,
    invoke: async (event: SQSEvent): Promise<InvokeResult> => {
      invocations += 1;
      const value = await handler(event, lambdaContext());
      return { ok: true, value, durationMs: 0, coldStart: false, outcomes: [] } as unknown as InvokeResult;
    },
    onBatch: (report) => {
      done += report.disposition.succeeded.length;
    },
  });
  mapping.start();
  const deadline = Date.now() + 15_000;
  while (done < expected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  await mapping.stop();
  sqs.destroy();
  vi.unstubAllEnvs();
  expect(done).toBe(expected);
  return invocations;
}

/** A receive that brought nothing: the mapping's idle long polls, which the model leaves out (idle polling). */
const emptyReceive = (c: CountedCall) =>
  c.action === 'ReceiveMessage' && ((c.output?.Messages as unknown[] | undefined)?.length ?? 0) === 0;

const key = (c: { service: string; action: string }) => `${c.service}.${c.action}`;
const rounded = (n: number) => Math.round(n * 1000) / 1000;

/** Counted calls per webhook, by `service.action`, idle receives left out. */
function countedPerEvent(calls: readonly CountedCall[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const c of calls) if (!emptyReceive(c)) counts[key(c)] = (counts[key(c)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).map(([k, n]) => [k, rounded(n / N)]));
}

/** The model's calls per webhook, by `service.action`. */
function modelledPerEvent(calls: readonly ModelledCall[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const c of calls) counts[key(c)] = (counts[key(c)] ?? 0) + c.calls;
  return Object.fromEntries(Object.entries(counts).map(([k, n]) => [k, rounded(n)]));
}

/** The model's input for `p`'s configuration with `queue` as the one queue webhooks go to. */
function inputFor(p: Pipeline, queue: string, bodyBytes = BODY_BYTES): CostInput {
  const resolved = p.config.queues.find((q) => q.name === queue);
  if (!resolved) throw new Error(`no queue ${queue}`);
  return {
    ...costInputOf(p.config, { eventsPerMonth: 1_000_000, bodyBytes }),
    queues: [costQueueOf(resolved)],
  };
}

const sqsChunks = (bytes: number) => Math.max(1, Math.ceil(bytes / (64 * 1024)));

/** A sent message's billed payload: its body and its attributes' names, types and values. */
function sentPayloadBytes(call: CountedCall): number {
  const attributes = (call.input?.MessageAttributes ?? {}) as Record<
    string,
    { DataType?: string; StringValue?: string }
  >;
  let bytes = Buffer.byteLength(String(call.input?.MessageBody ?? ''));
  for (const [name, value] of Object.entries(attributes))
    bytes += Buffer.byteLength(name + (value.DataType ?? '') + (value.StringValue ?? ''));
  return bytes;
}

/**
 * Each counted call is billed as the model's call of the same action: a send's and a receive's 64 KB chunks, an
 * archive record's 5 KB steps.
 */
function expectBilledAsModelled(calls: readonly CountedCall[], modelled: readonly ModelledCall[]): void {
  const units = (action: string) => modelled.find((m) => m.action === action)?.unitsPerCall;
  for (const call of calls) {
    if (call.action === 'SendMessage') expect(sqsChunks(sentPayloadBytes(call))).toBe(units('SendMessage'));
    if (call.action === 'ReceiveMessage' && !emptyReceive(call))
      expect(sqsChunks(call.responseBytes)).toBe(units('ReceiveMessage'));
    if (call.action === 'SendMessageBatch') {
      const entries = (call.input?.Entries ?? []) as Record<string, unknown>[];
      const payload = entries.reduce((sum, entry) => sum + sentPayloadBytes({ ...call, input: entry }), 0);
      expect(sqsChunks(payload)).toBe(units('SendMessageBatch'));
    }
    if (call.action === 'PutRecord' || call.action === 'PutRecordBatch') {
      // One archive record per event: its 5 KB steps are the model's units per event.
      const firehose = modelled.find((m) => m.action === call.action);
      const records =
        call.action === 'PutRecord'
          ? [call.input?.Record as { Data?: string }]
          : (call.input?.Records as { Data?: string }[]);
      for (const r of records)
        expect(Math.ceil(Buffer.from(String(r?.Data), 'base64').length / (5 * 1024))).toBe(
          firehose && firehose.unitsPerCall * firehose.calls,
        );
    }
  }
}

/** Counts what `N` webhooks of `type` cost, sent and consumed, and the consumer's invocations. */
async function countWebhooks(
  p: Pipeline,
  type: string,
  options: { bodyBytes?: number; handle?: (id: string) => void } = {},
): Promise<{ calls: CountedCall[]; invocations: number }> {
  resetCounts();
  await sendWebhooks(p, type, options.bodyBytes);
  const invocations = await consume(p, type, options.handle);
  return { calls: [...allCalls()], invocations };
}

beforeAll(async () => {
  emulators = await startEmulators();
  const onConfig = configOf('CostOn', true);
  // The archive's delivery stream, as local mode starts it (the bucket comes with the topology).
  const onTopology = await createTopology(onConfig, emulators);
  const archive = onTopology.archive;
  if (!archive) throw new Error('no archive in the topology');
  firehose = await startLocalFirehose({
    s3: localS3Client(emulators),
    bucket: archive.bucket,
    streamName: archive.stream,
  });
  const [sqs, dynamodb, firehoseProxy] = await Promise.all([
    countingProxy(emulators.endpoints.sqs),
    countingProxy(emulators.endpoints.dynamodb),
    countingProxy(firehose.endpoint),
  ]);
  counters = [sqs, dynamodb, firehoseProxy];
  Object.assign(process.env, {
    AWS_REGION: emulators.region,
    AWS_ACCESS_KEY_ID: 'hookline-local',
    AWS_SECRET_ACCESS_KEY: 'hookline-local',
    // fauxqs serves SQS and S3 on one port: one proxy counts both.
    AWS_ENDPOINT_URL_SQS: sqs.url,
    AWS_ENDPOINT_URL_S3: sqs.url,
    AWS_ENDPOINT_URL_DYNAMODB: dynamodb.url,
    AWS_ENDPOINT_URL_FIREHOSE: firehoseProxy.url,
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'CRITICAL',
    [secretEnvName('github')]: TEST_SECRETS.github,
  });
  on = await pipeline(onConfig);
}, 60_000);

afterAll(async () => {
  await firehose?.stop();
  await Promise.all(counters.map((c) => c.close()));
  await emulators?.stop();
});

describe('the cost model prices the calls the pipeline makes (counted on the real handlers)', () => {
  it.each([
    ['dedupe, archive and idempotency on (the defaults)', 'events'],
    ['idempotency off', 'plain'],
    ['batch size 1: a receive and a delete per message', 'single'],
    ['a FIFO queue: the consumer deletes each record as it finishes', 'orders'],
    ['a rate limit: one write per record counts its start', 'limited'],
    ['a circuit breaker: no call of its own per record', 'guarded'],
  ])('%s', async (_, queue) => {
    const { calls, invocations } = await countWebhooks(on, queue);
    const input = inputFor(on, queue);
    const modelled = webhookCalls(input);
    // The consumer line prices one invocation per full batch.
    expect(invocations / N).toBe(1 / (input.queues[0]?.consumer?.batchSize ?? 0));
    expect(countedPerEvent(calls)).toEqual(modelledPerEvent(modelled));
    expectBilledAsModelled(calls, modelled);
  });

  it('a body above the inline limit: one S3 upload, one download per consumer, a small message', async () => {
    const bodyBytes = on.config.payloads.inlineLimitBytes + 1;
    const input = inputFor(on, 'claim', bodyBytes);
    expect(envelopeBytes(bodyBytes)).toBeGreaterThan(input.inlineLimitBytes);
    const { calls } = await countWebhooks(on, 'claim', { bodyBytes });
    const modelled = webhookCalls(input);
    expect(countedPerEvent(calls)).toEqual(modelledPerEvent(modelled));
    expect(modelled.find((m) => m.action === 'PutObject')).toBeDefined();
    expectBilledAsModelled(calls, modelled);
  });

  it('a retry: the hand-back, another receive, and the failed attempt’s idempotency lock', async () => {
    const failed = new Set<string>();
    const { calls } = await countWebhooks(on, 'retried', {
      handle: (id) => {
        if (failed.has(id)) return;
        failed.add(id);
        throw new RetryLaterError(1, 'not yet');
      },
    });
    const { retried } = failureCalls(inputFor(on, 'retried'), costQueueOf(queueOf(on, 'retried')));
    const counted = countedPerEvent(calls);
    const modelled = modelledPerEvent(retried);
    // Records handed back at once come back together here; on AWS, spread over partial batches, their receive and
    // delete shares are larger (the model prices full batches).
    for (const shared of ['sqs.ReceiveMessage', 'sqs.DeleteMessageBatch']) {
      expect(counted[shared]).toBeGreaterThanOrEqual(modelled[shared] ?? Number.POSITIVE_INFINITY);
      delete counted[shared];
      delete modelled[shared];
    }
    expect(counted).toEqual(modelled);
  });

  it('a dead letter: sent to the DLQ and deleted at once, its idempotency lock deleted', async () => {
    const { calls } = await countWebhooks(on, 'dead', {
      handle: () => {
        throw new PermanentError('never');
      },
    });
    const { deadLettered } = failureCalls(inputFor(on, 'dead'), costQueueOf(queueOf(on, 'dead')));
    expect(countedPerEvent(calls)).toEqual(modelledPerEvent(deadLettered));
    expectBilledAsModelled(calls, deadLettered);
  });

  it('dedupe and archive off: the ingest only sends', async () => {
    off ??= await pipeline(configOf('CostOff', false));
    const { calls } = await countWebhooks(off, 'events');
    expect(countedPerEvent(calls)).toEqual(modelledPerEvent(webhookCalls(inputFor(off, 'events'))));
    expect(calls.some((c) => c.service === 'firehose')).toBe(false);
  });

  it('sizes a typical envelope and archive record as the ingest writes them', async () => {
    resetCounts();
    await sendWebhooks(on, 'sized');
    const sent = allCalls().filter((c) => c.action === 'SendMessage');
    const records = allCalls().filter((c) => c.action === 'PutRecord');
    const envelope = Buffer.byteLength(String(sent[0]?.input?.MessageBody));
    const record = Buffer.from(
      String((records[0]?.input?.Record as { Data?: string })?.Data),
      'base64',
    ).length;
    // The model's sizes are the measured ones rounded up, by less than 3 %.
    expect(envelopeBytes(BODY_BYTES)).toBeGreaterThanOrEqual(envelope);
    expect(envelopeBytes(BODY_BYTES)).toBeLessThan(envelope * 1.03);
    expect(archiveRecordBytes(BODY_BYTES)).toBeGreaterThanOrEqual(record);
    expect(archiveRecordBytes(BODY_BYTES)).toBeLessThan(record * 1.03);
  });

  it.each([
    ['producer.send: one job a call', 'jobs' as const, 1],
    ['producer.sendBatch: up to 10 jobs a call', 'batched' as const, 10],
  ])('jobs with %s: the record, idempotency and archive writes of each', async (_, queue, jobsPerSend) => {
    const local = on.topology.queues[queue];
    if (!local) throw new Error(`no queue ${queue}`);
    const producer = createProducer({
      queues: { [queue]: { url: local.url, arn: local.arn } },
      settings: producerClaimSettingsOf(on.config, on.topology.resources),
      local: false,
    });
    resetCounts();
    const job = pingJobs[queue];
    if (jobsPerSend === 1) for (let n = 0; n < N; n++) await producer.send(job, { n });
    else await producer.sendBatch(Array.from({ length: N }, (_, n) => ({ job, payload: { n } })));
    await consume(on, queue);
    const modelled = jobCalls(inputFor(on, queue), costQueueOf(queueOf(on, queue)), jobsPerSend);
    expect(countedPerEvent(allCalls())).toEqual(modelledPerEvent(modelled));
    expectBilledAsModelled(allCalls(), modelled);
  });

  it('a debounced job sent twice: the first send replaced, skipped as superseded once due', async () => {
    const local = on.topology.queues.jobs;
    if (!local) throw new Error('no queue jobs');
    const producer = createProducer({
      queues: { jobs: { url: local.url, arn: local.arn } },
      settings: producerClaimSettingsOf(on.config, on.topology.resources),
      local: false,
    });
    resetCounts();
    for (let n = 0; n < N; n++) {
      const id = `debounced-${n}`;
      await producer.send(debouncedJob, { n }, { id, debounce: { seconds: 1 } });
      await producer.send(debouncedJob, { n: n + 1 }, { id, debounce: { seconds: 1 } });
    }
    // Every message due, so that they come to the consumer a full batch at a time, as the model prices.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await consume(on, 'jobs', () => {}, 2 * N);
    const input = inputFor(on, 'jobs');
    const queue = costQueueOf(queueOf(on, 'jobs'));
    // Per job (N of them): a job's calls, and one more send's.
    const modelled = [...jobCalls(input, queue), ...debouncedSendCalls(input, queue)];
    expect(countedPerEvent(allCalls())).toEqual(modelledPerEvent(modelled));
    expectBilledAsModelled(allCalls(), modelled);
  });

  it.each([2, 3] as const)(
    'a flow of a parent and %i children: each child counted on its parent, whose send is claimed on its record',
    async (children) => {
      const { part, report } = flowJobs[children];
      const producer = createProducer({
        queues: {
          [part.queue]: localQueue(part.queue),
          [report.queue]: localQueue(report.queue),
        },
        settings: producerClaimSettingsOf(on.config, on.topology.resources),
        local: false,
      });
      resetCounts();
      // N flows, so that the parents come to their queue a full batch at a time, as the model prices.
      for (let n = 0; n < N; n++)
        await producer.sendFlow({
          job: report,
          payload: { n },
          children: Array.from({ length: children }, (_, c) => ({ job: part, payload: { n: c } })),
        });
      const waiting = await parentRecords(report.queue);
      await consume(on, part.queue, () => {}, N * children);
      await consume(on, report.queue);
      const { perChild, perParent } = flowCalls(
        inputFor(on, part.queue),
        costQueueOf(queueOf(on, part.queue)),
        costQueueOf(queueOf(on, report.queue)),
        children,
      );
      const modelled = [...perParent, ...perChild.map((c) => ({ ...c, calls: c.calls * children }))];
      // Per flow (N of them): a parent and its children.
      expect(countedPerEvent(allCalls())).toEqual(modelledPerEvent(modelled));
      expectBilledAsModelled(allCalls(), modelled);
      // Its record at its largest: as it was once sent (every child counted, the claim's token kept), with the message
      // and the claim's deadline it held until then. The model's size, given that message, holds it, and not by much.
      const sent = await parentRecords(report.queue);
      for (const before of waiting) {
        const after = sent.find((item) => item.pk?.S === before.pk?.S);
        if (!after) throw new Error(`no record of ${before.pk?.S}`);
        const message = itemBytes({ parentMessage: before.parentMessage as AttributeValue });
        const largest =
          itemBytes(after) + message + itemBytes({ parentSendUntil: { S: new Date().toISOString() } });
        expect(flowParentRecordBytes(children, message)).toBeGreaterThanOrEqual(largest);
        expect(flowParentRecordBytes(children, message)).toBeLessThan(largest * 1.15);
      }
    },
  );

  it.each([
    ['each', 'each'],
    ['a list', ['github.push']],
    ['none', 'none'],
  ] as const)(
    'writes, with traffic, the custom metrics the fixed part counts from the configuration (metricTypes %s)',
    async (_name, metricTypes) => {
      vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
      const written: string[] = [];
      const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
        written.push(String(chunk));
        return true;
      });
      let metered: Pipeline;
      try {
        metered = await pipeline(meteredConfig(metricTypes));
        resetCounts();
        await sendWebhooks(metered, 'push');
        await sendWebhooks(metered, 'issues');
        await consume(metered, 'metered', () => {}, 2 * N);
      } finally {
        write.mockRestore();
        vi.unstubAllEnvs();
      }
      const hourly = customMetricsOf(metered.config)
        .filter((m) => m.written === 'hourly')
        .reduce((n, m) => n + m.count, 0);
      // Each metric CloudWatch keeps: its name and its dimensions' values, as the EMF documents written declare them.
      expect(emfMetrics(written).size).toBe(hourly);
    },
  );

  it('writes DynamoDB items under 1 KB: each write the model counts is one write unit', async () => {
    const dynamo = localDynamoClient(emulators);
    try {
      const tables = [on.topology.dedupeTableName, on.topology.idempotencyTableName];
      for (const table of tables) {
        const { Items = [] } = await dynamo.send(new ScanCommand({ TableName: table }));
        expect(Items.length).toBeGreaterThan(0);
        // A flow parent's record is larger, and priced by its size (the flow test above).
        for (const item of Items.filter((i) => !i.childIds)) expect(itemBytes(item)).toBeLessThan(1024);
      }
    } finally {
      dynamo.destroy();
    }
  });
});

/** The metrics the EMF documents among `lines` declare: each name with its dimensions' values. */
function emfMetrics(lines: readonly string[]): Set<string> {
  const metrics = new Set<string>();
  for (const line of lines.flatMap((chunk) => chunk.split('\n'))) {
    if (!line.includes('"_aws"')) continue;
    const document = JSON.parse(line) as Record<string, unknown> & {
      _aws: { CloudWatchMetrics: { Dimensions: string[][]; Metrics: { Name: string }[] }[] };
    };
    for (const directive of document._aws.CloudWatchMetrics)
      for (const dimensions of directive.Dimensions)
        for (const metric of directive.Metrics)
          metrics.add(`${metric.Name} ${dimensions.map((d) => `${d}=${String(document[d])}`).join(' ')}`);
  }
  return metrics;
}

/** A queue of the cost pipeline as a producer takes it. */
function localQueue(name: string): { url: string; arn: string } {
  const local = on.topology.queues[name];
  if (!local) throw new Error(`no queue ${name}`);
  return { url: local.url, arn: local.arn };
}

/** The job records of the flow parents sent to `queue`, read past the counting proxy. */
async function parentRecords(queue: string): Promise<Record<string, AttributeValue>[]> {
  const dynamo = localDynamoClient(emulators);
  try {
    const { Items = [] } = await dynamo.send(new ScanCommand({ TableName: on.topology.dedupeTableName }));
    return Items.filter((item) => item.childIds && item.queue?.S === queue);
  } finally {
    dynamo.destroy();
  }
}

function queueOf(p: Pipeline, name: string) {
  const queue = p.config.queues.find((q) => q.name === name);
  if (!queue) throw new Error(`no queue ${name}`);
  return queue;
}

/** DynamoDB's size of an item: each attribute's name and value (strings and numbers as written; upper bound). */
function itemBytes(item: Record<string, AttributeValue>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) {
    bytes += Buffer.byteLength(name);
    bytes += Buffer.byteLength(value.S ?? value.N ?? JSON.stringify(value));
  }
  return bytes;
}
