/**
 * SDK clients pointed at the embedded emulators: explicit endpoint (the SQS client would otherwise follow the
 * queue URL's host), dummy credentials (the emulators do not check them), the emulators' region and a bounded
 * request time.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import {
  budgetOptions,
  type ClientBudget,
  LOCAL_REQUEST_TIMEOUT_FACTOR,
} from '../../lambda/shared/aws-clients';
import type { Emulators } from './emulators';

/** Credentials the emulators accept; never valid in AWS, so nothing local can reach a real account by mistake. */
export const LOCAL_CREDENTIALS = {
  accessKeyId: 'hookline-local',
  secretAccessKey: 'hookline-local',
} as const;

/** The longest receive local mode's event source mappings wait for (SQS's maximum long poll). */
const LONGEST_POLL_MS = 20_000;

/**
 * Local mode's own calls (the event source mappings, the schedulers, the topology, the archive's writes, the
 * status reads): an emulator thread that stalls must fail them rather than hold a poller forever. Each request
 * may take twice the longest long poll once the local factor is applied, so a long poll on a busy machine is
 * never cut for being slow.
 */
export const LOCAL_MODE_BUDGET: ClientBudget = {
  maxAttempts: 3,
  connectionTimeoutMs: 1_000,
  requestTimeoutMs: (2 * LONGEST_POLL_MS) / LOCAL_REQUEST_TIMEOUT_FACTOR,
};

/** How long one of local mode's own requests to an emulator may take, retries aside (plain HTTP reads too). */
export const LOCAL_MODE_REQUEST_MS = LOCAL_MODE_BUDGET.requestTimeoutMs * LOCAL_REQUEST_TIMEOUT_FACTOR;

type Target = Pick<Emulators, 'region' | 'endpoints'>;

const common = (emulators: Target, endpoint: string, budget: ClientBudget) => ({
  region: emulators.region,
  endpoint,
  credentials: LOCAL_CREDENTIALS,
  ...budgetOptions(budget, { local: true }),
});

/** An SQS client for the local fauxqs. */
export function localSqsClient(emulators: Target, budget: ClientBudget = LOCAL_MODE_BUDGET): SQSClient {
  return new SQSClient(common(emulators, emulators.endpoints.sqs, budget));
}

/** An S3 client for the local fauxqs (path-style, as the emulator has no bucket DNS). */
export function localS3Client(emulators: Target, budget: ClientBudget = LOCAL_MODE_BUDGET): S3Client {
  return new S3Client({ ...common(emulators, emulators.endpoints.s3, budget), forcePathStyle: true });
}

/** A DynamoDB client for the local dynalite. */
export function localDynamoClient(
  emulators: Target,
  budget: ClientBudget = LOCAL_MODE_BUDGET,
): DynamoDBClient {
  return new DynamoDBClient(common(emulators, emulators.endpoints.dynamodb, budget));
}
