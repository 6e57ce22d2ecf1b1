/**
 * Names that more than one process relies on: the functions write them, and the stack, local mode, the CLI or
 * the dashboard read them. Each is written here once; change one only together with everything that reads it
 * (old log lines, deployed tables and stored objects keep the old name).
 *
 * Plain constants and pure functions only: the CDK side imports this module too.
 */

import { KEY_HELD_RECORD } from './circuit-breaker';

/**
 * CloudWatch namespace of hookline's metrics where no stack names them (local mode, a function run on its
 * own); a deployed pipeline's functions, dashboard and alarms use {@link metricsNamespaceOf} its stack.
 */
export const METRICS_NAMESPACE = 'Hookline';

/**
 * The metrics namespace of the pipeline in one stack: `Hookline/<stack name>`. Per stack, so two stages of one
 * app in one account and region never add up in each other's dashboards and alarms.
 */
export function metricsNamespaceOf(stackName: string): string {
  return `${METRICS_NAMESPACE}/${stackName}`;
}

/** The namespace a function writes its metrics in: its stack's, from the environment the stack gives it. */
export function runtimeMetricsNamespace(env: Readonly<Record<string, string | undefined>>): string {
  return env.POWERTOOLS_METRICS_NAMESPACE || METRICS_NAMESPACE;
}

/**
 * The metric dimensions the functions write and the dashboard and alarms read. Every hookline metric carries
 * `service` (the name Powertools Metrics gives its service dimension): the ingest's {@link INGEST_SERVICE}, or a
 * consumer's queue name. The ingest's `Rejected` and `Failed` add `reason`, its {@link SIGNATURE_MISMATCH_METRIC}
 * `source`; a consumer's per-batch counts add `type` (`<source>.<type>`, as {@link metricDimensionValue} writes it, or
 * {@link OTHER_METRIC_TYPE} for a type its `metricTypes` does not list).
 * CloudWatch keeps one metric per dimension set, so a read must name the very set.
 */
export const METRIC_DIMENSIONS = {
  service: 'service',
  reason: 'reason',
  type: 'type',
  source: 'source',
} as const;

/**
 * The `type` value a consumer writes its metrics under for each event type its `metricTypes` does not list, so
 * that its queue's per-type metrics are bounded by that list and not by the types its senders choose. No event type
 * has this value: a type is `<source>.<type>`, and a source's name holds no dot.
 */
export const OTHER_METRIC_TYPE = 'other';

/**
 * The `type` a consumer counts a record of event type `typeKey` (`<source>.<type>`) under: its own when `kept` is
 * undefined (every type its own metrics) or lists it, else {@link OTHER_METRIC_TYPE}. Built once per consumer: the
 * returned function allocates nothing.
 */
export function metricTypeOf(kept: readonly string[] | undefined): (typeKey: string) => string {
  if (kept === undefined) return (typeKey) => typeKey;
  const listed = new Set(kept);
  return (typeKey) => (listed.has(typeKey) ? typeKey : OTHER_METRIC_TYPE);
}

/** CloudWatch keeps at most this many characters of a dimension value. */
const MAX_DIMENSION_VALUE_LENGTH = 1_024;

/**
 * A dimension value CloudWatch accepts for `value`, a sender's event type among them: printable ASCII, each other
 * character percent-encoded as its UTF-8 bytes (`créée` → `cr%C3%A9%C3%A9e`), at most 1,024 characters and never
 * blank. CloudWatch drops every metric of an EMF document with a value outside those rules.
 */
export function metricDimensionValue(value: string): string {
  const kept = percentEncodedOutsidePrintableAscii(value).slice(0, MAX_DIMENSION_VALUE_LENGTH);
  return kept.trim() === '' ? 'unknown' : kept;
}

/**
 * Whether an HTTP header can carry `value` as it is: no NUL, no line break and no character above U+00FF, which
 * fetch refuses to send (it throws before the request leaves).
 */
export function httpHeaderCarries(value: string): boolean {
  return !/[\0\r\n\u0100-\uffff]/.test(value);
}

const UTF8 = new TextEncoder();

/**
 * `value` in printable ASCII: each other character percent-encoded as its UTF-8 bytes (`créée` →
 * `cr%C3%A9%C3%A9e`), as a metric dimension and a forwarded header carry a sender's text that they cannot hold.
 * With `decodable`, `%` is encoded too (`%25`), so `decodeURIComponent` gives back exactly `value`.
 */
export function percentEncodedOutsidePrintableAscii(
  value: string,
  options: { decodable?: boolean } = {},
): string {
  return value.replace(options.decodable ? /[^\x20-\x24\x26-\x7e]/gu : /[^\x20-\x7e]/gu, (character) =>
    Array.from(UTF8.encode(character), (byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join(
      '',
    ),
  );
}

/** The ingest function's `service`, in its metrics and its log lines. */
export const INGEST_SERVICE = 'ingest';

/**
 * The ingest's verdict on each signed request of a source with a signing secret, under `service` and `source`: 0
 * when its signature verified, 1 when it was well formed but matched no stored secret (`bad_signature`, what
 * every delivery gets once the sender's secret was rotated and ours was not). Requests without a signature, or
 * with a malformed one, are not counted: that is a scanner, not a sender with another secret. One metric per
 * source, so a source whose every signed request in a period failed (`Minimum` 1) is told from one that also had
 * verified deliveries (`Minimum` 0), and `SampleCount` says how many there were.
 */
export const SIGNATURE_MISMATCH_METRIC = 'SignatureMismatch';

/**
 * Events queued but not archived, counted by the ingest and by each consumer under `service` alone, so one query
 * of that dimension set sums them all.
 */
export const ARCHIVE_FAILED_METRIC = 'ArchiveFailed';

/**
 * The ingest's metrics under `service` alone: one count per request of its outcome (`Rejected` and `Failed` are
 * under `service` and `reason` instead), and the time its enqueue took. Each is a custom metric once written.
 */
export const INGEST_METRICS = [
  'Accepted',
  'Duplicate',
  'Ignored',
  'Unverified',
  ARCHIVE_FAILED_METRIC,
  'EnqueueLatency',
] as const;

/**
 * Why a request was not authenticated (a sender's verification says it). Logged and used as the `reason` metric
 * dimension, never returned. Listed here, not with the senders, so that a function reading the reasons does not
 * bundle the senders.
 */
export const REJECT_REASONS = [
  'missing_signature',
  'malformed_signature',
  'bad_signature',
  'missing_timestamp',
  'malformed_timestamp',
  'stale_timestamp',
  'missing_id',
  'unsigned_body',
  'secret_whitespace',
  'no_usable_secret',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/**
 * Why the ingest refused (`Rejected`, 4xx) or could not take (`Failed`, 503) a request: the `reason` dimension of
 * those two counts, each reason written under one of them.
 */
export const INGEST_REASONS = [
  ...REJECT_REASONS,
  'method_not_allowed',
  'unknown_source',
  'empty_body',
  'unsupported_encoding',
  'body_too_large',
  'malformed_body',
  'secret_unavailable',
  'dedupe_unavailable',
  'in_progress',
  'payload_store_unavailable',
  'enqueue_failed',
  'unknown_queue',
  'internal_error',
  'deadline_secret_fetch',
  'deadline_dedupe_claim',
  'deadline_payload_upload',
  'deadline_enqueue',
] as const;

/**
 * A consumer's counts of a batch's records by outcome, under `service` (its queue) and `type`, each written only when
 * not zero; its `EndToEndLatency` of each record is under the same dimensions.
 */
export const CONSUMER_TYPE_COUNTS = [
  'Processed',
  'Cancelled',
  'Failed',
  'Retried',
  'DeadLettered',
  KEY_HELD_RECORD.metric,
  'Duplicate',
  'Deferred',
  'DeleteFailed',
] as const;

/**
 * The message of the one line the ingest function logs per request (INFO; ERROR for a 503); local mode's reporter
 * and the dashboard's Logs Insights query select on it, never on its level.
 */
export const INGEST_OUTCOME_MESSAGE = 'webhook outcome';

/**
 * The message of the one line a consumer logs per record (INFO; WARN when it is retried, ERROR when it ends in the
 * DLQ); local mode's reporter selects on it, never on its level.
 */
export const CONSUMER_OUTCOME_MESSAGE = 'record outcome';

/**
 * The message of the INFO line the jobs endpoint logs per job it accepted (the enqueue a job sent over HTTP
 * begins with); local mode's reporter and `hookline trace` select on it. App code's producer logs no such line.
 */
export const JOBS_ENDPOINT_OUTCOME_MESSAGE = 'job enqueued';

/**
 * The message of the INFO line the jobs endpoint logs per request it refused (`outcome: "rejected"`, the status and
 * the reason, never a value the caller sent), as the ingest logs a rejected webhook; local mode's reporter shows it.
 */
export const JOBS_ENDPOINT_REJECTED_MESSAGE = 'job rejected';

/**
 * The message of the WARN line the jobs endpoint logs when a send completes after the request's deadline: the caller
 * was answered 503 (that request's outcome line), yet the job went out. Not an outcome line: a request has one.
 */
export const JOBS_ENDPOINT_LATE_SEND_MESSAGE = 'job enqueued after its deadline';

/** Every outcome log message, the ingest's first. */
export const OUTCOME_MESSAGES = [
  INGEST_OUTCOME_MESSAGE,
  CONSUMER_OUTCOME_MESSAGE,
  JOBS_ENDPOINT_OUTCOME_MESSAGE,
  JOBS_ENDPOINT_REJECTED_MESSAGE,
] as const;

/**
 * Key prefix of claim-checked bodies in the payload bucket: the ingest function writes under it, the bucket's
 * lifecycle rule expires it, and the functions' grants cover it and nothing else.
 */
export const PAYLOAD_KEY_PREFIX = 'payloads/';

/** Where the ingest function stores a claim-checked body: `payloads/<source>/<yyyy>/<mm>/<dd>/<id>` (UTC). */
export function payloadKey(source: string, id: string, receivedAt: Date): string {
  const yyyy = String(receivedAt.getUTCFullYear()).padStart(4, '0');
  const mm = String(receivedAt.getUTCMonth() + 1).padStart(2, '0');
  const dd = String(receivedAt.getUTCDate()).padStart(2, '0');
  return `${PAYLOAD_KEY_PREFIX}${source}/${yyyy}/${mm}/${dd}/${id}`;
}

/** Attribute names of a table with a string partition key and a TTL attribute in epoch seconds. */
export interface TtlTableKeys {
  readonly partitionKey: string;
  readonly ttlAttribute: string;
}

/**
 * The delivery-id dedupe table (`lambda/shared/dedupe-store.ts`): key `<source>#<id>` for webhooks, and
 * `job#<id>` for jobs, whose record also holds the job's state and result (`lambda/shared/job-record.ts`).
 */
export const DEDUPE_TABLE: TtlTableKeys = { partitionKey: 'pk', ttlAttribute: 'expiresAt' };

/** The consumers' idempotency table: Powertools idempotency's default key and expiry attribute names. */
export const IDEMPOTENCY_TABLE: TtlTableKeys = { partitionKey: 'id', ttlAttribute: 'expiration' };

/** Key prefix of job records in the dedupe table; producers and consumers may touch these items and no others. */
export const JOB_RECORD_KEY_PREFIX = 'job#';

/**
 * Key prefix of the dedupe table's held-receive counts (`job.held#<SQS message id>`): the receives a consumer
 * handed a job back without running it, which its attempt number leaves out. Only consumers touch these; a
 * source name cannot hold a dot, so no webhook source's delivery ids (`<source>#<id>`) share the prefix.
 */
export const HELD_RECEIVES_KEY_PREFIX = 'job.held#';

/**
 * The dedupe key of a webhook delivery: its source's name, then its delivery id (an id is unique only within its
 * source). The ingest function may touch these items, one source's at a time, and no job record.
 */
export const deliveryDedupeKey = (source: string, deliveryId: string): string => `${source}#${deliveryId}`;

/** Every dedupe key of one source's deliveries, as an IAM `StringLike` pattern. */
export const deliveryDedupeKeyPattern = (source: string): string => deliveryDedupeKey(source, '*');

/**
 * A FIFO queue's name ends in `.fifo`, as SQS requires, and only a FIFO queue's does. Here, apart from the zod
 * schemas of `aws-location`, so the CLI's status and dead-letter notes can tell one without loading zod.
 */
export const isFifoQueueName = (queueName: string): boolean => queueName.endsWith('.fifo');
