/**
 * Local mode throughput and latency, against the emulator's own speed measured in the same run.
 *
 * - baselines: raw SendMessage rate of fauxqs (one message per call, CONCURRENCY calls in flight), which is what
 *   the ingest function does per webhook, so the ratio shows what the HTTP layer, the worker sandboxes and the
 *   ingest code cost on top of the queue itself; and dynalite's conditional PutItem rate, since the ingest's
 *   dedupe claim (one per webhook, on by default) is usually the local bottleneck;
 * - sustained: SUSTAINED signed webhooks through HTTP -> ingest -> SQS with CONCURRENCY requests in flight
 *   (webhooks/s acknowledged), and end to end until the example consumer processed all of them (processed/s);
 * - burst: BURST concurrent signed webhooks, p50/p99 of the HTTP round trip.
 *
 * Medians over ROUNDS rounds. Runs the example hookline.config.ts with its real handlers.
 * Usage: npx tsx bench/local.ts
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  PurgeQueueCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import exampleConfig from '../hookline.config';
import { signWebhook } from '../lambda/shared/webhook-signing';
import { type ResolvedConfig, resolveConfig } from '../lib/config';
import { localDynamoClient, localSqsClient } from '../lib/local/clients';
import { type LocalMode, startLocalMode } from '../lib/local/local-mode';
import { Reporter } from '../lib/local/reporter';
import { localSecrets } from '../lib/local/secrets';
import { sourceRuntimeConfig } from '../lib/runtime-wiring';
import { median, percentile, pool, writeResults } from './_shared';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SUSTAINED = Number(process.env.BENCH_SUSTAINED ?? 2_000);
const BURST = 1_000;
const CONCURRENCY = 32;

async function rawSendRate(sqs: SQSClient, queueUrl: string, body: string): Promise<number> {
  await sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
  const started = performance.now();
  await pool(SUSTAINED, CONCURRENCY, () =>
    sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body })),
  );
  return SUSTAINED / ((performance.now() - started) / 1000);
}

/** dynalite's conditional PutItem rate: the ingest's dedupe claim costs one per webhook. */
async function rawConditionalPutRate(dynamo: DynamoDBClient, table: string): Promise<number> {
  const started = performance.now();
  await pool(SUSTAINED, CONCURRENCY, () =>
    dynamo.send(
      new PutItemCommand({
        TableName: table,
        Item: { pk: { S: `bench#${randomUUID()}` }, expiresAt: { N: '1' } },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    ),
  );
  return SUSTAINED / ((performance.now() - started) / 1000);
}

/** Local mode running the example configuration, with the clients and helpers the measurements use. */
interface Bench {
  readonly local: LocalMode;
  readonly startupMs: number;
  readonly buildDir: string;
  readonly sqs: SQSClient;
  readonly dynamo: DynamoDBClient;
  readonly dedupeTable: string;
  readonly baselineQueue: string;
  /** Posts one signed webhook with this id to the generic source; resolves with its status and round trip. */
  post(id: string): Promise<{ status: number; ms: number }>;
  /** Resolves once the example consumer processed every id; fails after `timeoutMs`. */
  waitProcessed(ids: string[], timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

async function startBench(): Promise<Bench> {
  const config = resolveConfig(exampleConfig);
  const reporter = new Reporter({ json: true, write: () => undefined });
  const processed = new Set<string>();
  reporter.subscribe((e) => {
    if (e.event === 'processed' && e.id) processed.add(e.id);
  });
  const buildDir = join(process.cwd(), '.hookline', 'build', `bench-${process.pid}`);
  const startedAt = performance.now();
  const local = await startLocalMode({ config, port: 0, stateDir: false, reporter, env: {}, buildDir });
  const startupMs = performance.now() - startedAt;
  const sqs = localSqsClient(local.emulators);
  const dynamo = localDynamoClient(local.emulators);
  const baselineQueue =
    (await sqs.send(new CreateQueueCommand({ QueueName: 'bench-baseline' }))).QueueUrl ?? '';
  const agent = new Agent({ keepAlive: true, maxSockets: BURST });
  return {
    local,
    startupMs,
    buildDir,
    sqs,
    dynamo,
    dedupeTable: local.topology.dedupeTableName ?? '',
    baselineQueue,
    post: genericPoster(config, local, agent),
    async waitProcessed(ids, timeoutMs) {
      const until = Date.now() + timeoutMs;
      while (ids.some((id) => !processed.has(id))) {
        if (Date.now() > until) throw new Error('not every webhook was processed in time');
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async stop() {
      agent.destroy();
      sqs.destroy();
      dynamo.destroy();
      await local.stop();
    },
  };
}

/** Posts signed webhooks (a small JSON event with the given id) to the example's generic source over HTTP. */
function genericPoster(config: ResolvedConfig, local: LocalMode, agent: Agent): Bench['post'] {
  const source = config.sources.find((s) => s.name === 'generic');
  if (!source) throw new Error('the example configuration has no generic source');
  const secret = localSecrets(config.sources, {}).generic?.value ?? '';
  const runtime = sourceRuntimeConfig(source, 'env:HOOKLINE_SECRET_GENERIC');
  const url = new URL(local.webhookUrls.generic ?? '');
  return (id) =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify({ id, type: 'bench.event', data: { n: 1, text: 'y'.repeat(150) } });
      const headers = { 'content-type': 'application/json', ...signWebhook(runtime, secret, body) };
      const started = performance.now();
      const req = request(
        { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers, agent },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
}

/** Warm-up: every sandbox cold-starts once before anything is measured. */
async function warmUp(bench: Bench): Promise<void> {
  const warm = Array.from({ length: 50 }, () => `warm-${randomUUID()}`);
  await pool(warm.length, 10, (i) => bench.post(warm[i] ?? ''));
  await bench.waitProcessed(warm, 60_000);
}

interface Round {
  rawSendPerSecond: number;
  rawConditionalPutPerSecond: number;
  webhooksPerSecond: number;
  processedPerSecond: number;
  burstP50Ms: number;
  burstP99Ms: number;
  burstAcknowledged: number;
}

const SAMPLE_BODY = JSON.stringify({
  id: 'x'.repeat(40),
  type: 'bench.event',
  data: { n: 1, text: 'y'.repeat(150) },
});

/** One round: the two emulator baselines, then the sustained run, then the burst. */
async function measureRound(bench: Bench, round: number): Promise<Round> {
  const rawSendPerSecond = await rawSendRate(bench.sqs, bench.baselineQueue, SAMPLE_BODY);
  const rawConditionalPutPerSecond = await rawConditionalPutRate(bench.dynamo, bench.dedupeTable);

  const ids = Array.from({ length: SUSTAINED }, (_, i) => `sustained-${round}-${i}-${randomUUID()}`);
  const started = performance.now();
  const responses = await pool(ids.length, CONCURRENCY, (i) => bench.post(ids[i] ?? ''));
  const acknowledgedMs = performance.now() - started;
  if (responses.some((r) => r.status !== 202)) throw new Error('a sustained webhook was not acknowledged');
  await bench.waitProcessed(ids, 300_000);
  const processedMs = performance.now() - started;

  const burstIds = Array.from({ length: BURST }, (_, i) => `burst-${round}-${i}-${randomUUID()}`);
  const burst = await Promise.all(burstIds.map((id) => bench.post(id)));
  await bench.waitProcessed(burstIds, 300_000);
  const latencies = burst.map((r) => r.ms);
  return {
    rawSendPerSecond,
    rawConditionalPutPerSecond,
    webhooksPerSecond: SUSTAINED / (acknowledgedMs / 1000),
    processedPerSecond: SUSTAINED / (processedMs / 1000),
    burstP50Ms: percentile(latencies, 50),
    burstP99Ms: percentile(latencies, 99),
    burstAcknowledged: burst.filter((r) => r.status === 202).length,
  };
}

async function localResults(rounds: Round[], startupMs: number) {
  const summary = {
    rawSendPerSecond: median(rounds.map((r) => r.rawSendPerSecond)),
    rawConditionalPutPerSecond: median(rounds.map((r) => r.rawConditionalPutPerSecond)),
    webhooksPerSecond: median(rounds.map((r) => r.webhooksPerSecond)),
    processedPerSecond: median(rounds.map((r) => r.processedPerSecond)),
    burstP50Ms: median(rounds.map((r) => r.burstP50Ms)),
    burstP99Ms: median(rounds.map((r) => r.burstP99Ms)),
  };
  return {
    benchmark: 'local',
    date: new Date().toISOString(),
    node: process.version,
    cpus: (await import('node:os')).cpus().length,
    parameters: { rounds: ROUNDS, sustained: SUSTAINED, burst: BURST, concurrency: CONCURRENCY },
    startupMs: Math.round(startupMs),
    median: {
      ...summary,
      ingestRatioToRawSend: summary.webhooksPerSecond / summary.rawSendPerSecond,
      endToEndRatioToRawSend: summary.processedPerSecond / summary.rawSendPerSecond,
    },
    rounds,
  };
}

function printResults(result: Awaited<ReturnType<typeof localResults>>): void {
  const summary = result.median;
  console.table({
    'fauxqs raw SendMessage (msg/s)': summary.rawSendPerSecond.toFixed(0),
    'dynalite raw conditional PutItem (op/s)': summary.rawConditionalPutPerSecond.toFixed(0),
    'HTTP -> ingest -> SQS (webhooks/s)': summary.webhooksPerSecond.toFixed(0),
    'ratio to raw SendMessage': summary.ingestRatioToRawSend.toFixed(3),
    'end to end processed/s': summary.processedPerSecond.toFixed(0),
    'end-to-end ratio to raw SendMessage': summary.endToEndRatioToRawSend.toFixed(3),
    'burst of 1,000: ingest p50 (ms)': summary.burstP50Ms.toFixed(1),
    'burst of 1,000: ingest p99 (ms)': summary.burstP99Ms.toFixed(1),
    'startup (ms)': result.startupMs,
  });
}

async function main() {
  const bench = await startBench();
  await warmUp(bench);
  const rounds: Round[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    rounds.push(await measureRound(bench, round));
    console.log(`round ${round + 1}/${ROUNDS}: ${JSON.stringify(rounds.at(-1))}`);
  }
  await bench.stop();

  const result = await localResults(rounds, bench.startupMs);
  printResults(result);
  rmSync(bench.buildDir, { recursive: true, force: true });
  writeResults('local', result);
  console.log('wrote bench/results/local.json');
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
