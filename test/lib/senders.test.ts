import { describe, expect, it } from 'vitest';
import { describeEvent } from '../../lambda/ingest/normalize';
import { verifyRequest } from '../../lambda/ingest/verify';
import { sourceRuntimeSchema } from '../../lambda/shared/runtime-config';
import { SENDER_LIST, SENDERS, senderFor } from '../../lambda/shared/senders';
import { signWebhook } from '../../lambda/shared/webhook-signing';
import { resolveConfig } from '../../lib/config';
import { defaultDevSecret } from '../../lib/local/secrets';
import { sourceNeedsSecret, sourceRuntimeConfig } from '../../lib/runtime-wiring';
import { CONFIG_SENDER_LIST } from '../../lib/senders';

/** Every part a runtime sender module provides, with the kind of value it is. */
const RUNTIME_PARTS = {
  type: 'string',
  settings: 'object',
  needsSecret: 'boolean',
  credentialHeaders: 'array',
  configuredCredentialHeaders: 'function',
  keptHeaders: 'array',
  rejectionHeaders: 'object',
  acknowledgement: 'function',
  probeAnswer: 'function',
  verify: 'function',
  describe: 'function',
  secretFromKey: 'function',
  secretProblem: 'function',
  sign: 'function',
  requestUrl: 'function',
  sampleType: 'string',
  sample: 'function',
  typeHeaders: 'function',
  typeOverrideProblem: 'function',
} as const;

/** Every part a configuration-side sender module provides. */
const CONFIG_PARTS = {
  type: 'string',
  schema: 'object',
  example: 'object',
  violations: 'function',
  runtimeSettings: 'function',
} as const;

const kindOf = (value: unknown) => (Array.isArray(value) ? 'array' : typeof value);

const NOW = new Date(Date.UTC(2026, 10, 25, 12, 0, 0));

describe('sender registries', () => {
  it('the runtime and the configuration registries list the same types, once each', () => {
    const runtimeTypes = SENDER_LIST.map((s) => s.type);
    expect(CONFIG_SENDER_LIST.map((s) => s.type)).toEqual(runtimeTypes);
    expect(new Set(runtimeTypes).size).toBe(runtimeTypes.length);
    expect(Object.keys(SENDERS)).toEqual(runtimeTypes);
  });

  it.each(SENDER_LIST.map((s) => [s.type, s] as const))(
    'sender %s accepts the secrets it makes from a key, the development defaults',
    (_, sender) => {
      expect(sender.secretProblem(sender.secretFromKey('dev-secret-source'))).toBeUndefined();
    },
  );

  it.each(SENDER_LIST.map((s) => [s.type, s] as const))(
    'runtime sender %s provides every part',
    (_, sender) => {
      const parts = Object.fromEntries(Object.entries(sender).map(([name, value]) => [name, kindOf(value)]));
      expect(parts).toEqual(RUNTIME_PARTS);
    },
  );

  it.each(CONFIG_SENDER_LIST.map((s) => [s.type, s] as const))(
    'config sender %s provides every part',
    (_, sender) => {
      const parts = Object.fromEntries(Object.entries(sender).map(([name, value]) => [name, kindOf(value)]));
      expect(parts).toEqual(CONFIG_PARTS);
    },
  );
});

describe.each(CONFIG_SENDER_LIST.map((s) => [s.type, s] as const))(
  'sender %s end to end',
  (type, configSender) => {
    const config = resolveConfig({ sources: { example: configSender.example }, queues: { events: {} } });
    const [source] = config.sources;
    if (!source) throw new Error('no source resolved');
    const secretId = sourceNeedsSecret(source) ? 'env:HOOKLINE_SECRET_EXAMPLE' : undefined;
    const settings = sourceRuntimeConfig(source, secretId);
    const sender = SENDERS[type];
    const secret = defaultDevSecret(source);
    const url = 'https://hooks.example.com/webhooks/example';

    it('its example maps to runtime settings its own schema and the ingest schema accept', () => {
      expect(settings.type).toBe(type);
      expect(sender.settings.safeParse(settings).success).toBe(true);
      expect(sourceRuntimeSchema.parse(settings)).toEqual(settings);
    });

    it('its sample, signed as the sender signs, verifies and describes to the sample type', () => {
      const sample = senderFor(settings).sample(settings, { id: 'delivery-1', now: NOW });
      const headers = {
        'content-type': sample.contentType,
        ...sample.headers,
        ...signWebhook(settings, secret, sample.body, { url, now: NOW, id: 'delivery-1' }),
      };
      const body = Buffer.from(sample.body);
      expect(verifyRequest(settings, { headers, body, url }, [secret], NOW.getTime())).toEqual({ ok: true });
      expect(describeEvent(settings, headers, body)).toMatchObject({ ok: true, type: sample.type });
      if (sender.needsSecret) {
        expect(verifyRequest(settings, { headers, body, url }, ['another-secret'], NOW.getTime()).ok).toBe(
          false,
        );
      }
      // Where the signature covers the body (every scheme but a bare token), a changed body fails.
      const tampered = Buffer.from(`${sample.body} `);
      const signs = (b: Buffer) => signWebhook(settings, secret, b, { url, now: NOW, id: 'delivery-1' });
      if (JSON.stringify(signs(body)) !== JSON.stringify(signs(tampered))) {
        expect(verifyRequest(settings, { headers, body: tampered, url }, [secret], NOW.getTime()).ok).toBe(
          false,
        );
      }
    });

    it('its credential headers are never among the headers it keeps', () => {
      const credentials = [
        ...sender.credentialHeaders,
        ...senderFor(settings).configuredCredentialHeaders(settings),
      ];
      for (const header of credentials) expect(sender.keptHeaders).not.toContain(header);
    });
  },
);
