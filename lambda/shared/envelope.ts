/**
 * The versioned envelope that the ingest function writes to SQS and every consumer reads.
 *
 * It is the only contract between producers and consumers: change it only by adding optional fields, or
 * by bumping `v` and teaching `parseEnvelope` the old shape too. `WebhookEnvelope` and `checkEnvelope` are its
 * one definition: change both together.
 */
export const ENVELOPE_VERSION = 1 as const;

/** Where a body too large for SQS was stored instead (the claim-check pattern). */
export interface PayloadRef {
  /** Non-empty. */
  bucket: string;
  /** Non-empty. */
  key: string;
  /** A non-negative integer. */
  sizeBytes: number;
}

export interface WebhookEnvelope {
  v: typeof ENVELOPE_VERSION;
  /** The sender's delivery id when it has one, else a new sortable id. Stable across retries and redrives. */
  id: string;
  /** Configured source name (the `{source}` in `/webhooks/{source}`). */
  source: string;
  /** Event type, e.g. `github.push.created`-style `push` / `issues.opened`, `invoice.paid`. */
  type: string;
  /** ISO-8601 time at which the ingest function accepted the request. */
  receivedAt: string;
  /** Selected request headers, names lower-cased. Signature headers are never kept. */
  headers: Record<string, string>;
  contentType?: string;
  /** The request body: text as-is (`utf8`), or `base64` for binary bodies. Absent when `payloadRef` is set. */
  body?: string;
  bodyEncoding: 'utf8' | 'base64';
  payloadRef?: PayloadRef;
  /**
   * Set on an event re-sent from the archive by `hookline replay`: the run's id (one per run, so consumers treat
   * a replay as new work, but a retried delivery of that replay as the same work) and when the run started.
   */
  replay?: ReplayMarker;
  /**
   * Set on a job sent by the producer with its dedupe table: which enqueue of the job's id this is (the claim's
   * generation). Consumers run a new generation as new work (an id reused after the dedupe window), and the same
   * generation sent twice (a producer's retry) once. Non-empty.
   */
  generation?: string;
}

/** The replay run that re-sent an archived event. */
export interface ReplayMarker {
  /** Non-empty. */
  id: string;
  /** Non-empty ISO-8601 time. */
  at: string;
}

/** The parts of a received SQS message that record its tenant. */
export interface TenantCarrier {
  readonly Attributes?: { readonly MessageGroupId?: string };
  readonly MessageAttributes?: Readonly<Record<string, { readonly StringValue?: string }>>;
}

/**
 * The tenant a received message was sent with: its message group id, or else the tenant attribute sent beside it
 * (all local mode's emulator keeps on a standard queue). Undefined for a message sent with neither.
 */
export function recordedTenantOf(message: TenantCarrier): string | undefined {
  return (
    message.Attributes?.MessageGroupId ?? message.MessageAttributes?.[MESSAGE_ATTRIBUTES.tenant]?.StringValue
  );
}

/** The parts of an SQS record handed to a Lambda function that record its tenant (camel-cased names). */
export interface RecordTenantCarrier {
  readonly attributes?: { readonly MessageGroupId?: string };
  readonly messageAttributes?: Readonly<Record<string, { readonly stringValue?: string }>>;
}

/** {@link recordedTenantOf} for a record as Lambda's SQS event source delivers it. */
export function recordedTenantOfRecord(record: RecordTenantCarrier): string | undefined {
  const tenant = record.messageAttributes?.[MESSAGE_ATTRIBUTES.tenant]?.stringValue;
  return recordedTenantOf({
    Attributes: record.attributes,
    MessageAttributes: tenant === undefined ? {} : { [MESSAGE_ATTRIBUTES.tenant]: { StringValue: tenant } },
  });
}

/** SQS message attribute names that travel with every envelope (filterable without parsing the body). */
export const MESSAGE_ATTRIBUTES = {
  source: 'hookline.source',
  type: 'hookline.type',
  eventId: 'hookline.id',
  /**
   * The tenant (message group id) of a message on a fair standard queue, carried as an attribute too because
   * local mode's emulator drops group ids on standard queues.
   */
  tenant: 'hookline.tenant',
  /** The replay run's id, on replayed events only. */
  replay: 'hookline.replay',
  /**
   * The `hookline redrive` run that last sent the message back one by one, and when (`<run id>@<ms, base 36>`,
   * an older version wrote the id alone): that run tells a message of its own that failed again and came back
   * from another copy of the same event, and a redrive running at the same time leaves it alone. A consumer that
   * dead-letters the message keeps it ahead of other attributes.
   */
  redrive: 'hookline.redrive',
  /**
   * On a flow parent's message, the send of it that a consumer claimed on the parent's record: a send that a later
   * claim replaced (its sender's invocation ended before it said it was sent) is skipped when it is delivered.
   */
  flowSend: 'hookline.flow-send',
} as const;

/** SQS accepts at most 10 message attributes per message. */
export const MAX_MESSAGE_ATTRIBUTES = 10;

/** SQS's longest per-message delay; the producer makes longer delays one-time schedules. */
export const MAX_SQS_DELAY_SECONDS = 900;

/** SQS's most entries in one batch call (`SendMessageBatch`, `ChangeMessageVisibilityBatch`, `DeleteMessageBatch`). */
export const SQS_BATCH_MAX_ENTRIES = 10;

/** The longest SQS keeps a message (`MessageRetentionPeriod` at most 14 days). */
export const MAX_SQS_RETENTION_SECONDS = 1_209_600;

/**
 * A character SQS refuses in a message body or a string attribute: it takes only tab, line feed, carriage return,
 * U+0020 to U+D7FF, U+E000 to U+FFFD and U+10000 up. With the `u` flag the surrogate range matches only lone
 * surrogates, never a pair.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what SQS refuses.
export const SQS_REFUSED_CHARACTER = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ud800-\udfff\ufffe\uffff]/u;

/** SQS message attribute names that a consumer sets when it dead-letters a message on purpose. */
export const FAILURE_ATTRIBUTES = {
  errorName: 'hookline.error.name',
  errorMessage: 'hookline.error.message',
  attempt: 'hookline.error.attempt',
  consumer: 'hookline.error.consumer',
  failedAt: 'hookline.error.at',
} as const;

/** An SQS message body that is not a hookline envelope; the message names the first bad field. */
export class EnvelopeError extends Error {
  constructor(
    readonly path: string,
    expected: string,
  ) {
    super(`invalid envelope at ${path}: expected ${expected}`);
    this.name = 'EnvelopeError';
  }
}

/**
 * Parses an SQS message body into an envelope; throws an {@link EnvelopeError} describing the first bad field.
 * Checked by hand rather than with a schema library: every consumer runs this once per record. Unknown fields
 * are dropped, so a handler sees exactly the fields above.
 */
export function parseEnvelope(messageBody: string): WebhookEnvelope {
  return checkEnvelope(JSON.parse(messageBody));
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function nonEmpty(object: Json, field: string, path = field): string {
  const value = object[field];
  if (typeof value !== 'string' || value.length === 0) throw new EnvelopeError(path, 'a non-empty string');
  return value;
}

function optionalString(object: Json, field: string): string | undefined {
  const value = object[field];
  if (value !== undefined && typeof value !== 'string') throw new EnvelopeError(field, 'a string');
  return value;
}

function stringRecord(value: unknown, path: string): Record<string, string> {
  if (!isObject(value)) throw new EnvelopeError(path, 'an object of strings');
  const record: Record<string, string> = {};
  for (const name of Object.keys(value)) {
    const item = value[name];
    if (typeof item !== 'string') throw new EnvelopeError(`${path}.${name}`, 'a string');
    record[name] = item;
  }
  return record;
}

function checkReplayMarker(value: unknown): ReplayMarker {
  if (!isObject(value)) throw new EnvelopeError('replay', 'an object');
  return { id: nonEmpty(value, 'id', 'replay.id'), at: nonEmpty(value, 'at', 'replay.at') };
}

function checkPayloadRef(value: unknown): PayloadRef {
  if (!isObject(value)) throw new EnvelopeError('payloadRef', 'an object');
  const sizeBytes = value.sizeBytes;
  if (typeof sizeBytes !== 'number' || !Number.isSafeInteger(sizeBytes) || sizeBytes < 0) {
    throw new EnvelopeError('payloadRef.sizeBytes', 'a non-negative integer');
  }
  return {
    bucket: nonEmpty(value, 'bucket', 'payloadRef.bucket'),
    key: nonEmpty(value, 'key', 'payloadRef.key'),
    sizeBytes,
  };
}

/** The envelope in `value` (parsed JSON), with only its own fields; throws an {@link EnvelopeError}. */
export function checkEnvelope(value: unknown): WebhookEnvelope {
  if (!isObject(value)) throw new EnvelopeError('(root)', 'an object');
  if (value.v !== ENVELOPE_VERSION) throw new EnvelopeError('v', `${ENVELOPE_VERSION}`);
  const bodyEncoding = value.bodyEncoding;
  if (bodyEncoding !== 'utf8' && bodyEncoding !== 'base64') {
    throw new EnvelopeError('bodyEncoding', '"utf8" or "base64"');
  }
  const envelope: WebhookEnvelope = {
    v: ENVELOPE_VERSION,
    id: nonEmpty(value, 'id'),
    source: nonEmpty(value, 'source'),
    type: nonEmpty(value, 'type'),
    receivedAt: nonEmpty(value, 'receivedAt'),
    headers: stringRecord(value.headers, 'headers'),
    bodyEncoding,
  };
  const contentType = optionalString(value, 'contentType');
  if (contentType !== undefined) envelope.contentType = contentType;
  const body = optionalString(value, 'body');
  if (body !== undefined) envelope.body = body;
  if (value.payloadRef !== undefined) envelope.payloadRef = checkPayloadRef(value.payloadRef);
  if (value.replay !== undefined) envelope.replay = checkReplayMarker(value.replay);
  if (value.generation !== undefined) envelope.generation = nonEmpty(value, 'generation');
  return envelope;
}

/** The body as bytes, whatever its encoding. Claim-checked envelopes must be resolved first. */
export function envelopeBodyBytes(envelope: WebhookEnvelope): Buffer {
  if (envelope.body === undefined) {
    throw new Error(`envelope ${envelope.id} has no inline body; resolve its payloadRef first`);
  }
  return Buffer.from(envelope.body, envelope.bodyEncoding === 'base64' ? 'base64' : 'utf8');
}
