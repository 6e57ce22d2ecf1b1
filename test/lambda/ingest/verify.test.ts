import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type SignedRequest, safeEqual, verifyRequest } from '../../../lambda/ingest/verify';
import type { SourceRuntimeConfig } from '../../../lambda/shared/runtime-config';
import { signWebhook } from '../../../lambda/shared/webhook-signing';
import {
  GITHUB_VECTOR,
  SHOPIFY_FIXTURE,
  SLACK_VECTOR,
  STANDARD_WEBHOOKS_VECTOR,
  STRIPE_FIXTURE,
  TWILIO_VECTOR,
} from './vectors';

const github: SourceRuntimeConfig = { type: 'github', secretId: 's' };
const stripe: SourceRuntimeConfig = { type: 'stripe', secretId: 's', toleranceSeconds: 300 };
const slack: SourceRuntimeConfig = { type: 'slack', secretId: 's', toleranceSeconds: 300 };
const shopify: SourceRuntimeConfig = { type: 'shopify', secretId: 's' };
const standard: SourceRuntimeConfig = { type: 'standard-webhooks', secretId: 's', toleranceSeconds: 300 };
const twilio: SourceRuntimeConfig = { type: 'twilio', secretId: 's' };
type HmacSource = Extract<SourceRuntimeConfig, { type: 'hmac' }>;
/** A generic HMAC source: a hex SHA-256 of the body in x-sig without a prefix, but for what `fields` set. */
const hmacSource = (fields: Partial<HmacSource> = {}): SourceRuntimeConfig => ({
  type: 'hmac',
  secretId: 's',
  header: 'x-sig',
  algorithm: 'sha256',
  encoding: 'hex',
  prefix: '',
  signedContent: '{body}',
  ...fields,
});
/** An HMAC source that signs a timestamp it sends in x-ts, with a 300 s window. */
const timestampedHmac = hmacSource({
  timestampHeader: 'x-ts',
  toleranceSeconds: 300,
  signedContent: '{timestamp}.{body}',
});
/** The verdict on a request refused for `reason`. */
const refused = (reason: string) => ({ ok: false, reason });

const req = (
  headers: Record<string, string>,
  body: string | Buffer,
  url = 'https://x.example/webhooks/a',
): SignedRequest => ({
  headers,
  body: typeof body === 'string' ? Buffer.from(body) : body,
  url,
});

/** Flips one bit of character `index` of a string (keeps it printable ASCII-ish by toggling bit 0). */
const flip = (text: string, index: number) =>
  text.slice(0, index) + String.fromCharCode(text.charCodeAt(index) ^ 1) + text.slice(index + 1);

const SLACK_NOW = SLACK_VECTOR.timestamp * 1000;
const STANDARD_NOW = STANDARD_WEBHOOKS_VECTOR.timestamp * 1000;
const STRIPE_NOW = STRIPE_FIXTURE.timestamp * 1000;
/** Verifies the Stripe fixture's body under the signature header `header`, at the fixture's time. */
const verifyStripeFixture = (header: string) =>
  verifyRequest(
    stripe,
    req({ 'stripe-signature': header }, STRIPE_FIXTURE.body),
    [STRIPE_FIXTURE.secret],
    STRIPE_NOW,
  );

interface VectorCase {
  name: string;
  source: SourceRuntimeConfig;
  secret: string;
  now: number;
  /** Every signed field: changing any one must break verification. */
  fields: Record<string, string>;
  build: (fields: Record<string, string>) => SignedRequest;
}

const vectors: VectorCase[] = [
  {
    name: 'GitHub (official)',
    source: github,
    secret: GITHUB_VECTOR.secret,
    now: 0,
    fields: { body: GITHUB_VECTOR.body, signature: GITHUB_VECTOR.header.slice(7) },
    build: (f) => req({ 'x-hub-signature-256': `sha256=${f.signature}` }, f.body ?? ''),
  },
  {
    name: 'Slack (official, clock 1531420618)',
    source: slack,
    secret: SLACK_VECTOR.secret,
    now: SLACK_NOW,
    fields: {
      body: SLACK_VECTOR.body,
      signature: SLACK_VECTOR.signature.slice(3),
      timestamp: String(SLACK_VECTOR.timestamp),
    },
    build: (f) =>
      req(
        { 'x-slack-signature': `v0=${f.signature}`, 'x-slack-request-timestamp': f.timestamp ?? '' },
        f.body ?? '',
      ),
  },
  {
    name: 'Standard Webhooks (official)',
    source: standard,
    secret: STANDARD_WEBHOOKS_VECTOR.secret,
    now: STANDARD_NOW,
    fields: {
      body: STANDARD_WEBHOOKS_VECTOR.body,
      signature: STANDARD_WEBHOOKS_VECTOR.signature.slice(3),
      timestamp: String(STANDARD_WEBHOOKS_VECTOR.timestamp),
      id: STANDARD_WEBHOOKS_VECTOR.id,
    },
    build: (f) =>
      req(
        {
          'webhook-signature': `v1,${f.signature}`,
          'webhook-timestamp': f.timestamp ?? '',
          'webhook-id': f.id ?? '',
        },
        f.body ?? '',
      ),
  },
  {
    name: 'Twilio (documented example)',
    source: twilio,
    secret: TWILIO_VECTOR.secret,
    now: 0,
    fields: { body: TWILIO_VECTOR.body, signature: TWILIO_VECTOR.signature, url: TWILIO_VECTOR.url },
    build: (f) =>
      req(
        { 'x-twilio-signature': f.signature ?? '', 'content-type': 'application/x-www-form-urlencoded' },
        f.body ?? '',
        f.url,
      ),
  },
  {
    name: 'Stripe (self-computed fixture)',
    source: stripe,
    secret: STRIPE_FIXTURE.secret,
    now: STRIPE_NOW,
    fields: {
      body: STRIPE_FIXTURE.body,
      signature: STRIPE_FIXTURE.v1,
      timestamp: String(STRIPE_FIXTURE.timestamp),
    },
    build: (f) => req({ 'stripe-signature': `t=${f.timestamp},v1=${f.signature}` }, f.body ?? ''),
  },
  {
    name: 'Shopify (self-computed fixture)',
    source: shopify,
    secret: SHOPIFY_FIXTURE.secret,
    now: 0,
    fields: { body: SHOPIFY_FIXTURE.body, signature: SHOPIFY_FIXTURE.signature },
    build: (f) => req({ 'x-shopify-hmac-sha256': f.signature ?? '' }, f.body ?? ''),
  },
];

describe('official vectors verify; flipping any signed byte fails', () => {
  for (const v of vectors) {
    it(`${v.name} verifies`, () => {
      expect(verifyRequest(v.source, v.build(v.fields), [v.secret], v.now)).toEqual({ ok: true });
    });

    it(`${v.name}: every single-character change of every signed field fails`, () => {
      for (const [field, value] of Object.entries(v.fields)) {
        for (let i = 0; i < value.length; i++) {
          const changed = { ...v.fields, [field]: flip(value, i) };
          const result = verifyRequest(v.source, v.build(changed), [v.secret], v.now);
          expect(result.ok, `${field}[${i}]`).toBe(false);
        }
      }
    });

    it(`${v.name}: every single-character change of the secret fails`, () => {
      for (let i = 0; i < v.secret.length; i++) {
        // Skip the `whsec_` prefix: it is optional by design (the key is the base64 after it).
        if (v.source.type === 'standard-webhooks' && i < 6) continue;
        const result = verifyRequest(v.source, v.build(v.fields), [flip(v.secret, i)], v.now);
        expect(result.ok, `secret[${i}]`).toBe(false);
      }
    });
  }

  it('a flipped bit inside a binary body fails (bytes, not characters, are signed)', () => {
    const body = Buffer.from([0, 1, 2, 250, 251, 252]);
    const headers = signWebhook(github, 'k', body);
    expect(verifyRequest(github, req(headers, body), ['k'], 0)).toEqual({ ok: true });
    for (let i = 0; i < body.length; i++) {
      const changed = Buffer.from(body);
      changed[i] = (changed[i] ?? 0) ^ 0x80;
      expect(verifyRequest(github, req(headers, changed), ['k'], 0).ok).toBe(false);
    }
  });
});

describe('missing headers', () => {
  it.each([
    [github, {}, 'missing_signature'],
    [stripe, {}, 'missing_signature'],
    [shopify, {}, 'missing_signature'],
    [twilio, {}, 'missing_signature'],
    [slack, { 'x-slack-request-timestamp': '1' }, 'missing_signature'],
    [slack, { 'x-slack-signature': `v0=${'a'.repeat(64)}` }, 'missing_timestamp'],
    [standard, { 'webhook-id': 'm', 'webhook-timestamp': '1' }, 'missing_signature'],
    [standard, { 'webhook-signature': 'v1,x', 'webhook-timestamp': '1' }, 'missing_id'],
    [standard, { 'webhook-signature': 'v1,x', 'webhook-id': 'm' }, 'missing_timestamp'],
  ] as const)('%o %o -> %s', (source, headers, reason) => {
    expect(verifyRequest(source, req(headers, '{}'), ['k'], 0)).toEqual({ ok: false, reason });
  });
});

describe('malformed signature values are rejected with the reason that says so, never thrown', () => {
  const hex64 = 'a'.repeat(64);
  const cases: [string, SourceRuntimeConfig, Record<string, string>, string][] = [
    ['stripe bad header', stripe, { 'stripe-signature': 'bad_header' }, 'malformed_signature'],
    ['stripe no t=', stripe, { 'stripe-signature': `v1=${hex64}` }, 'malformed_signature'],
    ['stripe no v1', stripe, { 'stripe-signature': 't=1' }, 'malformed_signature'],
    [
      'stripe only v0, non-numeric t',
      stripe,
      { 'stripe-signature': `t=abc,v0=${hex64}` },
      'malformed_signature',
    ],
    ['stripe non-hex v1', stripe, { 'stripe-signature': `t=1,v1=${'z'.repeat(64)}` }, 'malformed_signature'],
    ['stripe odd-length v1', stripe, { 'stripe-signature': 't=1,v1=abc' }, 'malformed_signature'],
    [
      'stripe truncated v1',
      stripe,
      { 'stripe-signature': `t=1,v1=${STRIPE_FIXTURE.v1.slice(0, 20)}` },
      'malformed_signature',
    ],
    ['stripe non-numeric t', stripe, { 'stripe-signature': `t=abc,v1=${hex64}` }, 'malformed_timestamp'],
    [
      'github without sha256= prefix',
      github,
      { 'x-hub-signature-256': GITHUB_VECTOR.header.slice(7) },
      'malformed_signature',
    ],
    [
      'github sha1 prefix',
      github,
      { 'x-hub-signature-256': `sha1=${'a'.repeat(40)}` },
      'malformed_signature',
    ],
    ['github odd-length hex', github, { 'x-hub-signature-256': 'sha256=abc' }, 'malformed_signature'],
    ['github non-hex', github, { 'x-hub-signature-256': `sha256=${'g'.repeat(64)}` }, 'malformed_signature'],
    [
      'github 64 characters, not all hex',
      github,
      { 'x-hub-signature-256': `sha256=${'a'.repeat(62)}zz` },
      'malformed_signature',
    ],
    [
      'github truncated',
      github,
      { 'x-hub-signature-256': GITHUB_VECTOR.header.slice(0, 40) },
      'malformed_signature',
    ],
    [
      'slack without v0=',
      slack,
      { 'x-slack-signature': hex64, 'x-slack-request-timestamp': '0' },
      'malformed_signature',
    ],
    ['shopify wrong-length base64', shopify, { 'x-shopify-hmac-sha256': 'AAAA' }, 'malformed_signature'],
    ['shopify not base64', shopify, { 'x-shopify-hmac-sha256': '!!!' }, 'malformed_signature'],
    [
      'standard empty v1,',
      standard,
      { 'webhook-signature': 'v1,', 'webhook-id': 'm', 'webhook-timestamp': '0' },
      'malformed_signature',
    ],
    [
      'standard truncated',
      standard,
      { 'webhook-signature': 'v1,g0hM9SsE', 'webhook-id': 'm', 'webhook-timestamp': '0' },
      'malformed_signature',
    ],
    [
      'standard wrong-length base64',
      standard,
      { 'webhook-signature': 'v1,AAAA', 'webhook-id': 'm', 'webhook-timestamp': '0' },
      'malformed_signature',
    ],
    ['twilio wrong-length', twilio, { 'x-twilio-signature': 'AAAA' }, 'malformed_signature'],
  ];
  it.each(cases)('%s', (_name, source, headers, reason) => {
    expect(verifyRequest(source, req(headers, '{}'), ['k'], 0)).toEqual({ ok: false, reason });
  });

  it('safeEqual never throws on different lengths', () => {
    expect(safeEqual(Buffer.from('abc'), Buffer.from('abcd'))).toBe(false);
    expect(safeEqual(Buffer.alloc(0), Buffer.from('a'))).toBe(false);
    expect(safeEqual(Buffer.from('abc'), Buffer.from('abc'))).toBe(true);
  });
});

describe('signature over different bytes', () => {
  const secret = 'k';
  const original = '{"a":1,"b":"é😀"}';
  const headers = signWebhook(github, secret, original);
  it.each([
    ['one byte changed', '{"a":2,"b":"é😀"}'],
    ['re-serialized whitespace', '{"a": 1, "b": "é😀"}'],
    ['key order', '{"b":"é😀","a":1}'],
    ['emoji escaped', '{"a":1,"b":"\\u00e9\\ud83d\\ude00"}'],
  ])('%s -> bad_signature', (_name, body) => {
    expect(verifyRequest(github, req(headers, body), [secret], 0)).toEqual(refused('bad_signature'));
  });
  it('a valid signature over a non-ASCII body verifies', () => {
    expect(verifyRequest(github, req(headers, original), [secret], 0)).toEqual({ ok: true });
  });
  it('a form-encoded Slack body verifies', () => {
    const body = 'command=%2Fdeploy&text=%C3%A9t%C3%A9&user_id=U1';
    const signed = signWebhook(slack, secret, body, { now: new Date(SLACK_NOW) });
    expect(verifyRequest(slack, req(signed, body), [secret], SLACK_NOW)).toEqual({ ok: true });
  });
});

/** A secret every sender can sign with (a Standard Webhooks key is the base64 after `whsec_`). */
const ANY_SENDER_SECRET = STANDARD_WEBHOOKS_VECTOR.secret;

describe('CRLF line ends and a byte order mark are signed bytes like any other', () => {
  const secret = ANY_SENDER_SECRET;
  const body = '\uFEFF{"a":1,\r\n"b":"x"}\r\n';
  it.each([
    ['GitHub', github],
    ['Stripe', stripe],
    ['Slack', slack],
    ['Shopify', shopify],
    ['Standard Webhooks', standard],
  ])(
    '%s: verifies over the exact bytes; the same text with LF ends or without the BOM does not',
    (_, source) => {
      const signed = signWebhook(source, secret, body, { now: new Date(SLACK_NOW) });
      expect(verifyRequest(source, req(signed, body), [secret], SLACK_NOW)).toEqual({ ok: true });
      for (const changed of [body.replaceAll('\r\n', '\n'), body.slice(1)]) {
        expect(verifyRequest(source, req(signed, changed), [secret], SLACK_NOW)).toEqual(
          refused('bad_signature'),
        );
      }
    },
  );
});

describe('a header sent twice, as API Gateway hands it on: joined with a comma', () => {
  const secret = ANY_SENDER_SECRET;
  const body = '{"id":"evt_1","type":"invoice.paid"}';
  const twice = (headers: Record<string, string>, name: string) => ({
    ...headers,
    [name]: `${headers[name]},${headers[name]}`,
  });
  it.each([
    ['GitHub', github, 'x-hub-signature-256', 'malformed_signature'],
    ['Slack', slack, 'x-slack-signature', 'malformed_signature'],
    ['Slack', slack, 'x-slack-request-timestamp', 'malformed_timestamp'],
    ['Shopify', shopify, 'x-shopify-hmac-sha256', 'malformed_signature'],
    ['Standard Webhooks', standard, 'webhook-signature', 'malformed_signature'],
    ['Standard Webhooks', standard, 'webhook-timestamp', 'malformed_timestamp'],
  ])('%s: a repeated %s fails closed (%s), even when both copies are valid', (_, source, name, reason) => {
    const signed = signWebhook(source, secret, body, { now: new Date(SLACK_NOW) });
    expect(verifyRequest(source, req(twice(signed, name), body), [secret], SLACK_NOW)).toEqual({
      ok: false,
      reason,
    });
  });
  it('Stripe: two valid headers joined verify; a captured one joined with a fresh t= does not', () => {
    const signed = signWebhook(stripe, secret, body, { now: new Date(SLACK_NOW) });
    expect(verifyRequest(stripe, req(twice(signed, 'stripe-signature'), body), [secret], SLACK_NOW)).toEqual({
      ok: true,
    });
    const captured = signWebhook(stripe, secret, body, { now: new Date(SLACK_NOW - 3_600_000) });
    const fresh = `t=${SLACK_VECTOR.timestamp}`;
    // The last t= is the one read, and the signature binds the timestamp it was made with.
    expect(
      verifyRequest(
        stripe,
        req({ 'stripe-signature': `${captured['stripe-signature']},${fresh}` }, body),
        [secret],
        SLACK_NOW,
      ),
    ).toEqual(refused('bad_signature'));
    expect(
      verifyRequest(
        stripe,
        req({ 'stripe-signature': `${fresh},${captured['stripe-signature']}` }, body),
        [secret],
        SLACK_NOW,
      ),
    ).toEqual(refused('stale_timestamp'));
  });
});

describe('wrong secret, or a secret with stray whitespace', () => {
  it('wrong secret -> bad_signature', () => {
    const headers = signWebhook(github, 'right', 'x');
    expect(verifyRequest(github, req(headers, 'x'), ['wrong'], 0)).toEqual(refused('bad_signature'));
  });
  it.each(['right\n', ' right', 'right '])('configured secret %j -> secret_whitespace', (configured) => {
    const headers = signWebhook(github, 'right', 'x');
    expect(verifyRequest(github, req(headers, 'x'), [configured], 0)).toEqual(refused('secret_whitespace'));
  });
});

describe('timestamp window (two-sided, boundary inclusive)', () => {
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const t = 1_700_000_000;
  const timestamped: [string, SourceRuntimeConfig][] = [
    ['stripe', stripe],
    ['slack', slack],
    ['standard-webhooks', standard],
    ['hmac with timestamp', timestampedHmac],
  ];
  for (const [name, source] of timestamped) {
    const headers = signWebhook(source, secret, '{}', { now: new Date(t * 1000), id: 'msg_1' });
    const at = (offsetSeconds: number) =>
      verifyRequest(source, req(headers, '{}'), [secret], (t + offsetSeconds) * 1000);
    it(`${name}: 10 min old and 10 min ahead are stale`, () => {
      expect(at(600)).toEqual(refused('stale_timestamp'));
      expect(at(-600)).toEqual(refused('stale_timestamp'));
    });
    it(`${name}: exactly 300 s either way is accepted, 301 s is not`, () => {
      expect(at(300)).toEqual({ ok: true });
      expect(at(-300)).toEqual({ ok: true });
      expect(at(300.999)).toEqual({ ok: true });
      expect(at(301)).toEqual(refused('stale_timestamp'));
      expect(at(-301)).toEqual(refused('stale_timestamp'));
    });
    it(`${name}: without a tolerance in its settings (the configuration's default), the window is 300 s`, () => {
      const { toleranceSeconds: _, ...defaulted } = source as SourceRuntimeConfig & {
        toleranceSeconds?: number;
      };
      const defaultedAt = (offsetSeconds: number) =>
        verifyRequest(
          defaulted as SourceRuntimeConfig,
          req(headers, '{}'),
          [secret],
          (t + offsetSeconds) * 1000,
        );
      expect(defaultedAt(300)).toEqual({ ok: true });
      expect(defaultedAt(301)).toEqual(refused('stale_timestamp'));
    });
  }
  it('a timestamp in milliseconds, negative or signed is malformed_timestamp (4xx), even when it is what was signed', () => {
    const timestampHeaders: Record<string, string> = {
      slack: 'x-slack-request-timestamp',
      'standard-webhooks': 'webhook-timestamp',
      'hmac with timestamp': 'x-ts',
    };
    for (const [name, source] of timestamped) {
      for (const written of [String(t * 1000), '-1', `+${t}`]) {
        const signed = signWebhook(source, secret, '{}', { now: new Date(t * 1000), id: 'msg_1' });
        const stripeHeader = signed['stripe-signature'];
        const headers =
          stripeHeader !== undefined
            ? { ...signed, 'stripe-signature': stripeHeader.replace(`t=${t}`, `t=${written}`) }
            : { ...signed, [timestampHeaders[name] ?? '']: written };
        expect([name, written, verifyRequest(source, req(headers, '{}'), [secret], t * 1000)]).toEqual([
          name,
          written,
          refused('malformed_timestamp'),
        ]);
      }
    }
  });

  it('non-numeric timestamps are rejected', () => {
    expect(
      verifyRequest(
        slack,
        req({ 'x-slack-signature': `v0=${'a'.repeat(64)}`, 'x-slack-request-timestamp': 'hello' }, 'x'),
        ['k'],
        0,
      ),
    ).toEqual(refused('malformed_timestamp'));
    expect(
      verifyRequest(
        standard,
        req({ 'webhook-signature': 'v1,AAAA', 'webhook-id': 'm', 'webhook-timestamp': '12.5' }, 'x'),
        ['whsec_AAAA'],
        0,
      ),
    ).toEqual(refused('malformed_timestamp'));
  });
});

describe('downgrade protection', () => {
  it('Stripe: a correct signature under v0 only is rejected', () => {
    const v0 = createHmac('sha256', STRIPE_FIXTURE.secret)
      .update(`${STRIPE_FIXTURE.timestamp}.${STRIPE_FIXTURE.body}`)
      .digest('hex');
    const result = verifyStripeFixture(`t=${STRIPE_FIXTURE.timestamp},v0=${v0}`);
    expect(result.ok).toBe(false);
  });
  it('Stripe: v1 alongside junk v0 -> only v1 considered', () => {
    const header = `t=${STRIPE_FIXTURE.timestamp},v0=junk,v1=${STRIPE_FIXTURE.v1}`;
    expect(verifyStripeFixture(header)).toEqual({ ok: true });
  });
  it('Standard Webhooks: v1a/v2 entries are ignored; a valid v1 among them verifies', () => {
    const valid = STANDARD_WEBHOOKS_VECTOR.signature.slice(3);
    const base = {
      'webhook-id': STANDARD_WEBHOOKS_VECTOR.id,
      'webhook-timestamp': String(STANDARD_WEBHOOKS_VECTOR.timestamp),
    };
    const only = verifyRequest(
      standard,
      req({ ...base, 'webhook-signature': `v1a,${valid} v2,${valid}` }, STANDARD_WEBHOOKS_VECTOR.body),
      [STANDARD_WEBHOOKS_VECTOR.secret],
      STANDARD_NOW,
    );
    expect(only.ok).toBe(false);
    const mixed = verifyRequest(
      standard,
      req(
        { ...base, 'webhook-signature': `v1a,${valid} v1,Zm9v v1,${valid} v2,x` },
        STANDARD_WEBHOOKS_VECTOR.body,
      ),
      [STANDARD_WEBHOOKS_VECTOR.secret],
      STANDARD_NOW,
    );
    expect(mixed).toEqual({ ok: true });
  });
  it('Standard Webhooks: the svix-* aliases and a key without whsec_ work', () => {
    const headers = {
      'svix-id': STANDARD_WEBHOOKS_VECTOR.id,
      'svix-timestamp': String(STANDARD_WEBHOOKS_VECTOR.timestamp),
      'svix-signature': STANDARD_WEBHOOKS_VECTOR.signature,
    };
    expect(
      verifyRequest(
        standard,
        req(headers, STANDARD_WEBHOOKS_VECTOR.body),
        [STANDARD_WEBHOOKS_VECTOR.secret.slice(6)],
        STANDARD_NOW,
      ),
    ).toEqual({ ok: true });
  });
});

describe('secret rotation', () => {
  it('Stripe: two v1 (old + new secret), one matches -> ok', () => {
    const header = `t=${STRIPE_FIXTURE.timestamp},v1=${'0'.repeat(64)},v1=${STRIPE_FIXTURE.v1}`;
    expect(verifyStripeFixture(header)).toEqual({ ok: true });
  });
  it('server with {current, previous} accepts either, and rejects previous once retired', () => {
    const byOld = signWebhook(github, 'previous', 'x');
    const byNew = signWebhook(github, 'current', 'x');
    expect(verifyRequest(github, req(byOld, 'x'), ['current', 'previous'], 0)).toEqual({ ok: true });
    expect(verifyRequest(github, req(byNew, 'x'), ['current', 'previous'], 0)).toEqual({ ok: true });
    expect(verifyRequest(github, req(byOld, 'x'), ['current'], 0)).toEqual(refused('bad_signature'));
  });
});

describe('generic HMAC, token and Twilio details', () => {
  const hmac = hmacSource({
    algorithm: 'sha1',
    encoding: 'base64',
    prefix: 'sig=',
    signedContent: '{id}|{body}',
    idHeader: 'x-id',
  });
  it('hmac: verifies its own template and rejects a missing id or wrong prefix', () => {
    const headers = signWebhook(hmac, 'k', 'body', { id: 'abc' });
    expect(verifyRequest(hmac, req(headers, 'body'), ['k'], 0)).toEqual({ ok: true });
    expect(verifyRequest(hmac, req({ ...headers, 'x-id': 'abd' }, 'body'), ['k'], 0).ok).toBe(false);
    expect(verifyRequest(hmac, req({ 'x-sig': headers['x-sig'] ?? '' }, 'body'), ['k'], 0)).toEqual(
      refused('missing_id'),
    );
    expect(
      verifyRequest(hmac, req({ ...headers, 'x-sig': (headers['x-sig'] ?? '').slice(4) }, 'body'), ['k'], 0),
    ).toEqual(refused('malformed_signature'));
  });
  it('token: bearer and raw header, basic auth password', () => {
    const bearer: SourceRuntimeConfig = {
      type: 'token',
      secretId: 's',
      scheme: 'header',
      header: 'authorization',
    };
    expect(verifyRequest(bearer, req({ authorization: 'Bearer tok' }, 'x'), ['tok'], 0)).toEqual({
      ok: true,
    });
    expect(verifyRequest(bearer, req({ authorization: 'tok' }, 'x'), ['tok'], 0)).toEqual({ ok: true });
    expect(verifyRequest(bearer, req({ authorization: 'Bearer tok2' }, 'x'), ['tok'], 0).ok).toBe(false);
    const basic: SourceRuntimeConfig = {
      type: 'token',
      secretId: 's',
      scheme: 'basic',
      header: 'authorization',
    };
    const auth = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    expect(verifyRequest(basic, req({ authorization: auth('any', 'tok') }, 'x'), ['tok'], 0)).toEqual({
      ok: true,
    });
    expect(verifyRequest(basic, req({ authorization: auth('any', 'nope') }, 'x'), ['tok'], 0).ok).toBe(false);
    expect(verifyRequest(basic, req({ authorization: 'Basic !!' }, 'x'), ['tok'], 0)).toEqual(
      refused('malformed_signature'),
    );
  });
  it('twilio: a JSON body signed through bodySHA256 verifies, and a changed body fails', () => {
    const body = '{"a":1}';
    const url = `https://x.example/hook?bodySHA256=${createHash('sha256').update(body).digest('hex')}`;
    const headers = { ...signWebhook(twilio, 'k', body, { url }), 'content-type': 'application/json' };
    expect(verifyRequest(twilio, req(headers, body, url), ['k'], 0)).toEqual({ ok: true });
    expect(verifyRequest(twilio, req(headers, '{"a":2}', url), ['k'], 0)).toEqual(refused('bad_signature'));
  });
  it('twilio: a body neither form-encoded nor covered by bodySHA256 is refused, whatever the URL signature', () => {
    const url = 'https://x.example/hook';
    for (const contentType of ['application/json', 'text/plain', 'application/octet-stream']) {
      const headers = { ...signWebhook(twilio, 'k', '{"a":1}', { url }), 'content-type': contentType };
      expect(verifyRequest(twilio, req(headers, '{"a":1}', url), ['k'], 0)).toEqual(refused('unsigned_body'));
    }
    const form = 'MessageSid=SM1&MessageStatus=sent';
    const formHeaders = {
      ...signWebhook(twilio, 'k', form, { url }),
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
    };
    expect(verifyRequest(twilio, req(formHeaders, form, url), ['k'], 0)).toEqual({ ok: true });
  });
  it('unverified accepts anything; other types with no usable secret reject', () => {
    expect(verifyRequest({ type: 'unverified' }, req({}, 'x'), [], 0)).toEqual({ ok: true });
    expect(verifyRequest(github, req({}, 'x'), [''], 0)).toEqual(refused('no_usable_secret'));
  });
});

describe('a signature counts only in its exact spelling', () => {
  const withHeader = (source: SourceRuntimeConfig, name: string, value: string, body: string) =>
    verifyRequest(source, req({ [name]: value }, body), [GITHUB_VECTOR.secret], 0);
  it('GitHub: the right digest with characters after it is malformed', () => {
    for (const tail of ['zz', ' ', 'g'])
      expect(
        withHeader(github, 'x-hub-signature-256', `${GITHUB_VECTOR.header}${tail}`, GITHUB_VECTOR.body),
      ).toEqual(refused('malformed_signature'));
  });
  it('GitHub: the right digest under another prefix of the same length is malformed', () => {
    const digest = GITHUB_VECTOR.header.slice(7);
    for (const prefix of ['sha512=', 'SHA256=', 'sha256:'])
      expect(withHeader(github, 'x-hub-signature-256', `${prefix}${digest}`, GITHUB_VECTOR.body)).toEqual(
        refused('malformed_signature'),
      );
  });
  it('Slack: the right digest under v1= instead of v0= is malformed', () => {
    const headers = {
      'x-slack-signature': `v1=${SLACK_VECTOR.signature.slice(3)}`,
      'x-slack-request-timestamp': String(SLACK_VECTOR.timestamp),
    };
    expect(verifyRequest(slack, req(headers, SLACK_VECTOR.body), [SLACK_VECTOR.secret], SLACK_NOW)).toEqual(
      refused('malformed_signature'),
    );
  });
  it('Standard Webhooks: the right digest under another version spelling is no v1 signature', () => {
    const v = STANDARD_WEBHOOKS_VECTOR;
    const digest = v.signature.slice(3);
    const headers = (signature: string) => ({
      'webhook-signature': signature,
      'webhook-timestamp': String(v.timestamp),
      'webhook-id': v.id,
    });
    expect(verifyRequest(standard, req(headers(`v1,${digest}`), v.body), [v.secret], STANDARD_NOW)).toEqual({
      ok: true,
    });
    for (const spelling of [`v1:${digest}`, `v1.${digest}`, `V1,${digest}`, `v1a${digest}`, `v10${digest}`])
      expect(
        verifyRequest(standard, req(headers(spelling), v.body), [v.secret], STANDARD_NOW).ok,
        spelling,
      ).toBe(false);
  });
  it('hmac: the right digest under another prefix of the same length, or undecodable, is malformed', () => {
    const source = hmacSource({ prefix: 'sha256=' });
    const signed = signWebhook(source, 'k', 'body')['x-sig'] ?? '';
    expect(verifyRequest(source, req({ 'x-sig': signed }, 'body'), ['k'], 0)).toEqual({ ok: true });
    for (const value of [`sha512=${signed.slice(7)}`, `${signed}zz`, `sha256=${'g'.repeat(64)}`])
      expect(verifyRequest(source, req({ 'x-sig': value }, 'body'), ['k'], 0)).toEqual(
        refused('malformed_signature'),
      );
  });
});

describe('generic HMAC timestamp header', () => {
  const source = timestampedHmac;
  const t = 1_700_000_000;
  const signed = signWebhook(source, 'k', '{}', { now: new Date(t * 1000) });
  const verify = (headers: Record<string, string>) =>
    verifyRequest(source, req(headers, '{}'), ['k'], t * 1000);
  it('a missing or empty timestamp header is missing_timestamp, not a signature verdict', () => {
    expect(verify({ 'x-sig': signed['x-sig'] ?? '' })).toEqual(refused('missing_timestamp'));
    expect(verify({ ...signed, 'x-ts': '' })).toEqual(refused('missing_timestamp'));
  });
  it('a non-numeric timestamp is malformed_timestamp even under a wrong signature', () => {
    expect(verify({ 'x-sig': 'a'.repeat(64), 'x-ts': 'soon' })).toEqual(refused('malformed_timestamp'));
  });
});

describe('secret rotation with a stray-whitespace secret', () => {
  it('a mismatch while any one configured secret has stray whitespace blames that secret', () => {
    const headers = signWebhook(github, 'right', 'x');
    expect(verifyRequest(github, req(headers, 'x'), ['other', 'right\n'], 0)).toEqual(
      refused('secret_whitespace'),
    );
  });
});

describe('token basic auth', () => {
  const basic: SourceRuntimeConfig = {
    type: 'token',
    secretId: 's',
    scheme: 'basic',
    header: 'authorization',
  };
  it('credentials without a user:password colon are malformed, even when they are the token itself', () => {
    const value = `Basic ${Buffer.from('tok').toString('base64')}`;
    expect(verifyRequest(basic, req({ authorization: value }, 'x'), ['tok'], 0)).toEqual(
      refused('malformed_signature'),
    );
  });
});

describe('Twilio signed string and URL spellings', () => {
  /** The documented algorithm, computed here independently of the sender's code. */
  const twilioSignature = (secret: string, url: string, params: [string, string][]) => {
    const sorted = [...params].sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1));
    const data = url + sorted.map(([name, value]) => name + value).join('');
    return createHmac('sha1', secret).update(data).digest('base64');
  };
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  const params: [string, string][] = [
    ['To', '+18005551212'],
    ['CallSid', 'CA1'],
    ['Digits', '9'],
    ['Digits', '1'],
  ];
  const body = new URLSearchParams(params).toString();
  it('parameters in any order, and repeated ones, are signed sorted by name then value', () => {
    const url = 'https://x.example/webhooks/t';
    const signature = twilioSignature('k', url, params);
    expect(
      verifyRequest(twilio, req({ ...form, 'x-twilio-signature': signature }, body, url), ['k'], 0),
    ).toEqual({ ok: true });
  });
  it.each([
    ['https://x.example/webhooks/t', 'https://x.example:443/webhooks/t'],
    ['http://x.example/webhooks/t', 'http://x.example:80/webhooks/t'],
    ['https://x.example:8443/webhooks/t', 'https://x.example/webhooks/t'],
  ])('a request to %s verifies a signature over %s', (requested, signedUrl) => {
    const signature = twilioSignature('k', signedUrl, params);
    expect(
      verifyRequest(twilio, req({ ...form, 'x-twilio-signature': signature }, body, requested), ['k'], 0),
    ).toEqual({ ok: true });
  });
  it('a request over http does not verify a signature over the https default port', () => {
    const signature = twilioSignature('k', 'http://x.example:443/webhooks/t', params);
    expect(
      verifyRequest(
        twilio,
        req({ ...form, 'x-twilio-signature': signature }, body, 'http://x.example/webhooks/t'),
        ['k'],
        0,
      ).ok,
    ).toBe(false);
  });
});
