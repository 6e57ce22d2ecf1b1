/**
 * Standard Webhooks (Svix, Resend, ...): `webhook-id`/`webhook-timestamp`/`webhook-signature` (or `svix-*`),
 * HMAC-SHA256 over `<id>.<timestamp>.<body>` keyed by the base64 after `whsec_`; type from the JSON body.
 */

import { randomBytes, randomUUID } from 'node:crypto';
import * as z from 'zod/mini';
import { hooklineAcknowledgement, noProbe } from './answer-kit';
import { field, MALFORMED, nonEmpty, parseJsonObject } from './describe-kit';
import { bodyTypeOverrideProblem } from './generic-kit';
import { defineSender } from './sender';
import { secretRef, timestamped } from './settings-kit';
import { hmac, webhookUrlAsIs } from './sign-kit';
import { anyMatches, checkTimestamp, decodeDigest, fail, mac, mismatch, OK } from './verify-kit';

/** Standard Webhooks keys are `whsec_` + base64 of the key bytes (the prefix is optional). */
export function standardWebhooksKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
}

/** A new Standard Webhooks secret: `whsec_` and the base64 of 32 random bytes (the format allows 24 to 64). */
export function newStandardWebhooksSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** Why a Standard Webhooks secret cannot sign anything, or undefined when it can. */
export function standardWebhooksKeyProblem(secret: string): string | undefined {
  return standardWebhooksKey(secret).length === 0
    ? 'a Standard Webhooks secret is whsec_ followed by the base64 key the sender shows; this one decodes to no key bytes'
    : undefined;
}

/** The `v1,` (HMAC-SHA256) entries of a signature list; `v1a` (ed25519) and unknown versions are ignored. */
function v1Signatures(list: string): Buffer[] {
  const candidates: Buffer[] = [];
  for (const entry of list.split(' ')) {
    if (!entry.startsWith('v1,')) continue;
    const digest = decodeDigest(entry.slice(3), 'base64', 32);
    if (digest) candidates.push(digest);
  }
  return candidates;
}

export const standardWebhooks = defineSender(
  z.object({ type: z.literal('standard-webhooks'), ...secretRef, ...timestamped }),
  {
    type: 'standard-webhooks',
    needsSecret: true,
    credentialHeaders: ['webhook-signature', 'svix-signature'],
    configuredCredentialHeaders: () => [],
    keptHeaders: ['webhook-id', 'webhook-timestamp', 'svix-id', 'svix-timestamp'],
    rejectionHeaders: {},
    acknowledgement: hooklineAcknowledgement,
    probeAnswer: noProbe,
    secretProblem: standardWebhooksKeyProblem,
    verify(settings, request, secrets, nowMs) {
      const h = request.headers;
      const signature = h['webhook-signature'] ?? h['svix-signature'];
      const id = h['webhook-id'] ?? h['svix-id'];
      const timestampText = h['webhook-timestamp'] ?? h['svix-timestamp'];
      if (!signature) return fail('missing_signature');
      if (!id) return fail('missing_id');
      const time = checkTimestamp(timestampText, settings.toleranceSeconds, nowMs);
      if (!time.ok && time.reason !== 'stale_timestamp') return fail(time.reason);
      const candidates = v1Signatures(signature);
      if (candidates.length === 0) return fail('malformed_signature');
      const usable = secrets.filter((s) => standardWebhooksKeyProblem(s) === undefined);
      if (usable.length === 0) return fail('no_usable_secret');
      const content = Buffer.concat([Buffer.from(`${id}.${timestampText}.`), request.body]);
      if (!anyMatches(usable, candidates, (s) => mac('sha256', standardWebhooksKey(s), content)))
        return mismatch(secrets);
      return time.ok ? OK : fail(time.reason);
    },
    describe(_settings, headers, body, text) {
      const parsed = parseJsonObject(body, text);
      if (!parsed.ok) return MALFORMED;
      return {
        ok: true,
        id: nonEmpty(headers['webhook-id']) ?? nonEmpty(headers['svix-id']),
        type: nonEmpty(field(parsed.value, 'type')) ?? 'unknown',
        json: parsed.value,
      };
    },
    secretFromKey: (key) => `whsec_${Buffer.from(key).toString('base64')}`,
    requestUrl: webhookUrlAsIs,
    sign(_settings, key, body, { seconds, id: given }) {
      const id = given ?? `msg_${randomUUID().replaceAll('-', '')}`;
      const signature = hmac('sha256', standardWebhooksKey(key), Buffer.from(`${id}.${seconds}.`), body);
      return {
        'webhook-id': id,
        'webhook-timestamp': seconds,
        'webhook-signature': `v1,${signature.toString('base64')}`,
      };
    },
    sampleType: 'user.created',
    sample(_settings, { now, type = 'user.created' }) {
      const body = {
        type,
        timestamp: now.toISOString(),
        data: { id: 'user_2hookline', email: 'ada@example.com', name: 'Ada' },
      };
      return { body: JSON.stringify(body), contentType: 'application/json', headers: {}, type };
    },
    typeHeaders: () => ({}),
    typeOverrideProblem: bodyTypeOverrideProblem,
  },
);
