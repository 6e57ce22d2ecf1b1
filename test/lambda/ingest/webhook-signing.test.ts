import { describe, expect, it } from 'vitest';
import { verifyRequest } from '../../../lambda/ingest/verify';
import type { SourceRuntimeConfig } from '../../../lambda/shared/runtime-config';
import { senderFor } from '../../../lambda/shared/senders';
import { signWebhook, twilioBodySha256 } from '../../../lambda/shared/webhook-signing';
import {
  GITHUB_VECTOR,
  SHOPIFY_FIXTURE,
  SLACK_VECTOR,
  STANDARD_WEBHOOKS_VECTOR,
  STRIPE_FIXTURE,
  TWILIO_VECTOR,
} from './vectors';

const at = (seconds: number) => new Date(seconds * 1000);

describe('signWebhook reproduces the senders', () => {
  it('GitHub: official vector, delivery id header', () => {
    const headers = signWebhook({ type: 'github', secretId: 'x' }, GITHUB_VECTOR.secret, GITHUB_VECTOR.body, {
      id: 'd-1',
    });
    expect(headers).toEqual({ 'x-hub-signature-256': GITHUB_VECTOR.header, 'x-github-delivery': 'd-1' });
  });

  it('GitHub: random delivery id when none given', () => {
    const a = signWebhook({ type: 'github', secretId: 'x' }, 's', 'b');
    const b = signWebhook({ type: 'github', secretId: 'x' }, 's', 'b');
    expect(a['x-github-delivery']).toMatch(/^[0-9a-f-]{36}$/);
    expect(a['x-github-delivery']).not.toBe(b['x-github-delivery']);
  });

  it('Slack: official worked example', () => {
    const headers = signWebhook(
      { type: 'slack', secretId: 'x', toleranceSeconds: 300 },
      SLACK_VECTOR.secret,
      SLACK_VECTOR.body,
      { now: at(SLACK_VECTOR.timestamp) },
    );
    expect(headers).toEqual({
      'x-slack-request-timestamp': String(SLACK_VECTOR.timestamp),
      'x-slack-signature': SLACK_VECTOR.signature,
    });
  });

  it('Standard Webhooks: official vector', () => {
    const headers = signWebhook(
      { type: 'standard-webhooks', secretId: 'x', toleranceSeconds: 300 },
      STANDARD_WEBHOOKS_VECTOR.secret,
      STANDARD_WEBHOOKS_VECTOR.body,
      { now: at(STANDARD_WEBHOOKS_VECTOR.timestamp), id: STANDARD_WEBHOOKS_VECTOR.id },
    );
    expect(headers).toEqual({
      'webhook-id': STANDARD_WEBHOOKS_VECTOR.id,
      'webhook-timestamp': String(STANDARD_WEBHOOKS_VECTOR.timestamp),
      'webhook-signature': STANDARD_WEBHOOKS_VECTOR.signature,
    });
  });

  it('Twilio: documented worked example', () => {
    const headers = signWebhook({ type: 'twilio', secretId: 'x' }, TWILIO_VECTOR.secret, TWILIO_VECTOR.body, {
      url: TWILIO_VECTOR.url,
    });
    expect(headers).toEqual({ 'x-twilio-signature': TWILIO_VECTOR.signature });
  });

  it('Twilio: refuses to sign without the URL', () => {
    expect(() => signWebhook({ type: 'twilio', secretId: 'x' }, 's', 'a=b')).toThrow(/options\.url/);
  });

  it('Twilio: a bodySHA256 URL signs the URL alone', () => {
    const body = '{"a":1}';
    const url = `https://h.example/hook?bodySHA256=${twilioBodySha256(body)}`;
    const withBody = signWebhook({ type: 'twilio', secretId: 'x' }, 's', body, { url });
    const withoutBody = signWebhook({ type: 'twilio', secretId: 'x' }, 's', '', { url });
    expect(withBody).toEqual(withoutBody);
  });

  describe('Twilio: the URL a request is posted to', () => {
    const twilio = { type: 'twilio', secretId: 'x' } as const;
    const requestUrl = (url: string, body: string, contentType: string) =>
      senderFor(twilio).requestUrl(twilio, url, Buffer.from(body), contentType);

    it('a form body, whatever the case of its content type, is posted to the URL as is', () => {
      const url = 'https://h.example/hook';
      expect(requestUrl(url, 'a=b', 'Application/X-WWW-Form-Urlencoded; charset=UTF-8')).toBe(url);
    });

    it("a JSON body's SHA-256 joins a URL's own query with &, and the ingest verifies what is signed for it", () => {
      const body = '{"a":1}';
      const url = requestUrl('https://h.example/hook?tenant=acme', body, 'application/json');
      expect(url).toBe(`https://h.example/hook?tenant=acme&bodySHA256=${twilioBodySha256(body)}`);
      const headers = signWebhook(twilio, 's', body, { url });
      expect(verifyRequest(twilio, { headers, body: Buffer.from(body), url }, ['s'], Date.now())).toEqual({
        ok: true,
      });
    });

    it('a URL that already carries bodySHA256 is posted to as is, not given a second one', () => {
      const url = 'https://h.example/hook?bodySHA256=abc';
      expect(requestUrl(url, '{"a":1}', 'application/json')).toBe(url);
    });
  });

  it('Stripe: self-computed fixture', () => {
    const headers = signWebhook(
      { type: 'stripe', secretId: 'x', toleranceSeconds: 300 },
      STRIPE_FIXTURE.secret,
      STRIPE_FIXTURE.body,
      { now: at(STRIPE_FIXTURE.timestamp) },
    );
    expect(headers).toEqual({ 'stripe-signature': `t=${STRIPE_FIXTURE.timestamp},v1=${STRIPE_FIXTURE.v1}` });
  });

  it('Shopify: self-computed fixture', () => {
    const headers = signWebhook(
      { type: 'shopify', secretId: 'x' },
      SHOPIFY_FIXTURE.secret,
      SHOPIFY_FIXTURE.body,
      {
        id: 'w-1',
      },
    );
    expect(headers).toEqual({
      'x-shopify-hmac-sha256': SHOPIFY_FIXTURE.signature,
      'x-shopify-webhook-id': 'w-1',
    });
  });

  it('rotation JSON: signs with the first (current) secret', () => {
    const source: SourceRuntimeConfig = { type: 'github', secretId: 'x' };
    const rotated = signWebhook(
      source,
      JSON.stringify({ secrets: [GITHUB_VECTOR.secret, 'old'] }),
      GITHUB_VECTOR.body,
    );
    expect(rotated['x-hub-signature-256']).toBe(GITHUB_VECTOR.header);
  });

  it('generic HMAC: template, prefix, encoding, timestamp and id headers', () => {
    const source: SourceRuntimeConfig = {
      type: 'hmac',
      secretId: 'x',
      header: 'x-sig',
      algorithm: 'sha512',
      encoding: 'base64',
      prefix: 'v1=',
      timestampHeader: 'x-ts',
      toleranceSeconds: 300,
      signedContent: '{id}:{timestamp}:{body}',
      idHeader: 'x-id',
    };
    const headers = signWebhook(source, 'k', 'payload', { now: at(1000), id: 'abc' });
    expect(headers['x-ts']).toBe('1000');
    expect(headers['x-id']).toBe('abc');
    expect(headers['x-sig']).toMatch(/^v1=[A-Za-z0-9+/]{86}==$/);
    const other = signWebhook(source, 'k', 'payload', { now: at(1001), id: 'abc' });
    expect(other['x-sig']).not.toBe(headers['x-sig']);
  });

  it('token: bearer, raw header and basic auth', () => {
    expect(
      signWebhook({ type: 'token', secretId: 'x', scheme: 'header', header: 'authorization' }, 't', ''),
    ).toEqual({
      authorization: 'Bearer t',
    });
    expect(
      signWebhook({ type: 'token', secretId: 'x', scheme: 'header', header: 'x-token' }, 't', ''),
    ).toEqual({
      'x-token': 't',
    });
    expect(
      signWebhook({ type: 'token', secretId: 'x', scheme: 'basic', header: 'authorization' }, 't', ''),
    ).toEqual({
      authorization: `Basic ${Buffer.from('hookline:t').toString('base64')}`,
    });
  });

  it('unverified: no headers', () => {
    expect(signWebhook({ type: 'unverified' }, '', 'x')).toEqual({});
  });
});
