/**
 * Building blocks of the verifiers: constant-time comparison, strict digest decoding, the timestamp window.
 *
 * Timestamp schemes (Stripe, Slack, Standard Webhooks, generic HMAC with a timestamp header) all use a
 * two-sided window: a request is accepted when |now - timestamp| <= tolerance, so a timestamp exactly
 * `tolerance` seconds old or ahead is accepted and one second more is rejected (pinned by tests). Stripe's
 * own library only rejects old timestamps; rejecting far-future ones too closes a pre-signed-replay hole and
 * costs nothing, since Stripe signs every attempt with a fresh timestamp.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { RejectReason, VerifyResult } from './sender';

export const OK: VerifyResult = { ok: true };
export const fail = (reason: RejectReason): VerifyResult => ({ ok: false, reason });

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
export const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const TIMESTAMP = /^\d{1,12}$/;
export const DIGEST_BYTES = { sha1: 20, sha256: 32, sha512: 64 } as const;

/** Decodes a hex or base64 digest of the expected length; undefined when the text is not exactly that. */
export function decodeDigest(text: string, encoding: 'hex' | 'base64', bytes: number): Buffer | undefined {
  if (encoding === 'hex') {
    return text.length === bytes * 2 && HEX.test(text) ? Buffer.from(text, 'hex') : undefined;
  }
  if (!BASE64.test(text)) return undefined;
  const decoded = Buffer.from(text, 'base64');
  // Only the canonical encoding counts (unused trailing bits must be zero), so a signature has one spelling.
  return decoded.length === bytes && decoded.toString('base64') === text ? decoded : undefined;
}

export const mac = (algorithm: string, key: string | Buffer, content: Buffer) =>
  createHmac(algorithm, key).update(content).digest();

/** True when `text` has the shape of a Unix timestamp in seconds. */
export const isTimestamp = (text: string) => TIMESTAMP.test(text);

export type TimestampCheck = { ok: true; text: string } | { ok: false; reason: RejectReason };

/**
 * The replay window of a timestamped scheme whose source sets none: the configuration's default, left out of
 * the ingest function's environment (so each timestamped source costs none of Lambda's 4 KB for it).
 */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export function checkTimestamp(
  text: string | undefined,
  toleranceSeconds: number | undefined,
  nowMs: number,
): TimestampCheck {
  if (text === undefined || text === '') return { ok: false, reason: 'missing_timestamp' };
  if (!TIMESTAMP.test(text)) return { ok: false, reason: 'malformed_timestamp' };
  const skew = Math.abs(Math.floor(nowMs / 1000) - Number(text));
  return skew > (toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)
    ? { ok: false, reason: 'stale_timestamp' }
    : { ok: true, text };
}

/** Tries every active secret against every candidate signature. */
export function anyMatches(
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
export const mismatch = (secrets: readonly string[]): VerifyResult =>
  fail(secrets.some((s) => s !== s.trim()) ? 'secret_whitespace' : 'bad_signature');
