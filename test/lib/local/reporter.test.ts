import { describe, expect, it } from 'vitest';
import { parseOutcomeLine, Reporter } from '../../../lib/local/reporter';
import { defaultDevSecret, localSecrets, secretEnvName } from '../../../lib/local/secrets';

const fixed = () => new Date('2026-11-25T16:45:01Z');

describe('parseOutcomeLine', () => {
  it('reads the ingest webhook outcome line', () => {
    const line = JSON.stringify({
      level: 'INFO',
      message: 'webhook outcome',
      outcome: 'queued',
      id: 'd1',
      source: 'github',
      type: 'push',
      queues: ['events', 'audit'],
      status: 202,
    });
    expect(parseOutcomeLine(line, 'ingest')).toEqual({
      event: 'queued',
      id: 'd1',
      source: 'github',
      type: 'push',
      queue: 'events,audit',
      status: 202,
      function: 'ingest',
    });
  });

  it('reads a consumer record outcome line', () => {
    const line = JSON.stringify({
      level: 'INFO',
      message: 'record outcome',
      outcome: 'retried',
      id: 'd1',
      source: 'stripe',
      type: 'invoice.paid',
      queue: 'events',
      attempt: 2,
      latencyMs: 12.5,
      reason: 'Error: x',
    });
    expect(parseOutcomeLine(line)).toEqual({
      event: 'retried',
      id: 'd1',
      source: 'stripe',
      type: 'invoice.paid',
      queue: 'events',
      attempt: 2,
      latencyMs: 12.5,
      reason: 'Error: x',
    });
  });

  it.each([
    'plain text',
    '{"message":"other","outcome":"x"}',
    '{"message":"record outcome"}',
    '{not json outcome',
  ])('ignores %s', (line) => {
    expect(parseOutcomeLine(line)).toBeUndefined();
  });
});

describe('Reporter', () => {
  it('writes one JSON object per line in JSON mode', () => {
    const lines: string[] = [];
    const reporter = new Reporter({ json: true, write: (l) => lines.push(l), now: fixed });
    reporter.event({
      event: 'processed',
      id: 'a',
      source: 'github',
      type: 'push',
      queue: 'events',
      latencyMs: 12,
    });
    reporter.info('hello');
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      { event: 'processed', id: 'a', source: 'github', type: 'push', queue: 'events', latencyMs: 12 },
      { event: 'info', message: 'hello' },
    ]);
  });

  it('writes a concise line for a person, without colour when not asked', () => {
    const lines: string[] = [];
    const reporter = new Reporter({ json: false, color: false, write: (l) => lines.push(l), now: fixed });
    reporter.event({
      event: 'processed',
      id: 'a',
      source: 'github',
      type: 'push',
      queue: 'events',
      attempt: 1,
      latencyMs: 12.4,
    });
    expect(lines).toEqual(['16:45:01 processed     github push id=a queue=events attempt=1 12ms']);
  });

  it('colours the event name on a TTY', () => {
    const lines: string[] = [];
    new Reporter({ json: false, color: true, write: (l) => lines.push(l), now: fixed }).event({
      event: 'dead-lettered',
      id: 'x',
    });
    expect(lines[0]).toContain('\u001b[31mdead-lettered');
  });

  it('shows other function lines only when verbose', () => {
    const quiet: string[] = [];
    new Reporter({ json: false, color: false, verbose: false, write: (l) => quiet.push(l) }).functionLog(
      'fn',
      'debug stuff',
    );
    const loud: string[] = [];
    new Reporter({ json: false, color: false, verbose: true, write: (l) => loud.push(l) }).functionLog(
      'fn',
      'debug stuff',
    );
    expect(quiet).toEqual([]);
    expect(loud).toEqual(['[fn] debug stuff']);
  });
});

describe('dev secrets', () => {
  it('names the variable from the source name', () => {
    expect(secretEnvName('github')).toBe('HOOKLINE_SECRET_GITHUB');
    expect(secretEnvName('billing-stripe')).toBe('HOOKLINE_SECRET_BILLING_STRIPE');
  });

  it('uses the variable when set, else the documented default (a valid whsec_ key for Standard Webhooks)', () => {
    const secrets = localSecrets(
      [
        { name: 'github', type: 'github' },
        { name: 'standard', type: 'standard-webhooks' },
        { name: 'open', type: 'unverified' },
      ],
      { HOOKLINE_SECRET_GITHUB: 'mine' },
    );
    expect(secrets).toEqual({
      github: { envName: 'HOOKLINE_SECRET_GITHUB', value: 'mine', isDefault: false },
      standard: {
        envName: 'HOOKLINE_SECRET_STANDARD',
        value: 'whsec_ZGV2LXNlY3JldC1zdGFuZGFyZA==',
        isDefault: true,
      },
    });
    expect(defaultDevSecret({ name: 'stripe', type: 'stripe' })).toBe('dev-secret-stripe');
    expect(Buffer.from(secrets.standard?.value.slice(6) ?? '', 'base64').toString()).toBe(
      'dev-secret-standard',
    );
  });
});
