/**
 * Starts local mode in-process for integration tests: random ports, no state file, a quiet reporter whose
 * events are collected, and a recording consumer whose side effects land in a temporary file.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import { signWebhook } from '../../../lambda/shared/webhook-signing';
import { queueDepth } from '../../../lib/cli/dead-letters';
import {
  type HooklineConfig,
  type QueueConfig,
  type ResolvedConfig,
  resolveConfig,
} from '../../../lib/config';
import { localSqsClient } from '../../../lib/local/clients';
import type { Emulators } from '../../../lib/local/emulators';
import { type LocalMode, startLocalMode } from '../../../lib/local/local-mode';
import { type LocalEvent, Reporter } from '../../../lib/local/reporter';
import { localSecrets } from '../../../lib/local/secrets';
import { sourceRuntimeConfig } from '../../../lib/runtime-wiring';

/** Absolute path of the recording consumer. */
export const RECORDING_CONSUMER = fileURLToPath(new URL('./recording-consumer.ts', import.meta.url));

/** A `generic` HMAC source reading id and type from the JSON body, and a `github` source. */
export function testConfig(
  queues: Record<string, QueueConfig>,
  extra: Partial<HooklineConfig> = {},
): ResolvedConfig {
  return resolveConfig({
    stackName: `LocalTest${process.pid}`,
    sources: {
      generic: {
        type: 'hmac',
        header: 'x-signature',
        algorithm: 'sha256',
        encoding: 'hex',
        prefix: 'sha256=',
        idPath: 'id',
        typePath: 'type',
      },
      github: { type: 'github' },
    },
    queues,
    defaultRoute: { queues: [Object.keys(queues)[0] ?? 'events'] },
    ...extra,
  });
}

/** A standard queue read by the recording consumer with short, test-friendly timings. */
export function recordingQueue(
  overrides: Partial<QueueConfig> = {},
  consumer: Partial<NonNullable<QueueConfig['consumer']>> = {},
): QueueConfig {
  return {
    maxReceiveCount: 3,
    ...overrides,
    consumer: {
      entry: RECORDING_CONSUMER,
      timeout: Duration.seconds(2),
      retry: { base: Duration.seconds(1), factor: 1, max: Duration.seconds(1) },
      ...consumer,
    },
  };
}

/** A running test pipeline. */
export interface TestPipeline {
  readonly local: LocalMode;
  readonly config: ResolvedConfig;
  readonly events: LocalEvent[];
  /** Every line the reporter wrote (JSON objects), events and function output alike. */
  readonly output: string[];
  readonly recordFile: string;
  /** Signs and posts a JSON body to a source; resolves with the HTTP status and body. */
  post(
    source: string,
    body: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; text: string }>;
  /** `<id> <attempt>` lines written by the consumer's successful side effects. */
  sideEffects(): { id: string; attempt: number }[];
  /** Attempts recorded by the poison handler. */
  poisonAttempts(): { id: string; attempt: number }[];
  /** Resolves once `predicate` holds (polling), or rejects after `timeoutMs`. */
  waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void>;
  /**
   * Resolves once `queue` holds no message, visible, in flight or delayed: every message sent to it so far was
   * handled and deleted, so nothing sent before can still run. What "it ran once" waits for, instead of a pause.
   */
  settled(queue: string, timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

function readLines(file: string): { id: string; attempt: number }[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [id = '', attempt = '0'] = line.split(' ');
      return { id, attempt: Number(attempt) };
    });
}

/** Starts local mode for `config` with the recording consumer's file wired into every consumer. */
export async function startTestPipeline(
  config: ResolvedConfig,
  options: {
    consumerConcurrency?: number;
    dataDir?: string;
    recordDir?: string;
    stateDir?: string;
    clock?: () => number;
    /** Port of the emulated API (default: any free one). */
    port?: number;
    /** The environment local mode reads its `HOOKLINE_SECRET_<SOURCE>` secrets from. */
    env?: Readonly<Record<string, string>>;
    /** The configuration as named at start, which the commands its notices name carry as `--config`. */
    configFile?: string;
    /** Emulators already started (`startLocalMode`'s option), instead of its own. */
    emulators?: Promise<Emulators>;
  } = {},
): Promise<TestPipeline> {
  const dir = options.recordDir ?? mkdtempSync(join(tmpdir(), 'hookline-local-test-'));
  const recordFile = join(dir, 'side-effects.txt');
  const withRecorder: ResolvedConfig = {
    ...config,
    queues: config.queues.map((q) =>
      q.consumer
        ? {
            ...q,
            consumer: {
              ...q.consumer,
              environment: { ...q.consumer.environment, HOOKLINE_TEST_RECORD_FILE: recordFile },
            },
          }
        : q,
    ),
  };
  const buildDir = join(process.cwd(), '.hookline', 'build', basename(dir));
  const events: LocalEvent[] = [];
  const output: string[] = [];
  const reporter = new Reporter({
    json: true,
    color: false,
    verbose: process.env.HOOKLINE_VERBOSE === '1',
    write: (line) => {
      output.push(line);
      if (process.env.HOOKLINE_VERBOSE === '1') process.stdout.write(`${line}\n`);
    },
  });
  reporter.subscribe((event) => events.push(event));
  const env = { ...options.env };
  const local = await startLocalMode({
    config: withRecorder,
    port: options.port ?? 0,
    stateDir: options.stateDir ?? false,
    reporter,
    env,
    // Inside the project, so the bundles' external @aws-sdk/* resolve from its node_modules (as in npm start).
    buildDir,
    consumerConcurrency: options.consumerConcurrency ?? 2,
    waitTimeSeconds: 1,
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.configFile ? { configFile: options.configFile } : {}),
    ...(options.emulators ? { emulators: options.emulators } : {}),
  });
  const secrets = localSecrets(config.sources, env);
  return {
    local,
    config: withRecorder,
    events,
    output,
    recordFile,
    async post(sourceName, body, headers = {}) {
      const source = config.sources.find((s) => s.name === sourceName);
      if (!source) throw new Error(`no source ${sourceName}`);
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      const runtime = sourceRuntimeConfig(source, `env:${secrets[sourceName]?.envName}`);
      const signature = signWebhook(runtime, secrets[sourceName]?.value ?? '', text);
      const response = await fetch(local.webhookUrls[sourceName] ?? '', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...signature, ...headers },
        body: text,
      });
      return { status: response.status, text: await response.text() };
    },
    sideEffects: () => readLines(recordFile),
    poisonAttempts: () => readLines(`${recordFile}.attempts`),
    async waitFor(predicate, timeoutMs, what) {
      const until = Date.now() + timeoutMs;
      while (!predicate()) {
        if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async settled(queue, timeoutMs) {
      const url = local.status().queues[queue]?.url;
      if (!url) throw new Error(`no queue ${queue}`);
      const sqs = localSqsClient(local.emulators);
      try {
        const until = Date.now() + timeoutMs;
        for (;;) {
          const depth = await queueDepth(sqs, url);
          if (depth.visible + depth.inFlight + depth.delayed === 0) return;
          if (Date.now() > until)
            throw new Error(
              `timed out after ${timeoutMs} ms waiting for queue ${queue} to empty: ${JSON.stringify(depth)}`,
            );
          await new Promise((r) => setTimeout(r, 100));
        }
      } finally {
        sqs.destroy();
      }
    },
    async stop() {
      await local.stop();
      if (!options.recordDir) rmSync(dir, { recursive: true, force: true });
      rmSync(buildDir, { recursive: true, force: true });
    },
  };
}
