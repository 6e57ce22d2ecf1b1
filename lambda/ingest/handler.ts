/**
 * The ingest Lambda (API Gateway HTTP API, payload v2, route `ANY /webhooks/{source}`).
 *
 * Thin: configuration and SDK clients live at module scope (reused across invocations; all but SQS created on
 * first use); every decision is in ./core. Local mode imports this same module with emulator endpoints in the
 * environment.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import {
  type MessageAttributeValue,
  SendMessageCommand,
  type SendMessageCommandInput,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { clientOptions, INGEST_BUDGET } from '../shared/aws-clients';
import { INGEST_SERVICE, runtimeMetricsNamespace } from '../shared/contracts';
import { type IngestRuntimeConfig, readIngestConfig } from '../shared/ingest-config';
import { invocationOf, timerDeadlineWatch } from '../shared/invocation-deadline';
import { infoEnabledAt, type LineContext, type LineLevel, writtenAt } from '../shared/log-line';
import { onFirstUse } from '../shared/on-first-use';
import {
  boundSources,
  type DedupeStore,
  handleWebhook,
  type IngestCollaborators,
  type MetricName,
  RETRY_AFTER_SECONDS,
} from './core';
import { newSortableId } from './ids';
import { createSecretLoader } from './secrets';
import { createTelemetry, metricsDisabledByEnv } from './telemetry';

// Queue URLs and secret ARNs are derived from the variable here, and each source's sender looked up, once, not
// per request.
const config = readIngestConfig();
boundSources(config);

const sqs = new SQSClient(clientOptions('SQS', INGEST_BUDGET));

// Every request sends to SQS; the other clients load on first use (../shared/on-first-use): S3 for the rare
// claim check, DynamoDB on the first deduplicated delivery, Secrets Manager when a secret is first fetched (then
// cached), Firehose on the first archived event. Their options are still read from the environment here, at
// import, like the SQS client's. Each loads through a small module of ours, so the bundle keeps only the
// commands used.
const s3Options = clientOptions('S3', INGEST_BUDGET);
const uploadPayload = onFirstUse(async () => (await import('./payload-upload')).s3PayloadUploader(s3Options));
const secretsManagerOptions = clientOptions('SECRETS_MANAGER', INGEST_BUDGET);
const fetchSecretString = onFirstUse(async () =>
  (await import('./secrets-manager')).secretsManagerFetcher(secretsManagerOptions),
);
const archiveStream = config.archive?.deliveryStream;
const firehoseOptions = clientOptions('FIREHOSE', INGEST_BUDGET);
const putArchiveLine = onFirstUse(async () =>
  (await import('./archive-put')).firehoseArchivePut(firehoseOptions, archiveStream ?? ''),
);

/** The DynamoDB dedupe store (./dedupe), created on the first claim; undefined when deduplication is off. */
function deferredDedupeStore(settings: IngestRuntimeConfig['dedupe']): DedupeStore | undefined {
  if (!settings) return undefined;
  const options = clientOptions('DYNAMODB', INGEST_BUDGET);
  const store = onFirstUse(async () => (await import('./dedupe')).dynamoDedupeStore(settings, options));
  return {
    claim: async (key, ttl) => (await store()).claim(key, ttl),
    complete: async (key, token, extra) => (await store()).complete(key, token, extra),
    release: async (key, token) => (await store()).release(key, token),
  };
}
const dedupe = deferredDedupeStore(config.dedupe);

// Powertools Logger for the rare lines (warnings, errors, and a 503's `webhook outcome` line, ERROR); every other
// request's INFO `webhook outcome` line and the EMF metrics are written by ./telemetry in the same shapes, without
// Powertools' per-call cost (README, Performance).
const logger = new Logger({ serviceName: INGEST_SERVICE });
const telemetry = createTelemetry({
  service: INGEST_SERVICE,
  namespace: runtimeMetricsNamespace(process.env),
  infoEnabled: infoEnabledAt(logger.getLevelName()),
  metricsEnabled: !metricsDisabledByEnv(process.env),
});

// The log is each request's own (`requestLog`), so that its late lines keep its ids.
const collaborators: Omit<IngestCollaborators, 'log'> = {
  config,
  async enqueue(message) {
    const attributes: Record<string, MessageAttributeValue> = {};
    for (const name in message.attributes) {
      attributes[name] = { DataType: 'String', StringValue: message.attributes[name] };
    }
    const command: SendMessageCommandInput = {
      QueueUrl: message.target.url,
      MessageBody: message.body,
      MessageAttributes: attributes,
    };
    if (message.groupId !== undefined) command.MessageGroupId = message.groupId;
    if (message.deduplicationId !== undefined) command.MessageDeduplicationId = message.deduplicationId;
    await sqs.send(new SendMessageCommand(command));
  },
  putPayload: async (object) => (await uploadPayload())(object),
  ...(dedupe ? { dedupe } : {}),
  ...(archiveStream ? { archive: { put: async (line) => (await putArchiveLine())(line) } } : {}),
  loadSecrets: createSecretLoader({
    cacheSeconds: config.secretCacheSeconds,
    fetchSecretString: async (secretId) => (await fetchSecretString())(secretId),
  }),
  now: Date.now,
  deadlines: timerDeadlineWatch(),
  newId: () => newSortableId(),
  metrics: {
    count: (name: MetricName, reason?: string) => telemetry.count(name, reason),
    enqueueLatency: (milliseconds) => telemetry.latency('EnqueueLatency', milliseconds),
    signatureChecked: (source, matched) => telemetry.signatureChecked(source, matched),
  },
};

/** The number of the request being handled, undefined between requests (see {@link requestLog}). */
let currentRequest: number | undefined;
let requests = 0;

/** Whether a late line of each level is written, at the level Powertools writes at. */
const LATE_LINES: Record<LineLevel, boolean> = {
  INFO: writtenAt(logger.getLevelName(), 'INFO'),
  WARN: writtenAt(logger.getLevelName(), 'WARN'),
  ERROR: writtenAt(logger.getLevelName(), 'ERROR'),
};

/**
 * The log of request number `request`. Past its deadline a request answered 503 lets its work in flight finish (a
 * send that fails late, its claim's release), when Lambda thaws the sandbox for a later request or between
 * requests; the loggers then hold another request's ids, or none (as they do for a request that is not the latest
 * begun, in local mode's sandbox that serves several at once). Such a line is written with the ids `captured` at its
 * own request's start (in the same layout, by the lean writer), never the current request's.
 */
function requestLog(request: number, captured: LineContext): IngestCollaborators['log'] {
  const late = (level: LineLevel) => (message: string, attributes: object) => {
    if (LATE_LINES[level]) telemetry.writeFor(captured, level, message, { ...attributes });
  };
  const ended = () => currentRequest !== request;
  return {
    info: (message, attributes) =>
      ended() ? late('INFO')(message, attributes) : telemetry.info(message, attributes),
    warn: (message, attributes) =>
      ended() ? late('WARN')(message, attributes) : powertoolsLogger().warn(message, attributes),
    error: (message, attributes) =>
      ended() ? late('ERROR')(message, attributes) : powertoolsLogger().error(message, attributes),
  };
}

/** The current request's context, not yet given to the Powertools Logger (see {@link powertoolsLogger}). */
let pendingContext:
  | { readonly lambda: Context | undefined; readonly keys: Record<string, unknown> }
  | undefined;
/** Whether the Powertools Logger holds the current request's keys (then they are reset at its end). */
let powertoolsKeysSet = false;
let firstRequest = true;

/**
 * Puts the request's ids on every line it logs, lean or Powertools: the Lambda request id
 * (`function_request_id`, with Powertools' other Lambda context fields) and the API Gateway request id
 * (`apiRequestId`). A caller without a Lambda context (a script, a test) gets lines without the Lambda fields.
 * The Powertools Logger only writes the rare WARN/ERROR lines, so it gets the context when a request first
 * writes one (its per-request calls cost more than the lean line itself); the first request gives it at once,
 * so that Powertools reports `cold_start` for the first invocation, as it would.
 */
function beginRequestLogging(
  event: APIGatewayProxyEventV2,
  context: Context | undefined,
): IngestCollaborators['log'] {
  const lambdaContext = typeof context?.awsRequestId === 'string' ? context : undefined;
  telemetry.addContext(lambdaContext);
  const keys = { apiRequestId: event?.requestContext?.requestId };
  telemetry.appendKeys(keys);
  pendingContext = { lambda: lambdaContext, keys };
  if (firstRequest) {
    firstRequest = false;
    powertoolsLogger();
  }
  currentRequest = ++requests;
  return requestLog(currentRequest, telemetry.capture());
}

/** The Powertools Logger, with the current request's context applied. */
function powertoolsLogger(): Logger {
  if (pendingContext) {
    if (pendingContext.lambda) logger.addContext(pendingContext.lambda);
    logger.appendKeys(pendingContext.keys);
    pendingContext = undefined;
    powertoolsKeysSet = true;
  }
  return logger;
}

function endRequestLogging(): void {
  currentRequest = undefined;
  pendingContext = undefined;
  if (powertoolsKeysSet) {
    logger.resetKeys();
    powertoolsKeysSet = false;
  }
  telemetry.resetKeys();
}

/**
 * Lambda entry point. Never throws: the core already maps failures to 503, and this is the last net. The context's
 * remaining time is the request's deadline (core: a request still waiting near it is answered 503).
 */
export const handler = async (
  event: APIGatewayProxyEventV2,
  context?: Context,
): Promise<APIGatewayProxyResultV2> => {
  try {
    const log = beginRequestLogging(event, context);
    return await handleWebhook(event, { ...collaborators, log }, invocationOf(context));
  } catch (error) {
    powertoolsLogger().error('ingest handler failed', { error: String(error) });
    return {
      statusCode: 503,
      headers: { 'content-type': 'application/json', 'retry-after': RETRY_AFTER_SECONDS },
      body: JSON.stringify({ message: 'service unavailable' }),
    };
  } finally {
    try {
      telemetry.flush();
    } catch {
      // Metrics are best effort.
    }
    endRequestLogging();
  }
};
