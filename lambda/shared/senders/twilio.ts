/**
 * Twilio: `X-Twilio-Signature` (HMAC-SHA1 of the URL + sorted form parameters, or of a URL carrying the JSON
 * body's `bodySHA256`); id the idempotency token, else the Sid with the status; type `message`/`call` +
 * `.status`.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import { noProbe } from './answer-kit';
import { contentTypeOf, isForm, nonEmpty } from './describe-kit';
import { defineSender } from './sender';
import { secretRef } from './settings-kit';
import { hmac, twilioBodySha256 } from './sign-kit';
import { anyMatches, decodeDigest, fail, mac, mismatch, OK, safeEqual } from './verify-kit';

/**
 * The URL a sender signs when the source has a `publicUrl` (a custom domain or proxy in front of the API):
 * `<publicUrl>/webhooks/<source>` plus the query as received (`search`: empty, or starting with `?`).
 */
export function publicWebhookUrl(publicUrl: string, sourceName: string, search: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/webhooks/${sourceName}${search}`;
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

/**
 * The spellings of `url` a Twilio signature may cover: Twilio signs some webhooks with the scheme's standard port
 * written out (`https://host:443/...`) and others without it, so its own library (twilio-node
 * `validateRequest`) accepts a signature over the URL without a port and over the URL with one. So does this:
 * without a port, the URL as is and with the standard port; with a port, the URL as is and without it.
 */
export function twilioUrlSpellings(url: string): string[] {
  const match = /^(https?:\/\/)([^/?#]*)(.*)$/is.exec(url);
  if (!match) return [url];
  const [, scheme = '', authority = '', rest = ''] = match;
  const port = /:\d*$/.exec(authority);
  if (port) return [url, `${scheme}${authority.slice(0, port.index)}${rest}`];
  const standardPort = scheme.toLowerCase() === 'https://' ? 443 : 80;
  return [url, `${scheme}${authority}:${standardPort}${rest}`];
}

/** What a Twilio callback is about: the message or call, its Sid, and the status it reports. */
function twilioSubject(params: URLSearchParams) {
  const messageSid = nonEmpty(params.get('MessageSid')) ?? nonEmpty(params.get('SmsSid'));
  if (messageSid) {
    const status = nonEmpty(params.get('MessageStatus')) ?? nonEmpty(params.get('SmsStatus'));
    return { kind: 'message', sid: messageSid, status };
  }
  const callSid = nonEmpty(params.get('CallSid'));
  if (callSid) return { kind: 'call', sid: callSid, status: nonEmpty(params.get('CallStatus')) };
  return undefined;
}

/**
 * Every status callback of one message or call carries the same Sid, so the Sid alone would make `delivered`
 * a duplicate of `sent`. Twilio's idempotency token is the same across retries of one webhook only; without
 * it the Sid plus the reported status names one callback.
 */
function twilioEvent(headers: Readonly<Record<string, string | undefined>>, params: URLSearchParams) {
  const subject = twilioSubject(params);
  const status = subject?.status?.toLowerCase();
  const id =
    nonEmpty(headers['i-twilio-idempotency-token']) ??
    (subject && (subject.status ? `${subject.sid}:${subject.status}` : subject.sid));
  const type = subject ? (status ? `${subject.kind}.${status}` : subject.kind) : 'unknown';
  return { id, type };
}

/**
 * Twilio reads a webhook's answer as instructions: TwiML for `text/xml`, a reply message for `text/plain`, and any
 * other content type (hookline's JSON) is its error 12300 "Invalid Content-Type" (a failed call, for a voice URL).
 * Empty TwiML is its documented "nothing to do", for status callbacks too.
 */
const EMPTY_TWIML = {
  statusCode: 200,
  contentType: 'text/xml',
  body: '<?xml version="1.0" encoding="UTF-8"?><Response/>',
};

/** The parameters the signature covers: none when the URL carries `bodySHA256` (a JSON body), else the form. */
function signedParams(url: URL, body: Buffer, contentType: string): URLSearchParams {
  if (url.searchParams.has('bodySHA256') || !isForm(contentType)) return new URLSearchParams();
  return new URLSearchParams(body.toString('utf8'));
}

export const twilio = defineSender(
  z.object({
    type: z.literal('twilio'),
    ...secretRef,
    /** Externally visible base URL (scheme + host + stage path) that Twilio signs; else built from the request. */
    publicUrl: z.optional(z.url()),
  }),
  {
    type: 'twilio',
    needsSecret: true,
    credentialHeaders: ['x-twilio-signature'],
    configuredCredentialHeaders: () => [],
    keptHeaders: [],
    rejectionHeaders: {},
    acknowledgement: () => EMPTY_TWIML,
    probeAnswer: noProbe,
    verify(_settings, request, secrets) {
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
      // Twilio signs a form body's parameters, and any other body through bodySHA256. Without either the
      // signature covers the URL alone: one seen signature would carry any body.
      if (bodyHash === null && request.body.length > 0 && !isForm(contentTypeOf(request.headers)))
        return fail('unsigned_body');
      if (bodyHash !== null) {
        // JSON bodies: the URL (with the body's hash) is signed, and the hash must match the body.
        const actual = createHash('sha256').update(request.body).digest();
        const claimed = decodeDigest(bodyHash, 'hex', 32);
        if (!claimed || !safeEqual(actual, claimed)) return fail('bad_signature');
      }
      const params = signedParams(url, request.body, contentTypeOf(request.headers));
      let matched = false;
      // Every spelling is tried, with no early exit, so the work does not depend on which one matched.
      for (const spelling of twilioUrlSpellings(request.url)) {
        const content = Buffer.from(twilioSignedString(spelling, params), 'utf8');
        if (anyMatches(secrets, [digest], (s) => mac('sha1', s, content))) matched = true;
      }
      return matched ? OK : mismatch(secrets);
    },
    describe(_settings, headers, body, text) {
      // A JSON body (signed through bodySHA256) has no status parameters, but its retries still carry the token.
      const params = isForm(contentTypeOf(headers))
        ? new URLSearchParams(text ?? body.toString('utf8'))
        : new URLSearchParams();
      return { ok: true, ...twilioEvent(headers, params) };
    },
    secretFromKey: (key) => key,
    secretProblem: () => undefined,
    // Twilio signs a form body's parameters; any other body (JSON) it signs through the URL, adding the body's
    // SHA-256 as `bodySHA256` to the URL it posts to. Appended as text, so the rest of the URL keeps its spelling.
    requestUrl(_settings, url, body, contentType) {
      if (isForm(contentType.toLowerCase()) || new URL(url).searchParams.has('bodySHA256')) return url;
      return `${url}${url.includes('?') ? '&' : '?'}bodySHA256=${twilioBodySha256(body)}`;
    },
    sign(_settings, key, body, { url }) {
      if (!url) throw new Error('signing a Twilio request needs options.url, the exact URL it is posted to');
      // Twilio signs the form parameters of a form body; a JSON body is covered by the URL's bodySHA256.
      const params = new URL(url).searchParams.has('bodySHA256')
        ? new URLSearchParams()
        : new URLSearchParams(body.toString('utf8'));
      const data = twilioSignedString(url, params);
      return { 'x-twilio-signature': hmac('sha1', key, Buffer.from(data, 'utf8')).toString('base64') };
    },
    sampleType: 'message.received',
    sample(_settings, { id }) {
      const params = new URLSearchParams({
        MessageSid: `SM${id.replaceAll('-', '').slice(0, 32)}`,
        AccountSid: 'AC00000000000000000000000000000000',
        From: '+15005550006',
        To: '+15005550001',
        Body: 'Hello from hookline',
        NumMedia: '0',
      });
      return {
        body: params.toString(),
        contentType: 'application/x-www-form-urlencoded',
        headers: {},
        type: 'message',
      };
    },
    typeHeaders: () => ({}),
    typeOverrideProblem: () =>
      "Twilio's type comes from the form's MessageSid/CallSid and status parameters; send a --file with those instead",
  },
);
