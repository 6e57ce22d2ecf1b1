/**
 * Turns the resolved configuration into the JSON the functions read from their environment.
 *
 * Both the CDK stack (with CloudFormation tokens for URLs and names) and local mode (with emulator URLs) call
 * these two functions, which is what keeps a deployed pipeline and a local one identical.
 */
import { Aws, type Duration } from 'aws-cdk-lib/core';
import type { AwsLocation } from '../lambda/shared/aws-location';
import {
  DEFAULT_KEEP_HEADERS,
  type FifoGrouping,
  type IngestConfigVariable,
  type QueueEntry,
  type RouteEntry,
} from '../lambda/shared/ingest-config';
import type { ProducerSettings } from '../lambda/shared/producer-config';
import type {
  ConsumerRuntimeConfig,
  IngestRuntimeConfig,
  SourceRuntimeConfig,
} from '../lambda/shared/runtime-config';
import { SENDERS } from '../lambda/shared/senders';
import {
  DEFAULTS,
  type ResolvedConfig,
  type ResolvedConsumer,
  type ResolvedQueue,
  type ResolvedSource,
} from './config';
import { runtimeSettingsOf } from './senders';

/** Where a stack's resources are, as deploy-time tokens: the partition, region, account and URL suffix. */
export const STACK_LOCATION: AwsLocation = {
  partition: Aws.PARTITION,
  region: Aws.REGION,
  account: Aws.ACCOUNT_ID,
  urlSuffix: Aws.URL_SUFFIX,
};

/** Where each queue, table and bucket actually is: tokens in the stack, emulator URLs in local mode. */
export interface PipelineResources {
  readonly queueUrls: Readonly<Record<string, string>>;
  readonly deadLetterQueueUrls: Readonly<Record<string, string>>;
  /** Where the queues are ({@link STACK_LOCATION} in the stack, the emulator's locally): the ingest needs it. */
  readonly location?: AwsLocation;
  /** Each queue's physical name: the ingest function derives its URL from it and {@link location}. */
  readonly queueNames?: Readonly<Record<string, string>>;
  /**
   * Secret id per source name: `secret:<ARN tail>` for a secret in the stack's account and region, else its ARN
   * or name in AWS; `env:HOOKLINE_SECRET_<SOURCE>` in local mode.
   */
  readonly secretIds: Readonly<Record<string, string>>;
  readonly dedupeTableName?: string;
  readonly idempotencyTableName?: string;
  readonly payloadBucketName?: string;
  /** The event archive's delivery stream (a Firehose stream in AWS, local mode's stand-in locally). */
  readonly archiveStreamName?: string;
}

/**
 * The part of the resolved configuration the ingest function's configuration is built from (a
 * `ResolvedConfig` is one): sources, routes, each queue's FIFO grouping, dedupe, claim-check and header settings.
 */
export interface IngestSettings {
  /** The webhook sources: how each is verified and where its type and delivery id are read. */
  readonly sources: ResolvedConfig['sources'];
  /** Each queue's name and how a message to it is grouped (FIFO grouping, tenants). */
  readonly queues: readonly Pick<ResolvedQueue, 'name' | 'fifo' | 'fifoGrouping' | 'tenants'>[];
  /** Which queues each source and type is enqueued to. */
  readonly routes: ResolvedConfig['routes'];
  /** Where an event no route matches goes. */
  readonly defaultRoute: ResolvedConfig['defaultRoute'];
  /**
   * How long a delivery id is remembered, so a redelivered webhook is acknowledged but not enqueued twice.
   *
   * @default - no deduplication at ingest
   */
  readonly dedupe?: ResolvedConfig['dedupe'];
  /** The largest envelope sent inline in SQS; a larger body is claim-checked in S3. */
  readonly payloads: Pick<ResolvedConfig['payloads'], 'inlineLimitBytes'>;
  /** The request headers kept in each event's envelope, and how long a loaded signing secret is used. */
  readonly ingest: Pick<ResolvedConfig['ingest'], 'keepHeaders' | 'secretCache'>;
}

/** The part of a resolved queue one consumer function's configuration is built from (a `ResolvedQueue` is one). */
export interface ConsumerSettings {
  readonly name: string;
  readonly fifo: boolean;
  readonly maxReceiveCount: number;
  /** How long the queue keeps a message from its send (a `ResolvedQueue` always says); unknown, none is assumed. */
  readonly retentionPeriod?: ResolvedQueue['retentionPeriod'];
  /** How long its dead-letter queue keeps a message (a `ResolvedQueue` always says). */
  readonly deadLetterRetentionPeriod?: ResolvedQueue['deadLetterRetentionPeriod'];
  readonly consumer?: Pick<
    ResolvedConsumer,
    | 'parallelism'
    | 'retry'
    | 'deadlineMargin'
    | 'idempotency'
    | 'rateLimit'
    | 'circuitBreaker'
    | 'metricTypes'
  > & {
    /** A forwarding consumer's request timeout, which a record must have left to start. */
    readonly forward?: { readonly timeout: Duration };
  };
}

/**
 * Whether a consumer keeps items in the consumer table (the idempotency table): its idempotency records, and
 * its rate limit's window counts. One rule for the stack and local mode, which create the table for it.
 */
export function usesConsumerTable(
  consumer: Pick<ResolvedConsumer, 'idempotency' | 'rateLimit'> | undefined,
): boolean {
  return consumer?.idempotency !== undefined || consumer?.rateLimit !== undefined;
}

function required<T>(map: Readonly<Record<string, T>>, key: string, what: string): T {
  const value = map[key];
  if (value === undefined)
    throw new Error(`no ${what} for "${key}": the resources passed to the wiring are incomplete`);
  return value;
}

/** The runtime form of one source, mapped by its sender (`lib/senders/<type>.ts`). */
export function sourceRuntimeConfig(
  source: ResolvedSource,
  secretId: string | undefined,
): SourceRuntimeConfig {
  return runtimeSettingsOf(source, {
    secretId: () => {
      if (secretId === undefined)
        throw new Error(
          `no secret id for source "${source.name}": the resources passed to the wiring are incomplete`,
        );
      return secretId;
    },
  });
}

/** True when a source needs a signing secret. */
export const sourceNeedsSecret = (source: ResolvedSource): boolean => SENDERS[source.type].needsSecret;

/**
 * A source's runtime settings where its requests are read but never verified (`hookline send`'s samples and types,
 * a replay's grouping): no secret is read, so a placeholder stands in for the secret id.
 */
export const readingSettingsOf = (source: ResolvedSource): SourceRuntimeConfig =>
  sourceRuntimeConfig(source, sourceNeedsSecret(source) ? 'not read' : undefined);

/** The runtime form of a grouping or tenant rule; header names lower-case, as the ingest reads them. */
function groupingOf(grouping: ResolvedQueue['fifoGrouping']): FifoGrouping {
  if (typeof grouping === 'string') return { by: grouping };
  if ('header' in grouping) return { by: 'header', header: grouping.header.toLowerCase() };
  return { by: 'path', path: grouping.path };
}

/**
 * How messages to one queue are grouped: a FIFO queue's grouping (left out when by source, the runtime's
 * default), a fair standard queue's tenant rules.
 */
function groupingFieldsOf(
  q: Pick<ResolvedQueue, 'fifo' | 'fifoGrouping' | 'tenants'>,
): Pick<QueueEntry, 'grouping' | 'tenants'> {
  if (q.fifo) return q.fifoGrouping === 'source' ? {} : { grouping: groupingOf(q.fifoGrouping) };
  if (!q.tenants) return {};
  return {
    tenants: Object.fromEntries(Object.entries(q.tenants).map(([source, key]) => [source, groupingOf(key)])),
  };
}

/** How a replay sends to one queue: its URL, FIFO grouping or fair-queue tenant rules, as the ingest does. */
export function queueTargetOf(
  q: Pick<ResolvedQueue, 'fifo' | 'fifoGrouping' | 'tenants'>,
  url: string,
): IngestRuntimeConfig['queues'][string] {
  return { url, fifo: q.fifo, ...groupingFieldsOf(q) };
}

/** The routes in their runtime form: the ingest routes with them, and a replay routes the same way. */
export function routingOf(
  config: Pick<IngestSettings, 'routes' | 'defaultRoute'>,
): Pick<IngestRuntimeConfig, 'routes' | 'defaultRoute'> {
  return {
    routes: config.routes.map((r) => ({
      source: r.source,
      type: r.type,
      queues: [...r.queues],
      ignore: r.ignore,
    })),
    defaultRoute: { queues: [...config.defaultRoute.queues], ignore: config.defaultRoute.ignore },
  };
}

/**
 * The queues a webhook can reach: those a route or the default route enqueues to (an ignoring route enqueues
 * nothing). Only these are in the ingest function's configuration and grants; a queue fed only by jobs or
 * schedules stays out of reach of the public endpoint.
 */
export function routedQueues<Q extends { readonly name: string }>(
  config: Pick<IngestSettings, 'routes' | 'defaultRoute'> & { readonly queues: readonly Q[] },
): Q[] {
  const routed = new Set<string>();
  for (const route of [...config.routes, config.defaultRoute]) {
    if (!route.ignore) for (const queue of route.queues) routed.add(queue);
  }
  return config.queues.filter((q) => routed.has(q.name));
}

/**
 * The dedupe table and the claim-check bucket as the ingest and the job producer both use them: a delivery id or
 * job key claimed for the dedupe window, bodies above the inline limit put under `payloads/`.
 */
export function claimSettingsOf(
  config: Pick<IngestSettings, 'dedupe' | 'payloads'>,
  resources: Pick<PipelineResources, 'dedupeTableName' | 'payloadBucketName'>,
): Pick<IngestRuntimeConfig, 'dedupe' | 'payloads'> {
  return {
    ...(config.dedupe && resources.dedupeTableName
      ? { dedupe: { tableName: resources.dedupeTableName, ttlSeconds: config.dedupe.ttl.toSeconds() } }
      : {}),
    ...(resources.payloadBucketName
      ? {
          payloads: {
            bucket: resources.payloadBucketName,
            inlineLimitBytes: config.payloads.inlineLimitBytes,
          },
        }
      : {}),
  };
}

/** A job producer's claim settings: the ingest's, and how long the bucket keeps a payload. */
export function producerClaimSettingsOf(
  config: Pick<IngestSettings, 'dedupe'> & Pick<ResolvedConfig, 'payloads'>,
  resources: Pick<PipelineResources, 'dedupeTableName' | 'payloadBucketName'>,
): Pick<ProducerSettings, 'dedupe' | 'payloads'> {
  const { dedupe, payloads } = claimSettingsOf(config, resources);
  return {
    ...(dedupe ? { dedupe } : {}),
    ...(payloads ? { payloads: { ...payloads, expirySeconds: config.payloads.expiry.toSeconds() } } : {}),
  };
}

/**
 * The ingest function's configuration, as its variable holds it (`ingestConfigOf` completes it at cold start):
 * where the stack is once, each routed queue by its physical name, each route and header list without defaults.
 */
export function ingestRuntimeConfig(
  config: IngestSettings,
  resources: PipelineResources,
): IngestConfigVariable {
  const { location, queueNames = {} } = resources;
  if (!location) throw new Error('no queue location: the resources passed to the wiring are incomplete');
  const { routes, defaultRoute } = routingOf(config);
  return {
    where: location,
    sources: Object.fromEntries(
      config.sources.map((s) => [s.name, sourceRuntimeConfig(s, resources.secretIds[s.name])]),
    ),
    queues: Object.fromEntries(
      routedQueues(config).map((q) => [
        q.name,
        { queue: required(queueNames, q.name, 'queue name'), ...groupingFieldsOf(q) },
      ]),
    ),
    routes: routes.map(routeEntryOf),
    defaultRoute: routeEntryOf({ source: '*', type: '*', ...defaultRoute }),
    ...claimSettingsOf(config, resources),
    ...(resources.archiveStreamName ? { archive: { deliveryStream: resources.archiveStreamName } } : {}),
    ...(sameList(config.ingest.keepHeaders, DEFAULT_KEEP_HEADERS)
      ? {}
      : { keepHeaders: [...config.ingest.keepHeaders] }),
    secretCacheSeconds: config.ingest.secretCache.toSeconds(),
  };
}

/** A route without the fields at their "any" value, which the runtime fills back in. */
function routeEntryOf(route: IngestRuntimeConfig['routes'][number]): RouteEntry {
  return {
    ...(route.source === '*' ? {} : { source: route.source }),
    ...(route.type === '*' ? {} : { type: route.type }),
    ...(route.queues.length > 0 ? { queues: [...route.queues] } : {}),
    ...(route.ignore ? { ignore: true } : {}),
  };
}

const sameList = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((item, i) => item === b[i]);

/** The types a consumer writes metrics under their own `type`: every type (left out), none, or those listed. */
function metricTypesRuntimeOf(
  metricTypes: ResolvedConsumer['metricTypes'],
): Pick<ConsumerRuntimeConfig, 'metricTypes'> {
  if (metricTypes === 'each') return {};
  return { metricTypes: metricTypes === 'none' ? [] : [...metricTypes] };
}

/** One consumer function's configuration. */
export function consumerRuntimeConfig(
  queue: ConsumerSettings,
  resources: PipelineResources,
): ConsumerRuntimeConfig {
  const consumer = queue.consumer;
  if (!consumer) throw new Error(`queue "${queue.name}" has no consumer`);
  return {
    name: queue.name,
    queueUrl: required(resources.queueUrls, queue.name, 'queue URL'),
    deadLetterQueueUrl: required(resources.deadLetterQueueUrls, queue.name, 'dead-letter queue URL'),
    fifo: queue.fifo,
    maxReceiveCount: queue.maxReceiveCount,
    ...(queue.retentionPeriod ? { retentionSeconds: queue.retentionPeriod.toSeconds() } : {}),
    parallelism: consumer.parallelism,
    retry: {
      baseSeconds: consumer.retry.base.toSeconds(),
      factor: consumer.retry.factor,
      maxSeconds: consumer.retry.max.toSeconds(),
    },
    deadlineMarginMs: consumer.deadlineMargin.toMilliseconds(),
    // A request the deadline could cut off is not started: the destination might take the event all the same.
    ...(consumer.forward
      ? {
          startMarginMs: consumer.deadlineMargin.toMilliseconds() + consumer.forward.timeout.toMilliseconds(),
        }
      : {}),
    ...(consumer.idempotency && resources.idempotencyTableName
      ? {
          idempotency: {
            tableName: resources.idempotencyTableName,
            expirySeconds: consumer.idempotency.expiry.toSeconds(),
          },
        }
      : {}),
    ...(consumer.circuitBreaker ? { circuitBreaker: true } : {}),
    ...metricTypesRuntimeOf(consumer.metricTypes),
    ...(consumer.rateLimit
      ? {
          // Required, not skipped when absent: a configured limit silently off would hammer the API it protects.
          rateLimit: {
            limit: consumer.rateLimit.limit,
            intervalMs: consumer.rateLimit.interval.toMilliseconds(),
            tableName: required(
              resources.idempotencyTableName ? { [queue.name]: resources.idempotencyTableName } : {},
              queue.name,
              'consumer table (rate limit)',
            ),
          },
        }
      : {}),
    ...(resources.payloadBucketName ? { payloadBucket: resources.payloadBucketName } : {}),
    ...(resources.dedupeTableName
      ? {
          jobRecords: {
            tableName: resources.dedupeTableName,
            deadLetterRetentionSeconds: (
              queue.deadLetterRetentionPeriod ?? DEFAULTS.deadLetterRetentionPeriod
            ).toSeconds(),
          },
        }
      : {}),
    ...(resources.archiveStreamName ? { archive: { deliveryStream: resources.archiveStreamName } } : {}),
  };
}
