/**
 * What the CDK stack (and local mode) hand to the functions through their environment.
 *
 * `lib/runtime-wiring.ts` builds these objects from the one typed configuration; the functions parse them
 * once at cold start. Plain JSON only: durations are in seconds, with the unit in the name.
 */
// zod/mini: the same validation as zod with a tree-shakable API, so function bundles stay small.
import { z } from 'zod/mini';
import { SENDER_LIST, type SenderType, type SourceSettings } from './senders';

export const INGEST_CONFIG_ENV = 'HOOKLINE_INGEST_CONFIG';
export const CONSUMER_CONFIG_ENV = 'HOOKLINE_CONSUMER_CONFIG';

type SettingsSchema = (typeof SENDER_LIST)[number]['settings'];

/** One source's settings: the schema of its sender (`./senders`), chosen by `type`. */
export const sourceRuntimeSchema = z.discriminatedUnion(
  'type',
  SENDER_LIST.map((sender) => sender.settings) as unknown as readonly [SettingsSchema, ...SettingsSchema[]],
);
export type SourceRuntimeConfig = SourceSettings;
export type SourceType = SenderType;

export const fifoGroupingSchema = z.union([
  z.object({ by: z.literal('source') }),
  z.object({ by: z.literal('type') }),
  z.object({ by: z.literal('path'), path: z.string().check(z.minLength(1)) }),
]);
export type FifoGrouping = z.infer<typeof fifoGroupingSchema>;

export const queueTargetSchema = z.object({
  url: z.string().check(z.minLength(1)),
  fifo: z.boolean(),
  grouping: z.optional(fifoGroupingSchema),
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
  /** Headers copied into the envelope (lower-case); signature headers are always dropped. */
  keepHeaders: z.array(z.string()),
  /** How long a loaded secret is trusted before it is fetched again. */
  secretCacheSeconds: z.int().check(z.positive()),
});
export type IngestRuntimeConfig = z.infer<typeof ingestRuntimeSchema>;

export const consumerRuntimeSchema = z.object({
  /** Consumer (queue) name from the configuration, used in logs, metrics and dead-letter attributes. */
  name: z.string().check(z.minLength(1)),
  queueUrl: z.string().check(z.minLength(1)),
  deadLetterQueueUrl: z.string().check(z.minLength(1)),
  fifo: z.boolean(),
  maxReceiveCount: z.int().check(z.positive()),
  /** Records handled at once within one batch on a standard queue. */
  parallelism: z.int().check(z.positive()),
  retry: z.object({
    baseSeconds: z.int().check(z.nonnegative()),
    factor: z.number().check(z.minimum(1)),
    maxSeconds: z.int().check(z.positive(), z.maximum(43_200)),
  }),
  /** Records not yet started are handed back when less than this remains of the invocation. */
  deadlineMarginMs: z.int().check(z.nonnegative()),
  idempotency: z.optional(
    z.object({ tableName: z.string().check(z.minLength(1)), expirySeconds: z.int().check(z.positive()) }),
  ),
  payloadBucket: z.optional(z.string().check(z.minLength(1))),
});
export type ConsumerRuntimeConfig = z.infer<typeof consumerRuntimeSchema>;

/** Reads and validates a JSON configuration from the environment; the message names the variable and the fix. */
export function readRuntimeConfig<T>(
  schema: z.ZodMiniType<T>,
  variable: string,
  env: Record<string, string | undefined> = process.env,
): T {
  const raw = env[variable];
  if (raw === undefined || raw === '') {
    throw new Error(
      `${variable} is not set: deploy with the hookline stack or run through local mode (npm start)`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new Error(`${variable} is not valid JSON: redeploy so the stack writes it again`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new Error(
      `${variable} is invalid at ${first?.path.join('.') || '(root)'}: ${first?.message}${
        first && 'expected' in first ? ` (expected ${String(first.expected)})` : ''
      }; redeploy with a valid configuration`,
    );
  }
  return parsed.data;
}
