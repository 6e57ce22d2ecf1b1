/**
 * The claim check, written once for every producer of envelopes (the ingest function and the job producer): an
 * envelope that does not fit its message inline has its body moved to the payload bucket under `payloadKey(...)`
 * and carries a `payloadRef` instead; consumers fetch it back transparently.
 */
import { payloadKey } from './contracts';
import { type PayloadRef, SQS_BATCH_MAX_ENTRIES, type WebhookEnvelope } from './envelope';

/** SQS's limit for a message body plus its attributes. */
export const SQS_MAX_MESSAGE_BYTES = 1_048_576;

/**
 * What an inline message leaves of SQS's limit for the reason a consumer adds when it dead-letters it: the
 * `hookline.error.*` attributes (a name of up to 256 characters, a message of up to 1,000, the attempt, consumer
 * and time) and an event id, a few KB at most in UTF-8. Without that room the dead-letter send fails, and the
 * message reaches the DLQ only through SQS's redrive, without its reason.
 */
export const DEAD_LETTER_REASON_RESERVE_BYTES = 16_384;

/** The largest envelope (body and attributes) sent inline: SQS's limit less the dead-letter reason's room. */
export const MAX_INLINE_LIMIT_BYTES = SQS_MAX_MESSAGE_BYTES - DEAD_LETTER_REASON_RESERVE_BYTES;

const unicodeEscape = (char: string) => {
  let out = '';
  for (let i = 0; i < char.length; i++) out += `\\u${char.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return out;
};

/**
 * JSON for an SQS message body. SQS refuses U+FFFE and U+FFFF, and fauxqs 2.4.1 as published also refuses
 * characters beyond U+FFFF (SQS, and local mode's corrected emulator, take them); JSON.stringify escapes neither.
 * Writing them as `\u` escapes is lossless (JSON.parse restores them) and valid on SQS and every emulator.
 */
export function sqsSafeJson(value: unknown): string {
  const json = JSON.stringify(value);
  // Well-formed JSON.stringify already escapes lone surrogates, so any surrogate left belongs to a pair.
  return /[\ud800-\udfff\ufffe\uffff]/.test(json)
    ? json.replace(/[\u{10000}-\u{10ffff}\ufffe\uffff]/gu, unicodeEscape)
    : json;
}

/** The bytes SQS counts for string message attributes (name, type and value). */
export function attributeBytes(attributes: Readonly<Record<string, string>>): number {
  let sum = 0;
  for (const name in attributes) {
    sum += Buffer.byteLength(name) + 'String'.length + Buffer.byteLength(attributes[name] ?? '');
  }
  return sum;
}

/** A send entry as SQS measures it: its body and its attributes. */
export interface MeasuredEntry {
  readonly MessageBody?: string | undefined;
  readonly MessageAttributes?:
    | Readonly<
        Record<
          string,
          {
            readonly DataType?: string | undefined;
            readonly StringValue?: string | undefined;
            readonly BinaryValue?: Uint8Array | undefined;
          }
        >
      >
    | undefined;
}

/** The bytes SQS counts for one send entry: the body, and each attribute's name, data type and value. */
export function entryBytes(entry: MeasuredEntry): number {
  let sum = Buffer.byteLength(entry.MessageBody ?? '');
  const attributes = entry.MessageAttributes ?? {};
  for (const name in attributes) {
    const attribute = attributes[name];
    sum += Buffer.byteLength(name) + Buffer.byteLength(attribute?.DataType ?? '');
    if (attribute?.StringValue !== undefined) sum += Buffer.byteLength(attribute.StringValue);
    if (attribute?.BinaryValue !== undefined) sum += attribute.BinaryValue.length;
  }
  return sum;
}

/**
 * Cuts a stream of send entries, in order, into `SendMessageBatch` requests SQS takes whole: at most ten entries,
 * together at most {@link SQS_MAX_MESSAGE_BYTES} (SQS refuses a larger batch as a whole, `BatchRequestTooLong`,
 * however small each message). An entry larger than that on its own goes alone, for SQS to refuse by itself.
 */
export class SqsBatcher<T> {
  private batch: T[] = [];
  private bytes = 0;

  /** Adds an entry of `size` bytes; returns the batch it closed, if adding it did. */
  add(item: T, size: number): T[] | undefined {
    let closed: T[] | undefined;
    const full = this.batch.length === SQS_BATCH_MAX_ENTRIES || this.bytes + size > SQS_MAX_MESSAGE_BYTES;
    if (this.batch.length > 0 && full) closed = this.flush();
    this.batch.push(item);
    this.bytes += size;
    return closed;
  }

  /** The entries not yet in a closed batch (none: undefined), as a batch. */
  flush(): T[] | undefined {
    if (this.batch.length === 0) return undefined;
    const batch = this.batch;
    this.batch = [];
    this.bytes = 0;
    return batch;
  }
}

/** {@link SqsBatcher} over a list. */
export function sqsBatches<T>(items: readonly T[], sizeOf: (item: T) => number): T[][] {
  const batcher = new SqsBatcher<T>();
  const batches: T[][] = [];
  for (const item of items) {
    const closed = batcher.add(item, sizeOf(item));
    if (closed) batches.push(closed);
  }
  const last = batcher.flush();
  if (last) batches.push(last);
  return batches;
}

/** An S3 object holding a body too large to travel inline. */
export interface PayloadObject {
  readonly bucket: string;
  readonly key: string;
  readonly body: Buffer;
  readonly contentType?: string;
}

/** The serialized message, and the S3 object holding the body when it does not fit inline. */
export interface FittedMessage {
  readonly serialized: string;
  readonly payload: PayloadObject | undefined;
}

/** Where and how an envelope may travel. */
export interface FitOptions {
  /** The largest serialized envelope sent inline (at most the SQS limit less the attributes). */
  readonly inlineLimitBytes: number;
  /** The claim-check bucket; without it an envelope that does not fit inline does not fit at all. */
  readonly bucket: string | undefined;
  /** The original body bytes (what goes to S3). */
  readonly body: Buffer;
  readonly receivedAt: Date;
  /**
   * The name of the body's object within its day, when not the envelope's id: each send of a debounced job keeps its
   * own, so a later send never changes the body of the one that runs. @default - the envelope's id
   */
  readonly objectId?: string;
}

/**
 * The envelope serialized inline when it fits, else with its body moved to the payload bucket (the claim check);
 * undefined when it fits neither way.
 */
export function fitEnvelope(envelope: WebhookEnvelope, options: FitOptions): FittedMessage | undefined {
  const serialized = sqsSafeJson(envelope);
  if (Buffer.byteLength(serialized) <= options.inlineLimitBytes) return { serialized, payload: undefined };
  if (!options.bucket) return undefined;
  const ref: PayloadRef = {
    bucket: options.bucket,
    key: payloadKey(envelope.source, options.objectId ?? envelope.id, options.receivedAt),
    sizeBytes: options.body.length,
  };
  const { body: _inline, ...rest } = envelope;
  const claimChecked = sqsSafeJson({ ...rest, payloadRef: ref });
  if (Buffer.byteLength(claimChecked) > options.inlineLimitBytes) return undefined;
  const contentType = envelope.contentType;
  return {
    serialized: claimChecked,
    payload: {
      bucket: ref.bucket,
      key: ref.key,
      body: options.body,
      ...(contentType !== undefined ? { contentType } : {}),
    },
  };
}
