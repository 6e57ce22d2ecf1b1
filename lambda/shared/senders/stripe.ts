/** Stripe: `Stripe-Signature` `t=` + `v1=` over `<t>.<body>`; id and type from the event JSON. */

import * as z from 'zod/mini';
import { hooklineAcknowledgement, noProbe } from './answer-kit';
import { field, MALFORMED, nonEmpty, parseJsonObject } from './describe-kit';
import { bodyTypeOverrideProblem } from './generic-kit';
import { defineSender } from './sender';
import { secretRef, timestamped } from './settings-kit';
import { hmac, webhookUrlAsIs } from './sign-kit';
import { anyMatches, checkTimestamp, decodeDigest, fail, isTimestamp, mac, mismatch, OK } from './verify-kit';

export const stripe = defineSender(z.object({ type: z.literal('stripe'), ...secretRef, ...timestamped }), {
  type: 'stripe',
  needsSecret: true,
  credentialHeaders: ['stripe-signature'],
  configuredCredentialHeaders: () => [],
  keptHeaders: [],
  rejectionHeaders: {},
  acknowledgement: hooklineAcknowledgement,
  probeAnswer: noProbe,
  verify(settings, request, secrets, nowMs) {
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
    if (!isTimestamp(timestamp)) return fail('malformed_timestamp');
    if (signatures.length === 0) return fail('malformed_signature');
    const content = Buffer.concat([Buffer.from(`${timestamp}.`), request.body]);
    if (!anyMatches(secrets, signatures, (s) => mac('sha256', s, content))) return mismatch(secrets);
    const time = checkTimestamp(timestamp, settings.toleranceSeconds, nowMs);
    return time.ok ? OK : fail(time.reason);
  },
  describe(_settings, _headers, body, text) {
    const parsed = parseJsonObject(body, text);
    if (!parsed.ok) return MALFORMED;
    return {
      ok: true,
      id: nonEmpty(field(parsed.value, 'id')),
      type: nonEmpty(field(parsed.value, 'type')) ?? 'unknown',
      json: parsed.value,
    };
  },
  secretFromKey: (key) => key,
  secretProblem: () => undefined,
  requestUrl: webhookUrlAsIs,
  sign: (_settings, key, body, { seconds }) => ({
    'stripe-signature': `t=${seconds},v1=${hmac('sha256', key, Buffer.from(`${seconds}.`), body).toString('hex')}`,
  }),
  sampleType: 'invoice.paid',
  sample(_settings, { id, now, type = 'invoice.paid' }) {
    const body = {
      id: `evt_${id.replaceAll('-', '').slice(0, 24)}`,
      object: 'event',
      api_version: '2025-09-30.clover',
      created: Math.floor(now.getTime() / 1000),
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type,
      data: {
        object: {
          id: 'in_1QhookLineSample',
          object: 'invoice',
          amount_due: 2000,
          amount_paid: 2000,
          currency: 'usd',
          customer: 'cus_hooklineSample',
          status: 'paid',
        },
      },
    };
    return {
      body: JSON.stringify(body),
      contentType: 'application/json',
      headers: { 'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)' },
      type,
    };
  },
  typeHeaders: () => ({}),
  typeOverrideProblem: bodyTypeOverrideProblem,
});
