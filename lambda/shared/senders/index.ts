/**
 * The registry of sender types. Adding a sender = one module in this folder (see `./sender.ts` for its
 * parts) + one entry in {@link SENDER_LIST}, and the matching config-side module in `lib/senders/`.
 */
import type { z } from 'zod/mini';
import { github } from './github';
import { hmac } from './hmac';
import type { SenderParts } from './sender';
import { shopify } from './shopify';
import { isQuotedSecret, QUOTED_SECRET_PROBLEM } from './sign-kit';
import { slack } from './slack';
import { standardWebhooks } from './standard-webhooks';
import { stripe } from './stripe';
import { token } from './token';
import { twilio } from './twilio';
import { unverified } from './unverified';

/** Every supported sender, in the order the documentation lists them. */
export const SENDER_LIST = [
  github,
  stripe,
  slack,
  shopify,
  standardWebhooks,
  twilio,
  hmac,
  token,
  unverified,
] as const;

type AnySender = (typeof SENDER_LIST)[number];
/** The runtime settings of one source, whatever its sender. */
export type SourceSettings = z.infer<AnySender['settings']>;
export type SenderType = SourceSettings['type'];

/** Senders by type. */
export const SENDERS = Object.fromEntries(SENDER_LIST.map((sender) => [sender.type, sender])) as {
  readonly [K in SenderType]: Extract<AnySender, { readonly type: K }>;
};

/** The sender of a source's settings, typed for those settings. */
export function senderFor<S extends SourceSettings>(settings: S): SenderParts<S> {
  // The registry holds each sender under its own type, so the sender found takes exactly these settings.
  return SENDERS[settings.type as SenderType] as unknown as SenderParts<S>;
}

/**
 * Headers that carry a credential whatever the source's scheme: a browser's session, a proxy's password, the
 * common API key header. Listed in `ingest.keepHeaders` or not, an envelope (and so the archive, a dead letter
 * and every operator view of them) must not hold them.
 */
const GENERIC_CREDENTIAL_HEADERS: readonly string[] = ['cookie', 'proxy-authorization', 'x-api-key'];

/** The schemes' credential headers and the generic ones: never copied into an envelope, from any source. */
export const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set([
  ...GENERIC_CREDENTIAL_HEADERS,
  ...SENDER_LIST.flatMap((s) => s.credentialHeaders),
]);

/**
 * Every header that carries a credential for any of `sources` (lower-case): the schemes' and generic ones, and
 * the signature or token header each source's settings name. A request to one source may carry another's
 * token (a client that sends one API key header everywhere), so none of them is kept for any source.
 */
export function credentialHeadersOf(sources: Iterable<SourceSettings>): ReadonlySet<string> {
  const headers = new Set(CREDENTIAL_HEADERS);
  for (const settings of sources) {
    for (const header of senderFor(settings).configuredCredentialHeaders(settings)) {
      headers.add(header.toLowerCase());
    }
  }
  return headers;
}

/** The senders' event headers worth keeping (the default of `ingest.keepHeaders`, after the generic ones). */
export const SENDER_KEPT_HEADERS: readonly string[] = SENDER_LIST.flatMap((s) => s.keptHeaders);

/**
 * Why `secret` cannot serve as a signing secret of a `type` source, or undefined when it can: what no sender
 * issues (blank, whitespace at either end, a JSON document), then the sender's own rule for its keys.
 */
export function signingSecretProblem(type: SenderType, secret: string): string | undefined {
  if (secret.trim() === '') return 'the secret is empty or only whitespace, and anyone could sign with it';
  if (secret !== secret.trim())
    return 'the secret starts or ends with whitespace, which no sender issues: copy it again without it';
  if (/^\s*[{[]/.test(secret) && isJson(secret))
    return 'the secret is a JSON document: pass the plain secret the sender shows (the rotation list is kept for you)';
  if (isQuotedSecret(secret)) return QUOTED_SECRET_PROBLEM;
  const sender: SenderParts<SourceSettings> = SENDERS[type];
  return sender.secretProblem(secret);
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
