/** The `queues` section: each queue pair and its consumer, with every default filled. */
import { basename } from 'node:path';
import type { Duration } from 'aws-cdk-lib';
import { JOB_SOURCE, SCHEDULE_SOURCE } from '../../lambda/shared/job';
import { closestName, didYouMean, withDidYouMean } from '../closest-name';
import type { EntryExports } from '../entry-exports';
import { exportList } from '../local/handler-export';
import { credentialHeadersOfSources } from '../senders';
import {
  circuitBreakerViolations,
  consumerViolations,
  deadlineMarginViolations,
  defaultDeadlineMargin,
  idempotencyExpiryViolations,
  metricTypesViolations,
  minimumVisibilityTimeout,
  oldestMessageAgeFloorViolations,
  oldestMessageAlarmViolations,
  parallelismViolations,
  queueViolations,
  rateLimitViolations,
  retryScheduleViolations,
  retryViolations,
  retryWithinVisibilityViolations,
  visibilityViolations,
} from '../validation';
import type { ViolationList } from '../violations';
import { checkDistinctIds, NAME_PATTERN, NAME_RULE } from './common';
import {
  circuitBreakerWithDefaults,
  DEFAULTS,
  OLDEST_MESSAGE_ALARM_WINDOW,
  retryWithDefaults,
} from './defaults';
import { forwardEntry, resolveForward } from './resolve-forward';
import type { ResolvedConsumer, ResolvedQueue, ResolvedSource } from './resolved';
import type { FifoGrouping, ParsedConfig, ParsedConsumer, ParsedQueue, TenantKey } from './schema';

/** What the queue and consumer rules need to know about a collaborator outside the configuration. */
export interface QueueContext {
  readonly problems: ViolationList;
  readonly entryExists?: (entry: string) => boolean;
  readonly entryOutsideBundleRoot?: (entry: string) => string | undefined;
  readonly entryExports?: (entry: string) => EntryExports;
  readonly lockFileMissing?: () => string | undefined;
  /** Whether the configuration is for a deploy (a forwarding URL must then be public https). */
  readonly deployed: boolean;
  /** The alarm threshold of queues that set none. */
  readonly oldestMessageAge: Duration;
  /** The folders of the configuration's consumer entries that exist, most used first ({@link existingEntryFolders}). */
  readonly entryFolders?: readonly string[];
}

/** Rule: a queue name can become part of resource names. */
function checkQueueName(problems: ViolationList, path: string, name: string): void {
  if (NAME_PATTERN.test(name)) return;
  problems.add(
    path,
    `queue names are ${NAME_RULE}`,
    name,
    'rename the queue, e.g. "events" or "billing-jobs"',
  );
}

/** The retry backoff, checked: a factor from 1 to 10, a maximum SQS can wait, a base below the maximum. */
function resolveRetry(problems: ViolationList, path: string, c: ParsedConsumer): ResolvedConsumer['retry'] {
  const retry = retryWithDefaults(c.retry);
  problems.addAll(path, retryViolations(retry));
  return retry;
}

/** The circuit breaker, checked, with its defaults filled; absent when the consumer has none. */
function resolveCircuitBreaker(
  problems: ViolationList,
  path: string,
  c: ParsedConsumer,
): ResolvedConsumer['circuitBreaker'] {
  if (!c.circuitBreaker) return undefined;
  const breaker = circuitBreakerWithDefaults(c.circuitBreaker);
  problems.addAll(path, circuitBreakerViolations(breaker));
  return breaker;
}

/** The deadline margin, checked: shorter than the timeout; by default at most a tenth of it. */
/** The consumer's deadline margin with `timeout` as its timeout: the one set, else the default for that timeout. */
function deadlineMarginOf(c: ParsedConsumer, timeout: Duration): Duration {
  return (
    c.deadlineMargin ??
    defaultDeadlineMargin(timeout, DEFAULTS.deadlineMargin, DEFAULTS.deadlineMarginTimeoutShare)
  );
}

function resolveDeadlineMargin(
  problems: ViolationList,
  path: string,
  c: ParsedConsumer,
  timeout: Duration,
): Duration {
  const deadlineMargin = deadlineMarginOf(c, timeout);
  problems.addAll(path, deadlineMarginViolations(deadlineMargin, timeout));
  return deadlineMargin;
}

/**
 * Idempotency, defaults filled; undefined when disabled. Its expiry is checked with the queue's visibility
 * timeout, once the consumer is resolved (`idempotencyExpiryViolations`).
 */
function resolveIdempotency(c: ParsedConsumer): ResolvedConsumer['idempotency'] {
  if (!(c.idempotency?.enabled ?? DEFAULTS.idempotencyEnabled)) return undefined;
  return { expiry: c.idempotency?.expiry ?? DEFAULTS.idempotencyExpiry };
}

/** Rule: a record batch is handled 1 to 1000 records at once. */
function resolveParallelism(problems: ViolationList, path: string, c: ParsedConsumer): number {
  const parallelism = c.parallelism ?? DEFAULTS.parallelism;
  problems.addAll(path, parallelismViolations(parallelism));
  return parallelism;
}

/** The scaling settings given (none has a default: unset means on-demand scaling, nothing reserved). */
function scalingOf(
  c: ParsedConsumer,
): Pick<ResolvedConsumer, 'maxConcurrency' | 'minimumPollers' | 'maximumPollers' | 'reservedConcurrency'> {
  const keys = ['maxConcurrency', 'minimumPollers', 'maximumPollers', 'reservedConcurrency'] as const;
  return Object.fromEntries(keys.filter((k) => c[k] !== undefined).map((k) => [k, c[k]]));
}

/** The folder of an entry path, without a trailing slash (`.` for one at the project root). */
const folderOf = (entry: string): string => {
  const slash = entry.replaceAll('\\', '/').lastIndexOf('/');
  return slash <= 0 ? (slash === 0 ? '/' : '.') : entry.slice(0, slash);
};

/**
 * The folders of the configuration's consumer entries whose files exist, most used first; `queues` as given (the
 * shape check asks before the configuration is parsed), so an entry that is not a path is passed over.
 */
export function existingEntryFolders(
  entryExists: ((entry: string) => boolean) | undefined,
  queues: unknown,
): string[] {
  if (!entryExists || !queues || typeof queues !== 'object') return [];
  const uses = new Map<string, number>();
  for (const queue of Object.values(queues)) {
    const entry = (queue as { consumer?: { entry?: unknown } } | undefined)?.consumer?.entry;
    if (typeof entry !== 'string' || entry === '' || !entryExists(entry)) continue;
    const folder = folderOf(entry);
    uses.set(folder, (uses.get(folder) ?? 0) + 1);
  }
  return [...uses].sort((a, b) => b[1] - a[1]).map(([folder]) => folder);
}

/** The folders `hookline init` writes consumers to, then this repository's layout. */
const CONVENTIONAL_ENTRY_FOLDERS = ['consumers', 'lambda/consumers'];

/**
 * An example entry path for a queue's handler file, in the project's own layout: the folder of the configuration's
 * existing consumer entries, else the given entry's folder, else `consumers/` (as `hookline init` makes) or
 * `lambda/consumers/`, whichever the project has. Undefined when it has none of them, or when entry files are not
 * checked: a folder the project does not have is never suggested.
 */
export function entryExample(
  context: Pick<QueueContext, 'entryExists' | 'entryFolders'>,
  queue: string,
  entry?: string,
): string | undefined {
  const { entryExists } = context;
  if (!entryExists) return undefined;
  const given = entry === undefined ? [] : [folderOf(entry)].filter((f) => f !== '.' && entryExists(f));
  const folder =
    context.entryFolders?.[0] ?? given[0] ?? CONVENTIONAL_ENTRY_FOLDERS.find((f) => entryExists(f));
  if (folder === undefined) return undefined;
  return folder === '.' ? `${queue}.ts` : `${folder.replace(/\/$/, '')}/${queue}.ts`;
}

/** Whether cdk synth can bundle the consumer's entry file: it exists, under the lockfile's folder, which exists. */
function checkConsumerEntry(context: QueueContext, path: string, queue: string, entry: string): void {
  const { problems } = context;
  if (context.entryExists && !context.entryExists(entry)) {
    const example = entryExample(context, queue, entry);
    problems.add(
      `${path}.entry`,
      'the consumer entry file does not exist',
      entry,
      example === undefined || example === entry
        ? 'create the file, or give the path of your handler file relative to the project root'
        : `create the file, or give its path relative to the project root, e.g. "${example}"`,
    );
  }
  const bundleRoot = context.entryOutsideBundleRoot?.(entry);
  if (bundleRoot !== undefined) {
    problems.add(
      `${path}.entry`,
      `is outside ${bundleRoot}, the folder (of the project's lockfile) its function is bundled from: cdk synth cannot bundle it`,
      entry,
      `move the file under ${bundleRoot}, or run from a project (or workspace) whose lockfile folder holds it`,
    );
  }
  const noLockFileIn = context.lockFileMissing?.();
  if (noLockFileIn !== undefined) {
    problems.add(
      `${path}.entry`,
      `cannot be bundled: cdk synth bundles consumers (esbuild, through NodejsFunction) from the folder of the project's lockfile, and there is none in ${noLockFileIn} or a folder above it`,
      entry,
      `install the project's dependencies in ${noLockFileIn} (npm install writes package-lock.json; yarn, pnpm and bun install write theirs), then run cdk synth again`,
    );
  }
}

/**
 * Rule: the consumer's handler is an export of its entry file. Lambda looks the name up only when the function first
 * starts, so a wrong one would pass a deploy and send every message to the DLQ with `Runtime.HandlerNotFound`.
 * Skipped for an entry that does not exist (reported above) or whose exports cannot be known without running it.
 */
function checkConsumerHandler(
  context: QueueContext,
  path: string,
  entry: string,
  given: string | undefined,
): void {
  if (!context.entryExports || !context.entryExists?.(entry)) return;
  const exported = context.entryExports(entry);
  const handler = given ?? DEFAULTS.handler;
  if (exported === 'commonjs') {
    refuseCommonJsEntry(context, path, entry, handler);
    return;
  }
  if (exported === undefined || exported.includes(handler)) return;
  const what = given === undefined ? `"${handler}" (the handler when none is set)` : `"${handler}"`;
  const has = exported.length === 0 ? 'it exports nothing' : `it exports ${exportList(exported)}`;
  const meant = handlerMeant(handler, exported);
  context.problems.add(
    `${path}.handler`,
    `${entry} has no export named ${what}, the function Lambda calls (${has})${meant ? `: did you mean ${meant}?` : ''}`,
    handler,
    meant
      ? `set handler: '${meant}', or export the function as "${handler}" from ${entry}`
      : `export the function as "${handler}" from ${entry} (export const ${handler} = defineConsumer({ ... }))${exported.length > 0 ? ', or set handler to the name of the one it exports' : ''}`,
  );
}

/**
 * Rule: a consumer entry is an ES module. Consumers are bundled as ES modules (deployed and locally alike), and a
 * CommonJS entry's bundle exports only `default`: its `handler` is a property of that object, which local mode does
 * not look in and Lambda's runtimes do not all look in. Which names a CommonJS module exports is known only by
 * running it, so an ES entry that re-exports the CommonJS module names the handler where esbuild can read it.
 */
function refuseCommonJsEntry(context: QueueContext, path: string, entry: string, handler: string): void {
  context.problems.add(
    `${path}.entry`,
    `${entry} is a CommonJS module (module.exports, exports.${handler}), and consumers are bundled as ES modules: the bundle would export only "default", with no "${handler}" for Lambda or local mode to call`,
    entry,
    `write it as an ES module (export const ${handler} = defineConsumer({ ... }), or export async function ${handler}), or set entry to an ES module that re-exports it: import legacy from './${basename(entry)}'; export const ${handler} = legacy.${handler};`,
  );
}

/**
 * The export a wrong handler most likely meant: the name after the file in `index.handler` (the form Lambda's own
 * settings take, where hookline's `handler` is the export alone), else the closest export name.
 */
function handlerMeant(handler: string, exported: readonly string[]): string | undefined {
  const afterFile = handler.slice(handler.lastIndexOf('.') + 1);
  if (handler.includes('.') && exported.includes(afterFile)) return afterFile;
  return closestName(handler, exported);
}

/** Rule: a consumer runs exactly one of a handler file of yours (`entry`) and the built-in forwarding (`forward`). */
function checkHandlerKind(context: QueueContext, path: string, queue: string, c: ParsedConsumer): void {
  if (c.entry !== undefined && c.forward !== undefined) {
    context.problems.add(
      path,
      'sets both entry and forward: a consumer runs either your handler file or the built-in forwarding',
      { entry: c.entry, forward: c.forward },
      'keep entry to run your handler, or forward to post each event to your endpoint; put the other on a queue of its own',
    );
  } else if (c.entry === undefined && c.forward === undefined && !shapeRefusedEither(context, path)) {
    context.problems.add(
      path,
      'needs exactly one of entry (your handler file) and forward (post each event to an HTTP endpoint)',
      c,
      `add entry: '${entryExample(context, queue) ?? '<your handler file, relative to the project root>'}', or forward: { url: 'https://app.example.com/webhooks' }`,
    );
  }
  if (c.forward !== undefined && c.handler !== undefined) {
    context.problems.add(
      `${path}.handler`,
      'names an export of entry, and a forwarding consumer has none',
      c.handler,
      'remove it',
    );
  }
}

/** True when the shape check already refused (and left out) this consumer's entry or forward: no second problem. */
function shapeRefusedEither(context: QueueContext, path: string): boolean {
  return context.problems.violations.some(
    (v) => v.path.startsWith(`${path}.entry`) || v.path.startsWith(`${path}.forward`),
  );
}

/** One consumer, checked, with every default filled. */
function resolveConsumer(
  context: QueueContext,
  name: string,
  queue: ParsedQueue,
  c: ParsedConsumer,
): ResolvedConsumer {
  const { problems } = context;
  const path = `queues.${name}.consumer`;
  checkHandlerKind(context, path, name, c);
  if (c.entry !== undefined) checkConsumerEntry(context, path, name, c.entry);
  if (c.entry !== undefined && c.forward === undefined)
    checkConsumerHandler(context, path, c.entry, c.handler);
  const timeout = c.timeout ?? DEFAULTS.consumerTimeout;
  const maxBatchingWindow = c.maxBatchingWindow ?? DEFAULTS.maxBatchingWindow;
  const batchSize = c.batchSize ?? DEFAULTS.batchSize;
  const memorySize = c.memorySize ?? DEFAULTS.consumerMemorySize;
  const fifo = queue.fifo ?? DEFAULTS.fifo;
  const scaling = scalingOf(c);
  problems.addAll(
    path,
    consumerViolations({
      fifo,
      timeout,
      batchSize,
      maxBatchingWindow,
      memorySize,
      ...scaling,
      environment: c.environment,
    }),
  );
  problems.addAll(
    `queues.${name}`,
    visibilityViolations(queue.visibilityTimeout, timeout, maxBatchingWindow),
  );
  const parallelism = resolveParallelism(problems, path, c);
  const retry = resolveRetry(problems, path, c);
  const deadlineMargin = resolveDeadlineMargin(problems, path, c, timeout);
  const idempotency = resolveIdempotency(c);
  const circuitBreaker = resolveCircuitBreaker(problems, path, c);
  const metricTypes = c.metricTypes ?? DEFAULTS.metricTypes;
  problems.addAll(
    path,
    metricTypesViolations('metricTypes', metricTypes, (i) => `metricTypes.${i}`),
  );
  if (c.rateLimit) {
    problems.addAll(
      path,
      rateLimitViolations({ rateLimit: c.rateLimit, timeout, deadlineMargin, batchSize, ...scaling }),
    );
  }
  const forward =
    c.forward &&
    resolveForward(
      problems,
      path,
      c.forward,
      { timeout, deadlineMargin, deadlineMarginAt: (t) => deadlineMarginOf(c, t) },
      context.deployed,
    );
  return {
    name,
    entry: forward ? forwardEntry() : (c.entry ?? ''),
    ...(forward ? { forward } : {}),
    handler: forward ? DEFAULTS.handler : (c.handler ?? DEFAULTS.handler),
    timeout,
    memorySize,
    batchSize,
    maxBatchingWindow,
    ...scaling,
    parallelism,
    retry,
    deadlineMargin,
    ...(idempotency ? { idempotency } : {}),
    ...(c.rateLimit ? { rateLimit: { limit: c.rateLimit.limit, interval: c.rateLimit.interval } } : {}),
    ...(circuitBreaker ? { circuitBreaker } : {}),
    metricTypes,
    environment: c.environment ?? {},
  };
}

/** Rules of the queue pair itself (before its consumer). */
function checkQueue(
  problems: ViolationList,
  path: string,
  queue: ParsedQueue,
  settings: QueueSettings,
): void {
  if (settings.fifo && queue.tenants !== undefined) {
    problems.add(
      `${path}.tenants`,
      'tenant fairness is for standard queues: on a FIFO queue the message group orders messages instead',
      queue.tenants,
      'remove it and group by tenant with fifoGrouping: { path } or { header }, or make the queue standard',
    );
  }
  if (!settings.fifo && queue.fifoGrouping !== undefined) {
    problems.add(
      `${path}.fifoGrouping`,
      'message groups exist only on FIFO queues',
      queue.fifoGrouping,
      'remove it, or set fifo: true',
    );
  }
  problems.addAll(
    path,
    queueViolations({
      ...settings,
      ...(queue.contentBasedDeduplication !== undefined
        ? { contentBasedDeduplication: queue.contentBasedDeduplication }
        : {}),
      ...(queue.highThroughput !== undefined ? { highThroughput: queue.highThroughput } : {}),
      ...(queue.visibilityTimeout ? { visibilityTimeout: queue.visibilityTimeout } : {}),
    }),
  );
}

type QueueSettings = Pick<
  ResolvedQueue,
  'fifo' | 'maxReceiveCount' | 'retentionPeriod' | 'deadLetterRetentionPeriod'
>;

/** The queue's visibility timeout: as set, else derived from its consumer, else the SQS default. */
function visibilityTimeoutOf(queue: ParsedQueue, consumer: ResolvedConsumer | undefined): Duration {
  if (queue.visibilityTimeout) return queue.visibilityTimeout;
  return consumer
    ? minimumVisibilityTimeout(consumer.timeout, consumer.maxBatchingWindow)
    : DEFAULTS.visibilityTimeout;
}

/** One queue pair and its consumer, checked, with every default filled. */
function resolveQueue(context: QueueContext, name: string, queue: ParsedQueue): ResolvedQueue {
  const path = `queues.${name}`;
  checkQueueName(context.problems, path, name);
  const settings: QueueSettings = {
    fifo: queue.fifo ?? DEFAULTS.fifo,
    maxReceiveCount: queue.maxReceiveCount ?? DEFAULTS.maxReceiveCount,
    retentionPeriod: queue.retentionPeriod ?? DEFAULTS.retentionPeriod,
    deadLetterRetentionPeriod: queue.deadLetterRetentionPeriod ?? DEFAULTS.deadLetterRetentionPeriod,
  };
  checkQueue(context.problems, path, queue, settings);
  const oldestMessageAgeAlarm = queue.oldestMessageAgeAlarm ?? context.oldestMessageAge;
  // An inherited age too short is `alarms.oldestMessageAge`'s problem, reported there once.
  if (queue.oldestMessageAgeAlarm)
    context.problems.addAll(
      path,
      oldestMessageAgeFloorViolations('oldestMessageAgeAlarm', queue.oldestMessageAgeAlarm),
    );
  context.problems.addAll(
    path,
    oldestMessageAlarmViolations(
      oldestMessageAgeAlarm,
      settings.retentionPeriod,
      OLDEST_MESSAGE_ALARM_WINDOW,
      queue.oldestMessageAgeAlarm === undefined,
    ),
  );
  const consumer = queue.consumer ? resolveConsumer(context, name, queue, queue.consumer) : undefined;
  if (consumer) {
    const visibilityTimeout = visibilityTimeoutOf(queue, consumer);
    context.problems.addAll(
      path,
      retryScheduleViolations('retentionPeriod', { retry: consumer.retry, ...settings }),
    );
    context.problems.addAll(`${path}.consumer`, [
      ...retryWithinVisibilityViolations('retry.max', consumer.retry.max, visibilityTimeout),
      ...(consumer.idempotency
        ? idempotencyExpiryViolations('idempotency.expiry', consumer.idempotency.expiry, visibilityTimeout)
        : []),
    ]);
  }
  return {
    name,
    ...settings,
    contentBasedDeduplication: queue.contentBasedDeduplication ?? DEFAULTS.contentBasedDeduplication,
    highThroughput: queue.highThroughput ?? DEFAULTS.highThroughput,
    fifoGrouping: queue.fifoGrouping ?? DEFAULTS.fifoGrouping,
    ...(queue.tenants && !settings.fifo ? { tenants: queue.tenants } : {}),
    visibilityTimeout: visibilityTimeoutOf(queue, consumer),
    oldestMessageAgeAlarm,
    ...(consumer ? { consumer } : {}),
  };
}

/** Every configured queue, checked. */
export function resolveQueues(context: QueueContext, config: ParsedConfig): ResolvedQueue[] {
  checkDistinctIds(
    context.problems,
    'queue',
    Object.keys(config.queues).map((name) => [`queues.${name}`, name]),
  );
  return Object.entries(config.queues).map(([name, queue]) => resolveQueue(context, name, queue));
}

/** Rule: a queue's tenant rules name configured sources (a typo would silently make that source one tenant). */
export function checkTenantSources(problems: ViolationList, config: ParsedConfig): void {
  const sources = Object.keys(config.sources);
  for (const [name, queue] of Object.entries(config.queues)) {
    for (const source of Object.keys(queue.tenants ?? {})) {
      if (sources.includes(source)) continue;
      problems.add(
        `queues.${name}.tenants.${source}`,
        withDidYouMean('names no configured source', source, sources),
        source,
        `use one of the sources: ${sources.join(', ')}`,
      );
    }
  }
}

/** What is wrong with a metric type of no configured source, with the source it most likely meant. */
function metricTypeSourceMessage(source: string, sources: readonly string[]): string {
  const suggestion = didYouMean(source, sources);
  const form = "a type is <source>.<type>, a job's job.<type>";
  return suggestion
    ? `names no configured source ("${source}"): ${suggestion} ${form[0]?.toUpperCase()}${form.slice(1)}`
    : `names no configured source ("${source}"): ${form}`;
}

/**
 * Rule: a type a consumer's `metricTypes` lists is of a configured source, or a job's or a schedule's: one of no
 * source (a typo) would match no record, and its metrics would go under `other` unnoticed.
 */
export function checkMetricTypeSources(problems: ViolationList, config: ParsedConfig): void {
  const sources = [...Object.keys(config.sources), JOB_SOURCE, SCHEDULE_SOURCE];
  for (const [name, queue] of Object.entries(config.queues)) {
    const listed = queue.consumer?.metricTypes;
    if (!Array.isArray(listed)) continue;
    listed.forEach((type, i) => {
      const source = type.slice(0, type.indexOf('.'));
      if (!type.includes('.') || sources.includes(source)) return;
      problems.add(
        `queues.${name}.consumer.metricTypes.${i}`,
        metricTypeSourceMessage(source, sources),
        type,
        `begin it with one of: ${sources.join(', ')}`,
      );
    });
  }
}

/**
 * Rule: a message group or tenant is never read from a credential header (a signature, a session, an API key, a
 * source's own token header): its value would be the group id and the `hookline.tenant` attribute, so it would
 * show in every outcome line, the journal, `failed show`, the console and the metrics.
 */
export function checkGroupingHeaders(
  problems: ViolationList,
  config: ParsedConfig,
  sources: readonly ResolvedSource[],
): void {
  const credentials = credentialHeadersOfSources(sources);
  const check = (path: string, key: FifoGrouping | TenantKey | undefined) => {
    if (typeof key !== 'object' || !('header' in key)) return;
    if (!credentials.has(key.header.toLowerCase())) return;
    problems.add(
      `${path}.header`,
      'carries a credential: its value (a signature, session, API key or token) would become the group id, shown wherever the event is',
      key.header,
      'group by a header or { path } that names the tenant without carrying a secret',
    );
  };
  for (const [name, queue] of Object.entries(config.queues)) {
    check(`queues.${name}.fifoGrouping`, queue.fifoGrouping);
    for (const [source, key] of Object.entries(queue.tenants ?? {}))
      check(`queues.${name}.tenants.${source}`, key);
  }
}
