/**
 * What the event archive costs per event, from the published us-east-1 on-demand prices (checked 2026-11;
 * Amazon Data Firehose and S3 pricing pages). One home for these constants: the README's cost model and the
 * `hookline cost` model import them.
 */

/** Firehose Direct PUT ingestion, first 500 TB/month, per GB; each record is rounded up to a multiple of 5 KB. */
export const FIREHOSE_INGEST_USD_PER_GB = 0.029;
/** Firehose bills every record as a whole number of 5 KB steps. */
export const FIREHOSE_RECORD_ROUNDING_BYTES = 5 * 1024;
/** Dynamic partitioning, per GB delivered to S3 (billed on the data processed, before compression). */
export const FIREHOSE_PARTITIONING_USD_PER_GB = 0.02;
/** Dynamic partitioning, per 1,000 S3 objects delivered. */
export const FIREHOSE_PARTITIONING_USD_PER_1000_OBJECTS = 0.005;
/** S3 Standard storage, first 50 TB, per GB-month. */
export const S3_STANDARD_USD_PER_GB_MONTH = 0.023;
/** GZIP ratio assumed for JSON webhook envelopes (measured locally on the example senders' samples: 5-10x). */
export const ASSUMED_GZIP_RATIO = 5;

const GB = 1024 ** 3;

/** S3 bills storage per GB-month, prorated by the hour: an average month is 365/12 days. */
export const DAYS_PER_MONTH = 365 / 12;

/** What storing `bytes` in S3 Standard for `days` costs (USD), prorated as S3 bills it. */
export function s3StorageUsd(bytes: number, days: number): number {
  return (bytes / GB) * S3_STANDARD_USD_PER_GB_MONTH * (days / DAYS_PER_MONTH);
}

/** The archive's cost for `events` events of `bytes` each, per item and in total (USD). */
export interface ArchiveCost {
  readonly ingest: number;
  readonly partitioning: number;
  /** S3 objects written by the stream (one per partition and buffer interval). */
  readonly objects: number;
  /** Everything but storage (priced by {@link s3StorageUsd} for the retention): what archiving them costs once. */
  readonly total: number;
}

/**
 * The archive's cost. `objects` is the number of S3 objects the stream writes in the period (one per source
 * and buffer interval with traffic; 3 sources x 288 five-minute intervals a day is ~26,000 a month), which is
 * independent of the event count.
 */
export function archiveCost(events: number, bytes: number, objects = 0): ArchiveCost {
  const billedBytes = Math.ceil(bytes / FIREHOSE_RECORD_ROUNDING_BYTES) * FIREHOSE_RECORD_ROUNDING_BYTES;
  const ingest = ((events * billedBytes) / GB) * FIREHOSE_INGEST_USD_PER_GB;
  const partitioning =
    ((events * bytes) / GB) * FIREHOSE_PARTITIONING_USD_PER_GB +
    (objects / 1000) * FIREHOSE_PARTITIONING_USD_PER_1000_OBJECTS;
  return { ingest, partitioning, objects, total: ingest + partitioning };
}

/** The README figure: archiving one million 4 KB events (objects not counted: they do not scale with events). */
export const ARCHIVE_USD_PER_MILLION_4KB = archiveCost(1_000_000, 4096).total;
