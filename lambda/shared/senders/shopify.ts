/** Shopify: `X-Shopify-Hmac-Sha256` (base64) over the body; id and type from headers, any body accepted. */
import { randomUUID } from 'node:crypto';
import * as z from 'zod/mini';
import { hooklineAcknowledgement, noProbe } from './answer-kit';
import { nonEmpty } from './describe-kit';
import { defineSender } from './sender';
import { secretRef } from './settings-kit';
import { hmac, webhookUrlAsIs } from './sign-kit';
import { anyMatches, decodeDigest, fail, mac, mismatch, OK } from './verify-kit';

export const shopify = defineSender(z.object({ type: z.literal('shopify'), ...secretRef }), {
  type: 'shopify',
  needsSecret: true,
  credentialHeaders: ['x-shopify-hmac-sha256'],
  configuredCredentialHeaders: () => [],
  keptHeaders: [
    'x-shopify-topic',
    'x-shopify-shop-domain',
    'x-shopify-webhook-id',
    'x-shopify-event-id',
    'x-shopify-triggered-at',
    'x-shopify-api-version',
  ],
  rejectionHeaders: {},
  acknowledgement: hooklineAcknowledgement,
  probeAnswer: noProbe,
  verify(_settings, request, secrets) {
    const header = request.headers['x-shopify-hmac-sha256'];
    if (!header) return fail('missing_signature');
    const digest = decodeDigest(header, 'base64', 32);
    if (!digest) return fail('malformed_signature');
    return anyMatches(secrets, [digest], (s) => mac('sha256', s, request.body)) ? OK : mismatch(secrets);
  },
  describe: (_settings, headers) => ({
    ok: true,
    id: nonEmpty(headers['x-shopify-webhook-id']),
    type: nonEmpty(headers['x-shopify-topic']) ?? 'unknown',
  }),
  secretFromKey: (key) => key,
  secretProblem: () => undefined,
  requestUrl: webhookUrlAsIs,
  sign: (_settings, key, body, { id }) => ({
    'x-shopify-hmac-sha256': hmac('sha256', key, body).toString('base64'),
    'x-shopify-webhook-id': id ?? randomUUID(),
  }),
  sampleType: 'orders/create',
  sample(_settings, { id, now, type = 'orders/create' }) {
    const iso = now.toISOString();
    const body = {
      id: 820982911946154500,
      admin_graphql_api_id: 'gid://shopify/Order/820982911946154508',
      email: 'jon@example.com',
      created_at: iso,
      currency: 'USD',
      total_price: '398.00',
      financial_status: 'paid',
      line_items: [{ id: 866550311766439000, title: 'IPod Nano - 8GB', quantity: 1, price: '199.00' }],
    };
    return {
      body: JSON.stringify(body),
      contentType: 'application/json',
      headers: {
        'x-shopify-topic': type,
        'x-shopify-shop-domain': 'hookline-sample.myshopify.com',
        'x-shopify-api-version': '2025-10',
        'x-shopify-triggered-at': iso,
        'x-shopify-event-id': id,
      },
      type,
    };
  },
  typeHeaders: (_settings, type) => ({ 'x-shopify-topic': type ?? 'orders/create' }),
  typeOverrideProblem: () => undefined,
});
