/**
 * Turns an envelope's body into the `payload` a handler receives, according to its content type.
 *
 * - `application/json` and any `+json` type: the parsed JSON value;
 * - `application/x-www-form-urlencoded`: a `Record<string, string>` (the last value wins for repeated names);
 * - `text/*`, `application/xml` and `+xml` types: the text;
 * - anything else: a `Buffer` with the raw bytes;
 * - no content type: the text for `utf8` bodies, a `Buffer` for `base64` ones.
 *
 * A body that does not parse as its declared type is an {@link InvalidPayloadError}: retrying cannot fix it.
 */
import type { WebhookEnvelope } from '../shared/envelope';
import { formFields } from '../shared/form-body';
import { jsonErrorWithoutInput, parseJsonText } from '../shared/json-text';
import { InvalidPayloadError } from './errors';

/** How a content type is turned into a payload. */
export type PayloadKind = 'json' | 'form' | 'text' | 'binary';

const kindCache = new Map<string, PayloadKind>();
let lastContentType: string | undefined;
let lastKind: PayloadKind = 'binary';

/** The payload kind for a `Content-Type` value (parameters such as `charset` are ignored). */
export function payloadKind(contentType: string | undefined, bodyEncoding: 'utf8' | 'base64'): PayloadKind {
  // A consumer mostly sees one content type: the last answer first, then the map.
  if (contentType !== undefined && contentType === lastContentType) return lastKind;
  if (contentType === undefined || contentType.trim() === '')
    return bodyEncoding === 'utf8' ? 'text' : 'binary';
  const kind = kindCache.get(contentType) ?? kindOfMime(contentType);
  if (kindCache.size < 100) kindCache.set(contentType, kind);
  lastContentType = contentType;
  lastKind = kind;
  return kind;
}

function kindOfMime(contentType: string): PayloadKind {
  const mime = (contentType.split(';', 1)[0] ?? '').trim().toLowerCase();
  if (mime === 'application/json' || mime.endsWith('+json')) return 'json';
  if (mime === 'application/x-www-form-urlencoded') return 'form';
  if (mime.startsWith('text/') || mime === 'application/xml' || mime.endsWith('+xml')) return 'text';
  return 'binary';
}

/**
 * Parses the body of an envelope. `bytes` is the claim-checked body when the envelope had a `payloadRef`;
 * otherwise the inline body is used.
 */
export function parsePayload(envelope: WebhookEnvelope, bytes?: Buffer): unknown {
  const kind = payloadKind(envelope.contentType, envelope.bodyEncoding);
  const text = (): string => {
    if (bytes) return bytes.toString('utf8');
    if (envelope.body === undefined) throw new InvalidPayloadError(`envelope ${envelope.id} has no body`);
    return envelope.bodyEncoding === 'utf8'
      ? envelope.body
      : Buffer.from(envelope.body, 'base64').toString('utf8');
  };
  switch (kind) {
    case 'json': {
      try {
        return parseJsonText(text());
      } catch (error) {
        // The parser's own message would quote the body into the record's outcome line.
        throw new InvalidPayloadError(`body is not valid JSON (${envelope.contentType})`, {
          cause: new SyntaxError(jsonErrorWithoutInput(error)),
        });
      }
    }
    case 'form':
      return formFields(text());
    case 'text':
      return text();
    case 'binary': {
      if (bytes) return bytes;
      if (envelope.body === undefined) throw new InvalidPayloadError(`envelope ${envelope.id} has no body`);
      return Buffer.from(envelope.body, envelope.bodyEncoding === 'base64' ? 'base64' : 'utf8');
    }
  }
}

/**
 * The `body` an inline envelope would have carried for claim-checked bytes: the same `bodyEncoding` rule the
 * ingest function applied before it moved the body to S3, so a handler reading `event.body` never has to know
 * where the body travelled.
 */
export function inlineBody(envelope: WebhookEnvelope, bytes: Buffer): string {
  return bytes.toString(envelope.bodyEncoding === 'base64' ? 'base64' : 'utf8');
}

/**
 * The body's bytes exactly as the sender sent them (a job's: its JSON payload as the producer wrote it): `event.body`
 * decoded as `bodyEncoding` says, whether it travelled inline or was claim-checked to S3. What a consumer hashes,
 * verifies a signature over again, or stores for audit; `payload` is the body parsed, which a JSON number beyond 2^53
 * or a duplicate key does not survive.
 */
export function bodyBytes(event: {
  readonly body: string;
  readonly bodyEncoding: 'utf8' | 'base64';
}): Buffer {
  return Buffer.from(event.body, event.bodyEncoding === 'base64' ? 'base64' : 'utf8');
}
