/**
 * Creates, on the embedded emulators, the same queues, dead-letter queues, tables and bucket that the CDK stack
 * declares, from the same resolved configuration. Every step is idempotent, so a restart with a data directory
 * reuses what exists (and updates changed queue settings).
 */

import { createHash } from 'node:crypto';
import {
  CreateTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  type QueueAttributeName,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import {
  type AwsLocation,
  arnOf,
  locationOfArn,
  queueOfUrl,
  queueUrlOf,
} from '../../lambda/shared/aws-location';
import { DEDUPE_TABLE, IDEMPOTENCY_TABLE } from '../../lambda/shared/contracts';
import { queueDepth } from '../cli/dead-letters';
import type { ResolvedConfig, ResolvedQueue } from '../config';
import { NAME_PATTERN } from '../config/common';
import { type PipelineResources, sourceNeedsSecret, usesConsumerTable } from '../runtime-wiring';
import { localDynamoClient, localS3Client, localSqsClient } from './clients';
import type { Emulators } from './emulators';
import { localSecretId } from './secrets';
import type { UnconfiguredQueue } from './unconfigured-queues';

/** One queue of the local topology, with its dead-letter queue. */
export interface LocalQueue {
  readonly name: string;
  readonly url: string;
  readonly arn: string;
  readonly deadLetterUrl: string;
  readonly deadLetterArn: string;
  readonly fifo: boolean;
}

/** Everything {@link createTopology} created, in the shape the runtime wiring and the state file need. */
export interface LocalTopology {
  /** Feed to `ingestRuntimeConfig` / `consumerRuntimeConfig`, exactly like the stack does with its tokens. */
  readonly resources: PipelineResources;
  readonly queues: Readonly<Record<string, LocalQueue>>;
  readonly dedupeTableName?: string;
  readonly idempotencyTableName?: string;
  readonly payloadBucketName: string;
  /** The archive bucket and the delivery stream name local mode's Firehose stand-in serves, when archiving. */
  readonly archive?: { readonly bucket: string; readonly stream: string };
}

/** A queue's physical name, read from its URL as the CLI reads a deployed one (`<origin>/<account>/<name>`). */
export function nameInUrl(url: string): string {
  const queue = queueOfUrl(url);
  if (!queue)
    throw new Error(`the SQS emulator answered ${url}, which is not a queue URL (<origin>/<account>/<name>)`);
  return queue.queueName;
}

/**
 * The emulator's account, region and origin, read from the queues it created (`arn:<partition>:sqs:<region>:
 * <account>:<name>`, `<origin>/<account>/<name>`). A queue whose URL or ARN does not derive back exactly would be
 * sent to at the wrong address, so it stops local mode instead.
 */
export function emulatorLocation(queues: readonly LocalQueue[]): AwsLocation {
  const [first] = queues;
  // The configuration refuses a pipeline (and a jobs endpoint) without queues.
  if (!first) throw new Error('the pipeline has no queue');
  const { partition = '', region = '', account = '' } = locationOfArn(first.arn) ?? {};
  const location: AwsLocation = {
    partition,
    region,
    account,
    urlSuffix: 'amazonaws.com',
    sqsEndpoint: new URL(first.url).origin,
  };
  for (const queue of queues) {
    const name = nameInUrl(queue.url);
    const derived = { url: queueUrlOf(location, name), arn: arnOf(location, 'sqs', name) };
    if (derived.url !== queue.url || derived.arn !== queue.arn)
      throw new Error(
        `the SQS emulator's queue ${queue.url} (${queue.arn}) is not where hookline's functions would look (${derived.url}, ${derived.arn})`,
      );
  }
  return location;
}

/** The longest queue name SQS takes, `.fifo` included. */
const SQS_QUEUE_NAME_MAX = 80;
/** The longest bucket name S3 takes. */
const S3_BUCKET_NAME_MAX = 63;
/** The longest delivery stream name Firehose takes. */
const FIREHOSE_STREAM_NAME_MAX = 64;

/**
 * `name` when it is at most `max` characters; else its start and a hash of the whole, `max` characters in all. Deployed,
 * CloudFormation names each resource itself within AWS's limits; local mode names them from the stack name (up to
 * 128 characters), which would otherwise make names the emulators refuse. The hash keeps two long names that differ
 * only past the cut apart.
 */
function withinLength(name: string, max: number): string {
  if (name.length <= max) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.slice(0, max - hash.length - 1).replace(/-+$/, '')}-${hash}`;
}

/**
 * Physical queue names: `<stack>-<queue>` and `<stack>-<queue>-dlq`, plus `.fifo` on FIFO queues; a name past what
 * SQS takes is cut, the same for the queue and its DLQ ({@link withinLength}).
 */
export function localQueueNames(stackName: string, queue: Pick<ResolvedQueue, 'name' | 'fifo'>) {
  const suffix = queue.fifo ? '.fifo' : '';
  const stem = withinLength(`${stackName}-${queue.name}`, SQS_QUEUE_NAME_MAX - '-dlq'.length - suffix.length);
  return {
    queue: `${stem}${suffix}`,
    deadLetter: `${stem}-dlq${suffix}`,
  };
}

/**
 * Rule: no two local queues share a name. A queue named `<q>-dlq` takes the name local mode gives queue `<q>`'s
 * dead-letter queue (when both are FIFO or both standard); the emulator would then be handed one queue for both, set
 * the second's redrive policy on the first's DLQ, and its consumer would take the first queue's dead letters.
 * Deployed, CloudFormation names each queue itself, so the configuration deploys as it is: this is local mode's rule.
 * One line per clash: the path, the value and the fix.
 */
export function localQueueNameClashes(
  stackName: string,
  queues: readonly Pick<ResolvedQueue, 'name' | 'fifo'>[],
): string[] {
  const deadLetterOf = new Map(queues.map((q) => [localQueueNames(stackName, q).deadLetter, q.name]));
  const taken = new Set(queues.map((q) => q.name));
  return queues.flatMap((queue) => {
    const owner = deadLetterOf.get(localQueueNames(stackName, queue).queue);
    if (owner === undefined) return [];
    // Names the rule takes (a long one leaves no room for a suffix) that no queue has yet.
    const free = [`${owner}-dead`, `${owner}-failures`, `dead-${owner}`].filter(
      (name) => NAME_PATTERN.test(name) && !taken.has(name),
    );
    const example = free.length > 0 ? ` (e.g. ${free.map((name) => `"${name}"`).join(' or ')})` : '';
    return [
      `queues.${queue.name}: local mode names this queue ${localQueueNames(stackName, queue).queue}, the name it gives queue "${owner}"'s dead-letter queue, so the two would be one queue. Fix: rename queue "${queue.name}"${example}`,
    ];
  });
}

/** Table, bucket and stream names of the local topology, each within what its service takes. */
export function localResourceNames(stackName: string) {
  const bucketStem = withinLength(
    stackName
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '-')
      .replace(/^-+|-+$/g, '') || 'hookline',
    S3_BUCKET_NAME_MAX - '-payloads'.length,
  );
  return {
    // DynamoDB takes 255 characters, more than a stack name (128) and these suffixes.
    dedupeTable: `${stackName}-dedupe`,
    idempotencyTable: `${stackName}-idempotency`,
    payloadBucket: `${bucketStem}-payloads`,
    archiveBucket: `${bucketStem}-archive`,
    archiveStream: `${withinLength(stackName, FIREHOSE_STREAM_NAME_MAX - '-archive'.length)}-archive`,
  };
}

const seconds = (d: { toSeconds(): number }) => String(d.toSeconds());

/** Attributes of a queue's dead-letter queue, as the stack sets them. */
export function deadLetterQueueAttributes(queue: ResolvedQueue): Partial<Record<QueueAttributeName, string>> {
  return {
    MessageRetentionPeriod: seconds(queue.deadLetterRetentionPeriod),
    SqsManagedSseEnabled: 'true',
    // Dead-lettered messages keep their deduplication id; the stack sets no content-based deduplication here.
    ...(queue.fifo ? { FifoQueue: 'true' } : {}),
  };
}

/** Attributes of a source queue, as the stack sets them; the redrive policy points at `deadLetterArn`. */
export function queueAttributes(
  queue: ResolvedQueue,
  deadLetterArn: string,
): Partial<Record<QueueAttributeName, string>> {
  return {
    VisibilityTimeout: seconds(queue.visibilityTimeout),
    MessageRetentionPeriod: seconds(queue.retentionPeriod),
    SqsManagedSseEnabled: 'true',
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: deadLetterArn,
      maxReceiveCount: queue.maxReceiveCount,
    }),
    ...(queue.fifo
      ? { FifoQueue: 'true', ContentBasedDeduplication: String(queue.contentBasedDeduplication) }
      : {}),
  };
}

/**
 * A queue persisted in a data directory keeps the URL of the port it was created on; the emulator finds queues by
 * name whatever the port, but people and the CLI read these URLs, so they get today's port.
 */
export function withCurrentPort(queueUrl: string, port: string): string {
  return queueUrl.replace(/^(https?:\/\/[^/:]+)(:\d+)?\//, `$1:${port}/`);
}

async function ensureQueue(
  sqs: SQSClient,
  name: string,
  attributes: Partial<Record<QueueAttributeName, string>>,
  endpointPort: string,
): Promise<{ url: string; arn: string }> {
  let url: string | undefined;
  try {
    url = (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))).QueueUrl;
  } catch (error) {
    // Same name with other attributes: a persisted queue from an earlier configuration. Bring it up to date.
    // The SDK names it `QueueNameExists` or, from the JSON protocol's error code, `AWS.SimpleQueueService.QueueNameExists`.
    if (!/QueueNameExists$/.test((error as { name?: string }).name ?? '')) throw error;
    url = (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
    const { FifoQueue: _immutable, ...mutable } = attributes;
    if (url) await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: mutable }));
  }
  if (!url) throw new Error(`the SQS emulator returned no URL for queue ${name}`);
  url = withCurrentPort(url, endpointPort);
  // The ARN is read back, never assembled: fauxqs silently never dead-letters to a wrong ARN.
  const read = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  const arn = read.Attributes?.QueueArn;
  if (!arn) throw new Error(`the SQS emulator returned no ARN for queue ${name}`);
  return { url, arn };
}

/** Creates a table keyed by one string attribute, with its TTL where the emulator has TTL; an existing one stays. */
export async function ensureTable(
  dynamo: DynamoDBClient,
  tableName: string,
  key: string,
  ttlAttribute: string,
) {
  try {
    await dynamo.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [{ AttributeName: key, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: key, KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  try {
    await dynamo.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: ttlAttribute, Enabled: true },
      }),
    );
  } catch {
    // dynalite has no UpdateTimeToLive: expired items stay until the data directory is cleared. The functions
    // compare the expiry themselves (conditional writes), so behaviour matches; only storage differs.
  }
}

async function ensureBucket(s3: S3Client, bucket: string) {
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw error;
  }
}

/** A queue and its DLQ, the DLQ first: the queue's redrive policy names the DLQ's ARN as the emulator reports it. */
async function ensureQueuePair(
  sqs: SQSClient,
  stackName: string,
  queue: ResolvedQueue,
  port: string,
): Promise<LocalQueue> {
  const names = localQueueNames(stackName, queue);
  const dlq = await ensureQueue(sqs, names.deadLetter, deadLetterQueueAttributes(queue), port);
  const main = await ensureQueue(sqs, names.queue, queueAttributes(queue, dlq.arn), port);
  return {
    name: queue.name,
    url: main.url,
    arn: main.arn,
    deadLetterUrl: dlq.url,
    deadLetterArn: dlq.arn,
    fifo: queue.fifo,
  };
}

/** Clients {@link createTopology} may be given (tests); by default it makes its own for the emulators. */
export interface TopologyClients {
  readonly sqs?: SQSClient;
  readonly s3?: S3Client;
  readonly dynamo?: DynamoDBClient;
}

/**
 * Creates (idempotently) every queue with its DLQ first, the dedupe table when `config.dedupe` is set, the
 * idempotency table when a consumer uses idempotency or a rate limit, and the payload bucket.
 */
export async function createTopology(
  config: ResolvedConfig,
  emulators: Pick<Emulators, 'region' | 'endpoints'>,
  clients: TopologyClients = {},
): Promise<LocalTopology> {
  const sqs = clients.sqs ?? localSqsClient(emulators);
  const s3 = clients.s3 ?? localS3Client(emulators);
  const dynamo = clients.dynamo ?? localDynamoClient(emulators);
  const port = new URL(emulators.endpoints.sqs).port;
  try {
    const names = localResourceNames(config.stackName);
    const needsIdempotency = config.queues.some((q) => usesConsumerTable(q.consumer));
    // Independent resources are created at once: each is a few round trips to the emulators.
    const [localQueues] = await Promise.all([
      Promise.all(config.queues.map((queue) => ensureQueuePair(sqs, config.stackName, queue, port))),
      config.dedupe
        ? ensureTable(dynamo, names.dedupeTable, DEDUPE_TABLE.partitionKey, DEDUPE_TABLE.ttlAttribute)
        : undefined,
      needsIdempotency
        ? ensureTable(
            dynamo,
            names.idempotencyTable,
            IDEMPOTENCY_TABLE.partitionKey,
            IDEMPOTENCY_TABLE.ttlAttribute,
          )
        : undefined,
      ensureBucket(s3, names.payloadBucket),
      config.archive ? ensureBucket(s3, names.archiveBucket) : undefined,
    ]);
    const queues: Record<string, LocalQueue> = Object.fromEntries(localQueues.map((q) => [q.name, q]));

    const resources: PipelineResources = {
      location: emulatorLocation(localQueues),
      queueUrls: Object.fromEntries(Object.values(queues).map((q) => [q.name, q.url])),
      queueNames: Object.fromEntries(Object.values(queues).map((q) => [q.name, nameInUrl(q.url)])),
      deadLetterQueueUrls: Object.fromEntries(Object.values(queues).map((q) => [q.name, q.deadLetterUrl])),
      secretIds: Object.fromEntries(
        config.sources.filter(sourceNeedsSecret).map((s) => [s.name, localSecretId(s.name)]),
      ),
      ...(config.dedupe ? { dedupeTableName: names.dedupeTable } : {}),
      ...(needsIdempotency ? { idempotencyTableName: names.idempotencyTable } : {}),
      payloadBucketName: names.payloadBucket,
      ...(config.archive ? { archiveStreamName: names.archiveStream } : {}),
    };
    return {
      resources,
      queues,
      ...(config.dedupe ? { dedupeTableName: names.dedupeTable } : {}),
      ...(needsIdempotency ? { idempotencyTableName: names.idempotencyTable } : {}),
      payloadBucketName: names.payloadBucket,
      ...(config.archive ? { archive: { bucket: names.archiveBucket, stream: names.archiveStream } } : {}),
    };
  } finally {
    if (!clients.sqs) sqs.destroy();
    if (!clients.s3) s3.destroy();
    if (!clients.dynamo) dynamo.destroy();
  }
}

/**
 * The queues of a data directory that no configured queue uses (a queue renamed or removed, or another stack
 * name), with the messages each holds: nothing polls them, so what they hold is never processed.
 */
export async function unconfiguredQueues(
  sqs: SQSClient,
  topology: Pick<LocalTopology, 'queues'>,
): Promise<UnconfiguredQueue[]> {
  const configured = new Set(
    Object.values(topology.queues).flatMap((q) => [nameInUrl(q.url), nameInUrl(q.deadLetterUrl)]),
  );
  const urls: string[] = [];
  let token: string | undefined;
  do {
    const page = await sqs.send(new ListQueuesCommand({ MaxResults: 1000, NextToken: token }));
    urls.push(...(page.QueueUrls ?? []));
    token = page.NextToken;
  } while (token);
  const found = await Promise.all(
    urls
      .filter((url) => !configured.has(nameInUrl(url)))
      .map(async (url) => {
        const depth = await queueDepth(sqs, url);
        return { name: nameInUrl(url), messages: depth.visible + depth.inFlight + depth.delayed };
      }),
  );
  return found.filter((q) => q.messages > 0).sort((a, b) => a.name.localeCompare(b.name));
}
