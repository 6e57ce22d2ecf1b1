/**
 * The archive's put: one accepted event's archive line, sent to the Firehose delivery stream.
 *
 * Its own module, loaded with `import()` on the first accepted event (see ../shared/on-first-use), so a cold
 * start imports only the SQS client; the first delivery loads it beside its enqueue.
 */
import { FirehoseClient, PutRecordCommand } from '@aws-sdk/client-firehose';
import type { clientOptions } from '../shared/aws-clients';

/** Puts archive lines to `deliveryStream` with one Firehose client made from `options`. */
export function firehoseArchivePut(
  options: ReturnType<typeof clientOptions>,
  deliveryStream: string,
): (line: Uint8Array) => Promise<void> {
  const firehose = new FirehoseClient(options);
  return async (line) => {
    await firehose.send(new PutRecordCommand({ DeliveryStreamName: deliveryStream, Record: { Data: line } }));
  };
}
