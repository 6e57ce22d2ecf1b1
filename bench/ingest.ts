/**
 * Ingest benchmark (`npx tsx bench/ingest.ts`, part of `npm run bench`).
 *
 * Throughput (ratio to a send-only baseline, target >= 0.9):
 * - The emulators (fauxqs for SQS, dynalite for DynamoDB) run in a CHILD process (bench/_ingest-emulators.ts,
 *   127.0.0.1, free ports); this process is the "Lambda": it only runs handlers and SDK clients, as in AWS,
 *   where SQS and DynamoDB work happens on other machines.
 * - Handlers are called in-process with API Gateway v2 events (signed 4 KB GitHub `issues.opened` body, a
 *   unique delivery id per request). Concurrency 1 is the faithful case: a Lambda execution environment
 *   handles one request at a time, so its throughput is 1 / duration. Concurrency 8 is also reported (one
 *   process saturated).
 * - Variants, measured in interleaved rounds (order rotated every round), ratio = per-round ratio of req/s,
 *   reported as the median (and p10-p90) over rounds:
 *   - dedupe off: `baseline: send` (one SendMessage of the body) vs the ingest handler without a dedupe table;
 *     `baseline: send same message` (the message ingest sends: its envelope around the body and its three
 *     attributes, built naively, nothing verified or parsed) splits that gap into the message's own cost
 *     (SDK, socket and emulator work for a larger message) and hookline's work.
 *   - dedupe on (the default configuration): the ingest handler vs both `baseline: send` (the full cost of the
 *     feature) and `baseline: send + dedupe writes` (conditional PutItem, SendMessage, conditional UpdateItem:
 *     exactly the DynamoDB traffic of the dedupe protocol, so the ratio isolates ingest's own overhead).
 * - Second figure: CPU µs per request of THIS process (user + system, `process.cpuUsage`), i.e. the handler
 *   process only; the emulator child's CPU per request is reported separately (from /proc, 10 ms ticks).
 *   On the shared 2-core VM wall time also measures other tenants; CPU time per request does much less so.
 *
 * Bundle and import (against an empty handler that only creates an SQS client, target <= 1.3x): esbuild as
 * CDK NodejsFunction bundles (bench/_bundle.ts); bytes, the largest input packages (metafile), and
 * fresh-process import time, wall and CPU (21 interleaved rounds, medians) of: the empty SQS handler, the same
 * plus the contracts the ingest function imports (its zod/mini runtime configuration and the envelope), the
 * ingest handler as deployed (its entry with the chunks beside it, lib/ingest-asset.ts: `bytes` is what the
 * entry loads at import, `assetBytes` the whole asset), and `ingest before` with BENCH_BEFORE_HANDLER (built
 * the same way).
 *
 * Logs and EMF metrics are serialized as in Lambda, but their writes to stdout are discarded while measuring.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PurgeQueueCommand } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { INGEST_CONFIG_ENV } from '../lambda/shared/runtime-config';
import { localSqsClient } from '../lib/local/clients';
import {
  type Bundled,
  bundleIngestAsDeployed,
  bundleLikeCdk,
  type ImportTimes,
  importSummary,
  measureImports,
  stdinEntry,
} from './_bundle';
import {
  type BenchTopology,
  createBenchTopology,
  type EmulatorChild,
  type Handler,
  lambdaContext,
  signedGithubEvents,
  startEmulatorChild,
  useEmulatorEnvironment,
} from './_ingest-setup';
import { median, quantile, quietly, runConcurrently, writeResults } from './_shared';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
/** Requests per variant per round at concurrency 1; dedupe-on rounds use half (three round trips each). */
const REQUESTS_PER_ROUND = Number(process.env.BENCH_REQUESTS ?? 600);
/** Each round alternates the variants in this many chunks. */
const CHUNKS_PER_ROUND = 20;
const CONCURRENCIES = (process.env.BENCH_CONCURRENCY ?? '1,8').split(',').map(Number);
const IMPORT_ROUNDS = 21;
const TARGET = 0.9;
/** Cold import of the ingest bundle, at most this many times the empty SQS handler's. */
const IMPORT_TARGET = 1.3;

/**
 * The baseline handlers, bundled like the ingest handler. Same client options (endpoint, retries, timeouts) as
 * the ingest function. `sendWithDedupeWrites` uses the ingest's own dedupe store (lambda/ingest/dedupe.ts) on
 * the happy path (conditional claim, then conditional mark-queued), so it cannot drift from it.
 */
const BASELINE_MODULE = `
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createDynamoDedupeStore } from './lambda/ingest/dedupe';
import { clientOptions, INGEST_BUDGET } from './lambda/shared/aws-clients';
import { ENVELOPE_VERSION, MESSAGE_ATTRIBUTES } from './lambda/shared/envelope';

const queueUrl = process.env.BENCH_QUEUE_URL;
const tableName = process.env.BENCH_DEDUPE_TABLE;
const ttlSeconds = Number(process.env.BENCH_DEDUPE_TTL_SECONDS);
const sqs = new SQSClient(clientOptions('SQS', INGEST_BUDGET));
const dynamodb = new DynamoDBClient(clientOptions('DYNAMODB', INGEST_BUDGET));
const dedupe = createDynamoDedupeStore({ client: dynamodb, tableName, ttlSeconds });

export const send = async (event) => {
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: event.body ?? '' }));
  return { statusCode: 202 };
};

const attribute = (value) => ({ DataType: 'String', StringValue: value });

// What ingest sends (its envelope around the raw body, the kept headers, the three attributes), built naively
// and without verifying, parsing or routing anything: the message's own cost, apart from hookline's work.
export const sendSameMessage = async (event) => {
  const { headers } = event;
  const id = headers['x-github-delivery'];
  const type = headers['x-github-event'] + '.opened';
  const body = JSON.stringify({
    v: ENVELOPE_VERSION,
    id,
    source: 'github',
    type,
    receivedAt: new Date().toISOString(),
    headers: {
      'content-type': headers['content-type'],
      'user-agent': headers['user-agent'],
      'x-github-event': headers['x-github-event'],
      'x-github-delivery': id,
    },
    contentType: headers['content-type'],
    body: event.body ?? '',
  });
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: body,
      MessageAttributes: {
        [MESSAGE_ATTRIBUTES.source]: attribute('github'),
        [MESSAGE_ATTRIBUTES.type]: attribute(type),
        [MESSAGE_ATTRIBUTES.eventId]: attribute(id),
      },
    }),
  );
  return { statusCode: 202 };
};

export const sendWithDedupeWrites = async (event) => {
  const key = 'github#' + event.headers['x-github-delivery'];
  const claim = await dedupe.claim(key);
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: event.body ?? '' }));
  if (claim.status === 'claimed') await dedupe.complete(key, claim.token);
  return { statusCode: 202 };
};

export const destroy = () => {
  sqs.destroy();
  dynamodb.destroy();
};
`;

const round3 = (n: number) => Number(n.toFixed(3));

interface Sample {
  readonly requestsPerSecond: number;
  readonly cpuMicrosPerRequest: number;
  readonly emulatorCpuMicrosPerRequest: number;
}

/** Raw totals of one or more runs of a variant. */
interface Totals {
  requests: number;
  seconds: number;
  cpuMicros: number;
  emulatorCpuMicros: number;
}

/** Runs `count` calls with `concurrency` in flight and adds them to `totals`. Fails on any non-2xx answer. */
async function measure(
  handler: Handler,
  makeEvent: () => APIGatewayProxyEventV2,
  count: number,
  concurrency: number,
  emulatorCpuSeconds: () => number,
  totals: Totals,
): Promise<void> {
  let bad = 0;
  const emulatorBefore = emulatorCpuSeconds();
  const cpu = process.cpuUsage();
  const started = performance.now();
  await runConcurrently(count, concurrency, async () => {
    const result = (await handler(makeEvent(), lambdaContext())) as { statusCode?: number };
    if ((result.statusCode ?? 0) >= 300) bad++;
  });
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const emulatorSeconds = emulatorCpuSeconds() - emulatorBefore;
  if (bad > 0) throw new Error(`${bad} of ${count} requests were not accepted`);
  totals.requests += count;
  totals.seconds += seconds;
  totals.cpuMicros += used.user + used.system;
  totals.emulatorCpuMicros += emulatorSeconds * 1e6;
}

const emptyTotals = (): Totals => ({ requests: 0, seconds: 0, cpuMicros: 0, emulatorCpuMicros: 0 });
const toSample = (t: Totals): Sample => ({
  requestsPerSecond: t.requests / t.seconds,
  cpuMicrosPerRequest: t.cpuMicros / t.requests,
  emulatorCpuMicrosPerRequest: t.emulatorCpuMicros / t.requests,
});

interface PhaseResult {
  readonly samples: Record<string, Sample[]>;
  /** Per-round ratio candidate/baseline (req/s), keyed `candidate / baseline`. */
  readonly ratios: Record<string, number[]>;
  /** Per-round ratio of CPU µs per request, baseline/candidate (requests per CPU-second), same keys. */
  readonly cpuRatios: Record<string, number[]>;
}

type Built = Record<string, Bundled>;

/** Bundles every artifact first, so the artifacts measured stay the same for the whole run. */
async function bundleArtifacts(work: string): Promise<Built> {
  const artifacts = {
    'empty SQS handler': stdinEntry(
      `import { SQSClient } from '@aws-sdk/client-sqs';\nconst sqs = new SQSClient({});\nexport const handler = async () => { void sqs; return { statusCode: 202 }; };\n`,
    ),
    'empty SQS handler + contracts': stdinEntry(
      `import { SQSClient } from '@aws-sdk/client-sqs';\nimport { checkEnvelope } from './lambda/shared/envelope';\nimport { readIngestConfig } from './lambda/shared/runtime-config';\nconst config = readIngestConfig();\nconst sqs = new SQSClient({});\nexport const handler = async () => { void sqs; void config; void checkEnvelope; return { statusCode: 202 }; };\n`,
    ),
  };
  const built: Built = {};
  for (const [name, input] of Object.entries(artifacts)) {
    built[name] = await bundleLikeCdk(input, path.join(work, `size-${name.replaceAll(/[^a-z]+/g, '-')}.mjs`));
  }
  built['ingest handler'] = await bundleIngestAsDeployed(path.join(work, 'ingest-asset'));
  // The "before" copy is built exactly as the ingest is deployed, so an A/B compares the code, not the bundling.
  const before = process.env.BENCH_BEFORE_HANDLER;
  if (before) {
    built['ingest before'] = await bundleIngestAsDeployed(
      path.join(work, 'before-asset'),
      path.resolve(before),
    );
  }
  return built;
}

interface Handlers {
  readonly withDedupe: Handler;
  readonly withoutDedupe: Handler;
  /** The optional A/B handler (BENCH_BEFORE_HANDLER), dedupe off. */
  readonly beforeWithoutDedupe: Handler | undefined;
  readonly baselineSend: Handler;
  /** A send of the same message ingest sends (envelope and attributes), with none of ingest's work. */
  readonly baselineSendSameMessage: Handler;
  readonly baselineSendDedupeWrites: Handler;
  destroyBaselines(): void;
}

/**
 * The handler as shipped (the esbuild bundle CDK deploys), imported twice (the config is read at import);
 * the baselines are bundled the same way, so both sides run the same kind of code.
 */
async function loadHandlers(work: string, built: Built, topology: BenchTopology): Promise<Handlers> {
  const handlerBundle = built['ingest handler'] as { file: string };
  const baselineBundle = await bundleLikeCdk(
    stdinEntry(BASELINE_MODULE),
    path.join(work, 'baseline-handlers.mjs'),
  );
  Object.assign(process.env, {
    BENCH_QUEUE_URL: topology.queueUrl,
    BENCH_DEDUPE_TABLE: topology.dedupe.tableName,
    BENCH_DEDUPE_TTL_SECONDS: String(topology.dedupe.ttlSeconds),
  });
  const handlerUrl = pathToFileURL(handlerBundle.file).href;
  process.env[INGEST_CONFIG_ENV] = JSON.stringify(topology.runtimeWithDedupe);
  const withDedupe = (await import(`${handlerUrl}?dedupe`)).handler as Handler;
  process.env[INGEST_CONFIG_ENV] = JSON.stringify(topology.runtimeWithoutDedupe);
  const withoutDedupe = (await import(`${handlerUrl}?nodedupe`)).handler as Handler;
  const beforeWithoutDedupe = await loadBeforeHandler(built);
  const baselines = (await import(pathToFileURL(baselineBundle.file).href)) as {
    send: Handler;
    sendSameMessage: Handler;
    sendWithDedupeWrites: Handler;
    destroy(): void;
  };
  return {
    withDedupe,
    withoutDedupe,
    beforeWithoutDedupe,
    baselineSend: baselines.send,
    baselineSendSameMessage: baselines.sendSameMessage,
    baselineSendDedupeWrites: baselines.sendWithDedupeWrites,
    destroyBaselines: () => baselines.destroy(),
  };
}

/**
 * Optional A/B: BENCH_BEFORE_HANDLER=<path of another copy of lambda/ingest/handler.ts> adds that version
 * (bundled the same way, dedupe off) to the dedupe-off phase, so before/after figures come from one run;
 * BENCH_BEFORE_LABEL describes it in the results file.
 */
async function loadBeforeHandler(built: Built): Promise<Handler | undefined> {
  const before = built['ingest before'];
  if (!before) return undefined;
  return (await import(`${pathToFileURL(before.file).href}?nodedupe`)).handler as Handler;
}

/** Runs handlers against signed events (stdout discarded), and empties the queue between rounds. */
interface Runner {
  run(handler: Handler, count: number, concurrency: number, totals?: Totals): Promise<void>;
  purge(): Promise<void>;
  destroy(): void;
}

function createRunner(emulators: EmulatorChild, queueUrl: string): Runner {
  const makeEvent = signedGithubEvents();
  const admin = localSqsClient(emulators);
  return {
    run: (handler, count, concurrency, totals = emptyTotals()) =>
      quietly(() => measure(handler, makeEvent, count, concurrency, emulators.cpuSeconds, totals)),
    async purge() {
      await admin.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
      await new Promise((resolve) => setTimeout(resolve, 100));
    },
    destroy: () => admin.destroy(),
  };
}

/** Warm-up: JIT, keep-alive connections, first secret load. */
async function warmUp(runner: Runner, handlers: Handlers): Promise<void> {
  const { baselineSend, baselineSendSameMessage, baselineSendDedupeWrites, withDedupe, withoutDedupe } =
    handlers;
  for (const handler of [
    baselineSend,
    baselineSendSameMessage,
    baselineSendDedupeWrites,
    withDedupe,
    withoutDedupe,
  ]) {
    await runner.run(handler, 500, 8);
  }
  if (handlers.beforeWithoutDedupe) await runner.run(handlers.beforeWithoutDedupe, 500, 8);
}

type Pairs = readonly (readonly [candidate: string, baseline: string])[];

/**
 * Interleaved rounds of `variants`: each round runs every variant `CHUNKS_PER_ROUND` times, `count` requests
 * in all, alternating in small chunks (order rotated every chunk) so that the variants share the same
 * machine conditions. Ratios are taken within each round: throughput (req/s) and CPU (the baseline's CPU
 * µs per request over the candidate's, i.e. requests per CPU-second).
 */
async function phase(
  runner: Runner,
  label: string,
  variants: Record<string, Handler>,
  pairs: Pairs,
  count: number,
  concurrency: number,
): Promise<PhaseResult> {
  const names = Object.keys(variants);
  const samples: Record<string, Sample[]> = Object.fromEntries(names.map((n) => [n, []]));
  const ratios: Record<string, number[]> = Object.fromEntries(pairs.map(([c, b]) => [`${c} / ${b}`, []]));
  const cpuRatios: Record<string, number[]> = Object.fromEntries(pairs.map(([c, b]) => [`${c} / ${b}`, []]));
  const chunk = Math.max(concurrency, Math.round(count / CHUNKS_PER_ROUND));
  for (let round = 0; round < ROUNDS; round++) {
    await runner.purge();
    const totals: Record<string, Totals> = Object.fromEntries(names.map((n) => [n, emptyTotals()]));
    for (let c = 0; c < CHUNKS_PER_ROUND; c++) {
      const shift = round * CHUNKS_PER_ROUND + c;
      for (let i = 0; i < names.length; i++) {
        const name = names[(i + shift) % names.length] as string;
        await runner.run(variants[name] as Handler, chunk, concurrency, totals[name]);
      }
    }
    const result: Record<string, Sample> = {};
    for (const name of names) {
      result[name] = toSample(totals[name] as Totals);
      samples[name]?.push(result[name]);
    }
    const line = recordRoundRatios(result, pairs, ratios, cpuRatios);
    process.stdout.write(`${label}: round ${round + 1}/${ROUNDS} ratios ${line.join(', ')}\n`);
  }
  return { samples, ratios, cpuRatios };
}

/** Adds one round's ratio per pair to `ratios` and `cpuRatios`; returns them as printable figures. */
function recordRoundRatios(
  result: Record<string, Sample>,
  pairs: Pairs,
  ratios: Record<string, number[]>,
  cpuRatios: Record<string, number[]>,
): string[] {
  return pairs.map(([c, b]) => {
    const key = `${c} / ${b}`;
    const ratio = (result[c]?.requestsPerSecond ?? 0) / (result[b]?.requestsPerSecond ?? 1);
    const cpuRatio = (result[b]?.cpuMicrosPerRequest ?? 0) / (result[c]?.cpuMicrosPerRequest ?? 1);
    ratios[key]?.push(ratio);
    cpuRatios[key]?.push(cpuRatio);
    return `${ratio.toFixed(3)} (CPU ${cpuRatio.toFixed(3)})`;
  });
}

function summarize(result: PhaseResult) {
  return {
    variants: Object.fromEntries(
      Object.entries(result.samples).map(([name, samples]) => [
        name,
        {
          medianRequestsPerSecond: Math.round(median(samples.map((s) => s.requestsPerSecond))),
          medianCpuMicrosPerRequest: Math.round(median(samples.map((s) => s.cpuMicrosPerRequest))),
          medianEmulatorCpuMicrosPerRequest: Math.round(
            median(samples.map((s) => s.emulatorCpuMicrosPerRequest)),
          ),
        },
      ]),
    ),
    ratios: Object.fromEntries(
      Object.entries(result.ratios).map(([pair, values]) => {
        const cpu = result.cpuRatios[pair] ?? [];
        return [
          pair,
          {
            median: round3(median(values)),
            p10: round3(quantile(values, 0.1)),
            p90: round3(quantile(values, 0.9)),
            cpuMedian: round3(median(cpu)),
            cpuP10: round3(quantile(cpu, 0.1)),
            cpuP90: round3(quantile(cpu, 0.9)),
            perRound: values.map(round3),
            cpuPerRound: cpu.map(round3),
          },
        ];
      }),
    ),
  };
}

type Summary = ReturnType<typeof summarize>;
type Throughput = Record<string, { dedupeOff: Summary; dedupeOn: Summary }>;

/** The dedupe-off and dedupe-on phases at every concurrency. */
async function measureThroughput(runner: Runner, handlers: Handlers): Promise<Throughput> {
  const throughput: Throughput = {};
  for (const concurrency of CONCURRENCIES) {
    const count = REQUESTS_PER_ROUND * (concurrency === 1 ? 1 : 2);
    const off = await dedupeOffPhase(runner, handlers, count, concurrency);
    const on = await phase(
      runner,
      `c=${concurrency} dedupe on`,
      {
        'baseline: send': handlers.baselineSend,
        'baseline: send + dedupe writes': handlers.baselineSendDedupeWrites,
        'ingest (dedupe on)': handlers.withDedupe,
      },
      [
        ['ingest (dedupe on)', 'baseline: send + dedupe writes'],
        ['ingest (dedupe on)', 'baseline: send'],
      ],
      Math.round(count / 2),
      concurrency,
    );
    throughput[`concurrency ${concurrency}`] = { dedupeOff: summarize(off), dedupeOn: summarize(on) };
  }
  return throughput;
}

function dedupeOffPhase(runner: Runner, handlers: Handlers, count: number, concurrency: number) {
  const before = handlers.beforeWithoutDedupe;
  return phase(
    runner,
    `c=${concurrency} dedupe off`,
    {
      'baseline: send': handlers.baselineSend,
      'baseline: send same message': handlers.baselineSendSameMessage,
      'ingest (dedupe off)': handlers.withoutDedupe,
      ...(before ? { 'ingest before (dedupe off)': before } : {}),
    },
    [
      ['ingest (dedupe off)', 'baseline: send'],
      // The split of that gap: the larger message with attributes, then hookline's own work.
      ['baseline: send same message', 'baseline: send'],
      ['ingest (dedupe off)', 'baseline: send same message'],
      ...(before
        ? ([
            ['ingest before (dedupe off)', 'baseline: send'],
            ['ingest (dedupe off)', 'ingest before (dedupe off)'],
          ] as const)
        : []),
    ],
    count,
    concurrency,
  );
}

function bundleResults(built: Built, imports: Record<string, ImportTimes>) {
  const emptyBytes = built['empty SQS handler']?.bytes ?? 1;
  const empty = imports['empty SQS handler'] as ImportTimes;
  return Object.fromEntries(
    Object.entries(built).map(([name, b]) => [
      name,
      {
        bytes: b.bytes,
        ...(b.assetBytes !== undefined ? { assetBytes: b.assetBytes } : {}),
        ratioToEmpty: Number((b.bytes / emptyBytes).toFixed(2)),
        ...importSummary(imports[name] as ImportTimes, empty),
        topPackagesBytes: b.topPackages,
      },
    ]),
  );
}

type BundleResults = ReturnType<typeof bundleResults>;

function ingestResults(throughput: Throughput, bundles: BundleResults) {
  return {
    generatedAt: new Date().toISOString(),
    node: process.versions.node,
    method:
      'emulators in a child process on 127.0.0.1; handlers in this process; interleaved rounds; medians of per-round ratios; CPU = this process only',
    throughput: {
      body: '4096-byte signed GitHub issues.opened, unique delivery id per request',
      rounds: ROUNDS,
      requestsPerRound: `${REQUESTS_PER_ROUND} at concurrency 1 (dedupe on: half), twice that at higher concurrency`,
      target: TARGET,
      ...throughput,
      ...(process.env.BENCH_BEFORE_HANDLER
        ? {
            // What `ingest before` is (BENCH_BEFORE_LABEL), so the figures stay readable later.
            before: process.env.BENCH_BEFORE_LABEL ?? process.env.BENCH_BEFORE_HANDLER,
          }
        : {}),
      loadAverageAtEnd: loadavg().map((l) => Number(l.toFixed(2))),
    },
    bundle: bundles,
    importRounds: IMPORT_ROUNDS,
    importTarget: IMPORT_TARGET,
  };
}

function printThroughput(throughput: Throughput): void {
  for (const [key, { dedupeOff, dedupeOn }] of Object.entries(throughput)) {
    console.log(`\nIngest throughput, ${key} (emulators in a child process; medians over ${ROUNDS} rounds)`);
    console.table(
      [
        ...Object.entries(dedupeOff.variants).map(([v, s]) => ({ phase: 'dedupe off', variant: v, ...s })),
        ...Object.entries(dedupeOn.variants).map(([v, s]) => ({ phase: 'dedupe on', variant: v, ...s })),
      ].map(({ phase, variant, ...s }) => ({
        phase,
        variant,
        'req/s': s.medianRequestsPerSecond,
        'CPU µs/req (handler process)': s.medianCpuMicrosPerRequest,
        'CPU µs/req (emulators)': s.medianEmulatorCpuMicrosPerRequest,
      })),
    );
    console.table(
      Object.entries({ ...dedupeOff.ratios, ...dedupeOn.ratios }).map(([pair, r]) => ({
        ratio: pair,
        median: r.median,
        p10: r.p10,
        p90: r.p90,
        'CPU ratio median': r.cpuMedian,
        'CPU p10': r.cpuP10,
        'CPU p90': r.cpuP90,
        target: TARGET,
      })),
    );
  }
}

function printBundles(bundles: BundleResults): void {
  console.log('\nBundle and fresh-process import (median)');
  console.table(
    Object.entries(bundles).map(([name, b]) => ({
      bundle: name,
      bytes: b.bytes,
      'x empty': b.ratioToEmpty,
      'import ms': b.medianImportMs,
      'import x empty': b.importRatio,
      'import CPU ms': b.medianImportCpuMs,
      'CPU x empty': b.importCpuRatio,
      target: IMPORT_TARGET,
    })),
  );
}

async function main() {
  const work = mkdtempSync(path.join(tmpdir(), 'hookline-bench-ingest-'));
  const built = await bundleArtifacts(work);
  const emulators = await startEmulatorChild();
  const topology = await createBenchTopology(emulators);
  useEmulatorEnvironment(emulators);
  const handlers = await loadHandlers(work, built, topology);
  const runner = createRunner(emulators, topology.queueUrl);

  await warmUp(runner, handlers);
  const throughput = await measureThroughput(runner, handlers);
  await runner.purge();
  runner.destroy();
  handlers.destroyBaselines();
  await emulators.stop();

  const importEnv = {
    ...process.env,
    [INGEST_CONFIG_ENV]: JSON.stringify(topology.runtimeWithDedupe),
    NODE_NO_WARNINGS: '1',
  };
  const imports = measureImports(
    Object.fromEntries(Object.entries(built).map(([name, b]) => [name, b.file])),
    importEnv,
    IMPORT_ROUNDS,
  );
  rmSync(work, { recursive: true, force: true });

  const bundles = bundleResults(built, imports);
  writeResults('ingest', ingestResults(throughput, bundles), { biomeLayout: true });
  printThroughput(throughput);
  printBundles(bundles);
  console.log('results written to bench/results/ingest.json');
}

await main();
