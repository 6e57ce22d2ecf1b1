/**
 * Signs a request exactly as each supported sender does.
 *
 * Used by tests, the CLI `send` command and the local-mode docs to produce requests the ingest function
 * accepts. Pure: only `node:crypto`. The returned headers are the authentication headers plus the id and
 * timestamp headers the scheme signs or the ingest function reads the delivery id from; names are lower-case.
 */
import { createHash, createHmac, randomUUID } from 'node:crypto';
import type { SourceRuntimeConfig } from './runtime-config';

/** Options for {@link signWebhook}. */
export interface SignOptions {
  /** Full URL the sender posts to (Twilio signs it). */
  readonly url?: string;
  /** Signing time (default: now). */
  readonly now?: Date;
  /** Delivery id to send where the scheme carries one in a header (default: a random one). */
  readonly id?: string;
}

const toBytes = (body: string | Buffer): Buffer =>
  typeof body === 'string' ? Buffer.from(body, 'utf8') : body;

const hmac = (algorithm: string, key: string | Buffer, ...parts: Buffer[]) => {
  const mac = createHmac(algorithm, key);
  for (const part of parts) mac.update(part);
  return mac.digest();
};

/**
 * A secret as stored may be the rotation form `{"secrets":["current","previous"]}`; senders sign with the
 * current (first) one.
 */
function signingSecret(secret: string): string {
  if (!secret.startsWith('{')) return secret;
  try {
    const parsed: unknown = JSON.parse(secret);
    if (parsed && typeof parsed === 'object' && 'secrets' in parsed && Array.isArray(parsed.secrets)) {
      const first: unknown = parsed.secrets[0];
      if (typeof first === 'string') return first;
    }
  } catch {
    // Not the rotation form: a plain secret that happens to start with a brace.
  }
  return secret;
}

/** Standard Webhooks keys are `whsec_` + base64 of the key bytes (the prefix is optional). */
export function standardWebhooksKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
}

/**
 * The string Twilio signs: the full URL followed by every POST parameter, sorted by name, as name + value
 * (repeated names contribute each distinct value, sorted), as twilio-node does.
 */
export function twilioSignedString(url: string, params: URLSearchParams): string {
  const grouped = new Map<string, string[]>();
  for (const [name, value] of params) {
    const values = grouped.get(name) ?? [];
    values.push(value);
    grouped.set(name, values);
  }
  let data = url;
  for (const name of [...grouped.keys()].sort()) {
    for (const value of [...new Set(grouped.get(name))].sort()) data += name + value;
  }
  return data;
}

/** Replaces `{body}`, `{timestamp}` and `{id}` in a generic HMAC template, keeping the body's exact bytes. */
export function fillSignedContent(template: string, body: Buffer, timestamp: string, id: string): Buffer {
  const parts: Buffer[] = [];
  for (const piece of template.split(/(\{body\}|\{timestamp\}|\{id\})/)) {
    if (piece === '{body}') parts.push(body);
    else if (piece === '{timestamp}') parts.push(Buffer.from(timestamp, 'utf8'));
    else if (piece === '{id}') parts.push(Buffer.from(id, 'utf8'));
    else if (piece) parts.push(Buffer.from(piece, 'utf8'));
  }
  return Buffer.concat(parts);
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
  const bytes = toBytes(body);
  const key = source.type === 'unverified' ? '' : signingSecret(secret);
  const seconds = String(Math.floor((options.now ?? new Date()).getTime() / 1000));
  switch (source.type) {
    case 'github':
      return {
        'x-hub-signature-256': `sha256=${hmac('sha256', key, bytes).toString('hex')}`,
        'x-github-delivery': options.id ?? randomUUID(),
      };
    case 'stripe':
      return {
        'stripe-signature': `t=${seconds},v1=${hmac('sha256', key, Buffer.from(`${seconds}.`), bytes).toString('hex')}`,
      };
    case 'slack':
      return {
        'x-slack-request-timestamp': seconds,
        'x-slack-signature': `v0=${hmac('sha256', key, Buffer.from(`v0:${seconds}:`), bytes).toString('hex')}`,
      };
    case 'shopify':
      return {
        'x-shopify-hmac-sha256': hmac('sha256', key, bytes).toString('base64'),
        'x-shopify-webhook-id': options.id ?? randomUUID(),
      };
    case 'standard-webhooks': {
      const id = options.id ?? `msg_${randomUUID().replaceAll('-', '')}`;
      const signature = hmac('sha256', standardWebhooksKey(key), Buffer.from(`${id}.${seconds}.`), bytes);
      return {
        'webhook-id': id,
        'webhook-timestamp': seconds,
        'webhook-signature': `v1,${signature.toString('base64')}`,
      };
    }
    case 'twilio': {
      if (!options.url)
        throw new Error('signing a Twilio request needs options.url, the exact URL it is posted to');
      const url = new URL(options.url);
      const params = url.searchParams.has('bodySHA256')
        ? new URLSearchParams()
        : new URLSearchParams(bytes.toString('utf8'));
      const data = twilioSignedString(options.url, params);
      return { 'x-twilio-signature': hmac('sha1', key, Buffer.from(data, 'utf8')).toString('base64') };
    }
    case 'hmac': {
      const id = options.id ?? randomUUID();
      const content = fillSignedContent(source.signedContent, bytes, seconds, id);
      const headers: Record<string, string> = {
        [source.header]: source.prefix + hmac(source.algorithm, key, content).toString(source.encoding),
      };
      if (source.timestampHeader) headers[source.timestampHeader] = seconds;
      if (source.idHeader) headers[source.idHeader] = id;
      return headers;
    }
    case 'token': {
      const headers: Record<string, string> =
        source.scheme === 'basic'
          ? { [source.header]: `Basic ${Buffer.from(`hookline:${key}`, 'utf8').toString('base64')}` }
          : { [source.header]: source.header === 'authorization' ? `Bearer ${key}` : key };
      if (source.idHeader) headers[source.idHeader] = options.id ?? randomUUID();
      return headers;
    }
    case 'unverified':
      return {};
  }
}

/** SHA-256 of a JSON body, hex, as Twilio puts it in the `bodySHA256` URL parameter. */
export function twilioBodySha256(body: string | Buffer): string {
  return createHash('sha256').update(toBytes(body)).digest('hex');
}
