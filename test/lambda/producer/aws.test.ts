/** The producer's AWS adapter over faked SDK clients: what each collaborator sends and how it reads the answer. */
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateScheduleCommand, DeleteScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createProducer } from '../../../lambda/producer';
import { awsCollaborators, defaultClients } from '../../../lambda/producer/aws';
import { discoverProducer, type ResolvedProducer } from '../../../lambda/producer/discover';
import { type OneTimeSchedule, Producer, ProducerConfigError } from '../../../lambda/producer/producer';
import { INGEST_BUDGET } from '../../../lambda/shared/aws-clients';

const resolved: ResolvedProducer = {
  source: 'options',
  queues: { jobs: { name: 'jobs', url: 'https://sqs/jobs', fifo: false } },
  settings: {},
};

const sqs = mockClient(SQSClient);
const s3 = mockClient(S3Client);
const scheduler = mockClient(SchedulerClient);

function collaborators() {
  const clients = {
    sqs: new SQSClient({ region: 'us-east-1' }),
    s3: new S3Client({ region: 'us-east-1' }),
    dynamodb: new DynamoDBClient({ region: 'us-east-1' }),
    scheduler: new SchedulerClient({ region: 'us-east-1' }),
  };
  return awsCollaborators(resolved, clients, { attempts: 2, baseDelayMs: 1 });
}

const schedule: OneTimeSchedule = {
  name: 'job-1',
  at: new Date('2026-11-30T10:21:00Z'),
  queueArn: 'arn:aws:sqs:us-east-1:000000000000:jobs.fifo',
  roleArn: 'arn:aws:iam::000000000000:role/scheduler',
  groupName: 'hookline',
  input: '{"id":"job-1"}',
  messageGroupId: 'tenant-a',
  deadLetterQueueArn: 'arn:aws:sqs:us-east-1:000000000000:jobs-dlq.fifo',
};

const named = (name: string) => Object.assign(new Error(name), { name });

beforeEach(() => {
  sqs.reset();
  s3.reset();
  scheduler.reset();
});
afterEach(() => {
  sqs.reset();
  s3.reset();
  scheduler.reset();
});

describe('producer AWS collaborators', () => {
  it('sends a batch to its queue and reports each entry SQS refused by id, with its code and message', async () => {
    sqs.on(SendMessageBatchCommand).resolves({
      Successful: [],
      Failed: [
        { Id: '0', Code: 'InternalError', Message: 'try again', SenderFault: false },
        { Id: '1', Code: 'Throttled', SenderFault: false },
      ],
    });
    const entries = [
      { Id: '0', MessageBody: 'a', MessageAttributes: {} },
      { Id: '1', MessageBody: 'b', MessageAttributes: {} },
    ];
    const refused = await collaborators().sendBatch('https://sqs/jobs', entries);
    expect(refused).toStrictEqual([
      { id: '0', error: 'InternalError: try again' },
      { id: '1', error: 'Throttled: ' },
    ]);
    expect(sqs).toHaveReceivedCommandWith(SendMessageBatchCommand, {
      QueueUrl: 'https://sqs/jobs',
      Entries: entries,
    });
  });

  it('reports nothing refused when SQS names no failed entry', async () => {
    sqs
      .on(SendMessageBatchCommand)
      .resolves({ Successful: [{ Id: '0', MessageId: 'm', MD5OfMessageBody: 'x' }] });
    expect(
      await collaborators().sendBatch('https://sqs/jobs', [
        { Id: '0', MessageBody: 'a', MessageAttributes: {} },
      ]),
    ).toStrictEqual([]);
  });

  it('uploads a payload to its bucket and key with its content type, and without one when none is given', async () => {
    s3.on(PutObjectCommand).resolves({});
    const { putPayload } = collaborators();
    await putPayload({
      bucket: 'payloads',
      key: 'k1',
      body: Buffer.from('x'),
      contentType: 'application/json',
    });
    await putPayload({ bucket: 'payloads', key: 'k2', body: Buffer.from('y') });
    const inputs = s3.commandCalls(PutObjectCommand).map((call) => call.args[0].input);
    expect(inputs).toStrictEqual([
      { Bucket: 'payloads', Key: 'k1', Body: Buffer.from('x'), ContentType: 'application/json' },
      { Bucket: 'payloads', Key: 'k2', Body: Buffer.from('y') },
    ]);
  });

  it('waits the given time between attempts', async () => {
    const { sleep } = collaborators();
    let settled = false;
    const waiting = sleep(20).then(() => {
      settled = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    await waiting;
    expect(settled).toBe(true);
  });

  it('creates a one-time schedule that delivers once at the minute, retries for a day, dead-letters and deletes itself', async () => {
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn' });
    await collaborators().scheduler?.create(schedule);
    expect(scheduler.commandCalls(CreateScheduleCommand).map((call) => call.args[0].input)).toStrictEqual([
      {
        Name: 'job-1',
        GroupName: 'hookline',
        ScheduleExpression: 'at(2026-11-30T10:21:00)',
        ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        ActionAfterCompletion: 'DELETE',
        ClientToken: 'job-1',
        Target: {
          Arn: schedule.queueArn,
          RoleArn: schedule.roleArn,
          Input: schedule.input,
          RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 },
          DeadLetterConfig: { Arn: schedule.deadLetterQueueArn },
          SqsParameters: { MessageGroupId: 'tenant-a' },
        },
      },
    ]);
  });

  it('creates a schedule without group, dead-letter queue or message group when the job has none', async () => {
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn' });
    const { groupName, deadLetterQueueArn, messageGroupId, ...bare } = schedule;
    await collaborators().scheduler?.create(bare);
    const [input] = scheduler.commandCalls(CreateScheduleCommand).map((call) => call.args[0].input);
    expect(input).not.toHaveProperty('GroupName');
    expect(input?.Target).not.toHaveProperty('DeadLetterConfig');
    expect(input?.Target).not.toHaveProperty('SqsParameters');
  });

  it("takes a schedule that already exists under the job's name as this job's, and fails on any other error", async () => {
    scheduler
      .on(CreateScheduleCommand)
      .rejectsOnce(named('ConflictException'))
      .rejects(named('ThrottlingException'));
    const { scheduler: schedules } = collaborators();
    await expect(schedules?.create(schedule)).resolves.toBeUndefined();
    await expect(schedules?.create(schedule)).rejects.toThrow('ThrottlingException');
  });

  it('deletes a schedule in its group, says false when none exists, and fails on any other error', async () => {
    scheduler
      .on(DeleteScheduleCommand)
      .resolvesOnce({})
      .rejectsOnce(named('ResourceNotFoundException'))
      .rejects(named('ThrottlingException'));
    const { scheduler: schedules } = collaborators();
    expect(await schedules?.delete('job-1', 'hookline')).toBe(true);
    expect(await schedules?.delete('job-2')).toBe(false);
    await expect(schedules?.delete('job-3')).rejects.toThrow('ThrottlingException');
    expect(scheduler.commandCalls(DeleteScheduleCommand).map((call) => call.args[0].input)).toStrictEqual([
      { Name: 'job-1', GroupName: 'hookline' },
      { Name: 'job-2' },
      { Name: 'job-3' },
    ]);
  });

  it('claims keys in the dedupe table, and keeps job records only when the producer has one', async () => {
    expect(collaborators()).not.toHaveProperty('records');
    expect(collaborators()).not.toHaveProperty('dedupe');
    const dynamodb = mockClient(DynamoDBClient);
    dynamodb.resolves({});
    try {
      const withTable = awsCollaborators(
        { ...resolved, settings: { dedupe: { tableName: 'jobs-table', ttlSeconds: 60 } } },
        defaultClients({ ...resolved, region: 'us-east-1' }),
        { attempts: 2, baseDelayMs: 1 },
      );
      expect(withTable.records).toBeDefined();
      await withTable.dedupe?.claim('job-1');
      expect(dynamodb).toHaveReceivedCommandWith(PutItemCommand, { TableName: 'jobs-table' });
    } finally {
      dynamodb.restore();
    }
  });
});

describe('producer default clients', () => {
  const endpointOf = async (client: { config: { endpoint?: () => Promise<unknown> } }) => {
    const endpoint = (await client.config.endpoint?.()) as
      | { protocol: string; hostname: string; port?: number; path: string }
      | undefined;
    return endpoint
      ? `${endpoint.protocol}//${endpoint.hostname}:${endpoint.port}${endpoint.path}`
      : undefined;
  };

  it("points each client at local mode's endpoint, region and credentials, with path-style S3", async () => {
    const clients = defaultClients({
      ...resolved,
      region: 'eu-west-3',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local-secret' },
      endpoints: {
        sqs: 'http://127.0.0.1:5001/',
        s3: 'http://127.0.0.1:5002/',
        dynamodb: 'http://127.0.0.1:5003/',
        scheduler: 'http://127.0.0.1:5004/',
      },
    });
    expect(await endpointOf(clients.sqs)).toBe('http://127.0.0.1:5001/');
    expect(await endpointOf(clients.s3)).toBe('http://127.0.0.1:5002/');
    expect(await endpointOf(clients.dynamodb)).toBe('http://127.0.0.1:5003/');
    expect(await endpointOf(clients.scheduler)).toBe('http://127.0.0.1:5004/');
    expect(clients.s3.config.forcePathStyle).toBe(true);
    for (const client of Object.values(clients)) {
      expect(await client.config.region()).toBe('eu-west-3');
      expect(await client.config.credentials()).toMatchObject({
        accessKeyId: 'local',
        secretAccessKey: 'local-secret',
      });
      expect(await client.config.maxAttempts()).toBe(3);
    }
  });

  it('builds every client on the budget it is given, as the jobs endpoint gives the ingest budget', async () => {
    const clients = defaultClients({ ...resolved, region: 'eu-west-3' }, INGEST_BUDGET);
    for (const client of Object.values(clients)) {
      expect(await client.config.maxAttempts()).toBe(INGEST_BUDGET.maxAttempts);
    }
  });

  it('points each client at its own AWS_ENDPOINT_URL_<SERVICE> when local mode names no endpoint, with path-style S3', async () => {
    const urls = {
      SQS: 'http://127.0.0.1:6001/',
      S3: 'http://127.0.0.1:6002/',
      DYNAMODB: 'http://127.0.0.1:6003/',
      SCHEDULER: 'http://127.0.0.1:6004/',
    };
    for (const [service, url] of Object.entries(urls)) vi.stubEnv(`AWS_ENDPOINT_URL_${service}`, url);
    try {
      const clients = defaultClients({ ...resolved, region: 'eu-west-3' });
      expect(await endpointOf(clients.sqs)).toBe(urls.SQS);
      expect(await endpointOf(clients.s3)).toBe(urls.S3);
      expect(await endpointOf(clients.dynamodb)).toBe(urls.DYNAMODB);
      expect(await endpointOf(clients.scheduler)).toBe(urls.SCHEDULER);
      expect(clients.s3.config.forcePathStyle).toBe(true);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('leaves endpoints and S3 addressing to the SDK in AWS', async () => {
    for (const name of ['', '_SQS', '_S3', '_DYNAMODB', '_SCHEDULER'])
      vi.stubEnv(`AWS_ENDPOINT_URL${name}`, undefined);
    const clients = defaultClients({ ...resolved, region: 'eu-west-3' });
    vi.unstubAllEnvs();
    for (const client of Object.values(clients)) expect(await endpointOf(client)).toBeUndefined();
    expect(clients.s3.config.forcePathStyle).not.toBe(true);
  });
});

describe('createProducer', () => {
  const queues = { jobs: 'https://sqs.us-east-1.amazonaws.com/123456789012/jobs' };

  it('refuses retry options that would send nothing or never pause, naming each, before any send', () => {
    // With attempts 0 every send failed at once as a JobSendError "not enqueued after 0 attempts: undefined".
    for (const attempts of [0, -1, 1.5, Number.NaN]) {
      const create = () => createProducer({ queues, attempts });
      expect(create).toThrow(ProducerConfigError);
      expect(create).toThrow(
        `createProducer: attempts ${attempts} is not a whole number of 1 or more (the tries of each SQS batch entry, and of each S3, DynamoDB or Scheduler call, before a job is reported failed; 1 tries once): leave it out for 5`,
      );
    }
    expect(() => createProducer({ queues, attempts: 0, baseDelayMs: -5 })).toThrow(
      /attempts 0 is not a whole number .*; baseDelayMs -5 is not a number of milliseconds of 0 or more \(the first pause between tries, doubled each time\): leave it out for 100$/,
    );
  });

  it('takes one try and no pause', () => {
    expect(createProducer({ queues, attempts: 1, baseDelayMs: 0 })).toBeInstanceOf(Producer);
  });
});

describe('explicit queues in a process that sets no region', () => {
  const events = 'https://sqs.eu-west-1.amazonaws.com/123456789012/events';

  it('send in the region their URLs name, so a script given a queue URL alone needs no AWS_REGION', async () => {
    const found = discoverProducer({
      queues: { events, audit: { url: events.replace('events', 'audit') } },
      env: {},
    });
    expect(found.region).toBe('eu-west-1');
    for (const client of Object.values(defaultClients(found))) {
      expect(await client.config.region()).toBe('eu-west-1');
    }
    const dualStack = discoverProducer({
      queues: { events: 'https://sqs.us-east-2.api.aws/1/events' },
      env: {},
    });
    expect(dualStack.region).toBe('us-east-2');
  });

  it('leave the region to the process when it sets AWS_REGION', () => {
    expect(discoverProducer({ queues: { events }, env: { AWS_REGION: 'eu-west-1' } }).region).toBeUndefined();
  });

  it('are refused when their URLs name two regions, naming each queue and its region', () => {
    const make = () =>
      discoverProducer({
        queues: { events, billing: 'https://sqs.us-east-1.amazonaws.com/123456789012/billing' },
        env: {},
      });
    expect(make).toThrow(ProducerConfigError);
    expect(make).toThrow(
      "createProducer: the queues' URLs name more than one region (events in eu-west-1; billing in us-east-1) and AWS_REGION is not set: a producer sends in one region, so create one producer per region, or set AWS_REGION to the one to send in",
    );
  });
});
