/**
 * The consumer's archive put: a batch's archive lines in one Firehose `PutRecordBatch`. Its own module, loaded
 * with `import()` on the first batch that has something to archive, so consumers of webhooks only never load
 * the Firehose client.
 */
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import type { clientOptions } from '../shared/aws-clients';
import type { ArchiveBatchSink } from './archive-arrivals';

/** Puts lines to `deliveryStream`, retrying once the records the stream did not take. */
export function firehoseBatchSink(
  options: ReturnType<typeof clientOptions>,
  deliveryStream: string,
): ArchiveBatchSink {
  const firehose = new FirehoseClient(options);
  const put = async (lines: readonly Buffer[]): Promise<readonly Buffer[]> => {
    const out = await firehose.send(
      new PutRecordBatchCommand({
        DeliveryStreamName: deliveryStream,
        Records: lines.map((line) => ({ Data: line })),
      }),
    );
    if (!out.FailedPutCount) return [];
    return lines.filter((_, i) => out.RequestResponses?.[i]?.ErrorCode !== undefined);
  };
  return {
    async putLines(lines) {
      const failed = await put(lines);
      const stillFailed = failed.length > 0 ? await put(failed) : [];
      if (stillFailed.length > 0) {
        throw new Error(`the delivery stream refused ${stillFailed.length} of ${lines.length} records`);
      }
    },
  };
}
