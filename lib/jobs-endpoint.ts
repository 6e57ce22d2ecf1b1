/**
 * The jobs endpoint: `POST /jobs/{queue}` on the pipeline's HTTP API, so any language can enqueue jobs. Its own
 * small function (the ingest's cold start stays as lean as it is) runs the one producer; the function may send to
 * the configured queues as `grantSend` lets any producer (deleting the schedule a debounced send replaced, as a
 * cancel does, where the pipeline keeps job records), and read the token secret, nothing else.
 */
import { type Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import {
  JOBS_ENDPOINT_CONFIG_ENV,
  JOBS_ENDPOINT_ENTRY,
  type JobsEndpointRuntimeConfig,
} from '../lambda/shared/jobs-endpoint-config';
import { DEFAULTS } from './config';
import { grantSecretValue } from './grants';
import { HooklineFunction } from './hookline-function';
import type { GrantSendOptions } from './job-producers';
import { hooklineModulePath, hooklinePackageRoot } from './package-root';

/** The route, as local mode serves it too. */
export const JOBS_ROUTE_PATH = '/jobs/{queue}';

/** Properties of a {@link JobsEndpoint}. */
export interface JobsEndpointProps {
  /** The HTTP API the route is added to (the pipeline's). */
  readonly api: apigw.HttpApi;
  /** The queues (configured names) the endpoint may send to, and whether each is FIFO. */
  readonly queues: Readonly<Record<string, { readonly fifo: boolean }>>;
  /** Grants the function send to one queue (the pipeline's `grantSend`). */
  readonly grantSend: (fn: lambda.Function, queue: string, options: GrantSendOptions) => void;
  /**
   * Delays beyond 15 minutes (one-time schedules) on the standard queues.
   * @default true
   */
  readonly delays?: boolean;
  /**
   * How long the function caches the tokens it read.
   * @default - as the ingest's signing secrets (`DEFAULTS.secretCache`)
   */
  readonly secretCache: Duration;
  /**
   * What deleting the stack (or replacing the secret) does to the token secret.
   * @default RemovalPolicy.RETAIN (clients hold its tokens)
   */
  readonly removalPolicy?: RemovalPolicy;
  /** @default - DEFAULTS.logRetentionDays */
  readonly logRetention?: logs.RetentionDays;
  /** @default - DEFAULTS.tracing */
  readonly tracing?: lambda.Tracing;
}

/** The route, its function and the token secret (kept when the stack is deleted unless told otherwise: clients hold its tokens). */
export class JobsEndpoint extends Construct {
  /** Bearer tokens: a plain token, or `{"secrets":["new","old"]}` while rotating. */
  public readonly tokenSecret: secretsmanager.Secret;
  /** The function behind the route. */
  public readonly jobsFunction: HooklineFunction;

  constructor(scope: Construct, id: string, props: JobsEndpointProps) {
    super(scope, id);
    this.tokenSecret = new secretsmanager.Secret(this, 'TokenSecret', {
      description: `Bearer token(s) of the hookline jobs endpoint (${Stack.of(this).stackName}). JSON {"secrets":["new","old"]} while rotating.`,
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.jobsFunction = this.createFunction(props);
    grantSecretValue(this.tokenSecret, this.jobsFunction);
    for (const [queue, { fifo }] of Object.entries(props.queues)) {
      // It only sends jobs (its code never cancels one), but a debounced send deletes the schedule of the send it
      // replaced, so it may delete the stack's job schedules as a producer that cancels may (where the pipeline
      // keeps job records, without which `debounce` is refused: grantSend's rule).
      props.grantSend(this.jobsFunction, queue, { delays: (props.delays ?? true) && !fifo });
    }
    props.api.addRoutes({
      path: JOBS_ROUTE_PATH,
      methods: [apigw.HttpMethod.POST],
      integration: new HttpLambdaIntegration('Jobs', this.jobsFunction),
    });
  }

  private createFunction(props: JobsEndpointProps): HooklineFunction {
    const runtime: JobsEndpointRuntimeConfig = {
      tokenSecretId: this.tokenSecret.secretArn,
      secretCacheSeconds: props.secretCache.toSeconds(),
    };
    return new HooklineFunction(this, 'Function', {
      entry: hooklineModulePath(JOBS_ENDPOINT_ENTRY),
      projectRoot: hooklinePackageRoot(),
      serviceName: 'jobs-endpoint',
      memorySize: 256,
      // A caller waits for the answer, as a webhook sender does.
      timeout: DEFAULTS.ingestTimeout,
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
      ...(props.tracing ? { tracing: props.tracing } : {}),
      environment: { [JOBS_ENDPOINT_CONFIG_ENV]: Stack.of(this).toJsonString(runtime) },
      // Each queue adds its name (and, with delays, its scheduler role's name) to one variable.
      environmentFix: `list fewer queues in jobs.endpoint.queues (${Object.keys(props.queues).length} now; each adds its queue's name and, with delays, its scheduler role's name, so about 17 to 21 fit with delays and 33 to 44 without, fewer the longer the stack's and queues' names) and send to the others from app code (grantSend), split the queues over two stacks, or turn delays off (jobs.endpoint.delays: false)`,
    });
  }
}
