import { describe, expect, it } from 'vitest';
import { envelopeGroupingInput, handleWebhook, messageGroupOf } from '../../../lambda/ingest/core';
import { type ArchiveRecord, parseArchiveLines } from '../../../lambda/shared/archive';
import { parseEnvelope, type WebhookEnvelope } from '../../../lambda/shared/envelope';
import { harness, signedEvent, testConfig } from './fakes';

const PUSH = JSON.stringify({ ref: 'refs/heads/main', commits: [] });
const ghHeaders = { 'x-github-event': 'push' };

/** A harness whose archive records every line, and can fail or hold its puts. */
function archiving(options: { fail?: boolean; hold?: Promise<void> } = {}) {
  const h = harness(testConfig({ archive: { deliveryStream: 'Hookline-archive' } }));
  const lines: Buffer[] = [];
  let sentWhenArchiveStarted = -1;
  const deps = {
    ...h.deps,
    archive: {
      async put(line: Buffer) {
        sentWhenArchiveStarted = h.sent.length;
        await options.hold;
        if (options.fail) throw new Error('ServiceUnavailableException');
        lines.push(line);
      },
    },
  };
  const records = (): ArchiveRecord[] => parseArchiveLines(Buffer.concat(lines).toString('utf8')).records;
  return { h, deps, records, startedBeforeSendFinished: () => sentWhenArchiveStarted === 0 };
}

describe('archiving accepted events', () => {
  it('archives the envelope as queued (raw body, kept headers, no signature) with its queues', async () => {
    const a = archiving();
    const event = signedEvent(a.h.deps.config, 'github', PUSH, { id: 'd-1', headers: ghHeaders });
    const response = await handleWebhook(event, a.deps);
    expect(response.statusCode).toBe(202);
    const [record] = a.records();
    expect(record).toMatchObject({ source: 'github', origin: 'webhook', queues: ['events'] });
    expect(record?.envelope).toEqual(parseEnvelope(a.h.sent[0]?.body ?? ''));
    expect(record?.envelope.body).toBe(PUSH);
    expect(Object.keys(record?.envelope.headers ?? {})).not.toContain('x-hub-signature-256');
    expect(JSON.stringify(record)).not.toContain('sha256=');
  });

  it('puts the record beside the enqueue, not after it', async () => {
    let release: () => void = () => {};
    const hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    const a = archiving({ hold });
    const answer = handleWebhook(
      signedEvent(a.h.deps.config, 'github', PUSH, { id: 'd-2', headers: ghHeaders }),
      a.deps,
    );
    await new Promise((r) => setTimeout(r, 10));
    expect(a.startedBeforeSendFinished()).toBe(true);
    release();
    expect((await answer).statusCode).toBe(202);
  });

  it.each([1_010_000, 1_022_000, 1_026_000, 1_031_000])(
    'archives a %i-byte body that fits SQS inline (the default inline limit) but not a delivery stream record',
    async (padding) => {
      const a = archiving();
      const body = JSON.stringify({ ref: 'refs/heads/main', pad: 'P'.repeat(padding) });
      const event = signedEvent(a.h.deps.config, 'github', body, { id: 'd-big', headers: ghHeaders });
      expect((await handleWebhook(event, a.deps)).statusCode).toBe(202);
      expect(a.h.metrics.map((m) => m.name)).not.toContain('ArchiveFailed');
      const [record] = a.records();
      expect(record?.envelope).toEqual(parseEnvelope(a.h.sent[0]?.body ?? ''));
      const stored = record?.envelope.payloadRef ? a.h.payloads[0]?.body.toString() : record?.envelope.body;
      expect(stored).toBe(body);
    },
  );

  it('still answers 202 when the archive fails (the event is durable in SQS), counted and logged', async () => {
    const a = archiving({ fail: true });
    const response = await handleWebhook(
      signedEvent(a.h.deps.config, 'github', PUSH, { id: 'd-3', headers: ghHeaders }),
      a.deps,
    );
    expect(response.statusCode).toBe(202);
    expect(a.h.sent).toHaveLength(1);
    expect(a.h.metrics.map((m) => m.name)).toContain('ArchiveFailed');
    expect(a.h.logs.find((l) => l.message === 'archive put failed')?.attributes).toMatchObject({ id: 'd-3' });
  });

  it('archives a delivery whose enqueue failed too (the put runs beside the send), and its retry once more under the same id', async () => {
    const a = archiving();
    const event = signedEvent(a.h.deps.config, 'github', PUSH, { id: 'd-5', headers: ghHeaders });
    a.h.failingQueues.add('events');
    expect((await handleWebhook(event, a.deps)).statusCode).toBe(503);
    a.h.failingQueues.clear();
    expect((await handleWebhook(event, a.deps)).statusCode).toBe(202);
    expect(a.h.sent).toHaveLength(1);
    expect(a.records().map((r) => r.envelope.id)).toEqual(['d-5', 'd-5']);
  });

  it('archives nothing for a rejected, ignored or duplicate delivery', async () => {
    const a = archiving();
    const event = signedEvent(a.h.deps.config, 'github', PUSH, { id: 'd-4', headers: ghHeaders });
    await handleWebhook(event, a.deps);
    await handleWebhook(event, a.deps);
    const bad = { ...event, headers: { ...event.headers, 'x-hub-signature-256': 'sha256=00' } };
    expect((await handleWebhook(bad, a.deps)).statusCode).toBe(401);
    expect(a.records().map((r) => r.envelope.id)).toEqual(['d-4']);
  });
});

describe('an archived envelope read for its group', () => {
  const form = 'application/x-www-form-urlencoded';
  const requests = [
    {
      name: 'a Slack interactivity post (JSON in its form field payload)',
      source: 'slack',
      contentType: form,
      body: new URLSearchParams({
        payload: JSON.stringify({ type: 'block_actions', user: { id: 'U0042' } }),
      }).toString(),
      group: 'U0042',
    },
    {
      name: 'a Slack slash command (a form without payload: no JSON)',
      source: 'slack',
      contentType: form,
      body: new URLSearchParams({ command: '/deploy', user_id: 'U0042' }).toString(),
      group: 'slack',
    },
    {
      name: "GitHub's form setting (JSON in payload)",
      source: 'github',
      contentType: form,
      body: new URLSearchParams({ payload: JSON.stringify({ sender: { login: 'octocat' } }) }).toString(),
      group: 'octocat',
    },
    {
      name: 'a JSON body kept in base64 (no textual content type)',
      source: 'generic',
      contentType: 'application/octet-stream',
      body: Buffer.from(JSON.stringify({ id: 'g-1', type: 'order.created', customer: { id: 'c-42' } })),
      group: 'c-42',
    },
    {
      name: 'JSON after a byte order mark',
      source: 'shopify',
      contentType: 'application/json',
      body: '\ufeff{"shop":"shop-7"}',
      group: 'shop-7',
    },
    {
      name: 'a 64-bit id written as a JSON number',
      source: 'shopify',
      contentType: 'application/json',
      body: '{"shop":9007199254740993}',
      group: '9007199254740993',
    },
    {
      name: 'a Twilio form post, by its field',
      source: 'twilio',
      contentType: form,
      body: new URLSearchParams({
        MessageSid: 'SM1',
        MessageStatus: 'sent',
        From: '+15005550006',
      }).toString(),
      group: '+15005550006',
    },
  ];

  it.each(requests)(
    'finds the tenant the ingest gave $name',
    async ({ source, contentType, body, group }) => {
      // GIVEN a fair queue whose tenant is a path into each source's JSON or form
      const a = archiving();
      const tenants = {
        slack: { by: 'path', path: 'user.id' },
        github: { by: 'path', path: 'sender.login' },
        generic: { by: 'path', path: 'customer.id' },
        shopify: { by: 'path', path: 'shop' },
        twilio: { by: 'path', path: 'From' },
      } as const;
      const config = {
        ...a.deps.config,
        queues: { events: { url: 'http://sqs.local/events', fifo: false, tenants } },
      };
      const deps = { ...a.deps, config };
      const event = signedEvent(config, source, body, {
        contentType,
        id: 'd-9',
        headers: { 'x-github-event': 'push' },
      });

      // WHEN the ingest accepts it, and its archive record is read back for its group
      expect((await handleWebhook(event, deps)).statusCode).toBeOneOf([200, 202]);
      const [record] = a.records();
      const envelope = record?.envelope as WebhookEnvelope;
      const input = envelopeGroupingInput(config.sources[source], envelope);
      const replayed = input && messageGroupOf(config.queues.events, input);

      // THEN it is the tenant the ingest sent it with
      const sent = a.h.sent[0];
      expect([sent?.groupId, sent?.attributes['hookline.tenant']]).toEqual([group, group]);
      expect(replayed).toEqual({ groupId: group, tenant: group });
    },
  );
});
