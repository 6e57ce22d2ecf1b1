/**
 * The dead-letter queues EventBridge Scheduler fills (a schedule's, the one-time job schedules' one) in the
 * console's HTTP API, over real HTTP with the SDK clients mocked: listed on the overview, read on the failures and
 * event pages through the CLI's own cores, and redriven or refused exactly as `hookline redrive` does.
 */
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import { beforeEach, describe, expect, it } from 'vitest';
import { failureKey } from '../../lib/cli/failure-groups';
import { redrive } from '../../lib/cli/redrive';
import { installFakeQueue } from '../cli/fake-queue';
import { EVENTS, mockCommandClients, testBackend } from '../cli/helpers';
import { consoleApiFor } from './console-api';
import {
  HEARTBEAT,
  HEARTBEAT_EVENT_ID,
  schedulerDeadLetterTarget,
  sqsUrl,
  undeliveredHeartbeat,
} from './scheduler-dead-letter-fixtures';

const clients = mockCommandClients();
const target = schedulerDeadLetterTarget();
const undelivered = undeliveredHeartbeat();

const api = consoleApiFor(target, { js: '', css: '' });

beforeEach(() => {
  // Every other dead-letter queue is empty.
  clients.sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '0' } });
  clients.sqs.on(ReceiveMessageCommand).resolves({ Messages: [] });
  clients.sqs.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
  clients.lambda.on(GetEventSourceMappingCommand).resolves({ State: 'Enabled' });
  clients.cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
});

const call = api.call;

describe('the console on the dead-letter queues Scheduler fills', () => {
  it('lists each on the overview with what it holds and how many, as hookline status does', async () => {
    installFakeQueue(clients.sqs, sqsUrl('Hookline-HeartbeatDlq'), [undelivered]);
    const overview = await call('GET', '/api/overview');
    expect(overview.status).toBe(200);
    expect(overview.body.deadLetterQueues).toEqual([
      { name: 'job_schedules', holds: 'one-time jobs Scheduler could not deliver', deadLettered: 0 },
      {
        name: HEARTBEAT,
        holds: 'deliveries of schedule heartbeat to the events queue Scheduler gave up on',
        deadLettered: 1,
      },
    ]);
  });

  it("shows a schedule's dead letters with Scheduler's reason and finds one by its id, read-only", async () => {
    const dlq = installFakeQueue(clients.sqs, sqsUrl('Hookline-HeartbeatDlq'), [undelivered]);
    const failures = await call('GET', `/api/failures/${encodeURIComponent(HEARTBEAT)}`);
    expect(failures.status).toBe(200);
    expect(failures.body).toMatchObject({
      queue: HEARTBEAT,
      redriveRefused: null,
      purgeable: false,
      read: 1,
      groups: [
        {
          reason: 'AccessDenied: not authorized to perform sqs:SendMessage',
          messages: [
            expect.objectContaining({
              id: 'heartbeat:2026-11-25T01:00:00Z',
              source: 'schedule',
              // What it is, as failed list says it: the page shows it under the type.
              scheduled: expect.objectContaining({
                description: 'event of schedule heartbeat for the events queue',
              }),
            }),
          ],
        },
      ],
    });
    const event = await call('GET', `/api/events/${encodeURIComponent('heartbeat:2026-11-25T01:00:00Z')}`);
    expect(event.status).toBe(200);
    expect(event.body.deadLetters).toEqual([
      expect.objectContaining({
        queue: HEARTBEAT,
        error: 'AccessDenied: not authorized to perform sqs:SendMessage',
        redriveRefused: null,
        messageAttributes: expect.objectContaining({ TARGET_ARN: EVENTS.arn }),
        scheduled: expect.objectContaining({ queue: 'events' }),
      }),
    ]);
    expect(dlq.messages).toHaveLength(1);
    expect(dlq.hidden.size).toBe(0);
  });

  it("groups a dead letter without Scheduler's reason as having none, not as one SQS moved after maxReceiveCount", async () => {
    const { ERROR_CODE: _code, ERROR_MESSAGE: _message, ...others } = undelivered.MessageAttributes;
    installFakeQueue(clients.sqs, sqsUrl('Hookline-HeartbeatDlq'), [
      { ...undelivered, MessageAttributes: others },
    ]);
    const failures = await call('GET', `/api/failures/${encodeURIComponent(HEARTBEAT)}`);
    const none =
      'no reason recorded: it lacks the ERROR_CODE EventBridge Scheduler sets on what it puts here';
    expect(failures.body.groups).toEqual([expect.objectContaining({ reason: none, count: 1 })]);
    // By failure, under the key hookline failed summary prints for it, which a row's redrive or delete sends.
    expect(failures.body.failureGroups).toEqual([
      expect.objectContaining({ pattern: none, key: failureKey(none), count: 1 }),
    ]);
  });

  it("refuses to redrive the job schedules' one with the CLI's reason, before touching it", async () => {
    const cli = await redrive(testBackend(), target, { env: {}, queue: 'job_schedules' }).catch(
      (e: Error) => e.message,
    );
    expect(cli).toMatch(/cannot be redriven/);
    const failures = await call('GET', '/api/failures/job_schedules');
    expect(failures.body).toMatchObject({ queue: 'job_schedules', redriveRefused: cli, purgeable: false });
    clients.sqs.resetHistory();
    expect(await call('POST', '/api/queues/job_schedules/redrive', {})).toEqual({
      status: 400,
      body: { error: cli },
    });
    expect(clients.sqs.calls()).toHaveLength(0);
    expect(api.operations.jobs.list()).toEqual([]);
  });

  it("redrives a schedule's dead letter to the schedule's queue as a job", async () => {
    const dlq = installFakeQueue(clients.sqs, sqsUrl('Hookline-HeartbeatDlq'), [undelivered]);
    clients.sqs.on(SendMessageBatchCommand, { QueueUrl: EVENTS.url }).resolves({
      Successful: [{ Id: '0', MessageId: 'new-1', MD5OfMessageBody: '' }],
      Failed: [],
    });
    const job = await call('POST', `/api/queues/${encodeURIComponent(HEARTBEAT)}/redrive`, {
      ids: ['heartbeat:2026-11-25T01:00:00Z'],
    });
    expect(job.status).toBe(200);
    await api.operations.jobs.idle(5);
    expect(api.operations.jobs.get(String(job.body.id))).toMatchObject({
      state: 'done',
      result: expect.objectContaining({ queue: HEARTBEAT, moved: 1 }),
    });
    expect(clients.sqs.commandCalls(SendMessageBatchCommand)[0]?.args[0].input.QueueUrl).toBe(EVENTS.url);
    expect(dlq.messages).toHaveLength(0);
  });

  it('deletes a dead letter of a Scheduler dead-letter queue through the API, as failed delete does', async () => {
    const dlq = installFakeQueue(clients.sqs, sqsUrl('Hookline-HeartbeatDlq'), [undelivered]);
    const started = await call('POST', `/api/failures/${encodeURIComponent(HEARTBEAT)}/delete`, {
      ids: [HEARTBEAT_EVENT_ID],
      yes: true,
    });
    expect(started).toMatchObject({ status: 200, body: { kind: 'delete' } });
    await api.operations.jobs.idle(5);
    expect(api.operations.jobs.get(String(started.body.id))).toMatchObject({
      state: 'done',
      summary: [
        `deleted 1 event from the ${HEARTBEAT} dead-letter queue: ${HEARTBEAT_EVENT_ID}`,
        'left in the dead-letter queue: 0',
      ],
    });
    expect(dlq.messages).toEqual([]);
  });
});
