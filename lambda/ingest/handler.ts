// Placeholder: replaced by the full ingest handler (issue 3).
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { clientOptions, INGEST_BUDGET } from '../shared/aws-clients';
import { INGEST_CONFIG_ENV, ingestRuntimeSchema, readRuntimeConfig } from '../shared/runtime-config';

const sqs = new SQSClient(clientOptions('SQS', INGEST_BUDGET));
const config = readRuntimeConfig(ingestRuntimeSchema, INGEST_CONFIG_ENV);

export const handler = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyResultV2> => {
  const queue = Object.values(config.queues)[0];
  if (!queue) return { statusCode: 503 };
  await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: event.body ?? '' }));
  return { statusCode: 202 };
};
