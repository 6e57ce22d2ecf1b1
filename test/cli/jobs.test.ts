/**
 * `hookline jobs list` over a mocked DynamoDB: what it lists, what it says it left out, and its progress; and
 * `jobs show` of a delayed job that EventBridge Scheduler put in the job schedules' dead-letter queue, and of a job
 * SQS moved to its queue's dead-letter queue after a last attempt that recorded no outcome.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  CloudWatchLogsClient,
  GetQueryResultsCommand,
  StartQueryCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient, GetItemCommand, ScanCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import {
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { JobStatus } from '../../lambda/shared/job-record';
import { CliError, NotFoundError, UnknownQueueError, UsageError } from '../../lib/cli/errors';
import {
  jobQueue,
  jobRecordReader,
  jobState,
  jobStateNote,
  jobsList,
  jobsShow,
  jobsStore,
  renderJobCancel,
  renderJobList,
  renderJobShow,
  withDeadLetteredJob,
  withDeadLetteredJobs,
} from '../../lib/cli/jobs';
import { hooklineCommandFor } from '../../lib/cli/output';
import { runCli } from '../../lib/cli/program';
import { JOB_SCHEDULES, type StackTarget } from '../../lib/cli/target';
import type { TraceResult } from '../../lib/cli/trace';
import { JOB_SCHEDULES_RESEND } from '../../lib/stack-outputs';
import { installFakeQueue } from './fake-queue';
import {
  awsError,
  cliHarness,
  deadLetterMessage,
  recordingOutput,
  stackTarget,
  stackWithJobRecords,
  testBackend,
} from './helpers';

const dynamodb = mockClient(DynamoDBClient);
const sqs = mockClient(SQSClient);
afterEach(() => {
  dynamodb.reset();
  sqs.reset();
});

const job = (id: string, enqueuedAt: string) => ({
  pk: { S: `job#${id}` },
  state: { S: 'completed' },
  type: { S: 'email.welcome' },
  queue: { S: 'events' },
  enqueuedAt: { S: enqueuedAt },
});

describe('jobs show of a dead-lettered job', () => {
  it('says how to retry it (redrive from its queue by id) and where to read the failure', () => {
    const output = recordingOutput();
    renderJobShow(output, {
      id: 'dead9',
      state: 'dead-lettered',
      type: 'email.send',
      queue: 'mail',
      attempt: 4,
      reason: 'Error: smtp down',
    });
    expect(output.lines).toContain('reason    Error: smtp down');
    expect(output.lines.at(-1)).toBe(
      'retry once its cause is fixed: hookline redrive mail --id dead9    details: hookline failed show mail dead9',
    );
  });

  it('names the commands with the flags of the one run, so under --local they act on local mode', () => {
    const output = {
      ...recordingOutput(),
      command: (args: string) => hooklineCommandFor({ local: true }, args),
    };
    renderJobShow(output, { id: 'dead9', state: 'dead-lettered', type: 'email.send', queue: 'mail' });
    renderJobList(output, { total: 1, jobs: [{ id: 'dead9', state: 'dead-lettered', queue: 'mail' }] });
    expect(output.lines.filter((line) => line.includes('hookline '))).toEqual([
      'retry once its cause is fixed: hookline redrive mail --id dead9 --local    details: hookline failed show mail dead9 --local',
      'details: hookline jobs show <id> --local',
    ]);
  });

  it('suggests no retry for a job that did not fail', () => {
    const output = recordingOutput();
    renderJobShow(output, { id: 'ok1', state: 'completed', queue: 'mail', result: { sent: true } });
    expect(output.lines.some((line) => line.includes('redrive'))).toBe(false);
  });
});

describe('jobs show and list of a debounced job', () => {
  const pending: JobStatus = {
    id: 'doc-42',
    state: 'scheduled',
    type: 'doc.reindex',
    queue: 'jobs',
    dueAt: '2026-12-02T09:00:40.000Z',
    debounce: { sends: 3 },
  };

  it('says how many sends it took and that it runs once with the last one, at its due time, until it starts', () => {
    const output = recordingOutput();
    renderJobShow(output, pending);
    expect(output.lines).toContain(
      "          debounced: 3 sends in this cycle; runs once at 2026-12-02T09:00:40.000Z with the last one's payload; another send with its id before it starts replaces the payload and pushes its start later (no later than its maxWait after the cycle's first send, when sent with one)",
    );
    expect(output.lines).toContain('sends     debounced: 3 sends in this cycle');
    const ran = recordingOutput();
    renderJobShow(ran, { ...pending, state: 'completed', debounce: { sends: 1 }, result: { ok: true } });
    expect(ran.lines).toContain('sends     debounced: 1 send in this cycle');
    expect(ran.lines.some((line) => line.includes('runs once'))).toBe(false);
  });

  it('lists its due time and the sends it took', () => {
    const output = recordingOutput();
    renderJobList(output, { total: 1, jobs: [pending] });
    expect(output.lines[0]).toMatch(
      /doc-42 +scheduled +doc.reindex +jobs +2026-12-02T09:00:40.000Z +- +debounced: 3 sends in this cycle/,
    );
  });
});

describe('jobs show and list of a job waiting to run again', () => {
  const retrying = {
    id: 'flaky1',
    state: 'retrying' as const,
    queue: 'mail',
    attempt: 2,
    lastError: 'Error: smtp down',
    retryAt: '2026-12-02T09:00:40.000Z',
  };
  const redriven = {
    id: 'dead9',
    state: 'queued' as const,
    queue: 'mail',
    lastError: 'PermanentError: no template',
    redrivenAt: '2026-12-02T09:05:00.000Z',
  };

  it('says a job between attempts waits to retry, after which failure, and when its next attempt is due', () => {
    const output = recordingOutput();
    renderJobShow(output, retrying);
    renderJobShow(output, { ...retrying, id: 'flaky2', retryAt: undefined });
    expect(output.lines).toContain(
      '           waiting to retry: attempt 2 failed (Error: smtp down); next attempt due at 2026-12-02T09:00:40.000Z',
    );
    expect(output.lines).toContain(
      "           waiting to retry: attempt 2 failed (Error: smtp down); next attempt when its queue's visibility timeout ends",
    );
    expect(output.lines.some((line) => line.includes('redrive'))).toBe(false);
  });

  it('says a redriven job waits in its queue again, with why it had been dead-lettered, and suggests no redrive', () => {
    const output = recordingOutput();
    renderJobShow(output, redriven);
    expect(output.lines).toContain(
      '           redriven from its dead-letter queue at 2026-12-02T09:05:00.000Z, waiting in its queue to run again; it had been dead-lettered: PermanentError: no template',
    );
    expect(output.lines.some((line) => line.includes('hookline redrive'))).toBe(false);
  });

  it('lists the due time of the next attempt and the last error, a redriven one as from before the redrive', () => {
    const output = recordingOutput();
    renderJobList(output, { total: 2, jobs: [retrying, redriven] });
    expect(output.lines[0]).toMatch(
      /flaky1 +retrying +- +mail +2026-12-02T09:00:40.000Z +- +Error: smtp down/,
    );
    expect(output.lines[0]).toMatch(/dead9 +queued .* redriven; was PermanentError: no template/);
  });

  it("shows a flow parent's wait for its children in the list and under its state, with its children", () => {
    const parent: JobStatus = {
      id: 'report-48',
      state: 'waiting-children',
      type: 'report.build',
      queue: 'jobs',
      children: { total: 3, completed: ['a'], pending: ['b', 'c'] },
    };
    const output = recordingOutput();
    renderJobList(output, { total: 1, jobs: [parent] });
    expect(output.lines[0]).toMatch(
      /report-48 +waiting-children .* waiting for its children: 1 of 3 completed, waiting for b, c/,
    );
    const shown = recordingOutput();
    renderJobShow(shown, parent);
    expect(shown.lines).toContain('          waiting for its children: 1 of 3 completed, waiting for b, c');
    expect(shown.lines).toContain('children  1 of 3 completed');
  });
});

describe('jobs cancel', () => {
  it('says a cancelled flow parent is no longer sent when its children complete, which still run', () => {
    const output = recordingOutput();
    renderJobCancel(output, { id: 'report-48', cancelled: true, was: 'waiting-children' }, 'stack');
    expect(output.lines).toEqual([
      'cancelled job report-48 (it was waiting-children): its children still run, and their completion no longer sends it',
    ]);
  });

  const delayed = {
    id: 'remind-u42',
    cancelled: true,
    was: 'scheduled',
    dueAt: '2026-12-02T09:00:00.000Z',
    scheduleName: 'Hookline-job-abc',
  } as const;

  it('says the consumer skips the job and, for a delayed one deployed, that Scheduler still sends it', () => {
    const output = recordingOutput();
    renderJobCancel(output, delayed, 'stack');
    renderJobCancel(output, { id: 'now-u1', cancelled: true, was: 'queued' }, 'stack');
    expect(output.lines).toEqual([
      'cancelled job remind-u42 (it was scheduled): the consumer skips it',
      'its one-time schedule Hookline-job-abc still sends it at 2026-12-02T09:00:00.000Z, and Scheduler deletes the schedule after that',
      'cancelled job now-u1 (it was queued): the consumer skips it',
    ]);
  });

  it("says a delayed job cancelled in local mode is still sent by local mode's scheduler, not EventBridge Scheduler", () => {
    const output = recordingOutput();
    renderJobCancel(output, delayed, 'local');
    expect(output.lines).toEqual([
      'cancelled job remind-u42 (it was scheduled): the consumer skips it',
      "its one-time schedule Hookline-job-abc still sends it at 2026-12-02T09:00:00.000Z, and local mode's scheduler removes the schedule once it has sent it",
    ]);
  });
});

describe('jobs list', () => {
  it('reports the scan page by page, and says how many jobs --limit left out', async () => {
    dynamodb
      .on(ScanCommand)
      .resolvesOnce({
        Items: [job('b', '2026-11-30T10:00:02Z')],
        ScannedCount: 1000,
        LastEvaluatedKey: { pk: { S: 'x' } },
      })
      .resolvesOnce({
        Items: [job('a', '2026-11-30T10:00:01Z'), job('c', '2026-11-30T10:00:03Z')],
        ScannedCount: 500,
      });
    const output = recordingOutput();
    const store = { client: new DynamoDBClient({ region: 'us-east-1' }), tableName: 'dedupe' };
    const list = await jobsList(store, { limit: 2, progress: output.progress('scanned') });
    expect(output.progressUpdates).toEqual([
      ['scanned', 1000, undefined],
      ['scanned', 1500, undefined],
    ]);
    expect(list).toMatchObject({ total: 3, jobs: [{ id: 'a' }, { id: 'b' }] });
    // Each page is asked from where the last one ended, not from the start again.
    expect(dynamodb.commandCalls(ScanCommand).map((call) => call.args[0].input.ExclusiveStartKey)).toEqual([
      undefined,
      { pk: { S: 'x' } },
    ]);
    renderJobList(output, list);
    expect(output.lines).toContain('showing the 2 oldest of 3 jobs: pass --limit 3 to see them all');
  });

  it('hookline jobs list --queue or --type lists only the jobs of that queue or type', async () => {
    dynamodb.on(ScanCommand).resolves({
      Items: [
        job('e1', '2026-11-30T10:00:01Z'),
        { ...job('o1', '2026-11-30T10:00:02Z'), queue: { S: 'orders' } },
        { ...job('r1', '2026-11-30T10:00:03Z'), type: { S: 'email.receipt' } },
      ],
      ScannedCount: 3,
    });
    const cloudformation = stackWithJobRecords();
    const listed = async (...flags: string[]) => {
      const h = cliHarness({
        connect: async (_options, output) => ({ target: stackTarget(), backend: testBackend({ output }) }),
      });
      expect(await runCli(['jobs', 'list', ...flags, '--json'], h.deps)).toBe(0);
      return (JSON.parse(h.stdout()) as { jobs: JobStatus[] }).jobs.map((j) => j.id);
    };
    try {
      expect(await listed('--queue', 'orders')).toEqual(['o1']);
      expect(await listed('--type', 'email.receipt')).toEqual(['r1']);
    } finally {
      cloudformation.restore();
    }
  });

  it('hookline jobs cancel with filters exits 1 when a matched job started before its cancel reached it', async () => {
    const queuedJob = (id: string) => ({ ...job(id, '2026-11-30T10:00:01Z'), state: { S: 'queued' } });
    dynamodb.on(ScanCommand).resolves({ Items: [queuedJob('q1'), queuedJob('q2')], ScannedCount: 2 });
    dynamodb.on(UpdateItemCommand).resolves({ Attributes: queuedJob('q1') });
    dynamodb
      .on(UpdateItemCommand, { Key: { pk: { S: 'job#q2' } } })
      .rejects(awsError('ConditionalCheckFailedException'));
    dynamodb.on(GetItemCommand).resolves({ Item: { ...queuedJob('q2'), state: { S: 'processing' } } });
    const cloudformation = stackWithJobRecords();
    try {
      const h = cliHarness({
        connect: async (_options, output) => ({ target: stackTarget(), backend: testBackend({ output }) }),
      });
      expect(await runCli(['jobs', 'cancel', '--type', 'email.*', '--yes'], h.deps)).toBe(1);
      expect(h.stdout()).toContain('cancelled 1 job of 2 matching');
      expect(h.stdout()).toContain('skipped q2: it is processing');
    } finally {
      cloudformation.restore();
    }
  });

  it('hookline jobs cancel of a job already cancelled exits 0 saying nothing changed; of one that ran, exits 1', async () => {
    const inState = (state: string) => ({ ...job('j1', '2026-11-30T10:00:01Z'), state: { S: state } });
    // The conditional write is refused: the job is no longer waiting.
    dynamodb.on(UpdateItemCommand).rejects(awsError('ConditionalCheckFailedException'));
    const cloudformation = stackWithJobRecords();
    const cancel = async (state: string, ...flags: string[]) => {
      dynamodb.on(GetItemCommand).resolves({ Item: inState(state) });
      const h = cliHarness({
        connect: async (_options, output) => ({ target: stackTarget(), backend: testBackend({ output }) }),
      });
      return {
        code: await runCli(['jobs', 'cancel', 'j1', ...flags], h.deps),
        out: h.stdout(),
        err: h.stderr(),
      };
    };
    try {
      expect(await cancel('cancelled')).toEqual({
        code: 0,
        out: 'job j1 was already cancelled: nothing changed; the consumer skips it\n',
        err: '',
      });
      const json = await cancel('cancelled', '--json');
      expect(json.code).toBe(0);
      expect(JSON.parse(json.out)).toEqual({
        id: 'j1',
        cancelled: true,
        was: 'cancelled',
        alreadyCancelled: true,
      });
      const ran = await cancel('completed');
      expect(ran.code).toBe(1);
      expect(ran.err).toContain(
        'job j1 is completed: only a scheduled, waiting-children, child-failed or queued job can be cancelled',
      );
    } finally {
      cloudformation.restore();
    }
  });

  it('says nothing was left out when every job is shown', async () => {
    dynamodb.on(ScanCommand).resolves({ Items: [job('a', '2026-11-30T10:00:01Z')], ScannedCount: 7 });
    const output = recordingOutput();
    const store = { client: new DynamoDBClient({ region: 'us-east-1' }), tableName: 'dedupe' };
    renderJobList(output, await jobsList(store, { limit: 50 }));
    expect(output.lines.some((line) => line.startsWith('showing'))).toBe(false);
  });
});

describe('jobs show and list refuse what they cannot read', () => {
  const store = () => ({ client: new DynamoDBClient({ region: 'us-east-1' }), tableName: 'dedupe' });

  it('refuses an empty id before reading, and says an unknown id is not found', async () => {
    await expect(jobsShow(store(), ' ', {})).rejects.toThrow(
      new UsageError('the job id is empty: pass the id send returned, or see hookline jobs list'),
    );
    expect(dynamodb.calls()).toHaveLength(0);
    dynamodb.on(GetItemCommand).resolves({});
    // Not found, rather than refused: the console answers it 404.
    await expect(jobsShow(store(), 'job-9', {})).rejects.toThrow(
      new NotFoundError(
        'job job-9 not found: it was never sent with this id, or its record expired after the dedupe window',
      ),
    );
  });

  it('refuses an unknown --state, naming the valid ones', () => {
    expect(jobState('queued')).toBe('queued');
    expect(() => jobState('done')).toThrow(
      new CliError(
        '--state done is not a job state: use one of scheduled, waiting-children, queued, processing, retrying, completed, dead-lettered, child-failed, cancelled',
      ),
    );
  });

  it('says a stack without a dedupe table keeps no job records, and trace reads none there', async () => {
    const cloudformation = mockClient(CloudFormationClient);
    cloudformation.on(DescribeStacksCommand).resolves({
      Stacks: [
        { StackName: 'Hookline', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: [] },
      ],
    });
    try {
      await expect(jobsStore(stackTarget(), testBackend(), {})).rejects.toThrow(
        /keeps no job records: enable dedupe/,
      );
      expect(await jobRecordReader(testBackend(), stackTarget(), {}, {})('job-1')).toEqual({ kept: false });
      expect(dynamodb.calls()).toHaveLength(0);
    } finally {
      cloudformation.restore();
    }
  });

  it('lists only the jobs of --state, oldest first, and says when there are none', async () => {
    dynamodb.on(ScanCommand).resolves({
      Items: [
        { ...job('b', '2026-11-30T10:00:02Z'), state: { S: 'queued' } },
        job('a', '2026-11-30T10:00:01Z'),
        { ...job('c', '2026-11-30T10:00:00Z'), state: { S: 'queued' } },
      ],
    });
    const queued = await jobsList(store(), { state: 'queued', limit: 50 });
    expect(queued).toEqual({
      state: 'queued',
      total: 2,
      jobs: [expect.objectContaining({ id: 'c' }), expect.objectContaining({ id: 'b' })],
    });
    // Without a reconciliation, a queued record stays queued: it is not listed as dead-lettered.
    const dead = await jobsList(store(), { state: 'dead-lettered', limit: 50 });
    expect(dead).toEqual({ state: 'dead-lettered', total: 0, jobs: [] });
    const output = recordingOutput();
    renderJobList(output, dead);
    expect(output.lines).toEqual(['no dead-lettered jobs']);
  });

  it('lists only the jobs sent to --queue, counting only those, and refuses an empty or unknown queue by name', async () => {
    dynamodb.on(ScanCommand).resolves({
      Items: [
        job('e1', '2026-11-30T10:00:01Z'),
        { ...job('o1', '2026-11-30T10:00:02Z'), queue: { S: 'orders' } },
        job('e2', '2026-11-30T10:00:03Z'),
      ],
    });
    const target = stackTarget();
    const orders = await jobsList(store(), { queue: jobQueue(target, 'orders'), limit: 50 });
    expect(orders).toEqual({ queue: 'orders', total: 1, jobs: [expect.objectContaining({ id: 'o1' })] });
    const limited = await jobsList(store(), { queue: 'events', state: 'completed', limit: 1 });
    expect([limited.total, limited.jobs.map((j) => j.id)]).toEqual([2, ['e1']]);
    const output = recordingOutput();
    renderJobList(output, { queue: 'orders', state: 'queued', total: 0, jobs: [] });
    expect(output.lines).toEqual(['no queued jobs in queue orders']);
    expect(() => jobQueue(target, 'billing')).toThrow(
      new UnknownQueueError(
        'billing',
        'unknown queue "billing" in stack Hookline in us-east-1: use one of events, orders',
      ),
    );
    expect(() => jobQueue(target, ' ')).toThrow(
      new UsageError(
        '--queue must not be empty: give one of events, orders, or leave --queue out for every queue',
      ),
    );
  });
});

describe('jobs show of a delayed job EventBridge Scheduler could not deliver', () => {
  const deadLetterUrl = 'https://sqs.us-east-1.amazonaws.com/123456789012/Hookline-JobSchedulesDlq';
  const withJobSchedules: StackTarget = {
    ...stackTarget(),
    jobSchedulesDeadLetterQueue: {
      name: JOB_SCHEDULES,
      deadLetterUrl,
      deadLetterArn: 'arn:aws:sqs:us-east-1:123456789012:Hookline-JobSchedulesDlq',
      holds: 'one-time jobs Scheduler could not deliver',
    },
  };
  /** Its record: due two days ago, sent through the one-time schedule of its current generation. */
  const queued: JobStatus = {
    id: 'job-7',
    state: 'queued',
    type: 'email.reminder',
    queue: 'events',
    dueAt: '2026-11-28T10:00:00.000Z',
    scheduleName: 'Hookline-job-9f2c',
  };
  const attribute = (value: string) => ({ DataType: 'String', StringValue: value });
  /** What Scheduler put in the job schedules' dead-letter queue after giving up on the schedule `schedule`. */
  const undelivered = (schedule: string) => ({
    ...deadLetterMessage(7, { id: 'job-7', type: 'email.reminder', error: false }),
    MessageId: `sqs-${schedule}`,
    ReceiptHandle: `rh-${schedule}`,
    MessageAttributes: {
      ERROR_CODE: attribute('AWS.SimpleQueueService.NonExistentQueue'),
      ERROR_MESSAGE: attribute('The specified queue does not exist.'),
      SCHEDULE_ARN: attribute(`arn:aws:scheduler:us-east-1:123456789012:schedule/default/${schedule}`),
    },
  });

  it("says it is dead-lettered, with Scheduler's reason and where it waits, not queued", async () => {
    const dlq = installFakeQueue(sqs, deadLetterUrl, [undelivered('Hookline-job-9f2c')]);
    const job = await withDeadLetteredJob(testBackend(), withJobSchedules, queued, {});
    expect(job).toMatchObject({ id: 'job-7', state: 'dead-lettered', dueAt: queued.dueAt });
    const output = recordingOutput();
    renderJobShow(output, job);
    expect(output.lines).toContain('state     dead-lettered');
    expect(output.lines).toContain(
      `reason    EventBridge Scheduler could not deliver it to its queue (AWS.SimpleQueueService.NonExistentQueue: The specified queue does not exist.): it waits in the job_schedules dead-letter queue (hookline failed show job_schedules job-7); ${JOB_SCHEDULES_RESEND}`,
    );
    // Its queue's dead-letter queue does not hold it, so redrive is not the way back: the reason says what is.
    expect(output.lines.some((line) => line.includes('hookline redrive'))).toBe(false);
    // Read, not consumed.
    expect(dlq.messages).toHaveLength(1);
    expect(dlq.hidden.size).toBe(0);
  });

  const cliOnStack = () =>
    cliHarness({
      connect: async (_options, output) => ({ target: withJobSchedules, backend: testBackend({ output }) }),
    });
  /** The record of a job sent through the one-time schedule `scheduleName`, now past due. */
  const scheduledRecord = (id: string, scheduleName: string) => ({
    pk: { S: `job#${id}` },
    state: { S: 'scheduled' },
    type: { S: 'email.reminder' },
    queue: { S: 'events' },
    enqueuedAt: { S: '2026-11-27T10:00:00.000Z' },
    dueAt: { S: queued.dueAt as string },
    scheduleName: { S: scheduleName },
  });

  it('hookline jobs show prints it dead-lettered, from the record and the dead-letter queue', async () => {
    installFakeQueue(sqs, deadLetterUrl, [undelivered('Hookline-job-9f2c')]);
    const cloudformation = stackWithJobRecords();
    dynamodb.on(GetItemCommand).resolves({
      Item: {
        pk: { S: 'job#job-7' },
        state: { S: 'scheduled' },
        type: { S: 'email.reminder' },
        queue: { S: 'events' },
        dueAt: { S: queued.dueAt as string },
        scheduleName: { S: queued.scheduleName as string },
      },
    });
    try {
      const h = cliOnStack();
      expect(await runCli(['jobs', 'show', 'job-7', '--json'], h.deps)).toBe(0);
      expect(JSON.parse(h.stdout())).toMatchObject({
        id: 'job-7',
        state: 'dead-lettered',
        reason: expect.stringContaining('hookline failed show job_schedules job-7'),
      });
    } finally {
      cloudformation.restore();
    }
  });

  it('hookline jobs list shows it dead-lettered too: listed under that state, not under queued', async () => {
    const dlq = installFakeQueue(sqs, deadLetterUrl, [undelivered('Hookline-job-9f2c')]);
    const cloudformation = stackWithJobRecords();
    dynamodb.on(ScanCommand).resolves({
      Items: [
        scheduledRecord('job-7', 'Hookline-job-9f2c'),
        // Same kind of job, its own schedule still on its way: nothing of it in the dead-letter queue.
        scheduledRecord('job-8', 'Hookline-job-1a2b'),
        job('job-1', '2026-11-26T10:00:00Z'),
      ],
      ScannedCount: 3,
    });
    const list = async (...state: string[]) => {
      const h = cliOnStack();
      expect(await runCli(['jobs', 'list', ...state, '--json'], h.deps)).toBe(0);
      const shown = JSON.parse(h.stdout()) as { total: number; jobs: JobStatus[] };
      return Object.fromEntries(shown.jobs.map((j) => [j.id, j.state]));
    };
    try {
      expect(await list()).toEqual({ 'job-1': 'completed', 'job-7': 'dead-lettered', 'job-8': 'queued' });
      expect(await list('--state', 'queued')).toEqual({ 'job-8': 'queued' });
      expect(await list('--state', 'dead-lettered')).toEqual({ 'job-7': 'dead-lettered' });
      expect(await list('--state', 'completed')).toEqual({ 'job-1': 'completed' });
      // Read, not consumed; and not read at all when no listed job can be waiting there.
      expect(dlq.messages).toHaveLength(1);
      expect(dlq.hidden.size).toBe(0);
      const receivesBefore = sqs.commandCalls(ReceiveMessageCommand).length;
      await list('--state', 'completed');
      expect(receivesBefore).toBeGreaterThan(0);
      expect(sqs.commandCalls(ReceiveMessageCommand)).toHaveLength(receivesBefore);
    } finally {
      cloudformation.restore();
    }
  });

  it('hookline jobs cancel with filters leaves it out, as the dead-lettered job it is: it names only the jobs that wait', async () => {
    installFakeQueue(sqs, deadLetterUrl, [undelivered('Hookline-job-9f2c')]);
    const cloudformation = stackWithJobRecords();
    dynamodb.on(ScanCommand).resolves({
      Items: [scheduledRecord('job-7', 'Hookline-job-9f2c'), scheduledRecord('job-8', 'Hookline-job-1a2b')],
      ScannedCount: 2,
    });
    try {
      const h = cliOnStack();
      expect(await runCli(['jobs', 'cancel', '--type', 'email.*', '--json'], h.deps)).toBe(0);
      expect(JSON.parse(h.stdout())).toMatchObject({
        dryRun: true,
        matched: 1,
        ids: ['job-8'],
        byState: { queued: 1 },
      });
    } finally {
      cloudformation.restore();
    }
  });

  it("hookline jobs list draws a progress bar while it reads a job's dead-letter queue to its end", async () => {
    // A running job may have been moved to its queue's DLQ without a word: the whole DLQ is read to know.
    installFakeQueue(
      sqs,
      withJobSchedules.queues.events?.deadLetterUrl as string,
      Array.from({ length: 25 }, (_, i) => deadLetterMessage(i)),
    );
    const cloudformation = stackWithJobRecords();
    dynamodb.on(ScanCommand).resolves({
      Items: [{ ...job('job-1', '2026-11-26T10:00:00Z'), state: { S: 'processing' } }],
      ScannedCount: 1,
    });
    try {
      const h = cliOnStack();
      expect(await runCli(['jobs', 'list'], h.deps)).toBe(0);
      expect(h.stderr()).toContain('100% 25/25 read in the events DLQ');
    } finally {
      cloudformation.restore();
    }
  });

  it('hookline trace ends its timeline with the dead-lettering, from the record and the dead-letter queue', async () => {
    installFakeQueue(sqs, deadLetterUrl, [undelivered('Hookline-job-9f2c')]);
    const cloudformation = stackWithJobRecords();
    const logs = mockClient(CloudWatchLogsClient);
    logs.on(StartQueryCommand).resolves({ queryId: 'q-1' });
    logs.on(GetQueryResultsCommand).resolves({ status: 'Complete', results: [] });
    dynamodb.on(GetItemCommand).resolves({ Item: scheduledRecord('job-7', 'Hookline-job-9f2c') });
    try {
      const h = cliHarness({
        connect: async (_options, output) => ({
          target: { ...withJobSchedules, logGroups: { ingest: '/aws/lambda/ingest', consumers: {} } },
          backend: testBackend({ output, logs: new CloudWatchLogsClient({ region: 'us-east-1' }) }),
        }),
      });
      expect(await runCli(['trace', 'job-7', '--json'], h.deps)).toBe(0);
      const traced = JSON.parse(h.stdout()) as TraceResult;
      expect(traced.steps.map((s) => [s.step, s.at, s.queue ?? s.queues?.join()])).toEqual([
        ['scheduled', '2026-11-27T10:00:00.000Z', 'events'],
        ['dead-lettered', queued.dueAt, JOB_SCHEDULES],
      ]);
      expect(traced.steps[1]?.error).toContain('hookline failed show job_schedules job-7');
      expect(traced.job?.state).toBe('dead-lettered');
    } finally {
      logs.restore();
      cloudformation.restore();
    }
  });

  it("a job record reader (the console's event page, once per request) destroys the client each read opened", async () => {
    installFakeQueue(sqs, deadLetterUrl, []);
    const cloudformation = stackWithJobRecords();
    dynamodb.on(GetItemCommand).resolves({ Item: job('job-1', '2026-11-30T10:00:00Z') });
    const destroyed = vi.spyOn(DynamoDBClient.prototype, 'destroy');
    try {
      const read = jobRecordReader(testBackend(), withJobSchedules, {}, {});
      expect(await read('job-1')).toMatchObject({ kept: true, job: { id: 'job-1', state: 'completed' } });
      await read('job-1');
      const readers = new Set(dynamodb.commandCalls(GetItemCommand).map((call) => call.thisValue));
      expect(readers.size).toBe(2);
      expect(new Set(destroyed.mock.contexts)).toEqual(readers);
    } finally {
      destroyed.mockRestore();
      cloudformation.restore();
    }
  });

  it('keeps it queued when only an earlier generation of the same id is there', async () => {
    installFakeQueue(sqs, deadLetterUrl, [undelivered('Hookline-job-0ld1')]);
    expect(await withDeadLetteredJob(testBackend(), withJobSchedules, queued, {})).toEqual(queued);
  });

  it('looks nowhere for a job that went through no schedule, or where there is no job_schedules queue', async () => {
    const { scheduleName: _name, ...sentWithoutSchedule } = queued;
    expect(await withDeadLetteredJob(testBackend(), withJobSchedules, sentWithoutSchedule, {})).toEqual(
      sentWithoutSchedule,
    );
    expect(await withDeadLetteredJob(testBackend(), stackTarget(), queued, {})).toEqual(queued);
    expect(sqs.calls()).toHaveLength(0);
  });
});

describe('jobs show of a dead-lettered job no longer in its dead-letter queue', () => {
  const target = stackTarget();
  const dead: JobStatus = {
    id: 'job-7',
    state: 'dead-lettered',
    type: 'report.build',
    queue: 'events',
    updatedAt: '2026-11-25T02:00:00.000Z',
    reason: 'PermanentError: no template',
    generation: 'gen-1',
  };
  const letter = {
    ...deadLetterMessage(7, { id: 'job-7', type: 'report.build' }),
    Body: JSON.stringify({
      v: 1,
      id: 'job-7',
      source: 'job',
      type: 'report.build',
      receivedAt: '2026-11-25T01:59:00.000Z',
      headers: {},
      contentType: 'application/json',
      body: '{}',
      bodyEncoding: 'utf8',
      generation: 'gen-1',
    }),
  };
  const moveTaskStartedAt = (iso: string) =>
    sqs.on(ListMessageMoveTasksCommand).resolves({
      Results: [{ Status: 'COMPLETED', StartedTimestamp: Date.parse(iso) }],
    });
  const shown = async (job: JobStatus) => {
    const output = recordingOutput();
    renderJobShow(output, await withDeadLetteredJob(testBackend(), target, job, {}));
    return output.lines;
  };

  it('says a full redrive after it was dead-lettered sent it back to its queue, and suggests no redrive', async () => {
    installFakeQueue(sqs, target.queues.events?.deadLetterUrl as string, []);
    moveTaskStartedAt('2026-11-25T02:30:00.000Z');
    const lines = await shown(dead);
    expect(lines).toContain(
      '          not in the events dead-letter queue any more: a redrive of all of it (an SQS move task started at 2026-11-25T02:30:00.000Z, COMPLETED) sent it back to its queue, where it waits to run again',
    );
    expect(lines.some((line) => line.includes('hookline redrive'))).toBe(false);
  });

  it.each([
    [
      { Status: 'RUNNING', ApproximateNumberOfMessagesMoved: 3 },
      'a redrive of all of it (an SQS move task started at 2026-11-25T02:30:00.000Z, still RUNNING) is sending it back to its queue, where it waits to run again',
    ],
    [
      { Status: 'FAILED', FailureReason: 'AccessDenied', ApproximateNumberOfMessagesMoved: 2 },
      'a redrive of all of it (an SQS move task started at 2026-11-25T02:30:00.000Z) moved 2 messages back to its queue before it failed (AccessDenied): most likely this job was one of them and waits to run again there; if it was not, it was purged (hookline purge events --dlq) or expired',
    ],
    [
      { Status: 'CANCELLING', ApproximateNumberOfMessagesMoved: 0 },
      'a redrive of all of it (an SQS move task started at 2026-11-25T02:30:00.000Z, being CANCELLED) may still be sending it back to its queue; run this again once the task has ended to know',
    ],
    [
      { Status: 'CANCELLED', ApproximateNumberOfMessagesMoved: 1 },
      'moved 1 message back to its queue before it was cancelled: most likely this job was one of them',
    ],
    [
      { Status: 'FAILED', FailureReason: 'KmsAccessDenied', ApproximateNumberOfMessagesMoved: 0 },
      "it was purged (hookline purge events --dlq) or expired with the queue's retention, so it does not run again (send it again under a new id: this one stays claimed for its dedupe window), unless a redrive that could not update its record sent it back to its queue; a redrive of all of it (an SQS move task started at 2026-11-25T02:30:00.000Z) failed (KmsAccessDenied) before it moved any message",
    ],
  ])(
    'says what a move task since that is %j did with it, never that a task that moved nothing sent it back',
    async (task, said) => {
      installFakeQueue(sqs, target.queues.events?.deadLetterUrl as string, []);
      sqs.on(ListMessageMoveTasksCommand).resolves({
        Results: [{ ...task, StartedTimestamp: Date.parse('2026-11-25T02:30:00.000Z') }],
      });
      const { note } = await withDeadLetteredJob(testBackend(), target, dead, {});
      expect(note).toContain(said);
      if (task.Status !== 'COMPLETED') expect(note).not.toContain(', FAILED) sent it back');
    },
  );

  it('says it was purged or expired when no redrive since can have moved it', async () => {
    installFakeQueue(sqs, target.queues.events?.deadLetterUrl as string, []);
    moveTaskStartedAt('2026-11-25T01:00:00.000Z');
    expect(await shown(dead)).toContain(
      "          not in the events dead-letter queue any more: it was purged (hookline purge events --dlq) or expired with the queue's retention, so it does not run again (send it again under a new id: this one stays claimed for its dedupe window), unless a redrive that could not update its record sent it back to its queue",
    );
  });

  it('names the purge it may have been with the target flags of the command that shows it', async () => {
    installFakeQueue(sqs, target.queues.events?.deadLetterUrl as string, []);
    moveTaskStartedAt('2026-11-25T01:00:00.000Z');
    const hints = {
      command: (args: string) => hooklineCommandFor({ stack: 'Hookline', region: 'us-east-1' }, args),
    };
    expect((await withDeadLetteredJob(testBackend(), target, dead, hints)).note).toContain(
      'it was purged (hookline purge events --dlq --stack Hookline --region us-east-1) or expired',
    );
  });

  it('reads its dead-letter queue holding what it reads as long as failed show does, and hands every letter back', async () => {
    const dlq = installFakeQueue(sqs, target.queues.events?.deadLetterUrl as string, [letter]);
    await withDeadLetteredJob(testBackend(), target, dead, {});
    // The whole queue is read: a shorter hold could end on a large one before the read did.
    expect(sqs).toReceiveCommandWith(ReceiveMessageCommand, { VisibilityTimeout: 300 });
    expect(sqs).not.toReceiveCommandWith(ReceiveMessageCommand, { VisibilityTimeout: 30 });
    expect([dlq.messages.length, dlq.hidden.size]).toEqual([1, 0]);
  });

  it('ends in the explained error when its dead-letter queue cannot be read', async () => {
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '1' } });
    sqs.on(ReceiveMessageCommand).rejects(awsError('ThrottlingException'));
    await expect(withDeadLetteredJob(testBackend(), target, dead, {})).rejects.toThrow(
      'AWS throttled the request (ThrottlingException) after retries: wait a minute and run it again',
    );
  });

  it('shows it as its record says, with how to redrive it, while it waits there', async () => {
    installFakeQueue(sqs, target.queues.events?.deadLetterUrl as string, [letter]);
    const lines = await shown(dead);
    expect(lines.filter((line) => line.startsWith('          '))).toEqual([]);
    expect(lines.at(-1)).toContain('hookline redrive events --id job-7');
  });
});

describe('jobs show of a job whose last attempt timed out or crashed', () => {
  const target = stackTarget();
  /** Its record: the consumer started attempt 3 of 3, and nothing recorded how it ended. */
  const running: JobStatus = {
    id: 'job-9',
    state: 'processing',
    type: 'report.build',
    queue: 'events',
    attempt: 3,
    generation: 'gen-2',
  };
  /** The job's message as SQS moved it to the queue's dead-letter queue: no `hookline.error.*` attributes. */
  const movedBySqs = (generation: string) => ({
    ...deadLetterMessage(9, { id: 'job-9', type: 'report.build', error: false }),
    MessageId: `sqs-${generation}`,
    ReceiptHandle: `rh-${generation}`,
    Body: JSON.stringify({
      v: 1,
      id: 'job-9',
      source: 'job',
      type: 'report.build',
      receivedAt: '2026-11-25T02:00:00.000Z',
      headers: {},
      contentType: 'application/json',
      body: '{}',
      bodyEncoding: 'utf8',
      generation,
    }),
  });

  it('names the next commands with the target flags it ran with, so following one acts on the same pipeline', async () => {
    installFakeQueue(sqs, target.queues.events?.deadLetterUrl as string, [movedBySqs('gen-2')]);
    const local = {
      command: (args: string) => hooklineCommandFor({ local: true, config: 'dev.config.ts' }, args),
    };
    const [job] = await withDeadLetteredJobs(testBackend(), target, [running], local);
    expect(job?.reason).toContain('(hookline failed show events job-9 --local --config dev.config.ts)');
    const retrying: JobStatus = {
      id: 'job-3',
      state: 'retrying',
      attempt: 1,
      retryAt: '2026-11-25T02:00:00.000Z',
    };
    const [overdue] = await withDeadLetteredJobs(testBackend(), target, [retrying], local);
    expect(overdue?.note).toContain(
      '(hookline status --local --config dev.config.ts shows whether it is paused)',
    );
  });

  it('says it is dead-lettered, with why no reason was recorded and where it waits, not processing forever', async () => {
    const dlq = installFakeQueue(sqs, target.queues.events?.deadLetterUrl as string, [movedBySqs('gen-2')]);
    const [job] = await withDeadLetteredJobs(testBackend(), target, [running], {});
    expect(job).toMatchObject({ id: 'job-9', state: 'dead-lettered', attempt: 3 });
    expect(job?.reason).toBe(
      'no reason recorded: SQS moved it after maxReceiveCount receives (a crash or a timeout): it waits in the events dead-letter queue (hookline failed show events job-9)',
    );
    // Read, not consumed.
    expect(dlq.messages).toHaveLength(1);
    expect(dlq.hidden.size).toBe(0);
  });

  it('is listed under --state dead-lettered, not under processing', async () => {
    installFakeQueue(sqs, target.queues.events?.deadLetterUrl as string, [movedBySqs('gen-2')]);
    dynamodb.on(ScanCommand).resolves({
      Items: [
        {
          pk: { S: 'job#job-9' },
          state: { S: 'processing' },
          type: { S: 'report.build' },
          queue: { S: 'events' },
          attempt: { N: '3' },
          generation: { S: 'gen-2' },
        },
      ],
    });
    const store = { client: new DynamoDBClient({ region: 'us-east-1' }), tableName: 'dedupe' };
    const reconcile = (found: readonly JobStatus[]) => withDeadLetteredJobs(testBackend(), target, found, {});
    const dead = await jobsList(store, { state: 'dead-lettered', limit: 10, reconcile });
    expect(dead.jobs.map((j) => [j.id, j.state])).toEqual([['job-9', 'dead-lettered']]);
    const processing = await jobsList(store, { state: 'processing', limit: 10, reconcile });
    expect(processing.jobs).toEqual([]);
  });

  it('keeps it processing when only an earlier generation of the same id is there', async () => {
    installFakeQueue(sqs, target.queues.events?.deadLetterUrl as string, [movedBySqs('gen-1')]);
    expect(await withDeadLetteredJobs(testBackend(), target, [running], {})).toEqual([running]);
  });

  it("says a processing job is not running once its attempt started longer ago than its queue's visibility timeout", async () => {
    installFakeQueue(sqs, target.queues.events?.deadLetterUrl as string, []);
    sqs
      .on(GetQueueAttributesCommand, { QueueUrl: target.queues.events?.url })
      .resolves({ Attributes: { VisibilityTimeout: '180' } });
    // The test clock reads 03:00:00: one started 180 s before is within the timeout, one a second earlier is not.
    const within = { ...running, id: 'job-8', updatedAt: '2026-11-25T02:57:00.000Z' };
    const past = { ...running, updatedAt: '2026-11-25T02:56:59.000Z' };
    const [kept, stalled] = await withDeadLetteredJobs(testBackend(), target, [within, past], {});
    expect(kept).toEqual(within);
    expect(stalled).toMatchObject({ id: 'job-9', state: 'processing' });
    const output = recordingOutput();
    renderJobShow(output, stalled as JobStatus);
    expect(output.lines[2]).toBe(
      "          no outcome recorded: attempt 3 started at 2026-11-25T02:56:59.000Z, longer ago than the events queue's visibility timeout (180 s), so it is not running: its handler finished and its completion was not written, or its invocation crashed or timed out and it waits in its queue to run again (hookline trace job-9 shows its attempts)",
    );
  });

  it('says a retrying job whose next attempt is overdue waits for its consumer to receive it', async () => {
    const waiting: JobStatus = {
      ...running,
      state: 'retrying',
      attempt: 1,
      lastError: 'Error: smtp down',
      retryAt: '2026-11-25T02:59:59.000Z', // a second before the test clock
    };
    installFakeQueue(sqs, target.queues.events?.deadLetterUrl as string, []);
    const [job, due] = await withDeadLetteredJobs(
      testBackend(),
      target,
      [waiting, { ...waiting, id: 'job-8', retryAt: '2026-11-25T03:00:00.000Z' }],
      {},
    );
    expect(due?.note).toBeUndefined();
    const output = recordingOutput();
    renderJobShow(output, job as JobStatus);
    expect(output.lines[2]).toBe(
      '           waiting to retry: attempt 1 failed (Error: smtp down); next attempt due since 2026-11-25T02:59:59.000Z and not started yet: it waits for its consumer to receive it (hookline status shows whether it is paused)',
    );
  });

  it('reads no dead-letter queue when no job is processing', async () => {
    const done: JobStatus = { ...running, state: 'completed' };
    expect(await withDeadLetteredJobs(testBackend(), target, [done], {})).toEqual([done]);
    expect(sqs.calls()).toHaveLength(0);
  });
});

describe('jobs show of a flow parent whose untold child was deleted from its dead-letter queue', () => {
  /** The records of parent `flow-p`, every child of which completed, and of its children. */
  const records: Record<string, Record<string, { S?: string; SS?: string[] }>> = {
    'job#flow-p': {
      pk: { S: 'job#flow-p' },
      state: { S: 'waiting-children' },
      queue: { S: 'reports' },
      childIds: { SS: ['flow-c1', 'flow-c2'] },
      childrenDone: { SS: ['flow-c1', 'flow-c2'] },
    },
    'job#flow-c1': {
      pk: { S: 'job#flow-c1' },
      state: { S: 'completed' },
      queue: { S: 'events' },
      parent: { S: 'flow-p' },
      discardedAt: { S: '2026-11-25T03:00:00.000Z' },
    },
    'job#flow-c2': {
      pk: { S: 'job#flow-c2' },
      state: { S: 'completed' },
      queue: { S: 'orders' },
      parent: { S: 'flow-p' },
    },
  };

  it("names the failed list of the other children's queues only, not the one whose dead letter was deleted", async () => {
    dynamodb.on(GetItemCommand).callsFake((input: { Key: { pk: { S: string } } }) => ({
      Item: records[input.Key.pk.S],
    }));
    const store = { client: new DynamoDBClient({ region: 'us-east-1' }), tableName: 'dedupe' };
    const { note } = await jobsShow(store, 'flow-p', {});
    expect(note).toContain(
      'the dead letter of child flow-c1 that would send it (FlowParentError) was deleted by an operator at 2026-11-25T03:00:00.000Z (hookline failed delete): only another of its children coming back sends it now, such as the redrive of its dead letter with FlowParentError (hookline failed list orders); with none left, this job can never be sent',
    );
    expect(note).not.toContain('failed list events');
  });
});

describe('jobs show of a completed flow child', () => {
  it('says its parent may not know only when an operator deleted its dead letter', () => {
    const child: JobStatus = { id: 'part-1', state: 'completed', queue: 'jobs', parent: 'report-1' };
    expect(jobStateNote(child, {})).toBeUndefined();
    expect(jobStateNote({ ...child, discardedAt: '2026-11-25T03:00:00.000Z' }, {})).toMatch(
      /^completed, but its flow parent report-1 may not know, or was not sent: .* deleted by an operator at 2026-11-25T03:00:00\.000Z/,
    );
  });
});
