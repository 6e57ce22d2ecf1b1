/** Building blocks shared by signing and verification. Pure: only `node:crypto`. */
import { createHash, createHmac } from 'node:crypto';

export const toBytes = (body: string | Buffer): Buffer =>
  typeof body === 'string' ? Buffer.from(body, 'utf8') : body;

export const hmac = (algorithm: string, key: string | Buffer, ...parts: Buffer[]) => {
  const mac = createHmac(algorithm, key);
  for (const part of parts) mac.update(part);
  return mac.digest();
};

/**
 * A secret as stored may be the rotation form `{"secrets":["current","previous"]}`; senders sign with the
 * current (first) one.
 */
export function signingSecret(secret: string): string {
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

/** SHA-256 of a JSON body, hex, as Twilio puts it in the `bodySHA256` URL parameter. */
export function twilioBodySha256(body: string | Buffer): string {
  return createHash('sha256').update(toBytes(body)).digest('hex');
}

/** The webhook URL as is: what every sender but Twilio posts to. */
export const webhookUrlAsIs = (_settings: unknown, url: string): string => url;

/** Why a secret written as a JSON string (`"whsec_..."`, quotes included) cannot be used as it is. */
export const QUOTED_SECRET_PROBLEM =
  'the secret is in JSON quotes: store it without them (no sender issues a secret in quotes)';

/** Whether `text` is a whole JSON string: a secret pasted with its quotes, which no sender issues. */
export function isQuotedSecret(text: string): boolean {
  const trimmed = text.trim();
  if (!trimmed.startsWith('"')) return false;
  try {
    return typeof JSON.parse(trimmed) === 'string';
  } catch {
    return false;
  }
}
