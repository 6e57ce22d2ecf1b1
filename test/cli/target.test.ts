import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Duration } from 'aws-cdk-lib';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import config from '../../hookline.config';
import { budgetOptions } from '../../lambda/shared/aws-clients';
import { boundedFetch, connect } from '../../lib/cli/backend';
import {
  BackendError,
  CliError,
  CredentialsError,
  explainError,
  LOCAL_ANSWER_SECONDS,
  localModeNotAnswering,
  UnknownQueueError,
} from '../../lib/cli/errors';
import { jobsStore } from '../../lib/cli/jobs';
import {
  BREAKER_SCHEDULES,
  deadLetterQueueOf,
  describeStackTarget,
  JOB_SCHEDULES,
  localStatePath,
  noReasonRecorded,
  otherDeadLetterQueues,
  queueOf,
  readLocalTarget,
  webhookUrlOf,
} from '../../lib/cli/target';
import { resolveConfig } from '../../lib/config';
import { localJournalPath } from '../../lib/local/state-file';
import { outputKey } from '../../lib/stack-outputs';
import { awsError, recordingOutput } from './helpers';

const cfn = mockClient(CloudFormationClient);
const resolved = resolveConfig(config);
let dir: string;

beforeEach(() => {
  cfn.reset();
  dir = mkdtempSync(join(tmpdir(), 'hookline-cli-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const state = {
  pid: process.pid,
  webhookBaseUrl: 'http://127.0.0.1:3000/',
  controlUrl: 'http://127.0.0.1:3000/_hookline',
  region: 'us-east-1',
  endpoints: { sqs: 'http://127.0.0.1:4566' },
  queues: {
    events: {
      url: 'http://sqs.us-east-1.localhost:4566/000000000000/Hookline-events',
      arn: 'arn:aws:sqs:us-east-1:000000000000:Hookline-events',
      deadLetterUrl: 'http://sqs.us-east-1.localhost:4566/000000000000/Hookline-events-dlq',
      deadLetterArn: 'arn:aws:sqs:us-east-1:000000000000:Hookline-events-dlq',
      fifo: false,
    },
  },
  consumers: { events: { state: 'Enabled' } },
};

function stackOutputs(): { OutputKey: string; OutputValue: string }[] {
  const outputs: { OutputKey: string; OutputValue: string }[] = [];
  for (const q of resolved.queues) {
    outputs.push(
      { OutputKey: outputKey('QueueUrl', q.name), OutputValue: `https://sqs/${q.name}` },
      { OutputKey: outputKey('QueueArn', q.name), OutputValue: `arn:${q.name}` },
      { OutputKey: outputKey('DeadLetterQueueUrl', q.name), OutputValue: `https://sqs/${q.name}-dlq` },
      { OutputKey: outputKey('DeadLetterQueueArn', q.name), OutputValue: `arn:${q.name}-dlq` },
      { OutputKey: outputKey('EventSourceMappingId', q.name), OutputValue: `esm-${q.name}` },
    );
  }
  outputs.push({ OutputKey: 'ApiUrl', OutputValue: 'https://api.example.com/' });
  outputs.push({
    OutputKey: outputKey('WebhookUrl', 'github'),
    OutputValue: 'https://api.example.com/webhooks/github',
  });
  return outputs;
}

describe('local target', () => {
  it('reads the state file of the running local mode, its URLs without trailing slashes', () => {
    writeFileSync(
      join(dir, 'local.json'),
      JSON.stringify({
        ...state,
        webhookBaseUrl: 'http://127.0.0.1:3000//',
        controlUrl: 'http://127.0.0.1:3000/_hookline//',
      }),
    );
    const target = readLocalTarget(localStatePath({ HOOKLINE_STATE_DIR: dir }));
    expect(target.controlUrl).toBe('http://127.0.0.1:3000/_hookline');
    expect(target.kind).toBe('local');
    expect(queueOf(target, 'events')).toMatchObject({
      name: 'events',
      fifo: false,
      url: state.queues.events.url,
    });
    expect(webhookUrlOf(target, 'github')).toBe('http://127.0.0.1:3000/webhooks/github');
  });

  it('defaults to .hookline/local.json in the working directory', () => {
    expect(localStatePath({}, '/project')).toBe('/project/.hookline/local.json');
  });

  it("finds a running local mode's state from a folder inside the project, and never past the project's root", () => {
    const outer = join(dir, 'outer');
    const deep = join(outer, 'consumers', 'deep');
    mkdirSync(deep, { recursive: true });
    writeFileSync(join(outer, 'package.json'), '{}');
    mkdirSync(join(outer, '.hookline'));
    writeFileSync(join(outer, '.hookline', 'local.json'), JSON.stringify(state));
    expect(localStatePath({}, deep)).toBe(join(outer, '.hookline', 'local.json'));
    expect(localJournalPath({}, deep)).toBe(join(outer, '.hookline', 'journal.jsonl'));
    expect(readLocalTarget(localStatePath({}, deep)).kind).toBe('local');
    // A project made inside another reads its own state file, even when only the outer one's local mode runs.
    const inner = join(outer, 'my-hooks');
    mkdirSync(join(inner, 'consumers'), { recursive: true });
    writeFileSync(join(inner, 'package.json'), '{}');
    expect(localStatePath({}, join(inner, 'consumers'))).toBe(join(inner, '.hookline', 'local.json'));
    expect(localStatePath({ HOOKLINE_STATE_DIR: '/state' }, deep)).toBe('/state/local.json');
  });

  it('reads an empty HOOKLINE_STATE_DIR as unset, for the state file and the journal alike', () => {
    expect(localStatePath({ HOOKLINE_STATE_DIR: '' }, '/project')).toBe('/project/.hookline/local.json');
    expect(localJournalPath({ HOOKLINE_STATE_DIR: '' }, '/project')).toBe('/project/.hookline/journal.jsonl');
    expect(localJournalPath({ HOOKLINE_STATE_DIR: '/state' }, '/project')).toBe('/state/journal.jsonl');
  });

  it('says local mode is not running when the file is missing or its pid is dead', () => {
    const path = join(dir, 'local.json');
    expect(() => readLocalTarget(path)).toThrow(
      new CliError('local mode is not running: start it with npm start or npx hookline dev'),
    );
    writeFileSync(path, JSON.stringify(state));
    expect(() => readLocalTarget(path, () => false)).toThrow(
      'local mode is not running: start it with npm start or npx hookline dev',
    );
  });

  it("says local mode is starting while a live start holds the state directory's lock, and not running once its process is gone", () => {
    const path = join(dir, 'local.json');
    const lock = (pid: number) =>
      writeFileSync(`${path}.lock`, `${JSON.stringify({ pid, startedAt: '2026-12-01T10:00:00.000Z' })}\n`);
    // The parent of this test process: alive, as a start that has not written its state file yet.
    lock(process.ppid);
    expect(() => readLocalTarget(path)).toThrow(
      new CliError(
        `local mode is starting (pid ${process.ppid}, since 2026-12-01T10:00:00.000Z): run this again once local mode (npm start or npx hookline dev) says it is running`,
      ),
    );
    // The state file a local mode killed with -9 left does not hide the start that follows it.
    writeFileSync(path, JSON.stringify(state));
    expect(() => readLocalTarget(path, () => false)).toThrow(/^local mode is starting \(pid /);
    // A start killed with -9 leaves its lock: that is no start, and "run this again" would never succeed.
    const gone = spawnSync(process.execPath, ['-e', '0']).pid as number;
    lock(gone);
    expect(() => readLocalTarget(path, () => false)).toThrow(
      new CliError('local mode is not running: start it with npm start or npx hookline dev'),
    );
    rmSync(path);
    expect(() => readLocalTarget(path)).toThrow(
      new CliError('local mode is not running: start it with npm start or npx hookline dev'),
    );
  });

  it('explains an unreadable state file', () => {
    const path = join(dir, 'local.json');
    writeFileSync(path, '{"pid": "x"');
    expect(() => readLocalTarget(path)).toThrow(
      /unreadable: restart local mode with npm start or npx hookline dev/,
    );
  });

  it('says local mode keeps no dead-letter queue for one-time jobs or schedules, and why', () => {
    writeFileSync(join(dir, 'local.json'), JSON.stringify(state));
    const target = readLocalTarget(localStatePath({ HOOKLINE_STATE_DIR: dir }));
    expect(otherDeadLetterQueues(target)).toEqual([]);
    expect(() => deadLetterQueueOf(target, JOB_SCHEDULES)).toThrow(
      new CliError(
        'local mode has no job_schedules dead-letter queue: it sends a one-time job again until its queue takes it',
      ),
    );
    expect(() => deadLetterQueueOf(target, 'schedule:heartbeat')).toThrow(
      /^local mode has no schedule:heartbeat dead-letter queue: it keeps none for schedules/,
    );
    expect(() => deadLetterQueueOf(target, BREAKER_SCHEDULES)).toThrow(
      new CliError(
        'local mode has no breaker_schedules dead-letter queue: it runs each probe and close itself, on its own clock, and says so in its output',
      ),
    );
  });

  it('says a schedule the running local mode does not have is unknown, naming its schedules, not that it keeps no DLQ for it', () => {
    writeFileSync(join(dir, 'local.json'), JSON.stringify({ ...state, schedules: ['heartbeat', 'nightly'] }));
    const target = readLocalTarget(localStatePath({ HOOKLINE_STATE_DIR: dir }));
    expect(() => deadLetterQueueOf(target, 'schedule:heartbeet')).toThrow(
      new CliError(
        'unknown schedule "heartbeet" in local mode (did you mean schedule:heartbeat?): use one of schedule:heartbeat, schedule:nightly',
      ),
    );
    expect(() => deadLetterQueueOf(target, 'schedule:heartbeat')).toThrow(
      /^local mode has no schedule:heartbeat dead-letter queue: it keeps none for schedules/,
    );
  });

  it("says why a dead letter has no reason: SQS moved it from a queue's own DLQ, Scheduler's lacks its code", () => {
    expect(noReasonRecorded('events')).toBe(
      'no reason recorded: SQS moved it after maxReceiveCount receives (a crash or a timeout)',
    );
    for (const name of [JOB_SCHEDULES, BREAKER_SCHEDULES, 'schedule:heartbeat']) {
      expect(noReasonRecorded(name)).toBe(
        'no reason recorded: it lacks the ERROR_CODE EventBridge Scheduler sets on what it puts here',
      );
    }
  });

  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])(
    'takes %s for an unknown queue, not a member every object has',
    (name) => {
      writeFileSync(join(dir, 'local.json'), JSON.stringify(state));
      const target = readLocalTarget(localStatePath({ HOOKLINE_STATE_DIR: dir }));
      expect(() => queueOf(target, name)).toThrow(
        new UnknownQueueError(name, `unknown queue "${name}" in local mode: use one of events`),
      );
      expect(() => deadLetterQueueOf(target, name)).toThrow(
        new UnknownQueueError(name, `unknown queue "${name}" in local mode: use one of events`),
      );
    },
  );
});

describe('stack target', () => {
  /** Stack `Hookline` as DescribeStacks answers for it: its `outputs`, and its id `stackId` when given. */
  function stackPublishes(outputs: { OutputKey: string; OutputValue: string }[], stackId?: string) {
    cfn.on(DescribeStacksCommand, { StackName: 'Hookline' }).resolves({
      Stacks: [
        {
          StackName: 'Hookline',
          ...(stackId ? { StackId: stackId } : {}),
          CreationTime: new Date(),
          StackStatus: 'CREATE_COMPLETE',
          Outputs: outputs,
        },
      ],
    });
  }

  /** The target of stack `Hookline` in `region`, described under `configuration`. */
  const describeHookline = (configuration = resolved, region = 'us-east-1') =>
    describeStackTarget(new CloudFormationClient({ region: 'us-east-1' }), 'Hookline', region, configuration);

  it('finds queues, DLQs, mappings and webhook URLs from the stack outputs', async () => {
    stackPublishes(stackOutputs());
    const target = await describeHookline();
    expect(queueOf(target, 'orders')).toEqual({
      name: 'orders',
      url: 'https://sqs/orders',
      arn: 'arn:orders',
      deadLetterUrl: 'https://sqs/orders-dlq',
      deadLetterArn: 'arn:orders-dlq',
      fifo: true,
      oldestMessageAgeAlarmSeconds: 900,
      idempotency: { expirySeconds: 3 * 86_400 },
      eventSourceMappingId: 'esm-orders',
    });
    expect(webhookUrlOf(target, 'github')).toBe('https://api.example.com/webhooks/github');
    expect(webhookUrlOf(target, 'stripe')).toBe('https://api.example.com/webhooks/stripe');
  });

  it('marks a nested stack, whose job schedules are not named after its own name', async () => {
    const describe = (parent?: string) =>
      cfn.on(DescribeStacksCommand, { StackName: 'Hookline' }).resolves({
        Stacks: [
          {
            StackName: 'Hookline',
            CreationTime: new Date(),
            StackStatus: 'CREATE_COMPLETE',
            Outputs: stackOutputs(),
            ...(parent ? { ParentId: parent } : {}),
          },
        ],
      });
    const client = new CloudFormationClient({ region: 'us-east-1' });
    describe('arn:aws:cloudformation:us-east-1:123456789012:stack/Platform/0a1b');
    const nested = await describeStackTarget(client, 'Hookline', 'us-east-1', resolved);
    describe();
    const topLevel = await describeStackTarget(client, 'Hookline', 'us-east-1', resolved);
    expect([nested.nested, topLevel.nested]).toEqual([true, undefined]);
  });

  it('marks a queue configured with tenants as fair, so status reads its quiet tenants', async () => {
    stackPublishes(stackOutputs());
    const withTenants = resolveConfig({
      ...config,
      queues: {
        ...config.queues,
        events: { ...config.queues.events, tenants: { stripe: { path: 'account' } } },
      },
    });
    const target = await describeHookline(withTenants);
    expect([queueOf(target, 'events').fair, queueOf(target, 'orders').fair]).toEqual([true, undefined]);
  });

  it("carries each queue's idempotency from the configuration: its expiry while on, null when off", async () => {
    stackPublishes(stackOutputs());
    const orders = config.queues.orders;
    const mixed = resolveConfig({
      ...config,
      queues: {
        ...config.queues,
        events: {
          ...config.queues.events,
          consumer: { ...config.queues.events?.consumer, idempotency: { expiry: Duration.hours(6) } },
        },
        orders: { ...orders, consumer: { ...orders?.consumer, idempotency: { enabled: false } } },
      } as typeof config.queues,
    });
    const target = await describeHookline(mixed);
    expect([queueOf(target, 'events').idempotency, queueOf(target, 'orders').idempotency]).toEqual([
      { expirySeconds: 6 * 3600 },
      null,
    ]);
  });

  it('marks a queue whose circuit breaker probes (halfOpenAfter), so status reads its running mapping tag', async () => {
    stackPublishes(stackOutputs());
    const events = config.queues.events as NonNullable<typeof config.queues.events>;
    const breaker = (halfOpenAfter?: Duration) =>
      resolveConfig({
        ...config,
        queues: {
          ...config.queues,
          events: {
            ...events,
            consumer: {
              entry: 'lambda/consumers/events.ts',
              circuitBreaker: { window: Duration.minutes(5), ...(halfOpenAfter ? { halfOpenAfter } : {}) },
            },
          },
        },
      });
    const probing = await describeHookline(breaker(Duration.minutes(10)));
    expect([queueOf(probing, 'events').breakerProbes, queueOf(probing, 'orders').breakerProbes]).toEqual([
      true,
      undefined,
    ]);
    expect(queueOf(await describeHookline(breaker()), 'events').breakerProbes).toBeUndefined();
  });

  it("finds the log groups trace searches, the jobs endpoint's once the stack publishes it", async () => {
    const describe = async (outputs: { OutputKey: string; OutputValue: string }[]) => {
      stackPublishes(outputs);
      return describeHookline();
    };
    const ingest = { OutputKey: 'IngestLogGroupName', OutputValue: '/aws/lambda/ingest' };
    const jobs = { OutputKey: 'JobsEndpointLogGroupName', OutputValue: '/aws/lambda/jobs' };
    expect((await describe([ingest, jobs])).logGroups).toEqual({
      ingest: '/aws/lambda/ingest',
      jobsEndpoint: '/aws/lambda/jobs',
      consumers: {},
    });
    expect((await describe([ingest])).logGroups).toEqual({ ingest: '/aws/lambda/ingest', consumers: {} });
  });

  /** The target of stack `Hookline` whose id is `stackId`, from `outputs`. */
  async function targetOf(
    stackId: string | undefined,
    outputs: { OutputKey: string; OutputValue: string }[],
  ) {
    stackPublishes(outputs, stackId);
    return describeHookline();
  }

  /** The URL outputs a stack of this version publishes for each queue: no ARN outputs. */
  const urlOutputs = (origin: string, account: string) =>
    resolved.queues.flatMap((q) => [
      { OutputKey: outputKey('QueueUrl', q.name), OutputValue: `${origin}/${account}/Hookline-${q.name}` },
      {
        OutputKey: outputKey('DeadLetterQueueUrl', q.name),
        OutputValue: `${origin}/${account}/Hookline-${q.name}-dlq`,
      },
    ]);

  it.each([
    ['aws', 'eu-west-1', 'https://sqs.eu-west-1.amazonaws.com'],
    ['aws-cn', 'cn-north-1', 'https://sqs.cn-north-1.amazonaws.com.cn'],
    ['aws-us-gov', 'us-gov-west-1', 'https://sqs.us-gov-west-1.amazonaws.com'],
    // The legacy forms of a queue's URL name no partition, and the first no region.
    ['aws', 'us-east-1', 'https://queue.amazonaws.com'],
    ['aws', 'eu-west-1', 'https://eu-west-1.queue.amazonaws.com'],
  ])(
    "derives each queue's ARN from its URL, in the partition and region of the stack's own ARN (%s, %s)",
    async (partition, region, origin) => {
      const account = '123456789012';
      const target = await targetOf(
        `arn:${partition}:cloudformation:${region}:${account}:stack/Hookline/0a1b2c3d-0000-0000-0000-000000000000`,
        urlOutputs(origin, account),
      );
      expect(queueOf(target, 'orders')).toMatchObject({
        url: `${origin}/${account}/Hookline-orders`,
        arn: `arn:${partition}:sqs:${region}:${account}:Hookline-orders`,
        deadLetterUrl: `${origin}/${account}/Hookline-orders-dlq`,
        deadLetterArn: `arn:${partition}:sqs:${region}:${account}:Hookline-orders-dlq`,
      });
      expect(target.queuesMissingOutputs).toEqual([]);
    },
  );

  it('reads the ARN outputs of a stack an earlier version deployed, rather than deriving them', async () => {
    const stackId = 'arn:aws:cloudformation:us-east-1:123456789012:stack/Hookline/0a1b2c3d';
    const formerArns = resolved.queues.flatMap((q) => [
      { OutputKey: outputKey('QueueArn', q.name), OutputValue: `arn:${q.name}` },
      { OutputKey: outputKey('DeadLetterQueueArn', q.name), OutputValue: `arn:${q.name}-dlq` },
    ]);
    const target = await targetOf(stackId, [
      ...urlOutputs('https://sqs.us-east-1.amazonaws.com', '123456789012'),
      ...formerArns,
    ]);
    expect(queueOf(target, 'orders')).toMatchObject({ arn: 'arn:orders', deadLetterArn: 'arn:orders-dlq' });
  });

  it('counts a queue as missing outputs when one of its URL outputs is absent', async () => {
    const stackId = 'arn:aws:cloudformation:us-east-1:123456789012:stack/Hookline/0a1b2c3d';
    const outputs = urlOutputs('https://sqs.us-east-1.amazonaws.com', '123456789012').filter(
      (o) => o.OutputKey !== outputKey('DeadLetterQueueUrl', 'orders'),
    );
    const target = await targetOf(stackId, outputs);
    expect(target.queuesMissingOutputs).toEqual(['orders']);
    expect(() => queueOf(target, 'orders')).toThrow(/no outputs in stack Hookline in us-east-1: redeploy/);
    expect(queueOf(target, 'events').arn).toBe('arn:aws:sqs:us-east-1:123456789012:Hookline-events');
  });

  it('tells to redeploy when a queue has no outputs', async () => {
    cfn.on(DescribeStacksCommand).resolves({
      Stacks: [
        { StackName: 'Hookline', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: [] },
      ],
    });
    const target = await describeHookline();
    expect(() => queueOf(target, 'events')).toThrow(/no outputs in stack Hookline in us-east-1: redeploy/);
  });

  const STACK_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/Hookline/0a1b2c3d';
  const SQS_ORIGIN = 'https://sqs.us-east-1.amazonaws.com';

  it('counts a queue as missing outputs when its QueueUrl output is absent, though its ARN and DLQ are published', async () => {
    const outputs = [
      ...urlOutputs(SQS_ORIGIN, '123456789012').filter(
        (o) => o.OutputKey !== outputKey('QueueUrl', 'orders'),
      ),
      {
        OutputKey: outputKey('QueueArn', 'orders'),
        OutputValue: 'arn:aws:sqs:us-east-1:123456789012:Hookline-orders',
      },
    ];
    const target = await targetOf(STACK_ID, outputs);
    expect(target.queuesMissingOutputs).toEqual(['orders']);
    expect(() => queueOf(target, 'orders')).toThrow(/no outputs in stack Hookline in us-east-1: redeploy/);
  });

  it('counts every queue as missing outputs when no ARN can be had: no ARN outputs and no stack id', async () => {
    const target = await targetOf(undefined, urlOutputs(SQS_ORIGIN, '123456789012'));
    expect(target.queuesMissingOutputs).toEqual(['events', 'orders']);
    expect(target.queues).toEqual({});
  });

  it('says a stack DescribeStacks answers with no stack for is not found, naming the fix', async () => {
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [] });
    await expect(describeHookline(resolved, 'eu-west-1')).rejects.toMatchObject({
      name: 'StackNotFoundError',
      message:
        'stack Hookline not found in eu-west-1: deploy it with npx cdk deploy, or pass --stack/--region',
    });
  });

  it("posts to a source's own WebhookUrl output over the API's, and names a source with neither", async () => {
    const target = await targetOf(STACK_ID, [
      {
        OutputKey: outputKey('WebhookUrl', 'github'),
        OutputValue: 'https://hooks.example.com/webhooks/github',
      },
    ]);
    expect(webhookUrlOf(target, 'github')).toBe('https://hooks.example.com/webhooks/github');
    expect(() => webhookUrlOf(target, 'stripe')).toThrow(
      new CliError(
        'source stripe has no webhook URL in stack Hookline in us-east-1: redeploy with npx cdk deploy, or pass --url',
      ),
    );
  });

  it('finds the ingest function send reads secrets through and the archive bucket replay reads, once published', async () => {
    const published = await targetOf(STACK_ID, [
      { OutputKey: 'IngestFunctionName', OutputValue: 'Hookline-Ingest' },
      { OutputKey: 'ArchiveBucketName', OutputValue: 'hookline-archive' },
    ]);
    expect(published).toMatchObject({
      ingestFunctionName: 'Hookline-Ingest',
      archiveBucket: 'hookline-archive',
    });
    const without = await targetOf(STACK_ID, []);
    expect(without).not.toHaveProperty('ingestFunctionName');
    expect(without).not.toHaveProperty('archiveBucket');
  });

  it('finds the signing secret secrets set stores into for each source that publishes one, and none for the others', async () => {
    const target = await targetOf(STACK_ID, [
      { OutputKey: outputKey('SigningSecretId', 'github'), OutputValue: 'arn:secret:github' },
      { OutputKey: outputKey('SigningSecretId', 'stripe'), OutputValue: 'arn:secret:stripe' },
    ]);
    expect(target.signingSecretIds).toEqual({ github: 'arn:secret:github', stripe: 'arn:secret:stripe' });
  });

  it("finds each queue's consumer log group that trace searches", async () => {
    const target = await targetOf(STACK_ID, [
      { OutputKey: outputKey('ConsumerLogGroupName', 'events'), OutputValue: '/aws/lambda/events-consumer' },
    ]);
    expect(target.logGroups?.consumers).toStrictEqual({ events: '/aws/lambda/events-consumer' });
  });

  it('has no job_schedules dead-letter queue until the stack publishes its output, then reads that one', async () => {
    const without = await targetOf(STACK_ID, urlOutputs(SQS_ORIGIN, '123456789012'));
    expect(otherDeadLetterQueues(without).map((d) => d.name)).not.toContain(JOB_SCHEDULES);
    expect(() => deadLetterQueueOf(without, JOB_SCHEDULES)).toThrow(
      /stack Hookline in us-east-1 has no job_schedules dead-letter queue in its outputs: it is made once a producer may delay jobs/,
    );
    const url = `${SQS_ORIGIN}/123456789012/Hookline-job-schedules-dlq`;
    const withIt = await targetOf(STACK_ID, [
      ...urlOutputs(SQS_ORIGIN, '123456789012'),
      { OutputKey: 'JobSchedulesDeadLetterQueueUrl', OutputValue: url },
    ]);
    expect(deadLetterQueueOf(withIt, JOB_SCHEDULES)).toEqual({
      name: JOB_SCHEDULES,
      deadLetterUrl: url,
      deadLetterArn: 'arn:aws:sqs:us-east-1:123456789012:Hookline-job-schedules-dlq',
      holds: 'one-time jobs Scheduler could not deliver',
    });
  });

  it('has no breaker_schedules dead-letter queue until the stack publishes its output, then reads that one', async () => {
    const without = await targetOf(STACK_ID, urlOutputs(SQS_ORIGIN, '123456789012'));
    expect(otherDeadLetterQueues(without).map((d) => d.name)).not.toContain(BREAKER_SCHEDULES);
    expect(() => deadLetterQueueOf(without, BREAKER_SCHEDULES)).toThrow(
      /stack Hookline in us-east-1 has no breaker_schedules dead-letter queue in its outputs: it is made once a consumer's circuit breaker has halfOpenAfter/,
    );
    const url = `${SQS_ORIGIN}/123456789012/Hookline-breaker-schedules-dlq`;
    const withIt = await targetOf(STACK_ID, [
      ...urlOutputs(SQS_ORIGIN, '123456789012'),
      { OutputKey: 'BreakerSchedulesDeadLetterQueueUrl', OutputValue: url },
    ]);
    expect(otherDeadLetterQueues(withIt)).toEqual([
      {
        name: BREAKER_SCHEDULES,
        deadLetterUrl: url,
        deadLetterArn: 'arn:aws:sqs:us-east-1:123456789012:Hookline-breaker-schedules-dlq',
        holds: 'circuit breaker probes and closes Scheduler could not deliver',
      },
    ]);
  });

  it("finds each schedule's dead-letter queue, and tells to redeploy for a schedule an older deployment has none for", async () => {
    const withSchedules = resolveConfig({
      ...config,
      schedules: [
        { name: 'heartbeat', expression: 'rate(1 hour)', queue: 'events', type: 'schedule.heartbeat' },
        { name: 'nightly', expression: 'rate(1 day)', queue: 'events', type: 'report.nightly' },
      ],
    });
    const url = `${SQS_ORIGIN}/123456789012/Hookline-heartbeat-dlq`;
    stackPublishes(
      [
        ...urlOutputs(SQS_ORIGIN, '123456789012'),
        { OutputKey: outputKey('ScheduleDeadLetterQueueUrl', 'heartbeat'), OutputValue: url },
        {
          OutputKey: 'JobSchedulesDeadLetterQueueUrl',
          OutputValue: `${SQS_ORIGIN}/123456789012/jobs-dlq`,
        },
      ],
      STACK_ID,
    );
    const target = await describeHookline(withSchedules);
    expect(otherDeadLetterQueues(target).slice(1)).toEqual([
      {
        name: 'schedule:heartbeat',
        deadLetterUrl: url,
        deadLetterArn: 'arn:aws:sqs:us-east-1:123456789012:Hookline-heartbeat-dlq',
        holds: 'deliveries of schedule heartbeat to the events queue Scheduler gave up on',
        redriveTo: 'events',
      },
    ]);
    expect(target.schedulesMissingOutputs).toEqual(['nightly']);
    expect(() => deadLetterQueueOf(target, 'schedule:nightly')).toThrow(
      new CliError(
        'schedule nightly has no dead-letter queue outputs in stack Hookline in us-east-1: redeploy with npx cdk deploy so the stack publishes them',
      ),
    );
    expect(() => deadLetterQueueOf(target, 'schedule:nope')).toThrow(
      new CliError('unknown schedule "nope" in stack Hookline in us-east-1: use one of schedule:heartbeat'),
    );
  });

  it("offers a misspelt schedule's dead-letter queue by the schedule's name, as close as any other short name must be", async () => {
    const withSchedules = resolveConfig({
      ...config,
      schedules: [
        { name: 'sync', expression: 'rate(1 hour)', queue: 'events', type: 'schedule.sync' },
        { name: 'heartbeat', expression: 'rate(1 day)', queue: 'events', type: 'schedule.heartbeat' },
      ],
    });
    const dlq = (name: string) => `${SQS_ORIGIN}/123456789012/Hookline-${name}-dlq`;
    stackPublishes(
      [
        ...urlOutputs(SQS_ORIGIN, '123456789012'),
        { OutputKey: outputKey('ScheduleDeadLetterQueueUrl', 'sync'), OutputValue: dlq('sync') },
        {
          OutputKey: outputKey('ScheduleDeadLetterQueueUrl', 'heartbeat'),
          OutputValue: dlq('heartbeat'),
        },
      ],
      STACK_ID,
    );
    const target = await describeHookline(withSchedules);
    const known = 'use one of schedule:sync, schedule:heartbeat';
    expect(() => deadLetterQueueOf(target, 'schedule:hearbeat')).toThrow(
      new CliError(
        `unknown schedule "hearbeat" in stack Hookline in us-east-1 (did you mean schedule:heartbeat?): ${known}`,
      ),
    );
    // "sink" is two edits from "sync": a name of four letters is offered one a single typo away, no further.
    expect(() => deadLetterQueueOf(target, 'schedule:sink')).toThrow(
      new CliError(`unknown schedule "sink" in stack Hookline in us-east-1: ${known}`),
    );
  });

  it('connect: a missing stack is one line naming the stack, region and fix', async () => {
    cfn
      .on(DescribeStacksCommand)
      .rejects(awsError('ValidationError', 'Stack with id Hookline does not exist'));
    await expect(
      connect({ region: 'eu-west-1' }, recordingOutput(), {}, async () => resolved),
    ).rejects.toMatchObject({
      name: 'StackNotFoundError',
      message:
        'stack Hookline not found in eu-west-1: deploy it with npx cdk deploy, or pass --stack/--region',
    });
  });

  describe('connect: a missing stack when the configuration was deployed under other names', () => {
    /** CloudFormation's stacks, `DescribeStacks` without a name listing them two to a page, as it pages. */
    const deployed = (
      stacks: { StackName: string; Outputs: { OutputKey: string; OutputValue: string }[] }[],
    ) =>
      cfn.on(DescribeStacksCommand).callsFake(async (input: { StackName?: string; NextToken?: string }) => {
        if (input.StackName !== undefined) {
          const stack = stacks.find((s) => s.StackName === input.StackName);
          if (stack) return { Stacks: [stack] };
          throw awsError('ValidationError', `Stack with id ${input.StackName} does not exist`);
        }
        const start = Number(input.NextToken ?? 0);
        const next = start + 2 < stacks.length ? String(start + 2) : undefined;
        return { Stacks: stacks.slice(start, start + 2), ...(next ? { NextToken: next } : {}) };
      });
    const pipeline = (StackName: string) => ({ StackName, Outputs: stackOutputs() });

    it('names every stack deployed from this configuration, and acts on none of them', async () => {
      // GIVEN the configuration deployed as Dev and Prod stages, beside a stack of another app and a pipeline of
      // another configuration, listed over two pages
      deployed([
        { StackName: 'CDKToolkit', Outputs: [{ OutputKey: 'BucketName', OutputValue: 'assets' }] },
        pipeline('Prod-Hookline'),
        {
          StackName: 'Payments',
          Outputs: [
            { OutputKey: 'ApiUrl', OutputValue: 'https://payments.example.com/' },
            { OutputKey: outputKey('QueueUrl', 'invoices'), OutputValue: 'https://sqs/invoices' },
          ],
        },
        pipeline('Dev-Hookline'),
      ]);
      // WHEN a command runs without --stack, so on the configuration's stackName, Hookline
      const connecting = connect({ region: 'eu-west-1' }, recordingOutput(), {}, async () => resolved);
      // THEN it names both, and reads neither
      await expect(connecting).rejects.toMatchObject({
        name: 'StackNotFoundError',
        message:
          'stack Hookline not found in eu-west-1, where these stacks were deployed from this configuration: Dev-Hookline, Prod-Hookline: name one with --stack (--stack Dev-Hookline), or deploy Hookline with npx cdk deploy',
      });
      const asked = cfn.commandCalls(DescribeStacksCommand).map((call) => call.args[0].input.StackName);
      expect(asked.filter((name) => name !== undefined)).toEqual(['Hookline']);
    });

    it('names the one stack deployed from this configuration rather than act on it', async () => {
      deployed([pipeline('Prod-Hookline')]);
      await expect(
        connect({ stack: 'Prod', region: 'eu-west-1' }, recordingOutput(), {}, async () => resolved),
      ).rejects.toThrow(
        'stack Prod not found in eu-west-1, where this stack was deployed from this configuration: Prod-Hookline: name one with --stack (--stack Prod-Hookline), or deploy Prod with npx cdk deploy',
      );
    });

    it('says only that the stack is missing when the stacks cannot be listed', async () => {
      cfn.on(DescribeStacksCommand).callsFake(async (input: { StackName?: string }) => {
        if (input.StackName === undefined)
          throw awsError('AccessDenied', 'not authorized to describe all stacks');
        throw awsError('ValidationError', `Stack with id ${input.StackName} does not exist`);
      });
      await expect(
        connect({ region: 'eu-west-1' }, recordingOutput(), {}, async () => resolved),
      ).rejects.toMatchObject({
        name: 'StackNotFoundError',
        message:
          'stack Hookline not found in eu-west-1: deploy it with npx cdk deploy, or pass --stack/--region',
      });
    });
  });

  it('connect: --stack and AWS_REGION choose the stack', async () => {
    cfn.on(DescribeStacksCommand).rejects(awsError('ValidationError', 'Stack with id Other does not exist'));
    await expect(
      connect({ stack: 'Other' }, recordingOutput(), { AWS_REGION: 'ap-south-1' }, async () => resolved),
    ).rejects.toThrow('stack Other not found in ap-south-1');
  });

  it.each([
    [{ AWS_REGION: 'ap-south-1', AWS_DEFAULT_REGION: 'eu-central-1' }, 'ap-south-1'],
    [{ AWS_DEFAULT_REGION: 'eu-central-1' }, 'eu-central-1'],
    [{}, 'us-east-1'],
    // An exported but empty variable is unset, as for the AWS CLI: not a region of its own.
    [{ AWS_REGION: '', AWS_DEFAULT_REGION: 'eu-central-1' }, 'eu-central-1'],
    [{ AWS_REGION: '', AWS_DEFAULT_REGION: '' }, 'us-east-1'],
    // The profile's region, where cdk deploy put the stack, after the variables.
    [{ PROFILES: true }, 'eu-west-3'],
    [{ PROFILES: true, AWS_PROFILE: 'prod' }, 'ap-northeast-1'],
    [{ PROFILES: true, AWS_PROFILE: 'prod', AWS_DEFAULT_REGION: 'eu-central-1' }, 'eu-central-1'],
    // A profile without a region does not borrow the default profile's, as the AWS CLI reads it.
    [{ PROFILES: true, AWS_PROFILE: 'ci' }, 'us-east-1'],
  ])(
    "connect: the region comes from AWS_REGION, else AWS_DEFAULT_REGION, else the AWS profile's, else us-east-1, an empty one read as unset (%o)",
    async (cases: { PROFILES?: boolean } & Record<string, string | boolean>, region) => {
      const { PROFILES, ...given } = cases;
      // The shared config file is the test's own, never the machine's.
      const configFile = join(dir, 'aws-config');
      writeFileSync(
        configFile,
        PROFILES
          ? '[default]\nregion = eu-west-3\n\n[profile prod]\noutput = json\nregion=ap-northeast-1\n\n[profile ci]\noutput = json\n'
          : '',
      );
      const env = { ...given, AWS_CONFIG_FILE: configFile };
      cfn
        .on(DescribeStacksCommand)
        .rejects(awsError('ValidationError', 'Stack with id Hooks does not exist'));
      await expect(
        connect({}, recordingOutput(), env, async () => ({ ...resolved, stackName: 'Hooks' })),
      ).rejects.toThrow(`stack Hooks not found in ${region}`);
      expect(cfn.commandCalls(DescribeStacksCommand)[0]?.args[0].input.StackName).toBe('Hooks');
    },
  );

  it('connect: no credentials is one line with the fix', async () => {
    // The fix named depends on AWS_PROFILE: unset here, whatever the shell running the tests has.
    vi.stubEnv('AWS_PROFILE', '');
    onTestFinished(() => {
      vi.unstubAllEnvs();
    });
    cfn
      .on(DescribeStacksCommand)
      .rejects(awsError('CredentialsProviderError', 'Could not load credentials from any providers'));
    await expect(connect({}, recordingOutput(), {}, async () => resolved)).rejects.toThrow(
      new CredentialsError('no AWS credentials: set AWS_PROFILE or run aws configure'),
    );
  });

  describe('connect: where local mode is running, a command that reaches no stack was most likely meant for it', () => {
    const hint = '; or, for the local mode running in this project, add --local';

    it('names --local after the missing credentials', async () => {
      vi.stubEnv('AWS_PROFILE', '');
      onTestFinished(() => {
        vi.unstubAllEnvs();
      });
      writeFileSync(join(dir, 'local.json'), JSON.stringify(state));
      cfn
        .on(DescribeStacksCommand)
        .rejects(awsError('CredentialsProviderError', 'Could not load credentials from any providers'));
      await expect(
        connect({}, recordingOutput(), { HOOKLINE_STATE_DIR: dir }, async () => resolved),
      ).rejects.toThrow(
        new CredentialsError(`no AWS credentials: set AWS_PROFILE or run aws configure${hint}`),
      );
    });

    /** A deployed command in eu-west-1, where no stack is, beside the local mode `localState` describes. */
    const connectToMissingStack = (localState: object) => {
      writeFileSync(join(dir, 'local.json'), JSON.stringify(localState));
      cfn
        .on(DescribeStacksCommand)
        .rejects(awsError('ValidationError', 'Stack with id Hookline does not exist'));
      return connect(
        { region: 'eu-west-1' },
        recordingOutput(),
        { HOOKLINE_STATE_DIR: dir },
        async () => resolved,
      );
    };

    it('names --local after the missing stack', async () => {
      await expect(connectToMissingStack(state)).rejects.toMatchObject({
        name: 'StackNotFoundError',
        message: `stack Hookline not found in eu-west-1: deploy it with npx cdk deploy, or pass --stack/--region${hint}`,
      });
    });

    it('leaves an error other than missing credentials or a missing stack as it is, local mode running or not', async () => {
      writeFileSync(join(dir, 'local.json'), JSON.stringify(state));
      cfn.on(DescribeStacksCommand).rejects(awsError('AccessDeniedException', 'not authorized'));
      const error = await connect(
        { region: 'eu-west-1' },
        recordingOutput(),
        { HOOKLINE_STATE_DIR: dir },
        async () => resolved,
      ).catch((e: Error) => e);
      expect(error).toBeInstanceOf(CliError);
      expect((error as Error).message).toMatch(/^access denied in stack Hookline in eu-west-1/);
      expect((error as Error).message).not.toContain('--local');
    });

    it('leaves the error as it is once that local mode has ended', async () => {
      await expect(connectToMissingStack({ ...state, pid: 2 ** 22 + 1 })).rejects.toThrow(
        /^stack Hookline not found in eu-west-1: deploy it with npx cdk deploy, or pass --stack\/--region$/,
      );
    });
  });

  it('connect --local: builds clients for the emulator from the state file', async () => {
    writeFileSync(join(dir, 'local.json'), JSON.stringify(state));
    const { target, backend } = await connect({ local: true }, recordingOutput(), {
      HOOKLINE_STATE_DIR: dir,
    });
    expect(target.description).toBe('local mode');
    const endpoint = await backend.sqs.config.endpoint?.();
    expect(`${endpoint?.protocol}//${endpoint?.hostname}:${endpoint?.port}`).toBe('http://127.0.0.1:4566');
  });
});

describe('explainError', () => {
  const context = { target: 'stack Hookline in us-east-1', local: false, queue: 'events' };
  it.each([
    [
      'QueueDoesNotExist',
      'queue events does not exist in stack Hookline in us-east-1: redeploy with npx cdk deploy',
    ],
    ['AccessDeniedException', /access denied in stack Hookline in us-east-1/],
    ['ExpiredTokenException', /sign in again with aws sso login/],
    ['AWS.SimpleQueueService.PurgeQueueInProgress', /one per 60 seconds/],
  ])('%s', (name, expected) => {
    const error = explainError(awsError(name), context);
    expect(error).toBeInstanceOf(CliError);
    expect((error as Error).message).toMatch(expected);
  });

  it('says local mode is unreachable on a refused connection', () => {
    const refused = Object.assign(new Error('fetch failed'), {
      cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }),
    });
    expect((explainError(refused, { target: 'local mode', local: true }) as Error).message).toBe(
      'local mode is not reachable (ECONNREFUSED): start it with npm start or npx hookline dev',
    );
  });

  it('says a missing queue in local mode needs local mode restarted, not a redeploy', () => {
    expect(
      (
        explainError(awsError('QueueDoesNotExist'), {
          target: 'local mode',
          local: true,
          queue: 'events',
        }) as Error
      ).message,
    ).toBe('queue events does not exist in local mode: restart it with npm start or npx hookline dev');
  });

  it('says a request that timed out should be run again', () => {
    expect((explainError(awsError('TimeoutError'), context) as Error).message).toBe(
      'the request to stack Hookline in us-east-1 timed out: check your network and run it again',
    );
  });

  it('explains an error that names its code the legacy way (Code)', () => {
    const legacy = Object.assign(new Error('denied'), { name: undefined, Code: 'AccessDenied' });
    expect((explainError(legacy, context) as Error).message).toBe(
      'access denied in stack Hookline in us-east-1: denied (grant that permission to your AWS identity)',
    );
  });

  it('takes "does not exist" for a missing stack only when a stack was asked for', () => {
    const other = awsError('ValidationError', 'Value for parameter does not exist');
    expect(explainError(other, context)).toBe(other);
  });

  it('follows a cause chain that loops to its end, without hanging', () => {
    const looping = new Error('outer') as Error & { cause?: unknown };
    looping.cause = looping;
    expect(explainError(looping, context)).toBe(looping);
  });

  it('leaves unexpected errors alone (they keep their stack)', () => {
    const bug = new TypeError('x is undefined');
    expect(explainError(bug, context)).toBe(bug);
  });
});

/** The resolved request handler options of an SDK client (what its HTTP handler applies to each request). */
async function handlerOptions(client: { config: { requestHandler: unknown } }) {
  return (await (client.config.requestHandler as { configProvider: Promise<Record<string, unknown>> })
    .configProvider) as { requestTimeout?: number; throwOnRequestTimeout?: boolean };
}

/** A real TCP server that accepts connections and never answers (a suspended or stuck local mode). */
async function silentServer(answer?: (socket: Socket) => void): Promise<{ url: string; close: () => void }> {
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => {
    sockets.push(socket);
    answer?.(socket);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/_hookline/queues`,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

describe('a local mode that accepts requests and does not answer', () => {
  it('gives every SDK client of local mode, the job records one too, a bound on each request that ends the call', async () => {
    writeFileSync(
      join(dir, 'local.json'),
      JSON.stringify({
        ...state,
        endpoints: { ...state.endpoints, s3: 'http://127.0.0.1:4566', dynamodb: 'http://127.0.0.1:4567' },
        archive: { bucket: 'hookline-archive', stream: 'Hookline-archive' },
        jobs: { dedupe: { tableName: 'Hookline-dedupe', ttlSeconds: 60 } },
      }),
    );
    const env = { HOOKLINE_STATE_DIR: dir };
    const { target, backend } = await connect({ local: true }, recordingOutput(), env);
    const store = await jobsStore(target, backend, env);
    for (const client of [backend.sqs, backend.s3, store.client]) {
      expect(await handlerOptions(client as never)).toMatchObject({
        requestTimeout: LOCAL_ANSWER_SECONDS * 1_000,
        throwOnRequestTimeout: true,
      });
    }
  });

  it("gives a deployed stack's SDK clients a request timeout that fails the call, not only a warning", async () => {
    cfn
      .on(DescribeStacksCommand)
      .resolves({ Stacks: [{ StackName: 'Hookline', Outputs: stackOutputs() }] } as never);
    const { backend } = await connect(
      { stack: 'Hookline', region: 'us-east-1' },
      recordingOutput(),
      {},
      async () => resolved,
    );
    expect(await handlerOptions(backend.sqs as never)).toMatchObject({ throwOnRequestTimeout: true });
  });

  it('ends an HTTP call to the control API that gets no answer, or half an answer, with the error naming what to do', async () => {
    const timedOut = (url: string) => localModeNotAnswering(new URL(url).host);
    const http = boundedFetch(0.2, timedOut);
    const silent = await silentServer();
    const stalled = await silentServer((socket) =>
      socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"queu'),
    );
    try {
      for (const server of [silent, stalled]) {
        const host = new URL(server.url).host;
        await expect(http(server.url)).rejects.toThrow(
          new BackendError(
            `local mode at ${host} did not answer within ${LOCAL_ANSWER_SECONDS} s: is local mode (npm start or npx hookline dev) running and responsive? (resume it if it was suspended, else stop and restart it); what the command did before is in its output, and a change it asked for last may still be made once local mode resumes: check with hookline status --local before repeating it`,
          ),
        );
      }
    } finally {
      silent.close();
      stalled.close();
    }
  });

  it('tells a deployed request AWS did not answer in time from AWS not reached, with the error the SDK throws', async () => {
    const silent = await silentServer();
    const sqs = new SQSClient({
      region: 'us-east-1',
      endpoint: new URL(silent.url).origin,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      ...budgetOptions(
        { maxAttempts: 1, connectionTimeoutMs: 1_000, requestTimeoutMs: 300 },
        { local: false },
      ),
    });
    const deployed = { target: 'stack Hookline in us-east-1', local: false };
    try {
      const error = await sqs.send(new ListQueuesCommand({})).catch((e: unknown) => e);
      expect((explainError(error, deployed) as Error).message).toBe(
        'AWS did not answer within 0.3 s (ETIMEDOUT after connecting): AWS or your network is slow right now; run it again',
      );
    } finally {
      sqs.destroy();
      silent.close();
    }
    // No connection within the connection timeout, as @smithy/node-http-handler throws it.
    const unconnected = Object.assign(
      new Error(
        '@smithy/node-http-handler - the request socket did not establish a connection with the server within the configured timeout of 3000 ms.',
      ),
      { name: 'TimeoutError' },
    );
    expect((explainError(unconnected, deployed) as Error).message).toBe(
      'cannot reach AWS (no connection within 3 s): check your network or --region',
    );
    const noName = Object.assign(new Error('getaddrinfo EAI_AGAIN sqs.us-east-1.amazonaws.com'), {
      code: 'EAI_AGAIN',
    });
    expect((explainError(noName, deployed) as Error).message).toBe(
      'cannot reach AWS (EAI_AGAIN): check your network or --region',
    );
  });

  it('tells an SDK request local mode did not answer as that, not as a local mode to start', () => {
    // The SDK's request timeout, as @smithy/node-http-handler throws it.
    const timeout = Object.assign(
      new Error('a request has exceeded the configured 20000 ms requestTimeout.'),
      {
        name: 'TimeoutError',
        code: 'ETIMEDOUT',
      },
    );
    expect(explainError(timeout, { target: 'local mode', local: true })).toEqual(localModeNotAnswering());
  });
});
