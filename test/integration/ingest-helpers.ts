/**
 * Shared set-up of the ingest integration tests: embedded emulators, the topology built from a resolved
 * configuration, and the environment the real handler module reads at import time.
 */
import { type AddressInfo, createServer as createNetServer, type Socket } from 'node:net';
import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { Duration } from 'aws-cdk-lib';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import {
  INGEST_CONFIG_ENV,
  type IngestConfigVariable,
  type SourceRuntimeConfig,
} from '../../lambda/shared/runtime-config';
import { signWebhook } from '../../lambda/shared/webhook-signing';
import { defineConfig, type ResolvedConfig, resolveConfig } from '../../lib/config';
import type { Emulators } from '../../lib/local/emulators';
import { secretEnvName } from '../../lib/local/secrets';
import type { LocalTopology } from '../../lib/local/topology';
import { ingestRuntimeConfig } from '../../lib/runtime-wiring';

export const TEST_SECRETS: Record<string, string> = {
  github: 'it-github-secret',
  stripe: 'whsec_it_stripe',
  slack: 'it-slack-secret',
  shopify: 'it-shopify-secret',
  standard: `whsec_${Buffer.from('it-standard-key-0123456789').toString('base64')}`,
  twilio: 'it-twilio-token',
  generic: 'it-generic-secret',
};

/** A pipeline using every verifying source type, a fan-out route and a FIFO queue. */
export function integrationConfig(): ResolvedConfig {
  return resolveConfig(
    defineConfig({
      stackName: 'IngestIt',
      sources: {
        github: { type: 'github' },
        stripe: { type: 'stripe' },
        slack: { type: 'slack' },
        shopify: { type: 'shopify' },
        standard: { type: 'standard-webhooks' },
        twilio: { type: 'twilio', publicUrl: 'https://hooks.example.com/prod' },
        generic: { type: 'hmac', header: 'x-signature', prefix: 'sha256=', idPath: 'id', typePath: 'type' },
      },
      queues: {
        events: {},
        audit: {},
        orders: { fifo: true, fifoGrouping: { path: 'customer.id' } },
      },
      routes: [
        { source: 'shopify', type: 'orders/*', queues: ['orders'] },
        { source: 'stripe', type: 'invoice.*', queues: ['events', 'audit'] },
        { source: 'github', type: 'watch.started', ignore: true },
      ],
      defaultRoute: { queues: ['events'] },
      ingest: { secretCache: Duration.seconds(1) },
      // These tests drive the handler against SQS, S3 and DynamoDB only; the archive has its own tests.
      archive: { enabled: false },
    }),
  );
}

/** Sets the environment the handler module reads at import time. */
export function handlerEnvironment(
  emulators: Pick<Emulators, 'region' | 'endpoints'>,
  runtime: IngestConfigVariable,
  overrides: Partial<Record<'sqs' | 's3' | 'dynamodb' | 'secretsManager', string>> = {},
): void {
  process.env[INGEST_CONFIG_ENV] = JSON.stringify(runtime);
  process.env.AWS_REGION = emulators.region;
  process.env.AWS_ACCESS_KEY_ID = 'hookline-local';
  process.env.AWS_SECRET_ACCESS_KEY = 'hookline-local';
  process.env.AWS_ENDPOINT_URL_SQS = overrides.sqs ?? emulators.endpoints.sqs;
  process.env.AWS_ENDPOINT_URL_S3 = overrides.s3 ?? emulators.endpoints.s3;
  process.env.AWS_ENDPOINT_URL_DYNAMODB = overrides.dynamodb ?? emulators.endpoints.dynamodb;
  if (overrides.secretsManager) process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = overrides.secretsManager;
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  process.env.POWERTOOLS_LOG_LEVEL = process.env.IT_LOG_LEVEL ?? 'CRITICAL';
  for (const [name, secret] of Object.entries(TEST_SECRETS)) process.env[secretEnvName(name)] = secret;
}

export function runtimeFor(config: ResolvedConfig, topology: LocalTopology): IngestConfigVariable {
  return ingestRuntimeConfig(config, topology.resources);
}

export interface RequestOptions {
  readonly id?: string;
  readonly headers?: Record<string, string>;
  readonly contentType?: string;
  readonly method?: string;
  readonly base64?: boolean;
  readonly now?: Date;
  readonly unsigned?: boolean;
  readonly rawQueryString?: string;
}

/** A payload v2 event for `POST /webhooks/<source>`, signed like the real sender unless `unsigned`. */
export function webhookEvent(
  runtime: IngestConfigVariable,
  source: string,
  body: string | Buffer,
  options: RequestOptions = {},
): APIGatewayProxyEventV2 {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const sourceConfig = runtime.sources[source] as SourceRuntimeConfig | undefined;
  const query = options.rawQueryString ? `?${options.rawQueryString}` : '';
  const signed =
    options.unsigned || !sourceConfig
      ? {}
      : signWebhook(sourceConfig, TEST_SECRETS[source] ?? '', bytes, {
          ...(options.id !== undefined ? { id: options.id } : {}),
          ...(options.now ? { now: options.now } : {}),
          url: `https://hooks.example.com/prod/webhooks/${source}${query}`,
        });
  const base64 = options.base64 ?? false;
  return {
    version: '2.0',
    routeKey: 'ANY /webhooks/{source}',
    rawPath: `/webhooks/${source}`,
    rawQueryString: options.rawQueryString ?? '',
    headers: { 'content-type': options.contentType ?? 'application/json', ...signed, ...options.headers },
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: '127.0.0.1',
      domainPrefix: 'local',
      http: {
        method: options.method ?? 'POST',
        path: `/webhooks/${source}`,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'it',
      },
      requestId: 'it',
      routeKey: 'ANY /webhooks/{source}',
      stage: '$default',
      time: '25/Nov/2026:12:00:00 +0000',
      timeEpoch: Date.now(),
    },
    pathParameters: { source },
    isBase64Encoded: base64,
    body: base64 ? bytes.toString('base64') : bytes.toString('utf8'),
  };
}

export type Handler = (event: APIGatewayProxyEventV2, context?: Context) => Promise<APIGatewayProxyResultV2>;

/** The structured result of the handler (it always returns the object form). */
export async function invoke(handler: Handler, event: APIGatewayProxyEventV2, context?: Context) {
  const result = await handler(event, context);
  if (typeof result === 'string') throw new Error('handler returned a bare string');
  return {
    statusCode: result.statusCode ?? 0,
    headers: (result.headers ?? {}) as Record<string, string>,
    body: typeof result.body === 'string' ? result.body : '',
  };
}

/** Receives (and deletes nothing) until the queue is empty; returns everything seen. */
export async function drain(sqs: SQSClient, queueUrl: string) {
  const all = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 300,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) return all;
    all.push(...Messages);
  }
}

/**
 * A loopback endpoint that accepts connections and never answers (a stalled dependency); `close()` ends the held
 * connections, so a call still waiting on it fails at once.
 */
export async function stalledEndpoint(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets: Socket[] = [];
  const server = createNetServer((socket) => {
    sockets.push(socket);
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/** A Lambda context whose invocation times out `timeoutMs` from now, as Lambda's counts down its remaining time. */
export function contextTimingOutIn(timeoutMs: number, awsRequestId: string): Context {
  const deadline = Date.now() + timeoutMs;
  return { awsRequestId, getRemainingTimeInMillis: () => deadline - Date.now() } as unknown as Context;
}
