/**
 * Per-record CPU overhead of the hookline consumer runtime.
 *
 * Variants, all on the same SQS events (4 KB JSON payload inside a hookline envelope), no real I/O:
 * - bare loop: for + try/catch; parses the envelope and the payload, calls the no-op handler;
 * - Powertools: `processPartialResponse` + `BatchProcessor` with a record handler doing the same parsing;
 * - Powertools (no parsing): the same with a handler that does nothing at all (the wrapper's own cost);
 * - hookline: `createConsumerCore` with fake collaborators (no-op logger and metrics, idempotency off),
 *   parallelism 10 (the default: the limiter is active for batches above 10);
 * - hookline, unbounded: parallelism >= batch size (no limiter), to isolate the limiter's cost;
 * - hookline + Powertools Logger/Metrics: the real logger and EMF metrics, stdout discarded (what a deployed
 *   consumer pays for its one `record outcome` line per record and one EMF document per type per batch).
 *
 * The variants live in bench/_consumer-variants.ts and are bundled as CDK bundles a consumer (esbuild, minified
 * ES module), Powertools with them: the code as deployed, not our TypeScript through tsx (whose `keepNames`
 * wrappers run on every closure created per record, while Powertools' plain JavaScript has none).
 * Method: warm-up, then interleaved rounds (order rotated every round), each
 * variant handling 10,000 records per round. Time is the process's CPU time (user + system, `process.cpuUsage`),
 * not wall time: the development VM is shared, and wall time there mostly measures other processes. Reported:
 * the median CPU ns/record over rounds, and ratios as the median of per-round ratios (variants measured seconds
 * apart are compared with each other, which cancels slow drifts). Wall-clock medians are kept in the JSON.
 * Cold import: the consumer bundle (defineConsumer) against a handler built from the Powertools utilities it
 * uses, alone (see IMPORT_ARTIFACTS); target <= 1.3x.
 * Run: `npx tsx bench/consumer.ts` (writes bench/results/consumer.json).
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { ENVELOPE_VERSION, MESSAGE_ATTRIBUTES, type WebhookEnvelope } from '../lambda/shared/envelope';
import {
  type Bundled,
  bundleLikeCdk,
  type ImportTimes,
  importSummary,
  measureImports,
  stdinEntry,
} from './_bundle';
import type * as Variants from './_consumer-variants';
import { median, quietly, writeResults } from './_shared';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 31);
const RECORDS_PER_ROUND = 10_000;
const WARMUP_RECORDS = 5_000;
const BATCH_SIZES = [10, 100] as const;

function payload4k(i: number): string {
  const items = [];
  let text = '';
  for (let n = 0; text.length < 4_000; n++) {
    items.push({
      id: `item-${i}-${n}`,
      sku: `SKU-${(n * 7919) % 10_000}`,
      quantity: n % 5,
      price: '19.99',
      tags: ['a', 'b'],
    });
    text = JSON.stringify({ id: `evt-${i}`, type: 'push', ref: 'refs/heads/main', items });
  }
  return text;
}

function makeEvent(batchSize: number, offset: number): SQSEvent {
  const Records: SQSRecord[] = [];
  for (let i = 0; i < batchSize; i++) {
    const n = offset + i;
    const env: WebhookEnvelope = {
      v: ENVELOPE_VERSION,
      id: `delivery-${n}`,
      source: 'github',
      type: 'push',
      receivedAt: new Date(Date.now() - 1_000).toISOString(),
      headers: { 'content-type': 'application/json', 'x-github-event': 'push' },
      contentType: 'application/json',
      body: payload4k(n),
      bodyEncoding: 'utf8',
    };
    Records.push({
      messageId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
      receiptHandle: `rh-${n}`,
      body: JSON.stringify(env),
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: String(Date.now()),
        SenderId: 'AIDA',
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: {
        [MESSAGE_ATTRIBUTES.source]: { dataType: 'String', stringValue: 'github' },
        [MESSAGE_ATTRIBUTES.type]: { dataType: 'String', stringValue: 'push' },
        [MESSAGE_ATTRIBUTES.eventId]: { dataType: 'String', stringValue: env.id },
      },
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:events',
      awsRegion: 'us-east-1',
    });
  }
  return { Records };
}

interface Sample {
  readonly cpuNs: number;
  readonly wallNs: number;
}

async function timeVariant(
  run: Variants.Run,
  events: SQSEvent[],
  records: number,
  quietStdout: boolean,
): Promise<Sample> {
  const measure = async (): Promise<Sample> => {
    const cpuStart = process.cpuUsage();
    const start = process.hrtime.bigint();
    let done = 0;
    for (let i = 0; done < records; i++) {
      const event = events[i % events.length] as SQSEvent;
      const response = await run(event);
      if (response.batchItemFailures.length !== 0) throw new Error('a benchmark record failed');
      done += event.Records.length;
    }
    const wallNs = Number(process.hrtime.bigint() - start) / done;
    const cpu = process.cpuUsage(cpuStart);
    return { cpuNs: ((cpu.user + cpu.system) * 1_000) / done, wallNs };
  };
  return quietStdout ? quietly(measure) : measure();
}

interface VariantResult {
  medianCpuNsPerRecord: number;
  medianWallNsPerRecord: number;
  ratioToBareLoop: number;
  ratioToPowertools: number;
  roundsCpuNs: number[];
}

/** Warm-up, then `ROUNDS` interleaved rounds (order rotated every round) of every variant at one batch size. */
async function measureBatchSize(
  batchSize: number,
  variants: typeof Variants.variants,
): Promise<Record<string, VariantResult>> {
  const gc = (globalThis as { gc?: () => void }).gc;
  // Distinct events so nothing is cached across records more than in a real batch stream.
  const events = Array.from({ length: Math.ceil(2_000 / batchSize) }, (_, i) =>
    makeEvent(batchSize, i * batchSize),
  );
  const list = variants(batchSize);
  for (const v of list) await timeVariant(v.run, events, WARMUP_RECORDS, v.quietStdout ?? false);
  const samples = new Map<string, Sample[]>(list.map((v) => [v.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < list.length; k++) {
      const v = list[(round + k) % list.length];
      if (!v) continue;
      gc?.();
      samples.get(v.name)?.push(await timeVariant(v.run, events, RECORDS_PER_ROUND, v.quietStdout ?? false));
    }
  }
  return Object.fromEntries(list.map((v) => [v.name, summarize(samples, v.name)]));
}

/** Medians over rounds; ratios are medians of per-round ratios (paired by round). */
function summarize(samples: Map<string, Sample[]>, name: string): VariantResult {
  const cpuOf = (variant: string) => (samples.get(variant) ?? []).map((x) => x.cpuNs);
  const pairedRatio = (baseline: string) => {
    const base = cpuOf(baseline);
    return median(cpuOf(name).map((value, round) => value / (base[round] ?? Number.NaN)));
  };
  const rounds = cpuOf(name);
  return {
    medianCpuNsPerRecord: Math.round(median(rounds)),
    medianWallNsPerRecord: Math.round(median((samples.get(name) ?? []).map((x) => x.wallNs))),
    ratioToBareLoop: Number(pairedRatio('bare loop').toFixed(3)),
    ratioToPowertools: Number(pairedRatio('Powertools').toFixed(3)),
    roundsCpuNs: rounds.map(Math.round),
  };
}

type Results = Record<string, Record<string, VariantResult>>;

function printTable(results: Results): void {
  const names = Object.keys(results['batch 10'] ?? {});
  const pad = (s: string, n: number) => s.padEnd(n);
  const lines = [
    `Consumer runtime overhead: median CPU ns/record over ${ROUNDS} interleaved rounds of ${RECORDS_PER_ROUND} records, 4 KB JSON payload`,
    `${pad('variant', 28)}${BATCH_SIZES.map((b) => pad(`batch ${b}: ns (x bare, x Powertools)`, 40)).join('')}`,
    ...names.map(
      (name) =>
        pad(name, 28) +
        BATCH_SIZES.map((b) => {
          const r = results[`batch ${b}`]?.[name];
          return pad(
            r
              ? `${r.medianCpuNsPerRecord} (${r.ratioToBareLoop.toFixed(2)}, ${r.ratioToPowertools.toFixed(2)})`
              : '-',
            40,
          );
        }).join(''),
    ),
  ];
  console.log(lines.join('\n'));
}

/**
 * The consumer bundle's cold import against a handler built from the same Powertools utilities alone (batch,
 * Logger, Metrics and idempotency on DynamoDB, which a consumer uses with the default `idempotency: on`), and,
 * for scale, against one without idempotency. Bundled as CDK bundles them (bench/_bundle.ts).
 */
const IMPORT_ARTIFACTS = {
  'Powertools: batch + Logger + Metrics + idempotency': `
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
const processor = new BatchProcessor(EventType.SQS);
const logger = new Logger({ serviceName: 'events' });
const metrics = new Metrics({ namespace: 'bench', serviceName: 'events' });
const persistenceStore = new DynamoDBPersistenceLayer({ tableName: 'idempotency' });
const config = new IdempotencyConfig({ eventKeyJmesPath: 'messageId' });
const record = makeIdempotent(async (r) => { logger.info('record', { id: r.messageId }); metrics.addMetric('Processed', 'Count', 1); }, { persistenceStore, config });
export const handler = (event, context) => processPartialResponse(event, record, processor, { context });
`,
  'Powertools: batch + Logger + Metrics': `
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
const processor = new BatchProcessor(EventType.SQS);
const logger = new Logger({ serviceName: 'events' });
const metrics = new Metrics({ namespace: 'bench', serviceName: 'events' });
export const handler = (event, context) => processPartialResponse(event, async (r) => { logger.info('record', { id: r.messageId }); metrics.addMetric('Processed', 'Count', 1); }, processor, { context });
`,
  'hookline consumer (defineConsumer)': `
import { defineConsumer } from './lambda/consumer';
export const handler = defineConsumer({ handlers: { 'github.push': async () => {} } });
`,
};
const IMPORT_BASELINE = 'Powertools: batch + Logger + Metrics + idempotency';
const IMPORT_ROUNDS = 21;
const IMPORT_TARGET = 1.3;

async function measureColdImports() {
  const work = mkdtempSync(path.join(tmpdir(), 'hookline-bench-consumer-'));
  try {
    const built: Record<string, Bundled> = {};
    const before = process.env.BENCH_BEFORE_CONSUMER;
    const artifacts = {
      ...IMPORT_ARTIFACTS,
      // Optional A/B: another copy of lambda/consumer (a directory), bundled the same way.
      ...(before
        ? {
            'hookline consumer before': `import { defineConsumer } from ${JSON.stringify(path.resolve(before))};\nexport const handler = defineConsumer({ handlers: { 'github.push': async () => {} } });\n`,
          }
        : {}),
    };
    for (const [name, source] of Object.entries(artifacts)) {
      built[name] = await bundleLikeCdk(
        stdinEntry(source),
        path.join(work, `${Object.keys(built).length}.mjs`),
      );
    }
    const files = Object.fromEntries(Object.entries(built).map(([name, b]) => [name, b.file]));
    const times = measureImports(files, { ...process.env, NODE_NO_WARNINGS: '1' }, IMPORT_ROUNDS);
    const baseline = times[IMPORT_BASELINE] as ImportTimes;
    return Object.fromEntries(
      Object.entries(built).map(([name, b]) => [
        name,
        {
          bytes: b.bytes,
          ...importSummary(times[name] as ImportTimes, baseline),
          topPackagesBytes: b.topPackages,
        },
      ]),
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function printImports(imports: Awaited<ReturnType<typeof measureColdImports>>): void {
  console.log(`\nConsumer bundle, fresh-process import (medians of ${IMPORT_ROUNDS} interleaved rounds)`);
  console.table(
    Object.entries(imports).map(([bundle, r]) => ({
      bundle,
      bytes: r.bytes,
      'import ms': r.medianImportMs,
      [`x ${IMPORT_BASELINE}`]: r.importRatio,
      'import CPU ms': r.medianImportCpuMs,
      'CPU x': r.importCpuRatio,
      target: IMPORT_TARGET,
    })),
  );
}

/** bench/_consumer-variants.ts bundled as CDK bundles a consumer (minified ES module), then imported. */
async function bundledVariants(): Promise<typeof Variants> {
  const work = mkdtempSync(path.join(tmpdir(), 'hookline-bench-variants-'));
  try {
    const { file } = await bundleLikeCdk(
      { entryPoints: [path.join(import.meta.dirname, '_consumer-variants.ts')] },
      path.join(work, 'variants.mjs'),
    );
    return (await import(pathToFileURL(file).href)) as typeof Variants;
  } finally {
    // Imported by then: the bundle is in memory, and each run would otherwise leave its folder behind.
    rmSync(work, { recursive: true, force: true });
  }
}

async function main() {
  const bundled = await bundledVariants();
  const results: Results = {};
  for (const batchSize of BATCH_SIZES)
    results[`batch ${batchSize}`] = await measureBatchSize(batchSize, bundled.variants);
  printTable(results);
  const imports = await measureColdImports();
  printImports(imports);
  const out = writeResults('consumer', {
    benchmark: 'consumer',
    date: new Date().toISOString(),
    node: process.version,
    rounds: ROUNDS,
    recordsPerRound: RECORDS_PER_ROUND,
    payloadBytes: 4_000,
    clock: 'process CPU time (user + system); ratios are medians of per-round ratios',
    code: 'variants bundled as CDK bundles a consumer (esbuild, minified ES module)',
    target: 'hookline <= 1.1x Powertools (same parsing), batch 10 and 100',
    results,
    coldImport: { baseline: IMPORT_BASELINE, rounds: IMPORT_ROUNDS, target: IMPORT_TARGET, bundles: imports },
  });
  console.log(`wrote ${out} (sink ${bundled.sinkCount()})`);
}

await main();
