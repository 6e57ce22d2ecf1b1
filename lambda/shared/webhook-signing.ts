/**
 * Signs a request exactly as each supported sender does.
 *
 * Used by tests, the CLI `send` command and the local-mode docs to produce requests the ingest function
 * accepts. Pure: only `node:crypto`. The returned headers are the authentication headers plus the id and
 * timestamp headers the scheme signs or the ingest function reads the delivery id from; names are lower-case.
 * Each sender's signing lives in its module under `./senders`.
 */
import type { SourceRuntimeConfig } from './ingest-config';
import { senderFor } from './senders';
import { signingSecret, toBytes } from './senders/sign-kit';

export { fillSignedContent, twilioBodySha256 } from './senders/sign-kit';
export { standardWebhooksKey } from './senders/standard-webhooks';
export { publicWebhookUrl, twilioSignedString } from './senders/twilio';

/** Options for {@link signWebhook}. */
export interface SignOptions {
  /** Full URL the sender posts to (Twilio signs it). */
  readonly url?: string;
  /** Signing time (default: now). */
  readonly now?: Date;
  /** Delivery id to send where the scheme carries one in a header (default: a random one). */
  readonly id?: string;
}

/**
 * Returns the headers a sender of `source`'s type adds to a request with `body`, signed with `secret`.
 * Twilio needs `options.url` (the exact URL the request is posted to) and a form-encoded body; a URL with a
 * `bodySHA256` parameter signs the URL alone, as Twilio does for JSON bodies.
 */
export function signWebhook(
  source: SourceRuntimeConfig,
  secret: string,
  body: string | Buffer,
  options: SignOptions = {},
): Record<string, string> {
  const sender = senderFor(source);
  const key = sender.needsSecret ? signingSecret(secret) : '';
  const seconds = String(Math.floor((options.now ?? new Date()).getTime() / 1000));
  return sender.sign(source, key, toBytes(body), {
    seconds,
    ...(options.url !== undefined ? { url: options.url } : {}),
    ...(options.id !== undefined ? { id: options.id } : {}),
  });
}
