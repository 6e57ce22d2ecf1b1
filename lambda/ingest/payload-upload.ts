/**
 * The claim check's upload: the body of an envelope too large for SQS, put into the payload bucket.
 *
 * Its own module because the handler loads it, and with it the S3 client, only when a claim check happens
 * (`import()`, see ../shared/on-first-use): most deliveries never need S3.
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { clientOptions } from '../shared/aws-clients';
import type { PayloadObject } from './core';

/** Uploads payloads with one S3 client made from `options`. */
export function s3PayloadUploader(
  options: ReturnType<typeof clientOptions>,
): (object: PayloadObject) => Promise<void> {
  const s3 = new S3Client(options);
  return async (object) => {
    await s3.send(
      new PutObjectCommand({
        Bucket: object.bucket,
        Key: object.key,
        Body: object.body,
        ...(object.contentType !== undefined ? { ContentType: object.contentType } : {}),
      }),
    );
  };
}
