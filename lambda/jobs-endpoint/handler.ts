/**
 * The jobs endpoint Lambda (API Gateway HTTP API, payload v2, route `POST /jobs/{queue}`).
 *
 * Thin: the producer comes from the environment the stack's grant sets (the same `createProducer` path as any
 * application function), the tokens through the ingest's cached secret loader; every decision is in ./core.
 * Local mode imports this same module with emulator endpoints and an `env:` token in the environment.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { createSecretLoader } from '../ingest/secrets';
import { awsCollaborators, defaultClients } from '../producer/aws';
import { discoverProducer } from '../producer/discover';
import { Producer, sendGated } from '../producer/producer';
import { clientOptions, INGEST_BUDGET } from '../shared/aws-clients';
import { invocationOf, timerDeadlineWatch } from '../shared/invocation-deadline';
import { JOBS_ENDPOINT_CONFIG_ENV, jobsEndpointRuntimeSchema } from '../shared/jobs-endpoint-config';
import { type LineLevel, logLine } from '../shared/log-line';
import { onFirstUse } from '../shared/on-first-use';
import { readRuntimeConfig } from '../shared/read-runtime-config';
import { handleJobRequest, type JobsEndpointCollaborators } from './core';

const config = readRuntimeConfig(jobsEndpointRuntimeSchema, JOBS_ENDPOINT_CONFIG_ENV);
const resolved = discoverProducer({ local: false });
// A caller waits on the answer: two attempts per call, each SDK call on the ingest's budget, then a 503 that asks
// it to retry. The producer's own budget (3 SDK attempts of up to 5 s, twice) outlasts this function's timeout.
const producer = new Producer(
  awsCollaborators(resolved, defaultClients(resolved, INGEST_BUDGET), { attempts: 2, baseDelayMs: 50 }),
);
const secretsManagerOptions = clientOptions('SECRETS_MANAGER', INGEST_BUDGET);
const fetchSecretString = onFirstUse(async () =>
  (await import('../ingest/secrets-manager')).secretsManagerFetcher(secretsManagerOptions),
);

/**
 * The log of one request: every line carries the request's ids (`function_request_id`, as the ingest's lines name
 * the Lambda request id, and `apiRequestId`, the API Gateway one), taken from its event and context, so a line its
 * work writes after its deadline's 503 is still joined to it, never to the request running then.
 */
function requestLog(
  event: APIGatewayProxyEventV2,
  context: Context | undefined,
): JobsEndpointCollaborators['log'] {
  const ids = {
    ...(typeof context?.awsRequestId === 'string' ? { function_request_id: context.awsRequestId } : {}),
    ...(typeof event?.requestContext?.requestId === 'string'
      ? { apiRequestId: event.requestContext.requestId }
      : {}),
  };
  // Straight to stdout, as the ingest writes its lines: under Lambda's JSON log format the runtime makes what
  // `console.log` is given the `message` string of a line of its own, at INFO, where no filter pattern, Logs Insights
  // field or `hookline trace` query finds the level, the id or the outcome.
  const line = (level: LineLevel) => (message: string, attributes: object) =>
    process.stdout.write(
      `${logLine(level, message, 'jobs-endpoint', Date.now(), attributes as Record<string, unknown>, { keys: ids })}\n`,
    );
  return { info: line('INFO'), warn: line('WARN'), error: line('ERROR') };
}

// The log is each request's own (`requestLog`).
const collaborators: Omit<JobsEndpointCollaborators, 'log'> = {
  queues: new Set(Object.keys(resolved.queues)),
  tokenSecretId: config.tokenSecretId,
  loadTokens: createSecretLoader({
    cacheSeconds: config.secretCacheSeconds,
    fetchSecretString: async (secretId) => (await fetchSecretString())(secretId),
  }),
  send: (job, payload, options, gate) => sendGated(producer, job, payload, options, gate),
  deadlines: timerDeadlineWatch(),
};

/**
 * Lambda entry point; never throws (the core maps failures to 503). The context's remaining time is the request's
 * deadline (core: a request still waiting near it is answered 503).
 */
export const handler = (event: APIGatewayProxyEventV2, context?: Context): Promise<APIGatewayProxyResultV2> =>
  handleJobRequest(event, { ...collaborators, log: requestLog(event, context) }, invocationOf(context));
