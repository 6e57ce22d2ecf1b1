import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { firehoseBatchSink } from '../../../lambda/consumer/archive-put';
import { CONSUMER_BUDGET, clientOptions } from '../../../lambda/shared/aws-clients';

const lines = ['a', 'b', 'c'].map((line) => Buffer.from(`${line}\n`));
const dataOf = (input: { Records?: { Data?: Uint8Array }[] }) =>
  input.Records?.map((r) => Buffer.from(r.Data ?? []).toString('utf8'));

describe('archive put (Firehose PutRecordBatch)', () => {
  const firehose = mockClient(FirehoseClient);
  const sink = () => firehoseBatchSink(clientOptions('FIREHOSE', CONSUMER_BUDGET, {}), 'archive-stream');

  beforeEach(() => firehose.reset());

  it('puts every line to the delivery stream in one call when the stream takes them all', async () => {
    firehose.on(PutRecordBatchCommand).resolves({ FailedPutCount: 0, RequestResponses: [] });
    await sink().putLines(lines);
    expect(firehose).toHaveReceivedCommandTimes(PutRecordBatchCommand, 1);
    const input = firehose.commandCalls(PutRecordBatchCommand)[0]?.args[0].input;
    expect(input?.DeliveryStreamName).toBe('archive-stream');
    expect(dataOf(input ?? {})).toStrictEqual(['a\n', 'b\n', 'c\n']);
  });

  it('retries only the records the stream refused, once, and resolves when the retry takes them', async () => {
    firehose
      .on(PutRecordBatchCommand)
      .resolvesOnce({
        FailedPutCount: 1,
        RequestResponses: [
          { RecordId: '1' },
          { ErrorCode: 'ServiceUnavailableException' },
          { RecordId: '3' },
        ],
      })
      .resolves({ FailedPutCount: 0, RequestResponses: [{ RecordId: '2' }] });
    await sink().putLines(lines);
    const calls = firehose.commandCalls(PutRecordBatchCommand).map((call) => dataOf(call.args[0].input));
    expect(calls).toStrictEqual([['a\n', 'b\n', 'c\n'], ['b\n']]);
  });

  it('rejects, naming how many records were lost, when the stream refuses them again', async () => {
    firehose.on(PutRecordBatchCommand).resolves({
      FailedPutCount: 1,
      RequestResponses: [{ ErrorCode: 'ServiceUnavailableException' }, {}, {}],
    });
    await expect(sink().putLines(lines)).rejects.toThrow('the delivery stream refused 1 of 3 records');
    expect(firehose).toHaveReceivedCommandTimes(PutRecordBatchCommand, 2);
  });
});
