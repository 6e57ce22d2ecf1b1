/**
 * `hookline redrive`: dead-lettered messages back to their source queue.
 *
 * Everything, on AWS: one `StartMessageMoveTask` (SQS moves the messages itself, at `--rate`), followed through
 * `ListMessageMoveTasks`. A selection (`--id`, `--type`), or an endpoint without move tasks (the local
 * emulator), moves messages one by one: receive from the DLQ, send to the source, and only then delete from the
 * DLQ. A failed send never deletes; messages not selected are made visible again.
 */
import {
  DeleteMessageBatchCommand,
  type ListMessageMoveTasksResultEntry,
  type Message,
  type MessageAttributeValue,
  SendMessageBatchCommand,
  type SendMessageBatchCommandOutput,
  type SendMessageBatchRequestEntry,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { FLOW_PARENT_ERROR, PAYLOAD_GONE_ERROR } from '../../lambda/consumer/errors';
import { typeMatches } from '../../lambda/ingest/routing';
import { entryBytes, sqsBatches } from '../../lambda/shared/claim-check';
import {
  FAILURE_ATTRIBUTES,
  MAX_MESSAGE_ATTRIBUTES,
  MESSAGE_ATTRIBUTES,
  recordedTenantOf,
} from '../../lambda/shared/envelope';
import { JOB_DEBOUNCE_HEADER, JOB_RECORD_HEADER, JOB_SOURCE } from '../../lambda/shared/job';
import { BREAKER_SCHEDULES_RECOVER, JOB_SCHEDULES_RESEND } from '../stack-outputs';
import { type Backend, contextOf } from './backend';
import { nothingMatched, notReachedWhileHeld } from './dead-letter-notes';
import { commandScan, type DeadLetterScan, DeadLetterSelection } from './dead-letter-scan';
import {
  type DeadLetter,
  describeDeadLetter,
  latestMoveTask,
  type QueueDepth,
  queueDepth,
  SCHEDULER_DEAD_LETTER_ATTRIBUTES,
  SCHEDULER_TARGET_ATTRIBUTE,
  summarize,
} from './dead-letters';
import {
  CliError,
  type ErrorContext,
  errorLine,
  explainError,
  explainMoveTaskFailure,
  isUnanswered,
  isUnsupportedAction,
  UsageError,
} from './errors';
import { debouncedSendSuperseded } from './failed';
import { optionalFailureSelector } from './failure-groups';
import { type RecordJobs, type RedrivenJob, redrivenJobsRecorder, withJobsRecorder } from './jobs';
import { type CommandHints, nextCommand } from './output';
import { untilRateAllows } from './rate-pacing';
import {
  BREAKER_SCHEDULES,
  type DeadLetterQueueTarget,
  deadLetterQueueOf,
  JOB_SCHEDULES,
  noReasonRecorded,
  type QueueTarget,
  queueOf,
  type Target,
} from './target';
import { validTypePattern } from './type-pattern-flag';

export interface RedriveOptions {
  readonly queue: string;
  /** Only these envelope ids (or SQS message ids). */
  readonly ids?: readonly string[];
  /**
   * Only envelopes whose type matches this pattern, in the dialect of routes and handler keys
   * (`lambda/shared/type-pattern.ts`: `*` one dot-free segment, `**` anything).
   */
  readonly type?: string;
  /** Only dead letters of this failure: its key as `hookline failed summary` prints it (`failure-groups.ts`). */
  readonly failure?: string;
  /** Messages per second. Move tasks accept 1-500. @default SQS's own pace (move task), unlimited (one by one) */
  readonly rate?: number;
  /** Stop after this many messages were moved (one by one only). */
  readonly limit?: number;
  /** How long a scanned message stays hidden while the scan goes on. @default DEFAULT_HOLD_SECONDS (300) */
  readonly holdSeconds?: number;
  /** Move-task polling interval. @default 2000 */
  readonly pollIntervalMs?: number;
  /** Stops a one-by-one redrive between batches (Ctrl-C); held messages are made visible again. */
  readonly signal?: AbortSignal;
  /**
   * Records the tracked jobs a one-by-one redrive sent back as `queued`. @default their job records on the
   * target (`redrivenJobsRecorder`)
   */
  readonly recordJobs?: RecordJobs;
  /**
   * The environment the job records are found through when `recordJobs` is not given (local mode's state file):
   * the command's own, never assumed to be the process's.
   */
  readonly env: Record<string, string | undefined>;
}

export interface RedriveFailure {
  readonly messageId: string;
  readonly id: string | null;
  readonly reason: string;
}

/** A debounced dead letter a redrive left because a later send of its job replaced it. */
export interface SupersededLetter {
  /** Its SQS message id in the dead-letter queue. */
  readonly messageId: string;
  /** The job's id (its envelope id). */
  readonly id: string | null;
}

export interface RedriveResult {
  readonly queue: string;
  /** `none` when the dead-letter queue was empty. */
  readonly method: 'move-task' | 'one-by-one' | 'none';
  /** Why the one-by-one path was used for a full redrive. */
  readonly fallbackReason?: string;
  /** Messages in the DLQ when the command started: visible and in flight (held by a reader), as `status` counts them. */
  readonly deadLetterDepthBefore: number;
  /**
   * Messages left in the DLQ when the command ended, counted as `status` counts them (visible and in flight), so
   * what a run moved and what it left add up to what is there (approximate on AWS, exact locally). Null when it
   * could not be read once the run ended (the endpoint went away meanwhile).
   */
  readonly deadLetterDepthAfter: number | null;
  readonly moved: number;
  /** Scanned but not selected (left in the DLQ). */
  readonly skipped: number;
  /** Selected but not moved (left in the DLQ). */
  readonly failed: number;
  /** Sent to the source, but the delete from the DLQ failed: a copy remains there (consumers are idempotent). */
  readonly notDeleted: number;
  /**
   * Sent to the source, but the call deleting them from the DLQ got no answer (the endpoint stopped, a timeout):
   * whether a copy remains there is not known. Counted in `moved`, not in `notDeleted`.
   */
  readonly deleteUnknown: number;
  /**
   * Messages moved by this run that failed again and came back to the DLQ while it ran; left there, so a
   * consumer that still fails cannot make the redrive loop forever.
   */
  readonly returned: number;
  /**
   * Selected messages that another redrive of this DLQ moved after this run started, and that came back: left in
   * the DLQ for that run to count, so two redrives at once move each message once rather than back and forth.
   */
  readonly movedByAnotherRedrive: number;
  /**
   * Ids of selected dead letters left in the DLQ because their claim-checked body is gone from the payload bucket
   * (`PayloadGoneError`): a redrive would fail them again at once, so only sending the event again from its source
   * does the work (or `failed delete` drops them). A full redrive (an SQS move task) cannot leave them and moves them too.
   */
  readonly bodyGone: readonly string[];
  /**
   * Selected debounced jobs' dead letters left in the DLQ because a later send of their job replaced them (`failed
   * show` marks them `superseded`): their consumer would skip them as `superseded`, so a redrive would run nothing,
   * and the job runs the send its record names. Each by its SQS message id, which `failed delete --id` takes to drop
   * that letter alone (a later dead letter of the same job may share its envelope id, and that one runs once
   * redriven). A full redrive (an SQS move task) reads no letter, so it cannot leave them and moves them too.
   */
  readonly superseded: readonly SupersededLetter[];
  readonly failures: readonly RedriveFailure[];
  /** Envelope ids (or SQS ids for non-envelopes) of the moved messages, one-by-one path only. */
  readonly movedIds: readonly string[];
  /** Move task: its final status and handle. */
  readonly task?: {
    readonly handle?: string;
    /** Started by another redrive and followed by this one: `moved` is that task's count, not this run's. */
    readonly followed?: boolean;
    readonly status: string;
    readonly failureReason?: string;
  };
  /** `--id` values that were not found. */
  readonly notFound: readonly string[];
  /**
   * Dead letters another reader held when a run selecting by `--type` or `--failure` started, which none of its
   * receives returned: some of them may match, and stay in the DLQ. For a run over the whole DLQ one by one, those
   * another reader held when it ended, unread and left there. Absent when there were none (an `--id` it did not read
   * is a failure, `not reached`, instead).
   */
  readonly heldByOthers?: number;
  /**
   * For a run over the whole DLQ one by one: dead letters that reached it after the run's last read found nothing
   * more there, beyond all it left and all another reader held (a message it moved that failed again once the run
   * had ended, or another failure). Absent when there were none.
   */
  readonly deadLetteredAfterTheRun?: number;
  /** The error that stopped a one-by-one redrive early (the rest stays in the DLQ). */
  readonly stoppedBy?: string;
}

/** Which envelope types a `--type` pattern selects. */
interface TypeSelector {
  test(type: string): boolean;
}

/**
 * The `--type` pattern as routes read it (so exactly `*` selects every type, as a route without a type does), or
 * a one-line error for an empty or invalid one.
 */
export function typeSelector(
  pattern: string,
  leaveOut = 'or leave --type out to redrive everything',
): TypeSelector {
  if (pattern.trim() === '') {
    throw new UsageError(
      `--type must not be empty: give an event type pattern such as "invoice.*", ${leaveOut}`,
    );
  }
  validTypePattern(pattern);
  return { test: (type) => typeMatches(pattern, type) };
}

/**
 * The `--id` values, or a one-line error for a blank one, naming the `failed list` of `listing.queue` with the target
 * flags of `listing.output`.
 */
export function idSelector(
  ids: readonly string[] | undefined,
  leaveOut = 'or leave --id out',
  listing: { readonly output: CommandHints; readonly queue: string } = { output: {}, queue: '<queue>' },
): Set<string> {
  const wanted = new Set<string>();
  for (const id of ids ?? []) {
    if (id.trim() === '') {
      throw new UsageError(
        `--id must not be empty: give envelope ids (or SQS message ids) from ${nextCommand(listing.output, `failed list ${listing.queue}`)}, ${leaveOut}`,
      );
    }
    wanted.add(id);
  }
  return wanted;
}

const TERMINAL = new Set(['COMPLETED', 'CANCELLED', 'FAILED']);

/** Moves dead-lettered messages of one queue back to it. */
export async function redrive(
  backend: Backend,
  target: Target,
  options: RedriveOptions,
): Promise<RedriveResult> {
  const { queue, scheduledFor } = redriveSourceOf(target, options.queue, backend.output);
  if (options.rate !== undefined && !(options.rate > 0)) {
    throw new CliError(`--rate must be a positive number of messages per second (got ${options.rate})`);
  }
  if (options.limit !== undefined && !(Number.isInteger(options.limit) && options.limit > 0)) {
    throw new CliError(`--limit must be a positive integer (got ${options.limit})`);
  }
  // Validate the selection before touching the queue: a blank selector must never mean "everything".
  const wantedIds = idSelector(options.ids, undefined, { output: backend.output, queue: queue.name });
  const typePattern = options.type !== undefined ? typeSelector(options.type) : undefined;
  const failureTest = optionalFailureSelector(options.failure, { output: backend.output, queue: queue.name });
  const filtering = wantedIds.size > 0 || typePattern !== undefined || failureTest !== undefined;
  const selective = filtering || options.limit !== undefined;
  // Only a move task has SQS's limits; a schedule's dead letters always go one by one, at any pace.
  const viaMoveTask = !selective && scheduledFor === undefined;
  if (viaMoveTask && options.rate !== undefined && (options.rate > 500 || !Number.isInteger(options.rate))) {
    throw new CliError(
      `--rate for a full redrive is a whole number from 1 to 500 (SQS move task limit), got ${options.rate}`,
    );
  }
  const context = { ...contextOf(target, queue.name), paced: true };
  try {
    const before = await queueDepth(backend.sqs, queue.deadLetterUrl);
    if (before.visible + before.inFlight + before.delayed === 0) {
      if (filtering) throw nothingMatched(backend.output, queue.name, options);
      return emptyResult(queue.name);
    }
    const selection = {
      wantedIds,
      heldByOthers: before.inFlight,
      context,
      explain: (error: unknown) => explainError(error, context),
      ...(typePattern ? { typePattern } : {}),
      ...(failureTest ? { failureTest } : {}),
      ...(scheduledFor ? { scheduledFor, queues: Object.values(target.queues) } : {}),
    };
    const result = await withJobsRecorder(
      options.recordJobs,
      () => redrivenJobsRecorder(backend, target, options.env),
      (recordJobs) =>
        moveDeadLetters(backend, queue, { ...options, recordJobs }, before.visible, selective, selection),
    );
    // Left because their body is gone or a later send replaced them: matched, and the summary says why they stayed.
    const leftAlone =
      result.returned + result.movedByAnotherRedrive + result.bodyGone.length + result.superseded.length;
    if (filtering && result.moved + result.failed === 0 && leftAlone === 0 && !result.stoppedBy) {
      // Held before this run read anything: another reader holds them, so they went unread, not absent.
      throw nothingMatched(backend.output, queue.name, options, before.inFlight);
    }
    // A run that did something reports it even when the endpoint is gone by now (local mode stopped, a network
    // failure): the summary says what moved, and the count it cannot read is said to be unknown.
    const didSomething =
      result.moved + result.failed + result.notDeleted + result.deleteUnknown > 0 ||
      result.stoppedBy !== undefined;
    const after = await queueDepth(backend.sqs, queue.deadLetterUrl).catch((error: unknown) => {
      if (!didSomething) throw error;
      return undefined;
    });
    const held = selective ? {} : heldWhenTheRunEnded(result, after);
    return {
      ...result,
      ...held,
      ...(selective ? {} : deadLetteredAfterTheRun(result, after, held.heldByOthers ?? 0)),
      deadLetterDepthBefore: dead(before),
      deadLetterDepthAfter: after === undefined ? null : dead(after),
    };
  } catch (error) {
    throw explainError(error, context);
  }
}

/**
 * A whole-DLQ run one by one reads until a receive returns nothing, so what another reader (a `failed delete`, the
 * console, a `failed list`) held by then stays unread, though the run ended without an error. Counted once this
 * run's own holds are handed back: what the DLQ still has in flight is someone else's, but for the dead letters this
 * run sent and SQS would not delete, which stay hidden under this run's receive until its hold ends.
 */
function heldWhenTheRunEnded(result: MoveResult, after: QueueDepth | undefined): { heldByOthers?: number } {
  if (result.method !== 'one-by-one' || result.stoppedBy !== undefined || !after) return {};
  const others = after.inFlight - result.notDeleted;
  return others > 0 ? { heldByOthers: others } : {};
}

/**
 * What a whole-DLQ run one by one finds there at its end beyond what it accounts for: it read until a receive
 * returned nothing, so a dead letter it neither left (failed, skipped, came back while it ran, not deleted...) nor
 * saw held by another reader reached the DLQ after that read. The run cannot tell whether it is one it moved that
 * failed again or another failure; the count is certain, which one it is is not.
 */
function deadLetteredAfterTheRun(
  result: MoveResult,
  after: QueueDepth | undefined,
  heldByOthers: number,
): { deadLetteredAfterTheRun?: number } {
  if (result.method !== 'one-by-one' || result.stoppedBy !== undefined || !after || result.moved === 0)
    return {};
  const leftByTheRun =
    result.returned +
    result.skipped +
    result.failed +
    result.notDeleted +
    result.deleteUnknown +
    result.movedByAnotherRedrive +
    result.bodyGone.length +
    result.superseded.length;
  const arrived = dead(after) - leftByTheRun - heldByOthers;
  return arrived > 0 ? { deadLetteredAfterTheRun: arrived } : {};
}

/** Messages in a DLQ as `status` counts them: a dead letter a reader holds is still there. */
const dead = (depth: QueueDepth) => depth.visible + depth.inFlight;

/** The move itself: a move task for everything where the endpoint has them, else one by one. */
async function moveDeadLetters(
  backend: Backend,
  queue: QueueTarget,
  options: RedriveOptions,
  visible: number,
  selective: boolean,
  selection: Selection & { readonly context: ErrorContext },
): Promise<MoveResult> {
  if (selective) return redriveOneByOne(backend, queue, options, visible, undefined, selection);
  if (selection.scheduledFor) {
    // SQS move tasks take only a dead-letter queue of SQS queues, and Scheduler, not a queue, fills this one.
    const reason = `SQS moves only the dead-letter queue of an SQS queue, and EventBridge Scheduler fills ${queue.name}'s`;
    return redriveOneByOne(backend, queue, options, visible, reason, selection);
  }
  const viaTask = await redriveWithMoveTask(backend, queue, options, visible, selection.context);
  if (viaTask.kind === 'done') return viaTask.result;
  // Why it goes one by one is said once, in the summary (and --json's fallbackReason).
  return redriveOneByOne(backend, queue, options, visible, viaTask.reason, { explain: selection.explain });
}

/**
 * What a redrive of the dead-letter queue `name` (as `failed list` takes it) reads and where it sends: a queue's
 * DLQ back to its queue; a schedule's DLQ, under its own name, to the queue the schedule sends to
 * (`scheduledFor`). Throws, before anything is touched, for an unknown name or a DLQ that has no one queue to go
 * back to (the job schedules'), saying why, with commands carrying the target flags of `output`. The CLI and the
 * console both ask here.
 */
export function redriveSourceOf(
  target: Target,
  name: string,
  output: CommandHints = {},
): { queue: QueueTarget; scheduledFor?: QueueTarget } {
  const deadLetterQueue = deadLetterQueueOf(target, name);
  if (deadLetterQueue.url !== undefined) return { queue: queueOf(target, name) };
  return scheduleRedrive(target, deadLetterQueue, output);
}

/**
 * A dead-letter queue Scheduler fills, as a redrive takes it: the queue its messages were meant for, read from the
 * DLQ and sent there (under the DLQ's name), or, for the job schedules' one, why there is none.
 */
function scheduleRedrive(
  target: Target,
  deadLetterQueue: DeadLetterQueueTarget,
  output: CommandHints,
): { queue: QueueTarget; scheduledFor: QueueTarget } {
  if (deadLetterQueue.redriveTo === undefined)
    throw deadLetterQueue.name === BREAKER_SCHEDULES
      ? breakerSchedulesNotRedriven(output)
      : jobSchedulesNotRedriven(output);
  const destination = queueOf(target, deadLetterQueue.redriveTo);
  return {
    scheduledFor: destination,
    queue: {
      name: deadLetterQueue.name,
      url: destination.url,
      arn: destination.arn,
      deadLetterUrl: deadLetterQueue.deadLetterUrl,
      deadLetterArn: deadLetterQueue.deadLetterArn,
      fifo: destination.fifo,
    },
  };
}

/**
 * The job schedules' dead-letter queue belongs to no queue: SQS has no source to move its messages back to, and
 * each names its own target in Scheduler's message attributes. Said before anything is touched.
 */
function jobSchedulesNotRedriven(output: CommandHints): CliError {
  return new CliError(
    `the ${JOB_SCHEDULES} dead-letter queue cannot be redriven: it holds one-time jobs that EventBridge Scheduler could not deliver, each to its own queue, so there is no one queue to move them back to. ` +
      `Read why with ${nextCommand(output, `failed show ${JOB_SCHEDULES} <id>`)} (attributes ERROR_CODE and ERROR_MESSAGE; TARGET_ARN names the job's queue), fix that, then ${JOB_SCHEDULES_RESEND}`,
  );
}

/**
 * The circuit breakers' schedules' dead-letter queue belongs to no queue either: what it holds was meant for the
 * breaker function, and a probe delivered late would act on a circuit an operator may since have ended.
 */
function breakerSchedulesNotRedriven(output: CommandHints): CliError {
  return new CliError(
    `the ${BREAKER_SCHEDULES} dead-letter queue cannot be redriven: it holds circuit breaker probes and closes that EventBridge Scheduler could not deliver to the breaker function, not messages of a queue. ` +
      `Read why with ${nextCommand(output, `failed show ${BREAKER_SCHEDULES} <id>`)} (attributes ERROR_CODE and ERROR_MESSAGE; it names the queue whose breaker the probe or close was for, read from the message), fix that, then ${BREAKER_SCHEDULES_RECOVER}`,
  );
}

function emptyResult(queue: string): RedriveResult {
  return {
    queue,
    method: 'none',
    deadLetterDepthBefore: 0,
    deadLetterDepthAfter: 0,
    moved: 0,
    skipped: 0,
    failed: 0,
    notDeleted: 0,
    deleteUnknown: 0,
    returned: 0,
    movedByAnotherRedrive: 0,
    bodyGone: [],
    superseded: [],
    failures: [],
    movedIds: [],
    notFound: [],
  };
}

/** What a move reports; the command adds the DLQ depth it left. */
type MoveResult = Omit<RedriveResult, 'deadLetterDepthAfter'>;

type TaskOutcome = { kind: 'done'; result: MoveResult } | { kind: 'unavailable'; reason: string };

const latestTask = (backend: Backend, sourceArn: string) => latestMoveTask(backend.sqs, sourceArn);

/**
 * Starts the move task, or follows the one another redrive runs: SQS runs one move task per source queue at a
 * time, so a second run would otherwise fail, or (on an answer that reads as "unsupported") fall back to moving
 * one by one alongside that task.
 */
async function startOrFollowTask(
  backend: Backend,
  queue: QueueTarget,
  options: RedriveOptions,
): Promise<{ handle?: string; followed: boolean } | { unavailable: string }> {
  const follow = (running: ListMessageMoveTasksResultEntry) => {
    backend.output.note(
      `a move task another redrive started is already running for the ${queue.name} dead-letter queue: following it`,
    );
    return { ...(running.TaskHandle ? { handle: running.TaskHandle } : {}), followed: true };
  };
  try {
    const running = await latestTask(backend, queue.deadLetterArn);
    if (running?.Status === 'RUNNING') return follow(running);
  } catch (error) {
    if (isUnsupportedAction(error)) return { unavailable: MOVE_TASKS_UNAVAILABLE };
    throw error;
  }
  try {
    const started = await backend.sqs.send(
      new StartMessageMoveTaskCommand({
        SourceArn: queue.deadLetterArn,
        DestinationArn: queue.arn,
        ...(options.rate !== undefined ? { MaxNumberOfMessagesPerSecond: options.rate } : {}),
      }),
    );
    return { ...(started?.TaskHandle ? { handle: started.TaskHandle } : {}), followed: false };
  } catch (error) {
    // Another redrive started its task between this run's look and its start.
    const running = await latestTask(backend, queue.deadLetterArn).catch(() => undefined);
    if (running?.Status === 'RUNNING') return follow(running);
    if (isUnsupportedAction(error)) return { unavailable: MOVE_TASKS_UNAVAILABLE };
    if (/already|one active/i.test(error instanceof Error ? error.message : String(error))) {
      throw new CliError(
        `SQS refused to start a move task for the ${queue.name} dead-letter queue: another one was running (SQS runs one per queue at a time) and has ended since; run ${nextCommand(backend.output, `redrive ${queue.name}`)} again for what is left`,
      );
    }
    throw error;
  }
}

const MOVE_TASKS_UNAVAILABLE = 'StartMessageMoveTask is not available on this endpoint';

async function redriveWithMoveTask(
  backend: Backend,
  queue: QueueTarget,
  options: RedriveOptions,
  depthBefore: number,
  context: ErrorContext,
): Promise<TaskOutcome> {
  const { output, clock } = backend;
  const start = await startOrFollowTask(backend, queue, options);
  if ('unavailable' in start) return { kind: 'unavailable', reason: start.unavailable };
  const { handle, followed } = start;
  const progress = output.progress(`moved to ${queue.name}`, depthBefore);
  let task: ListMessageMoveTasksResultEntry | undefined;
  let interrupted = false;
  for (;;) {
    task = await latestTask(backend, queue.deadLetterArn);
    if (!task) break;
    const moved = task.ApproximateNumberOfMessagesMoved ?? 0;
    progress.update(moved, task.ApproximateNumberOfMessagesToMove ?? depthBefore);
    if (TERMINAL.has(task.Status ?? '')) break;
    // Only the following stops: the task itself runs on in SQS, and a second run follows it again.
    interrupted = options.signal?.aborted === true;
    if (interrupted) break;
    await clock.sleep(options.pollIntervalMs ?? 2_000);
  }
  const status = task?.Status ?? 'UNKNOWN';
  const moved = task?.ApproximateNumberOfMessagesMoved ?? 0;
  const toMove = task?.ApproximateNumberOfMessagesToMove ?? depthBefore;
  progress.done();
  const failed = status === 'COMPLETED' || interrupted ? 0 : Math.max(0, toMove - moved);
  const failureReason = task?.FailureReason;
  // SQS's reason alone (`AccessDenied`) says neither whose access nor to what: the explanation names both.
  const explained =
    failureReason &&
    explainMoveTaskFailure(failureReason, {
      ...context,
      queue: queue.name,
      deadLetterArn: queue.deadLetterArn,
      rerun: nextCommand(output, `redrive ${queue.name}`),
    });
  return {
    kind: 'done',
    result: {
      queue: queue.name,
      method: 'move-task',
      deadLetterDepthBefore: depthBefore,
      moved,
      skipped: 0,
      failed,
      notDeleted: 0,
      deleteUnknown: 0,
      returned: 0,
      movedByAnotherRedrive: 0,
      bodyGone: [],
      superseded: [],
      failures: explained ? [{ messageId: '', id: null, reason: explained }] : [],
      movedIds: [],
      task: {
        ...(handle ? { handle } : {}),
        ...(followed ? { followed } : {}),
        status,
        ...(failureReason ? { failureReason } : {}),
      },
      notFound: [],
      ...(interrupted ? { stoppedBy: 'Interrupted: stopped following the move task by Ctrl-C' } : {}),
    },
  };
}

const FAILURE_ATTRIBUTE_NAMES: ReadonlySet<string> = new Set(Object.values(FAILURE_ATTRIBUTES));

/**
 * Message attributes to carry back: everything except the consumer's failure annotations and the marker of an
 * earlier redrive run (this run sets its own).
 */
export function attributesToKeep(
  attributes: Readonly<Record<string, MessageAttributeValue>> | undefined,
): Record<string, MessageAttributeValue> {
  const kept: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (FAILURE_ATTRIBUTE_NAMES.has(name) || name.startsWith('hookline.error.')) continue;
    // Scheduler's reason for giving up: carried back, it would read as the reason of a later dead-lettering.
    if (SCHEDULER_DEAD_LETTER_ATTRIBUTES.has(name)) continue;
    if (name === MESSAGE_ATTRIBUTES.redrive) continue;
    kept[name] = {
      DataType: value.DataType,
      ...(value.StringValue !== undefined ? { StringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { BinaryValue: value.BinaryValue } : {}),
    };
  }
  return kept;
}

/**
 * The attributes of a message sent back by run `runId` at `movedAt`: the kept ones plus the run's marker, when
 * SQS's limit leaves room for it (a message without it is still recognised by its new SQS id, which SQS keeps
 * when it dead-letters the message after maxReceiveCount).
 */
function markedAttributes(
  message: Message,
  runId: string,
  movedAt: number,
): Record<string, MessageAttributeValue> {
  const kept = attributesToKeep(message.MessageAttributes);
  if (Object.keys(kept).length >= MAX_MESSAGE_ATTRIBUTES) return kept;
  const marker = redriveMarker(runId, movedAt);
  return { [MESSAGE_ATTRIBUTES.redrive]: { DataType: 'String', StringValue: marker }, ...kept };
}

/**
 * The `hookline.redrive` value: the run's id and when it sent the message (ms, base 36), in one attribute so it
 * takes no more of SQS's 10 than before, and a consumer that dead-letters the message keeps both. Another run
 * reads the time to leave alone what a redrive moved while it runs.
 */
export function redriveMarker(runId: string, movedAt: number): string {
  return `${runId}@${movedAt.toString(36)}`;
}

/** A message's redrive marker: the run that last moved it and, unless an older version wrote it, when. */
export function redriveMarkOf(message: Message): { runId: string; movedAt?: number } | undefined {
  const value = message.MessageAttributes?.[MESSAGE_ATTRIBUTES.redrive]?.StringValue;
  if (value === undefined) return undefined;
  const at = value.lastIndexOf('@');
  const movedAt = at === -1 ? Number.NaN : Number.parseInt(value.slice(at + 1), 36);
  if (!Number.isFinite(movedAt)) return { runId: value };
  return { runId: value.slice(0, at), movedAt };
}

/**
 * On a standard queue, a fair queue's message goes back in its tenant's message group. SQS fair queues take each
 * message without a group for a tenant of its own, so a redriven backlog of one tenant would pass for many quiet
 * tenants, served first.
 */
function tenantGroupOf(message: Message): { MessageGroupId?: string } {
  const tenant = recordedTenantOf(message);
  return tenant ? { MessageGroupId: tenant } : {};
}

/** Why a selected FIFO message stays: an earlier message of its group stays, `why` it does. */
function behind(group: string | undefined, why: string): string {
  return `behind an earlier message of FIFO group ${group} ${why}`;
}

/** Why a selected FIFO message stays behind an earlier one of its group that was not selected. */
const NOT_SELECTED = 'that stays in the DLQ (group order is kept): select that one too';

/** Why a selected FIFO message stays behind an earlier one of its group that another redrive is moving. */
const MOVED_BY_ANOTHER_REDRIVE =
  'that another redrive running at the same time moved (group order is kept): run it again once that one ends';

/**
 * Why the later messages of a FIFO group stay when SQS refused an earlier one's send (SQS returns no more of the
 * group while that one is held, so only the batch it came in needs this).
 */
const NOT_TAKEN = 'that SQS did not take, so it stays in the DLQ (group order is kept): redrive them again';

/**
 * A FIFO batch as sends that each carry at most one message of a group, in order: SQS may take some entries of a
 * batch and refuse others, and a later message of a group sent with a refused one would move past it.
 */
function roundsByGroup(outgoing: readonly Outgoing[]): Outgoing[][] {
  const rounds: Outgoing[][] = [];
  const counts = new Map<string | undefined, number>();
  for (const t of outgoing) {
    const group = t.entry.MessageGroupId;
    const index = counts.get(group) ?? 0;
    counts.set(group, index + 1);
    const round = rounds[index];
    if (round) round.push(t);
    else rounds.push([t]);
  }
  return rounds;
}

function randomRunId(now: number): string {
  return `${now.toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

/** A dead-lettered message chosen to move, with the send entry made for it. */
interface Outgoing {
  readonly message: Message;
  /** The message read as a dead letter, once, when it was selected. */
  readonly letter: DeadLetter;
  readonly entry: SendMessageBatchRequestEntry;
  readonly id: string | null;
}

/** A message the source queue accepted, with the SQS id it got there. */
interface Sent {
  readonly outgoing: Outgoing;
  readonly sentId: string | undefined;
}

/** Which messages a one-by-one redrive moves: `--id` values and a compiled `--type` pattern. */
interface Selection {
  readonly wantedIds?: ReadonlySet<string>;
  readonly typePattern?: TypeSelector;
  /** `--failure`: whether a dead letter is of the failure asked for. */
  readonly failureTest?: (letter: DeadLetter) => boolean;
  /**
   * A schedule's dead-letter queue: the queue its schedule sends to now. A delivery Scheduler meant for another
   * queue (the schedule was pointed elsewhere since) stays in the DLQ.
   */
  readonly scheduledFor?: QueueTarget;
  /** The target's queues, to name the one Scheduler meant a delivery for when the schedule sends elsewhere now. */
  readonly queues?: readonly QueueTarget[];
  /** Dead letters another reader held when the run started: no receive of this run returns them. */
  readonly heldByOthers?: number;
  /** The error that stopped the run, in the operator's terms for the target (`stoppedBy`). */
  readonly explain?: (error: unknown) => unknown;
}

/** What a one-by-one redrive has done so far, counted by named outcomes. */
class RedriveTally {
  moved = 0;
  /** Scanned but not selected. */
  skipped = 0;
  failed = 0;
  notDeleted = 0;
  deleteUnknown = 0;
  returned = 0;
  movedByAnotherRedrive = 0;
  readonly bodyGone: string[] = [];
  readonly superseded: SupersededLetter[] = [];
  readonly failures: RedriveFailure[] = [];
  readonly movedIds: string[] = [];
  /** SQS message ids the source queue gave the messages this run moved. */
  private readonly sentIds = new Set<string>();

  /** `scan` holds every message the run leaves in the DLQ until it ends. */
  constructor(private readonly scan: DeadLetterScan) {}

  /** Keeps the message hidden until the end of the run. */
  hold(message: Message): void {
    this.scan.hold(message);
  }

  /**
   * Whether this run moved the message itself: it carries the run's marker (a consumer that dead-letters it
   * keeps the marker), or the SQS id the source queue gave it (SQS keeps that id when it dead-letters it).
   * Another copy of the same event is not this run's message.
   */
  wasMovedByRun(message: Message, runId: string): boolean {
    return redriveMarkOf(message)?.runId === runId || this.sentIds.has(message.MessageId ?? '');
  }

  /** Moved by another redrive after this run started (so while it runs) and dead-lettered again: left alone. */
  leftToAnotherRedrive(message: Message): void {
    this.movedByAnotherRedrive++;
    this.hold(message);
  }

  /** Selected, but its stored body is gone: moving it would only dead-letter it again. */
  leftBodyGone(message: Message, id: string): void {
    this.bodyGone.push(id);
    this.hold(message);
  }

  /** Selected, but a later send of its debounced job replaced it: moved, it would only be skipped as superseded. */
  leftSuperseded(message: Message, id: string | null): void {
    this.superseded.push({ messageId: message.MessageId ?? '', id });
    this.hold(message);
  }

  /** Moved earlier in this run and dead-lettered again: the consumer still fails on it. */
  cameBack(message: Message): void {
    this.returned++;
    this.hold(message);
  }

  skip(message: Message): void {
    this.skipped++;
    this.hold(message);
  }

  /** Selected but stays in the DLQ. */
  fail(message: Message, id: string | null, reason: string, messageId = message.MessageId ?? ''): void {
    this.failed++;
    this.failures.push({ messageId, id, reason });
    this.hold(message);
  }

  /** Selected but never received: stays in the DLQ. */
  notReached(id: string, reason: string): void {
    this.failed++;
    this.failures.push({ messageId: '', id, reason });
  }

  /** Sent to the source queue, which gave it the SQS id `sentId`. */
  move(outgoing: Outgoing, sentId: string | undefined): void {
    this.moved++;
    this.movedIds.push(outgoing.id ?? outgoing.message.MessageId ?? '');
    if (sentId) this.sentIds.add(sentId);
  }
}

/**
 * One redrive that moves messages one by one: receive from the DLQ, select, send to the source, and only then
 * delete from the DLQ.
 */
class OneByOneRedrive {
  private readonly scan: DeadLetterScan;
  private readonly tally: RedriveTally;
  private readonly selection: DeadLetterSelection;
  private readonly scheduledFor: QueueTarget | undefined;
  private readonly queues: readonly QueueTarget[];
  private readonly heldByOthers: number;
  private readonly filtering: boolean;
  /** Selected by `--type` or `--failure`: what another reader held may match, unlike a listed `--id`. */
  private readonly selectsByContent: boolean;
  /**
   * Unique per run, stable within it: a FIFO resend after a lost answer is then deduplicated by SQS, while a
   * message that comes back to the DLQ and is redriven again later is not mistaken for a duplicate.
   */
  private readonly runId: string;
  /** FIFO: a group is moved in order, so nothing moves past a message that stays behind. */
  private readonly blockedGroups = new Map<string, string>();
  private readonly startedAt: number;
  /** Messages sent so far under `--rate`. */
  private paced = 0;
  /** `--id` values the scan saw the whole DLQ without finding. */
  private readonly notFound: string[] = [];
  /** Whether recording redriven jobs failed once: the rest of the run leaves their records as they are. */
  private unrecordedJobs = false;
  private readonly explain: (error: unknown) => unknown;

  constructor(
    private readonly backend: Backend,
    private readonly queue: QueueTarget,
    private readonly options: RedriveOptions,
    private readonly depthBefore: number,
    selection: Selection,
  ) {
    const { typePattern, failureTest } = selection;
    this.selection = new DeadLetterSelection(
      selection.wantedIds ?? new Set<string>(),
      typePattern && ((type) => typePattern.test(type)),
      failureTest,
    );
    this.scheduledFor = selection.scheduledFor;
    this.explain = selection.explain ?? ((error) => error);
    this.queues = selection.queues ?? [];
    this.heldByOthers = selection.heldByOthers ?? 0;
    this.selectsByContent = typePattern !== undefined || failureTest !== undefined;
    this.filtering = this.selection.wantedIds.size > 0 || this.selectsByContent;
    this.startedAt = backend.clock.now();
    this.runId = randomRunId(this.startedAt);
    this.scan = commandScan(backend, queue.deadLetterUrl, options, {
      label: this.filtering
        ? `scanned in the ${queue.name} DLQ`
        : `moved to ${this.scheduledFor?.name ?? queue.name}`,
      depth: depthBefore,
      queue: queue.name,
    });
    this.tally = new RedriveTally(this.scan);
  }

  async run(fallbackReason?: string): Promise<MoveResult> {
    await this.scan.run({
      batchSize: () => this.batchSize(),
      finished: () => this.finished(),
      act: async (fresh) => {
        const outgoing = await this.withoutSupersededSends(this.select(fresh));
        return outgoing.length === 0 || (await this.move(outgoing));
      },
      done: () => (this.filtering ? this.scan.scanned : this.tally.moved),
    });
    this.accountForUnseenIds();
    return this.report(fallbackReason);
  }

  /**
   * Whether the run should end before the next receive (besides Ctrl-C): at `--limit`, or every `--id` found as
   * an SQS message id (`DeadLetterSelection.allFound`: each copy of an envelope id moves).
   */
  private finished(): boolean {
    return this.atLimit() || this.selection.allFound();
  }

  private atLimit(): boolean {
    return this.options.limit !== undefined && this.tally.moved >= this.options.limit;
  }

  /**
   * Counts each `--id` the scan never received: not reached when the scan could not get to it (interrupted, at
   * `--limit`, or behind a held message of a FIFO group), else not found.
   */
  private accountForUnseenIds(): void {
    for (const id of this.selection.unseenIds()) {
      const reason = this.whyNotReached();
      if (reason === undefined) this.notFound.push(id);
      else this.tally.notReached(id, reason);
    }
  }

  /** Why the scan may have missed a message, or undefined when it saw the whole DLQ. */
  private whyNotReached(): string | undefined {
    const { scan } = this;
    if (scan.interrupted) return 'not reached: the run was interrupted first';
    if (scan.stopped !== undefined) return 'not reached: the run stopped on an error first';
    if (this.atLimit()) return `not reached: --limit ${this.options.limit} was reached first`;
    // SQS returns none of a FIFO group's later messages while an earlier one is held, so the ones this scan
    // did not receive can only be behind the held groups.
    if (this.queue.fifo && scan.heldGroups.size > 0 && scan.scanned < this.depthBefore) {
      const groups = [...scan.heldGroups];
      return groups.length === 1
        ? `not reached: behind an earlier message of FIFO group ${groups[0]} that stays in the DLQ (SQS returns no later message of a group while an earlier one stays), if it is in the DLQ at all: select that one too`
        : `not reached: behind an earlier message of one of the FIFO groups ${groups.join(', ')} that stay in the DLQ (SQS returns no later message of a group while an earlier one stays), if it is in the DLQ at all: select those too`;
    }
    // A redrive stopped at once holds what it scanned for a while (`DEFAULT_HOLD_SECONDS`): the id may be one of those.
    if (this.heldByOthers > 0) {
      return notReachedWhileHeld(this.heldByOthers);
    }
    return undefined;
  }

  /** How many messages the next receive takes: no more than `--limit` leaves room for, nor `--rate` a second. */
  private batchSize(): number {
    const { rate, limit } = this.options;
    const room = limit !== undefined ? limit - this.tally.moved : 10;
    return Math.min(10, room, rate !== undefined ? Math.max(1, Math.floor(rate)) : 10);
  }

  /** The fresh messages to send; every other one is counted and held. */
  private select(fresh: readonly Message[]): Outgoing[] {
    const outgoing: Outgoing[] = [];
    for (const m of fresh) {
      const entry = this.selectOne(m, String(outgoing.length));
      if (entry) outgoing.push(entry);
    }
    return outgoing;
  }

  private selectOne(m: Message, entryId: string): Outgoing | undefined {
    const { queue, tally } = this;
    const letter = describeDeadLetter(m);
    const id = letter.event.id ?? null;
    if (tally.wasMovedByRun(m, this.runId)) {
      tally.cameBack(m);
      return undefined;
    }
    const selected = this.selection.selects(letter);
    const group = letter.messageGroupId;
    const blockedBy = group !== undefined ? this.blockedGroups.get(group) : undefined;
    if (selected && queue.fifo && blockedBy !== undefined) {
      // Selected, but moving it would put it ahead of an earlier message of its group that stays.
      tally.fail(m, id, behind(group, blockedBy), letter.messageId);
      return undefined;
    }
    if (!selected) {
      if (queue.fifo && group !== undefined) this.blockedGroups.set(group, NOT_SELECTED);
      tally.skip(m);
      return undefined;
    }
    if (this.movedWhileRunning(m)) {
      if (queue.fifo && group !== undefined) this.blockedGroups.set(group, MOVED_BY_ANOTHER_REDRIVE);
      tally.leftToAnotherRedrive(m);
      return undefined;
    }
    if (queue.fifo && group === undefined) {
      tally.fail(m, id, 'FIFO message without MessageGroupId', letter.messageId);
      return undefined;
    }
    if (letter.failure.errorName === PAYLOAD_GONE_ERROR) {
      // Later messages of its group may move: it fails at once, so it holds no order back.
      tally.leftBodyGone(m, id ?? letter.messageId);
      return undefined;
    }
    const meantFor = letter.messageAttributes[SCHEDULER_TARGET_ATTRIBUTE]?.StringValue;
    if (this.scheduledFor && meantFor !== undefined && meantFor !== this.scheduledFor.arn) {
      const reason = this.meantElsewhere(meantFor, this.scheduledFor);
      tally.fail(m, id, reason, letter.messageId);
      return undefined;
    }
    return { message: m, letter, id, entry: this.sendEntry(m, entryId, letter.messageId, group) };
  }

  /**
   * Whether another redrive moved the message at or after this run started. That run is likely still running and
   * counts it as came back; moving it again would bounce it between the two while its consumer fails. What a
   * finished, earlier run moved (or a marker without a time, from an older version) moves as before.
   */
  private movedWhileRunning(m: Message): boolean {
    const movedAt = redriveMarkOf(m)?.movedAt;
    return movedAt !== undefined && movedAt >= this.startedAt;
  }

  /**
   * Why a delivery Scheduler meant for another queue stays: that queue, when the target still has it, or else
   * that it is gone (a queue removed from the configuration), so there is nowhere to send it back to.
   */
  private meantElsewhere(meantFor: string, scheduledFor: QueueTarget): string {
    const now = `not the ${scheduledFor.name} queue the schedule sends to now`;
    const queue = this.queues.find((q) => q.arn === meantFor);
    if (queue) {
      return `Scheduler meant it for the ${queue.name} queue (${meantFor}), ${now}: send it there yourself, or leave it`;
    }
    return `Scheduler meant it for ${meantFor}, ${now}, and that queue is no longer in the pipeline: there is nowhere to send it back to; leave it to expire with the dead-letter queue's retention, or empty the queue with ${nextCommand(this.backend.output, `purge ${this.queue.name} --dlq`)}`;
  }

  private sendEntry(
    m: Message,
    entryId: string,
    messageId: string,
    group: string | undefined,
  ): SendMessageBatchRequestEntry {
    return {
      Id: entryId,
      MessageBody: m.Body ?? '',
      MessageAttributes: markedAttributes(m, this.runId, this.backend.clock.now()),
      ...(this.queue.fifo
        ? {
            MessageGroupId: group,
            MessageDeduplicationId: `redrive-${this.runId}-${messageId}`.slice(0, 128),
          }
        : tenantGroupOf(m)),
    };
  }

  /**
   * `outgoing` without the debounced sends a later send of their job replaced (`debouncedSendSuperseded`, read from
   * the job records as `failed show` reads them): their consumer would skip them as `superseded`, so moving them
   * runs nothing; they stay in the DLQ, counted with their ids. Skipped at once once moved, such a letter holds no
   * FIFO group's order back, as a letter whose body is gone. A record that cannot be read moves its letter.
   */
  private async withoutSupersededSends(outgoing: readonly Outgoing[]): Promise<Outgoing[]> {
    const replaced = this.options.recordJobs?.replacedDebouncedSend;
    const superseded = await Promise.all(outgoing.map((t) => debouncedSendSuperseded(t.letter, replaced)));
    return outgoing.filter((t, n) => {
      if (superseded[n] !== true) return true;
      this.tally.leftSuperseded(t.message, t.id);
      return false;
    });
  }

  /** Paces, sends and deletes one batch; false when a send failed and the run must stop. */
  private async move(outgoing: readonly Outgoing[]): Promise<boolean> {
    await this.pace(outgoing.length);
    if (this.scan.interrupt()) {
      // Interrupted while waiting for --rate: nothing of this batch was sent, so it goes back like the rest.
      for (const t of outgoing) this.tally.hold(t.message);
      return false;
    }
    // Ten large messages received together may not fit one send: SQS refuses a batch above its size whole.
    const rounds = (this.queue.fifo ? roundsByGroup(outgoing) : [outgoing]).flatMap((round) =>
      sqsBatches(round, (t) => entryBytes(t.entry)),
    );
    /** FIFO groups of this batch with a message SQS did not take: their later messages stay too. */
    const refused = new Set<string | undefined>();
    for (const [index, round] of rounds.entries()) {
      const sendable: Outgoing[] = [];
      for (const t of round) {
        const group = t.entry.MessageGroupId;
        if (refused.has(group)) this.tally.fail(t.message, t.id, behind(group, NOT_TAKEN));
        else sendable.push(t);
      }
      if (sendable.length === 0) continue;
      const jobs = await this.readRedrivenJobs(sendable);
      const sentAt = new Date(this.backend.clock.now());
      const sent = await this.send(sendable);
      if (sent) {
        const taken = new Set(sent.map((s) => s.outgoing));
        for (const t of sendable) if (!taken.has(t)) refused.add(t.entry.MessageGroupId);
        await this.recordRedrivenJobs(
          sent.flatMap(({ outgoing }) => jobs.get(outgoing) ?? []),
          sentAt,
        );
      }
      if (!sent || (sent.length > 0 && !(await this.delete(sent)))) {
        // What this batch did not send yet stays in the DLQ: counted as failed, with the reason the run stopped.
        for (const t of rounds.slice(index + 1).flat())
          this.tally.fail(t.message, t.id, errorLine(this.scan.stopped));
        return false;
      }
    }
    return true;
  }

  /**
   * Tells the records of the jobs just sent back that they wait in their queue again, rather than that they are
   * dead-lettered until they start. Best effort: the messages moved whatever the records say, so a failure is a
   * note (once a run), never a failed redrive.
   */
  private async recordRedrivenJobs(jobs: readonly RedrivenJob[], sentAt: Date): Promise<void> {
    if (jobs.length === 0 || this.unrecordedJobs) return;
    try {
      await this.options.recordJobs?.(jobs, sentAt);
    } catch (error) {
      this.unrecorded(error);
    }
  }

  /**
   * The tracked jobs among `sendable`, each with what its record says just before the send (`RecordJobs.prepare`):
   * the record after the send compares with that, not with this machine's clock. Best effort, as the record is.
   */
  private async readRedrivenJobs(sendable: readonly Outgoing[]): Promise<Map<Outgoing, RedrivenJob>> {
    const jobs = new Map<Outgoing, RedrivenJob>();
    for (const t of sendable) {
      const job = trackedJobOf(t.letter, this.queue.name);
      if (job) jobs.set(t, job);
    }
    const prepare = this.options.recordJobs?.prepare;
    if (jobs.size === 0 || this.unrecordedJobs || !prepare) return jobs;
    try {
      const read = await prepare([...jobs.values()]);
      for (const [n, t] of [...jobs.keys()].entries()) {
        const job = read[n];
        if (job) jobs.set(t, job);
      }
    } catch (error) {
      this.unrecorded(error);
    }
    return jobs;
  }

  /** Once a run: its job records could not be read or written, so they say dead-lettered until the jobs start. */
  private unrecorded(error: unknown): void {
    this.unrecordedJobs = true;
    this.backend.output.note(
      `could not record redriven jobs as queued again (hookline jobs show says dead-lettered until they start): ${errorLine(error)}`,
    );
  }

  /** Waits until `--rate` allows `count` more messages. */
  private async pace(count: number): Promise<void> {
    const { rate } = this.options;
    if (rate === undefined) return;
    await untilRateAllows(this.backend.clock, this.startedAt, this.paced, rate, this.options.signal);
    this.paced += count;
  }

  /**
   * Sends the batch to the source queue: the messages it accepted with the SQS id each got there, or undefined
   * when the whole call failed.
   */
  private async send(outgoing: readonly Outgoing[]): Promise<Sent[] | undefined> {
    const { tally } = this;
    let sent: SendMessageBatchCommandOutput;
    try {
      sent = await this.backend.sqs.send(
        new SendMessageBatchCommand({ QueueUrl: this.queue.url, Entries: outgoing.map((t) => t.entry) }),
      );
    } catch (error) {
      // Nothing of this batch was deleted: it stays in the DLQ. Stop, release, report.
      for (const t of outgoing) tally.fail(t.message, t.id, errorLine(error));
      this.scan.stop(error);
      return undefined;
    }
    const byEntryId = new Map(outgoing.map((t) => [t.entry.Id, t]));
    for (const f of sent.Failed ?? []) {
      const t = byEntryId.get(f.Id);
      if (t) tally.fail(t.message, t.id, `${f.Code}: ${f.Message ?? ''}`.trim());
    }
    return (sent.Successful ?? []).flatMap((s) => {
      const t = byEntryId.get(s.Id);
      return t ? [{ outgoing: t, sentId: s.MessageId }] : [];
    });
  }

  /**
   * Deletes the sent messages from the DLQ; one that cannot be deleted leaves a copy there. False when the whole
   * call was refused, which stops the run.
   */
  private async delete(sent: readonly Sent[]): Promise<boolean> {
    for (const { outgoing, sentId } of sent) this.tally.move(outgoing, sentId);
    try {
      const deleted = await this.backend.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.queue.deadLetterUrl,
          Entries: sent.map(({ outgoing: t }) => ({
            Id: t.entry.Id,
            ReceiptHandle: t.message.ReceiptHandle,
          })),
        }),
      );
      this.tally.notDeleted += deleted.Failed?.length ?? 0;
      return true;
    } catch (error) {
      // Sent, so moved. A refused call deleted none: each stays in the DLQ as a copy too (consumers are
      // idempotent). One without an answer may have deleted them: that is not known, and said so. Stop and report.
      if (isUnanswered(error)) this.tally.deleteUnknown += sent.length;
      else this.tally.notDeleted += sent.length;
      this.scan.stop(error);
      return false;
    }
  }

  private report(fallbackReason: string | undefined): MoveResult {
    const { tally } = this;
    const { stopped } = this.scan;
    if (
      stopped !== undefined &&
      !this.scan.interrupted &&
      tally.moved === 0 &&
      tally.failed > 0 &&
      tally.failures.length === tally.failed
    ) {
      // Not a single message moved and the endpoint refused the batch: an expected error for the operator.
      throw stopped;
    }
    return {
      queue: this.queue.name,
      method: 'one-by-one',
      ...(fallbackReason ? { fallbackReason } : {}),
      deadLetterDepthBefore: this.depthBefore,
      moved: tally.moved,
      skipped: tally.skipped,
      failed: tally.failed,
      notDeleted: tally.notDeleted,
      deleteUnknown: tally.deleteUnknown,
      returned: tally.returned,
      movedByAnotherRedrive: tally.movedByAnotherRedrive,
      bodyGone: tally.bodyGone,
      superseded: tally.superseded,
      failures: tally.failures,
      movedIds: tally.movedIds,
      notFound: this.notFound,
      ...(this.selectsByContent && this.heldByOthers > 0 ? { heldByOthers: this.heldByOthers } : {}),
      ...(stopped !== undefined ? { stoppedBy: errorLine(this.explain(stopped)) } : {}),
    };
  }
}

/** The job a dead letter of the DLQ `queue` carries, when its state is kept in a job record. */
export function trackedJobOf(letter: DeadLetter, queue: string): RedrivenJob | undefined {
  const envelope = letter.envelope;
  if (envelope?.source !== JOB_SOURCE || envelope.headers[JOB_RECORD_HEADER] === undefined) return undefined;
  const debounceSend = envelope.headers[JOB_DEBOUNCE_HEADER];
  return {
    id: envelope.id,
    reason: summarize(letter).error ?? noReasonRecorded(queue),
    ...(envelope.generation ? { generation: envelope.generation } : {}),
    ...(letter.failure.errorName === FLOW_PARENT_ERROR ? { parentUntold: true as const } : {}),
    ...(debounceSend !== undefined ? { debounceSend } : {}),
  };
}

function redriveOneByOne(
  backend: Backend,
  queue: QueueTarget,
  options: RedriveOptions,
  depthBefore: number,
  fallbackReason?: string,
  selection: Selection = {},
): Promise<MoveResult> {
  return new OneByOneRedrive(backend, queue, options, depthBefore, selection).run(fallbackReason);
}
