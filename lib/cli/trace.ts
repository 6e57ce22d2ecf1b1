/**
 * `hookline trace <id>`: one event's timeline, from the same structured outcome lines everywhere. The ingest
 * function's `webhook outcome` line gives the reception (source, status, latency) and the queues; the jobs
 * endpoint's `job enqueued` line (or, for a send that completed after its request was answered 503, its `job
 * enqueued after its deadline` line) the reception of a job sent over HTTP and its queue, and its `job rejected`
 * line a request it refused or answered 503; each consumer's `record
 * outcome` line gives one attempt (outcome, duration, error, replay run). Deployed, the lines come from a
 * CloudWatch Logs Insights query over the ingest, jobs endpoint and consumer log groups; locally, from local
 * mode's journal (`.hookline/journal.jsonl`), which records the same lines as they are reported. A job's record
 * (kept when dedupe is on) gives its enqueue when no line does (app code's producer logs none), its due time and
 * its state now.
 */
import { existsSync } from 'node:fs';
import {
  type CloudWatchLogsClient,
  GetQueryResultsCommand,
  type ResultField,
  StartQueryCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  CONSUMER_OUTCOME_MESSAGE,
  INGEST_OUTCOME_MESSAGE,
  JOBS_ENDPOINT_LATE_SEND_MESSAGE,
  JOBS_ENDPOINT_OUTCOME_MESSAGE,
  JOBS_ENDPOINT_REJECTED_MESSAGE,
} from '../../lambda/shared/contracts';
import { JOB_SOURCE, SCHEDULE_SOURCE } from '../../lambda/shared/job';
import { enqueuedState, type JobState, type JobStatus } from '../../lambda/shared/job-record';
import { START_LOCAL_MODE } from '../../lambda/shared/local-mode-command';
import { sanitizeId } from '../../lambda/shared/safe-ids';
import { rotatedJournalPath } from '../local/journal';
import { inTimeOrder } from '../local/journal-order';
import { JOURNAL_CHUNK_BYTES, journalChunksBack } from '../local/journal-read';
import { tenantsText } from '../local/reporter';
import type { Backend } from './backend';
import { CliError, errorLine, explainError, UnknownSourceError, UsageError } from './errors';
import type { JobRecordLookup } from './jobs';
import { type CommandHints, nextCommand, shellWord } from './output';
import { refuseFutureSince } from './since-flag';
import { sourceNotConfiguredNote, validSourceName } from './source-flag';
import { JOB_SCHEDULES, type StackTarget, type Target } from './target';

/** One outcome line, wherever it was read: the fields both outcome lines write, and when. */
export interface OutcomeRow {
  readonly at: string;
  /**
   * `webhook outcome` (ingest), `job enqueued`, `job enqueued after its deadline` or `job rejected` (jobs
   * endpoint), `record outcome` (consumer), or a local-mode event (`scheduled`, `replayed`).
   */
  readonly kind: 'ingest' | 'job' | 'consumer' | 'scheduled' | 'replayed';
  readonly outcome?: string;
  readonly id?: string;
  readonly source?: string;
  readonly type?: string;
  readonly queue?: string;
  /** The tenant a webhook or a job was queued under in its fair queues (distinct values, comma-separated). */
  readonly tenant?: string;
  readonly status?: number;
  readonly latencyMs?: number;
  readonly durationMs?: number;
  readonly attempt?: number;
  readonly reason?: string;
  readonly replayId?: string;
  readonly dueAt?: string;
  /** Which enqueue of a job id a consumer attempt ran; lines written before it was logged have none. */
  readonly generation?: string;
  /** A jobs endpoint's `job enqueued after its deadline` line: the job went out after the request's 503. */
  readonly sentAfter503?: true;
  /** A consumer's retry or dead letter because another execution held the record's idempotency key. */
  readonly keyHeldElsewhere?: true;
}

/** One step of the timeline. */
export interface TraceStep {
  readonly at: string;
  /** `due`: when a delayed job that has not run yet is due (in the future, so `pending`). */
  readonly step:
    | 'received'
    | 'queued'
    | 'scheduled'
    | 'waiting-children'
    | 'due'
    | 'attempt'
    | 'dead-lettered'
    | 'child-failed'
    | 'redriven'
    | 'replayed';
  readonly source?: string;
  readonly type?: string;
  readonly status?: number;
  readonly latencyMs?: number;
  readonly outcome?: string;
  readonly queues?: readonly string[];
  readonly queue?: string;
  /** The tenant a webhook or a job was queued under, in its fair queues. */
  readonly tenant?: string;
  readonly attempt?: number;
  readonly durationMs?: number;
  readonly error?: string;
  readonly replayId?: string;
  /** Which enqueue of a job id an attempt ran (absent on lines written before it was logged). */
  readonly generation?: string;
  /** A step read from what followed it rather than logged (a redrive moves messages without a log line). */
  readonly inferred?: boolean;
  /** How a job entered: over the jobs endpoint (its line), or by a producer in application code (no line). */
  readonly via?: 'jobs endpoint' | 'producer';
  /**
   * The jobs endpoint sent the job after it had answered the request 503 at its deadline (`status` 503, the 503's
   * reason in `error`): the caller was told to send it again, so a retry without the same id is a second job.
   */
  readonly sentAfter503?: true;
  /** When a delayed job is due. */
  readonly dueAt?: string;
  /** The one-time schedule that sends a job delayed beyond SQS's 15 minutes. */
  readonly scheduleName?: string;
  /** The step has not happened yet. */
  readonly pending?: boolean;
}

export interface TraceResult {
  readonly id: string;
  readonly source?: string;
  readonly type?: string;
  readonly steps: readonly TraceStep[];
  /** A job's state now, from its record. */
  readonly job?: { readonly state: JobState; readonly reason?: string };
  /** What the timeline cannot show, and why. */
  readonly notes?: readonly string[];
}

const CONSUMER_FINAL = new Set(['processed', 'duplicate']);

/** The ingest line: the reception, and the queues when it was queued. */
function ingestSteps(row: OutcomeRow): TraceStep[] {
  const received: TraceStep = {
    at: row.at,
    step: 'received',
    ...pick(row, ['source', 'type', 'status', 'latencyMs', 'outcome']),
    ...(row.reason ? { error: row.reason } : {}),
  };
  if (row.outcome !== 'queued') return [received];
  const queues = (row.queue ?? '').split(',').filter(Boolean);
  return [received, { at: row.at, step: 'queued', queues, ...pick(row, ['tenant']) }];
}

/**
 * The jobs endpoint's line: the request it accepted (or refused, with why), and the queue the job went to unless it
 * was a duplicate. A job sent after its request's 503 is received by its late line, which says so.
 */
function jobsEndpointSteps(row: OutcomeRow): TraceStep[] {
  const received: TraceStep = {
    at: row.at,
    step: 'received',
    via: 'jobs endpoint',
    ...pick(row, ['type', 'status', 'outcome', 'sentAfter503']),
    ...(row.reason ? { error: row.reason } : {}),
  };
  if (row.outcome !== 'queued' && row.outcome !== 'scheduled') return [received];
  return [
    received,
    { at: row.at, step: row.outcome, queues: [row.queue ?? ''], ...pick(row, ['dueAt', 'tenant']) },
  ];
}

/**
 * One copy of the event on one queue: the original, or a replay run's copy (which lives beside the original,
 * so an attempt of one says nothing about the other being redriven).
 */
const copyOn = (row: OutcomeRow) => `${row.queue ?? ''}\u0000${row.replayId ?? ''}`;

/** What a timeline knows so far: the copies dead-lettered, and each replay run's one step by its run id. */
export interface TimelineState {
  readonly deadOn: Set<string>;
  readonly replays: Map<string, { queues: string[] }>;
}

/** A timeline that has read no row yet. */
export function newTimelineState(): TimelineState {
  return { deadOn: new Set<string>(), replays: new Map() };
}

/**
 * A replay run's step, one per run: the first line of the run adds it, a later line of the run on another queue
 * (a run sends an event to every queue its routes name) adds that queue to it. Undefined when the run had one.
 */
function replayStep(row: OutcomeRow, state: TimelineState, inferred: boolean): TraceStep | undefined {
  const replayId = row.replayId ?? '';
  const queue = row.queue ?? '';
  const known = state.replays.get(replayId);
  if (known) {
    if (!known.queues.includes(queue)) known.queues.push(queue);
    return undefined;
  }
  const queues = [queue];
  state.replays.set(replayId, { queues });
  return { at: row.at, step: 'replayed', queues, replayId, ...(inferred ? { inferred: true } : {}) };
}

/**
 * A consumer attempt, preceded by `redriven` when that copy was dead-lettered on that queue before (a redrive
 * logs nothing; the next attempt is how it shows) and by `replayed` on the first attempt of a replay run.
 */
function consumerSteps(row: OutcomeRow, state: TimelineState): TraceStep[] {
  const steps: TraceStep[] = [];
  const queue = row.queue ?? '';
  const copy = copyOn(row);
  const replayed = row.replayId ? replayStep(row, state, true) : undefined;
  if (replayed) {
    steps.push(replayed);
  } else if (state.deadOn.has(copy)) {
    steps.push({ at: row.at, step: 'redriven', queue, inferred: true });
  }
  state.deadOn.delete(copy);
  steps.push({
    at: row.at,
    step: 'attempt',
    queue,
    ...pick(row, ['attempt', 'outcome', 'durationMs', 'replayId', 'generation']),
    ...(row.reason && !CONSUMER_FINAL.has(row.outcome ?? '') ? { error: row.reason } : {}),
  });
  if (row.outcome === 'dead-lettered') {
    state.deadOn.add(copy);
    steps.push({ at: row.at, step: 'dead-lettered', queue, ...(row.reason ? { error: row.reason } : {}) });
  }
  return steps;
}

function pick<K extends keyof OutcomeRow>(row: OutcomeRow, keys: readonly K[]): Partial<Pick<OutcomeRow, K>> {
  const picked: Partial<Pick<OutcomeRow, K>> = {};
  for (const key of keys) if (row[key] !== undefined) picked[key] = row[key];
  return picked;
}

/**
 * The steps one outcome row adds to its event's timeline, given what the rows before it (of the same event, in
 * time order) left in `state`: `trace` reads them all at once, `tail` one by one as they are written.
 */
export function stepsOfRow(row: OutcomeRow, state: TimelineState): TraceStep[] {
  if (row.kind === 'ingest') return ingestSteps(row);
  if (row.kind === 'job') return jobsEndpointSteps(row);
  if (row.kind === 'consumer') return consumerSteps(row, state);
  if (row.kind === 'scheduled') {
    return [{ at: row.at, step: 'scheduled', ...pick(row, ['source', 'type']), queues: [row.queue ?? ''] }];
  }
  const replayed = row.replayId ? replayStep(row, state, false) : undefined;
  return replayed ? [replayed] : [];
}

/** The timeline of one event from its outcome rows (any order). */
export function buildTimeline(id: string, rows: readonly OutcomeRow[]): TraceResult {
  const sorted = inTimeOrder(rows.filter((r) => r.id === id));
  const state = newTimelineState();
  const steps = sorted.flatMap((row) => stepsOfRow(row, state));
  const first = sorted.find((r) => r.source);
  return {
    id,
    ...(first?.source ? { source: first.source } : {}),
    ...(first?.type ? { type: first.type } : {}),
    steps,
  };
}

const ENQUEUE_STEPS: ReadonlySet<TraceStep['step']> = new Set([
  'received',
  'queued',
  'scheduled',
  'waiting-children',
]);

/** Why a job's timeline has no start when no job records are kept. */
export const ENQUEUE_NOT_RECORDED_WITHOUT_DEDUPE =
  "the job's enqueue is not recorded: dedupe is off, so no job record is kept, and a producer in application code logs no line when it sends (only the jobs endpoint does); enable dedupe in hookline.config.ts to record it (hookline jobs show needs it too)";

/** Why a job's timeline has no start when records are kept but this id has none. */
export const ENQUEUE_NOT_RECORDED_WITHOUT_RECORD =
  "the job's enqueue is not recorded: it has no job record (it expired after the dedupe window) and no jobs endpoint line";

/**
 * A job's timeline completed from its record: the enqueue when no line gave it (at `enqueuedAt`, in time order,
 * with its queue, due time and schedule), its due time while it waits, a delivery Scheduler gave up on, and its
 * state now; or, with no record and no line, a note saying its enqueue is not recorded and why.
 * `endpointSearched`: the jobs endpoint's lines were searched, so an enqueue without one was made by a producer
 * in application code.
 *
 * The record is the id's newest enqueue only (one sent again after its dedupe window replaces it): an attempt
 * is that enqueue's when it names the record's generation, an earlier enqueue's when it names another; a step
 * that cannot say (an enqueue line, an attempt logged before generations were) is the record's when it is at or
 * after its `enqueuedAt`. Attempts of an earlier enqueue that no enqueue step shows are counted in a note.
 */
export function withJobRecord(
  timeline: TraceResult,
  lookup: JobRecordLookup,
  options: { readonly endpointSearched: boolean },
): TraceResult {
  const job = lookup.kept ? lookup.job : undefined;
  if (!job) {
    if (timeline.steps.some((s) => ENQUEUE_STEPS.has(s.step))) return timeline;
    const note = lookup.kept ? ENQUEUE_NOT_RECORDED_WITHOUT_RECORD : ENQUEUE_NOT_RECORDED_WITHOUT_DEDUPE;
    return { ...timeline, notes: [...(timeline.notes ?? []), note] };
  }
  const ofRecord = ofEnqueue(job);
  const logged = timeline.steps.some((s) => ENQUEUE_STEPS.has(s.step) && ofRecord(s));
  const steps = logged
    ? timeline.steps.map((s) =>
        (s.step === 'scheduled' || s.step === 'queued') && ofRecord(s) ? withSchedule(s, job) : s,
      )
    : beforeItsAttempts(timeline.steps, enqueueOf(job, options.endpointSearched), ofRecord);
  const earlier = unshownEnqueueNote(steps, job, ofRecord);
  const timed = withRedriveTime(steps, job, ofRecord);
  return {
    ...timeline,
    source: timeline.source ?? JOB_SOURCE,
    ...(timeline.type === undefined && job.type !== undefined ? { type: job.type } : {}),
    steps: [...timed, ...waitingOrUndelivered(job, timed.filter(ofRecord))],
    job: { state: job.state, ...(job.reason !== undefined ? { reason: job.reason } : {}) },
    ...(earlier ? { notes: [...(timeline.notes ?? []), earlier] } : {}),
  };
}

/**
 * The redrive a job's record times exactly (`redrivenAt`, its last one), in place of the one an attempt inferred:
 * the `redriven` step after the last dead-lettering before that time. A job redriven but not run yet has no such
 * step; it gains one, after that dead-lettering. A clock that puts the redrive before its dead-lettering leaves the
 * inferred step as it was.
 */
function withRedriveTime(
  steps: readonly TraceStep[],
  job: JobStatus,
  ofRecord: (step: TraceStep) => boolean,
): TraceStep[] {
  const at = job.redrivenAt;
  if (at === undefined) return [...steps];
  const dead = steps.findLastIndex((s) => s.step === 'dead-lettered' && ofRecord(s) && s.at <= at);
  if (dead === -1) return [...steps];
  const queue = steps[dead]?.queue;
  const redriven: TraceStep = { at, step: 'redriven', ...(queue !== undefined ? { queue } : {}) };
  const next = steps.findIndex(
    (s, index) => index > dead && s.queue === queue && (s.step === 'redriven' || s.step === 'attempt'),
  );
  const inferred = next === -1 ? undefined : steps[next];
  if (inferred?.step === 'redriven' && inferred.inferred && inferred.at >= at) {
    return steps.map((s, index) => (index === next ? redriven : s));
  }
  if (next !== -1 || job.state !== 'queued') return [...steps];
  return [...steps.slice(0, dead + 1), redriven, ...steps.slice(dead + 1)];
}

/** Whether a step has an enqueue's generation to compare with the record's. */
const namesGeneration = (step: TraceStep, job: JobStatus) =>
  step.generation !== undefined && job.generation !== undefined;

/**
 * Whether a step belongs to the record's enqueue: by generation when the step and the record both name one
 * (exact), else by time (an earlier enqueue's attempt that ends after the newest enqueue would pass for its).
 */
function ofEnqueue(job: JobStatus): (step: TraceStep) => boolean {
  return (step) =>
    namesGeneration(step, job)
      ? step.generation === job.generation
      : job.enqueuedAt === undefined || step.at >= job.enqueuedAt;
}

/**
 * `steps` with the record's enqueue `added` placed by time, before the steps of the same time (an enqueue
 * precedes what it caused), but after every attempt that names an earlier generation and before the first that
 * names the record's: what ran which enqueue is known exactly there, the clocks that wrote the times are not.
 */
function beforeItsAttempts(
  steps: readonly TraceStep[],
  added: readonly TraceStep[],
  ofRecord: (step: TraceStep) => boolean,
): TraceStep[] {
  const merged = [...steps];
  const named = (s: TraceStep) => s.step === 'attempt' && s.generation !== undefined;
  for (const step of added) {
    const byTime = merged.findIndex((s) => s.at >= step.at);
    const afterEarlier = merged.findLastIndex((s) => named(s) && !ofRecord(s)) + 1;
    const firstOwn = merged.findIndex((s) => named(s) && ofRecord(s));
    const at = Math.max(byTime === -1 ? merged.length : byTime, afterEarlier);
    merged.splice(firstOwn === -1 ? at : Math.min(at, firstOwn), 0, step);
  }
  return merged;
}

/**
 * The note for attempts of an earlier enqueue that no enqueue step shows: the id was enqueued before, and that
 * enqueue is neither logged (a producer in application code logs no line) nor kept (the record is the newest's).
 * An attempt naming the record's generation ran the record's enqueue; one naming another ran an earlier one,
 * shown only by an earlier enqueue's step before it; one naming none, whatever enqueue step precedes it.
 */
function unshownEnqueueNote(
  steps: readonly TraceStep[],
  job: JobStatus,
  ofRecord: (step: TraceStep) => boolean,
): string | undefined {
  const attempts = steps.filter((step, index) => {
    if (step.step !== 'attempt') return false;
    const named = namesGeneration(step, job);
    if (named && ofRecord(step)) return false;
    return !steps.slice(0, index).some((s) => ENQUEUE_STEPS.has(s.step) && !(named && ofRecord(s)));
  }).length;
  if (attempts === 0) return undefined;
  const shown = job.enqueuedAt !== undefined ? ` (the one at ${job.enqueuedAt})` : '';
  return `this job id was enqueued before: the ${attempts === 1 ? 'attempt' : `${attempts} attempts`} before the first enqueue shown ran an earlier enqueue, which is not shown (a job's record keeps only the newest enqueue${shown}, and a producer in application code logs no line); the state now is the newest enqueue's`;
}

/**
 * The enqueue step a record gives: none without its time. A flow's parent was not queued then but kept, waiting
 * for its children (its record keeps no time for when the last of them sent it).
 */
function enqueueOf(job: JobStatus, endpointSearched: boolean): TraceStep[] {
  if (job.enqueuedAt === undefined) return [];
  return [
    {
      at: job.enqueuedAt,
      step: job.children
        ? 'waiting-children'
        : enqueuedState(job.dueAt) === 'scheduled'
          ? 'scheduled'
          : 'queued',
      ...(job.children ? { outcome: `for ${job.children.total} children` } : {}),
      ...(job.queue !== undefined ? { queues: [job.queue] } : {}),
      ...(job.dueAt !== undefined ? { dueAt: job.dueAt } : {}),
      ...(job.scheduleName !== undefined ? { scheduleName: job.scheduleName } : {}),
      ...(endpointSearched ? { via: 'producer' as const } : {}),
    },
  ];
}

/** The jobs endpoint's line does not name the schedule; the record does. */
function withSchedule(step: TraceStep, job: JobStatus): TraceStep {
  return job.scheduleName !== undefined && step.scheduleName === undefined
    ? { ...step, scheduleName: job.scheduleName }
    : step;
}

/**
 * What follows the last line: the due time of a job still waiting for it, a flow parent's failing by a child (no
 * line of its own logs it: its record says when), or the dead-lettering of a delayed job Scheduler could not
 * deliver (its record still said queued; `jobs show` reads the job_schedules dead-letter queue for it), placed at
 * its due time, when Scheduler tried.
 */
function waitingOrUndelivered(job: JobStatus, steps: readonly TraceStep[]): TraceStep[] {
  if (job.state === 'scheduled' && job.dueAt !== undefined) {
    return [{ at: job.dueAt, step: 'due', ...(job.queue ? { queues: [job.queue] } : {}), pending: true }];
  }
  if (job.state === 'child-failed' && job.updatedAt !== undefined) {
    return [
      {
        at: job.updatedAt,
        step: 'child-failed',
        ...(job.reason !== undefined ? { error: job.reason } : {}),
        inferred: true,
      },
    ];
  }
  const undelivered =
    job.state === 'dead-lettered' &&
    job.scheduleName !== undefined &&
    !steps.some((s) => s.step === 'attempt');
  if (!undelivered) return [];
  return [
    {
      at: job.dueAt ?? job.updatedAt ?? job.enqueuedAt ?? '',
      step: 'dead-lettered',
      queue: JOB_SCHEDULES,
      ...(job.reason !== undefined ? { error: job.reason } : {}),
      inferred: true,
    },
  ];
}

const CONSUMER_OUTCOMES = new Set(['processed', 'retried', 'dead-lettered', 'duplicate', 'deferred']);

/** A journal entry as an outcome row; undefined for entries that are not about one event's outcome. */
export function journalRow(entry: Record<string, unknown>): OutcomeRow | undefined {
  const event = String(entry.event);
  // A one-time job schedule sending its job is not the job's enqueue, which its record or the endpoint's line gives.
  if (event === 'scheduled' && entry.source === JOB_SOURCE && entry.via === undefined) return undefined;
  const kind =
    entry.via === 'jobs endpoint'
      ? 'job'
      : event === 'scheduled' || event === 'replayed'
        ? event
        : typeof entry.status === 'number' && event !== 'received'
          ? 'ingest'
          : CONSUMER_OUTCOMES.has(event) && typeof entry.attempt === 'number'
            ? 'consumer'
            : undefined;
  if (!kind) return undefined;
  return { ...(entry as Omit<OutcomeRow, 'kind' | 'outcome'>), kind, outcome: event, at: String(entry.at) };
}

/** The rows a trace read of one event id, and every source a row it read names (of that event or not). */
export interface TraceRows {
  readonly rows: OutcomeRow[];
  readonly sources: readonly string[];
}

/** Local mode's rows from the time `--since` gave on (the journal is read whole otherwise). */
function sinceCut(read: TraceRows, backend: Backend, options: DeployedTraceOptions): TraceRows {
  if (defaultSpan(options)) return read;
  const from = searchFrom(backend.clock.now(), options);
  return { ...read, rows: read.rows.filter((row) => Date.parse(row.at) >= from) };
}

/**
 * Local mode: the rows of event `id` in the journal next to the state file (its rotated file, then its live one),
 * oldest first. The journal is read a chunk at a time (one kept across restarts may hold gigabytes, more than one
 * string can), keeping only that event's rows and the sources named, so memory is bounded by the event, not the
 * journal. Only the lines that could be one of them are parsed: those that mention the id as the journal writes it
 * (the parsed row still decides, so a line that names it in another field is not taken), and those that name a source
 * not yet known as a row's.
 *
 * @param chunkBytes the most one read of the file takes.
 */
export function localRows(journalPath: string, id: string, chunkBytes = JOURNAL_CHUNK_BYTES): TraceRows {
  if (!existsSync(journalPath) && !existsSync(rotatedJournalPath(journalPath))) {
    throw new CliError(
      `no local journal at ${journalPath}: start local mode with ${START_LOCAL_MODE} and send events first`,
    );
  }
  const newestFirst: OutcomeRow[][] = [];
  const sources = new Set<string>();
  const written = Buffer.from(JSON.stringify(id).slice(1, -1));
  const known: Buffer[] = [];
  const mayMatter = (bytes: Buffer) => bytes.includes(written) || namesSourceNotIn(bytes, known);
  const filter = { chunk: mayMatter, line: (line: string) => mayMatter(Buffer.from(line)) };
  for (const entries of journalChunksBack(journalPath, chunkBytes, filter)) {
    const rows = entries.flatMap((entry) => journalRow(entry as unknown as Record<string, unknown>) ?? []);
    for (const row of rows) {
      if (row.source === undefined || sources.has(row.source)) continue;
      sources.add(row.source);
      known.push(Buffer.from(`${row.source}"`));
    }
    newestFirst.push(rows.filter((row) => row.id === id));
  }
  return { rows: newestFirst.reverse().flat(), sources: [...sources] };
}

const SOURCE_FIELD = Buffer.from('"source":"');

/**
 * Whether raw journal text has a `"source":"<name>"` whose name is not one of `sources` (each as written, its closing
 * quote included): a source name has no character JSON escapes, so the name runs to the next quote. A field of that
 * name nested in another field counts too; the parsed row decides.
 */
function namesSourceNotIn(bytes: Buffer, sources: readonly Buffer[]): boolean {
  for (let at = bytes.indexOf(SOURCE_FIELD); at >= 0; at = bytes.indexOf(SOURCE_FIELD, at + 1)) {
    const from = at + SOURCE_FIELD.length;
    if (!sources.some((name) => bytes.compare(name, 0, name.length, from, from + name.length) === 0))
      return true;
  }
  return false;
}

const QUERY_FIELDS = [
  '@timestamp',
  // The whole line too: Logs Insights flattens `queues` into queues.0, queues.1, ... and a fan-out may be wide.
  '@message',
  'message',
  'outcome',
  'id',
  'source',
  'type',
  'queue',
  'queues.0',
  'queues.1',
  'queues.2',
  'status',
  'latencyMs',
  'durationMs',
  'attempt',
  'reason',
  'replayId',
  'dueAt',
  'generation',
  'keyHeldElsewhere',
];

/** The most lines a trace's Logs Insights query returns (its `limit`): the oldest ones, when the logs hold more. */
export const TRACE_QUERY_LIMIT = 1000;

/** The jobs endpoint's lines a trace reads: the request's outcome, and a send that completed after its 503. */
const JOBS_ENDPOINT_MESSAGES = [
  JOBS_ENDPOINT_OUTCOME_MESSAGE,
  JOBS_ENDPOINT_REJECTED_MESSAGE,
  JOBS_ENDPOINT_LATE_SEND_MESSAGE,
];

/** The message of every line a timeline reads: the ingest's, the jobs endpoint's and the consumers' outcome lines. */
export const OUTCOME_LINE_MESSAGES: readonly string[] = [
  INGEST_OUTCOME_MESSAGE,
  ...JOBS_ENDPOINT_MESSAGES,
  CONSUMER_OUTCOME_MESSAGE,
];

/** The Logs Insights query: every outcome line of one event id, oldest first, up to {@link TRACE_QUERY_LIMIT}. */
export function traceQuery(id: string): string {
  const quoted = JSON.stringify(id);
  const messages = OUTCOME_LINE_MESSAGES.map((message) => `message = ${JSON.stringify(message)}`).join(
    ' or ',
  );
  return [
    `fields ${QUERY_FIELDS.join(', ')}`,
    `filter id = ${quoted} and (${messages})`,
    'sort @timestamp asc',
    `limit ${TRACE_QUERY_LIMIT}`,
  ].join(' | ');
}

/** An outcome line's own fields (the ingest's, the jobs endpoint's); undefined when it is not JSON. */
function fieldsOfLine(line: string | undefined): { queues?: unknown; tenants?: unknown } | undefined {
  if (!line) return undefined;
  try {
    return JSON.parse(line.slice(line.indexOf('{'))) as { queues?: unknown; tenants?: unknown };
  } catch {
    return undefined;
  }
}

/** Every queue an ingest outcome line names, read from the line itself; undefined when it is not JSON. */
function queuesOfLine(line: string | undefined): string[] | undefined {
  const queues = fieldsOfLine(line)?.queues;
  return Array.isArray(queues) ? queues.filter((q): q is string => typeof q === 'string') : undefined;
}

/** One Logs Insights result row as an outcome row. */
export function insightsRow(fields: readonly ResultField[]): OutcomeRow {
  const value = new Map(fields.map((f) => [f.field ?? '', f.value ?? '']));
  const text = (name: string) => (value.get(name) ? value.get(name) : undefined);
  const number = (name: string) =>
    value.has(name) && value.get(name) !== '' ? Number(value.get(name)) : undefined;
  const queues = (
    queuesOfLine(text('@message')) ?? ['queues.0', 'queues.1', 'queues.2'].map(text).filter(Boolean)
  ).join(',');
  const ingest = text('message') === INGEST_OUTCOME_MESSAGE;
  const job = JOBS_ENDPOINT_MESSAGES.includes(text('message') ?? '');
  const row: Record<string, unknown> = {
    at: new Date(`${(text('@timestamp') ?? '').replace(' ', 'T')}Z`).toISOString(),
    kind: ingest ? 'ingest' : job ? 'job' : 'consumer',
    outcome: text('outcome'),
    id: text('id'),
    source: text('source'),
    type: text('type'),
    queue: ingest ? queues : text('queue'),
    // Read from the whole line, as the queues: Logs Insights flattens an object into one field per queue.
    tenant: ingest || job ? tenantsText(fieldsOfLine(text('@message'))?.tenants) : undefined,
    status: number('status'),
    latencyMs: number('latencyMs'),
    durationMs: number('durationMs'),
    attempt: number('attempt'),
    reason: text('reason'),
    replayId: text('replayId'),
    dueAt: text('dueAt'),
    generation: text('generation'),
    sentAfter503: text('message') === JOBS_ENDPOINT_LATE_SEND_MESSAGE ? true : undefined,
    keyHeldElsewhere: text('keyHeldElsewhere') === 'true' ? true : undefined,
  };
  return Object.fromEntries(
    Object.entries(row).filter(([, v]) => v !== undefined && v !== ''),
  ) as unknown as OutcomeRow;
}

/**
 * One log event as `FilterLogEvents` returns it (its time, its line) as an outcome row, read as Logs Insights reads
 * it: the line's own fields as result fields, so {@link insightsRow} stays the one reader of a deployed outcome line.
 * Undefined for a line that is no outcome line.
 */
export function logEventRow(timestamp: number, message: string): OutcomeRow | undefined {
  const line = fieldsOfLine(message) as Record<string, unknown> | undefined;
  if (!line || !OUTCOME_LINE_MESSAGES.includes(String(line.message))) return undefined;
  const scalars = Object.entries(line).flatMap(([field, value]) =>
    typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
      ? [{ field, value: String(value) }]
      : [],
  );
  return insightsRow([
    // Logs Insights' own form of @timestamp (UTC, a space for the T, no zone), which insightsRow reads.
    { field: '@timestamp', value: new Date(timestamp).toISOString().replace('T', ' ').replace('Z', '') },
    { field: '@message', value: message },
    ...scalars,
  ]);
}

export interface DeployedTraceOptions {
  /** How far back to search. @default 7 days */
  readonly sinceMs?: number;
  /** The time to search from (`--since`), whatever the time the search starts; takes precedence over `sinceMs`. */
  readonly since?: Date;
  /** Polling interval. @default 1000 */
  readonly pollIntervalMs?: number;
  /** Give up after this long. @default 120000 */
  readonly timeoutMs?: number;
}

/**
 * The log groups whose lines are outcome lines: the ingest's, the jobs endpoint's and every consumer's, as the stack
 * outputs name them. None is an error: a stack deployed before it published them.
 */
export function outcomeLogGroups(backend: Backend, target: StackTarget): string[] {
  const groups = [
    target.logGroups?.ingest,
    target.logGroups?.jobsEndpoint,
    ...Object.values(target.logGroups?.consumers ?? {}),
  ].filter((g): g is string => Boolean(g));
  if (groups.length === 0 || !backend.logs) {
    throw new CliError(`${target.description} publishes no log group outputs: redeploy with npx cdk deploy`);
  }
  return groups;
}

/** Deployed: one Logs Insights query over the ingest, jobs endpoint and consumer log groups, polled until complete. */
export async function deployedRows(
  backend: Backend,
  target: StackTarget,
  id: string,
  options: DeployedTraceOptions & { readonly source?: string } = {},
): Promise<OutcomeRow[]> {
  const groups = outcomeLogGroups(backend, target);
  const now = backend.clock.now();
  const start = await runQuery(
    () =>
      (backend.logs as CloudWatchLogsClient).send(
        new StartQueryCommand({
          logGroupNames: groups,
          startTime: Math.floor(searchFrom(now, options) / 1000),
          endTime: Math.ceil(now / 1000),
          queryString: traceQuery(id),
        }),
      ),
    target,
  );
  // What to run when the query gives out: this very trace, with the flags it was run with.
  const again = nextCommand(backend.output, traceArgs(id, options, options.since?.toISOString()));
  return pollQuery(backend, target, start.queryId ?? '', options, again);
}

async function runQuery<T>(call: () => Promise<T>, target: StackTarget): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw explainError(error, {
      target: target.description,
      local: false,
      stackName: target.stackName,
      region: target.region,
      logsInsights: true,
    });
  }
}

/**
 * Polls the query; says so while results are still arriving (Logs Insights returns partial rows meanwhile), once
 * per change of its status or row count, not at every poll of a query that stays the same.
 */
async function pollQuery(
  backend: Backend,
  target: StackTarget,
  queryId: string,
  options: DeployedTraceOptions,
  again: string,
): Promise<OutcomeRow[]> {
  const deadline = backend.clock.now() + (options.timeoutMs ?? 120_000);
  let told = '';
  for (;;) {
    const answer = await runQuery(
      () => (backend.logs as CloudWatchLogsClient).send(new GetQueryResultsCommand({ queryId })),
      target,
    );
    const rows = (answer.results ?? []).map(insightsRow);
    if (answer.status === 'Complete') return rows;
    if (answer.status !== 'Scheduled' && answer.status !== 'Running') {
      throw new CliError(`the Logs Insights query ended ${answer.status}: run ${again} again`);
    }
    if (backend.clock.now() >= deadline) {
      throw new CliError(
        `the Logs Insights query is still ${answer.status} after ${(options.timeoutMs ?? 120_000) / 1000} s: run ${again} again`,
      );
    }
    const arriving = `results still arriving (query ${answer.status}, ${rows.length} line(s) so far)...`;
    if (arriving !== told) backend.output.note(arriving);
    told = arriving;
    await backend.clock.sleep(options.pollIntervalMs ?? 1000);
  }
}

/**
 * The rows of one event: two sources may send the same id (a GitHub delivery and an HMAC sender's `id`), and
 * they are two events, never one timeline. Several sources without `source` is an error that names them.
 */
function ofSource(id: string, rows: readonly OutcomeRow[], source: string | undefined): OutcomeRow[] {
  const ofId = rows.filter((r) => r.id === id);
  if (source !== undefined) return ofId.filter((r) => r.source === undefined || r.source === source);
  const sources = [...new Set(ofId.flatMap((r) => (r.source ? [r.source] : [])))].sort();
  if (sources.length > 1) {
    throw new CliError(
      `id ${id} names ${sources.length} events, from the sources ${sources.join(', ')}: pass --source <name> to trace one`,
    );
  }
  return ofId;
}

/** A deployed trace's rows (all of one id: its query asks for no other) with the sources they name. */
function withSources(rows: OutcomeRow[]): TraceRows {
  return { rows, sources: rows.flatMap((r) => (r.source ? [r.source] : [])) };
}

/** How far back a deployed trace searches the logs unless told otherwise. */
const DEFAULT_TRACE_WINDOW_MS = 7 * 86_400_000;

/** `trace --since`: the time to search from; one in the future is a usage error. */
export function traceWindow(since: Date, now: number): { readonly since: Date } {
  refuseFutureSince(
    since,
    now,
    'nothing was logged after it; give a time in the past or a duration ago (30d), or leave it out to search the last 7 days',
  );
  return { since };
}

/** The epoch milliseconds a search starts from: `--since`'s time, else `sinceMs` (7 days by default) before `now`. */
function searchFrom(now: number, options: DeployedTraceOptions): number {
  return options.since?.getTime() ?? now - (options.sinceMs ?? DEFAULT_TRACE_WINDOW_MS);
}

/**
 * A trace as a command line to run: the id quoted for the shell where it needs it (an id may hold spaces or `#`),
 * with the `--source` it was run with and the `--since` given.
 */
function traceArgs(id: string, options: { readonly source?: string }, since: string | undefined): string {
  const source = options.source === undefined ? [] : [`--source ${shellWord(options.source)}`];
  return [`trace ${shellWord(id)}`, ...source, ...(since === undefined ? [] : [`--since ${since}`])].join(
    ' ',
  );
}

/** Whether the search spans the default window rather than one given. */
const defaultSpan = (options: DeployedTraceOptions) =>
  options.since === undefined && options.sinceMs === undefined;

/** The span a deployed trace searched, in words: the default's, or from the time it was given. */
function searchedSpan(backend: Backend, options: DeployedTraceOptions): string {
  if (defaultSpan(options)) return `the last ${DEFAULT_TRACE_WINDOW_MS / 86_400_000} days`;
  return `since ${new Date(searchFrom(backend.clock.now(), options)).toISOString()}`;
}

/** The event's timeline; an id that no line mentions is an error. */
export async function trace(
  backend: Backend,
  target: Target,
  id: string,
  options: DeployedTraceOptions & {
    readonly journalPath: string;
    /** Only the event of this source (ids are unique per source, not across sources). */
    readonly source?: string;
    /** Reads a job's record (`jobRecordReader`); without it a job's timeline is its lines alone. */
    readonly readJob?: (id: string) => Promise<JobRecordLookup>;
  },
): Promise<TraceResult> {
  if (id.trim() === '')
    throw new UsageError(
      `the event id is empty: pass the id from the webhook answer or ${nextCommand(backend.output, 'failed list <queue>')}`,
    );
  if (options.source !== undefined && options.source.trim() === '')
    throw new UsageError('--source is empty: name the source of the event, or leave it out');
  if (options.source !== undefined) validSourceName(options.source);
  // The id the lines carry: a sender's id the ingest could not keep as it is was stored hashed.
  const eventId = sanitizeId(id);
  const { rows, sources } =
    target.kind === 'local'
      ? sinceCut(localRows(options.journalPath, eventId), backend, options)
      : withSources(await deployedRows(backend, target, eventId, options));
  if (options.source !== undefined)
    checkSourceKnown(backend, options.source, sources, configuredSources(target));
  const ofEvent = ofSource(eventId, rows, options.source);
  const { lookup, unread } =
    options.readJob && mayBeJob(ofEvent, options.source)
      ? await readRecord(options.readJob, eventId, target)
      : {};
  const timeline = withBoundNote(buildTimeline(eventId, ofEvent), backend, target, rows.length, options);
  const result = lookup
    ? withJobRecord(timeline, lookup, {
        // Local mode journals every line; a stack only once it publishes the endpoint's log group.
        endpointSearched: target.kind === 'local' || target.logGroups?.jobsEndpoint !== undefined,
      })
    : unread
      ? { ...timeline, notes: [...(timeline.notes ?? []), unread] }
      : timeline;
  if (result.steps.length === 0) {
    const searched =
      target.kind === 'local'
        ? `local mode's journal ${options.journalPath} and the file rotated before it (the events since local mode started, or since its data directory was created, as far back as HOOKLINE_JOURNAL_MAX keeps: 256MB unless set${defaultSpan(options) ? '' : `; its lines ${searchedSpan(backend, options)}`})`
        : `the logs of ${target.description} (${searchedSpan(backend, options)}${defaultSpan(options) ? `; ${nextCommand(backend.output, traceArgs(id, options, '30d'))} searches further back, as far as the log groups keep lines: logRetentionDays, 30 days unless set` : ''})`;
    throw new CliError(
      `no event with id ${id}${eventId !== id ? ` (stored as ${eventId})` : ''}${options.source !== undefined ? ` from ${options.source}` : ''} in ${searched}: use the id from the webhook's answer, ${nextCommand(backend.output, 'failed list <queue>')} or the job's send; ${unread ?? noJobHint(backend.output, id, lookup)}`,
    );
  }
  return result;
}

/**
 * A deployed trace reads at most {@link TRACE_QUERY_LIMIT} lines, the oldest: one that got that many says that
 * later lines may be missing, rather than show a timeline that looks complete and ends early.
 */
function withBoundNote(
  timeline: TraceResult,
  backend: Backend,
  target: Target,
  lines: number,
  options: DeployedTraceOptions,
): TraceResult {
  if (target.kind === 'local' || lines < TRACE_QUERY_LIMIT) return timeline;
  const span = `${defaultSpan(options) ? 'in ' : ''}${searchedSpan(backend, options)}`;
  const note = `only the oldest ${TRACE_QUERY_LIMIT} log lines of this id ${span} are shown (a Logs Insights query returns at most ${TRACE_QUERY_LIMIT}): later steps may be missing; search the logs in CloudWatch Logs Insights for the rest`;
  return { ...timeline, notes: [...(timeline.notes ?? []), note] };
}

/**
 * The job's record, or why it could not be read (a missing grant, say): the lines still show what they know, and
 * the timeline says what it lacks rather than failing or passing over it.
 */
async function readRecord(
  readJob: (id: string) => Promise<JobRecordLookup>,
  id: string,
  target: Target,
): Promise<{ lookup?: JobRecordLookup; unread?: string }> {
  try {
    return { lookup: await readJob(id) };
  } catch (error) {
    // In the operator's terms (local mode not answering, throttling), not the SDK's own words.
    const why = errorLine(
      explainError(error, { target: target.description, local: target.kind === 'local' }),
    );
    return {
      unread: `the job's record could not be read (${why}): its enqueue, due time and state are not shown`,
    };
  }
}

/** What an id with no line says of a job with that id. */
function noJobHint(output: CommandHints, id: string, lookup: JobRecordLookup | undefined): string {
  if (lookup === undefined) {
    return `a job that has not run yet (delayed) has none until it runs, ${nextCommand(output, `jobs show ${shellWord(id)}`)} shows its state`;
  }
  return lookup.kept
    ? 'no job record has this id either (a job record expires after the dedupe window)'
    : `if it is a job, ${ENQUEUE_NOT_RECORDED_WITHOUT_DEDUPE}`;
}

/**
 * The sources a target's lines may name as configured: its configuration's (a stack's from the configuration, local
 * mode's from its state file), the schedules' and the jobs'. Undefined when the target does not list its sources (a
 * local mode started by an earlier version).
 */
export function configuredSources(target: Target): string[] | undefined {
  return target.sources ? [...target.sources, SCHEDULE_SOURCE, JOB_SOURCE] : undefined;
}

/**
 * Refuses a `--source` that names no source, rather than say that it sent no such event: one of the target's
 * configured sources, or one a line read names (a source since removed still has its events, so it never stands in
 * the way of a trace that finds one; said on stderr as `tail` says it). Says nothing when the target does not list
 * its sources (a local mode started by an earlier version): the lines name only the sources that sent something,
 * and a configured one may have sent nothing yet.
 */
function checkSourceKnown(
  backend: Backend,
  source: string,
  seen: readonly string[],
  configured: readonly string[] | undefined,
): void {
  if (configured === undefined) return;
  const known = [...new Set([...configured, ...[...seen].sort()])];
  if (!known.includes(source)) throw new UnknownSourceError(source, known);
  const notConfigured = sourceNotConfiguredNote(source, configured);
  if (notConfigured) backend.output.note(notConfigured);
}

/** Whether an id may be a job's: its lines are a job's, or there are none (a webhook's ingest line names its source). */
function mayBeJob(rows: readonly OutcomeRow[], source: string | undefined): boolean {
  if (source !== undefined) return source === JOB_SOURCE;
  return rows.every((r) => r.source === undefined || r.source === JOB_SOURCE);
}
