/**
 * The versioned envelope that the ingest function writes to SQS and every consumer reads.
 *
 * It is the only contract between producers and consumers: change it only by adding optional fields, or
 * by bumping `v` and teaching `parseEnvelope` the old shape too.
 */
// zod/mini, imported as a namespace: the same validation as zod, and the bundler keeps only the parts used
// (`import { z }` re-exports the whole namespace, locales included: ~400 KB more in every function bundle).
import * as z from 'zod/mini';

export const ENVELOPE_VERSION = 1 as const;

/** Where a body too large for SQS was stored instead (the claim-check pattern). */
export const payloadRefSchema = z.object({
  bucket: z.string().check(z.minLength(1)),
  key: z.string().check(z.minLength(1)),
  sizeBytes: z.int().check(z.nonnegative()),
});

export const envelopeSchema = z.object({
  v: z.literal(ENVELOPE_VERSION),
  /** The sender's delivery id when it has one, else a new sortable id. Stable across retries and redrives. */
  id: z.string().check(z.minLength(1)),
  /** Configured source name (the `{source}` in `/webhooks/{source}`). */
  source: z.string().check(z.minLength(1)),
  /** Event type, e.g. `github.push.created`-style `push` / `issues.opened`, `invoice.paid`. */
  type: z.string().check(z.minLength(1)),
  /** ISO-8601 time at which the ingest function accepted the request. */
  receivedAt: z.string().check(z.minLength(1)),
  /** Selected request headers, names lower-cased. Signature headers are never kept. */
  headers: z.record(z.string(), z.string()),
  contentType: z.optional(z.string()),
  /** The request body: text as-is (`utf8`), or `base64` for binary bodies. Absent when `payloadRef` is set. */
  body: z.optional(z.string()),
  bodyEncoding: z.enum(['utf8', 'base64']),
  payloadRef: z.optional(payloadRefSchema),
});

export type WebhookEnvelope = z.infer<typeof envelopeSchema>;
export type PayloadRef = z.infer<typeof payloadRefSchema>;

/** SQS message attribute names that travel with every envelope (filterable without parsing the body). */
export const MESSAGE_ATTRIBUTES = {
  source: 'hookline.source',
  type: 'hookline.type',
  eventId: 'hookline.id',
} as const;

/** SQS message attribute names that a consumer sets when it dead-letters a message on purpose. */
export const FAILURE_ATTRIBUTES = {
  errorName: 'hookline.error.name',
  errorMessage: 'hookline.error.message',
  attempt: 'hookline.error.attempt',
  consumer: 'hookline.error.consumer',
  failedAt: 'hookline.error.at',
} as const;

/** Parses an SQS message body into an envelope; throws a `ZodError` describing the first bad field. */
export function parseEnvelope(messageBody: string): WebhookEnvelope {
  return envelopeSchema.parse(JSON.parse(messageBody));
}

/** The body as bytes, whatever its encoding. Claim-checked envelopes must be resolved first. */
export function envelopeBodyBytes(envelope: WebhookEnvelope): Buffer {
  if (envelope.body === undefined) {
    throw new Error(`envelope ${envelope.id} has no inline body; resolve its payloadRef first`);
  }
  return Buffer.from(envelope.body, envelope.bodyEncoding === 'base64' ? 'base64' : 'utf8');
}
