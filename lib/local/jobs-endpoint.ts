/**
 * Local mode's jobs endpoint: the same function as the stack's (`lambda/jobs-endpoint/handler.ts`), given the
 * environment the stack's `grantSend` would give it (its queues with the emulator as SQS endpoint, the producer
 * settings), the local one-time scheduler's endpoint, and its token from `HOOKLINE_JOBS_TOKEN` (an `env:` secret,
 * as sources' are).
 */
import { parseSecretValue } from '../../lambda/ingest/secrets';
import { jobsTokenProblem } from '../../lambda/jobs-endpoint/core';
import {
  JOBS_ENDPOINT_CONFIG_ENV,
  JOBS_ENDPOINT_ENTRY,
  type JobsEndpointRuntimeConfig,
  LOCAL_JOBS_TOKEN_ENV,
} from '../../lambda/shared/jobs-endpoint-config';
import {
  type GrantedQueue,
  jobScheduleNamePrefix,
  PRODUCER_CONFIG_ENV,
  PRODUCER_QUEUES_ENV,
  type ProducerQueuesVariable,
  type ProducerSettings,
} from '../../lambda/shared/producer-config';
import type { ResolvedConfig } from '../config';
import { hooklineModulePath } from '../package-root';
import { producerClaimSettingsOf } from '../runtime-wiring';
import { emulatorLocation, type LocalTopology, nameInUrl } from './topology';

/** The development token when `HOOKLINE_JOBS_TOKEN` is unset, so the README's curl works out of the box. */
export const DEFAULT_LOCAL_JOBS_TOKEN = 'dev-jobs-token';

/** The entry local mode bundles for the jobs endpoint. */
export const LOCAL_JOBS_ENDPOINT_ENTRY = hooklineModulePath(JOBS_ENDPOINT_ENTRY);

export function jobsFunctionName(config: ResolvedConfig): string {
  return `${config.stackName}-jobs-endpoint`;
}

/**
 * The token the local endpoint accepts: the environment's when set, else the development default. Set empty, it
 * is set (and refused by `localJobsTokenProblem`), as a source's signing secret is: most often `$TOKEN` unset, and
 * the published default instead would quietly open the endpoint to anyone who read the README.
 */
export function localJobsToken(env: Readonly<Record<string, string | undefined>>): string {
  return env[LOCAL_JOBS_TOKEN_ENV] ?? DEFAULT_LOCAL_JOBS_TOKEN;
}

/** Where that token comes from, for a person (the value itself only when it is the public default). */
export function localJobsTokenOrigin(env: Readonly<Record<string, string | undefined>>): string {
  return env[LOCAL_JOBS_TOKEN_ENV] !== undefined
    ? `from ${LOCAL_JOBS_TOKEN_ENV}`
    : `dev default "${DEFAULT_LOCAL_JOBS_TOKEN}"`;
}

/**
 * What is wrong with `HOOKLINE_JOBS_TOKEN` when it is set to a value the endpoint reads no token from (empty or
 * blank, a JSON object without a "secrets" list, a JSON list) or to a token no caller can send (one holding whitespace): every
 * job would be answered 503, so local mode refuses to start with it. The value is read as the endpoint reads it.
 */
export function localJobsTokenProblem(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const value = env[LOCAL_JOBS_TOKEN_ENV];
  if (value === undefined) return undefined;
  let problem: string | undefined;
  try {
    problem = parseSecretValue(value)
      .map(jobsTokenProblem)
      .find((p) => p !== undefined);
  } catch (error) {
    problem = (error as Error).message;
  }
  return problem === undefined
    ? undefined
    : `unusable jobs endpoint token in the environment: ${LOCAL_JOBS_TOKEN_ENV}: ${problem}\nFix: set it to the token callers send (or {"secrets":["new","old"]}), or unset it for the development default, then start again`;
}

/** The jobs endpoint function's own variables (on top of every local function's). */
export function localJobsEnvironment(
  config: ResolvedConfig,
  endpoint: NonNullable<ResolvedConfig['jobsEndpoint']>,
  topology: LocalTopology,
  schedulerUrl: string,
  env: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const runtime: JobsEndpointRuntimeConfig = {
    tokenSecretId: `env:${LOCAL_JOBS_TOKEN_ENV}`,
    secretCacheSeconds: config.ingest.secretCache.toSeconds(),
  };
  return {
    [PRODUCER_QUEUES_ENV]: JSON.stringify(localProducerQueues(config, endpoint, topology)),
    [PRODUCER_CONFIG_ENV]: JSON.stringify(producerSettings(config, topology)),
    [JOBS_ENDPOINT_CONFIG_ENV]: JSON.stringify(runtime),
    [LOCAL_JOBS_TOKEN_ENV]: localJobsToken(env),
    AWS_ENDPOINT_URL_SCHEDULER: schedulerUrl,
  };
}

/**
 * The endpoint's queues as `JobProducers` grants them: their emulator names, and a scheduler role on each
 * delayable queue (never on a FIFO queue). Where they are is read from the emulator's own URL and ARN.
 */
export function localProducerQueues(
  config: ResolvedConfig,
  endpoint: NonNullable<ResolvedConfig['jobsEndpoint']>,
  topology: LocalTopology,
): ProducerQueuesVariable {
  const role = `${config.stackName}-job-scheduler`;
  const local = endpoint.queues.flatMap((name) => {
    const queue = topology.queues[name];
    return queue ? [queue] : [];
  });
  const queues = Object.fromEntries(
    local.map((queue): [string, GrantedQueue] => [
      queue.name,
      { queue: nameInUrl(queue.url), ...(endpoint.delays && !queue.fifo ? { role } : {}) },
    ]),
  );
  return { ...emulatorLocation(local), queues };
}

function producerSettings(config: ResolvedConfig, topology: LocalTopology): ProducerSettings {
  return {
    ...producerClaimSettingsOf(config, topology.resources),
    scheduler: { namePrefix: jobScheduleNamePrefix(config.stackName) },
  };
}
