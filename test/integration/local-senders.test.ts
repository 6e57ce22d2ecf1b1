/**
 * Sender verification through local mode over real HTTP: the emulated API, the real ingest bundle and the
 * emulators, with each source's secret from the environment as `npm start` reads it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWebhook } from '../../lambda/shared/webhook-signing';
import { sourceRuntimeConfig } from '../../lib/runtime-wiring';
import { startTestPipeline, type TestPipeline, testConfig } from '../helpers/local/pipeline';

/** In this suite's assigned port range. */
const API_PORT = 5731;
const TWILIO_TOKEN = 'local-twilio-token';
const FORM = 'application/x-www-form-urlencoded';

describe('local mode: sender verification over HTTP', () => {
  let pipeline: TestPipeline;

  beforeAll(async () => {
    pipeline = await startTestPipeline(
      testConfig(
        { events: {} },
        {
          sources: {
            sms: { type: 'twilio', publicUrl: 'https://hooks.example.com' },
            standard: { type: 'standard-webhooks' },
            keyvalue: { type: 'github' },
            blank: { type: 'github' },
            open: { type: 'unverified', dangerouslyAcceptUnverifiedRequests: true, typeHeader: 'x-event' },
          },
        },
      ),
      {
        port: API_PORT,
        env: {
          HOOKLINE_SECRET_SMS: TWILIO_TOKEN,
          // A whsec_ key with no bytes after the prefix, and a Secrets Manager style key/value secret.
          HOOKLINE_SECRET_STANDARD: 'whsec_',
          HOOKLINE_SECRET_KEYVALUE: '{"webhookSecret":"kv-secret"}',
          // A key anyone can sign with.
          HOOKLINE_SECRET_BLANK: ' ',
        },
      },
    );
  });
  afterAll(async () => {
    await pipeline?.stop();
  });

  const post = (source: string, body: string, headers: Record<string, string>) =>
    fetch(pipeline.local.webhookUrls[source] ?? '', { method: 'POST', headers, body });

  /** The `count`th outcome the ingest function reported for `source` (no consumer reads this pipeline). */
  async function outcomeOf(source: string, count: number) {
    const outcomes = () => pipeline.events.filter((e) => e.function !== undefined && e.source === source);
    await pipeline.waitFor(() => outcomes().length >= count, 10_000, `outcome ${count} of ${source}`);
    return outcomes()[count - 1];
  }

  it('Twilio: a callback signed over the public URL with :443 written out is queued; another port is a 401', async () => {
    const sms = pipeline.config.sources.find((s) => s.name === 'sms');
    if (!sms) throw new Error('no sms source');
    const runtime = sourceRuntimeConfig(sms, 'env:HOOKLINE_SECRET_SMS');
    const body = 'MessageSid=SMlocal443&MessageStatus=delivered&SmsStatus=delivered';
    const signedFor = (url: string) => signWebhook(runtime, TWILIO_TOKEN, body, { url });

    const withPort = await post('sms', body, {
      'content-type': FORM,
      ...signedFor('https://hooks.example.com:443/webhooks/sms'),
    });
    expect(withPort.status).toBe(202);
    expect(await withPort.json()).toEqual({ id: 'SMlocal443:delivered' });
    expect(await outcomeOf('sms', 1)).toMatchObject({ event: 'queued', type: 'message.delivered' });

    const otherPort = await post('sms', body, {
      'content-type': FORM,
      ...signedFor('https://hooks.example.com:8443/webhooks/sms'),
    });
    expect(otherPort.status).toBe(401);
    expect(await otherPort.json()).toEqual({ message: 'unauthorized' });
    expect(await outcomeOf('sms', 2)).toMatchObject({ event: 'rejected', reason: 'bad_signature' });
  });

  it('a secret that cannot verify anything (no key bytes, blank) or a key/value JSON secret is a 503, never an accept', async () => {
    const standard = await post('standard', '{"type":"user.created"}', {
      'content-type': 'application/json',
      'webhook-id': 'msg_local',
      'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
      'webhook-signature': `v1,${Buffer.alloc(32).toString('base64')}`,
    });
    expect(standard.status).toBe(503);
    expect(standard.headers.get('retry-after')).toBe('5');
    expect(await standard.json()).toEqual({ message: 'service unavailable' });
    expect(await outcomeOf('standard', 1)).toMatchObject({ event: 'failed', reason: 'no_usable_secret' });

    // Signed with the value inside the JSON object, as a sender configured with it would.
    const keyvalue = await post('keyvalue', '{"zen":"hi"}', {
      'content-type': 'application/json',
      'x-github-event': 'ping',
      ...signWebhook(
        { type: 'github', secretId: 'env:HOOKLINE_SECRET_KEYVALUE' },
        'kv-secret',
        '{"zen":"hi"}',
      ),
    });
    expect(keyvalue.status).toBe(503);
    expect(await keyvalue.json()).toEqual({ message: 'service unavailable' });
    expect(await outcomeOf('keyvalue', 1)).toMatchObject({ event: 'failed', reason: 'secret_unavailable' });

    // What a forger would send, knowing nothing but that the key is blank.
    const forged = await post('blank', '{"zen":"forged"}', {
      'content-type': 'application/json',
      'x-github-event': 'ping',
      ...signWebhook({ type: 'github', secretId: 'env:HOOKLINE_SECRET_BLANK' }, ' ', '{"zen":"forged"}'),
    });
    expect(forged.status).toBe(503);
    expect(await outcomeOf('blank', 1)).toMatchObject({ event: 'failed', reason: 'secret_unavailable' });
  });

  it('an unverified source is accepted and named as such in what local mode reports', async () => {
    const response = await post('open', 'anything', { 'content-type': 'text/plain', 'x-event': 'ping' });
    expect(response.status).toBe(202);
    expect(await outcomeOf('open', 1)).toMatchObject({ event: 'queued', type: 'ping', verified: false });
  });
});
