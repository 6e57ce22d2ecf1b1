/**
 * Ingest benchmark (`npx tsx bench/ingest.ts`).
 *
 * 1. Throughput of the real ingest handler module (signed 4 KB GitHub body, in-process calls, 8 concurrent)
 *    as a ratio to a send-only baseline handler (one SendMessage of the body) against the same fauxqs
 *    instance, interleaved rounds, medians. Measured twice: with the dedupe table (the default configuration:
 *    a conditional PutItem + UpdateItem on dynalite per request) and without it.
 * 2. esbuild bundle size (bundled like CDK NodejsFunction: node, node24, esm, minify, createRequire banner) and
 *    fresh-process import time of the bundle vs an empty handler that only creates an SQS client
 *    (21 interleaved rounds, median).
 *
 * Logs and EMF metrics are serialized as in Lambda but their writes to stdout are discarded while measuring,
 * so the table stays readable; the serialization cost is included.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import { PurgeQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { type BuildOptions, build } from 'esbuild';
import { clientOptions, INGEST_BUDGET } from '../lambda/shared/aws-clients';
import { INGEST_CONFIG_ENV } from '../lambda/shared/runtime-config';
import { signWebhook } from '../lambda/shared/webhook-signing';
import { defineConfig, resolveConfig } from '../lib/config';
import { localSqsClient } from '../lib/local/clients';
import { startEmulators } from '../lib/local/emulators';
import { secretEnvName } from '../lib/local/secrets';
import { createTopology } from '../lib/local/topology';
import { ingestRuntimeConfig } from '../lib/runtime-wiring';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const REQUESTS_PER_ROUND = Number(process.env.BENCH_REQUESTS ?? 1500);
const CONCURRENCY = 8;
const IMPORT_ROUNDS = 21;
const SECRET = 'bench-secret';

type Handler = (event: APIGatewayProxyEventV2) => Promise<unknown>;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};

function githubBody(): string {
  const filler = 'x'.repeat(4096);
  const base = {
    action: 'opened',
    issue: { number: 1, title: 'bench', body: '' },
    repository: { full_name: 'o/r' },
  };
  const overhead = JSON.stringify(base).length;
  base.issue.body = filler.slice(0, 4096 - overhead);
  return JSON.stringify(base);
}

function eventFor(body: string, headers: Record<string, string>): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'POST /webhooks/{source}',
    rawPath: '/webhooks/github',
    rawQueryString: '',
    headers,
    requestContext: {
      accountId: '000000000000',
      apiId: 'bench',
      domainName: '127.0.0.1',
      domainPrefix: 'bench',
      http: {
        method: 'POST',
        path: '/webhooks/github',
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'b',
      },
      requestId: 'bench',
      routeKey: 'POST /webhooks/{source}',
      stage: '$default',
      time: '',
      timeEpoch: Date.now(),
    },
    pathParameters: { source: 'github' },
    isBase64Encoded: false,
    body,
  };
}

/** CPU microseconds per request of the last {@link measure} (whole process: handler, SDK and emulators). */
let lastCpuMicros = 0;

/** Runs `count` calls with `CONCURRENCY` in flight; returns requests per second. Fails on any non-2xx. */
async function measure(handler: Handler, makeEvent: (i: number) => APIGatewayProxyEventV2, count: number) {
  let next = 0;
  let bad = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) {
        const i = next++;
        const result = (await handler(makeEvent(i))) as { statusCode?: number };
        if ((result.statusCode ?? 0) >= 300) bad++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  lastCpuMicros = (used.user + used.system) / count;
  if (bad > 0) throw new Error(`${bad} of ${count} requests were not accepted`);
  return count / seconds;
}

/** Discards stdout writes while `fn` runs (logs are still serialized, as in Lambda). */
async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    return await fn();
  } finally {
    process.stdout.write = write;
  }
}

async function bundle(input: Pick<BuildOptions, 'entryPoints' | 'stdin'>, outfile: string): Promise<number> {
  await build({
    ...input,
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    minify: true,
    banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
    logLevel: 'error',
  });
  return statSync(outfile).size;
}

function importTimeMs(file: string, env: NodeJS.ProcessEnv): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(file)}); console.log(performance.now() - t);`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env,
    encoding: 'utf8',
  });
  return Number(out.trim().split('\n').at(-1));
}

async function main() {
  const emulators = await startEmulators();
  const config = resolveConfig(
    defineConfig({
      stackName: 'Bench',
      sources: { github: { type: 'github' } },
      queues: { events: {} },
    }),
  );
  const topology = await createTopology(config, emulators);
  const runtimeWithDedupe = ingestRuntimeConfig(config, topology.resources);
  const { dedupe: _dedupe, ...runtimeWithoutDedupe } = runtimeWithDedupe;
  const queueUrl = topology.queues.events?.url ?? '';

  Object.assign(process.env, {
    AWS_REGION: emulators.region,
    AWS_ACCESS_KEY_ID: 'hookline-local',
    AWS_SECRET_ACCESS_KEY: 'hookline-local',
    AWS_ENDPOINT_URL_SQS: emulators.endpoints.sqs,
    AWS_ENDPOINT_URL_S3: emulators.endpoints.s3,
    AWS_ENDPOINT_URL_DYNAMODB: emulators.endpoints.dynamodb,
    [secretEnvName('github')]: SECRET,
    POWERTOOLS_LOG_LEVEL: 'INFO',
  });

  // Two instances of the real module (the config is read at import), distinguished by a query string.
  const handlerPath = path.resolve(import.meta.dirname, '../lambda/ingest/handler.ts');
  process.env[INGEST_CONFIG_ENV] = JSON.stringify(runtimeWithDedupe);
  const withDedupe = (await import(`${handlerPath}?dedupe`)).handler as Handler;
  process.env[INGEST_CONFIG_ENV] = JSON.stringify(runtimeWithoutDedupe);
  const withoutDedupe = (await import(`${handlerPath}?nodedupe`)).handler as Handler;

  const baselineSqs = new SQSClient(clientOptions('SQS', INGEST_BUDGET));
  const baseline: Handler = async (event) => {
    await baselineSqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: event.body ?? '' }));
    return { statusCode: 202 };
  };

  const body = githubBody();
  const signature =
    signWebhook({ type: 'github', secretId: 'x' }, SECRET, body, { id: 'x' })['x-hub-signature-256'] ?? '';
  let sequence = 0;
  const makeEvent = () =>
    eventFor(body, {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/bench',
      'x-github-event': 'issues',
      'x-github-delivery': `bench-${process.pid}-${++sequence}`,
      'x-hub-signature-256': signature,
    });

  const admin = localSqsClient(emulators);
  // Warm-up: JIT, connections, first secret load.
  await quietly(async () => {
    for (const handler of [baseline, withDedupe, withoutDedupe]) await measure(handler, makeEvent, 1000);
  });
  const settle = () => new Promise((resolve) => setTimeout(resolve, 200));
  /**
   * Runs `candidate` and the baseline back to back, alternating which goes first, and returns per-round
   * throughputs and ratios. The two phases are separate so that dynalite's background work after the
   * dedupe-on runs never lands on the dedupe-off runs.
   */
  const pairRounds = async (label: string, candidate: Handler, requests: number) => {
    const base: number[] = [];
    const cand: number[] = [];
    const ratios: number[] = [];
    const cpu: Record<string, number[]> = { baseline: [], [label]: [] };
    for (let round = 0; round < ROUNDS; round++) {
      const order: [string, Handler][] =
        round % 2 === 0
          ? [
              ['baseline', baseline],
              [label, candidate],
            ]
          : [
              [label, candidate],
              ['baseline', baseline],
            ];
      const result: Record<string, number> = {};
      for (const [name, handler] of order) {
        await admin.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
        await settle();
        result[name] = await quietly(() => measure(handler, makeEvent, requests));
        cpu[name]?.push(lastCpuMicros);
      }
      base.push(result.baseline ?? 0);
      cand.push(result[label] ?? 0);
      ratios.push((result[label] ?? 0) / (result.baseline ?? 1));
      process.stdout.write(`${label}: round ${round + 1}/${ROUNDS} ratio ${ratios.at(-1)?.toFixed(3)}\n`);
    }
    return { base, cand, ratios, cpu };
  };
  const off = await pairRounds('ingest (dedupe off)', withoutDedupe, REQUESTS_PER_ROUND);
  const on = await pairRounds('ingest (dedupe on)', withDedupe, Math.round(REQUESTS_PER_ROUND / 3));
  const samples: Record<string, number[]> = {
    'baseline (paired with dedupe off)': off.base,
    'ingest (dedupe off)': off.cand,
    'baseline (paired with dedupe on)': on.base,
    'ingest (dedupe on)': on.cand,
  };
  const ratiosOff = off.ratios;
  const ratiosOn = on.ratios;
  await admin.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
  admin.destroy();
  baselineSqs.destroy();

  // Bundle size and fresh-process import time.
  const work = mkdtempSync(path.join(tmpdir(), 'hookline-bench-ingest-'));
  const ingestOut = path.join(work, 'ingest.mjs');
  const emptyOut = path.join(work, 'empty.mjs');
  const ingestBytes = await bundle({ entryPoints: [handlerPath] }, ingestOut);
  // The empty handler is bundled from stdin, resolving packages from the project root.
  const emptyBytes = await bundle(
    {
      stdin: {
        contents: `import { SQSClient } from '@aws-sdk/client-sqs';\nconst sqs = new SQSClient({});\nexport const handler = async () => { void sqs; return { statusCode: 202 }; };\n`,
        resolveDir: path.resolve(import.meta.dirname, '..'),
        loader: 'ts',
      },
    },
    emptyOut,
  );
  const importEnv = {
    ...process.env,
    [INGEST_CONFIG_ENV]: JSON.stringify(runtimeWithDedupe),
    NODE_NO_WARNINGS: '1',
  };
  const ingestImports: number[] = [];
  const emptyImports: number[] = [];
  for (let i = 0; i < IMPORT_ROUNDS; i++) {
    if (i % 2 === 0) {
      ingestImports.push(importTimeMs(ingestOut, importEnv));
      emptyImports.push(importTimeMs(emptyOut, importEnv));
    } else {
      emptyImports.push(importTimeMs(emptyOut, importEnv));
      ingestImports.push(importTimeMs(ingestOut, importEnv));
    }
  }
  rmSync(work, { recursive: true, force: true });
  await emulators.stop();

  const results = {
    generatedAt: new Date().toISOString(),
    node: process.versions.node,
    throughput: {
      body: '4096-byte signed GitHub issues.opened, unique delivery id per request',
      concurrency: CONCURRENCY,
      rounds: ROUNDS,
      requestsPerRound: REQUESTS_PER_ROUND,
      medianRequestsPerSecond: Object.fromEntries(
        Object.entries(samples).map(([k, v]) => [k, Math.round(median(v))]),
      ),
      medianRatio: {
        dedupeOn: Number(median(ratiosOn).toFixed(3)),
        dedupeOff: Number(median(ratiosOff).toFixed(3)),
      },
      perRoundRatios: {
        dedupeOff: ratiosOff.map((r) => Number(r.toFixed(3))),
        dedupeOn: ratiosOn.map((r) => Number(r.toFixed(3))),
      },
      medianCpuMicrosPerRequest: {
        baseline: Math.round(median([...(off.cpu.baseline ?? []), ...(on.cpu.baseline ?? [])])),
        'ingest (dedupe off)': Math.round(median(off.cpu['ingest (dedupe off)'] ?? [])),
        'ingest (dedupe on)': Math.round(median(on.cpu['ingest (dedupe on)'] ?? [])),
      },
      loadAverageAtEnd: loadavg().map((l) => Number(l.toFixed(2))),
      target: 0.85,
    },
    bundle: {
      ingestBytes,
      emptySqsHandlerBytes: emptyBytes,
      ratio: Number((ingestBytes / emptyBytes).toFixed(2)),
    },
    importTimeMs: {
      rounds: IMPORT_ROUNDS,
      ingestMedian: Number(median(ingestImports).toFixed(1)),
      emptySqsHandlerMedian: Number(median(emptyImports).toFixed(1)),
      ratio: Number((median(ingestImports) / median(emptyImports)).toFixed(2)),
    },
  };
  mkdirSync(path.resolve(import.meta.dirname, 'results'), { recursive: true });
  writeFileSync(
    path.resolve(import.meta.dirname, 'results/ingest.json'),
    `${JSON.stringify(results, null, 2)}\n`,
  );

  const rps = results.throughput.medianRequestsPerSecond;
  console.log('\nIngest throughput (median of rounds, 8 concurrent, fauxqs + dynalite on loopback)');
  console.table(Object.entries(rps).map(([variant, value]) => ({ variant, 'req/s': value })));
  console.log('CPU µs per request (whole process, median):', results.throughput.medianCpuMicrosPerRequest);
  console.log(
    `median per-round ratio: dedupe on ${results.throughput.medianRatio.dedupeOn}, dedupe off ${results.throughput.medianRatio.dedupeOff} (target >= 0.85)`,
  );
  console.log('\nBundle and fresh-process import');
  console.table([
    { bundle: 'ingest handler', bytes: ingestBytes, 'import ms (median)': results.importTimeMs.ingestMedian },
    {
      bundle: 'empty SQS handler',
      bytes: emptyBytes,
      'import ms (median)': results.importTimeMs.emptySqsHandlerMedian,
    },
  ]);
  console.log('results written to bench/results/ingest.json');
}

await main();
