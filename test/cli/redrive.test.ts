import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  type ListMessageMoveTasksResult,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SendMessageBatchCommandInput,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { sanitizeId } from '../../lambda/shared/safe-ids';
import { BackendError, CliError } from '../../lib/cli/errors';
import { failureKey } from '../../lib/cli/failure-groups';
import { hooklineCommandFor } from '../../lib/cli/output';
import { runCli } from '../../lib/cli/program';
import { attributesToKeep, type RedriveResult, redrive, redriveMarker } from '../../lib/cli/redrive';
import { renderRedrive } from '../../lib/cli/render';
import {
  HEARTBEAT,
  schedulerDeadLetterTarget,
  sqsUrl,
  undeliveredHeartbeat,
} from '../console/scheduler-dead-letter-fixtures';
import {
  batchRequestTooLong,
  emptyBatch,
  type FakeQueue,
  installFakeQueue,
  sqsBatchBytes,
} from './fake-queue';
import {
  awsError,
  cliHarness,
  deadLetterMessage,
  EVENTS,
  fakeClock,
  ORDERS,
  recordingOutput,
  stackTarget,
  testBackend,
} from './helpers';

const sqs = mockClient(SQSClient);

beforeEach(() => {
  sqs.reset();
});

interface SentEntry {
  Id: string;
  MessageBody: string;
  MessageAttributes: Record<string, { StringValue?: string }>;
  MessageGroupId?: string;
  MessageDeduplicationId?: string;
}
function sentEntries(): SentEntry[] {
  return sqs.commandCalls(SendMessageBatchCommand).flatMap((c) => c.args[0].input.Entries as SentEntry[]);
}
/** `count` dead-lettered envelopes, numbered from 0. */
function deadLetters(count: number) {
  return Array.from({ length: count }, (_, i) => deadLetterMessage(i));
}

/** The source queue accepts every entry (and refuses a batch without entries, as SQS does). */
function acceptAllSends() {
  sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => {
    if (input.Entries.length === 0) throw emptyBatch();
    return {
      Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: `new-${e.Id}`, MD5OfMessageBody: '' })),
      Failed: [],
    };
  });
}

/** The orders FIFO DLQ holding evt-1, evt-2, ... in the message groups named in order ('AAB': evt-1 and evt-2 in A). */
function ordersFifoDlq(groups: string, options: { headsOnly?: boolean } = {}): FakeQueue {
  const messages = [...groups].map((group, i) => deadLetterMessage(i + 1, { group }));
  return installFakeQueue(sqs, ORDERS.deadLetterUrl, messages, { fifo: true, ...options });
}

/** SQS counts (approximately) `visible` and `delayed` messages in the DLQ at `url`, or in every queue without one. */
function depthCounted(visible: number, { url, delayed = 0 }: { url?: string; delayed?: number } = {}) {
  const counts = {
    Attributes: {
      ApproximateNumberOfMessages: String(visible),
      ApproximateNumberOfMessagesNotVisible: '0',
      ApproximateNumberOfMessagesDelayed: String(delayed),
    },
  };
  if (url) sqs.on(GetQueueAttributesCommand, { QueueUrl: url }).resolves(counts);
  else sqs.on(GetQueueAttributesCommand).resolves(counts);
}

/** A move task that starts (handle `t`), is not listed yet at the first look, and is listed as `listed` from then on. */
function moveTaskListedAfterStart(listed: ListMessageMoveTasksResult): void {
  sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 't' });
  sqs.on(ListMessageMoveTasksCommand).resolvesOnce({ Results: [] }).resolves(listed);
}

describe('redrive with the SQS move task', () => {
  it('starts a move task from the DLQ to the source at the given rate and follows its progress', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(3));
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'task-1' });
    sqs
      .on(ListMessageMoveTasksCommand)
      .resolvesOnce({ Results: [{ Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 7 }] }) // an old task
      .resolvesOnce({
        Results: [
          { Status: 'RUNNING', ApproximateNumberOfMessagesMoved: 0, ApproximateNumberOfMessagesToMove: 3 },
        ],
      })
      .resolvesOnce({
        Results: [
          { Status: 'RUNNING', ApproximateNumberOfMessagesMoved: 2, ApproximateNumberOfMessagesToMove: 3 },
        ],
      })
      .resolves({
        Results: [
          { Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 3, ApproximateNumberOfMessagesToMove: 3 },
        ],
      });
    const backend = testBackend();

    const result = await redrive(backend, stackTarget(), { env: {}, queue: 'events', rate: 50 });

    expect(sqs).toReceiveCommandWith(StartMessageMoveTaskCommand, {
      SourceArn: EVENTS.deadLetterArn,
      DestinationArn: EVENTS.arn,
      MaxNumberOfMessagesPerSecond: 50,
    });
    expect(result).toMatchObject({
      method: 'move-task',
      moved: 3,
      failed: 0,
      task: { handle: 'task-1', status: 'COMPLETED' },
    });
    expect(backend.output.progressUpdates.map(([, done]) => done)).toEqual([0, 2, 3]);
    expect(backend.clock.sleeps).toEqual([2000, 2000]);
    expect(sqs).not.toReceiveCommand(SendMessageBatchCommand);
  });

  it('follows a move task that is already running instead of starting a second one', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [deadLetterMessage(1)]);
    sqs
      .on(ListMessageMoveTasksCommand)
      .resolvesOnce({
        Results: [{ Status: 'RUNNING', TaskHandle: 'running', ApproximateNumberOfMessagesMoved: 5 }],
      })
      .resolves({
        Results: [
          {
            Status: 'COMPLETED',
            TaskHandle: 'running',
            ApproximateNumberOfMessagesMoved: 9,
            ApproximateNumberOfMessagesToMove: 9,
          },
        ],
      });
    const backend = testBackend();

    const result = await redrive(backend, stackTarget(), { env: {}, queue: 'events' });

    expect(sqs).not.toReceiveCommand(StartMessageMoveTaskCommand);
    expect(result.task?.handle).toBe('running');
    expect(backend.output.notes.join()).toMatch(/already running/);
  });

  it.each([['UnsupportedOperation'], ['InvalidParameterValue']])(
    'follows the move task another redrive started between its look and its start (%s), never moving one by one beside it',
    async (code) => {
      installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(3));
      const refusal =
        'There is already a task running. Only one active task is allowed for a source queue arn at a given time.';
      sqs.on(StartMessageMoveTaskCommand).rejects(awsError(code, refusal));
      sqs
        .on(ListMessageMoveTasksCommand)
        .resolvesOnce({ Results: [] })
        .resolvesOnce({ Results: [{ Status: 'RUNNING', TaskHandle: 'theirs' }] })
        .resolves({
          Results: [
            {
              Status: 'COMPLETED',
              ApproximateNumberOfMessagesMoved: 3,
              ApproximateNumberOfMessagesToMove: 3,
            },
          ],
        });
      const backend = testBackend();

      const result = await redrive(backend, stackTarget(), { env: {}, queue: 'events' });

      expect(result).toMatchObject({
        method: 'move-task',
        moved: 3,
        task: { handle: 'theirs', followed: true },
      });
      expect(sqs).not.toReceiveCommand(SendMessageBatchCommand);
      expect(backend.output.notes.join()).toMatch(/another redrive started/);
    },
  );

  it('says in one line that another move task was running when SQS refuses the start and that task has ended since', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(3));
    sqs
      .on(StartMessageMoveTaskCommand)
      .rejects(
        awsError(
          'InvalidParameterValue',
          'There is already a task running. Only one active task is allowed.',
        ),
      );
    sqs.on(ListMessageMoveTasksCommand).resolves({ Results: [{ Status: 'COMPLETED' }] });

    const attempt = redrive(testBackend(), stackTarget(), { env: {}, queue: 'events' });

    await expect(attempt).rejects.toBeInstanceOf(CliError);
    await expect(attempt).rejects.toThrow(/another one was running .*run hookline redrive events again/);
  });

  it('reports a failed move task with its reason and the messages left behind', async () => {
    // 10 when the command looked, 12 by the time the task started: the task's own count is what it left.
    installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(10));
    moveTaskListedAfterStart({
      Results: [
        {
          Status: 'FAILED',
          ApproximateNumberOfMessagesMoved: 4,
          ApproximateNumberOfMessagesToMove: 12,
          FailureReason: 'AccessDenied',
        },
      ],
    });
    const backend = testBackend();
    const result = await redrive(backend, stackTarget(), { env: {}, queue: 'events' });
    expect(result).toMatchObject({
      moved: 4,
      failed: 8,
      task: { status: 'FAILED', failureReason: 'AccessDenied' },
    });
    expect(result.failures).toEqual([
      { messageId: '', id: null, reason: expect.stringMatching(/^AccessDenied: the AWS identity/) },
    ]);
    expect(backend.output.progressUpdates).toEqual([['moved to events', 4, 12]]);
  });

  describe('a move task SQS failed tells why, what to grant or do, and how to redrive what is left', () => {
    const again = 'then run hookline redrive events again for what is left';
    it.each([
      [
        'AccessDenied',
        `AccessDenied: the AWS identity that started the task may not do all it does: grant it sqs:ReceiveMessage, sqs:DeleteMessage and sqs:GetQueueAttributes on the events dead-letter queue and sqs:SendMessage on the events queue (and, for a queue encrypted with a KMS key, kms:Decrypt on both queues' keys and kms:GenerateDataKey on the events queue's); a queue policy that admits only a VPC must also admit the calls SQS makes for the task (aws:CalledViaLast sqs.amazonaws.com); ${again}`,
      ],
      [
        'KMS.AccessDeniedException',
        `KMS.AccessDeniedException: KMS refused a key the task needs: the AWS identity that started it needs kms:Decrypt on the keys of the events dead-letter queue and of the events queue (whose messages it holds), and kms:GenerateDataKey on the events queue's key: grant them in the key policies or its IAM policy, ${again}`,
      ],
      [
        'KmsDisabled',
        `KmsDisabled: the KMS key of the events dead-letter queue or of the events queue is disabled: enable it (aws kms enable-key); ${again}`,
      ],
      [
        'KMS.InvalidStateException',
        `KMS.InvalidStateException: the KMS key of the events dead-letter queue or of the events queue is in a state that cannot be used (pending deletion, or without its imported key material): cancel its deletion with aws kms cancel-key-deletion and enable it, or import its key material again; ${again}`,
      ],
      [
        'KmsThrottled',
        `KmsThrottled: SQS or KMS throttled the task: wait a minute, ${again}, with a lower --rate`,
      ],
      [
        'AWS.SimpleQueueService.NonExistentQueue',
        `AWS.SimpleQueueService.NonExistentQueue: the events dead-letter queue or the events queue does not exist any more: it was deleted outside stack Hookline in us-east-1: redeploy with npx cdk deploy, ${again}`,
      ],
      [
        'CouldNotDetermineMessageSource',
        "CouldNotDetermineMessageSource: the task was started without a destination (the AWS console's redrive to the source queues), and SQS cannot tell where messages it did not dead-letter itself came from, as the events consumer's own dead letters: hookline redrive events names the events queue as the destination; run it again for what is left",
      ],
      [
        'AccessDenied: User: arn:aws:iam::123456789012:user/ops is not authorized to perform: sqs:SendMessage with an explicit deny in an identity-based policy',
        `AccessDenied: User: arn:aws:iam::123456789012:user/ops is not authorized to perform: sqs:SendMessage with an explicit deny in an identity-based policy: a policy explicitly denies the AWS identity that started the task something it does (a deny wins over any grant): ask the owner of that policy to lift the deny, ${again}`,
      ],
      [
        'AccessDenied: not authorized to perform kms:Decrypt',
        `AccessDenied: not authorized to perform kms:Decrypt: KMS refused a key the task needs: the AWS identity that started it needs kms:Decrypt on the keys of the events dead-letter queue and of the events queue (whose messages it holds), and kms:GenerateDataKey on the events queue's key: grant them in the key policies or its IAM policy, ${again}`,
      ],
      [
        'NonExistentQueue',
        `NonExistentQueue: the events dead-letter queue or the events queue does not exist any more: it was deleted outside stack Hookline in us-east-1: redeploy with npx cdk deploy, ${again}`,
      ],
      [
        'KMS.SomethingElse: the key could not be used',
        `KMS.SomethingElse: the key could not be used: KMS failed the task: check the keys of the events dead-letter queue and of the events queue in the KMS console (enabled, not pending deletion, and usable by the AWS identity that started the task), ${again}`,
      ],
      [
        'SomethingNew',
        `SomethingNew: a reason hookline does not explain: AWS's guide to dead-letter queue redrive issues lists the permissions a task needs, and aws sqs list-message-move-tasks --source-arn ${EVENTS.deadLetterArn} shows the task; ${again}`,
      ],
    ])('%s', async (reason, line) => {
      installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(10));
      moveTaskListedAfterStart({
        Results: [
          {
            Status: 'FAILED',
            ApproximateNumberOfMessagesMoved: 4,
            ApproximateNumberOfMessagesToMove: 10,
            FailureReason: reason,
          },
        ],
      });
      const h = cliHarness();

      const code = await runCli(['redrive', 'events'], h.deps);

      expect(h.stdout()).toContain(`\n  move task: ${line}\n`);
      expect(h.stdout() + h.stderr()).not.toMatch(/unexpected error/);
      expect(code).toBe(1);
    });

    it('keeps SQS reason verbatim in --json, beside the explanation', async () => {
      installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(2));
      moveTaskListedAfterStart({ Results: [{ Status: 'FAILED', FailureReason: 'KmsAccessDenied' }] });
      const h = cliHarness();

      await runCli(['redrive', 'events', '--json'], h.deps);

      const result = JSON.parse(h.stdout()) as RedriveResult;
      expect(result.task).toMatchObject({ status: 'FAILED', failureReason: 'KmsAccessDenied' });
      expect(result.failures).toEqual([
        { messageId: '', id: null, reason: expect.stringMatching(/^KmsAccessDenied: KMS refused a key/) },
      ]);
    });
  });

  it('falls back to one-by-one when the endpoint has no move tasks (fauxqs answers InvalidAction), saying why once', async () => {
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, [deadLetterMessage(1), deadLetterMessage(2)]);
    sqs
      .on(ListMessageMoveTasksCommand)
      .rejects(awsError('InvalidAction', 'Unknown action: ListMessageMoveTasks'));
    acceptAllSends();
    const backend = testBackend();

    const result = await redrive(backend, stackTarget(), { env: {}, queue: 'events' });

    expect(result).toMatchObject({ method: 'one-by-one', moved: 2, failed: 0, skipped: 0 });
    expect(result.fallbackReason).toMatch(/StartMessageMoveTask is not available/);
    // The summary says it (from fallbackReason): a note on stderr as well would say it twice.
    expect(backend.output.notes.join()).not.toMatch(/one by one/);
    const output = recordingOutput();
    renderRedrive(output, result);
    expect(output.lines[0]).toMatch(/^redrive events: one by one \(StartMessageMoveTask is not available/);
    expect(dlq.messages).toHaveLength(0);
    expect(result.movedIds).toEqual(['evt-1', 'evt-2']);
  });

  it('says a dead letter that reached the DLQ after the run read it empty arrived then, rather than only counting it as left', async () => {
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, [deadLetterMessage(1)]);
    sqs
      .on(ListMessageMoveTasksCommand)
      .rejects(awsError('InvalidAction', 'Unknown action: ListMessageMoveTasks'));
    acceptAllSends();
    // The consumer fails the moved message at once, and SQS dead-letters it again after the run's last (empty)
    // receive, before the run counts what is left: as a letter that fails for good does in local mode.
    const receives = sqs.commandCalls(ReceiveMessageCommand);
    sqs.on(GetQueueAttributesCommand, { QueueUrl: EVENTS.deadLetterUrl }).callsFake(() => {
      const ended =
        sqs.commandCalls(ReceiveMessageCommand).length > receives.length && dlq.deleted.length > 0;
      if (ended && dlq.messages.length === 0)
        dlq.messages.push({ ...deadLetterMessage(1), MessageId: 'again', ReceiptHandle: 'rh-again' });
      const hidden = dlq.messages.filter((m) => dlq.hidden.has(m.ReceiptHandle ?? '')).length;
      return {
        Attributes: {
          ApproximateNumberOfMessages: String(dlq.messages.length - hidden),
          ApproximateNumberOfMessagesNotVisible: String(hidden),
          ApproximateNumberOfMessagesDelayed: '0',
        },
      };
    });

    const result = await redrive(testBackend(), stackTarget(), { env: {}, queue: 'events' });

    expect(result).toMatchObject({
      moved: 1,
      returned: 0,
      deadLetterDepthAfter: 1,
      deadLetteredAfterTheRun: 1,
    });
    const output = recordingOutput();
    renderRedrive(output, result);
    expect(output.lines.slice(1)).toEqual([
      'moved 1, skipped 0, failed 0',
      'left in the dead-letter queue: 1 (hookline failed list events)',
      "it reached the dead-letter queue after this run's last read found it empty: a message this run moved (evt-1) that failed again, or another failure",
    ]);
  });

  it('counts nothing as arriving after the run when what is left is what it left', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [deadLetterMessage(1), deadLetterMessage(2)]);
    sqs
      .on(ListMessageMoveTasksCommand)
      .rejects(awsError('InvalidAction', 'Unknown action: ListMessageMoveTasks'));
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
      Successful: input.Entries.slice(1).map((e) => ({
        Id: e.Id,
        MessageId: `new-${e.Id}`,
        MD5OfMessageBody: '',
      })),
      Failed: input.Entries.slice(0, 1).map((e) => ({ Id: e.Id, Code: 'InternalError', SenderFault: false })),
    }));

    const result = await redrive(testBackend(), stackTarget(), { env: {}, queue: 'events' });

    expect(result).toMatchObject({ moved: 1, failed: 1, deadLetterDepthAfter: 1 });
    expect(result.deadLetteredAfterTheRun).toBeUndefined();
  });

  it('turns throttling into one line with the fix', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [deadLetterMessage(1)]);
    sqs.on(ListMessageMoveTasksCommand).resolves({ Results: [] });
    sqs.on(StartMessageMoveTaskCommand).rejects(awsError('RequestThrottled', 'Rate exceeded'));
    await expect(redrive(testBackend(), stackTarget(), { env: {}, queue: 'events' })).rejects.toThrow(
      new BackendError(
        'AWS throttled the request (RequestThrottled) after retries: wait a minute and run it again, or lower --rate',
      ),
    );
  });

  it('counts nothing as failed when a task completes, though its approximate counts lag', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(3));
    moveTaskListedAfterStart({
      Results: [
        { Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 2, ApproximateNumberOfMessagesToMove: 3 },
      ],
    });
    const result = await redrive(testBackend(), stackTarget(), { env: {}, queue: 'events' });
    expect(result).toEqual({
      queue: 'events',
      method: 'move-task',
      deadLetterDepthBefore: 3,
      deadLetterDepthAfter: 3,
      moved: 2,
      skipped: 0,
      failed: 0,
      notDeleted: 0,
      deleteUnknown: 0,
      returned: 0,
      movedByAnotherRedrive: 0,
      bodyGone: [],
      superseded: [],
      failures: [],
      movedIds: [],
      task: { handle: 't', status: 'COMPLETED' },
      notFound: [],
    });
    for (const call of sqs.commandCalls(ListMessageMoveTasksCommand)) {
      expect(call.args[0].input).toEqual({ SourceArn: EVENTS.deadLetterArn, MaxResults: 1 });
    }
  });

  it('takes a rate of exactly 500, the most a move task accepts', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(1));
    moveTaskListedAfterStart({ Results: [{ Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 1 }] });
    await redrive(testBackend(), stackTarget(), { env: {}, queue: 'events', rate: 500 });
    expect(sqs).toReceiveCommandWith(StartMessageMoveTaskCommand, { MaxNumberOfMessagesPerSecond: 500 });
  });

  it('does nothing on an empty dead-letter queue and says so, starting no move task', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, []);
    const result = await redrive(testBackend(), stackTarget(), { env: {}, queue: 'events' });
    expect(result).toEqual({
      queue: 'events',
      method: 'none',
      deadLetterDepthBefore: 0,
      deadLetterDepthAfter: 0,
      moved: 0,
      skipped: 0,
      failed: 0,
      notDeleted: 0,
      deleteUnknown: 0,
      returned: 0,
      movedByAnotherRedrive: 0,
      bodyGone: [],
      superseded: [],
      failures: [],
      movedIds: [],
      notFound: [],
    });
    expect(sqs).not.toReceiveCommand(StartMessageMoveTaskCommand);
    expect(sqs).not.toReceiveCommand(ListMessageMoveTasksCommand);
  });

  it('reports a move task it can no longer see as UNKNOWN, counting what was in the DLQ as not moved', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(3));
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 't' });
    sqs.on(ListMessageMoveTasksCommand).resolves({ Results: [] });
    const result = await redrive(testBackend(), stackTarget(), { env: {}, queue: 'events' });
    expect(result).toMatchObject({ method: 'move-task', moved: 0, failed: 3, task: { status: 'UNKNOWN' } });
  });

  it('ends following a move task someone cancelled, counting what it did not move as failed', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(10));
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 't' });
    sqs
      .on(ListMessageMoveTasksCommand)
      .resolvesOnce({ Results: [] })
      .resolvesOnce({
        Results: [
          { Status: 'CANCELLED', ApproximateNumberOfMessagesMoved: 3, ApproximateNumberOfMessagesToMove: 10 },
        ],
      })
      .resolves({
        Results: [
          {
            Status: 'COMPLETED',
            ApproximateNumberOfMessagesMoved: 10,
            ApproximateNumberOfMessagesToMove: 10,
          },
        ],
      });
    const result = await redrive(testBackend(), stackTarget(), { env: {}, queue: 'events' });
    expect(result).toMatchObject({ moved: 3, failed: 7, task: { status: 'CANCELLED' } });
  });

  it('Ctrl-C while following a move task stops only the following: nothing is counted as failed', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(10));
    moveTaskListedAfterStart({
      Results: [
        { Status: 'RUNNING', ApproximateNumberOfMessagesMoved: 2, ApproximateNumberOfMessagesToMove: 10 },
      ],
    });
    const interrupt = new AbortController();
    const clock = fakeClock();
    const backend = testBackend({
      clock: {
        now: clock.now,
        async sleep(ms) {
          interrupt.abort();
          await clock.sleep(ms);
        },
      },
    });

    const result = await redrive(backend, stackTarget(), {
      env: {},
      queue: 'events',
      signal: interrupt.signal,
    });

    expect(result).toMatchObject({
      moved: 2,
      failed: 0,
      task: { status: 'RUNNING' },
      stoppedBy: 'Interrupted: stopped following the move task by Ctrl-C',
    });
    expect(sqs.commandCalls(ListMessageMoveTasksCommand)).toHaveLength(3);
  });

  it('refuses a move-task rate SQS does not accept', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, []);
    await expect(
      redrive(testBackend(), stackTarget(), { env: {}, queue: 'events', rate: 501 }),
    ).rejects.toThrow(/1 to 500/);
  });
});

/**
 * A consumer that still fails: every redriven message is back in the DLQ at once as a new message, with the
 * attributes it was sent with and a reason, as the consumer's dead-letter path sends it.
 */
function consumerDeadLettersEverySend(dlq: FakeQueue) {
  let copies = 0;
  sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: SentEntry[] }) => {
    for (const e of input.Entries) {
      copies++;
      dlq.messages.push({
        MessageId: `again-${copies}`,
        ReceiptHandle: `rh-again-${copies}`,
        Body: e.MessageBody,
        Attributes: {},
        MessageAttributes: {
          ...(e.MessageAttributes as Record<string, MessageAttributeValue>),
          'hookline.error.name': { DataType: 'String', StringValue: 'Error' },
        },
      });
    }
    return {
      Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: `new-${e.Id}`, MD5OfMessageBody: '' })),
    };
  });
}

/**
 * Event evt-1 three times, its copies a batch (10 messages) after the original: the original, 11 other events,
 * a replay of evt-1 (same envelope id, plus `replay`), and an identical copy.
 */
function eventOneCopiesInLaterBatches(): Message[] {
  const original = deadLetterMessage(1);
  const replayed = JSON.parse(original.Body ?? '{}');
  replayed.replay = { id: 'replay-run-1', at: '2026-11-25T04:00:00.000Z' };
  return [
    original,
    ...Array.from({ length: 11 }, (_, i) => deadLetterMessage(i + 2)),
    { ...original, MessageId: 'sqs-1-replay', ReceiptHandle: 'rh-1-replay', Body: JSON.stringify(replayed) },
    { ...original, MessageId: 'sqs-1-copy', ReceiptHandle: 'rh-1-copy' },
  ];
}

describe('redrive one by one', () => {
  it('moves large dead letters in sends SQS takes whole: ten received together do not fit its 1 MiB batch size', async () => {
    const large = (n: number) => {
      const letter = deadLetterMessage(n);
      const envelope = JSON.parse(letter.Body ?? '{}') as { body: string };
      return {
        ...letter,
        Body: JSON.stringify({ ...envelope, body: JSON.stringify({ n, blob: 'x'.repeat(400_000) }) }),
      };
    };
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, [large(0), large(1), large(2)]);
    sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => {
      if (sqsBatchBytes(input) > 1_048_576) throw batchRequestTooLong();
      return {
        Successful: (input.Entries ?? []).map((e) => ({
          Id: e.Id,
          MessageId: `new-${e.Id}`,
          MD5OfMessageBody: '',
        })),
        Failed: [],
      };
    });

    const result = await redrive(testBackend(), stackTarget(), {
      env: {},
      queue: 'events',
      type: 'invoice.*',
    });

    expect(result).toMatchObject({ method: 'one-by-one', moved: 3, failed: 0 });
    expect(result.stoppedBy).toBeUndefined();
    expect(sentEntries().map((e) => JSON.parse(e.MessageBody).id)).toEqual(['evt-0', 'evt-1', 'evt-2']);
    expect(dlq.messages).toHaveLength(0);
  });

  it('moves only the selected ids, preserving body and attributes minus the failure reason, and leaves the rest visible', async () => {
    const messages = deadLetters(25);
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, messages);
    acceptAllSends();

    const result = await redrive(testBackend(), stackTarget(), {
      env: {},
      queue: 'events',
      ids: ['evt-3', 'sqs-17', 'evt-missing'],
    });

    expect(result).toMatchObject({ method: 'one-by-one', moved: 2, failed: 0, notFound: ['evt-missing'] });
    const sent = sentEntries();
    expect(sent.map((e) => JSON.parse(e.MessageBody).id)).toEqual(['evt-3', 'evt-17']);
    expect(sent[0]?.MessageBody).toBe(messages[3]?.Body);
    expect(Object.keys(sent[0]?.MessageAttributes ?? {}).sort()).toEqual([
      'hookline.id',
      'hookline.redrive',
      'hookline.source',
      'hookline.type',
    ]);
    const marks = sent.map((e) => e.MessageAttributes['hookline.redrive']?.StringValue);
    expect(new Set(marks).size).toBe(1);
    expect(marks[0]).toBeTruthy();
    expect(sent[0]?.MessageAttributes['hookline.redrive']).toEqual({
      DataType: 'String',
      StringValue: marks[0],
    });
    expect(sent[0]?.MessageGroupId).toBeUndefined();
    expect(sqs).toReceiveCommandWith(SendMessageBatchCommand, { QueueUrl: EVENTS.url });
    expect(dlq.deleted.sort()).toEqual(['rh-17', 'rh-3']);
    expect(dlq.messages).toHaveLength(23);
    expect(dlq.hidden.size).toBe(0);
  });

  it('leaves a dead letter whose stored body is gone, counted apart with the fix, and moves the rest', async () => {
    const gone = deadLetterMessage(2);
    const attributes = gone.MessageAttributes ?? {};
    attributes['hookline.error.name'] = { DataType: 'String', StringValue: 'PayloadGoneError' };
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, [deadLetterMessage(1), gone]);
    acceptAllSends();
    const result = await redrive(testBackend(), stackTarget(), {
      env: {},
      queue: 'events',
      type: 'invoice.*',
    });
    expect(result).toMatchObject({ moved: 1, skipped: 0, failed: 0, returned: 0, bodyGone: ['evt-2'] });
    expect(dlq.messages.map((m) => m.MessageId)).toEqual(['sqs-2']);
    const output = recordingOutput();
    renderRedrive(output, result);
    expect(output.lines).toContain(
      '1 dead letter left, not moved: its stored body is gone from the payload bucket (PayloadGoneError), so a redrive cannot succeed; send the event again from its source, or delete it: hookline failed delete events --id evt-2',
    );
    expect(output.lines.join('\n')).not.toContain('fix the consumer');

    // Selected alone, it is reported left, not as a selection that matched nothing.
    const alone = await redrive(testBackend(), stackTarget(), { env: {}, queue: 'events', ids: ['evt-2'] });
    expect(alone).toMatchObject({ moved: 0, failed: 0, bodyGone: ['evt-2'], notFound: [] });
  });

  it('selects a dead letter by the delivery id its sender gave, when the ingest stored it hashed, and reports that id', async () => {
    const given = '注文 #1';
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, [
      deadLetterMessage(1, { id: sanitizeId(given) }),
      deadLetterMessage(2),
    ]);
    acceptAllSends();
    const result = await redrive(testBackend(), stackTarget(), {
      env: {},
      queue: 'events',
      ids: [given, 'evt-missing'],
    });
    expect(result).toMatchObject({ moved: 1, movedIds: [sanitizeId(given)], notFound: ['evt-missing'] });
    expect(dlq.messages.map((m) => m.MessageId)).toEqual(['sqs-2']);
  });

  it('moves envelopes whose type matches the pattern, in the same dialect as routes (* is one segment)', async () => {
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, [
      deadLetterMessage(1, { type: 'invoice.paid' }),
      deadLetterMessage(2, { type: 'customer.created' }),
      deadLetterMessage(3, { type: 'invoice.payment_failed' }),
      deadLetterMessage(4, { body: 'not json' }),
      deadLetterMessage(5, { type: 'invoice.payment.failed' }),
    ]);
    acceptAllSends();
    const result = await redrive(testBackend(), stackTarget(), {
      env: {},
      queue: 'events',
      type: 'invoice.*',
    });
    expect(result).toMatchObject({ moved: 2, skipped: 3, failed: 0 });
    expect(result.movedIds).toEqual(['evt-1', 'evt-3']);
    expect(dlq.messages.map((m) => m.MessageId)).toEqual(['sqs-2', 'sqs-4', 'sqs-5']);
    expect(dlq.hidden.size).toBe(0);

    const deeper = await redrive(testBackend(), stackTarget(), {
      env: {},
      queue: 'events',
      type: 'invoice.**',
    });
    expect(deeper.movedIds).toEqual(['evt-5']);
  });

  it('--failure moves the dead letters of that failure only, by the key failed summary prints, and with --type only those of both', async () => {
    /** A dead letter of `events` whose consumer recorded `message` as a `PermanentError`. */
    const failedWith = (n: number, message: string, type = 'invoice.paid') =>
      deadLetterMessage(n, { type, failure: { message } });
    const messages = [
      failedWith(1, 'customer cus_1 not found'),
      failedWith(2, 'card declined'),
      failedWith(3, 'customer cus_3 not found', 'customer.updated'),
      failedWith(4, 'customer cus_4 not found'),
      deadLetterMessage(5, { error: false }),
    ];
    const missingCustomer = failureKey('PermanentError: customer <id> not found');
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, messages);
    acceptAllSends();

    const both = await redrive(testBackend(), stackTarget(), {
      env: {},
      queue: 'events',
      failure: missingCustomer,
      type: 'invoice.*',
    });
    expect(both.movedIds).toEqual(['evt-1', 'evt-4']);
    // Upper case, as a key copied from elsewhere may be: the same failure.
    const rest = await redrive(testBackend(), stackTarget(), {
      env: {},
      queue: 'events',
      failure: missingCustomer.toUpperCase(),
    });
    expect(rest.movedIds).toEqual(['evt-3']);
    expect(dlq.messages.map((m) => m.MessageId)).toEqual(['sqs-2', 'sqs-5']);
    // A message SQS moved (no reason recorded) is a failure of its own, as failed summary groups it.
    const noReason = failureKey(
      'no reason recorded: SQS moved it after maxReceiveCount receives (a crash or a timeout)',
    );
    const moved = await redrive(testBackend(), stackTarget(), {
      env: {},
      queue: 'events',
      failure: noReason,
    });
    expect(moved.movedIds).toEqual(['evt-5']);
    expect(dlq.messages.map((m) => m.MessageId)).toEqual(['sqs-2']);
    expect(dlq.hidden.size).toBe(0);
  });

  it('refuses a --failure that is not a key, naming failed summary with the target flags, and one that matches nothing', async () => {
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, [deadLetterMessage(1)]);
    acceptAllSends();
    const output = {
      ...recordingOutput(),
      command: (args: string) => hooklineCommandFor({ local: true }, args),
    };
    for (const failure of ['', 'PermanentError', '0a78ca1', '0a78ca1cz']) {
      await expect(
        redrive(testBackend({ output }), stackTarget(), { env: {}, queue: 'events', failure }),
      ).rejects.toThrow(
        `--failure ${JSON.stringify(failure)} is not a failure key: give the KEY column of hookline failed summary events --local (8 hex digits, such as 0a78ca1c), or leave --failure out`,
      );
    }
    // A key that matches nothing is of a failure no longer there: the summary, not the list, shows the keys.
    await expect(
      redrive(testBackend({ output }), stackTarget(), { env: {}, queue: 'events', failure: 'ffffffff' }),
    ).rejects.toThrow(
      'no message in the events dead-letter queue matches --failure ffffffff: nothing was moved; list them with hookline failed summary events --local',
    );
    expect(sentEntries()).toEqual([]);
    expect(dlq.messages).toHaveLength(1);
    expect(sqs.commandCalls(StartMessageMoveTaskCommand)).toHaveLength(0);
  });

  it("sends a fair queue's messages back in their tenants' groups, the one SQS kept or else the tenant attribute, and a message without either in none", async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [
      deadLetterMessage(1, { group: 'acct_noisy', tenant: 'acct_noisy' }),
      deadLetterMessage(2, { tenant: 'acct_quiet' }),
      deadLetterMessage(3),
    ]);
    acceptAllSends();
    const result = await redrive(testBackend(), stackTarget(), {
      env: {},
      queue: 'events',
      type: 'invoice.*',
    });
    expect(result).toMatchObject({ moved: 3, failed: 0 });
    const groups = Object.fromEntries(
      sentEntries().map((e) => [JSON.parse(e.MessageBody).id, e.MessageGroupId ?? 'none']),
    );
    expect(groups).toEqual({ 'evt-1': 'acct_noisy', 'evt-2': 'acct_quiet', 'evt-3': 'none' });
    expect(sentEntries().every((e) => e.MessageDeduplicationId === undefined)).toBe(true);
  });

  it('reads a --type of exactly * as routes do: every type, dotted ones too', async () => {
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, [
      deadLetterMessage(1, { type: 'push' }),
      deadLetterMessage(2, { type: 'issues.opened' }),
      deadLetterMessage(3, { type: 'invoice.payment.failed' }),
    ]);
    acceptAllSends();
    const result = await redrive(testBackend(), stackTarget(), { env: {}, queue: 'events', type: '*' });
    expect(result).toMatchObject({ moved: 3, skipped: 0, failed: 0 });
    expect(dlq.messages).toHaveLength(0);
  });

  it.each([
    ['an empty --type', { type: '' }, /--type must not be empty/],
    ['a blank --type', { type: '  ' }, /--type must not be empty/],
    ['an invalid --type', { type: 'invoice.***' }, /not a valid type pattern/],
    ['an empty --id', { ids: [''] }, /--id must not be empty/],
  ])('refuses %s before touching the queue (it never means everything)', async (_, selection, message) => {
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, [deadLetterMessage(1)]);
    acceptAllSends();
    await expect(
      redrive(testBackend(), stackTarget(), { env: {}, queue: 'events', ...selection }),
    ).rejects.toThrow(message);
    expect(sentEntries()).toEqual([]);
    expect(dlq.messages).toHaveLength(1);
    expect(sqs.commandCalls(StartMessageMoveTaskCommand)).toHaveLength(0);
  });

  it('is an error when the selection matches nothing, and leaves every message visible', async () => {
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, [
      deadLetterMessage(1, { type: 'invoice.payment.failed' }),
      deadLetterMessage(2, { type: 'customer.created' }),
    ]);
    acceptAllSends();
    const error = await redrive(testBackend(), stackTarget(), {
      env: {},
      queue: 'events',
      type: 'invoice.*',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect((error as Error).message).toBe(
      'no message in the events dead-letter queue matches --type "invoice.*": nothing was moved; list them with hookline failed list events',
    );
    await expect(
      redrive(testBackend(), stackTarget(), { env: {}, queue: 'events', ids: ['evt-unknown'] }),
    ).rejects.toThrow(/matches --id evt-unknown/);
    expect(sentEntries()).toEqual([]);
    expect(dlq.messages).toHaveLength(2);
    expect(dlq.hidden.size).toBe(0);
  });

  it('names the command to list them with the target flags it ran with', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [deadLetterMessage(1, { type: 'customer.created' })]);
    const output = {
      ...recordingOutput(),
      command: (args: string) => hooklineCommandFor({ local: true }, args),
    };
    await expect(
      redrive(testBackend({ output }), stackTarget(), { env: {}, queue: 'events', type: 'invoice.*' }),
    ).rejects.toThrow(/; list them with hookline failed list events --local$/);
  });

  it('is an error to select from an empty dead-letter queue', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, []);
    await expect(
      redrive(testBackend(), stackTarget(), { env: {}, queue: 'events', type: 'invoice.*' }),
    ).rejects.toThrow(/no message in the events dead-letter queue matches --type "invoice.\*"/);
  });

  it('prints its summary once: the progress bar ends without repeating it', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(3));
    acceptAllSends();
    const backend = testBackend();
    await redrive(backend, stackTarget(), { env: {}, queue: 'events', ids: ['evt-1'] });
    expect(backend.output.progressSummaries).toEqual([]);
  });

  it('never deletes a message whose send failed in a partial SendMessageBatch', async () => {
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, [
      deadLetterMessage(1),
      deadLetterMessage(2),
      deadLetterMessage(3),
    ]);
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string; MessageBody: string }[] }) => {
      const bad = input.Entries.find((e) => JSON.parse(e.MessageBody).id === 'evt-2');
      return {
        Successful: input.Entries.filter((e) => e !== bad).map((e) => ({
          Id: e.Id,
          MessageId: 'x',
          MD5OfMessageBody: '',
        })),
        Failed: bad ? [{ Id: bad.Id, Code: 'InternalError', SenderFault: false, Message: 'try again' }] : [],
      };
    });
    const result = await redrive(testBackend(), stackTarget(), { env: {}, queue: 'events', type: '**' });

    expect(result).toMatchObject({ moved: 2, failed: 1 });
    expect(result.failures).toEqual([
      { messageId: 'sqs-2', id: 'evt-2', reason: 'InternalError: try again' },
    ]);
    const deletes = sqs.commandCalls(DeleteMessageBatchCommand).flatMap((c) => c.args[0].input.Entries ?? []);
    expect(deletes.map((d) => d.ReceiptHandle).sort()).toEqual(['rh-1', 'rh-3']);
    expect(dlq.messages.map((m) => m.MessageId)).toEqual(['sqs-2']);
    expect(dlq.hidden.size).toBe(0);
  });

  it('deletes nothing and reports the error when every send is refused', async () => {
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, [deadLetterMessage(1), deadLetterMessage(2)]);
    sqs.on(SendMessageBatchCommand).rejects(awsError('ThrottlingException'));
    await expect(
      redrive(testBackend(), stackTarget(), { env: {}, queue: 'events', ids: ['evt-1', 'evt-2'] }),
    ).rejects.toThrow(/AWS throttled the request/);
    expect(sqs).not.toReceiveCommand(DeleteMessageBatchCommand);
    expect(dlq.messages).toHaveLength(2);
    expect(dlq.hidden.size).toBe(0);
  });

  it('stops after a send error but keeps what was already moved', async () => {
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(15));
    sqs
      .on(SendMessageBatchCommand)
      .callsFakeOnce((input: { Entries: { Id: string }[] }) => ({
        Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: 'x', MD5OfMessageBody: '' })),
      }))
      .rejects(awsError('ServiceUnavailable', 'try later'));
    const result = await redrive(testBackend(), stackTarget(), { env: {}, queue: 'events', type: '**' });
    expect(result).toMatchObject({ moved: 10, failed: 5, stoppedBy: 'ServiceUnavailable: try later' });
    expect(dlq.messages).toHaveLength(5);
    expect(dlq.hidden.size).toBe(0);
  });

  it('still reports what it moved when the endpoint goes away mid-run (local mode killed), its count unknown', async () => {
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(15));
    const gone = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4566'), { code: 'ECONNREFUSED' });
    sqs.on(SendMessageBatchCommand).callsFakeOnce((input: { Entries: { Id: string }[] }) => {
      // After this batch every call fails: the receive of the next batch and the count after the run.
      sqs.on(ReceiveMessageCommand).rejects(gone);
      sqs.on(GetQueueAttributesCommand).rejects(gone);
      return { Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: 'x', MD5OfMessageBody: '' })) };
    });
    const result = await redrive(testBackend(), stackTarget(), { env: {}, queue: 'events', type: '**' });
    expect(result).toMatchObject({
      moved: 10,
      deadLetterDepthAfter: null,
      stoppedBy: expect.stringContaining('ECONNREFUSED'),
    });
    expect(dlq.messages).toHaveLength(5);
    const output = recordingOutput();
    renderRedrive(output, result);
    expect(output.lines).toContain(
      'left in the dead-letter queue: not known, it could not be read after the run (hookline status once it is reachable)',
    );
  });

  it('FIFO: keeps the group, sets a deduplication id, and moves nothing past a message that stays', async () => {
    const dlq = installFakeQueue(
      sqs,
      ORDERS.deadLetterUrl,
      [
        deadLetterMessage(1, { group: 'A', type: 'orders/create' }),
        deadLetterMessage(2, { group: 'A', type: 'orders/paid' }),
        deadLetterMessage(3, { group: 'A', type: 'orders/create' }),
        deadLetterMessage(4, { group: 'B', type: 'orders/create' }),
      ],
      { fifo: true },
    );
    acceptAllSends();
    const result = await redrive(testBackend(), stackTarget(), {
      env: {},
      queue: 'orders',
      type: 'orders/create',
    });

    expect(result.movedIds).toEqual(['evt-1', 'evt-4']);
    expect(result).toMatchObject({ skipped: 1, failed: 1 });
    expect(result.failures.map((f) => f.id)).toEqual(['evt-3']);
    const sent = sentEntries();
    expect(sent.map((e) => e.MessageGroupId)).toEqual(['A', 'B']);
    for (const e of sent) expect(e.MessageDeduplicationId).toMatch(/^redrive-[a-z0-9]+-sqs-\d$/);
    expect(sqs).toReceiveCommandWith(SendMessageBatchCommand, { QueueUrl: ORDERS.url });
    expect(dlq.messages.map((m) => m.MessageId)).toEqual(['sqs-2', 'sqs-3']);
  });

  it('FIFO: a message SQS refuses in a partial send keeps the later messages of its group in the DLQ', async () => {
    const dlq = ordersFifoDlq('AAB');
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: SentEntry[] }) => {
      if (input.Entries.length === 0) throw emptyBatch();
      const refused = input.Entries.filter((e) => JSON.parse(e.MessageBody).id === 'evt-1');
      return {
        Successful: input.Entries.filter((e) => !refused.includes(e)).map((e) => ({
          Id: e.Id,
          MessageId: `new-${e.Id}`,
          MD5OfMessageBody: '',
        })),
        Failed: refused.map((e) => ({
          Id: e.Id,
          Code: 'InternalError',
          SenderFault: false,
          Message: 'try again',
        })),
      };
    });

    const result = await redrive(testBackend(), stackTarget(), { env: {}, queue: 'orders', type: '**' });

    expect(result).toMatchObject({ moved: 1, failed: 2, movedIds: ['evt-3'] });
    expect(result.failures).toEqual([
      { messageId: 'sqs-1', id: 'evt-1', reason: 'InternalError: try again' },
      {
        messageId: 'sqs-2',
        id: 'evt-2',
        reason:
          'behind an earlier message of FIFO group A that SQS did not take, so it stays in the DLQ (group order is kept): redrive them again',
      },
    ]);
    expect(result.stoppedBy).toBeUndefined();
    // One send for the first message of each group; the second of A never goes.
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(1);
    expect(sentEntries().map((e) => JSON.parse(e.MessageBody).id)).toEqual(['evt-1', 'evt-3']);
    expect(dlq.messages.map((m) => m.MessageId)).toEqual(['sqs-1', 'sqs-2']);
    expect(dlq.hidden.size).toBe(0);
  });

  it('FIFO: each send carries one message of each group, in group order', async () => {
    const dlq = ordersFifoDlq('AABBA');
    acceptAllSends();
    const result = await redrive(testBackend(), stackTarget(), { env: {}, queue: 'orders', type: '**' });
    expect(result).toMatchObject({ moved: 5, failed: 0 });
    const sends = sqs
      .commandCalls(SendMessageBatchCommand)
      .map((c) => (c.args[0].input.Entries ?? []).map((e) => JSON.parse(e.MessageBody ?? '{}').id));
    expect(sends).toEqual([['evt-1', 'evt-3'], ['evt-2', 'evt-4'], ['evt-5']]);
    expect(dlq.messages).toHaveLength(0);
  });

  it('FIFO: a send refused after part of a batch moved counts the rest of the batch as failed, with the reason', async () => {
    const dlq = ordersFifoDlq('AAA');
    sqs
      .on(SendMessageBatchCommand)
      .callsFakeOnce((input: { Entries: { Id: string }[] }) => ({
        Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: 'x', MD5OfMessageBody: '' })),
      }))
      .rejects(awsError('ServiceUnavailable', 'try later'));

    const result = await redrive(testBackend(), stackTarget(), { env: {}, queue: 'orders', type: '**' });

    expect(result).toMatchObject({ moved: 1, failed: 2, stoppedBy: 'ServiceUnavailable: try later' });
    expect(result.failures.map((f) => [f.id, f.reason])).toEqual([
      ['evt-2', 'ServiceUnavailable: try later'],
      ['evt-3', 'ServiceUnavailable: try later'],
    ]);
    expect(dlq.messages.map((m) => m.MessageId)).toEqual(['sqs-2', 'sqs-3']);
    expect(dlq.hidden.size).toBe(0);
  });

  it('ends when the consumer dead-letters the redriven messages again at once, counting them as returned', async () => {
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, [
      deadLetterMessage(1),
      deadLetterMessage(2, { body: 'not an envelope' }),
    ]);
    consumerDeadLettersEverySend(dlq);
    const result = await redrive(testBackend(), stackTarget(), {
      env: {},
      queue: 'events',
      type: '**',
      limit: 1000,
    });
    expect(result).toMatchObject({ moved: 1, returned: 1, skipped: 1 });
    // A second run, started after the first ended, moves again what the first redrove.
    const later = testBackend();
    await later.clock.sleep(60_000);
    const all = await redrive(later, stackTarget(), { env: {}, queue: 'events', limit: 1000 });
    expect(all.moved).toBe(2);
    expect(all.returned).toBe(2);
    expect(dlq.hidden.size).toBe(0);
  });

  it.each([
    ['--type', { type: '**' }, 14, 0],
    ['--id', { ids: ['evt-1'] }, 3, 11],
  ] as const)(
    'moves every copy of an event in the DLQ (an original, its replay, an identical copy), selected by %s',
    async (_, selection, moved, skipped) => {
      const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, eventOneCopiesInLaterBatches());
      acceptAllSends();

      const result = await redrive(testBackend(), stackTarget(), { env: {}, queue: 'events', ...selection });

      expect(result).toMatchObject({ moved, skipped, returned: 0, failed: 0, notFound: [] });
      expect(sentEntries().filter((e) => JSON.parse(e.MessageBody).id === 'evt-1')).toHaveLength(3);
      expect(dlq.messages).toHaveLength(skipped);
      expect(dlq.hidden.size).toBe(0);
    },
  );

  it('counts as came back only the messages this run moved, never another copy of the same event', async () => {
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, eventOneCopiesInLaterBatches());
    consumerDeadLettersEverySend(dlq);

    const result = await redrive(testBackend(), stackTarget(), { env: {}, queue: 'events', type: '**' });

    expect(result).toMatchObject({ moved: 14, returned: 14, failed: 0 });
    expect(dlq.messages.every((m) => m.MessageId?.startsWith('again-'))).toBe(true);
    expect(dlq.hidden.size).toBe(0);
  });

  it('recognises a message SQS dead-lettered again by the SQS id it got, when no attribute room was left for the marker', async () => {
    const full = deadLetterMessage(1, { error: false });
    full.MessageAttributes = {
      ...full.MessageAttributes,
      ...Object.fromEntries(
        Array.from({ length: 7 }, (_, i) => [`custom.${i}`, { DataType: 'String', StringValue: String(i) }]),
      ),
    };
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, [full]);
    // After maxReceiveCount SQS moves the message itself: same SQS id, same attributes.
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: SentEntry[] }) => {
      for (const e of input.Entries) {
        dlq.messages.push({
          MessageId: `resent-${e.Id}`,
          ReceiptHandle: `rh-resent-${e.Id}`,
          Body: e.MessageBody,
          MessageAttributes: e.MessageAttributes as Record<string, MessageAttributeValue>,
        });
      }
      return {
        Successful: input.Entries.map((e) => ({
          Id: e.Id,
          MessageId: `resent-${e.Id}`,
          MD5OfMessageBody: '',
        })),
      };
    });

    const result = await redrive(testBackend(), stackTarget(), { env: {}, queue: 'events', type: '**' });

    expect(Object.keys(sentEntries()[0]?.MessageAttributes ?? {})).toHaveLength(10);
    expect(sentEntries()[0]?.MessageAttributes).not.toHaveProperty('hookline.redrive');
    expect(result).toMatchObject({ moved: 1, returned: 1 });
  });

  it("moves a message an earlier run redrove, giving it this run's marker", async () => {
    const earlier = deadLetterMessage(1);
    earlier.MessageAttributes = {
      ...earlier.MessageAttributes,
      'hookline.redrive': { DataType: 'String', StringValue: 'earlier-run' },
    };
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, [earlier]);
    acceptAllSends();

    const result = await redrive(testBackend(), stackTarget(), { env: {}, queue: 'events', type: '**' });

    expect(result).toMatchObject({ moved: 1, returned: 0 });
    const mark = sentEntries()[0]?.MessageAttributes['hookline.redrive']?.StringValue;
    expect(mark).toBeTruthy();
    expect(mark).not.toBe('earlier-run');
    expect(dlq.messages).toHaveLength(0);
  });

  it('leaves a message another redrive moved since this run started in the DLQ, counting it as moved by that redrive', async () => {
    const backend = testBackend();
    const bounced = deadLetterMessage(1);
    bounced.MessageAttributes = {
      ...bounced.MessageAttributes,
      'hookline.redrive': { DataType: 'String', StringValue: redriveMarker('otherrun', backend.clock.now()) },
    };
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, [bounced]);
    acceptAllSends();

    const result = await redrive(backend, stackTarget(), { env: {}, queue: 'events', ids: ['evt-1'] });

    expect(result).toMatchObject({
      moved: 0,
      movedByAnotherRedrive: 1,
      returned: 0,
      failed: 0,
      notFound: [],
    });
    expect(sentEntries()).toHaveLength(0);
    expect(dlq.messages.map((m) => m.MessageId)).toEqual([bounced.MessageId]);
    expect(dlq.hidden.size).toBe(0);
  });

  it('moves a message whose marker says a redrive moved it before this run started', async () => {
    const backend = testBackend();
    const earlier = deadLetterMessage(1);
    earlier.MessageAttributes = {
      ...earlier.MessageAttributes,
      'hookline.redrive': {
        DataType: 'String',
        StringValue: redriveMarker('earlierrun', backend.clock.now() - 1),
      },
    };
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [earlier]);
    acceptAllSends();

    const result = await redrive(backend, stackTarget(), { env: {}, queue: 'events', type: '**' });

    expect(result).toMatchObject({ moved: 1, movedByAnotherRedrive: 0 });
  });

  it('a redrive that started before another moved messages leaves those that come back to it, so none bounces between them', async () => {
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(3));
    consumerDeadLettersEverySend(dlq);
    // Both runs start at the same instant (their clocks agree); the first reads, moves and ends before the second reads.
    const first = await redrive(testBackend(), stackTarget(), { env: {}, queue: 'events', type: '**' });
    const second = await redrive(testBackend(), stackTarget(), { env: {}, queue: 'events', type: '**' });

    expect(first).toMatchObject({ moved: 3, returned: 3 });
    expect(second).toMatchObject({ moved: 0, movedByAnotherRedrive: 3, returned: 0, failed: 0 });
    expect(dlq.messages).toHaveLength(3);
    expect(dlq.hidden.size).toBe(0);
  });

  it('stops between batches when interrupted, handing held messages back', async () => {
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(40));
    const interrupt = new AbortController();
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => {
      interrupt.abort();
      return { Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: 'x', MD5OfMessageBody: '' })) };
    });
    const result = await redrive(testBackend(), stackTarget(), {
      env: {},
      queue: 'events',
      type: 'invoice.*',
      signal: interrupt.signal,
    });
    expect(result).toMatchObject({ moved: 10, stoppedBy: 'Interrupted: stopped by Ctrl-C' });
    expect(dlq.messages).toHaveLength(30);
    expect(dlq.hidden.size).toBe(0);
  });

  it('FIFO: a selected message behind one that stays is not moved, and says why', async () => {
    const dlq = ordersFifoDlq('AAB');
    acceptAllSends();
    const result = await redrive(testBackend(), stackTarget(), {
      env: {},
      queue: 'orders',
      ids: ['evt-2', 'evt-3'],
    });
    expect(result).toMatchObject({ moved: 1, failed: 1, skipped: 1, movedIds: ['evt-3'], notFound: [] });
    expect(result.failures[0]?.reason).toBe(
      'behind an earlier message of FIFO group A that stays in the DLQ (group order is kept): select that one too',
    );
    expect(dlq.messages.map((m) => m.MessageId)).toEqual(['sqs-1', 'sqs-2']);
  });

  it('interrupted while waiting for --rate: sends nothing more and makes the waiting batch visible again', async () => {
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(20));
    acceptAllSends();
    const interrupt = new AbortController();
    const clock = fakeClock();
    const backend = testBackend({
      clock: {
        now: clock.now,
        // Ctrl-C while waiting: the wait ends only through the run's signal, as a wait at a slow rate must.
        sleep: (_ms, signal) =>
          new Promise<void>((resolve) => {
            signal?.addEventListener('abort', () => resolve(), { once: true });
            interrupt.abort();
          }),
      },
    });

    const result = await redrive(backend, stackTarget(), {
      env: {},
      queue: 'events',
      type: '**',
      rate: 5,
      signal: interrupt.signal,
    });

    expect(result).toMatchObject({ moved: 5, failed: 0, stoppedBy: 'Interrupted: stopped by Ctrl-C' });
    expect(dlq.messages).toHaveLength(15);
    expect(dlq.hidden.size).toBe(0);
  });

  it('FIFO: a selected message the scan never received, behind a held message of its group, fails with that reason', async () => {
    const dlq = ordersFifoDlq('AA', { headsOnly: true });
    acceptAllSends();

    const result = await redrive(testBackend(), stackTarget(), { env: {}, queue: 'orders', ids: ['evt-2'] });

    expect(result).toMatchObject({ moved: 0, failed: 1, notFound: [] });
    expect(result.failures).toEqual([
      {
        messageId: '',
        id: 'evt-2',
        reason:
          'not reached: behind an earlier message of FIFO group A that stays in the DLQ (SQS returns no later message of a group while an earlier one stays), if it is in the DLQ at all: select that one too',
      },
    ]);
    expect(dlq.messages).toHaveLength(2);
    expect(dlq.hidden.size).toBe(0);

    const both = await redrive(testBackend(), stackTarget(), {
      env: {},
      queue: 'orders',
      ids: ['evt-1', 'evt-2'],
    });
    expect(both).toMatchObject({ moved: 2, failed: 0, movedIds: ['evt-1', 'evt-2'] });
  });

  it('FIFO: an --id that is in no group is still not found once the scan has seen every message', async () => {
    ordersFifoDlq('AB', { headsOnly: true });
    acceptAllSends();
    await expect(
      redrive(testBackend(), stackTarget(), { env: {}, queue: 'orders', ids: ['evt-unknown'] }),
    ).rejects.toThrow(/no message in the orders dead-letter queue matches --id evt-unknown/);
  });

  it('paces sends to the requested rate', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(20));
    acceptAllSends();
    const backend = testBackend();
    const result = await redrive(backend, stackTarget(), { env: {}, queue: 'events', type: '**', rate: 5 });
    expect(result.moved).toBe(20);
    // 20 messages at 5/s in batches of 5: the first batch goes at once, then one batch per second.
    expect(backend.clock.sleeps).toEqual([1000, 1000, 1000]);
    expect(
      sqs.commandCalls(SendMessageBatchCommand).every((c) => (c.args[0].input.Entries?.length ?? 0) <= 5),
    ).toBe(true);
  });

  it('stops at --limit', async () => {
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(30));
    acceptAllSends();
    const result = await redrive(testBackend(), stackTarget(), { env: {}, queue: 'events', limit: 12 });
    expect(result.moved).toBe(12);
    expect(dlq.messages).toHaveLength(18);
  });

  it('refuses a --rate or --limit that is not a positive number, and a blank --id, before touching the queue', async () => {
    const refused = [
      [{ rate: 0 }, '--rate must be a positive number of messages per second (got 0)'],
      [{ rate: -5 }, '--rate must be a positive number of messages per second (got -5)'],
      [{ rate: Number.NaN }, '--rate must be a positive number of messages per second (got NaN)'],
      [{ limit: 0 }, '--limit must be a positive integer (got 0)'],
      [{ limit: 1.5 }, '--limit must be a positive integer (got 1.5)'],
      [{ ids: ['evt-1', ' '] }, /^--id must not be empty/],
    ] as const;
    for (const [options, message] of refused) {
      await expect(
        redrive(testBackend(), stackTarget(), { env: {}, queue: 'events', ...options }),
      ).rejects.toThrow(message);
    }
    expect(sqs.calls()).toHaveLength(0);
  });

  it('counts a dead letter another reader holds in the depth before and after, as status does', async () => {
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(3));
    dlq.hidden.add('rh-2');
    acceptAllSends();
    const result = await redrive(testBackend(), stackTarget(), { env: {}, queue: 'events', ids: ['evt-0'] });
    expect(result).toMatchObject({ moved: 1, deadLetterDepthBefore: 3, deadLetterDepthAfter: 2 });
    // The --id it asked for was read: the held one is no part of what it selected, and nothing to report.
    expect(result).not.toHaveProperty('heldByOthers');
  });

  it('counts each message sent but not deleted from the DLQ', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(2));
    acceptAllSends();
    sqs.on(DeleteMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
      Successful: [],
      Failed: input.Entries.map((e) => ({ Id: e.Id, Code: 'InternalError', SenderFault: false })),
    }));
    const result = await redrive(testBackend(), stackTarget(), { env: {}, queue: 'events', limit: 5 });
    expect(result).toMatchObject({ moved: 2, notDeleted: 2 });
  });

  it('stops at a refused DLQ delete and still reports what it moved, counting the undeleted batch as not deleted', async () => {
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(25));
    acceptAllSends();
    sqs
      .on(DeleteMessageBatchCommand, { QueueUrl: EVENTS.deadLetterUrl })
      .callsFakeOnce((input: { Entries: { Id: string; ReceiptHandle: string }[] }) => {
        for (const e of input.Entries) {
          dlq.messages.splice(
            dlq.messages.findIndex((m) => m.ReceiptHandle === e.ReceiptHandle),
            1,
          );
          dlq.hidden.delete(e.ReceiptHandle);
        }
        return { Successful: input.Entries.map((e) => ({ Id: e.Id })) };
      })
      .rejects(awsError('ServiceUnavailable', 'try later'));

    const result = await redrive(testBackend(), stackTarget(), { env: {}, queue: 'events', type: '**' });

    expect(result).toMatchObject({
      moved: 20,
      notDeleted: 10,
      failed: 0,
      stoppedBy: 'ServiceUnavailable: try later',
    });
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(2);
    // The 10 sent but not deleted stay in the DLQ as copies; the 5 never received are untouched.
    expect(dlq.messages).toHaveLength(15);
    expect(result.deadLetterDepthAfter).toBe(15);
  });

  it('reports a batch whose DLQ delete got no answer (local mode stopped) as sent with its deletion not known, not as not deleted, and names what stopped it in the operator terms', async () => {
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(25));
    acceptAllSends();
    // The endpoint stops mid-call: a try that reached it may have deleted the batch before the connection was lost.
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4566'), { code: 'ECONNREFUSED' });
    sqs
      .on(DeleteMessageBatchCommand, { QueueUrl: EVENTS.deadLetterUrl })
      .callsFakeOnce((input: { Entries: { Id: string; ReceiptHandle: string }[] }) => {
        for (const e of input.Entries) {
          dlq.messages.splice(
            dlq.messages.findIndex((m) => m.ReceiptHandle === e.ReceiptHandle),
            1,
          );
          dlq.hidden.delete(e.ReceiptHandle);
        }
        return { Successful: input.Entries.map((e) => ({ Id: e.Id })) };
      })
      .rejects(refused);

    const result = await redrive(testBackend(), stackTarget(), { env: {}, queue: 'events', type: '**' });

    expect(result).toMatchObject({
      moved: 20,
      notDeleted: 0,
      deleteUnknown: 10,
      failed: 0,
      // What stopped it, as the operator's line rather than the socket's error.
      stoppedBy: 'cannot reach AWS (ECONNREFUSED): check your network or --region',
    });
    const output = recordingOutput();
    renderRedrive(output, result);
    expect(output.lines).toContain(
      'moved 20, skipped 0, failed 0, sent but whether deleted from the DLQ is not known 10 (its delete got no answer: a copy may remain)',
    );
  });

  it('names the valid queues for an unknown one', async () => {
    await expect(redrive(testBackend(), stackTarget(), { env: {}, queue: 'nope' })).rejects.toThrow(
      'unknown queue "nope" in stack Hookline in us-east-1: use one of events, orders',
    );
  });
});

describe('redrive one by one: what the operator is told', () => {
  it('does not take a DLQ whose only other message a reader holds for an empty one', async () => {
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(2));
    dlq.hidden.add('rh-1');
    acceptAllSends();
    const result = await redrive(testBackend(), stackTarget(), { env: {}, queue: 'events', type: '**' });
    expect(result).toMatchObject({ method: 'one-by-one', moved: 1, deadLetterDepthBefore: 2 });
  });

  it('says how many dead letters another reader held when a run over the whole DLQ read it to its end', async () => {
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(3));
    dlq.hidden.add('rh-1');
    sqs
      .on(ListMessageMoveTasksCommand)
      .rejects(awsError('InvalidAction', 'Unknown action: ListMessageMoveTasks'));
    acceptAllSends();
    const result = await redrive(testBackend(), stackTarget(), { env: {}, queue: 'events' });
    expect(result).toMatchObject({
      method: 'one-by-one',
      moved: 2,
      heldByOthers: 1,
      deadLetterDepthAfter: 1,
    });
  });

  it('does not count its own sent but undeleted dead letters as held by another reader when it read the whole DLQ', async () => {
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(3));
    dlq.hidden.add('rh-1');
    sqs
      .on(ListMessageMoveTasksCommand)
      .rejects(awsError('InvalidAction', 'Unknown action: ListMessageMoveTasks'));
    acceptAllSends();
    sqs.on(DeleteMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
      Successful: [],
      Failed: input.Entries.map((e) => ({ Id: e.Id, Code: 'InternalError', SenderFault: false })),
    }));
    const result = await redrive(testBackend(), stackTarget(), { env: {}, queue: 'events' });
    // SQS keeps what it would not delete hidden under this run's receive: still there, and this run's, not another's.
    expect(result).toMatchObject({
      method: 'one-by-one',
      moved: 2,
      notDeleted: 2,
      heldByOthers: 1,
      deadLetterDepthAfter: 3,
    });
  });

  it('ends a run that moved everything without a stop reason, sending and deleting no empty batch', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(25));
    acceptAllSends();
    const result = await redrive(testBackend(), stackTarget(), { env: {}, queue: 'events', ids: ['evt-3'] });
    expect(result).toMatchObject({ moved: 1, skipped: 24, failed: 0 });
    expect(result.stoppedBy).toBeUndefined();
  });

  it('deletes nothing for a batch whose every entry the source queue refused', async () => {
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(2));
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
      Successful: [],
      Failed: input.Entries.map((e) => ({ Id: e.Id, Code: 'KmsAccessDenied', SenderFault: true })),
    }));
    const result = await redrive(testBackend(), stackTarget(), { env: {}, queue: 'events', type: '**' });
    expect(result).toMatchObject({ moved: 0, failed: 2 });
    expect(result.stoppedBy).toBeUndefined();
    expect(sqs).not.toReceiveCommand(DeleteMessageBatchCommand);
    expect(dlq.messages).toHaveLength(2);
  });

  it('holds scanned messages for 300 s, so none reappears while the scan goes on', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(2));
    acceptAllSends();
    await redrive(testBackend(), stackTarget(), { env: {}, queue: 'events', type: '**' });
    expect(sqs).toReceiveCommandWith(ReceiveMessageCommand, { VisibilityTimeout: 300 });
  });

  it('keeps scanning after a receive that comes back empty while messages are still visible', async () => {
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(3), { emptyReceives: 1 });
    acceptAllSends();
    const result = await redrive(testBackend(), stackTarget(), { env: {}, queue: 'events', type: '**' });
    expect(result.moved).toBe(3);
    expect(dlq.messages).toHaveLength(0);
  });

  it('moves a message SQS returns twice in one run once, and hands the second receive back', async () => {
    const [first, second] = deadLetters(2) as [Message, Message];
    const again = { ...first, ReceiptHandle: 'rh-0-again' };
    depthCounted(2);
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [first, second] })
      .resolvesOnce({ Messages: [again] })
      .resolves({ Messages: [] });
    sqs.on(DeleteMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
      Successful: input.Entries.map((e) => ({ Id: e.Id })),
    }));
    sqs.on(ChangeMessageVisibilityBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
      Successful: input.Entries.map((e) => ({ Id: e.Id })),
    }));
    acceptAllSends();

    const result = await redrive(testBackend(), stackTarget(), { env: {}, queue: 'events', type: '**' });

    expect(result).toMatchObject({ moved: 2, movedIds: ['evt-0', 'evt-1'] });
    expect(sentEntries().map((e) => JSON.parse(e.MessageBody).id)).toEqual(['evt-0', 'evt-1']);
    const released = sqs
      .commandCalls(ChangeMessageVisibilityBatchCommand)
      .flatMap((c) => (c.args[0].input.Entries ?? []).map((e) => e.ReceiptHandle));
    expect(released).toEqual(['rh-0-again']);
  });

  it('moves a dead letter that carries no message attributes', async () => {
    const bare = deadLetterMessage(1);
    delete bare.MessageAttributes;
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, [bare]);
    acceptAllSends();
    const result = await redrive(testBackend(), stackTarget(), { env: {}, queue: 'events', type: '**' });
    expect(result).toMatchObject({ moved: 1, failed: 0 });
    expect(dlq.messages).toHaveLength(0);
  });

  it('follows the scan in its progress bar for a selection, and the moves for --limit', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(12));
    acceptAllSends();
    const selecting = testBackend();
    await redrive(selecting, stackTarget(), { env: {}, queue: 'events', ids: ['evt-0'] });
    expect(selecting.output.progressUpdates).toEqual([
      ['scanned in the events DLQ', 10, 12],
      ['scanned in the events DLQ', 12, 12],
    ]);
    const limited = testBackend();
    await redrive(limited, stackTarget(), { env: {}, queue: 'events', limit: 3 });
    expect(limited.output.progressUpdates).toEqual([['moved to events', 3, 11]]);
    const typed = testBackend();
    await redrive(typed, stackTarget(), { env: {}, queue: 'events', type: 'invoice.paid', limit: 1 });
    expect(typed.output.progressUpdates).toEqual([['scanned in the events DLQ', 1, 8]]);
    const failing = testBackend();
    const failure = failureKey('PermanentError: customer <id> not found');
    await redrive(failing, stackTarget(), { env: {}, queue: 'events', failure, limit: 1 });
    expect(failing.output.progressUpdates).toEqual([['scanned in the events DLQ', 1, 7]]);
  });

  it('ends its progress bar full when the DLQ held fewer than its depth said (another redrive took the rest meanwhile)', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(12));
    depthCounted(24, { url: EVENTS.deadLetterUrl });
    acceptAllSends();
    const backend = testBackend();
    const result = await redrive(backend, stackTarget(), { env: {}, queue: 'events', type: '**' });
    expect(result).toMatchObject({ moved: 12, failed: 0 });
    expect(backend.output.progressUpdates).toEqual([
      ['scanned in the events DLQ', 10, 24],
      ['scanned in the events DLQ', 12, 24],
      ['scanned in the events DLQ', 12, 12],
    ]);
  });

  it('ends its progress bar, so the last line says where it stopped: one by one and following a move task', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(3));
    acceptAllSends();
    const selecting = testBackend();
    await redrive(selecting, stackTarget(), { env: {}, queue: 'events', ids: ['evt-0'] });
    expect(selecting.output.progressEnded).toEqual(['scanned in the events DLQ']);

    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 't' });
    sqs
      .on(ListMessageMoveTasksCommand)
      .resolves({ Results: [{ Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 2 }] });
    const following = testBackend();
    await redrive(following, stackTarget(), { env: {}, queue: 'events' });
    expect(following.output.progressEnded).toEqual(['moved to events']);
  });

  it('takes a --rate above 500 or a fraction for a selection, which moves one by one: only a move task has SQS limits', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(2));
    acceptAllSends();
    expect(
      await redrive(testBackend(), stackTarget(), { env: {}, queue: 'events', type: '**', rate: 1000 }),
    ).toMatchObject({ method: 'one-by-one', moved: 2 });
    installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(1));
    expect(
      await redrive(testBackend(), stackTarget(), { env: {}, queue: 'events', limit: 1, rate: 2.5 }),
    ).toMatchObject({
      method: 'one-by-one',
      moved: 1,
    });
  });

  it('starts a move task for a DLQ that never had one, when SQS lists no tasks at all', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(2));
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 't' });
    sqs
      .on(ListMessageMoveTasksCommand)
      .resolvesOnce({})
      .resolves({ Results: [{ Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 2 }] });
    const result = await redrive(testBackend(), stackTarget(), { env: {}, queue: 'events' });
    expect(result).toMatchObject({
      method: 'move-task',
      moved: 2,
      task: { handle: 't', status: 'COMPLETED' },
    });
    expect(sqs.commandCalls(StartMessageMoveTaskCommand)).toHaveLength(1);
  });

  it('reports an --id as not found, not as behind a FIFO group, when SQS counted more messages than the scan got and no group was held', async () => {
    // SQS's counts are approximate: the scan may get fewer messages than it counted, with every one moved.
    ordersFifoDlq('A');
    depthCounted(2, { url: ORDERS.deadLetterUrl });
    acceptAllSends();
    const result = await redrive(testBackend(), stackTarget(), {
      env: {},
      queue: 'orders',
      ids: ['evt-1', 'evt-x'],
    });
    expect(result).toMatchObject({ moved: 1, failed: 0, notFound: ['evt-x'] });
  });

  it('reports an --id as not found on a standard queue with message groups, even when the scan got fewer messages than SQS counted', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [
      deadLetterMessage(1, { group: 'tenant-a' }),
      deadLetterMessage(2, { group: 'tenant-a' }),
    ]);
    depthCounted(3, { url: EVENTS.deadLetterUrl });
    acceptAllSends();
    const result = await redrive(testBackend(), stackTarget(), {
      env: {},
      queue: 'events',
      ids: ['evt-2', 'evt-x'],
    });
    expect(result).toMatchObject({ moved: 1, skipped: 1, failed: 0, notFound: ['evt-x'] });
  });

  it('FIFO: names every held group an --id the scan never reached may be behind', async () => {
    ordersFifoDlq('AABB', { headsOnly: true });
    acceptAllSends();
    const result = await redrive(testBackend(), stackTarget(), { env: {}, queue: 'orders', ids: ['evt-4'] });
    expect(result).toMatchObject({ moved: 0, failed: 1, notFound: [] });
    expect(result.failures).toEqual([
      {
        messageId: '',
        id: 'evt-4',
        reason:
          'not reached: behind an earlier message of one of the FIFO groups A, B that stay in the DLQ (SQS returns no later message of a group while an earlier one stays), if it is in the DLQ at all: select those too',
      },
    ]);
  });

  it('FIFO: counts a message left behind a skipped one of its group as skipped when it is not selected either', async () => {
    installFakeQueue(
      sqs,
      ORDERS.deadLetterUrl,
      [
        deadLetterMessage(1, { group: 'A', type: 'orders/paid' }),
        deadLetterMessage(2, { group: 'A', type: 'orders/paid' }),
        deadLetterMessage(3, { group: 'B', type: 'orders/create' }),
      ],
      { fifo: true },
    );
    acceptAllSends();
    const result = await redrive(testBackend(), stackTarget(), {
      env: {},
      queue: 'orders',
      type: 'orders/create',
    });
    expect(result).toMatchObject({ moved: 1, skipped: 2, failed: 0, failures: [] });
  });

  it('counts delayed messages when it decides whether the DLQ is empty', async () => {
    depthCounted(1, { delayed: 1 });
    moveTaskListedAfterStart({ Results: [{ Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 2 }] });
    const result = await redrive(testBackend(), stackTarget(), { env: {}, queue: 'events' });
    expect(result).toMatchObject({ method: 'move-task', moved: 2 });
  });

  it('stops scanning once every --id given as an SQS message id was found', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(25));
    acceptAllSends();
    const result = await redrive(testBackend(), stackTarget(), { env: {}, queue: 'events', ids: ['sqs-2'] });
    expect(result).toMatchObject({ moved: 1, skipped: 9, notFound: [] });
    expect(sqs.commandCalls(ReceiveMessageCommand)).toHaveLength(1);
  });

  it('reports an --id the scan did not reach before Ctrl-C as not reached, not as missing or moved', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(15));
    const interrupt = new AbortController();
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => {
      interrupt.abort();
      return { Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: 'x', MD5OfMessageBody: '' })) };
    });
    const result = await redrive(testBackend(), stackTarget(), {
      env: {},
      queue: 'events',
      ids: ['evt-0', 'evt-12'],
      signal: interrupt.signal,
    });
    expect(result).toMatchObject({ moved: 1, skipped: 9, failed: 1, notFound: [] });
    expect(result.failures).toEqual([
      { messageId: '', id: 'evt-12', reason: 'not reached: the run was interrupted first' },
    ]);
  });

  it('stops at a refused send: sends nothing more, and reports an --id it did not reach as not reached', async () => {
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(25));
    sqs
      .on(SendMessageBatchCommand)
      .callsFakeOnce((input: { Entries: { Id: string }[] }) => ({
        Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: 'x', MD5OfMessageBody: '' })),
      }))
      .rejects(awsError('ServiceUnavailable', 'try later'));
    const ids = Array.from({ length: 25 }, (_, i) => `evt-${i}`);
    const result = await redrive(testBackend(), stackTarget(), { env: {}, queue: 'events', ids });
    expect(result).toMatchObject({ moved: 10, failed: 15, stoppedBy: 'ServiceUnavailable: try later' });
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(2);
    expect(result.failures[0]).toEqual({
      messageId: 'sqs-10',
      id: 'evt-10',
      reason: 'ServiceUnavailable: try later',
    });
    expect(result.failures[10]).toEqual({
      messageId: '',
      id: 'evt-20',
      reason: 'not reached: the run stopped on an error first',
    });
    expect(dlq.messages).toHaveLength(15);
    expect(dlq.hidden.size).toBe(0);
  });

  it('reports an --id beyond --limit as not reached', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(20));
    acceptAllSends();
    const result = await redrive(testBackend(), stackTarget(), {
      env: {},
      queue: 'events',
      ids: ['evt-0', 'evt-15'],
      limit: 1,
    });
    expect(result).toMatchObject({ moved: 1, failed: 1, notFound: [] });
    expect(result.failures).toEqual([
      { messageId: '', id: 'evt-15', reason: 'not reached: --limit 1 was reached first' },
    ]);
  });

  it('keeps no group order on a standard queue with message groups (fair queues)', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [
      deadLetterMessage(1, { group: 'tenant-a' }),
      deadLetterMessage(2, { group: 'tenant-a' }),
    ]);
    acceptAllSends();
    const result = await redrive(testBackend(), stackTarget(), {
      env: {},
      queue: 'events',
      ids: ['evt-2', 'evt-missing'],
    });
    expect(result).toMatchObject({ moved: 1, skipped: 1, failed: 0, notFound: ['evt-missing'] });
    expect(result.movedIds).toEqual(['evt-2']);
  });

  it('FIFO: leaves a message without a group in the DLQ, saying why', async () => {
    const dlq = installFakeQueue(sqs, ORDERS.deadLetterUrl, [deadLetterMessage(1)], { fifo: true });
    acceptAllSends();
    const result = await redrive(testBackend(), stackTarget(), { env: {}, queue: 'orders', type: '**' });
    expect(result).toMatchObject({ moved: 0, failed: 1 });
    expect(result.failures).toEqual([
      { messageId: 'sqs-1', id: 'evt-1', reason: 'FIFO message without MessageGroupId' },
    ]);
    expect(sentEntries()).toEqual([]);
    expect(dlq.messages).toHaveLength(1);
  });

  it('says how many held messages SQS would not make visible again, and when they return', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(3));
    sqs
      .on(ChangeMessageVisibilityBatchCommand, { QueueUrl: EVENTS.deadLetterUrl })
      .rejects(awsError('ServiceUnavailable'));
    acceptAllSends();
    const backend = testBackend();
    await redrive(backend, stackTarget(), { env: {}, queue: 'events', ids: ['evt-0'] });
    expect(backend.output.notes).toEqual([
      '2 messages could not be made visible again: they return to the DLQ within 300 s',
    ]);

    sqs.reset();
    installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(3));
    acceptAllSends();
    const released = testBackend();
    await redrive(released, stackTarget(), { env: {}, queue: 'events', ids: ['evt-0'] });
    expect(released.output.notes).toEqual([]);
  });

  it('says a selection that matched nothing it could read may be among the dead letters another reader holds', async () => {
    // A redrive stopped at once (a second Ctrl-C, a crash) holds what it scanned for up to 300 s: still there.
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, [
      deadLetterMessage(0),
      deadLetterMessage(1),
      deadLetterMessage(2, { type: 'customer.created' }),
    ]);
    dlq.hidden.add(dlq.messages[0]?.ReceiptHandle ?? '');
    dlq.hidden.add(dlq.messages[1]?.ReceiptHandle ?? '');
    acceptAllSends();
    await expect(
      redrive(testBackend(), stackTarget(), { env: {}, queue: 'events', type: 'invoice.paid' }),
    ).rejects.toThrow(
      new CliError(
        'no message this run could read in the events dead-letter queue matches --type "invoice.paid": nothing was moved; about 2 messages are held by another reader (a redrive, the console, another failed list) and could not be read: run it again once that hold ends (up to 300 s after a redrive stopped); where that reader is a redrive still running, it moves those it selects itself, and the run again finds them gone, or list them with hookline failed list events',
      ),
    );
    expect(sentEntries()).toEqual([]);
    expect(dlq.messages).toHaveLength(3);
  });

  it('says of dead letters another reader held that the count is approximate, and that a redrive holding them moves them itself', async () => {
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, [
      deadLetterMessage(0),
      deadLetterMessage(1),
      deadLetterMessage(2),
    ]);
    // A second redrive of the same --type, at the same moment, has received two of them.
    dlq.hidden.add(dlq.messages[0]?.ReceiptHandle ?? '');
    dlq.hidden.add(dlq.messages[1]?.ReceiptHandle ?? '');
    acceptAllSends();
    const result = await redrive(testBackend(), stackTarget(), {
      env: {},
      queue: 'events',
      type: 'invoice.paid',
    });
    expect(result).toMatchObject({ moved: 1, heldByOthers: 2 });
    const output = recordingOutput();
    renderRedrive(output, result);
    expect(output.lines).toContain(
      'about 2 messages were held by another reader (a redrive, the console, another failed list) when this run started and could not be read, so not moved even where the selection matches them: run it again once that hold ends (up to 300 s after a redrive stopped); where that reader is a redrive still running, it moves those it selects itself, and the run again finds them gone',
    );
    // That redrive moved them: the run again, as the advice said, finds none of them.
    dlq.messages.splice(0, 2);
    dlq.hidden.clear();
    await expect(
      redrive(testBackend(), stackTarget(), { env: {}, queue: 'events', type: 'invoice.paid' }),
    ).rejects.toThrow(
      /^no message in the events dead-letter queue matches --type "invoice.paid": nothing was moved/,
    );
  });

  it('reports an --id it did not find while another reader holds dead letters as not reached, not as absent', async () => {
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(3));
    dlq.hidden.add(dlq.messages[0]?.ReceiptHandle ?? '');
    acceptAllSends();
    const result = await redrive(testBackend(), stackTarget(), {
      env: {},
      queue: 'events',
      ids: ['evt-0', 'evt-2'],
    });
    expect(result).toMatchObject({ moved: 1, failed: 1, notFound: [] });
    expect(result.failures).toEqual([
      {
        messageId: '',
        id: 'evt-0',
        reason:
          'not reached: about 1 message is held by another reader (a redrive, the console, another failed list) and could not be read, if it is in the DLQ at all: run it again once that hold ends (up to 300 s after a redrive stopped); where that reader is a redrive still running, it moves those it selects itself, and the run again finds them gone',
      },
    ]);
  });

  it('names every --id and the --type it was given when nothing matches', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, deadLetters(2));
    acceptAllSends();
    await expect(
      redrive(testBackend(), stackTarget(), { env: {}, queue: 'events', ids: ['evt-x', 'evt-y'] }),
    ).rejects.toThrow(
      new CliError(
        'no message in the events dead-letter queue matches --id evt-x evt-y: nothing was moved; list them with hookline failed list events',
      ),
    );
    await expect(
      redrive(testBackend(), stackTarget(), { env: {}, queue: 'events', ids: ['evt-x'], type: 'a.b' }),
    ).rejects.toThrow(/matches --id evt-x --type "a.b": nothing was moved/);
  });
});

describe("redrive of a schedule's dead letters", () => {
  it('sends a delivery that names no target to the queue the schedule sends to, without Scheduler attributes', async () => {
    const { TARGET_ARN: _target, ...reasons } = undeliveredHeartbeat().MessageAttributes;
    const dlq = installFakeQueue(sqs, sqsUrl('Hookline-HeartbeatDlq'), [
      { ...undeliveredHeartbeat(), MessageAttributes: reasons },
    ]);
    acceptAllSends();
    const result = await redrive(testBackend(), schedulerDeadLetterTarget(), { env: {}, queue: HEARTBEAT });
    expect(result).toMatchObject({ method: 'one-by-one', moved: 1, failed: 0 });
    expect(sqs).toReceiveCommandWith(SendMessageBatchCommand, { QueueUrl: EVENTS.url });
    expect(Object.keys(sentEntries()[0]?.MessageAttributes ?? {})).toEqual(['hookline.redrive']);
    expect(dlq.messages).toHaveLength(0);
  });
});

describe('helpers', () => {
  it("attributesToKeep drops an earlier redrive run's marker", () => {
    const kept = attributesToKeep({
      ...deadLetterMessage(1).MessageAttributes,
      'hookline.redrive': { DataType: 'String', StringValue: 'earlier-run' },
    });
    expect(kept).not.toHaveProperty('hookline.redrive');
  });

  it('attributesToKeep keeps a binary attribute with its value', () => {
    const value = new Uint8Array([1, 2, 3]);
    expect(attributesToKeep({ 'app.sig': { DataType: 'Binary', BinaryValue: value } })).toEqual({
      'app.sig': { DataType: 'Binary', BinaryValue: value },
    });
  });

  it('attributesToKeep drops a hookline.error.* attribute it has no name for', () => {
    const kept = attributesToKeep({
      'hookline.error.stack': { DataType: 'String', StringValue: 'at handler' },
      'app.error.kind': { DataType: 'String', StringValue: 'kept' },
    });
    expect(Object.keys(kept)).toEqual(['app.error.kind']);
  });

  it('attributesToKeep drops every hookline.error.* attribute', () => {
    const kept = attributesToKeep(deadLetterMessage(1).MessageAttributes);
    expect(Object.keys(kept).sort()).toEqual(['hookline.id', 'hookline.source', 'hookline.type']);
    expect(kept['hookline.id']).toEqual({ DataType: 'String', StringValue: 'evt-1' });
  });
});
