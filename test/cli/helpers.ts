/**
 * Test doubles for the CLI cores: a recording output, a fake clock, a stack target and real SDK clients (which
 * the tests mock with aws-sdk-client-mock).
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { type ListSchedulesCommandOutput, SchedulerClient } from '@aws-sdk/client-scheduler';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type Message, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach } from 'vitest';
import config from '../../hookline.config';
import { jobScheduleName } from '../../lambda/producer/producer';
import type { Backend, Clock, HttpFetch, TargetOptions } from '../../lib/cli/backend';
import type { InterruptSignal, Interrupts } from '../../lib/cli/interrupt';
import { colorsFor, consoleOutput, type Output } from '../../lib/cli/output';
import type { CliDependencies } from '../../lib/cli/program';
import { JOB_SCHEDULES, type LocalTarget, type StackTarget } from '../../lib/cli/target';
import { resolveConfig } from '../../lib/config';

export interface RecordingOutput extends Output {
  readonly lines: string[];
  readonly notes: string[];
  readonly results: unknown[];
  /** Every progress update: [label, done, total]. */
  readonly progressUpdates: [string, number, number | undefined][];
  readonly progressSummaries: string[];
  /** The label of every progress bar ended (`done`), which prints its last line. */
  readonly progressEnded: string[];
  readonly questions: string[];
}

export function recordingOutput(
  options: { json?: boolean; interactive?: boolean; answer?: boolean } = {},
): RecordingOutput {
  const lines: string[] = [];
  const notes: string[] = [];
  const results: unknown[] = [];
  const progressUpdates: [string, number, number | undefined][] = [];
  const progressSummaries: string[] = [];
  const progressEnded: string[] = [];
  const questions: string[] = [];
  return {
    json: options.json ?? false,
    interactive: options.interactive ?? false,
    colors: colorsFor(false),
    lines,
    notes,
    results,
    progressUpdates,
    progressSummaries,
    progressEnded,
    questions,
    line: (text) => lines.push(text),
    note: (text) => notes.push(text),
    result: (value) => results.push(value),
    progress(label, total) {
      let current = total;
      return {
        update(done, newTotal) {
          if (newTotal !== undefined) current = newTotal;
          progressUpdates.push([label, done, current]);
        },
        done(summary) {
          progressEnded.push(label);
          if (summary) progressSummaries.push(summary);
        },
      };
    },
    async confirm(question) {
      questions.push(question);
      return options.answer ?? false;
    },
  };
}

/** A clock that advances only when slept on. */
export function fakeClock(start = Date.parse('2026-11-25T03:00:00Z')): Clock & { readonly sleeps: number[] } {
  let now = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    async sleep(ms) {
      sleeps.push(ms);
      now += ms;
    },
  };
}

const noHttp: HttpFetch = async (url) => {
  throw new Error(`unexpected HTTP call to ${url}`);
};

export function testBackend(
  overrides: Partial<Backend> = {},
): Backend & { output: RecordingOutput; clock: ReturnType<typeof fakeClock> } {
  const region = 'us-east-1';
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  return {
    sqs: new SQSClient({ region, credentials }),
    lambda: new LambdaClient({ region, credentials }),
    cloudformation: new CloudFormationClient({ region, credentials }),
    cloudwatch: new CloudWatchClient({ region, credentials }),
    secretsManager: new SecretsManagerClient({ region, credentials }),
    scheduler: new SchedulerClient({ region, credentials }),
    http: noHttp,
    clock: fakeClock(),
    output: recordingOutput(),
    ...overrides,
  } as Backend & { output: RecordingOutput; clock: ReturnType<typeof fakeClock> };
}

const account = '123456789012';
const sqsUrl = (name: string) => `https://sqs.us-east-1.amazonaws.com/${account}/${name}`;
const sqsArn = (name: string) => `arn:aws:sqs:us-east-1:${account}:${name}`;

export const EVENTS = {
  name: 'events',
  url: sqsUrl('Hookline-events'),
  arn: sqsArn('Hookline-events'),
  deadLetterUrl: sqsUrl('Hookline-events-dlq'),
  deadLetterArn: sqsArn('Hookline-events-dlq'),
  fifo: false,
  eventSourceMappingId: 'esm-events-uuid',
  consumerFunctionName: 'Hookline-EventsConsumer',
};
export const ORDERS = {
  name: 'orders',
  url: sqsUrl('Hookline-orders.fifo'),
  arn: sqsArn('Hookline-orders.fifo'),
  deadLetterUrl: sqsUrl('Hookline-orders-dlq.fifo'),
  deadLetterArn: sqsArn('Hookline-orders-dlq.fifo'),
  fifo: true,
  eventSourceMappingId: 'esm-orders-uuid',
};

/** Local mode on its default ports, with no consumers and no queues unless `overrides` give them. */
export function localTestTarget(overrides: Partial<LocalTarget> = {}): LocalTarget {
  return {
    kind: 'local',
    description: 'local mode',
    region: 'us-east-1',
    controlUrl: 'http://127.0.0.1:3000/_hookline',
    webhookBaseUrl: 'http://127.0.0.1:3000',
    endpoints: { sqs: 'http://127.0.0.1:4566' },
    consumers: {},
    queues: {},
    ...overrides,
  };
}

export function stackTarget(): StackTarget {
  return {
    kind: 'stack',
    description: 'stack Hookline in us-east-1',
    stackName: 'Hookline',
    region: 'us-east-1',
    queues: { events: EVENTS, orders: ORDERS },
    queuesMissingOutputs: [],
    webhookUrls: { github: 'https://abc.execute-api.us-east-1.amazonaws.com/webhooks/github' },
  };
}

/** The dead-letter queue of the one-time job schedules, as the stack `Hookline` publishes it. */
export const JOB_SCHEDULES_DEAD_LETTER_QUEUE = {
  name: JOB_SCHEDULES,
  deadLetterUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/Hookline-JobSchedulesDlq',
  deadLetterArn: 'arn:aws:sqs:us-east-1:123456789012:Hookline-JobSchedulesDlq',
  holds: 'one-time jobs Scheduler could not deliver',
} as const;

/** {@link stackTarget} of a stack whose producers may delay jobs: it publishes their schedules' dead-letter queue. */
export function stackTargetWithJobSchedules(): StackTarget {
  return { ...stackTarget(), jobSchedulesDeadLetterQueue: JOB_SCHEDULES_DEAD_LETTER_QUEUE };
}

/**
 * `count` one-time job schedules of {@link stackTargetWithJobSchedules}'s stack as `ListSchedules` lists them, each
 * sending to `queueArn`; `tag` keeps the names of two pages apart.
 */
export function jobSchedules(count: number, queueArn = EVENTS.arn, tag = 'last') {
  return Array.from({ length: count }, (_, i) => ({
    Name: jobScheduleName('Hookline-job-', `job-${queueArn.split(':').at(-1)}-${tag}-${i}`),
    GroupName: 'default',
    State: 'ENABLED' as const,
    Target: { Arn: queueArn },
  }));
}

/** A `ListSchedules` page of `count` {@link jobSchedules}, followed by the page `next` when given. */
export function jobSchedulesPage(
  count: number,
  next?: string,
  queueArn = EVENTS.arn,
): ListSchedulesCommandOutput {
  return {
    Schedules: jobSchedules(count, queueArn, next),
    ...(next ? { NextToken: next } : {}),
  } as ListSchedulesCommandOutput;
}

/** A dead-lettered envelope message as SQS returns it. */
export function deadLetterMessage(
  n: number,
  options: {
    type?: string;
    group?: string;
    /** The tenant attribute the ingest writes for a fair queue's message. */
    tenant?: string;
    id?: string;
    error?: boolean;
    body?: string;
    /** The replay run that sent this copy. */
    replay?: string;
    /** Headers the envelope holds besides its content type (an older version kept credential headers). */
    headers?: Record<string, string>;
    /** The reason the consumer recorded. @default PermanentError: customer cus_1 not found */
    failure?: { readonly name?: string; readonly message: string };
  } = {},
): Message {
  const id = options.id ?? `evt-${n}`;
  const envelope = {
    v: 1,
    id,
    source: 'stripe',
    type: options.type ?? 'invoice.paid',
    receivedAt: '2026-11-25T02:00:00.000Z',
    headers: { 'content-type': 'application/json', ...options.headers },
    contentType: 'application/json',
    body: JSON.stringify({ n }),
    bodyEncoding: 'utf8',
    ...(options.replay ? { replay: { id: options.replay, at: '2026-11-25T03:00:00.000Z' } } : {}),
  };
  return {
    MessageId: `sqs-${n}`,
    ReceiptHandle: `rh-${n}`,
    Body: options.body ?? JSON.stringify(envelope),
    Attributes: {
      SentTimestamp: String(Date.parse('2026-11-25T02:00:01Z')),
      ApproximateReceiveCount: '6',
      ...(options.group ? { MessageGroupId: options.group } : {}),
    },
    MessageAttributes: {
      'hookline.source': { DataType: 'String', StringValue: 'stripe' },
      'hookline.type': { DataType: 'String', StringValue: options.type ?? 'invoice.paid' },
      'hookline.id': { DataType: 'String', StringValue: id },
      ...(options.tenant ? { 'hookline.tenant': { DataType: 'String', StringValue: options.tenant } } : {}),
      ...(options.error === false
        ? {}
        : {
            'hookline.error.name': {
              DataType: 'String',
              StringValue: options.failure?.name ?? 'PermanentError',
            },
            'hookline.error.message': {
              DataType: 'String',
              StringValue: options.failure?.message ?? 'customer cus_1 not found',
            },
            'hookline.error.attempt': { DataType: 'Number', StringValue: '3' },
            'hookline.error.consumer': { DataType: 'String', StringValue: 'events' },
            'hookline.error.at': { DataType: 'String', StringValue: '2026-11-25T02:10:00.000Z' },
          }),
    },
  };
}

/** What a dead-lettered job is, beyond its number. */
export interface JobDeadLetterOptions {
  /** Its id. @default job-<n> */
  readonly id?: string;
  /** @default email.welcome */
  readonly type?: string;
  /** Its record is kept (dedupe on), so a delete or redrive writes to it. @default true */
  readonly tracked?: boolean;
  /** The flow parent it tells, and what its failure does to that parent (`fail` or `ignore`). */
  readonly parent?: string;
  readonly onParentFailure?: string;
  /** The claim's generation. @default g-<n>, or none for a flow child */
  readonly generation?: string;
  /** The reason the consumer recorded. @default PermanentError: customer cus_1 not found */
  readonly failure?: { readonly name?: string; readonly message: string };
}

/** A dead-lettered job `job-<n>` (or a flow child of `parent`), as the producer sends and the consumer fails it. */
export function jobDeadLetter(n: number, o: JobDeadLetterOptions = {}): Message {
  const id = o.id ?? `job-${n}`;
  const generation = o.generation ?? (o.parent === undefined ? `g-${n}` : undefined);
  return deadLetterMessage(n, {
    id,
    ...(o.failure ? { failure: o.failure } : {}),
    body: JSON.stringify({
      v: 1,
      id,
      source: 'job',
      type: o.type ?? 'email.welcome',
      receivedAt: '2026-11-25T02:00:00.000Z',
      headers: {
        ...(o.tracked === false ? {} : { 'x-hookline-job-record': '1' }),
        ...(o.parent === undefined ? {} : { 'x-hookline-parent': o.parent }),
        ...(o.onParentFailure === undefined ? {} : { 'x-hookline-parent-on-failure': o.onParentFailure }),
      },
      contentType: 'application/json',
      body: '{}',
      bodyEncoding: 'utf8',
      ...(generation === undefined ? {} : { generation }),
    }),
  });
}

/**
 * The deployed stack {@link stackTarget} names, keeping job records in the dedupe table `dedupe`, answered by a
 * mocked CloudFormation: restore it after use.
 */
export function stackWithJobRecords() {
  const cloudformation = mockClient(CloudFormationClient);
  cloudformation.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: 'Hookline',
        CreationTime: new Date(),
        StackStatus: 'CREATE_COMPLETE',
        Outputs: [{ OutputKey: 'DedupeTableName', OutputValue: 'dedupe' }],
      },
    ],
  });
  return cloudformation;
}

/** Interrupts sent by the test instead of the terminal; `exits` records every exit asked for. */
export function fakeInterrupts(): Interrupts & {
  readonly exits: number[];
  interrupt(signal?: InterruptSignal): void;
  listeners(): number;
} {
  const listeners = new Set<(signal: InterruptSignal) => void>();
  const exits: number[] = [];
  return {
    exits,
    interrupt(signal = 'SIGINT') {
      for (const listener of [...listeners]) listener(signal);
    },
    listeners: () => listeners.size,
    listen(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    exit: (code) => exits.push(code),
  };
}

/** An AWS-style error with a name, as the SDK throws. */
export function awsError(name: string, message = name): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/**
 * The SQS, Lambda and CloudWatch mocks the command tests drive, reset before every test. Call once at the top
 * of a test file.
 */
export function mockCommandClients() {
  const clients = {
    sqs: mockClient(SQSClient),
    lambda: mockClient(LambdaClient),
    cloudwatch: mockClient(CloudWatchClient),
  };
  beforeEach(() => {
    clients.sqs.reset();
    clients.lambda.reset();
    clients.cloudwatch.reset();
  });
  return clients;
}

/**
 * Dependencies of the real program that record what it prints: stdout and stderr (as a non-terminal, without
 * colours) and every target it connects to. By default it connects to {@link stackTarget} with
 * {@link testBackend} and loads the project's configuration.
 */
export function cliHarness(overrides: Partial<CliDependencies> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const connects: TargetOptions[] = [];
  const deps: CliDependencies = {
    makeOutput: (json) =>
      consoleOutput({
        json,
        stdout: { write: (t: string) => out.push(t) },
        stderr: { write: (t: string) => err.push(t) },
        stdinIsTty: false,
        env: {},
      }),
    connect: async (options, output) => {
      connects.push(options);
      return { target: stackTarget(), backend: testBackend({ output }) };
    },
    loadConfig: async () => resolveConfig(config),
    env: {},
    writeErr: (t) => err.push(t),
    writeOut: (t) => out.push(t),
    ...overrides,
  };
  return { deps, out, err, connects, stdout: () => out.join(''), stderr: () => err.join('') };
}
