/** Building blocks of the id/type rules: tolerant JSON parsing, field access and dot paths. Pure. */

import { parseJsonText } from '../json-text';
import type { DescribeResult } from './sender';

export const MALFORMED: DescribeResult = { ok: false, reason: 'malformed_body' };

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

export type Parsed = { ok: true; value: unknown } | { ok: false };

/** Parses JSON from `text` when given (it must be `body` decoded as UTF-8), else from the bytes. */
export function parseJson(body: Buffer, text?: string): Parsed {
  try {
    return { ok: true, value: parseJsonText(text ?? body.toString('utf8')) };
  } catch {
    return { ok: false };
  }
}

export const contentTypeOf = (headers: Readonly<Record<string, string | undefined>>) =>
  (headers['content-type'] ?? '').toLowerCase();
export const isForm = (contentType: string) => contentType.includes('application/x-www-form-urlencoded');
export const nonEmpty = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;
export const field = (json: unknown, key: string): unknown =>
  json !== null && typeof json === 'object' && Object.hasOwn(json, key)
    ? (json as Record<string, unknown>)[key]
    : undefined;
