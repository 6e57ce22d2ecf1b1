/**
 * Reads the event archive (`lambda/shared/archive.ts` layout) for `hookline replay`: lists the hour prefixes of
 * one source from the first hour a record received at `since` can be filed under (none the archive's retention
 * expired) to the last hour a record received by `until` can be filed under (for a window over a week, only the
 * hours of the days the archive holds, listed first), reads and decompresses each object, and keeps the records received in the range, first copy of an event only (an event
 * whose enqueue failed is archived again when the sender retries).
 */
import { gunzipSync } from 'node:zlib';
import {
  GetBucketLifecycleConfigurationCommand,
  GetObjectCommand,
  type LifecycleRule,
  ListObjectsV2Command,
  type ListObjectsV2CommandInput,
  type ListObjectsV2CommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  ARCHIVE_ERROR_PREFIX,
  ARCHIVE_KEY_PREFIX,
  type ArchiveObjectLines,
  type ArchiveRecord,
  archiveOriginOf,
  archivePrefixesBetween,
  archiveSourcePrefix,
  parseArchiveLines,
} from '../../lambda/shared/archive';
import { parseIsoTime } from '../../lambda/shared/iso-time';
import { plural } from '../../lambda/shared/plural';
import { CliError, CredentialsError, type ErrorContext, errorName, explainError, UsageError } from './errors';

/** Which archived events to read. */
export interface ArchiveSelection {
  readonly bucket: string;
  readonly source: string;
  readonly since: Date;
  /** Exclusive: an event received at exactly `until` belongs to the next window. */
  readonly until: Date;
  /** Keeps a record (e.g. a type pattern). */
  readonly accept?: (record: ArchiveRecord) => boolean;
  /** The present, the latest a job or scheduled event can have been filed. @default the system clock */
  readonly now?: Date;
  /** Called after each hour prefix is read, with how many of how many (a long range reads for a while). */
  readonly onProgress?: (done: number, total: number) => void;
  /** Stops reading at the next hour prefix (Ctrl-C): what was read so far is returned. */
  readonly signal?: AbortSignal;
  /** How long the bucket keeps an object: hours it expired are not listed. None: nothing expires. */
  readonly retention?: ArchiveRetention;
}

/** How long the archive bucket keeps an object, and where that was read. */
export interface ArchiveRetention {
  readonly seconds: number;
  /** Where the value comes from, as the operator's messages name it. */
  readonly from: string;
}

/**
 * Where the retention a replay applies was read: the bucket's lifecycle rules, `archive.retention` standing in for
 * rules that could not be read, or nowhere (no rule expires the source's objects, or none could be read and the
 * configuration has no value), so the whole window is read.
 */
export type RetentionOrigin = 'bucket-lifecycle' | 'configuration' | 'none';

/** What a replay knows of the archive's retention before it lists: the retention to apply, and what to tell. */
export interface RetentionReading {
  /** None when the bucket expires no object of the source. */
  readonly retention?: ArchiveRetention;
  readonly origin: RetentionOrigin;
  /** Set when the retention is not the bucket's own rule, or there is none. */
  readonly note?: string;
}

/**
 * The retention the archive bucket really applies to one source's objects: its lifecycle rules decide what S3
 * deletes, and one changed outside a deploy differs from `archive.retention`. When the rules cannot be read, the
 * configuration's value stands in, and the note says so.
 */
export async function readArchiveRetention(
  s3: S3Client,
  bucket: string,
  source: string,
  configuredSeconds: number | undefined,
  context: ErrorContext,
): Promise<RetentionReading> {
  let rules: readonly LifecycleRule[];
  try {
    rules = (await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }))).Rules ?? [];
  } catch (error) {
    if (errorName(error) !== 'NoSuchLifecycleConfiguration')
      return configuredRetention(error, source, configuredSeconds, context);
    rules = [];
  }
  const days = expiryDaysOf(rules, archiveSourcePrefix(source));
  if (days === undefined) {
    return {
      origin: 'none',
      note: `the archive bucket has no enabled lifecycle rule expiring every ${archiveSourcePrefix(source)} object: the whole window is read`,
    };
  }
  return {
    retention: { seconds: days * 86_400, from: "the archive bucket's lifecycle rule" },
    origin: 'bucket-lifecycle',
  };
}

/** The configuration's retention, standing in for lifecycle rules that could not be read, and why. */
function configuredRetention(
  error: unknown,
  source: string,
  configuredSeconds: number | undefined,
  context: ErrorContext,
): RetentionReading {
  const explained = explainError(error, { ...context, permissions: ['s3:GetLifecycleConfiguration'] });
  // Without credentials the listing fails too: that is the one thing to tell.
  if (explained instanceof CredentialsError) throw explained;
  const why = `cannot read the archive bucket's lifecycle rules (${errorName(error)}; reading them needs s3:GetLifecycleConfiguration)`;
  if (configuredSeconds === undefined) {
    return {
      origin: 'none',
      note: `${why} and archive.retention has no value here: the whole window of ${source} is read`,
    };
  }
  const days = retentionDays(configuredSeconds);
  return {
    retention: { seconds: configuredSeconds, from: 'archive.retention in the configuration' },
    origin: 'configuration',
    note: `${why}: the retention applied is archive.retention in the configuration (${days}), which a rule changed outside a deploy would not match`,
  };
}

/**
 * The fewest days after which an enabled rule expires every object under `prefix`; undefined when none does. A
 * rule filtered by tags or object size expires only some objects, so it leaves hours that may hold events.
 */
export function expiryDaysOf(rules: readonly LifecycleRule[], prefix: string): number | undefined {
  const days = rules
    .filter((rule) => rule.Status === 'Enabled' && coversPrefix(rule, prefix))
    .map((rule) => rule.Expiration?.Days)
    .filter((d): d is number => d !== undefined && d > 0);
  return days.length > 0 ? Math.min(...days) : undefined;
}

function coversPrefix(rule: LifecycleRule, prefix: string): boolean {
  const filter = rule.Filter;
  // A rule of the older shape names its prefix on itself, not in a filter.
  if (filter === undefined) return prefix.startsWith(rule.Prefix ?? '');
  const bySize = (f: { ObjectSizeGreaterThan?: number; ObjectSizeLessThan?: number }) =>
    f.ObjectSizeGreaterThan !== undefined || f.ObjectSizeLessThan !== undefined;
  if (filter.Tag !== undefined || bySize(filter)) return false;
  if (filter.And !== undefined) {
    if ((filter.And.Tags?.length ?? 0) > 0 || bySize(filter.And)) return false;
    return prefix.startsWith(filter.And.Prefix ?? '');
  }
  return prefix.startsWith(filter.Prefix ?? '');
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * The earliest hour whose prefix can still hold an object the bucket's lifecycle has not expired. S3 expires an
 * object at the first midnight UTC after its creation plus the retention, so one created before the start of
 * today less the retention has expired. An object is created within its hour and the stream's longest buffer
 * (1.5 times 900 s) after it: two hours earlier covers it.
 */
function firstKeptHour(now: Date, retentionSeconds: number): Date {
  const startOfToday = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  return new Date(startOfToday - retentionSeconds * 1000 - 2 * HOUR_MS);
}

/** The hours a selection lists, and where the retention cut them: hours before it hold nothing. */
export interface ArchiveHours {
  /** The first hour listed (any time within it). */
  readonly from: Date;
  /** The last hour listed (any time within it); before `from`'s hour when there is none. */
  readonly to: Date;
  /** Set when the window reaches before the retention: the listing starts at this hour instead. */
  readonly expiredBefore?: Date;
}

/**
 * The hours of the selection: from the first hour a record received at `since` can be filed under (or the first
 * the retention left, if later) to the last hour a record received by `until` can be. A window wholly before the
 * retention is an error naming the retention and the first time it keeps.
 */
export function archiveHoursOf(selection: ArchiveSelection): ArchiveHours {
  const { since, until, retention } = selection;
  const now = selection.now ?? new Date();
  const first = firstFiledHour(since);
  const kept = retention === undefined ? undefined : firstKeptHour(now, retention.seconds);
  const expiredBefore = kept && kept.getTime() > first.getTime() ? kept : undefined;
  // A record is filed under the hour the oldest record of its object reached the stream: from the hour before
  // it was received to the hour after (its own arrival, a moment after it was received).
  const from = expiredBefore ?? first;
  const to = lastFiledHour(selection.source, until, now);
  if (expiredBefore && startOfHour(from) > to.getTime()) {
    throw new CliError(
      `--since ${since.toISOString()} to --until ${until.toISOString()} lies wholly before the event archive's retention (${retentionDays(retention?.seconds)}, ${retention?.from}): the archive expired every object of that window, so nothing was replayed; give a window after ${expiredBefore.toISOString()}`,
    );
  }
  return expiredBefore ? { from, to, expiredBefore } : { from, to };
}

const startOfHour = (at: Date): number => Math.floor(at.getTime() / HOUR_MS) * HOUR_MS;

/**
 * Past this many hours, a window's days are listed first and only the hours of the days the archive holds are
 * read: a window of years (`--since 3650d`) would otherwise list every one of its hours, and `--since 100000000d`
 * more hours than memory holds.
 */
const HOURS_LISTED_WITHOUT_DAYS = 7 * 24;

/** The hour prefixes to list for `hours`, in time order: every hour of a short window, else those of archived days. */
async function hourPrefixesOf(
  s3: S3Client,
  selection: ArchiveSelection,
  hours: ArchiveHours,
): Promise<string[]> {
  const { bucket, source } = selection;
  const { from, to } = hours;
  if ((to.getTime() - startOfHour(from)) / HOUR_MS < HOURS_LISTED_WITHOUT_DAYS) {
    return archivePrefixesBetween(source, from, to);
  }
  const prefixes: string[] = [];
  for (const day of await archivedDays(s3, bucket, source)) {
    const start = Date.parse(`${day}T00:00:00Z`);
    const first = Math.max(start, from.getTime());
    const last = Math.min(start + DAY_MS - HOUR_MS, to.getTime());
    if (first <= last) prefixes.push(...archivePrefixesBetween(source, new Date(first), new Date(last)));
  }
  return prefixes;
}

/** The UTC days (`yyyy-MM-dd`) the archive holds objects of `source` under, in time order. */
async function archivedDays(s3: S3Client, bucket: string, source: string): Promise<string[]> {
  const days: string[] = [];
  const listing = { Bucket: bucket, Prefix: archiveSourcePrefix(source), Delimiter: '/' };
  for await (const page of listingPages(s3, listing)) {
    for (const { Prefix } of page.CommonPrefixes ?? []) {
      const day = /dt=(\d{4}-\d{2}-\d{2})\/$/.exec(Prefix ?? '')?.[1];
      if (day !== undefined && Number.isFinite(Date.parse(`${day}T00:00:00Z`))) days.push(day);
    }
  }
  return days.sort();
}

/** A retention as the configuration states it: whole days. */
export const retentionDays = (seconds = 0): string => {
  const days = seconds / 86_400;
  return plural(days, 'day');
};

/**
 * The first hour a record received at `since` can be filed under. Firehose names an object's hour after the
 * oldest record the object holds, and buffers a partition for up to 1.5 times its interval (at most 900 s): a
 * record received at 10:03 can share an object with one that reached the stream at 09:59 and be filed under 09.
 * An hour earlier covers the longest buffer.
 */
function firstFiledHour(since: Date): Date {
  return new Date(since.getTime() - HOUR_MS);
}

/**
 * The last hour a record received by `until` can be filed under. A webhook is archived beside its enqueue, so it
 * is filed a moment after it was received: one hour more covers it. A job or a scheduled event is archived by its
 * consumer on its first receive, which a delay or a backlog (a paused consumer) can put any time later: up to now.
 */
function lastFiledHour(source: string, until: Date, now: Date): Date {
  // Nothing was received after now, however far ahead `until` is: its hours would be listed for nothing.
  const afterReceived = new Date(Math.min(until.getTime(), now.getTime()) + HOUR_MS);
  if (archiveOriginOf({ source }) === 'webhook') return afterReceived;
  return now.getTime() > afterReceived.getTime() ? now : afterReceived;
}

/** Every object key under one prefix. */
async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const page of listingPages(s3, { Bucket: bucket, Prefix: prefix })) {
    for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
  }
  return keys;
}

/** Each page of a listing, following its continuation tokens to the end. */
async function* listingPages(
  s3: S3Client,
  input: ListObjectsV2CommandInput,
): AsyncGenerator<ListObjectsV2CommandOutput> {
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ ...input, ...(token ? { ContinuationToken: token } : {}) }),
    );
    yield page;
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

async function readObject(s3: S3Client, bucket: string, key: string): Promise<ArchiveObjectLines> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })).catch((error: unknown) => {
    // S3 answers 403 for an object a lifecycle transition moved to an archival class: no grant reads it.
    if (errorName(error) !== 'InvalidObjectState') throw error;
    throw unreadableObject(
      bucket,
      key,
      'it is in an archival storage class (InvalidObjectState: S3 Glacier Flexible Retrieval, Deep Archive or an Intelligent-Tiering archive tier), which S3 reads only once it is restored',
      `restore the window's objects (aws s3api restore-object), or remove the lifecycle rule that moves ${ARCHIVE_KEY_PREFIX} objects there`,
    );
  });
  const bytes = Buffer.from((await object.Body?.transformToByteArray()) ?? []);
  // Firehose writes GZIP objects; a plain one (copied by hand) is read as is.
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return parseArchiveLines(bytes.toString('utf8'));
  try {
    return parseArchiveLines(gunzipSync(bytes).toString('utf8'));
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw unreadableObject(
      bucket,
      key,
      `it is not the GZIP a delivery stream writes (${why})`,
      `move it out of ${ARCHIVE_KEY_PREFIX} (aws s3 mv s3://${bucket}/${key} s3://${bucket}/${ARCHIVE_ERROR_PREFIX}unreadable/${key}, where the lifecycle expires it with the archive)`,
    );
  }
}

/** An archive object the replay cannot read: named, with why and the fix, before anything is sent. */
function unreadableObject(bucket: string, key: string, why: string, fix: string): CliError {
  return new CliError(
    `the archive object s3://${bucket}/${key} cannot be read: ${why}: nothing was replayed; ${fix}, then run the replay again`,
  );
}

/**
 * What makes two archived records copies of one event: its id, and for a job its generation (the same job id
 * sent again after its dedupe window is a new job).
 */
function copyKeyOf(record: ArchiveRecord): string {
  const { id, generation } = record.envelope;
  return generation === undefined ? id : `${id}#${generation}`;
}

/**
 * The lines of the archive objects a read went through that were not archive records (torn, or another writer's),
 * which it skipped, and how many objects held them. They are of no event, so they change no count of events.
 */
export interface SkippedArchiveLines {
  readonly lines: number;
  readonly objects: number;
}

/**
 * Reads the archived events of the selection and hands each to `onRecord` in archive order (hour prefix, object
 * key, line), first copy of an event only; `onRecord` is awaited, so it can write what it keeps to disk. Only
 * the copy keys of the events seen are kept (to drop later copies), never the records. Resolves with the lines it
 * skipped for not being archive records.
 */
export async function scanArchive(
  s3: S3Client,
  selection: ArchiveSelection,
  onRecord: (record: ArchiveRecord) => void | Promise<void>,
): Promise<SkippedArchiveLines> {
  const { bucket, source, since, until } = selection;
  const seen = new Set<string>();
  const skipped = { lines: 0, objects: 0 };
  const prefixes = await hourPrefixesOf(s3, selection, archiveHoursOf(selection));
  for (const [index, prefix] of prefixes.entries()) {
    if (selection.signal?.aborted) break;
    for (const key of (await listKeys(s3, bucket, prefix)).sort()) {
      const lines = await readObject(s3, bucket, key);
      if (lines.skipped > 0) {
        skipped.lines += lines.skipped;
        skipped.objects += 1;
      }
      for (const record of lines.records) {
        const received = receivedTimeOf(record);
        // From `since` up to, not including, `until`: back-to-back windows (10:00..11:00, 11:00..12:00) share
        // no event, even one received exactly at the boundary (a schedule's event is, to the second).
        if (record.source !== source || !(received >= since.getTime() && received < until.getTime()))
          continue;
        const copy = copyKeyOf(record);
        if (seen.has(copy) || (selection.accept && !selection.accept(record))) continue;
        seen.add(copy);
        await onRecord(record);
      }
    }
    selection.onProgress?.(index + 1, prefixes.length);
  }
  return skipped;
}

/**
 * What a read says of the lines it skipped ({@link SkippedArchiveLines}); undefined when it skipped none. The events
 * it counts are those of the archive records alone.
 */
export function skippedArchiveLinesNote(skipped: SkippedArchiveLines): string | undefined {
  if (skipped.lines === 0) return undefined;
  const were =
    skipped.lines === 1 ? 'was not an archive record and was' : 'were not archive records and were';
  return `${plural(skipped.lines, 'line')} in ${plural(skipped.objects, 'archive object')} ${were} skipped (a line cut short, or one another writer put there): they hold no event, so no count of events includes them`;
}

/** When an archived event was received, in epoch milliseconds: the order a replay sends in. */
export const receivedTimeOf = (record: ArchiveRecord): number => Date.parse(record.envelope.receivedAt);

/** The archived events of the selection, in the order they were received (equal times: archive order). */
export async function readArchive(s3: S3Client, selection: ArchiveSelection): Promise<ArchiveRecord[]> {
  const records: ArchiveRecord[] = [];
  await scanArchive(s3, selection, (record) => {
    records.push(record);
  });
  return records.sort((a, b) => receivedTimeOf(a) - receivedTimeOf(b));
}

/**
 * A time given on the command line: an absolute time as `parseIsoTime` reads it (ISO 8601 with a zone, or a UTC
 * day), or a duration ago (`90s`, `15m`, `2h`, `3d`). Undefined when it is none of these.
 */
export function parseTime(text: string, now: number): Date | undefined {
  const trimmed = text.trim();
  const relative = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(trimmed);
  if (relative) {
    const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as 's' | 'm' | 'h' | 'd'];
    const ago = new Date(now - Number(relative[1]) * unit);
    // A duration reaching before the earliest time a Date holds (200000000d) is no time, not an Invalid Date.
    return Number.isNaN(ago.getTime()) ? undefined : ago;
  }
  return parseIsoTime(trimmed);
}

/** A time option (`--since`, the console's "since"), or a one-line error naming it and the accepted forms. */
export function timeOption(name: string, text: string, now: number): Date {
  const time = parseTime(text, now);
  if (!time) {
    throw new UsageError(
      `${name} "${text}" is not a time: use ISO 8601 with a zone (2026-11-30T10:00:00Z, 2026-11-30T11:00:00+01:00), a UTC day (2026-11-30) or a duration ago (15m, 2h, 3d)`,
    );
  }
  return time;
}
