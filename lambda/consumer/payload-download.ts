/**
 * The claim check's download: the body of an oversized envelope, read back from the payload bucket.
 *
 * Its own module because `./aws` loads it, and with it the S3 client, only when a claim-checked record arrives
 * (`import()`, see ../shared/on-first-use).
 */
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { clientOptions } from '../shared/aws-clients';
import type { PayloadRef } from '../shared/envelope';

/** Reads payloads with one S3 client made from `options`. */
export function s3PayloadDownloader(
  options: ReturnType<typeof clientOptions>,
): (ref: PayloadRef) => Promise<Buffer> {
  const s3 = new S3Client(options);
  return async (ref) => {
    const object = await s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
    if (!object.Body) throw new Error(`s3://${ref.bucket}/${ref.key} has no body`);
    return Buffer.from(await object.Body.transformToByteArray());
  };
}
