/**
 * A dead letter as the consumer writes it: a new DLQ message (`SendMessage`, so its retention starts there) holding a
 * generic `order.paid` envelope and the failure attributes `failed` reads.
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { FAILURE_ATTRIBUTES, MESSAGE_ATTRIBUTES } from '../../../lambda/shared/envelope';

export async function sendDeadLetter(
  sqs: SQSClient,
  deadLetterUrl: string | undefined,
  id: string,
  message: string,
): Promise<void> {
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: deadLetterUrl,
      MessageBody: JSON.stringify({
        v: 1,
        id,
        source: 'generic',
        type: 'order.paid',
        receivedAt: new Date().toISOString(),
        headers: {},
        contentType: 'application/json',
        body: '{}',
        bodyEncoding: 'utf8',
      }),
      MessageAttributes: {
        [MESSAGE_ATTRIBUTES.eventId]: { DataType: 'String', StringValue: id },
        [FAILURE_ATTRIBUTES.errorName]: { DataType: 'String', StringValue: 'PermanentError' },
        [FAILURE_ATTRIBUTES.errorMessage]: { DataType: 'String', StringValue: message },
      },
    }),
  );
}
