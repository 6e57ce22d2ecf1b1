/**
 * Local mode: the whole pipeline on one machine. Emulators, the topology from the resolved configuration, the
 * ingest function behind an emulated HTTP API, one event source mapping per consumer, and the schedules.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, SQSEvent } from 'aws-lambda';
import type { Message } from 'esbuild';
import {
  type BreakerTrip,
  describeBreakerState,
  describeEndedBreaker,
} from '../../lambda/shared/circuit-breaker';
import { METRICS_NAMESPACE } from '../../lambda/shared/contracts';
import { parseEnvelope, type WebhookEnvelope } from '../../lambda/shared/envelope';
import { JOB_SOURCE } from '../../lambda/shared/job';
import { plural } from '../../lambda/shared/plural';
import { jobScheduleNamePrefix, type ProducerSettings } from '../../lambda/shared/producer-config';
import { CONSUMER_CONFIG_ENV, INGEST_CONFIG_ENV } from '../../lambda/shared/runtime-config';
import { deadLetterExpiryAlarmAge, deadLetterLifetime } from '../alarm-conditions';
import { compileCacheDirOf, projectCacheRoot } from '../cache-dir';
import { type QueueDepth, queueDepth } from '../cli/dead-letters';
import { type CommandHints, nextCommand } from '../cli/output';
import { pastOldestMessageAlarm } from '../cli/render';
import { type LocalQueueStatus, type QuietTenantsRead, queueStatuses } from '../cli/status';
import { idempotencyOf, type QueueIdempotency, type QueueTarget } from '../cli/target';
import type { ResolvedConfig } from '../config';
import { humanAge } from '../console/ui/human-age';
import { INGEST_ENTRY, INGEST_ENTRY_FILE } from '../ingest-asset';
import { hooklineModulePath } from '../package-root';
import { consumerRuntimeConfig, ingestRuntimeConfig, producerClaimSettingsOf } from '../runtime-wiring';
import { neverFiresWarning } from '../schedule-runs';
import { type AlarmChange, AlarmWatch, expiringAtStart, type WatchedQueue } from './alarm-watch';
import { writeFileAtomically } from './atomic-write';
import { LocalBreakerCircuits } from './breaker-circuits';
import { sharedFileHasher } from './bundle-cache';
import { LocalCircuitBreaker } from './circuit-breaker';
import { LOCAL_CREDENTIALS, LOCAL_MODE_REQUEST_MS, localS3Client, localSqsClient } from './clients';
import { localModeHints } from './command-hints';
import { lockStateDir, releaseDataDirLock, stateDirInUse } from './data-dir-lock';
import { LocalDeleteFailures } from './delete-failures';
import { startEmulatorsInThread } from './emulator-thread';
import { type Emulators, oldestMessageAges, startEmulators, tenantBacklogs } from './emulators';
import { DEFAULT_JOURNAL_CAPACITY, EventJournal } from './event-journal';
import { type BatchReport, EventSourceMapping, type MappingState } from './event-source-mapping';
import { type LocalFirehose, startLocalFirehose } from './firehose';
import {
  FORWARD_SECRETS_FILE,
  forwardingQueues,
  forwardNotice,
  localForwardEnvironment,
  localForwardSecrets,
  localForwardUrl,
} from './forward';
import { bundle, bundleFunctionWorker, type FunctionDefinition, LocalFunction } from './function-runtime';
import { type HttpApi, listenOrPortInUse, startHttpApi, type WebhookRequestReport } from './http-api';
import {
  jobsFunctionName,
  LOCAL_JOBS_ENDPOINT_ENTRY,
  localJobsEnvironment,
  localJobsTokenProblem,
} from './jobs-endpoint';
import { Journal } from './journal';
import { type JournalMax, journalMaxFromEnv } from './journal-retention';
import { LAMBDA_TZ, ownTimeZoneNotices, runInLambdaTimeZone } from './lambda-time-zone';
import { bundleCacheDirOf, defaultBuildDir, emulatorThreadOptions, localDataDir } from './local-dirs';
import { pausedConsumersPath, readSavedPauses, writePausedConsumers } from './paused-consumers';
import { LOCAL_QUIET_TENANTS_NOTE, quietTenants } from './quiet-tenants';
import {
  type BatchQueue,
  batchNotice,
  batchReceiveEvents,
  type LocalEvent,
  Reporter,
  SelfReportedReceives,
} from './reporter';
import {
  type OneTimeScheduleRecord,
  type OneTimeScheduler,
  scheduleSendNotice,
  startOneTimeScheduler,
  startScheduler,
} from './scheduler';
import { localSecretProblems, localSecrets } from './secrets';
import { bundleSourceFiles, type SourceUse, sourceChangeNotice, watchSourceFiles } from './source-watch';
import { LocalStartProblem } from './start-problem';
import { type StartupPhase, StartupPhases } from './startup-phases';
import {
  isProcessAlive,
  JOURNAL_FILE_NAME,
  type LocalState,
  localStateDir,
  parseLocalState,
  STATE_FILE_NAME,
} from './state-file';
import { createTopology, type LocalTopology, localQueueNameClashes, unconfiguredQueues } from './topology';
import { type UnconfiguredQueues, unconfiguredQueuesNotice } from './unconfigured-queues';
import { slowInit, warmUp } from './warm-up';

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
  /**
   * Where bundles are cached between starts (`<cacheDir>/bundles`, see `bundle-cache.ts`); `false` disables the
   * cache. Default: `HOOKLINE_CACHE_DIR`, else `<project>/node_modules/.cache/hookline` (or
   * `<project>/.hookline/cache` without a node_modules folder).
   */
  readonly cacheDir?: string | false;
  /**
   * The configuration file as the operator named it (`hookline dev --config`, else `HOOKLINE_CONFIG`), carried as
   * `--config` by the `hookline` commands local mode's notices name.
   * @default - none: the notices name the default configuration, as the CLI finds it without the flag
   */
  readonly configFile?: string;
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
  /**
   * Emulators already starting for this project with these options (`startDefaultEmulators` in
   * `local-dirs.ts`: `npm start` starts them before loading local mode). Local mode owns and stops them.
   * Default: local mode starts its own.
   */
  readonly emulators?: Promise<Emulators>;
  /** How long the archive's Firehose stand-in buffers records before it writes an object. Default 1 s. */
  readonly archiveBufferMs?: number;
  /**
   * The clock local mode judges every time by (tests move it forward): when one-time job schedules come due, whether
   * a configured schedule can fire again, the age of each queue's oldest message and oldest dead letter (what
   * `hookline status --local` shows and the alarms it announces weigh), the circuit breakers' windows and the
   * periods of failed deletes. Default: Date.now.
   */
  readonly clock?: () => number;
  /**
   * Files besides the consumers' sources whose change local mode reports as needing a restart (`npm start`
   * gives the configuration file).
   */
  readonly watchFiles?: readonly string[];
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
  /** When each step of the start began and ended (ms from the start; steps overlap). */
  readonly startup: readonly StartupPhase[];
  /** Webhook URL per source. */
  readonly webhookUrls: Readonly<Record<string, string>>;
  /** Pauses or resumes a consumer's mapping; undefined for an unknown consumer. */
  setConsumerEnabled(name: string, enabled: boolean): MappingState | undefined;
  /** Pauses a consumer and resolves once its pollers are idle (no receive pending); false if unknown. */
  pauseConsumer(name: string): Promise<boolean>;
  /** The archive's Firehose stand-in, when archiving is on. */
  readonly archive?: LocalFirehose;
  /** Stops accepting requests, drains in-flight work, stops everything. */
  stop(): Promise<void>;
}

/** `.hookline/local.json`, the contract with the CLI (`./state-file`). */
export type LocalStatus = LocalState;

const DEFAULT_INGEST_ENTRY = hooklineModulePath(INGEST_ENTRY);
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
    // What the variable reads in Lambda; the sandboxes run in UTC because local mode's process does.
    TZ: LAMBDA_TZ,
    // As HooklineFunction sets them: service `ingest` or the queue name, namespace `Hookline`.
    POWERTOOLS_SERVICE_NAME: serviceName,
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    POWERTOOLS_LOG_LEVEL: 'INFO',
    HOOKLINE_LOCAL: '1',
  };
}

/** The options with their defaults applied. */
interface LocalSettings {
  readonly options: LocalModeOptions;
  readonly config: ResolvedConfig;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly projectDir: string;
  readonly reporter: Reporter;
  readonly port: number;
  /** Absolute; undefined keeps the emulators in memory. */
  readonly dataDir: string | undefined;
  readonly buildDir: string;
  /** Absolute root of the caches, or undefined without them. */
  readonly cacheRoot: string | undefined;
  /** Absolute folder of the bundle cache, or undefined without one. */
  readonly bundleCacheDir: string | undefined;
  /** Absolute folder of Node's compile cache for the worker threads, or undefined without one. */
  readonly compileCacheDir: string | undefined;
  /** Absolute path of `local.json`, or undefined to write none. */
  readonly stateFile: string | undefined;
  /** Absolute path of the event journal (next to the state file), or undefined to keep none. */
  readonly journalFile: string | undefined;
  /** What the journal keeps (`HOOKLINE_JOURNAL_MAX`), or why that setting cannot be used. */
  readonly journalMax: JournalMax;
  /** The flags (`--local`, and `--config` when given) of the `hookline` commands its notices name. */
  readonly hints: CommandHints;
  /**
   * Epoch milliseconds by which every age and every due time is judged (`options.clock`, else the system's): one
   * clock, so no notice, alarm or status row weighs an age by another.
   */
  readonly clock: () => number;
}

/** What every local function is built from. */
interface FunctionContext {
  readonly settings: LocalSettings;
  readonly emulators: Emulators;
  readonly topology: LocalTopology;
  readonly bundleOf: (name: string) => { bundleUrl: string; workerUrl: string };
  readonly onLog: (line: { functionName: string; line: string }) => void;
  readonly archive: LocalFirehose | undefined;
  /** Pauses a consumer whose circuit breaker tripped (bound to the control once it exists). */
  readonly tripBreaker: (queue: string, trip: BreakerTrip) => void;
  /** Counts the consumers' failed deletes, as the stack's `DeleteFailed` alarm does. */
  readonly deleteFailures: LocalDeleteFailures;
  /** Each forwarding queue's signing secret. */
  readonly forwardSecrets: Readonly<Record<string, string>>;
}

interface LocalConsumer {
  readonly fn: LocalFunction;
  readonly mapping: EventSourceMapping;
  /** Its circuit breaker, when it has one. */
  readonly breaker?: LocalCircuitBreaker;
}

/** Starts local mode. On any failure, whatever was started is stopped again before the error propagates. */
export async function startLocalMode(options: LocalModeOptions): Promise<LocalMode> {
  const settings = resolveSettings(options);
  refuseUnusableEnvironment(settings);
  runInLambdaTimeZone();
  const cleanups = new Cleanups();
  try {
    return await startPipeline(settings, cleanups);
  } catch (error) {
    await cleanups.run();
    throw error;
  }
}

/**
 * Everything local mode cannot use (`PORT`, `HOOKLINE_JOURNAL_MAX`, signing secrets that could verify nothing, queue names that would share
 * one emulated queue), listed at once before anything starts.
 */
function refuseUnusableEnvironment(settings: LocalSettings): void {
  const problems = [
    portProblem(settings),
    secretsProblem(settings),
    ...localQueueNameClashes(settings.config.stackName, settings.config.queues),
    settings.config.jobsEndpoint ? localJobsTokenProblem(settings.env) : undefined,
    'problem' in settings.journalMax ? settings.journalMax.problem : undefined,
  ].filter((p) => p !== undefined);
  if (problems.length > 0) throw new LocalStartProblem(problems.join('\n'));
}

const DEFAULT_PORT = 3000;

/** The port `PORT` names: digits only, so a typo fails the start instead of becoming NaN or a random port. */
function portFromEnv(env: Readonly<Record<string, string | undefined>>): number {
  const value = env.PORT;
  if (value === undefined) return DEFAULT_PORT;
  return /^\d{1,5}$/.test(value) && Number(value) <= 65535 ? Number(value) : Number.NaN;
}

function portProblem(settings: LocalSettings): string | undefined {
  if (!Number.isNaN(settings.port)) return undefined;
  return `PORT=${JSON.stringify(settings.env.PORT)} is not a port: set PORT to a number from 0 to 65535 (0 picks a free one), or unset it for ${DEFAULT_PORT}`;
}

function secretsProblem(settings: LocalSettings): string | undefined {
  const problems = localSecretProblems(settings.config.sources, settings.env);
  if (problems.length === 0) return undefined;
  return `unusable signing secret${problems.length > 1 ? 's' : ''} in the environment:\n${problems.map((p) => `  - ${p}`).join('\n')}\nFix: set each to the secret exactly as the sender shows it (or unset it for the development default), then start again`;
}

function resolveSettings(options: LocalModeOptions): LocalSettings {
  const env = options.env ?? process.env;
  const projectDir = resolve(options.projectDir ?? process.cwd());
  const cacheRoot = cacheDir(options, env, projectDir);
  const stateDir = options.stateDir === undefined ? localStateDir(env, projectDir) : options.stateDir;
  return {
    options,
    config: options.config,
    env,
    projectDir,
    reporter: options.reporter ?? new Reporter(),
    port: options.port ?? portFromEnv(env),
    dataDir: localDataDir(env, options.dataDir),
    buildDir: options.buildDir ?? defaultBuildDir(projectDir),
    cacheRoot,
    bundleCacheDir: cacheRoot && bundleCacheDirOf(cacheRoot),
    compileCacheDir: cacheRoot && compileCacheDirOf(cacheRoot),
    stateFile: stateDir === false ? undefined : join(resolve(stateDir), STATE_FILE_NAME),
    journalFile: stateDir === false ? undefined : join(resolve(stateDir), JOURNAL_FILE_NAME),
    journalMax: journalMaxFromEnv(env),
    hints: localModeHints(options.configFile),
    clock: options.clock ?? Date.now,
  };
}

/** The cache root: the option, else the project's (`projectCacheRoot`). */
function cacheDir(
  options: LocalModeOptions,
  env: Readonly<Record<string, string | undefined>>,
  projectDir: string,
): string | undefined {
  if (options.cacheDir === false) return undefined;
  return options.cacheDir ? resolve(options.cacheDir) : projectCacheRoot(projectDir, env);
}

/** Steps run in reverse order on stop or on a failed start; a failing step never keeps the others from running. */
class Cleanups {
  private readonly steps: (() => Promise<void> | void)[] = [];

  push(step: () => Promise<void> | void): void {
    this.steps.push(step);
  }

  async run(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step();
      } catch {
        // Best effort: every later step still runs.
      }
    }
  }
}

async function startPipeline(settings: LocalSettings, cleanups: Cleanups): Promise<LocalMode> {
  const { config, reporter } = settings;
  const phases = new StartupPhases();
  adoptEmulators(settings.options, cleanups);
  const leaveStateDir = claimLocalFiles(settings, cleanups);
  // Fail fast on a taken port, before seconds of emulator start and bundling.
  if (settings.port !== 0) await phases.time('port check', () => assertPortFree(settings.port));
  // A pause survives a restart with a data directory, as a disabled mapping stays disabled on AWS.
  const saved = savedPauses(settings);
  // Bundling needs nothing from the emulators: esbuild (its own process) works while they start.
  const bundling = phases.time('bundles', () => bundleFunctions(settings));
  bundling.catch(() => undefined);
  const emulators = await phases.time('emulators', () => startLocalEmulators(settings));
  cleanups.push(() => emulators.stop());
  const started = watchEmulators(settings, emulators);
  const topology = await phases.time('topology', () => createLocalTopology(settings, emulators));
  const sqs: SQSClient = localSqsClient(emulators);
  cleanups.push(() => sqs.destroy());
  reportUnconfiguredQueues(settings, sqs, topology, cleanups);
  const journal = startJournal(settings, cleanups);
  const archive = await startArchive(settings, emulators, topology, cleanups);
  const oneTime = await startJobSchedules(settings, emulators, topology, sqs);
  cleanups.push(() => oneTime.stop());
  const forwards = startForwards(settings);
  for (const notice of ownTimeZoneNotices(config.queues)) reporter.problem(notice);
  let control: LocalControl | undefined;
  const context: FunctionContext = {
    settings,
    emulators,
    topology,
    archive,
    bundleOf: await bundling,
    onLog: (line) => reporter.functionLog(line.functionName, line.line),
    tripBreaker: (queue, trip) => control?.tripBreaker(queue, trip),
    deleteFailures: watchDeleteFailures(settings, cleanups),
    forwardSecrets: forwards.secrets,
  };
  const ingest = createIngest(context);
  cleanups.push(() => ingest.stop());
  const jobs = createJobsEndpoint(context, oneTime.url);
  if (jobs) cleanups.push(() => jobs.stop());
  const consumers = createConsumers(context, sqs, saved.paused, cleanups);
  await phases.time('sandboxes', () =>
    warmUp(reporter, [ingest, ...(jobs ? [jobs] : []), ...[...consumers.values()].map(({ fn }) => fn)]),
  );

  control = new LocalControl(settings, emulators, topology, consumers, archive, oneTime.url, sqs);
  control.restoreBreakerTrips(saved.paused, saved.trips);
  const api = await phases.time('http api', () =>
    startApi(settings, ingest, control, journal, () => scheduledJobsByQueue(oneTime.list(), topology), jobs),
  );
  if (reporter.verbose) reporter.info(`start: ${phases.describe()} ms`);
  cleanups.push(() => api.close());
  control.attach(api.url);
  if (leaveStateDir) cleanups.push(leaveStateDir);

  const { alarmWatch, stopScheduler } = await startWork(settings, control, consumers, context, sqs, cleanups);
  started.done = true;
  return runningLocalMode({
    startup: phases.list(),
    api,
    webhookUrls: webhookUrlsOf(config, api.url),
    emulators,
    topology,
    reporter,
    control,
    consumers,
    stopScheduler,
    cleanups,
    archive,
    alarmWatch,
    journal,
    inMemory: settings.dataDir === undefined ? { oneTime } : undefined,
  });
}

/**
 * Sets the started pipeline to work, once everything it reaches answers: the consumers poll, breakers watch,
 * alarms and schedules run, and a change to a function's code restarts its sandboxes.
 */
async function startWork(
  settings: LocalSettings,
  control: LocalControl,
  consumers: ReadonlyMap<string, LocalConsumer>,
  context: FunctionContext,
  sqs: SQSClient,
  cleanups: Cleanups,
) {
  for (const { mapping } of consumers.values()) mapping.start();
  control.startCircuits();
  cleanups.push(() => control.stopCircuits());
  announceNotStopped(settings, context.emulators);
  announcePausedConsumers(settings, control, consumers);
  const alarmWatch = watchAlarms(settings, control, cleanups);
  cleanups.push(await watchForRestart(settings, consumers, context));
  const stopScheduler = startSchedules(settings, context.topology, sqs);
  return { alarmWatch, stopScheduler };
}

/** Each source's webhook URL on the emulated API. */
function webhookUrlsOf(config: ResolvedConfig, apiUrl: string): Record<string, string> {
  return Object.fromEntries(config.sources.map((s) => [s.name, `${apiUrl}/webhooks/${s.name}`]));
}

/**
 * Where forwarding secrets are kept: the data directory, else the state directory (a destination configured with
 * one keeps verifying across restarts in memory too), else nowhere.
 */
function forwardSecretsFolder(settings: LocalSettings): string | undefined {
  return settings.dataDir ?? (settings.stateFile ? dirname(settings.stateFile) : undefined);
}

/** The forwarding queues' secrets, kept or new, and one start line each saying where its events go. */
function startForwards(settings: LocalSettings): ReturnType<typeof localForwardSecrets> {
  const queues = forwardingQueues(settings.config);
  const kept = localForwardSecrets(
    queues.map((q) => q.queue),
    forwardSecretsFolder(settings),
    settings.hints,
  );
  for (const { queue, forward } of queues) {
    settings.reporter.info(forwardNotice(queue, forward, kept.file, settings.hints));
  }
  return kept;
}

/** The consumers paused in the data directory, and what tripped those the circuit breaker paused. */
function savedPauses(settings: LocalSettings): {
  paused: Set<string>;
  trips: Map<string, BreakerTrip>;
} {
  const { dataDir } = settings;
  if (!dataDir) return { paused: new Set(), trips: new Map() };
  return readSavedPauses(dataDir);
}

/** Every configured consumer, those saved as paused starting disabled. */
function createConsumers(
  context: FunctionContext,
  sqs: SQSClient,
  savedPaused: ReadonlySet<string>,
  cleanups: Cleanups,
): Map<string, LocalConsumer> {
  const consumers = new Map<string, LocalConsumer>();
  for (const queue of context.settings.config.queues) {
    if (!queue.consumer) continue;
    const consumer = createConsumer(context, queue, queue.consumer, sqs, savedPaused.has(queue.name));
    consumers.set(queue.name, consumer);
    cleanups.push(() => consumer.fn.stop());
  }
  return consumers;
}

/**
 * Says once per file when a consumer's source or a watched file (the configuration) changes or is deleted while
 * local mode runs: it keeps running what it started with. Returns the step that stops watching.
 */
async function watchForRestart(
  settings: LocalSettings,
  consumers: ReadonlyMap<string, LocalConsumer>,
  context: FunctionContext,
): Promise<() => void> {
  // Watching before the start is announced: an edit made right after it is reported too.
  // A forwarding consumer runs hookline's own code, none of it the project's to edit.
  const forwarding = new Set(forwardingQueues(settings.config).map((f) => f.queue));
  const watched = [...consumers].filter(([queue]) => !forwarding.has(queue));
  const queues = watched.map(([queue]) => queue);
  const sources = await Promise.all(
    watched.map(([, { fn }]) =>
      bundleSourceFiles(fileURLToPath(context.bundleOf(fn.definition.name).bundleUrl)),
    ),
  );
  const entries = new Map(
    settings.config.queues.flatMap((q) =>
      q.consumer ? [[q.name, resolve(consumerEntry(settings, q.consumer.entry))] as const] : [],
    ),
  );
  const useOf = (file: string): SourceUse => ({
    entryOf: queues.filter((queue) => entries.get(queue) === file),
    importedBy: queues.filter((queue, i) => entries.get(queue) !== file && sources[i]?.includes(file)),
  });
  const shown = (file: string): string => relative(settings.projectDir, file) || file;
  return watchSourceFiles(
    [...sources.flat(), ...(settings.options.watchFiles ?? [])],
    (file, change) => settings.reporter.problem(sourceChangeNotice(shown(file), change, useOf(file))),
    {
      onUnwatched: (files, reason) =>
        settings.reporter.problem(
          `cannot watch ${unwatchedList(files.map(shown))} for changes: ${reason}; an edit to ${files.length === 1 ? 'it' : 'them'} will not be reported, so restart local mode after one`,
        ),
    },
  );
}

/** The first few files named, the rest counted: the watch limit refuses every file at once. */
function unwatchedList(files: readonly string[]): string {
  const named = files.slice(0, 3).join(', ');
  return files.length > 3 ? `${named} and ${files.length - 3} more files` : named;
}

/** Emulators handed over while starting are local mode's to stop, also when its start fails before they are ready. */
function adoptEmulators(options: LocalModeOptions, cleanups: Cleanups): void {
  const starting = options.emulators;
  if (starting) cleanups.push(async () => (await starting.catch(() => undefined))?.stop());
}

function startLocalEmulators(settings: LocalSettings): Promise<Emulators> {
  const { options } = settings;
  if (options.emulators) return options.emulators;
  const threadOptions = emulatorThreadOptions({ ...settings, region: options.region });
  if (options.emulatorThread !== false) return startEmulatorsInThread(threadOptions);
  const { buildDir: _, bundleCacheDir: __, compileCacheDir: ___, ...inProcess } = threadOptions;
  return startEmulators(inProcess);
}

function ingestFunctionName(config: ResolvedConfig): string {
  return `${config.stackName}-ingest`;
}

function consumerFunctionName(config: ResolvedConfig, queue: string): string {
  return `${config.stackName}-consumer-${queue}`;
}

function ingestEntry(settings: LocalSettings): string {
  return settings.options.ingestEntry ?? DEFAULT_INGEST_ENTRY;
}

/** A consumer entry as the configuration gives it, relative to the project. */
function consumerEntry(settings: LocalSettings, entry: string): string {
  return isAbsolute(entry) ? entry : join(settings.projectDir, entry);
}

/** Bundles every function at once (esbuild runs them in parallel); returns the lookup of a bundle by name. */
async function bundleFunctions(settings: LocalSettings): Promise<FunctionContext['bundleOf']> {
  const { config, buildDir, bundleCacheDir } = settings;
  const entries: [name: string, entry: string][] = [
    [ingestFunctionName(config), ingestEntry(settings)],
    ...config.queues.flatMap((q): [string, string][] =>
      q.consumer ? [[consumerFunctionName(config, q.name), consumerEntry(settings, q.consumer.entry)]] : [],
    ),
    ...(config.jobsEndpoint
      ? [[jobsFunctionName(config), LOCAL_JOBS_ENDPOINT_ENTRY] as [string, string]]
      : []),
  ];
  const options = { cacheDir: bundleCacheDir, hasher: sharedFileHasher() };
  const worker = bundleFunctionWorker(buildDir, options);
  const builds = entries.map(async ([name, entry]) => {
    // The ingest function gets a folder (entry plus chunks), as its deployed asset.
    const splitting = name === ingestFunctionName(config);
    const outFile = join(resolve(buildDir), splitting ? join(name, INGEST_ENTRY_FILE) : `${name}.mjs`);
    try {
      await bundle(resolve(entry), outFile, { ...options, splitting });
    } catch (error) {
      throw buildProblem(name, entry, error);
    }
    return [name, pathToFileURL(outFile).href] as const;
  });
  await everyBuildOrProblem([worker, ...builds]);
  const [workerUrl, bundled] = await Promise.all([worker, Promise.all(builds)]);
  const bundles = new Map(bundled);
  return (name) => {
    const bundleUrl = bundles.get(name);
    if (!bundleUrl) throw new Error(`no bundle for ${name}`);
    return { bundleUrl, workerUrl };
  };
}

/** Waits for every build; when any fails, one problem names every function that does not build. */
async function everyBuildOrProblem(builds: readonly Promise<unknown>[]): Promise<void> {
  const settled = await Promise.allSettled(builds);
  const failures = settled.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (failures.length === 0) return;
  const problems = failures.filter((f) => f instanceof LocalStartProblem);
  if (problems.length < failures.length) throw failures.find((f) => !(f instanceof LocalStartProblem));
  throw new LocalStartProblem(
    `${problems.map((p) => p.message).join('\n')}\nFix: correct the code (or the entry in the configuration), then start again`,
  );
}

/** esbuild's errors for a function that does not build, each as `file:line:column: text`, without its stack. */
function buildProblem(name: string, entry: string, error: unknown): unknown {
  const errors = (error as { errors?: unknown }).errors;
  if (!Array.isArray(errors) || errors.length === 0) return error;
  const lines = (errors as Message[]).map((e) => {
    const where = e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ` : '';
    return `  ${where}${e.text}`;
  });
  return new LocalStartProblem(`function ${name} (${entry}) does not build:\n${lines.join('\n')}`);
}

function createIngest(context: FunctionContext): LocalFunction {
  const { settings, emulators, topology } = context;
  const { config, options } = settings;
  const name = ingestFunctionName(config);
  const secrets = localSecrets(config.sources, settings.env);
  return new LocalFunction(
    {
      name,
      entry: ingestEntry(settings),
      handler: 'handler',
      timeoutMs: config.ingest.timeout.toMilliseconds(),
      memorySize: config.ingest.memorySize,
      maxWorkers: options.ingestWorkers ?? 2,
      invocationsPerWorker: 64,
      environment: {
        ...functionBaseEnvironment(emulators, name, config.ingest.memorySize, 'ingest'),
        [INGEST_CONFIG_ENV]: JSON.stringify(ingestRuntimeConfig(config, topology.resources)),
        ...(context.archive ? { AWS_ENDPOINT_URL_FIREHOSE: context.archive.endpoint } : {}),
        ...Object.fromEntries(Object.values(secrets).map((s) => [s.envName, s.value])),
      },
    },
    { ...context.bundleOf(name), ...sandboxOptions(context) },
  );
}

/** The jobs endpoint's function, when configured: the stack's handler with a producer's environment. */
function createJobsEndpoint(context: FunctionContext, schedulerUrl: string): LocalFunction | undefined {
  const { settings, emulators, topology } = context;
  const { config } = settings;
  if (!config.jobsEndpoint) return undefined;
  const name = jobsFunctionName(config);
  return new LocalFunction(
    {
      name,
      entry: LOCAL_JOBS_ENDPOINT_ENTRY,
      handler: 'handler',
      timeoutMs: config.ingest.timeout.toMilliseconds(),
      memorySize: 256,
      maxWorkers: 1,
      invocationsPerWorker: 64,
      environment: {
        ...functionBaseEnvironment(emulators, name, 256, 'jobs-endpoint'),
        ...localJobsEnvironment(config, config.jobsEndpoint, topology, schedulerUrl, settings.env),
      },
    },
    { ...context.bundleOf(name), ...sandboxOptions(context) },
  );
}

/** What every function's sandboxes share: the region, the compile cache and where their output goes. */
function sandboxOptions(context: FunctionContext) {
  return {
    region: context.emulators.region,
    compileCacheDir: context.settings.compileCacheDir,
    onLog: context.onLog,
    // Lambda's init limit holds at every cold start: one after the start's is named as that one is.
    onSlowInit: (definition: FunctionDefinition, initLimitMs: number) =>
      context.settings.reporter.problem(slowInit(definition, initLimitMs, 'later')),
  };
}

type QueueConfig = ResolvedConfig['queues'][number];

/** A consumer function's environment, as the deployed function's: the base, the user's, its configuration. */
function consumerEnvironment(
  context: FunctionContext,
  queue: QueueConfig,
  consumer: NonNullable<QueueConfig['consumer']>,
  name: string,
): Record<string, string> {
  const { settings, emulators, topology } = context;
  return {
    ...functionBaseEnvironment(emulators, name, consumer.memorySize, queue.name),
    ...consumer.environment,
    [CONSUMER_CONFIG_ENV]: JSON.stringify(consumerRuntimeConfig(queue, topology.resources)),
    ...(consumer.forward
      ? localForwardEnvironment(
          consumer.forward,
          context.forwardSecrets[queue.name] ?? '',
          settings.config.ingest.secretCache,
        )
      : {}),
    ...(context.archive ? { AWS_ENDPOINT_URL_FIREHOSE: context.archive.endpoint } : {}),
  };
}

/** A consumer function and the event source mapping that feeds it from its queue. */
function createConsumer(
  context: FunctionContext,
  queue: QueueConfig,
  consumer: NonNullable<QueueConfig['consumer']>,
  sqs: SQSClient,
  startDisabled: boolean,
): LocalConsumer {
  const { settings, emulators, topology } = context;
  const { options, reporter } = settings;
  const name = consumerFunctionName(settings.config, queue.name);
  const concurrency = Math.min(
    LOCAL_CONCURRENCY_CEILING,
    consumer.maxConcurrency ?? options.consumerConcurrency ?? 2,
  );
  const selfReported = new SelfReportedReceives();
  const fn = new LocalFunction(
    {
      name,
      entry: consumerEntry(settings, consumer.entry),
      handler: consumer.handler,
      timeoutMs: consumer.timeout.toMilliseconds(),
      memorySize: consumer.memorySize,
      maxWorkers: concurrency,
      environment: consumerEnvironment(context, queue, consumer, name),
    },
    {
      ...context.bundleOf(name),
      ...sandboxOptions(context),
      // The consumer is the user's code: its own output is shown by default, attributed to its queue.
      onLog: (line) => {
        breaker?.observeLine(line.line);
        context.deleteFailures.observeLine(queue.name, line.line);
        reporter.functionLog(line.functionName, line.line, queue.name, selfReported);
      },
    },
  );
  const breaker = consumer.circuitBreaker
    ? new LocalCircuitBreaker({
        rule: {
          failureRatio: consumer.circuitBreaker.failureRatio,
          minimumRecords: consumer.circuitBreaker.minimumRecords,
          windowMinutes: consumer.circuitBreaker.window.toMinutes(),
        },
        running: () => mapping.state === 'Enabled',
        trip: (trip) => context.tripBreaker(queue.name, trip),
        now: settings.clock,
      })
    : undefined;
  const local = topology.queues[queue.name];
  if (!local) throw new Error(`topology has no queue ${queue.name}`);
  const mapping: EventSourceMapping = new EventSourceMapping({
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
    onBatch: (report) =>
      reportBatch(
        reporter,
        report,
        {
          maxReceiveCount: queue.maxReceiveCount,
          fifo: queue.fifo,
          idempotent: consumer.idempotency !== undefined,
          visibilityTimeoutSeconds: queue.visibilityTimeout.toSeconds(),
        },
        selfReported,
      ),
    onPollError: pollErrorReporter(reporter, emulators, queue.name, () => mapping.stopping),
    startDisabled,
    ...(queue.tenants ? { fairness: { visibilityTimeoutSeconds: queue.visibilityTimeout.toSeconds() } } : {}),
  });
  return { fn, mapping, ...(breaker ? { breaker } : {}) };
}

/** Pause and resume, and the status (served by the control API and written to `local.json` for the CLI). */
class LocalControl {
  private url: string | undefined;
  /** What tripped each consumer the circuit breaker paused, and its circuit, until it closes or an operator acts. */
  private readonly circuits: LocalBreakerCircuits;

  constructor(
    private readonly settings: LocalSettings,
    private readonly emulators: Emulators,
    private readonly topology: LocalTopology,
    private readonly consumers: ReadonlyMap<string, LocalConsumer>,
    private readonly archive: LocalFirehose | undefined,
    private readonly schedulerUrl: string,
    private readonly sqs: SQSClient,
  ) {
    this.circuits = new LocalBreakerCircuits({
      consumers,
      settingsOf: (queue) => {
        const breaker = settings.config.queues.find((q) => q.name === queue)?.consumer?.circuitBreaker;
        if (!breaker) return undefined;
        const halfOpenAfterMinutes = breaker.halfOpenAfter?.toMinutes();
        return {
          windowMinutes: breaker.window.toMinutes(),
          ...(halfOpenAfterMinutes ? { halfOpenAfterMinutes } : {}),
        };
      },
      now: settings.clock,
      alarm: (change) => settings.reporter.alarm(change),
      changed: () => this.saveConsumers(),
    });
  }

  /** Starts moving the breakers' circuits on (probes, closes). */
  startCircuits(): void {
    this.circuits.start();
  }

  stopCircuits(): void {
    this.circuits.stop();
  }

  /** What `hookline status --local` shows, read here so the CLI loads no AWS SDK to show it. */
  async queueStatuses(): Promise<LocalQueueStatus[]> {
    const { rows, unreadable } = await queueStatuses(
      {
        depth: (url) => this.queueDepth(url),
        consumer: async (queue) => this.consumers.get(queue.name)?.mapping.state ?? null,
        breakerTrip: async (queue) => this.circuits.get(queue.name),
        oldestAges: async (queues) => ({
          ages: await oldestMessageAges(
            this.emulators.endpoints.sqs,
            queues,
            this.settings.clock(),
            AbortSignal.timeout(LOCAL_MODE_REQUEST_MS),
          ),
          // The emulator leaves out what SQS's age leaves out: a standard queue's messages received 3 times or more.
          note: 'no message waiting or in flight',
          noteWhenHolding: 'only messages received 3 times or more, which SQS leaves out of the age',
          quiet: await this.quietTenantsOf(queues),
        }),
      },
      Object.values(this.topology.queues).map((queue) => ({
        ...queue,
        oldestMessageAgeAlarmSeconds: this.alarmAgeSeconds(queue.name),
        idempotency: this.idempotencyOf(queue.name),
      })),
    );
    // Its own emulators refuse local mode nothing: an unknown part would be a bug, never shown as a count.
    if (unreadable.length > 0) throw new Error(`local mode could not read ${JSON.stringify(unreadable)}`);
    return rows as LocalQueueStatus[];
  }

  /**
   * What the alarm watch reads: {@link queueStatuses}, and the age of each queue's oldest dead letter against the age
   * at which the stack's `DeadLettersExpiring` alarm fires, read from the emulator as that alarm reads SQS's metric.
   */
  async watchedQueues(): Promise<WatchedQueue[]> {
    const rows = await this.queueStatuses();
    const ages = await oldestMessageAges(
      this.emulators.endpoints.sqs,
      Object.values(this.topology.queues).map((queue) => ({ name: queue.name, url: queue.deadLetterUrl })),
      this.settings.clock(),
      AbortSignal.timeout(LOCAL_MODE_REQUEST_MS),
    );
    return rows.map((row) => {
      const queue = this.settings.config.queues.find((q) => q.name === row.queue);
      if (!queue) return row;
      const lifetime = deadLetterLifetime(queue);
      const deadLetterExpiry = {
        ageSeconds: ages.get(row.queue) ?? null,
        lifetimeSeconds: lifetime.toSeconds(),
        alarmAgeSeconds: deadLetterExpiryAlarmAge(lifetime).toSeconds(),
      };
      return { ...row, deadLetterExpiry };
    });
  }

  /**
   * Each fair queue's quiet tenants, as SQS's quiet-tenant metrics count them (./quiet-tenants): the emulator
   * counts each tenant's messages, the consumer's tenant lanes say which of those wait rather than run.
   */
  private async quietTenantsOf(queues: readonly QueueTarget[]): Promise<Map<string, QuietTenantsRead>> {
    const fair = queues.filter(
      (queue) => this.settings.config.queues.find((q) => q.name === queue.name)?.tenants,
    );
    const now = this.settings.clock();
    const read = await Promise.all(
      fair.map(async (queue): Promise<[string, QuietTenantsRead]> => {
        const backlogs = await tenantBacklogs(
          this.emulators.endpoints.sqs,
          queue.url,
          AbortSignal.timeout(LOCAL_MODE_REQUEST_MS),
        );
        const held = this.consumers.get(queue.name)?.mapping.waitingByTenant() ?? new Map<string, number>();
        return [queue.name, { ...quietTenants(backlogs, held, now), note: LOCAL_QUIET_TENANTS_NOTE }];
      }),
    );
    return new Map(read);
  }

  /** A queue's oldest-message alarm threshold once deployed (its `oldestMessageAgeAlarm`). */
  private alarmAgeSeconds(queue: string): number | undefined {
    return this.settings.config.queues.find((q) => q.name === queue)?.oldestMessageAgeAlarm.toSeconds();
  }

  private idempotencyOf(queue: string): QueueIdempotency | null | undefined {
    const configured = this.settings.config.queues.find((q) => q.name === queue);
    return configured && idempotencyOf(configured);
  }

  /**
   * The data directory's queues the configuration does not have that hold messages (what start names), read now:
   * `status --local` and the console name them too, so a queue renamed with messages in it is not silently gone
   * from every view after the start line scrolled away. Undefined without a data directory, or with none to name.
   */
  async unconfiguredQueues(): Promise<UnconfiguredQueues | undefined> {
    const { dataDir } = this.settings;
    if (!dataDir) return undefined;
    // The queues' own rows answer without it: a failed look for strays must not take status down with it.
    const queues = await unconfiguredQueues(this.sqs, this.topology).catch(() => []);
    return queues.length > 0 ? { dataDir, queues } : undefined;
  }

  /**
   * A queue's depth as SQS would report it: messages a fair mapping has read ahead into its tenant lanes are
   * waiting, not being processed, so they count as visible (read after the emulator's counts, so a message
   * received in between is never counted twice).
   */
  private async queueDepth(url: string): Promise<QueueDepth> {
    const depth = await queueDepth(this.sqs, url);
    const queue = Object.values(this.topology.queues).find((q) => q.url === url);
    const waiting = queue ? (this.consumers.get(queue.name)?.mapping.waiting ?? 0) : 0;
    if (waiting === 0) return depth;
    const held = Math.min(waiting, depth.inFlight);
    return { ...depth, visible: depth.visible + held, inFlight: depth.inFlight - held };
  }

  /** Writes the archive's buffered records now (replay reads the archive right after). */
  async flushArchive(): Promise<boolean> {
    if (!this.archive) return false;
    await this.archive.flush();
    return true;
  }

  /** The API listens at `url`: the status is complete, so it is written. */
  attach(url: string): void {
    this.url = url;
    this.writeState();
  }

  status(): LocalStatus {
    const url = this.url;
    if (url === undefined) throw new Error('not started');
    return {
      pid: process.pid,
      webhookBaseUrl: url,
      controlUrl: `${url}/_hookline`,
      region: this.emulators.region,
      endpoints: { ...this.emulators.endpoints, scheduler: this.schedulerUrl },
      queues: Object.fromEntries(
        Object.values(this.topology.queues).map((q) => [
          q.name,
          {
            url: q.url,
            arn: q.arn,
            deadLetterUrl: q.deadLetterUrl,
            deadLetterArn: q.deadLetterArn,
            fifo: q.fifo,
            // A producer refuses a job asking for more attempts than its queue's limit.
            maxReceiveCount: this.settings.config.queues.find((c) => c.name === q.name)?.maxReceiveCount,
          },
        ]),
      ),
      consumers: Object.fromEntries(
        [...this.consumers].map(([name, c]) => {
          const trip = this.circuits.get(name);
          return [name, { state: c.mapping.state, ...(trip ? { circuitBreaker: trip } : {}) }];
        }),
      ),
      ...(this.topology.archive ? { archive: { ...this.topology.archive } } : {}),
      jobs: this.jobSettings(),
      ...this.forwardState(),
      sources: this.settings.config.sources.map((s) => s.name),
      schedules: this.settings.config.schedules.map((s) => s.name),
    };
  }

  /** Where each forwarding queue posts and the file keeping its secret (`hookline forward secret --local`). */
  private forwardState(): Pick<LocalState, 'forwards'> {
    const queues = forwardingQueues(this.settings.config);
    if (queues.length === 0) return {};
    const folder = forwardSecretsFolder(this.settings);
    return {
      forwards: Object.fromEntries(
        queues.map(({ queue, forward }) => [
          queue,
          {
            url: localForwardUrl(forward),
            ...(folder ? { secretFile: join(folder, FORWARD_SECRETS_FILE) } : {}),
          },
        ]),
      ),
    };
  }

  /**
   * What a job producer needs besides the queues (`lambda/producer` reads it from the state file): the same
   * settings a deployed stack's `grantSend` gives, with one scheduler role for every queue.
   */
  private jobSettings(): ProducerSettings {
    const { config } = this.settings;
    return {
      ...producerClaimSettingsOf(config, this.topology.resources),
      scheduler: {
        roleArn: `arn:aws:iam::000000000000:role/${config.stackName}-job-scheduler`,
        namePrefix: jobScheduleNamePrefix(config.stackName),
      },
    };
  }

  /**
   * An operator's pause or resume; it takes effect before this returns (a pause: the mapping hands nothing more to
   * the function from here on). Either ends the circuit breaker's record, so no probe re-enables what an operator
   * paused, and a resume runs at full concurrency at once.
   */
  setConsumerEnabled(name: string, enabled: boolean): MappingState | undefined {
    const consumer = this.consumers.get(name);
    if (!consumer) return undefined;
    const ended = this.circuits.end(name);
    this.applyEnabled(consumer, enabled);
    if (ended) this.settings.reporter.alarm(breakerEndedChange(name, ended, enabled, this.settings.hints));
    this.saveConsumers();
    return consumer.mapping.state;
  }

  private applyEnabled(consumer: LocalConsumer, enabled: boolean): void {
    if (!enabled) {
      void consumer.mapping.disable();
      return;
    }
    // Whatever paused it, the outcomes before the pause are forgotten: failures an operator paused to fix must
    // not trip the fixed consumer on its first records.
    if (consumer.mapping.state !== 'Enabled') consumer.breaker?.reset();
    consumer.mapping.enable();
  }

  /** Saves the pauses and the breaker's records with the data directory, and rewrites the state file. */
  private saveConsumers(): void {
    if (this.settings.dataDir) {
      const paused = [...this.consumers].filter(([, c]) => c.mapping.state === 'Disabled').map(([n]) => n);
      writePausedConsumers(this.settings.dataDir, paused, this.circuits.all());
    }
    this.writeState();
  }

  /** What tripped the circuit breaker that paused a consumer, and its circuit, until it closes or an operator acts. */
  breakerTrip(name: string): BreakerTrip | undefined {
    return this.circuits.get(name);
  }

  /** The breaker's records saved with the pauses of the last run, for the consumers they still describe. */
  restoreBreakerTrips(paused: ReadonlySet<string>, trips: ReadonlyMap<string, BreakerTrip>): void {
    this.circuits.restore(paused, trips);
  }

  /**
   * The circuit breaker tripped: the consumer is paused as `hookline pause --local` pauses it (saved with the data
   * directory), and the operator is told once, with the command that resumes it (and the probe's time).
   */
  tripBreaker(name: string, trip: BreakerTrip): void {
    const consumer = this.consumers.get(name);
    if (!consumer || consumer.mapping.state === 'Disabled') return;
    const recorded = this.circuits.open(name, trip);
    this.applyEnabled(consumer, false);
    this.saveConsumers();
    this.settings.reporter.alarm({
      queue: name,
      alarm: 'circuit-breaker',
      state: 'ALARM',
      ...(recorded.circuit ? { circuit: 'open' as const } : {}),
      message: breakerTripNotice(name, recorded, this.settings.hints),
    });
  }

  async pauseConsumer(name: string): Promise<boolean> {
    const consumer = this.consumers.get(name);
    if (!consumer) return false;
    this.setConsumerEnabled(name, false);
    await consumer.mapping.disable();
    return true;
  }

  private writeState(): void {
    const { stateFile } = this.settings;
    if (!stateFile) return;
    // The CLI and producers read it from other processes while pauses and resumes rewrite it.
    writeFileAtomically(stateFile, `${JSON.stringify(this.status(), null, 2)}\n`);
  }
}

function startApi(
  settings: LocalSettings,
  ingest: LocalFunction,
  control: LocalControl,
  journal: EventJournal,
  scheduledJobs: () => Readonly<Record<string, number>>,
  jobs?: LocalFunction,
): Promise<HttpApi> {
  const { config, reporter } = settings;
  return startHttpApi({
    port: settings.port,
    invokeIngest: (event: APIGatewayProxyEventV2) => ingest.invoke(event),
    ...(jobs ? { invokeJobs: (event: APIGatewayProxyEventV2) => jobs.invoke(event) } : {}),
    throttle: { rateLimit: config.ingest.rateLimit, burstLimit: config.ingest.burstLimit },
    control: {
      status: () => control.status(),
      setConsumerEnabled: (name, enabled) => control.setConsumerEnabled(name, enabled),
      breakerTrip: (name) => control.breakerTrip(name),
      flushArchive: () => control.flushArchive(),
      events: (after, limit, follower) => journal.after(after, limit, follower),
      queues: () => control.queueStatuses(),
      unconfiguredQueues: () => control.unconfiguredQueues(),
      scheduledJobs,
    },
    onRequest: (r) => reportRequest(reporter, r),
  });
}

/** A person sees the ingest's own outcome line; tools (JSON) also get the HTTP view with its latency. */
function reportRequest(reporter: Reporter, r: WebhookRequestReport): void {
  if (r.outcomeLogged && !reporter.json) return;
  reporter.event({
    event: 'received',
    source: r.source,
    status: r.statusCode,
    latencyMs: Math.round(r.latencyMs * 10) / 10,
    ...(r.error ? { reason: r.error } : {}),
  });
}

/**
 * How long the emulator thread's own error may trail a call it refused: the thread's exit reaches the main thread as
 * an event, which a busy machine can deliver after a poll that started later has already failed.
 */
export const EMULATOR_END_GRACE_MS = 2_000;

/** Why the emulators ended, if they end within `graceMs`; undefined if they are still running then. */
function emulatorsEndedWithin(emulators: Emulators, graceMs: number): Promise<string | undefined> {
  if (emulators.failure) return Promise.resolve(emulators.failure);
  if (!emulators.failed) return Promise.resolve(undefined);
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    emulators.failed,
    new Promise<undefined>((resolve) => {
      // Never what keeps local mode's process alive once it stopped.
      timer = setTimeout(() => resolve(undefined), graceMs).unref();
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Reports a consumer's failed poll; once the emulators have ended, every poll fails alike and their notice says it
 * all, so a failure is reported only if they are still running a moment after it (their end can trail it), and
 * local mode has not begun to stop meanwhile (`stopping`): a poll the stop cut is the stop's doing.
 */
export function pollErrorReporter(
  reporter: Pick<Reporter, 'problem'>,
  emulators: Pick<Emulators, 'failure' | 'failed'>,
  queue: string,
  stopping: () => boolean,
  graceMs = EMULATOR_END_GRACE_MS,
): (error: unknown) => Promise<void> {
  return async (error) => {
    if ((await emulatorsEndedWithin(emulators as Emulators, graceMs)) !== undefined) return;
    if (stopping()) return;
    reporter.problem(`consumer ${queue}: ${(error as Error).message ?? error}`);
  };
}

/** The queues, tables and bucket; the emulators ending meanwhile stop the start with why, not a refused connection. */
function createLocalTopology(settings: LocalSettings, emulators: Emulators): Promise<LocalTopology> {
  return createTopology(settings.config, emulators).catch((error: unknown) =>
    emulatorsEndedAtStart(emulators, settings.dataDir, error),
  );
}

/** Takes the state directory, if any, and has the locks and the state file released however the process exits. */
function claimLocalFiles(settings: LocalSettings, cleanups: Cleanups): (() => void) | undefined {
  const leaveStateDir = settings.stateFile ? claimStateDir(settings.stateFile, cleanups) : undefined;
  releaseOnExit(settings, leaveStateDir, cleanups);
  return leaveStateDir;
}

/** Says once why the emulators ended, if they end once the start is done (set `done`); the start says it before. */
function watchEmulators(settings: LocalSettings, emulators: Emulators): { done: boolean } {
  const started = { done: false };
  void emulators.failed?.then(
    (why) => started.done && settings.reporter.problem(emulatorsFailedNotice(why, settings.dataDir)),
  );
  return started;
}

/**
 * The start's first calls to the emulators failing because their thread ended (a store it could not read): the
 * start stops with why, rather than with the refused connection. The thread's error can trail the refusal a little.
 */
async function emulatorsEndedAtStart(
  emulators: Emulators,
  dataDir: string | undefined,
  error: unknown,
): Promise<never> {
  const why = await emulatorsEndedWithin(emulators, EMULATOR_END_GRACE_MS);
  if (why === undefined) throw error;
  const fix = dataDir
    ? `a damaged store in the data directory ends them so: move ${join(dataDir, 'dynalite')} or ${join(dataDir, 'fauxqs')} aside (the one the error names) to start with it empty`
    : 'start local mode again';
  throw new LocalStartProblem(
    `the emulators (SQS, S3 and DynamoDB) stopped while local mode started: ${why}. Fix: ${fix}`,
  );
}

/**
 * What the emulators ending on their own means until a restart, and the fix: the ingest can neither claim nor
 * enqueue (503, which senders retry), and no consumer can read its queue.
 */
export function emulatorsFailedNotice(why: string, dataDir: string | undefined): string {
  const kept = dataDir
    ? `the data directory ${dataDir} keeps what they had stored`
    : 'what the queues held in memory is lost';
  return (
    `the emulators (SQS, S3 and DynamoDB) stopped: ${why}. Until local mode starts again, webhooks and jobs are ` +
    `answered 503 (senders retry them) and no consumer can read its queue: stop it (Ctrl-C) and start it again (${kept})`
  );
}

/**
 * A data directory whose last local mode did not stop (kill -9, a crash) is taken over without a step from the
 * developer; saying so tells them why the last run's final lines are missing and that what it had queued is kept.
 */
function announceNotStopped(settings: LocalSettings, emulators: Emulators): void {
  const left = emulators.notStopped;
  if (!left) return;
  settings.reporter.info(
    `data directory ${settings.dataDir}: the local mode that used it last (pid ${left.pid}, started ${left.startedAt}) did not stop (killed or crashed); its lock is taken over, and its queues, messages and tables are kept as they were (its last second of archive records and journal lines may be missing)`,
  );
}

/**
 * The consumers that start paused, or still probing at low concurrency, as the breaker's records stand once
 * restored: a circuit the configuration no longer probes (its `halfOpenAfter` removed) promises no probe.
 */
function announcePausedConsumers(
  settings: LocalSettings,
  control: LocalControl,
  consumers: ReadonlyMap<string, LocalConsumer>,
): void {
  const saved = pausedConsumersPath(settings.dataDir ?? resolve('.'));
  for (const [name, consumer] of consumers) {
    const trip = control.breakerTrip(name);
    const resume = nextCommand(settings.hints, `resume ${name}`);
    if (consumer.mapping.state === 'Disabled') {
      const by = trip ? ` (${describeBreakerState(trip)})` : '';
      settings.reporter.info(`consumer ${name} is paused${by} (saved in ${saved}): resume it with ${resume}`);
    } else if (trip?.circuit?.state === 'half-open') {
      settings.reporter.info(
        `consumer ${name} is ${describeBreakerState(trip)} (saved in ${saved}): to run it at full concurrency now, resume it with ${resume}`,
      );
    }
  }
}

/**
 * The breaker's alarm back to OK: an operator resumed the consumer it had paused (or was probing), or paused it
 * themselves, which ends the breaker's record (no probe runs after it).
 */
function breakerEndedChange(
  queue: string,
  trip: BreakerTrip,
  resumed: boolean,
  hints: CommandHints,
): AlarmChange {
  const was = describeEndedBreaker(trip);
  return {
    queue,
    alarm: 'circuit-breaker',
    state: 'OK',
    ...(trip.circuit ? { circuit: 'closed' as const } : {}),
    message: resumed
      ? `${queue}: consumer resumed after it was ${was}; its circuit breaker counts afresh`
      : `${queue}: consumer paused by an operator after it was ${was}${trip.circuit ? '; no probe resumes it' : ''}: resume it with ${nextCommand(hints, `resume ${queue}`)}`,
  };
}

/** What a trip of the circuit breaker says, once, when it pauses a consumer (and when it probes next, if it does). */
export function breakerTripNotice(queue: string, trip: BreakerTrip, hints: CommandHints): string {
  const resume = nextCommand(hints, `resume ${queue}`);
  const then = trip.circuit?.probeAt
    ? `The probe then runs it at concurrency 1 for one window; to resume sooner, fix what its handler calls and run ${resume}`
    : `Fix what its handler calls, then resume it with ${resume}`;
  return `${queue}: consumer ${describeBreakerState(trip)}; its messages wait in the queue. ${then}`;
}

/**
 * The line a one-time job schedule prints when it sends its job: the job's own id, type and queue (from the
 * envelope it carries), as the job's other lines name it, rather than the schedule's hashed name, which no
 * command takes. An input that is no envelope is named by its schedule.
 */
export function oneTimeScheduleFired(
  schedule: Pick<OneTimeScheduleRecord, 'name' | 'targetArn' | 'input'>,
  queueNamesByArn: Readonly<Record<string, string>>,
): LocalEvent {
  let envelope: WebhookEnvelope | undefined;
  try {
    envelope = parseEnvelope(schedule.input);
  } catch {
    envelope = undefined;
  }
  const queue = Object.hasOwn(queueNamesByArn, schedule.targetArn)
    ? queueNamesByArn[schedule.targetArn]
    : undefined;
  return {
    event: 'scheduled',
    id: envelope?.id ?? schedule.name,
    source: envelope?.source ?? JOB_SOURCE,
    ...(envelope?.type !== undefined ? { type: envelope.type } : {}),
    ...(queue !== undefined ? { queue } : {}),
    ...(envelope?.generation !== undefined ? { generation: envelope.generation } : {}),
  };
}

/**
 * The jobs the one-time schedules will send later, by the queue they go to: jobs delayed beyond SQS's 15 minutes,
 * which no queue counts until then. A cancelled job's schedule still sends it (its consumer skips it), so it is
 * counted until it does. A schedule for a queue the configuration no longer has counts under its ARN's queue name.
 */
export function scheduledJobsByQueue(
  schedules: readonly Pick<OneTimeScheduleRecord, 'targetArn'>[],
  topology: Pick<LocalTopology, 'queues'>,
): Record<string, number> {
  const names = new Map(Object.values(topology.queues).map((q) => [q.arn, q.name]));
  const counts: Record<string, number> = {};
  for (const { targetArn } of schedules) {
    const queue = names.get(targetArn) ?? targetArn.split(':').pop() ?? targetArn;
    counts[queue] = (counts[queue] ?? 0) + 1;
  }
  return counts;
}

/** Starts the stand-in for the producer's one-time job schedules (saved in the data directory). */
function startJobSchedules(
  settings: LocalSettings,
  emulators: Emulators,
  topology: LocalTopology,
  sqs: SQSClient,
): Promise<OneTimeScheduler> {
  const { reporter } = settings;
  const queueNamesByArn = Object.fromEntries(Object.values(topology.queues).map((q) => [q.arn, q.name]));
  return startOneTimeScheduler({
    sqs,
    region: emulators.region,
    queueUrlsByArn: Object.fromEntries(Object.values(topology.queues).map((q) => [q.arn, q.url])),
    ...(settings.dataDir ? { dataDir: settings.dataDir } : {}),
    now: settings.clock,
    onFire: (schedule) => reporter.event(oneTimeScheduleFired(schedule, queueNamesByArn)),
    onError: (schedule, error) =>
      reporter.problem(`one-time schedule ${schedule.name}: ${(error as Error).message ?? error}`),
  });
}

/** Starts the configured schedules; returns their stop function. */
function startSchedules(
  settings: LocalSettings,
  topology: LocalTopology,
  sqs: SQSClient,
): () => Promise<void> {
  const { config, reporter } = settings;
  return startScheduler({
    schedules: config.schedules,
    queueUrls: topology.resources.queueUrls,
    sqs,
    // Like the deployed Scheduler, it sends straight to SQS: the queue's consumer archives what it sent.
    onFire: (schedule, envelope) => {
      reporter.event({
        event: 'scheduled',
        id: envelope.id,
        source: 'schedule',
        type: schedule.type,
        queue: schedule.queue,
      });
    },
    onError: (schedule, error, firing) => reporter.problem(scheduleSendNotice(schedule, error, firing)),
    // In the words cdk synth warns with: neither refuses a schedule that fired, which stays configured until removed.
    onNeverFires: (schedule, why) =>
      reporter.problem(neverFiresWarning(schedule, config.schedules.indexOf(schedule), why)),
    now: settings.clock,
  });
}

/**
 * What stopping an in-memory local mode throws away: every message still in a queue (waiting, being retried,
 * delayed) or a dead-letter queue, per queue, and the delayed jobs waiting for their time, with how to keep
 * them; undefined when there is none. Webhooks answered 202 are among them, so stopping says so instead of
 * losing them without a word.
 */
export function discardedMessagesNotice(
  queues: readonly LocalQueueStatus[],
  delayedJobs = 0,
): string | undefined {
  const held = queues
    .map((q) => ({ name: q.queue, queued: q.visible + q.inFlight + q.delayed, dead: q.deadLettered }))
    .filter((q) => q.queued + q.dead > 0);
  const total = held.reduce((sum, q) => sum + q.queued + q.dead, 0) + delayedJobs;
  if (total === 0) return undefined;
  const each = [
    ...held.map((q) => `${q.name}: ${q.queued} queued${q.dead > 0 ? `, ${q.dead} dead-lettered` : ''}`),
    ...(delayedJobs > 0 ? [`${plural(delayedJobs, 'delayed job')} not yet due`] : []),
  ].join('; ');
  return (
    `discarding ${plural(total, 'message')} kept only in memory (${each}); ` +
    'to keep messages across a restart, start with HOOKLINE_DATA_DIR set (HOOKLINE_DATA_DIR=.hookline/data npm start)'
  );
}

/**
 * What a data directory holds at start that would page once deployed: a dead-letter queue holding messages (its
 * alarm fires while it holds any) and a queue whose oldest message has waited longer than its
 * `oldestMessageAgeAlarm`, each with the command to run. Pure.
 */
export function alarmingAtStartNotices(
  queues: readonly LocalQueueStatus[],
  hints: CommandHints = localModeHints(),
): string[] {
  return queues.flatMap((q) => {
    const notices: string[] = [];
    if (q.deadLettered > 0) {
      notices.push(
        `${q.queue}: ${q.deadLettered} dead-lettered in the data directory, which a deployed stack's dead-letter alarm pages for; read why with ${nextCommand(hints, `failed list ${q.queue}`)}`,
      );
    }
    const threshold = pastOldestMessageAlarm(q);
    if (threshold !== undefined) {
      notices.push(
        `${q.queue}: its oldest message has waited ${humanAge(q.oldestMessageAgeSeconds)}, longer than the ${humanAge(threshold)} threshold of a deployed stack's oldest-message alarm; see ${nextCommand(hints, `status ${q.queue}`)}`,
      );
    }
    return notices;
  });
}

/**
 * Names, once started on a data directory, what it holds that would page once deployed, then, while it runs, each
 * queue that crosses into or out of what would page (`alarm-watch.ts`). Never stops the start; stopped first on stop.
 */
function watchAlarms(settings: LocalSettings, control: LocalControl, cleanups: Cleanups): AlarmWatch {
  const { reporter } = settings;
  const watch = new AlarmWatch({
    read: () => control.watchedQueues(),
    onFirst: (rows) => {
      if (!settings.dataDir) return;
      for (const notice of alarmingAtStartNotices(rows, settings.hints)) reporter.problem(notice);
      for (const change of expiringAtStart(rows, settings.hints)) reporter.alarm(change);
    },
    onChange: (change) => reporter.alarm(change),
    hints: settings.hints,
    now: settings.clock,
    onError: (error) =>
      reporter.problem(
        `could not read the queues' dead letters and oldest messages: ${(error as Error).message ?? error}`,
      ),
  });
  const unsubscribe = reporter.subscribe(() => watch.poke());
  watch.start();
  cleanups.push(() => {
    unsubscribe();
    return watch.stop();
  });
  return watch;
}

/** Says when the consumers' failed deletes cross what the stack's `DeleteFailed` alarm pages for, and back. */
function watchDeleteFailures(settings: LocalSettings, cleanups: Cleanups): LocalDeleteFailures {
  const watch = new LocalDeleteFailures({
    onChange: (change) => settings.reporter.alarm(change),
    now: settings.clock,
  });
  cleanups.push(() => watch.stop());
  return watch;
}

/** Says what an in-memory stop discards; a failure to count never keeps local mode from stopping. */
async function reportDiscarded(
  control: LocalControl,
  oneTime: OneTimeScheduler,
  reporter: Reporter,
): Promise<void> {
  try {
    const notice = discardedMessagesNotice(await control.queueStatuses(), oneTime.list().length);
    if (notice) reporter.problem(notice);
  } catch (error) {
    reporter.problem(`could not count the messages this stop discards: ${(error as Error).message ?? error}`);
  }
}

/**
 * Names the data directory's queues the configuration no longer has that still hold messages, beside the rest
 * of the start (a few requests, and what they find never stops it); the stop waits for it.
 */
function reportUnconfiguredQueues(
  settings: LocalSettings,
  sqs: SQSClient,
  topology: LocalTopology,
  cleanups: Cleanups,
): void {
  const { dataDir, reporter } = settings;
  if (!dataDir) return;
  const reported = unconfiguredQueues(sqs, topology).then(
    (queues) => {
      const notice = unconfiguredQueuesNotice(queues, dataDir, settings.hints);
      if (notice) reporter.problem(notice);
    },
    (error: unknown) =>
      reporter.problem(
        `could not look for queues in ${dataDir} the configuration no longer has: ${(error as Error).message ?? error}`,
      ),
  );
  cleanups.push(() => reported);
}

/** The handle of a started pipeline. */
function runningLocalMode(parts: {
  readonly startup: readonly StartupPhase[];
  readonly api: HttpApi;
  readonly webhookUrls: Readonly<Record<string, string>>;
  readonly emulators: Emulators;
  readonly topology: LocalTopology;
  readonly reporter: Reporter;
  readonly control: LocalControl;
  readonly consumers: ReadonlyMap<string, LocalConsumer>;
  readonly stopScheduler: () => Promise<void>;
  readonly cleanups: Cleanups;
  readonly archive: LocalFirehose | undefined;
  readonly alarmWatch: AlarmWatch;
  readonly journal: EventJournal;
  /** No data directory: what the queues and the delayed jobs' schedules hold is gone once they stop. */
  readonly inMemory: { readonly oneTime: OneTimeScheduler } | undefined;
}): LocalMode {
  const { api, control, consumers } = parts;
  let stopping: Promise<void> | undefined;
  return {
    url: api.url,
    port: api.port,
    startup: parts.startup,
    emulators: parts.emulators,
    topology: parts.topology,
    reporter: parts.reporter,
    webhookUrls: parts.webhookUrls,
    status: () => control.status(),
    setConsumerEnabled: (name, enabled) => control.setConsumerEnabled(name, enabled),
    pauseConsumer: (name) => control.pauseConsumer(name),
    ...(parts.archive ? { archive: parts.archive } : {}),
    stop() {
      stopping ??= (async () => {
        // Order matters: no new webhooks or jobs (answered 503), no new firings, then let the mappings finish their
        // batches. What stopping drains or discards is no crossing to report. The control API answers reads until
        // the drain ends, so the console sees its last lines, then closes.
        await parts.alarmWatch.stop();
        await api.refuseRequests();
        await parts.stopScheduler();
        announceBatchesInFlight(consumers, parts.reporter);
        await Promise.all([...consumers.values()].map(({ mapping }) => mapping.stop()));
        if (parts.inMemory) await reportDiscarded(control, parts.inMemory.oneTime, parts.reporter);
        await letFollowersCatchUp(parts.journal);
        await api.close();
        await parts.cleanups.run();
      })();
      return stopping;
    },
  };
}

/**
 * Says what a stop waits for, so a long wait is not taken for a hang: each consumer's batches still running, which
 * finish or time out before local mode stops; a batch cut off would stay in flight until its visibility timeout.
 */
function announceBatchesInFlight(consumers: ReadonlyMap<string, LocalConsumer>, reporter: Reporter): void {
  for (const [queue, { fn, mapping }] of consumers) {
    const batches = mapping.inFlight;
    if (batches === 0) continue;
    reporter.info(
      `stopping: waiting for ${plural(batches, 'batch', 'batches')} in flight on consumer ${queue} to finish (at most its ${fn.definition.timeoutMs / 1000} s timeout)`,
    );
  }
}

/**
 * How long a stop waits for the journal's followers (`hookline console`) to read its last lines before the control
 * API closes; a follower that has not by then reads them from the journal file.
 */
export const FOLLOWER_CATCH_UP_MS = 2_000;

/** Tells the followers the run has ended, and gives each that is reading a moment to read up to its last line. */
async function letFollowersCatchUp(journal: EventJournal): Promise<void> {
  journal.end();
  await journal.followersCaughtUp(FOLLOWER_CATCH_UP_MS);
}

/**
 * The event journal, fed by one subscription to every reported event: the recent ones numbered in memory (the
 * console's feed) and, with a state directory, every one in the journal file (`hookline trace --local`), both
 * with the same time. The file is emptied at start when the emulators start empty too.
 */
function startJournal(settings: LocalSettings, cleanups: Cleanups): EventJournal {
  const file = settings.journalFile
    ? new Journal(settings.journalFile, {
        truncate: settings.dataDir === undefined,
        ...('maxBytes' in settings.journalMax ? { maxBytes: settings.journalMax.maxBytes } : {}),
      })
    : undefined;
  const journal = new EventJournal(DEFAULT_JOURNAL_CAPACITY, () => new Date(), file);
  const unsubscribe = settings.reporter.subscribe((event) => journal.record(event));
  cleanups.push(async () => {
    unsubscribe();
    await file?.close();
  });
  return journal;
}

/** The archive's Firehose stand-in, writing to the local S3; stopped (and flushed) after the ingest stops. */
async function startArchive(
  settings: LocalSettings,
  emulators: Emulators,
  topology: LocalTopology,
  cleanups: Cleanups,
): Promise<LocalFirehose | undefined> {
  if (!topology.archive) return undefined;
  const s3 = localS3Client(emulators);
  cleanups.push(() => s3.destroy());
  const firehose = await startLocalFirehose({
    s3,
    bucket: topology.archive.bucket,
    streamName: topology.archive.stream,
    ...(settings.options.archiveBufferMs !== undefined
      ? { bufferIntervalMs: settings.options.archiveBufferMs }
      : {}),
    onError: (error) => settings.reporter.problem(`archive: ${(error as Error).message ?? error}`),
  });
  cleanups.push(() => firehose.stop());
  return firehose;
}

/**
 * Refuses a start whose state directory another local mode uses, running or starting: its `local.json` (which the
 * CLI and producers follow) and journal would be overwritten, and whichever stopped first would remove the other's
 * state file. A file left by a process that is gone (kill -9) or that cannot be read is simply replaced. The
 * state file is written only once the start is complete, so the directory's lock is what stops a start that
 * races another.
 */
function claimStateDir(stateFile: string, cleanups: Cleanups): () => void {
  assertStateFileFree(stateFile);
  const release = lockStateDir(stateFile);
  // For a start that fails before it writes the state file.
  cleanups.push(release);
  // A stop removes the file and the lock together: a CLI finding the lock alone would take a stop for a start.
  return () => {
    rmSync(stateFile, { force: true });
    release();
  };
}

/**
 * A forced quit (a second Ctrl-C: `process.exit` without the stop) ends the emulators and the ports with the process,
 * but not its files: the locks and the state file are removed as it exits, so the next start finds no crashed run
 * and the CLI no local mode that is gone.
 */
function releaseOnExit(
  settings: LocalSettings,
  leaveStateDir: (() => void) | undefined,
  cleanups: Cleanups,
): void {
  const release = () => {
    leaveStateDir?.();
    if (settings.dataDir) releaseDataDirLock(settings.dataDir);
  };
  process.once('exit', release);
  cleanups.push(() => void process.off('exit', release));
}

/** The state file a local mode started before the lock existed has: a running one names its process. */
function assertStateFileFree(stateFile: string): void {
  if (!existsSync(stateFile)) return;
  let pid: number;
  try {
    pid = parseLocalState(JSON.parse(readFileSync(stateFile, 'utf8'))).pid;
  } catch {
    return;
  }
  if (pid === process.pid || !isProcessAlive(pid)) return;
  throw new LocalStartProblem(stateDirInUse(stateFile, pid));
}

async function assertPortFree(port: number): Promise<void> {
  const probe = createServer();
  await listenOrPortInUse(probe, port, '127.0.0.1');
  await new Promise<void>((resolvePromise) => probe.close(() => resolvePromise()));
}

/**
 * The events local mode reports itself for a batch (the receives the consumer had not reported when it answered),
 * remembered so that the consumer's own line for one of them, if its sandbox writes it later, is not a second event.
 */
function reportBatch(
  reporter: Reporter,
  report: BatchReport,
  queue: BatchQueue,
  selfReported: SelfReportedReceives,
): void {
  for (const { receive, event } of batchReceiveEvents(report, queue)) {
    selfReported.remember(receive);
    reporter.event(event);
  }
  const notice = batchNotice(report, queue);
  if (notice) reporter.info(notice);
}

/** Re-exported for callers that only need the event type. */
export type { LocalEvent };
