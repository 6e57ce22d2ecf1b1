import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { failedDelete, renderFailedDelete } from '../../lib/cli/failed-delete';
import { failureKey } from '../../lib/cli/failure-groups';
import { hooklineCommandFor } from '../../lib/cli/output';
import { redrive } from '../../lib/cli/redrive';
import { installFakeQueue } from './fake-queue';
import {
  awsError,
  deadLetterMessage,
  EVENTS,
  jobDeadLetter,
  localTestTarget,
  recordingOutput,
  stackTarget,
  stackWithJobRecords,
  testBackend,
} from './helpers';

const sqs = mockClient(SQSClient);

beforeEach(() => {
  sqs.reset();
});

const noRecords = async () => {};

describe('failed delete', () => {
  it("names the commands of a refused selection with this run's target flags: the list and the purge of that queue", async () => {
    const output = {
      ...recordingOutput(),
      command: (args: string) => hooklineCommandFor({ stack: 'Hookline', region: 'us-east-1' }, args),
    };
    const backend = testBackend({ output });
    await expect(
      failedDelete(backend, stackTarget(), { env: {}, queue: 'events', yes: true }),
    ).rejects.toThrow(
      'failed delete needs --id <id...>, --type <pattern> or --failure <key> (hookline failed list events --stack Hookline --region us-east-1 shows ids and types, hookline failed summary events --stack Hookline --region us-east-1 failure keys); to delete every dead letter, hookline purge events --dlq --stack Hookline --region us-east-1',
    );
    for (const run of [
      () => failedDelete(backend, stackTarget(), { env: {}, queue: 'events', ids: [' '], yes: true }),
      () => redrive(backend, stackTarget(), { env: {}, queue: 'events', ids: [' '] }),
    ]) {
      await expect(run()).rejects.toThrow(
        'from hookline failed list events --stack Hookline --region us-east-1, ',
      );
    }
    expect(sqs.calls()).toHaveLength(0);
  });

  it('asks first, naming the queue, the stack and the selection; a no deletes nothing and holds nothing', async () => {
    const queue = installFakeQueue(sqs, EVENTS.deadLetterUrl, [deadLetterMessage(0), deadLetterMessage(1)]);
    const backend = testBackend({ output: recordingOutput({ interactive: true, answer: false }) });
    await expect(
      failedDelete(backend, stackTarget(), {
        env: {},
        queue: 'events',
        ids: ['evt-1'],
        recordJobs: noRecords,
      }),
    ).rejects.toThrow('delete cancelled: nothing was deleted');
    expect(backend.output.questions).toEqual([
      'Delete every dead letter of the events dead-letter queue in stack Hookline in us-east-1 matching --id evt-1 (every copy of an id)? This cannot be undone.',
    ]);
    expect([queue.deleted, queue.hidden.size]).toEqual([[], 0]);
  });

  it('says nothing was deleted when the dead-letter queue is empty, and asks nothing', async () => {
    const queue = installFakeQueue(sqs, EVENTS.deadLetterUrl, []);
    const backend = testBackend({ output: recordingOutput({ interactive: true, answer: true }) });
    await expect(
      failedDelete(backend, stackTarget(), {
        env: {},
        queue: 'events',
        ids: ['evt-1'],
        recordJobs: noRecords,
      }),
    ).rejects.toThrow(
      'no message in the events dead-letter queue matches --id evt-1: nothing was deleted; list them with hookline failed list events',
    );
    expect([backend.output.questions, queue.deleted]).toEqual([[], []]);
  });

  it("hands the deleted jobs to their records, with the dead letter's reason and enqueue; a record that cannot be written is a note, never a failure", async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [
      jobDeadLetter(0),
      jobDeadLetter(1, { tracked: false }),
      jobDeadLetter(2),
    ]);
    const recorded: unknown[] = [];
    const backend = testBackend();
    const result = await failedDelete(backend, stackTarget(), {
      env: {},
      queue: 'events',
      type: '**',
      yes: true,
      recordJobs: async (jobs) => {
        recorded.push(...jobs);
        throw Object.assign(new Error('not allowed to dynamodb:UpdateItem'), {
          name: 'AccessDeniedException',
        });
      },
    });
    expect(result).toMatchObject({ deletedEvents: 3, failed: 0 });
    expect(recorded).toEqual([
      { id: 'job-0', reason: 'PermanentError: customer cus_1 not found', generation: 'g-0' },
      { id: 'job-2', reason: 'PermanentError: customer cus_1 not found', generation: 'g-2' },
    ]);
    expect(backend.output.notes).toEqual([
      'could not record deleted jobs in their records (hookline jobs show says dead-lettered, no longer in the dead-letter queue): AccessDeniedException: not allowed to dynamodb:UpdateItem',
    ]);
  });

  it('destroys the job-record client it opened once it ends, as a redrive does, and never the one it was given', async () => {
    const cloudformation = stackWithJobRecords();
    const dynamodb = mockClient(DynamoDBClient);
    dynamodb.on(UpdateItemCommand).resolves({});
    // A redrive reads each record just before its send.
    dynamodb.on(GetItemCommand).callsFake(deadLetteredRecord);
    const destroyed = vi.spyOn(DynamoDBClient.prototype, 'destroy');
    try {
      installFakeQueue(sqs, EVENTS.deadLetterUrl, [jobDeadLetter(1), jobDeadLetter(2)]);
      sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
        Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: `new-${e.Id}`, MD5OfMessageBody: '' })),
        Failed: [],
      }));
      await failedDelete(testBackend(), stackTarget(), {
        env: {},
        queue: 'events',
        ids: ['job-1'],
        yes: true,
      });
      await redrive(testBackend(), stackTarget(), { env: {}, queue: 'events', ids: ['job-2'] });
      const writers = new Set(dynamodb.commandCalls(UpdateItemCommand).map((call) => call.thisValue));
      expect(writers.size).toBe(2);
      expect(new Set(destroyed.mock.contexts)).toEqual(writers);

      destroyed.mockClear();
      const given = Object.assign(async () => {}, { close: vi.fn() });
      installFakeQueue(sqs, EVENTS.deadLetterUrl, [jobDeadLetter(3)]);
      await failedDelete(testBackend(), stackTarget(), {
        env: {},
        queue: 'events',
        ids: ['job-3'],
        yes: true,
        recordJobs: given,
      });
      expect([given.close.mock.calls.length, destroyed.mock.calls.length]).toEqual([0, 0]);
    } finally {
      destroyed.mockRestore();
      dynamodb.restore();
      cloudformation.restore();
    }
  });

  it('writes the records of every batch it deletes through the one client it opens, and destroys that client', async () => {
    const cloudformation = stackWithJobRecords();
    const dynamodb = mockClient(DynamoDBClient);
    dynamodb.on(UpdateItemCommand).resolves({});
    // A redrive reads each record just before its send.
    dynamodb.on(GetItemCommand).callsFake(deadLetteredRecord);
    const destroyed = vi.spyOn(DynamoDBClient.prototype, 'destroy');
    try {
      // Two batches of the scan: ten, then two.
      installFakeQueue(
        sqs,
        EVENTS.deadLetterUrl,
        Array.from({ length: 12 }, (_, n) => jobDeadLetter(n)),
      );
      const result = await failedDelete(testBackend(), stackTarget(), {
        env: {},
        queue: 'events',
        type: '**',
        yes: true,
      });
      expect(result.deletedEvents).toBe(12);
      const writers = dynamodb.commandCalls(UpdateItemCommand).map((call) => call.thisValue);
      expect(writers).toHaveLength(12);
      expect(new Set(writers).size).toBe(1);
      expect(destroyed.mock.contexts).toEqual([writers[0]]);
      expect(cloudformation.commandCalls(DescribeStacksCommand)).toHaveLength(1);
    } finally {
      destroyed.mockRestore();
      dynamodb.restore();
      cloudformation.restore();
    }
  });

  it("finds a local mode's job records through the environment it is given, not the process's", async () => {
    // The process's own environment names no state directory: only the given one leads to the records.
    const stateDir = mkdtempSync(join(tmpdir(), 'hookline-delete-env-'));
    writeFileSync(
      join(stateDir, 'local.json'),
      JSON.stringify({
        pid: process.pid,
        region: 'us-east-1',
        controlUrl: 'http://127.0.0.1:3000/_hookline',
        webhookBaseUrl: 'http://127.0.0.1:3000',
        endpoints: { sqs: 'http://127.0.0.1:4566', dynamodb: 'http://127.0.0.1:4567' },
        consumers: {},
        queues: {},
        jobs: { dedupe: { tableName: 'given-env-dedupe', ttlSeconds: 60 } },
      }),
    );
    const dynamodb = mockClient(DynamoDBClient);
    dynamodb.on(UpdateItemCommand).resolves({});
    const target = localTestTarget({
      queues: { events: EVENTS },
      endpoints: { sqs: 'http://127.0.0.1:4566', dynamodb: 'http://127.0.0.1:4567' },
    });
    try {
      installFakeQueue(sqs, EVENTS.deadLetterUrl, [jobDeadLetter(1)]);
      const output = recordingOutput();
      const result = await failedDelete(testBackend({ output }), target, {
        env: { HOOKLINE_STATE_DIR: stateDir },
        queue: 'events',
        type: '**',
        yes: true,
      });
      expect(result.deletedEvents).toBe(1);
      const tables = dynamodb.commandCalls(UpdateItemCommand).map((call) => call.args[0].input.TableName);
      expect(tables).toEqual(['given-env-dedupe']);
      expect(output.notes).toEqual([]);
    } finally {
      dynamodb.restore();
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it('reports what it deleted or redrove, with a note, when the job records cannot be found, rather than ending in that error', async () => {
    const cloudformation = mockClient(CloudFormationClient);
    cloudformation
      .on(DescribeStacksCommand)
      .rejects(awsError('AccessDenied', 'not allowed to cloudformation:DescribeStacks'));
    try {
      installFakeQueue(sqs, EVENTS.deadLetterUrl, [jobDeadLetter(1), jobDeadLetter(2)]);
      sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
        Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: `new-${e.Id}`, MD5OfMessageBody: '' })),
        Failed: [],
      }));
      const deleting = testBackend();
      const deleted = await failedDelete(deleting, stackTarget(), {
        env: {},
        queue: 'events',
        ids: ['job-1'],
        yes: true,
      });
      expect(deleted).toMatchObject({ deletedIds: ['job-1'], failed: 0 });
      expect(deleting.output.notes).toEqual([
        expect.stringMatching(
          /^could not record deleted jobs in their records .*not allowed to cloudformation:DescribeStacks/,
        ),
      ]);
      const redriving = testBackend();
      const redriven = await redrive(redriving, stackTarget(), { env: {}, queue: 'events', ids: ['job-2'] });
      expect(redriven).toMatchObject({ moved: 1, failed: 0 });
      expect(redriving.output.notes.join('\n')).toContain('not allowed to cloudformation:DescribeStacks');
    } finally {
      cloudformation.restore();
    }
  });

  it('ends in the explained error when the first receive fails, before anything was read', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [deadLetterMessage(1)]);
    sqs.on(ReceiveMessageCommand).rejects(awsError('AccessDenied', 'not allowed to sqs:ReceiveMessage'));
    await expect(
      failedDelete(testBackend(), stackTarget(), {
        env: {},
        queue: 'events',
        ids: ['evt-1'],
        yes: true,
        recordJobs: noRecords,
      }),
    ).rejects.toThrow(
      'access denied in stack Hookline in us-east-1: not allowed to sqs:ReceiveMessage (grant that permission to your AWS identity)',
    );
  });

  it('stops between batches on Ctrl-C: what it deleted is reported, the rest handed back, an --id it did not reach said so', async () => {
    const queue = installFakeQueue(
      sqs,
      EVENTS.deadLetterUrl,
      Array.from({ length: 12 }, (_, n) => deadLetterMessage(n)),
    );
    const controller = new AbortController();
    const output = recordingOutput();
    // Ctrl-C as the first batch's progress is shown.
    const backend = testBackend({
      output: {
        ...output,
        progress(label, total) {
          const bar = output.progress(label, total);
          return {
            update(done, all) {
              bar.update(done, all);
              controller.abort();
            },
            done: bar.done,
          };
        },
      },
    });
    const result = await failedDelete(backend, stackTarget(), {
      env: {},
      queue: 'events',
      ids: ['evt-0', 'evt-11'],
      yes: true,
      signal: controller.signal,
      recordJobs: noRecords,
    });
    expect(result).toMatchObject({
      deletedIds: ['evt-0'],
      skipped: 9,
      notFound: [],
      failures: [
        {
          messageId: '',
          id: 'evt-11',
          reason: 'not reached: the scan stopped first (Interrupted: stopped by Ctrl-C)',
        },
      ],
      stoppedBy: 'Interrupted: stopped by Ctrl-C',
    });
    expect(output.progressUpdates).toEqual([['scanned in the events DLQ', 10, 12]]);
    expect([queue.messages.length, queue.hidden.size]).toEqual([11, 0]);
  });

  it('--failure deletes every dead letter of that failure, by the key failed summary prints, and hands the rest back', async () => {
    const failedWith = (n: number, message: string) => deadLetterMessage(n, { failure: { message } });
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, [
      failedWith(1, 'order 1 poisoned'),
      failedWith(2, 'card declined'),
      failedWith(3, 'order 3 poisoned'),
    ]);
    const result = await failedDelete(testBackend(), stackTarget(), {
      env: {},
      queue: 'events',
      failure: failureKey('PermanentError: order <n> poisoned'),
      yes: true,
      recordJobs: noRecords,
    });
    expect(result).toMatchObject({ deletedEvents: 2, deletedMessages: 2, failed: 0 });
    expect([...result.deletedIds].sort()).toEqual(['evt-1', 'evt-3']);
    expect(dlq.messages.map((m) => m.MessageId)).toEqual(['sqs-2']);
    expect(dlq.hidden.size).toBe(0);
    await expect(
      failedDelete(testBackend(), stackTarget(), { env: {}, queue: 'events', failure: 'nope', yes: true }),
    ).rejects.toThrow(/--failure "nope" is not a failure key: .*, or select with --id$/);
  });

  it('keeps a dead letter SQS refused to delete, visible again and reported with why, and deletes the rest', async () => {
    const queue = installFakeQueue(sqs, EVENTS.deadLetterUrl, [
      deadLetterMessage(0, { type: 'invoice.paid' }),
      deadLetterMessage(1, { type: 'invoice.paid' }),
      deadLetterMessage(2, { type: 'customer.created' }),
    ]);
    sqs
      .on(DeleteMessageBatchCommand)
      .callsFake((input: { Entries: { Id: string; ReceiptHandle: string }[] }) => {
        const [refused, ...rest] = input.Entries;
        for (const e of rest) {
          queue.messages.splice(
            queue.messages.findIndex((m) => m.ReceiptHandle === e.ReceiptHandle),
            1,
          );
          queue.hidden.delete(e.ReceiptHandle);
        }
        return {
          Successful: rest.map((e) => ({ Id: e.Id })),
          Failed: [
            { Id: refused?.Id, Code: 'ReceiptHandleIsInvalid', Message: 'expired', SenderFault: true },
          ],
        };
      });
    const backend = testBackend();
    const result = await failedDelete(backend, stackTarget(), {
      env: {},
      queue: 'events',
      type: 'invoice.*',
      yes: true,
      recordJobs: noRecords,
    });
    expect(result).toMatchObject({
      deletedEvents: 1,
      deletedMessages: 1,
      deletedIds: ['evt-1'],
      skipped: 1,
      failed: 1,
      failures: [{ messageId: 'sqs-0', id: 'evt-0', reason: 'ReceiptHandleIsInvalid: expired' }],
      deadLetterDepthBefore: 3,
      deadLetterDepthAfter: 2,
    });
    expect(queue.hidden.size).toBe(0);
    renderFailedDelete(backend.output, result);
    expect(backend.output.lines).toEqual([
      'deleted 1 event from the events dead-letter queue: evt-1',
      'not deleted: 1 (they stay in the DLQ)',
      '  evt-0: ReceiptHandleIsInvalid: expired',
      'left in the dead-letter queue: 2',
    ]);
  });

  it('names the flow parents of deleted jobs, which can never be sent now, with the command that cancels each', async () => {
    const child = (n: number, parent: string, onParentFailure?: string) =>
      jobDeadLetter(n, {
        id: `child-${n}`,
        type: 'flow.part',
        parent,
        ...(onParentFailure ? { onParentFailure } : {}),
      });
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [
      child(0, 'report-1'),
      child(1, 'report-1'),
      // Sent with ignoreDependencyOnFailure: counted as failed, its parent does not wait for it.
      child(3, 'report-2', 'ignore'),
      deadLetterMessage(2),
    ]);
    const backend = testBackend();
    const result = await failedDelete(backend, stackTarget(), {
      env: {},
      queue: 'events',
      type: '**',
      yes: true,
      recordJobs: noRecords,
    });
    expect(result.flowParents).toEqual(['report-1']);
    renderFailedDelete(backend.output, result);
    expect(backend.output.lines.slice(-2)).toEqual([
      'flow parents of deleted jobs, which can never be sent now (a deleted child never completes, nor tells its parent it did): cancel them',
      '  hookline jobs cancel report-1',
    ]);
  });

  it('names apart the flow parents whose deleted children all ran and could not tell them: another child may still send those', async () => {
    const child = (n: number, parent: string, failure: string) =>
      jobDeadLetter(n, {
        id: `child-${n}`,
        type: 'flow.part',
        parent,
        failure: { name: failure, message: 'the job ran, or did not' },
      });
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [
      child(0, 'untold-1', 'FlowParentError'),
      // One child that never completed is enough: whatever its siblings do, this parent is never sent.
      child(1, 'mixed-1', 'FlowParentError'),
      child(2, 'mixed-1', 'PermanentError'),
    ]);
    const backend = testBackend();
    const result = await failedDelete(backend, stackTarget(), {
      env: {},
      queue: 'events',
      type: '**',
      yes: true,
      recordJobs: noRecords,
    });
    expect([result.flowParents, result.untoldFlowParents]).toEqual([['untold-1', 'mixed-1'], ['untold-1']]);
    renderFailedDelete(backend.output, result);
    expect(backend.output.lines.slice(-4)).toEqual([
      'flow parents of deleted jobs, which can never be sent now (a deleted child never completes, nor tells its parent it did): cancel them',
      '  hookline jobs cancel mixed-1',
      "flow parents of deleted jobs that ran and could not tell them (FlowParentError): one that counted every child is sent by the redrive of another child's dead letter with FlowParentError, if one is left; jobs show says whether, else cancel it",
      '  hookline jobs show untold-1',
    ]);
  });

  it("reports what it deleted when a receive fails after the first letter was read, with that error in the operator's terms, rather than ending in it", async () => {
    const queue = installFakeQueue(sqs, EVENTS.deadLetterUrl, [deadLetterMessage(1), deadLetterMessage(2)]);
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [deadLetterMessage(1)] })
      .rejects(awsError('ThrottlingException'));
    const result = await failedDelete(testBackend(), stackTarget(), {
      env: {},
      queue: 'events',
      type: '**',
      yes: true,
      recordJobs: noRecords,
    });
    expect(result).toMatchObject({
      deletedIds: ['evt-1'],
      stoppedBy:
        'AWS throttled the request (ThrottlingException) after retries: wait a minute and run it again',
    });
    expect(queue.deleted).toEqual(['rh-1']);
  });

  it('names no flow parent for a dead letter that is no job, whatever headers its sender gave it', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [
      deadLetterMessage(1, { headers: { 'x-hookline-parent': 'not-a-job' } }),
    ]);
    const result = await failedDelete(testBackend(), stackTarget(), {
      env: {},
      queue: 'events',
      ids: ['evt-1'],
      yes: true,
      recordJobs: noRecords,
    });
    expect(result).toMatchObject({ deletedIds: ['evt-1'], flowParents: [], untoldFlowParents: [] });
  });

  it('names the first 20 flow parents with their command and counts the others', async () => {
    installFakeQueue(
      sqs,
      EVENTS.deadLetterUrl,
      Array.from({ length: 21 }, (_, n) =>
        jobDeadLetter(n, { id: `child-${n}`, type: 'flow.part', parent: `parent-${n}` }),
      ),
    );
    const backend = testBackend();
    const result = await failedDelete(backend, stackTarget(), {
      env: {},
      queue: 'events',
      type: '**',
      yes: true,
      recordJobs: noRecords,
    });
    expect(result.flowParents).toHaveLength(21);
    renderFailedDelete(backend.output, result);
    const commands = backend.output.lines.filter((line) => line.startsWith('  hookline jobs cancel'));
    expect(commands).toEqual(Array.from({ length: 20 }, (_, n) => `  hookline jobs cancel parent-${n}`));
    expect(backend.output.lines.at(-1)).toBe('  and 1 more (--json)');
  });

  it('names the first 20 deleted ids on its line and counts the others, which --json lists', async () => {
    installFakeQueue(
      sqs,
      EVENTS.deadLetterUrl,
      Array.from({ length: 25 }, (_, n) => deadLetterMessage(n)),
    );
    const backend = testBackend();
    const result = await failedDelete(backend, stackTarget(), {
      env: {},
      queue: 'events',
      type: '**',
      yes: true,
      recordJobs: noRecords,
    });
    expect(result.deletedIds).toHaveLength(25);
    renderFailedDelete(backend.output, result);
    const first20 = result.deletedIds.slice(0, 20).join(', ');
    expect(backend.output.lines[0]).toBe(
      `deleted 25 events from the events dead-letter queue: ${first20} and 5 more (--json)`,
    );
  });

  it('refuses a selection that matches nothing, unless asked to report it: then every id gone is not found', async () => {
    const queue = installFakeQueue(sqs, EVENTS.deadLetterUrl, [deadLetterMessage(1)]);
    const options = { env: {}, queue: 'events', ids: ['evt-7', 'evt-8'], yes: true, recordJobs: noRecords };
    await expect(failedDelete(testBackend(), stackTarget(), options)).rejects.toThrow(
      'no message in the events dead-letter queue matches --id evt-7 evt-8: nothing was deleted; list them with hookline failed list events',
    );
    const reported = await failedDelete(testBackend(), stackTarget(), { ...options, reportNoMatch: true });
    expect(reported).toMatchObject({
      deletedEvents: 0,
      skipped: 1,
      failed: 0,
      notFound: ['evt-7', 'evt-8'],
      deadLetterDepthBefore: 1,
      deadLetterDepthAfter: 1,
    });
    expect([queue.deleted, queue.hidden.size]).toEqual([[], 0]);
    queue.messages.length = 0;
    expect(
      await failedDelete(testBackend(), stackTarget(), { ...options, reportNoMatch: true }),
    ).toMatchObject({
      deletedEvents: 0,
      notFound: ['evt-7', 'evt-8'],
      deadLetterDepthBefore: 0,
      flowParents: [],
      untoldFlowParents: [],
    });
  });
});

/** A job's record as the consumer left it when it dead-lettered the job. */
function deadLetteredRecord(input: { Key?: Record<string, unknown> }) {
  return {
    Item: { ...input.Key, state: { S: 'dead-lettered' }, updatedAt: { S: '2026-11-25T02:10:00.000Z' } },
  };
}
