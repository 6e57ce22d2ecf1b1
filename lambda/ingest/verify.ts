/**
 * Signature verifiers, one per sender scheme. Pure functions: bytes, headers, secrets and a clock in, a
 * result out. They never throw on attacker-controlled input.
 *
 * Timestamp schemes (Stripe, Slack, Standard Webhooks, generic HMAC with a timestamp header) all use a
 * two-sided window: a request is accepted when |now - timestamp| <= tolerance, so a timestamp exactly
 * `tolerance` seconds old or ahead is accepted and one second more is rejected (pinned by tests). Stripe's
 * own library only rejects old timestamps; rejecting far-future ones too closes a pre-signed-replay hole and
 * costs nothing, since Stripe signs every attempt with a fresh timestamp.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { SourceRuntimeConfig } from '../shared/runtime-config';
import { fillSignedContent, standardWebhooksKey, twilioSignedString } from '../shared/webhook-signing';

/** Why a request was not authenticated. Logged and used as the `reason` metric dimension, never returned. */
export type RejectReason =
  | 'missing_signature'
  | 'malformed_signature'
  | 'bad_signature'
  | 'missing_timestamp'
  | 'malformed_timestamp'
  | 'stale_timestamp'
  | 'missing_id'
  | 'secret_whitespace'
  | 'no_usable_secret';

export type VerifyResult = { readonly ok: true } | { readonly ok: false; readonly reason: RejectReason };

/** What a verifier sees of the request. */
export interface SignedRequest {
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The exact bytes received (after base64 decoding). */
  readonly body: Buffer;
  /** Externally visible URL including the query string (Twilio signs it). */
  readonly url: string;
}

const OK: VerifyResult = { ok: true };
const fail = (reason: RejectReason): VerifyResult => ({ ok: false, reason });

/**
 * Constant-time equality that never throws: `timingSafeEqual` throws on a length mismatch, which would turn
 * a forged, truncated signature into an uncaught 500. Differing lengths still do a comparison of equal cost.
 */
export function safeEqual(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) {
    timingSafeEqual(b, b);
    return false;
  }
  return timingSafeEqual(a, b);
}

const HEX = /^[0-9a-fA-F]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const TIMESTAMP = /^\d{1,12}$/;
const DIGEST_BYTES = { sha1: 20, sha256: 32, sha512: 64 } as const;

/** Decodes a hex or base64 digest of the expected length; undefined when the text is not exactly that. */
function decodeDigest(text: string, encoding: 'hex' | 'base64', bytes: number): Buffer | undefined {
  if (encoding === 'hex') {
    return text.length === bytes * 2 && HEX.test(text) ? Buffer.from(text, 'hex') : undefined;
  }
  if (!BASE64.test(text)) return undefined;
  const decoded = Buffer.from(text, 'base64');
  // Only the canonical encoding counts (unused trailing bits must be zero), so a signature has one spelling.
  return decoded.length === bytes && decoded.toString('base64') === text ? decoded : undefined;
}

const mac = (algorithm: string, key: string | Buffer, content: Buffer) =>
  createHmac(algorithm, key).update(content).digest();

type TimestampCheck = { ok: true; text: string } | { ok: false; reason: RejectReason };

function checkTimestamp(text: string | undefined, toleranceSeconds: number, nowMs: number): TimestampCheck {
  if (text === undefined || text === '') return { ok: false, reason: 'missing_timestamp' };
  if (!TIMESTAMP.test(text)) return { ok: false, reason: 'malformed_timestamp' };
  const skew = Math.abs(Math.floor(nowMs / 1000) - Number(text));
  return skew > toleranceSeconds ? { ok: false, reason: 'stale_timestamp' } : { ok: true, text };
}

/** Tries every active secret against every candidate signature. */
function anyMatches(
  secrets: readonly string[],
  candidates: readonly Buffer[],
  expected: (secret: string) => Buffer,
) {
  let matched = false;
  for (const secret of secrets) {
    const digest = expected(secret);
    // No early exit: the work done does not depend on which secret or candidate matched.
    for (const candidate of candidates) if (safeEqual(candidate, digest)) matched = true;
  }
  return matched;
}

/** A wrong signature while a configured secret has stray whitespace is almost surely that config error. */
const mismatch = (secrets: readonly string[]): VerifyResult =>
  fail(secrets.some((s) => s !== s.trim()) ? 'secret_whitespace' : 'bad_signature');

function verifyGithub(request: SignedRequest, secrets: readonly string[]): VerifyResult {
  const header = request.headers['x-hub-signature-256'];
  if (!header) return fail('missing_signature');
  const digest = header.startsWith('sha256=') ? decodeDigest(header.slice(7), 'hex', 32) : undefined;
  if (!digest) return fail('malformed_signature');
  return anyMatches(secrets, [digest], (s) => mac('sha256', s, request.body)) ? OK : mismatch(secrets);
}

function verifyStripe(request: SignedRequest, secrets: readonly string[], tolerance: number, nowMs: number) {
  const header = request.headers['stripe-signature'];
  if (!header) return fail('missing_signature');
  let timestamp: string | undefined;
  const signatures: Buffer[] = [];
  let v1Seen = false;
  for (const item of header.split(',')) {
    const eq = item.indexOf('=');
    if (eq <= 0) continue;
    const name = item.slice(0, eq).trim();
    const value = item.slice(eq + 1).trim();
    if (name === 't') timestamp = value;
    // Only v1 counts: v0 (test-mode fake) and any other scheme are ignored to prevent downgrades.
    if (name === 'v1') {
      v1Seen = true;
      const digest = decodeDigest(value, 'hex', 32);
      if (digest) signatures.push(digest);
    }
  }
  if (timestamp === undefined || !v1Seen) return fail('malformed_signature');
  if (!TIMESTAMP.test(timestamp)) return fail('malformed_timestamp');
  if (signatures.length === 0) return fail('malformed_signature');
  const content = Buffer.concat([Buffer.from(`${timestamp}.`), request.body]);
  if (!anyMatches(secrets, signatures, (s) => mac('sha256', s, content))) return mismatch(secrets);
  const time = checkTimestamp(timestamp, tolerance, nowMs);
  return time.ok ? OK : fail(time.reason);
}

function verifySlack(request: SignedRequest, secrets: readonly string[], tolerance: number, nowMs: number) {
  const header = request.headers['x-slack-signature'];
  if (!header) return fail('missing_signature');
  const time = checkTimestamp(request.headers['x-slack-request-timestamp'], tolerance, nowMs);
  if (!time.ok && time.reason !== 'stale_timestamp') return fail(time.reason);
  const digest = header.startsWith('v0=') ? decodeDigest(header.slice(3), 'hex', 32) : undefined;
  if (!digest) return fail('malformed_signature');
  const timestamp = request.headers['x-slack-request-timestamp'] ?? '';
  const content = Buffer.concat([Buffer.from(`v0:${timestamp}:`), request.body]);
  if (!anyMatches(secrets, [digest], (s) => mac('sha256', s, content))) return mismatch(secrets);
  return time.ok ? OK : fail(time.reason);
}

function verifyShopify(request: SignedRequest, secrets: readonly string[]): VerifyResult {
  const header = request.headers['x-shopify-hmac-sha256'];
  if (!header) return fail('missing_signature');
  const digest = decodeDigest(header, 'base64', 32);
  if (!digest) return fail('malformed_signature');
  return anyMatches(secrets, [digest], (s) => mac('sha256', s, request.body)) ? OK : mismatch(secrets);
}

function verifyStandard(
  request: SignedRequest,
  secrets: readonly string[],
  tolerance: number,
  nowMs: number,
) {
  const h = request.headers;
  const signature = h['webhook-signature'] ?? h['svix-signature'];
  const id = h['webhook-id'] ?? h['svix-id'];
  const timestampText = h['webhook-timestamp'] ?? h['svix-timestamp'];
  if (!signature) return fail('missing_signature');
  if (!id) return fail('missing_id');
  const time = checkTimestamp(timestampText, tolerance, nowMs);
  if (!time.ok && time.reason !== 'stale_timestamp') return fail(time.reason);
  const candidates: Buffer[] = [];
  for (const entry of signature.split(' ')) {
    // Only `v1,` (HMAC-SHA256) entries count; `v1a` (ed25519) and unknown versions are ignored.
    if (!entry.startsWith('v1,')) continue;
    const digest = decodeDigest(entry.slice(3), 'base64', 32);
    if (digest) candidates.push(digest);
  }
  if (candidates.length === 0) return fail('malformed_signature');
  const keys = secrets.map((s) => ({ s, key: standardWebhooksKey(s) })).filter(({ key }) => key.length > 0);
  if (keys.length === 0) return fail('no_usable_secret');
  const content = Buffer.concat([Buffer.from(`${id}.${timestampText}.`), request.body]);
  const matched = anyMatches(
    keys.map(({ s }) => s),
    candidates,
    (s) => mac('sha256', standardWebhooksKey(s), content),
  );
  if (!matched) return mismatch(secrets);
  return time.ok ? OK : fail(time.reason);
}

function verifyTwilio(request: SignedRequest, secrets: readonly string[], contentType: string): VerifyResult {
  const header = request.headers['x-twilio-signature'];
  if (!header) return fail('missing_signature');
  const digest = decodeDigest(header, 'base64', 20);
  if (!digest) return fail('malformed_signature');
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    return fail('bad_signature');
  }
  const bodyHash = url.searchParams.get('bodySHA256');
  let params = new URLSearchParams();
  if (bodyHash !== null) {
    // JSON bodies: the URL (with the body's hash) is signed, and the hash must match the body.
    const actual = createHash('sha256').update(request.body).digest();
    const claimed = decodeDigest(bodyHash, 'hex', 32);
    if (!claimed || !safeEqual(actual, claimed)) return fail('bad_signature');
  } else if (contentType.includes('application/x-www-form-urlencoded')) {
    params = new URLSearchParams(request.body.toString('utf8'));
  }
  const content = Buffer.from(twilioSignedString(request.url, params), 'utf8');
  return anyMatches(secrets, [digest], (s) => mac('sha1', s, content)) ? OK : mismatch(secrets);
}

function verifyHmac(
  source: Extract<SourceRuntimeConfig, { type: 'hmac' }>,
  request: SignedRequest,
  secrets: readonly string[],
  nowMs: number,
): VerifyResult {
  const header = request.headers[source.header];
  if (!header) return fail('missing_signature');
  let timestamp = '';
  let time: TimestampCheck = { ok: true, text: '' };
  if (source.timestampHeader) {
    time = checkTimestamp(request.headers[source.timestampHeader], source.toleranceSeconds ?? 300, nowMs);
    if (!time.ok && time.reason !== 'stale_timestamp') return fail(time.reason);
    timestamp = request.headers[source.timestampHeader] ?? '';
  }
  const id = source.idHeader ? (request.headers[source.idHeader] ?? '') : '';
  if (source.signedContent.includes('{id}') && !id) return fail('missing_id');
  if (!header.startsWith(source.prefix)) return fail('malformed_signature');
  const digest = decodeDigest(
    header.slice(source.prefix.length),
    source.encoding,
    DIGEST_BYTES[source.algorithm],
  );
  if (!digest) return fail('malformed_signature');
  const content = fillSignedContent(source.signedContent, request.body, timestamp, id);
  if (!anyMatches(secrets, [digest], (s) => mac(source.algorithm, s, content))) return mismatch(secrets);
  return time.ok ? OK : fail(time.reason);
}

/** Hashing both sides first makes the comparison constant-time regardless of the token's length. */
const tokenDigest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

function verifyToken(
  source: Extract<SourceRuntimeConfig, { type: 'token' }>,
  request: SignedRequest,
  secrets: readonly string[],
): VerifyResult {
  const header = request.headers[source.header];
  if (!header) return fail('missing_signature');
  let presented: string;
  if (source.scheme === 'basic') {
    const match = /^Basic\s+(\S+)$/i.exec(header);
    const encoded = match?.[1];
    if (!encoded || !BASE64.test(encoded)) return fail('malformed_signature');
    const decoded = Buffer.from(encoded, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return fail('malformed_signature');
    presented = decoded.slice(colon + 1);
  } else {
    presented = header.replace(/^Bearer\s+/i, '');
  }
  if (!presented) return fail('malformed_signature');
  const candidate = tokenDigest(presented);
  return anyMatches(secrets, [candidate], tokenDigest) ? OK : mismatch(secrets);
}

/**
 * Verifies a request against a source's scheme with any of its active secrets.
 * `secrets` must be non-empty for every type except `unverified`.
 */
export function verifyRequest(
  source: SourceRuntimeConfig,
  request: SignedRequest,
  secrets: readonly string[],
  nowMs: number,
): VerifyResult {
  if (source.type === 'unverified') return OK;
  const usable = secrets.filter((s) => s.length > 0);
  if (usable.length === 0) return fail('no_usable_secret');
  switch (source.type) {
    case 'github':
      return verifyGithub(request, usable);
    case 'stripe':
      return verifyStripe(request, usable, source.toleranceSeconds, nowMs);
    case 'slack':
      return verifySlack(request, usable, source.toleranceSeconds, nowMs);
    case 'shopify':
      return verifyShopify(request, usable);
    case 'standard-webhooks':
      return verifyStandard(request, usable, source.toleranceSeconds, nowMs);
    case 'twilio':
      return verifyTwilio(request, usable, (request.headers['content-type'] ?? '').toLowerCase());
    case 'hmac':
      return verifyHmac(source, request, usable, nowMs);
    case 'token':
      return verifyToken(source, request, usable);
  }
}
