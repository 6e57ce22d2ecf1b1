/**
 * `hookline jobs list` (and `jobs show`) for an operator whose AWS identity may not read one queue's dead-letter queue
 * or visibility timeout: the real program over a mocked DynamoDB and SQS, the denial as the SDK v3 throws it.
 */
import { type AttributeValue, DynamoDBClient, GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  GetQueueAttributesCommand,
  KmsAccessDenied,
  ReceiveMessageCommand,
  SQSClient,
  SQSServiceException,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../lib/cli/program';
import { unavailableFeed } from '../../lib/console/feed';
import { listJobRecords, showJobRecord } from '../../lib/console/job-records';
import { installFakeQueue } from './fake-queue';
import {
  cliHarness,
  deadLetterMessage,
  EVENTS,
  ORDERS,
  stackTarget,
  stackWithJobRecords,
  testBackend,
} from './helpers';

const dynamodb = mockClient(DynamoDBClient);
const sqs = mockClient(SQSClient);
/** The deployed stack keeping job records, as each test's CLI and console find it. */
let cloudformation: ReturnType<typeof stackWithJobRecords>;
beforeEach(() => {
  cloudformation = stackWithJobRecords();
});
afterEach(() => {
  cloudformation.restore();
  dynamodb.reset();
  sqs.reset();
});

/** SQS's query protocol answer to a receive the identity's policies do not allow. */
const receiveDenied = () =>
  new SQSServiceException({
    name: 'AccessDenied',
    message: `User: arn:aws:iam::123456789012:user/ops is not authorized to perform: sqs:receivemessage on resource: ${ORDERS.deadLetterArn} because no identity-based policy allows the sqs:receivemessage action`,
    $fault: 'client',
    $metadata: { httpStatusCode: 403, attempts: 1 },
  });

/** A job record whose consumer started its last attempt and recorded nothing since. */
const processing = (id: string, queue: string) => ({
  pk: { S: `job#${id}` },
  state: { S: 'processing' },
  type: { S: 'report.build' },
  queue: { S: queue },
  attempt: { N: '3' },
  generation: { S: `gen-${id}` },
  enqueuedAt: { S: `2026-11-25T02:0${id.at(-1)}:00.000Z` },
});

/** The job records a scan of the dedupe table finds. */
const jobRecordsScanned = (...items: Record<string, AttributeValue>[]) =>
  dynamodb.on(ScanCommand).resolves({ Items: items, ScannedCount: items.length });

/** The events dead-letter queue holds `eventsDeadLetters`; the orders one refuses the identity a receive. */
function ordersDeadLettersDenied(eventsDeadLetters: ReturnType<typeof movedBySqs>[] = []) {
  installFakeQueue(sqs, EVENTS.deadLetterUrl, eventsDeadLetters);
  sqs.on(ReceiveMessageCommand, { QueueUrl: ORDERS.deadLetterUrl }).rejects(receiveDenied());
}

/** What the console's pages are given: the stack target, with no live feed. */
const consoleContext = () => ({
  backend: testBackend(),
  target: stackTarget(),
  feed: unavailableFeed('none'),
});

/** The job's message as SQS moved it to the dead-letter queue after its last receive. */
const movedBySqs = (id: string) => ({
  ...deadLetterMessage(9, { id, type: 'report.build', error: false }),
  Body: JSON.stringify({
    v: 1,
    id,
    source: 'job',
    type: 'report.build',
    receivedAt: '2026-11-25T02:00:00.000Z',
    headers: {},
    contentType: 'application/json',
    body: '{}',
    bodyEncoding: 'utf8',
    generation: `gen-${id}`,
  }),
});

async function jobs(command: 'list' | 'show', ...args: string[]) {
  const h = cliHarness({
    connect: async (_options, output) => ({ target: stackTarget(), backend: testBackend({ output }) }),
  });
  const code = await runCli(['jobs', command, ...args], h.deps);
  return { code, stdout: h.stdout(), stderr: h.stderr() };
}
const jobsList = (...args: string[]) => jobs('list', ...args);

describe('jobs list where the operator may not read one queue’s dead-letter queue', () => {
  it('lists every job, reconciles those of the queues it may read, names the one it may not with the action, exit 1', async () => {
    ordersDeadLettersDenied([movedBySqs('job-1')]);
    jobRecordsScanned(processing('job-1', 'events'), processing('job-2', 'orders'));
    const human = await jobsList();
    const json = await jobsList('--json');

    expect(human.code).toBe(1);
    expect(human.stderr).not.toContain('error');
    const rows = human.stdout.split('\n');
    expect(rows.find((r) => r.startsWith('job-1'))).toMatch(/^job-1\s+dead-lettered\s/);
    expect(rows.find((r) => r.startsWith('job-2'))).toMatch(/^job-2\s+processing\s/);
    expect(human.stdout).toContain(
      'orders dead letters: unknown: access denied (needs sqs:ReceiveMessage)\n',
    );
    expect(human.stdout).toContain(
      "incomplete: your AWS identity may not call sqs:ReceiveMessage: a job that may wait in a dead-letter queue it may not read is listed as its record says, though SQS may have dead-lettered it; allow it to see every job's state\n",
    );
    expect(json.code).toBe(1);
    const result = JSON.parse(json.stdout);
    expect(result.jobs.map((j: { id: string; state: string }) => [j.id, j.state])).toEqual([
      ['job-1', 'dead-lettered'],
      ['job-2', 'processing'],
    ]);
    expect(result.unreadable).toEqual([
      { queue: 'orders', part: 'dead letters', action: 'sqs:ReceiveMessage' },
    ]);
  });
});

describe('jobs list where one dead-letter queue cannot be read for another reason, or by KMS', () => {
  it('says no job is dead-lettered under --state dead-lettered only as incomplete, naming the queue it may not read', async () => {
    ordersDeadLettersDenied();
    jobRecordsScanned(processing('job-2', 'orders'));
    const human = await jobsList('--state', 'dead-lettered');
    expect(human.code).toBe(1);
    expect(human.stdout.split('\n').slice(0, 3)).toEqual([
      'no dead-lettered jobs',
      'orders dead letters: unknown: access denied (needs sqs:ReceiveMessage)',
      expect.stringMatching(/^incomplete: your AWS identity may not call sqs:ReceiveMessage: /),
    ]);
  });

  it('names kms:Decrypt when KMS refused the key of the dead-letter queue', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, []);
    sqs.on(ReceiveMessageCommand, { QueueUrl: ORDERS.deadLetterUrl }).rejects(
      new KmsAccessDenied({
        message: 'The ciphertext refers to a customer master key that you are not allowed to access.',
        $metadata: { httpStatusCode: 400, attempts: 1 },
      }),
    );
    jobRecordsScanned(processing('job-2', 'orders'));
    const json = await jobsList('--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).unreadable).toEqual([
      { queue: 'orders', part: 'dead letters', action: 'kms:Decrypt' },
    ]);
  });

  it('still fails as a whole when a dead-letter queue is throttled: that is no part the operator may not see', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, []);
    sqs
      .on(ReceiveMessageCommand, { QueueUrl: ORDERS.deadLetterUrl })
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    jobRecordsScanned(processing('job-1', 'events'), processing('job-2', 'orders'));
    const human = await jobsList();
    expect(human.code).toBe(1);
    expect(human.stdout).toBe('');
    expect(human.stderr).toContain(
      'error: AWS throttled the request (ThrottlingException) after retries: wait a minute and run it again\n',
    );
  });
});

describe("jobs list where the operator may not read a queue's visibility timeout", () => {
  /** SQS's answer to a GetQueueAttributes the identity's policies do not allow. */
  const attributesDenied = () =>
    new SQSServiceException({
      name: 'AccessDenied',
      message: `User: arn:aws:iam::123456789012:user/ops is not authorized to perform: sqs:getqueueattributes on resource: ${ORDERS.url} because no identity-based policy allows the sqs:getqueueattributes action`,
      $fault: 'client',
      $metadata: { httpStatusCode: 403, attempts: 1 },
    });
  /** A job whose last attempt started an hour before the test clock's now: past a 30 s visibility timeout. */
  const stalled = (id: string, queue: string) => ({
    ...processing(id, queue),
    updatedAt: { S: '2026-11-25T02:00:00.000Z' },
  });

  it('lists the stalled job as its record says, names the visibility timeout and its action, exit 1', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, []);
    installFakeQueue(sqs, ORDERS.deadLetterUrl, []);
    sqs
      .on(GetQueueAttributesCommand, { QueueUrl: EVENTS.url })
      .resolves({ Attributes: { VisibilityTimeout: '30' } });
    sqs.on(GetQueueAttributesCommand, { QueueUrl: ORDERS.url }).rejects(attributesDenied());
    jobRecordsScanned(stalled('job-1', 'events'), stalled('job-2', 'orders'));
    const human = await jobsList();
    const json = await jobsList('--json');

    expect(human.code).toBe(1);
    expect(human.stderr).not.toContain('error');
    const rows = human.stdout.split('\n');
    expect(rows.find((r) => r.startsWith('job-1'))).toMatch(/^job-1\s+processing\s.*no outcome recorded/);
    expect(rows.find((r) => r.startsWith('job-2'))).not.toMatch(/no outcome recorded/);
    expect(human.stdout).toContain(
      'orders visibility timeout: unknown: access denied (needs sqs:GetQueueAttributes)\n',
    );
    expect(human.stdout).toContain(
      'incomplete: your AWS identity may not call sqs:GetQueueAttributes: a processing job of a queue whose visibility timeout it may not read is listed as its record says, without the "no outcome recorded" note of an attempt that is no longer running; allow it to see every job\'s state\n',
    );
    expect(json.code).toBe(1);
    const result = JSON.parse(json.stdout);
    expect(result.jobs.map((j: { id: string; note?: string }) => [j.id, j.note !== undefined])).toEqual([
      ['job-1', true],
      ['job-2', false],
    ]);
    expect(result.unreadable).toEqual([
      { queue: 'orders', part: 'visibility timeout', action: 'sqs:GetQueueAttributes' },
    ]);
  });

  it('jobs show: shows the stalled job as its record says, names the visibility timeout and its action, exit 1', async () => {
    installFakeQueue(sqs, ORDERS.deadLetterUrl, []);
    sqs.on(GetQueueAttributesCommand, { QueueUrl: ORDERS.url }).rejects(attributesDenied());
    dynamodb.on(GetItemCommand).resolves({ Item: stalled('job-2', 'orders') });
    const human = await jobs('show', 'job-2');
    const json = await jobs('show', 'job-2', '--json');
    const page = await showJobRecord(consoleContext(), {}, 'job-2', [], {});

    expect(human.code).toBe(1);
    expect(human.stderr).not.toContain('error');
    expect(human.stdout).toMatch(/^state\s+processing\n/m);
    expect(human.stdout).not.toMatch(/^\s+no outcome recorded:/m);
    const unknown = [
      'orders visibility timeout: unknown: access denied (needs sqs:GetQueueAttributes)',
      'incomplete: your AWS identity may not call sqs:GetQueueAttributes: a processing job of a queue whose visibility timeout it may not read is shown as its record says, without the "no outcome recorded" note of an attempt that is no longer running; allow it to see every job\'s state',
    ];
    expect(human.stdout.trimEnd().split('\n').slice(-2)).toEqual(unknown);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({
      id: 'job-2',
      state: 'processing',
      unreadable: [{ queue: 'orders', part: 'visibility timeout', action: 'sqs:GetQueueAttributes' }],
    });
    expect(page.unreadableNotes).toEqual(unknown);
  });

  it('jobs show: a visibility timeout it may read adds no unreadable part, exit 0', async () => {
    installFakeQueue(sqs, ORDERS.deadLetterUrl, []);
    sqs
      .on(GetQueueAttributesCommand, { QueueUrl: ORDERS.url })
      .resolves({ Attributes: { VisibilityTimeout: '30' } });
    dynamodb.on(GetItemCommand).resolves({ Item: stalled('job-2', 'orders') });
    const json = await jobs('show', 'job-2', '--json');
    expect(json.code).toBe(0);
    const job = JSON.parse(json.stdout);
    expect(job.note).toContain('no outcome recorded');
    expect(job).not.toHaveProperty('unreadable');
  });

  it('says what each unread part leaves unknown once, with a dead-letter queue it may not read too', async () => {
    ordersDeadLettersDenied();
    sqs.on(GetQueueAttributesCommand, { QueueUrl: ORDERS.url }).rejects(attributesDenied());
    jobRecordsScanned(stalled('job-2', 'orders'));
    const human = await jobsList();
    expect(human.code).toBe(1);
    expect(human.stdout).toContain(
      'incomplete: your AWS identity may not call sqs:ReceiveMessage, sqs:GetQueueAttributes: a job that may wait in a dead-letter queue it may not read is listed as its record says, though SQS may have dead-lettered it; a processing job of a queue whose visibility timeout it may not read is listed as its record says, without the "no outcome recorded" note of an attempt that is no longer running; allow them to see every job\'s state\n',
    );
  });
});

describe('jobs list where a policy explicitly denies a read', () => {
  it('names that policy for its action, asks its owner to lift the deny, and asks a grant only for the rest', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, []);
    sqs.on(ReceiveMessageCommand, { QueueUrl: ORDERS.deadLetterUrl }).rejects(
      new SQSServiceException({
        name: 'AccessDenied',
        message: `User: arn:aws:iam::123456789012:user/ops is not authorized to perform: sqs:receivemessage on resource: ${ORDERS.deadLetterArn} with an explicit deny in a service control policy`,
        $fault: 'client',
        $metadata: { httpStatusCode: 403, attempts: 1 },
      }),
    );
    sqs.on(GetQueueAttributesCommand, { QueueUrl: EVENTS.url }).rejects(
      new SQSServiceException({
        name: 'AccessDenied',
        message: `User: arn:aws:iam::123456789012:user/ops is not authorized to perform: sqs:getqueueattributes on resource: ${EVENTS.url} because no identity-based policy allows the sqs:getqueueattributes action`,
        $fault: 'client',
        $metadata: { httpStatusCode: 403, attempts: 1 },
      }),
    );
    jobRecordsScanned(
      { ...processing('job-1', 'events'), updatedAt: { S: '2026-11-25T02:00:00.000Z' } },
      processing('job-2', 'orders'),
    );
    const human = await jobsList();
    const json = await jobsList('--json');

    expect(human.code).toBe(1);
    expect(human.stdout).toContain(
      'orders dead letters: unknown: access denied (a service control policy explicitly denies sqs:ReceiveMessage)\n',
    );
    expect(human.stdout).toContain(
      'events visibility timeout: unknown: access denied (needs sqs:GetQueueAttributes)\n',
    );
    expect(human.stdout).toMatch(
      /; a service control policy explicitly denies sqs:ReceiveMessage, which no grant overrides: ask the owner of that policy to lift the deny, and allow sqs:GetQueueAttributes to see every job's state\n/,
    );
    expect(JSON.parse(json.stdout).unreadable).toEqual([
      {
        queue: 'orders',
        part: 'dead letters',
        action: 'sqs:ReceiveMessage',
        explicitDeny: 'service control policy',
      },
      { queue: 'events', part: 'visibility timeout', action: 'sqs:GetQueueAttributes' },
    ]);
  });
});

describe("the console's Jobs page where its AWS identity may not read one queue's dead-letter queue", () => {
  it('lists every job and says, as jobs list does, which dead-letter queue it could not look in', async () => {
    ordersDeadLettersDenied([movedBySqs('job-1')]);
    jobRecordsScanned(processing('job-1', 'events'), processing('job-2', 'orders'));
    const page = await listJobRecords(consoleContext(), {}, {}, {}, {});
    expect(page.items.map((j) => [j.id, j.state])).toEqual([
      ['job-2', 'processing'],
      ['job-1', 'dead-lettered'],
    ]);
    expect(page.unreadable).toEqual([
      { queue: 'orders', part: 'dead letters', action: 'sqs:ReceiveMessage' },
    ]);
    expect(page.unreadableNotes).toEqual([
      'orders dead letters: unknown: access denied (needs sqs:ReceiveMessage)',
      "incomplete: your AWS identity may not call sqs:ReceiveMessage: a job that may wait in a dead-letter queue it may not read is listed as its record says, though SQS may have dead-lettered it; allow it to see every job's state",
    ]);
  });
});
