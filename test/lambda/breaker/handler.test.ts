/**
 * The breaker function's edge over faked SDK clients: the one-time schedules it creates for a probe name the
 * dead-letter queue its configuration gives, so a probe Scheduler cannot deliver is kept rather than dropped.
 */
import {
  GetEventSourceMappingCommand,
  LambdaClient,
  ListTagsCommand,
  TagResourceCommand,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import { CreateScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  BREAKER_CONFIG_ENV,
  type BreakerRuntimeConfig,
  breakerAlarmName,
} from '../../../lambda/shared/circuit-breaker';
import { lambdaJsonLogEvents } from '../../helpers/lambda-json-log';

const ALARM = breakerAlarmName('Shop', 'events');
const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:Shop-Breaker';
const DEAD_LETTER_QUEUE_ARN = 'arn:aws:sqs:us-east-1:123456789012:Shop-ProbeScheduleDeadLetterQueue';
const config: BreakerRuntimeConfig = {
  alarms: {
    [ALARM]: {
      queue: 'events',
      mappingId: 'uuid-events',
      probe: { halfOpenAfterMinutes: 10, windowMinutes: 5, scaling: { mode: 'on-demand' } },
    },
  },
  scheduler: {
    groupName: 'Shop-probes',
    roleArn: 'arn:aws:iam::123456789012:role/Shop-ProbeSchedulerRole',
    deadLetterQueueArn: DEAD_LETTER_QUEUE_ARN,
  },
};

const lambda = mockClient(LambdaClient);
const scheduler = mockClient(SchedulerClient);

/** The handler as Lambda loads it: its configuration read once from the environment. */
async function loadHandler(runtime: unknown) {
  vi.stubEnv(BREAKER_CONFIG_ENV, JSON.stringify(runtime));
  vi.resetModules();
  return (await import('../../../lambda/breaker/handler')).handler;
}

describe('the breaker function', () => {
  beforeEach(() => {
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
    lambda.reset();
    scheduler.reset();
    lambda.on(GetEventSourceMappingCommand).resolves({ State: 'Enabled' });
    lambda.on(ListTagsCommand).resolves({ Tags: {} });
    lambda.on(TagResourceCommand).resolves({});
    lambda.on(UpdateEventSourceMappingCommand).resolves({ State: 'Disabling' });
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn' });
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it("creates a trip's probe schedule with the configured dead-letter queue as its target's", async () => {
    const handler = await loadHandler(config);
    await handler(
      { alarmData: { alarmName: ALARM, state: { value: 'ALARM', reason: 'Threshold Crossed' } } },
      { invokedFunctionArn: FUNCTION_ARN },
    );
    const created = scheduler.commandCalls(CreateScheduleCommand).map((call) => call.args[0].input);
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({
      GroupName: 'Shop-probes',
      Target: {
        Arn: FUNCTION_ARN,
        RoleArn: config.scheduler?.roleArn,
        Input: JSON.stringify({ hooklineCircuitBreaker: 'probe', alarmName: ALARM }),
        DeadLetterConfig: { Arn: DEAD_LETTER_QUEUE_ARN },
      },
    });
  });

  it("writes each line whole under Lambda's JSON log format: its message and fields at the top, where filters and Logs Insights read them", async () => {
    const handler = await loadHandler(config);
    const events = await lambdaJsonLogEvents(() =>
      handler(
        { alarmData: { alarmName: ALARM, state: { value: 'ALARM', reason: 'Threshold Crossed' } } },
        { invokedFunctionArn: FUNCTION_ARN },
      ),
    );
    expect(events).toContainEqual(
      expect.objectContaining({
        level: 'INFO',
        message: 'circuit breaker paused the consumer',
        service: 'circuit-breaker',
        queue: 'events',
        mappingId: 'uuid-events',
        alarmName: ALARM,
        timestamp: expect.any(String),
      }),
    );
  });

  it('refuses a scheduler configuration without a dead-letter queue when it loads, naming the field', async () => {
    const { deadLetterQueueArn: _, ...withoutDeadLetters } = config.scheduler ?? {};
    await expect(loadHandler({ ...config, scheduler: withoutDeadLetters })).rejects.toThrow(
      `${BREAKER_CONFIG_ENV} is invalid at scheduler.deadLetterQueueArn`,
    );
  });

  it('refuses a scheduler configuration whose dead-letter queue is empty when it loads, naming the field', async () => {
    const scheduler = { ...config.scheduler, deadLetterQueueArn: '' };
    await expect(loadHandler({ ...config, scheduler })).rejects.toThrow(
      `${BREAKER_CONFIG_ENV} is invalid at scheduler.deadLetterQueueArn`,
    );
  });
});
