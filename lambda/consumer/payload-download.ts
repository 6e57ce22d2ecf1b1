/**
 * The claim check's download: the body of an oversized envelope, read back from the payload bucket.
 *
 * Its own module because `./aws` loads it, and with it the S3 client, only when a claim-checked record arrives
 * (`import()`, see ../shared/on-first-use).
 */
import { GetObjectCommand, type GetObjectCommandOutput, S3Client } from '@aws-sdk/client-s3';
import type { clientOptions } from '../shared/aws-clients';
import type { PayloadRef } from '../shared/envelope';
import { PayloadGoneError, PayloadUnreadableError } from './errors';

/** Reads payloads with one S3 client made from `options`. */
export function s3PayloadDownloader(
  options: ReturnType<typeof clientOptions>,
): (ref: PayloadRef) => Promise<Buffer> {
  const s3 = new S3Client(options);
  return async (ref) => {
    let object: GetObjectCommandOutput;
    try {
      object = await s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
    } catch (error) {
      throw payloadReadError(ref, error);
    }
    if (!object.Body) throw new Error(`s3://${ref.bucket}/${ref.key} has no body`);
    return Buffer.from(await object.Body.transformToByteArray());
  };
}

/**
 * What a failed read of a stored body is reported as: NoSuchKey (404) means the body is gone for good (a permanent
 * failure, dead-lettered at once with the object named); a 403 is retried but names the object and that it may be
 * gone; anything else (a network fault, a 5xx) is retried as it was thrown.
 */
function payloadReadError(ref: PayloadRef, error: unknown): unknown {
  const uri = `s3://${ref.bucket}/${ref.key}`;
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata
    ?.httpStatusCode;
  const name = error instanceof Error ? error.name : undefined;
  // The key only: a bucket that is gone (NoSuchBucket, also a 404) is a fault of the stack, retried like others.
  if (name === 'NoSuchKey') return new PayloadGoneError(uri, ref.sizeBytes, { cause: error });
  if (status === 403 || name === 'AccessDenied') {
    const answer =
      error instanceof Error && error.message ? `${name}: ${error.message}` : `${name ?? 'HTTP 403'}`;
    return new PayloadUnreadableError(uri, answer, { cause: error });
  }
  return error;
}
