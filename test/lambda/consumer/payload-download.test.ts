/** The claim check's download over a faked S3 client: what a consumer reports when a stored body cannot be read. */
import { GetObjectCommand, NoSuchKey, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { describeError, isPermanent } from '../../../lambda/consumer/errors';
import { s3PayloadDownloader } from '../../../lambda/consumer/payload-download';
import { CONSUMER_BUDGET, clientOptions } from '../../../lambda/shared/aws-clients';

const s3 = mockClient(S3Client);
afterEach(() => s3.reset());

const ref = { bucket: 'hookline-payloads', key: 'payloads/github/2026/12/02/evt-1', sizeBytes: 1_100_045 };
const download = () => s3PayloadDownloader(clientOptions('S3', CONSUMER_BUDGET))(ref);
const failure = async () =>
  download().then(
    () => undefined,
    (error: unknown) => error,
  );

describe('claim-check download', () => {
  it('dead-letters at once, naming the object and why, a body S3 no longer has (404)', async () => {
    s3.on(GetObjectCommand).rejects(
      new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } }),
    );
    const error = await failure();
    expect(isPermanent(error)).toBe(true);
    expect(describeError(error)).toStrictEqual({
      name: 'PayloadGoneError',
      message:
        'the stored body s3://hookline-payloads/payloads/github/2026/12/02/evt-1 (1100045 bytes) no longer exists: the payload bucket deletes bodies after payloads.expiry, or it was deleted; retrying cannot bring it back',
    });
  });

  it('retries a body S3 refuses to read (403), saying it may be gone, as S3 answers a caller that may not list the bucket', async () => {
    s3.on(GetObjectCommand).rejects(
      new S3ServiceException({
        name: 'AccessDenied',
        message: 'Access Denied',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
      }),
    );
    const error = await failure();
    expect(isPermanent(error)).toBe(false);
    expect(describeError(error)).toStrictEqual({
      name: 'PayloadUnreadableError',
      message:
        'cannot read the stored body s3://hookline-payloads/payloads/github/2026/12/02/evt-1 (AccessDenied: Access Denied): S3 answers so when the object no longer exists (deleted after payloads.expiry, or by hand) as well as when this function may not read it',
    });
  });

  it('retries a read of a bucket that is gone, a fault of the stack rather than of the record', async () => {
    const fault = new S3ServiceException({
      name: 'NoSuchBucket',
      message: 'The specified bucket does not exist',
      $fault: 'client',
      $metadata: { httpStatusCode: 404 },
    });
    s3.on(GetObjectCommand).rejects(fault);
    const error = await failure();
    expect(isPermanent(error)).toBe(false);
    expect(error).toBe(fault);
  });

  it('retries any other fault as it was thrown', async () => {
    const fault = Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
    s3.on(GetObjectCommand).rejects(fault);
    const error = await failure();
    expect(isPermanent(error)).toBe(false);
    expect(error).toBe(fault);
  });
});
