/**
 * Signature verification: one verifier per sender, in its module under `lambda/shared/senders`. Pure
 * functions: bytes, headers, secrets and a clock in, a result out. They never throw on attacker-controlled
 * input. The timestamp window every timestamped scheme uses is described in `senders/verify-kit.ts`.
 */
import type { SourceRuntimeConfig } from '../shared/ingest-config';
import { senderFor } from '../shared/senders';
import type { SenderParts, SignedRequest, VerifyResult } from '../shared/senders/sender';
import { fail, OK } from '../shared/senders/verify-kit';

export type { RejectReason, SignedRequest, VerifyResult } from '../shared/senders/sender';
export { safeEqual } from '../shared/senders/verify-kit';

/**
 * The secrets a verifier may use. Empty and whitespace-only ones never authenticate anything: anyone can compute
 * a signature with such a key, so accepting it would accept forgeries.
 */
export const usableSecrets = (secrets: readonly string[]) => secrets.filter((s) => s.trim().length > 0);

/**
 * Verifies a request against a source's scheme with any of its active secrets.
 * `secrets` must be non-empty for every sender that needs a secret.
 */
export function verifyRequest(
  source: SourceRuntimeConfig,
  request: SignedRequest,
  secrets: readonly string[],
  nowMs: number,
): VerifyResult {
  return verifyWith(senderFor(source), source, request, secrets, nowMs);
}

/** {@link verifyRequest} with the source's sender already looked up (the ingest binds it once per source). */
export function verifyWith(
  sender: SenderParts<SourceRuntimeConfig>,
  source: SourceRuntimeConfig,
  request: SignedRequest,
  secrets: readonly string[],
  nowMs: number,
): VerifyResult {
  if (!sender.needsSecret) return OK;
  const usable = usableSecrets(secrets);
  if (usable.length === 0) return fail('no_usable_secret');
  return sender.verify(source, request, usable, nowMs);
}
