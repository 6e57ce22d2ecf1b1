/**
 * The circuit breaker Lambda, invoked by the stack's breaker alarms and, with `halfOpenAfter`, by its own probe
 * schedules. Thin: the clients and the configuration from the environment; every decision is in ./core.
 */
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  GetEventSourceMappingCommand,
  LambdaClient,
  ListTagsCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import { CreateScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { eventSourceMappingArnNear } from '../shared/aws-location';
import {
  BREAKER_CONFIG_ENV,
  BREAKER_TAG,
  type BreakerRuntimeConfig,
  type BreakerScheduleEvent,
  type BreakerSchedulerConfig,
  parseCircuitTag,
  scalingUpdate,
} from '../shared/circuit-breaker';
import { atExpression } from '../shared/iso-time';
import { logLine } from '../shared/log-line';
import { readRuntimeConfig } from '../shared/read-runtime-config';
import {
  type AlarmActionEvent,
  type BreakerAction,
  handleBreakerEvent,
  type ProbeCollaborators,
} from './core';

const whole = z.number().check(z.int(), z.positive());
const scalingSchema = z.union([
  z.object({ mode: z.literal('on-demand'), maximumConcurrency: z.optional(whole) }),
  z.object({
    mode: z.literal('provisioned'),
    minimumPollers: z.optional(whole),
    maximumPollers: z.optional(whole),
  }),
]);
const breakerRuntimeSchema = z.object({
  alarms: z.record(
    z.string(),
    z.object({
      queue: z.string().check(z.minLength(1)),
      mappingId: z.string().check(z.minLength(1)),
      probe: z.optional(
        z.object({ halfOpenAfterMinutes: whole, windowMinutes: whole, scaling: scalingSchema }),
      ),
    }),
  ),
  scheduler: z.optional(
    z.object({
      groupName: z.string().check(z.minLength(1)),
      roleArn: z.string().check(z.minLength(1)),
      deadLetterQueueArn: z.string().check(z.minLength(1)),
    }),
  ),
});

const config: BreakerRuntimeConfig = readRuntimeConfig(breakerRuntimeSchema, BREAKER_CONFIG_ENV);
const lambda = new LambdaClient({});
const cloudwatch = new CloudWatchClient({});
const scheduler = new SchedulerClient({});

/** Tags, scaling, the alarm's state and the probe schedules; the schedules invoke this very function. */
function probeCollaborators(functionArn: string): ProbeCollaborators | undefined {
  const group = config.scheduler;
  if (!group) return undefined;
  const arnOf = (uuid: string) => eventSourceMappingArnNear(functionArn, uuid) ?? uuid;
  return {
    readCircuit: async (uuid) =>
      parseCircuitTag(
        (await lambda.send(new ListTagsCommand({ Resource: arnOf(uuid) }))).Tags?.[BREAKER_TAG],
      ),
    writeCircuit: async (uuid, value) => {
      await lambda.send(new TagResourceCommand({ Resource: arnOf(uuid), Tags: { [BREAKER_TAG]: value } }));
    },
    clearCircuit: async (uuid) => {
      await lambda.send(new UntagResourceCommand({ Resource: arnOf(uuid), TagKeys: [BREAKER_TAG] }));
    },
    enableMapping: async (UUID, scaling) =>
      (
        await lambda.send(
          new UpdateEventSourceMappingCommand({ UUID, Enabled: true, ...scalingUpdate(scaling) }),
        )
      ).State,
    setScaling: async (UUID, scaling) => {
      await lambda.send(new UpdateEventSourceMappingCommand({ UUID, ...scalingUpdate(scaling) }));
    },
    alarmFiring: async (alarmName) =>
      (await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: [alarmName] }))).MetricAlarms?.[0]
        ?.StateValue === 'ALARM',
    schedule: (name, at, event) => createSchedule(name, at, event, functionArn, group),
    now: Date.now,
  };
}

async function createSchedule(
  name: string,
  at: Date,
  event: BreakerScheduleEvent,
  functionArn: string,
  group: BreakerSchedulerConfig,
): Promise<void> {
  try {
    await scheduler.send(
      new CreateScheduleCommand({
        Name: name,
        GroupName: group.groupName,
        ScheduleExpression: atExpression(at),
        ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        ActionAfterCompletion: 'DELETE',
        ClientToken: name,
        Target: {
          Arn: functionArn,
          RoleArn: group.roleArn,
          Input: JSON.stringify(event),
          // A probe or close Scheduler gave up on would otherwise vanish, leaving the consumer paused for good.
          DeadLetterConfig: { Arn: group.deadLetterQueueArn },
        },
      }),
    );
  } catch (error) {
    // The name is the step's and its time's: a schedule of that name is this one, made by an earlier attempt.
    if ((error as Error).name !== 'ConflictException') throw error;
  }
}

/** Lambda entry point; a failed call throws, so Lambda retries the asynchronous invocation. */
export const handler = (
  event: AlarmActionEvent | BreakerScheduleEvent,
  context: Pick<Context, 'invokedFunctionArn'>,
): Promise<BreakerAction> => {
  const probes = probeCollaborators(context.invokedFunctionArn);
  return handleBreakerEvent(event, {
    config,
    mappingState: async (UUID) => (await lambda.send(new GetEventSourceMappingCommand({ UUID }))).State,
    disableMapping: async (UUID) =>
      (await lambda.send(new UpdateEventSourceMappingCommand({ UUID, Enabled: false }))).State,
    ...(probes ? { probes } : {}),
    // Straight to stdout: Lambda's JSON log format would make a `console.log` argument the string of its own line.
    log: (message, attributes) =>
      process.stdout.write(`${logLine('INFO', message, 'circuit-breaker', Date.now(), attributes)}\n`),
  });
};
