/**
 * What the stack (and local mode) hand the ingest function through HOOKLINE_INGEST_CONFIG: sources (each with
 * its sender's settings), queues, routes, deduplication and claim-check settings.
 */
// zod/mini, imported as a namespace: the same validation as zod, and the bundler keeps only the parts used
// (`import { z }` re-exports the whole namespace, locales included: ~400 KB more in every function bundle).
import * as z from 'zod/mini';
import { SENDER_LIST, type SenderType, type SourceSettings } from './senders';

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
