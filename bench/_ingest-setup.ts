/**
 * Setup shared by the ingest benchmark (bench/ingest.ts) and its profiling helper (bench/_ingest-profile.ts):
 * the emulator child process, the bench configuration's topology and runtime configuration, the process
 * environment a handler reads, and signed GitHub webhook events.
 *
 * The leading underscore keeps `npm run bench` (bench/run.ts) from running it as a benchmark of its own.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import type { Duration } from 'aws-cdk-lib';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import type { IngestConfigVariable } from '../lambda/shared/runtime-config';
import { signWebhook } from '../lambda/shared/webhook-signing';
import { defineConfig, resolveConfig } from '../lib/config';
import { DEFAULTS } from '../lib/config/defaults';
import { LOCAL_CREDENTIALS } from '../lib/local/clients';
import type { Emulators } from '../lib/local/emulators';
import { secretEnvName } from '../lib/local/secrets';
import { createTopology } from '../lib/local/topology';
import { ingestRuntimeConfig } from '../lib/runtime-wiring';
import { ROOT } from './_shared';

export type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<unknown>;

let invocations = 0;
/**
 * A Lambda context as the ingest function gets one deployed, its deadline `timeout` away: handlers run with it as
 * they run in Lambda, so the ingest's request deadline (its watch of the remaining time) is part of what is measured.
 */
export function lambdaContext(timeout: Duration = DEFAULTS.ingestTimeout): Context {
  const deadline = Date.now() + timeout.toMilliseconds();
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'bench-ingest',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:bench-ingest',
    memoryLimitInMB: '512',
    awsRequestId: `bench-${++invocations}`,
    logGroupName: '/aws/lambda/bench-ingest',
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** The GitHub webhook secret the bench configures and signs with. */
export const SECRET = 'bench-secret';
const CLOCK_TICKS_PER_SECOND = 100;

export type EmulatorChild = Pick<Emulators, 'region' | 'endpoints'> & {
  cpuSeconds(): number;
  stop(): Promise<void>;
};

/** The emulators in a child process; `cpuSeconds()` reads the child's user + system time from /proc. */
export async function startEmulatorChild(): Promise<EmulatorChild> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(import.meta.dirname, '_ingest-emulators.ts')],
    { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, NODE_NO_WARNINGS: '1' } },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`emulator child exited early (code ${code})`)));
  });
  const { region, endpoints } = JSON.parse(first) as Pick<Emulators, 'region' | 'endpoints'>;
  return {
    region,
    endpoints,
    cpuSeconds() {
      // Fields after the parenthesised command name: utime is the 12th, stime the 13th.
      const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
    },
    async stop() {
      child.stdin?.end();
      const timer = setTimeout(() => child.kill('SIGTERM'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface BenchTopology {
  /** The ingest function's variable with the dedupe table (the default). */
  readonly runtimeWithDedupe: IngestConfigVariable;
  /** The same without the dedupe table. */
  readonly runtimeWithoutDedupe: IngestConfigVariable;
  readonly dedupe: NonNullable<IngestConfigVariable['dedupe']>;
  readonly queueUrl: string;
}

/** Creates the bench configuration (one GitHub source, one queue, defaults otherwise) on the emulators. */
export async function createBenchTopology(
  emulators: Pick<Emulators, 'region' | 'endpoints'>,
): Promise<BenchTopology> {
  const config = resolveConfig(
    defineConfig({
      stackName: 'Bench',
      sources: { github: { type: 'github' } },
      queues: { events: {} },
      // The send-only baseline archives nothing; bench/archive.ts measures the archive on and off.
      archive: { enabled: false },
    }),
  );
  const topology = await createTopology(config, emulators);
  const runtimeWithDedupe = ingestRuntimeConfig(config, topology.resources);
  const { dedupe, ...runtimeWithoutDedupe } = runtimeWithDedupe;
  if (!dedupe) throw new Error('the bench configuration should have a dedupe table');
  return { runtimeWithDedupe, runtimeWithoutDedupe, dedupe, queueUrl: topology.queues.events?.url ?? '' };
}

/**
 * Points this process's AWS SDK clients at the emulators and gives it the bench source's secret; logs at INFO,
 * as deployed.
 */
export function useEmulatorEnvironment(emulators: Pick<Emulators, 'region' | 'endpoints'>): void {
  Object.assign(process.env, {
    AWS_REGION: emulators.region,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_SQS: emulators.endpoints.sqs,
    AWS_ENDPOINT_URL_S3: emulators.endpoints.s3,
    AWS_ENDPOINT_URL_DYNAMODB: emulators.endpoints.dynamodb,
    [secretEnvName('github')]: SECRET,
    POWERTOOLS_LOG_LEVEL: 'INFO',
  });
}

/** A 4096-byte GitHub `issues.opened` body. */
export function githubBody(): string {
  const base = {
    action: 'opened',
    issue: { number: 1, title: 'bench', body: '' },
    repository: { full_name: 'o/r' },
  };
  base.issue.body = 'x'.repeat(4096 - JSON.stringify(base).length);
  return JSON.stringify(base);
}

/** An API Gateway v2 event for `POST /webhooks/github`. */
export function eventFor(body: string, headers: Record<string, string>): APIGatewayProxyEventV2 {
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
        userAgent: 'GitHub-Hookshot/bench',
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

/** Makes signed GitHub `issues.opened` events of one 4 KB body, each with a new delivery id. */
export function signedGithubEvents(): () => APIGatewayProxyEventV2 {
  const body = githubBody();
  const signature =
    signWebhook({ type: 'github', secretId: 'x' }, SECRET, body, { id: 'x' })['x-hub-signature-256'] ?? '';
  let sequence = 0;
  return () =>
    eventFor(body, {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/bench',
      'x-github-event': 'issues',
      'x-github-delivery': `bench-${process.pid}-${++sequence}`,
      'x-hub-signature-256': signature,
    });
}
