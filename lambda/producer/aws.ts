/**
 * The producer's real collaborators: SQS, S3, DynamoDB and EventBridge Scheduler clients (through
 * `clientOptions`, so `AWS_ENDPOINT_URL_*` and local mode's endpoints apply).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateScheduleCommand, DeleteScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { type ClientBudget, clientOptions, PRODUCER_BUDGET } from '../shared/aws-clients';
import { createDynamoDedupeStore } from '../shared/dedupe-store';
import { atExpression } from '../shared/iso-time';
import { JobRecords } from '../shared/job-record';
import type { ResolvedProducer } from './discover';
import type { ProducerCollaborators } from './producer';

/** Scheduler retries a failed delivery this many times (its maximum) for up to 24 hours. */
const SCHEDULE_RETRY = { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 };

// The circuit breaker's probes are one-time schedules too: one home for the expression.
export { atExpression } from '../shared/iso-time';

/** The SDK clients a producer uses; pass your own to share them (or to inject faults in tests). */
export interface ProducerClients {
  /** Sends the jobs to their queues. */
  readonly sqs: SQSClient;
  /** Puts a payload too large for a message into the payload bucket. */
  readonly s3: S3Client;
  /** Claims job ids and reads and writes job records in the dedupe table. */
  readonly dynamodb: DynamoDBClient;
  /** Creates (and, on cancel, deletes) the one-time schedules of delays beyond 15 minutes. */
  readonly scheduler: SchedulerClient;
}

/**
 * Clients for a resolved producer: local mode's endpoints and credentials, or the standard SDK environment. A
 * caller that answers someone waiting (the jobs endpoint) passes a tighter budget than a producer's own.
 */
export function defaultClients(
  resolved: ResolvedProducer,
  budget: ClientBudget = PRODUCER_BUDGET,
): ProducerClients {
  const env = process.env;
  const common = (service: 'SQS' | 'S3' | 'DYNAMODB' | 'SCHEDULER', endpoint: string | undefined) => ({
    ...clientOptions(service, budget, env),
    ...(resolved.region ? { region: resolved.region } : {}),
    ...(resolved.credentials ? { credentials: resolved.credentials } : {}),
    ...(endpoint ? { endpoint } : {}),
  });
  const endpoints = resolved.endpoints ?? {};
  return {
    sqs: new SQSClient(common('SQS', endpoints.sqs)),
    s3: new S3Client({ ...common('S3', endpoints.s3), ...(endpoints.s3 ? { forcePathStyle: true } : {}) }),
    dynamodb: new DynamoDBClient(common('DYNAMODB', endpoints.dynamodb)),
    scheduler: new SchedulerClient(common('SCHEDULER', endpoints.scheduler)),
  };
}

/** The collaborators over real clients. */
export function awsCollaborators(
  resolved: ResolvedProducer,
  clients: ProducerClients,
  retry: ProducerCollaborators['retry'],
): ProducerCollaborators {
  const { settings } = resolved;
  const table = settings.dedupe;
  return {
    queues: resolved.queues,
    queuesFrom: resolved.source,
    settings,
    retry,
    now: Date.now,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    async sendBatch(queueUrl, entries) {
      const answer = await clients.sqs.send(
        new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: [...entries] }),
      );
      return (answer.Failed ?? []).map((f) => ({ id: f.Id ?? '', error: `${f.Code}: ${f.Message ?? ''}` }));
    },
    async putPayload(object) {
      await clients.s3.send(
        new PutObjectCommand({
          Bucket: object.bucket,
          Key: object.key,
          Body: object.body,
          ...(object.contentType ? { ContentType: object.contentType } : {}),
        }),
      );
    },
    ...(table
      ? {
          dedupe: createDynamoDedupeStore({
            client: clients.dynamodb,
            tableName: table.tableName,
            ttlSeconds: table.ttlSeconds,
          }),
          records: new JobRecords(clients.dynamodb, table.tableName),
        }
      : {}),
    scheduler: schedulerOf(clients.scheduler),
  };
}

/** One-time schedules through EventBridge Scheduler (or local mode's stand-in). */
function schedulerOf(scheduler: SchedulerClient): NonNullable<ProducerCollaborators['scheduler']> {
  return {
    async create(schedule) {
      try {
        await scheduler.send(
          new CreateScheduleCommand({
            Name: schedule.name,
            ...(schedule.groupName ? { GroupName: schedule.groupName } : {}),
            ScheduleExpression: atExpression(schedule.at),
            ScheduleExpressionTimezone: 'UTC',
            FlexibleTimeWindow: { Mode: 'OFF' },
            ActionAfterCompletion: 'DELETE',
            ClientToken: schedule.name,
            Target: {
              Arn: schedule.queueArn,
              RoleArn: schedule.roleArn,
              Input: schedule.input,
              RetryPolicy: SCHEDULE_RETRY,
              ...(schedule.deadLetterQueueArn
                ? { DeadLetterConfig: { Arn: schedule.deadLetterQueueArn } }
                : {}),
              ...(schedule.messageGroupId
                ? { SqsParameters: { MessageGroupId: schedule.messageGroupId } }
                : {}),
            },
          }),
        );
      } catch (error) {
        // The name is the job id's: a schedule of that name is this job's, left by an earlier attempt.
        if ((error as Error).name !== 'ConflictException') throw error;
      }
    },
    async delete(name, groupName) {
      try {
        await scheduler.send(
          new DeleteScheduleCommand({ Name: name, ...(groupName ? { GroupName: groupName } : {}) }),
        );
        return true;
      } catch (error) {
        if ((error as Error).name === 'ResourceNotFoundException') return false;
        throw error;
      }
    },
  };
}
