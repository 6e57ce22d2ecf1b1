/**
 * The collaborators every command core receives. `bin/hookline.ts` builds the real ones; unit tests pass
 * clients mocked with aws-sdk-client-mock, a fake clock and a recording output.
 */

import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { ResolvedConfig } from '../config';
import { configFailureMessage, configPath, readConfig } from '../load-config';
import { CliError, type ErrorContext, explainError } from './errors';
import type { Output } from './output';
import { describeStackTarget, localStatePath, readLocalTarget, type Target } from './target';

/** Time, injectable so rate limits and polling are testable without waiting. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** A `fetch`-compatible function (local control API and `send`). */
export type HttpFetch = (url: string, init?: RequestInit) => Promise<Response>;

/** Everything a command core talks to. */
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
  readonly http: HttpFetch;
  readonly clock: Clock;
  readonly output: Output;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((done) => setTimeout(done, ms)),
};

/** How the operator chose the target. */
export interface TargetOptions {
  /** Use the running local mode. */
  readonly local?: boolean;
  /** Deployed stack name. @default the configuration's stackName ('Hookline') */
  readonly stack?: string;
  /** AWS region. @default AWS_REGION, AWS_DEFAULT_REGION, else us-east-1 */
  readonly region?: string;
  /** Path of the configuration module. @default hookline.config.ts in the working directory */
  readonly config?: string;
}

/** Bounded SDK retries (standard mode backs off on throttling) so a stuck call fails in seconds, not minutes. */
const AWS_CLIENT_DEFAULTS = {
  maxAttempts: 5,
  requestHandler: { connectionTimeout: 3_000, requestTimeout: 20_000 },
};

/**
 * Loads and validates the configuration with the same loader as the CDK app and local mode: `path` (`--config`),
 * else `HOOKLINE_CONFIG`, else `hookline.config.ts` in the working directory.
 */
export async function loadConfig(
  path?: string,
  env: Record<string, string | undefined> = process.env,
): Promise<ResolvedConfig> {
  try {
    return await readConfig(configPath(env, path));
  } catch (error) {
    const message = configFailureMessage(error);
    if (message === undefined) throw error;
    throw new CliError(`${message}\n(run from the project folder, or pass --config or HOOKLINE_CONFIG)`);
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

/** Resolves the target and builds real SDK clients for it. */
export async function connect(
  options: TargetOptions,
  output: Output,
  env: Record<string, string | undefined> = process.env,
  loadConfiguration: () => Promise<ResolvedConfig> = () => loadConfig(options.config),
): Promise<{ target: Target; backend: Backend; config?: ResolvedConfig }> {
  const http: HttpFetch = (url, init) => fetch(url, init);
  if (options.local) {
    const target = readLocalTarget(localStatePath(env));
    // The emulator accepts any credentials; explicit ones keep the CLI from searching profiles.
    const local = {
      region: target.region,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 2,
    };
    return {
      target,
      backend: {
        sqs: new SQSClient({ ...local, endpoint: target.endpoints.sqs }),
        lambda: new LambdaClient(local),
        cloudformation: new CloudFormationClient(local),
        cloudwatch: new CloudWatchClient(local),
        secretsManager: new SecretsManagerClient(local),
        ...(target.endpoints.s3
          ? { s3: new S3Client({ ...local, endpoint: target.endpoints.s3, forcePathStyle: true }) }
          : {}),
        http,
        clock: systemClock,
        output,
      },
    };
  }
  const config = await loadConfiguration();
  const region = options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const stackName = options.stack ?? config.stackName;
  const aws = { region, ...AWS_CLIENT_DEFAULTS };
  const cloudformation = new CloudFormationClient(aws);
  let target: Target;
  try {
    target = await describeStackTarget(cloudformation, stackName, region, config);
  } catch (error) {
    throw explainError(error, { target: `stack ${stackName} in ${region}`, local: false, stackName, region });
  }
  return {
    target,
    config,
    backend: {
      sqs: new SQSClient(aws),
      lambda: new LambdaClient(aws),
      cloudformation,
      cloudwatch: new CloudWatchClient(aws),
      secretsManager: new SecretsManagerClient(aws),
      s3: new S3Client(aws),
      logs: new CloudWatchLogsClient(aws),
      http,
      clock: systemClock,
      output,
    },
  };
}
