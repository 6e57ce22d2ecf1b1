/**
 * The one typed configuration of a hookline pipeline.
 *
 * `defineConfig` is what a user writes (see `hookline.config.ts`); `resolveConfig` validates it and fills every
 * default, and both the CDK stack and local mode read only the resolved form, so they cannot drift.
 */
import { Duration } from 'aws-cdk-lib';
import { z } from 'zod';
import { SENDER_KEPT_HEADERS } from '../lambda/shared/senders';
import { validateTypePattern } from '../lambda/shared/type-pattern';
import { scheduleProblems } from './schedule-expression';
import { configSenderFor, SENDER_TYPE_NAMES, sourceConfigSchema as sourceSchema } from './senders';
import { duration } from './senders/config-sender';
import {
  consumerViolations,
  defaultDeadlineMargin,
  ingestViolations,
  minimumVisibilityTimeout,
  queueViolations,
  type RuleViolation,
  renderValue,
  visibilityViolations,
} from './validation';

// ---------------------------------------------------------------------------------------------------------
// Input shape (what users write)
// ---------------------------------------------------------------------------------------------------------

const fifoGrouping = z.union([
  z.literal('source'),
  z.literal('type'),
  z.object({ path: z.string().min(1) }).strict(),
]);

const consumerSchema = z
  .object({
    entry: z.string().min(1),
    handler: z.string().min(1).optional(),
    timeout: duration.optional(),
    memorySize: z.number().int().optional(),
    batchSize: z.number().int().optional(),
    maxBatchingWindow: duration.optional(),
    maxConcurrency: z.number().int().optional(),
    parallelism: z.number().int().optional(),
    retry: z
      .object({ base: duration.optional(), factor: z.number().optional(), max: duration.optional() })
      .strict()
      .optional(),
    deadlineMargin: duration.optional(),
    idempotency: z
      .object({ enabled: z.boolean().optional(), expiry: duration.optional() })
      .strict()
      .optional(),
    environment: z.record(z.string(), z.string()).optional(),
  })
  .strict();

const queueSchema = z
  .object({
    fifo: z.boolean().optional(),
    contentBasedDeduplication: z.boolean().optional(),
    fifoGrouping: fifoGrouping.optional(),
    maxReceiveCount: z.number().int().optional(),
    retentionPeriod: duration.optional(),
    deadLetterRetentionPeriod: duration.optional(),
    visibilityTimeout: duration.optional(),
    oldestMessageAgeAlarm: duration.optional(),
    consumer: consumerSchema.optional(),
  })
  .strict();

const routeSchema = z
  .object({
    source: z.string().min(1).optional(),
    type: z.string().min(1).optional(),
    queues: z.array(z.string().min(1)).optional(),
    ignore: z.boolean().optional(),
  })
  .strict();

const scheduleSchema = z
  .object({
    name: z.string().min(1),
    /** `rate(5 minutes)`, `cron(0 9 * * ? *)` or `at(2030-01-31T09:00:00)` (EventBridge Scheduler syntax). */
    expression: z.string().min(1),
    /** IANA time zone in which cron and at expressions are evaluated. @default UTC */
    timezone: z.string().min(1).optional(),
    queue: z.string().min(1),
    type: z.string().min(1),
    payload: z.unknown().optional(),
  })
  .strict();

const configSchema = z
  .object({
    stackName: z.string().min(1).optional(),
    sources: z.record(z.string(), sourceSchema),
    queues: z.record(z.string(), queueSchema),
    routes: z.array(routeSchema).optional(),
    defaultRoute: z
      .union([z.literal('ignore'), z.object({ queues: z.array(z.string().min(1)) }).strict()])
      .optional(),
    ingest: z
      .object({
        rateLimit: z.number().optional(),
        burstLimit: z.number().int().optional(),
        timeout: duration.optional(),
        memorySize: z.number().int().optional(),
        keepHeaders: z.array(z.string().min(1)).optional(),
        secretCache: duration.optional(),
      })
      .strict()
      .optional(),
    dedupe: z.object({ enabled: z.boolean().optional(), ttl: duration.optional() }).strict().optional(),
    payloads: z
      .object({ inlineLimitBytes: z.number().int().optional(), expiry: duration.optional() })
      .strict()
      .optional(),
    alarms: z
      .object({
        email: z.string().email().optional(),
        /**
         * ARN of an existing SNS topic for the alarms instead of a new one. Its access policy must allow
         * `cloudwatch.amazonaws.com` to `sns:Publish` (a new topic gets that grant; an existing one cannot be changed
         * from this stack), or every alarm notification is refused.
         */
        existingTopicArn: z.string().min(1).optional(),
        oldestMessageAge: duration.optional(),
      })
      .strict()
      .optional(),
    logRetentionDays: z.number().int().optional(),
    /**
     * What deleting the stack (or replacing the resource) does to the data it holds: the signing secrets it
     * created and the dedupe and idempotency tables. `'retain'` keeps them (delete them by hand once sure);
     * `'destroy'` deletes them with the stack, for throwaway stacks. The claim-check bucket is always kept.
     *
     * @default 'retain'
     */
    removalPolicy: z.enum(['retain', 'destroy']).optional(),
    /**
     * Active X-Ray tracing on the ingest and consumer functions (HTTP APIs do not support X-Ray themselves).
     *
     * @default false
     */
    tracing: z.boolean().optional(),
    schedules: z.array(scheduleSchema).optional(),
  })
  .strict();

/** A webhook source as written in the configuration. */
export type SourceConfig = z.input<typeof sourceSchema>;
/** A queue (and its optional consumer) as written in the configuration. */
export type QueueConfig = z.input<typeof queueSchema>;
/** A consumer as written in the configuration. */
export type ConsumerConfig = z.input<typeof consumerSchema>;
/** A routing rule as written in the configuration. */
export type RouteConfig = z.input<typeof routeSchema>;
/** A scheduled job as written in the configuration. */
export type ScheduleConfig = z.input<typeof scheduleSchema>;
/** The whole configuration as written by a user. */
export type HooklineConfig = z.input<typeof configSchema>;

/** Declares a configuration with full type checking; validation happens in {@link resolveConfig}. */
export function defineConfig(config: HooklineConfig): HooklineConfig {
  return config;
}

// ---------------------------------------------------------------------------------------------------------
// Defaults and resolved shape (what the stack and local mode read)
// ---------------------------------------------------------------------------------------------------------

/** Every default of the pipeline, in one place; the README's Defaults table mirrors it. */
export const DEFAULTS = {
  stackName: 'Hookline',
  maxReceiveCount: 5,
  retentionPeriod: Duration.days(4),
  deadLetterRetentionPeriod: Duration.days(14),
  oldestMessageAgeAlarm: Duration.minutes(15),
  consumerTimeout: Duration.seconds(30),
  consumerMemorySize: 512,
  batchSize: 10,
  maxBatchingWindow: Duration.seconds(0),
  parallelism: 10,
  retryBase: Duration.seconds(10),
  retryFactor: 2,
  retryMax: Duration.minutes(15),
  deadlineMargin: Duration.seconds(3),
  idempotencyExpiry: Duration.days(3),
  fifoGrouping: 'source' as const,
  /** Sustained webhooks/s the API accepts; ~100 concurrent ingest executions at ~100 ms each. */
  ingestRateLimit: 1000,
  /**
   * Webhooks accepted at once: the documented burst of 1,000 simultaneous deliveries (GitHub never retries a
   * refused one), and Lambda's per-function scaling step (1,000 new environments per 10 s), so a larger burst
   * is answered 429 by the API rather than 500 by a throttled function.
   */
  ingestBurstLimit: 1000,
  ingestTimeout: Duration.seconds(10),
  ingestMemorySize: 512,
  secretCache: Duration.minutes(5),
  signatureTolerance: Duration.minutes(5),
  dedupeTtl: Duration.days(3),
  inlineLimitBytes: 1_048_576 - 16_384,
  payloadExpiry: Duration.days(14),
  logRetentionDays: 30,
  removalPolicy: 'retain' as const,
  tracing: false,
  /** The generic headers, then each sender's event headers (`keptHeaders` in its module). */
  keepHeaders: ['content-type', 'user-agent', ...SENDER_KEPT_HEADERS] as readonly string[],
  // Construct-level defaults: what PipelineQueue, HooklineFunction and PipelineAlarms use when given nothing.
  /** Visibility timeout of a queue no consumer reads (a consumer's queue derives it from its timeout). */
  visibilityTimeout: Duration.seconds(30),
  /** Exported name of a function's handler. */
  handler: 'handler',
  /** Timeout of a HooklineFunction given none. */
  functionTimeout: Duration.seconds(30),
  /** Memory (MB) of a HooklineFunction given none. */
  functionMemorySize: 512,
  /** Period of the dead-letter depth and oldest-message alarms. */
  queueAlarmPeriod: Duration.minutes(1),
  /** Consecutive periods the oldest message must be too old before alarming (a short spike is not an outage). */
  oldestMessageAlarmPeriods: 5,
  /** Period of the function error/throttle and API 5xx alarms. */
  functionAlarmPeriod: Duration.minutes(5),
} as const;

/** Sender retry windows hookline must outlast when it deduplicates: Stripe and Standard Webhooks retry ~3 days. */
const LONGEST_SENDER_RETRY_WINDOW = Duration.days(3);

/** `AWS::Logs::LogGroup` accepts only these retention values. */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

export type ResolvedSource = z.output<typeof sourceSchema> & { readonly name: string };

export interface ResolvedConsumer {
  readonly name: string;
  readonly entry: string;
  readonly handler: string;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly batchSize: number;
  readonly maxBatchingWindow: Duration;
  readonly maxConcurrency?: number;
  readonly parallelism: number;
  readonly retry: { readonly base: Duration; readonly factor: number; readonly max: Duration };
  readonly deadlineMargin: Duration;
  readonly idempotency?: { readonly expiry: Duration };
  readonly environment: Readonly<Record<string, string>>;
}

export interface ResolvedQueue {
  readonly name: string;
  readonly fifo: boolean;
  readonly contentBasedDeduplication: boolean;
  readonly fifoGrouping: 'source' | 'type' | { readonly path: string };
  readonly maxReceiveCount: number;
  readonly retentionPeriod: Duration;
  readonly deadLetterRetentionPeriod: Duration;
  readonly visibilityTimeout: Duration;
  readonly oldestMessageAgeAlarm: Duration;
  readonly consumer?: ResolvedConsumer;
}

export interface ResolvedRoute {
  readonly source: string;
  readonly type: string;
  readonly queues: readonly string[];
  readonly ignore: boolean;
}

export interface ResolvedSchedule {
  readonly name: string;
  readonly expression: string;
  readonly timezone: string;
  readonly queue: string;
  readonly type: string;
  readonly payload: unknown;
}

export interface ResolvedConfig {
  readonly stackName: string;
  readonly sources: readonly ResolvedSource[];
  readonly queues: readonly ResolvedQueue[];
  readonly routes: readonly ResolvedRoute[];
  readonly defaultRoute: ResolvedRoute;
  readonly ingest: {
    readonly rateLimit: number;
    readonly burstLimit: number;
    readonly timeout: Duration;
    readonly memorySize: number;
    readonly keepHeaders: readonly string[];
    readonly secretCache: Duration;
  };
  readonly dedupe?: { readonly ttl: Duration };
  readonly payloads: { readonly inlineLimitBytes: number; readonly expiry: Duration };
  readonly alarms: {
    readonly email?: string;
    readonly existingTopicArn?: string;
    readonly oldestMessageAge: Duration;
  };
  readonly logRetentionDays: number;
  /** What deleting the stack does to the secrets and tables it created. */
  readonly removalPolicy: 'retain' | 'destroy';
  /** Whether the ingest and consumer functions trace actively with X-Ray. */
  readonly tracing: boolean;
  readonly schedules: readonly ResolvedSchedule[];
}

// ---------------------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------------------

/** One problem found in a configuration. */
export interface ConfigIssue {
  /** Dotted path of the field, e.g. `queues.events.consumer.batchSize`. */
  readonly path: string;
  /** What is wrong. */
  readonly message: string;
  /** The value given, rendered for a person. */
  readonly value: string;
  /** How to fix it. */
  readonly fix: string;
}

/** Thrown by {@link resolveConfig}; its message lists every issue with the value given and the fix. */
export class HooklineConfigError extends Error {
  constructor(public readonly issues: readonly ConfigIssue[]) {
    super(
      `Invalid hookline configuration (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n` +
        issues.map((i) => `  - ${i.path}: ${i.message} (got ${i.value}). Fix: ${i.fix}`).join('\n'),
    );
    this.name = 'HooklineConfigError';
  }
}

const NAME_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;

const show = renderValue;

function seconds(d: Duration): number {
  return d.toSeconds({ integral: false });
}

/** Collaborators of {@link resolveConfig} that reach outside the configuration object. */
export interface ResolveOptions {
  /**
   * Whether a consumer entry file exists; the configuration loader checks it relative to the project root.
   * @default - entry files are not checked
   */
  readonly entryExists?: (entry: string) => boolean;
}

type ZodIssue = z.core.$ZodIssue;

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>(
    (node, key) =>
      node && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[key] : undefined,
    input,
  );
}

/** One {@link ConfigIssue} per shape problem; an unknown key is reported at its own path with its value. */
function shapeIssues(issue: ZodIssue, input: unknown): ConfigIssue[] {
  const pathOf = (path: readonly PropertyKey[]) => path.map(String).join('.') || '(root)';
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      path: pathOf([...issue.path, key]),
      message: 'is not a known setting here',
      value: show(valueAt(input, [...issue.path, key])),
      fix: `remove or rename ${key}; see the configuration reference in README.md`,
    }));
  }
  return [
    {
      path: pathOf(issue.path),
      message: issue.message,
      value: show(valueAt(input, issue.path)),
      fix:
        issue.code === 'invalid_union'
          ? `use one of the documented source types: ${SENDER_TYPE_NAMES.join(', ')}`
          : 'correct the value as described in the configuration reference in README.md',
    },
  ];
}

/** A copy of `node` without the property at `path`, copying only the objects along the path. */
function withoutPath(node: unknown, path: readonly PropertyKey[]): unknown {
  const [head, ...rest] = path;
  if (head === undefined || !node || typeof node !== 'object' || Array.isArray(node)) return node;
  const copy: Record<PropertyKey, unknown> = { ...(node as Record<PropertyKey, unknown>) };
  if (rest.length === 0) delete copy[head];
  else copy[head] = withoutPath(copy[head], rest);
  return copy;
}

/**
 * Checks the shape. A shape problem (an unknown key, a wrong type) is reported and its field left out, then the
 * rest is parsed again, so the rules below still run and every problem surfaces in one listing. Stops when
 * leaving fields out makes no progress (e.g. a missing required field); `data` is then undefined.
 */
function parseShape(input: HooklineConfig): { data?: z.output<typeof configSchema>; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  let current: unknown = input;
  for (let round = 0; round < 10; round++) {
    const parsed = configSchema.safeParse(current);
    if (parsed.success) return { data: parsed.data, issues };
    let progressed = false;
    for (const issue of parsed.error.issues) {
      const key = `${issue.code}:${issue.path.map(String).join('.')}`;
      if (seen.has(key)) continue;
      seen.add(key);
      progressed = true;
      issues.push(...shapeIssues(issue, input));
      const removals =
        issue.code === 'unrecognized_keys' ? issue.keys.map((k) => [...issue.path, k]) : [issue.path];
      for (const path of removals) current = withoutPath(current, path);
    }
    if (!progressed) break;
  }
  return { issues };
}

/** Validates a configuration and fills every default. Throws {@link HooklineConfigError} listing all problems. */
export function resolveConfig(input: HooklineConfig, options: ResolveOptions = {}): ResolvedConfig {
  const shape = parseShape(input);
  if (!shape.data) throw new HooklineConfigError(shape.issues);
  const config = shape.data;
  const issues: ConfigIssue[] = [...shape.issues];
  const fail = (path: string, message: string, value: unknown, fix: string) =>
    issues.push({ path, message, value: show(value), fix });
  const report = (prefix: string, violations: readonly RuleViolation[]) => {
    for (const v of violations) fail(`${prefix}.${v.field}`, v.message, v.value, v.fix);
  };

  const sourceNames = Object.keys(config.sources);
  const queueNames = Object.keys(config.queues);
  if (sourceNames.length === 0)
    fail(
      'sources',
      'at least one source is required',
      config.sources,
      'add a source, e.g. { github: { type: "github" } }',
    );
  if (queueNames.length === 0)
    fail('queues', 'at least one queue is required', config.queues, 'add a queue, e.g. { events: {} }');

  const sources: ResolvedSource[] = [];
  for (const [name, source] of Object.entries(config.sources)) {
    const path = `sources.${name}`;
    if (!NAME_PATTERN.test(name)) {
      fail(
        path,
        'source names are lower-case letters, digits and dashes, starting with a letter, at most 40 characters',
        name,
        'rename the source, e.g. "github" or "billing-stripe"',
      );
    }
    if ('tolerance' in source && source.tolerance !== undefined) {
      const s = seconds(source.tolerance);
      if (s <= 0) {
        fail(
          `${path}.tolerance`,
          'a tolerance of 0 disables replay protection and is refused',
          source.tolerance,
          'remove it to use the 5-minute default, or give a positive Duration',
        );
      } else if (s > 3600) {
        fail(
          `${path}.tolerance`,
          'tolerance above 1 hour leaves a long replay window',
          source.tolerance,
          'use at most Duration.hours(1); the senders sign fresh timestamps on every retry',
        );
      }
    }
    report(path, configSenderFor(source).violations(source));
    sources.push({ ...source, name });
  }

  const queues: ResolvedQueue[] = [];
  for (const [name, queue] of Object.entries(config.queues)) {
    const path = `queues.${name}`;
    if (!NAME_PATTERN.test(name)) {
      fail(
        path,
        'queue names are lower-case letters, digits and dashes, starting with a letter, at most 40 characters',
        name,
        'rename the queue, e.g. "events" or "billing-jobs"',
      );
    }
    const fifo = queue.fifo ?? false;
    if (!fifo && queue.fifoGrouping !== undefined) {
      fail(
        `${path}.fifoGrouping`,
        'message groups exist only on FIFO queues',
        queue.fifoGrouping,
        'remove it, or set fifo: true',
      );
    }
    const maxReceiveCount = queue.maxReceiveCount ?? DEFAULTS.maxReceiveCount;
    const retentionPeriod = queue.retentionPeriod ?? DEFAULTS.retentionPeriod;
    const deadLetterRetentionPeriod = queue.deadLetterRetentionPeriod ?? DEFAULTS.deadLetterRetentionPeriod;
    report(
      path,
      queueViolations({
        fifo,
        maxReceiveCount,
        retentionPeriod,
        deadLetterRetentionPeriod,
        ...(queue.contentBasedDeduplication !== undefined
          ? { contentBasedDeduplication: queue.contentBasedDeduplication }
          : {}),
        ...(queue.visibilityTimeout ? { visibilityTimeout: queue.visibilityTimeout } : {}),
      }),
    );

    let consumer: ResolvedConsumer | undefined;
    let visibilityTimeout = queue.visibilityTimeout ?? DEFAULTS.visibilityTimeout;
    if (queue.consumer) {
      const c = queue.consumer;
      const cpath = `${path}.consumer`;
      if (options.entryExists && !options.entryExists(c.entry)) {
        fail(
          `${cpath}.entry`,
          'the consumer entry file does not exist',
          c.entry,
          'create the file, or give its path relative to the project root, e.g. "lambda/consumers/events.ts"',
        );
      }
      const timeout = c.timeout ?? DEFAULTS.consumerTimeout;
      const window = c.maxBatchingWindow ?? DEFAULTS.maxBatchingWindow;
      const batchSize = c.batchSize ?? DEFAULTS.batchSize;
      const memorySize = c.memorySize ?? DEFAULTS.consumerMemorySize;
      report(
        cpath,
        consumerViolations({
          fifo,
          timeout,
          batchSize,
          maxBatchingWindow: window,
          memorySize,
          ...(c.maxConcurrency !== undefined ? { maxConcurrency: c.maxConcurrency } : {}),
        }),
      );
      report(path, visibilityViolations(queue.visibilityTimeout, timeout, window));
      visibilityTimeout = queue.visibilityTimeout ?? minimumVisibilityTimeout(timeout, window);
      const parallelism = c.parallelism ?? DEFAULTS.parallelism;
      if (parallelism < 1 || parallelism > 1000) {
        fail(
          `${cpath}.parallelism`,
          'must be between 1 and 1000 records at once',
          parallelism,
          `use ${DEFAULTS.parallelism}`,
        );
      }
      const retry = {
        base: c.retry?.base ?? DEFAULTS.retryBase,
        factor: c.retry?.factor ?? DEFAULTS.retryFactor,
        max: c.retry?.max ?? DEFAULTS.retryMax,
      };
      if (retry.factor < 1 || retry.factor > 10) {
        fail(
          `${cpath}.retry.factor`,
          'the backoff factor is between 1 and 10',
          retry.factor,
          'use 2 (each retry waits twice as long)',
        );
      }
      if (seconds(retry.max) > 43_200 || seconds(retry.max) < 1) {
        fail(
          `${cpath}.retry.max`,
          'SQS visibility can be extended by at most 12 hours',
          retry.max,
          'use at most Duration.hours(12)',
        );
      }
      if (seconds(retry.base) > seconds(retry.max)) {
        fail(
          `${cpath}.retry.base`,
          `must not exceed retry.max (${retry.max.toHumanString()})`,
          retry.base,
          'lower retry.base or raise retry.max',
        );
      }
      const deadlineMargin = c.deadlineMargin ?? defaultDeadlineMargin(timeout, DEFAULTS.deadlineMargin);
      if (deadlineMargin.toMilliseconds() >= timeout.toMilliseconds()) {
        fail(
          `${cpath}.deadlineMargin`,
          `must be shorter than the consumer timeout (${timeout.toHumanString()})`,
          deadlineMargin,
          'use a few seconds, e.g. Duration.seconds(3)',
        );
      }
      const idempotencyEnabled = c.idempotency?.enabled ?? true;
      const expiry = c.idempotency?.expiry ?? DEFAULTS.idempotencyExpiry;
      if (idempotencyEnabled && seconds(expiry) < 60) {
        fail(
          `${cpath}.idempotency.expiry`,
          'an idempotency record must live at least a minute',
          expiry,
          `use ${DEFAULTS.idempotencyExpiry.toHumanString()}, which outlasts sender retries`,
        );
      }
      consumer = {
        name,
        entry: c.entry,
        handler: c.handler ?? DEFAULTS.handler,
        timeout,
        memorySize,
        batchSize,
        maxBatchingWindow: window,
        ...(c.maxConcurrency !== undefined ? { maxConcurrency: c.maxConcurrency } : {}),
        parallelism,
        retry,
        deadlineMargin,
        ...(idempotencyEnabled ? { idempotency: { expiry } } : {}),
        environment: c.environment ?? {},
      };
    }
    const fg = queue.fifoGrouping ?? DEFAULTS.fifoGrouping;
    queues.push({
      name,
      fifo,
      contentBasedDeduplication: queue.contentBasedDeduplication ?? false,
      fifoGrouping: fg,
      maxReceiveCount,
      retentionPeriod,
      deadLetterRetentionPeriod,
      visibilityTimeout,
      oldestMessageAgeAlarm:
        queue.oldestMessageAgeAlarm ?? config.alarms?.oldestMessageAge ?? DEFAULTS.oldestMessageAgeAlarm,
      ...(consumer ? { consumer } : {}),
    });
  }

  const checkQueueRefs = (path: string, names: readonly string[]) => {
    for (const [i, q] of names.entries()) {
      if (!queueNames.includes(q)) {
        fail(
          `${path}.${i}`,
          'names a queue that is not configured',
          q,
          `use one of: ${queueNames.join(', ')}`,
        );
      }
    }
  };
  const routes: ResolvedRoute[] = [];
  for (const [i, route] of (config.routes ?? []).entries()) {
    const path = `routes.${i}`;
    const source = route.source ?? '*';
    if (source !== '*' && !sourceNames.includes(source)) {
      fail(
        `${path}.source`,
        'names a source that is not configured',
        source,
        `use one of: ${sourceNames.join(', ')}, or "*"`,
      );
    }
    const ignore = route.ignore ?? false;
    const targets = route.queues ?? [];
    if (ignore && targets.length > 0) {
      fail(
        path,
        'a route either ignores events or sends them to queues, not both',
        route,
        'remove queues or ignore',
      );
    }
    if (!ignore && targets.length === 0) {
      fail(
        `${path}.queues`,
        'a route needs at least one target queue (or ignore: true)',
        route.queues,
        'add queues: ["events"], or set ignore: true',
      );
    }
    checkQueueRefs(`${path}.queues`, targets);
    const typePattern = route.type ?? '*';
    try {
      validateTypePattern(typePattern);
    } catch (error) {
      fail(
        `${path}.type`,
        (error as Error).message,
        route.type,
        'use an exact type, "*" for one segment or "**" for anything',
      );
    }
    routes.push({ source, type: typePattern, queues: targets, ignore });
  }
  let defaultRoute: ResolvedRoute;
  if (config.defaultRoute === 'ignore') {
    defaultRoute = { source: '*', type: '**', queues: [], ignore: true };
  } else {
    const targets = config.defaultRoute?.queues ?? queueNames.slice(0, 1);
    if (config.defaultRoute && targets.length === 0) {
      fail(
        'defaultRoute.queues',
        'needs at least one queue',
        targets,
        'add a queue name, or use defaultRoute: "ignore"',
      );
    }
    checkQueueRefs('defaultRoute.queues', targets);
    defaultRoute = { source: '*', type: '**', queues: targets, ignore: false };
  }

  const ingest = config.ingest ?? {};
  const rateLimit = ingest.rateLimit ?? DEFAULTS.ingestRateLimit;
  const burstLimit = ingest.burstLimit ?? DEFAULTS.ingestBurstLimit;
  const ingestTimeout = ingest.timeout ?? DEFAULTS.ingestTimeout;
  const ingestMemory = ingest.memorySize ?? DEFAULTS.ingestMemorySize;
  report(
    'ingest',
    ingestViolations({ rateLimit, burstLimit, timeout: ingestTimeout, memorySize: ingestMemory }, 'ingest.'),
  );

  const dedupeEnabled = config.dedupe?.enabled ?? true;
  const dedupeTtl = config.dedupe?.ttl ?? DEFAULTS.dedupeTtl;
  if (dedupeEnabled && seconds(dedupeTtl) < seconds(LONGEST_SENDER_RETRY_WINDOW)) {
    fail(
      'dedupe.ttl',
      `must be at least ${LONGEST_SENDER_RETRY_WINDOW.toHumanString()}, the longest sender retry window (Stripe, Standard Webhooks)`,
      dedupeTtl,
      'use Duration.days(3) or more',
    );
  }
  const inlineLimitBytes = config.payloads?.inlineLimitBytes ?? DEFAULTS.inlineLimitBytes;
  if (inlineLimitBytes < 1024 || inlineLimitBytes > 1_048_576) {
    fail(
      'payloads.inlineLimitBytes',
      'between 1024 bytes and the SQS limit of 1048576 bytes',
      inlineLimitBytes,
      `use ${DEFAULTS.inlineLimitBytes}`,
    );
  }
  const payloadExpiry = config.payloads?.expiry ?? DEFAULTS.payloadExpiry;
  const longestRetention = Math.max(0, ...queues.map((q) => seconds(q.deadLetterRetentionPeriod)));
  if (seconds(payloadExpiry) < longestRetention) {
    fail(
      'payloads.expiry',
      `must outlast the longest dead-letter retention (${longestRetention / 86_400} days), or a redriven message points at a deleted payload`,
      payloadExpiry,
      'use Duration.days(14) or more',
    );
  }
  const logRetentionDays = config.logRetentionDays ?? DEFAULTS.logRetentionDays;
  if (!LOG_RETENTION_DAYS.includes(logRetentionDays)) {
    fail(
      'logRetentionDays',
      'CloudWatch Logs accepts only certain retention periods',
      logRetentionDays,
      `use one of ${LOG_RETENTION_DAYS.join(', ')}`,
    );
  }
  if (config.alarms?.email && config.alarms.existingTopicArn) {
    fail(
      'alarms',
      'give either an email to subscribe to a new topic or an existing topic, not both',
      config.alarms,
      'remove email or existingTopicArn',
    );
  }

  const schedules: ResolvedSchedule[] = [];
  const scheduleNames = new Set<string>();
  for (const [i, s] of (config.schedules ?? []).entries()) {
    const path = `schedules.${i}`;
    if (!NAME_PATTERN.test(s.name))
      fail(
        `${path}.name`,
        'schedule names are lower-case letters, digits and dashes',
        s.name,
        'rename it, e.g. "nightly-report"',
      );
    if (scheduleNames.has(s.name))
      fail(`${path}.name`, 'schedule names must be unique', s.name, 'rename one of them');
    scheduleNames.add(s.name);
    const timezone = s.timezone ?? 'UTC';
    for (const problem of scheduleProblems(s.expression, timezone)) {
      const value = problem.field === 'expression' ? s.expression : timezone;
      fail(`${path}.${problem.field}`, problem.message, value, problem.fix);
    }
    checkQueueRefs(`${path}.queue`, [s.queue]);
    const target = config.queues[s.queue];
    if (target?.fifo)
      fail(`${path}.queue`, 'schedules send to standard queues only', s.queue, 'target a standard queue');
    schedules.push({
      name: s.name,
      expression: s.expression,
      timezone,
      queue: s.queue,
      type: s.type,
      payload: s.payload ?? {},
    });
  }

  if (issues.length > 0) throw new HooklineConfigError(issues);

  return {
    stackName: config.stackName ?? DEFAULTS.stackName,
    sources,
    queues,
    routes,
    defaultRoute,
    ingest: {
      rateLimit,
      burstLimit,
      timeout: ingestTimeout,
      memorySize: ingestMemory,
      keepHeaders: ingest.keepHeaders?.map((h) => h.toLowerCase()) ?? DEFAULTS.keepHeaders,
      secretCache: ingest.secretCache ?? DEFAULTS.secretCache,
    },
    ...(dedupeEnabled ? { dedupe: { ttl: dedupeTtl } } : {}),
    payloads: { inlineLimitBytes, expiry: payloadExpiry },
    alarms: {
      ...(config.alarms?.email ? { email: config.alarms.email } : {}),
      ...(config.alarms?.existingTopicArn ? { existingTopicArn: config.alarms.existingTopicArn } : {}),
      oldestMessageAge: config.alarms?.oldestMessageAge ?? DEFAULTS.oldestMessageAgeAlarm,
    },
    logRetentionDays,
    removalPolicy: config.removalPolicy ?? DEFAULTS.removalPolicy,
    tracing: config.tracing ?? DEFAULTS.tracing,
    schedules,
  };
}
