/**
 * What a configured pipeline costs per million webhooks and per month, on AWS's on-demand list prices in
 * us-east-1 (first tier, free tiers and data transfer excluded). Pure: the prices, the assumed durations and
 * the arithmetic live here; `hookline cost` and the README's cost table both print its result.
 *
 * Price sources (us-east-1, checked 2026; re-check before relying on them):
 * - API Gateway HTTP API: $1.00 per million requests (each 512 KB of a request is metered as one)
 *   https://aws.amazon.com/api-gateway/pricing/
 * - Lambda: $0.20 per million requests; arm64 duration $0.0000133334 per GB-second
 *   https://aws.amazon.com/lambda/pricing/
 * - SQS: $0.40 per million requests (standard), $0.50 (FIFO); every 64 KB chunk of a request's payload is
 *   billed as one request https://aws.amazon.com/sqs/pricing/
 * - DynamoDB on-demand: $0.625 per million write request units (1 WRU per 1 KB item written), $0.125 per million
 *   read request units (1 RRU per strongly consistent read of 4 KB)
 *   https://aws.amazon.com/dynamodb/pricing/on-demand/
 * - S3 Standard: PUT $0.005 per 1,000, GET $0.0004 per 1,000 https://aws.amazon.com/s3/pricing/
 * - Secrets Manager: $0.40 per secret per month, $0.05 per 10,000 API calls https://aws.amazon.com/secrets-manager/pricing/
 * - CloudWatch (https://aws.amazon.com/cloudwatch/pricing/): a standard-resolution alarm $0.10 per alarm metric a
 *   month, an alarm on metric math billed for each metric it reads (the pricing page's unit is the "alarm metric":
 *   its free tier is 10 of them, "standard resolution alarms that list metrics directly and don't use a Metrics
 *   Insights query"); custom metrics $0.30 a metric a month (first 10,000), prorated by the hour a metric is written;
 *   a dashboard $3.00 a month (3 free). The corpus this was checked against shows the free tier only: the paid figures
 *   are the project's performance-anchors reference (section 5) and secondary sources, e.g.
 *   https://c3x.dev/resources/aws/aws_cloudwatch_metric_alarm (alarms),
 *   https://www.factualminds.com/blog/amazon-cloudwatch-pricing-metrics-logs-alarms-dashboards/ (dashboards, $3).
 * - Amazon Data Firehose: see `./archive-cost` (each record is billed rounded up to the next 5 KB)
 *   https://aws.amazon.com/firehose/pricing/
 * Collected with their secondary sources in the project's performance-anchors reference (section 5).
 */

import { ARCHIVE_RECORD_MAX_BYTES } from '../lambda/shared/archive';
import { CONSUMER_TYPE_COUNTS } from '../lambda/shared/contracts';
import { MAX_INVOCATION_MS } from '../lambda/shared/invocation-deadline';
import { plural } from '../lambda/shared/plural';
import {
  ASSUMED_GZIP_RATIO,
  archiveCost,
  FIREHOSE_INGEST_USD_PER_GB,
  FIREHOSE_PARTITIONING_USD_PER_1000_OBJECTS,
  FIREHOSE_PARTITIONING_USD_PER_GB,
  FIREHOSE_RECORD_ROUNDING_BYTES,
  S3_STANDARD_USD_PER_GB_MONTH,
  s3StorageUsd,
} from './archive-cost';
import type { ResolvedConfig, ResolvedRoute } from './config';

/** us-east-1 list prices in USD. */
export const PRICES_US_EAST_1 = {
  httpApiPerMillionRequests: 1.0,
  /** HTTP API meters each 512 KB of a request as one request. */
  httpApiMeteringBytes: 512 * 1024,
  lambdaPerMillionRequests: 0.2,
  lambdaArm64PerGbSecond: 0.0000133334,
  sqsStandardPerMillionRequests: 0.4,
  sqsFifoPerMillionRequests: 0.5,
  /** SQS bills each 64 KB chunk of a request's payload as one request. */
  sqsChunkBytes: 64 * 1024,
  dynamoDbPerMillionWriteUnits: 0.625,
  /** A strongly consistent read of up to 4 KB is one read unit (a flow parent's read of its children's results). */
  dynamoDbPerMillionReadUnits: 0.125,
  s3PutPerThousand: 0.005,
  s3GetPerThousand: 0.0004,
  /** Secrets Manager, per secret per month (named as excluded: it does not scale with webhooks). */
  secretsManagerPerSecretMonth: 0.4,
  /** Secrets Manager API calls, per 10,000 (the ingest's GetSecretValue, cached per warm environment). */
  secretsManagerPer10kCalls: 0.05,
  /** CloudWatch, a standard-resolution alarm per metric it reads, a month. */
  cloudWatchAlarmMetricMonth: 0.1,
  /** CloudWatch custom metrics, per metric a month (first 10,000), prorated by the hours it is written. */
  cloudWatchCustomMetricMonth: 0.3,
  /** CloudWatch dashboards, a month each. */
  cloudWatchDashboardMonth: 3.0,
} as const;

/**
 * Durations the model assumes, in milliseconds of billed Lambda time, warm (cold starts are ~1 % of
 * invocations at steady load and add ~250 ms each: under $0.01 per million). Taken from the performance
 * anchors' cost model (ingest ~20 ms, consumer 10 ms per invocation + 2 ms per record for a light handler);
 * deduplication adds two DynamoDB round trips to the ingest, idempotency two per record to the consumer and a rate
 * limit one (~5 ms each inside AWS). Your handler's own time adds to `consumerPerRecordMs`: pass `--record-ms`.
 */
export const ASSUMED_DURATIONS_MS = {
  ingest: 20,
  ingestDedupe: 10,
  consumerInvocation: 10,
  consumerPerRecord: 2,
  consumerIdempotencyPerRecord: 10,
  consumerRateLimitPerRecord: 5,
} as const;

/**
 * Share of a typical JSON webhook's bytes the envelope adds by escaping it: its quotes, one byte in nine (450 of a
 * 4,096-byte body shaped like GitHub's push sample), each written as two.
 */
export const JSON_ESCAPED_SHARE = 0.11;
/** Bytes the envelope adds around the escaped body: ids, type, time, kept headers (~390 B for a GitHub push). */
export const ENVELOPE_FIXED_BYTES = 400;
/** Size of a claim-checked envelope (the body stays in S3). */
export const CLAIM_CHECK_ENVELOPE_BYTES = 2048;
/**
 * Bytes an archive record adds around the envelope it carries: the source again, the origin, the queue names
 * and the line's newline (71 B for a `github` webhook sent to one `events` queue).
 */
export const ARCHIVE_RECORD_FIELDS_BYTES = 128;
/** The envelope of a body of `bodyBytes`: the body escaped as JSON text, and the envelope's own fields. */
export function envelopeBytes(bodyBytes: number): number {
  return Math.ceil(bodyBytes * (1 + JSON_ESCAPED_SHARE)) + ENVELOPE_FIXED_BYTES;
}

/** One queue as the model needs it. */
export interface CostQueue {
  readonly name: string;
  readonly fifo: boolean;
  /**
   * Messages this queue gets per webhook (1 when every webhook is routed to it, 0.5 when half are).
   * @default 1
   */
  readonly messagesPerWebhook?: number;
  readonly consumer?: {
    readonly memorySize: number;
    readonly batchSize: number;
    readonly idempotency: boolean;
    /**
     * Records of a batch whose handlers run at once (`consumer.parallelism`; a FIFO queue's groups are not known, so
     * one): your handlers' time per record, mostly waiting on what they call, overlaps this many at a time.
     * @default 1
     */
    readonly parallelism?: number;
    /**
     * Whether the consumer has a rate limit (`consumer.rateLimit`): each record's start is counted in DynamoDB.
     * @default false
     */
    readonly rateLimit?: boolean;
  };
}

/** Everything the model prices. */
export interface CostInput {
  readonly eventsPerMonth: number;
  /** Average webhook body size. */
  readonly bodyBytes: number;
  readonly ingestMemorySize: number;
  readonly dedupe: boolean;
  /** Envelopes above this travel through S3. */
  readonly inlineLimitBytes: number;
  /** The queues webhooks are routed to (fan-out to several queues adds each one's SQS and consumer lines). */
  readonly queues: readonly CostQueue[];
  /** Extra billed time per record of your handlers. @default 0 */
  readonly handlerMsPerRecord?: number;
  /**
   * Archive of every webhook, priced by whoever configures it (the archive feature passes its line here).
   * @default - no archive
   */
  readonly archive?: CostLine;
  /**
   * Storing each webhook's archive record until the archive expires it, priced with the archive line.
   * @default - not priced
   */
  readonly archiveStorage?: CostLine;
  /**
   * Days the payload bucket keeps a claim-checked body (`payloads.expiry`): each body is stored that long.
   * @default - the bodies' storage is not priced
   */
  readonly claimCheckExpiryDays?: number;
  /** How the configuration's routes were read into `queues`, for the reader. @default - none stated */
  readonly routing?: readonly string[];
}

/** What a line belongs to: exactly-once lines disappear when that protection is turned off. */
export type CostToggle = 'dedupe' | 'idempotency';

/** One priced line item, per million webhooks. */
export interface CostLine {
  readonly item: string;
  /** How the figure is made, for the reader. */
  readonly basis: string;
  readonly usdPerMillion: number;
  readonly toggle?: CostToggle;
}

/** A line of the estimate: per million webhooks and for the month priced, as the table shows both. */
export interface PricedLine extends CostLine {
  readonly usdPerMonth: number;
}

/** The estimate: lines, totals and what exactly-once costs. */
export interface CostEstimate {
  readonly eventsPerMonth: number;
  readonly bodyBytes: number;
  readonly lines: readonly PricedLine[];
  readonly usdPerMillion: number;
  readonly usdPerMonth: number;
  /** Dedupe and idempotency together, per million: what turning both off saves. */
  readonly exactlyOnceUsdPerMillion: number;
  readonly exactlyOnceUsdPerMonth: number;
  /** What flows cost on each consumed queue (not in the total, which counts webhooks); none without dedupe. */
  readonly flows: readonly FlowPrice[];
  /** What the stack costs a month whatever its traffic, when it was counted. @default - not counted */
  readonly fixed?: FixedCost;
  readonly assumptions: readonly string[];
}

const P = PRICES_US_EAST_1;
const D = ASSUMED_DURATIONS_MS;
const PER_MILLION = 1_000_000;

/** USD per million of something priced per GB-second: `ms` of `memoryMb` per occurrence. */
const lambdaDurationPerMillion = (memoryMb: number, ms: number) =>
  (memoryMb / 1024) * (ms / 1000) * P.lambdaArm64PerGbSecond * PER_MILLION;

/** An AWS service whose calls the model prices per webhook. */
export type CallService = 'sqs' | 'dynamodb' | 's3' | 'firehose';

/**
 * One kind of AWS call the pipeline makes for a webhook, as the model prices it. The calls are those of the ingest
 * function, the consumers and the event source mapping in front of each, as test/integration/cost-calls.test.ts
 * counts them on the real handlers; the HTTP API request and the Lambda invocations are priced beside them.
 */
export interface ModelledCall {
  readonly service: CallService;
  /** The API action, as AWS names it (`SendMessage`, `PutItem`, `PutRecord`, `GetObject`). */
  readonly action: string;
  /** Calls per webhook: a share of a call made for several (a receive of 10 messages is 0.1 each). */
  readonly calls: number;
  /**
   * What one call is billed as: SQS requests (one per 64 KB chunk of its payload), DynamoDB write units (one per KB
   * of the item: under 1 KB but for a flow parent's record) or read units (`GetItem`, one per 4 KB), S3 requests,
   * Firehose 5 KB steps of the record.
   */
  readonly unitsPerCall: number;
  /** The queue whose consumer or messages it serves; none for the ingest's own calls. */
  readonly queue?: string;
  /** Exactly-once calls, which turning that protection off removes; `rateLimit` for a rate limit's counts. */
  readonly purpose?: CostToggle | 'rateLimit';
}

/** A payload's SQS requests: one per 64 KB chunk, at least one. */
const sqsChunks = (bytes: number) => Math.max(1, Math.ceil(bytes / P.sqsChunkBytes));

/**
 * A message's SQS calls: its send (one request per 64 KB chunk), and with a consumer its share of the event source
 * mapping's receive (up to 10 messages, at most the batch size, billed per 64 KB chunk of the whole response) and of
 * its DeleteMessageBatch of the batch's records (up to 10 a call); on a FIFO queue, the consumer's own DeleteMessage
 * of each record as it finishes (a later record's timeout must not bring it back).
 */
function sqsCalls(messageBytes: number, queue: CostQueue): ModelledCall[] {
  const on = { service: 'sqs', queue: queue.name } as const;
  const calls: ModelledCall[] = [
    { ...on, action: 'SendMessage', calls: 1, unitsPerCall: sqsChunks(messageBytes) },
  ];
  const c = queue.consumer;
  if (!c) return calls;
  const perReceive = Math.min(10, c.batchSize);
  calls.push(
    {
      ...on,
      action: 'ReceiveMessage',
      calls: 1 / perReceive,
      unitsPerCall: sqsChunks(perReceive * messageBytes),
    },
    { ...on, action: 'DeleteMessageBatch', calls: 1 / perReceive, unitsPerCall: 1 },
  );
  if (queue.fifo) calls.push({ ...on, action: 'DeleteMessage', calls: 1, unitsPerCall: 1 });
  return calls;
}

/**
 * A consumer's DynamoDB writes per record, one write unit each (items under 1 KB; a write whose condition fails is
 * billed too): idempotency's PutItem in progress and UpdateItem completed (Powertools), a rate limit's conditional
 * UpdateItem counting the record's start in its window.
 */
function consumerWrites(queue: CostQueue): ModelledCall[] {
  const c = queue.consumer;
  const on = { service: 'dynamodb', queue: queue.name, unitsPerCall: 1, calls: 1 } as const;
  return [
    ...(c?.idempotency
      ? [
          { ...on, action: 'PutItem', purpose: 'idempotency' as const },
          { ...on, action: 'UpdateItem', purpose: 'idempotency' as const },
        ]
      : []),
    ...(c?.rateLimit ? [{ ...on, action: 'UpdateItem', purpose: 'rateLimit' as const }] : []),
  ];
}

/** Bodies of this size travel through S3 (claim check): their envelope is above the inline limit. */
const claimChecked = (input: CostInput) => envelopeBytes(input.bodyBytes) > input.inlineLimitBytes;

/** Whether bodies of this size travel through S3, and the envelope size that goes through SQS. */
function messageBytesOf(input: CostInput): { claimCheck: boolean; bytes: number } {
  return claimChecked(input)
    ? { claimCheck: true, bytes: CLAIM_CHECK_ENVELOPE_BYTES }
    : { claimCheck: false, bytes: envelopeBytes(input.bodyBytes) };
}

/** Messages a queue gets per webhook. */
const shareOf = (queue: CostQueue) => queue.messagesPerWebhook ?? 1;

/**
 * Every AWS call one webhook costs, as the model prices it: the ingest's dedupe writes, claim-check upload and archive
 * record; each queue's SQS calls and its consumer's writes and claim-check download, scaled to the messages the
 * queue gets per webhook. Full batches, no retries (see {@link failureCalls} for what a retry and a dead letter add).
 */
export function webhookCalls(input: CostInput): ModelledCall[] {
  const { claimCheck, bytes } = messageBytesOf(input);
  const ingest: ModelledCall[] = [
    // The delivery's claim (conditional PutItem) and its completion (UpdateItem), one write unit each.
    ...(input.dedupe
      ? (['PutItem', 'UpdateItem'] as const).map((action) => ({
          service: 'dynamodb' as const,
          action,
          calls: 1,
          unitsPerCall: 1,
          purpose: 'dedupe' as const,
        }))
      : []),
    ...(claimCheck ? [{ service: 's3' as const, action: 'PutObject', calls: 1, unitsPerCall: 1 }] : []),
    ...(input.archive
      ? [
          {
            service: 'firehose' as const,
            action: 'PutRecord',
            calls: 1,
            unitsPerCall: Math.ceil(archiveRecordBytes(input.bodyBytes) / FIREHOSE_RECORD_ROUNDING_BYTES),
          },
        ]
      : []),
  ];
  const queues = input.queues.flatMap((queue) =>
    [
      ...sqsCalls(bytes, queue),
      ...consumerWrites(queue),
      ...(claimCheck && queue.consumer
        ? [{ service: 's3' as const, action: 'GetObject', calls: 1, unitsPerCall: 1, queue: queue.name }]
        : []),
    ].map((call) => ({ ...call, calls: call.calls * shareOf(queue) })),
  );
  return [...ingest, ...queues];
}

/**
 * The calls of a webhook whose record on `queue` (its only queue) fails once, beside {@link webhookCalls}' for one
 * that does not: `retried`, its handler fails once and then succeeds: the consumer hands it back
 * (ChangeMessageVisibility), it comes in another receive, and with idempotency the failed attempt's lock is written
 * and deleted (PutItem + DeleteItem) before the completed attempt writes its own; `deadLettered`, it fails for good
 * (PermanentError, or its last attempt): sent to the dead-letter queue and deleted at once (SendMessage +
 * DeleteMessage), its idempotency lock deleted instead of completed. The event source mapping's delete of the
 * record is the same either way: once, with the batch that ends it.
 */
export function failureCalls(
  input: CostInput,
  queue: CostQueue,
): { readonly retried: ModelledCall[]; readonly deadLettered: ModelledCall[] } {
  const calls = webhookCalls({ ...input, queues: [{ ...queue, messagesPerWebhook: 1 }] });
  const { bytes } = messageBytesOf(input);
  const on = { service: 'sqs', queue: queue.name, calls: 1 } as const;
  const idempotent = queue.consumer?.idempotency === true;
  const lockDeleted: ModelledCall[] = idempotent
    ? [
        {
          service: 'dynamodb',
          action: 'DeleteItem',
          calls: 1,
          unitsPerCall: 1,
          queue: queue.name,
          purpose: 'idempotency',
        },
      ]
    : [];
  const receive = calls.find((c) => c.service === 'sqs' && c.action === 'ReceiveMessage');
  const isCompletion = (c: ModelledCall) => c.purpose === 'idempotency' && c.action === 'UpdateItem';
  return {
    retried: [
      ...calls,
      { ...on, action: 'ChangeMessageVisibility', unitsPerCall: 1 },
      ...(receive ? [receive] : []),
      ...calls.filter((c) => c.purpose === 'idempotency' && c.action === 'PutItem'),
      ...lockDeleted,
    ],
    deadLettered: [
      ...calls.filter((c) => !isCompletion(c)),
      { ...on, action: 'SendMessage', unitsPerCall: sqsChunks(bytes) },
      { ...on, action: 'DeleteMessage', unitsPerCall: 1 },
      ...lockDeleted,
    ],
  };
}

/** A job's envelope with a small payload (an id to look the data up): id, type, times, payload, about 0.5 KB. */
export const JOB_ENVELOPE_BYTES = 1024;

/**
 * Every AWS call one job sent with `hookline/producer` costs on `queue` (the estimate prices webhooks, not jobs): with
 * the dedupe table, its record claimed and marked queued by the producer (PutItem, UpdateItem) and marked started and
 * completed by the consumer (two UpdateItem); its send (a SendMessageBatch, shared by up to 10 jobs with `sendBatch`:
 * `jobsPerSend`); the event source mapping's receive and delete shares; idempotency's two writes; and with the archive
 * on, its archive record (the consumer archives a batch's jobs in one PutRecordBatch). Small payloads and results.
 */
export function jobCalls(input: CostInput, queue: CostQueue, jobsPerSend = 1): ModelledCall[] {
  const c = queue.consumer;
  const perBatch = Math.min(10, c?.batchSize ?? 10);
  const write = (action: string) =>
    ({ service: 'dynamodb', action, calls: 1, unitsPerCall: 1, queue: queue.name }) as const;
  const records = input.dedupe
    ? [write('PutItem'), write('UpdateItem'), ...(c ? [write('UpdateItem'), write('UpdateItem')] : [])]
    : [];
  const archived = input.archive && c;
  return [
    ...records,
    {
      service: 'sqs',
      action: 'SendMessageBatch',
      queue: queue.name,
      calls: 1 / jobsPerSend,
      unitsPerCall: sqsChunks(jobsPerSend * JOB_ENVELOPE_BYTES),
    },
    ...sqsCalls(JOB_ENVELOPE_BYTES, queue).filter((call) => call.action !== 'SendMessage'),
    ...consumerWrites(queue),
    ...(archived
      ? [
          {
            service: 'firehose' as const,
            action: 'PutRecordBatch',
            queue: queue.name,
            calls: 1 / perBatch,
            unitsPerCall:
              perBatch *
              Math.ceil((JOB_ENVELOPE_BYTES + ARCHIVE_RECORD_FIELDS_BYTES) / FIREHOSE_RECORD_ROUNDING_BYTES),
          },
        ]
      : []),
  ];
}

/**
 * Bytes of a flow parent's job record besides its kept message and its children: its key, state, type, queue, times,
 * claim token, generation and expiry, and the claim of its send (~450 B measured).
 */
export const FLOW_PARENT_RECORD_FIELDS_BYTES = 512;
/**
 * Bytes each child adds to its parent's record once counted: its id in the children's ids, in the completed ones and
 * with its result (~140 B with a small result measured).
 */
export const FLOW_CHILD_ON_PARENT_BYTES = 160;
/** Children per parent the estimate's flow note prices (`flowCalls` takes any number). */
export const ASSUMED_FLOW_CHILDREN = 3;

/**
 * A flow parent's record at its largest, `children` counted and its message (`messageBytes`, about its job's
 * envelope) still kept to be sent: every write on a waiting parent is billed at most that (DynamoDB bills an update by
 * the larger of the item before and after it, 1 write unit per KB). Once sent, the message leaves the record.
 */
export function flowParentRecordBytes(children: number, messageBytes = JOB_ENVELOPE_BYTES): number {
  return FLOW_PARENT_RECORD_FIELDS_BYTES + messageBytes + children * FLOW_CHILD_ON_PARENT_BYTES;
}

/** DynamoDB bills 1 write unit per KB of the item written, and a strongly consistent read 1 read unit per 4 KB. */
const writeUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));
const readUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 4096));

/**
 * What a flow costs beside its jobs' own sends (`producer.sendFlow`, a parent waiting for `children` on
 * `childQueue`, sent to `parentQueue`; small payloads and results), as {@link jobCalls} prices one job. `perChild`:
 * its job's calls (its record, a share of the SendMessageBatch that sends the flow's children, up to 10 a call, its
 * receive, delete, idempotency and archive record) and its count on the parent's record, one conditional UpdateItem
 * billed at the parent record's size. `perParent`: its record claimed and written waiting with its message (PutItem,
 * UpdateItem), and when its last child completes, its send claimed on its record (conditional UpdateItem), its
 * SendMessage by that child's consumer and its record marked queued (UpdateItem); then its own run as a job's (record
 * started and completed, idempotency, receive, delete, archive), reading its children's results from its record
 * (GetItem, strongly consistent). A job between two levels of a deeper flow is both a child and a parent: it pays
 * both. Flows need the dedupe table: its records are priced whatever `input.dedupe` says.
 */
export function flowCalls(
  input: CostInput,
  childQueue: CostQueue,
  parentQueue: CostQueue,
  children: number,
): { readonly perChild: ModelledCall[]; readonly perParent: ModelledCall[] } {
  const withRecords = { ...input, dedupe: true };
  const waiting = writeUnits(flowParentRecordBytes(children));
  const sent = flowParentRecordBytes(children, 0);
  const onParentRecord = (action: string, unitsPerCall: number) =>
    ({ service: 'dynamodb', action, calls: 1, unitsPerCall, queue: parentQueue.name }) as const;
  const perChild: ModelledCall[] = [
    ...jobCalls(withRecords, childQueue, children / Math.ceil(children / 10)),
    { ...onParentRecord('UpdateItem', waiting), queue: childQueue.name },
  ];
  const ownRun = jobCalls(withRecords, parentQueue).filter((c) => c.action !== 'SendMessageBatch');
  // The job's record writes in order: the producer's claim and record, the consumer's start and completion.
  const [claim, recorded, ...run] = ownRun.filter((c) => c.service === 'dynamodb' && !c.purpose);
  const perParent: ModelledCall[] = [
    ...(claim ? [claim] : []),
    ...(recorded ? [{ ...recorded, unitsPerCall: waiting }] : []),
    // Its last child's consumer claims its send, sends it and marks it queued, the message leaving the record.
    onParentRecord('UpdateItem', waiting),
    {
      service: 'sqs',
      action: 'SendMessage',
      calls: 1,
      unitsPerCall: sqsChunks(JOB_ENVELOPE_BYTES),
      queue: parentQueue.name,
    },
    onParentRecord('UpdateItem', waiting),
    // Its own run: started and completed as a job, reading its children's results first.
    ...run.map((c) => ({ ...c, unitsPerCall: writeUnits(sent) })),
    onParentRecord('GetItem', readUnits(sent)),
    ...ownRun.filter((c) => c.service !== 'dynamodb' || c.purpose),
  ];
  return { perChild, perParent };
}

/** DynamoDB calls billed in read units; the others write. */
const DYNAMODB_READS = new Set(['GetItem', 'Query', 'BatchGetItem']);

/** Billed units of `calls`: SQS requests, write or read units, S3 requests or Firehose 5 KB steps, per webhook. */
export const billedUnits = (calls: readonly ModelledCall[]) =>
  calls.reduce((sum, c) => sum + c.calls * c.unitsPerCall, 0);

/**
 * SQS requests per message: the send (one per 64 KB chunk), and its share of a receive (up to 10 messages,
 * at most the batch size, billed per 64 KB chunk of the whole response) and of a DeleteMessageBatch.
 */
export function sqsRequestsPerMessage(messageBytes: number, batchSize: number | undefined): number {
  const queue: CostQueue = {
    name: '',
    fifo: false,
    ...(batchSize === undefined ? {} : { consumer: { memorySize: 0, batchSize, idempotency: false } }),
  };
  return billedUnits(sqsCalls(messageBytes, queue));
}

/** The API and the ingest function: one request and one invocation per webhook. */
function ingestLines(input: CostInput, calls: readonly ModelledCall[]): CostLine[] {
  const apiRequests = Math.max(1, Math.ceil(input.bodyBytes / P.httpApiMeteringBytes));
  const ms = D.ingest;
  const lines: CostLine[] = [
    {
      item: 'HTTP API requests',
      basis: `${plural(apiRequests, 'metered request')} per webhook × $${P.httpApiPerMillionRequests}/M`,
      usdPerMillion: apiRequests * P.httpApiPerMillionRequests,
    },
    {
      item: 'Ingest Lambda',
      basis: `1 invocation, ${input.ingestMemorySize} MB × ${ms} ms arm64`,
      usdPerMillion: P.lambdaPerMillionRequests + lambdaDurationPerMillion(input.ingestMemorySize, ms),
    },
  ];
  if (input.dedupe) {
    const units = billedUnits(calls.filter((c) => c.purpose === 'dedupe'));
    lines.push({
      item: 'Dedupe (DynamoDB writes + ingest time)',
      basis: `${units} WRU × $${P.dynamoDbPerMillionWriteUnits}/M + ${D.ingestDedupe} ms ingest`,
      usdPerMillion:
        units * P.dynamoDbPerMillionWriteUnits +
        lambdaDurationPerMillion(input.ingestMemorySize, D.ingestDedupe),
      toggle: 'dedupe',
    });
  }
  return lines;
}

/** One queue's SQS, consumer, idempotency and rate-limit lines, scaled to the messages it gets per webhook. */
function queueLines(input: CostInput, queue: CostQueue, calls: readonly ModelledCall[]): CostLine[] {
  const share = shareOf(queue);
  const perWebhook = share === 1 ? '' : ` × ${round(share, 3)} message per webhook`;
  // The calls are per webhook already; the lines state them per message, and are scaled once below.
  const mine = calls.filter((c) => c.queue === queue.name).map((c) => ({ ...c, calls: c.calls / share }));
  return queueMessageLines(input, queue, mine).map((l) => ({
    ...l,
    basis: `${l.basis}${perWebhook}`,
    usdPerMillion: l.usdPerMillion * share,
  }));
}

/** One queue's lines for one message per webhook, from its calls per message. */
function queueMessageLines(input: CostInput, queue: CostQueue, calls: readonly ModelledCall[]): CostLine[] {
  const price = queue.fifo ? P.sqsFifoPerMillionRequests : P.sqsStandardPerMillionRequests;
  const c = queue.consumer;
  const { bytes } = messageBytesOf(input);
  const requests = billedUnits(calls.filter((call) => call.service === 'sqs'));
  const deletes = queue.fifo
    ? ', receive, delete, and the delete of each record as it finishes'
    : ', receive, delete';
  const lines: CostLine[] = [
    {
      item: `SQS ${queue.name}`,
      basis: `${round(requests, 3)} requests per message (send${c ? deletes : ''}; ${bytes} B, 64 KB chunks) × $${price}/M`,
      usdPerMillion: requests * price,
    },
  ];
  if (!c) return lines;
  lines.push(consumerLine(input, queue.name, c));
  const writes = (purpose: ModelledCall['purpose']) =>
    billedUnits(calls.filter((call) => call.purpose === purpose));
  if (c.idempotency) {
    const units = writes('idempotency');
    lines.push({
      item: `Idempotency ${queue.name} (DynamoDB writes + consumer time)`,
      basis: `${units} WRU × $${P.dynamoDbPerMillionWriteUnits}/M + ${D.consumerIdempotencyPerRecord} ms per record`,
      usdPerMillion:
        units * P.dynamoDbPerMillionWriteUnits +
        lambdaDurationPerMillion(c.memorySize, D.consumerIdempotencyPerRecord),
      toggle: 'idempotency',
    });
  }
  if (c.rateLimit) {
    const units = writes('rateLimit');
    lines.push({
      item: `Rate limit ${queue.name} (DynamoDB writes + consumer time)`,
      basis: `${units} WRU (the window's count of each start) × $${P.dynamoDbPerMillionWriteUnits}/M + ${D.consumerRateLimitPerRecord} ms per record`,
      usdPerMillion:
        units * P.dynamoDbPerMillionWriteUnits +
        lambdaDurationPerMillion(c.memorySize, D.consumerRateLimitPerRecord),
    });
  }
  return lines;
}

/** A consumer's invocations and billed time, per message (full batches). */
function consumerLine(input: CostInput, name: string, c: NonNullable<CostQueue['consumer']>): CostLine {
  const handlerMs = input.handlerMsPerRecord ?? 0;
  const atOnce = Math.max(1, Math.min(c.parallelism ?? 1, c.batchSize));
  const rounds = Math.ceil(c.batchSize / atOnce);
  const invocationMs = D.consumerInvocation + D.consumerPerRecord * c.batchSize + handlerMs * rounds;
  const handlerTerm =
    handlerMs === 0
      ? ''
      : atOnce === 1
        ? ` + ${handlerMs} ms × ${c.batchSize}`
        : ` + ${handlerMs} ms × ${rounds}, ${atOnce} handlers at once`;
  return {
    item: `Consumer Lambda ${name}`,
    basis: `1 invocation per ${c.batchSize} records, ${c.memorySize} MB × (${D.consumerInvocation} + ${D.consumerPerRecord} ms × ${c.batchSize}${handlerTerm}) arm64`,
    usdPerMillion:
      (P.lambdaPerMillionRequests + lambdaDurationPerMillion(c.memorySize, invocationMs)) / c.batchSize,
  };
}

/** Claim checks: one PUT per webhook, one GET per consumed copy. */
function claimCheckLines(input: CostInput, calls: readonly ModelledCall[]): CostLine[] {
  const gets = billedUnits(calls.filter((c) => c.action === 'GetObject'));
  const puts = billedUnits(calls.filter((c) => c.action === 'PutObject'));
  const days = input.claimCheckExpiryDays;
  return [
    {
      item: 'S3 claim checks',
      basis: `body above the ${input.inlineLimitBytes} B inline limit: ${puts} PUT + ${round(gets, 3)} GET per webhook`,
      usdPerMillion: puts * P.s3PutPerThousand * 1000 + gets * P.s3GetPerThousand * 1000,
    },
    // A body stays in the payload bucket until its expiry, whether or not it was consumed.
    ...(days === undefined
      ? []
      : [
          {
            item: 'S3 claim-check storage',
            basis: `${input.bodyBytes} B body per webhook × ${days} days (payloads.expiry) × $${S3_STANDARD_USD_PER_GB_MONTH}/GB-month`,
            usdPerMillion: s3StorageUsd(input.bodyBytes * PER_MILLION, days),
          },
        ]),
  ];
}

/** USD per million webhooks of `calls`' SQS requests on `queue` and their DynamoDB write and read units. */
function callsUsdPerMillion(calls: readonly ModelledCall[], queue: CostQueue): number {
  const sqsPrice = queue.fifo ? P.sqsFifoPerMillionRequests : P.sqsStandardPerMillionRequests;
  const dynamodb = calls.filter((c) => c.service === 'dynamodb');
  return (
    billedUnits(calls.filter((c) => c.service === 'sqs')) * sqsPrice +
    billedUnits(dynamodb.filter((c) => !DYNAMODB_READS.has(c.action))) * P.dynamoDbPerMillionWriteUnits +
    billedUnits(dynamodb.filter((c) => DYNAMODB_READS.has(c.action))) * P.dynamoDbPerMillionReadUnits
  );
}

/**
 * What a retry and a dead letter add per record on each consumed queue (the estimate assumes none): their SQS
 * requests and DynamoDB writes, and for a retry the redelivery's share of an invocation.
 */
function failureAssumption(input: CostInput): string[] {
  const each = input.queues.flatMap((queue) => {
    const c = queue.consumer;
    if (!c) return [];
    const { retried, deadLettered } = failureCalls(input, queue);
    const once = webhookCalls({ ...input, queues: [{ ...queue, messagesPerWebhook: 1 }] });
    const added = (calls: readonly ModelledCall[]) =>
      callsUsdPerMillion(calls, queue) - callsUsdPerMillion(once, queue);
    const redelivery = consumerLine({ ...input, handlerMsPerRecord: 0 }, queue.name, c).usdPerMillion;
    return [
      `${queue.name} ${usd(added(retried) + redelivery)} per million retries, ${usd(added(deadLettered))} per million dead letters`,
    ];
  });
  if (each.length === 0) return [];
  return [
    `a failed record adds (your handler's time aside): ${each.join('; ')} (a retry: ChangeMessageVisibility, another receive and invocation, and with idempotency the failed attempt's lock written and deleted; a dead letter: SendMessage to the DLQ and DeleteMessage)`,
  ];
}

/**
 * A million jobs' `calls` on `queue`, their consumer's invocations (your handler's time aside) and their archive
 * records (one each, when the calls put one).
 */
function jobsUsdPerMillion(input: CostInput, queue: CostQueue, calls: readonly ModelledCall[]): number {
  const c = queue.consumer;
  const archived = calls.some((call) => call.service === 'firehose');
  const archive = archived
    ? archiveCost(PER_MILLION, JOB_ENVELOPE_BYTES + ARCHIVE_RECORD_FIELDS_BYTES).total
    : 0;
  const consumer = c ? consumerLine({ ...input, handlerMsPerRecord: 0 }, queue.name, c).usdPerMillion : 0;
  return callsUsdPerMillion(calls, queue) + archive + consumer;
}

/** What a job costs on each consumed queue, its consumer's time included: the estimate counts webhooks only. */
function jobAssumption(input: CostInput): string[] {
  const each = input.queues.flatMap((queue) =>
    queue.consumer ? [`${queue.name} ${usd(jobsUsdPerMillion(input, queue, jobCalls(input, queue)))}`] : [],
  );
  if (each.length === 0) return [];
  return [
    `not priced: jobs sent with hookline/producer, per million sent one by one (your handler's time aside): ${each.join('; ')} (with dedupe, its record's four writes; idempotency's two; a SendMessageBatch, shared by up to 10 with sendBatch; its share of a receive and a delete; its archive record)`,
  ];
}

/**
 * What one more send of a debounced job costs (`send(job, payload, { id, debounce })` while the job has not started,
 * replacing the send before it), beside the job's own calls ({@link jobCalls}, which its cycle's first send and the
 * send that runs cost as any job): its claim refused (a conditional PutItem, billed as a write), a strongly consistent
 * read of the record, the conditional UpdateItem that names it, and its own message (SendMessageBatch of one, delayed
 * through SQS: a period up to 15 minutes); when the message it replaced comes due, its share of a receive and a
 * delete, idempotency's lock written and released (PutItem, DeleteItem), its refused start (a conditional UpdateItem,
 * then a strongly consistent GetItem) and, with the archive on, its archive record. Items under 1 KB. A period
 * beyond 15 minutes goes through a one-time schedule per send instead (and deletes the one it replaced): not priced.
 */
export function debouncedSendCalls(input: CostInput, queue: CostQueue): ModelledCall[] {
  const on = { service: 'dynamodb', calls: 1, unitsPerCall: 1, queue: queue.name } as const;
  const idempotency = queue.consumer?.idempotency
    ? [
        { ...on, action: 'PutItem', purpose: 'idempotency' as const },
        { ...on, action: 'DeleteItem', purpose: 'idempotency' as const },
      ]
    : [];
  // The job's record writes in order: the producer's claim and record, the consumer's start (refused here).
  const withRecords = { ...input, dedupe: true };
  const [claim, recorded, started] = jobCalls(withRecords, queue).filter(
    (c) => c.service === 'dynamodb' && !c.purpose,
  );
  return [
    ...(claim ? [claim] : []),
    { ...on, action: 'GetItem' },
    ...(recorded ? [recorded] : []),
    ...jobCalls(input, queue).filter((c) => c.service !== 'dynamodb'),
    ...idempotency,
    ...(started ? [started] : []),
    ...(queue.consumer ? [{ ...on, action: 'GetItem' }] : []),
  ];
}

/** What a flow costs on one queue, per million children and per million parents: see {@link flowCalls}. */
export interface FlowPrice {
  readonly queue: string;
  /** Children of each parent priced (each child's count is billed at its parent record's size). */
  readonly children: number;
  readonly usdPerMillionChildren: number;
  readonly usdPerMillionParents: number;
}

/**
 * Flows whose parent and children are on one consumed queue, {@link ASSUMED_FLOW_CHILDREN} children a parent; none
 * without dedupe, whose table keeps a flow's records (`sendFlow` refuses without it).
 */
export function flowPrices(input: CostInput, children = ASSUMED_FLOW_CHILDREN): FlowPrice[] {
  return input.queues.flatMap((queue) => {
    if (!queue.consumer || !input.dedupe) return [];
    const { perChild, perParent } = flowCalls(input, queue, queue, children);
    return [
      {
        queue: queue.name,
        children,
        usdPerMillionChildren: jobsUsdPerMillion(input, queue, perChild),
        usdPerMillionParents: jobsUsdPerMillion(input, queue, perParent),
      },
    ];
  });
}

/** What flows add to jobs, per child and per parent, on each consumed queue. */
function flowAssumption(flows: readonly FlowPrice[]): string[] {
  const [first] = flows;
  if (!first) return [];
  const each = flows.map(
    (f) =>
      `${f.queue} ${usd(f.usdPerMillionChildren)} per million children, ${usd(f.usdPerMillionParents)} per million parents`,
  );
  return [
    `not priced: flows sent with producer.sendFlow (a parent of ${first.children} children, small payloads, your handlers' time aside): ${each.join('; ')} (a child: a job's calls and its count on its parent's record, billed at that record's size, ~${Math.ceil(flowParentRecordBytes(first.children) / 1024)} KB; a parent: its record written waiting with its message, its send claimed on it, sent and marked queued, then run as a job reading its children's results)`,
  ];
}

/**
 * What each send of a debounced job after its cycle's first adds, per million such sends, on each consumed standard
 * queue (see {@link debouncedSendCalls}); none without dedupe, which `debounce` needs, nor on a FIFO queue, which
 * refuses it.
 */
function debouncedSendAssumption(input: CostInput): string[] {
  if (!input.dedupe) return [];
  const each = input.queues.flatMap((queue) =>
    queue.consumer && !queue.fifo
      ? [`${queue.name} ${usd(jobsUsdPerMillion(input, queue, debouncedSendCalls(input, queue)))}`]
      : [],
  );
  if (each.length === 0) return [];
  return [
    `not priced: debounced jobs (producer.send with debounce, a period up to 15 minutes), per million sends after a cycle's first, each replacing the send before it, whose payload never runs: ${each.join('; ')} (its claim refused, a strongly consistent read and the write naming it, its own message; once the message it replaced comes due, its receive and delete, idempotency's lock written and released, its refused start, its archive record)`,
  ];
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Prices the pipeline described by `input`. */
export function estimateCost(input: CostInput, fixed?: FixedCost): CostEstimate {
  const { claimCheck } = messageBytesOf(input);
  const archiveObjects = input.archive
    ? `, the archive's objects (one per source and buffer interval with traffic, $${FIREHOSE_PARTITIONING_USD_PER_1000_OBJECTS} per 1,000)`
    : '';
  const calls = webhookCalls(input);
  const lines = [
    ...ingestLines(input, calls),
    ...(claimCheck ? claimCheckLines(input, calls) : []),
    ...input.queues.flatMap((q) => queueLines(input, q, calls)),
    ...(input.archive ? [input.archive] : []),
    ...(input.archiveStorage ? [input.archiveStorage] : []),
  ];
  const usdPerMillion = lines.reduce((sum, l) => sum + l.usdPerMillion, 0);
  const exactlyOnce = lines.filter((l) => l.toggle).reduce((sum, l) => sum + l.usdPerMillion, 0);
  const months = input.eventsPerMonth / PER_MILLION;
  const flows = flowPrices(input);
  return {
    eventsPerMonth: input.eventsPerMonth,
    bodyBytes: input.bodyBytes,
    lines: lines.map((l) => ({ ...l, usdPerMonth: l.usdPerMillion * months })),
    usdPerMillion,
    usdPerMonth: usdPerMillion * months,
    exactlyOnceUsdPerMillion: exactlyOnce,
    exactlyOnceUsdPerMonth: exactlyOnce * months,
    flows,
    ...(fixed ? { fixed } : {}),
    assumptions: [
      'us-east-1 on-demand list prices, first tier; free tiers, data transfer, logs and idle polling excluded',
      // At a low volume these fixed charges are most of the bill: the per-month total leaves them out, so say so.
      fixed
        ? `the per-month total counts webhooks; the fixed part (alarms, custom metrics, dashboard, secrets) is priced apart; not priced: Secrets Manager's calls ($${P.secretsManagerPer10kCalls} per 10,000 GetSecretValue: one per warm function environment and cache period), the schedules${archiveObjects}`
        : `charges that do not grow with webhooks excluded: each source's and forwarding queue's signing secret (Secrets Manager, $${P.secretsManagerPerSecretMonth.toFixed(2)} a month, and $${P.secretsManagerPer10kCalls} per 10,000 GetSecretValue calls: one per warm function environment and cache period), the CloudWatch alarms, custom metrics and dashboard, the schedules${archiveObjects}`,
      `Lambda arm64, warm: ingest ${D.ingest} ms (+${D.ingestDedupe} ms with dedupe), consumer ${D.consumerInvocation} ms per invocation + ${D.consumerPerRecord} ms per record (+${D.consumerIdempotencyPerRecord} ms with idempotency, +${D.consumerRateLimitPerRecord} ms with a rate limit)${input.handlerMsPerRecord ? ` + ${input.handlerMsPerRecord} ms of handler per record (a standard queue's overlapping up to its parallelism; a FIFO queue's one after another)` : ''}`,
      'full consumer batches; no retries',
      ...failureAssumption(input),
      ...jobAssumption(input),
      ...flowAssumption(flows),
      ...debouncedSendAssumption(input),
      ...(input.routing ?? []),
      `envelope = body + ${Math.round(JSON_ESCAPED_SHARE * 100)} % (JSON escaping of a typical body) + ${ENVELOPE_FIXED_BYTES} B`,
      ...(input.archiveStorage || (claimCheck && input.claimCheckExpiryDays !== undefined)
        ? [
            'storage: per webhook, until it expires; per month, once the bucket holds that many days of webhooks (it grows to it over them)',
          ]
        : []),
    ],
  };
}

/** What the command line adds to the configuration. */
export interface CostOptions {
  readonly eventsPerMonth: number;
  /** @default 4096 (a typical JSON webhook) */
  readonly bodyBytes?: number;
  readonly handlerMsPerRecord?: number;
}

/** The most a handler can spend on one record: Lambda's longest timeout. */
export const MAX_HANDLER_MS_PER_RECORD = MAX_INVOCATION_MS;

/** The typical webhook body the model assumes unless told otherwise. */
export const DEFAULT_BODY_BYTES = 4096;

/** A route that takes every type of `source`'s webhooks (a route without a type, or `**`). */
const takesEveryType = (route: ResolvedRoute, source: string) =>
  (route.source === '*' || route.source === source) && (route.type === '*' || route.type === '**');

/**
 * The messages each queue gets per webhook, from the configured routes: webhooks spread evenly over the
 * sources, and each source's follow its first route for every type, else the default route (the model knows
 * no mix of event types). Routes for particular types are named as not priced.
 */
export function routedShares(config: Pick<ResolvedConfig, 'sources' | 'routes' | 'defaultRoute'>): {
  shares: Map<string, number>;
  routing: string[];
} {
  const sources = config.sources.map((s) => s.name);
  const counts = new Map<string, number>();
  const ignoredBy: string[] = [];
  for (const source of sources) {
    const route = config.routes.find((r) => takesEveryType(r, source)) ?? config.defaultRoute;
    if (route.ignore || route.queues.length === 0) ignoredBy.push(source);
    else for (const q of route.queues) counts.set(q, (counts.get(q) ?? 0) + 1);
  }
  // Divided once, so a queue every source routes to gets exactly 1.
  const shares = new Map([...counts].map(([q, n]) => [q, n / sources.length]));
  const byType = config.routes.filter((r) => !r.ignore && r.type !== '*' && r.type !== '**');
  const routing = [
    `webhooks spread evenly over the ${plural(sources.length, 'source')}, each following its route for every type, else the default route${ignoredBy.length > 0 ? ` (ignored, so in no queue: ${ignoredBy.join(', ')})` : ''}`,
    ...(byType.length > 0
      ? [
          `not priced (the share of these types is unknown): ${byType.map((r) => `${r.source} ${r.type} → ${r.queues.join(', ')}`).join('; ')}`,
        ]
      : []),
  ];
  return { shares, routing };
}

/** A configured queue as the model prices it, getting `share` messages per webhook. */
export function costQueueOf(queue: ResolvedConfig['queues'][number], share = 1): CostQueue {
  return {
    name: queue.name,
    fifo: queue.fifo,
    ...(share !== 1 ? { messagesPerWebhook: share } : {}),
    ...(queue.consumer
      ? {
          consumer: {
            memorySize: queue.consumer.memorySize,
            batchSize: queue.consumer.batchSize,
            idempotency: queue.consumer.idempotency !== undefined,
            parallelism: queue.fifo ? 1 : queue.consumer.parallelism,
            ...(queue.consumer.rateLimit ? { rateLimit: true } : {}),
          },
        }
      : {}),
  };
}

/**
 * The inline limit the ingest applies: the configured one, and with the archive on no more than an envelope whose
 * archive record fits a delivery stream record (a larger one is claim-checked, so that it can still be archived).
 */
function inlineLimitOf(config: ResolvedConfig): number {
  const limit = config.payloads.inlineLimitBytes;
  return config.archive ? Math.min(limit, ARCHIVE_RECORD_MAX_BYTES - ARCHIVE_RECORD_FIELDS_BYTES) : limit;
}

/** The model's input for a resolved configuration: its defaults, the queues its routes send webhooks to. */
export function costInputOf(config: ResolvedConfig, options: CostOptions): CostInput {
  const { shares, routing } = routedShares(config);
  const queues = config.queues
    .filter((q) => shares.has(q.name))
    .map((q) => costQueueOf(q, shares.get(q.name) ?? 1));
  return {
    eventsPerMonth: options.eventsPerMonth,
    bodyBytes: options.bodyBytes ?? DEFAULT_BODY_BYTES,
    ingestMemorySize: config.ingest.memorySize,
    dedupe: config.dedupe !== undefined,
    inlineLimitBytes: inlineLimitOf(config),
    queues,
    routing,
    ...(options.handlerMsPerRecord ? { handlerMsPerRecord: options.handlerMsPerRecord } : {}),
    claimCheckExpiryDays: config.payloads.expiry.toDays({ integral: false }),
    ...(config.archive
      ? {
          archive: archiveLine(options.bodyBytes ?? DEFAULT_BODY_BYTES),
          archiveStorage: archiveStorageLine(
            options.bodyBytes ?? DEFAULT_BODY_BYTES,
            config.archive.retention.toDays({ integral: false }),
          ),
        }
      : {}),
  };
}

/**
 * The size of one webhook's archive record: the envelope with its raw body inline (even when the queues got a
 * claim check) when that fits a Firehose record, else the claim-checked envelope; plus the record's own fields.
 * Firehose bills the record, not the body, in 5 KB steps: a typical 4 KB JSON body's record is just under 5 KB (one
 * step), a 5 KB body's two.
 */
export function archiveRecordBytes(bodyBytes: number): number {
  const inline = envelopeBytes(bodyBytes) + ARCHIVE_RECORD_FIELDS_BYTES;
  return inline <= ARCHIVE_RECORD_MAX_BYTES
    ? inline
    : CLAIM_CHECK_ENVELOPE_BYTES + ARCHIVE_RECORD_FIELDS_BYTES;
}

/** The event archive's line: Firehose ingestion and dynamic partitioning of one record per webhook. */
function archiveLine(bodyBytes: number): CostLine {
  const recordBytes = archiveRecordBytes(bodyBytes);
  const cost = archiveCost(1_000_000, recordBytes);
  const steps = Math.ceil(recordBytes / FIREHOSE_RECORD_ROUNDING_BYTES);
  return {
    item: 'Event archive (Firehose → S3)',
    basis: `1 record of ${recordBytes} B per webhook, billed as ${steps} × ${FIREHOSE_RECORD_ROUNDING_BYTES / 1024} KB × $${FIREHOSE_INGEST_USD_PER_GB}/GB + partitioning $${FIREHOSE_PARTITIONING_USD_PER_GB}/GB`,
    usdPerMillion: cost.total,
  };
}

/**
 * Keeping each webhook's archive record (GZIP-compressed in S3 Standard) for the archive's retention: the archive
 * grows with webhooks, so at a steady rate it holds `retention` days of them.
 */
function archiveStorageLine(bodyBytes: number, retentionDays: number): CostLine {
  const recordBytes = archiveRecordBytes(bodyBytes);
  return {
    item: 'Archive storage (S3)',
    basis: `${recordBytes} B record / ${ASSUMED_GZIP_RATIO} (GZIP) × ${retentionDays} days (archive.retention) × $${S3_STANDARD_USD_PER_GB_MONTH}/GB-month`,
    usdPerMillion: s3StorageUsd((recordBytes * PER_MILLION) / ASSUMED_GZIP_RATIO, retentionDays),
  };
}

/** An alarm of the stack, as CloudWatch bills it. */
export interface StackAlarm {
  /** The alarm's construct id (`DeadLetters-events`, `SigningSecret-github`). */
  readonly name: string;
  /**
   * The metrics it reads: one for an alarm on one metric, each one a metric math alarm reads (a metric read with two
   * statistics counts twice).
   * @default - a Metrics Insights query alarm, billed by the metrics its query analyzes: not priced
   */
  readonly metrics?: number;
}

/** What the stack holds that is billed by the month (`lib/stack-inventory` counts it in the synthesized stack). */
export interface StackInventory {
  readonly alarms: readonly StackAlarm[];
  readonly dashboards: number;
  readonly secrets: number;
}

/** Custom metrics the functions write (EMF), one per metric name and set of dimension values. */
export interface CustomMetricGroup {
  /** Which metrics, for the reader. */
  readonly what: string;
  /** How many the configuration makes known. */
  readonly count: number;
  /**
   * `hourly`: written with any traffic, so billed every hour there is some; `when`: only while what it counts happens
   * (a refusal, a retry, a failed archive put), so at most its full price.
   */
  readonly written: 'hourly' | 'when';
  /**
   * Only the dimension values the configuration names are counted, and more can come: a consumer's types with
   * `metricTypes: 'each'`.
   * @default false
   */
  readonly unbounded?: boolean;
}

/** A fixed monthly line: what the stack holds, priced a month whatever its traffic. */
export interface FixedLine {
  readonly item: string;
  readonly basis: string;
  readonly usdPerMonth: number;
  /** An upper bound: the metrics of it are billed only for the hours they are written. */
  readonly upTo?: boolean;
}

/** The fixed monthly part of the bill: its lines, its total, and its total with the upper bounds. */
export interface FixedCost {
  readonly lines: readonly FixedLine[];
  /** The lines that are not upper bounds. */
  readonly usdPerMonth: number;
  /** Every line, its upper bounds at their full price. */
  readonly upToUsdPerMonth: number;
  readonly notes: readonly string[];
}

/** The alarms, billed per metric each reads; the Metrics Insights query alarms named as not priced. */
function alarmsLine(alarms: readonly StackAlarm[]): FixedLine {
  const priced = alarms.filter((a) => a.metrics !== undefined);
  const insights = alarms.filter((a) => a.metrics === undefined);
  const metrics = priced.reduce((n, a) => n + (a.metrics ?? 0), 0);
  const math = priced.filter((a) => (a.metrics ?? 0) > 1);
  const mathList = math.map((a) => `${a.name} ${a.metrics}`).join(', ') || 'none';
  const what =
    insights.length === 1
      ? 'a Metrics Insights query alarm billed by the metrics it analyzes'
      : 'Metrics Insights query alarms billed by the metrics they analyze';
  const unpriced =
    insights.length > 0 ? `; not priced: ${insights.map((a) => a.name).join(', ')}, ${what}` : '';
  return {
    item: 'CloudWatch alarms',
    basis: `${priced.length} alarms reading ${metrics} metrics (${math.length} on metric math, billed for each metric they read: ${mathList}) × $${P.cloudWatchAlarmMetricMonth.toFixed(2)}${unpriced}`,
    usdPerMonth: metrics * P.cloudWatchAlarmMetricMonth,
  };
}

/** The custom metrics written with any traffic, and at most those written only while what they count happens. */
function customMetricLines(metrics: readonly CustomMetricGroup[]): FixedLine[] {
  const price = P.cloudWatchCustomMetricMonth;
  const of = (written: CustomMetricGroup['written']) => {
    const groups = metrics.filter((m) => m.written === written);
    return {
      count: groups.reduce((n, m) => n + m.count, 0),
      list: groups.map((m) => `${m.count} ${m.what}`).join('; '),
    };
  };
  const hourly = of('hourly');
  const when = of('when');
  return [
    {
      item: 'Custom metrics, written with any traffic',
      basis: `${hourly.count} × $${price.toFixed(2)} (prorated by the hour): ${hourly.list}`,
      usdPerMonth: hourly.count * price,
    },
    {
      item: 'Custom metrics, written only while it happens',
      basis: `up to ${when.count} × $${price.toFixed(2)}, each for the hours it is written: ${when.list}`,
      usdPerMonth: when.count * price,
      upTo: true,
    },
  ];
}

/** Where the count of custom metrics has no bound the configuration knows, and what each further value adds. */
function dimensionNotes(metrics: readonly CustomMetricGroup[]): string[] {
  const price = P.cloudWatchCustomMetricMonth;
  const perType = CONSUMER_TYPE_COUNTS.length + 1;
  const bounded =
    'bounded by the configuration: the reason dimension (the ingest knows each reason), the source dimension (one per verifying source)';
  if (!metrics.some((m) => m.unbounded)) {
    return [`${bounded}, the type dimension (each consumer's metricTypes: the types listed and other)`];
  }
  return [
    `unbounded: a consumer with metricTypes 'each' writes its metrics per event type (the type dimension: <source>.<type> of a webhook, a job's type), and only the types its queue's routes name are known here, one type each at least: each further type it sees adds 2 metrics written with traffic (${usd(2 * price)} a month) and up to ${perType - 2} more while its records fail, retry or are skipped (up to ${usd(perType * price)} in all); a source that sends 50 types to one queue adds up to ${usd(50 * perType * price)} a month. metricTypes 'none' (the default) or a list of types bounds it`,
    bounded,
  ];
}

/**
 * The part of the bill that does not grow with webhooks: the stack's alarms (per metric each reads), dashboards and
 * secrets, and the custom metrics the functions write (those written with any traffic, and at most those written only
 * while what they count happens). Free tiers excluded, as everywhere in the model.
 */
export function fixedMonthlyCost(
  inventory: StackInventory,
  metrics: readonly CustomMetricGroup[],
): FixedCost {
  const lines: FixedLine[] = [
    alarmsLine(inventory.alarms),
    ...customMetricLines(metrics),
    {
      item: 'CloudWatch dashboard',
      basis: `${inventory.dashboards} × $${P.cloudWatchDashboardMonth.toFixed(2)}`,
      usdPerMonth: inventory.dashboards * P.cloudWatchDashboardMonth,
    },
    {
      item: 'Secrets Manager secrets',
      basis: `${inventory.secrets} (signing secrets, forwarding and jobs endpoint secrets) × $${P.secretsManagerPerSecretMonth.toFixed(2)}`,
      usdPerMonth: inventory.secrets * P.secretsManagerPerSecretMonth,
    },
  ];
  const sum = (ls: readonly FixedLine[]) => ls.reduce((n, l) => n + l.usdPerMonth, 0);
  return {
    lines,
    usdPerMonth: sum(lines.filter((l) => !l.upTo)),
    upToUsdPerMonth: sum(lines),
    notes: dimensionNotes(metrics),
  };
}

/** Dollars with the digits that matter at each size. */
function usd(n: number): string {
  const digits = n >= 100 ? 0 : n >= 1 ? 2 : n >= 0.01 ? 3 : 4;
  return `$${n.toFixed(digits)}`;
}

/** The estimate's cells, header first: line, per million, per month, basis (a person reads the money first). */
export function costRows(estimate: CostEstimate): string[][] {
  const share = Math.round((100 * estimate.exactlyOnceUsdPerMillion) / estimate.usdPerMillion);
  return [
    ['Line', 'Per 1M webhooks', `Per month (${formatCount(estimate.eventsPerMonth)})`, 'Basis'],
    ...estimate.lines.map((l) => [
      `${l.item}${l.toggle ? ' *' : ''}`,
      usd(l.usdPerMillion),
      usd(l.usdPerMonth),
      l.basis,
    ]),
    ['Total', usd(estimate.usdPerMillion), usd(estimate.usdPerMonth), ''],
    [
      '* Exactly-once: turning it off saves',
      `${usd(estimate.exactlyOnceUsdPerMillion)} (${share} %)`,
      usd(estimate.exactlyOnceUsdPerMonth),
      'the lines marked *: dedupe (ingest) and idempotency (consumers)',
    ],
  ];
}

/** Rows as a Markdown table, header first; the body's row `bold` (its total) in bold. */
function markdownTable(rows: readonly (readonly string[])[], bold: number): string {
  const [header = [], ...body] = rows;
  const row = (cells: readonly string[]) => `| ${cells.join(' | ')} |`.replace(/ {2}\|/g, ' |');
  return [
    row(header),
    `|${'---|'.repeat(header.length)}`,
    ...body.map((cells, i) => row(i === bold ? cells.map((c) => (c ? `**${c}**` : c)) : cells)),
  ].join('\n');
}

/** The estimate as a Markdown table (the README's, and `hookline cost --markdown`). */
export function renderCostTable(estimate: CostEstimate): string {
  const rows = costRows(estimate);
  return markdownTable(rows, rows.length - 3);
}

/** The fixed part as a Markdown table (the README's, and `hookline cost --markdown`). */
export function renderFixedTable(fixed: FixedCost): string {
  const rows = fixedRows(fixed);
  return markdownTable(rows, rows.length - 2);
}

/** The fixed part's cells, header first: line, per month, basis; its totals last. */
export function fixedRows(fixed: FixedCost): string[][] {
  return [
    ['Fixed part (whatever the traffic)', 'Per month', 'Basis'],
    ...fixed.lines.map((l) => [l.item, `${l.upTo ? 'up to ' : ''}${usd(l.usdPerMonth)}`, l.basis]),
    [
      'Total fixed',
      usd(fixed.usdPerMonth),
      `up to ${usd(fixed.upToUsdPerMonth)} with the metrics written only while it happens`,
    ],
  ];
}

/** 10000000 -> "10M", 250000 -> "250k", 1500000 -> "1.5M". */
export function formatCount(n: number): string {
  if (n >= 1_000_000) return `${round(n / 1_000_000, 2)}M`;
  if (n >= 1_000) return `${round(n / 1_000, 2)}k`;
  return String(n);
}

/**
 * "10M", "1.5M", "250k", "2500", "1e6", "10 M" -> a count; undefined when it is none of those, not a whole
 * positive number of webhooks ("0.5", "1.5", "1.0005k"), or beyond what a number holds exactly (`1e99`).
 */
export function parseCount(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?(?:e\+?\d+)?)\s*([kKmM]?)\s*$/i.exec(text.replace(/[_,]/g, ''));
  if (!match) return undefined;
  const unit = match[2]?.toLowerCase();
  const exact = Number(match[1]) * (unit === 'm' ? 1_000_000 : unit === 'k' ? 1_000 : 1);
  const n = Math.round(exact);
  // A count of webhooks is whole: "0.5" or "1.0005k" is refused, not rounded to a count nobody asked for. The
  // tolerance only absorbs binary fractions ("1.1M" is 1100000.0000000002).
  const whole = Math.abs(exact - n) <= 1e-9 * Math.max(1, exact);
  return whole && Number.isSafeInteger(n) && n > 0 ? n : undefined;
}
