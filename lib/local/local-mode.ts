/**
 * Local mode: the whole pipeline on one machine. Emulators, the topology from the resolved configuration, the
 * ingest function behind an emulated HTTP API, one event source mapping per consumer, and the schedules.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, SQSEvent } from 'aws-lambda';
import { METRICS_NAMESPACE } from '../../lambda/shared/contracts';
import { CONSUMER_CONFIG_ENV, INGEST_CONFIG_ENV } from '../../lambda/shared/runtime-config';
import type { ResolvedConfig } from '../config';
import { consumerRuntimeConfig, ingestRuntimeConfig } from '../runtime-wiring';
import { LOCAL_CREDENTIALS, localSqsClient } from './clients';
import { startEmulatorsInThread } from './emulator-thread';
import { type Emulators, startEmulators } from './emulators';
import { type BatchReport, EventSourceMapping, type MappingState } from './event-source-mapping';
import { bundleFunction, LocalFunction } from './function-runtime';
import { type HttpApi, PortInUseError, startHttpApi } from './http-api';
import { pausedConsumersPath, readPausedConsumers, writePausedConsumers } from './paused-consumers';
import { type LocalEvent, Reporter } from './reporter';
import { startScheduler } from './scheduler';
import { localSecrets } from './secrets';
import { type LocalState, STATE_FILE_NAME } from './state-file';
import { createTopology, type LocalTopology } from './topology';

/** Options of {@link startLocalMode}. */
export interface LocalModeOptions {
  readonly config: ResolvedConfig;
  /** Where consumer entries and `.hookline/` live. Default: the working directory. */
  readonly projectDir?: string;
  /** HTTP port; 0 picks a free one. Default: `PORT` or 3000. */
  readonly port?: number;
  /** Persistent emulator state. Default: `HOOKLINE_DATA_DIR` (in memory when unset). */
  readonly dataDir?: string;
  /** Where `local.json` is written; `false` writes none. Default: `HOOKLINE_STATE_DIR` or `<project>/.hookline`. */
  readonly stateDir?: string | false;
  /** Where bundles go. Default: `<project>/.hookline/build`. */
  readonly buildDir?: string;
  /** Source of `HOOKLINE_SECRET_*` values. Default: process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly reporter?: Reporter;
  /** Ingest entry; default the toolkit's `lambda/ingest/handler.ts`. */
  readonly ingestEntry?: string;
  /** Concurrent batches per consumer when the configuration sets no `maxConcurrency`. Default 2. */
  readonly consumerConcurrency?: number;
  /** Ingest sandboxes (each serves up to 64 requests at once). Default 2. */
  readonly ingestWorkers?: number;
  /** Long-poll wait of the event source mappings. Default 20 s. */
  readonly waitTimeSeconds?: number;
  readonly region?: string;
  /** Run the emulators in their own worker thread (default) rather than on the main event loop. */
  readonly emulatorThread?: boolean;
}

/** A running local pipeline. */
export interface LocalMode {
  readonly url: string;
  readonly port: number;
  readonly emulators: Emulators;
  readonly topology: LocalTopology;
  readonly reporter: Reporter;
  /** The state file's content (also served at `/_hookline/status`). */
  status(): LocalStatus;
  /** Webhook URL per source. */
  readonly webhookUrls: Readonly<Record<string, string>>;
  /** Pauses or resumes a consumer's mapping; undefined for an unknown consumer. */
  setConsumerEnabled(name: string, enabled: boolean): MappingState | undefined;
  /** Pauses a consumer and resolves once its pollers are idle (no receive pending); false if unknown. */
  pauseConsumer(name: string): Promise<boolean>;
  /** Stops accepting requests, drains in-flight work, stops everything. */
  stop(): Promise<void>;
}

/** `.hookline/local.json`, the contract with the CLI (`./state-file`). */
export type LocalStatus = LocalState;

const DEFAULT_INGEST_ENTRY = fileURLToPath(new URL('../../lambda/ingest/handler.ts', import.meta.url));
const LOCAL_CONCURRENCY_CEILING = 8;

/** Environment every local function gets, as the Lambda service would set it, pointed at the emulators. */
export function functionBaseEnvironment(
  emulators: Pick<Emulators, 'region' | 'endpoints'>,
  functionName: string,
  memorySize: number,
  serviceName: string,
): Record<string, string> {
  return {
    AWS_REGION: emulators.region,
    AWS_DEFAULT_REGION: emulators.region,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_SQS: emulators.endpoints.sqs,
    AWS_ENDPOINT_URL_S3: emulators.endpoints.s3,
    AWS_ENDPOINT_URL_DYNAMODB: emulators.endpoints.dynamodb,
    AWS_LAMBDA_FUNCTION_NAME: functionName,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memorySize),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${functionName}`,
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    // As HooklineFunction sets them: service `ingest` or the queue name, namespace `Hookline`.
    POWERTOOLS_SERVICE_NAME: serviceName,
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    POWERTOOLS_LOG_LEVEL: 'INFO',
    HOOKLINE_LOCAL: '1',
  };
}

/** Starts local mode. On any failure, whatever was started is stopped again before the error propagates. */
export async function startLocalMode(options: LocalModeOptions): Promise<LocalMode> {
  const { config } = options;
  const env = options.env ?? process.env;
  const projectDir = resolve(options.projectDir ?? process.cwd());
  const reporter = options.reporter ?? new Reporter();
  const port = options.port ?? Number(env.PORT ?? 3000);
  const dataDir = options.dataDir ?? env.HOOKLINE_DATA_DIR;
  const buildDir = options.buildDir ?? join(projectDir, '.hookline', 'build');
  const stateDir =
    options.stateDir === undefined
      ? (env.HOOKLINE_STATE_DIR ?? join(projectDir, '.hookline'))
      : options.stateDir;

  const cleanups: (() => Promise<void> | void)[] = [];
  const cleanup = async () => {
    for (const step of cleanups.splice(0).reverse()) {
      try {
        await step();
      } catch {
        // Best effort: every later step still runs.
      }
    }
  };

  try {
    // Fail fast on a taken port, before seconds of emulator start and bundling.
    if (port !== 0) await assertPortFree(port);
    const emulatorOptions = {
      ...(dataDir ? { dataDir: resolve(dataDir) } : {}),
      ...(options.region ? { region: options.region } : {}),
    };
    const emulators =
      options.emulatorThread === false
        ? await startEmulators(emulatorOptions)
        : await startEmulatorsInThread({ ...emulatorOptions, buildDir });
    cleanups.push(() => emulators.stop());
    const topology = await createTopology(config, emulators);
    const sqs: SQSClient = localSqsClient(emulators);
    cleanups.push(() => sqs.destroy());
    const secrets = localSecrets(config.sources, env);

    // --- functions -------------------------------------------------------------------------------------
    const onLog = (line: { functionName: string; line: string }) =>
      reporter.functionLog(line.functionName, line.line);
    const ingestName = `${config.stackName}-ingest`;
    const consumerName = (queue: string) => `${config.stackName}-consumer-${queue}`;
    const consumerEntry = (entry: string) => (isAbsolute(entry) ? entry : join(projectDir, entry));
    // Bundle every function at once (esbuild runs them in parallel).
    const bundles = new Map(
      await Promise.all([
        bundleFunction(options.ingestEntry ?? DEFAULT_INGEST_ENTRY, buildDir, ingestName).then(
          (b) => [ingestName, b] as const,
        ),
        ...config.queues.flatMap((q) =>
          q.consumer
            ? [
                bundleFunction(consumerEntry(q.consumer.entry), buildDir, consumerName(q.name)).then(
                  (b) => [consumerName(q.name), b] as const,
                ),
              ]
            : [],
        ),
      ]),
    );
    const bundleOf = (name: string) => {
      const bundle = bundles.get(name);
      if (!bundle) throw new Error(`no bundle for ${name}`);
      return bundle;
    };
    const ingestBundle = bundleOf(ingestName);
    const ingest = new LocalFunction(
      {
        name: ingestName,
        entry: options.ingestEntry ?? DEFAULT_INGEST_ENTRY,
        handler: 'handler',
        timeoutMs: config.ingest.timeout.toMilliseconds(),
        memorySize: config.ingest.memorySize,
        maxWorkers: options.ingestWorkers ?? 2,
        invocationsPerWorker: 64,
        environment: {
          ...functionBaseEnvironment(emulators, ingestName, config.ingest.memorySize, 'ingest'),
          [INGEST_CONFIG_ENV]: JSON.stringify(ingestRuntimeConfig(config, topology.resources)),
          ...Object.fromEntries(Object.values(secrets).map((s) => [s.envName, s.value])),
        },
      },
      { ...ingestBundle, region: emulators.region, onLog },
    );
    cleanups.push(() => ingest.stop());

    const consumers = new Map<string, { fn: LocalFunction; mapping: EventSourceMapping }>();
    // A pause survives a restart with a data directory, as a disabled mapping stays disabled on AWS.
    const savedPaused = dataDir
      ? readPausedConsumers(resolve(dataDir), (message) => reporter.problem(message))
      : new Set<string>();
    for (const queue of config.queues) {
      const consumer = queue.consumer;
      if (!consumer) continue;
      const name = consumerName(queue.name);
      const entry = consumerEntry(consumer.entry);
      const bundle = bundleOf(name);
      const concurrency = Math.min(
        LOCAL_CONCURRENCY_CEILING,
        consumer.maxConcurrency ?? options.consumerConcurrency ?? 2,
      );
      const fn = new LocalFunction(
        {
          name,
          entry,
          handler: consumer.handler,
          timeoutMs: consumer.timeout.toMilliseconds(),
          memorySize: consumer.memorySize,
          maxWorkers: concurrency,
          environment: {
            ...functionBaseEnvironment(emulators, name, consumer.memorySize, queue.name),
            ...consumer.environment,
            [CONSUMER_CONFIG_ENV]: JSON.stringify(consumerRuntimeConfig(queue, topology.resources)),
          },
        },
        { ...bundle, region: emulators.region, onLog },
      );
      const local = topology.queues[queue.name];
      if (!local) throw new Error(`topology has no queue ${queue.name}`);
      const mapping = new EventSourceMapping({
        name: queue.name,
        queueUrl: local.url,
        queueArn: local.arn,
        region: emulators.region,
        sqs,
        invoke: (event: SQSEvent) => fn.invoke(event),
        batchSize: consumer.batchSize,
        maximumBatchingWindowMs: consumer.maxBatchingWindow.toMilliseconds(),
        concurrency,
        ...(options.waitTimeSeconds !== undefined ? { waitTimeSeconds: options.waitTimeSeconds } : {}),
        onBatch: (report) => reportBatch(reporter, report, queue.maxReceiveCount),
        onPollError: (error) =>
          reporter.problem(`consumer ${queue.name}: ${(error as Error).message ?? error}`),
        startDisabled: savedPaused.has(queue.name),
      });
      consumers.set(queue.name, { fn, mapping });
      cleanups.push(() => fn.stop());
    }

    // Cold-start one sandbox of each function now, so a broken handler or configuration shows at start.
    const warmups = await Promise.all([
      ingest.warm().then((e) => [ingestName, e] as const),
      ...[...consumers.values()].map(({ fn }) => fn.warm().then((e) => [fn.definition.name, e] as const)),
    ]);
    for (const [name, error] of warmups) {
      if (error)
        reporter.problem(`function ${name} failed to initialise: ${error.errorType}: ${error.errorMessage}`);
    }

    // --- HTTP API --------------------------------------------------------------------------------------
    let status: () => LocalStatus = () => {
      throw new Error('not started');
    };
    // Pausing takes effect before this returns: the mapping hands nothing more to the function from here on.
    const setConsumerEnabled = (name: string, enabled: boolean): MappingState | undefined => {
      const consumer = consumers.get(name);
      if (!consumer) return undefined;
      if (enabled) consumer.mapping.enable();
      else void consumer.mapping.disable();
      if (dataDir) {
        const paused = [...consumers].filter(([, c]) => c.mapping.state === 'Disabled').map(([n]) => n);
        writePausedConsumers(resolve(dataDir), paused);
      }
      writeState();
      return consumer.mapping.state;
    };
    const api: HttpApi = await startHttpApi({
      port,
      invokeIngest: (event: APIGatewayProxyEventV2) => ingest.invoke(event),
      throttle: { rateLimit: config.ingest.rateLimit, burstLimit: config.ingest.burstLimit },
      control: { status: () => status(), setConsumerEnabled },
      onRequest: (r) => {
        // A person sees the ingest's own outcome line; tools (JSON) also get the HTTP view with its latency.
        if (r.outcomeLogged && !reporter.json) return;
        reporter.event({
          event: 'received',
          source: r.source,
          status: r.statusCode,
          latencyMs: Math.round(r.latencyMs * 10) / 10,
          ...(r.error ? { reason: r.error } : {}),
        });
      },
    });
    cleanups.push(() => api.close());

    const webhookUrls = Object.fromEntries(
      config.sources.map((s) => [s.name, `${api.url}/webhooks/${s.name}`]),
    );
    status = () => ({
      pid: process.pid,
      webhookBaseUrl: api.url,
      controlUrl: `${api.url}/_hookline`,
      region: emulators.region,
      endpoints: { ...emulators.endpoints },
      queues: Object.fromEntries(
        Object.values(topology.queues).map((q) => [
          q.name,
          {
            url: q.url,
            arn: q.arn,
            deadLetterUrl: q.deadLetterUrl,
            deadLetterArn: q.deadLetterArn,
            fifo: q.fifo,
          },
        ]),
      ),
      consumers: Object.fromEntries([...consumers].map(([name, c]) => [name, { state: c.mapping.state }])),
    });
    const stateFile = stateDir === false ? undefined : join(resolve(stateDir), STATE_FILE_NAME);
    function writeState() {
      if (!stateFile) return;
      mkdirSync(resolve(stateFile, '..'), { recursive: true });
      writeFileSync(stateFile, `${JSON.stringify(status(), null, 2)}\n`);
    }
    writeState();
    if (stateFile) cleanups.push(() => rmSync(stateFile, { force: true }));

    for (const { mapping } of consumers.values()) mapping.start();
    for (const name of savedPaused) {
      if (!consumers.has(name)) continue;
      reporter.info(
        `consumer ${name} is paused (saved in ${pausedConsumersPath(resolve(dataDir ?? '.'))}): resume it with hookline resume ${name} --local`,
      );
    }
    const stopScheduler = startScheduler({
      schedules: config.schedules,
      queueUrls: topology.resources.queueUrls,
      sqs,
      onFire: (schedule, envelope) =>
        reporter.event({
          event: 'scheduled',
          id: envelope.id,
          source: 'schedule',
          type: schedule.type,
          queue: schedule.queue,
        }),
      onError: (schedule, error) =>
        reporter.problem(`schedule ${schedule.name}: ${(error as Error).message ?? error}`),
    });

    let stopping: Promise<void> | undefined;
    return {
      url: api.url,
      port: api.port,
      emulators,
      topology,
      reporter,
      webhookUrls,
      status: () => status(),
      setConsumerEnabled,
      async pauseConsumer(name) {
        const consumer = consumers.get(name);
        if (!consumer) return false;
        setConsumerEnabled(name, false);
        await consumer.mapping.disable();
        return true;
      },
      stop() {
        stopping ??= (async () => {
          // Order matters: no new requests, no new firings, then let the mappings finish their batches.
          await api.close();
          stopScheduler();
          await Promise.all([...consumers.values()].map(({ mapping }) => mapping.stop()));
          await cleanup();
        })();
        return stopping;
      },
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

async function assertPortFree(port: number): Promise<void> {
  const probe = createServer();
  await new Promise<void>((resolvePromise, reject) => {
    probe.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new PortInUseError(port) : error),
    );
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolvePromise()));
  });
}

function reportBatch(reporter: Reporter, report: BatchReport, maxReceiveCount: number): void {
  const { result, disposition } = report;
  // The consumer reported its own records: nothing to add unless the invocation failed as a whole.
  if (result.ok && (result.outcomeLines ?? 0) > 0) return;
  const reason = result.ok
    ? 'reported in batchItemFailures'
    : `${result.kind === 'timeout' ? 'timeout' : result.kind}: ${result.error.errorMessage}`;
  if (result.ok) {
    for (const record of disposition.succeeded) {
      reporter.event({
        event: 'processed',
        id: record.messageId,
        queue: report.consumer,
        latencyMs: result.durationMs,
      });
    }
  }
  for (const record of disposition.failed) {
    const attempt = Number(record.attributes.ApproximateReceiveCount);
    reporter.event({
      // SQS moves the message to the DLQ at its next receive once maxReceiveCount is reached.
      event: attempt >= maxReceiveCount ? 'dead-lettered' : 'retried',
      id: record.messageId,
      queue: report.consumer,
      attempt,
      reason,
    });
  }
}

/** Re-exported for callers that only need the event type. */
export type { LocalEvent };
