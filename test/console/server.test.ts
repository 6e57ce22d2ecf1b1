/**
 * The console's HTTP API over real HTTP (the SDK clients mocked): what it refuses as the caller's error, before
 * anything runs.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient, GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetEventSourceMappingCommand, UpdateEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueAttributesCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it, vi } from 'vitest';
import exampleConfig from '../../hookline.config';
import { CliError } from '../../lib/cli/errors';
import { hooklineCommandFor } from '../../lib/cli/output';
import { resolveConfig } from '../../lib/config';
import { unavailableFeed } from '../../lib/console/feed';
import { UNEXPECTED_FAILURE } from '../../lib/console/last-resort';
import { ConsoleOperations, type ReplaySelection } from '../../lib/console/operations';
import { startConsoleServer } from '../../lib/console/server';
import { STACK_OUTPUTS } from '../../lib/stack-outputs';
import {
  deadLetterMessage,
  EVENTS,
  localTestTarget,
  mockCommandClients,
  stackTarget,
  testBackend,
} from '../cli/helpers';
import { CONSOLE_TOKEN, consoleApiFor } from './console-api';

const clients = mockCommandClients();
const api = consoleApiFor(stackTarget());
const token = CONSOLE_TOKEN;
const call = api.call;

describe('console API', () => {
  it('refuses a redrive selector of the wrong shape instead of redriving everything', async () => {
    for (const [body, message] of [
      [{ ids: 'evt-1' }, 'ids must be a list of event ids (strings, none blank): nothing was redriven'],
      [{ ids: ['evt-1', 7] }, 'ids must be a list of event ids (strings, none blank): nothing was redriven'],
      [{ ids: [''] }, 'ids must be a list of event ids (strings, none blank): nothing was redriven'],
      [
        { ids: ['evt-1', ' '] },
        'ids must be a list of event ids (strings, none blank): nothing was redriven',
      ],
      [{ type: 5 }, 'type must be a type pattern (a string) such as "invoice.*": nothing was redriven'],
    ] as const) {
      expect(await call('POST', '/api/queues/events/redrive', body)).toEqual({
        status: 400,
        body: { error: message },
      });
    }
    expect(api.operations.jobs.list()).toEqual([]);
    expect(clients.sqs.commandCalls(ReceiveMessageCommand)).toHaveLength(0);
  });

  it("passes the page's redrive selection on as it is: ids, a type pattern, and an empty list refused", async () => {
    clients.sqs.onAnyCommand().resolves({});
    expect(await call('POST', '/api/queues/events/redrive', { ids: ['evt-1', 'evt-2'] })).toMatchObject({
      status: 200,
      body: { label: 'redrive events: 2 selected' },
    });
    expect(await call('POST', '/api/queues/events/redrive', { type: 'invoice.*' })).toMatchObject({
      status: 200,
      body: { label: 'redrive events: type invoice.*' },
    });
    expect(await call('POST', '/api/queues/events/redrive', { ids: [] })).toEqual({
      status: 400,
      body: { error: 'no event selected: select at least one, or redrive all' },
    });
    await api.operations.jobs.idle(5);
  });

  it('deletes the dead letters a confirmed request names, and refuses a selection of the wrong shape, an empty one or an unconfirmed one', async () => {
    const jobsBefore = api.operations.jobs.list().length;
    for (const [body, message] of [
      [{ yes: true }, 'ids must be a list of event ids (strings, none blank): nothing was deleted'],
      [
        { ids: 'evt-1', yes: true },
        'ids must be a list of event ids (strings, none blank): nothing was deleted',
      ],
      [
        { ids: [''], yes: true },
        'ids must be a list of event ids (strings, none blank): nothing was deleted',
      ],
      [{ ids: [], yes: true }, 'no event selected: select at least one; nothing was deleted'],
      [
        { ids: ['evt-1'] },
        'a delete cannot be undone: send "yes": true once the operator confirmed it (the page asks first); nothing was deleted',
      ],
      [
        { ids: ['evt-1'], yes: 'yes' },
        'a delete cannot be undone: send "yes": true once the operator confirmed it (the page asks first); nothing was deleted',
      ],
    ] as const) {
      expect(await call('POST', '/api/failures/events/delete', body)).toEqual({
        status: 400,
        body: { error: message },
      });
    }
    expect(await call('POST', '/api/failures/nope/delete', { ids: ['evt-1'], yes: true })).toMatchObject({
      status: 404,
      body: { error: expect.stringMatching(/unknown queue "nope"/) },
    });
    expect(await call('GET', '/api/failures/events/delete')).toEqual({
      status: 404,
      body: { error: 'not found' },
    });
    expect(api.operations.jobs.list()).toHaveLength(jobsBefore);
    expect(clients.sqs.calls()).toHaveLength(0);
    clients.sqs.onAnyCommand().resolves({});
    expect(
      await call('POST', '/api/failures/events/delete', { ids: ['evt-1', 'evt-2'], yes: true }),
    ).toMatchObject({
      status: 200,
      body: {
        kind: 'delete',
        label: 'delete from the events dead-letter queue: 2 selected',
        state: 'running',
      },
    });
    await api.operations.jobs.idle(5);
  });

  it("takes a failure's key on redrive and delete, refusing one that is not a key with the CLI's message, and a delete of ids and a failure at once", async () => {
    const jobsBefore = api.operations.jobs.list().length;
    const notAKey =
      '--failure "TypeError" is not a failure key: give the KEY column of hookline failed summary events (8 hex digits, such as 0a78ca1c)';
    for (const [path, body, message] of [
      ['redrive', { failure: 'TypeError' }, `${notAKey}, or leave --failure out`],
      [
        'redrive',
        { failure: 7 },
        'failure must be a failure key (a string) as hookline failed summary prints it: nothing was redriven',
      ],
      ['delete', { failure: 'TypeError', yes: true }, `${notAKey}, or select with --id`],
      [
        'delete',
        { failure: 7, yes: true },
        'failure must be a failure key (a string) as hookline failed summary prints it: nothing was deleted',
      ],
      [
        'delete',
        { failure: '0a78ca1c' },
        'a delete cannot be undone: send "yes": true once the operator confirmed it (the page asks first); nothing was deleted',
      ],
      [
        'delete',
        { ids: ['evt-1'], failure: '0a78ca1c', yes: true },
        'select either ids or a failure, not both: nothing was deleted',
      ],
    ] as const) {
      const url = path === 'redrive' ? '/api/queues/events/redrive' : '/api/failures/events/delete';
      expect(await call('POST', url, body)).toEqual({ status: 400, body: { error: message } });
    }
    expect(api.operations.jobs.list()).toHaveLength(jobsBefore);
    expect(clients.sqs.calls()).toHaveLength(0);
    clients.sqs.onAnyCommand().resolves({});
    expect(await call('POST', '/api/queues/events/redrive', { failure: '0a78ca1c' })).toMatchObject({
      status: 200,
      body: { kind: 'redrive', label: 'redrive events: failure 0a78ca1c' },
    });
    await api.operations.jobs.idle(5);
    expect(
      await call('POST', '/api/failures/events/delete', { failure: '0a78ca1c', yes: true }),
    ).toMatchObject({
      status: 200,
      body: { kind: 'delete', label: 'delete from the events dead-letter queue: failure 0a78ca1c' },
    });
    await api.operations.jobs.idle(5);
  });

  it('refuses a delete, of ids or of a failure, without the token in its header or from another origin, whatever its cookie', async () => {
    const send = (headers: Record<string, string>, body: unknown) =>
      fetch(`http://127.0.0.1:${api.server.port}/api/failures/events/delete`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      }).then(async (a) => ({ status: a.status, body: await a.json() }));
    const cookie = `hookline_console_${api.server.port}=${token}`;
    for (const body of [
      { ids: ['evt-1'], yes: true },
      { failure: '0a78ca1c', yes: true },
    ]) {
      expect(await send({ cookie }, body)).toEqual({
        status: 403,
        body: { error: 'a change needs the console token in the x-hookline-token header' },
      });
      expect(await send({ 'x-hookline-token': token, origin: 'http://evil.example' }, body)).toEqual({
        status: 403,
        body: { error: 'cross-origin requests are refused' },
      });
    }
    expect(clients.sqs.calls()).toHaveLength(0);
  });

  it('refuses a body that is JSON but not an object instead of reading it as "no selector: redrive everything"', async () => {
    const jobsBefore = api.operations.jobs.list().length;
    for (const body of [['evt-1'], 'evt-1', null]) {
      expect(await call('POST', '/api/queues/events/redrive', body)).toEqual({
        status: 400,
        body: { error: 'the request body must be a JSON object: nothing was done' },
      });
    }
    expect(api.operations.jobs.list()).toHaveLength(jobsBefore);
    expect(clients.sqs.calls()).toHaveLength(0);
  });

  it("serves the page with this run's token, and its script and styles with the types a nosniff browser runs", async () => {
    const get = (path: string) =>
      fetch(`http://127.0.0.1:${api.server.port}${path}`, { headers: { 'x-hookline-token': token } });
    const page = await get('/');
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const text = await page.text();
    expect(text).toContain(`<meta name="hookline-token" content="${token}">`);
    // An inline icon: a browser then asks for no /favicon.ico, which this server would answer 404.
    expect(text).toContain('<link rel="icon" href="data:,">');
    const script = await get('/app.js');
    expect([script.status, script.headers.get('content-type'), await script.text()]).toEqual([
      200,
      'text/javascript',
      'export {};',
    ]);
    const styles = await get('/app.css');
    expect([styles.status, styles.headers.get('content-type'), await styles.text()]).toEqual([
      200,
      'text/css',
      'body{}',
    ]);
    expect(await call('GET', '/api/nothing-here')).toEqual({ status: 404, body: { error: 'not found' } });
  });

  it('gives the page the command that starts this console again, with the target flags it was started with', async () => {
    const flagged = await startConsoleServer({
      operations: new ConsoleOperations({
        backend: testBackend(),
        target: stackTarget(),
        config: resolveConfig(exampleConfig),
        feed: unavailableFeed('no feed for a deployed stack'),
        hints: { command: (args) => hooklineCommandFor({ stack: 'Hookline', region: 'us-east-1' }, args) },
      }),
      assets: { js: Buffer.from('export {};'), css: Buffer.from('body{}') },
      token,
    });
    try {
      const page = await fetch(`http://127.0.0.1:${flagged.port}/`, {
        headers: { 'x-hookline-token': token },
      });
      expect(await page.text()).toContain(
        '<meta name="hookline-console-command" content="hookline console --stack Hookline --region us-east-1">',
      );
    } finally {
      await flagged.close();
    }
  });

  it('filters the live list by the source, type, outcome and queue in the query', async () => {
    const at = new Date().toISOString();
    api.operations.activity.add([
      { seq: 1, at, event: 'queued', id: 'a', source: 'github', type: 'push', queue: 'events' },
      { seq: 2, at, event: 'retried', id: 'a', source: 'github', type: 'push', queue: 'events', attempt: 1 },
      { seq: 3, at, event: 'queued', id: 'b', source: 'stripe', type: 'invoice.paid', queue: 'orders' },
      { seq: 4, at, event: 'queued', id: 'c', source: 'github', type: 'issues', queue: 'orders' },
    ]);
    const ids = async (query: string) =>
      (
        (await call('GET', `/api/events${query}`)).body as unknown as { events: { seq: number }[] }
      ).events.map((e) => e.seq);
    expect(await ids('')).toEqual([4, 3, 2, 1]);
    expect(await ids('?source=github&source=')).toEqual([4, 2, 1]);
    expect(await ids('?type=push')).toEqual([2, 1]);
    expect(await ids('?outcome=failed')).toEqual([2]);
    expect(await ids('?queue=orders&source=&type=&outcome=')).toEqual([4, 3]);
    expect(await ids('?outcome=replayed')).toEqual([]);
  });

  it('refuses an outcome the feed never carries, naming the ones it does, rather than answering an empty list', async () => {
    api.operations.activity.add([
      { seq: 1, at: new Date().toISOString(), event: 'queued', id: 'a', source: 'github' },
    ]);
    const answer = await call('GET', '/api/events?outcome=proccessed');
    expect(answer).toMatchObject({
      status: 400,
      body: {
        error: expect.stringMatching(
          /^unknown outcome "proccessed": use one of received, processed, failed, queued, .*dead-lettered/,
        ),
      },
    });
    const offered = (await call('GET', '/api/events')).body as unknown as { outcomes: string[] };
    expect(offered.outcomes).toEqual(
      expect.arrayContaining(['received', 'failed', 'dead-lettered', 'replayed']),
    );
  });

  it('answers a job by its id, and an id this run never started with a 404 naming it', async () => {
    clients.sqs.onAnyCommand().resolves({});
    const started = await call('POST', '/api/queues/events/redrive', {});
    const id = (started.body as { id?: string }).id ?? '';
    await api.operations.jobs.idle(5);
    expect(await call('GET', `/api/jobs/${id}`)).toMatchObject({
      status: 200,
      body: { id, kind: 'redrive', label: 'redrive events: all' },
    });
    const listed = (await call('GET', '/api/jobs')).body as unknown as { jobs: { id: string }[] };
    expect(listed.jobs[0]?.id).toBe(id);
    expect(await call('GET', '/api/jobs/nope')).toEqual({
      status: 404,
      body: { error: 'no job nope in this console run' },
    });
  });

  it('passes the method and the origin headers of each request to the gate: a forged change is refused', async () => {
    const send = (method: string, headers: Record<string, string>) =>
      fetch(`http://127.0.0.1:${api.server.port}/api/queues/events/pause`, { method, headers }).then(
        async (a) => ({
          status: a.status,
          body: await a.json(),
        }),
      );
    const cookie = `hookline_console_${api.server.port}=${token}`;
    expect(await send('POST', { cookie })).toEqual({
      status: 403,
      body: { error: 'a change needs the console token in the x-hookline-token header' },
    });
    expect(await send('POST', { 'x-hookline-token': token, origin: 'http://evil.example' })).toEqual({
      status: 403,
      body: { error: 'cross-origin requests are refused' },
    });
    expect(await send('GET', { cookie, 'sec-fetch-site': 'cross-site' })).toEqual({
      status: 403,
      body: { error: 'cross-site requests are refused' },
    });
    expect(clients.lambda.calls()).toHaveLength(0);
  });

  it('answers a fault of what it reads (AWS throttling, local mode stopped) 503, a queue its path names that does not exist 404', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    clients.sqs.onAnyCommand().rejects(throttled);
    const fault = await call('GET', '/api/failures/events');
    expect(fault.status).toBe(503);
    expect(fault.body.error).toMatch(/^AWS throttled the request \(ThrottlingException\)/);

    // Neither AWS's nor the caller's: the console's own fault, logged where it runs, its internals kept from the page.
    clients.sqs.onAnyCommand().rejects(new TypeError('queue.url is undefined'));
    expect(await call('GET', '/api/failures/events')).toEqual({
      status: 500,
      body: { error: UNEXPECTED_FAILURE },
    });
    expect(api.logged()).toContain('TypeError: queue.url is undefined');

    const unknownQueue = await call('GET', '/api/failures/no-such-queue');
    expect(unknownQueue.status).toBe(404);
    expect(unknownQueue.body.error).toMatch(/^unknown queue "no-such-queue" in .*: use one of events/);
    expect((await call('POST', '/api/queues/no-such-queue/pause')).status).toBe(404);
    // Named by a filter rather than the path, the same queue is a value the request got wrong.
    const filtered = await call('GET', '/api/job-records?queue=no-such-queue');
    expect(filtered).toMatchObject({ status: 400, body: { error: expect.stringMatching(/no-such-queue/) } });
  });

  it('answers a source its path names that does not exist 404, as it answers such a queue', async () => {
    expect(await call('POST', '/api/sources/no-such-source/send', {})).toEqual({
      status: 404,
      body: { error: expect.stringMatching(/^unknown source "no-such-source": use one of github, /) },
    });
  });

  it("refuses a job filter or page the Jobs page never offers, in the CLI's words, before reading anything", async () => {
    expect(await call('GET', '/api/job-records?state=done')).toEqual({
      status: 400,
      body: {
        error:
          '--state done is not a job state: use one of scheduled, waiting-children, queued, processing, retrying, completed, dead-lettered, child-failed, cancelled',
      },
    });
    const unknownQueue = await call('GET', '/api/job-records?queue=no-such-queue');
    expect(unknownQueue.status).toBe(400);
    expect(unknownQueue.body.error).toMatch(/no-such-queue/);
    expect((await call('GET', '/api/job-records?page=7')).status).toBe(400);
    expect(clients.sqs.calls()).toHaveLength(0);
  });

  it('lists the jobs of one queue and state newest first, 200 a page, each once, with the exact counts', async () => {
    const cloudformation = mockClient(CloudFormationClient);
    const dynamodb = mockClient(DynamoDBClient);
    try {
      cloudformation.on(DescribeStacksCommand).resolves({
        Stacks: [
          {
            StackName: 'Hookline',
            CreationTime: new Date(),
            StackStatus: 'CREATE_COMPLETE',
            Outputs: [{ OutputKey: STACK_OUTPUTS.dedupeTableName, OutputValue: 'dedupe' }],
          },
        ],
      });
      const record = (n: number, queue: string, state: string) => ({
        pk: { S: `job#j-${n}` },
        state: { S: state },
        type: { S: 'email.welcome' },
        queue: { S: queue },
        enqueuedAt: { S: new Date(Date.UTC(2026, 10, 30, 10, 0, n)).toISOString() },
      });
      // 268 completed jobs on orders (n % 6 of 0 to 3), read over two scan pages, among jobs of another queue and state.
      const items = Array.from({ length: 400 }, (_, n) =>
        record(n, n % 6 === 5 ? 'events' : 'orders', n % 6 === 4 ? 'queued' : 'completed'),
      );
      dynamodb
        .on(ScanCommand)
        .callsFake((input: { ExclusiveStartKey?: unknown }) =>
          input.ExclusiveStartKey
            ? { Items: items.slice(150) }
            : { Items: items.slice(0, 150), LastEvaluatedKey: { pk: { S: 'x' } } },
        );
      type Answer = {
        total: number;
        newer: number;
        older: number;
        next: string | null;
        items: { id: string }[];
      };
      const path = '/api/job-records?state=completed&queue=orders';
      const first = (await call('GET', path)).body as unknown as Answer;
      expect([first.total, first.newer, first.items.length, first.older]).toEqual([268, 0, 200, 68]);
      expect(first.items.slice(0, 3).map((j) => j.id)).toEqual(['j-399', 'j-398', 'j-397']);
      const next = encodeURIComponent(first.next ?? '');
      const second = (await call('GET', `${path}&page=${next}`)).body as unknown as Answer;
      expect([second.total, second.newer, second.items.length, second.older, second.next]).toEqual([
        268,
        200,
        68,
        0,
        null,
      ]);
      const ids = [...first.items, ...second.items].map((j) => j.id);
      expect(new Set(ids).size).toBe(268);
    } finally {
      cloudformation.restore();
      dynamodb.restore();
    }
  });

  it("answers a job id with no record 404, in the CLI's words, so a script tells it from a refused request", async () => {
    const cloudformation = mockClient(CloudFormationClient);
    const dynamodb = mockClient(DynamoDBClient);
    try {
      cloudformation.on(DescribeStacksCommand).resolves({
        Stacks: [
          {
            StackName: 'Hookline',
            CreationTime: new Date(),
            StackStatus: 'CREATE_COMPLETE',
            Outputs: [{ OutputKey: STACK_OUTPUTS.dedupeTableName, OutputValue: 'dedupe' }],
          },
        ],
      });
      dynamodb.on(GetItemCommand).resolves({});
      expect(await call('GET', '/api/job-records/no-such-job')).toEqual({
        status: 404,
        body: {
          error:
            'job no-such-job not found: it was never sent with this id, or its record expired after the dedupe window',
        },
      });
    } finally {
      cloudformation.restore();
      dynamodb.restore();
    }
  });

  it('answers a path with malformed percent-encoding as the caller error it is', async () => {
    expect(await call('GET', '/api/events/%E0%A4%A')).toEqual({
      status: 400,
      body: { error: 'the path has malformed percent-encoding: %E0%A4%A' },
    });
  });

  it('answers every request, let in or refused, uncached, unframeable, without a referrer and with a self-only content policy', async () => {
    const page = await fetch(`http://127.0.0.1:${api.server.port}/`, {
      headers: { 'x-hookline-token': token },
    });
    const refused = await fetch(`http://127.0.0.1:${api.server.port}/api/overview`);
    expect([page.status, refused.status]).toEqual([200, 401]);
    for (const answer of [page, refused]) {
      // The page's first URL carries the token: a cache, a referrer or a framing page would leak or misuse it.
      expect(answer.headers.get('cache-control')).toBe('no-store');
      expect(answer.headers.get('referrer-policy')).toBe('no-referrer');
      expect(answer.headers.get('x-frame-options')).toBe('DENY');
      expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
      expect(answer.headers.get('cross-origin-resource-policy')).toBe('same-origin');
      expect(answer.headers.get('content-security-policy')).toBe(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
      );
    }
  });

  it('redeems the token of the URL once: a redirect to the bare page that keeps it in an HttpOnly SameSite cookie', async () => {
    const answer = await fetch(`http://127.0.0.1:${api.server.port}/?token=${token}`, { redirect: 'manual' });
    expect(answer.status).toBe(303);
    expect(answer.headers.get('location')).toBe('/');
    expect(answer.headers.get('set-cookie')).toBe(
      `hookline_console_${api.server.port}=${token}; HttpOnly; SameSite=Strict; Path=/`,
    );
  });

  it('shows the overview an identity may read only part of, with the parts it may not read unknown, not a 503', async () => {
    const denied = (action: string) =>
      Object.assign(
        new Error(`User: arn:aws:iam::123456789012:user/ops is not authorized to perform: ${action}`),
        {
          name: 'AccessDeniedException',
          $fault: 'client',
          $metadata: { httpStatusCode: 403 },
        },
      );
    clients.sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '4' } });
    clients.sqs
      .on(GetQueueAttributesCommand, { QueueUrl: EVENTS.deadLetterUrl })
      .rejects(denied('sqs:GetQueueAttributes'));
    clients.lambda.on(GetEventSourceMappingCommand).rejects(denied('lambda:GetEventSourceMapping'));
    clients.cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });

    const answer = (await call('GET', '/api/overview')) as {
      status: number;
      body: {
        queues: Record<string, unknown>[];
        unreadableNotes: string[];
        missingPermissions: string | null;
        unreadable: unknown[];
      };
    };

    expect(answer.status).toBe(200);
    const [events, orders] = answer.body.queues;
    expect([events?.visible, events?.deadLettered, orders?.deadLettered]).toEqual([4, null, 4]);
    expect(events && 'consumer' in events).toBe(false);
    expect(answer.body.unreadableNotes).toEqual([
      'events dead letters: unknown: access denied (needs sqs:GetQueueAttributes)',
      'events consumer: unknown: access denied (needs lambda:GetEventSourceMapping)',
      'orders consumer: unknown: access denied (needs lambda:GetEventSourceMapping)',
    ]);
    expect(answer.body.missingPermissions).toBe(
      'incomplete: your AWS identity may not call sqs:GetQueueAttributes, lambda:GetEventSourceMapping: what they read is shown as unknown; allow them to see the whole pipeline',
    );
    expect(answer.body.unreadable).toHaveLength(3);
  });

  it('pauses a consumer with pause and resumes it with resume, its own mapping only', async () => {
    clients.lambda.on(UpdateEventSourceMappingCommand).callsFake((input: { Enabled: boolean }) => ({
      State: input.Enabled ? 'Enabling' : 'Disabling',
    }));
    expect(await call('POST', '/api/queues/events/pause')).toMatchObject({
      status: 200,
      body: { state: 'Disabling' },
    });
    expect(await call('POST', '/api/queues/events/resume')).toMatchObject({
      status: 200,
      body: { state: 'Enabling' },
    });
    expect(clients.lambda.commandCalls(UpdateEventSourceMappingCommand).map((c) => c.args[0].input)).toEqual([
      { UUID: EVENTS.eventSourceMappingId, Enabled: false },
      { UUID: EVENTS.eventSourceMappingId, Enabled: true },
    ]);
  });

  it('never runs an action for a GET (a link or an image cannot pause, purge or redrive)', async () => {
    for (const action of ['pause', 'resume', 'purge', 'redrive']) {
      expect(await call('GET', `/api/queues/events/${action}`)).toEqual({
        status: 404,
        body: { error: 'not found' },
      });
    }
    expect(clients.lambda.calls()).toHaveLength(0);
    expect(clients.sqs.calls()).toHaveLength(0);
  });

  it('purges the dead-letter queue only when the page asks for it, else the queue itself', async () => {
    clients.sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '1' } });
    clients.sqs.on(PurgeQueueCommand).resolves({});
    expect(
      await call('POST', '/api/queues/events/purge', { confirm: 'events', deadLetter: true }),
    ).toMatchObject({
      status: 200,
      body: { kind: 'purge', label: 'purge the events dead-letter queue' },
    });
    await api.operations.jobs.idle(5);
    expect(await call('POST', '/api/queues/events/purge', { confirm: 'events' })).toMatchObject({
      status: 200,
      body: { label: 'purge the events queue' },
    });
    await api.operations.jobs.idle(5);
    expect(clients.sqs.commandCalls(PurgeQueueCommand).map((c) => c.args[0].input.QueueUrl)).toEqual([
      EVENTS.deadLetterUrl,
      EVENTS.url,
    ]);
  });

  it('refuses a body that is not JSON or too large before anything runs', async () => {
    const post = (body: string) =>
      fetch(`http://127.0.0.1:${api.server.port}/api/queues/events/purge`, {
        method: 'POST',
        headers: { 'x-hookline-token': token },
        body,
      }).then(async (a) => ({ status: a.status, body: await a.json() }));
    expect(await post('{"confirm": "events"')).toEqual({
      status: 400,
      body: { error: 'the request body is not JSON' },
    });
    expect(await post(JSON.stringify({ confirm: 'events', pad: 'x'.repeat(64 * 1024) }))).toEqual({
      status: 400,
      body: { error: 'request body too large' },
    });
    expect(clients.sqs.calls()).toHaveLength(0);
  });

  it("keeps a replay the page asked to count a count, with the page's window, type and queue", async () => {
    const selections: ReplaySelection[] = [];
    const replaying = new ConsoleOperations({
      backend: testBackend(),
      target: { ...stackTarget(), archiveBucket: 'archive-bucket' },
      config: resolveConfig(exampleConfig),
      feed: unavailableFeed('no feed for a deployed stack'),
      extensions: {
        replay: async (selection) => {
          selections.push(selection);
          return {};
        },
      },
    });
    const window = { source: 'stripe', since: '2026-11-30T10:00:00Z', until: '2026-11-30T11:00:00Z' };
    const other = await startConsoleServer({
      operations: replaying,
      assets: { js: Buffer.from(''), css: Buffer.from('') },
      token,
    });
    try {
      const replay = (body: unknown) =>
        fetch(`http://127.0.0.1:${other.port}/api/replay`, {
          method: 'POST',
          headers: { 'x-hookline-token': token },
          body: JSON.stringify(body),
        }).then((a) => a.status);
      expect(await replay({ ...window, type: 'invoice.*', queue: 'orders', dryRun: true })).toBe(200);
      expect(await replay(window)).toBe(200);
      await replaying.jobs.idle(5);
    } finally {
      await other.close();
    }
    const checked = { source: 'stripe', since: new Date(window.since), until: new Date(window.until) };
    expect(selections).toEqual([
      { ...checked, type: 'invoice.*', queue: 'orders', dryRun: true },
      { ...checked, dryRun: false },
    ]);
  });

  it('listens on 127.0.0.1 only: another address of this machine, even on loopback, is refused', async () => {
    const reaches = (host: string) =>
      new Promise<boolean>((resolve) => {
        const socket = connect({ host, port: api.server.port });
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(false));
      });
    // Linux routes all of 127.0.0.0/8 to the loopback device: a server listening on every address answers
    // 127.0.0.2, one bound to 127.0.0.1 does not.
    expect({ bound: await reaches('127.0.0.1'), other: await reaches('127.0.0.2') }).toEqual({
      bound: true,
      other: false,
    });
  });

  it('refuses a port another process holds with the fix, as the operator error it is, not as a bug', async () => {
    const start = (port: number) =>
      startConsoleServer({
        operations: api.operations,
        assets: { js: Buffer.from(''), css: Buffer.from('') },
        token,
        port,
      });
    const error = await start(api.server.port).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CliError);
    expect((error as Error).message).toBe(
      `port ${api.server.port} on 127.0.0.1 is in use by another process: choose another with --port N, or leave --port out for a free one`,
    );
  });

  it('listens on the port asked for, prints the URL with the token, and reads the feed again and again', async () => {
    const probe = await startConsoleServer({
      operations: api.operations,
      assets: { js: Buffer.from(''), css: Buffer.from('') },
      token,
    });
    const free = probe.port;
    await probe.close();
    let reads = 0;
    const counting = new ConsoleOperations({
      backend: testBackend(),
      target: stackTarget(),
      config: resolveConfig(exampleConfig),
      feed: {
        unavailable: null,
        after: async (seq) => {
          reads++;
          return { events: [], latest: seq };
        },
      },
    });
    const other = await startConsoleServer({
      operations: counting,
      assets: { js: Buffer.from(''), css: Buffer.from('') },
      token,
      port: free,
      feedIntervalMs: 5,
    });
    try {
      expect(other.port).toBe(free);
      expect(other.url).toBe(`http://127.0.0.1:${free}/?token=${token}`);
      await vi.waitFor(() => expect(reads).toBeGreaterThan(2), { timeout: 10_000 });
    } finally {
      await other.close();
    }
  });

  it('sends the sample webhook of the type the page names to the source the path names', async () => {
    const events: (string | undefined)[] = [];
    const http = async (_url: string, init?: RequestInit) => {
      events.push(((init?.headers ?? {}) as Record<string, string>)['x-github-event']);
      return new Response('{}', { status: 202 });
    };
    const sending = new ConsoleOperations({
      backend: testBackend({ http }),
      target: stackTarget(),
      config: resolveConfig(exampleConfig),
      feed: unavailableFeed('no feed for a deployed stack'),
      env: { HOOKLINE_SECRET_GITHUB: 'console-test-secret' },
    });
    const other = await startConsoleServer({
      operations: sending,
      assets: { js: Buffer.from(''), css: Buffer.from('') },
      token,
    });
    try {
      const send = (body: unknown) =>
        fetch(`http://127.0.0.1:${other.port}/api/sources/github/send`, {
          method: 'POST',
          headers: { 'x-hookline-token': token },
          body: JSON.stringify(body),
        }).then(async (a) => ({ status: a.status, text: await a.text() }));
      const sent = await send({ type: 'issues' });
      expect(sent.status).toBe(200);
      expect(sent.text).not.toContain('console-test-secret');
    } finally {
      await other.close();
    }
    expect(events).toEqual(['issues']);
  });
});

describe('a console page on a local mode that does not answer (suspended)', () => {
  it('is told within its page bound that local mode is not answering, and a repeated read joins the one waiting', async () => {
    // The control API and the emulator accept and never answer, as a stopped process's sockets do.
    const calls: string[] = [];
    const never = new Promise<never>(() => {});
    const backend = testBackend({
      http: async (url) => {
        calls.push(String(url));
        return never;
      },
    });
    clients.sqs.on(GetQueueAttributesCommand).callsFake(() => never);
    const local = await startConsoleServer({
      operations: new ConsoleOperations({
        backend,
        target: localTestTarget({ queues: { events: { ...EVENTS, fifo: false } } }),
        config: resolveConfig(exampleConfig),
        feed: unavailableFeed('no feed'),
      }),
      assets: { js: Buffer.from('export {};'), css: Buffer.from('body{}') },
      token,
      pageAnswerMs: 50,
    });
    try {
      const get = async () => {
        const answer = await fetch(`http://127.0.0.1:${local.port}/api/overview`, {
          headers: { 'x-hookline-token': token },
        });
        return { status: answer.status, body: (await answer.json()) as { error?: string } };
      };
      const first = await get();
      expect(first.status).toBe(503);
      expect(first.body.error).toMatch(
        /^local mode did not answer within 0\.05 s: is local mode \(npm start or npx hookline dev\) running/,
      );
      expect((await get()).status).toBe(503);
      expect(calls.filter((url) => url.endsWith('/queues'))).toHaveLength(1);
    } finally {
      clients.sqs.reset();
      await local.close();
    }
  });
});

describe('a console page on local mode reading a dead-letter queue longer than its page bound', () => {
  it.each([
    ['the Failures page', '/api/failures/events', (body: Record<string, unknown>) => body.read, 20],
    // An id the DLQ does not hold: its page reads the whole DLQ to know.
    ['an event page', '/api/events/evt-absent', (body: Record<string, unknown>) => body.deadLetters, []],
    // A processing job may have been moved to its queue's DLQ without a word: the whole DLQ is read to know.
    ['the Jobs page', '/api/job-records', (body: Record<string, unknown>) => body.total, 1],
  ])(
    '%s waits for the read while local mode answers each receive, instead of saying local mode is not answering',
    async (_page, path, readOf, expected) => {
      // Each receive is answered well within the bound; the whole read (a receive per letter) takes several bounds.
      const letters = 20;
      let received = 0;
      clients.sqs
        .on(GetQueueAttributesCommand)
        .resolves({ Attributes: { ApproximateNumberOfMessages: `${letters}` } });
      clients.sqs.on(ReceiveMessageCommand).callsFake(async () => {
        await new Promise((resolve) => setTimeout(resolve, 60));
        return { Messages: received < letters ? [deadLetterMessage(received++)] : [] };
      });
      clients.sqs.on(ChangeMessageVisibilityBatchCommand).resolves({ Failed: [] });
      const dynamodb = mockClient(DynamoDBClient);
      dynamodb.on(ScanCommand).resolves({
        Items: [{ pk: { S: 'job#j-1' }, state: { S: 'processing' }, queue: { S: 'events' } }],
      });
      const target = localTestTarget({
        queues: { events: { ...EVENTS, fifo: false } },
        endpoints: { sqs: 'http://127.0.0.1:4566', dynamodb: 'http://127.0.0.1:4567' },
      });
      // The Jobs page finds its table in local mode's state file.
      const stateDir = mkdtempSync(join(tmpdir(), 'hookline-console-'));
      writeFileSync(
        join(stateDir, 'local.json'),
        JSON.stringify({
          ...target,
          pid: process.pid,
          queues: { events: { ...EVENTS, fifo: false, maxReceiveCount: 5 } },
          jobs: { dedupe: { tableName: 'Hookline-dedupe', ttlSeconds: 3600 } },
        }),
      );
      const local = await startConsoleServer({
        operations: new ConsoleOperations({
          backend: testBackend(),
          target,
          config: resolveConfig(exampleConfig),
          feed: unavailableFeed('no feed'),
          env: { HOOKLINE_STATE_DIR: stateDir },
        }),
        assets: { js: Buffer.from('export {};'), css: Buffer.from('body{}') },
        token,
        // A bound ten times a receive's time: a loaded machine's late timers must not end the read.
        pageAnswerMs: 600,
      });
      try {
        const answer = await fetch(`http://127.0.0.1:${local.port}${path}`, {
          headers: { 'x-hookline-token': token },
        });
        const body = (await answer.json()) as Record<string, unknown>;
        expect({ status: answer.status, error: body.error }).toEqual({ status: 200, error: undefined });
        expect(received).toBe(letters);
        expect(readOf(body)).toEqual(expected);
      } finally {
        clients.sqs.reset();
        dynamodb.restore();
        rmSync(stateDir, { recursive: true, force: true });
        await local.close();
      }
    },
  );
});
