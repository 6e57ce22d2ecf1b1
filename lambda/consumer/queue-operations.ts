/**
 * The SQS operations of the consumer runtime: ChangeMessageVisibility (retry with backoff; in batches, records not
 * started handed back at once), SendMessage to the dead-letter queue and DeleteMessage (a record finished early).
 *
 * Its own module because `./aws` loads it, and with it the SQS client, only when a record fails or finishes
 * early (`import()`, see ../shared/on-first-use): a batch whose records all succeed on a standard queue makes
 * no SQS call of its own.
 */

import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import type { clientOptions } from '../shared/aws-clients';
import type { ConsumerRuntimeConfig } from '../shared/consumer-config';
import { SQS_BATCH_MAX_ENTRIES } from '../shared/envelope';
import type { ParentMessage } from '../shared/job-record';
import type { ConsumerQueueOperations, VisibilityRefusal } from './core';

/** The operations on the consumer's queue and its dead-letter queue, with one SQS client made from `options`. */
export function sqsQueueOperations(
  config: Pick<ConsumerRuntimeConfig, 'queueUrl' | 'deadLetterQueueUrl'>,
  options: ReturnType<typeof clientOptions>,
): ConsumerQueueOperations & { sendParent(message: ParentMessage): Promise<void> } {
  const sqs = new SQSClient(options);
  return {
    async changeVisibility(record, visibilityTimeoutSeconds) {
      await sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: config.queueUrl,
          ReceiptHandle: record.receiptHandle,
          VisibilityTimeout: visibilityTimeoutSeconds,
        }),
      );
    },
    async changeVisibilities(records, visibilityTimeoutSeconds) {
      const chunks: SQSRecord[][] = [];
      for (let i = 0; i < records.length; i += SQS_BATCH_MAX_ENTRIES)
        chunks.push(records.slice(i, i + SQS_BATCH_MAX_ENTRIES));
      const refused = await Promise.all(
        chunks.map(async (chunk): Promise<VisibilityRefusal[]> => {
          try {
            const answer = await sqs.send(
              new ChangeMessageVisibilityBatchCommand({
                QueueUrl: config.queueUrl,
                Entries: chunk.map((record, n) => ({
                  Id: String(n),
                  ReceiptHandle: record.receiptHandle,
                  VisibilityTimeout: visibilityTimeoutSeconds,
                })),
              }),
            );
            // A batch answers 200 with the entries it refused listed apart.
            return (answer.Failed ?? []).map((failed) => ({
              messageId: chunk[Number(failed.Id)]?.messageId ?? `entry ${failed.Id}`,
              reason: `${failed.Code}: ${failed.Message ?? ''}`,
            }));
          } catch (error) {
            const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
            return chunk.map((record) => ({ messageId: record.messageId, reason }));
          }
        }),
      );
      return refused.flat();
    },
    async sendToDeadLetter(message) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: config.deadLetterQueueUrl,
          MessageBody: message.body,
          MessageAttributes: message.attributes,
          ...(message.groupId ? { MessageGroupId: message.groupId } : {}),
          ...(message.deduplicationId ? { MessageDeduplicationId: message.deduplicationId } : {}),
        }),
      );
    },
    /** A flow parent, to its own queue (any queue of the pipeline), as the producer would have sent it. */
    async sendParent(message) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: message.queueUrl,
          MessageBody: message.body,
          MessageAttributes: Object.fromEntries(
            Object.entries(message.attributes).map(([name, value]) => [
              name,
              { DataType: 'String', StringValue: value },
            ]),
          ),
          ...(message.groupId ? { MessageGroupId: message.groupId } : {}),
          ...(message.deduplicationId ? { MessageDeduplicationId: message.deduplicationId } : {}),
        }),
      );
    },
    async deleteMessage(record) {
      await sqs.send(
        new DeleteMessageCommand({ QueueUrl: config.queueUrl, ReceiptHandle: record.receiptHandle }),
      );
    },
  };
}
