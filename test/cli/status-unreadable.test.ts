/**
 * `hookline status` for an operator whose AWS identity may read only part of the pipeline: the real program, with
 * one call at a time denied as the SDK throws it.
 */
import { DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetEventSourceMappingCommand, ListTagsCommand } from '@aws-sdk/client-lambda';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../lib/cli/program';
import type { StackTarget } from '../../lib/cli/target';
import { cliHarness, EVENTS, mockCommandClients, ORDERS, stackTarget, testBackend } from './helpers';

const { sqs, lambda, cloudwatch } = mockCommandClients();

/** An access denial as the SDK v3 throws it: a client fault answered 403. */
function accessDenied(action: string, name = 'AccessDeniedException'): Error {
  return Object.assign(
    new Error(`User: arn:aws:iam::123456789012:user/ops is not authorized to perform: ${action}`),
    { name, $fault: 'client', $metadata: { httpStatusCode: 403, attempts: 1 } },
  );
}

const depth = (visible: number, inFlight = 0, delayed = 0) => ({
  Attributes: {
    ApproximateNumberOfMessages: String(visible),
    ApproximateNumberOfMessagesNotVisible: String(inFlight),
    ApproximateNumberOfMessagesDelayed: String(delayed),
  },
});

/** Every call `status` makes answers: events holds 5 (2 in flight) and 3 dead letters, orders nothing. */
function everythingReadable(): void {
  sqs.on(GetQueueAttributesCommand).resolves(depth(0));
  sqs.on(GetQueueAttributesCommand, { QueueUrl: EVENTS.url }).resolves(depth(5, 2, 1));
  sqs.on(GetQueueAttributesCommand, { QueueUrl: EVENTS.deadLetterUrl }).resolves(depth(3));
  lambda.on(GetEventSourceMappingCommand).resolves({ State: 'Enabled' });
  cloudwatch.on(GetMetricDataCommand).resolves({
    MetricDataResults: [
      { Id: 'age0', Values: [95] },
      { Id: 'age1', Values: [] },
    ],
  });
}

async function status(args: readonly string[] = [], target: StackTarget = stackTarget()) {
  const h = cliHarness({
    connect: async (_options, output) => ({ target, backend: testBackend({ output }) }),
  });
  const code = await runCli(['status', ...args], h.deps);
  return { code, stdout: h.stdout(), stderr: h.stderr() };
}

/** The last line a person sees. */
const lastLine = (stdout: string) => stdout.trimEnd().split('\n').at(-1);

describe('status where the operator may read only part of the pipeline', () => {
  it('shows every count it read, and the one queue it may not read as unknown, naming the action; exit 1', async () => {
    everythingReadable();
    // SQS's query protocol names it AccessDenied.
    sqs
      .on(GetQueueAttributesCommand, { QueueUrl: EVENTS.url })
      .rejects(accessDenied('sqs:GetQueueAttributes', 'AccessDenied'));

    const human = await status();
    const json = await status(['--json']);

    expect(human.code).toBe(1);
    expect(human.stdout.split('\n').slice(1, 4)).toEqual([
      'QUEUE          VISIBLE  IN FLIGHT  DELAYED  DLQ  OLDEST  CONSUMER',
      'events         unknown  unknown    unknown  3    1m 35s  Enabled',
      'orders (fifo)  0        0          0        0    -       Enabled',
    ]);
    expect(human.stdout).toContain(
      'events messages: unknown: access denied (needs sqs:GetQueueAttributes)\n',
    );
    expect(lastLine(human.stdout)).toBe(
      'incomplete: your AWS identity may not call sqs:GetQueueAttributes: what it reads is shown as unknown; allow it to see the whole pipeline',
    );
    expect(human.stderr).toBe('');
    expect(json.code).toBe(1);
    const result = JSON.parse(json.stdout);
    expect(result.queues[0]).toMatchObject({
      queue: 'events',
      visible: null,
      inFlight: null,
      delayed: null,
      deadLettered: 3,
      oldestMessageAgeSeconds: 95,
      consumer: 'Enabled',
    });
    expect(result.queues[1]).toMatchObject({ queue: 'orders', visible: 0, deadLettered: 0 });
    expect(result.unreadable).toEqual([
      { queue: 'events', part: 'messages', action: 'sqs:GetQueueAttributes' },
    ]);
  });

  it('leaves a dead-letter queue it may not read unknown, never 0', async () => {
    everythingReadable();
    sqs
      .on(GetQueueAttributesCommand, { QueueUrl: EVENTS.deadLetterUrl })
      .rejects(accessDenied('sqs:GetQueueAttributes'));

    const human = await status();
    const json = await status(['--json']);

    expect(human.code).toBe(1);
    expect(human.stdout).toContain('events         5        2          1        unknown  1m 35s  Enabled\n');
    expect(human.stdout).toContain(
      'events dead letters: unknown: access denied (needs sqs:GetQueueAttributes)\n',
    );
    const result = JSON.parse(json.stdout);
    expect([result.queues[0].visible, result.queues[0].deadLettered]).toEqual([5, null]);
    expect(result.unreadable).toEqual([
      { queue: 'events', part: 'dead letters', action: 'sqs:GetQueueAttributes' },
    ]);
  });

  it('shows consumers it may not read as unknown, not as running or absent, and names the action once', async () => {
    everythingReadable();
    lambda.on(GetEventSourceMappingCommand).rejects(accessDenied('lambda:GetEventSourceMapping'));

    const human = await status();
    const json = await status(['--json']);

    expect(human.code).toBe(1);
    expect(human.stdout).toContain('events         5        2          1        3    1m 35s  unknown\n');
    expect(human.stdout).toContain(
      [
        'events consumer: unknown: access denied (needs lambda:GetEventSourceMapping)',
        'orders consumer: unknown: access denied (needs lambda:GetEventSourceMapping)',
        'incomplete: your AWS identity may not call lambda:GetEventSourceMapping: what it reads is shown as unknown; allow it to see the whole pipeline',
      ].join('\n'),
    );
    expect(json.code).toBe(1);
    const result = JSON.parse(json.stdout);
    // Absent, not null: null says the queue has no consumer.
    expect(result.queues.map((q: object) => 'consumer' in q)).toEqual([false, false]);
    expect(result.queues[0]).toMatchObject({ visible: 5, deadLettered: 3 });
    expect(result.unreadable).toEqual([
      { queue: 'events', part: 'consumer', action: 'lambda:GetEventSourceMapping' },
      { queue: 'orders', part: 'consumer', action: 'lambda:GetEventSourceMapping' },
    ]);
  });

  it('names the policy that explicitly denies the consumer, and asks its owner rather than for a grant, which would not lift it', async () => {
    everythingReadable();
    lambda
      .on(GetEventSourceMappingCommand)
      .rejects(
        accessDenied('lambda:GetEventSourceMapping with an explicit deny in an identity-based policy'),
      );

    const human = await status();
    const json = await status(['--json']);

    expect(human.code).toBe(1);
    expect(human.stdout).toContain(
      [
        'events consumer: unknown: access denied (an identity-based policy explicitly denies lambda:GetEventSourceMapping)',
        'orders consumer: unknown: access denied (an identity-based policy explicitly denies lambda:GetEventSourceMapping)',
        'incomplete: your AWS identity may not call lambda:GetEventSourceMapping: what it reads is shown as unknown; an identity-based policy explicitly denies lambda:GetEventSourceMapping, which no grant overrides: ask the owner of that policy to lift the deny to see the whole pipeline',
      ].join('\n'),
    );
    expect(human.stdout).not.toContain('allow it');
    expect(JSON.parse(json.stdout).unreadable).toEqual([
      {
        queue: 'events',
        part: 'consumer',
        action: 'lambda:GetEventSourceMapping',
        explicitDeny: 'identity-based policy',
      },
      {
        queue: 'orders',
        part: 'consumer',
        action: 'lambda:GetEventSourceMapping',
        explicitDeny: 'identity-based policy',
      },
    ]);
  });

  it.each([
    [
      'a bare 403 with no name',
      Object.assign(new Error('UnknownError'), {
        name: 'Unknown',
        $fault: 'client',
        $metadata: { httpStatusCode: 403, attempts: 1 },
      }),
    ],
  ])('shows a consumer denied by %s as unknown, needing the action', async (_kind, denial) => {
    everythingReadable();
    lambda.on(GetEventSourceMappingCommand).rejects(denial);

    const human = await status();

    expect(human.code).toBe(1);
    expect(human.stdout).toContain(
      'events consumer: unknown: access denied (needs lambda:GetEventSourceMapping)\n',
    );
    expect(human.stderr).toBe('');
  });

  it('says the oldest ages are unknown for want of cloudwatch:GetMetricData, once, beside the counts it read', async () => {
    everythingReadable();
    cloudwatch.on(GetMetricDataCommand).rejects(accessDenied('cloudwatch:GetMetricData', 'AccessDenied'));

    const human = await status();
    const json = await status(['--json']);

    expect(human.code).toBe(1);
    expect(human.stdout).toContain('events         5        2          1        3    -       Enabled\n');
    expect(human.stdout.match(/cloudwatch:GetMetricData/g)).toHaveLength(2);
    expect(human.stdout).toContain('oldest: unknown: access denied (needs cloudwatch:GetMetricData)\n');
    expect(lastLine(human.stdout)).toMatch(
      /^incomplete: your AWS identity may not call cloudwatch:GetMetricData:/,
    );
    const result = JSON.parse(json.stdout);
    expect(result.queues[0]).toMatchObject({
      oldestMessageAgeSeconds: null,
      oldestMessageAgeNote: 'unknown: access denied (needs cloudwatch:GetMetricData)',
    });
    expect(result.unreadable).toEqual([
      { queue: 'events', part: 'oldest message age', action: 'cloudwatch:GetMetricData' },
      { queue: 'orders', part: 'oldest message age', action: 'cloudwatch:GetMetricData' },
    ]);
  });

  it("does not pass a paused consumer off as the operator's pause when its breaker alarm may not be read", async () => {
    everythingReadable();
    lambda
      .on(GetEventSourceMappingCommand, { UUID: EVENTS.eventSourceMappingId })
      .resolves({ State: 'Disabled', LastModified: new Date('2026-11-25T02:55:00Z') });
    lambda.on(ListTagsCommand).resolves({ Tags: {} });
    cloudwatch.on(DescribeAlarmsCommand).rejects(accessDenied('cloudwatch:DescribeAlarms'));
    const withBreaker = stackTarget();
    const target: StackTarget = {
      ...withBreaker,
      queues: { ...withBreaker.queues, events: { ...EVENTS, breakerConfigured: true } },
    };

    const human = await status([], target);
    const json = await status(['--json'], target);

    expect(human.code).toBe(1);
    expect(human.stdout).toContain(
      'events circuit breaker: unknown: access denied (needs cloudwatch:DescribeAlarms)\n',
    );
    const result = JSON.parse(json.stdout);
    expect(result.queues[0].consumer).toBe('Disabled');
    expect(result.queues[0].circuitBreaker).toBeUndefined();
    expect(result.unreadable).toEqual([
      { queue: 'events', part: 'circuit breaker', action: 'cloudwatch:DescribeAlarms' },
    ]);
  });

  it('says whether a probing breaker holds a running consumer half-open is unknown without lambda:ListTags', async () => {
    everythingReadable();
    lambda.on(ListTagsCommand).rejects(accessDenied('lambda:ListTags'));
    const probing = stackTarget();
    const target: StackTarget = {
      ...probing,
      queues: { ...probing.queues, events: { ...EVENTS, breakerConfigured: true, breakerProbes: true } },
    };

    const human = await status([], target);

    expect(human.code).toBe(1);
    expect(human.stdout).toContain(
      'events circuit breaker: unknown: access denied (needs lambda:ListTags)\n',
    );
  });

  it('leaves nothing unknown when the tag of a breaker without a probe, which writes none, may not be read', async () => {
    everythingReadable();
    lambda
      .on(GetEventSourceMappingCommand, { UUID: EVENTS.eventSourceMappingId })
      .resolves({ State: 'Disabled', LastModified: new Date('2026-11-25T02:55:00Z') });
    lambda.on(ListTagsCommand).rejects(accessDenied('lambda:ListTags'));
    cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [] });
    const withBreaker = stackTarget();
    const target: StackTarget = {
      ...withBreaker,
      queues: { ...withBreaker.queues, events: { ...EVENTS, breakerConfigured: true } },
    };

    const json = await status(['--json'], target);

    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).not.toHaveProperty('unreadable');
  });

  it('leaves nothing unknown about a paused consumer without a circuit breaker when alarms may not be read', async () => {
    everythingReadable();
    lambda
      .on(GetEventSourceMappingCommand, { UUID: EVENTS.eventSourceMappingId })
      .resolves({ State: 'Disabled', LastModified: new Date('2026-11-25T02:55:00Z') });
    lambda.on(ListTagsCommand).rejects(accessDenied('lambda:ListTags'));
    cloudwatch.on(DescribeAlarmsCommand).rejects(accessDenied('cloudwatch:DescribeAlarms'));

    const json = await status(['--json']);

    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).not.toHaveProperty('unreadable');
  });

  it("leaves a dead-letter queue of no queue (Scheduler's) unknown when it may not be read", async () => {
    everythingReadable();
    const jobSchedulesUrl = 'https://sqs.us-east-1.amazonaws.com/123456789012/Hookline-JobSchedulesDlq';
    const target: StackTarget = {
      ...stackTarget(),
      jobSchedulesDeadLetterQueue: {
        name: 'job_schedules',
        deadLetterUrl: jobSchedulesUrl,
        deadLetterArn: 'arn:aws:sqs:us-east-1:123456789012:Hookline-JobSchedulesDlq',
        holds: 'one-time jobs Scheduler could not deliver',
      },
    };
    sqs
      .on(GetQueueAttributesCommand, { QueueUrl: jobSchedulesUrl })
      .rejects(accessDenied('sqs:GetQueueAttributes'));

    const human = await status([], target);
    const json = await status(['--json'], target);

    expect(human.code).toBe(1);
    expect(human.stdout).toContain(
      'job_schedules dead letters: unknown: access denied (needs sqs:GetQueueAttributes)\n',
    );
    expect(human.stdout).not.toContain('job_schedules (one-time jobs Scheduler could not deliver):');
    const result = JSON.parse(json.stdout);
    expect(result.otherDeadLetterQueues).toEqual([
      { name: 'job_schedules', holds: 'one-time jobs Scheduler could not deliver', deadLettered: null },
    ]);
    expect(result.unreadable).toEqual([
      { queue: 'job_schedules', part: 'dead letters', action: 'sqs:GetQueueAttributes' },
    ]);
  });

  it('ends with every missing permission once, in the order the parts are shown', async () => {
    everythingReadable();
    cloudwatch.on(GetMetricDataCommand).rejects(accessDenied('cloudwatch:GetMetricData'));
    lambda.on(GetEventSourceMappingCommand).rejects(accessDenied('lambda:GetEventSourceMapping'));
    sqs
      .on(GetQueueAttributesCommand, { QueueUrl: ORDERS.url })
      .rejects(accessDenied('sqs:GetQueueAttributes'));

    const human = await status();

    expect(human.code).toBe(1);
    expect(lastLine(human.stdout)).toBe(
      'incomplete: your AWS identity may not call cloudwatch:GetMetricData, lambda:GetEventSourceMapping, sqs:GetQueueAttributes: what they read is shown as unknown; allow them to see the whole pipeline',
    );
  });

  it('exits 0 with no unreadable parts and no closing line when everything could be read', async () => {
    everythingReadable();

    const human = await status();
    const json = await status(['--json']);

    expect(human.code).toBe(0);
    expect(human.stdout).not.toMatch(/unknown|incomplete/);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).not.toHaveProperty('unreadable');
  });

  it('still fails as a whole, in one line, when a read is throttled rather than denied', async () => {
    everythingReadable();
    lambda
      .on(GetEventSourceMappingCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client' }));

    const human = await status();

    expect(human.code).toBe(1);
    expect(human.stdout).toBe('');
    expect(human.stderr).toMatch(/^error: AWS throttled the request \(ThrottlingException\) after retries/);
  });
});
