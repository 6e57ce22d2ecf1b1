/**
 * What the CDK stack (and local mode) hand to the functions through their environment.
 *
 * `lib/runtime-wiring.ts` builds these objects from the one typed configuration; the functions parse them
 * once at cold start. Plain JSON only: durations are in seconds, with the unit in the name.
 */
import { z } from 'zod';

export const INGEST_CONFIG_ENV = 'HOOKLINE_INGEST_CONFIG';
export const CONSUMER_CONFIG_ENV = 'HOOKLINE_CONSUMER_CONFIG';

const secretRef = {
  /** Secrets Manager secret id (ARN or name). Local mode uses `env:HOOKLINE_SECRET_<SOURCE>` instead. */
  secretId: z.string().min(1),
};

const timestamped = {
  /** Largest accepted distance between the signed timestamp and now. Never 0. */
  toleranceSeconds: z.number().int().positive(),
};

export const sourceRuntimeSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('github'), ...secretRef }),
  z.object({ type: z.literal('stripe'), ...secretRef, ...timestamped }),
  z.object({ type: z.literal('slack'), ...secretRef, ...timestamped }),
  z.object({ type: z.literal('shopify'), ...secretRef }),
  z.object({ type: z.literal('standard-webhooks'), ...secretRef, ...timestamped }),
  z.object({
    type: z.literal('twilio'),
    ...secretRef,
    /** Externally visible base URL (scheme + host + stage path) that Twilio signs; else built from the request. */
    publicUrl: z.string().url().optional(),
  }),
  z.object({
    type: z.literal('hmac'),
    ...secretRef,
    header: z.string().min(1),
    algorithm: z.enum(['sha1', 'sha256', 'sha512']),
    encoding: z.enum(['hex', 'base64']),
    prefix: z.string(),
    timestampHeader: z.string().min(1).optional(),
    toleranceSeconds: z.number().int().positive().optional(),
    /** Template of the signed content; `{body}`, `{timestamp}` and `{id}` are replaced. */
    signedContent: z.string().min(1),
    idHeader: z.string().min(1).optional(),
    idPath: z.string().min(1).optional(),
    typePath: z.string().min(1).optional(),
    typeHeader: z.string().min(1).optional(),
  }),
  z.object({
    type: z.literal('token'),
    ...secretRef,
    /** `header`: the named header carries the token (optionally `Bearer `); `basic`: HTTP basic auth password. */
    scheme: z.enum(['header', 'basic']),
    header: z.string().min(1),
    idHeader: z.string().min(1).optional(),
    idPath: z.string().min(1).optional(),
    typePath: z.string().min(1).optional(),
    typeHeader: z.string().min(1).optional(),
  }),
  z.object({
    type: z.literal('unverified'),
    idHeader: z.string().min(1).optional(),
    idPath: z.string().min(1).optional(),
    typePath: z.string().min(1).optional(),
    typeHeader: z.string().min(1).optional(),
  }),
]);
export type SourceRuntimeConfig = z.infer<typeof sourceRuntimeSchema>;
export type SourceType = SourceRuntimeConfig['type'];

export const fifoGroupingSchema = z.union([
  z.object({ by: z.literal('source') }),
  z.object({ by: z.literal('type') }),
  z.object({ by: z.literal('path'), path: z.string().min(1) }),
]);
export type FifoGrouping = z.infer<typeof fifoGroupingSchema>;

export const queueTargetSchema = z.object({
  url: z.string().min(1),
  fifo: z.boolean(),
  grouping: fifoGroupingSchema.optional(),
});
export type QueueTarget = z.infer<typeof queueTargetSchema>;

export const routeRuntimeSchema = z.object({
  /** Source name, or `*` for any source. */
  source: z.string().min(1),
  /** Exact type, or a pattern where `*` matches one dot-separated segment and a trailing `**`/`*` any rest. */
  type: z.string().min(1),
  /** Target queue names; empty together with `ignore: true`. */
  queues: z.array(z.string().min(1)),
  ignore: z.boolean(),
});
export type RouteRuntimeConfig = z.infer<typeof routeRuntimeSchema>;

export const ingestRuntimeSchema = z.object({
  sources: z.record(z.string(), sourceRuntimeSchema),
  queues: z.record(z.string(), queueTargetSchema),
  /** First match wins. */
  routes: z.array(routeRuntimeSchema),
  /** Used when no route matches. */
  defaultRoute: z.object({ queues: z.array(z.string().min(1)), ignore: z.boolean() }),
  dedupe: z.object({ tableName: z.string().min(1), ttlSeconds: z.number().int().positive() }).optional(),
  payloads: z
    .object({
      bucket: z.string().min(1),
      /** Envelopes whose serialized size exceeds this go to the bucket. */
      inlineLimitBytes: z.number().int().positive(),
    })
    .optional(),
  /** Headers copied into the envelope (lower-case); signature headers are always dropped. */
  keepHeaders: z.array(z.string()),
  /** How long a loaded secret is trusted before it is fetched again. */
  secretCacheSeconds: z.number().int().positive(),
});
export type IngestRuntimeConfig = z.infer<typeof ingestRuntimeSchema>;

export const consumerRuntimeSchema = z.object({
  /** Consumer (queue) name from the configuration, used in logs, metrics and dead-letter attributes. */
  name: z.string().min(1),
  queueUrl: z.string().min(1),
  deadLetterQueueUrl: z.string().min(1),
  fifo: z.boolean(),
  maxReceiveCount: z.number().int().positive(),
  /** Records handled at once within one batch on a standard queue. */
  parallelism: z.number().int().positive(),
  retry: z.object({
    baseSeconds: z.number().int().nonnegative(),
    factor: z.number().min(1),
    maxSeconds: z.number().int().positive().max(43_200),
  }),
  /** Records not yet started are handed back when less than this remains of the invocation. */
  deadlineMarginMs: z.number().int().nonnegative(),
  idempotency: z
    .object({ tableName: z.string().min(1), expirySeconds: z.number().int().positive() })
    .optional(),
  payloadBucket: z.string().min(1).optional(),
});
export type ConsumerRuntimeConfig = z.infer<typeof consumerRuntimeSchema>;

/** Reads and validates a JSON configuration from the environment; the message names the variable and the fix. */
export function readRuntimeConfig<T>(
  schema: z.ZodType<T>,
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
      `${variable} is invalid at ${first?.path.join('.') || '(root)'}: ${first?.message}; redeploy with a valid configuration`,
    );
  }
  return parsed.data;
}
