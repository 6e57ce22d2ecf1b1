/**
 * The consumer's SQS operations against the SDK's client (answered by aws-sdk-client-mock): a visibility change of
 * many records goes ten a call, and says which records SQS did not change, entry by entry or call by call.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  type ChangeMessageVisibilityBatchCommandInput,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { sqsQueueOperations } from '../../../lambda/consumer/queue-operations';
import { CONSUMER_BUDGET, clientOptions } from '../../../lambda/shared/aws-clients';
import { envelope, record } from './fakes';

const sqs = mockClient(SQSClient);
afterEach(() => sqs.reset());

const operations = () =>
  sqsQueueOperations(
    { queueUrl: 'https://sqs.us-east-1.amazonaws.com/000000000000/events', deadLetterQueueUrl: 'unused' },
    clientOptions('SQS', CONSUMER_BUDGET, { AWS_REGION: 'us-east-1' }),
  );

describe('changeVisibilities', () => {
  it('changes 23 records in three calls of at most ten, and lists the entries SQS refused by message id', async () => {
    const records = Array.from({ length: 23 }, (_, n) => record(envelope(), { messageId: `m-${n}` }));
    sqs
      .on(ChangeMessageVisibilityBatchCommand)
      .callsFake((input: ChangeMessageVisibilityBatchCommandInput) =>
        input.Entries?.[0]?.ReceiptHandle === 'rh-m-10'
          ? {
              Successful: [],
              Failed: [{ Id: '2', Code: 'ReceiptHandleIsInvalid', SenderFault: true, Message: 'expired' }],
            }
          : { Successful: [], Failed: [] },
      );

    const refused = await operations().changeVisibilities(records, 0);

    const calls = sqs.commandCalls(ChangeMessageVisibilityBatchCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.Entries?.length)).toEqual([10, 10, 3]);
    expect(calls.flatMap((c) => c.Entries ?? []).map((e) => [e.ReceiptHandle, e.VisibilityTimeout])).toEqual(
      records.map((r) => [r.receiptHandle, 0]),
    );
    expect(refused).toEqual([{ messageId: 'm-12', reason: 'ReceiptHandleIsInvalid: expired' }]);
  });

  it('lists every record of a call that failed, and still makes the other calls', async () => {
    const records = Array.from({ length: 12 }, (_, n) => record(envelope(), { messageId: `m-${n}` }));
    sqs
      .on(ChangeMessageVisibilityBatchCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))
      .resolves({ Successful: [], Failed: [] });

    const refused = await operations().changeVisibilities(records, 0);

    expect(sqs.commandCalls(ChangeMessageVisibilityBatchCommand)).toHaveLength(2);
    expect(refused).toHaveLength(10);
    expect(refused[0]?.reason).toBe('ThrottlingException: Rate exceeded');
  });
});
