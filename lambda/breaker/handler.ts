/**
 * The circuit breaker Lambda, invoked by the stack's breaker alarms. Thin: the Lambda client and the
 * configuration from the environment; every decision is in ./core.
 */
import {
  GetEventSourceMappingCommand,
  LambdaClient,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import * as z from 'zod/mini';
import { BREAKER_CONFIG_ENV } from '../shared/circuit-breaker';
import { readRuntimeConfig } from '../shared/read-runtime-config';
import { type AlarmActionEvent, type BreakerAction, handleBreakerAlarm } from './core';

const breakerRuntimeSchema = z.object({
  alarms: z.record(
    z.string(),
    z.object({ queue: z.string().check(z.minLength(1)), mappingId: z.string().check(z.minLength(1)) }),
  ),
});

const config = readRuntimeConfig(breakerRuntimeSchema, BREAKER_CONFIG_ENV);
const lambda = new LambdaClient({});

/** Lambda entry point; a failed call throws, so Lambda retries the asynchronous invocation. */
export const handler = (event: AlarmActionEvent): Promise<BreakerAction> =>
  handleBreakerAlarm(event, {
    config,
    mappingState: async (UUID) => (await lambda.send(new GetEventSourceMappingCommand({ UUID }))).State,
    disableMapping: async (UUID) =>
      (await lambda.send(new UpdateEventSourceMappingCommand({ UUID, Enabled: false }))).State,
    log: (message, attributes) =>
      console.log(JSON.stringify({ level: 'INFO', message, service: 'circuit-breaker', ...attributes })),
  });
