/** Building blocks of the id/type rules: tolerant JSON parsing, field access and dot paths. Pure. */

import { type JsonReviverContext, parseJsonText } from '../json-text';
import type { DescribeResult } from './sender';

export { formFields, isForm } from '../form-body';

export const MALFORMED: DescribeResult = { ok: false, reason: 'malformed_body' };

/**
 * Follows a dot path (`a.b.0.c`) through parsed JSON; strings and finite numbers come back as text. A number a
 * double cannot hold exactly (an integer beyond 2^53 such as a 64-bit id, or a long fraction) comes back as the
 * digits the sender wrote when `source`, the JSON `json` was parsed from, is given: as the double's text,
 * distinct ids such as 9007199254740993 and 9007199254740992 would read alike, and deduplication would answer
 * the second event as a repeat of the first and drop it. Only that rare case parses the source again.
 * Without `source` the double's text comes back (grouping by it at worst shares a group). When the written
 * digits cannot be read (a reviver walks the parsed value recursively, so a body nested some thousands of levels
 * deep overflows the stack; Node 20, which local mode may run on, gives a reviver no source text), an integer beyond
 * 2^53 gives nothing back: the double's text could merge two ids, and the exception would answer a signed request
 * 503 on every retry. Any other number (a fraction such as 1.5) then gives the double's text, as without `source`.
 */
export function valueAtPath(json: unknown, path: string, source?: string | Buffer): string | undefined {
  const node = nodeAtPath(json, path);
  if (typeof node === 'string') return node;
  if (typeof node !== 'number' || !Number.isFinite(node)) return undefined;
  if (source === undefined || Number.isSafeInteger(node)) return String(node);
  // Only an integer beyond 2^53 is an id another could share: a fraction read as the double's text stays itself.
  const unread = Number.isInteger(node) ? undefined : String(node);
  const text = typeof source === 'string' ? source : source.toString('utf8');
  let exact: unknown;
  try {
    exact = nodeAtPath(parseJsonText(text, numbersAsWritten), path);
  } catch {
    return unread;
  }
  // Still a number: the runtime passed the reviver no source text (Node 20 has no JSON.parse source text access).
  return typeof exact === 'string' ? exact : unread;
}

function nodeAtPath(json: unknown, path: string): unknown {
  let node: unknown = json;
  for (const key of path.split('.')) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** A reviver that keeps every number a double cannot hold exactly as the text the sender wrote. */
const numbersAsWritten = (_key: string, value: unknown, context?: JsonReviverContext): unknown =>
  typeof value === 'number' && !Number.isSafeInteger(value) && context?.source !== undefined
    ? context.source
    : value;

export type Parsed = { ok: true; value: unknown } | { ok: false };

/** Parses JSON from `text` when given (it must be `body` decoded as UTF-8), else from the bytes. */
export function parseJson(body: Buffer, text?: string): Parsed {
  try {
    return { ok: true, value: parseJsonText(text ?? body.toString('utf8')) };
  } catch {
    return { ok: false };
  }
}

/**
 * The body parsed as JSON when it is a JSON object, for the senders every event of which is one (a Stripe event,
 * a GitHub payload, a Standard Webhooks or Slack envelope). Valid JSON that is not an object (`null`, `[]`, `42`,
 * `"text"`) is no event of theirs, only a hand-made request signed with the secret, and queued it would reach a
 * handler, typed for their object, whose first field access throws, retried until it is dead-lettered.
 */
export function parseJsonObject(body: Buffer, text?: string): Parsed {
  const parsed = parseJson(body, text);
  return parsed.ok && isJsonObject(parsed.value) ? parsed : { ok: false };
}

function isJsonObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export const contentTypeOf = (headers: Readonly<Record<string, string | undefined>>) =>
  (headers['content-type'] ?? '').toLowerCase();
export const nonEmpty = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;
export const field = (json: unknown, key: string): unknown =>
  json !== null && typeof json === 'object' && Object.hasOwn(json, key)
    ? (json as Record<string, unknown>)[key]
    : undefined;
