/**
 * The collaborators every command core receives. `bin/hookline.ts` builds the real ones; unit tests pass
 * clients mocked with aws-sdk-client-mock, a fake clock and a recording output.
 */

import { createRequire } from 'node:module';
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SQSClient } from '@aws-sdk/client-sqs';
import {
  budgetOptions,
  type ClientBudget,
  LOCAL_REQUEST_TIMEOUT_FACTOR,
} from '../../lambda/shared/aws-clients';
import type { ResolvedConfig } from '../config';
import { profileRegion } from './aws-profile';
import {
  CliError,
  CredentialsError,
  type ErrorContext,
  explainError,
  LOCAL_ANSWER_SECONDS,
  localModeNotAnswering,
  StackNotFoundError,
} from './errors';
import type { Output } from './output';
import {
  describeStackTarget,
  type LocalTarget,
  localStatePath,
  readLocalTarget,
  stacksOfConfiguration,
  type Target,
} from './target';

/** Time, injectable so rate limits and polling are testable without waiting. */
export interface Clock {
  now(): number;
  /** Waits `ms`, or less when `signal` is aborted meanwhile (Ctrl-C ends a wait, not the wait the command). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** A `fetch`-compatible function (local control API and `send`). */
export type HttpFetch = (url: string, init?: RequestInit) => Promise<Response>;

/**
 * Everything a command core talks to. {@link connect} creates each AWS client on first use, so a command loads
 * only the SDK packages it talks to (`status --local` only SQS).
 */
export interface Backend {
  readonly sqs: SQSClient;
  readonly lambda: LambdaClient;
  readonly cloudformation: CloudFormationClient;
  readonly cloudwatch: CloudWatchClient;
  /** Reads a deployed source's signing secret for `send`. */
  readonly secretsManager: SecretsManagerClient;
  /** Reads the event archive (`replay`). */
  readonly s3?: S3Client;
  /** Runs Logs Insights queries (`trace` on a deployed stack). */
  readonly logs?: CloudWatchLogsClient;
  /** Lists the one-time job schedules (`status` on a deployed stack counts the jobs waiting in them). */
  readonly scheduler?: SchedulerClient;
  readonly http: HttpFetch;
  readonly clock: Clock;
  readonly output: Output;
  /**
   * How long a receive waits before a queue counts as empty for it: SQS's long poll asks every server, which a
   * short poll only samples; local mode's emulator keeps each queue in one store, so it answers at once.
   * @default 1
   */
  readonly emptyReceiveWaitSeconds?: number;
}

/** Waits `ms`, or less when the signal is aborted meanwhile: the timer is cleared, so it holds no exit up. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: pause,
};

/** How the operator chose the target. */
export interface TargetOptions {
  /** Use the running local mode. */
  readonly local?: boolean;
  /** Deployed stack name. @default the configuration's stackName ('Hookline') */
  readonly stack?: string;
  /** AWS region. @default AWS_REGION, AWS_DEFAULT_REGION, the profile's region, else us-east-1 */
  readonly region?: string;
  /** Path of the configuration module. @default hookline.config.ts in the working directory */
  readonly config?: string;
}

/** Bounded SDK retries (standard mode backs off on throttling) so a stuck call fails in seconds, not minutes. */
const AWS_BUDGET: ClientBudget = { maxAttempts: 5, connectionTimeoutMs: 3_000, requestTimeoutMs: 20_000 };
const AWS_CLIENT_DEFAULTS = budgetOptions(AWS_BUDGET, { local: false });

/**
 * Local mode's emulators: one retry (they do not throttle), and {@link LOCAL_ANSWER_SECONDS} for each request once
 * the local factor is applied, so a stopped or stuck local mode ends the command instead of holding it.
 */
const LOCAL_BUDGET: ClientBudget = {
  maxAttempts: 2,
  connectionTimeoutMs: 3_000,
  requestTimeoutMs: (LOCAL_ANSWER_SECONDS * 1_000) / LOCAL_REQUEST_TIMEOUT_FACTOR,
};

/**
 * SDK client options for local mode's emulator at `endpoint` (every CLI client of local mode is made from these):
 * its region, the dummy credentials it accepts (explicit ones keep the CLI from searching profiles) and the
 * local budget.
 */
export function localClientConfig(target: Pick<LocalTarget, 'region'>, endpoint?: string) {
  return {
    region: target.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    ...budgetOptions(LOCAL_BUDGET, { local: true }),
    ...(endpoint !== undefined ? { endpoint } : {}),
  };
}

/** SDK client options for a deployed stack in `region`. */
export function awsClientConfig(region: string) {
  return { region, ...AWS_CLIENT_DEFAULTS };
}

/**
 * `fetch` that gives up after `seconds` for the whole answer, body included (read here, so a body that stalls
 * half-way fails here too), with `timedOut(url)` as the error; other failures are fetch's own.
 */
export function boundedFetch(seconds: number, timedOut: (url: string) => Error): HttpFetch {
  return async (url, init) => {
    const deadline = AbortSignal.timeout(seconds * 1_000);
    const signal = init?.signal ? AbortSignal.any([init.signal, deadline]) : deadline;
    try {
      const response = await fetch(url, { ...init, signal });
      const body = await response.arrayBuffer();
      return new Response(body.byteLength > 0 ? body : null, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
    } catch (error) {
      if (deadline.aborted && !init?.signal?.aborted) throw timedOut(url);
      throw error;
    }
  };
}

/** The AWS clients of a {@link Backend}, by property. */
type ClientName =
  | 'sqs'
  | 'lambda'
  | 'cloudformation'
  | 'cloudwatch'
  | 'secretsManager'
  | 's3'
  | 'logs'
  | 'scheduler';
type Clients = { [K in ClientName]-?: NonNullable<Backend[K]> };
type ClientConfig = Readonly<Record<string, unknown>>;

/**
 * The SDK packages are CommonJS (no `exports` map), so `require` returns the very module `import` would; a
 * synchronous `require` on first use keeps `backend.sqs.send(...)` as it is for every core.
 */
const requirePackage = createRequire(import.meta.url);

const CLIENT_CLASSES: { [K in ClientName]: () => new (config: ClientConfig) => Clients[K] } = {
  sqs: () => (requirePackage('@aws-sdk/client-sqs') as typeof import('@aws-sdk/client-sqs')).SQSClient,
  lambda: () =>
    (requirePackage('@aws-sdk/client-lambda') as typeof import('@aws-sdk/client-lambda')).LambdaClient,
  cloudformation: () =>
    (requirePackage('@aws-sdk/client-cloudformation') as typeof import('@aws-sdk/client-cloudformation'))
      .CloudFormationClient,
  cloudwatch: () =>
    (requirePackage('@aws-sdk/client-cloudwatch') as typeof import('@aws-sdk/client-cloudwatch'))
      .CloudWatchClient,
  secretsManager: () =>
    (requirePackage('@aws-sdk/client-secrets-manager') as typeof import('@aws-sdk/client-secrets-manager'))
      .SecretsManagerClient,
  s3: () => (requirePackage('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3')).S3Client,
  logs: () =>
    (requirePackage('@aws-sdk/client-cloudwatch-logs') as typeof import('@aws-sdk/client-cloudwatch-logs'))
      .CloudWatchLogsClient,
  scheduler: () =>
    (requirePackage('@aws-sdk/client-scheduler') as typeof import('@aws-sdk/client-scheduler'))
      .SchedulerClient,
};

/** Loads a client's SDK package and creates the client. */
function createClient<K extends ClientName>(name: K, config: ClientConfig): Clients[K] {
  const ClientClass = CLIENT_CLASSES[name]();
  return new ClientClass(config);
}

/**
 * A backend whose clients are created on first read, each from its entry in `configs` (a client without one is
 * absent), so a command loads and configures only the clients it uses.
 */
function lazyBackend(
  configs: { readonly [K in ClientName]?: ClientConfig },
  services: Pick<Backend, 'http' | 'clock' | 'output' | 'emptyReceiveWaitSeconds'>,
  created: Partial<Clients> = {},
): Backend {
  const backend: Record<string, unknown> = { ...services };
  for (const name of Object.keys(configs) as ClientName[]) {
    const config = configs[name] as ClientConfig;
    let client: unknown = created[name];
    Object.defineProperty(backend, name, {
      enumerable: true,
      get: () => {
        client ??= createClient(name, config);
        return client;
      },
    });
  }
  return backend as unknown as Backend;
}

/**
 * Loads and validates the configuration with the same loader as the CDK app and local mode: `path` (`--config`),
 * else `HOOKLINE_CONFIG`, else `hookline.config.ts` in the working directory.
 */
export async function loadConfig(
  path: string | undefined,
  env: Record<string, string | undefined>,
): Promise<ResolvedConfig> {
  // Loaded on first use: the configuration brings aws-cdk-lib (Duration), which local-mode commands never need.
  const { configFailureMessage, configPath, readConfig } = await import('../load-config');
  try {
    // Consumers' handlers are checked at synth and local start: the CLI runs none, and an operator's command on a
    // deployed stack must not wait on (or be refused by) a consumer's code.
    return await readConfig(configPath(env, path), undefined, false, false);
  } catch (error) {
    const message = configFailureMessage(error);
    if (message === undefined) throw error;
    // The message already names its fix (a missing file: --config or HOOKLINE_CONFIG); a hint to look elsewhere
    // would mislead about a file that was found and is invalid.
    throw new CliError(message);
  }
}

/** The error context for messages about a target. */
export function contextOf(target: Target, queue?: string): ErrorContext {
  return {
    target: target.description,
    local: target.kind === 'local',
    ...(queue ? { queue } : {}),
    ...(target.kind === 'stack' ? { stackName: target.stackName, region: target.region } : {}),
  };
}

/** A command's failure as {@link explainError} tells it for `target` (an unexpected error comes back unchanged). */
export function explainFailure(error: unknown, target: Target): unknown {
  return explainError(error, contextOf(target));
}

/** Resolves the target and a backend for it (its clients are created on first use). */
export async function connect(
  options: TargetOptions,
  output: Output,
  env: Record<string, string | undefined>,
  loadConfiguration: () => Promise<ResolvedConfig> = () => loadConfig(options.config, env),
): Promise<{ target: Target; backend: Backend; config?: ResolvedConfig }> {
  if (options.local) return connectLocal(env, { clock: systemClock, output });
  const services = { http: ((url, init) => fetch(url, init)) as HttpFetch, clock: systemClock, output };
  const config = await loadConfiguration();
  const region = options.region ?? defaultRegion(env);
  const stackName = options.stack ?? config.stackName;
  const aws = awsClientConfig(region);
  const cloudformation = createClient('cloudformation', aws);
  let target: Target;
  try {
    target = await describeStackTarget(cloudformation, stackName, region, config);
  } catch (error) {
    const explained = explainError(error, {
      target: `stack ${stackName} in ${region}`,
      local: false,
      stackName,
      region,
    });
    if (!(explained instanceof StackNotFoundError)) throw withLocalModeHint(explained, env);
    // Dev and prod deployed from one configuration: name them, so the operator picks one with --stack.
    throw withLocalModeHint(
      new StackNotFoundError(stackName, region, await stacksOfConfiguration(cloudformation, config)),
      env,
    );
  }
  const configs = {
    sqs: aws,
    lambda: aws,
    cloudformation: aws,
    cloudwatch: aws,
    secretsManager: aws,
    s3: aws,
    logs: aws,
    scheduler: aws,
  };
  return { target, config, backend: lazyBackend(configs, services, { cloudformation }) };
}

/**
 * The region without `--region`, in the order `cdk deploy` takes it, so the CLI finds the stack where it was
 * deployed: `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`, else us-east-1. An exported but empty
 * variable is unset: taken as the region, it fails in the SDK instead of falling back.
 */
export function defaultRegion(env: Readonly<Record<string, string | undefined>>): string {
  return env.AWS_REGION || env.AWS_DEFAULT_REGION || profileRegion(env) || 'us-east-1';
}

/**
 * A command that found no AWS credentials or no stack, run where local mode is running, was most likely meant for
 * local mode: its error also names `--local`. Any other error, or no local mode here, comes back unchanged.
 */
function withLocalModeHint(error: unknown, env: Record<string, string | undefined>): unknown {
  if (!(error instanceof CredentialsError || error instanceof StackNotFoundError)) return error;
  try {
    readLocalTarget(localStatePath(env));
  } catch {
    return error;
  }
  error.message = `${error.message}; or, for the local mode running in this project, add --local`;
  return error;
}

/** The running local mode, from its state file; no configuration is loaded. */
function connectLocal(
  env: Record<string, string | undefined>,
  services: Pick<Backend, 'clock' | 'output'>,
): { target: Target; backend: Backend } {
  const target = readLocalTarget(localStatePath(env));
  const local = localClientConfig(target);
  const configs = {
    sqs: localClientConfig(target, target.endpoints.sqs),
    lambda: local,
    cloudformation: local,
    cloudwatch: local,
    secretsManager: local,
    ...(target.endpoints.s3
      ? { s3: { ...localClientConfig(target, target.endpoints.s3), forcePathStyle: true } }
      : {}),
  };
  // The control API and the webhook URLs (`send --local`) are local mode's own server: bounded as its emulators.
  const http = boundedFetch(LOCAL_ANSWER_SECONDS, (url) => localModeNotAnswering(new URL(url).host));
  return { target, backend: lazyBackend(configs, { ...services, http, emptyReceiveWaitSeconds: 0 }) };
}
