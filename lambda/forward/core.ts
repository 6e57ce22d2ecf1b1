/**
 * The forwarding consumer's logic: one event posted to the destination, signed as Standard Webhooks, and the answer
 * turned into what the consumer runtime does next (processed, retried with backoff, retried not before a
 * `Retry-After`, or dead-lettered with the reason). Pure: `fetch`, the secret and the clock come in as collaborators.
 */
import { STATUS_CODES } from 'node:http';
import { PermanentError, RetryLaterError, retryDelaySeconds } from '../consumer/errors';
import { bodyBytes } from '../consumer/payload';
import type { ConsumerEvent, HandlerContext } from '../consumer/types';
import { httpHeaderCarries, percentEncodedOutsidePrintableAscii } from '../shared/contracts';
import { type ForwardRuntimeConfig, QUERY_SHOWN } from '../shared/forward-config';
import type { SourceRuntimeConfig } from '../shared/ingest-config';
import { signWebhook } from '../shared/webhook-signing';

/** Headers hookline sets on every forwarded request, beside the Standard Webhooks ones. */
export const FORWARD_HEADERS = {
  source: 'hookline-source',
  type: 'hookline-type',
  attempt: 'hookline-attempt',
} as const;

/** How many characters of the destination's answer a failure's reason quotes. */
export const REASON_BODY_CHARS = 200;

/** Everything the forwarder needs from the outside world. */
export interface ForwardCollaborators {
  readonly fetch: typeof fetch;
  /**
   * Every active signing secret, the newest first (`whsec_...` or the bare base64 key): one while none is being
   * rotated, two or more from `hookline forward secret --rotate` until `--remove-old`.
   */
  readonly loadSecrets: () => Promise<readonly string[]>;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
}

/** The header holding the scheme's signatures (one per active secret). */
const SIGNATURE_HEADER = 'webhook-signature';

/** The settings {@link signWebhook} signs with: the Standard Webhooks scheme, whose signing reads no setting. */
const SIGNING_SCHEME = { type: 'standard-webhooks', secretId: 'forward' } as SourceRuntimeConfig;

/**
 * Headers of the original request never forwarded: those hookline sets itself, the transport's own, and the
 * runtime's job headers (`x-hookline-*`).
 */
const NOT_FORWARDED = new Set([
  'content-length',
  'content-type',
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'webhook-id',
  'webhook-timestamp',
  SIGNATURE_HEADER,
]);

function forwardable(name: string): boolean {
  return (
    !NOT_FORWARDED.has(name) &&
    !name.startsWith('hookline-') &&
    !name.startsWith('x-hookline-') &&
    !name.startsWith('proxy-')
  );
}

/**
 * The Standard Webhooks headers of one attempt, signed with every active secret: one `v1,` signature each in
 * `webhook-signature`, space-separated, as the scheme rotates keys, so a destination verifying with the old secret
 * or the new one accepts the request while a rotation is under way.
 */
export function signatureHeaders(
  secrets: readonly string[],
  body: Buffer,
  id: string,
  now: Date,
): Record<string, string> {
  const signed = secrets.map((secret) => signWebhook(SIGNING_SCHEME, secret, body, { id, now }));
  const [newest] = signed;
  if (!newest) throw new Error('no signing secret to sign the forwarded request with');
  return { ...newest, [SIGNATURE_HEADER]: signed.map((headers) => headers[SIGNATURE_HEADER]).join(' ') };
}

/** The request's headers: the kept original ones, then hookline's and the signature, which win a clash. */
export function forwardHeaders(
  event: ConsumerEvent,
  attempt: number,
  signature: Record<string, string>,
): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers)) {
    const lower = name.toLowerCase();
    if (forwardable(lower)) headers[lower] = headerValue(value);
  }
  if (event.contentType !== undefined) headers['content-type'] = headerValue(event.contentType);
  headers[FORWARD_HEADERS.source] = event.source;
  headers[FORWARD_HEADERS.type] = headerValue(event.type);
  headers[FORWARD_HEADERS.attempt] = String(attempt);
  return { ...headers, ...signature };
}

/**
 * A value as fetch can send it: unchanged when HTTP carries it (no character above U+00FF, no CR, LF or NUL),
 * else percent-encoded outside printable ASCII and at `%`, so the endpoint's `decodeURIComponent` restores it. A
 * sender's event type in any script (`注文.作成`) would otherwise make every attempt throw before it leaves, and
 * dead-letter the event as a destination that cannot be reached.
 */
function headerValue(value: string): string {
  return httpHeaderCarries(value) ? value : percentEncodedOutsidePrintableAscii(value, { decodable: true });
}

/**
 * `Retry-After` in seconds from now: delta-seconds, or an HTTP date (a past one is 0). Undefined for anything
 * else (a negative number, a fraction, text), which leaves the backoff alone.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  // An HTTP date names its month (and weekday) in letters; `Date.parse` alone would take "5" or "-1" as a date.
  if (!/[A-Za-z]/.test(text)) return undefined;
  const at = Date.parse(text);
  if (!Number.isFinite(at)) return undefined;
  return Math.max(0, Math.ceil((at - nowMs) / 1000));
}

/** What an answer's status means for the record. */
export type Verdict = 'delivered' | 'redirect' | 'retry' | 'permanent';

/**
 * The classification table: 2xx delivered; 3xx not followed (permanent); 408, 425, 429 and 5xx retried; any
 * other 4xx permanent (retrying the same request cannot change the answer).
 */
export function verdictOf(status: number): Verdict {
  if (status >= 200 && status < 300) return 'delivered';
  if (status >= 300 && status < 400) return 'redirect';
  if (status === 408 || status === 425 || status === 429 || status >= 500) return 'retry';
  if (status >= 400) return 'permanent';
  return 'retry';
}

/** A retryable failure to deliver: the destination's answer, or none (connection, DNS, timeout). */
export class DestinationError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'DestinationError';
  }
}

/** Stands for the configured URL's path where a reason would quote it (and {@link QUERY_SHOWN} for its query). */
const PATH_SHOWN = '<path>';

/** A query value at least this long is hidden where it is quoted alone too ("invalid token ..."). */
const HIDDEN_QUERY_VALUE_CHARS = 8;

/** The characters an HTML error page escapes (Express's `Cannot POST ...` does). */
const HTML_ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

function htmlEscaped(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ENTITIES[c] ?? c);
}

/** The forms a destination may quote a URL part in: as sent, percent-decoded, HTML-escaped. */
function quotedForms(text: string): string[] {
  let decoded = text;
  try {
    decoded = decodeURIComponent(text);
  } catch {
    // Not percent-encoded validly: only the text as sent.
  }
  return [text, decoded, htmlEscaped(text), htmlEscaped(decoded)];
}

/**
 * Hides the configured URL's path and query in text an answer supplies (its body, its `Location`): reasons name the
 * host only, as the path and query may hold a token, and they go to the DLQ, logs and the CLI. A path of `/` hides
 * nothing. `cut` says the text breaks off, so a start of a hidden part at its very end goes too.
 */
export type UrlHider = (text: string, cut?: boolean) => string;

/** The {@link UrlHider} of one destination URL. */
export function urlHider(url: URL): UrlHider {
  const path = url.pathname.length > 1 ? url.pathname : '';
  const query = url.search;
  const parts: Array<readonly [text: string, shown: string]> = [];
  const add = (text: string, shown: string) => {
    for (const form of quotedForms(text)) if (form) parts.push([form, shown]);
  };
  if (path && query) add(`${path}${query}`, `${PATH_SHOWN}?${QUERY_SHOWN}`);
  if (query) {
    add(query, `?${QUERY_SHOWN}`);
    add(query.slice(1), QUERY_SHOWN);
    for (const pair of query.slice(1).split('&')) {
      const value = pair.slice(pair.indexOf('=') + 1);
      if (pair.includes('=') && value.length >= HIDDEN_QUERY_VALUE_CHARS) add(value, QUERY_SHOWN);
    }
  }
  if (path) add(path, PATH_SHOWN);
  // Longest first, so a path with its query is hidden whole rather than as a path and a stray query.
  parts.sort(([a], [b]) => b.length - a.length);
  return (text, cut = false) => {
    let shown = text;
    if (cut) shown = withoutPartialEnd(shown, parts);
    for (const [part, placeholder] of parts) shown = shown.split(part).join(placeholder);
    return shown;
  };
}

/** The text less a start of any part at its very end (the rest of that part was never read). */
function withoutPartialEnd(text: string, parts: ReadonlyArray<readonly [string, string]>): string {
  let end = text.length;
  for (const [part] of parts) {
    for (let n = Math.min(part.length - 1, text.length); n > 0; n--) {
      if (text.endsWith(part.slice(0, n))) {
        end = Math.min(end, text.length - n);
        break;
      }
    }
  }
  return text.slice(0, end);
}

/**
 * Up to `chars` characters of the answer's body on one line, the configured URL's path and query hidden (an error
 * page may echo the request line); the rest is never read (the socket is freed).
 */
async function bodySnippet(response: Response, chars: number, hide: UrlHider): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let done = false;
  try {
    while (text.length < chars * 4) {
      const read = await reader.read();
      if (read.done) {
        done = true;
        break;
      }
      text += decoder.decode(read.value, { stream: true });
    }
  } catch {
    // A body that breaks off still leaves its status as the reason.
  } finally {
    await reader.cancel().catch(() => {});
  }
  return hide(text, !done).replace(/\s+/g, ' ').trim().slice(0, chars);
}

/**
 * `Location`, for a reason: never its query or fragment (which may carry tokens), nor the configured URL's path or
 * query. One on another origin shows as that origin and path; one on the destination's own origin as the
 * destination sent it (a relative one is not resolved against the configured path).
 */
function shownLocation(location: string | null, base: URL, hide: UrlHider): string {
  if (!location) return 'no location';
  let target: URL;
  try {
    target = new URL(location, base);
  } catch {
    return 'an invalid location';
  }
  if (target.origin !== base.origin) return hide(`${target.origin}${target.pathname}`);
  const sent = location.trim();
  const path = sent.replace(/[?#].*$/s, '');
  if (path) return hide(path);
  return sent.startsWith('?') ? 'the same path with another query' : 'the same path';
}

/** The reason's head: `HTTP 404 Not Found from app.example.com`. */
function statusLine(status: number, statusText: string, url: URL): string {
  const text = statusText || STATUS_CODES[status] || '';
  return `HTTP ${status}${text ? ` ${text}` : ''} from ${url.host}`;
}

/** The error an answer that is not a 2xx comes to. */
async function failureOf(response: Response, url: URL, hide: UrlHider, nowMs: number): Promise<Error> {
  const verdict = verdictOf(response.status);
  const head = statusLine(response.status, response.statusText, url);
  if (verdict === 'redirect') {
    await response.body?.cancel().catch(() => {});
    return new PermanentError(
      `${head}: redirects are not followed (location: ${shownLocation(response.headers.get('location'), url, hide)}); set the final URL in consumer.forward.url`,
    );
  }
  const snippet = await bodySnippet(response, REASON_BODY_CHARS, hide);
  const message = snippet ? `${head}: ${snippet}` : head;
  if (verdict === 'permanent') return new PermanentError(message);
  const cause = new DestinationError(message, response.status);
  const retryAfter =
    response.status === 429 || response.status === 503
      ? parseRetryAfter(response.headers.get('retry-after'), nowMs)
      : undefined;
  if (retryAfter === undefined) return cause;
  const waits = retryDelaySeconds(retryAfter);
  const said = waits < retryAfter ? `, waiting the ${waits} s maximum` : '';
  return new RetryLaterError(waits, `${message} (Retry-After: ${retryAfter} s${said})`, { cause });
}

/** Why a request got no answer: the attempt's timeout, or the connection's error with its code (DNS, refused). */
function unansweredError(error: unknown, url: URL, timeoutMs: number): DestinationError {
  const name = (error as { name?: string })?.name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new DestinationError(`no answer from ${url.host} within ${timeoutMs} ms`, undefined, {
      cause: error,
    });
  }
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  const why = cause?.code ?? cause?.message ?? (error as Error)?.message ?? String(error);
  return new DestinationError(`cannot reach ${url.host}: ${why}`, undefined, { cause: error });
}

/** The forwarding handler: posts the event and resolves when the destination took it, else throws the verdict. */
export function createForwarder(
  config: Pick<ForwardRuntimeConfig, 'url' | 'timeoutMs'>,
  deps: ForwardCollaborators,
): (event: ConsumerEvent, ctx: HandlerContext) => Promise<void> {
  const url = new URL(config.url);
  const hide = urlHider(url);
  return async (event, ctx) => {
    const body = bodyBytes(event);
    const signature = signatureHeaders(await deps.loadSecrets(), body, event.id, new Date(deps.now()));
    const started = deps.now();
    let response: Response;
    try {
      response = await deps.fetch(url, {
        method: 'POST',
        body: body as Uint8Array<ArrayBuffer>,
        headers: forwardHeaders(event, ctx.attempt, signature),
        redirect: 'manual',
        signal: AbortSignal.timeout(config.timeoutMs),
      });
    } catch (error) {
      const failure = unansweredError(error, url, config.timeoutMs);
      ctx.logger.warn('forward attempt failed', {
        host: url.host,
        durationMs: deps.now() - started,
        error: failure.message,
      });
      throw failure;
    }
    if (verdictOf(response.status) === 'delivered') {
      await response.body?.cancel().catch(() => {});
      return;
    }
    const failure = await failureOf(response, url, hide, deps.now());
    ctx.logger.warn('forward attempt failed', {
      host: url.host,
      status: response.status,
      durationMs: deps.now() - started,
    });
    throw failure;
  };
}
