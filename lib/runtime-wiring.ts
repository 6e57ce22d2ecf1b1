/**
 * Turns the resolved configuration into the JSON the functions read from their environment.
 *
 * Both the CDK stack (with CloudFormation tokens for URLs and names) and local mode (with emulator URLs) call
 * these two functions, which is what keeps a deployed pipeline and a local one identical.
 */
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

/** Where each queue, table and bucket actually is: tokens in the stack, emulator URLs in local mode. */
export interface PipelineResources {
  readonly queueUrls: Readonly<Record<string, string>>;
  readonly deadLetterQueueUrls: Readonly<Record<string, string>>;
  /** Secret id per source name (ARN or name in AWS; `env:HOOKLINE_SECRET_<SOURCE>` in local mode). */
  readonly secretIds: Readonly<Record<string, string>>;
  readonly dedupeTableName?: string;
  readonly idempotencyTableName?: string;
  readonly payloadBucketName?: string;
}

/**
 * The part of the resolved configuration the ingest function's configuration is built from (a
 * `ResolvedConfig` is one): sources, routes, each queue's FIFO grouping, dedupe, claim-check and header settings.
 */
export interface IngestSettings {
  readonly sources: ResolvedConfig['sources'];
  readonly queues: readonly Pick<ResolvedQueue, 'name' | 'fifo' | 'fifoGrouping'>[];
  readonly routes: ResolvedConfig['routes'];
  readonly defaultRoute: ResolvedConfig['defaultRoute'];
  readonly dedupe?: ResolvedConfig['dedupe'];
  readonly payloads: Pick<ResolvedConfig['payloads'], 'inlineLimitBytes'>;
  readonly ingest: Pick<ResolvedConfig['ingest'], 'keepHeaders' | 'secretCache'>;
}

/** The part of a resolved queue one consumer function's configuration is built from (a `ResolvedQueue` is one). */
export interface ConsumerSettings {
  readonly name: string;
  readonly fifo: boolean;
  readonly maxReceiveCount: number;
  readonly consumer?: Pick<ResolvedConsumer, 'parallelism' | 'retry' | 'deadlineMargin' | 'idempotency'>;
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
    defaultTolerance: DEFAULTS.signatureTolerance,
  });
}

/** True when a source needs a signing secret. */
export const sourceNeedsSecret = (source: ResolvedSource): boolean => SENDERS[source.type].needsSecret;

/** The ingest function's configuration. */
export function ingestRuntimeConfig(
  config: IngestSettings,
  resources: PipelineResources,
): IngestRuntimeConfig {
  return {
    sources: Object.fromEntries(
      config.sources.map((s) => [s.name, sourceRuntimeConfig(s, resources.secretIds[s.name])]),
    ),
    queues: Object.fromEntries(
      config.queues.map((q) => [
        q.name,
        {
          url: required(resources.queueUrls, q.name, 'queue URL'),
          fifo: q.fifo,
          ...(q.fifo
            ? {
                grouping:
                  typeof q.fifoGrouping === 'string'
                    ? { by: q.fifoGrouping }
                    : { by: 'path' as const, path: q.fifoGrouping.path },
              }
            : {}),
        },
      ]),
    ),
    routes: config.routes.map((r) => ({
      source: r.source,
      type: r.type,
      queues: [...r.queues],
      ignore: r.ignore,
    })),
    defaultRoute: { queues: [...config.defaultRoute.queues], ignore: config.defaultRoute.ignore },
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
    keepHeaders: [...config.ingest.keepHeaders],
    secretCacheSeconds: config.ingest.secretCache.toSeconds(),
  };
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
    parallelism: consumer.parallelism,
    retry: {
      baseSeconds: consumer.retry.base.toSeconds(),
      factor: consumer.retry.factor,
      maxSeconds: consumer.retry.max.toSeconds(),
    },
    deadlineMarginMs: consumer.deadlineMargin.toMilliseconds(),
    ...(consumer.idempotency && resources.idempotencyTableName
      ? {
          idempotency: {
            tableName: resources.idempotencyTableName,
            expirySeconds: consumer.idempotency.expiry.toSeconds(),
          },
        }
      : {}),
    ...(resources.payloadBucketName ? { payloadBucket: resources.payloadBucketName } : {}),
    ...(resources.dedupeTableName ? { jobRecords: { tableName: resources.dedupeTableName } } : {}),
  };
}
