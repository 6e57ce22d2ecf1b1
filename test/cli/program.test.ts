import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetEventSourceMappingCommand, UpdateEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import {
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  PurgeQueueCommand,
  SendMessageBatchCommand,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { CliError, LOCAL_ANSWER_SECONDS, USAGE_EXIT_CODE } from '../../lib/cli/errors';
import { failureKey } from '../../lib/cli/failure-groups';
import { processInterrupts } from '../../lib/cli/interrupt';
import { colorsFor, consoleOutput, renderBar, table, watchClosedPipes } from '../../lib/cli/output';
import { runCli } from '../../lib/cli/program';
import { installFakeQueue } from './fake-queue';
import {
  awsError,
  cliHarness,
  deadLetterMessage,
  EVENTS,
  fakeInterrupts,
  localTestTarget,
  mockCommandClients,
  recordingOutput,
  stackTarget,
  testBackend,
} from './helpers';

const { sqs, lambda, cloudwatch } = mockCommandClients();

const depth = {
  Attributes: {
    ApproximateNumberOfMessages: '2',
    ApproximateNumberOfMessagesNotVisible: '0',
    ApproximateNumberOfMessagesDelayed: '0',
  },
};

/** Console output whose stdout is dropped and whose stderr (notes, the progress bar) is kept in `err`. */
function stderrCaptured(options: { json?: boolean; isTTY?: boolean; env?: Record<string, string> } = {}): {
  output: ReturnType<typeof consoleOutput>;
  err: string[];
} {
  const err: string[] = [];
  const output = consoleOutput({
    json: options.json ?? false,
    stdout: { write: () => true },
    stderr: { write: (t: string) => err.push(t), ...(options.isTTY ? { isTTY: true } : {}) },
    env: options.env ?? {},
  });
  return { output, err };
}

describe('hookline program', () => {
  it('status --json prints one JSON document and passes the target options', async () => {
    sqs.on(GetQueueAttributesCommand).resolves(depth);
    lambda.on(GetEventSourceMappingCommand).resolves({ State: 'Enabled' });
    cloudwatch.on(GetMetricDataCommand).resolves({});
    const h = cliHarness();
    const code = await runCli(['status', '--json', '--stack', 'Prod', '--region', 'eu-west-1'], h.deps);
    expect(code).toBe(0);
    expect(JSON.parse(h.stdout()).queues).toHaveLength(2);
    expect(h.connects).toEqual([{ stack: 'Prod', region: 'eu-west-1' }]);
  });

  it('refuses --local together with --stack or --region instead of ignoring one', async () => {
    for (const flags of [
      ['--stack', 'Prod'],
      ['--region', 'eu-west-1'],
    ]) {
      const h = cliHarness();
      expect(await runCli(['status', '--local', ...flags], h.deps)).toBe(USAGE_EXIT_CODE);
      expect(h.stderr()).toMatch(/--local and --(stack|region) name different targets/);
    }
  });

  it('refuses an empty --stack, --region or --config (an unset variable) instead of acting on the default target', async () => {
    sqs.on(GetQueueAttributesCommand).resolves(depth);
    sqs.on(PurgeQueueCommand).resolves({});
    for (const [flag, placeholder] of [
      ['--stack', '<name>'],
      ['--region', '<region>'],
      ['--config', '<path>'],
    ]) {
      for (const value of ['', ' ']) {
        const h = cliHarness();
        expect(await runCli(['purge', 'events', '--yes', flag ?? '', value], h.deps)).toBe(USAGE_EXIT_CODE);
        expect(h.stderr()).toContain(
          `option '${flag} ${placeholder}' argument '${value}' is invalid. it is empty: give a value, or leave it out`,
        );
        expect(h.connects).toEqual([]);
      }
    }
    expect(sqs).not.toReceiveCommand(PurgeQueueCommand);
  });

  it('refuses --stack, --region or --config given twice instead of acting on the last one named', async () => {
    sqs.on(GetQueueAttributesCommand).resolves(depth);
    sqs.on(PurgeQueueCommand).resolves({});
    for (const [flag, placeholder, first, second] of [
      ['--stack', '<name>', 'TeamA', 'TeamB'],
      ['--region', '<region>', 'eu-central-1', 'ap-southeast-2'],
      ['--config', '<path>', 'a.config.ts', 'b.config.ts'],
    ] as const) {
      const h = cliHarness();
      expect(await runCli(['purge', 'events', '--yes', flag, first, flag, second], h.deps)).toBe(
        USAGE_EXIT_CODE,
      );
      expect(h.stderr()).toContain(
        `option '${flag} ${placeholder}' argument '${second}' is invalid. it is given twice ("${first}", then "${second}"): give it once`,
      );
      expect(h.connects).toEqual([]);
    }
    expect(sqs).not.toReceiveCommand(PurgeQueueCommand);
  });

  it('refuses a flag taken as the value of the option before it (--id "$ID" --local with ID unset) instead of acting on the default stack', async () => {
    for (const [args, flag, placeholder, value] of [
      [['redrive', 'events', '--id', '--local'], '--id', '<ids...>', '--local'],
      [['redrive', 'events', '--type', '--local'], '--type', '<pattern>', '--local'],
      [['failed', 'list', 'events', '--failure', '--local'], '--failure', '<key>', '--local'],
      [['failed', 'delete', 'events', '--yes', '--id', '--local'], '--id', '<ids...>', '--local'],
      [['failed', 'delete', 'events', '--yes', '--id=--local'], '--id', '<ids...>', '--local'],
      [['jobs', 'list', '--queue', '--local'], '--queue', '<name>', '--local'],
      [['trace', 'evt-1', '--source', '--local'], '--source', '<source>', '--local'],
      [['status', '--stack', '--local'], '--stack', '<name>', '--local'],
      [['redrive', 'events', '--limit', '--json'], '--limit', '<n>', '--json'],
    ] as const) {
      const h = cliHarness();
      expect(await runCli([...args], h.deps), args.join(' ')).toBe(USAGE_EXIT_CODE);
      expect(h.stderr()).toContain(
        `option '${flag} ${placeholder}' argument '${value}' is invalid. it looks like an option: give ${flag} a value`,
      );
      expect(h.connects).toEqual([]);
    }
    // A value with one leading dash, and the values of a variadic option before the next flag, are still values.
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [deadLetterMessage(1, { id: '-x' })]);
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
      Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: 'm', MD5OfMessageBody: '' })),
    }));
    const h = cliHarness();
    expect(await runCli(['redrive', 'events', '--id', '-x', 'evt-gone', '--json'], h.deps)).toBe(1);
    expect(JSON.parse(h.stdout())).toMatchObject({ moved: 1, notFound: ['evt-gone'] });
  });

  it("refuses a stack's CDK path as --stack (cdk list's Prod/Webhooks) with the stack's name, before any AWS call", async () => {
    sqs.on(GetQueueAttributesCommand).resolves(depth);
    const h = cliHarness();
    expect(await runCli(['status', '--stack', 'Prod/Webhooks'], h.deps)).toBe(USAGE_EXIT_CODE);
    expect(h.stderr()).toContain(
      `option '--stack <name>' argument 'Prod/Webhooks' is invalid. it is a CDK path, not a stack name (CloudFormation names have no "/"): give the name cdk list prints after it in brackets, for a stack in a Stage "Prod-Webhooks"`,
    );
    expect(h.connects).toEqual([]);
    // A stack's ARN (its id, which CloudFormation takes too) is not a path.
    const arn = 'arn:aws:cloudformation:us-east-1:123456789012:stack/Prod-Webhooks/0b1c2d3e';
    const byArn = cliHarness();
    await runCli(['status', '--stack', arn], byArn.deps);
    expect(byArn.stderr()).not.toContain('CDK path');
  });

  it('refuses an empty --config on cost and dev too, before any configuration is loaded', async () => {
    for (const command of [['cost', '--per-month', '10M'], ['dev']]) {
      const h = cliHarness({
        loadConfig: async () => {
          throw new Error('the configuration must not be loaded');
        },
      });
      expect(await runCli([...command, '--config', ''], h.deps)).toBe(USAGE_EXIT_CODE);
      expect(h.stderr()).toContain(
        "option '--config <path>' argument '' is invalid. it is empty: give a value, or leave it out",
      );
      expect(h.stdout()).toBe('');
    }
  });

  it('refuses a folder given as --config on every target, --local too, naming the file to give', async () => {
    const folder = tmpdir();
    for (const command of [
      ['status', '--local'],
      ['status', '--stack', 'Prod'],
      ['jobs', 'list', '--local', '--json'],
    ]) {
      const h = cliHarness();
      expect(await runCli([...command, '--config', folder], h.deps), command.join(' ')).toBe(1);
      expect(h.stderr()).toBe(
        `error: ${folder} is a folder, not a configuration: give the path of the configuration file in it, such as ${join(folder, 'hookline.config.ts')} (--config, or HOOKLINE_CONFIG)\n`,
      );
      expect(h.connects).toEqual([]);
    }
  });

  it('refuses a --config with nothing at it on every target, --local too, with the error send and loading give', async () => {
    const missing = join(tmpdir(), `hookline-no-such-${process.pid}.config.ts`);
    const error = `error: no configuration at ${missing}: create it, or give the path of your configuration (--config, or HOOKLINE_CONFIG)\n`;
    for (const command of [
      ['status', '--local'],
      ['failed', 'list', 'events', '--local'],
      ['failed', 'summary', 'events', '--local'],
      ['failed', 'show', 'events', 'evt-1', '--local'],
      ['redrive', 'events', '--id', 'zzz', '--local'],
      ['jobs', 'list', '--local'],
      ['trace', 'evt-1', '--local'],
      ['status', '--stack', 'Prod'],
    ]) {
      const h = cliHarness();
      expect(await runCli([...command, '--config', missing], h.deps), command.join(' ')).toBe(1);
      expect(h.stderr()).toBe(error);
      expect(h.stdout()).toBe('');
      expect(h.connects).toEqual([]);
    }
    // A path relative to the working directory that is there is taken as before.
    const h = cliHarness();
    sqs.on(GetQueueAttributesCommand).resolves(depth);
    lambda.on(GetEventSourceMappingCommand).resolves({ State: 'Enabled' });
    cloudwatch.on(GetMetricDataCommand).resolves({});
    expect(await runCli(['status', '--config', 'hookline.config.ts'], h.deps)).toBe(0);
    expect(h.connects).toEqual([{ config: 'hookline.config.ts' }]);
  });

  it("failed list job_schedules reads the one-time job schedules' dead-letter queue; redrive job_schedules refuses (exit 1)", async () => {
    const deadLetterUrl = 'https://sqs.us-east-1.amazonaws.com/123456789012/Hookline-JobSchedulesDlq';
    const message = deadLetterMessage(7, { error: false });
    installFakeQueue(sqs, deadLetterUrl, [
      {
        ...message,
        MessageAttributes: {
          ERROR_CODE: { DataType: 'String', StringValue: 'AccessDenied' },
          ERROR_MESSAGE: { DataType: 'String', StringValue: 'not authorized to send' },
        },
      },
    ]);
    const withJobSchedules = cliHarness({
      connect: async (_options, output) => ({
        target: {
          ...stackTarget(),
          jobSchedulesDeadLetterQueue: {
            name: 'job_schedules',
            deadLetterUrl,
            deadLetterArn: 'arn:aws:sqs:us-east-1:123456789012:Hookline-JobSchedulesDlq',
          },
        },
        backend: testBackend({ output }),
      }),
    });
    expect(await runCli(['failed', 'list', 'job_schedules'], withJobSchedules.deps)).toBe(0);
    expect(withJobSchedules.stdout()).toMatch(
      /job_schedules dead-letter queue.*\n[\s\S]*evt-7[\s\S]*AccessDenied: not authorized to send/,
    );
    expect(await runCli(['redrive', 'job_schedules'], withJobSchedules.deps)).toBe(1);
    expect(withJobSchedules.stderr()).toMatch(/the job_schedules dead-letter queue cannot be redriven/);
  });

  it("status --json and failed list schedule:<name> read a schedule's dead-letter queue", async () => {
    const deadLetterUrl = 'https://sqs.us-east-1.amazonaws.com/123456789012/Hookline-HeartbeatDlq';
    const message = deadLetterMessage(8, { error: false });
    // Every other queue as \`depth\` says; the schedule's DLQ holds the one message below.
    sqs.on(GetQueueAttributesCommand).resolves(depth);
    lambda.on(GetEventSourceMappingCommand).resolves({ State: 'Enabled' });
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    installFakeQueue(sqs, deadLetterUrl, [
      {
        ...message,
        MessageAttributes: {
          ERROR_CODE: { DataType: 'String', StringValue: 'AccessDenied' },
          ERROR_MESSAGE: { DataType: 'String', StringValue: 'not authorized to send' },
        },
      },
    ]);
    const holds = 'deliveries of schedule heartbeat to the events queue Scheduler gave up on';
    const withSchedule = cliHarness({
      connect: async (_options, output) => ({
        target: {
          ...stackTarget(),
          scheduleDeadLetterQueues: [
            {
              name: 'schedule:heartbeat',
              deadLetterUrl,
              deadLetterArn: 'arn:aws:sqs:us-east-1:123456789012:Hookline-HeartbeatDlq',
              holds,
              redriveTo: 'events',
            },
          ],
        },
        backend: testBackend({ output }),
      }),
    });
    expect(await runCli(['status', '--json'], withSchedule.deps)).toBe(0);
    expect(JSON.parse(withSchedule.stdout()).otherDeadLetterQueues).toEqual([
      { name: 'schedule:heartbeat', holds, deadLettered: 1 },
    ]);
    withSchedule.out.length = 0;
    expect(await runCli(['failed', 'list', 'schedule:heartbeat'], withSchedule.deps)).toBe(0);
    expect(withSchedule.stdout()).toMatch(
      /schedule:heartbeat dead-letter queue.*\n[\s\S]*evt-8[\s\S]*AccessDenied: not authorized to send/,
    );
  });

  // ARG stands where the empty argument goes.
  it.each([
    ['status ARG', 'queue', false],
    ['failed list ARG', 'queue', true],
    ['failed summary ARG', 'queue', true],
    ['failed show ARG evt-1', 'queue', true],
    ['failed show events ARG', 'id', true],
    ['failed save ARG --out saved.jsonl', 'queue', true],
    ['failed restore ARG saved.jsonl', 'queue', true],
    ['failed restore events ARG', 'file', true],
    ['failed delete ARG --id evt-1 --yes', 'queue', true],
    ['redrive ARG', 'queue', true],
    ['purge ARG --yes', 'queue', true],
    ['trace ARG', 'id', true],
    ['send ARG', 'source', true],
    ['secrets set ARG', 'source', true],
    ['forward secret ARG', 'queue', true],
    ['pause ARG', 'queue', true],
    ['resume ARG', 'queue', true],
    ['jobs show ARG', 'id', true],
    ['jobs cancel ARG', 'id', false],
  ])(
    '%s with an empty %s (an unset variable) is a usage error before anything is read',
    async (line, name, required) => {
      for (const value of ['', ' ']) {
        const h = cliHarness();
        const argv = line.split(' ').map((word) => (word === 'ARG' ? value : word));
        expect(await runCli(argv, h.deps)).toBe(USAGE_EXIT_CODE);
        expect(h.stderr()).toContain(
          `invalid for argument '${name}'. it is empty: ${required ? 'give a value' : 'give a value, or leave it out'}`,
        );
        expect(h.connects).toEqual([]);
        expect(h.stdout()).toBe('');
      }
    },
  );

  it("jobs cancel --queue '' is a usage error naming the queues before the jobs' records are read", async () => {
    const h = cliHarness();
    expect(await runCli(['jobs', 'cancel', '--queue', '', '--yes'], h.deps)).toBe(USAGE_EXIT_CODE);
    expect(h.stderr()).toContain(
      'error: --queue must not be empty: give one of events, orders, or leave --queue out for every queue',
    );
  });

  it('status prints a table without colours when not on a TTY', async () => {
    sqs.on(GetQueueAttributesCommand).resolves(depth);
    lambda.on(GetEventSourceMappingCommand).resolves({ State: 'Disabled' });
    cloudwatch.on(GetMetricDataCommand).resolves({});
    const h = cliHarness();
    expect(await runCli(['status'], h.deps)).toBe(0);
    expect(h.stdout()).toMatch(/^events\s+2\s+0\s+0\s+2\s+-\s+Disabled$/m);
    expect(h.stdout()).toMatch(/events: 2 dead-lettered; inspect with: hookline failed list events/);
    expect(h.stdout()).toMatch(/resume with: hookline resume events/);
    expect(h.stdout().includes('\u001b[')).toBe(false);
  });

  it('status hints name the stack and region it was run on, so following one never acts on the default stack', async () => {
    sqs.on(GetQueueAttributesCommand).resolves(depth);
    lambda.on(GetEventSourceMappingCommand).resolves({ State: 'Disabled' });
    cloudwatch.on(GetMetricDataCommand).resolves({});
    const h = cliHarness();
    expect(await runCli(['status', '--stack', 'Prod-Hookline', '--region', 'eu-west-1'], h.deps)).toBe(0);
    expect(h.stdout()).toMatch(
      /events: 2 dead-lettered; inspect with: hookline failed list events --stack Prod-Hookline --region eu-west-1$/m,
    );
    expect(h.stdout()).toMatch(
      /resume with: hookline resume events --stack Prod-Hookline --region eu-west-1$/m,
    );
  });

  it('failed list and failed show print what a sender or consumer wrote as visible escapes, never as terminal control', async () => {
    // What reaches a dead-letter queue: a type with a C1 control (SQS takes U+0080-U+009F), a body with an OSC
    // title and clipboard write (escaped in the envelope's JSON), an error whose line break would forge a row.
    const osc = '\u001b]0;owned\u0007\u001b]52;c;ZXZpbA==\u0007';
    const message = deadLetterMessage(1, { type: 'invoice.paid\u009b2J' });
    const envelope = { ...JSON.parse(message.Body ?? '{}'), contentType: 'text/plain', body: `hi${osc}` };
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [
      {
        ...message,
        Body: JSON.stringify(envelope),
        MessageAttributes: {
          ...message.MessageAttributes,
          'hookline.error.message': { DataType: 'String', StringValue: 'boom\r\nevt-9  stripe  forged' },
        },
      },
    ]);
    const h = cliHarness();
    expect(await runCli(['failed', 'list', 'events'], h.deps)).toBe(0);
    expect(await runCli(['failed', 'show', 'events', 'evt-1'], h.deps)).toBe(0);
    const shown = h.stdout();
    // biome-ignore lint/suspicious/noControlCharactersInRegex: no control character but line feeds may be written.
    expect(shown).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(shown).toContain('invoice.paid\\u009b2J');
    expect(shown).toContain('hi\\u001b]0;owned\\u0007\\u001b]52;c;ZXZpbA==\\u0007');
    expect(shown).toContain('boom\\u000d\\u000aevt-9  stripe  forged');
    expect(shown).not.toMatch(/^evt-9/m);
  });

  it('failed show prints a colour code a sender or consumer wrote as a visible escape', async () => {
    // The colour codes hookline writes itself pass to a terminal; the same bytes in a body, a header, a field or
    // an error are the sender's, and would restyle what the operator reads (dim it, paint it as an error).
    const paint = '\u001b[2m\u001b[31m';
    const message = deadLetterMessage(1, { type: `invoice.paid${paint}` });
    const envelope = {
      ...JSON.parse(message.Body ?? '{}'),
      contentType: 'text/plain',
      headers: { 'user-agent': `agent${paint}` },
      body: `hi${paint}forged\u001b[0m`,
    };
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [
      {
        ...message,
        Body: JSON.stringify(envelope),
        MessageAttributes: {
          ...message.MessageAttributes,
          'hookline.error.message': { DataType: 'String', StringValue: `boom${paint}` },
        },
      },
    ]);
    const h = cliHarness();
    expect(await runCli(['failed', 'show', 'events', 'evt-1'], h.deps)).toBe(0);
    const shown = h.stdout();
    expect(shown).toContain('invoice.paid\\u001b[2m\\u001b[31m');
    expect(shown).toContain('agent\\u001b[2m\\u001b[31m');
    expect(shown).toContain('hi\\u001b[2m\\u001b[31mforged\\u001b[0m');
    expect(shown).toContain('boom\\u001b[2m\\u001b[31m');
    expect(shown).not.toContain(paint);
  });

  it("failed show, text and --json, hides the credential headers an older version kept (the configuration's own too) and names them", async () => {
    // What an envelope written before the ingest dropped credential headers holds; x-signature is the header the
    // project's hmac source signs with, known only from the configuration.
    const headers = {
      authorization: 'Bearer tok-s3cr3t',
      'x-hub-signature-256': 'sha256=sig-s3cr3t',
      'Stripe-Signature': 't=1,v1=sig-s3cr3t',
      cookie: 'session=s3cr3t',
      'x-api-key': 'key-s3cr3t',
      'x-signature': 'sha256=hmac-s3cr3t',
      'x-request-id': 'r-1',
    };
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [deadLetterMessage(1, { headers })]);
    const [h, j] = [cliHarness(), cliHarness()];
    expect(await runCli(['failed', 'show', 'events', 'evt-1'], h.deps)).toBe(0);
    expect(await runCli(['failed', 'show', 'events', 'evt-1', '--json'], j.deps)).toBe(0);
    const [text, json] = [h.stdout(), j.stdout()];
    expect(text + json).not.toContain('s3cr3t');
    expect(text).toContain('  x-request-id: r-1');
    expect(text).toContain(
      '  hidden: authorization, x-hub-signature-256, Stripe-Signature, cookie, x-api-key, x-signature (credentials, kept by an older version; their values are not shown)',
    );
    const shown = JSON.parse(json);
    expect(shown.headers).toEqual({ 'content-type': 'application/json', 'x-request-id': 'r-1' });
    expect(shown.hiddenHeaders).toEqual([
      'authorization',
      'x-hub-signature-256',
      'Stripe-Signature',
      'cookie',
      'x-api-key',
      'x-signature',
    ]);
  });

  it("puts failed list's next commands after its table at a terminal, and on stderr once stdout is piped", async () => {
    for (const isTTY of [true, false]) {
      installFakeQueue(sqs, EVENTS.deadLetterUrl, [deadLetterMessage(1)]);
      const out: string[] = [];
      const err: string[] = [];
      const h = cliHarness({
        makeOutput: (json) =>
          consoleOutput({
            json,
            stdout: { write: (t: string) => out.push(t), ...(isTTY ? { isTTY } : {}) },
            stderr: { write: (t: string) => err.push(t) },
            env: { NO_COLOR: '1' },
          }),
      });
      expect(await runCli(['failed', 'list', 'events'], h.deps)).toBe(0);
      const hintLine = 'details: hookline failed show events <id>    redrive: hookline redrive events\n';
      // Piped, stdout is the result alone: its header, the table's header and one row.
      expect(out.join('').split('\n').slice(-2, -1)[0]).toMatch(isTTY ? /^details: / : /^evt-1 /);
      expect(out.join('').includes(hintLine), `stdout, isTTY ${isTTY}`).toBe(isTTY);
      expect(err.join('').includes(hintLine), `stderr, isTTY ${isTTY}`).toBe(!isTTY);
    }
  });

  it('an expected error is one line on stderr with exit code 1', async () => {
    const h = cliHarness({
      connect: async () => {
        throw new CliError(
          'stack Hookline not found in us-east-1: deploy it with npx cdk deploy, or pass --stack/--region',
        );
      },
    });
    expect(await runCli(['failed', 'list', 'events'], h.deps)).toBe(1);
    expect(h.stderr()).toBe(
      'error: stack Hookline not found in us-east-1: deploy it with npx cdk deploy, or pass --stack/--region\n',
    );
    expect(h.stdout()).toBe('');
  });

  it('an unexpected error keeps its stack for the bug report', async () => {
    const h = cliHarness({
      connect: async () => {
        throw new TypeError('boom');
      },
    });
    expect(await runCli(['status'], h.deps)).toBe(1);
    expect(h.stderr()).toMatch(/^unexpected error \(please report it\): TypeError: boom\n\s+at /);
  });

  it('purge without --yes in a pipe refuses; with --yes it purges', async () => {
    sqs.on(GetQueueAttributesCommand).resolves(depth);
    sqs.on(PurgeQueueCommand).resolves({});
    const refused = cliHarness();
    expect(await runCli(['purge', 'events', '--dlq'], refused.deps)).toBe(1);
    expect(refused.stderr()).toMatch(/pass --yes/);
    const ok = cliHarness();
    expect(await runCli(['purge', 'events', '--dlq', '-y'], ok.deps)).toBe(0);
    expect(ok.stdout()).toMatch(/purged the events dead-letter queue \(~2 messages/);
  });

  it('redrive exits 1 when messages could not be moved', async () => {
    sqs.on(GetQueueAttributesCommand).resolves(depth);
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 't' });
    sqs.on(ListMessageMoveTasksCommand).resolves({
      Results: [
        {
          Status: 'FAILED',
          ApproximateNumberOfMessagesMoved: 0,
          ApproximateNumberOfMessagesToMove: 2,
          FailureReason: 'KMS',
        },
      ],
    });
    const h = cliHarness();
    expect(await runCli(['redrive', 'events'], h.deps)).toBe(1);
    expect(h.stdout()).toMatch(/moved 0, skipped 0, failed 2/);
  });

  it('redrive: Ctrl-C while following a move task says the task goes on, and claims no held messages for it', async () => {
    sqs.on(GetQueueAttributesCommand).resolves(depth);
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 't' });
    const interrupts = fakeInterrupts();
    sqs.on(ListMessageMoveTasksCommand).callsFake(() => {
      interrupts.interrupt();
      return {
        Results: [
          { Status: 'RUNNING', ApproximateNumberOfMessagesMoved: 1, ApproximateNumberOfMessagesToMove: 2 },
        ],
      };
    });
    const h = cliHarness({ interrupts });

    expect(await runCli(['redrive', 'events'], h.deps)).toBe(130);

    expect(h.stderr()).toMatch(
      /stopping: a move task SQS runs goes on without this command following it; one by one, after this batch, with held messages visible again/,
    );
    expect(h.stderr()).not.toMatch(/stopping after this batch and making held messages visible again/);
    expect(h.stdout()).toMatch(/the task keeps moving messages in SQS/);
  });

  it('forward secret refuses a deployed queue that does not forward before looking up the stack', async () => {
    for (const args of [[], ['--rotate'], ['--remove-old']]) {
      const h = cliHarness({ connect: async () => Promise.reject(new Error('no AWS credentials')) });
      expect(await runCli(['forward', 'secret', 'events', ...args], h.deps)).toBe(1);
      expect(h.stderr()).toMatch(/^error: queue events does not forward \(its consumer has no forward\)/);
      expect(h.connects).toEqual([]);
    }
  });

  it('send to --url needs no stack and reports HTTP failures with a hint', async () => {
    const h = cliHarness({ connect: async () => Promise.reject(new Error('must not connect')) });
    const realFetch = globalThis.fetch;
    globalThis.fetch = async () => new Response('{"message":"unauthorized"}', { status: 401 });
    try {
      expect(
        await runCli(['send', 'github', '--url', 'https://example.com/x', '--secret', 's'], h.deps),
      ).toBe(1);
    } finally {
      globalThis.fetch = realFetch;
    }
    expect(h.stdout()).toMatch(/^401 github push -> https:\/\/example.com\/x/);
    expect(h.stderr()).toMatch(/error: HTTP 401: the signature was rejected/);
  });

  it('send --file prints the event type the ingest reads from the file and its type header, as a sample send does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookline-send-file-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'issue.json');
    writeFileSync(file, '{"action":"opened","issue":{"number":1}}');
    const h = cliHarness({ connect: async () => Promise.reject(new Error('must not connect')) });
    const realFetch = globalThis.fetch;
    globalThis.fetch = async () => new Response('{"id":"d-1"}', { status: 202 });
    try {
      const args = ['send', 'github', '--url', 'https://example.com/x', '--secret', 's'];
      expect(await runCli([...args, '--file', file, '--type', 'issues'], h.deps)).toBe(0);
    } finally {
      globalThis.fetch = realFetch;
    }
    expect(h.stdout()).toBe('202 github issues.opened -> https://example.com/x id d-1\n');
  });

  it.each([
    ['--url', "--url must not be empty: give the webhook URL, or leave --url out to post to the target's"],
    [
      '--file',
      '--file must not be empty: give the path of the body, or leave --file out to send the built-in sample',
    ],
    [
      '--secret',
      '--secret must not be empty: give the signing secret, or leave --secret out to use HOOKLINE_SECRET_GITHUB',
    ],
    ['--id', '--id must not be empty: give a delivery id, or leave --id out for a new one'],
  ])(
    'send %s "" (an unset variable) or blank is a usage error (exit 2) and posts nothing, never falling back to the default',
    async (flag, message) => {
      const realFetch = globalThis.fetch;
      const posted: string[] = [];
      globalThis.fetch = async (url) => {
        posted.push(String(url));
        return new Response('{"id":"evt-1"}', { status: 202 });
      };
      try {
        for (const value of ['', '  ']) {
          const h = cliHarness();
          expect(await runCli(['send', 'github', flag, value], h.deps)).toBe(USAGE_EXIT_CODE);
          expect(h.stderr()).toBe(`error: ${message}\n`);
        }
      } finally {
        globalThis.fetch = realFetch;
      }
      expect(posted).toEqual([]);
    },
  );

  it('redrive --id: an id not in the DLQ exits 1 with one error line, even when the others moved', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [deadLetterMessage(1), deadLetterMessage(2)]);
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
      Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: 'm', MD5OfMessageBody: '' })),
    }));
    const h = cliHarness();
    expect(await runCli(['redrive', 'events', '--id', 'evt-1', 'evt-gone'], h.deps)).toBe(1);
    expect(h.stdout()).toMatch(/moved 1, skipped 1, failed 0/);
    expect(h.stdout().match(/moved 1/g)).toHaveLength(1);
    expect(h.stderr()).toMatch(
      /^error: --id not found in the events dead-letter queue: evt-gone \(list them with hookline failed list events\)$/m,
    );
  });

  it('failed list, redrive and failed delete pass --failure to their cores: each acts on that failure only', async () => {
    const failedWith = (n: number, message: string) => deadLetterMessage(n, { failure: { message } });
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, [
      failedWith(1, 'card declined'),
      failedWith(2, 'order 2 gone'),
      failedWith(3, 'order 3 gone'),
      failedWith(4, 'card declined'),
      failedWith(5, 'quota exceeded'),
    ]);
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
      Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: 'm', MD5OfMessageBody: '' })),
    }));
    const gone = failureKey('PermanentError: order <n> gone');
    const declined = failureKey('PermanentError: card declined');
    const ids = () => dlq.messages.map((m) => m.MessageId);

    const listed = cliHarness();
    expect(await runCli(['failed', 'list', 'events', '--failure', gone, '--json'], listed.deps)).toBe(0);
    expect(JSON.parse(listed.stdout()).messages.map((m: { id: string }) => m.id)).toEqual(['evt-2', 'evt-3']);

    expect(await runCli(['redrive', 'events', '--failure', gone], cliHarness().deps)).toBe(0);
    expect(ids()).toEqual(['sqs-1', 'sqs-4', 'sqs-5']);

    const deleted = cliHarness();
    expect(await runCli(['failed', 'delete', 'events', '--failure', declined, '--yes'], deleted.deps)).toBe(
      0,
    );
    expect(ids()).toEqual(['sqs-5']);
  });

  it('failed list --failure of a failure no dead letter has exits 1 with the error redrive and failed delete give, not an empty listing', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [
      deadLetterMessage(1, { failure: { message: 'card declined' } }),
      deadLetterMessage(2, { failure: { message: 'card declined' } }),
    ]);
    const none = 'deadbeef';
    expect(failureKey('PermanentError: card declined')).not.toBe(none);
    for (const [command, done] of [
      [['failed', 'list', 'events'], 'listed'],
      [['failed', 'list', 'events', '--json'], 'listed'],
      [['redrive', 'events'], 'moved'],
      [['failed', 'delete', 'events', '--yes'], 'deleted'],
    ] satisfies [string[], string][]) {
      const h = cliHarness();
      expect(await runCli([...command, '--failure', none], h.deps), command.join(' ')).toBe(1);
      const error = `no message in the events dead-letter queue matches --failure ${none}: nothing was ${done}; list them with hookline failed summary events`;
      // redrive and failed delete draw their progress bar above it.
      expect(h.stderr().split('\n').slice(-2)).toEqual([`error: ${error}`, '']);
      expect(h.stdout()).toBe(command.includes('--json') ? `${JSON.stringify({ error })}\n` : '');
    }
  });

  it('redrive --id of a dead letter whose stored body is gone exits 1: it is left in the DLQ, not moved', async () => {
    const gone = deadLetterMessage(1);
    (gone.MessageAttributes ?? {})['hookline.error.name'] = {
      DataType: 'String',
      StringValue: 'PayloadGoneError',
    };
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [gone]);
    const h = cliHarness();
    expect(await runCli(['redrive', 'events', '--id', 'evt-1'], h.deps)).toBe(1);
    expect(h.stdout()).toMatch(/1 dead letter left, not moved: its stored body is gone/);
    expect(sqs).not.toHaveReceivedCommand(SendMessageBatchCommand);
  });

  it('console --json: the first line on stdout is one JSON object with the URL, and nothing else is printed when no job ran', async () => {
    const interrupts = fakeInterrupts();
    const out: string[] = [];
    const h = cliHarness({
      interrupts,
      writeOut: (text) => {
        out.push(text);
        // Ctrl-C once the console listens for it: it starts listening just after printing its URL.
        const stopOnceListening = (): void => {
          if (interrupts.listeners() > 0) interrupts.interrupt();
          else setTimeout(stopOnceListening, 5);
        };
        stopOnceListening();
      },
    });

    expect(await runCli(['console', '--no-open', '--json'], h.deps)).toBe(0);

    expect(out).toHaveLength(1);
    const started = JSON.parse(out[0] ?? '');
    expect(started).toEqual({
      target: expect.any(String),
      port: expect.any(Number),
      url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{43}$/),
    });
  });

  it('redrive: Ctrl-C stops between batches, makes held messages visible again, prints the summary once and exits 130', async () => {
    const messages = Array.from({ length: 40 }, (_, i) =>
      deadLetterMessage(i, { type: i % 2 === 0 ? 'invoice.paid' : 'customer.created' }),
    );
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, messages);
    const interrupts = fakeInterrupts();
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => {
      interrupts.interrupt();
      return { Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: 'm', MD5OfMessageBody: '' })) };
    });
    const h = cliHarness({ interrupts });

    const code = await runCli(['redrive', 'events', '--type', 'invoice.*', '--rate', '10'], h.deps);

    expect(code).toBe(130);
    expect(h.stderr()).toMatch(
      /stopping after this batch and making held messages visible again \(Ctrl-C again to quit at once\)/,
    );
    expect(h.stdout().match(/^redrive events: one by one$/gm)).toHaveLength(1);
    expect(h.stdout()).toMatch(/^moved 5, skipped 5, failed 0$/m);
    expect(h.stdout()).toMatch(/stopped early: Interrupted: stopped by Ctrl-C; the rest stays in the DLQ/);
    expect(dlq.messages).toHaveLength(35);
    expect(dlq.hidden.size).toBe(0);
    expect(interrupts.exits).toEqual([]);
    expect(interrupts.listeners()).toBe(0);
  });

  it('failed summary: Ctrl-C stops the read, hands every held message back, prints the partial summary and exits 130', async () => {
    const dlq = installFakeQueue(
      sqs,
      EVENTS.deadLetterUrl,
      Array.from({ length: 40 }, (_, i) => deadLetterMessage(i)),
    );
    const interrupts = fakeInterrupts();
    const err: string[] = [];
    const h = cliHarness({
      interrupts,
      makeOutput: (json) =>
        consoleOutput({
          json,
          stdout: { write: (t: string) => h.out.push(t) },
          // Ctrl-C as soon as the read shows progress.
          stderr: {
            write: (t: string) => {
              err.push(t);
              if (t.includes('read in the events DLQ')) interrupts.interrupt();
            },
          },
          stdinIsTty: false,
          env: {},
        }),
    });

    const code = await runCli(['failed', 'summary', 'events'], h.deps);

    expect(code).toBe(130);
    expect(err.join('')).toMatch(/stopping after this batch and making held messages visible again/);
    const [heading, partial] = h.stdout().split('\n');
    expect(heading).toMatch(
      /^events dead-letter queue: (\d+) messages? read, 1 distinct failure \(left in place\)$/,
    );
    expect(Number(heading?.match(/: (\d+) message/)?.[1])).toBeLessThan(40);
    expect(partial).toMatch(/^stopped by Ctrl-C: the counts cover the \d+ read so far, not the whole queue$/);
    expect(dlq.messages).toHaveLength(40);
    expect(dlq.hidden.size).toBe(0);
    expect(interrupts.listeners()).toBe(0);
  });

  it('redrive --json: Ctrl-C still prints the result; a second Ctrl-C quits at once', async () => {
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, [deadLetterMessage(1), deadLetterMessage(2)]);
    const interrupts = fakeInterrupts();
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => {
      interrupts.interrupt();
      interrupts.interrupt();
      return { Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: 'm', MD5OfMessageBody: '' })) };
    });
    const h = cliHarness({ interrupts });

    const code = await runCli(['redrive', 'events', '--limit', '5', '--json'], h.deps);

    expect(interrupts.exits).toEqual([130]);
    expect(code).toBe(130);
    expect(JSON.parse(h.stdout())).toMatchObject({ moved: 2, stoppedBy: 'Interrupted: stopped by Ctrl-C' });
    expect(dlq.messages).toHaveLength(0);
  });

  it('redrive: a message that came back is counted in the singular', async () => {
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, [deadLetterMessage(1)]);
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string; MessageBody: string }[] }) => {
      // SQS dead-letters it again after maxReceiveCount: the same SQS id the send gave it.
      for (const e of input.Entries)
        dlq.messages.push({ MessageId: 'again', ReceiptHandle: 'rh-again', Body: e.MessageBody });
      return {
        Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: 'again', MD5OfMessageBody: '' })),
      };
    });
    const h = cliHarness();
    expect(await runCli(['redrive', 'events', '--type', '**'], h.deps)).toBe(0);
    expect(h.stdout()).toMatch(/^1 redriven message failed again and came back to the DLQ during this run/m);
  });

  it('pause waits for Disabled by default; --no-wait returns the state the update answered', async () => {
    lambda.on(UpdateEventSourceMappingCommand).resolves({ State: 'Disabling' });
    lambda.on(GetEventSourceMappingCommand).resolves({ State: 'Disabled' });
    const waited = cliHarness();
    expect(await runCli(['pause', 'events'], waited.deps)).toBe(0);
    expect(waited.stdout()).toBe('events consumer: Disabled\n');
    const quick = cliHarness();
    expect(await runCli(['pause', 'events', '--no-wait'], quick.deps)).toBe(0);
    expect(quick.stdout()).toBe('events consumer: Disabling\n');
  });

  it('--version prints the package version', async () => {
    const h = cliHarness();
    expect(await runCli(['--version'], h.deps)).toBe(0);
    expect(h.stdout()).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('validates option values', async () => {
    const h = cliHarness();
    expect(await runCli(['redrive', 'events', '--rate', 'fast'], h.deps)).toBe(USAGE_EXIT_CODE);
    expect(h.stderr()).toMatch(/option '--rate <n>' argument 'fast' is invalid. expected a positive number/);
  });

  it.each<[readonly string[]]>([
    [['redrive', 'events']],
    [['failed', 'delete', 'events', '--yes']],
    [['replay', '--source', 'github', '--since', '1h']],
    [['tail']],
    [['jobs', 'cancel', '--yes']],
    [['jobs', 'list']],
  ])(
    '%j --type with a pattern routes cannot read is a usage error (exit 2), told in one line before anything is read',
    async (command) => {
      for (const [pattern, reason] of [
        ['invoice..paid', ' has an empty segment'],
        ['invoice.***', ': use "*" (one segment) or "**" (anything)'],
      ] as const) {
        const h = cliHarness();
        expect(await runCli([...command, '--type', pattern, '--json'], h.deps)).toBe(USAGE_EXIT_CODE);
        const line = `--type "${pattern}" is not a valid type pattern: type pattern "${pattern}"${reason}`;
        expect(h.stderr()).toMatch(/^error: [^\n]*\n$/);
        expect(h.stderr().startsWith(`error: ${line}`)).toBe(true);
        expect(JSON.parse(h.stdout()).error).toContain(line);
        expect(h.connects).toEqual([]);
      }
    },
  );

  it('an empty replay --to is a usage error (exit 2) naming the queues, and nothing is sent', async () => {
    const h = cliHarness();
    expect(
      await runCli(['replay', '--source', 'github', '--since', '2026-11-24', '--to', '', '--json'], h.deps),
    ).toBe(USAGE_EXIT_CODE);
    expect(h.stderr()).toMatch(/^error: --to is empty: name the queue to send every event to \(one of /);
    expect(JSON.parse(h.stdout()).error).toMatch(/^--to is empty: /);
    expect(sqs).not.toReceiveCommand(SendMessageBatchCommand);
  });

  it('refuses a replay flag given twice instead of acting on the last one named', async () => {
    for (const [flag, placeholder, first, second] of [
      ['--source', '<source>', 'github', 'stripe'],
      ['--to', '<queue>', 'events', 'orders'],
      ['--since', '<time>', '2h', '1h'],
      ['--until', '<time>', '1h', '30m'],
      ['--type', '<pattern>', 'push', 'issues'],
      ['--rate', '<n>', '5', '50'],
    ] as const) {
      const required = [
        ...(flag === '--source' ? [] : ['--source', 'github']),
        ...(flag === '--since' ? [] : ['--since', '3h']),
      ];
      const h = cliHarness();
      expect(await runCli(['replay', ...required, flag, first, flag, second], h.deps)).toBe(USAGE_EXIT_CODE);
      expect(h.stderr()).toContain(
        `option '${flag} ${placeholder}' argument '${second}' is invalid. it is given twice ("${first}", then "${second}"): give it once`,
      );
      expect(h.connects).toEqual([]);
    }
    expect(sqs).not.toReceiveCommand(SendMessageBatchCommand);
  });

  it('refuses a jobs cancel filter given twice instead of cancelling what the last one matches', async () => {
    for (const [flag, placeholder, first, second] of [
      ['--queue', '<name>', 'events', 'orders'],
      ['--tenant', '<tenant>', 'acct_1', 'acct_2'],
      ['--type', '<pattern>', 'email.*', 'sms.*'],
      ['--state', '<state>', 'queued', 'scheduled'],
    ] as const) {
      const h = cliHarness();
      expect(await runCli(['jobs', 'cancel', '--yes', flag, first, flag, second], h.deps)).toBe(
        USAGE_EXIT_CODE,
      );
      expect(h.stderr()).toContain(
        `option '${flag} ${placeholder}' argument '${second}' is invalid. it is given twice ("${first}", then "${second}"): give it once`,
      );
      expect(h.connects).toEqual([]);
    }
  });

  it('refuses a jobs list filter or a cost figure given twice instead of using the last one', async () => {
    for (const [command, flag, placeholder, first, second] of [
      [['jobs', 'list'], '--queue', '<name>', 'events', 'orders'],
      [['jobs', 'list'], '--tenant', '<tenant>', 'acct_1', 'acct_2'],
      [['jobs', 'list'], '--type', '<pattern>', 'email.*', 'sms.*'],
      [['jobs', 'list'], '--state', '<state>', 'queued', 'scheduled'],
      [['cost'], '--per-month', '<count>', '250000', '10M'],
      [['cost', '--per-month', '1M'], '--body-kb', '<kb>', '4', '8'],
      [['cost', '--per-month', '1M'], '--record-ms', '<ms>', '5', '50'],
    ] as const) {
      const h = cliHarness();
      expect(await runCli([...command, flag, first, flag, second], h.deps)).toBe(USAGE_EXIT_CODE);
      expect(h.stderr()).toContain(
        `option '${flag} ${placeholder}' argument '${second}' is invalid. it is given twice ("${first}", then "${second}"): give it once`,
      );
      expect(h.connects).toEqual([]);
    }
  });

  it('a --since or --until that is not a time is a usage error (exit 2), told in one line before anything is read', async () => {
    for (const flags of [
      ['--since', 'yesterday'],
      ['--since', '1h', '--until', 'soon'],
    ]) {
      const h = cliHarness();
      expect(await runCli(['replay', '--source', 'github', ...flags, '--json'], h.deps)).toBe(
        USAGE_EXIT_CODE,
      );
      expect(h.stderr()).toMatch(
        /^error: --(since|until) "\w+" is not a time: use ISO 8601 with a zone .*\n$/,
      );
      expect(JSON.parse(h.stdout()).error).toMatch(/is not a time/);
      expect(h.connects).toEqual([]);
    }
    // A name the pipeline does not have is the pipeline's answer, not a usage error.
    const h = cliHarness();
    expect(await runCli(['status', 'nope'], h.deps)).toBe(1);
  });

  it('every command has --help and --json', async () => {
    for (const command of [
      ['status'],
      ['failed', 'list'],
      ['failed', 'show'],
      ['redrive'],
      ['purge'],
      ['send'],
      ['pause'],
      ['resume'],
    ]) {
      const h = cliHarness();
      expect(await runCli([...command, '--help'], h.deps)).toBe(0);
      expect(h.stdout(), command.join(' ')).toMatch(/--json\s+print the result as JSON/);
      expect(h.stdout()).toMatch(/--local/);
    }
  });

  it('no credentials while reading the queues: one line', async () => {
    // The fix named depends on AWS_PROFILE: unset here, whatever the shell running the tests has.
    vi.stubEnv('AWS_PROFILE', '');
    onTestFinished(() => {
      vi.unstubAllEnvs();
    });
    sqs
      .on(GetQueueAttributesCommand)
      .rejects(awsError('CredentialsProviderError', 'Could not load credentials from any providers'));
    lambda.on(GetEventSourceMappingCommand).resolves({ State: 'Enabled' });
    cloudwatch.on(GetMetricDataCommand).resolves({});
    const h = cliHarness();
    expect(await runCli(['status'], h.deps)).toBe(1);
    expect(h.stderr()).toBe('error: no AWS credentials: set AWS_PROFILE or run aws configure\n');
  });
});

describe('output', () => {
  it('colours only on a TTY and never with NO_COLOR', () => {
    expect(colorsFor(true, {}).red('x')).toBe('\u001b[31mx\u001b[39m');
    expect(colorsFor(true, { NO_COLOR: '1' }).red('x')).toBe('x');
    expect(colorsFor(false, {}).red('x')).toBe('x');
  });

  it('takes an empty NO_COLOR for unset, and gives a dumb terminal no colours', () => {
    expect(colorsFor(true, { NO_COLOR: '' }).red('x')).toBe('\u001b[31mx\u001b[39m');
    expect(colorsFor(true, { TERM: 'dumb' }).red('x')).toBe('x');
  });

  it("hands the process's Ctrl-C and SIGTERM to the listener while it listens, and gives them back after", () => {
    const before = [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];
    const heard: string[] = [];
    const stop = processInterrupts.listen((signal) => heard.push(signal));
    process.emit('SIGINT', 'SIGINT');
    process.emit('SIGTERM', 'SIGTERM');
    stop();
    expect(heard).toEqual(['SIGINT', 'SIGTERM']);
    expect([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]).toEqual(before);
  });

  it('a closed pipe ends quietly, also for the writes after it; any other stream error still surfaces', () => {
    const listeners: ((error: NodeJS.ErrnoException) => void)[] = [];
    const stream = {
      on: (event: string, listener: (error: NodeJS.ErrnoException) => void) => {
        if (event === 'error') listeners.push(listener);
      },
    };
    const fail = (code: string) => {
      for (const listener of listeners) listener(Object.assign(new Error(code), { code }));
    };
    const pipes = watchClosedPipes([stream]);
    expect(pipes.closed).toBe(false);
    expect(() => fail('EIO')).toThrow('EIO');
    expect(pipes.closed).toBe(false);
    fail('EPIPE');
    expect(pipes.closed).toBe(true);
    expect(() => fail('ERR_STREAM_DESTROYED')).not.toThrow();
  });

  it('a closed terminal (EIO on a TTY) ends quietly as a closed pipe does; EIO on a file still surfaces', () => {
    const watched = (isTTY: boolean) => {
      const listeners: ((error: NodeJS.ErrnoException) => void)[] = [];
      const stream = {
        isTTY,
        on: (_event: string, listener: (error: NodeJS.ErrnoException) => void) => listeners.push(listener),
      };
      const pipes = watchClosedPipes([stream]);
      const fail = () => {
        for (const listener of listeners) listener(Object.assign(new Error('EIO'), { code: 'EIO' }));
      };
      return { pipes, fail };
    };
    const terminal = watched(true);
    expect(() => terminal.fail()).not.toThrow();
    expect(terminal.pipes.closed).toBe(true);
    const file = watched(false);
    expect(() => file.fail()).toThrow('EIO');
    expect(file.pipes.closed).toBe(false);
  });

  it('--json: the result alone on stdout, notes on stderr; without it, lines and no JSON', () => {
    const run = (json: boolean) => {
      const out: string[] = [];
      const err: string[] = [];
      const output = consoleOutput({
        json,
        stdout: { write: (t: string) => out.push(t) },
        stderr: { write: (t: string) => err.push(t) },
        env: {},
      });
      output.line('a line');
      output.note('a note');
      output.result({ moved: 1 });
      return { out: out.join(''), err: err.join('') };
    };
    expect(run(true)).toEqual({ out: '{\n  "moved": 1\n}\n', err: 'a note\n' });
    expect(run(false)).toEqual({ out: 'a line\n', err: 'a note\n' });
  });

  it('asks a person only when stdin, stdout and stderr, where it asks, are terminals (purge refuses without --yes otherwise)', () => {
    const interactive = (stdinIsTty: boolean, stdoutIsTty: boolean, stderrIsTty = true) =>
      consoleOutput({
        json: false,
        stdout: { write: () => true, isTTY: stdoutIsTty },
        stderr: { write: () => true, isTTY: stderrIsTty },
        stdinIsTty,
        env: {},
      }).interactive;
    expect(interactive(true, true)).toBe(true);
    expect(interactive(true, false)).toBe(false);
    expect(interactive(false, true)).toBe(false);
    // `purge events 2> errors.log`: the question would go to the file, and the command wait for an answer.
    expect(interactive(true, true, false)).toBe(false);
  });

  it.each([
    ['Ctrl-C', '\u0003', false],
    ['Ctrl-D', '\u0004', false],
    ['Enter alone', '\r', false],
    ['n', 'n\r', false],
    ['yes', 'yes\r', true],
  ])(
    'a confirmation answered with %s on a terminal is an answer, never an error',
    async (_key, typed, yes) => {
      const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => input });
      const output = Object.assign(new PassThrough(), { isTTY: true, columns: 80 });
      let asked = '';
      output.on('data', (chunk: Buffer) => {
        asked += chunk.toString();
      });
      const answer = consoleOutput({ json: false, env: {}, prompt: { input, output } }).confirm('Delete?');
      await vi.waitFor(() => expect(asked).toContain('Delete? [y/N] '));
      input.write(typed);
      expect(await answer).toBe(yes);
      // The command's "cancelled" line then starts on a line of its own.
      expect(asked.endsWith('\n')).toBe(true);
    },
  );

  it('a confirmation whose input ends before an answer is a no, not a command that never ends', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const answer = consoleOutput({ json: false, env: {}, prompt: { input, output } }).confirm('Delete?');
    input.end();
    expect(await answer).toBe(false);
  });

  it('renders a progress bar', () => {
    expect(renderBar('moved', 250, 1000, 10)).toBe('[###.......]  25% 250/1000 moved');
    expect(renderBar('scanned', 7, undefined)).toBe('scanned: 7');
    expect(renderBar('scanned', 7, 0)).toBe('scanned: 7');
  });

  it('a progress bar follows a new total, prints its summary, and prints no bar when nothing was counted', () => {
    const { output, err } = stderrCaptured();
    const grown = output.progress('moved', 10);
    grown.update(5, 20);
    grown.done('moved 5');
    expect(err).toEqual([`${renderBar('moved', 5, 20)}\n`, 'moved 5\n']);
    const idle = output.progress('scanned');
    idle.done('nothing to scan');
    expect(err.slice(2)).toEqual(['nothing to scan\n']);
  });

  it('on a terminal, redraws the bar in place and clears it when done', () => {
    const { output, err } = stderrCaptured({ isTTY: true, env: { NO_COLOR: '1' } });
    const bar = output.progress('moved', 2);
    bar.update(2);
    bar.done('moved 2');
    expect(err).toEqual([`\r\u001b[2K${renderBar('moved', 2, 2)}`, '\r\u001b[2K', 'moved 2\n']);
  });

  it('on a TERM=dumb terminal (an editor buffer), prints the bar as lines, without the codes that redraw it', () => {
    const { output, err } = stderrCaptured({ isTTY: true, env: { TERM: 'dumb' } });
    const bar = output.progress('moved', 2);
    bar.update(1);
    bar.update(2);
    bar.done('moved 2');
    expect(err).toEqual([`${renderBar('moved', 1, 2)}\n`, `${renderBar('moved', 2, 2)}\n`, 'moved 2\n']);
  });

  it('prints progress on a non-TTY stderr about every 10%', () => {
    const { output, err } = stderrCaptured({ json: true });
    const bar = output.progress('moved', 1000);
    for (let i = 0; i <= 1000; i += 10) bar.update(i);
    bar.done('done');
    expect(err).toHaveLength(12);
    expect(err.at(-2)).toMatch(/100% 1000\/1000 moved/);
  });

  it('ends a non-TTY progress bar with a line for where it stopped, written once', () => {
    const { output, err } = stderrCaptured();
    const cut = output.progress('moved', 1000);
    for (let i = 0; i <= 990; i += 10) cut.update(i);
    cut.done();
    expect(err.at(-1)).toBe(`${renderBar('moved', 990, 1000)}\n`);
    const lines = err.length;
    const whole = output.progress('moved', 30);
    whole.update(30);
    whole.done();
    expect(err.slice(lines)).toEqual([`${renderBar('moved', 30, 30)}\n`]);
  });

  it('keeps its own colours on a TTY and writes any other escape sequence as text', () => {
    const out: string[] = [];
    const output = consoleOutput({
      json: false,
      stdout: { write: (t: string) => out.push(t), isTTY: true },
      stderr: { write: () => true },
      env: {},
    });
    output.line(`${output.colors.red('failed')} \u001b[8mhidden\u001b[0m`);
    expect(out).toEqual(['\u001b[31mfailed\u001b[39m \\u001b[8mhidden\u001b[0m\n']);
  });

  it('aligns tables', () => {
    expect(
      table([
        ['A', 'BB'],
        ['ccc', 'd'],
      ]),
    ).toBe('A    BB\nccc  d');
    expect(table([['A'], ['b']], colorsFor(true, {}))).toBe('\u001b[1mA\u001b[22m\nb');
    expect(recordingOutput().json).toBe(false);
  });
});

describe('a usage error under --json', () => {
  it.each([
    [['jobs', 'list', '--state', 'bogus', '--json'], "option '--state <state>' argument 'bogus' is invalid."],
    [['redrive', '--json'], "missing required argument 'queue'"],
    [['status', '--bogus', '--json'], "unknown option '--bogus'"],
  ])('%j prints the error as one JSON document on stdout too, and exits 2 (usage)', async (argv, start) => {
    const h = cliHarness();
    expect(await runCli(argv, h.deps)).toBe(USAGE_EXIT_CODE);
    const { error } = JSON.parse(h.stdout());
    expect(error.startsWith(start)).toBe(true);
    expect(h.stderr()).toContain(`error: ${error}\n`);
  });

  it.each([
    [
      ['jobs', '--local'],
      '--local belongs after a command: hookline jobs <show|list|cancel> --local, e.g. hookline jobs list --local',
    ],
    [
      ['failed', '--json'],
      '--json belongs after a command: hookline failed <list|summary|show|save|restore|delete> --json, e.g. hookline failed list --json',
    ],
    [
      ['forward', '--local=true'],
      '--local belongs after a command: hookline forward <secret> --local, e.g. hookline forward secret --local',
    ],
    [['secrets', '--bogus'], "unknown option '--bogus'"],
    [
      ['--local', 'status'],
      '--local belongs after a command: hookline <command> --local, e.g. hookline status --local',
    ],
    [
      ['--limit', '3', 'failed', 'list', 'events'],
      '--limit belongs after a command: hookline <failed list|redrive|jobs list> --limit, e.g. hookline jobs list --limit',
    ],
    [['--bogus', 'status'], "unknown option '--bogus'"],
  ])(
    '%j, an option given to a command group or to hookline itself, names the commands it goes after',
    async (argv, line) => {
      const h = cliHarness();
      expect(await runCli([...argv, '--json'], h.deps)).toBe(USAGE_EXIT_CODE);
      expect(JSON.parse(h.stdout())).toEqual({ error: line });
      expect(h.stderr()).toContain(`error: ${line}\n`);
    },
  );

  it.each([
    [['help', 'failed', 'list'], 0, 'Usage: hookline failed list [options] <queue>'],
    [['help', 'jobs', 'cancel'], 0, 'Usage: hookline jobs cancel [options] [id]'],
    // Words after a command are not run: the help of purge, not a purge of events.
    [['help', 'purge', 'events'], 0, 'Usage: hookline purge [options] <queue>'],
    [['help', 'failed'], 0, 'Usage: hookline failed [options] [command]'],
  ])('hookline %j prints the help of that command', async (argv, code, usage) => {
    const h = cliHarness();
    expect(await runCli(argv, h.deps)).toBe(code);
    expect(h.stdout().split('\n')[0]).toBe(usage);
    expect(h.connects).toEqual([]);
  });

  it.each([
    [['help', 'nope'], 'nope'],
    [['help', 'failed', 'nope'], 'nope'],
  ])('hookline %j names the unknown command and exits 2 (usage), as running it does', async (argv, name) => {
    const h = cliHarness();
    expect(await runCli(argv, h.deps)).toBe(USAGE_EXIT_CODE);
    expect(h.stderr().split('\n')[0]).toBe(`error: unknown command '${name}'`);
    expect(h.stdout()).toBe('');
  });

  it('--help and --version print what they print, with no JSON error', async () => {
    const h = cliHarness();
    expect(await runCli(['status', '--help', '--json'], h.deps)).toBe(0);
    expect(await runCli(['--version', '--json'], h.deps)).toBe(0);
    expect(h.stdout()).not.toContain('"error"');
  });
});

describe('a command whose target fails under it', () => {
  it("tells a failure its core did not explain in the operator's terms, one line, not a stack trace; --json as a JSON error", async () => {
    const cloudformation = mockClient(CloudFormationClient);
    // `jobs show` reads the stack's outputs itself: a throttled (or timed-out) answer reaches the program as it is.
    cloudformation.on(DescribeStacksCommand).rejects(awsError('ThrottlingException', 'Rate exceeded'));
    try {
      const h = cliHarness();
      expect(await runCli(['jobs', 'show', 'job-1', '--json'], h.deps)).toBe(1);
      // `jobs show` has no --rate: the fix it names is waiting.
      const line =
        'AWS throttled the request (ThrottlingException) after retries: wait a minute and run it again';
      expect(h.stderr()).toBe(`error: ${line}\n`);
      expect(JSON.parse(h.stdout())).toEqual({ error: line });
    } finally {
      cloudformation.restore();
    }
  });

  it('says local mode did not answer when an SDK request to it timed out', async () => {
    const h = cliHarness({
      connect: async (_options, output) => ({
        target: localTestTarget({ queues: { events: EVENTS } }),
        backend: testBackend({ output }),
      }),
    });
    sqs
      .on(GetQueueAttributesCommand)
      .rejects(awsError('TimeoutError', 'a request has exceeded the configured requestTimeout'));
    sqs
      .onAnyCommand()
      .rejects(awsError('TimeoutError', 'a request has exceeded the configured requestTimeout'));
    expect(await runCli(['purge', 'events', '--local', '--yes'], h.deps)).toBe(1);
    expect(h.stderr()).toContain(
      `local mode did not answer within ${LOCAL_ANSWER_SECONDS} s: is local mode (npm start or npx hookline dev) running`,
    );
  });
});
