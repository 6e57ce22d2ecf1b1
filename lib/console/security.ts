/**
 * Who may talk to the console. It listens on loopback only, and as notebook servers do it requires a random
 * per-run token: given once in the URL (`/?token=...`), then kept in an HttpOnly, SameSite=Strict cookie named
 * after the port. Requests that change anything must also carry the token in the `x-hookline-token` header (which a
 * cross-origin page cannot send without a preflight this server never allows). A `Host` that is not a loopback
 * name refuses DNS rebinding; an `Origin` or `Sec-Fetch-Site` from another site refuses cross-origin requests.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { type CallerHeaders, foreignCallerReason } from '../loopback-gate';

/**
 * The cookie that keeps the token of the console on `port`. Browsers share cookies between every port of a host,
 * so one name for all would let a second console (another target, or a restart) overwrite the first one's token,
 * and a reload of the first would be refused.
 */
export const tokenCookieName = (port: number) => `hookline_console_${port}`;
export const TOKEN_HEADER = 'x-hookline-token';

/** A fresh token: 32 random bytes, URL-safe. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The parts of a request the gate looks at (header names lower-case). */
export interface GateRequest extends CallerHeaders {
  readonly method: string;
  readonly cookie: string | undefined;
  readonly headerToken: string | undefined;
  readonly queryToken: string | null;
}

export type GateVerdict =
  | { readonly allow: true; readonly setCookie: boolean }
  | { readonly allow: false; readonly status: 401 | 403; readonly reason: string };

const SAFE_METHODS = new Set(['GET', 'HEAD']);

function sameToken(given: string | undefined | null, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The value of one cookie in a `Cookie` header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

/** Decides whether a request may proceed. */
export function checkRequest(request: GateRequest, options: { port: number; token: string }): GateVerdict {
  const foreign = foreignCallerReason(request, options.port, 'this console');
  if (foreign) return { allow: false, status: 403, reason: foreign };
  const fromCookie = sameToken(cookieValue(request.cookie, tokenCookieName(options.port)), options.token);
  const fromHeader = sameToken(request.headerToken, options.token);
  if (!SAFE_METHODS.has(request.method)) {
    return fromHeader
      ? { allow: true, setCookie: false }
      : {
          allow: false,
          status: 403,
          reason: `a change needs the console token in the ${TOKEN_HEADER} header`,
        };
  }
  if (fromCookie || fromHeader) return { allow: true, setCookie: false };
  if (sameToken(request.queryToken, options.token)) return { allow: true, setCookie: true };
  return {
    allow: false,
    status: 401,
    reason: 'open the URL that hookline console printed (it carries the token of this run)',
  };
}

/** The cookie that keeps the token for the rest of the session (no Max-Age: gone when the browser closes). */
export function tokenCookie(token: string, port: number): string {
  return `${tokenCookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`;
}

/** Headers of every answer: no caching, no framing, no referrer (the first URL carries the token), no sniffing. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'cross-origin-resource-policy': 'same-origin',
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
};
