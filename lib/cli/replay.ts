/**
 * `hookline replay`: re-sends archived events of one source and time range through the current routes (the
 * ingest function's own `selectRoute`) or to one queue. Each replayed envelope keeps its id and carries the
 * run's replay marker (`envelope.replay`, attribute `hookline.replay`), so consumers run it again as new work
 * (their idempotency key includes the run id) while a retry of that same replay is still run once.
 */
import { createHash, randomUUID } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  type MessageAttributeValue,
  SendMessageBatchCommand,
  type SendMessageBatchCommandOutput,
  type SendMessageBatchRequestEntry,
} from '@aws-sdk/client-sqs';
import { envelopeGroupingInput, groupingRuleOf, messageGroupOf } from '../../lambda/ingest/core';
import { selectRoute, typeMatches } from '../../lambda/ingest/routing';
import { type ArchiveRecord, archiveOriginOf } from '../../lambda/shared/archive';
import { entryBytes, SqsBatcher, sqsSafeJson } from '../../lambda/shared/claim-check';
import { MESSAGE_ATTRIBUTES, type PayloadRef, type WebhookEnvelope } from '../../lambda/shared/envelope';
import type { SourceRuntimeConfig } from '../../lambda/shared/ingest-config';
import { JOB_SOURCE, SCHEDULE_SOURCE } from '../../lambda/shared/job';
import { START_LOCAL_MODE } from '../../lambda/shared/local-mode-command';
import { plural } from '../../lambda/shared/plural';
import { didYouMeanAside } from '../closest-name';
import type { ResolvedConfig } from '../config';
import { isTokenProp } from '../config/tokens';
import { queueTargetOf, readingSettingsOf, routingOf } from '../runtime-wiring';
import {
  type ArchiveRetention,
  archiveHoursOf,
  type RetentionOrigin,
  readArchiveRetention,
  receivedTimeOf,
  retentionDays,
  type SkippedArchiveLines,
  scanArchive,
  skippedArchiveLinesNote,
} from './archive';
import { type Backend, contextOf } from './backend';
import {
  BackendError,
  CliError,
  CredentialsError,
  explainError,
  isUnanswered,
  UnknownSourceError,
  UsageError,
} from './errors';
import { ExternalSorter, SpillError } from './external-sort';
import { untilRateAllows } from './rate-pacing';
import { refuseFutureSince } from './since-flag';
import { sourceNotConfiguredNote, validSourceName } from './source-flag';
import { type QueueTarget, queueOf, type Target } from './target';
import { validTypePattern } from './type-pattern-flag';

export interface ReplayOptions {
  readonly source: string;
  /** Type pattern (`lambda/shared/type-pattern.ts`). @default every type */
  readonly type?: string;
  readonly since: Date;
  /** @default now */
  readonly until?: Date;
  /** Send every event to this queue instead of through the routes. */
  readonly to?: string;
  /** Events per second. @default unlimited */
  readonly rate?: number;
  readonly dryRun?: boolean;
  /** The run's id. @default a new UUID */
  readonly replayId?: string;
  /** Called once per replayed event (local mode records it in its journal). */
  readonly onReplayed?: (event: ReplayedEvent) => void;
  /** Stops the replay between batches (Ctrl-C): what was sent stays sent, the rest is not. */
  readonly signal?: AbortSignal;
  /**
   * How the selection is sorted into reception order (internal: tests make the budget tiny to spill):
   * serialized bytes held in memory before a sorted run is written to a private temporary folder.
   */
  readonly sort?: {
    /** @default SORT_BUDGET_BYTES */
    readonly budgetBytes?: number;
    /** @default os.tmpdir() (TMPDIR) */
    readonly tempRoot?: string;
    readonly onSpill?: (file: string) => void;
  };
}

/**
 * The selection's serialized bytes held in memory while it is read; beyond it, sorted runs go to disk. A replay of
 * a day of a busy source (a million 1.6 KB events) would otherwise hold gigabytes before its first send.
 */
export const SORT_BUDGET_BYTES = 64 * 1024 * 1024;

/** One event a replay sent to one queue. */
export interface ReplayedEvent {
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly queue: string;
  readonly replayId: string;
  /** When the run started (its marker's time): before any consumer can have received the copy. */
  readonly at: string;
}

export interface ReplayResult {
  /**
   * The run id consumers see as `envelope.replay.id`; null when nothing was sent under it (a dry run, a run stopped
   * while reading the archive): each run has an id of its own, so no later run sends under it.
   */
  readonly replayId: string | null;
  readonly source: string;
  readonly type?: string;
  readonly since: string;
  readonly until: string;
  readonly dryRun: boolean;
  /** Archived events that match the selection. */
  readonly matched: number;
  /** Messages sent (an event routed to two queues counts twice). */
  readonly sent: number;
  /**
   * Events the current routes ignore; null when no event of the selection went through them (`--to`, or jobs and
   * scheduled events, which go back to the queue each was sent to), so there is no such count.
   */
  readonly ignored: number | null;
  /** Messages not sent: refused, not reached, or whose body expired. */
  readonly failed: number;
  readonly byQueue: Readonly<Record<string, number>>;
  readonly failures: readonly ReplayMessageProblem[];
  /**
   * Messages of a send that got no answer (the endpoint stopped, a timeout): an earlier try of the SDK's may have
   * delivered them, so they are neither counted sent nor failed. `resumeSince` sends them again.
   */
  readonly sentUnknown: readonly ReplayMessageProblem[];
  /** Messages planned (an event routed to two queues counts twice); `sent` falls short when it stopped early. */
  readonly planned: number;
  /** What stopped the run before every planned message was sent. */
  readonly stoppedBy?: string;
  /**
   * Set when a stopped run can be continued exactly: every message of an event received before it was sent (or
   * is listed in `failures`) and none received at or after it was, so the same selection with this `--since`
   * sends the rest (as a new run). Absent when a message received at that instant was sent and another was not.
   */
  readonly resumeSince?: string;
  /**
   * Set when the run stopped while reading the archive: how many of the range's hour prefixes were read, so
   * `matched` counts the events of those hours only.
   */
  readonly archiveHoursRead?: { readonly read: number; readonly of: number };
  /**
   * Set when the window reaches before the archive's retention (`archive.retention`): its objects before this
   * time have expired, so their hours were not listed and the events of that part of the window are not counted.
   */
  readonly archiveExpiredBefore?: string;
  /**
   * The retention the read applied, and where it came from: the bucket's lifecycle rules, `archive.retention` from
   * the configuration when they could not be read, none (no rule expires the source's objects: the whole window is
   * read), or local mode (the local S3 expires nothing). `days` is null without a retention.
   */
  readonly archiveRetention: ReplayRetention;
  /**
   * Lines of the archive objects read that were not archive records (a line cut short, or one another writer put
   * there), skipped, and how many objects held them: `{ lines: 0, objects: 0 }` when every line was a record. They
   * hold no event, so `matched` and every other count of events leave them out.
   */
  readonly archiveLinesSkipped: SkippedArchiveLines;
}

/** Where a replay's retention came from, and how many days it keeps objects. */
export interface ReplayRetention {
  readonly from: RetentionOrigin | 'local';
  readonly days: number | null;
}

/** A message the run did not surely send, and why. */
export interface ReplayMessageProblem {
  readonly id: string;
  readonly queue: string;
  readonly reason: string;
}

/** A send that got no answer: `explained` says why in the operator's terms. */
class UnansweredSend extends Error {
  constructor(readonly explained: unknown) {
    super(explained instanceof Error ? explained.message : String(explained));
  }
}

/** One message to send. */
interface Planned {
  readonly queue: string;
  readonly envelope: WebhookEnvelope;
  /** The group a job was sent with (archived by its consumer): its FIFO group, or its tenant on a standard queue. */
  readonly group?: string;
  /**
   * The envelope with its stored body inline, read only to find its group: set for a claim-checked event whose
   * queue's rule reads a path into the body. Never sent, nor kept once the message's entry is built.
   */
  readonly readAs?: WebhookEnvelope;
}

/** A message's SQS entry but for its `Id`, which is its place in the batch it goes in. */
type EntryWithoutId = Omit<SendMessageBatchRequestEntry, 'Id'>;

/** One message to send, with the entry it is sent as: built once, to measure its batch and to send it. */
interface Queued extends Planned {
  readonly entry: EntryWithoutId;
}

/** The sources replay takes: the configured ones, and the schedules' and the jobs' events. */
export function replaySources(config: ResolvedConfig): string[] {
  return [...config.sources.map((s) => s.name), SCHEDULE_SOURCE, JOB_SOURCE];
}

/**
 * Checks `--to` before anything is read: an empty one (`--to "$QUEUE"` with the variable unset) is a command the
 * CLI cannot take, not a queue the target lacks, and leaving it out would send through the routes instead.
 */
function checkDestination(target: Target, to: string): void {
  if (to.trim() === '') {
    const names = Object.keys(target.queues);
    throw new UsageError(
      `--to is empty: name the queue to send every event to (one of ${names.length > 0 ? names.join(', ') : 'none configured'}), or leave --to out to send each event through the current routes`,
    );
  }
  queueOf(target, to);
}

/**
 * Checks the selectors before anything is read: an empty one is an error, never "everything". A source the
 * configuration does not have is taken with `--to` only: one removed from it keeps its events in the archive, but
 * its routes went with it, and the catch-all routes were not written for its events.
 */
function checkSelectors(
  config: ResolvedConfig,
  target: Target,
  options: ReplayOptions,
  until: Date,
  now: Date,
): void {
  if (options.source.trim() === '') throw new UsageError('--source is empty: name one configured source');
  const known = replaySources(config);
  if (!known.includes(options.source)) {
    // A name that could be no source's is refused first, with --to or without: it is no removed source that --to
    // would take, and it must not be read as an archive prefix.
    validSourceName(options.source);
    if (options.to === undefined) {
      const queues = Object.keys(target.queues);
      throw new UnknownSourceError(
        options.source,
        known,
        `a source removed from the configuration has no route: replay its archived events with --to <queue> (${queues.length > 0 ? `one of ${queues.join(', ')}` : 'none configured'})`,
      );
    }
  }
  if (options.type !== undefined) {
    if (options.type.trim() === '')
      throw new UsageError('--type is empty: give a type pattern such as "invoice.*"');
    validTypePattern(options.type);
  }
  // Nothing can have been received yet: say so rather than read the archive for a window that holds nothing. First,
  // so a --since in the future without --until is not told about an --until it never gave (now).
  refuseFutureSince(
    options.since,
    now.getTime(),
    'nothing was received in that window, so nothing was replayed; give a time in the past or a duration ago (2h)',
  );
  if (!(options.since.getTime() < until.getTime())) {
    throw new UsageError(
      `--since ${options.since.toISOString()} is not before --until ${until.toISOString()}: the window holds nothing, so nothing was replayed; give a --since earlier than --until (a duration counts back from now: --since 2h --until 1h)`,
    );
  }
}

/**
 * Where one event goes now: `--to`, else a webhook through the current routes (an ignored event goes nowhere: no
 * queue), a job or a scheduled event to the queue it was sent to (the webhook routes never applied to them).
 */
function destinationsOf(
  routing: ReturnType<typeof routingOf>,
  record: ArchiveRecord,
  to: string | undefined,
): { readonly queues: readonly string[]; readonly routed: boolean } {
  const { envelope, origin, queues } = record;
  if (to) return { queues: [to], routed: false };
  if (origin !== 'webhook' && Array.isArray(queues)) return { queues, routed: false };
  const route = selectRoute(routing, envelope.source, envelope.type);
  return { queues: route.ignore ? [] : route.queues, routed: true };
}

/** A planned message's place in reception order: its event's reception time, then its place in the archive. */
type Place = readonly [time: number, sequence: number];
const byPlace = (a: { place: Place }, b: { place: Place }) =>
  a.place[0] - b.place[0] || a.place[1] - b.place[1];

/** What the checks and the count line need of the selection, gathered while it is read: never a body. */
interface Tally {
  matched: number;
  ignored: number;
  /** Events that went through the current routes (not `--to`, not a job's or a scheduled event's queue). */
  routed: number;
  /** Messages planned (an event routed to two queues counts twice). */
  planned: number;
  /** Per queue: its planned messages, and the first one's place. */
  readonly queues: Map<string, { count: number; readonly first: Place }>;
  /** Per stored body (`bucket/key`): its reference and the planned messages that carry it. */
  readonly stored: Map<string, { readonly ref: PayloadRef; readonly messages: StoredBodyMessage[] }>;
}

interface StoredBodyMessage {
  readonly id: string;
  readonly queue: string;
  readonly place: Place;
}

const emptyTally = (): Tally => ({
  matched: 0,
  ignored: 0,
  routed: 0,
  planned: 0,
  queues: new Map(),
  stored: new Map(),
});
const storedAt = (ref: PayloadRef) => `${ref.bucket}/${ref.key}`;

/** The events the current routes ignore, or null when none went through them: the count does not apply. */
const ignoredByRoutes = (tally: Tally): number | null => (tally.routed > 0 ? tally.ignored : null);

/** Counts one event of the selection (in archive order) where it would go. */
function tallyEvent(
  tally: Tally,
  routing: ReturnType<typeof routingOf>,
  to: string | undefined,
  record: ArchiveRecord,
) {
  const { queues, routed } = destinationsOf(routing, record, to);
  tally.matched++;
  if (routed) tally.routed++;
  if (queues.length === 0) tally.ignored++;
  const time = receivedTimeOf(record);
  const ref = record.envelope.payloadRef;
  for (const queue of queues) {
    const place: Place = [time, tally.planned++];
    const counted = tally.queues.get(queue);
    if (counted) counted.count++;
    else tally.queues.set(queue, { count: 1, first: place });
    if (!ref) continue;
    const stored = tally.stored.get(storedAt(ref)) ?? { ref, messages: [] };
    stored.messages.push({ id: record.envelope.id, queue, place });
    tally.stored.set(storedAt(ref), stored);
  }
}

/** How the sorted selection becomes the messages to send. */
interface BatchPlan {
  readonly config: ResolvedConfig;
  readonly to: string | undefined;
  readonly replay: WebhookEnvelope['replay'];
  /** Stored bodies (`bucket/key`) that have expired: their events are not sent. */
  readonly expired: ReadonlySet<string>;
  readonly entryFor: (item: Planned) => EntryWithoutId;
  /** The envelope with its stored body read back from the payload bucket. */
  readonly withStoredBody: (envelope: WebhookEnvelope) => Promise<WebhookEnvelope>;
}

/**
 * The messages to send, in reception order, in batches SQS takes whole (`SqsBatcher`: ten, and within its batch
 * size, measured by each message's entry as `entryFor` builds it): each event of the sorted selection with the
 * run's marker, to each of its queues, but for those whose stored body has expired. A claim-checked event whose
 * queue groups by a path into the body has that body read back, one at a time, to find its group.
 */
async function* batchesOf(records: AsyncIterable<ArchiveRecord>, plan: BatchPlan): AsyncGenerator<Queued[]> {
  const routing = routingOf(plan.config);
  const batcher = new SqsBatcher<Queued>();
  for await (const record of records) {
    const { payloadRef } = record.envelope;
    if (payloadRef && plan.expired.has(storedAt(payloadRef))) continue;
    const envelope: WebhookEnvelope = { ...record.envelope, replay: plan.replay };
    const kept = typeof record.group === 'string' && record.group !== '' ? { group: record.group } : {};
    const { queues } = destinationsOf(routing, record, plan.to);
    const readsBody =
      payloadRef && !kept.group && queues.some((q) => groupsByBody(plan.config, q, envelope.source));
    const readAs = readsBody ? { readAs: await plan.withStoredBody(envelope) } : {};
    for (const queue of queues) {
      const entry = plan.entryFor({ queue, envelope, ...kept, ...readAs });
      const closed = batcher.add({ queue, envelope, ...kept, entry }, entryBytes(entry));
      if (closed) yield closed;
    }
  }
  const last = batcher.flush();
  if (last) yield last;
}

/** Whether the queue's grouping rule for `source` reads a path into the body (a FIFO group or a fair tenant). */
function groupsByBody(config: ResolvedConfig, queue: string, source: string): boolean {
  const settings = config.queues.find((q) => q.name === queue);
  return settings !== undefined && groupingRuleOf(queueTargetOf(settings, ''), source)?.by === 'path';
}

/**
 * Reads a claim-checked envelope's body back from the payload bucket (checked to be there before anything was
 * sent). A read that fails stops the run there, as a failed send does.
 */
async function withStoredBody(backend: Backend, target: Target, envelope: WebhookEnvelope) {
  const ref = envelope.payloadRef as PayloadRef;
  try {
    const object = await backend.s3?.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
    const bytes = Buffer.from((await object?.Body?.transformToByteArray()) ?? []);
    return { ...envelope, body: bytes.toString('base64'), bodyEncoding: 'base64' as const };
  } catch (error) {
    const explained = explainError(error, { ...contextOf(target), permissions: ['s3:GetObject'] });
    if (explained instanceof CredentialsError) throw explained;
    const why = explained instanceof Error ? explained.message : String(error);
    throw new CliError(
      `cannot read the stored body s3://${storedAt(ref)} of event ${envelope.id} to find its message group (${why})`,
    );
  }
}

/** The SQS entry of one replayed envelope: its attributes, and on FIFO queues its group and a run-unique dedupe id. */
function entryOf(
  config: ResolvedConfig,
  source: SourceRuntimeConfig | undefined,
  queue: QueueTarget,
  item: Planned,
): EntryWithoutId {
  const { envelope } = item;
  const attributes: Record<string, MessageAttributeValue> = {};
  const values = {
    [MESSAGE_ATTRIBUTES.source]: envelope.source,
    [MESSAGE_ATTRIBUTES.type]: envelope.type,
    [MESSAGE_ATTRIBUTES.eventId]: envelope.id,
    [MESSAGE_ATTRIBUTES.replay]: envelope.replay?.id ?? '',
  };
  for (const [name, value] of Object.entries(values))
    attributes[name] = { DataType: 'String', StringValue: value };
  const entry: EntryWithoutId = {
    MessageBody: sqsSafeJson(envelope),
    MessageAttributes: attributes,
  };
  const grouping = groupingOf(config, source, queue, item);
  if (!grouping) return entry;
  if (grouping.groupId !== undefined) entry.MessageGroupId = grouping.groupId;
  if (grouping.tenant !== undefined)
    attributes[MESSAGE_ATTRIBUTES.tenant] = { DataType: 'String', StringValue: grouping.tenant };
  if (queue.fifo) entry.MessageDeduplicationId = replayDeduplicationId(envelope);
  return entry;
}

/**
 * The message group (and, on a standard queue, the tenant) a replayed envelope goes back in; undefined when the
 * queue is no longer configured, so no rule can say.
 */
function groupingOf(
  config: ResolvedConfig,
  source: SourceRuntimeConfig | undefined,
  queue: QueueTarget,
  item: Planned,
): { readonly groupId?: string; readonly tenant?: string } | undefined {
  // A job's own group (its producer's choice): the queue's grouping rule would put it in another one. On a
  // standard queue that group is the job's tenant, carried as the ingest carries a webhook's.
  if (item.group !== undefined) return { groupId: item.group, ...(queue.fifo ? {} : { tenant: item.group }) };
  // A job or a scheduled event sent without one: on a standard queue it had no tenant (SQS counts each such job as a
  // tenant of its own), since no webhook rule applies to it; the queue's rule would make all of them one tenant.
  if (!queue.fifo && archiveOriginOf(item.envelope) !== 'webhook') return {};
  const settings = config.queues.find((q) => q.name === item.queue);
  if (!settings) return undefined;
  const { envelope } = item;
  // The body as the ingest read the request (a form's `payload`, a base64 body, a byte order mark), so a rule reading
  // a path finds the value it found; a claim-checked one read back when a rule reads it, else its headers alone.
  const input = envelopeGroupingInput(source, item.readAs ?? envelope) ?? {
    source: envelope.source,
    type: envelope.type,
    headers: envelope.headers ?? {},
    json: () => undefined,
  };
  return messageGroupOf(queueTargetOf(settings, queue.url), input);
}

/**
 * One per event and run; a job's generation keeps two sends of one job id (before and after its dedupe window)
 * apart, as the consumers' idempotency keys do.
 */
function replayDeduplicationId(envelope: WebhookEnvelope): string {
  const generation = envelope.generation === undefined ? '' : `#${envelope.generation}`;
  return createHash('sha256')
    .update(`${envelope.replay?.id}#${envelope.source}#${envelope.id}${generation}`)
    .digest('hex');
}

/** The planned queues in the order of their first message: the order a send reaches them. */
const queuesInOrder = (tally: Tally) =>
  [...tally.queues].map(([queue, { count, first }]) => ({ queue, count, place: first })).sort(byPlace);

/**
 * A queue an event would go to but the target lacks (a job's queue removed since) fails here, before anything is
 * sent, saying how many events it holds back and how to send them elsewhere.
 */
function checkPlannedQueues(target: Target, tally: Tally): void {
  // In the order the messages would be sent: the first queue missing is the one named.
  for (const { queue, count } of queuesInOrder(tally)) {
    const unpublished = target.kind === 'stack' && target.queuesMissingOutputs.includes(queue);
    if (target.queues[queue] || unpublished) {
      queueOf(target, queue);
      continue;
    }
    const names = Object.keys(target.queues);
    throw new CliError(
      `${plural(count, 'archived event')} of the selection ${count === 1 ? 'was' : 'were'} sent to queue "${queue}", which ${target.description} no longer has: replay ${count === 1 ? 'it' : 'them'} to another queue with --to <queue> (${names.length ? `one of ${names.join(', ')}` : 'none configured'}), or narrow --type; nothing was sent`,
    );
  }
}

/**
 * The messages whose body was claim-checked to the payload bucket and has since expired there (its lifecycle,
 * `payloads.expiry`, is shorter than the archive's retention): sent, each would only fail in its consumer. One
 * HeadObject per stored body; events with an inline body cost nothing.
 */
async function expiredBodies(
  backend: Backend,
  target: Target,
  tally: Tally,
): Promise<{ expired: Set<string>; gone: { id: string; queue: string; reason: string }[] }> {
  const expired = new Set<string>();
  const gone: (StoredBodyMessage & { reason: string })[] = [];
  for (const [at, { ref, messages }] of tally.stored) {
    try {
      await backend.s3?.send(new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if ((error as Error).name !== 'NotFound' && status !== 404) throw uncheckedBody(error, target, at);
      expired.add(at);
      const reason = `its body s3://${ref.bucket}/${ref.key} has expired (payloads.expiry): it cannot be replayed`;
      for (const message of messages) gone.push({ ...message, reason });
    }
  }
  // Listed in the order they would have been sent.
  return { expired, gone: gone.sort(byPlace).map(({ id, queue, reason }) => ({ id, queue, reason })) };
}

/**
 * Why a stored body could not be checked, nothing replayed. A HEAD is refused with a bare 403, naming no action:
 * it needs s3:GetObject, and s3:ListBucket for S3 to answer 404 rather than 403 for a body that expired.
 */
function uncheckedBody(error: unknown, target: Target, at: string): CliError {
  const explained = explainError(error, {
    ...contextOf(target),
    permissions: ['s3:GetObject', 's3:ListBucket'],
  });
  if (explained instanceof CredentialsError) return explained;
  const why = explained instanceof CliError ? explained.message : (error as Error).message;
  const line = `cannot check the stored body s3://${at} of an archived event (${why}): nothing was replayed`;
  return explained instanceof BackendError ? new BackendError(line) : new CliError(line);
}

/** Local mode buffers archive records for a second: write them now so the range read is complete. */
async function flushLocalArchive(backend: Backend, target: Target): Promise<void> {
  if (target.kind !== 'local') return;
  const answer = await backend.http(`${target.controlUrl}/archive/flush`, { method: 'POST' });
  if (answer.status === 404)
    throw new CliError(
      `archiving is off in local mode: set archive.enabled (the default) and restart local mode (${START_LOCAL_MODE})`,
    );
  if (!answer.ok) {
    // Records local mode still holds would be missing from the range: replaying the rest would look complete.
    const { message } = (await answer.json().catch(() => ({}))) as { message?: unknown };
    throw new CliError(
      `local mode could not write its buffered archive records (${String(message ?? `HTTP ${answer.status}`)}): nothing was replayed; see local mode's terminal, then run replay again`,
    );
  }
}

/**
 * Reads the selection once: each event is counted where it would go (the tally) and handed to `sorter`, which puts
 * them in reception order; none is an error.
 */
async function selectEvents(
  backend: Backend,
  target: Target,
  config: ResolvedConfig,
  options: ReplayOptions,
  until: Date,
  sorter: ExternalSorter<ArchiveRecord>,
): Promise<{
  tally: Tally;
  hours: { read: number; of: number };
  expiredBefore?: Date;
  archiveRetention: ReplayRetention;
  archiveLinesSkipped: SkippedArchiveLines;
}> {
  if (!target.archiveBucket || !backend.s3) {
    throw new CliError(
      `${target.description} has no event archive: enable archive in hookline.config.ts and deploy (or restart local mode)`,
    );
  }
  const { retention, origin } = await retentionOf(
    backend,
    backend.s3,
    target,
    target.archiveBucket,
    config,
    options.source,
  );
  const archiveRetention = { from: origin, days: retention ? retention.seconds / 86_400 : null };
  const typePattern = options.type;
  const routing = routingOf(config);
  const tally = emptyTally();
  // A range of days reads hundreds of hour prefixes and their objects before anything is sent.
  const reading = backend.output.progress(`archive hours of ${options.source} read`);
  const hours = { read: 0, of: 0 };
  const selection = {
    bucket: target.archiveBucket,
    source: options.source,
    since: options.since,
    until,
    now: new Date(backend.clock.now()),
    onProgress: (done: number, total: number) => {
      hours.read = done;
      hours.of = total;
      reading.update(done, total);
    },
    ...(options.signal ? { signal: options.signal } : {}),
    ...(retention ? { retention } : {}),
    // As routes read it: exactly `*` is every type, as a route without a type is.
    ...(typePattern !== undefined
      ? { accept: (r: ArchiveRecord) => typeMatches(typePattern, r.envelope.type) }
      : {}),
  };
  const { expiredBefore } = archiveHoursOf(selection);
  if (expiredBefore) {
    backend.output.note(
      `the event archive keeps events ${retentionDays(retention?.seconds)} (${retention?.from}): its objects before ${expiredBefore.toISOString()} have expired, so the window is read from then`,
    );
  }
  const archiveLinesSkipped = await scanArchive(backend.s3, selection, (record) => {
    tallyEvent(tally, routing, options.to, record);
    // A dry run only counts: its events are never sent, so they are neither kept nor written to disk.
    return options.dryRun ? undefined : sorter.add(record);
  }).catch((error: unknown) => {
    throw readFailure(error, target);
  });
  reading.done();
  const skippedNote = skippedArchiveLinesNote(archiveLinesSkipped);
  if (skippedNote) backend.output.note(skippedNote);
  if (tally.matched === 0 && !options.signal?.aborted) throw nothingMatched(config, target, options, until);
  return {
    tally,
    hours,
    archiveRetention,
    archiveLinesSkipped,
    ...(expiredBefore ? { expiredBefore } : {}),
  };
}

/**
 * Why reading the selection failed, as the operator reads it: AWS's answer explained with the grants a read needs, or
 * a selection too large for memory that could not be sorted on disk either.
 */
function readFailure(error: unknown, target: Target): unknown {
  if (!(error instanceof SpillError)) {
    return explainError(error, { ...contextOf(target), permissions: ['s3:ListBucket', 's3:GetObject'] });
  }
  return new CliError(
    `the selection does not fit in memory and cannot be sorted on disk in the temporary folder ${error.folder} (${error.reason}): nothing was replayed; free space there or set TMPDIR to a folder with room for about the size of the selection`,
  );
}

/** A selection that matches nothing: an error, never an empty run. */
function nothingMatched(
  config: ResolvedConfig,
  target: Target,
  options: ReplayOptions,
  until: Date,
): CliError {
  const type = options.type !== undefined ? ` of type "${options.type}"` : '';
  // A restart without a data directory starts local mode's archive empty: events sent before it are not there.
  const kept =
    target.kind === 'local'
      ? " (local mode's archive holds what it received since it started, or, with HOOKLINE_DATA_DIR, since that directory was created)"
      : '';
  // A source taken with --to although not configured: a mistyped name is more likely than a removed source.
  const known = replaySources(config);
  const unconfigured = known.includes(options.source)
    ? ''
    : `; "${options.source}" is not a configured source either${didYouMeanAside(options.source, known)}`;
  return new CliError(
    `no archived ${options.source} event${type} was received between ${options.since.toISOString()} and ${until.toISOString()}: nothing was replayed${kept}${unconfigured}`,
  );
}

/**
 * The retention that cut the archive's objects of `source`: deployed, the bucket's lifecycle rules (the
 * configuration's `archive.retention` when they cannot be read, as a note says); none locally, where the local S3
 * expires nothing (an emulated bucket keeps every object until the data directory is deleted).
 */
async function retentionOf(
  backend: Backend,
  s3: S3Client,
  target: Target,
  bucket: string,
  config: ResolvedConfig,
  source: string,
): Promise<{ retention?: ArchiveRetention; origin: ReplayRetention['from'] }> {
  if (target.kind === 'local') return { origin: 'local' };
  const configured = config.archive?.retention;
  const configuredSeconds = configured && !isTokenProp(configured) ? configured.toSeconds() : undefined;
  const reading = await readArchiveRetention(s3, bucket, source, configuredSeconds, contextOf(target));
  if (reading.note) backend.output.note(reading.note);
  return reading;
}

/** Sends the planned messages batch by batch (one call per queue of a batch), at `rate` per second; counts per queue. */
async function sendPlanned(
  backend: Backend,
  target: Target,
  batches: AsyncIterable<Queued[]>,
  options: ReplayOptions,
  progress: { update(done: number): void },
) {
  const byQueue: Record<string, number> = {};
  const failures: ReplayMessageProblem[] = [];
  const sentUnknown: ReplayMessageProblem[] = [];
  const started = backend.clock.now();
  let done = 0;
  let interrupted = false;
  let fault: Error | undefined;
  // Where a stopped run can be continued: the earliest reception among the messages it did not send, kept only
  // when every message it sent was received before it (a fault's batch sends some queues and not others).
  let lastSent = Number.NEGATIVE_INFINITY;
  let firstUnsent = Number.POSITIVE_INFINITY;
  const unsentAt = (item: Planned) => {
    firstUnsent = Math.min(firstUnsent, Date.parse(item.envelope.receivedAt));
  };
  try {
    for await (const batch of batches) {
      interrupted = options.signal?.aborted === true;
      // The batches come in reception order: the first one not sent holds the earliest of the rest.
      if (interrupted) {
        unsentAt(batch[0] as Planned);
        break;
      }
      const queues = [...new Set(batch.map((p) => p.queue))];
      for (const [n, queueName] of queues.entries()) {
        const items = batch.filter((p) => p.queue === queueName);
        try {
          await sendBatch(backend, target, queueName, items, options, byQueue, failures);
        } catch (error) {
          // What was sent stays sent and is counted. This batch's messages not sent (this queue's, and those of
          // its queues not reached yet) are listed as failed, or this queue's as not known when its send got no
          // answer; the rest are not sent: stop and report them. Either way resuming sends them again.
          const unanswered = error instanceof UnansweredSend;
          const cause = unanswered ? error.explained : error;
          fault = cause instanceof Error ? cause : new Error(String(cause));
          const unsent = new Set(queues.slice(n));
          for (const item of batch)
            if (unsent.has(item.queue)) {
              const problem = { id: item.envelope.id, queue: item.queue, reason: fault.message };
              (unanswered && item.queue === queueName ? sentUnknown : failures).push(problem);
              unsentAt(item);
            } else lastSent = Math.max(lastSent, Date.parse(item.envelope.receivedAt));
          break;
        }
      }
      if (!fault)
        for (const item of batch) lastSent = Math.max(lastSent, Date.parse(item.envelope.receivedAt));
      done += batch.length;
      progress.update(done);
      if (fault) break;
      if (options.rate) await untilRateAllows(backend.clock, started, done, options.rate, options.signal);
    }
  } catch (error) {
    // A send's error is caught above: this is the sorted selection failing to be read back from disk, or a stored body
    // read back for its group. What was sent stays sent and is counted, as when a send fails.
    fault = error instanceof Error ? error : new Error(String(error));
  }
  const resumeSince =
    (interrupted || fault) && firstUnsent > lastSent && Number.isFinite(firstUnsent)
      ? new Date(firstUnsent).toISOString()
      : undefined;
  return { byQueue, failures, sentUnknown, interrupted, fault, resumeSince };
}

async function sendBatch(
  backend: Backend,
  target: Target,
  queueName: string,
  items: readonly Queued[],
  options: ReplayOptions,
  byQueue: Record<string, number>,
  failures: ReplayMessageProblem[],
): Promise<void> {
  const queue = queueOf(target, queueName);
  let answer: SendMessageBatchCommandOutput;
  try {
    answer = await backend.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queue.url,
        Entries: items.map((item, i) => ({ ...item.entry, Id: String(i) })),
      }),
    );
  } catch (error) {
    const explained = explainError(error, { ...contextOf(target, queueName), paced: true });
    throw isUnanswered(error) ? new UnansweredSend(explained) : explained;
  }
  const failed = new Map((answer.Failed ?? []).map((f) => [f.Id, f.Message ?? 'refused']));
  items.forEach((item, i) => {
    const reason = failed.get(String(i));
    if (reason !== undefined) {
      failures.push({ id: item.envelope.id, queue: queueName, reason });
      return;
    }
    byQueue[queueName] = (byQueue[queueName] ?? 0) + 1;
    const { id, source, type } = item.envelope;
    const { id: replayId = '', at = new Date(backend.clock.now()).toISOString() } =
      item.envelope.replay ?? {};
    options.onReplayed?.({ id, source, type, queue: queueName, replayId, at });
  });
}

/**
 * Reads the selection, says how many events it will replay, then replays them with a progress bar. The archive
 * is read once: the counts and checks come from a tally kept while reading, and the events, sorted into reception
 * order by an external merge sort (in memory up to a budget, beyond it in sorted runs on disk), are streamed to
 * the sends.
 */
export async function replay(
  backend: Backend,
  target: Target,
  config: ResolvedConfig,
  options: ReplayOptions,
): Promise<ReplayResult> {
  const until = options.until ?? new Date(backend.clock.now());
  checkSelectors(config, target, options, until, new Date(backend.clock.now()));
  if (options.to !== undefined) checkDestination(target, options.to);
  // Only with --to (checkSelectors): a source removed from the configuration, its events still archived.
  const unconfigured = sourceNotConfiguredNote(
    options.source,
    replaySources(config),
    `replaying its archived events anyway, to ${options.to}, as a source removed from it keeps its events in the archive`,
  );
  if (unconfigured) backend.output.note(unconfigured);
  await flushLocalArchive(backend, target);
  const sorter = new ExternalSorter<ArchiveRecord>({
    keyOf: receivedTimeOf,
    budgetBytes: options.sort?.budgetBytes ?? SORT_BUDGET_BYTES,
    ...(options.sort?.tempRoot !== undefined ? { tempRoot: options.sort.tempRoot } : {}),
    ...(options.sort?.onSpill ? { onSpill: options.sort.onSpill } : {}),
  });
  try {
    const { tally, hours, expiredBefore, archiveRetention, archiveLinesSkipped } = await selectEvents(
      backend,
      target,
      config,
      options,
      until,
      sorter,
    );
    const run = {
      replayId: options.replayId ?? randomUUID(),
      source: options.source,
      ...(options.type !== undefined ? { type: options.type } : {}),
      since: options.since.toISOString(),
      until: until.toISOString(),
      dryRun: Boolean(options.dryRun),
      matched: tally.matched,
      ...(expiredBefore ? { archiveExpiredBefore: expiredBefore.toISOString() } : {}),
      archiveRetention,
      archiveLinesSkipped,
    };
    if (options.signal?.aborted) {
      return {
        ...run,
        replayId: null,
        ignored: ignoredByRoutes(tally),
        planned: 0,
        sent: 0,
        failed: 0,
        byQueue: {},
        failures: [],
        sentUnknown: [],
        // What was read is part of the range only: `matched` counts what those hours hold, not the selection.
        archiveHoursRead: hours,
        stoppedBy: 'Interrupted: stopped by Ctrl-C while reading the archive, before anything was sent',
      };
    }
    return await replaySelection(backend, target, config, options, { run, tally, sorter });
  } finally {
    await sorter.dispose();
  }
}

/** Checks the selection read, prints the count line, then sends it (or, with `--dry-run`, only counts it). */
async function replaySelection(
  backend: Backend,
  target: Target,
  config: ResolvedConfig,
  options: ReplayOptions,
  read: { run: ReplayRunOf; tally: Tally; sorter: ExternalSorter<ArchiveRecord> },
): Promise<ReplayResult> {
  const { run, tally } = read;
  const marker = { id: run.replayId, at: new Date(backend.clock.now()).toISOString() };
  checkPlannedQueues(target, tally);
  const { expired, gone } = await expiredBodies(backend, target, tally);
  const sending = tally.planned - gone.length;
  const where = options.to
    ? `to ${options.to}`
    : tally.routed === tally.matched
      ? 'through the current routes'
      : tally.routed === 0
        ? 'to the queue each was sent to'
        : 'through the current routes (jobs and scheduled events to the queue each was sent to)';
  backend.output.note(
    `${plural(tally.matched, `archived ${options.source} event`)} match${tally.matched === 1 ? 'es' : ''}; ${options.dryRun ? 'would send' : 'sending'} ${plural(sending, 'message')} ${where}${tally.ignored ? ` (${tally.ignored} ignored by the routes)` : ''}${gone.length ? ` (${gone.length} not: their stored body has expired)` : ''}${options.dryRun ? ' (a dry run: nothing is sent, so no replay id)' : `, replay ${run.replayId}`}`,
  );
  const base = { ...run, ignored: ignoredByRoutes(tally), planned: tally.planned };
  if (options.dryRun) {
    const byQueue: Record<string, number> = {};
    for (const { queue, count } of queuesInOrder(tally)) byQueue[queue] = count;
    for (const { queue } of gone) byQueue[queue] = (byQueue[queue] ?? 0) - 1;
    for (const [queue, count] of Object.entries(byQueue)) if (count === 0) delete byQueue[queue];
    return {
      ...base,
      replayId: null,
      sent: 0,
      failed: gone.length,
      byQueue,
      failures: gone,
      sentUnknown: [],
    };
  }
  const progress = backend.output.progress(`replaying ${options.source}`, sending);
  // A batch of one queue's messages is within SQS's batch size when the whole batch is.
  const configured = config.sources.find((s) => s.name === options.source);
  const source = configured && readingSettingsOf(configured);
  const entryFor = (item: Planned) => entryOf(config, source, queueOf(target, item.queue), item);
  const batches = batchesOf(read.sorter.sorted(), {
    config,
    to: options.to,
    replay: marker,
    expired,
    entryFor,
    withStoredBody: (envelope) => withStoredBody(backend, target, envelope),
  });
  const sent = await sendPlanned(backend, target, batches, options, progress);
  const count = Object.values(sent.byQueue).reduce((a, b) => a + b, 0);
  progress.done();
  // Nothing sent: the error alone says it all. Some sent (or perhaps sent): the summary says how many, and which
  // were not.
  if (sent.fault && count === 0 && sent.sentUnknown.length === 0) throw sent.fault;
  return {
    ...base,
    sent: count,
    failed: gone.length + sent.failures.length,
    byQueue: sent.byQueue,
    failures: [...gone, ...sent.failures],
    sentUnknown: sent.sentUnknown,
    ...(sent.interrupted ? { stoppedBy: 'Interrupted: stopped by Ctrl-C' } : {}),
    ...(sent.fault ? { stoppedBy: sent.fault.message } : {}),
    ...(sent.resumeSince !== undefined ? { resumeSince: sent.resumeSince } : {}),
  };
}

/** What a run is, whatever it did: its id and selection. */
type ReplayRunOf = { readonly replayId: string } & Pick<
  ReplayResult,
  | 'source'
  | 'type'
  | 'since'
  | 'until'
  | 'dryRun'
  | 'matched'
  | 'archiveExpiredBefore'
  | 'archiveRetention'
  | 'archiveLinesSkipped'
>;
