/**
 * What a configured pipeline's stack holds that AWS bills by the month whatever its traffic: its CloudWatch alarms
 * (by the metrics each reads), dashboards and Secrets Manager secrets, counted in the stack as `cdk synth` would
 * make it, so that `hookline cost` prices exactly what a deploy creates (grants and schedules included); and the
 * custom metrics its functions write, as far as the configuration makes their dimensions' values known. Loaded by
 * `hookline cost` only when it runs: it brings the whole stack.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { BREAKER_METRICS } from '../lambda/shared/circuit-breaker';
import {
  CONSUMER_TYPE_COUNTS,
  INGEST_METRICS,
  INGEST_REASONS,
  SIGNATURE_MISMATCH_METRIC,
} from '../lambda/shared/contracts';
import { DEFAULTS, type ResolvedConfig, type ResolvedConsumer, type ResolvedQueue } from './config';
import type { CustomMetricGroup, StackAlarm, StackInventory } from './cost-model';
import { sourceNeedsSecret } from './runtime-wiring';
import { WebhookPipelineStack } from './webhook-pipeline-stack';

/** One resource of a synthesized template, as far as the inventory reads it. */
interface TemplateResource {
  readonly Type?: string;
  readonly Properties?: {
    readonly MetricName?: unknown;
    readonly Metrics?: readonly { readonly MetricStat?: unknown; readonly Expression?: unknown }[];
  };
  readonly Metadata?: Readonly<Record<string, unknown>>;
}

/** A synthesized CloudFormation template, as far as the inventory reads it. */
export interface InventoryTemplate {
  readonly Resources?: Readonly<Record<string, TemplateResource>>;
}

/** A Metrics Insights query (`SELECT ... FROM ...`), which CloudWatch bills by the metrics it analyzes. */
const isInsightsQuery = (expression: unknown) =>
  typeof expression === 'string' && /^\s*SELECT\s/i.test(expression);

/**
 * An alarm as CloudWatch bills it: one metric when it names one, each metric a metric math alarm reads (its
 * `MetricStat` entries: one metric read with two statistics is two), or a Metrics Insights query (no count).
 */
function alarmOf(logicalId: string, resource: TemplateResource): StackAlarm {
  // The construct's id (`DeadLetters-events`) reads better than the logical id, when the path is kept.
  const path = resource.Metadata?.['aws:cdk:path'];
  const name = typeof path === 'string' ? (path.split('/').at(-2) ?? logicalId) : logicalId;
  const props = resource.Properties ?? {};
  if (props.MetricName !== undefined) return { name, metrics: 1 };
  const queries = props.Metrics ?? [];
  if (queries.some((q) => isInsightsQuery(q.Expression))) return { name };
  return { name, metrics: queries.filter((q) => q.MetricStat !== undefined).length };
}

/** The alarms, dashboards and secrets of a synthesized template. */
export function inventoryOfTemplate(template: InventoryTemplate): StackInventory {
  const resources = Object.entries(template.Resources ?? {});
  const ofType = (type: string) => resources.filter(([, r]) => r.Type === type);
  return {
    alarms: ofType('AWS::CloudWatch::Alarm').map(([id, r]) => alarmOf(id, r)),
    dashboards: ofType('AWS::CloudWatch::Dashboard').length,
    secrets: ofType('AWS::SecretsManager::Secret').length,
  };
}

/**
 * The inventory of the stack `config` makes, synthesized in memory without bundling any function (the template is
 * the same; only the assets' contents are left out).
 */
export function synthesizedInventory(config: ResolvedConfig): StackInventory {
  // The cloud assembly is written somewhere: a folder of our own, removed once read, leaves nothing behind.
  const outdir = mkdtempSync(join(tmpdir(), 'hookline-cost-'));
  try {
    const app = new App({
      outdir,
      context: { 'aws:cdk:bundling-stacks': [], 'aws:cdk:enable-path-metadata': true },
      // The template is counted, never deployed: `cdk synth` validates it. CloudFormation's validation engine takes
      // seconds to start and prints its findings, which are no part of a price.
      builtinCloudFormationValidation: false,
    });
    const stack = new WebhookPipelineStack(app, config.stackName, { config });
    const template = app.synth().getStackByName(stack.stackName).template as InventoryTemplate;
    return inventoryOfTemplate(template);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** The dimension values of a consumer's `type` its queue's routes make known: `<source>.<type>` of each typed route. */
function routedTypes(config: Pick<ResolvedConfig, 'sources' | 'routes'>, queue: string): number {
  const concrete = config.routes.filter(
    (r) => !r.ignore && r.queues.includes(queue) && !r.type.includes('*'),
  );
  return concrete.reduce((n, r) => n + (r.source === '*' ? config.sources.length : 1), 0);
}

type MetricsConfig = Pick<ResolvedConfig, 'sources' | 'routes' | 'queues' | 'dedupe' | 'archive'>;

/** The ingest's metrics written with any traffic: a queued webhook's count and its enqueue's time. */
const INGEST_HOURLY: readonly string[] = [
  'Accepted',
  'EnqueueLatency',
] satisfies (typeof INGEST_METRICS)[number][];

/**
 * The ingest's: its counts and latency under `service` (each only where the configuration can make it), its
 * `Rejected` and `Failed` by `reason`, its `SignatureMismatch` per verifying source.
 */
function ingestMetrics(config: MetricsConfig): CustomMetricGroup[] {
  const when = INGEST_METRICS.filter((m) => !INGEST_HOURLY.includes(m)).filter(
    (m) =>
      (m !== 'Duplicate' || config.dedupe !== undefined) &&
      (m !== 'Unverified' || config.sources.some((source) => !sourceNeedsSecret(source))) &&
      (m !== 'ArchiveFailed' || config.archive !== undefined),
  );
  return [
    { what: `ingest ${INGEST_HOURLY.join(', ')}`, count: INGEST_HOURLY.length, written: 'hourly' },
    {
      what: `ingest ${SIGNATURE_MISMATCH_METRIC} per verifying source`,
      count: config.sources.filter(sourceNeedsSecret).length,
      written: 'hourly',
    },
    { what: `ingest ${when.join(', ')}`, count: when.length, written: 'when' },
    { what: 'ingest Rejected and Failed by reason', count: INGEST_REASONS.length, written: 'when' },
  ];
}

/**
 * The `type` values a consumer writes its metrics under: with `metricTypes: 'each'`, the types its queue's routes
 * name, one at least (the dimension is then unbounded: see `fixedMonthlyCost`'s notes); with a list, those listed and
 * `other`; with `'none'`, `other` alone.
 */
function metricTypeValues(config: MetricsConfig, queue: ResolvedQueue): number {
  const metricTypes = queue.consumer?.metricTypes ?? DEFAULTS.metricTypes;
  if (metricTypes === 'each') return Math.max(1, routedTypes(config, queue.name));
  return metricTypes === 'none' ? 1 : metricTypes.length + 1;
}

/** Which `type` values the count is made of, for the reader: one phrase per `metricTypes` the consumers have. */
function typeValuesWhich(settings: readonly ResolvedConsumer['metricTypes'][]): string {
  const phrases = [
    settings.includes('none') && "other per queue with metricTypes 'none'",
    settings.some(Array.isArray) && 'the listed types and other per queue with a metricTypes list',
    settings.includes('each') && "the routes' types (one at least) per queue with metricTypes 'each'",
  ];
  return phrases.filter((p) => typeof p === 'string').join(', ');
}

/**
 * Each consumer's: its counts and latency per event `type` value, as its `metricTypes` bounds them, its failed archive
 * puts, and a circuit breaker's two totals.
 */
function consumerMetrics(config: MetricsConfig): CustomMetricGroup[] {
  const consumed = config.queues.filter((q) => q.consumer);
  const types = consumed.reduce((n, q) => n + metricTypeValues(config, q), 0);
  const unbounded = consumed.some((q) => q.consumer?.metricTypes === 'each');
  const breakers = consumed.filter((q) => q.consumer?.circuitBreaker).length;
  const onFailure = CONSUMER_TYPE_COUNTS.filter((m) => m !== 'Processed');
  const which = typeValuesWhich(consumed.map((q) => q.consumer?.metricTypes ?? DEFAULTS.metricTypes));
  return [
    {
      what: `consumers' Processed and EndToEndLatency per queue and event type (${types}: ${which})`,
      count: 2 * types,
      written: 'hourly',
      ...(unbounded ? { unbounded: true } : {}),
    },
    {
      what: `circuit breakers' ${BREAKER_METRICS.ended} and ${BREAKER_METRICS.failed}`,
      count: 2 * breakers,
      written: 'hourly',
    },
    {
      what: `consumers' ${onFailure.join(', ')} per queue and event type`,
      count: onFailure.length * types,
      written: 'when',
      ...(unbounded ? { unbounded: true } : {}),
    },
    { what: "consumers' ArchiveFailed", count: config.archive ? consumed.length : 0, written: 'when' },
  ];
}

/**
 * The custom metrics the configuration makes known (namespace `Hookline/<stack>`; names and dimensions in
 * `lambda/shared/contracts`), the ingest's and each consumer's: those written with any traffic first.
 */
export function customMetricsOf(config: MetricsConfig): CustomMetricGroup[] {
  const groups = [...ingestMetrics(config), ...consumerMetrics(config)].filter((g) => g.count > 0);
  return [...groups.filter((g) => g.written === 'hourly'), ...groups.filter((g) => g.written === 'when')];
}
