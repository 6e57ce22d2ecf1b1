import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliError } from '../../lib/cli/errors';
import { localStatus } from '../../lib/cli/local-status';
import { renderStatus } from '../../lib/cli/render';
import { status } from '../../lib/cli/status';
import type { LocalTarget } from '../../lib/cli/target';
import { unconfiguredQueuesNotice } from '../../lib/local/unconfigured-queues';
import { localTestTarget, recordingOutput, testBackend } from './helpers';

let server: Server;
let answer: { status: number; body: string } = { status: 200, body: '{}' };
let base = '';

const queue = (name: string) => ({
  name,
  url: `http://sqs/${name}`,
  arn: `arn:aws:sqs:us-east-1:000000000000:${name}`,
  deadLetterUrl: `http://sqs/${name}-dlq`,
  deadLetterArn: `arn:aws:sqs:us-east-1:000000000000:${name}-dlq`,
  fifo: false,
});

const target = (controlUrl: string): LocalTarget => ({
  kind: 'local',
  description: 'local mode',
  region: 'us-east-1',
  controlUrl,
  webhookBaseUrl: 'http://127.0.0.1:1',
  endpoints: { sqs: 'http://127.0.0.1:1' },
  consumers: {},
  queues: { events: queue('events'), orders: queue('orders') },
});

const row = (name: string, visible: number) => ({ queue: name, fifo: false, visible, consumer: 'Enabled' });

beforeAll(async () => {
  server = createServer((req, res) => {
    res.writeHead(req.url === '/_hookline/queues' ? answer.status : 404, {
      'content-type': 'application/json',
    });
    res.end(req.url === '/_hookline/queues' ? answer.body : '{"message":"Not Found"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/_hookline`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('status --local, answered by local mode', () => {
  it('shows the rows local mode read, all of them or the one queue asked for', async () => {
    answer = { status: 200, body: JSON.stringify({ queues: [row('events', 3), row('orders', 0)] }) };
    expect(await localStatus(target(base))).toEqual({
      target: 'local mode',
      queues: [row('events', 3), row('orders', 0)],
    });
    expect((await localStatus(target(base), { queue: 'orders' })).queues).toEqual([row('orders', 0)]);
  });

  it('counts the jobs local mode will send later from one-time schedules, of every queue or of --queue', async () => {
    answer = {
      status: 200,
      body: JSON.stringify({
        queues: [row('events', 0), row('orders', 0)],
        scheduledJobs: { events: 2, orders: 1, renamed: 1 },
      }),
    };
    const all = await localStatus(target(base));
    expect(all.scheduledJobs).toBe(4);
    expect((await localStatus(target(base), { queue: 'orders' })).scheduledJobs).toBe(1);
    const output = recordingOutput();
    renderStatus(output, all);
    expect(output.lines).toContain(
      "4 jobs scheduled for later, beyond SQS's 15-minute delay, so in no queue yet; a cancelled one counts until its time (hookline jobs list --state scheduled)",
    );
    const none = recordingOutput();
    renderStatus(none, await localStatus(target(base), { queue: 'events' }));
    expect(none.lines.join('\n')).toContain('2 jobs scheduled for later');
  });

  it('says nothing of jobs scheduled for later when none are, or local mode does not count them', async () => {
    answer = {
      status: 200,
      body: JSON.stringify({ queues: [row('events', 0), row('orders', 0)], scheduledJobs: {} }),
    };
    const zero = await localStatus(target(base));
    expect(zero.scheduledJobs).toBe(0);
    const output = recordingOutput();
    renderStatus(output, zero);
    expect(output.lines.join('\n')).not.toMatch(/scheduled/);
    answer = { status: 200, body: JSON.stringify({ queues: [row('events', 0)] }) };
    expect(await localStatus(target(base))).not.toHaveProperty('scheduledJobs');
  });

  it('refuses an unknown queue before asking, naming the known ones', async () => {
    await expect(localStatus(target('http://127.0.0.1:1/_hookline'), { queue: 'nope' })).rejects.toThrow(
      'unknown queue "nope" in local mode: use one of events, orders',
    );
  });

  it('refuses an empty queue name instead of showing every queue', async () => {
    await expect(localStatus(target('http://127.0.0.1:1/_hookline'), { queue: '' })).rejects.toThrow(
      'unknown queue "" in local mode: use one of events, orders',
    );
  });

  it('says local mode is not answering, with the fix, when it refuses, fails or answers nonsense', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const refused = localStatus(target(`http://127.0.0.1:${deadPort}/_hookline`));
    await expect(refused).rejects.toBeInstanceOf(CliError);
    await expect(refused).rejects.toThrow(
      /^local mode is not answering at .*: restart it with npm start or npx hookline dev$/,
    );

    answer = { status: 503, body: '{"message":"Error: emulator stopped"}' };
    await expect(localStatus(target(base))).rejects.toThrow(
      `local mode is not answering at ${base}/queues (HTTP 503: Error: emulator stopped): restart it with npm start or npx hookline dev`,
    );
    answer = { status: 200, body: '{"rows":[]}' };
    await expect(localStatus(target(base))).rejects.toThrow(
      /without queues: restart it with npm start or npx hookline dev/,
    );
    answer = { status: 200, body: 'null' };
    await expect(localStatus(target(base))).rejects.toThrow(
      /without queues: restart it with npm start or npx hookline dev/,
    );
  });

  it('names what local mode answered when it is not JSON: a plain error page, or a 200 that does not parse', async () => {
    answer = { status: 502, body: 'Bad Gateway' };
    await expect(localStatus(target(base))).rejects.toThrow(
      `local mode is not answering at ${base}/queues (HTTP 502: Bad Gateway): restart it with npm start or npx hookline dev`,
    );
    answer = { status: 500, body: '{"error":"boom"}' };
    await expect(localStatus(target(base))).rejects.toThrow(
      `local mode is not answering at ${base}/queues (HTTP 500: {"error":"boom"}): restart it with npm start or npx hookline dev`,
    );
    answer = { status: 200, body: '<html>' };
    await expect(localStatus(target(base))).rejects.toThrow(
      `local mode is not answering at ${base}/queues (not JSON): restart it with npm start or npx hookline dev`,
    );
  });
});

describe("status of local mode names the data directory's queues the configuration does not have", () => {
  const unconfiguredQueues = {
    dataDir: '/work/.data',
    queues: [{ name: 'Hookline-billing-dlq', messages: 3 }],
  };

  it('with every queue, not with --queue, as status --local answers', async () => {
    answer = {
      status: 200,
      body: JSON.stringify({ queues: [row('events', 3), row('orders', 0)], unconfiguredQueues }),
    };
    expect((await localStatus(target(base))).unconfiguredQueues).toEqual(unconfiguredQueues);
    expect(await localStatus(target(base), { queue: 'orders' })).toEqual({
      target: 'local mode',
      queues: [row('orders', 0)],
    });
  });

  it('with every queue, not with --queue, as the console and status read it through the backend', async () => {
    const http = async (url: string) =>
      new Response(
        JSON.stringify(url.endsWith('/queues') ? { queues: [row('events', 3)], unconfiguredQueues } : {}),
      );
    const local = localTestTarget({ queues: { events: queue('events') } });
    expect((await status(testBackend({ http }), local)).unconfiguredQueues).toEqual(unconfiguredQueues);
    expect(await status(testBackend({ http }), local, { queue: 'events' })).not.toHaveProperty(
      'unconfiguredQueues',
    );
  });

  it('says nothing of unconfigured queues when none holds a message', () => {
    expect(unconfiguredQueuesNotice([], '/work/.data')).toBeUndefined();
  });
});

describe('status as printed', () => {
  it("names the data directory's queues the configuration does not have, with what they hold", () => {
    const output = recordingOutput();
    renderStatus(output, {
      target: 'local mode',
      queues: [
        {
          queue: 'events',
          fifo: false,
          visible: 0,
          inFlight: 0,
          delayed: 0,
          deadLettered: 0,
          oldestMessageAgeSeconds: null,
          consumer: 'Enabled',
        },
      ],
      unconfiguredQueues: { dataDir: '/work/.data', queues: [{ name: 'Hookline-billing-dlq', messages: 3 }] },
    });
    expect(output.lines.join('\n')).toContain(
      'the data directory /work/.data holds messages in queues the configuration does not have, which nothing processes: Hookline-billing-dlq (3).',
    );
  });
});
