/**
 * Slack: `X-Slack-Signature` `v0=` over `v0:<timestamp>:<body>`; Events API JSON, slash commands and
 * interactivity forms; the signed `url_verification` handshake is answered, not enqueued, and so is the unsigned
 * `ssl_check`. Slash commands and interactivity are acknowledged with an empty 200, as Slack requires.
 */

import * as z from 'zod/mini';
import { EMPTY_OK } from './answer-kit';
import { contentTypeOf, field, isForm, MALFORMED, nonEmpty, parseJsonObject } from './describe-kit';
import { bodyTypeOverrideProblem } from './generic-kit';
import { type DescribeResult, defineSender } from './sender';
import { secretRef, timestamped } from './settings-kit';
import { hmac, webhookUrlAsIs } from './sign-kit';
import { anyMatches, checkTimestamp, decodeDigest, fail, mac, mismatch, OK } from './verify-kit';

function describeForm(params: URLSearchParams): DescribeResult {
  const payload = params.get('payload');
  if (payload === null)
    return { ok: true, type: params.get('command') !== null ? 'slash_command' : 'unknown' };
  const parsed = parseJsonObject(Buffer.from(payload, 'utf8'));
  if (!parsed.ok) return MALFORMED;
  return { ok: true, type: nonEmpty(field(parsed.value, 'type')) ?? 'unknown', json: parsed.value };
}

export const slack = defineSender(z.object({ type: z.literal('slack'), ...secretRef, ...timestamped }), {
  type: 'slack',
  needsSecret: true,
  credentialHeaders: ['x-slack-signature'],
  configuredCredentialHeaders: () => [],
  keptHeaders: ['x-slack-retry-num', 'x-slack-retry-reason'],
  // Slack retries every non-2xx three times; a rejected request would be rejected again.
  rejectionHeaders: { 'x-slack-no-retry': '1' },
  // Slash commands and interactivity (form posts) want "a HTTP 200 OK status code. Any other flavor of response
  // will result in a user-facing error", and a body is shown as a message or read as a modal's response_action: an
  // empty 200 is the plain acknowledgement. Events API deliveries (JSON) take any 2xx.
  acknowledgement: (_settings, headers) => (isForm(contentTypeOf(headers)) ? EMPTY_OK : undefined),
  // Slack checks a slash command URL's certificate with a form post of `ssl_check=1` (and the legacy token, no
  // signature) and wants a 200; Slack's own Bolt answers it before verifying anything. Nothing is enqueued.
  probeAnswer: (_settings, { headers, body }) =>
    // The byte search first: every slash command is a form post, and only a probe needs parsing before its check.
    isForm(contentTypeOf(headers)) &&
    body.includes('ssl_check') &&
    new URLSearchParams(body.toString('utf8')).get('ssl_check') === '1'
      ? EMPTY_OK
      : undefined,
  verify(settings, request, secrets, nowMs) {
    const header = request.headers['x-slack-signature'];
    if (!header) return fail('missing_signature');
    const time = checkTimestamp(
      request.headers['x-slack-request-timestamp'],
      settings.toleranceSeconds,
      nowMs,
    );
    if (!time.ok && time.reason !== 'stale_timestamp') return fail(time.reason);
    const digest = header.startsWith('v0=') ? decodeDigest(header.slice(3), 'hex', 32) : undefined;
    if (!digest) return fail('malformed_signature');
    const timestamp = request.headers['x-slack-request-timestamp'] ?? '';
    const content = Buffer.concat([Buffer.from(`v0:${timestamp}:`), request.body]);
    if (!anyMatches(secrets, [digest], (s) => mac('sha256', s, content))) return mismatch(secrets);
    return time.ok ? OK : fail(time.reason);
  },
  describe(_settings, headers, body, text) {
    if (isForm(contentTypeOf(headers)))
      return describeForm(new URLSearchParams(text ?? body.toString('utf8')));
    const parsed = parseJsonObject(body, text);
    if (!parsed.ok) return MALFORMED;
    const json = parsed.value;
    const outer = nonEmpty(field(json, 'type'));
    const type = outer === 'event_callback' ? nonEmpty(field(field(json, 'event'), 'type')) : outer;
    if (outer === 'url_verification') {
      // Slack's handshake always carries its challenge as a string; without one there is nothing to answer.
      const challenge = nonEmpty(field(json, 'challenge'));
      if (challenge === undefined) return MALFORMED;
      const answer = { statusCode: 200, contentType: 'text/plain', body: challenge };
      return { ok: true, type: outer, json, handshake: { answer } };
    }
    return { ok: true, id: nonEmpty(field(json, 'event_id')), type: type ?? 'unknown', json };
  },
  secretFromKey: (key) => key,
  secretProblem: () => undefined,
  requestUrl: webhookUrlAsIs,
  sign: (_settings, key, body, { seconds }) => ({
    'x-slack-request-timestamp': seconds,
    'x-slack-signature': `v0=${hmac('sha256', key, Buffer.from(`v0:${seconds}:`), body).toString('hex')}`,
  }),
  sampleType: 'app_mention',
  sample(_settings, { id, now, type = 'app_mention' }) {
    const epoch = Math.floor(now.getTime() / 1000);
    const body = {
      token: 'verification-token-unused',
      team_id: 'T0001',
      api_app_id: 'A0001',
      type: 'event_callback',
      event_id: `Ev${id.replaceAll('-', '').slice(0, 10).toUpperCase()}`,
      event_time: epoch,
      event: { type, user: 'U0001', text: '<@U0BOT> deploy please', ts: `${epoch}.000100`, channel: 'C0001' },
    };
    return {
      body: JSON.stringify(body),
      contentType: 'application/json',
      headers: { 'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)' },
      type,
    };
  },
  typeHeaders: () => ({}),
  typeOverrideProblem: bodyTypeOverrideProblem,
});
