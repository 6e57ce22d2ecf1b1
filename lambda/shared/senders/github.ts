/**
 * GitHub: `X-Hub-Signature-256` over the body; id `X-GitHub-Delivery`; type `X-GitHub-Event` + `.action`; the signed
 * `ping` is answered, not enqueued.
 */
import { randomUUID } from 'node:crypto';
import * as z from 'zod/mini';
import { hooklineAcknowledgement, noProbe } from './answer-kit';
import {
  contentTypeOf,
  field,
  isForm,
  MALFORMED,
  nonEmpty,
  type Parsed,
  parseJsonObject,
} from './describe-kit';
import { defineSender } from './sender';
import { secretRef } from './settings-kit';
import { hmac, webhookUrlAsIs } from './sign-kit';
import { anyMatches, decodeDigest, fail, mac, mismatch, OK } from './verify-kit';

export const github = defineSender(z.object({ type: z.literal('github'), ...secretRef }), {
  type: 'github',
  needsSecret: true,
  credentialHeaders: ['x-hub-signature', 'x-hub-signature-256'],
  configuredCredentialHeaders: () => [],
  keptHeaders: ['x-github-event', 'x-github-delivery', 'x-github-hook-id'],
  rejectionHeaders: {},
  acknowledgement: hooklineAcknowledgement,
  probeAnswer: noProbe,
  verify(_settings, request, secrets) {
    const header = request.headers['x-hub-signature-256'];
    if (!header) return fail('missing_signature');
    const digest = header.startsWith('sha256=') ? decodeDigest(header.slice(7), 'hex', 32) : undefined;
    if (!digest) return fail('malformed_signature');
    return anyMatches(secrets, [digest], (s) => mac('sha256', s, request.body)) ? OK : mismatch(secrets);
  },
  describe(_settings, headers, body, text) {
    let parsed: Parsed;
    if (isForm(contentTypeOf(headers))) {
      // The "application/x-www-form-urlencoded" setting posts the JSON in a `payload` field.
      const payload = new URLSearchParams(text ?? body.toString('utf8')).get('payload');
      parsed = payload === null ? { ok: false } : parseJsonObject(Buffer.from(payload, 'utf8'));
    } else {
      parsed = parseJsonObject(body, text);
    }
    if (!parsed.ok) return MALFORMED;
    const event = nonEmpty(headers['x-github-event']) ?? 'unknown';
    const action = nonEmpty(field(parsed.value, 'action'));
    return {
      ok: true,
      id: nonEmpty(headers['x-github-delivery']),
      type: action ? `${event}.${action}` : event,
      json: parsed.value,
      // GitHub pings a webhook when it is created (and from its settings page) to see that it is set up: no event
      // happened, and queued it would reach consumers that have no handler for it and dead-letter it.
      ...(event === 'ping' ? { handshake: {} } : {}),
    };
  },
  secretFromKey: (key) => key,
  secretProblem: () => undefined,
  requestUrl: webhookUrlAsIs,
  sign: (_settings, key, body, { id }) => ({
    'x-hub-signature-256': `sha256=${hmac('sha256', key, body).toString('hex')}`,
    'x-github-delivery': id ?? randomUUID(),
  }),
  sampleType: 'push',
  sample(_settings, { now, type }) {
    const [event = 'push', ...rest] = (type ?? 'push').split('.');
    const action = rest.join('.');
    const body: Record<string, unknown> = {
      ref: 'refs/heads/main',
      before: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
      after: '0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c',
      repository: { id: 1296269, name: 'hello-world', full_name: 'octocat/hello-world', private: false },
      pusher: { name: 'octocat', email: 'octocat@github.com' },
      sender: { login: 'octocat', id: 1, type: 'User' },
      head_commit: {
        id: '0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c',
        message: 'Fix the widget',
        timestamp: now.toISOString(),
        author: { name: 'Monalisa Octocat', email: 'octocat@github.com' },
      },
      ...(action ? { action } : {}),
    };
    return {
      body: JSON.stringify(body),
      contentType: 'application/json',
      headers: {
        'x-github-event': event,
        'x-github-hook-id': '123456789',
        'user-agent': 'GitHub-Hookshot/hookline',
      },
      type: action ? `${event}.${action}` : event,
    };
  },
  typeHeaders: (_settings, type) => ({ 'x-github-event': (type ?? 'push').split('.')[0] ?? 'push' }),
  typeOverrideProblem: (_settings, type, file) =>
    file && type.includes('.')
      ? `with --file only the x-github-event header (e.g. --type issues) can be set; the action comes from the file's "action" field`
      : undefined,
});
