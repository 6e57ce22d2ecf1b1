/**
 * The real CLI (spawned `bin/hookline.ts`) on its deployed code path, against a stand-in for a deployed stack
 * (`test/helpers/deployed-stand-in.ts`: SQS with move tasks, the stack outputs, Lambda's mappings) that it reaches
 * through the SDK's endpoint variables: what an operator meets at 3 a.m. when the stack, AWS or another reader is
 * not as the CLI expects.
 */
import { CreateQueueCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { jobScheduleName } from '../../lambda/producer/producer';
import { breakerAlarmName, breakerStepScheduleName } from '../../lambda/shared/circuit-breaker';
import { outputKey, STACK_OUTPUTS } from '../../lib/stack-outputs';
import { type DeployedStandIn, startDeployedStandIn } from '../helpers/deployed-stand-in';
import { waitFor } from '../helpers/wait-for';

let standIn: DeployedStandIn;
/** The outputs of the repository's example configuration (queues `events` and FIFO `orders`) as deployed. */
let outputs: Record<string, string>;

beforeAll(async () => {
  standIn = await startDeployedStandIn();
  const eventsQueue = await standIn.queueWithDeadLetters('events');
  const ordersQueue = await standIn.queueWithDeadLetters('orders', { fifo: true });
  outputs = {
    ...eventsQueue.outputs,
    ...ordersQueue.outputs,
    [outputKey('EventSourceMappingId', 'events')]: 'mapping-events',
    [outputKey('EventSourceMappingId', 'orders')]: 'mapping-orders',
  };
  standIn.stacks.set('Hookline', outputs);
});

afterAll(async () => {
  await standIn?.close();
});

beforeEach(() => {
  standIn.heal();
  standIn.settling.clear();
  standIn.mappings.set('mapping-events', 'Enabled');
  standIn.mappings.set('mapping-orders', 'Enabled');
});

/** No stack trace: an expected failure is one `error:` line. */
function expectOneErrorLine(stderr: string, message: RegExp): void {
  const lines = stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(message);
}

describe('finding the stack', () => {
  it('reads the queues of a deployed stack from its outputs', async () => {
    const run = await standIn.run(['status', '--json']);

    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as { queues: { queue: string; consumer: string }[] };
    expect(result.queues.map((q) => [q.queue, q.consumer])).toEqual([
      ['events', 'Enabled'],
      ['orders', 'Enabled'],
    ]);
  });

  it('says a stack that is not deployed is not found, naming the stack deployed from the configuration', async () => {
    const run = await standIn.run(['status', '--stack', 'Nowhere']);

    expect(run.code).toBe(1);
    expectOneErrorLine(
      run.stderr,
      /stack Nowhere not found in us-east-1, where this stack was deployed from this configuration: Hookline: name one with --stack \(--stack Hookline\), or deploy Nowhere with npx cdk deploy$/,
    );
  });

  it('names the Dev and Prod stacks of the configuration when its stackName is neither, and reads neither', async () => {
    // GIVEN the configuration (stackName Hookline) deployed only as two stages, and another app's stack
    const deployed = new Map(standIn.stacks);
    onTestFinished(() => {
      standIn.stacks.clear();
      for (const [name, stackOutputs] of deployed) standIn.stacks.set(name, stackOutputs);
    });
    standIn.stacks.clear();
    standIn.stacks.set('Prod-Hookline', outputs);
    standIn.stacks.set('Dev-Hookline', outputs);
    standIn.stacks.set('CDKToolkit', { BucketName: 'cdk-assets' });

    // WHEN an operator runs a command without --stack
    const run = await standIn.run(['failed', 'list', 'events']);

    // THEN it stops, naming both, rather than pick one
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expectOneErrorLine(
      run.stderr,
      /^error: stack Hookline not found in us-east-1, where these stacks were deployed from this configuration: Dev-Hookline, Prod-Hookline: name one with --stack \(--stack Dev-Hookline\), or deploy Hookline with npx cdk deploy$/,
    );
  });

  it('refuses the status of a stack that publishes none of the configured queues, rather than show no queues', async () => {
    standIn.stacks.set('Older', { ApiUrl: 'https://example.execute-api.us-east-1.amazonaws.com/prod/' });

    const run = await standIn.run(['status', '--stack', 'Older']);

    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expectOneErrorLine(
      run.stderr,
      /stack Older in us-east-1 publishes none of the configured queues \(events, orders\) in its outputs: .*redeploy it with npx cdk deploy, or pass the --stack \(and --config\)/,
    );
  });

  it('names a configured queue the stack does not publish under the status of the others', async () => {
    const { [outputKey('QueueUrl', 'orders')]: _, ...withoutOrders } = outputs;
    standIn.stacks.set('Partial', withoutOrders);

    const text = await standIn.run(['status', '--stack', 'Partial']);
    const json = await standIn.run(['status', '--stack', 'Partial', '--json']);

    expect(text.code).toBe(0);
    expect(text.stdout).toContain(
      'queue orders: not in the stack outputs, so it is not counted here; redeploy with npx cdk deploy',
    );
    expect(JSON.parse(json.stdout)).toMatchObject({ queuesMissingOutputs: ['orders'] });
  });
});

describe('a queue deleted outside the stack', () => {
  it('names the queue whose read failed, even when it is a dead-letter queue', async () => {
    const deadLetterKey = outputKey('DeadLetterQueueUrl', 'events');
    standIn.stacks.set('Drifted', {
      ...outputs,
      [deadLetterKey]: `${standIn.endpoint}/123456789012/Drifted-events-dlq-deleted`,
    });

    const run = await standIn.run(['status', '--stack', 'Drifted']);

    expect(run.code).toBe(1);
    expectOneErrorLine(
      run.stderr,
      /^error: queue events \(its dead-letter queue\) does not exist in stack Drifted in us-east-1: redeploy with npx cdk deploy$/,
    );
  });
});

describe('AWS faults', () => {
  it('says in one line that AWS kept answering with a server error, after the SDK retried it', async () => {
    standIn.fail('GetQueueAttributes', { code: 'InternalError', status: 500 });

    const run = await standIn.run(['status', '--json']);

    expect(run.code).toBe(1);
    expectOneErrorLine(
      run.stderr,
      /AWS answered with a server error \(InternalError, HTTP 500\) on all 5 tries: a fault on AWS's side/,
    );
    expect(JSON.parse(run.stdout)).toEqual({
      error: expect.stringMatching(/^AWS answered with a server error/),
    });
  });

  it('retries a server error that passes, and answers as if there had been none', async () => {
    standIn.fail('GetQueueAttributes', { code: 'ServiceUnavailable', status: 503, times: 2 });

    const run = await standIn.run(['status', 'events', '--json']);

    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ queues: [{ queue: 'events' }] });
  });
});

describe('a consumer mapping deleted outside the stack', () => {
  it('still shows every queue, the missing consumer among them, and what to do', async () => {
    standIn.mappings.delete('mapping-events');

    const run = await standIn.run(['status']);

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^events +\d+ +\d+ +\d+ +\d+ +- +Missing$/m);
    expect(run.stdout).toMatch(/^orders \(fifo\) .* Enabled$/m);
    expect(run.stdout).toContain(
      "events: its consumer's event source mapping is gone from Lambda (deleted outside the stack): nothing consumes the queue; redeploy with npx cdk deploy",
    );
  });

  it('makes pause a one-line error naming the fix', async () => {
    standIn.mappings.delete('mapping-events');

    const run = await standIn.run(['pause', 'events']);

    expect(run.code).toBe(1);
    expectOneErrorLine(
      run.stderr,
      /stack Hookline in us-east-1 has no such resource \(ResourceNotFoundException: The resource you requested does not exist\.\): .*redeploy with npx cdk deploy/,
    );
  });
});

describe('two operators pausing and resuming one consumer at once', () => {
  it('a pause whose consumer another resume enabled again while it waited ends at once, saying so', async () => {
    standIn.settling.add('mapping-events');
    const pausing = standIn.run(['pause', 'events']);
    await waitFor(() => standIn.mappings.get('mapping-events') === 'Disabling', 30_000, 'the pause');
    // Another operator (the console, a second terminal) resumes it before Lambda finished disabling it.
    const resume = await standIn.run(['resume', 'events', '--no-wait']);
    expect(resume.code).toBe(0);
    standIn.mappings.set('mapping-events', 'Enabled');

    const ended = await Promise.race([
      pausing,
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 30_000)),
    ]);
    expect(ended?.code).toBe(1);
    expectOneErrorLine(
      ended?.stderr
        .split('\n')
        .filter((l) => l.startsWith('error: '))
        .join('\n') ?? '',
      /^error: the events consumer is Enabled again: another resume changed it after this pause \(another operator, the console or a circuit breaker\); run hookline pause events again to pause it$/,
    );
  }, 120_000);
});

describe('a selection while another reader holds part of the dead-letter queue', () => {
  it('says that redrive --type could not read what was held, rather than report the selection done', async () => {
    const { outputs: held, deadLetters } = await standIn.queueWithDeadLetters('events', {
      stack: 'HeldRedrive',
    });
    standIn.stacks.set('HeldRedrive', held);
    await standIn.deadLetter(deadLetters.url, 40, ['invoice.paid', 'charge.failed']);
    expect(await standIn.hold(deadLetters.url, 10, 600)).toBe(10);

    const text = await standIn.run(['redrive', 'events', '--stack', 'HeldRedrive', '--type', 'invoice.paid']);

    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^moved 15, skipped 15, failed 0$/m);
    expect(text.stdout).toContain(
      'about 10 messages were held by another reader (a redrive, the console, another failed list) when this run started and could not be read, so not moved even where the selection matches them: run it again once that hold ends',
    );
  });

  it('says the same of failed delete --type, and gives the count in --json', async () => {
    const { outputs: held, deadLetters } = await standIn.queueWithDeadLetters('events', {
      stack: 'HeldDelete',
    });
    standIn.stacks.set('HeldDelete', held);
    await standIn.deadLetter(deadLetters.url, 40, ['invoice.paid', 'charge.failed']);
    expect(await standIn.hold(deadLetters.url, 10, 600)).toBe(10);

    const json = await standIn.run([
      'failed',
      'delete',
      'events',
      '--stack',
      'HeldDelete',
      '--type',
      'charge.failed',
      '--yes',
      '--json',
    ]);

    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ deletedMessages: 15, heldByOthers: 10 });
  });
});

describe('the dead-letter queues EventBridge Scheduler fills, read through the real CLI', () => {
  /** Scheduler's attributes on a delivery it gave up on, as it sets them (all strings). */
  const schedulerAttributes = (values: Record<string, string>) =>
    Object.fromEntries(
      Object.entries(values).map(([name, value]) => [name, { DataType: 'String', StringValue: value }]),
    );
  /** A stack `SchedulerDlqs` with the events queue and both shared schedule dead-letter queues published. */
  async function stackWithSchedulerQueues() {
    const { outputs: own, queue: events } = await standIn.queueWithDeadLetters('events', {
      stack: 'SchedulerDlqs',
    });
    const create = async (name: string) =>
      (await standIn.sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl ?? '';
    const breakerSchedules = await create('SchedulerDlqs-BreakerSchedulesDlq');
    const jobSchedules = await create('SchedulerDlqs-JobSchedulesDlq');
    standIn.stacks.set('SchedulerDlqs', {
      ...own,
      [STACK_OUTPUTS.breakerSchedulesDeadLetterQueueUrl]: breakerSchedules,
      [STACK_OUTPUTS.jobSchedulesDeadLetterQueueUrl]: jobSchedules,
    });
    return { events, breakerSchedules, jobSchedules };
  }
  const dueAt = Date.parse('2026-12-04T10:05:00Z');
  const probeSchedule = breakerStepScheduleName('probe', '6f1c2d3e-mapping', dueAt);

  it("describes a probe Scheduler could not deliver by its queue, step, schedule, due time and Scheduler's reason", async () => {
    const { breakerSchedules } = await stackWithSchedulerQueues();
    const sent = await standIn.sqs.send(
      new SendMessageCommand({
        QueueUrl: breakerSchedules,
        MessageBody: JSON.stringify({
          hooklineCircuitBreaker: 'probe',
          alarmName: breakerAlarmName('SchedulerDlqs', 'events'),
        }),
        MessageAttributes: schedulerAttributes({
          ERROR_CODE: 'AccessDeniedException',
          ERROR_MESSAGE: 'not authorized to perform lambda:InvokeFunction',
          EXECUTION_ID: 'exec-probe-1',
          RETRY_ATTEMPTS: '185',
          SCHEDULE_ARN: `arn:aws:scheduler:us-east-1:123456789012:schedule/SchedulerDlqs-probes/${probeSchedule}`,
          TARGET_ARN: 'arn:aws:lambda:us-east-1:123456789012:function:SchedulerDlqs-Breaker',
        }),
      }),
    );
    const stack = ['--stack', 'SchedulerDlqs'];

    const json = await standIn.run(['failed', 'list', 'breaker_schedules', ...stack, '--json']);
    expect(json.code).toBe(0);
    const [listed] = (JSON.parse(json.stdout) as { messages: Record<string, unknown>[] }).messages;
    expect(listed).toMatchObject({
      messageId: sent.MessageId,
      id: null,
      error: 'AccessDeniedException: not authorized to perform lambda:InvokeFunction',
      scheduled: {
        subject: 'circuit breaker probe of the events queue',
        description: 'circuit breaker probe of the events queue, due 2026-12-04T10:05:00.000Z',
        schedule: probeSchedule,
        scheduleGroup: 'SchedulerDlqs-probes',
        executionId: 'exec-probe-1',
        retryAttempts: 185,
        queue: 'events',
        breaker: {
          step: 'probe',
          alarmName: 'SchedulerDlqs/events/circuit-breaker',
          dueAt: '2026-12-04T10:05:00.000Z',
        },
      },
    });

    const list = await standIn.run(['failed', 'list', 'breaker_schedules', ...stack]);
    expect(list.stdout).toContain('circuit breaker probe of the events queue, due 2026-12-04T10:05:00.000Z');
    expect(list.stdout).toContain('AccessDeniedException: not authorized to perform lambda:InvokeFunction');
    // The next command is a hint: on stderr, since the CLI's output here is a pipe, not a terminal.
    expect(list.stderr).toContain('here: hookline resume events --stack SchedulerDlqs');
    expect(list.stdout).not.toContain('hookline resume');

    const show = await standIn.run(['failed', 'show', 'breaker_schedules', sent.MessageId ?? '', ...stack]);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(
      /^what +circuit breaker probe of the events queue, due 2026-12-04T10:05:00.000Z$/m,
    );
    expect(show.stdout).toMatch(/^scheduler +run exec-probe-1, gave up after 185 retries$/m);
    expect(show.stdout).toContain(`${probeSchedule} (group SchedulerDlqs-probes)`);
    expect(show.stderr).toContain('resume the consumer: hookline resume events --stack SchedulerDlqs');

    const summary = await standIn.run(['failed', 'summary', 'breaker_schedules', ...stack]);
    expect(summary.stdout).toContain('circuit breaker probe of the events queue 1');

    const redrive = await standIn.run(['redrive', 'breaker_schedules', ...stack]);
    expect(redrive.code).toBe(1);
    expect(redrive.stderr).toMatch(
      /cannot be redriven: .*it names the queue whose breaker the probe or close was for, read from the message.*hookline resume <queue>/,
    );
    // Read and refused, the probe stays where it was.
    const left = await standIn.depth(breakerSchedules);
    expect(left.visible + left.inFlight).toBe(1);
  });

  it('names the queue a delayed job Scheduler could not deliver was for', async () => {
    const { events, jobSchedules } = await stackWithSchedulerQueues();
    await standIn.sqs.send(
      new SendMessageCommand({
        QueueUrl: jobSchedules,
        MessageBody: JSON.stringify({
          v: 1,
          id: 'job-42',
          source: 'job',
          type: 'invoice.send',
          receivedAt: '2026-12-04T09:00:00.000Z',
          headers: {},
          body: '{}',
          bodyEncoding: 'utf8',
        }),
        MessageAttributes: schedulerAttributes({
          ERROR_CODE: 'AWS.SimpleQueueService.NonExistentQueue',
          ERROR_MESSAGE: 'The specified queue does not exist.',
          EXECUTION_ID: 'exec-job-1',
          RETRY_ATTEMPTS: '0',
          SCHEDULE_ARN: 'arn:aws:scheduler:us-east-1:123456789012:schedule/default/SchedulerDlqs-job-42',
          TARGET_ARN: events.arn,
        }),
      }),
    );

    const list = await standIn.run(['failed', 'list', 'job_schedules', '--stack', 'SchedulerDlqs']);

    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/job-42 +job +invoice\.send +delayed job for the events queue/);
  });
});

describe('the jobs waiting in the stack’s one-time schedules, counted through the real CLI', () => {
  it('lists the stack’s enabled job schedules of the default group page by page, and counts them as local mode does', async () => {
    // GIVEN a stack whose producers may delay jobs, 150 of its jobs waiting for events and 2 for orders, a schedule
    // someone disabled, one of another stack and one in another group (`status <queue>`: status-scheduled-jobs.test)
    const { outputs: events, queue: eventsQueue } = await standIn.queueWithDeadLetters('events', {
      stack: 'Delays',
    });
    const { outputs: orders, queue: ordersQueue } = await standIn.queueWithDeadLetters('orders', {
      stack: 'Delays',
      fifo: true,
    });
    const jobSchedules = await standIn.sqs.send(
      new CreateQueueCommand({ QueueName: 'Delays-JobSchedulesDlq' }),
    );
    standIn.stacks.set('Delays', {
      ...events,
      ...orders,
      [STACK_OUTPUTS.jobSchedulesDeadLetterQueueUrl]: jobSchedules.QueueUrl ?? '',
    });
    const job = (n: number, targetArn: string) => ({
      name: jobScheduleName('Delays-job-', `job-${n}`),
      targetArn,
    });
    standIn.schedules.push(
      ...Array.from({ length: 150 }, (_, n) => job(n, eventsQueue.arn)),
      job(1000, ordersQueue.arn),
      job(1001, ordersQueue.arn),
      { ...job(1002, eventsQueue.arn), state: 'DISABLED' },
      { name: 'Delays2-job-1', targetArn: eventsQueue.arn },
      // The stack `Delays-job-runner`'s: its names start with `Delays-job-` too.
      { name: jobScheduleName('Delays-job-runner-job-', 'job-1'), targetArn: eventsQueue.arn },
      { ...job(1003, eventsQueue.arn), group: 'Delays-probes' },
    );
    standIn.scheduleListings.length = 0;

    // WHEN
    const human = await standIn.run(['status', '--stack', 'Delays']);

    // THEN
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(
      "152 jobs scheduled for later, beyond SQS's 15-minute delay, so in no queue yet; a cancelled one counts until its time (hookline jobs list --state scheduled --stack Delays)\n",
    );
    const asked = {
      ScheduleGroup: 'default',
      NamePrefix: 'Delays-job-',
      State: 'ENABLED',
      MaxResults: '100',
    };
    expect(standIn.scheduleListings).toEqual([asked, { ...asked, NextToken: '100' }]);
  });
});
