/**
 * The claim-checked bodies of dead letters, for `failed save` and `failed restore`: a save reads each one from the
 * payload bucket into its file, as the bucket deletes it `payloads.expiry` after it arrived; a restore uploads it
 * again to the claim-check bucket before the letter goes back, so the consumer finds it whenever it is redriven.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { sqsSafeJson } from '../../lambda/shared/claim-check';
import type { PayloadRef } from '../../lambda/shared/envelope';
import { contextOf } from './backend';
import { CredentialsError, errorLine, errorName, explainError, httpStatus } from './errors';
import type { SavedPayload } from './saved-dead-letters';
import type { Target } from './target';

/**
 * What reading a stored body takes: `s3:GetObject` on the payload bucket's objects, and `s3:ListBucket` on the
 * bucket for S3 to answer a body that is gone with 404 rather than 403.
 */
export const READ_STORED_BODY = ['s3:GetObject', 's3:ListBucket'] as const;
/** What uploading a saved body again takes. */
export const WRITE_STORED_BODY = ['s3:PutObject'] as const;

/** A saved letter's body: read, or why not. */
export type StoredBodyRead =
  | { readonly payload: SavedPayload }
  | { readonly gone: true; readonly why: string }
  | { readonly notSaved: string };

/**
 * The reads of one save, one body at a time (a save of many bodies of 1 MiB or more holds one, never all). The
 * first refusal before any body was read stops the reads: every later one would be refused alike, each a round trip.
 * A 403 after a read did succeed is that object's own: without `s3:ListBucket` S3 answers a body that is gone so.
 */
export class StoredBodyReader {
  saved = 0;
  gone = 0;
  notSaved = 0;
  /** Why no body is read any more (the first read was refused, or there is no S3 to read). */
  refused: string | undefined;

  constructor(
    private readonly s3: S3Client | undefined,
    private readonly target: Target,
  ) {
    if (!s3) this.refused = `${target.description} has no S3 endpoint to read stored bodies from`;
  }

  async read(ref: PayloadRef): Promise<StoredBodyRead> {
    if (this.refused !== undefined || !this.s3) return this.skip(this.refused ?? '');
    const at = `s3://${ref.bucket}/${ref.key}`;
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
      const bytes = Buffer.from((await object.Body?.transformToByteArray()) ?? []);
      this.saved++;
      return {
        payload: {
          bucket: ref.bucket,
          key: ref.key,
          sizeBytes: bytes.length,
          ...(object.ContentType ? { contentType: object.ContentType } : {}),
          base64: bytes.toString('base64'),
        },
      };
    } catch (error) {
      if (errorName(error) === 'NoSuchKey') {
        this.gone++;
        return { gone: true, why: `${at} was gone (payloads.expiry) when it was saved` };
      }
      const explained = explainError(error, {
        ...contextOf(this.target),
        permissions: [...READ_STORED_BODY],
      });
      if (explained instanceof CredentialsError) throw explained;
      const why = `cannot read ${at} (${errorLine(explained)})`;
      if (httpStatus(error) === 403 && this.saved === 0) this.refused = why;
      this.notSaved++;
      return { notSaved: why };
    }
  }

  private skip(why: string): StoredBodyRead {
    this.notSaved++;
    return { notSaved: why };
  }
}

/**
 * Puts a saved body in the claim-check bucket under its saved key (under `payloads/`, which the consumers' grant
 * and the bucket's expiry cover): a new object, so its `payloads.expiry` starts again. The same bytes as the
 * original, so putting one still there changes nothing but its age.
 */
export async function uploadStoredBody(s3: S3Client, bucket: string, payload: SavedPayload): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: payload.key,
      Body: Buffer.from(payload.base64, 'base64'),
      ...(payload.contentType !== undefined ? { ContentType: payload.contentType } : {}),
    }),
  );
}

/**
 * The SQS body of a claim-checked letter whose body goes back to `bucket`: as saved when that is the bucket its
 * reference names, else with the reference moved there (a stack built again has a new claim-check bucket, and its
 * consumers may read only that one).
 */
export function bodyReferring(sqsBody: string, bucket: string): string {
  const envelope = JSON.parse(sqsBody) as { payloadRef?: PayloadRef };
  if (!envelope.payloadRef || envelope.payloadRef.bucket === bucket) return sqsBody;
  return sqsSafeJson({ ...envelope, payloadRef: { ...envelope.payloadRef, bucket } });
}
