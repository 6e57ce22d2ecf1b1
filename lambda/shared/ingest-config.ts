/**
 * What the stack (and local mode) hand the ingest function through HOOKLINE_INGEST_CONFIG: sources (each with
 * its sender's settings), queues, routes, deduplication and claim-check settings.
 *
 * Lambda allows 4 KB for all of a function's variables, so the variable ({@link ingestVariableSchema}) says where
 * the stack is once and each queue and stack-made secret by its name, and leaves out what the runtime defaults;
 * {@link ingestConfigOf} derives the full configuration ({@link IngestRuntimeConfig}) from it once, at cold start.
 */
// zod/mini, imported as a namespace: the same validation as zod, and the bundler keeps only the parts used
// (`import { z }` re-exports the whole namespace, locales included: ~400 KB more in every function bundle).
import * as z from 'zod/mini';
import { arnOf, awsLocationSchema, queueUrlOf } from './aws-location';
import { isFifoQueueName } from './contracts';
import { readRuntimeConfig } from './read-runtime-config';
import { SENDER_KEPT_HEADERS, SENDER_LIST, type SenderType, type SourceSettings } from './senders';

export const INGEST_CONFIG_ENV = 'HOOKLINE_INGEST_CONFIG';

type SettingsSchema = (typeof SENDER_LIST)[number]['settings'];

/** One source's settings: the schema of its sender (`./senders`), chosen by `type`. */
export const sourceRuntimeSchema = z.discriminatedUnion(
  'type',
  SENDER_LIST.map((sender) => sender.settings) as unknown as readonly [SettingsSchema, ...SettingsSchema[]],
);
export type SourceRuntimeConfig = SourceSettings;
export type SourceType = SenderType;

/** Where a message's group id comes from: FIFO grouping, and the tenant of a fair standard queue. */
export const fifoGroupingSchema = z.union([
  z.object({ by: z.literal('source') }),
  z.object({ by: z.literal('type') }),
  z.object({ by: z.literal('path'), path: z.string().check(z.minLength(1)) }),
  /** A request header, lower-case. */
  z.object({ by: z.literal('header'), header: z.string().check(z.minLength(1)) }),
]);
export type FifoGrouping = z.infer<typeof fifoGroupingSchema>;

export const queueTargetSchema = z.object({
  url: z.string().check(z.minLength(1)),
  fifo: z.boolean(),
  grouping: z.optional(fifoGroupingSchema),
  /**
   * Standard queues only: the tenant of each source's events, sent as the message group id so SQS fair
   * queues keep one tenant's backlog from delaying the others. A source not listed is one tenant (its name).
   */
  tenants: z.optional(z.record(z.string(), fifoGroupingSchema)),
});
export type QueueTarget = z.infer<typeof queueTargetSchema>;

export const routeRuntimeSchema = z.object({
  /** Source name, or `*` for any source. */
  source: z.string().check(z.minLength(1)),
  /** Exact type, or a pattern where `*` matches one dot-separated segment and a trailing `**`/`*` any rest. */
  type: z.string().check(z.minLength(1)),
  /** Target queue names; empty together with `ignore: true`. */
  queues: z.array(z.string().check(z.minLength(1))),
  ignore: z.boolean(),
});
export type RouteRuntimeConfig = z.infer<typeof routeRuntimeSchema>;

export const ingestRuntimeSchema = z.object({
  sources: z.record(z.string(), sourceRuntimeSchema),
  queues: z.record(z.string(), queueTargetSchema),
  /** First match wins. */
  routes: z.array(routeRuntimeSchema),
  /** Used when no route matches. */
  defaultRoute: z.object({ queues: z.array(z.string().check(z.minLength(1))), ignore: z.boolean() }),
  dedupe: z.optional(
    z.object({ tableName: z.string().check(z.minLength(1)), ttlSeconds: z.int().check(z.positive()) }),
  ),
  payloads: z.optional(
    z.object({
      bucket: z.string().check(z.minLength(1)),
      /** Envelopes whose serialized size exceeds this go to the bucket. */
      inlineLimitBytes: z.int().check(z.positive()),
    }),
  ),
  /** The event archive: every accepted event is put to this delivery stream, concurrently with its enqueue. */
  archive: z.optional(z.object({ deliveryStream: z.string().check(z.minLength(1)) })),
  /** Headers copied into the envelope (lower-case); signature headers are always dropped. */
  keepHeaders: z.array(z.string()),
  /** How long a loaded secret is trusted before it is fetched again. */
  secretCacheSeconds: z.int().check(z.positive()),
});
export type IngestRuntimeConfig = z.infer<typeof ingestRuntimeSchema>;

/** The headers an envelope keeps unless `ingest.keepHeaders` says otherwise: the generic ones, then the senders'. */
export const DEFAULT_KEEP_HEADERS: readonly string[] = ['content-type', 'user-agent', ...SENDER_KEPT_HEADERS];

/**
 * The start of a source's `secretId` in the variable for a secret in the stack's own account and region: the
 * rest is the tail of its ARN (`<name>-<6 characters>`), which {@link ingestConfigOf} completes with where the
 * stack is. No secret name holds a colon and no ARN starts so, so it is never read as either.
 */
export const STACK_SECRET_PREFIX = 'secret:';

/** A routed queue in the variable: its physical name (FIFO when it ends in `.fifo`) and how it groups. */
export const queueEntrySchema = z.object({
  queue: z.string().check(z.minLength(1)),
  /** FIFO queues only; absent, a message's group is its source. */
  grouping: z.optional(fifoGroupingSchema),
  tenants: z.optional(z.record(z.string(), fifoGroupingSchema)),
});
export type QueueEntry = z.infer<typeof queueEntrySchema>;

/** A route in the variable: a field at its "any" value (`*` source, `*` type, no queues, not ignored) is left out. */
export const routeEntrySchema = z.object({
  source: z.optional(z.string().check(z.minLength(1))),
  type: z.optional(z.string().check(z.minLength(1))),
  queues: z.optional(z.array(z.string().check(z.minLength(1)))),
  ignore: z.optional(z.boolean()),
});
export type RouteEntry = z.infer<typeof routeEntrySchema>;

/** `HOOKLINE_INGEST_CONFIG` as written: {@link ingestRuntimeSchema}, compacted to fit Lambda's 4 KB. */
export const ingestVariableSchema = z.object({
  /** Where the stack's queues and secrets are (local mode: the SQS emulator's origin too). */
  where: awsLocationSchema,
  ...ingestRuntimeSchema.shape,
  queues: z.record(z.string(), queueEntrySchema),
  routes: z.array(routeEntrySchema),
  defaultRoute: routeEntrySchema,
  /** Absent: {@link DEFAULT_KEEP_HEADERS}. */
  keepHeaders: z.optional(z.array(z.string())),
});
export type IngestConfigVariable = z.infer<typeof ingestVariableSchema>;

/** The full configuration from the variable: each queue's URL, each stack secret's ARN, every default filled in. */
export function ingestConfigOf(variable: IngestConfigVariable): IngestRuntimeConfig {
  const { where, sources, queues, routes, defaultRoute, keepHeaders, ...settings } = variable;
  const secretIdOf = (secretId: string) =>
    secretId.startsWith(STACK_SECRET_PREFIX) ? arnOf(where, 'secretsmanager', secretId) : secretId;
  return {
    ...settings,
    sources: Object.fromEntries(
      Object.entries(sources).map(([name, source]) => [
        name,
        'secretId' in source ? { ...source, secretId: secretIdOf(source.secretId) } : source,
      ]),
    ),
    queues: Object.fromEntries(
      Object.entries(queues).map(([name, { queue, ...grouping }]) => [
        name,
        { url: queueUrlOf(where, queue), fifo: isFifoQueueName(queue), ...grouping },
      ]),
    ),
    routes: routes.map(routeOf),
    defaultRoute: (({ queues, ignore }) => ({ queues, ignore }))(routeOf(defaultRoute)),
    keepHeaders: keepHeaders ?? [...DEFAULT_KEEP_HEADERS],
  };
}

function routeOf(route: RouteEntry): RouteRuntimeConfig {
  return {
    source: route.source ?? '*',
    type: route.type ?? '*',
    queues: route.queues ?? [],
    ignore: route.ignore ?? false,
  };
}

/** Reads and completes the ingest function's configuration from `env` (a deployed function's, for the CLI). */
export function readIngestConfig(env: Record<string, string | undefined> = process.env): IngestRuntimeConfig {
  return ingestConfigOf(readRuntimeConfig(ingestVariableSchema, INGEST_CONFIG_ENV, env));
}
