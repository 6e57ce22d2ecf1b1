import { afterEach, describe, expect, it, vi } from 'vitest';
import { signingSecretProblem } from '../../../lambda/shared/senders';
import { colorsFor } from '../../../lib/cli/output';
import { disposeBatch, toLambdaRecord } from '../../../lib/local/event-source-mapping';
import type { InvokeResult } from '../../../lib/local/function-runtime';
import {
  batchEvents,
  batchNotice,
  batchReceiveEvents,
  parseOutcomeLine,
  Reporter,
  SelfReportedReceives,
} from '../../../lib/local/reporter';
import {
  defaultDevSecret,
  localSecretProblems,
  localSecrets,
  secretEnvName,
} from '../../../lib/local/secrets';

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

  it("carries a consumer's mark of a copy retried because another execution held its idempotency key, and only that", () => {
    const line = (extra: Record<string, unknown>) =>
      JSON.stringify({
        message: 'record outcome',
        outcome: 'retried',
        id: 'c1',
        attempt: 1,
        reason: 'IdempotencyAlreadyInProgressError: There is already an execution in progress',
        ...extra,
      });
    expect(parseOutcomeLine(line({ keyHeldElsewhere: true }), 'events')).toMatchObject({
      event: 'retried',
      keyHeldElsewhere: true,
    });
    expect(parseOutcomeLine(line({}), 'events')).not.toHaveProperty('keyHeldElsewhere');
    expect(parseOutcomeLine(line({ keyHeldElsewhere: 'yes' }), 'events')).not.toHaveProperty(
      'keyHeldElsewhere',
    );
  });

  it("names a webhook's tenant in the fair queues it was queued to, each distinct tenant once, on the human line", () => {
    const line = (tenants: unknown) =>
      JSON.stringify({
        message: 'webhook outcome',
        outcome: 'queued',
        id: 't1',
        source: 'shop',
        type: 'orders/create',
        queues: ['events', 'audit', 'plain'],
        tenants,
        status: 202,
      });
    const event = parseOutcomeLine(line({ events: 'a.myshopify.com', audit: 'a.myshopify.com' }), 'ingest');
    expect(event).toMatchObject({ queue: 'events,audit,plain', tenant: 'a.myshopify.com' });
    expect(parseOutcomeLine(line({ events: 'x', audit: 'y' }), 'ingest')).toMatchObject({ tenant: 'x,y' });
    expect(parseOutcomeLine(line(undefined), 'ingest')).not.toHaveProperty('tenant');
    expect(parseOutcomeLine(line('x'), 'ingest')).not.toHaveProperty('tenant');
    const reporter = new Reporter({ json: false, color: false, write: () => {}, now: fixed });
    expect(reporter.format(event ?? { event: 'none' })).toBe(
      '16:45:01 queued        shop orders/create id=t1 queue=events,audit,plain tenant=a.myshopify.com status=202',
    );
  });

  it('marks a request an unverified source let in, in the event and on the human line', () => {
    const line = (extra: Record<string, unknown>) =>
      JSON.stringify({ message: 'webhook outcome', outcome: 'queued', id: 'o1', source: 'open', ...extra });
    const event = parseOutcomeLine(line({ verified: false }), 'ingest');
    expect(event).toMatchObject({ event: 'queued', source: 'open', verified: false });
    expect(parseOutcomeLine(line({}), 'ingest')).not.toHaveProperty('verified');
    expect(parseOutcomeLine(line({ verified: true }), 'ingest')).not.toHaveProperty('verified');
    const reporter = new Reporter({ json: false, color: false, write: () => {}, now: fixed });
    expect(reporter.format(event ?? { event: 'none' })).toBe('16:45:01 queued        open id=o1 UNVERIFIED');
  });

  it("reads the jobs endpoint's line as a job received over HTTP, with its due time", () => {
    const line = JSON.stringify({
      level: 'INFO',
      message: 'job enqueued',
      service: 'jobs-endpoint',
      outcome: 'scheduled',
      id: 'j1',
      source: 'job',
      type: 'email.reminder',
      queue: 'jobs',
      state: 'scheduled',
      status: 202,
      dueAt: '2026-11-30T11:00:00.000Z',
    });
    expect(parseOutcomeLine(line, 'jobs-endpoint')).toEqual({
      event: 'scheduled',
      id: 'j1',
      source: 'job',
      type: 'email.reminder',
      queue: 'jobs',
      status: 202,
      dueAt: '2026-11-30T11:00:00.000Z',
      via: 'jobs endpoint',
      function: 'jobs-endpoint',
    });
  });

  it('shows a job the jobs endpoint sent after answering its request 503 as queued, saying it went out after the 503', () => {
    const line = JSON.stringify({
      level: 'WARN',
      message: 'job enqueued after its deadline',
      service: 'jobs-endpoint',
      outcome: 'queued',
      id: 'j2',
      source: 'job',
      type: 'math.double',
      queue: 'jobs',
      state: 'queued',
      status: 503,
      reason: 'deadline_enqueue',
      timestamp: '2026-11-30T16:45:01.000Z',
    });
    const event = parseOutcomeLine(line, 'jobs-endpoint');
    expect(event).toMatchObject({
      event: 'queued',
      id: 'j2',
      via: 'jobs endpoint',
      sentAfter503: true,
      status: 503,
    });
    const reporter = new Reporter({ json: false, color: false, write: () => {}, now: fixed });
    expect(reporter.format(event ?? { event: 'none' })).toBe(
      '16:45:01 queued        job math.double id=j2 queue=jobs status=503 (deadline_enqueue) SENT AFTER ITS 503: the caller was told to retry',
    );
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

  it('leaves out fields that are empty or of the wrong type, and reads an error without a usable stack as no frames', () => {
    const line = (fields: Record<string, unknown>) =>
      JSON.stringify({ level: 'INFO', message: 'record outcome', outcome: 'retried', ...fields });
    expect(
      parseOutcomeLine(
        line({
          id: '',
          source: 42,
          type: null,
          queues: ['events', 7, 'audit'],
          status: '202',
          attempt: Number.NaN,
        }),
      ),
    ).toEqual({ event: 'retried', queue: 'events,audit' });
    expect(parseOutcomeLine(line({ id: 7, latencyMs: 'slow', durationMs: null, reason: 3 }))).toEqual({
      event: 'retried',
    });
    expect(parseOutcomeLine(line({ id: 'a', error: null }))).toEqual({ event: 'retried', id: 'a' });
    expect(parseOutcomeLine(line({ id: 'a', error: { stack: 42 } }))).toEqual({ event: 'retried', id: 'a' });
    expect(
      parseOutcomeLine(line({ id: 'a', error: { stack: [3, '    at charge (/app/billing.ts:12:9)', null] } }))
        ?.frames,
    ).toEqual(['    at charge (/app/billing.ts:12:9)']);
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

  it('shows a latency of a minute or more in minutes and hours, and a shorter one in milliseconds', () => {
    const reporter = new Reporter({ json: false, color: false, write: () => {}, now: fixed });
    const line = (latencyMs: number) =>
      reporter.format({ event: 'processed', id: 'a', source: 'job', type: 'mail', queue: 'jobs', latencyMs });
    expect(line(900_069)).toBe('16:45:01 processed     job mail id=a queue=jobs 15m 0s');
    expect(line(60_000)).toBe('16:45:01 processed     job mail id=a queue=jobs 1m 0s');
    expect(line(7_384_000)).toBe('16:45:01 processed     job mail id=a queue=jobs 2h 3m');
    expect(line(59_999)).toBe('16:45:01 processed     job mail id=a queue=jobs 59999ms');
    expect(line(950.4)).toBe('16:45:01 processed     job mail id=a queue=jobs 950ms');
  });

  it('marks the line of a replayed copy with its run, so it does not pass for a new event', () => {
    const reporter = new Reporter({ json: false, color: false, write: () => {}, now: fixed });
    expect(
      reporter.format({
        event: 'processed',
        id: 'a',
        source: 'github',
        type: 'push',
        queue: 'events',
        attempt: 1,
        replayId: 'r-1',
        latencyMs: 86_400_000,
      }),
    ).toBe('16:45:01 processed     github push id=a queue=events attempt=1 replay=r-1 24h 0m');
  });

  it("shows the ingest's HTTP status on a queued line, as the README's example", () => {
    const reporter = new Reporter({ json: false, color: false, write: () => {}, now: fixed });
    expect(
      reporter.format({
        event: 'queued',
        id: '1795',
        source: 'github',
        type: 'push',
        queue: 'events',
        status: 202,
      }),
    ).toBe('16:45:01 queued        github push id=1795 queue=events status=202');
  });

  it('hands every event to each subscriber (the journal behind trace and the console) until it unsubscribes', () => {
    const reporter = new Reporter({ json: true, write: () => {} });
    const seen: string[] = [];
    const other: string[] = [];
    const unsubscribe = reporter.subscribe((e) => seen.push(`${e.event}:${e.id}`));
    reporter.subscribe((e) => other.push(`${e.event}:${e.id}`));
    reporter.event({ event: 'scheduled', id: 's1' });
    reporter.functionLog(
      'App-consumer-events',
      JSON.stringify({ message: 'record outcome', outcome: 'processed', id: 'e1' }),
      'events',
    );
    unsubscribe();
    reporter.event({ event: 'queued', id: 'e2' });
    expect(seen).toEqual(['scheduled:s1', 'processed:e1']);
    expect(other).toEqual(['scheduled:s1', 'processed:e1', 'queued:e2']);
  });

  it("reports local mode's own problems as error events in JSON and in red for a person", () => {
    const json: string[] = [];
    new Reporter({ json: true, write: (l) => json.push(l) }).problem('archive: bucket gone');
    expect(json.map((l) => JSON.parse(l))).toEqual([{ event: 'error', message: 'archive: bucket gone' }]);
    const human: string[] = [];
    new Reporter({ json: false, color: true, write: (l) => human.push(l) }).problem('archive: bucket gone');
    expect(human).toEqual(['\u001b[31marchive: bucket gone\u001b[0m']);
    const plain: string[] = [];
    new Reporter({ json: false, color: false, write: (l) => plain.push(l) }).problem('archive: bucket gone');
    expect(plain).toEqual(['archive: bucket gone']);
  });

  it("prints the handler's own frames under a failed record, not the runtime's that called it", () => {
    const lines: string[] = [];
    const reporter = new Reporter({ json: false, color: false, write: (l) => lines.push(l), now: fixed });
    const stack = [
      "TypeError: Cannot read properties of undefined (reading 'id')",
      '    at charge (/app/lambda/consumers/billing.ts:12:9)',
      '    at Object.stripe.invoice.paid (/app/lambda/consumers/events.ts:8:5)',
      '    at f1.runHandler (/app/lambda/consumer/core.ts:515:19)',
      '    at process.processTicksAndRejections (node:internal/process/task_queues:105:5)',
    ];
    const line = (error: unknown) =>
      JSON.stringify({
        level: 'INFO',
        message: 'record outcome',
        outcome: 'retried',
        id: 'a',
        source: 'stripe',
        type: 'invoice.paid',
        queue: 'events',
        attempt: 1,
        reason: "TypeError: Cannot read properties of undefined (reading 'id')",
        error,
      });
    reporter.functionLog('fn', line({ name: 'TypeError', stack: stack.join('\n') }), 'events');
    // Powertools' dev mode (POWERTOOLS_DEV) logs the stack as an array of lines.
    reporter.functionLog('fn', line({ name: 'TypeError', stack }), 'events');
    const expected = [
      "16:45:01 retried       stripe invoice.paid id=a queue=events attempt=1 (TypeError: Cannot read properties of undefined (reading 'id'))",
      '    at charge (/app/lambda/consumers/billing.ts:12:9)',
      '    at Object.stripe.invoice.paid (/app/lambda/consumers/events.ts:8:5)',
    ];
    expect(lines).toEqual([...expected, ...expected]);
  });

  it("prints the handler's frame, not the AWS SDK's, under a record an SDK call failed, and says so when none is the handler's", () => {
    const sdk = [
      'NoSuchBucket: The specified bucket does not exist',
      '    at cd.handleError (/app/node_modules/@aws-sdk/core/dist-es/submodules/protocols/xml/AwsRestXmlProtocol.js:74:27)',
      '    at async cd.deserializeResponse (/app/node_modules/@smithy/core/dist-es/submodules/protocols/HttpBindingProtocol.js:224:13)',
      '    at async <anonymous> (/app/node_modules/@smithy/core/dist-es/submodules/retry/middleware-retry/retryMiddleware.js:32:50)',
    ];
    const frames = (...rest: string[]) =>
      parseOutcomeLine(
        JSON.stringify({
          message: 'record outcome',
          outcome: 'retried',
          id: 'a',
          error: { name: 'NoSuchBucket', stack: [...sdk, ...rest].join('\n') },
        }),
      )?.frames;
    // The handler's own S3 call: its frame, below the SDK's in the async stack.
    expect(
      frames(
        '    at async onPush (/app/consumers/events.ts:16:3)',
        '    at async f1.runHandler (/app/node_modules/hookline/lambda/consumer/core.ts:515:19)',
      ),
    ).toEqual(['    at async onPush (/app/consumers/events.ts:16:3)']);
    // The runtime's own S3 call (a payload download): nothing of the handler's.
    expect(
      frames('    at async download (/app/node_modules/hookline/lambda/consumer/payload-download.ts:24:20)'),
    ).toEqual([
      'the AWS SDK threw this (what AWS answered is in the reason above); no frame of your code is in its stack',
    ]);
  });

  it('prints no frames under a failed record when a non-Error was thrown or the runtime itself refused it', () => {
    const frames = (error: unknown) =>
      parseOutcomeLine(
        JSON.stringify({ message: 'record outcome', outcome: 'dead-lettered', id: 'a', error }),
      )?.frames;
    expect(frames({ name: 'NonErrorThrown', message: 'no luck' })).toBeUndefined();
    expect(
      frames({
        name: 'UnknownEventTypeError',
        stack: 'UnknownEventTypeError: no handler\n    at f1.process (/app/lambda/consumer/core.ts:398:21)',
      }),
    ).toBeUndefined();
  });

  it("prints no frames under a forwarding consumer's failed record: the reason names the destination's answer", () => {
    const frames = (stack: string) =>
      parseOutcomeLine(
        JSON.stringify({
          message: 'record outcome',
          outcome: 'retried',
          id: 'a',
          error: { name: 'DestinationError', stack },
        }),
      )?.frames;
    const forwarded = [
      'DestinationError: HTTP 503 Service Unavailable from app.example.com: down',
      '    at Zqe (/app/lambda/forward/core.ts:179:17)',
      '    at async <anonymous> (/app/lambda/forward/core.ts:235:21)',
      '    at async f1.runHandler (/app/lambda/consumer/core.ts:515:19)',
    ];
    expect(frames(forwarded.join('\n'))).toBeUndefined();
    // Installed: hookline's files are the package's.
    expect(
      frames(forwarded.join('\n').replaceAll('/app/lambda/', '/app/node_modules/hookline/dist/lambda/')),
    ).toBeUndefined();
  });

  describe('without options, as npm start makes it', () => {
    const tty = process.stdout.isTTY;
    afterEach(() => {
      vi.unstubAllEnvs();
      vi.restoreAllMocks();
      vi.useRealTimers();
      process.stdout.isTTY = tty;
    });
    const written = () => {
      const lines: string[] = [];
      vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
        lines.push(String(chunk));
        return true;
      });
      return lines;
    };
    /** Human lines on a TTY whose TERM is `term`, NO_COLOR unset, at 16:45:01: what stdout was written. */
    const onTerminal = (term: string) => {
      vi.stubEnv('HOOKLINE_LOG', '');
      vi.stubEnv('NO_COLOR', '');
      vi.stubEnv('TERM', term);
      process.stdout.isTTY = true;
      const lines = written();
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(new Date('2026-11-25T16:45:01Z'));
      return lines;
    };

    it('writes JSON lines to stdout with HOOKLINE_LOG=json, and never colours them', () => {
      vi.stubEnv('HOOKLINE_LOG', 'json');
      vi.stubEnv('NO_COLOR', '');
      process.stdout.isTTY = true;
      const lines = written();
      const reporter = new Reporter();
      reporter.event({ event: 'processed', id: 'a' });
      expect(reporter.json).toBe(true);
      expect(lines).toEqual(['{"event":"processed","id":"a"}\n']);
    });

    it('writes human lines with the current time, coloured on a TTY unless NO_COLOR is set', () => {
      const lines = onTerminal('xterm-256color');
      new Reporter().event({ event: 'processed', id: 'a' });
      vi.stubEnv('NO_COLOR', '1');
      new Reporter().event({ event: 'processed', id: 'b' });
      process.stdout.isTTY = false;
      vi.stubEnv('NO_COLOR', '');
      new Reporter().event({ event: 'processed', id: 'c' });
      expect(lines).toEqual([
        '\u001b[2m16:45:01\u001b[0m \u001b[32mprocessed    \u001b[0m id=a\n',
        '16:45:01 processed     id=b\n',
        '16:45:01 processed     id=c\n',
      ]);
    });

    it('writes no colour codes on a TERM=dumb terminal (an editor buffer), as the CLI does not', () => {
      const lines = onTerminal('dumb');
      new Reporter().event({ event: 'processed', id: 'a' });
      expect(lines).toEqual(['16:45:01 processed     id=a\n']);
      expect(colorsFor(true).red('x')).toBe('x');
    });

    it("shows other functions' lines only with HOOKLINE_VERBOSE=1", () => {
      vi.stubEnv('HOOKLINE_LOG', '');
      const lines = written();
      vi.stubEnv('HOOKLINE_VERBOSE', '');
      new Reporter({ color: false }).functionLog('App-ingest', 'quiet');
      vi.stubEnv('HOOKLINE_VERBOSE', '1');
      new Reporter({ color: false }).functionLog('App-ingest', 'loud');
      expect(lines).toEqual(['[App-ingest] loud\n']);
    });
  });

  it('classifies a line as the deployed logs do: its WARN or ERROR level in JSON, and painted as its level for a person', () => {
    const line = (level: string, outcome: string, extra: Record<string, unknown> = {}) =>
      JSON.stringify({ level, message: 'record outcome', outcome, id: 'l1', queue: 'events', ...extra });
    expect(parseOutcomeLine(line('WARN', 'retried'))).toMatchObject({ event: 'retried', level: 'WARN' });
    expect(parseOutcomeLine(line('ERROR', 'dead-lettered'))).toMatchObject({ level: 'ERROR' });
    expect(parseOutcomeLine(line('INFO', 'processed'))).not.toHaveProperty('level');
    expect(parseOutcomeLine(line('DEBUG', 'processed'))).not.toHaveProperty('level');
    const ingest503 = JSON.stringify({
      level: 'ERROR',
      message: 'webhook outcome',
      outcome: 'failed',
      source: 'github',
      status: 503,
      reason: 'enqueue_failed',
      sampling_rate: 0,
    });
    expect(parseOutcomeLine(ingest503)).toMatchObject({ event: 'failed', status: 503, level: 'ERROR' });

    const human: string[] = [];
    const reporter = new Reporter({ json: false, color: true, write: (l) => human.push(l), now: fixed });
    // A record deferred on its last receive: SQS moves it to the DLQ, so its line is ERROR, and red.
    reporter.functionLog('App-consumer-events', line('ERROR', 'deferred', { attempt: 3 }), 'events');
    reporter.functionLog('App-consumer-events', line('INFO', 'deferred', { attempt: 1 }), 'events');
    expect(human[0]).toContain('\u001b[31mdeferred');
    expect(human[1]).toContain('\u001b[33mdeferred');
    const json: string[] = [];
    new Reporter({ json: true, write: (l) => json.push(l) }).functionLog('App-ingest', ingest503);
    expect(JSON.parse(json[0] ?? '{}')).toMatchObject({ event: 'failed', level: 'ERROR' });
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

  it("shows a consumer's own lines by default under its queue, readable, and hides its metric lines", () => {
    const lines: string[] = [];
    const reporter = new Reporter({ json: false, color: false, verbose: false, write: (l) => lines.push(l) });
    reporter.functionLog('App-consumer-events', 'hello from my consumer', 'events');
    reporter.functionLog(
      'App-consumer-events',
      '{"level":"INFO","message":"push received","timestamp":"2026-11-30T16:51:52.000Z","service":"events","cold_start":false,"function_name":"App-consumer-events","function_request_id":"r-1","sampling_rate":0,"ref":"main","id":"e1"}',
      'events',
    );
    reporter.functionLog('App-consumer-events', '{"_aws":{"CloudWatchMetrics":[]},"Processed":1}', 'events');
    expect(lines).toEqual([
      '[events] hello from my consumer',
      '[events] INFO push received {"ref":"main","id":"e1"}',
    ]);
  });

  it("shows a consumer's line that is not a structured logger line as written, and skips blank lines", () => {
    const lines: string[] = [];
    const reporter = new Reporter({ json: false, color: false, verbose: false, write: (l) => lines.push(l) });
    for (const line of [
      'null',
      '42',
      '{not json',
      '{"message":"no level"}',
      '{"level":"INFO"}',
      '   ',
      '',
      JSON.stringify({
        level: 'WARN',
        message: 'only invocation keys',
        timestamp: '2026-11-30T16:51:52.000Z',
        service: 'events',
        cold_start: true,
        function_arn: 'arn:aws:lambda:us-east-1:000000000000:function:App-consumer-events',
        function_memory_size: '1024',
        function_name: 'App-consumer-events',
        function_request_id: 'r-1',
        sampling_rate: 0,
        xray_trace_id: '1-abc',
      }),
    ])
      reporter.functionLog('App-consumer-events', line, 'events');
    expect(lines).toEqual([
      '[events] null',
      '[events] 42',
      '[events] {not json',
      '[events] {"message":"no level"}',
      '[events] {"level":"INFO"}',
      '[events] WARN only invocation keys',
    ]);
  });

  it("shows another function's structured line as written when verbose (only a consumer's is made readable)", () => {
    const lines: string[] = [];
    const line = '{"level":"INFO","message":"webhook outcome detail","service":"ingest"}';
    new Reporter({ json: false, color: false, verbose: true, write: (l) => lines.push(l) }).functionLog(
      'App-ingest',
      line,
    );
    expect(lines).toEqual([`[App-ingest] ${line}`]);
  });

  it("gives a consumer's line its queue in JSON mode", () => {
    const lines: string[] = [];
    new Reporter({ json: true, verbose: false, write: (l) => lines.push(l) }).functionLog(
      'App-consumer-events',
      'hello',
      'events',
    );
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      { event: 'log', function: 'App-consumer-events', queue: 'events', line: 'hello' },
    ]);
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

  it("refuses a set secret its own source's sender could not verify with, each secret of a rotation list checked", () => {
    const sources = [
      { name: 'github', type: 'github' },
      { name: 'standard', type: 'standard-webhooks' },
    ] as const;
    const key = defaultDevSecret({ name: 'standard', type: 'standard-webhooks' });
    // `whsec_` with no key bytes is a usable GitHub secret but no Standard Webhooks key.
    const problems = localSecretProblems(sources, {
      HOOKLINE_SECRET_GITHUB: 'whsec_',
      HOOKLINE_SECRET_STANDARD: JSON.stringify({ secrets: [key, 'whsec_'] }),
    });
    expect(problems).toEqual([
      `HOOKLINE_SECRET_STANDARD (source standard): ${signingSecretProblem('standard-webhooks', 'whsec_')}`,
    ]);
    expect(localSecretProblems(sources, { HOOKLINE_SECRET_STANDARD: key })).toEqual([]);
  });

  it('refuses a secret set empty instead of verifying with the development default', () => {
    const sources = [{ name: 'github', type: 'github' }] as const;
    expect(localSecrets(sources, { HOOKLINE_SECRET_GITHUB: '' }).github).toEqual({
      envName: 'HOOKLINE_SECRET_GITHUB',
      value: '',
      isDefault: false,
    });
    expect(localSecretProblems(sources, { HOOKLINE_SECRET_GITHUB: '' })).toEqual([
      'HOOKLINE_SECRET_GITHUB (source github): the secret is empty (or only whitespace)',
    ]);
  });
});

describe('batchEvents: what the event source mapping reports when the consumer could not', () => {
  const attributes = (values: Record<string, string>) =>
    Object.fromEntries(Object.entries(values).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]));
  const webhook = toLambdaRecord(
    {
      MessageId: 'sqs-message-1',
      ReceiptHandle: 'rh-1',
      Body: '{}',
      Attributes: { ApproximateReceiveCount: '2' },
      MessageAttributes: attributes({
        'hookline.id': 'delivery-7',
        'hookline.source': 'github',
        'hookline.type': 'push',
        'hookline.replay': 'replay-3',
      }),
    },
    'arn:aws:sqs:us-east-1:000000000000:q',
    'us-east-1',
  );
  const foreign = toLambdaRecord(
    {
      MessageId: 'sqs-message-2',
      ReceiptHandle: 'rh-2',
      Body: 'x',
      Attributes: { ApproximateReceiveCount: '5' },
    },
    'arn:aws:sqs:us-east-1:000000000000:q',
    'us-east-1',
  );
  const standardQueue = { maxReceiveCount: 5, fifo: false, idempotent: true };
  /** A queue on which every record of these batches has receives left: a finished one is left to the batch response. */
  const roomyQueue = { ...standardQueue, maxReceiveCount: 10 };
  const timedOut: InvokeResult = {
    ok: false,
    kind: 'timeout',
    error: { errorType: 'TimeoutError', errorMessage: 'Task timed out after 5.00 seconds' },
    durationMs: 5000,
    coldStart: false,
  };

  /** The report of the events consumer's batch of `records` (the two above by default) that ended in `result`. */
  const reportOf = (result: InvokeResult, records = [webhook, foreign]) => ({
    consumer: 'events',
    records: records.length,
    disposition: disposeBatch(records, result),
    result,
  });
  /** The report of a batch that timed out after the consumer logged `recordOutcomes`, in `outcomeLines` lines. */
  const timedOutReport = (recordOutcomes: Record<string, string>, outcomeLines?: number) =>
    reportOf({ ...timedOut, ...(outcomeLines === undefined ? {} : { outcomeLines }), recordOutcomes });
  /** An invocation that answered, after `durationMs`, with `batchItemFailures` naming `failed`, and logged no outcome. */
  const answeredFailing = (failed: string, durationMs: number): InvokeResult => ({
    ok: true,
    value: { batchItemFailures: [{ itemIdentifier: failed }] },
    durationMs,
    coldStart: false,
    outcomeLines: 0,
  });

  it('names a timed-out record by the event id it carries (what trace and failed show look up), not the SQS message id', () => {
    const events = batchEvents(reportOf(timedOut), standardQueue);
    expect(events).toEqual([
      {
        event: 'retried',
        id: 'delivery-7',
        source: 'github',
        type: 'push',
        replayId: 'replay-3',
        queue: 'events',
        attempt: 2,
        reason: 'timeout: Task timed out after 5.00 seconds',
      },
      // Sent by something other than hookline: the SQS message id is all there is.
      {
        event: 'dead-lettered',
        id: 'sqs-message-2',
        queue: 'events',
        attempt: 5,
        reason:
          'timeout: Task timed out after 5.00 seconds; SQS moves it to the DLQ after its visibility timeout',
      },
    ]);
  });

  it('after a timeout, reports only the records that had not finished, and says the finished ones come back', () => {
    // The finished record's outcome line was written before the timeout, as a sandbox counts it.
    const report = timedOutReport({ 'sqs-message-2': 'processed' }, 1);
    const reasons = (queue: typeof roomyQueue) => batchEvents(report, queue).map((e) => [e.id, e.reason]);
    expect(reasons(roomyQueue)).toEqual([
      [
        'delivery-7',
        'timeout: Task timed out after 5.00 seconds; 1 record of the batch had finished and comes back with it: idempotency skips it',
      ],
    ]);
    expect(reasons({ ...roomyQueue, idempotent: false })).toEqual([
      [
        'delivery-7',
        'timeout: Task timed out after 5.00 seconds; 1 record of the batch had finished and comes back with it: it runs again (idempotency is off)',
      ],
    ]);
    // A FIFO consumer deleted the finished record itself: nothing comes back but the unfinished one.
    expect(reasons({ ...roomyQueue, fifo: true })).toEqual([
      ['delivery-7', 'timeout: Task timed out after 5.00 seconds'],
    ]);
  });

  it('does not say a record finished on its last receive comes back: the consumer deleted it itself', () => {
    const report = timedOutReport({ 'sqs-message-2': 'processed' }, 1);
    // `foreign` is on its 5th receive of 5.
    expect(batchEvents(report, standardQueue).map((e) => [e.id, e.reason])).toEqual([
      ['delivery-7', 'timeout: Task timed out after 5.00 seconds'],
    ]);
  });

  it('a record the consumer retried or dead-lettered itself is not reported a second time', () => {
    const report = timedOutReport({ 'sqs-message-1': 'retried', 'sqs-message-2': 'dead-lettered' });
    expect(batchEvents(report, standardQueue)).toEqual([]);
    // Neither was left to the batch response, so nothing finished comes back.
    expect(batchNotice(report, standardQueue)).toBeUndefined();
  });

  it('when every record had finished before the timeout, a notice says the whole batch comes back', () => {
    const report = timedOutReport({ 'sqs-message-1': 'processed', 'sqs-message-2': 'duplicate' });
    expect(batchEvents(report, roomyQueue)).toEqual([]);
    expect(batchNotice(report, roomyQueue)).toBe(
      'consumer events: the invocation timed out after every record had finished (Task timed out after 5.00 seconds); 2 records of the batch had finished and come back with it: idempotency skips them',
    );
    expect(batchNotice(report, { ...roomyQueue, fifo: true })).toBeUndefined();
    // With a record still unfinished, its own event carries the explanation instead.
    const partial: InvokeResult = { ...timedOut, recordOutcomes: { 'sqs-message-2': 'processed' } };
    expect(batchNotice(reportOf(partial), roomyQueue)).toBeUndefined();
  });

  // As a sandbox reports them: the user's frames, then local mode's worker bootstrap and Node's internals.
  const threw: InvokeResult = {
    ok: false,
    kind: 'error',
    error: {
      errorType: 'TypeError',
      errorMessage: 'boom outside any record',
      stack: [
        'TypeError: boom outside any record',
        '    at loadRates (/app/lambda/consumers/rates.ts:7:11)',
        '    at handler (/app/lambda/consumers/events.ts:20:3)',
        '    at w (file:///app/.hookline/build/events/_runtime/function-worker.mjs:3:1076)',
        '    at MessagePort.<anonymous> (node:internal/per_context/messageport:23:28)',
        // An anonymous function of Node's: V8 writes its location without parentheses.
        '    at node:internal/event_target:1090:20',
      ].join('\n'),
    },
    durationMs: 12,
    coldStart: false,
  };
  const crashed: InvokeResult = {
    ...threw,
    kind: 'crash',
    error: {
      errorType: 'Runtime.UnhandledError',
      errorMessage: 'uncaught in a timer',
      stack:
        'Error: uncaught in a timer\n    at Timeout._onTimeout (/app/lambda/consumers/events.ts:31:15)\n    at listOnTimeout (node:internal/timers:685:17)',
    },
  };

  it("prints the consumer's own frames once under a batch whose invocation threw outside any record or crashed", () => {
    const lines: string[] = [];
    const reporter = new Reporter({ json: false, color: false, write: (l) => lines.push(l), now: fixed });
    for (const result of [threw, crashed]) {
      const report = reportOf(result);
      for (const event of batchEvents(report, standardQueue)) reporter.event(event);
    }
    expect(lines).toEqual([
      '16:45:01 retried       github push id=delivery-7 queue=events attempt=2 replay=replay-3 (error: boom outside any record)',
      '    at loadRates (/app/lambda/consumers/rates.ts:7:11)',
      '    at handler (/app/lambda/consumers/events.ts:20:3)',
      '16:45:01 dead-lettered id=sqs-message-2 queue=events attempt=5 (error: boom outside any record; SQS moves it to the DLQ after its visibility timeout)',
      '16:45:01 retried       github push id=delivery-7 queue=events attempt=2 replay=replay-3 (crash: uncaught in a timer)',
      '    at Timeout._onTimeout (/app/lambda/consumers/events.ts:31:15)',
      '16:45:01 dead-lettered id=sqs-message-2 queue=events attempt=5 (crash: uncaught in a timer; SQS moves it to the DLQ after its visibility timeout)',
    ]);
    // Every record had finished: the notice that the batch comes back says where it threw.
    const finished: InvokeResult = {
      ...crashed,
      recordOutcomes: { 'sqs-message-1': 'processed', 'sqs-message-2': 'processed' },
    };
    expect(batchNotice(reportOf(finished), roomyQueue)).toBe(
      'consumer events: the invocation failed (crash) after every record had finished (uncaught in a timer); 2 records of the batch had finished and come back with it: idempotency skips them\n    at Timeout._onTimeout (/app/lambda/consumers/events.ts:31:15)',
    );
  });

  it('prints no frames under a batch that timed out, whose sandbox exited, or that the runtime itself failed', () => {
    const frames = (result: InvokeResult) =>
      batchEvents(reportOf(result, [webhook]), standardQueue).map((e) => e.frames);
    // Nothing threw in a timeout: whatever stack came with it is not where the consumer was.
    expect(
      frames({ ...timedOut, error: { ...timedOut.error, stack: threw.ok ? '' : threw.error.stack } }),
    ).toEqual([undefined]);
    expect(
      frames({
        ...crashed,
        error: {
          errorType: 'Runtime.ExitError',
          errorMessage: 'RequestId: exited with status 3 before completing the request',
        },
      }),
    ).toEqual([undefined]);
    expect(
      frames({
        ...threw,
        error: {
          errorType: 'Error',
          errorMessage: 'cannot report a failed record without a valid messageId (null)',
          stack:
            'Error: cannot report a failed record\n    at checkedFailures (/app/node_modules/hookline/lambda/consumer/core.ts:690:13)',
        },
      }),
    ).toEqual([undefined]);
  });

  it('counts a cancelled job among the finished records that come back with a failed batch', () => {
    const report = timedOutReport({ 'sqs-message-2': 'cancelled' }, 1);
    expect(batchEvents(report, roomyQueue).map((e) => e.reason)).toEqual([
      'timeout: Task timed out after 5.00 seconds; 1 record of the batch had finished and comes back with it: idempotency skips it',
    ]);
  });

  it('says that two finished records run again when idempotency is off', () => {
    const report = timedOutReport({ 'sqs-message-1': 'processed', 'sqs-message-2': 'processed' }, 2);
    expect(batchNotice(report, { ...roomyQueue, idempotent: false })).toBe(
      'consumer events: the invocation timed out after every record had finished (Task timed out after 5.00 seconds); 2 records of the batch had finished and come back with it: they run again (idempotency is off)',
    );
  });

  it('reports each record of a handler that logs no outcomes: processed, or retried or dead-lettered from its batchItemFailures', () => {
    const ok = answeredFailing('sqs-message-2', 7);
    const report = reportOf(ok);
    expect(batchEvents(report, standardQueue)).toEqual([
      {
        event: 'processed',
        id: 'delivery-7',
        source: 'github',
        type: 'push',
        replayId: 'replay-3',
        queue: 'events',
        latencyMs: 7,
      },
      {
        event: 'dead-lettered',
        id: 'sqs-message-2',
        queue: 'events',
        attempt: 5,
        reason: 'reported in batchItemFailures; SQS moves it to the DLQ after its visibility timeout',
      },
    ]);
    expect(batchEvents(report, { ...standardQueue, maxReceiveCount: 6 }).map((e) => e.event)).toEqual([
      'processed',
      'retried',
    ]);
    // Nothing failed the invocation: no notice about records coming back.
    expect(batchNotice(report, standardQueue)).toBeUndefined();
  });

  it("counts a receive once when the consumer's own line for it comes after local mode reported it", () => {
    const answered = answeredFailing('sqs-message-1', 950);
    const report = reportOf(answered, [webhook]);
    const events: string[] = [];
    const lines: string[] = [];
    const reporter = new Reporter({ json: false, color: false, write: (l) => lines.push(l), now: fixed });
    reporter.subscribe((e) => events.push(`${e.event} ${e.attempt} ${e.reason}`));
    const selfReported = new SelfReportedReceives();
    for (const { receive, event } of batchReceiveEvents(report, { ...standardQueue, maxReceiveCount: 3 })) {
      selfReported.remember(receive);
      reporter.event(event);
    }
    const consumerLine = (receive: number) =>
      JSON.stringify({
        level: 'WARN',
        message: 'record outcome',
        outcome: 'retried',
        id: 'delivery-7',
        queue: 'events',
        attempt: 2,
        messageId: 'sqs-message-1',
        ...(receive !== 2 ? { receive } : {}),
        reason: 'TypeError: boom',
        error: { stack: ['TypeError: boom', '    at handler (/app/src/consumer.ts:3:9)'] },
      });
    // The receive the consumer reports late: a note with what it knew, not a second event.
    reporter.functionLog('App-consumer-events', consumerLine(2), 'events', selfReported);
    expect(events).toEqual(['retried 2 reported in batchItemFailures']);
    expect(lines.slice(1)).toEqual([
      'consumer events: its own line for id=delivery-7 attempt=2 came after the batch was answered, and that receive is reported above (counted once): retried (TypeError: boom)',
      '    at handler (/app/src/consumer.ts:3:9)',
    ]);
    // Once only, and never for another receive of the same message: those are events of their own.
    reporter.functionLog('App-consumer-events', consumerLine(2), 'events', selfReported);
    reporter.functionLog('App-consumer-events', consumerLine(3), 'events', selfReported);
    expect(events).toEqual([
      'retried 2 reported in batchItemFailures',
      'retried 2 TypeError: boom',
      'retried 2 TypeError: boom',
    ]);
  });

  it('names an invalid batch response as the reason every record comes back, not a failure the consumer reported', () => {
    const returned = answeredFailing('', 7);
    const report = reportOf(returned);
    const reason =
      'invalid batch response: itemIdentifier "" is not the messageId of a record in the batch, so Lambda fails the whole batch';
    expect(batchEvents(report, standardQueue)).toEqual([
      expect.objectContaining({ event: 'retried', id: 'delivery-7', attempt: 2, reason }),
      expect.objectContaining({
        event: 'dead-lettered',
        id: 'sqs-message-2',
        attempt: 5,
        reason: `${reason}; SQS moves it to the DLQ after its visibility timeout`,
      }),
    ]);
  });

  it('says of a record that used its last receive that SQS, not the consumer, moves it to the DLQ, and when', () => {
    const events = batchEvents(reportOf(timedOut, [foreign]), {
      ...standardQueue,
      visibilityTimeoutSeconds: 180,
    });
    expect(events.map((e) => [e.event, e.reason])).toEqual([
      [
        'dead-lettered',
        'timeout: Task timed out after 5.00 seconds; SQS moves it to the DLQ after its visibility timeout (180 s)',
      ],
    ]);
  });

  it('adds no notice to a failed batch whose consumer reported no record (each record has its own event)', () => {
    const report = reportOf(timedOut);
    expect(batchNotice(report, standardQueue)).toBeUndefined();
  });

  it('adds nothing when the consumer logged its own record outcomes', () => {
    const ok: InvokeResult = { ok: true, value: {}, durationMs: 3, coldStart: false, outcomeLines: 1 };
    expect(batchEvents(reportOf(ok, [webhook]), standardQueue)).toEqual([]);
  });
});
