/** The jobs endpoint's answers for what local mode cannot easily provoke: server faults, FIFO misuse, size. */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createSecretLoader } from '../../../lambda/ingest/secrets';
import {
  handleJobRequest,
  type JobsEndpointCollaborators,
  parseJobRequest,
  RETRY_AFTER_SECONDS,
} from '../../../lambda/jobs-endpoint/core';
import {
  type BatchEntry,
  Producer,
  type ProducerCollaborators,
  ProducerConfigError,
  type SendOptions,
} from '../../../lambda/producer/producer';
import {
  JOBS_ENDPOINT_OUTCOME_MESSAGE,
  JOBS_ENDPOINT_REJECTED_MESSAGE,
  OUTCOME_MESSAGES,
} from '../../../lambda/shared/contracts';
import { defineJob, type JobDefinition, validateJobPayload } from '../../../lambda/shared/job';
import { jobRetryOf } from '../../../lambda/shared/job-retry';
import { MAX_WEBHOOK_BODY_BYTES } from '../../../lambda/shared/request-limits';

const TOKEN = 'the-token';

function event(body: string, token = TOKEN): APIGatewayProxyEventV2 {
  return {
    rawPath: '/jobs/jobs',
    pathParameters: { queue: 'jobs' },
    headers: { authorization: `Bearer ${token}` },
    body,
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEventV2;
}

function deps(overrides: Partial<JobsEndpointCollaborators> = {}): JobsEndpointCollaborators {
  return {
    queues: new Set(['jobs']),
    tokenSecretId: 'secret',
    loadTokens: async () => ['old-token', TOKEN],
    send: async (_job, _payload, options) => ({ id: options.id ?? 'new', state: 'queued', duplicate: false }),
    log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    // Without a Lambda context a request has no deadline, so nothing is watched.
    deadlines: { watch: () => () => undefined },
    ...overrides,
  };
}

const job = JSON.stringify({ type: 'math.double', payload: { n: 1 }, id: 'a' });

/** A log whose INFO lines go to `info`, and whose other lines go nowhere. */
const infoLog = (info: (message: string, attributes: object) => unknown) => ({
  info,
  warn: () => undefined,
  error: () => undefined,
});

/** The real producer core, with an SQS that takes every entry into `sent`; `more` adds or replaces collaborators. */
function realProducer(sent: BatchEntry[] = [], more: Partial<ProducerCollaborators> = {}) {
  return new Producer({
    queues: { jobs: { name: 'jobs', url: 'https://sqs/jobs', fifo: false } },
    settings: {},
    retry: { attempts: 1, baseDelayMs: 1 },
    now: () => Date.parse('2026-11-30T00:00:00Z'),
    sleep: async () => {},
    async sendBatch(_url, entries) {
      sent.push(...entries);
      return [];
    },
    async putPayload() {},
    ...more,
  });
}

/** The endpoint sending through `producer`; `overrides` replaces its other collaborators. */
const endpointOver = (producer: Producer, overrides: Partial<JobsEndpointCollaborators> = {}) =>
  deps({ send: (j, payload, options) => producer.send(j, payload, options), ...overrides });

/** The endpoint in front of the real producer core, whose SQS takes every entry into `sent`. */
const producing = (sent: BatchEntry[] = []) => endpointOver(realProducer(sent));

describe('jobs endpoint answers', () => {
  it('accepts any of the active tokens while rotating', async () => {
    const answer = await handleJobRequest(event(job, 'old-token'), deps());
    expect(answer.statusCode).toBe(202);
    expect(JSON.parse(answer.body)).toEqual({ id: 'a', state: 'queued' });
  });

  it("logs one outcome line per job it accepted, which trace and local mode read as the job's reception", async () => {
    const lines: [string, object][] = [];
    const log = infoLog((m, a) => lines.push([m, a]));
    const dueAt = '2026-11-30T11:00:00.000Z';
    await handleJobRequest(
      event(job),
      deps({ log, send: async () => ({ id: 'a', state: 'scheduled', duplicate: false, dueAt }) }),
    );
    await handleJobRequest(
      event(job),
      deps({ log, send: async () => ({ id: 'a', state: 'completed', duplicate: true }) }),
    );
    expect(lines).toEqual([
      [
        JOBS_ENDPOINT_OUTCOME_MESSAGE,
        {
          outcome: 'scheduled',
          id: 'a',
          source: 'job',
          type: 'math.double',
          queue: 'jobs',
          state: 'scheduled',
          status: 202,
          dueAt,
        },
      ],
      [
        JOBS_ENDPOINT_OUTCOME_MESSAGE,
        {
          outcome: 'duplicate',
          id: 'a',
          source: 'job',
          type: 'math.double',
          queue: 'jobs',
          state: 'completed',
          status: 202,
        },
      ],
    ]);
    expect(OUTCOME_MESSAGES).toContain(JOBS_ENDPOINT_OUTCOME_MESSAGE);
  });

  it('answers 503 with Retry-After when the tokens cannot be loaded, never an unauthenticated pass', async () => {
    let sent = false;
    const answer = await handleJobRequest(
      event(job),
      deps({
        loadTokens: async () => {
          throw new Error('Secrets Manager down');
        },
        send: async () => {
          sent = true;
          return { id: 'a', state: 'queued', duplicate: false };
        },
      }),
    );
    expect(answer.statusCode).toBe(503);
    expect(answer.headers['retry-after']).toBeDefined();
    expect(sent).toBe(false);
  });

  it('logs why the stored tokens cannot be used, never their value, when the secret is a key/value object', async () => {
    const errors: [string, object][] = [];
    const loadTokens = createSecretLoader({
      cacheSeconds: 300,
      fetchSecretString: async () => '{"token":"kv-s3cr3t"}',
    });
    const answer = await handleJobRequest(
      event(job),
      deps({
        loadTokens,
        log: { info: () => undefined, warn: () => undefined, error: (m, a) => errors.push([m, a]) },
      }),
    );
    expect(answer.statusCode).toBe(503);
    expect(errors).toEqual([
      [
        'jobs endpoint token unavailable',
        expect.objectContaining({
          secretId: 'secret',
          cause: expect.stringContaining('without a "secrets" list'),
        }),
      ],
    ]);
    expect(JSON.stringify(errors)).not.toContain('kv-s3cr3t');
  });

  it('answers 503 with Retry-After when the job could not be enqueued', async () => {
    const answer = await handleJobRequest(
      event(job),
      deps({
        send: async () => {
          throw new Error('dedupe table unavailable: timeout');
        },
      }),
    );
    expect(answer.statusCode).toBe(503);
    expect(answer.headers['retry-after']).toBeDefined();
  });

  it('logs why a job could not be enqueued on the line local mode shows, as the ingest does for a webhook', async () => {
    const errors: [string, object][] = [];
    await handleJobRequest(
      event(job),
      deps({
        send: async () => {
          throw new Error('NoSuchBucket: The specified bucket does not exist');
        },
        log: { info: () => undefined, warn: () => undefined, error: (m, a) => errors.push([m, a]) },
      }),
    );
    expect(errors).toEqual([
      [
        'job rejected',
        {
          outcome: 'failed',
          id: 'a',
          source: 'job',
          type: 'math.double',
          queue: 'jobs',
          status: 503,
          reason: 'enqueue failed: Error: NoSuchBucket: The specified bucket does not exist',
        },
      ],
    ]);
  });

  it('answers 400 for what the caller must change (a delay on a FIFO queue)', async () => {
    const answer = await handleJobRequest(
      event(job),
      deps({
        send: async () => {
          throw new ProducerConfigError('queue "jobs" is FIFO, and SQS cannot delay a single FIFO message');
        },
      }),
    );
    expect(answer.statusCode).toBe(400);
    expect(JSON.parse(answer.body)).toEqual({ message: 'bad request' });
  });

  it('accepts a job request whose JSON follows a UTF-8 byte order mark', async () => {
    const answer = await handleJobRequest(event(`\uFEFF${job}`), deps());
    expect(answer.statusCode).toBe(202);
    expect(JSON.parse(answer.body)).toEqual({ id: 'a', state: 'queued' });
  });

  it('answers 413 for a body larger than a webhook may be', async () => {
    const big = JSON.stringify({ type: 'math.double', payload: 'x'.repeat(MAX_WEBHOOK_BODY_BYTES) });
    expect((await handleJobRequest(event(big), deps())).statusCode).toBe(413);
  });
});

/** A request with the given headers and path (no path parameters unless given). */
function raw(fields: Partial<APIGatewayProxyEventV2>): APIGatewayProxyEventV2 {
  return { ...event(job), ...fields } as APIGatewayProxyEventV2;
}

/** Deps whose send records what the endpoint asked for, validating the payload with the job's schema as the producer does. */
function recording() {
  const sends: { job: JobDefinition; payload: unknown; options: SendOptions }[] = [];
  const d = deps({
    send: async (j, payload, options) => {
      await validateJobPayload(j, payload);
      sends.push({ job: j, payload, options });
      return { id: options.id ?? 'new', state: 'queued', duplicate: false };
    },
  });
  return { deps: d, sends };
}

describe('jobs endpoint authentication', () => {
  it('answers 401 with a Bearer challenge, and sends nothing, without a token or with a wrong one', async () => {
    const { deps: d, sends } = recording();
    for (const headers of [
      {},
      { authorization: 'Bearer wrong-token' },
      { authorization: `Basic ${TOKEN}` },
      { authorization: `Basic Bearer ${TOKEN}` },
      { authorization: `Bearer ${TOKEN} extra` },
      { authorization: 'Bearer' },
    ]) {
      const answer = await handleJobRequest(raw({ headers }), d);
      expect({ headers, status: answer.statusCode, challenge: answer.headers['www-authenticate'] }).toEqual({
        headers,
        status: 401,
        challenge: 'Bearer',
      });
      expect(JSON.parse(answer.body)).toEqual({ message: 'unauthorized' });
    }
    expect(sends).toEqual([]);
  });

  it('never lets an empty token in the secret admit a wrong token', async () => {
    const { deps: base, sends } = recording();
    const answer = await handleJobRequest(raw({ headers: { authorization: 'Bearer wrong-token' } }), {
      ...base,
      loadTokens: async () => ['', TOKEN],
    });
    expect(answer.statusCode).toBe(401);
    expect(sends).toEqual([]);
  });

  it('answers every caller 503, with or without a token, and logs the secret to fix, when a stored token holds whitespace', async () => {
    const errors: [string, object][] = [];
    const { deps: base, sends } = recording();
    const d = {
      ...base,
      loadTokens: async () => [`${TOKEN}\n`],
      log: { ...base.log, error: (m: string, a: object) => errors.push([m, a]) },
    };
    for (const headers of [
      { authorization: `Bearer ${TOKEN}` },
      { authorization: 'Bearer wrong-token' },
      {},
    ]) {
      const answer = await handleJobRequest(raw({ headers }), d);
      expect({ headers, status: answer.statusCode }).toEqual({ headers, status: 503 });
      expect(answer.headers['retry-after']).toBeDefined();
    }
    expect(sends).toEqual([]);
    expect(errors).toHaveLength(3);
    expect(errors[0]).toEqual([
      'jobs endpoint token unusable',
      expect.objectContaining({
        secretId: 'secret',
        unusable: 1,
        fix: expect.stringContaining('without whitespace'),
      }),
    ]);
    expect(JSON.stringify(errors)).not.toContain(TOKEN);
  });

  it('still admits the usable token of a rotation list whose other token holds whitespace', async () => {
    const { deps: base, sends } = recording();
    const answer = await handleJobRequest(event(job), {
      ...base,
      loadTokens: async () => [TOKEN, 'old token'],
    });
    expect(answer.statusCode).toBe(202);
    expect(sends).toHaveLength(1);
  });

  it('accepts the scheme in any case, any spaces after it, trailing spaces and the capitalised header', async () => {
    const { deps: d, sends } = recording();
    for (const headers of [
      { authorization: `bearer ${TOKEN}` },
      { authorization: `Bearer   ${TOKEN}` },
      { authorization: `Bearer ${TOKEN}  ` },
      { Authorization: `Bearer ${TOKEN}` },
    ]) {
      expect({ headers, status: (await handleJobRequest(raw({ headers }), d)).statusCode }).toEqual({
        headers,
        status: 202,
      });
    }
    expect(sends).toHaveLength(4);
  });
});

describe('jobs endpoint routing and request shape', () => {
  it('answers 404 for a queue it does not serve, and for a path naming none', async () => {
    const { deps: d, sends } = recording();
    const other = await handleJobRequest(
      raw({ pathParameters: { queue: 'billing' }, rawPath: '/jobs/billing' }),
      d,
    );
    expect([other.statusCode, JSON.parse(other.body)]).toEqual([404, { message: 'not found' }]);
    const none = await handleJobRequest(raw({ pathParameters: undefined, rawPath: '/jobs/' }), d);
    expect(none.statusCode).toBe(404);
    expect(sends).toEqual([]);
  });

  it('takes the queue from the raw path, percent-decoded, when the route passes no parameters', async () => {
    const { deps: base, sends } = recording();
    const d = { ...base, queues: new Set(['jobs', 'a b']) };
    expect(
      (await handleJobRequest(raw({ pathParameters: undefined, rawPath: '/jobs/a%20b/' }), d)).statusCode,
    ).toBe(202);
    expect(sends.map((s) => s.job.queue)).toEqual(['a b']);
    expect(
      (await handleJobRequest(raw({ pathParameters: undefined, rawPath: '/jobs/%E0%A4%A' }), d)).statusCode,
    ).toBe(404);
  });

  it('answers 400 for a body that is not a job request, and sends nothing', async () => {
    const { deps: d, sends } = recording();
    const bodies = [
      '{"type":',
      'null',
      '[]',
      '"text"',
      JSON.stringify({ type: 'math.double' }),
      JSON.stringify({ payload: {} }),
      JSON.stringify({ type: 7, payload: {} }),
      JSON.stringify({ type: 'math.double', payload: {}, extra: 1 }),
      JSON.stringify({ type: 'math.double', payload: {}, id: 7 }),
      JSON.stringify({ type: 'math.double', payload: {}, group: 7 }),
      JSON.stringify({ type: 'math.double', payload: {}, tenant: 7 }),
      JSON.stringify({ type: 'math.double', payload: {}, delay: -1 }),
      JSON.stringify({ type: 'math.double', payload: {}, delay: 'soon' }),
      JSON.stringify({ type: 'math.double', payload: {}, delay: '2026-13-45T00:00:00Z' }),
      JSON.stringify({ type: 'math.double', payload: {}, delay: true }),
      JSON.stringify({ type: 'bad type!', payload: {} }),
    ];
    for (const body of bodies) {
      const answer = await handleJobRequest(event(body), d);
      expect({ body, status: answer.statusCode, json: JSON.parse(answer.body) }).toEqual({
        body,
        status: 400,
        json: { message: 'bad request' },
      });
    }
    expect(sends).toEqual([]);
  });

  it('answers 400 for a delay date-time without a zone or on a day that does not exist, instead of reading another instant', async () => {
    const { deps: d, sends } = recording();
    // Without a zone, the server's clock decides (a laptop's zone locally, UTC in Lambda); 30 February would
    // roll over to 2 March.
    for (const delay of ['2027-01-15T10:00:00', '2027-02-30T10:00:00Z', '2027-01-15T24:30:00Z']) {
      const body = JSON.stringify({ type: 'math.double', payload: {}, delay });
      expect({ delay, status: (await handleJobRequest(event(body), d)).statusCode }).toEqual({
        delay,
        status: 400,
      });
    }
    expect(sends).toEqual([]);
    const offset = JSON.stringify({ type: 'math.double', payload: {}, delay: '2027-01-15T11:00:00+01:00' });
    expect((await handleJobRequest(event(offset), d)).statusCode).toBe(202);
    expect(sends.map((s) => s.options.delay)).toEqual([new Date('2027-01-15T10:00:00Z')]);
  });

  it('answers 400, not a server fault, for a request without a body', async () => {
    const { deps: d, sends } = recording();
    const answer = await handleJobRequest(raw({ body: undefined }), d);
    expect(answer).toEqual({
      statusCode: 400,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'bad request' }),
    });
    expect(sends).toEqual([]);
  });

  it('passes the id, group, tenant and delay (seconds or an ISO date) on to the producer, and a null payload as is', async () => {
    const { deps: d, sends } = recording();
    const at = '2026-12-01T10:00:00.000Z';
    for (const body of [
      { type: 'math.double', payload: { n: 1 }, id: 'a', group: 'g', delay: 30 },
      { type: 'math.double', payload: null, delay: at },
      { type: 'math.double', payload: { n: 2 }, delay: 0 },
      { type: 'math.double', payload: { n: 3 }, tenant: 'acct_1' },
    ])
      expect((await handleJobRequest(event(JSON.stringify(body)), d)).statusCode).toBe(202);
    expect(sends.map((s) => [s.job.type, s.job.queue, s.payload, s.options])).toEqual([
      ['math.double', 'jobs', { n: 1 }, { id: 'a', group: 'g', delay: { seconds: 30 } }],
      ['math.double', 'jobs', null, { delay: new Date(at) }],
      ['math.double', 'jobs', { n: 2 }, { delay: { seconds: 0 } }],
      ['math.double', 'jobs', { n: 3 }, { tenant: 'acct_1' }],
    ]);
  });

  it('reads a base64-encoded body, and accepts one exactly as large as a webhook may be', async () => {
    const { deps: d, sends } = recording();
    const encoded = raw({ body: Buffer.from(job).toString('base64'), isBase64Encoded: true });
    expect((await handleJobRequest(encoded, d)).statusCode).toBe(202);
    const envelope = JSON.stringify({ type: 'math.double', payload: '' });
    const exact = JSON.stringify({
      type: 'math.double',
      payload: 'x'.repeat(MAX_WEBHOOK_BODY_BYTES - envelope.length),
    });
    expect(Buffer.byteLength(exact)).toBe(MAX_WEBHOOK_BODY_BYTES);
    expect((await handleJobRequest(event(exact), d)).statusCode).toBe(202);
    expect(sends).toHaveLength(2);
  });

  it('answers 503 with a Retry-After in seconds for an unexpected failure, never throwing', async () => {
    const answer = await handleJobRequest(
      event(job),
      deps({
        queues: {
          has: () => {
            throw new Error('boom');
          },
        } as unknown as ReadonlySet<string>,
      }),
    );
    expect(answer).toEqual({
      statusCode: 503,
      headers: { 'content-type': 'application/json', 'retry-after': RETRY_AFTER_SECONDS },
      body: JSON.stringify({ message: 'service unavailable' }),
    });
    expect(Number(RETRY_AFTER_SECONDS)).toBeGreaterThan(0);
  });
});

describe('jobs endpoint 503 answers', () => {
  /** Each server fault the endpoint answers 503, as the API's 5xx alarm counts it. */
  const faults: [string, Partial<JobsEndpointCollaborators>][] = [
    [
      'tokens that cannot be loaded',
      {
        loadTokens: async () => {
          throw new Error('Secrets Manager down');
        },
      },
    ],
    ['a stored token holding whitespace', { loadTokens: async () => [`${TOKEN}\n`] }],
    [
      'a send that failed',
      {
        send: async () => {
          throw new Error('SQS down');
        },
      },
    ],
    [
      'an unexpected failure',
      {
        queues: {
          has: () => {
            throw new Error('boom');
          },
        } as unknown as ReadonlySet<string>,
      },
    ],
  ];

  it.each(faults)(
    'each leave an ERROR line, the one the API 5xx alarm sends the operator to: %s',
    async (_, fault) => {
      const errors: string[] = [];
      const answer = await handleJobRequest(
        event(job),
        deps({
          ...fault,
          log: { info: () => undefined, warn: () => undefined, error: (m) => errors.push(m) },
        }),
      );
      expect(answer.statusCode).toBe(503);
      expect(errors.length).toBeGreaterThan(0);
    },
  );
});

describe('jobs endpoint statuses of what the producer refuses', () => {
  it('answers 413 for a job too large for a message with no payload bucket', async () => {
    const body = JSON.stringify({ type: 'math.double', payload: 'x'.repeat(MAX_WEBHOOK_BODY_BYTES - 100) });
    const sent: BatchEntry[] = [];
    const answer = await handleJobRequest(event(body), producing(sent));
    expect([answer.statusCode, JSON.parse(answer.body)]).toEqual([413, { message: 'payload too large' }]);
    expect(sent).toEqual([]);
  });

  it('answers 400, not 413, for an id, group or tenant the producer refuses whatever words they hold', async () => {
    for (const fields of [{ id: 'too large' }, { group: 'too large' }, { tenant: 'too large' }]) {
      const body = JSON.stringify({ type: 'math.double', payload: {}, ...fields });
      const answer = await handleJobRequest(event(body), producing());
      expect({ fields, status: answer.statusCode }).toEqual({ fields, status: 400 });
    }
  });
});

describe('a job’s own retries over HTTP', () => {
  it('answers 400 for attempts or a backoff the producer refuses, and sends nothing', async () => {
    for (const fields of [
      { attempts: 0 },
      { attempts: 1.5 },
      { backoff: { factor: 11 } },
      { backoff: { base: 0.5 } },
    ]) {
      const sent: BatchEntry[] = [];
      const body = JSON.stringify({ type: 'math.double', payload: {}, ...fields });
      const answer = await handleJobRequest(event(body), producing(sent));
      expect({ fields, status: answer.statusCode, sent }).toEqual({ fields, status: 400, sent: [] });
    }
  });

  it('sends attempts and backoff in the envelope the consumer reads', async () => {
    const sent: BatchEntry[] = [];
    const body = JSON.stringify({
      type: 'math.double',
      payload: {},
      attempts: 2,
      backoff: { base: 1, max: 30 },
    });
    const answer = await handleJobRequest(event(body), producing(sent));
    expect(answer.statusCode).toBe(202);
    const headers = JSON.parse(sent[0]?.MessageBody ?? '{}').headers;
    expect(jobRetryOf(headers)).toEqual({ attempts: 2, backoff: { baseSeconds: 1, maxSeconds: 30 } });
  });

  it('sends a payload integer beyond 2^53 with every digit the caller wrote, not the nearest double', async () => {
    const sent: BatchEntry[] = [];
    const body = '{"type":"math.double","payload":{"id":12345678901234567890,"n":[-9007199254740993,1.5,2]}}';
    const answer = await handleJobRequest(event(body), producing(sent));
    expect(answer.statusCode).toBe(202);
    expect(JSON.parse(sent[0]?.MessageBody ?? '{}').body).toBe(
      '{"id":12345678901234567890,"n":[-9007199254740993,1.5,2]}',
    );
  });

  it('still refuses an option holding an integer beyond 2^53', async () => {
    const sent: BatchEntry[] = [];
    const body = '{"type":"math.double","payload":{},"attempts":12345678901234567890}';
    const answer = await handleJobRequest(event(body), producing(sent));
    expect({ status: answer.statusCode, sent }).toEqual({ status: 400, sent: [] });
  });

  it.each([
    ['attempts', 'attempts 100000000000000000000 is not a whole number'],
    ['delay', 'the delay ends after 9999-12-31, later than a schedule can name'],
  ])(
    'refuses %s holding an integer beyond 2^53 with its own rule, as one of any size',
    async (field, reason) => {
      const reasons: unknown[] = [];
      const log = infoLog((_m, a) => reasons.push((a as { reason?: unknown }).reason));
      const sent: BatchEntry[] = [];
      const body = `{"type":"math.double","payload":{},"${field}":100000000000000000000}`;
      const answer = await handleJobRequest(event(body), { ...producing(sent), log });
      expect({ status: answer.statusCode, sent }).toEqual({ status: 400, sent: [] });
      expect(reasons).toEqual([expect.stringContaining(reason)]);
    },
  );
});

describe("jobs endpoint outcome line's tenant", () => {
  it("names the tenant a job was queued under, in the ingest line's shape, and none for a schedule or a duplicate", async () => {
    const lines: object[] = [];
    const log = infoLog((m, a) => lines.push(m === JOBS_ENDPOINT_OUTCOME_MESSAGE ? a : { [m]: a }));
    const seen = new Set<string>();
    const producer = new Producer({
      queues: {
        jobs: { name: 'jobs', url: 'https://sqs/jobs', arn: 'arn:aws:sqs:eu-west-1:1:jobs', fifo: false },
      },
      settings: { scheduler: { namePrefix: 'App-job-', roleArn: 'arn:aws:iam::1:role/send' } },
      retry: { attempts: 1, baseDelayMs: 1 },
      now: () => Date.parse('2026-11-30T00:00:00Z'),
      sleep: async () => {},
      sendBatch: async () => [],
      putPayload: async () => {},
      scheduler: { create: async () => {}, delete: async () => true },
    });
    const endpoint = deps({
      log,
      // A second send of an id is a duplicate, as the dedupe table answers it.
      send: async (j, payload, options) => {
        if (options.id && seen.has(options.id)) return { id: options.id, state: 'queued', duplicate: true };
        if (options.id) seen.add(options.id);
        // Without a dedupe table the producer takes no id: the ids above only tell the requests apart.
        const { id: _asked, ...sent } = options;
        return producer.send(j, payload, sent);
      },
    });
    const request = (fields: object) =>
      handleJobRequest(
        event(JSON.stringify({ type: 'math.double', payload: {}, tenant: 'acme', ...fields })),
        endpoint,
      );
    await request({ id: 'now' });
    await request({ id: 'in-15-min', delay: 900 });
    await request({ id: 'later', delay: 901 });
    await request({ id: 'now' });
    expect(
      lines.map((line) => [(line as { outcome: string }).outcome, (line as { tenants?: object }).tenants]),
    ).toEqual([
      ['queued', { jobs: 'acme' }],
      ['scheduled', { jobs: 'acme' }],
      ['scheduled', undefined],
      ['duplicate', undefined],
    ]);
  });
});

describe('a job request asking for its own retries', () => {
  it('reads attempts and a backoff in seconds, as a delay is given, into the producer’s options', () => {
    const parsed = parseJobRequest(
      JSON.stringify({
        type: 'math.double',
        payload: {},
        attempts: 2,
        backoff: { base: 1, factor: 3, max: 60 },
      }),
    );
    expect(parsed).toEqual({
      ok: true,
      request: {
        type: 'math.double',
        payload: {},
        options: { attempts: 2, backoff: { base: { seconds: 1 }, factor: 3, max: { seconds: 60 } } },
      },
    });
  });
});

describe('a debounced job over HTTP', () => {
  it('reads a debounce in seconds, as a delay is given, or { period, maxWait } in seconds, into the producer’s options', () => {
    const options = (debounce: unknown) => {
      const parsed = parseJobRequest(JSON.stringify({ type: 'doc.reindex', payload: {}, id: 'd', debounce }));
      return parsed.ok ? parsed.request.options : parsed.reason;
    };
    expect(options(30)).toEqual({ id: 'd', debounce: { seconds: 30 } });
    expect(options({ period: 30, maxWait: 300 })).toEqual({
      id: 'd',
      debounce: { period: { seconds: 30 }, maxWait: { seconds: 300 } },
    });
  });

  it.each([
    ['null', null],
    ['true', true],
    ['an empty list', []],
    ['a list of seconds', [30]],
  ])('refuses a debounce of %s with the debounce rule, never reading it as a debounce', (_name, debounce) => {
    const parsed = parseJobRequest(JSON.stringify({ type: 'doc.reindex', payload: {}, id: 'd', debounce }));
    expect(parsed).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^debounce is neither a number of seconds nor an object of/),
    });
  });

  it('answers 400, with the reason send gives, for a debounce the producer refuses, and sends nothing', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ debounce: 30 }, /^job math.double: debounce needs an id/],
      [
        { id: 'd', debounce: 30, delay: 5 },
        /^job math.double: debounce and delay both say when the job runs/,
      ],
      [{ id: 'd', debounce: 0.5 }, /^job math.double: debounce is 0.5 s: use at least 1 second/],
      [
        { id: 'd', debounce: -5 },
        /^job math.double: debounce \{ seconds: -5 \} is not a duration: seconds is not a finite number of 0 or more/,
      ],
      [
        { id: 'd', debounce: { period: 30, maxWait: 10 } },
        /^job math.double: debounce maxWait \(10 s\) is shorter than its period \(30 s\)/,
      ],
      [{ id: 'd', debounce: { maxWait: 300 } }, /^job math.double: debounce has maxWait but no period/],
    ];
    for (const [fields, reason] of cases) {
      const sent: BatchEntry[] = [];
      const reasons: unknown[] = [];
      const log = {
        ...deps().log,
        info: (_m: string, a: object) => reasons.push((a as { reason?: unknown }).reason),
      };
      const body = JSON.stringify({ type: 'math.double', payload: {}, ...fields });
      const producer = producerWithTable(sent);
      const answer = await handleJobRequest(event(body), endpointOver(producer, { log }));
      expect({ fields, status: answer.statusCode, sent }).toEqual({ fields, status: 400, sent: [] });
      // The producer's own message, as send throws it to a caller in TypeScript.
      const thrown = await producer
        .send(mathDouble, {}, sendOptionsOf(fields))
        .catch((error: unknown) => (error as Error).message);
      expect(reasons).toEqual([thrown]);
      expect(thrown).toMatch(reason);
    }
  });

  /** The real producer core with a dedupe table (an id needs one) whose every call fails: nothing may reach it. */
  function producerWithTable(sent: BatchEntry[]) {
    const unreachable = async (): Promise<never> => {
      throw new Error('the table was reached');
    };
    return realProducer(sent, {
      settings: { dedupe: { tableName: 'dedupe', ttlSeconds: 3600 } },
      dedupe: { claim: unreachable, complete: unreachable, release: unreachable },
      records: { read: unreachable, cancel: unreachable, debounced: unreachable },
    });
  }

  const mathDouble = defineJob('math.double', z.unknown(), { queue: 'jobs' });

  /** The options a request's fields are, as the endpoint reads them. */
  function sendOptionsOf(fields: Record<string, unknown>): SendOptions {
    const parsed = parseJobRequest(JSON.stringify({ type: 'math.double', payload: {}, ...fields }));
    if (!parsed.ok) throw new Error(parsed.reason);
    return parsed.request.options;
  }
});

describe('why the jobs endpoint refused a request', () => {
  /** A value a caller may send that no log may hold. */
  const SECRET = 'jane@example.com-s3cr3t';

  it.each([
    ['{"type":', /^the body is not JSON$/],
    [
      ' ',
      /^the body is empty: send \{ type, payload, id, delay, group, tenant, attempts, backoff, debounce \}$/,
    ],
    [
      '[]',
      /^the body is JSON but not an object: send \{ type, payload, id, delay, group, tenant, attempts, backoff, debounce \}$/,
    ],
    [JSON.stringify({ payload: {} }), /^type is missing$/],
    [JSON.stringify({ type: 7, payload: {} }), /^type is not a string$/],
    [JSON.stringify({ type: `bad ${SECRET}`, payload: {} }), /^type is not a job type: up to 256 letters/],
    [JSON.stringify({ type: 'math.double' }), /^payload is missing/],
    [
      JSON.stringify({ type: 'math.double', payload: {}, extra: SECRET }),
      /^unknown field "extra": a job request holds type, payload/,
    ],
    [
      JSON.stringify({ type: 'math.double', payload: {}, a: 1, b: 2, c: 3, d: 4 }),
      /^unknown fields "a", "b", "c" and 1 more:/,
    ],
    [JSON.stringify({ type: 'math.double', payload: {}, id: 7 }), /^id is not a string$/],
    [JSON.stringify({ type: 'math.double', payload: {}, group: [SECRET] }), /^group is not a string$/],
    [
      JSON.stringify({ type: 'math.double', payload: {}, tenant: { who: SECRET } }),
      /^tenant is not a string$/,
    ],
    [
      JSON.stringify({ type: 'math.double', payload: {}, delay: -1 }),
      /^delay is neither a number of seconds/,
    ],
    [
      JSON.stringify({ type: 'math.double', payload: {}, delay: SECRET }),
      /^delay is neither a number of seconds/,
    ],
    [
      JSON.stringify({ type: 'math.double', payload: {}, delay: '2027-02-30T10:00:00Z' }),
      /^delay is neither/,
    ],
    [
      JSON.stringify({ type: 'math.double', payload: {}, delay: { minutes: 1, seconds: -30 } }),
      /^delay is neither a number of seconds/,
    ],
    [JSON.stringify({ type: 'math.double', payload: {}, attempts: SECRET }), /^attempts is not a number$/],
    [
      JSON.stringify({ type: 'math.double', payload: {}, backoff: { type: 'exponential', delay: 1000 } }),
      /^backoff is not an object of \{ base, factor, max \} numbers/,
    ],
    [
      JSON.stringify({ type: 'math.double', payload: {}, backoff: { base: SECRET } }),
      /^backoff is not an object of/,
    ],
    [
      JSON.stringify({ type: 'math.double', payload: {}, id: 'a', debounce: SECRET }),
      /^debounce is neither a number of seconds nor an object of \{ period, maxWait \} numbers of seconds/,
    ],
    [
      JSON.stringify({ type: 'math.double', payload: {}, id: 'a', debounce: { period: SECRET } }),
      /^debounce is neither a number of seconds/,
    ],
    [
      JSON.stringify({ type: 'math.double', payload: {}, id: 'a', debounce: { period: 30, [SECRET]: 1 } }),
      /^debounce is neither a number of seconds/,
    ],
  ])('parseJobRequest names the field and what is wrong with %s, never the value sent', (body, reason) => {
    const parsed = parseJobRequest(body);
    expect(parsed.ok).toBe(false);
    const text = parsed.ok ? '' : parsed.reason;
    expect(text).toMatch(reason);
    expect(text).not.toContain(SECRET);
  });

  it('logs one job rejected line with the reason for every refusal, at INFO as the ingest does, and answers a generic body', async () => {
    const lines: [string, Record<string, unknown>][] = [];
    const log = infoLog((m, a) => lines.push([m, a as Record<string, unknown>]));
    const d = deps({ log });
    const bad = JSON.stringify({ type: 'math.double', payload: {}, delay: SECRET });
    const answers = [
      await handleJobRequest(event(bad), d),
      await handleJobRequest(event(job, 'wrong-token'), d),
      await handleJobRequest({ ...event(job), pathParameters: { queue: 'other' } }, d),
    ];
    expect(answers.map((a) => [a.statusCode, JSON.parse(a.body)])).toEqual([
      [400, { message: 'bad request' }],
      [401, { message: 'unauthorized' }],
      [404, { message: 'not found' }],
    ]);
    expect(lines).toEqual([
      [
        JOBS_ENDPOINT_REJECTED_MESSAGE,
        {
          outcome: 'rejected',
          source: 'job',
          queue: 'jobs',
          type: 'math.double',
          status: 400,
          reason: expect.stringMatching(/^delay is neither/),
        },
      ],
      [
        JOBS_ENDPOINT_REJECTED_MESSAGE,
        {
          outcome: 'rejected',
          source: 'job',
          status: 401,
          reason: 'the bearer token is none of the active ones',
        },
      ],
      [
        JOBS_ENDPOINT_REJECTED_MESSAGE,
        {
          outcome: 'rejected',
          source: 'job',
          queue: 'other',
          status: 404,
          reason: expect.stringMatching(/does not serve this queue/),
        },
      ],
    ]);
    expect(JSON.stringify(lines)).not.toContain(SECRET);
    expect(OUTCOME_MESSAGES).toContain(JOBS_ENDPOINT_REJECTED_MESSAGE);
  });

  it('logs the type of a request refused for its shape whenever the body names a valid one, and no other text', async () => {
    const lines: Record<string, unknown>[] = [];
    const log = infoLog((_m, a) => lines.push(a as Record<string, unknown>));
    const d = deps({ log });
    for (const body of [
      { type: 'math.double', payload: {}, user: 'x' },
      { type: 'math.double', attempts: 'three', payload: {} },
      { type: 'math.double' },
      { type: `not a type ${SECRET}`, payload: {} },
      { type: 7, payload: {} },
    ]) {
      expect((await handleJobRequest(event(JSON.stringify(body)), d)).statusCode).toBe(400);
    }
    expect(lines.map(({ type, reason }) => [type, reason])).toEqual([
      ['math.double', expect.stringMatching(/^unknown field "user"/)],
      ['math.double', 'attempts is not a number'],
      ['math.double', 'payload is missing (send null for none)'],
      [undefined, expect.stringMatching(/^type is not a job type/)],
      [undefined, 'type is not a string'],
    ]);
    expect(JSON.stringify(lines)).not.toContain(SECRET);
  });

  it("logs why the producer refused an id, a group or a tenant without the caller's value", async () => {
    const lines: [string, Record<string, unknown>][] = [];
    const log = infoLog((m, a) => lines.push([m, a as Record<string, unknown>]));
    const d = endpointOver(realProducer(), { log });
    const answer = await handleJobRequest(
      event(JSON.stringify({ type: 'math.double', payload: {}, tenant: `has space ${SECRET}` })),
      d,
    );
    expect([answer.statusCode, JSON.parse(answer.body)]).toEqual([400, { message: 'bad request' }]);
    expect(lines).toEqual([
      [
        JOBS_ENDPOINT_REJECTED_MESSAGE,
        {
          outcome: 'rejected',
          source: 'job',
          queue: 'jobs',
          type: 'math.double',
          status: 400,
          reason: expect.stringMatching(
            /^job math\.double: tenant must be 1 to 128 printable ASCII characters/,
          ),
        },
      ],
    ]);
    expect(JSON.stringify(lines)).not.toContain(SECRET);
  });
});
