import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { handleWebhook, MAX_BODY_BYTES, messageGroupOf } from '../../../lambda/ingest/core';
import { selectRoute } from '../../../lambda/ingest/routing';
import { SQS_MAX_MESSAGE_BYTES } from '../../../lambda/shared/claim-check';
import { MESSAGE_ATTRIBUTES, parseEnvelope } from '../../../lambda/shared/envelope';
import {
  EVENT_RESERVE_BYTES,
  LAMBDA_SYNC_REQUEST_MAX_BYTES,
  MAX_WEBHOOK_BODY_BYTES,
} from '../../../lambda/shared/request-limits';
import { signWebhook } from '../../../lambda/shared/webhook-signing';
import { apiEvent, harness, NOW_MS, SECRETS, signedEvent, testConfig } from './fakes';

const PUSH = JSON.stringify({ ref: 'refs/heads/main', commits: [] });
const ghHeaders = { 'x-github-event': 'push' };

describe('accepting a signed delivery', () => {
  it('GitHub push: 202 with the delivery id, one message with envelope and attributes, outcome logged', async () => {
    const h = harness();
    const event = signedEvent(h.deps.config, 'github', PUSH, { id: 'delivery-1', headers: ghHeaders });
    const response = await handleWebhook(event, h.deps);
    expect(response.statusCode).toBe(202);
    expect(JSON.parse(response.body)).toEqual({ id: 'delivery-1' });
    expect(h.sent).toHaveLength(1);
    const [message] = h.sent;
    expect(message?.queue).toBe('events');
    expect(message?.attributes).toEqual({
      [MESSAGE_ATTRIBUTES.source]: 'github',
      [MESSAGE_ATTRIBUTES.type]: 'push',
      [MESSAGE_ATTRIBUTES.eventId]: 'delivery-1',
    });
    const envelope = parseEnvelope(message?.body ?? '');
    expect(envelope).toMatchObject({
      v: 1,
      id: 'delivery-1',
      source: 'github',
      type: 'push',
      receivedAt: new Date(NOW_MS).toISOString(),
      contentType: 'application/json',
      body: PUSH,
      bodyEncoding: 'utf8',
    });
    // Kept headers: configured and present, never a signature header even when listed.
    expect(envelope.headers).toEqual({
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-github-delivery': 'delivery-1',
    });
    expect(h.outcome()).toEqual({
      outcome: 'queued',
      id: 'delivery-1',
      source: 'github',
      type: 'push',
      queues: ['events'],
      status: 202,
      latencyMs: 0,
    });
    expect(h.logs.filter((l) => l.message === 'webhook outcome')).toHaveLength(1);
    expect(h.metrics.map((m) => m.name)).toEqual(['EnqueueLatency', 'Accepted']);
  });

  it.each([
    [
      'github',
      JSON.stringify({ action: 'opened' }),
      { 'x-github-event': 'issues' },
      'application/json',
      'issues.opened',
      'gh-1',
    ],
    [
      'github',
      `payload=${encodeURIComponent(JSON.stringify({ action: 'closed' }))}`,
      { 'x-github-event': 'pull_request' },
      'application/x-www-form-urlencoded',
      'pull_request.closed',
      'gh-1',
    ],
    [
      'stripe',
      JSON.stringify({ id: 'evt_1', type: 'customer.created' }),
      {},
      'application/json',
      'customer.created',
      'evt_1',
    ],
    [
      'slack',
      JSON.stringify({ type: 'event_callback', event_id: 'Ev1', event: { type: 'app_mention' } }),
      {},
      'application/json',
      'app_mention',
      'Ev1',
    ],
    [
      'slack',
      'command=%2Fdeploy&text=now',
      {},
      'application/x-www-form-urlencoded',
      'slash_command',
      'new-1',
    ],
    [
      'slack',
      `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions' }))}`,
      {},
      'application/x-www-form-urlencoded',
      'block_actions',
      'new-1',
    ],
    [
      'slack',
      JSON.stringify({ type: 'app_rate_limited', minute_rate_limited: 1 }),
      {},
      'application/json',
      'app_rate_limited',
      'new-1',
    ],
    ['slack', 'text=hello', {}, 'application/x-www-form-urlencoded', 'unknown', 'new-1'],
    [
      'shopify',
      '{"id":1}',
      { 'x-shopify-topic': 'products/update' },
      'application/json',
      'products/update',
      'gh-1',
    ],
    ['standard', JSON.stringify({ type: 'user.created' }), {}, 'application/json', 'user.created', 'gh-1'],
    [
      'twilio',
      'MessageSid=SM1&SmsStatus=received&Body=hi',
      {},
      'application/x-www-form-urlencoded',
      'message.received',
      'SM1:received',
    ],
    [
      'twilio',
      'CallSid=CA1&CallStatus=ringing',
      {},
      'application/x-www-form-urlencoded',
      'call.ringing',
      'CA1:ringing',
    ],
    [
      'generic',
      JSON.stringify({ id: 'g-9', type: 'thing.happened' }),
      {},
      'application/json',
      'thing.happened',
      'g-9',
    ],
    ['open', 'anything', { 'x-event': 'ping' }, 'text/plain', 'ping', 'new-1'],
  ] as const)('%s: type and id derived (%s)', async (source, body, headers, contentType, type, id) => {
    const h = harness();
    const event = signedEvent(h.deps.config, source, body, { id: 'gh-1', headers, contentType });
    const response = await handleWebhook(event, h.deps);
    // Twilio and Slack's form posts (slash commands, interactivity) read the answer: theirs is a 200.
    const readsAnswer = source === 'twilio' || (source === 'slack' && contentType.includes('form'));
    expect(response.statusCode).toBe(readsAnswer ? 200 : 202);
    expect(h.outcome()).toMatchObject({ outcome: 'queued', type, id });
  });

  it.each([
    ['github', PUSH, 'application/json', ghHeaders, 202],
    ['slack', 'command=%2Fdeploy&text=now', 'application/x-www-form-urlencoded', {}, 200],
    ['twilio', 'MessageSid=SM1&SmsStatus=received', 'application/x-www-form-urlencoded', {}, 200],
  ] as const)(
    "%s: reads the request's headers once, the answer its sender reads included (the per-request path)",
    async (source, body, contentType, headers, status) => {
      const h = harness();
      const event = signedEvent(h.deps.config, source, body, { contentType, headers });
      let reads = 0;
      event.headers = new Proxy(event.headers, {
        get(target, name, receiver) {
          if (name === 'content-type') reads++;
          return Reflect.get(target, name, receiver);
        },
      });
      expect((await handleWebhook(event, h.deps)).statusCode).toBe(status);
      expect(h.outcome()).toMatchObject({ outcome: 'queued' });
      expect(reads).toBe(1);
    },
  );

  it('a request an unverified source lets in says so on its outcome line and counts Unverified; verified ones do not', async () => {
    const h = harness();
    const open = apiEvent('open', { body: 'anything', headers: { 'x-event': 'ping' } });
    expect((await handleWebhook(open, h.deps)).statusCode).toBe(202);
    expect(h.outcome()).toMatchObject({ outcome: 'queued', source: 'open', verified: false });
    expect(h.metrics.map((m) => m.name).sort()).toEqual(['Accepted', 'EnqueueLatency', 'Unverified']);
    // Whatever happens after it was let in, the opt-out is still named (here: the queue is down).
    h.failingQueues.add('events');
    expect((await handleWebhook(open, h.deps)).statusCode).toBe(503);
    expect(h.outcome()).toMatchObject({ outcome: 'failed', reason: 'enqueue_failed', verified: false });
    expect(h.metrics.filter((m) => m.name === 'Unverified')).toHaveLength(2);
    h.failingQueues.clear();
    h.metrics.length = 0;
    const github = signedEvent(h.deps.config, 'github', PUSH, { headers: ghHeaders });
    expect((await handleWebhook(github, h.deps)).statusCode).toBe(202);
    expect(h.outcome()).not.toHaveProperty('verified');
    expect(h.metrics.map((m) => m.name)).not.toContain('Unverified');
  });

  it('a Slack form whose payload field is not JSON is a 400, not queued', async () => {
    const h = harness();
    const event = signedEvent(h.deps.config, 'slack', 'payload=%7Bbroken', {
      contentType: 'application/x-www-form-urlencoded',
    });
    expect((await handleWebhook(event, h.deps)).statusCode).toBe(400);
    expect(h.sent).toHaveLength(0);
  });

  it('a generic HMAC source with only an id path takes the id from the body (so a retry is a duplicate)', async () => {
    const config = testConfig();
    config.sources.generic = {
      type: 'hmac',
      secretId: 'env:GENERIC',
      header: 'x-signature',
      algorithm: 'sha256',
      encoding: 'hex',
      prefix: 'sha256=',
      signedContent: '{body}',
      idPath: 'id',
    };
    const h = harness(config);
    const body = JSON.stringify({ id: 'g-42', type: 'ignored' });
    expect((await handleWebhook(signedEvent(config, 'generic', body), h.deps)).statusCode).toBe(202);
    expect(h.outcome()).toMatchObject({ id: 'g-42', type: 'unknown' });
  });

  it('two events whose numeric ids differ beyond 2^53 are both queued under the digits the sender wrote, not deduplicated as one', async () => {
    const h = harness();
    const config = h.deps.config;
    for (const id of ['9007199254740993', '9007199254740992', '12345678901234567891']) {
      const body = `{"id":${id},"type":"order.created"}`;
      expect((await handleWebhook(signedEvent(config, 'generic', body), h.deps)).statusCode).toBe(202);
      expect(h.outcome()).toMatchObject({ outcome: 'queued', id });
    }
    expect(h.sent.map((m) => parseEnvelope(m.body).id)).toEqual([
      '9007199254740993',
      '9007199254740992',
      '12345678901234567891',
    ]);
  });

  it('a signed body nested thousands of levels deep with a 64-bit id is queued under a new id, not answered 503 on every retry', async () => {
    const h = harness();
    const depth = 20_000;
    const body = `{"id":12345678901234567891,"type":"order.created","deep":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const response = await handleWebhook(signedEvent(h.deps.config, 'generic', body), h.deps);
    expect(response.statusCode).toBe(202);
    expect(h.outcome()).toMatchObject({ outcome: 'queued', id: 'new-1', type: 'order.created' });
    expect(h.sent).toHaveLength(1);
  });

  it('a GitHub form-encoded delivery without its payload field is a 400, not queued', async () => {
    const h = harness();
    const event = signedEvent(h.deps.config, 'github', 'action=closed', {
      id: 'gh-1',
      headers: ghHeaders,
      contentType: 'application/x-www-form-urlencoded',
    });
    expect((await handleWebhook(event, h.deps)).statusCode).toBe(400);
    expect(h.sent).toHaveLength(0);
  });

  it("a source's own signature or token header is never kept in the envelope, even when keepHeaders lists it", async () => {
    const config = testConfig({ keepHeaders: ['content-type', 'x-signature', 'x-api-key'] });
    config.sources.apikey = { type: 'token', secretId: 'env:TOKEN', scheme: 'header', header: 'x-api-key' };
    const h = harness(config);
    const generic = signedEvent(config, 'generic', JSON.stringify({ id: 'g-1', type: 't' }));
    expect((await handleWebhook(generic, h.deps)).statusCode).toBe(202);
    const token = apiEvent('apikey', {
      body: '{}',
      headers: { 'x-api-key': SECRETS.token ?? '', 'content-type': 'application/json' },
    });
    expect((await handleWebhook(token, h.deps)).statusCode).toBe(202);
    expect(h.sent.map((m) => parseEnvelope(m.body).headers)).toEqual([
      { 'content-type': 'application/json' },
      { 'content-type': 'application/json' },
    ]);
  });

  it("no envelope keeps a session cookie, a proxy password, an API key or another source's token header, even when keepHeaders lists them", async () => {
    const credentials = {
      cookie: 'session=s3cr3t',
      'proxy-authorization': 'Basic cHJveHk6czNjcjN0',
      'x-api-key': 'key-s3cr3t',
      'x-partner-token': 'partner-s3cr3t',
    };
    const config = testConfig({ keepHeaders: ['x-github-event', ...Object.keys(credentials)] });
    config.sources.partner = {
      type: 'token',
      secretId: 'env:TOKEN',
      scheme: 'header',
      header: 'X-Partner-Token',
    };
    const h = harness(config);
    const event = signedEvent(config, 'github', PUSH, { headers: { ...ghHeaders, ...credentials } });
    expect((await handleWebhook(event, h.deps)).statusCode).toBe(202);
    expect(parseEnvelope(h.sent[0]?.body ?? '').headers).toEqual({ 'x-github-event': 'push' });
  });

  it('token source: bearer token and id header', async () => {
    const h = harness();
    const event = apiEvent('token', {
      body: '{"x":1}',
      headers: {
        authorization: `Bearer ${SECRETS.token}`,
        'x-request-id': 'req-7',
        'content-type': 'application/json',
      },
    });
    expect((await handleWebhook(event, h.deps)).statusCode).toBe(202);
    expect(h.outcome()).toMatchObject({ id: 'req-7', type: 'unknown' });
    expect(parseEnvelope(h.sent[0]?.body ?? '').headers).toEqual({ 'content-type': 'application/json' });
  });
});

describe('EnqueueLatency', () => {
  it('is the time SendMessage took, without the verification before it; the outcome line has the whole request', async () => {
    const h = harness();
    h.secretsMs = 40;
    h.sendMs = 12;
    await handleWebhook(signedEvent(h.deps.config, 'github', PUSH, { headers: ghHeaders }), h.deps);
    expect(h.metrics).toContainEqual({ name: 'EnqueueLatency', milliseconds: 12 });
    expect(h.outcome()).toMatchObject({ outcome: 'queued', latencyMs: 52 });
  });
  it('is recorded for a send that failed, which the sender retries on the 503', async () => {
    const h = harness();
    h.sendMs = 9;
    h.failingQueues.add('events');
    const response = await handleWebhook(
      signedEvent(h.deps.config, 'github', PUSH, { headers: ghHeaders }),
      h.deps,
    );
    expect(response.statusCode).toBe(503);
    expect(h.metrics).toContainEqual({ name: 'EnqueueLatency', milliseconds: 9 });
  });
});

describe('missing signature headers are a 401', () => {
  it.each(['github', 'stripe', 'slack', 'shopify', 'standard', 'twilio', 'generic', 'token'])(
    '%s without its signature -> 401 generic body, nothing enqueued',
    async (source) => {
      const h = harness();
      const response = await handleWebhook(
        apiEvent(source, { body: '{"id":"x"}', headers: { 'content-type': 'application/json' } }),
        h.deps,
      );
      expect(response.statusCode).toBe(401);
      expect(JSON.parse(response.body)).toEqual({ message: 'unauthorized' });
      expect(h.sent).toEqual([]);
      expect(h.outcome()).toMatchObject({ outcome: 'rejected', status: 401, reason: 'missing_signature' });
      expect(h.metrics).toEqual([{ name: 'Rejected', reason: 'missing_signature' }]);
    },
  );
  it('Slack rejections carry x-slack-no-retry: 1; others do not', async () => {
    const h = harness();
    const slack = await handleWebhook(apiEvent('slack', { body: '{}' }), h.deps);
    expect(slack.headers['x-slack-no-retry']).toBe('1');
    const github = await handleWebhook(apiEvent('github', { body: '{}' }), h.deps);
    expect(github.headers['x-slack-no-retry']).toBeUndefined();
    // Other deterministic rejections of a Slack request too (a retry would be rejected again).
    const malformed = await handleWebhook(signedEvent(h.deps.config, 'slack', '{"type": nope'), h.deps);
    expect(malformed.statusCode).toBe(400);
    expect(malformed.headers['x-slack-no-retry']).toBe('1');
    h.failSecrets = true;
    const unavailable = await handleWebhook(signedEvent(h.deps.config, 'slack', '{"type":"x"}'), h.deps);
    expect(unavailable.statusCode).toBe(503);
    expect(unavailable.headers['x-slack-no-retry']).toBeUndefined();
  });
  it('Standard Webhooks without webhook-id / webhook-timestamp -> 401', async () => {
    const h = harness();
    const signed = signedEvent(h.deps.config, 'standard', '{"type":"a"}', { id: 'msg_1' });
    for (const drop of ['webhook-id', 'webhook-timestamp']) {
      const headers = { ...signed.headers };
      delete headers[drop];
      const response = await handleWebhook({ ...signed, headers }, h.deps);
      expect(response.statusCode).toBe(401);
    }
    expect(h.sent).toEqual([]);
  });
});

describe('through the core, every signature problem is a 401 with the reason only in logs, a stored secret at fault a 503', () => {
  it('malformed, stale and forged requests', async () => {
    const h = harness();
    const config = h.deps.config;
    const stale = signedEvent(config, 'stripe', '{"id":"evt_1"}', { now: NOW_MS - 600_000 });
    const future = signedEvent(config, 'slack', '{"type":"x"}', { now: NOW_MS + 600_000 });
    const forged = signedEvent(config, 'github', PUSH, { headers: ghHeaders });
    forged.body = PUSH.replace('main', 'mainx');
    const truncated = signedEvent(config, 'shopify', '{}', { headers: { 'x-shopify-hmac-sha256': 'AAAA' } });
    const v0only = apiEvent('stripe', {
      body: '{}',
      headers: { 'stripe-signature': `t=${NOW_MS / 1000},v0=${'a'.repeat(64)}` },
    });
    const cases = [
      [stale, 'stale_timestamp'],
      [future, 'stale_timestamp'],
      [forged, 'bad_signature'],
      [truncated, 'malformed_signature'],
      [v0only, 'malformed_signature'],
    ] as const;
    for (const [event, reason] of cases) {
      const response = await handleWebhook(event, h.deps);
      expect(response.statusCode).toBe(401);
      expect(response.body).toBe('{"message":"unauthorized"}');
      expect(h.outcome()).toMatchObject({ outcome: 'rejected', reason });
    }
    expect(h.sent).toEqual([]);
  });

  it('a genuine request refused under a stored secret with stray whitespace is a 503 the sender retries, not a 401', async () => {
    const h = harness();
    const config = h.deps.config;
    // `echo secret | ...` stores a trailing newline: every genuine delivery fails its signature check. That is
    // the stored secret's fault, so Slack must not be told never to retry (its 401 carries X-Slack-No-Retry).
    h.secrets['env:GITHUB'] = [`${SECRETS.github}\n`];
    const good = signedEvent(config, 'github', PUSH, { headers: ghHeaders });
    const response = await handleWebhook(good, h.deps);
    expect(response.statusCode).toBe(503);
    expect(response.body).toBe('{"message":"service unavailable"}');
    expect(h.outcome()).toMatchObject({ outcome: 'failed', reason: 'secret_whitespace' });
    expect(h.logs.at(-2)).toMatchObject({
      level: 'error',
      message: 'signature mismatch under a signing secret with stray whitespace',
      attributes: { source: 'github', secretId: 'env:GITHUB' },
    });
    expect(h.sent).toEqual([]);
    // The same secret stored cleanly verifies the same delivery.
    h.secrets['env:GITHUB'] = [SECRETS.github as string];
    expect((await handleWebhook(good, h.deps)).statusCode).toBe(202);
  });

  it('a stored secret that cannot verify anything is a 503 the sender retries, never a 401', async () => {
    const h = harness();
    const body = JSON.stringify({ type: 'user.created' });
    // A Standard Webhooks key is the base64 after `whsec_`: these decode to no key bytes at all.
    for (const unusable of [['whsec_'], ['whsec_!!!!'], ['whsec_', '']]) {
      h.secrets['env:STANDARD'] = unusable;
      const response = await handleWebhook(signedEvent(h.deps.config, 'standard', body), h.deps);
      expect(response.statusCode, unusable.join('|')).toBe(503);
      expect(JSON.parse(response.body)).toEqual({ message: 'service unavailable' });
      expect(response.headers['retry-after']).toBe('5');
      expect(h.outcome()).toMatchObject({ outcome: 'failed', status: 503, reason: 'no_usable_secret' });
      expect(h.logs.at(-2)).toMatchObject({
        level: 'error',
        message: 'signing secret unusable',
        attributes: { source: 'standard', secretId: 'env:STANDARD' },
      });
    }
    expect(h.metrics.filter((m) => m.name === 'Failed')).toEqual(
      Array.from({ length: 3 }, () => ({ name: 'Failed', reason: 'no_usable_secret' })),
    );
    expect(h.sent).toEqual([]);
    // Once one listed secret is usable, verification decides again.
    h.secrets['env:STANDARD'] = ['whsec_', SECRETS.standard as string];
    expect((await handleWebhook(signedEvent(h.deps.config, 'standard', body), h.deps)).statusCode).toBe(202);
  });

  it('a whitespace-only secret verifies nothing: a request signed with it is a 503, not an accepted forgery', async () => {
    const h = harness();
    for (const blank of [' ', '\n', ' \t ']) {
      h.secrets['env:GITHUB'] = [blank];
      // Anyone can sign with a blank key: this request is what a forger would send.
      const forged = apiEvent('github', {
        body: PUSH,
        headers: {
          ...ghHeaders,
          'content-type': 'application/json',
          ...signWebhook({ type: 'github', secretId: 'env:GITHUB' }, blank, PUSH),
        },
      });
      const response = await handleWebhook(forged, h.deps);
      expect(response.statusCode, JSON.stringify(blank)).toBe(503);
      expect(h.outcome()).toMatchObject({ outcome: 'failed', reason: 'no_usable_secret' });
    }
    expect(h.sent).toEqual([]);
  });

  it('a rotation JSON secret: either active secret verifies', async () => {
    const h = harness();
    h.secrets['env:GITHUB'] = ['new-secret', SECRETS.github as string];
    const signedWithOld = signedEvent(h.deps.config, 'github', PUSH, { headers: ghHeaders });
    expect((await handleWebhook(signedWithOld, h.deps)).statusCode).toBe(202);
    h.secrets['env:GITHUB'] = ['new-secret'];
    const again = signedEvent(h.deps.config, 'github', PUSH, { headers: ghHeaders });
    expect((await handleWebhook(again, h.deps)).statusCode).toBe(401);
  });
});

describe('duplicates and redelivery', () => {
  it('the same delivery twice -> both 202 with the same id, one enqueue, second counted as Duplicate', async () => {
    const h = harness();
    const event = signedEvent(h.deps.config, 'github', PUSH, { id: 'dup-1', headers: ghHeaders });
    const first = await handleWebhook(event, h.deps);
    // Manual redelivery: same delivery id, freshly signed request.
    const redelivery = signedEvent(h.deps.config, 'github', PUSH, { id: 'dup-1', headers: ghHeaders });
    const second = await handleWebhook(redelivery, h.deps);
    expect([first.statusCode, second.statusCode]).toEqual([202, 202]);
    expect(JSON.parse(second.body)).toEqual({ id: 'dup-1' });
    expect(h.sent).toHaveLength(1);
    expect(h.outcome()).toMatchObject({ outcome: 'duplicate', id: 'dup-1', status: 202 });
    expect(h.metrics.filter((m) => m.name === 'Duplicate')).toHaveLength(1);
  });
  it('concurrent repeats never yield two enqueues; the loser is told to retry (503)', async () => {
    const h = harness();
    const events = [1, 2, 3, 4].map(() => signedEvent(h.deps.config, 'stripe', '{"id":"evt_c","type":"a"}'));
    const responses = await Promise.all(events.map((e) => handleWebhook(e, h.deps)));
    expect(h.sent).toHaveLength(1);
    expect(responses.filter((r) => r.statusCode === 202)).toHaveLength(1);
    for (const r of responses.filter((r) => r.statusCode !== 202)) {
      expect(r.statusCode).toBe(503);
      expect(r.headers['retry-after']).toBeDefined();
    }
    // After the winner finished, a retry is a duplicate.
    const retry = await handleWebhook(
      signedEvent(h.deps.config, 'stripe', '{"id":"evt_c","type":"a"}'),
      h.deps,
    );
    expect(retry.statusCode).toBe(202);
    expect(h.sent).toHaveLength(1);
  });
  it('ids are scoped per source', async () => {
    const h = harness();
    await handleWebhook(
      signedEvent(h.deps.config, 'github', PUSH, { id: 'same', headers: ghHeaders }),
      h.deps,
    );
    await handleWebhook(signedEvent(h.deps.config, 'shopify', '{}', { id: 'same' }), h.deps);
    expect(h.sent).toHaveLength(2);
  });
  describe('Twilio status callbacks share one MessageSid', () => {
    const form = 'application/x-www-form-urlencoded';
    const callback = (status: string) => `MessageSid=SMstatus1&MessageStatus=${status}&SmsStatus=${status}`;
    const post = (h: ReturnType<typeof harness>, body: string, headers: Record<string, string> = {}) =>
      handleWebhook(signedEvent(h.deps.config, 'twilio', body, { contentType: form, headers }), h.deps);

    it('sent then delivered: both queued, each under its own id; a retried callback is a duplicate', async () => {
      const h = harness();
      const sent = await post(h, callback('sent'));
      const delivered = await post(h, callback('delivered'));
      const retried = await post(h, callback('delivered'));
      expect([sent.statusCode, delivered.statusCode, retried.statusCode]).toEqual([200, 200, 200]);
      expect(h.sent.map((m) => parseEnvelope(m.body).type)).toEqual(['message.sent', 'message.delivered']);
      const ids = h.sent.map((m) => m.attributes[MESSAGE_ATTRIBUTES.eventId]);
      expect(new Set(ids).size).toBe(2);
      expect(retried.headers['x-hookline-id']).toBe(delivered.headers['x-hookline-id']);
      expect(h.outcome()).toMatchObject({ outcome: 'duplicate' });
    });

    it('call status callbacks of one CallSid are each queued', async () => {
      const h = harness();
      for (const status of ['ringing', 'in-progress', 'completed'])
        expect((await post(h, `CallSid=CAstatus1&CallStatus=${status}`)).statusCode).toBe(200);
      expect(h.sent.map((m) => parseEnvelope(m.body).type)).toEqual([
        'call.ringing',
        'call.in-progress',
        'call.completed',
      ]);
    });

    it("Twilio's idempotency token is the id when present: retries of one webhook dedupe, other webhooks do not", async () => {
      const h = harness();
      const token = { 'i-twilio-idempotency-token': 'tok-1' };
      const first = await post(h, callback('delivered'), token);
      const retry = await post(h, callback('delivered'), token);
      const other = await post(h, callback('delivered'), { 'i-twilio-idempotency-token': 'tok-2' });
      expect(first.headers['x-hookline-id']).toBe('tok-1');
      expect(retry.headers['x-hookline-id']).toBe('tok-1');
      expect(other.headers['x-hookline-id']).toBe('tok-2');
      expect(h.sent).toHaveLength(2);
    });

    it('without publicUrl, checks the URL with the scheme the API received (https in AWS, http locally)', async () => {
      const config = testConfig();
      config.sources.twilio = { type: 'twilio', secretId: 'env:TWILIO' };
      const h = harness(config);
      const body = callback('sent');
      const post = (url: string, headers: Record<string, string>) =>
        handleWebhook(signedEvent(config, 'twilio', body, { contentType: form, url, headers }), h.deps);
      const https = 'https://api.example.com/webhooks/twilio';
      const http = 'http://api.example.com/webhooks/twilio';
      expect((await post(https, {})).statusCode).toBe(200);
      expect((await post(http, { 'x-forwarded-proto': 'http' })).statusCode).toBe(200);
      expect((await post(http, {})).statusCode).toBe(401);
      expect((await post(https, { 'x-forwarded-proto': 'http' })).statusCode).toBe(401);
    });

    it('accepts a signature over the URL with the standard port written out, as Twilio sometimes signs it', async () => {
      const config = testConfig();
      config.sources.twilio = { type: 'twilio', secretId: 'env:TWILIO' };
      const h = harness(config);
      const post = (url: string, body: string, rawQueryString = '') =>
        handleWebhook(
          signedEvent(config, 'twilio', body, { contentType: form, url, rawQueryString }),
          h.deps,
        );
      // Without publicUrl: the API's own domain, which API Gateway gives without a port.
      expect((await post('https://api.example.com:443/webhooks/twilio', callback('sent'))).statusCode).toBe(
        200,
      );
      expect(
        (await post('https://api.example.com:443/webhooks/twilio?tenant=a', callback('queued'), 'tenant=a'))
          .statusCode,
      ).toBe(200);
      // With publicUrl: the configured base, in both spellings.
      const withPublic = harness();
      for (const [url, status] of [
        ['https://hooks.example.com:443/prod/webhooks/twilio', 'sent'],
        ['https://hooks.example.com/prod/webhooks/twilio', 'delivered'],
      ] as const) {
        const event = signedEvent(withPublic.deps.config, 'twilio', callback(status), {
          contentType: form,
          url,
        });
        expect((await handleWebhook(event, withPublic.deps)).statusCode).toBe(200);
      }
      // Only the scheme's standard port: a signature over another port, host or scheme still fails.
      for (const url of [
        'https://api.example.com:8443/webhooks/twilio',
        'https://api.example.com:80/webhooks/twilio',
        'http://api.example.com:443/webhooks/twilio',
        'https://other.example.com:443/webhooks/twilio',
      ]) {
        const response = await post(url, callback('failed'));
        expect(response.statusCode, url).toBe(401);
        expect(JSON.parse(response.body)).toEqual({ message: 'unauthorized' });
      }
    });

    it('a JSON webhook (signed through bodySHA256) retried with the same idempotency token is queued once', async () => {
      const h = harness();
      const body = JSON.stringify({ event: 'flow.completed', sid: 'FN123' });
      const query = `bodySHA256=${createHash('sha256').update(body).digest('hex')}`;
      const postJson = (token: string) =>
        handleWebhook(
          signedEvent(h.deps.config, 'twilio', body, {
            rawQueryString: query,
            headers: { 'i-twilio-idempotency-token': token },
          }),
          h.deps,
        );
      const first = await postJson('tok-json');
      const retry = await postJson('tok-json');
      expect([first.statusCode, retry.statusCode]).toEqual([200, 200]);
      expect(first.headers['x-hookline-id']).toBe('tok-json');
      expect(retry.headers['x-hookline-id']).toBe('tok-json');
      expect(h.sent).toHaveLength(1);
      expect(h.outcome()).toMatchObject({ outcome: 'duplicate' });
    });
  });
  it('without a dedupe table every delivery is enqueued', async () => {
    const config = testConfig();
    delete config.dedupe;
    const h = harness(config);
    const event = signedEvent(config, 'github', PUSH, { id: 'x', headers: ghHeaders });
    await handleWebhook(event, h.deps);
    await handleWebhook(event, h.deps);
    expect(h.sent).toHaveLength(2);
  });
});

describe('raw bytes and header case', () => {
  it('isBase64Encoded bodies are decoded before the HMAC (binary bytes survive)', async () => {
    const h = harness();
    const body = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0xa9, 0x22, 0x7d]); // {"a":"é"}
    const event = signedEvent(h.deps.config, 'github', body, { headers: ghHeaders, base64: true });
    expect(event.isBase64Encoded).toBe(true);
    expect((await handleWebhook(event, h.deps)).statusCode).toBe(202);
    expect(parseEnvelope(h.sent[0]?.body ?? '').body).toBe('{"a":"é"}');
  });
  it('a binary body travels base64-encoded in the envelope', async () => {
    const h = harness();
    const body = Buffer.from([0xff, 0xfe, 0x00, 0x01]);
    const event = signedEvent(h.deps.config, 'shopify', body, { contentType: 'application/octet-stream' });
    expect((await handleWebhook(event, h.deps)).statusCode).toBe(202);
    const envelope = parseEnvelope(h.sent[0]?.body ?? '');
    expect(envelope.bodyEncoding).toBe('base64');
    expect(Buffer.from(envelope.body ?? '', 'base64')).toEqual(body);
  });
  it('a text body is carried as the exact text received (non-ASCII, astral characters)', async () => {
    const h = harness();
    const body = JSON.stringify({ action: 'opened', title: 'café 😀 naïve' });
    const event = signedEvent(h.deps.config, 'github', body, { headers: { 'x-github-event': 'issues' } });
    expect((await handleWebhook(event, h.deps)).statusCode).toBe(202);
    const envelope = parseEnvelope(h.sent[0]?.body ?? '');
    expect(envelope).toMatchObject({ body, bodyEncoding: 'utf8', type: 'issues.opened' });
  });
  it('a text body with a lone surrogate is verified and carried as its UTF-8 bytes decode (U+FFFD)', async () => {
    const h = harness();
    // The sender's bytes are what JavaScript's UTF-8 encoder makes of the string: the lone surrogate becomes
    // EF BF BD. Signature, type and envelope must all follow those bytes, not the original string.
    const body = '{"action":"op\ud800en"}';
    const event = {
      ...signedEvent(h.deps.config, 'github', body, { headers: { 'x-github-event': 'issues' } }),
      body,
    };
    expect(event.isBase64Encoded).toBe(false);
    expect((await handleWebhook(event, h.deps)).statusCode).toBe(202);
    const envelope = parseEnvelope(h.sent[0]?.body ?? '');
    expect(envelope.body).toBe('{"action":"op\ufffden"}');
    expect(envelope.type).toBe('issues.op\ufffden');
  });
  it('mixed-case header names work', async () => {
    const h = harness();
    const signed = signWebhook(h.deps.config.sources.github as never, SECRETS.github as string, PUSH, {
      id: 'mc',
    });
    const headers = {
      'Content-Type': 'application/json',
      'X-Hub-Signature-256': signed['x-hub-signature-256'] ?? '',
      'X-GitHub-Delivery': 'mc',
      'X-GitHub-Event': 'push',
    };
    const response = await handleWebhook(apiEvent('github', { body: PUSH, headers }), h.deps);
    expect(response.statusCode).toBe(202);
    expect(h.outcome()).toMatchObject({ id: 'mc', type: 'push' });
  });
});

describe('valid signature, malformed body -> 400, never 5xx', () => {
  it.each(['github', 'stripe', 'slack', 'standard', 'generic'])(
    '%s with invalid JSON -> 400',
    async (source) => {
      const h = harness();
      const response = await handleWebhook(
        signedEvent(h.deps.config, source, '{"id": nope', { headers: ghHeaders }),
        h.deps,
      );
      expect(response.statusCode).toBe(400);
      expect(h.outcome()).toMatchObject({ outcome: 'rejected', reason: 'malformed_body' });
      expect(h.sent).toEqual([]);
    },
  );
  // Stripe, GitHub, Standard Webhooks and Slack send every event as a JSON object: valid JSON that is not one is a
  // hand-made request, whose payload would reach handlers typed for their object.
  it.each(['github', 'stripe', 'slack', 'standard'])(
    '%s with JSON that is not an object (null, [], a number, a string) -> 400 with the generic body, nothing queued',
    async (source) => {
      for (const body of ['null', '[]', '[{"id":"evt_1","type":"invoice.paid"}]', '42', '"invoice.paid"']) {
        const h = harness();
        const response = await handleWebhook(
          signedEvent(h.deps.config, source, body, { headers: ghHeaders }),
          h.deps,
        );
        expect([body, response.statusCode, JSON.parse(response.body)]).toEqual([
          body,
          400,
          { message: 'bad request' },
        ]);
        expect(h.outcome()).toMatchObject({ outcome: 'rejected', reason: 'malformed_body' });
        expect(h.sent).toEqual([]);
      }
    },
  );
  it('a GitHub form post whose payload field is JSON but not an object -> 400, nothing queued', async () => {
    const h = harness();
    const body = `payload=${encodeURIComponent('[1,2]')}`;
    const response = await handleWebhook(
      signedEvent(h.deps.config, 'github', body, {
        headers: { ...ghHeaders, 'content-type': 'application/x-www-form-urlencoded' },
      }),
      h.deps,
    );
    expect(response.statusCode).toBe(400);
    expect(h.sent).toEqual([]);
  });
  it('the generic HMAC source, whose sender may send any JSON, queues a body that is not an object as it came', async () => {
    for (const body of ['null', '[1,2]', '42', '"text"']) {
      const h = harness();
      const response = await handleWebhook(signedEvent(h.deps.config, 'generic', body), h.deps);
      expect([body, response.statusCode]).toEqual([body, 202]);
      expect(h.sent).toHaveLength(1);
    }
  });
  it.each(['github', 'stripe', 'slack', 'standard', 'generic'])(
    '%s JSON after a UTF-8 byte order mark -> 202, the body kept byte for byte',
    async (source) => {
      const h = harness();
      const body = '\uFEFF{"id":"evt_bom","type":"invoice.paid","action":"opened"}';
      const response = await handleWebhook(
        signedEvent(h.deps.config, source, body, { headers: ghHeaders }),
        h.deps,
      );
      expect(response.statusCode).toBe(202);
      expect(h.outcome()).toMatchObject({ outcome: 'queued' });
      expect(parseEnvelope(h.sent[0]?.body ?? '').body).toBe(body);
    },
  );
  it('shopify does not need the body parsed: invalid JSON is still accepted', async () => {
    const h = harness();
    const response = await handleWebhook(signedEvent(h.deps.config, 'shopify', 'not json', {}), h.deps);
    expect(response.statusCode).toBe(202);
  });
});

describe('compressed bodies', () => {
  it('a gzip body is refused with 415 before anything is queued, even for a sender that never parses it', async () => {
    const h = harness();
    // Correctly signed over its bytes, so only the encoding can refuse it.
    const event = signedEvent(h.deps.config, 'shopify', '{"id":1}', {
      headers: { 'content-encoding': 'gzip' },
    });
    const response = await handleWebhook(event, h.deps);
    expect(response.statusCode).toBe(415);
    expect(JSON.parse(response.body)).toEqual({ message: 'unsupported content encoding' });
    expect(h.sent).toHaveLength(0);
    expect(h.outcome()).toMatchObject({ outcome: 'rejected', reason: 'unsupported_encoding' });
  });
  it('content-encoding identity (any case, padded) is an uncompressed body and is queued', async () => {
    const h = harness();
    const event = signedEvent(h.deps.config, 'shopify', '{"id":1}', {
      headers: { 'content-encoding': ' Identity ' },
    });
    expect((await handleWebhook(event, h.deps)).statusCode).toBe(202);
    expect(h.sent).toHaveLength(1);
  });
});

describe('body sizes: inline, claim-checked, empty, too large', () => {
  it('empty body -> 400', async () => {
    const h = harness();
    const response = await handleWebhook(
      signedEvent(h.deps.config, 'github', '', { headers: ghHeaders }),
      h.deps,
    );
    expect(response.statusCode).toBe(400);
    expect(h.outcome()).toMatchObject({ reason: 'empty_body' });
  });
  it('an envelope just under the inline limit goes inline; just over goes to S3 as a claim check', async () => {
    const config = testConfig({ payloads: { bucket: 'payloads', inlineLimitBytes: 4096 } });
    const h = harness(config);
    const build = (size: number) => `"${'x'.repeat(size - 2)}"`;
    // Find the largest body whose envelope fits.
    const probe = signedEvent(config, 'shopify', build(100), { id: 'prob' });
    await handleWebhook(probe, h.deps);
    const overhead = Buffer.byteLength(h.sent[0]?.body ?? '') - 100;
    const fits = 4096 - overhead;
    await handleWebhook(signedEvent(config, 'shopify', build(fits), { id: 'fits' }), h.deps);
    expect(parseEnvelope(h.sent[1]?.body ?? '').body).toHaveLength(fits);
    expect(Buffer.byteLength(h.sent[1]?.body ?? '')).toBe(4096);
    const response = await handleWebhook(
      signedEvent(config, 'shopify', build(fits + 1), { id: 'over' }),
      h.deps,
    );
    expect(response.statusCode).toBe(202);
    const envelope = parseEnvelope(h.sent[2]?.body ?? '');
    expect(envelope.body).toBeUndefined();
    expect(envelope.payloadRef).toEqual({
      bucket: 'payloads',
      key: 'payloads/shopify/2026/11/25/over',
      sizeBytes: fits + 1,
    });
    expect(h.payloads).toHaveLength(1);
    expect(h.payloads[0]?.body.toString()).toBe(build(fits + 1));
  });
  it('over the SQS limit without a payload bucket -> 413', async () => {
    const config = testConfig();
    delete config.payloads;
    const h = harness(config);
    const body = `"${'x'.repeat(1_048_576)}"`;
    const response = await handleWebhook(signedEvent(config, 'shopify', body), h.deps);
    expect(response.statusCode).toBe(413);
    expect(h.sent).toEqual([]);
  });
  it('above the Lambda request limit -> 413 before any verification', async () => {
    const h = harness();
    const body = Buffer.alloc(MAX_BODY_BYTES + 1, 0x61);
    const response = await handleWebhook(
      signedEvent(h.deps.config, 'shopify', body, { base64: true }),
      h.deps,
    );
    expect(response.statusCode).toBe(413);
    expect(h.outcome()).toMatchObject({ reason: 'body_too_large' });
  });
  it('a body of exactly the limit is accepted (claim-checked), one byte more is not', async () => {
    const h = harness();
    const response = await handleWebhook(
      signedEvent(h.deps.config, 'shopify', Buffer.alloc(MAX_BODY_BYTES, 0x61), { base64: true }),
      h.deps,
    );
    expect(response.statusCode).toBe(202);
    expect(h.payloads).toHaveLength(1);
  });
  it('the body limit is what still reaches Lambda base64-encoded inside the event', () => {
    const base64Length = Math.ceil(MAX_BODY_BYTES / 3) * 4;
    expect(base64Length + EVENT_RESERVE_BYTES).toBeLessThanOrEqual(LAMBDA_SYNC_REQUEST_MAX_BYTES);
    expect(Math.ceil((MAX_BODY_BYTES + 3) / 3) * 4 + EVENT_RESERVE_BYTES).toBeGreaterThan(
      LAMBDA_SYNC_REQUEST_MAX_BYTES,
    );
  });
  it('a text body that reaches the function but could not as base64 -> 413, nothing stored or sent', async () => {
    const h = harness();
    const body = `"${'x'.repeat(5_000_000)}"`;
    expect(Buffer.byteLength(body)).toBeGreaterThan(MAX_WEBHOOK_BODY_BYTES);
    expect(Buffer.byteLength(body)).toBeLessThan(LAMBDA_SYNC_REQUEST_MAX_BYTES - EVENT_RESERVE_BYTES);
    const response = await handleWebhook(signedEvent(h.deps.config, 'shopify', body), h.deps);
    expect(response.statusCode).toBe(413);
    expect(h.outcome()).toMatchObject({ reason: 'body_too_large' });
    expect(h.sent).toEqual([]);
    expect(h.payloads).toEqual([]);
  });
});

describe('method, path, content type; never 410', () => {
  it('GET -> 405 with Allow: POST', async () => {
    const h = harness();
    const response = await handleWebhook(apiEvent('github', { method: 'GET' }), h.deps);
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe('POST');
    expect(h.outcome()).toMatchObject({ outcome: 'rejected', reason: 'method_not_allowed' });
    expect(h.metrics).toEqual([{ name: 'Rejected', reason: 'method_not_allowed' }]);
  });
  it('a correctly signed request by any method but POST is a 405 and enqueues nothing, whatever its source', async () => {
    const h = harness();
    for (const method of ['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
      for (const source of ['github', 'stripe', 'open']) {
        const event = signedEvent(h.deps.config, source, '{"id":"evt_m","type":"invoice.paid"}', {
          method,
          headers: ghHeaders,
        });
        const response = await handleWebhook(event, h.deps);
        expect({ method, source, status: response.statusCode }).toEqual({ method, source, status: 405 });
        expect(response.headers.allow).toBe('POST');
      }
    }
    expect(h.sent).toEqual([]);
    expect(h.dedupe.records.size).toBe(0);
  });
  it('unknown source (and prototype names) -> 404', async () => {
    const h = harness();
    for (const name of ['nope', '__proto__', 'constructor', 'toString']) {
      expect((await handleWebhook(apiEvent(name, { body: '{}' }), h.deps)).statusCode).toBe(404);
      // The operator sees which source name was asked for.
      expect(h.outcome()).toMatchObject({ outcome: 'rejected', reason: 'unknown_source', source: name });
    }
    expect(h.sent).toEqual([]);
  });
  it('source taken from rawPath when pathParameters is absent; malformed percent-encoding -> 404', async () => {
    const h = harness();
    const event = signedEvent(h.deps.config, 'github', PUSH, { headers: ghHeaders });
    delete event.pathParameters;
    expect((await handleWebhook(event, h.deps)).statusCode).toBe(202);
    const broken = apiEvent('x', { body: '{}', path: '/webhooks/%E0%A4%A' });
    delete broken.pathParameters;
    expect((await handleWebhook(broken, h.deps)).statusCode).toBe(404);
  });
  it('absent content type: Stripe still verifies and parses; envelope body base64', async () => {
    const h = harness();
    const event = signedEvent(h.deps.config, 'stripe', '{"id":"evt_n","type":"a"}');
    delete event.headers['content-type'];
    expect((await handleWebhook(event, h.deps)).statusCode).toBe(202);
    expect(parseEnvelope(h.sent[0]?.body ?? '').bodyEncoding).toBe('base64');
  });
});

describe('enqueue failures never get a 2xx', () => {
  it('SendMessage fails -> 503 with Retry-After, claim released so the retry enqueues', async () => {
    const h = harness();
    h.failingQueues.add('events');
    const event = signedEvent(h.deps.config, 'github', PUSH, { id: 'b14', headers: ghHeaders });
    const response = await handleWebhook(event, h.deps);
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('5');
    expect(response.body).toBe('{"message":"service unavailable"}');
    expect(h.outcome()).toMatchObject({ outcome: 'failed', reason: 'enqueue_failed', status: 503 });
    expect(h.dedupe.records.size).toBe(0);
    h.failingQueues.clear();
    expect((await handleWebhook(event, h.deps)).statusCode).toBe(202);
    expect(h.sent).toHaveLength(1);
  });
  it('fan-out where one target fails -> 503 (never 2xx with a target missing)', async () => {
    const h = harness();
    h.failingQueues.add('audit');
    const event = signedEvent(h.deps.config, 'stripe', '{"id":"evt_f","type":"invoice.paid"}');
    expect((await handleWebhook(event, h.deps)).statusCode).toBe(503);
    h.failingQueues.clear();
    expect((await handleWebhook(event, h.deps)).statusCode).toBe(202);
    expect(h.sent.filter((m) => m.queue === 'audit')).toHaveLength(1);
  });
  it('S3 failure for an oversized body -> 503 and nothing enqueued; the claim is released for the retry', async () => {
    const h = harness(testConfig({ payloads: { bucket: 'b', inlineLimitBytes: 1024 } }));
    h.failPayloads = true;
    const big = () => signedEvent(h.deps.config, 'shopify', 'x'.repeat(5000), { id: 'big-1' });
    expect((await handleWebhook(big(), h.deps)).statusCode).toBe(503);
    expect(h.outcome()).toMatchObject({ reason: 'payload_store_unavailable' });
    expect(h.sent).toEqual([]);
    // The sender's retry, once S3 is back, is taken at once rather than answered "in progress".
    h.failPayloads = false;
    expect((await handleWebhook(big(), h.deps)).statusCode).toBe(202);
    expect(h.sent).toHaveLength(1);
  });
  it('a claim-checked body travels to S3 with its content type', async () => {
    const h = harness(testConfig({ payloads: { bucket: 'b', inlineLimitBytes: 1024 } }));
    const event = signedEvent(h.deps.config, 'shopify', 'x'.repeat(5000), { contentType: 'text/csv' });
    expect((await handleWebhook(event, h.deps)).statusCode).toBe(202);
    expect(h.payloads.map((p) => p.contentType)).toEqual(['text/csv']);
  });
  it('an envelope too large for the inline limit even claim-checked -> 413, nothing stored or sent', async () => {
    const h = harness(testConfig({ payloads: { bucket: 'b', inlineLimitBytes: 200 } }));
    const response = await handleWebhook(signedEvent(h.deps.config, 'shopify', 'x'.repeat(5000)), h.deps);
    expect(response.statusCode).toBe(413);
    expect(h.outcome()).toMatchObject({ reason: 'body_too_large' });
    expect(h.sent).toEqual([]);
  });
  it('dedupe store failure -> 503, nothing enqueued', async () => {
    const h = harness();
    h.dedupe.failClaims = true;
    const response = await handleWebhook(
      signedEvent(h.deps.config, 'github', PUSH, { headers: ghHeaders }),
      h.deps,
    );
    expect(response.statusCode).toBe(503);
    expect(h.outcome()).toMatchObject({ reason: 'dedupe_unavailable' });
    expect(h.sent).toEqual([]);
  });
});

describe('a slow first attempt whose enqueue succeeded, retried by the sender', () => {
  it('the retry (same id, new signature/timestamp) is a duplicate: one message', async () => {
    const h = harness();
    const first = signedEvent(
      h.deps.config,
      'slack',
      '{"type":"event_callback","event_id":"Ev9","event":{"type":"message"}}',
    );
    await handleWebhook(first, h.deps);
    h.clock += 3_500;
    const retry = signedEvent(
      h.deps.config,
      'slack',
      '{"type":"event_callback","event_id":"Ev9","event":{"type":"message"}}',
      {
        now: h.clock,
        headers: { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' },
      },
    );
    const response = await handleWebhook(retry, h.deps);
    expect(response.statusCode).toBe(202);
    expect(h.sent).toHaveLength(1);
  });
  it('a retry arriving while the first attempt still holds its lease -> 503, and after the lease it can proceed', async () => {
    const h = harness();
    await h.dedupe.claim('github#slow');
    const event = signedEvent(h.deps.config, 'github', PUSH, { id: 'slow', headers: ghHeaders });
    expect((await handleWebhook(event, h.deps)).statusCode).toBe(503);
    expect(h.outcome()).toMatchObject({ reason: 'in_progress' });
    h.clock += 31_000; // the first holder died; its lease ran out
    const later = signedEvent(h.deps.config, 'github', PUSH, {
      id: 'slow',
      headers: ghHeaders,
      now: h.clock,
    });
    expect((await handleWebhook(later, h.deps)).statusCode).toBe(202);
  });
});

describe('secrets unavailable -> fail closed', () => {
  it('503, no verification bypass, recovers when the store returns', async () => {
    const h = harness();
    h.failSecrets = true;
    const event = signedEvent(h.deps.config, 'github', PUSH, { headers: ghHeaders });
    const response = await handleWebhook(event, h.deps);
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBeDefined();
    expect(h.outcome()).toMatchObject({ outcome: 'failed', reason: 'secret_unavailable' });
    expect(h.sent).toEqual([]);
    h.failSecrets = false;
    expect((await handleWebhook(event, h.deps)).statusCode).toBe(202);
  });
});

describe('routing', () => {
  it('ignore rule -> 202 with the id, nothing enqueued, counted', async () => {
    const h = harness();
    const response = await handleWebhook(
      signedEvent(h.deps.config, 'github', '{"repository":{"id":1}}', {
        id: 'p1',
        headers: { 'x-github-event': 'watch' },
      }),
      h.deps,
    );
    expect(response.statusCode).toBe(202);
    expect(JSON.parse(response.body)).toEqual({ id: 'p1' });
    expect(h.sent).toEqual([]);
    expect(h.outcome()).toMatchObject({ outcome: 'ignored', queues: [] });
    expect(h.metrics).toEqual([{ name: 'Ignored' }]);
  });
  it('fan-out to several queues', async () => {
    const h = harness();
    await handleWebhook(signedEvent(h.deps.config, 'stripe', '{"id":"evt_i","type":"invoice.paid"}'), h.deps);
    expect(h.sent.map((m) => m.queue).sort()).toEqual(['audit', 'events']);
    expect(h.outcome()).toMatchObject({ queues: ['events', 'audit'] });
  });
  it('`invoice.*` does not match `invoice.a.b`: default route', async () => {
    const h = harness();
    await handleWebhook(signedEvent(h.deps.config, 'stripe', '{"id":"evt_j","type":"invoice.a.b"}'), h.deps);
    expect(h.sent.map((m) => m.queue)).toEqual(['events']);
  });
  it('default route ignore', async () => {
    const h = harness(testConfig({ routes: [], defaultRoute: { queues: [], ignore: true } }));
    const response = await handleWebhook(
      signedEvent(h.deps.config, 'github', PUSH, { headers: ghHeaders }),
      h.deps,
    );
    expect(response.statusCode).toBe(202);
    expect(h.sent).toEqual([]);
  });
  it('FIFO target: group id from the JSON path (fallback: source) and a stable dedup id', async () => {
    const h = harness();
    const order = JSON.stringify({ id: 5, customer: { id: 'cus_1' } });
    await handleWebhook(
      signedEvent(h.deps.config, 'shopify', order, {
        id: 'o1',
        headers: { 'x-shopify-topic': 'orders/create' },
      }),
      h.deps,
    );
    await handleWebhook(
      signedEvent(h.deps.config, 'shopify', '{"id":6}', {
        id: 'o2',
        headers: { 'x-shopify-topic': 'orders/paid' },
      }),
      h.deps,
    );
    const [first, second] = h.sent;
    expect(first?.queue).toBe('orders');
    expect(first?.groupId).toBe('cus_1');
    expect(second?.groupId).toBe('shopify');
    expect(first?.deduplicationId).toMatch(/^[0-9a-f]{64}$/);
    expect(first?.deduplicationId).not.toBe(second?.deduplicationId);
  });
  it('FIFO target: a JSON path holding an integer beyond 2^53 groups by the digits sent, not a rounded neighbour', async () => {
    const h = harness();
    // Two customers whose ids a double cannot tell apart: both would be 9007199254740992.
    for (const customer of ['9007199254740993', '9007199254740992']) {
      await handleWebhook(
        signedEvent(h.deps.config, 'shopify', `{"id":8,"customer":{"id":${customer}}}`, {
          id: `o-${customer}`,
          headers: { 'x-shopify-topic': 'orders/create' },
        }),
        h.deps,
      );
    }
    expect(h.sent.map((m) => m.groupId)).toEqual(['9007199254740993', '9007199254740992']);
    // A replay reads the group from the archived envelope by the same rule, and finds the same one.
    const envelope = parseEnvelope(h.sent[0]?.body ?? '');
    const input = {
      source: 'shopify',
      type: envelope.type,
      headers: envelope.headers ?? {},
      json: () => JSON.parse(envelope.body ?? ''),
      text: () => envelope.body ?? '',
    };
    const orders = h.deps.config.queues.orders;
    if (!orders) throw new Error('the test configuration has an orders queue');
    expect(messageGroupOf(orders, input)).toEqual({ groupId: '9007199254740993' });
  });
  it('FIFO target: the same delivery id from two sources gets two dedup ids, so SQS drops neither', async () => {
    const h = harness(testConfig({ routes: [], defaultRoute: { queues: ['orders'], ignore: false } }));
    for (const [source, headers] of [
      ['github', ghHeaders],
      ['shopify', { 'x-shopify-topic': 'orders/create' }],
    ] as const) {
      const response = await handleWebhook(
        signedEvent(h.deps.config, source, '{"id":7}', { id: 'same-1', headers }),
        h.deps,
      );
      expect(response.statusCode, source).toBe(202);
    }
    expect(h.sent.map((m) => m.queue)).toEqual(['orders', 'orders']);
    expect(h.sent[0]?.deduplicationId).not.toBe(h.sent[1]?.deduplicationId);
  });
  it('FIFO grouping by type and by source', async () => {
    for (const [grouping, expected] of [
      [{ by: 'type' as const }, 'orders/create'],
      [{ by: 'source' as const }, 'shopify'],
    ] as const) {
      const config = testConfig();
      config.queues.orders = { url: 'u', fifo: true, grouping };
      const h = harness(config);
      await handleWebhook(
        signedEvent(config, 'shopify', '{}', { headers: { 'x-shopify-topic': 'orders/create' } }),
        h.deps,
      );
      expect(h.sent[0]?.groupId).toBe(expected);
    }
  });
  it('fair standard queue: the tenant from a header or a JSON path becomes the group id and an attribute', async () => {
    const config = testConfig();
    config.queues.events = {
      url: 'u',
      fifo: false,
      tenants: {
        stripe: { by: 'path', path: 'account' },
        shopify: { by: 'header', header: 'x-shopify-shop-domain' },
      },
    };
    const h = harness(config);
    await handleWebhook(
      signedEvent(config, 'stripe', '{"id":"evt_t1","type":"charge.succeeded","account":"acct_9"}'),
      h.deps,
    );
    await handleWebhook(
      signedEvent(config, 'shopify', '{"id":7}', {
        headers: { 'x-shopify-topic': 'products/update', 'x-shopify-shop-domain': 'shop-a.myshopify.com' },
      }),
      h.deps,
    );
    await handleWebhook(signedEvent(config, 'github', PUSH, { headers: ghHeaders }), h.deps);
    await handleWebhook(signedEvent(config, 'stripe', '{"id":"evt_t2","type":"charge.succeeded"}'), h.deps);
    const tenants = h.sent.map((m) => [m.groupId, m.attributes['hookline.tenant']]);
    // A source without a rule, and an event without the tenant value, are each one tenant: the source.
    expect(tenants).toEqual([
      ['acct_9', 'acct_9'],
      ['shop-a.myshopify.com', 'shop-a.myshopify.com'],
      ['github', 'github'],
      ['stripe', 'stripe'],
    ]);
    expect(h.sent.every((m) => m.deduplicationId === undefined)).toBe(true);
    // The outcome line names each event's tenant per fair queue (npm start shows it on its queued line).
    const outcomes = h.logs.filter((l) => l.message === 'webhook outcome').map((l) => l.attributes.tenants);
    expect(outcomes).toEqual([
      { events: 'acct_9' },
      { events: 'shop-a.myshopify.com' },
      { events: 'github' },
      { events: 'stripe' },
    ]);
  });
  it('the envelope keeps the header a tenant or FIFO grouping rule reads, so a replay of it finds the same group', async () => {
    const config = testConfig({ keepHeaders: ['content-type'] });
    config.queues.events = {
      url: 'u',
      fifo: false,
      tenants: { stripe: { by: 'header', header: 'x-tenant-id' } },
    };
    config.queues.orders = { url: 'o.fifo', fifo: true, grouping: { by: 'header', header: 'x-region' } };
    config.defaultRoute = { queues: ['events', 'orders'], ignore: false };
    const h = harness(config);
    const event = signedEvent(config, 'stripe', '{"id":"evt_h1","type":"charge.succeeded"}', {
      headers: { 'x-tenant-id': 'acct_quiet', 'x-region': 'eu', 'x-other': 'dropped' },
    });
    expect((await handleWebhook(event, h.deps)).statusCode).toBe(202);
    expect(h.sent.map((m) => [m.queue, m.groupId])).toEqual([
      ['events', 'acct_quiet'],
      ['orders', 'eu'],
    ]);
    // The archive record is this envelope: a replay reads the group from its headers by the same rule.
    const envelope = parseEnvelope(h.sent[0]?.body ?? '');
    expect(envelope.headers).toEqual({
      'content-type': 'application/json',
      'x-tenant-id': 'acct_quiet',
      'x-region': 'eu',
    });
    const input = {
      source: 'stripe',
      type: envelope.type,
      headers: envelope.headers ?? {},
      json: () => ({}),
    };
    expect(messageGroupOf(config.queues.events, input)).toEqual({
      groupId: 'acct_quiet',
      tenant: 'acct_quiet',
    });
    expect(messageGroupOf(config.queues.orders, input)).toEqual({ groupId: 'eu' });
  });
  it("the envelope keeps no header for another source's tenant rule", async () => {
    const config = testConfig({ keepHeaders: ['content-type'] });
    config.queues.events = {
      url: 'u',
      fifo: false,
      tenants: { github: { by: 'header', header: 'x-gh-tenant' } },
    };
    config.defaultRoute = { queues: ['events'], ignore: false };
    const h = harness(config);
    const event = signedEvent(config, 'stripe', '{"id":"evt_h2","type":"charge.succeeded"}', {
      headers: { 'x-gh-tenant': 'not-read-for-stripe' },
    });
    expect((await handleWebhook(event, h.deps)).statusCode).toBe(202);
    expect(parseEnvelope(h.sent[0]?.body ?? '').headers).toEqual({ 'content-type': 'application/json' });
  });
  it('fair standard queue: an empty, object or missing tenant is the source; a number is its digits; one SQS refuses is hashed', async () => {
    const config = testConfig();
    config.queues.events = { url: 'u', fifo: false, tenants: { stripe: { by: 'path', path: 'account' } } };
    const h = harness(config);
    const accounts = ['""', '{"id":"acct_1"}', '42', JSON.stringify('x'.repeat(129)), '"acct 9"', '"ü"'];
    for (const [i, account] of accounts.entries()) {
      const body = `{"id":"evt_e${i}","type":"charge.succeeded","account":${account}}`;
      expect((await handleWebhook(signedEvent(config, 'stripe', body), h.deps)).statusCode).toBe(202);
    }
    const hex = (value: string) => createHash('sha256').update(value).digest('hex');
    expect(h.sent.map((m) => m.groupId)).toEqual([
      'stripe',
      'stripe',
      '42',
      hex('x'.repeat(129)),
      hex('acct 9'),
      hex('ü'),
    ]);
    expect(h.sent.map((m) => m.attributes['hookline.tenant'])).toEqual(h.sent.map((m) => m.groupId));
  });
  it.each([
    ['a fair queue (its tenant attribute included)', { tenants: {} }],
    ['a plain standard queue', {}],
  ])('every message fits SQS with its attributes: %s', async (_name, fairness) => {
    const config = testConfig({ payloads: { bucket: 'b', inlineLimitBytes: 2 * SQS_MAX_MESSAGE_BYTES } });
    config.queues.events = { url: 'u', fifo: false, ...fairness };
    const h = harness(config);
    // SQS counts the body and each attribute's name, data type ("String") and value.
    const attributeSize = (attributes: Readonly<Record<string, string>>) =>
      Object.entries(attributes).reduce(
        (sum, [name, value]) => sum + Buffer.byteLength(name) + 'String'.length + Buffer.byteLength(value),
        0,
      );
    const send = (id: string, size: number) =>
      handleWebhook(signedEvent(config, 'shopify', JSON.stringify('x'.repeat(size)), { id }), h.deps);
    expect((await send('probe', 0)).statusCode).toBe(202);
    const probe = h.sent.pop();
    const overhead = Buffer.byteLength(probe?.body ?? '');
    const { [MESSAGE_ATTRIBUTES.tenant]: _, ...untenanted } = probe?.attributes ?? {};
    // Bodies around the largest that fits inline without a tenant attribute.
    const edge = SQS_MAX_MESSAGE_BYTES - attributeSize(untenanted) - overhead;
    for (const delta of [-40, -1, 0, 1, 10]) {
      expect((await send(`near${delta}`, edge + delta)).statusCode).toBe(202);
    }
    for (const message of h.sent) {
      expect(Buffer.byteLength(message.body) + attributeSize(message.attributes)).toBeLessThanOrEqual(
        SQS_MAX_MESSAGE_BYTES,
      );
    }
    expect(h.payloads.length).toBeGreaterThan(0);
  });
  it('standard queue without tenants: no group id and no tenant attribute', async () => {
    const h = harness();
    await handleWebhook(signedEvent(h.deps.config, 'github', PUSH, { headers: ghHeaders }), h.deps);
    expect(h.sent[0]?.groupId).toBeUndefined();
    expect(h.sent[0]?.attributes['hookline.tenant']).toBeUndefined();
  });
  it('FIFO grouping by a request header', async () => {
    const config = testConfig();
    config.queues.orders = {
      url: 'u',
      fifo: true,
      grouping: { by: 'header', header: 'x-shopify-shop-domain' },
    };
    const h = harness(config);
    await handleWebhook(
      signedEvent(config, 'shopify', '{}', {
        headers: { 'x-shopify-topic': 'orders/create', 'x-shopify-shop-domain': 'shop-b.myshopify.com' },
      }),
      h.deps,
    );
    expect(h.sent[0]?.groupId).toBe('shop-b.myshopify.com');
  });
  it("a FIFO path reads a Twilio form's field: each phone number is its own group, a repeated field its last value", async () => {
    const config = testConfig();
    config.queues.orders = { url: 'u.fifo', fifo: true, grouping: { by: 'path', path: 'From' } };
    config.defaultRoute = { queues: ['orders'], ignore: false };
    const h = harness(config);
    const contentType = 'application/x-www-form-urlencoded; charset=utf-8';
    const sms = (sid: string, from: string) =>
      `MessageSid=${sid}&SmsStatus=received&From=${from}&To=%2B15550000`;
    for (const body of [
      sms('SM1', '%2B15551111'),
      sms('SM2', '%2B15552222'),
      `${sms('SM3', '%2B15553333')}&From=%2B15554444`,
      sms('SM4', ''),
    ]) {
      expect(
        (await handleWebhook(signedEvent(config, 'twilio', body, { contentType }), h.deps)).statusCode,
      ).toBe(200);
    }
    // An empty field names no group, like a missing one: the source's.
    expect(h.sent.map((m) => m.groupId)).toEqual(['+15551111', '+15552222', '+15554444', 'twilio']);
  });
  it("a fair queue's tenant path reads a Slack slash command's form field, and a Slack payload's JSON still", async () => {
    const config = testConfig();
    config.queues.events = { url: 'u', fifo: false, tenants: { slack: { by: 'path', path: 'team_id' } } };
    const h = harness(config);
    const form = 'application/x-www-form-urlencoded';
    const interactivity = `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', team_id: 'T_JSON' }))}`;
    for (const body of ['command=%2Fdeploy&team_id=T_FORM&user_id=U1', interactivity]) {
      expect(
        (await handleWebhook(signedEvent(config, 'slack', body, { contentType: form }), h.deps)).statusCode,
      ).toBe(200);
    }
    expect(h.sent.map((m) => m.attributes['hookline.tenant'])).toEqual(['T_FORM', 'T_JSON']);
  });
  it('a route to a queue missing from the config is a 503 (config error), logged', async () => {
    const h = harness(testConfig({ defaultRoute: { queues: ['ghost'], ignore: false } }));
    const response = await handleWebhook(
      signedEvent(h.deps.config, 'github', PUSH, { headers: ghHeaders }),
      h.deps,
    );
    expect(response.statusCode).toBe(503);
    expect(h.outcome()).toMatchObject({ reason: 'unknown_queue', queues: ['ghost'] });
    expect(h.logs.some((l) => l.level === 'error' && l.attributes.queue === 'ghost')).toBe(true);
  });
});

describe('Slack url_verification', () => {
  it('a signed handshake is answered with its challenge and not enqueued', async () => {
    const h = harness();
    const body = JSON.stringify({ type: 'url_verification', token: 't', challenge: 'abc123' });
    const response = await handleWebhook(signedEvent(h.deps.config, 'slack', body), h.deps);
    expect(response).toEqual({ statusCode: 200, headers: { 'content-type': 'text/plain' }, body: 'abc123' });
    expect(h.sent).toEqual([]);
    expect(h.outcome()).toMatchObject({ outcome: 'ignored', type: 'url_verification', queues: [] });
  });
  it.each([
    ['missing', { type: 'url_verification', token: 't' }],
    ['empty', { type: 'url_verification', token: 't', challenge: '' }],
    ['a number', { type: 'url_verification', token: 't', challenge: 123 }],
    ['an object', { type: 'url_verification', token: 't', challenge: { value: 'abc' } }],
  ])('a signed handshake whose challenge is %s is a 400 that enqueues nothing', async (_, json) => {
    const h = harness();
    const response = await handleWebhook(signedEvent(h.deps.config, 'slack', JSON.stringify(json)), h.deps);
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toEqual({ message: 'bad request' });
    expect(response.headers['x-slack-no-retry']).toBe('1');
    expect(h.sent).toEqual([]);
    expect(h.outcome()).toMatchObject({ outcome: 'rejected', status: 400, reason: 'malformed_body' });
  });
  it('an unsigned handshake is a 401', async () => {
    const h = harness();
    const body = JSON.stringify({ type: 'url_verification', challenge: 'abc123' });
    expect((await handleWebhook(apiEvent('slack', { body }), h.deps)).statusCode).toBe(401);
  });
});

describe('ids', () => {
  it('a sender id with unsafe characters is replaced by a stable hash', async () => {
    const h = harness();
    const id = 'weird id/ü';
    await handleWebhook(signedEvent(h.deps.config, 'github', PUSH, { id, headers: ghHeaders }), h.deps);
    await handleWebhook(signedEvent(h.deps.config, 'github', PUSH, { id, headers: ghHeaders }), h.deps);
    expect(h.sent).toHaveLength(1);
    expect(h.sent[0]?.attributes[MESSAGE_ATTRIBUTES.eventId]).toMatch(/^h_[0-9a-f]{64}$/);
  });
  it('events without a sender id get a fresh id each time (not deduplicated)', async () => {
    const h = harness();
    const event = signedEvent(h.deps.config, 'slack', 'command=%2Fx', {
      contentType: 'application/x-www-form-urlencoded',
    });
    await handleWebhook(event, h.deps);
    await handleWebhook(event, h.deps);
    expect(h.sent.map((m) => m.attributes[MESSAGE_ATTRIBUTES.eventId])).toEqual(['new-1', 'new-2']);
  });
});

describe('unexpected failures', () => {
  it('an exception inside a collaborator that should never throw -> 503, logged, no throw', async () => {
    const h = harness();
    const deps = {
      ...h.deps,
      newId: () => {
        throw new Error('boom');
      },
    };
    const event = signedEvent(h.deps.config, 'slack', 'command=%2Fx', {
      contentType: 'application/x-www-form-urlencoded',
    });
    const response = await handleWebhook(event, deps);
    expect(response.statusCode).toBe(503);
    expect(h.outcome()).toMatchObject({ outcome: 'failed', reason: 'internal_error' });
  });
  it('a throwing logger does not change the answer', async () => {
    const h = harness();
    const throwing = () => {
      throw new Error('log sink down');
    };
    const deps = { ...h.deps, log: { info: throwing, warn: throwing, error: throwing } };
    const response = await handleWebhook(
      signedEvent(h.deps.config, 'github', PUSH, { headers: ghHeaders }),
      deps,
    );
    expect(response.statusCode).toBe(202);
  });
});

describe('routes', () => {
  it('a route without a type (written *) takes every type of its source, dotted ones included', () => {
    const config = {
      routes: [{ source: 'stripe', type: '*', queues: ['audit'], ignore: false }],
      defaultRoute: { queues: ['events'], ignore: false },
    };
    for (const type of ['invoice', 'invoice.paid', 'invoice.payment.failed'])
      expect(selectRoute(config, 'stripe', type)).toMatchObject({ queues: ['audit'], rule: 0 });
  });

  it('an ignored route answers 202 with outcome ignored, claims nothing and sends nothing', async () => {
    const h = harness();
    const response = await handleWebhook(
      signedEvent(h.deps.config, 'github', '{}', { id: 'watch-1', headers: { 'x-github-event': 'watch' } }),
      h.deps,
    );
    expect(response.statusCode).toBe(202);
    expect(h.outcome()).toMatchObject({ outcome: 'ignored', type: 'watch', queues: [] });
    expect(h.sent).toEqual([]);
    expect(h.dedupe.records.size).toBe(0);
  });
});

describe('the level of the outcome line', () => {
  it('is INFO for a request queued, ignored or refused (4xx, the sender’s fault), ERROR for one answered 503', async () => {
    const h = harness();
    const levelOf = async (event: ReturnType<typeof apiEvent>) => {
      await handleWebhook(event, h.deps);
      const line = h.logs.filter((l) => l.message === 'webhook outcome').at(-1);
      return [line?.attributes.outcome, line?.attributes.status, line?.level];
    };
    const signed = (id: string, event = 'push') =>
      signedEvent(h.deps.config, 'github', PUSH, { id, headers: { 'x-github-event': event } });

    expect(await levelOf(signed('lvl-1'))).toEqual(['queued', 202, 'info']);
    expect(await levelOf(signed('lvl-1'))).toEqual(['duplicate', 202, 'info']);
    expect(await levelOf(signed('lvl-2', 'ping'))).toEqual(['ignored', 202, 'info']);
    expect(await levelOf(apiEvent('github', { body: PUSH, headers: ghHeaders }))).toEqual([
      'rejected',
      401,
      'info',
    ]);
    expect(await levelOf(apiEvent('nope', { body: PUSH }))).toEqual(['rejected', 404, 'info']);
    h.failingQueues.add('events');
    expect(await levelOf(signed('lvl-3'))).toEqual(['failed', 503, 'error']);
    expect(h.logs.filter((l) => l.message === 'webhook outcome')).toHaveLength(6);
  });
});
