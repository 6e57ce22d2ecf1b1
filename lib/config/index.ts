/**
 * The one typed configuration of a hookline pipeline.
 *
 * `defineConfig` is what a user writes (see `hookline.config.ts`; the fields are documented in `schema.ts`);
 * `resolveConfig` validates it and fills every default (`defaults.ts`), section by section (`resolve-*.ts`), and
 * both the CDK stack and local mode read only the resolved form (`resolved.ts`), so they cannot drift.
 */
import type { EntryExports } from '../entry-exports';
import { stackNameViolations } from '../validation';
import { ViolationList } from '../violations';
import { DEFAULTS } from './defaults';
import { HooklineConfigError, parseShape } from './parse-shape';
import { resolveJobsEndpoint } from './resolve-jobs';
import {
  checkGroupingHeaders,
  checkMetricTypeSources,
  checkTenantSources,
  entryExample,
  existingEntryFolders,
  resolveQueues,
} from './resolve-queues';
import { resolveDefaultRoute, resolveRoutes } from './resolve-routes';
import { resolveSchedules } from './resolve-schedules';
import {
  checkKeptHeaders,
  resolveAlarms,
  resolveArchive,
  resolveDedupe,
  resolveIngest,
  resolveLogRetentionDays,
  resolvePayloads,
} from './resolve-settings';
import { resolveSources } from './resolve-sources';
import type { ResolvedConfig } from './resolved';
import type { HooklineConfig, ParsedConfig } from './schema';

export { DEFAULTS, LONGEST_SENDER_RETRY_WINDOW, OLDEST_MESSAGE_ALARM_WINDOW } from './defaults';
export { HooklineConfigError } from './parse-shape';
export type * from './resolved';
export type {
  AlarmsConfig,
  ArchiveConfig,
  CircuitBreakerConfig,
  ConsumerConfig,
  DedupeConfig,
  DefaultRouteConfig,
  FifoGrouping,
  ForwardConfig,
  HooklineConfig,
  IdempotencyConfig,
  IngestConfig,
  JobsConfig,
  JobsEndpointConfig,
  PayloadsConfig,
  QueueConfig,
  RateLimitConfig,
  RetryConfig,
  RouteConfig,
  ScheduleConfig,
  SourceConfig,
  TenantKey,
} from './schema';

/** Declares a configuration with full type checking; validation happens in {@link resolveConfig}. */
export function defineConfig(config: HooklineConfig): HooklineConfig {
  return config;
}

/** Collaborators of {@link resolveConfig} that reach outside the configuration object. */
export interface ResolveOptions {
  /**
   * Whether a consumer entry file exists; the configuration loader checks it relative to the project root.
   * @default - entry files are not checked
   */
  readonly entryExists?: (entry: string) => boolean;
  /**
   * The folder a consumer entry must be under when it is outside the one its function is bundled from, else
   * undefined; the configuration loader checks it against the project's lockfile folder.
   * @default - not checked
   */
  readonly entryOutsideBundleRoot?: (entry: string) => string | undefined;
  /**
   * What an existing consumer entry file exports ({@link EntryExports}): its names, `'commonjs'`, or undefined where
   * they cannot be known without running it; the configuration loader reads them with esbuild, so that a `handler`
   * naming none of them, or an entry in CommonJS, fails here rather than on every message after a deploy.
   * @default - handler names are not checked
   */
  readonly entryExports?: (entry: string) => EntryExports;
  /**
   * The folder the project's lockfile was looked for from when there is none, else undefined: `cdk synth` bundles
   * consumers with NodejsFunction, which needs one (local mode bundles without, so it does not pass this).
   * @default - not checked
   */
  readonly lockFileMissing?: () => string | undefined;
  /**
   * Check what only a deploy needs too: a forwarding consumer's `url` is `https://` on a public host (local mode
   * posts to a loopback `localUrl`, so it does not pass this).
   * @default false
   */
  readonly forDeploy?: boolean;
}

/**
 * Rule: a pipeline has at least one source and one queue. One left out for its shape problem (`events: null`) was
 * given: that problem is reported, not a missing one.
 */
function checkNotEmpty(problems: ViolationList, config: ParsedConfig): void {
  const reported = (section: string) => problems.violations.some((v) => v.path.startsWith(`${section}.`));
  if (Object.keys(config.sources).length === 0 && !reported('sources'))
    problems.add(
      'sources',
      'at least one source is required',
      config.sources,
      // A pipeline of jobs alone gets here first: say how to have one without webhooks reaching its queues.
      'add a source, e.g. { github: { type: "github" } }; for a pipeline of jobs alone, add one and set defaultRoute: "ignore" so that no webhook reaches its queues',
    );
  if (Object.keys(config.queues).length === 0 && !reported('queues'))
    problems.add(
      'queues',
      'at least one queue is required',
      config.queues,
      'add a queue, e.g. { events: {} }',
    );
}

/** Every section resolved in turn; a section's problems do not stop the next one from being checked. */
function resolveSections(
  problems: ViolationList,
  config: ParsedConfig,
  options: ResolveOptions,
  entryFolders: readonly string[],
): ResolvedConfig {
  checkNotEmpty(problems, config);
  problems.addAll('stackName', stackNameViolations('', config.stackName));
  const sources = resolveSources(problems, config);
  const queues = resolveQueues(
    {
      problems,
      ...(options.entryExists ? { entryExists: options.entryExists } : {}),
      entryFolders,
      ...(options.entryOutsideBundleRoot ? { entryOutsideBundleRoot: options.entryOutsideBundleRoot } : {}),
      ...(options.entryExports ? { entryExports: options.entryExports } : {}),
      ...(options.lockFileMissing ? { lockFileMissing: options.lockFileMissing } : {}),
      deployed: options.forDeploy ?? false,
      oldestMessageAge: config.alarms?.oldestMessageAge ?? DEFAULTS.oldestMessageAgeAlarm,
    },
    config,
  );
  checkTenantSources(problems, config);
  checkMetricTypeSources(problems, config);
  checkGroupingHeaders(problems, config, sources);
  checkKeptHeaders(problems, config, sources);
  const routes = resolveRoutes(problems, config);
  const defaultRoute = resolveDefaultRoute(problems, config);
  const ingest = resolveIngest(problems, config);
  const dedupe = resolveDedupe(problems, config);
  const payloads = resolvePayloads(problems, config, queues);
  const archive = resolveArchive(problems, config);
  const logRetentionDays = resolveLogRetentionDays(problems, config);
  const alarms = resolveAlarms(problems, config);
  const schedules = resolveSchedules(problems, config);
  const jobsEndpoint = resolveJobsEndpoint(problems, config);
  return {
    stackName: config.stackName ?? DEFAULTS.stackName,
    sources,
    queues,
    routes,
    defaultRoute,
    ingest,
    ...(dedupe ? { dedupe } : {}),
    payloads,
    ...(archive ? { archive } : {}),
    alarms,
    logRetentionDays,
    removalPolicy: config.removalPolicy ?? DEFAULTS.removalPolicy,
    tracing: config.tracing ?? DEFAULTS.tracing,
    schedules,
    ...(jobsEndpoint ? { jobsEndpoint } : {}),
  };
}

/** Validates a configuration and fills every default. Throws {@link HooklineConfigError} listing all problems. */
export function resolveConfig(input: HooklineConfig, options: ResolveOptions = {}): ResolvedConfig {
  const { entryExists } = options;
  // Read once, from the configuration as given: the shape check's messages need them before it is parsed.
  const entryFolders = existingEntryFolders(entryExists, (input as { queues?: unknown } | undefined)?.queues);
  const shape = parseShape(input, options.forDeploy ?? false, (queue) =>
    entryExample({ ...(entryExists ? { entryExists } : {}), entryFolders }, queue),
  );
  if (!shape.data) throw new HooklineConfigError(shape.issues);
  const problems = new ViolationList();
  problems.violations.push(...shape.issues);
  const resolved = resolveSections(problems, shape.data, options, entryFolders);
  if (problems.violations.length > 0) throw new HooklineConfigError(problems.violations);
  return resolved;
}
