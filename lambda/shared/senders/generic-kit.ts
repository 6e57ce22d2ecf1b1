/**
 * What the generic senders (`hmac`, `token`, `unverified`) share: id and type from a configured header or a
 * dot path into a JSON body, and a sample that puts them exactly there.
 */
import * as z from 'zod/mini';
import { MALFORMED, nonEmpty, parseJson, valueAtPath } from './describe-kit';
import type { DescribeResult, SampleOptions, SampleRequest } from './sender';

/** Runtime settings fields naming where the id and type are (header names lower-case). */
export const hintSettings = {
  idHeader: z.optional(z.string().check(z.minLength(1))),
  idPath: z.optional(z.string().check(z.minLength(1))),
  typePath: z.optional(z.string().check(z.minLength(1))),
  typeHeader: z.optional(z.string().check(z.minLength(1))),
};

export type Hints = { idHeader?: string; idPath?: string; typePath?: string; typeHeader?: string };

/** id: `idHeader`, else `idPath`, else none; type: `typeHeader`, else `typePath`, else `unknown`. */
export function describeByHints(
  hints: Hints,
  headers: Readonly<Record<string, string | undefined>>,
  body: Buffer,
  text: string | undefined,
): DescribeResult {
  let json: unknown;
  if (hints.idPath || hints.typePath) {
    const parsed = parseJson(body, text);
    if (!parsed.ok) return MALFORMED;
    json = parsed.value;
  }
  const id =
    (hints.idHeader && nonEmpty(headers[hints.idHeader])) ||
    (hints.idPath && valueAtPath(json, hints.idPath, text ?? body));
  const type =
    (hints.typeHeader && nonEmpty(headers[hints.typeHeader])) ||
    (hints.typePath && valueAtPath(json, hints.typePath, text ?? body));
  return { ok: true as const, id: id || undefined, type: type || 'unknown', json };
}

/** Sets `value` at a dot path, creating objects on the way. */
function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node: Record<string, unknown> = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (next && typeof next === 'object' && !Array.isArray(next)) node = next as Record<string, unknown>;
    else {
      const created: Record<string, unknown> = {};
      node[part] = created;
      node = created;
    }
  }
  const last = parts[parts.length - 1];
  if (last) node[last] = value;
}

export const GENERIC_SAMPLE_TYPE = 'order.created';

/** An order event with the id and type where the hints say the ingest function finds them. */
export function hintedSample(
  hints: Hints,
  { id, now, type = GENERIC_SAMPLE_TYPE }: SampleOptions,
): SampleRequest {
  const body: Record<string, unknown> = {
    data: { orderId: 'ord_1001', amount: 4200, currency: 'EUR' },
    createdAt: now.toISOString(),
  };
  setPath(body, hints.idPath ?? 'id', id);
  setPath(body, hints.typePath ?? 'type', type);
  const headers: Record<string, string> = {};
  if (hints.typeHeader) headers[hints.typeHeader.toLowerCase()] = type;
  if (hints.idHeader) headers[hints.idHeader.toLowerCase()] = id;
  // Without a type header or path the ingest function cannot see the type: it derives `unknown`.
  const derived = hints.typeHeader || hints.typePath ? type : 'unknown';
  return { body: JSON.stringify(body), contentType: 'application/json', headers, type: derived };
}

/** The type header for a body from a file, when the hints name one. */
export const hintedTypeHeaders = (hints: Hints, type: string | undefined): Record<string, string> =>
  hints.typeHeader && type ? { [hints.typeHeader.toLowerCase()]: type } : {};

/** A generic scheme takes a chosen type through its type header, else its type path (not in a file body). */
export function hintedTypeOverrideProblem(hints: Hints, _type: string, file: boolean): string | undefined {
  if (hints.typeHeader) return undefined;
  if (!hints.typePath)
    return 'it configures neither typeHeader nor typePath, so the ingest records every event as "unknown"';
  return file ? `the type is read from the body at ${hints.typePath}; edit the file` : undefined;
}

/** Senders that carry the type in the body take a chosen type in a sample, never in a file sent as-is. */
export const bodyTypeOverrideProblem = (
  _settings: unknown,
  _type: string,
  file: boolean,
): string | undefined => (file ? 'the sender carries the event type in the body; edit the file' : undefined);
