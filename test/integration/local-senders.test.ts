/**
 * Sender verification through local mode over real HTTP: the emulated API, the real ingest bundle and the
 * emulators, with each source's secret from the environment as `npm start` reads it.
 */
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWebhook } from '../../lambda/shared/webhook-signing';
import { localSqsClient } from '../../lib/local/clients';
import { sourceRuntimeConfig } from '../../lib/runtime-wiring';
import { freePort } from '../helpers/free-port';
import { startTestPipeline, type TestPipeline, testConfig } from '../helpers/local/pipeline';

const TWILIO_TOKEN = 'local-twilio-token';
const SLACK_SECRET = 'local-slack-signing-secret';
const FORM = 'application/x-www-form-urlencoded';

describe('local mode: sender verification over HTTP', () => {
  let pipeline: TestPipeline;

  beforeAll(async () => {
    pipeline = await startTestPipeline(
      testConfig(
        // Inbound texts, read by no consumer, stay in their FIFO queue to show their groups.
        { events: {}, texts: { fifo: true, fifoGrouping: { path: 'From' } } },
        {
          sources: {
            sms: { type: 'twilio', publicUrl: 'https://hooks.example.com' },
            chat: { type: 'slack' },
            hub: { type: 'github' },
            open: { type: 'unverified', dangerouslyAcceptUnverifiedRequests: true, typeHeader: 'x-event' },
          },
          routes: [{ source: 'sms', type: 'message.received', queues: ['texts'] }],
        },
      ),
      {
        env: {
          HOOKLINE_SECRET_SMS: TWILIO_TOKEN,
          HOOKLINE_SECRET_CHAT: SLACK_SECRET,
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
    // Twilio reads the answer as TwiML: empty TwiML, the id in a header, passed through as API Gateway does.
    expect(withPort.status).toBe(200);
    expect(withPort.headers.get('content-type')).toBe('text/xml');
    expect(withPort.headers.get('x-hookline-id')).toBe('SMlocal443:delivered');
    expect(await withPort.text()).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
    expect(await outcomeOf('sms', 1)).toMatchObject({ event: 'queued', type: 'message.delivered' });

    const otherPort = await post('sms', body, {
      'content-type': FORM,
      ...signedFor('https://hooks.example.com:8443/webhooks/sms'),
    });
    expect(otherPort.status).toBe(401);
    expect(await otherPort.json()).toEqual({ message: 'unauthorized' });
    expect(await outcomeOf('sms', 2)).toMatchObject({ event: 'rejected', reason: 'bad_signature' });
  });

  it("Twilio: a signed inbound text lands in the FIFO group of its form's From number, not the source's", async () => {
    const sms = pipeline.config.sources.find((s) => s.name === 'sms');
    if (!sms) throw new Error('no sms source');
    const runtime = sourceRuntimeConfig(sms, 'env:HOOKLINE_SECRET_SMS');
    const url = 'https://hooks.example.com/webhooks/sms';
    for (const [sid, from] of [
      ['SMtext1', '+15551111'],
      ['SMtext2', '+15552222'],
    ] as const) {
      const body = new URLSearchParams({
        MessageSid: sid,
        SmsStatus: 'received',
        From: from,
        To: '+15550000',
      });
      const text = body.toString();
      const answer = await post('sms', text, {
        'content-type': FORM,
        ...signWebhook(runtime, TWILIO_TOKEN, text, { url }),
      });
      expect(answer.status).toBe(200);
    }

    const sqs = localSqsClient(pipeline.local.emulators);
    const queueUrl = pipeline.local.topology.resources.queueUrls.texts ?? '';
    const groups: Record<string, string | undefined> = {};
    // Each message read is deleted, so the next receive can hand out a group held by one just read.
    for (let tries = 0; Object.keys(groups).length < 2 && tries < 10; tries++) {
      const answer = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          MessageSystemAttributeNames: ['MessageGroupId'],
          WaitTimeSeconds: 1,
        }),
      );
      for (const message of answer.Messages ?? []) {
        groups[JSON.parse(message.Body ?? '{}').id] = message.Attributes?.MessageGroupId;
        await sqs.send(
          new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
        );
      }
    }
    expect(groups).toEqual({ 'SMtext1:received': '+15551111', 'SMtext2:received': '+15552222' });
  });

  it('Slack: a signed url_verification is answered with its challenge; one without a string challenge is a 400 that queues nothing', async () => {
    const chat = pipeline.config.sources.find((s) => s.name === 'chat');
    if (!chat) throw new Error('no chat source');
    const runtime = sourceRuntimeConfig(chat, 'env:HOOKLINE_SECRET_CHAT');
    const handshake = (json: unknown) => {
      const body = JSON.stringify(json);
      return post('chat', body, {
        'content-type': 'application/json',
        ...signWebhook(runtime, SLACK_SECRET, body),
      });
    };

    const answered = await handshake({ type: 'url_verification', token: 't', challenge: 'ch-local' });
    expect(answered.status).toBe(200);
    expect(await answered.text()).toBe('ch-local');
    expect(await outcomeOf('chat', 1)).toMatchObject({ event: 'ignored', type: 'url_verification' });

    const withoutChallenge = await handshake({ type: 'url_verification', token: 't' });
    expect(withoutChallenge.status).toBe(400);
    expect(withoutChallenge.headers.get('x-slack-no-retry')).toBe('1');
    expect(await withoutChallenge.json()).toEqual({ message: 'bad request' });
    expect(await outcomeOf('chat', 2)).toMatchObject({ event: 'rejected', reason: 'malformed_body' });

    const numberChallenge = await handshake({ type: 'url_verification', token: 't', challenge: 42 });
    expect(numberChallenge.status).toBe(400);
    expect(await outcomeOf('chat', 3)).toMatchObject({ event: 'rejected', reason: 'malformed_body' });

    // Slack sends every event as an object: signed JSON that is none is refused, not queued for a handler.
    const notAnObject = await handshake([{ type: 'event_callback', event: { type: 'app_mention' } }]);
    expect(notAnObject.status).toBe(400);
    expect(notAnObject.headers.get('x-slack-no-retry')).toBe('1');
    expect(await notAnObject.json()).toEqual({ message: 'bad request' });
    expect(await outcomeOf('chat', 4)).toMatchObject({ event: 'rejected', reason: 'malformed_body' });
    expect(pipeline.events.filter((e) => e.source === 'chat' && e.event === 'queued')).toEqual([]);
  });

  it("Slack: a signed slash command is acknowledged with an empty 200 and queued; Slack's ssl_check gets a 200, queued nowhere", async () => {
    const chat = pipeline.config.sources.find((s) => s.name === 'chat');
    if (!chat) throw new Error('no chat source');
    const runtime = sourceRuntimeConfig(chat, 'env:HOOKLINE_SECRET_CHAT');
    const before = pipeline.events.filter((e) => e.function !== undefined && e.source === 'chat').length;
    const body = 'command=%2Fdeploy&text=staging&team_id=T1';
    const command = await post('chat', body, {
      'content-type': FORM,
      ...signWebhook(runtime, SLACK_SECRET, body),
    });
    expect(command.status).toBe(200);
    expect(await command.text()).toBe('');
    const queued = await outcomeOf('chat', before + 1);
    expect(queued).toMatchObject({ event: 'queued', type: 'slash_command' });
    expect(command.headers.get('x-hookline-id')).toBe(queued?.id);

    const check = await post('chat', 'ssl_check=1&token=legacy', { 'content-type': FORM });
    expect(check.status).toBe(200);
    expect(await check.text()).toBe('');
    expect(await outcomeOf('chat', before + 2)).toMatchObject({ event: 'ignored', type: 'probe' });
  });

  it('Slack: a signed interactivity post is acknowledged with an empty 200 carrying its id, and queued', async () => {
    const chat = pipeline.config.sources.find((s) => s.name === 'chat');
    if (!chat) throw new Error('no chat source');
    const runtime = sourceRuntimeConfig(chat, 'env:HOOKLINE_SECRET_CHAT');
    const before = pipeline.events.filter((e) => e.function !== undefined && e.source === 'chat').length;
    const body = new URLSearchParams({
      payload: JSON.stringify({ type: 'block_actions', team: { id: 'T1' }, actions: [] }),
    }).toString();
    const answer = await post('chat', body, {
      'content-type': FORM,
      ...signWebhook(runtime, SLACK_SECRET, body),
    });
    expect(answer.status).toBe(200);
    expect(await answer.text()).toBe('');
    const queued = await outcomeOf('chat', before + 1);
    expect(queued).toMatchObject({ event: 'queued', type: 'block_actions' });
    expect(answer.headers.get('x-hookline-id')).toBe(queued?.id);
  });

  it('GitHub: a signed ping is answered 202 with its delivery id and queued nowhere', async () => {
    const response = await pipeline.post(
      'hub',
      { zen: 'Keep it logically awesome.', hook_id: 1 },
      { 'x-github-event': 'ping', 'x-github-delivery': 'ping-local-1' },
    );
    expect(response.status).toBe(202);
    expect(JSON.parse(response.text)).toEqual({ id: 'ping-local-1' });
    expect(await outcomeOf('hub', 1)).toMatchObject({ event: 'ignored', type: 'ping', id: 'ping-local-1' });
    // The default route's queue holds the Slack requests queued above, and no ping.
    const held = await localSqsClient(pipeline.local.emulators).send(
      new ReceiveMessageCommand({
        QueueUrl: pipeline.local.topology.resources.queueUrls.events ?? '',
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 0,
        WaitTimeSeconds: 0,
      }),
    );
    const sources = (held.Messages ?? []).map((m) => JSON.parse(m.Body ?? '{}').source);
    expect(sources).toContain('chat');
    expect(sources).not.toContain('hub');
  });

  it('an unverified source is accepted and named as such in what local mode reports', async () => {
    const response = await post('open', 'anything', { 'content-type': 'text/plain', 'x-event': 'ping' });
    expect(response.status).toBe(202);
    expect(await outcomeOf('open', 1)).toMatchObject({ event: 'queued', type: 'ping', verified: false });
  });
});

describe('local mode: signing secrets from the environment', () => {
  it('refuses to start with secrets that could verify nothing, naming every variable and the fix at once', async () => {
    // A port of its own, so that what listens there afterwards can only be what this start left behind.
    const port = await freePort();
    const start = startTestPipeline(
      testConfig(
        { events: {} },
        {
          sources: {
            standard: { type: 'standard-webhooks' },
            keyvalue: { type: 'github' },
            blank: { type: 'github' },
            padded: { type: 'github' },
            rotating: { type: 'github' },
          },
        },
      ),
      {
        port,
        env: {
          // A whsec_ key with no bytes after the prefix, a Secrets Manager style key/value secret, a key anyone
          // can sign with, and one pasted with a trailing space: every webhook of these sources would be a 503.
          HOOKLINE_SECRET_STANDARD: 'whsec_',
          HOOKLINE_SECRET_KEYVALUE: '{"webhookSecret":"kv-secret"}',
          HOOKLINE_SECRET_BLANK: ' ',
          HOOKLINE_SECRET_PADDED: 'secret ',
          // The rotation form is read as the ingest reads it: fine.
          HOOKLINE_SECRET_ROTATING: '{"secrets":["new","old"]}',
        },
      },
    );
    const error = await start.then(
      (pipeline) => pipeline.stop().then(() => undefined),
      (e: unknown) => e as Error,
    );
    expect(error?.name).toBe('LocalStartProblem');
    const lines = (error?.message ?? '').split('\n');
    expect(lines[0]).toBe('unusable signing secrets in the environment:');
    expect(lines.filter((l) => l.startsWith('  - ')).map((l) => l.split(' ')[3])).toEqual([
      'HOOKLINE_SECRET_STANDARD',
      'HOOKLINE_SECRET_KEYVALUE',
      'HOOKLINE_SECRET_BLANK',
      'HOOKLINE_SECRET_PADDED',
    ]);
    expect(error?.message).toContain('no key bytes');
    expect(error?.message).toContain('without a "secrets" list');
    expect(error?.message).toMatch(/\nFix: set each to the secret exactly as the sender shows it/);
    // Nothing was left listening.
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
  });
});
