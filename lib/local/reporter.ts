/**
 * What local mode prints: one concise line per event for a person, or one JSON object per line for tools
 * (`HOOKLINE_LOG=json`). Events come from the functions' structured outcome logs, the HTTP layer and the event
 * source mappings.
 */
import type { SQSRecord } from 'aws-lambda';
import { KEY_HELD_RECORD } from '../../lambda/shared/circuit-breaker';
import {
  CONSUMER_OUTCOME_MESSAGE,
  JOBS_ENDPOINT_LATE_SEND_MESSAGE,
  JOBS_ENDPOINT_OUTCOME_MESSAGE,
  JOBS_ENDPOINT_REJECTED_MESSAGE,
  OUTCOME_MESSAGES,
} from '../../lambda/shared/contracts';
import { MESSAGE_ATTRIBUTES } from '../../lambda/shared/envelope';
import { humanAge } from '../console/ui/human-age';
import { coloursWanted, terminalLine, terminalText } from '../terminal-text';
import type { AlarmChange } from './alarm-watch';
import { handlerFrames } from './code-frames';
import type { BatchReport } from './event-source-mapping';
import type { InvokeResult } from './function-runtime';

/** Events local mode reports: the names its journal, and so the console's feed, carry. */
export const LOCAL_EVENT_NAMES = [
  'received',
  'queued',
  'processed',
  'retried',
  'dead-lettered',
  'duplicate',
  'deferred',
  'ignored',
  'rejected',
  'failed',
  'scheduled',
  'replayed',
  'error',
] as const;

export type LocalEventName = (typeof LOCAL_EVENT_NAMES)[number];

/** One reported event; absent fields are simply not known at that point. */
export interface LocalEvent {
  readonly event: LocalEventName | (string & {});
  /**
   * When it happened (ISO), when the line says: a function's own `timestamp`. Lines of functions running side by
   * side reach local mode in whatever order their workers' output is read, so a consumer's `processed` can be read
   * before the ingest's `queued` of the same event; the journal, and what reads it, keep this time rather than
   * the time of reading.
   */
  readonly at?: string;
  readonly id?: string;
  readonly source?: string;
  readonly type?: string;
  readonly queue?: string;
  /** The tenant a webhook or a job was queued under in its fair queues (distinct values, comma-separated). */
  readonly tenant?: string;
  readonly latencyMs?: number;
  readonly status?: number;
  readonly attempt?: number;
  readonly reason?: string;
  /** `false` when the ingest let the request in without verifying it (an `unverified` source). */
  readonly verified?: false;
  /** Function that produced it. */
  readonly function?: string;
  /** A consumer attempt's own duration. */
  readonly durationMs?: number;
  /** The replay run that re-sent the event. */
  readonly replayId?: string;
  /** Which enqueue of a job id a consumer attempt ran (its outcome line says so when the message carried it). */
  readonly generation?: string;
  /** When a delayed job is due (ISO). */
  readonly dueAt?: string;
  /** How a job entered the pipeline, when a line says so (only the jobs endpoint logs its enqueues). */
  readonly via?: 'jobs endpoint';
  /**
   * The jobs endpoint sent this job after it had answered the request 503 at its deadline (its `job enqueued after
   * its deadline` line; `status` is the 503 the caller got, `reason` why): the caller was told to send it again.
   */
  readonly sentAfter503?: true;
  /** Where a failed record's error was thrown: the stack frames of the consumer's own code. */
  readonly frames?: readonly string[];
  /**
   * A consumer's `retried` or `dead-lettered` record failed only because another execution held its idempotency key
   * (its outcome line's `keyHeldElsewhere`): its handler did not run, so it is no failure of it.
   */
  readonly keyHeldElsewhere?: true;
  /**
   * A `duplicate` that is a send a later one replaced (a debounced job's earlier send, a flow parent's send claimed
   * again): its outcome line's `superseded`. Its handler did not run; the later send's runs.
   */
  readonly superseded?: true;
  /**
   * The level of the function's line when above INFO, as CloudWatch keeps it: a `retried` record's WARN, and the
   * ERROR of a dead letter, of a record `deferred` on its last receive (SQS moves it to the DLQ) and of a 503.
   */
  readonly level?: 'WARN' | 'ERROR';
}

const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

const JOBS_ENDPOINT_MESSAGES: ReadonlySet<unknown> = new Set([
  JOBS_ENDPOINT_OUTCOME_MESSAGE,
  JOBS_ENDPOINT_REJECTED_MESSAGE,
  JOBS_ENDPOINT_LATE_SEND_MESSAGE,
]);

/** The lines that become events: every outcome line, and the jobs endpoint's late send (a job that went out). */
const EVENT_MESSAGES: readonly unknown[] = [...OUTCOME_MESSAGES, JOBS_ENDPOINT_LATE_SEND_MESSAGE];

/**
 * Reads one function log line. Returns the event for the ingest's `webhook outcome`, a consumer's
 * `record outcome` and the jobs endpoint's `job enqueued`, `job rejected` and `job enqueued after its deadline`
 * lines, `undefined` for anything else.
 */
export function parseOutcomeLine(line: string, functionName?: string): LocalEvent | undefined {
  const entry = outcomeEntryOf(line);
  return entry === undefined ? undefined : outcomeEvent(entry, functionName);
}

/** An outcome line's JSON entry (see {@link parseOutcomeLine}); undefined for any other line. */
function outcomeEntryOf(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{') || !line.includes('outcome')) return undefined;
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  return str(entry.outcome) && EVENT_MESSAGES.includes(entry.message) ? entry : undefined;
}

/** The event of an outcome line's entry ({@link outcomeEntryOf}). */
function outcomeEvent(entry: Record<string, unknown>, functionName: string | undefined): LocalEvent {
  const queues = Array.isArray(entry.queues)
    ? entry.queues.filter((q) => typeof q === 'string').join(',')
    : undefined;
  const at = str(entry.timestamp);
  return compact({
    event: str(entry.outcome) as string,
    at: at !== undefined && Number.isFinite(Date.parse(at)) ? new Date(at).toISOString() : undefined,
    id: str(entry.id),
    source: str(entry.source),
    type: str(entry.type),
    queue: str(entry.queue) ?? str(queues),
    tenant: tenantsText(entry.tenants),
    latencyMs: num(entry.latencyMs),
    status: num(entry.status),
    attempt: num(entry.attempt),
    reason: str(entry.reason),
    verified: entry.verified === false ? (false as const) : undefined,
    function: functionName,
    durationMs: num(entry.durationMs),
    replayId: str(entry.replayId),
    generation: str(entry.generation),
    dueAt: str(entry.dueAt),
    via: JOBS_ENDPOINT_MESSAGES.has(entry.message) ? ('jobs endpoint' as const) : undefined,
    sentAfter503: entry.message === JOBS_ENDPOINT_LATE_SEND_MESSAGE ? (true as const) : undefined,
    frames: framesOf(entry.error),
    keyHeldElsewhere: entry[KEY_HELD_RECORD.outcomeField] === true ? (true as const) : undefined,
    superseded: entry.superseded === true ? (true as const) : undefined,
    level: levelAboveInfo(entry.level),
  });
}

/** A line's level when it is above INFO, as Powertools names it; undefined otherwise. */
function levelAboveInfo(level: unknown): LocalEvent['level'] {
  return level === 'WARN' || level === 'ERROR' ? level : undefined;
}

/** The ingest line's tenants (queue name to tenant) as one field: each distinct tenant once. */
export function tenantsText(tenants: unknown): string | undefined {
  if (tenants === null || typeof tenants !== 'object') return undefined;
  const values = Object.values(tenants).filter((t): t is string => typeof t === 'string' && t !== '');
  return str([...new Set(values)].join(','));
}

/** The consumer's own frames of the error a failed record's outcome line carries; none for a thrown non-Error. */
function framesOf(error: unknown): string[] | undefined {
  const stack =
    typeof error === 'object' && error !== null ? (error as { stack?: unknown }).stack : undefined;
  const lines = Array.isArray(stack) ? stack.filter((l): l is string => typeof l === 'string') : stack;
  const frames = handlerFrames(typeof lines === 'string' || Array.isArray(lines) ? lines : undefined);
  return frames.length > 0 ? frames : undefined;
}

/**
 * The event a record carries, from the attributes the ingest function and the producer set on every message: the
 * id a person sends, sees in `queued` and passes to `hookline trace` and `failed show`, not SQS's message id.
 */
function recordIdentity(record: SQSRecord): Pick<LocalEvent, 'id' | 'source' | 'type' | 'replayId'> {
  const attribute = (name: string) => str(record.messageAttributes?.[name]?.stringValue);
  return compact({
    id: attribute(MESSAGE_ATTRIBUTES.eventId) ?? record.messageId,
    source: attribute(MESSAGE_ATTRIBUTES.source),
    type: attribute(MESSAGE_ATTRIBUTES.type),
    replayId: attribute(MESSAGE_ATTRIBUTES.replay),
  });
}

/** What {@link batchEvents} needs to know of the consumer's queue. */
export interface BatchQueue {
  readonly maxReceiveCount: number;
  /** FIFO consumers delete each record as it finishes, so a failed invocation cannot bring it back. */
  readonly fifo: boolean;
  /** Idempotency is on: a record that finished is skipped (a `duplicate`) when it comes back. */
  readonly idempotent: boolean;
  /** The queue's visibility timeout: how long a record the invocation left stays in flight before it comes back. */
  readonly visibilityTimeoutSeconds?: number;
}

/** Outcomes after which a standard queue's consumer leaves the record to the batch response to delete. */
const LEFT_TO_BATCH_RESPONSE = new Set(['processed', 'duplicate', 'cancelled']);

/**
 * A failed invocation returns no batch response, so SQS hands back every record it did not delete: on a
 * standard queue that includes the ones that had finished before their last receive (the consumer deletes one
 * finished on its last receive itself). Says how many and what becomes of them; undefined when none had finished
 * (or the consumer deleted them: FIFO, last receive).
 */
function finishedComingBack(
  queue: BatchQueue,
  finished: Readonly<Record<string, string>>,
  batch: readonly SQSRecord[],
): string | undefined {
  if (queue.fifo) return undefined;
  const count = batch.filter(
    (record) =>
      LEFT_TO_BATCH_RESPONSE.has(finished[record.messageId] ?? '') &&
      Number(record.attributes.ApproximateReceiveCount) < queue.maxReceiveCount,
  ).length;
  if (count === 0) return undefined;
  const one = count === 1;
  const records = `${count} record${one ? '' : 's'} of the batch had finished and ${one ? 'comes' : 'come'} back with it`;
  return queue.idempotent
    ? `${records}: idempotency skips ${one ? 'it' : 'them'}`
    : `${records}: ${one ? 'it runs' : 'they run'} again (idempotency is off)`;
}

/**
 * Where a failed invocation threw, in the consumer's own code: a throw outside any record, or an uncaught error
 * that crashed its sandbox. None for a timeout (nothing threw: it was stopped wherever it was), for an error
 * without a stack (a sandbox that exited) and for one the runtime threw, whose message says it all.
 */
function invocationFrames(result: InvokeResult): string[] | undefined {
  if (result.ok || result.kind === 'timeout') return undefined;
  const frames = handlerFrames(result.error.stack);
  return frames.length > 0 ? frames : undefined;
}

/** When a record that used its last receive reaches the DLQ: SQS moves it, not the consumer. */
function movedBySqs(queue: BatchQueue): string {
  const seconds = queue.visibilityTimeoutSeconds;
  return `SQS moves it to the DLQ after its visibility timeout${seconds === undefined ? '' : ` (${seconds} s)`}`;
}

/**
 * What the event source mapping adds about a batch: nothing when the consumer logged its own record outcomes;
 * otherwise (the invocation timed out or crashed, or the handler logs no outcomes) one event per record the
 * consumer had not reported (a record it reported had finished, and that report stands). Where the invocation
 * threw goes under the first of them only: it is one throw, whatever the batch's size.
 */
export function batchEvents(report: BatchReport, queue: BatchQueue): LocalEvent[] {
  return batchReceiveEvents(report, queue).map(({ event }) => event);
}

/** One of {@link batchEvents}, with the receive of the record it reports. */
export interface ReceiveEvent {
  readonly receive: RecordReceive;
  readonly event: LocalEvent;
}

/** One receive of one record: SQS's message id and the receive count it was delivered with. */
export interface RecordReceive {
  readonly messageId: string;
  readonly receive: number;
}

/** {@link batchEvents}, each with the receive it reports. */
export function batchReceiveEvents(report: BatchReport, queue: BatchQueue): ReceiveEvent[] {
  const { result, disposition } = report;
  if (result.ok && (result.outcomeLines ?? 0) > 0) return [];
  const finished = (!result.ok && result.recordOutcomes) || {};
  const failure = result.ok
    ? (disposition.invalidResponse ?? 'reported in batchItemFailures')
    : `${result.kind === 'timeout' ? 'timeout' : result.kind}: ${result.error.errorMessage}`;
  const comingBack = result.ok ? undefined : finishedComingBack(queue, finished, disposition.failed);
  const reason = comingBack ? `${failure}; ${comingBack}` : failure;
  const events: ReceiveEvent[] = [];
  let frames = invocationFrames(result);
  if (result.ok) {
    for (const record of disposition.succeeded) {
      events.push({
        receive: receiveOf(record),
        event: {
          event: 'processed',
          ...recordIdentity(record),
          queue: report.consumer,
          latencyMs: result.durationMs,
        },
      });
    }
  }
  for (const record of disposition.failed) {
    if (finished[record.messageId] !== undefined) continue;
    const attempt = Number(record.attributes.ApproximateReceiveCount);
    // SQS moves the message to the DLQ at its next receive once maxReceiveCount is reached: until its
    // visibility timeout ends it is in flight, and neither `hookline status` nor `failed` shows it there yet.
    const last = attempt >= queue.maxReceiveCount;
    events.push({
      receive: receiveOf(record),
      event: {
        event: last ? 'dead-lettered' : 'retried',
        ...recordIdentity(record),
        queue: report.consumer,
        attempt,
        reason: last ? `${reason}; ${movedBySqs(queue)}` : reason,
        ...(frames ? { frames } : {}),
      },
    });
    frames = undefined;
  }
  return events;
}

function receiveOf(record: SQSRecord): RecordReceive {
  return { messageId: record.messageId, receive: Number(record.attributes.ApproximateReceiveCount) };
}

/**
 * The receive a consumer's `record outcome` entry reports (its `receive`, or its `attempt` when the two are the
 * same); undefined for any other entry.
 */
function consumerReceiveOf(entry: Record<string, unknown>): RecordReceive | undefined {
  const messageId = str(entry.messageId);
  const receive = num(entry.receive) ?? num(entry.attempt);
  if (entry.message !== CONSUMER_OUTCOME_MESSAGE || messageId === undefined || receive === undefined)
    return undefined;
  return { messageId, receive };
}

/** How many receives {@link SelfReportedReceives} keeps: far more than come back late between two invocations. */
const SELF_REPORTED_KEPT = 1_000;

/**
 * The receives of one consumer that local mode reported itself, because the batch was answered before the consumer
 * logged their outcomes. The consumer's own line for such a receive can still come: its sandbox, frozen once it
 * answered, writes it when it thaws for its next invocation (as a Lambda sandbox would, or never). That receive
 * was reported already, so the late line is a note, not a second event: each receive counts once in the reporter,
 * the journal and the console.
 */
export class SelfReportedReceives {
  readonly #keys = new Set<string>();

  /** Remembers the receive an event local mode reports itself stands for. */
  remember(receive: RecordReceive): void {
    this.#keys.add(receiveKey(receive));
    // The oldest go first: a sandbox reclaimed without another invocation never writes their lines.
    for (const key of this.#keys) {
      if (this.#keys.size <= SELF_REPORTED_KEPT) break;
      this.#keys.delete(key);
    }
  }

  /** True, once, when `receive` (a consumer's outcome line's) is one local mode reported itself. */
  takeLate(receive: RecordReceive | undefined): boolean {
    return receive !== undefined && this.#keys.delete(receiveKey(receive));
  }
}

function receiveKey(receive: RecordReceive): string {
  return `${receive.messageId}#${receive.receive}`;
}

/**
 * The line for a failed invocation whose every record had finished: no record event says the batch comes back,
 * so this does, with where the invocation threw under it; undefined otherwise.
 */
export function batchNotice(report: BatchReport, queue: BatchQueue): string | undefined {
  const { result, disposition } = report;
  if (result.ok || !result.recordOutcomes) return undefined;
  const finished = result.recordOutcomes;
  if (disposition.failed.some((record) => finished[record.messageId] === undefined)) return undefined;
  const comingBack = finishedComingBack(queue, finished, disposition.failed);
  if (!comingBack) return undefined;
  const what = result.kind === 'timeout' ? 'timed out' : `failed (${result.kind})`;
  const where = (invocationFrames(result) ?? []).map((frame) => `\n    ${frame.trim()}`).join('');
  return `consumer ${report.consumer}: the invocation ${what} after every record had finished (${result.error.errorMessage}); ${comingBack}${where}`;
}

/** Options of {@link Reporter}. */
export interface ReporterOptions {
  /** One JSON object per line. Default: `HOOKLINE_LOG=json`. */
  readonly json?: boolean;
  /** ANSI colours. Default: stdout is a terminal that shows them (not TERM=dumb) and NO_COLOR is unset. */
  readonly color?: boolean;
  /** Show every function log line too. Default: `HOOKLINE_VERBOSE=1`. */
  readonly verbose?: boolean;
  /** Where lines go. Default: process.stdout. */
  readonly write?: (line: string) => void;
  /** Clock for the time column. */
  readonly now?: () => Date;
}

/** A line above INFO is painted as its level, whatever its event: a record deferred on its last receive is ERROR. */
const LEVEL_COLOURS: Record<NonNullable<LocalEvent['level']>, string> = { WARN: '33', ERROR: '31' };

const COLOURS: Record<string, string> = {
  received: '2',
  queued: '36',
  processed: '32',
  retried: '33',
  deferred: '33',
  'dead-lettered': '31',
  rejected: '31',
  failed: '31',
  error: '31',
  duplicate: '35',
  ignored: '2',
  scheduled: '34',
};

/**
 * A line's latency: in milliseconds under a minute, where a handler's time is read to the millisecond, and from a
 * minute on (a delayed job, a retried event) as `hookline status` shows an age (`15m 0s`), not `900069ms`.
 */
function latencyText(ms: number): string {
  return ms < 60_000 ? `${Math.round(ms)}ms` : humanAge(ms / 1000);
}

/** Formats and writes local mode's output. */
export class Reporter {
  readonly json: boolean;
  readonly verbose: boolean;
  private readonly color: boolean;
  private readonly write: (line: string) => void;
  private readonly now: () => Date;
  private readonly listeners = new Set<(event: LocalEvent) => void>();

  constructor(options: ReporterOptions = {}) {
    this.json = options.json ?? process.env.HOOKLINE_LOG === 'json';
    this.verbose = options.verbose ?? process.env.HOOKLINE_VERBOSE === '1';
    this.color = options.color ?? (coloursWanted(Boolean(process.stdout.isTTY), process.env) && !this.json);
    this.write = options.write ?? ((line) => process.stdout.write(`${line}\n`));
    this.now = options.now ?? (() => new Date());
  }

  /** Calls `listener` for every event (tests and tools observe the pipeline this way). */
  subscribe(listener: (event: LocalEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private paint(code: string | undefined, text: string): string {
    return this.color && code ? `\u001b[${code}m${text}\u001b[0m` : text;
  }

  /** Reports one event. */
  event(event: LocalEvent): void {
    for (const listener of this.listeners) listener(event);
    if (this.json) {
      this.write(JSON.stringify(compact({ ...event })));
      return;
    }
    this.write(this.format(event));
    for (const frame of event.frames ?? []) this.write(this.paint('2', terminalLine(`    ${frame.trim()}`)));
  }

  /**
   * The human line for an event, e.g. `16:45:01 processed     github push id=abc queue=events 12ms`: one line
   * whatever a sender put in the source, type or error, with their control characters shown as escapes.
   */
  format(event: LocalEvent): string {
    const time = (event.at ?? this.now().toISOString()).slice(11, 19);
    const what = [event.source, event.type].filter(Boolean).join(' ');
    const parts = [
      this.paint('2', time),
      this.paint(event.level ? LEVEL_COLOURS[event.level] : COLOURS[event.event], event.event.padEnd(13)),
      what,
      event.id ? `id=${event.id}` : undefined,
      event.queue ? `queue=${event.queue}` : undefined,
      event.tenant ? `tenant=${event.tenant}` : undefined,
      event.attempt !== undefined ? `attempt=${event.attempt}` : undefined,
      // A replayed copy beside live traffic: its attempt 1 and its latency (since the original was received)
      // would otherwise pass for a new event's.
      event.replayId ? `replay=${event.replayId}` : undefined,
      event.status !== undefined ? `status=${event.status}` : undefined,
      event.latencyMs !== undefined ? latencyText(event.latencyMs) : undefined,
      event.reason ? this.paint('2', `(${event.reason})`) : undefined,
      event.superseded ? this.paint('2', '(superseded by a later send)') : undefined,
      event.sentAfter503 ? this.paint('33', 'SENT AFTER ITS 503: the caller was told to retry') : undefined,
      event.verified === false ? this.paint('33', 'UNVERIFIED') : undefined,
    ];
    return terminalLine(parts.filter((p) => p !== undefined && p !== '').join(' '));
  }

  /**
   * A consumer's outcome line for a receive local mode reported itself, which came after the batch was answered
   * (see {@link SelfReportedReceives}): shown with what it adds (its reason, where it threw), not counted again.
   */
  lateOutcome(event: LocalEvent): void {
    const receive = [
      event.id ? `id=${event.id}` : undefined,
      event.attempt !== undefined ? `attempt=${event.attempt}` : undefined,
    ].filter(Boolean);
    const said = event.reason ? `${event.event} (${event.reason})` : event.event;
    this.info(
      `consumer ${event.queue ?? event.function ?? ''}: its own line for ${receive.join(' ')} came after the batch was answered, and that receive is reported above (counted once): ${said}`,
    );
    if (this.json) return;
    for (const frame of event.frames ?? []) this.write(this.paint('2', terminalLine(`    ${frame.trim()}`)));
  }

  /** A plain informational message (banner, shutdown). In JSON mode: `{"event":"info","message":...}`. */
  info(message: string): void {
    this.write(this.json ? JSON.stringify({ event: 'info', message }) : terminalText(message));
  }

  /**
   * A queue crossed what would page once deployed, or recovered (`alarm-watch.ts`): in JSON its queue, alarm and
   * state beside the message.
   */
  alarm(change: AlarmChange): void {
    if (this.json) this.write(JSON.stringify({ event: 'alarm', ...change }));
    else this.write(this.paint(change.state === 'ALARM' ? '31' : '32', terminalText(change.message)));
  }

  /** A problem of local mode itself. */
  problem(message: string): void {
    if (this.json) this.write(JSON.stringify({ event: 'error', message }));
    else this.write(this.paint('31', terminalText(message)));
  }

  /**
   * A raw function log line: an outcome becomes an event. A consumer's (`queue` given) other lines are the
   * user's own output and show by default, attributed to the queue; metric (EMF) lines and every other
   * function's lines show only when verbose.
   */
  functionLog(functionName: string, line: string, queue?: string, selfReported?: SelfReportedReceives): void {
    const entry = outcomeEntryOf(line);
    if (entry) {
      const outcome = outcomeEvent(entry, functionName);
      if (selfReported?.takeLate(consumerReceiveOf(entry))) this.lateOutcome(outcome);
      else this.event(outcome);
      return;
    }
    if (line.trim() === '') return;
    const shown = queue !== undefined && !isMetricLine(line);
    if (!shown && !this.verbose) return;
    if (this.json) {
      this.write(JSON.stringify(compact({ event: 'log', function: functionName, queue, line })));
      return;
    }
    const label = queue ?? functionName;
    this.write(
      `${this.paint('2', `[${label}]`)} ${terminalLine(queue === undefined ? line : readableLogLine(line))}`,
    );
  }
}

/** An embedded metric format line: read by CloudWatch, not by a person. */
export function isMetricLine(line: string): boolean {
  return line.startsWith('{"_aws":');
}

/**
 * The EMF document of a metric line that holds `metric` (what local mode's stand-ins for the stack's alarms read a
 * function's published counts from); undefined for any other line.
 */
export function metricDocumentOf(line: string, metric: string): Record<string, unknown> | undefined {
  if (!isMetricLine(line) || !line.includes(`"${metric}"`)) return undefined;
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** What Powertools' logger adds to every line about the invocation; the terminal already says which it is. */
const INVOCATION_KEYS = new Set([
  'level',
  'message',
  'timestamp',
  'service',
  'cold_start',
  'function_arn',
  'function_memory_size',
  'function_name',
  'function_request_id',
  'sampling_rate',
  'xray_trace_id',
]);

/** A structured logger line as `INFO message {own keys}`; any other line as written. */
function readableLogLine(line: string): string {
  if (!line.startsWith('{')) return line;
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (typeof entry.level !== 'string' || typeof entry.message !== 'string') return line;
  const own = Object.fromEntries(Object.entries(entry).filter(([key]) => !INVOCATION_KEYS.has(key)));
  const rest = Object.keys(own).length > 0 ? ` ${JSON.stringify(own)}` : '';
  return `${entry.level} ${entry.message}${rest}`;
}
