/**
 * The ingest Lambda (API Gateway HTTP API, payload v2, route `ANY /webhooks/{source}`).
 *
 * Thin: configuration and SDK clients live at module scope (reused across invocations); every decision is
 * in ./core. Local mode imports this same module with emulator endpoints in the environment.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FirehoseClient, PutRecordCommand } from '@aws-sdk/client-firehose';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  type MessageAttributeValue,
  SendMessageCommand,
  type SendMessageCommandInput,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { clientOptions, INGEST_BUDGET } from '../shared/aws-clients';
import { METRICS_NAMESPACE } from '../shared/contracts';
import { INGEST_CONFIG_ENV, ingestRuntimeSchema } from '../shared/ingest-config';
import { readRuntimeConfig } from '../shared/read-runtime-config';
import {
  boundSources,
  handleWebhook,
  type IngestCollaborators,
  type MetricName,
  RETRY_AFTER_SECONDS,
} from './core';
import { createDynamoDedupeStore } from './dedupe';
import { newSortableId } from './ids';
import { createSecretLoader } from './secrets';
import { createTelemetry, infoEnabledAt, metricsDisabledByEnv } from './telemetry';

const config = readRuntimeConfig(ingestRuntimeSchema, INGEST_CONFIG_ENV);
// Each source's sender is looked up here, once, not per request.
boundSources(config);

const sqs = new SQSClient(clientOptions('SQS', INGEST_BUDGET));
const s3 = new S3Client(clientOptions('S3', INGEST_BUDGET));
const dynamodb = new DynamoDBClient(clientOptions('DYNAMODB', INGEST_BUDGET));
const secretsManager = new SecretsManagerClient(clientOptions('SECRETS_MANAGER', INGEST_BUDGET));
const firehose = config.archive ? new FirehoseClient(clientOptions('FIREHOSE', INGEST_BUDGET)) : undefined;
const archiveStream = config.archive?.deliveryStream;

// Powertools Logger for the rare lines (warnings, errors); the per-request `webhook outcome` line and the EMF
// metrics are written by ./telemetry in the same shapes, without Powertools' per-call cost (README, Performance).
const logger = new Logger({ serviceName: 'ingest' });
const telemetry = createTelemetry({
  service: 'ingest',
  namespace: METRICS_NAMESPACE,
  infoEnabled: infoEnabledAt(logger.getLevelName()),
  metricsEnabled: !metricsDisabledByEnv(process.env),
});

const collaborators: IngestCollaborators = {
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
  async putPayload(object) {
    await s3.send(
      new PutObjectCommand({
        Bucket: object.bucket,
        Key: object.key,
        Body: object.body,
        ...(object.contentType !== undefined ? { ContentType: object.contentType } : {}),
      }),
    );
  },
  ...(firehose && archiveStream
    ? {
        archive: {
          async put(line) {
            await firehose.send(
              new PutRecordCommand({ DeliveryStreamName: archiveStream, Record: { Data: line } }),
            );
          },
        },
      }
    : {}),
  ...(config.dedupe
    ? {
        dedupe: createDynamoDedupeStore({
          client: dynamodb,
          tableName: config.dedupe.tableName,
          ttlSeconds: config.dedupe.ttlSeconds,
        }),
      }
    : {}),
  loadSecrets: createSecretLoader({
    cacheSeconds: config.secretCacheSeconds,
    async fetchSecretString(secretId) {
      const result = await secretsManager.send(new GetSecretValueCommand({ SecretId: secretId }));
      return result.SecretString;
    },
  }),
  now: Date.now,
  newId: () => newSortableId(),
  log: {
    info: (message, attributes) => telemetry.info(message, attributes),
    warn: (message, attributes) => logger.warn(message, attributes),
    error: (message, attributes) => logger.error(message, attributes),
  },
  metrics: {
    count: (name: MetricName, reason?: string) => telemetry.count(name, reason),
    enqueueLatency: (milliseconds) => telemetry.latency('EnqueueLatency', milliseconds),
  },
};

/**
 * Puts the request's ids on every line it logs, lean or Powertools: the Lambda request id
 * (`function_request_id`, with Powertools' other Lambda context fields) and the API Gateway request id
 * (`apiRequestId`). A caller without a Lambda context (a script, a test) gets lines without the Lambda fields.
 */
function beginRequestLogging(event: APIGatewayProxyEventV2, context: Context | undefined): void {
  const lambdaContext = typeof context?.awsRequestId === 'string' ? context : undefined;
  if (lambdaContext) logger.addContext(lambdaContext);
  telemetry.addContext(lambdaContext);
  const keys = { apiRequestId: event?.requestContext?.requestId };
  logger.appendKeys(keys);
  telemetry.appendKeys(keys);
}

function endRequestLogging(): void {
  logger.resetKeys();
  telemetry.resetKeys();
}

/** Lambda entry point. Never throws: the core already maps failures to 503, and this is the last net. */
export const handler = async (
  event: APIGatewayProxyEventV2,
  context?: Context,
): Promise<APIGatewayProxyResultV2> => {
  try {
    beginRequestLogging(event, context);
    return await handleWebhook(event, collaborators);
  } catch (error) {
    logger.error('ingest handler failed', { error: String(error) });
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
