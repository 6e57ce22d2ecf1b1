/**
 * Archiving of the envelopes that reach a queue without the ingest function: jobs sent by `hookline/producer`
 * (delayed ones through a one-time schedule too) and events of configured schedules (EventBridge Scheduler
 * sends them straight to SQS, and a schedule has exactly one target). Their consumer archives each on its first
 * receive, beside running the batch, so every producer path is archived by this one place.
 *
 * Webhooks are archived by the ingest function and replayed events are already in the archive: both skipped.
 */
import type { SQSRecord } from 'aws-lambda';
import { ARCHIVE_RECORD_MAX_BYTES, archiveLine, archiveOriginOf } from '../shared/archive';
import { MESSAGE_ATTRIBUTES, recordedTenantOfRecord, type WebhookEnvelope } from '../shared/envelope';
import type { ConsumerLogger } from './types';

/** Where a consumer puts archive lines: one call per batch (Firehose `PutRecordBatch`, up to 500 records). */
export interface ArchiveBatchSink {
  /** Resolves when every line was taken; rejects naming how many were not. */
  putLines(lines: readonly Buffer[]): Promise<void>;
}

/** The most event ids one `archive put failed` line lists: a batch may hold 10,000 records, a log event 256 KB. */
export const LOGGED_IDS_MAX = 100;

/**
 * The archive lines of a batch's first arrivals on `queue` (its configured name) that no ingest function archived,
 * with their events' ids, and the ids of those too large for a delivery stream record (an inline envelope may
 * reach the SQS limit, above Firehose's): they cannot be archived, and say so.
 */
export function arrivalArchiveLines(
  records: readonly SQSRecord[],
  queue: string,
): { lines: Buffer[]; ids: string[]; tooLarge: string[] } {
  const lines: Buffer[] = [];
  const ids: string[] = [];
  const tooLarge: string[] = [];
  for (const record of records) {
    if (record.attributes?.ApproximateReceiveCount !== '1') continue;
    // A webhook carries its source as an attribute (the ingest sets it, and archived it): skipped without a
    // second parse of its body. Schedules send no attributes, so a message without one is read.
    const source = record.messageAttributes?.[MESSAGE_ATTRIBUTES.source]?.stringValue;
    if (source !== undefined && archiveOriginOf({ source }) === 'webhook') continue;
    const envelope = envelopeOrUndefined(record.body);
    if (!envelope || envelope.replay || archiveOriginOf(envelope) === 'webhook') continue;
    // The group its producer chose (a FIFO job's group, a job's tenant on a standard queue); a replay sends it
    // to that group again.
    const group = recordedTenantOfRecord(record);
    const line = archiveLine(envelope, archiveOriginOf(envelope), [queue], group || undefined);
    if (line) {
      lines.push(line);
      ids.push(envelope.id);
    } else tooLarge.push(envelope.id);
  }
  return { lines, ids, tooLarge };
}

/** A batch's archive put under way. */
export interface ArchivingArrivals {
  /** How many lines were not archived, once the put answered (0 when all were, or there were none); never rejects. */
  readonly notArchived: Promise<number>;
  /** True once {@link notArchived} resolved. */
  readonly answered: () => boolean;
  /**
   * The batch answers without waiting any longer: the lines not yet known archived are logged as a failed put and
   * returned as not archived, and whatever the put answers later is neither logged nor counted again.
   */
  giveUp(reason: string): number;
}

/**
 * Starts putting the batch's arrival lines (undefined with no archive); the batch's outcome does not depend on
 * the archive: a failure is logged, and counted through {@link ArchivingArrivals.notArchived}.
 */
export function archiveArrivals(
  records: readonly SQSRecord[],
  queue: string,
  sink: ArchiveBatchSink | undefined,
  logger: ConsumerLogger,
): ArchivingArrivals | undefined {
  if (!sink) return undefined;
  let lines: Buffer[] = [];
  let ids: string[] = [];
  let tooLarge: string[] = [];
  let given = false;
  let answered = false;
  // The events it names are those a replay of this time will miss: the operator sends them again by id.
  const putFailed = (error: string) =>
    logger.error('archive put failed', {
      archiveFailed: lines.length,
      ids: ids.slice(0, LOGGED_IDS_MAX),
      ...(ids.length > LOGGED_IDS_MAX ? { idsNotListed: ids.length - LOGGED_IDS_MAX } : {}),
      error,
    });
  // Already counted when the batch gave up on it: what the put answered is told, not counted again.
  const lateAnswer = (outcome: { archived: boolean; error?: string }) =>
    logger.warn('archive put answered after the batch response', { lines: lines.length, ...outcome });
  const put = async (): Promise<number> => {
    try {
      ({ lines, ids, tooLarge } = arrivalArchiveLines(records, queue));
      if (tooLarge.length > 0) {
        logger.error('archive record too large', {
          archiveFailed: tooLarge.length,
          ids: tooLarge,
          error: `an archive record is at most ${ARCHIVE_RECORD_MAX_BYTES} bytes`,
        });
      }
      if (lines.length > 0) await sink.putLines(lines);
      if (given) lateAnswer({ archived: true });
      return tooLarge.length;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (given) lateAnswer({ archived: false, error: message });
      else putFailed(message);
      return lines.length + tooLarge.length;
    } finally {
      answered = true;
    }
  };
  return {
    notArchived: put(),
    answered: () => answered,
    giveUp(reason) {
      given = true;
      putFailed(reason);
      return lines.length + tooLarge.length;
    },
  };
}

function envelopeOrUndefined(body: string): WebhookEnvelope | undefined {
  try {
    const parsed = JSON.parse(body) as WebhookEnvelope;
    return parsed && typeof parsed === 'object' && typeof parsed.source === 'string' ? parsed : undefined;
  } catch {
    return undefined;
  }
}
