/**
 * `hookline replay`: re-sends archived events of one source and time range through the current routes (the
 * ingest function's own `selectRoute`) or to one queue. Each replayed envelope keeps its id and carries the
 * run's replay marker (`envelope.replay`, attribute `hookline.replay`), so consumers run it again as new work
 * (their idempotency key includes the run id) while a retry of that same replay is still run once.
 */
import { createHash, randomUUID } from 'node:crypto';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import {
  type MessageAttributeValue,
  SendMessageBatchCommand,
  type SendMessageBatchCommandOutput,
  type SendMessageBatchRequestEntry,
} from '@aws-sdk/client-sqs';
import { messageGroupOf } from '../../lambda/ingest/core';
import { selectRoute, typeMatches } from '../../lambda/ingest/routing';
import type { ArchiveRecord } from '../../lambda/shared/archive';
import { MESSAGE_ATTRIBUTES, type PayloadRef, type WebhookEnvelope } from '../../lambda/shared/envelope';
import { JOB_SOURCE, SCHEDULE_SOURCE } from '../../lambda/shared/job';
import { compileTypePattern } from '../../lambda/shared/type-pattern';
import type { ResolvedConfig } from '../config';
import { queueTargetOf, routingOf } from '../runtime-wiring';
import { readArchive } from './archive';
import { type Backend, contextOf } from './backend';
import { CliError, explainError } from './errors';
import { type QueueTarget, queueOf, type Target } from './target';

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
}

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
  readonly replayId: string;
  readonly source: string;
  readonly type?: string;
  readonly since: string;
  readonly until: string;
  readonly dryRun: boolean;
  /** Archived events that match the selection. */
  readonly matched: number;
  /** Messages sent (an event routed to two queues counts twice). */
  readonly sent: number;
  /** Events the current routes ignore (none with `--to`). */
  readonly ignored: number;
  readonly failed: number;
  readonly byQueue: Readonly<Record<string, number>>;
  readonly failures: readonly { readonly id: string; readonly queue: string; readonly reason: string }[];
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
}

/** One message to send. */
interface Planned {
  readonly queue: string;
  readonly envelope: WebhookEnvelope;
  /** The group a job was sent with (archived by its consumer): its FIFO group, or its tenant on a standard queue. */
  readonly group?: string;
}

/** The sources replay takes: the configured ones, and the schedules' and the jobs' events. */
export function replaySources(config: ResolvedConfig): string[] {
  return [...config.sources.map((s) => s.name), SCHEDULE_SOURCE, JOB_SOURCE];
}

/** Checks the selectors before anything is read: an empty one is an error, never "everything". */
function checkSelectors(config: ResolvedConfig, options: ReplayOptions, until: Date, now: Date): void {
  if (options.source.trim() === '') throw new CliError('--source is empty: name one configured source');
  const known = replaySources(config);
  if (!known.includes(options.source)) {
    throw new CliError(`unknown source "${options.source}": use one of ${known.join(', ')}`);
  }
  if (options.type !== undefined) {
    if (options.type.trim() === '')
      throw new CliError('--type is empty: give a type pattern such as "invoice.*"');
    try {
      compileTypePattern(options.type);
    } catch (error) {
      throw new CliError(`--type "${options.type}" is not a valid type pattern: ${(error as Error).message}`);
    }
  }
  if (!(options.since.getTime() < until.getTime())) {
    throw new CliError(`--since ${options.since.toISOString()} is not before --until ${until.toISOString()}`);
  }
  // Nothing can have been received yet: say so rather than read the archive for a window that holds nothing.
  if (options.since.getTime() > now.getTime()) {
    throw new CliError(
      `--since ${options.since.toISOString()} is in the future (it is ${now.toISOString()}): nothing was received in that window, so nothing was replayed; give a time in the past or a duration ago (2h)`,
    );
  }
}

/**
 * Where each event goes now: `--to`, else a webhook through the current routes (an ignored event goes nowhere),
 * a job or a scheduled event to the queue it was sent to (the webhook routes never applied to them).
 */
function plan(
  config: ResolvedConfig,
  records: readonly ArchiveRecord[],
  to: string | undefined,
  replay: WebhookEnvelope['replay'],
) {
  const routing = routingOf(config);
  const planned: Planned[] = [];
  let ignored = 0;
  let routed = 0;
  for (const { envelope: archived, origin, queues, group } of records) {
    const envelope: WebhookEnvelope = { ...archived, replay };
    const sentTo = origin !== 'webhook' && Array.isArray(queues) ? queues : undefined;
    const throughRoutes = !to && !sentTo;
    if (throughRoutes) routed++;
    const route = to
      ? { queues: [to], ignore: false }
      : sentTo
        ? { queues: sentTo, ignore: false }
        : selectRoute(routing, archived.source, archived.type);
    const kept = typeof group === 'string' && group !== '' ? { group } : {};
    if (route.ignore || route.queues.length === 0) ignored++;
    else for (const queue of route.queues) planned.push({ queue, envelope, ...kept });
  }
  return { planned, ignored, routed };
}

/** The SQS entry of one replayed envelope: its attributes, and on FIFO queues its group and a run-unique dedupe id. */
function entryOf(
  config: ResolvedConfig,
  queue: QueueTarget,
  item: Planned,
  index: number,
): SendMessageBatchRequestEntry {
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
  const entry: SendMessageBatchRequestEntry = {
    Id: String(index),
    MessageBody: JSON.stringify(envelope),
    MessageAttributes: attributes,
  };
  const grouping = groupingOf(config, queue, item);
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
  queue: QueueTarget,
  item: Planned,
): { readonly groupId?: string; readonly tenant?: string } | undefined {
  // A job's own group (its producer's choice): the queue's grouping rule would put it in another one. On a
  // standard queue that group is the job's tenant, carried as the ingest carries a webhook's.
  if (item.group !== undefined) return { groupId: item.group, ...(queue.fifo ? {} : { tenant: item.group }) };
  const settings = config.queues.find((q) => q.name === item.queue);
  if (!settings) return undefined;
  const { envelope } = item;
  return messageGroupOf(queueTargetOf(settings, queue.url), {
    source: envelope.source,
    type: envelope.type,
    headers: envelope.headers ?? {},
    json: () => jsonBodyOf(envelope),
  });
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

/**
 * A queue an event would go to but the target lacks (a job's queue removed since) fails here, before anything is
 * sent, saying how many events it holds back and how to send them elsewhere.
 */
function checkPlannedQueues(target: Target, planned: readonly Planned[]): void {
  for (const queue of new Set(planned.map((p) => p.queue))) {
    const unpublished = target.kind === 'stack' && target.queuesMissingOutputs.includes(queue);
    if (target.queues[queue] || unpublished) {
      queueOf(target, queue);
      continue;
    }
    const count = planned.filter((p) => p.queue === queue).length;
    const names = Object.keys(target.queues);
    throw new CliError(
      `${count} archived event(s) of the selection were sent to queue "${queue}", which ${target.description} no longer has: replay them to another queue with --to <queue> (${names.length ? `one of ${names.join(', ')}` : 'none configured'}), or narrow --type; nothing was sent`,
    );
  }
}

/**
 * Splits off the messages whose body was claim-checked to the payload bucket and has since expired there (its
 * lifecycle, `payloads.expiry`, is shorter than the archive's retention): sent, each would only fail in its
 * consumer. One HeadObject per stored body; events with an inline body cost nothing.
 */
async function withStoredBodies(
  backend: Backend,
  planned: readonly Planned[],
): Promise<{ planned: Planned[]; gone: { id: string; queue: string; reason: string }[] }> {
  const refs = new Map<string, PayloadRef>();
  for (const { envelope } of planned)
    if (envelope.payloadRef)
      refs.set(`${envelope.payloadRef.bucket}/${envelope.payloadRef.key}`, envelope.payloadRef);
  const missing = new Set<string>();
  for (const [at, ref] of refs) {
    try {
      await backend.s3?.send(new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if ((error as Error).name !== 'NotFound' && status !== 404) {
        throw new CliError(
          `cannot check the stored body s3://${at} of an archived event (${(error as Error).message}): nothing was replayed`,
        );
      }
      missing.add(at);
    }
  }
  const isGone = (p: Planned) =>
    p.envelope.payloadRef !== undefined &&
    missing.has(`${p.envelope.payloadRef.bucket}/${p.envelope.payloadRef.key}`);
  return {
    planned: planned.filter((p) => !isGone(p)),
    gone: planned.filter(isGone).map((p) => ({
      id: p.envelope.id,
      queue: p.queue,
      reason: `its body s3://${p.envelope.payloadRef?.bucket}/${p.envelope.payloadRef?.key} has expired (payloads.expiry): it cannot be replayed`,
    })),
  };
}

/** Local mode buffers archive records for a second: write them now so the range read is complete. */
async function flushLocalArchive(backend: Backend, target: Target): Promise<void> {
  if (target.kind !== 'local') return;
  const answer = await backend.http(`${target.controlUrl}/archive/flush`, { method: 'POST' });
  if (answer.status === 404)
    throw new CliError(
      'archiving is off in local mode: set archive.enabled (the default) and restart npm start',
    );
  if (!answer.ok) {
    // Records local mode still holds would be missing from the range: replaying the rest would look complete.
    const { message } = (await answer.json().catch(() => ({}))) as { message?: unknown };
    throw new CliError(
      `local mode could not write its buffered archive records (${String(message ?? `HTTP ${answer.status}`)}): nothing was replayed; see local mode's terminal, then run replay again`,
    );
  }
}

/** The archived events of the selection; none is an error. */
async function selectEvents(
  backend: Backend,
  target: Target,
  options: ReplayOptions,
  until: Date,
): Promise<{ records: ArchiveRecord[]; hours: { read: number; of: number } }> {
  if (!target.archiveBucket || !backend.s3) {
    throw new CliError(
      `${target.description} has no event archive: enable archive in hookline.config.ts and deploy (or restart local mode)`,
    );
  }
  const typePattern = options.type;
  // A range of days reads hundreds of hour prefixes and their objects before anything is sent.
  const reading = backend.output.progress(`archive hours of ${options.source} read`);
  const hours = { read: 0, of: 0 };
  const records = await readArchive(backend.s3, {
    bucket: target.archiveBucket,
    source: options.source,
    since: options.since,
    until,
    now: new Date(backend.clock.now()),
    onProgress: (done, total) => {
      hours.read = done;
      hours.of = total;
      reading.update(done, total);
    },
    ...(options.signal ? { signal: options.signal } : {}),
    // As routes read it: exactly `*` is every type, as a route without a type is.
    ...(typePattern !== undefined
      ? { accept: (r: ArchiveRecord) => typeMatches(typePattern, r.envelope.type) }
      : {}),
  });
  reading.done();
  if (records.length === 0 && !options.signal?.aborted) {
    const type = options.type !== undefined ? ` of type "${options.type}"` : '';
    throw new CliError(
      `no archived ${options.source} event${type} was received between ${options.since.toISOString()} and ${until.toISOString()}: nothing was replayed`,
    );
  }
  return { records, hours };
}

/** Sends the planned messages queue by queue in batches of 10, at `rate` per second; counts per queue. */
async function sendPlanned(
  backend: Backend,
  target: Target,
  config: ResolvedConfig,
  planned: readonly Planned[],
  options: ReplayOptions,
  progress: { update(done: number): void },
) {
  const byQueue: Record<string, number> = {};
  const failures: { id: string; queue: string; reason: string }[] = [];
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
  let start = 0;
  for (; start < planned.length && !fault; start += 10) {
    interrupted = options.signal?.aborted === true;
    if (interrupted) break;
    const batch = planned.slice(start, start + 10);
    const queues = [...new Set(batch.map((p) => p.queue))];
    for (const [n, queueName] of queues.entries()) {
      const items = batch.filter((p) => p.queue === queueName);
      try {
        await sendBatch(backend, target, config, queueName, items, options, byQueue, failures);
      } catch (error) {
        // What was sent stays sent and is counted. This batch's messages not sent (this queue's, and those of
        // its queues not reached yet) are listed as failed; the rest are not sent: stop and report them.
        fault = error instanceof Error ? error : new Error(String(error));
        const unsent = new Set(queues.slice(n));
        for (const item of batch)
          if (unsent.has(item.queue)) {
            failures.push({ id: item.envelope.id, queue: item.queue, reason: fault.message });
            unsentAt(item);
          } else lastSent = Math.max(lastSent, Date.parse(item.envelope.receivedAt));
        break;
      }
    }
    if (!fault) for (const item of batch) lastSent = Math.max(lastSent, Date.parse(item.envelope.receivedAt));
    done += batch.length;
    progress.update(done);
    if (options.rate) {
      const due = started + (done / options.rate) * 1000;
      const wait = due - backend.clock.now();
      if (wait > 0) await backend.clock.sleep(wait);
    }
  }
  // The planned messages are in reception order: the first one not reached is the earliest of the rest.
  if (start < planned.length) unsentAt(planned[start] as Planned);
  const resumeSince =
    (interrupted || fault) && firstUnsent > lastSent && Number.isFinite(firstUnsent)
      ? new Date(firstUnsent).toISOString()
      : undefined;
  return { byQueue, failures, interrupted, fault, resumeSince };
}

async function sendBatch(
  backend: Backend,
  target: Target,
  config: ResolvedConfig,
  queueName: string,
  items: readonly Planned[],
  options: ReplayOptions,
  byQueue: Record<string, number>,
  failures: { id: string; queue: string; reason: string }[],
): Promise<void> {
  const queue = queueOf(target, queueName);
  let answer: SendMessageBatchCommandOutput;
  try {
    answer = await backend.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queue.url,
        Entries: items.map((item, i) => entryOf(config, queue, item, i)),
      }),
    );
  } catch (error) {
    throw explainError(error, contextOf(target, queueName));
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

/** Reads the selection, says how many events it will replay, then replays them with a progress bar. */
export async function replay(
  backend: Backend,
  target: Target,
  config: ResolvedConfig,
  options: ReplayOptions,
): Promise<ReplayResult> {
  const until = options.until ?? new Date(backend.clock.now());
  checkSelectors(config, options, until, new Date(backend.clock.now()));
  if (options.to !== undefined) queueOf(target, options.to);
  await flushLocalArchive(backend, target);
  const { records, hours } = await selectEvents(backend, target, options, until);
  const replayId = options.replayId ?? randomUUID();
  const run = {
    replayId,
    source: options.source,
    ...(options.type !== undefined ? { type: options.type } : {}),
    since: options.since.toISOString(),
    until: until.toISOString(),
    dryRun: Boolean(options.dryRun),
    matched: records.length,
  };
  if (options.signal?.aborted) {
    return {
      ...run,
      ignored: 0,
      planned: 0,
      sent: 0,
      failed: 0,
      byQueue: {},
      failures: [],
      // What was read is part of the range only: `matched` counts what those hours hold, not the selection.
      archiveHoursRead: hours,
      stoppedBy: 'Interrupted: stopped by Ctrl-C while reading the archive, before anything was sent',
    };
  }
  const marker = { id: replayId, at: new Date(backend.clock.now()).toISOString() };
  const { planned: all, ignored, routed } = plan(config, records, options.to, marker);
  checkPlannedQueues(target, all);
  const { planned, gone } = await withStoredBodies(backend, all);
  const where = options.to
    ? `to ${options.to}`
    : routed === records.length
      ? 'through the current routes'
      : routed === 0
        ? 'to the queue each was sent to'
        : 'through the current routes (jobs and scheduled events to the queue each was sent to)';
  backend.output.note(
    `${records.length} archived ${options.source} event(s) match; ${options.dryRun ? 'would send' : 'sending'} ${planned.length} message(s) ${where}${ignored ? ` (${ignored} ignored by the routes)` : ''}${gone.length ? ` (${gone.length} not: their stored body has expired)` : ''}, replay ${replayId}`,
  );
  const base = { ...run, ignored };
  if (options.dryRun) {
    const byQueue: Record<string, number> = {};
    for (const p of planned) byQueue[p.queue] = (byQueue[p.queue] ?? 0) + 1;
    return { ...base, planned: all.length, sent: 0, failed: gone.length, byQueue, failures: gone };
  }
  const progress = backend.output.progress(`replaying ${options.source}`, planned.length);
  const { byQueue, failures, interrupted, fault, resumeSince } = await sendPlanned(
    backend,
    target,
    config,
    planned,
    options,
    progress,
  );
  const sent = Object.values(byQueue).reduce((a, b) => a + b, 0);
  progress.done();
  // Nothing sent: the error alone says it all. Some sent: the summary says how many, and which were not.
  if (fault && sent === 0) throw fault;
  return {
    ...base,
    planned: all.length,
    sent,
    failed: gone.length + failures.length,
    byQueue,
    failures: [...gone, ...failures],
    ...(interrupted ? { stoppedBy: 'Interrupted: stopped by Ctrl-C' } : {}),
    ...(fault ? { stoppedBy: fault.message } : {}),
    ...(resumeSince !== undefined ? { resumeSince } : {}),
  };
}

/** The body as JSON for a grouping rule's path, when it is UTF-8 JSON. */
function jsonBodyOf(envelope: WebhookEnvelope): unknown {
  if (envelope.body === undefined || envelope.bodyEncoding !== 'utf8') return undefined;
  try {
    return JSON.parse(envelope.body);
  } catch {
    return undefined;
  }
}
