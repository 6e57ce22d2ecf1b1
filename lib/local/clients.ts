/**
 * SDK clients pointed at the embedded emulators: explicit endpoint (the SQS client would otherwise follow the
 * queue URL's host), dummy credentials (the emulators do not check them) and the emulators' region.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Emulators } from './emulators';

/** Credentials the emulators accept; never valid in AWS, so nothing local can reach a real account by mistake. */
export const LOCAL_CREDENTIALS = {
  accessKeyId: 'hookline-local',
  secretAccessKey: 'hookline-local',
} as const;

type Target = Pick<Emulators, 'region' | 'endpoints'>;

/** An SQS client for the local fauxqs. */
export function localSqsClient(emulators: Target): SQSClient {
  return new SQSClient({
    region: emulators.region,
    endpoint: emulators.endpoints.sqs,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 3,
  });
}

/** An S3 client for the local fauxqs (path-style, as the emulator has no bucket DNS). */
export function localS3Client(emulators: Target): S3Client {
  return new S3Client({
    region: emulators.region,
    endpoint: emulators.endpoints.s3,
    credentials: LOCAL_CREDENTIALS,
    forcePathStyle: true,
    maxAttempts: 3,
  });
}

/** A DynamoDB client for the local dynalite. */
export function localDynamoClient(emulators: Target): DynamoDBClient {
  return new DynamoDBClient({
    region: emulators.region,
    endpoint: emulators.endpoints.dynamodb,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 3,
  });
}
