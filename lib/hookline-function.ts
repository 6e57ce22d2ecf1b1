import * as path from 'node:path';
import { type Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { metricsNamespaceOf } from '../lambda/shared/contracts';
import { DEFAULTS } from './config';
import { enumMember, propShapeViolations, propsWithout } from './config/parse-shape';
import { LOG_RETENTION_DAYS } from './config/schema';
import { propTokenViolations } from './config/tokens';
import { ESM_REQUIRE_BANNER } from './esm-require-banner';
import { checkEnvironmentSize } from './function-environment';
import { bundleRootOf, findLockFile, projectRootOf } from './project-root';
import {
  functionViolations,
  POWERTOOLS_ENV,
  reservedConcurrencyViolations,
  throwIfViolations,
} from './validation';
import type { Violation } from './violations';

export { findLockFile, projectRootOf } from './project-root';

/** The default log retention, as the CDK enum (whose values are the days). */
export const defaultLogRetention = (): logs.RetentionDays => DEFAULTS.logRetentionDays as logs.RetentionDays;

/** The default tracing mode, as the CDK enum. */
export const defaultTracing = (): lambda.Tracing =>
  DEFAULTS.tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED;

/** A function's log retention: a period CloudWatch Logs accepts, as the configuration's `logRetentionDays`. */
export const LOG_RETENTION_PROP = enumMember(
  'RetentionDays',
  logs.RetentionDays as unknown as Readonly<Record<string, number>>,
  [...LOG_RETENTION_DAYS, logs.RetentionDays.INFINITE],
  'a retention CloudWatch Logs accepts',
);

/** A function's X-Ray tracing mode. */
export const TRACING_PROP = enumMember(
  'Tracing',
  lambda.Tracing,
  Object.values(lambda.Tracing),
  'a Lambda tracing mode',
);

/** Properties for a {@link HooklineFunction}. */
export interface HooklineFunctionProps {
  /**
   * Path of the TypeScript entry file, absolute or relative to `projectRoot`.
   */
  readonly entry: string;

  /**
   * The app's root: relative entries resolve against it, and bundling uses the nearest lockfile at or above it. An
   * empty path is refused (leave it out for the working directory).
   *
   * @default - the working directory (where cdk.json is)
   */
  readonly projectRoot?: string;

  /**
   * Prebuilt code (a folder whose `index.mjs` exports the handler) instead of bundling `entry`.
   *
   * @default - `entry` is bundled with esbuild
   */
  readonly code?: lambda.Code;

  /**
   * Exported handler name.
   *
   * @default DEFAULTS.handler ('handler')
   */
  readonly handler?: string;

  /**
   * Function timeout.
   *
   * @default DEFAULTS.functionTimeout (30 seconds)
   */
  readonly timeout?: Duration;

  /**
   * Memory in MB.
   *
   * @default DEFAULTS.functionMemorySize (512)
   */
  readonly memorySize?: number;

  /**
   * Environment variables.
   *
   * @default - none besides the Powertools settings
   */
  readonly environment?: Readonly<Record<string, string>>;

  /**
   * Retention of the function's log group.
   *
   * @default DEFAULTS.logRetentionDays (30 days)
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Powertools service name (logs and metrics).
   *
   * @default - the construct id
   */
  readonly serviceName?: string;

  /**
   * X-Ray tracing mode. `Tracing.ACTIVE` also grants `xray:PutTraceSegments` and `xray:PutTelemetryRecords`,
   * which X-Ray only accepts on `*`.
   *
   * @default - DEFAULTS.tracing (disabled)
   */
  readonly tracing?: lambda.Tracing;

  /**
   * Concurrent executions reserved for the function (also the most it may run).
   *
   * @default - none reserved
   */
  readonly reservedConcurrency?: number;

  /**
   * What shrinks this function's environment, should it outgrow Lambda's 4 KB (checked at synthesis).
   *
   * @default - shorten its variables, or read large values at start instead
   */
  readonly environmentFix?: string;
}

/**
 * Every problem of the props at once: a prop of the wrong kind is reported and left out, so the range rules
 * compute with the rest.
 */
function functionPropsViolations(given: HooklineFunctionProps): Violation[] {
  const shape = propShapeViolations({
    entry: ['filledText', given.entry],
    projectRoot: ['filledText', given.projectRoot],
    handler: ['filledText', given.handler],
    timeout: ['seconds', given.timeout],
    memorySize: ['count', given.memorySize],
    serviceName: ['text', given.serviceName],
    reservedConcurrency: ['count', given.reservedConcurrency],
    logRetention: [LOG_RETENTION_PROP, given.logRetention],
    tracing: [TRACING_PROP, given.tracing],
  });
  const props = propsWithout(given, shape);
  return [
    ...shape,
    ...propTokenViolations({}, { timeout: props.timeout }),
    ...functionViolations({
      timeout: props.timeout ?? DEFAULTS.functionTimeout,
      memorySize: props.memorySize ?? DEFAULTS.functionMemorySize,
      ...(props.environment ? { environment: props.environment } : {}),
    }),
    ...reservedConcurrencyViolations(props.reservedConcurrency),
  ];
}

/**
 * A Node.js function with hookline's production defaults, in one place:
 * - `nodejs24.x` on arm64 (cheaper and faster to start than x86_64);
 * - bundled with esbuild as ESM, minified, with source maps, AWS SDK included (a bundled SDK starts faster);
 * - an explicit log group with retention, destroyed with the stack, and a role that may write to that log group
 *   and nowhere else (not AWSLambdaBasicExecutionRole, which allows every log group of the account);
 * - JSON log format and Powertools settings (metrics namespace `Hookline/<stack name>`);
 * - its environment checked against Lambda's 4 KB at synthesis (`checkEnvironmentSize`).
 */
export class HooklineFunction extends nodejs.NodejsFunction {
  constructor(scope: Construct, id: string, props: HooklineFunctionProps) {
    // Checked before anything is added to the scope: CloudFormation would refuse these only at deploy.
    throwIfViolations(
      `HooklineFunction ${[scope.node.path, id].filter(Boolean).join('/')}`,
      functionPropsViolations(props),
    );
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? defaultLogRetention(),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(scope, `${id}ServiceRole`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    // The log group exists before the function, so Lambda needs no logs:CreateLogGroup.
    logGroup.grant(role, 'logs:CreateLogStream', 'logs:PutLogEvents');
    const projectRoot = projectRootOf(props.projectRoot);
    const lockFile = findLockFile(projectRoot);
    super(scope, id, {
      entry: path.resolve(projectRoot, props.entry),
      handler: props.code
        ? `index.${props.handler ?? DEFAULTS.handler}`
        : (props.handler ?? DEFAULTS.handler),
      ...(props.code ? { code: props.code } : {}),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout ?? DEFAULTS.functionTimeout,
      memorySize: props.memorySize ?? DEFAULTS.functionMemorySize,
      role,
      logGroup,
      tracing: props.tracing ?? defaultTracing(),
      ...(props.reservedConcurrency !== undefined
        ? { reservedConcurrentExecutions: props.reservedConcurrency }
        : {}),
      loggingFormat: lambda.LoggingFormat.JSON,
      // Bundling runs in the lockfile's folder (the workspace root, when the app is a workspace package).
      projectRoot: bundleRootOf(projectRoot),
      ...(lockFile ? { depsLockFilePath: lockFile } : {}),
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        [POWERTOOLS_ENV.serviceName]: props.serviceName ?? id,
        [POWERTOOLS_ENV.metricsNamespace]: metricsNamespaceOf(Stack.of(scope).stackName),
        ...props.environment,
      },
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: 'node24',
        minify: true,
        sourceMap: true,
        bundleAwsSDK: true,
        mainFields: ['module', 'main'],
        // CommonJS dependencies inside an ESM bundle need a real `require`.
        banner: ESM_REQUIRE_BANNER,
      },
    });
    checkEnvironmentSize(
      this,
      props.environmentFix ??
        'shorten its environment variables, or read large values at start (SSM Parameter Store, Secrets Manager, S3)',
    );
  }
}
