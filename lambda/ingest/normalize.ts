/**
 * Turns a verified request into the envelope's id, type and body, per sender. Pure.
 *
 * Which sources need the body parsed (invalid JSON there is a 400, never a 5xx):
 * - github: JSON, or a form body with a `payload` field (the "application/x-www-form-urlencoded" setting),
 *   for the `action`; stripe: JSON (`id`, `type`); slack: JSON (Events API) or form (slash commands,
 *   interactivity `payload`); standard-webhooks: JSON (`type`); generic sources only when `idPath` or
 *   `typePath` is configured.
 * - shopify and twilio take id and type from headers / form parameters and accept any body.
 */

import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import type { SourceRuntimeConfig } from '../shared/runtime-config';

/** What the sender says about the event. */
export interface EventDescription {
  /** The sender's delivery id, sanitized; undefined when the sender gives none. */
  readonly id?: string;
  readonly type: string;
  /** The parsed JSON body when it was parsed (used for FIFO grouping by path). */
  readonly json?: unknown;
  /** Set for a Slack `url_verification` handshake. */
  readonly slackChallenge?: string;
}

export type DescribeResult =
  | ({ readonly ok: true } & EventDescription)
  | { readonly ok: false; readonly reason: 'malformed_body' };

const MALFORMED: DescribeResult = { ok: false, reason: 'malformed_body' };

/** Follows a dot path (`a.b.0.c`) through parsed JSON; strings and finite numbers come back as text. */
export function valueAtPath(json: unknown, path: string): string | undefined {
  let node: unknown = json;
  for (const key of path.split('.')) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  if (typeof node === 'string') return node;
  if (typeof node === 'number' && Number.isFinite(node)) return String(node);
  return undefined;
}

type Parsed = { ok: true; value: unknown } | { ok: false };

/** Parses JSON from `text` when given (it must be `body` decoded as UTF-8), else from the bytes. */
function parseJson(body: Buffer, text?: string): Parsed {
  try {
    return { ok: true, value: JSON.parse(text ?? body.toString('utf8')) };
  } catch {
    return { ok: false };
  }
}

const isForm = (contentType: string) => contentType.includes('application/x-www-form-urlencoded');
const nonEmpty = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;
const field = (json: unknown, key: string): unknown =>
  json !== null && typeof json === 'object' && Object.hasOwn(json, key)
    ? (json as Record<string, unknown>)[key]
    : undefined;

/** SQS attribute values, DynamoDB keys and S3 keys all accept printable ASCII; anything else is hashed. */
const SAFE_ID = /^[\x21-\x7e]{1,200}$/;

/** Makes a sender-controlled id safe for every store; deterministic, so retries map to the same id. */
export function sanitizeId(id: string): string {
  return SAFE_ID.test(id) ? id : `h_${createHash('sha256').update(id, 'utf8').digest('hex')}`;
}

/** Types travel as SQS attributes: drop characters SQS refuses and keep them short. */
export function sanitizeType(type: string | undefined): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what SQS refuses.
  const cleaned = (type ?? '').replace(/[\u0000-\u001f\u007f\ud800-\udfff\ufffe\uffff]/g, '_').slice(0, 256);
  return cleaned === '' ? 'unknown' : cleaned;
}

type Hints = { idHeader?: string; idPath?: string; typePath?: string; typeHeader?: string };

function describeGeneric(
  hints: Hints,
  headers: Readonly<Record<string, string | undefined>>,
  body: Buffer,
  text: string | undefined,
) {
  let json: unknown;
  if (hints.idPath || hints.typePath) {
    const parsed = parseJson(body, text);
    if (!parsed.ok) return MALFORMED;
    json = parsed.value;
  }
  const id =
    (hints.idHeader && nonEmpty(headers[hints.idHeader])) ||
    (hints.idPath && valueAtPath(json, hints.idPath));
  const type =
    (hints.typeHeader && nonEmpty(headers[hints.typeHeader])) ||
    (hints.typePath && valueAtPath(json, hints.typePath));
  return { ok: true as const, id: id || undefined, type: type || 'unknown', json };
}

/** What a Twilio callback is about: the message or call, its Sid, and the status it reports. */
function twilioSubject(params: URLSearchParams) {
  const messageSid = nonEmpty(params.get('MessageSid')) ?? nonEmpty(params.get('SmsSid'));
  if (messageSid) {
    const status = nonEmpty(params.get('MessageStatus')) ?? nonEmpty(params.get('SmsStatus'));
    return { kind: 'message', sid: messageSid, status };
  }
  const callSid = nonEmpty(params.get('CallSid'));
  if (callSid) return { kind: 'call', sid: callSid, status: nonEmpty(params.get('CallStatus')) };
  return undefined;
}

/**
 * Every status callback of one message or call carries the same Sid, so the Sid alone would make `delivered`
 * a duplicate of `sent`. Twilio's idempotency token is the same across retries of one webhook only; without
 * it the Sid plus the reported status names one callback.
 */
function twilioEvent(headers: Readonly<Record<string, string | undefined>>, params: URLSearchParams) {
  const subject = twilioSubject(params);
  const status = subject?.status?.toLowerCase();
  const id =
    nonEmpty(headers['i-twilio-idempotency-token']) ??
    (subject && (subject.status ? `${subject.sid}:${subject.status}` : subject.sid));
  const type = subject ? (status ? `${subject.kind}.${status}` : subject.kind) : 'unknown';
  return { id, type };
}

/**
 * Derives id and type as the sender defines them. `text`, when given, is `body` decoded as UTF-8 (saves
 * decoding it again).
 */
export function describeEvent(
  source: SourceRuntimeConfig,
  headers: Readonly<Record<string, string | undefined>>,
  body: Buffer,
  text?: string,
): DescribeResult {
  const contentType = (headers['content-type'] ?? '').toLowerCase();
  switch (source.type) {
    case 'github': {
      let parsed: Parsed;
      if (isForm(contentType)) {
        const payload = new URLSearchParams(text ?? body.toString('utf8')).get('payload');
        parsed = payload === null ? { ok: false } : parseJson(Buffer.from(payload, 'utf8'));
      } else {
        parsed = parseJson(body, text);
      }
      if (!parsed.ok) return MALFORMED;
      const event = nonEmpty(headers['x-github-event']) ?? 'unknown';
      const action = nonEmpty(field(parsed.value, 'action'));
      return {
        ok: true,
        id: nonEmpty(headers['x-github-delivery']),
        type: action ? `${event}.${action}` : event,
        json: parsed.value,
      };
    }
    case 'stripe': {
      const parsed = parseJson(body, text);
      if (!parsed.ok) return MALFORMED;
      return {
        ok: true,
        id: nonEmpty(field(parsed.value, 'id')),
        type: nonEmpty(field(parsed.value, 'type')) ?? 'unknown',
        json: parsed.value,
      };
    }
    case 'slack': {
      if (isForm(contentType)) {
        const params = new URLSearchParams(text ?? body.toString('utf8'));
        const payload = params.get('payload');
        if (payload === null)
          return { ok: true, type: params.get('command') !== null ? 'slash_command' : 'unknown' };
        const parsed = parseJson(Buffer.from(payload, 'utf8'));
        if (!parsed.ok) return MALFORMED;
        return { ok: true, type: nonEmpty(field(parsed.value, 'type')) ?? 'unknown', json: parsed.value };
      }
      const parsed = parseJson(body, text);
      if (!parsed.ok) return MALFORMED;
      const json = parsed.value;
      const outer = nonEmpty(field(json, 'type'));
      const type = outer === 'event_callback' ? nonEmpty(field(field(json, 'event'), 'type')) : outer;
      const challenge = outer === 'url_verification' ? nonEmpty(field(json, 'challenge')) : undefined;
      return {
        ok: true,
        id: nonEmpty(field(json, 'event_id')),
        type: type ?? 'unknown',
        json,
        ...(outer === 'url_verification' ? { slackChallenge: challenge ?? '' } : {}),
      };
    }
    case 'shopify':
      return {
        ok: true,
        id: nonEmpty(headers['x-shopify-webhook-id']),
        type: nonEmpty(headers['x-shopify-topic']) ?? 'unknown',
      };
    case 'standard-webhooks': {
      const parsed = parseJson(body, text);
      if (!parsed.ok) return MALFORMED;
      return {
        ok: true,
        id: nonEmpty(headers['webhook-id']) ?? nonEmpty(headers['svix-id']),
        type: nonEmpty(field(parsed.value, 'type')) ?? 'unknown',
        json: parsed.value,
      };
    }
    case 'twilio': {
      if (!isForm(contentType)) return { ok: true, type: 'unknown' };
      const params = new URLSearchParams(text ?? body.toString('utf8'));
      return { ok: true, ...twilioEvent(headers, params) };
    }
    case 'hmac':
    case 'token':
    case 'unverified':
      return describeGeneric(source, headers, body, text);
  }
}

/** Parses the body for FIFO grouping by path when no earlier step did; undefined when it is not JSON. */
export function jsonForGrouping(description: EventDescription, body: Buffer): unknown {
  if (description.json !== undefined) return description.json;
  const parsed = parseJson(body);
  return parsed.ok ? parsed.value : undefined;
}

const TEXTUAL = /^text\/|json|xml|x-www-form-urlencoded|javascript|yaml|csv/;

/**
 * The body as the envelope carries it: UTF-8 text when it is textual and valid UTF-8, else base64. `text`,
 * when given, is `body` decoded as UTF-8 from bytes known to be valid UTF-8 (a body that arrived as a
 * well-formed string), so neither the check nor the decoding is repeated.
 */
export function encodeBody(
  body: Buffer,
  contentType: string | undefined,
  text?: string,
): { body: string; bodyEncoding: 'utf8' | 'base64' } {
  if (contentType && TEXTUAL.test(contentType.toLowerCase()) && (text !== undefined || isUtf8(body))) {
    return { body: text ?? body.toString('utf8'), bodyEncoding: 'utf8' };
  }
  return { body: body.toString('base64'), bodyEncoding: 'base64' };
}

const unicodeEscape = (char: string) => {
  let out = '';
  for (let i = 0; i < char.length; i++) out += `\\u${char.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return out;
};

/**
 * JSON for an SQS message body. SQS refuses U+FFFE and U+FFFF, and the local emulator also refuses characters
 * beyond U+FFFF (real SQS accepts them); JSON.stringify escapes neither. Writing them as `\u` escapes is
 * lossless (JSON.parse restores them) and valid everywhere.
 */
export function sqsSafeJson(value: unknown): string {
  const json = JSON.stringify(value);
  // Well-formed JSON.stringify already escapes lone surrogates, so any surrogate left belongs to a pair.
  return /[\ud800-\udfff\ufffe\uffff]/.test(json)
    ? json.replace(/[\u{10000}-\u{10ffff}\ufffe\uffff]/gu, unicodeEscape)
    : json;
}

/** Header names that carry credentials; never copied into an envelope. */
export const SIGNATURE_HEADERS = new Set([
  'authorization',
  'x-hub-signature',
  'x-hub-signature-256',
  'stripe-signature',
  'x-slack-signature',
  'x-shopify-hmac-sha256',
  'webhook-signature',
  'svix-signature',
  'x-twilio-signature',
]);
