/**
 * The event archive's contract, shared by everything that writes to it (the ingest function, schedules, job
 * producers), the stack (delivery stream prefix, grants), local mode's Firehose stand-in and `hookline replay`.
 *
 * One archive record is one JSON line: the envelope exactly as it was queued (raw body inline, kept headers
 * only: signature and credential headers never reach an envelope), plus where it came from, which queues it
 * was sent to and, for a job on a FIFO queue, the message group it was sent with. Records go to an Amazon Data Firehose delivery stream, which batches them into GZIP objects under
 * `archive/source=<source>/dt=<yyyy-MM-dd>/hour=<HH>/` (UTC: when the oldest record of the object reached the
 * stream, so a record can be filed under the hour before it was received), so reading a time range of one source
 * lists only that range's prefixes and the hour around it.
 *
 * Plain constants and pure functions only: the CDK side imports this module too.
 */
import type { WebhookEnvelope } from './envelope';
import { JOB_SOURCE, SCHEDULE_SOURCE } from './job';

/** Key prefix of every archive object; the bucket's lifecycle rule and the grants cover it. */
export const ARCHIVE_KEY_PREFIX = 'archive/';

/** Key prefix where the delivery stream writes records it could not partition or deliver. */
export const ARCHIVE_ERROR_PREFIX = 'archive-errors/';

/** Firehose takes records up to 1,000 KiB (before base64). */
export const ARCHIVE_RECORD_MAX_BYTES = 1_024_000;

/** What produced an archived event. */
export type ArchiveOrigin = 'webhook' | 'schedule' | 'producer';

/** One archive record (one line of an archive object). */
export interface ArchiveRecord {
  /** The envelope as queued; a claim-checked envelope keeps its `payloadRef` instead of the body. */
  readonly envelope: WebhookEnvelope;
  readonly origin: ArchiveOrigin;
  /** Queues the event was sent to when it was accepted. */
  readonly queues: readonly string[];
  /** The envelope's source again, at the top level, where the delivery stream's partitioning query reads it. */
  readonly source: string;
  /**
   * The message group it was sent with, when its producer chose it (on a FIFO queue a job's `group`, else its
   * type; on a standard queue a job's `tenant`): the ingest's grouping rules never saw it, so a replay sends it to
   * this group again.
   */
  readonly group?: string;
}

/**
 * What produced an envelope, read from its source. Jobs (`hookline/producer`, delayed ones through a one-time
 * schedule too) and schedules reach SQS without the ingest function, so their consumer archives them on their
 * first receive; webhooks are archived by the ingest function.
 */
export function archiveOriginOf(envelope: Pick<WebhookEnvelope, 'source'>): ArchiveOrigin {
  if (envelope.source === JOB_SOURCE) return 'producer';
  if (envelope.source === SCHEDULE_SOURCE) return 'schedule';
  return 'webhook';
}

/** Where archive records are sent: the delivery stream (AWS) or local mode's stand-in. */
export interface ArchiveSink {
  put(line: Buffer): Promise<void>;
}

/** The delivery stream's partition key query (Firehose dynamic partitioning, JQ) and the key it yields. */
export const ARCHIVE_PARTITION_QUERY = { source: '.source' } as const;

/**
 * The delivery stream's S3 prefix: the partition key and Firehose's timestamp namespace (UTC), the same layout
 * {@link archivePrefix} computes.
 */
export const ARCHIVE_STREAM_PREFIX = `${ARCHIVE_KEY_PREFIX}source=!{partitionKeyFromQuery:source}/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/`;

/** Error output prefix of the delivery stream. */
export const ARCHIVE_STREAM_ERROR_PREFIX = `${ARCHIVE_ERROR_PREFIX}!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/`;

const pad = (value: number, width = 2) => String(value).padStart(width, '0');

/** The prefix holding every record of one source: `archive/source=<s>/`. */
export const archiveSourcePrefix = (source: string): string => `${ARCHIVE_KEY_PREFIX}source=${source}/`;

/** The prefix holding one source's records of one UTC hour: `archive/source=<s>/dt=<yyyy-MM-dd>/hour=<HH>/`. */
export function archivePrefix(source: string, at: Date): string {
  const day = `${pad(at.getUTCFullYear(), 4)}-${pad(at.getUTCMonth() + 1)}-${pad(at.getUTCDate())}`;
  return `${archiveSourcePrefix(source)}dt=${day}/hour=${pad(at.getUTCHours())}/`;
}

/** Every hour prefix of one source from `since` to `until` (inclusive hours), in time order. */
export function archivePrefixesBetween(source: string, since: Date, until: Date): string[] {
  const hour = 3_600_000;
  const prefixes: string[] = [];
  for (let t = Math.floor(since.getTime() / hour) * hour; t <= until.getTime(); t += hour) {
    prefixes.push(archivePrefix(source, new Date(t)));
  }
  return prefixes;
}

/**
 * One archive line (JSON + newline: Firehose concatenates records as they are). Undefined when the record is
 * larger than Firehose accepts; the caller then archives the claim-checked form or counts it as not archived.
 */
export function archiveLine(
  envelope: WebhookEnvelope,
  origin: ArchiveOrigin,
  queues: readonly string[],
  group?: string,
): Buffer | undefined {
  const line = Buffer.from(
    `${JSON.stringify(archiveRecord(envelope, envelope.source, origin, queues, group))}\n`,
  );
  return line.length <= ARCHIVE_RECORD_MAX_BYTES ? line : undefined;
}

function archiveRecord(
  envelope: WebhookEnvelope | 0,
  source: string,
  origin: ArchiveOrigin,
  queues: readonly string[],
  group: string | undefined,
) {
  return { source, origin, queues, ...(group !== undefined ? { group } : {}), envelope };
}

/**
 * The largest serialized envelope (UTF-8 bytes of its JSON) whose {@link archiveLine} still fits a delivery
 * stream record: the record limit less what the line wraps around the envelope.
 */
export function archivableEnvelopeBytes(
  source: string,
  origin: ArchiveOrigin,
  queues: readonly string[],
  group?: string,
): number {
  // The record around a one-byte stand-in for the envelope: as long as the wrapper plus the line's newline.
  return (
    ARCHIVE_RECORD_MAX_BYTES -
    Buffer.byteLength(JSON.stringify(archiveRecord(0, source, origin, queues, group)))
  );
}

/**
 * The archive records of one (decompressed) archive object, and how many of its lines were not archive records: a
 * torn line (never written by Firehose), or a line another writer put there. Those are skipped rather than failing
 * the whole range, and counted, so a reader can say that it skipped them.
 */
export interface ArchiveObjectLines {
  readonly records: ArchiveRecord[];
  /** Lines that are not blank and not archive records. */
  readonly skipped: number;
}

/** Parses the lines of one (decompressed) archive object; see {@link ArchiveObjectLines}. */
export function parseArchiveLines(text: string): ArchiveObjectLines {
  const records: ArchiveRecord[] = [];
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const record = archiveRecordOf(line);
    if (record) records.push(record);
    else skipped++;
  }
  return { records, skipped };
}

/** The archive record a line holds; undefined for a line that is not JSON, or JSON that is no archive record. */
function archiveRecordOf(line: string): ArchiveRecord | undefined {
  try {
    const record = JSON.parse(line) as ArchiveRecord;
    return record && typeof record === 'object' && record.envelope && typeof record.source === 'string'
      ? record
      : undefined;
  } catch {
    return undefined;
  }
}
