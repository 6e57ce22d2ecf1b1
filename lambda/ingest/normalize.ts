/**
 * Turns a verified request into the envelope's id, type and body. Pure. The id and type rules are the
 * sender's (`describe` in its module under `lambda/shared/senders`); which senders parse the body, and what
 * invalid JSON means there (a 400, never a 5xx), is documented in lambda/ingest/README.md.
 */

import { isUtf8 } from 'node:buffer';
import type { SourceRuntimeConfig } from '../shared/ingest-config';
import { MAX_EVENT_TYPE_LENGTH } from '../shared/safe-ids';
import { senderFor } from '../shared/senders';
import { formFields, isForm, parseJson } from '../shared/senders/describe-kit';
import type { DescribeResult, EventDescription } from '../shared/senders/sender';

export { sanitizeId } from '../shared/safe-ids';
export { valueAtPath } from '../shared/senders/describe-kit';
export type { DescribeResult, EventDescription } from '../shared/senders/sender';

/**
 * Types travel as SQS attributes: replace characters SQS refuses (a lone surrogate, U+FFFE, U+FFFF) and control
 * characters, and keep them short. A character beyond U+FFFF (an emoji) is kept whole: SQS takes it.
 */
export function sanitizeType(type: string | undefined): string {
  // With the `u` flag the surrogate range matches a lone surrogate only, never a pair.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what SQS refuses.
  const cleaned = (type ?? '').replace(/[\u0000-\u001f\u007f\ud800-\udfff\ufffe\uffff]/gu, '_');
  if (cleaned === '') return 'unknown';
  const kept = cleaned.slice(0, MAX_EVENT_TYPE_LENGTH);
  // A cut between the two halves of a pair would leave a lone surrogate, which SQS refuses.
  return /[\ud800-\udbff]$/.test(kept) ? kept.slice(0, -1) : kept;
}

/**
 * Derives id and type as the sender defines them. `text`, when given, is `body` decoded as UTF-8 (saves
 * decoding it again).
 */
export function describeEvent(
  source: SourceRuntimeConfig,
  headers: Readonly<Record<string, string | undefined>>,
  body: Buffer,
  text?: string,
): DescribeResult {
  return senderFor(source).describe(source, headers, body, text);
}

/**
 * What a grouping path reads when no earlier step parsed the body: a form body's fields (a Twilio callback, a Slack
 * slash command), else the body parsed as JSON; undefined when it is neither. `contentType` is lower-case.
 */
export function jsonForGrouping(description: EventDescription, body: Buffer, contentType: string): unknown {
  if (description.json !== undefined) return description.json;
  if (isForm(contentType)) return formFields(body.toString('utf8'));
  const parsed = parseJson(body);
  return parsed.ok ? parsed.value : undefined;
}

const TEXTUAL = /^text\/|json|xml|x-www-form-urlencoded|javascript|yaml|csv/;

/**
 * The body as the envelope carries it: UTF-8 text when it is textual and valid UTF-8, else base64. `text`,
 * when given, is `body` decoded as UTF-8 from bytes known to be valid UTF-8 (a body that arrived as a
 * well-formed string), so neither the check nor the decoding is repeated.
 */
export function encodeBody(
  body: Buffer,
  contentType: string | undefined,
  text?: string,
): { body: string; bodyEncoding: 'utf8' | 'base64' } {
  if (contentType && TEXTUAL.test(contentType.toLowerCase()) && (text !== undefined || isUtf8(body))) {
    return { body: text ?? body.toString('utf8'), bodyEncoding: 'utf8' };
  }
  return { body: body.toString('base64'), bodyEncoding: 'base64' };
}

/** JSON for an SQS message body: the shared rule (`../shared/claim-check`). */
export { sqsSafeJson } from '../shared/claim-check';
