/**
 * `hookline jobs show <id>` and `hookline jobs list --state <state>`: read job records (the `job#<id>` items of
 * the dedupe table, `lambda/shared/job-record.ts`) on the running local mode or a deployed stack.
 */
import { readFileSync } from 'node:fs';
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { type AttributeValue, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, type ListMessageMoveTasksResultEntry } from '@aws-sdk/client-sqs';
import { JOB_RECORD_KEY_PREFIX } from '../../lambda/shared/contracts';
import { JOB_SOURCE } from '../../lambda/shared/job';
import {
  cancelOrSayWhy,
  isJobState,
  JOB_STATES,
  JobRecords,
  type JobState,
  type JobStatus,
  jobStatusOf,
} from '../../lambda/shared/job-record';
import { plural } from '../../lambda/shared/plural';
import { localStatePath, parseLocalState } from '../local/state-file';
import { JOB_SCHEDULES_RESEND, STACK_OUTPUTS } from '../stack-outputs';
import { awsClientConfig, type Backend, localClientConfig } from './backend';
import {
  type DeadLetter,
  latestMoveTask,
  queueDepth,
  SCHEDULE_ARN_ATTRIBUTE,
  summarize,
} from './dead-letters';
import {
  AccessDeniedError,
  ActionDeniedError,
  CliError,
  denialOf,
  NotFoundError,
  needing,
  UsageError,
} from './errors';
import { type DeadLetterReading, type DebouncedSendReplaced, findDeadLetters } from './failed';
import { type CommandHints, hint, nextCommand, type Output, type Progress, shellWord, table } from './output';
import { JOB_SCHEDULES, noReasonRecorded, otherDeadLetterQueues, queueOf, type Target } from './target';
import {
  type Incomplete,
  missingPermissionsLine,
  STATUS_PARTS,
  type UnreadablePart,
  unreadableLines,
} from './unreadable';

/** Where the job records are. */
export interface JobsStore {
  readonly client: DynamoDBClient;
  readonly tableName: string;
}

const NO_TABLE =
  'this pipeline keeps no job records: enable dedupe in hookline.config.ts (job ids, status and cancel need its table)';

/** The dedupe table of the target: from local mode's state file, or the stack's `DedupeTableName` output. */
export async function jobsStore(
  target: Target,
  backend: Backend,
  env: Record<string, string | undefined>,
): Promise<JobsStore> {
  const store = await keptJobsStore(target, backend, env);
  if (!store) throw new CliError(NO_TABLE);
  return store;
}

/** {@link jobsStore}, or undefined when the pipeline keeps no job records (dedupe is off). */
async function keptJobsStore(
  target: Target,
  backend: Backend,
  env: Record<string, string | undefined>,
): Promise<JobsStore | undefined> {
  if (target.kind === 'local') {
    const state = parseLocalState(JSON.parse(readFileSync(localStatePath(env), 'utf8')));
    const tableName = state.jobs?.dedupe?.tableName;
    if (!tableName) return undefined;
    const client = new DynamoDBClient(localClientConfig(target, target.endpoints.dynamodb ?? ''));
    return { client, tableName };
  }
  const answer = await backend.cloudformation.send(
    new DescribeStacksCommand({ StackName: target.stackName }),
  );
  const output = answer.Stacks?.[0]?.Outputs?.find((o) => o.OutputKey === STACK_OUTPUTS.dedupeTableName);
  if (!output?.OutputValue) return undefined;
  return {
    client: new DynamoDBClient(awsClientConfig(target.region)),
    tableName: output.OutputValue,
  };
}

/** One job's state and result (a flow parent's with what holds it back); an unknown id is an error. */
export async function jobsShow(store: JobsStore, id: string, output: CommandHints): Promise<ShownJob> {
  if (id.trim() === '')
    throw new UsageError(
      `the job id is empty: pass the id send returned, or see ${nextCommand(output, 'jobs list')}`,
    );
  const records = new JobRecords(store.client, store.tableName);
  const status = await records.read(id);
  if (!status) {
    throw new NotFoundError(
      `job ${id} not found: it was never sent with this id, or its record expired after the dedupe window`,
    );
  }
  if (status.state === 'child-failed') return withFailedChildrenNote(records, status, output);
  return status.state === 'waiting-children' ? withChildrenNote(records, status, output) : status;
}

/**
 * A `child-failed` flow parent, with the children that failed it named: each one dead-lettered (with why, and the
 * redrive after which, once it completes, the flow goes on), deleted from its dead-letter queue, or itself a parent
 * one of whose children failed it. Reads those children's records, at most `MAX_FLOW_CHILDREN`.
 */
async function withFailedChildrenNote(
  records: JobRecords,
  job: JobStatus,
  output: CommandHints,
): Promise<ShownJob> {
  const failed = Object.entries(job.children?.failed ?? {});
  const children = await Promise.all(
    failed.map(async ([childId, reason]) => ({ childId, reason, child: await records.read(childId) })),
  );
  const why = children.map(({ childId, reason, child }) => {
    if (child?.state === 'child-failed')
      return `child ${childId} failed, its own children failing it (${nextCommand(output, `jobs show ${childId}`)})`;
    if (child?.discardedAt !== undefined)
      return `child ${childId} was dead-lettered (${reason}) and deleted from its dead-letter queue by an operator at ${child.discardedAt} (hookline failed delete): it never runs again`;
    const redrive = child?.queue
      ? `; once its cause is fixed, ${nextCommand(output, `redrive ${child.queue} --id ${childId}`)} runs it again`
      : '';
    return `child ${childId} was dead-lettered (${reason})${redrive}`;
  });
  const gone = children.some(({ child }) => child?.discardedAt !== undefined);
  const one = failed.length === 1;
  const unless = gone
    ? ', which can never be sent now: cancel it'
    : `: it is not sent unless ${one ? 'that child runs' : 'each of them runs'} again and completes; or cancel this job`;
  return {
    ...job,
    note: `${why.join('; ')}; sent with failParentOnFailure, ${one ? 'it fails' : 'they fail'} this job${unless} (${nextCommand(output, `jobs cancel ${job.id}`)})`,
  };
}

/**
 * A flow parent waiting for its children, with the children that will not complete on their own named: each one
 * dead-lettered (with why, and the redrive that continues the flow) or without a record (it expired). Reads the
 * pending children's records, at most `MAX_FLOW_CHILDREN`.
 */
async function withChildrenNote(
  records: JobRecords,
  job: JobStatus,
  output: CommandHints,
): Promise<ShownJob> {
  const pending = job.children?.pending ?? [];
  if (pending.length === 0 && job.children)
    return { ...job, note: await allCompletedNote(records, job, output) };
  const children = await Promise.all(
    pending.map(async (childId) => ({ childId, child: await records.read(childId) })),
  );
  const stuck = children.flatMap(({ childId, child }) => {
    if (!child)
      return [`child ${childId} has no record (it expired, or was never sent: send the flow again)`];
    if (child.state === 'cancelled') return [`child ${childId} is cancelled`];
    // A parent itself, failed by a child of its own: its page says which, and the redrive that lets it go on.
    if (child.state === 'child-failed')
      return [
        `child ${childId} is child-failed (${child.reason ?? 'no reason recorded'}): ${nextCommand(output, `jobs show ${childId}`)} says how it goes on`,
      ];
    // It ran, and what would count it here was deleted: nothing counts it now.
    if (child.state === 'completed' && child.discardedAt !== undefined)
      return [
        `child ${childId} completed and could not be counted here, and its dead letter that would count it (FlowParentError) was deleted by an operator at ${child.discardedAt} (hookline failed delete): this job can never be sent`,
      ];
    if (child.state !== 'dead-lettered') return [];
    // Its dead letter is gone: no redrive can run it, so the flow never finishes.
    if (child.discardedAt !== undefined)
      return [
        `child ${childId} was deleted from its dead-letter queue by an operator at ${child.discardedAt} (hookline failed delete): it never runs again, so this job can never be sent`,
      ];
    const redrive = child.queue
      ? `: ${nextCommand(output, `redrive ${child.queue} --id ${childId}`)} runs it again`
      : '';
    return [`child ${childId} is dead-lettered (${child.reason ?? 'no reason recorded'})${redrive}`];
  });
  if (stuck.length === 0) return job;
  // "or" only where a redrive named above (or on a failed child's page) would let the flow go on.
  const cancel = stuck.some((s) => s.includes('hookline redrive') || s.includes('says how it goes on'))
    ? 'or cancel'
    : 'cancel';
  return {
    ...job,
    note: `${waitingChildrenNote(job)}; ${stuck.join('; ')}; ${cancel} this job (${nextCommand(output, `jobs cancel ${job.id}`)})`,
  };
}

/**
 * A flow parent every child of which completed, not sent: the consumer that counted the last one could not send it,
 * so that child comes back to send it, unless an operator deleted its dead letter (`FlowParentError`), which its
 * record says (a completed child with `discardedAt`). Any child that comes back then still sends it, its count being
 * a repeat that checks again (such as the redrive of another child's dead letter with `FlowParentError`, whose
 * send failed too); with none left, nothing sends this job. Reads the children's records.
 */
async function allCompletedNote(records: JobRecords, job: JobStatus, output: CommandHints): Promise<string> {
  const { total = 0, completed = [] } = job.children ?? {};
  const claimed = job.sendClaimedUntil;
  const waiting = `all ${total} children completed and this job was not sent yet: the consumer that counted the last one could not send it${claimed === undefined ? '' : ` or ended before saying it did (its claim of the send lasts until ${claimed}; after that a child coming back sends it, and a send that one made is skipped)`}`;
  const children = await Promise.all(completed.map((childId) => records.read(childId)));
  const deleted = children.find((child) => child?.state === 'completed' && child.discardedAt !== undefined);
  if (deleted === undefined)
    return `${waiting}, so that child comes back to send it (in its queue to retry, or in its dead-letter queue with FlowParentError: ${nextCommand(output, 'failed list <its queue>')}, then redrive it)`;
  const others = children.filter((child) => child !== undefined && child.discardedAt === undefined);
  const queues = [...new Set(others.map((child) => child?.queue ?? '<its queue>'))];
  const lists = queues.map((queue) => nextCommand(output, `failed list ${queue}`)).join(', ');
  const redrive = queues.length > 0 ? ` (${lists})` : '';
  return `${waiting}, and the dead letter of child ${deleted.id} that would send it (FlowParentError) was deleted by an operator at ${deleted.discardedAt} (hookline failed delete): only another of its children coming back sends it now, such as the redrive of its dead letter with FlowParentError${redrive}; with none left, this job can never be sent: cancel it (${nextCommand(output, `jobs cancel ${job.id}`)})`;
}

/** A flow parent's wait: how many of its children completed, and the first few it waits for. */
function waitingChildrenNote(job: JobStatus): string {
  const { total = 0, completed = [], pending = [] } = job.children ?? {};
  const named = `${pending.slice(0, 5).join(', ')}${pending.length > 5 ? `, and ${pending.length - 5} more` : ''}`;
  return `waiting for its children: ${completed.length} of ${total} completed${pending.length ? `, waiting for ${named}` : ''}`;
}

/** What `jobs cancel` did: the job's state before, and the one-time schedule that still fires, if any. */
export interface JobCancelResult {
  readonly id: string;
  /** The job is cancelled: by this command, or before it ({@link alreadyCancelled}). */
  readonly cancelled: true;
  /**
   * `scheduled`, `waiting-children`, `child-failed` or `queued`: only a job that has not started can be cancelled;
   * `cancelled` when it already was.
   */
  readonly was: JobState;
  /** The job was cancelled before this command (a second cancel, or another operator's): nothing changed. */
  readonly alreadyCancelled?: true;
  readonly dueAt?: string;
  /** The job's one-time schedule: it still sends the job at `dueAt`, and the consumer skips it. */
  readonly scheduleName?: string;
}

/**
 * Cancels a job that has not started (scheduled, waiting for its children or failed by one of them, or waiting in its queue): its record says `cancelled`, so the
 * consumer skips it when it is delivered. A job already cancelled is answered as such, changing nothing; an unknown
 * id, or a job that started or finished, is an error naming its state. The record is changed only if the job is still scheduled or queued at that moment, as the producer's
 * `cancel` does, so a job that starts meanwhile is never reported cancelled; what it was, and when it was due, are
 * those of the record the cancel changed, not of the one shown before it.
 */
export async function jobsCancel(
  store: JobsStore,
  id: string,
  output: CommandHints,
): Promise<JobCancelResult> {
  await jobsShow(store, id, output);
  // The job may have started, finished or expired since it was shown.
  const answer = await cancelOrSayWhy(new JobRecords(store.client, store.tableName), id);
  switch (answer.outcome) {
    case 'cancelled':
      return { id, cancelled: true, ...answer.job };
    case 'already-cancelled':
      return { id, cancelled: true, was: 'cancelled', alreadyCancelled: true };
    case 'not-found':
      throw new NotFoundError(
        `job ${id} not found: its record expired after the dedupe window before it could be cancelled`,
      );
    case 'not-cancellable':
      throw new CliError(
        `job ${id} is ${answer.state}: only a scheduled, waiting-children, child-failed or queued job can be cancelled (${nextCommand(output, `jobs show ${id}`)})`,
      );
  }
}

/**
 * Says what `jobs cancel` did on `where` the job was cancelled: a delayed job's schedule is EventBridge Scheduler's
 * deployed, which deletes it after its one send, and local mode's one-time scheduler locally, which removes it once
 * it has sent it.
 */
export function renderJobCancel(output: Output, result: JobCancelResult, where: Target['kind']): void {
  if (result.alreadyCancelled) {
    output.line(`job ${result.id} was already cancelled: nothing changed; the consumer skips it`);
    return;
  }
  output.line(
    result.was === 'waiting-children' || result.was === 'child-failed'
      ? `cancelled job ${result.id} (it was ${result.was}): its children still run, and their completion no longer sends it`
      : `cancelled job ${result.id} (it was ${result.was}): the consumer skips it`,
  );
  if (result.scheduleName) {
    output.line(
      `its one-time schedule ${result.scheduleName} still sends it${result.dueAt ? ` at ${result.dueAt}` : ''}, ${
        where === 'local'
          ? "and local mode's scheduler removes the schedule once it has sent it"
          : 'and Scheduler deletes the schedule after that'
      }`,
    );
  }
}

/**
 * A job taken out of a dead-letter queue (sent back by a redrive, or deleted): its id, the enqueue it belongs to and
 * why it had been dead-lettered.
 */
export interface RedrivenJob {
  readonly id: string;
  readonly generation?: string;
  readonly reason: string;
  /**
   * A flow child that ran and could not tell its parent (`FlowParentError`): its record says `completed`, and its
   * dead letter is what would tell the parent.
   */
  readonly parentUntold?: true;
  /**
   * A debounced job's letter: the send it carries (its `x-hookline-debounce` header), which its record may have
   * replaced since (`JobRecords.replacedDebouncedSend`).
   */
  readonly debounceSend?: string;
  /**
   * What its record said just before a redrive sent it back (its `updatedAt`; absent when it had none), read then
   * ({@link RecordJobs.prepare}); absent when the record was not read, or there was none.
   */
  readonly seen?: { readonly updatedAt?: string };
}

/**
 * Records jobs a redrive sent back to their queue (at `sentAt`, just before the send) as `queued` again, keeping
 * why they had been dead-lettered (`JobRecords.redriven`). A pipeline that keeps no job records has none to mark.
 * Reads where the records are once, on the first call.
 */
export function redrivenJobsRecorder(
  backend: Backend,
  target: Target,
  env: Record<string, string | undefined>,
): JobsRecorder {
  return jobsRecorder(backend, target, env, redrivenJobsOn);
}

/**
 * {@link RecordJobs} of a redrive on `records`: each job's record read just before the send (`prepare`), and marked
 * `queued` after it only if unchanged since (its own `updatedAt`, never compared with this machine's clock). A job
 * whose record was not read then is left as its record says. A debounced letter whose send its record replaced is
 * told (`replacedDebouncedSend`), so the redrive leaves it.
 */
export function redrivenJobsOn(records: JobRecords): RecordJobs {
  const record = async (jobs: readonly RedrivenJob[], sentAt: Date) => {
    await Promise.all(
      jobs.map((job) =>
        job.seen ? records.redriven(job.id, job.reason, sentAt, job.generation, job.seen) : undefined,
      ),
    );
  };
  const prepare = (jobs: readonly RedrivenJob[]) =>
    Promise.all(
      jobs.map(async (job): Promise<RedrivenJob> => {
        const now = await records.read(job.id);
        return now ? { ...job, seen: now.updatedAt === undefined ? {} : { updatedAt: now.updatedAt } } : job;
      }),
    );
  const replacedDebouncedSend: DebouncedSendReplaced = (id, generation, debounceSend) =>
    records.replacedDebouncedSend(id, generation, debounceSend);
  return Object.assign(record, { prepare, replacedDebouncedSend });
}

/**
 * Records jobs whose dead letters an operator deleted (at `at`, just after the delete) as such
 * ({@link discardDeletedJob}): `failed delete`. A pipeline that keeps no job records has none to mark.
 */
export function deletedJobsRecorder(
  backend: Backend,
  target: Target,
  env: Record<string, string | undefined>,
): JobsRecorder {
  return jobsRecorder(backend, target, env, deletedJobsOn);
}

/** {@link RecordJobs} of `failed delete` on `records`: each deleted job's record marked ({@link discardDeletedJob}). */
export function deletedJobsOn(records: JobRecords): RecordJobs {
  return async (jobs, at) => {
    await Promise.all(jobs.map((job) => discardDeletedJob(records, job, at)));
  };
}

/**
 * Marks the record of a job whose dead letter an operator deleted at `at`: `dead-lettered` with `discardedAt`
 * (`JobRecords.discarded`), or, for a flow child that ran and could not tell its parent, `completed` still with
 * `discardedAt` (`JobRecords.discardedUntoldChild`). True when the record was marked.
 */
export function discardDeletedJob(records: JobRecords, job: RedrivenJob, at: Date): Promise<boolean> {
  // A debounced letter whose send a later send replaced is no longer what its record tells of: that send (running,
  // waiting, or dead-lettered in a letter of its own) is, and the record stays its. The write checks it, so a send
  // that replaces it while the delete runs is never marked either.
  return job.parentUntold
    ? records.discardedUntoldChild(job.id, at, job.generation, job.debounceSend)
    : records.discarded(job.id, job.reason, at, job.generation, job.debounceSend);
}

/** Records jobs taken out of a dead-letter queue (at `at`), as a redrive or `failed delete` takes them out. */
export type RecordJobs = ((jobs: readonly RedrivenJob[], at: Date) => Promise<void>) & {
  /**
   * Reads the jobs' records just before they are taken out: the jobs with what each said (`seen`), which the record
   * after it compares with. Absent: nothing to read first.
   */
  readonly prepare?: (jobs: readonly RedrivenJob[]) => Promise<readonly RedrivenJob[]>;
  /**
   * Whether job `id`'s record replaced a debounced dead letter's send (`JobRecords.replacedDebouncedSend`), so its
   * consumer would skip the letter as `superseded`: a redrive leaves such letters in the DLQ. Absent: not read, every
   * letter moves.
   */
  readonly replacedDebouncedSend?: DebouncedSendReplaced;
};

/** {@link RecordJobs} on the target's job records, through a client of its own that `close` destroys. */
export interface JobsRecorder extends RecordJobs {
  /** Destroys the client the first record opened, if it did: a console runs for hours, one job after another. */
  close(): Promise<void>;
}

/** The recorder `on` makes of the target's job records, read where they are once, on the first call. */
function jobsRecorder(
  backend: Backend,
  target: Target,
  env: Record<string, string | undefined>,
  on: (records: JobRecords) => RecordJobs,
): JobsRecorder {
  let store: Promise<JobsStore | undefined> | undefined;
  let recorder: RecordJobs | undefined;
  const opened = async () => {
    store ??= keptJobsStore(target, backend, env);
    const kept = await store;
    if (kept) recorder ??= on(new JobRecords(kept.client, kept.tableName));
    return kept ? recorder : undefined;
  };
  const record = async (jobs: readonly RedrivenJob[], at: Date) => {
    const kept = await opened();
    if (kept && jobs.length > 0) await kept(jobs, at);
  };
  const prepare = async (jobs: readonly RedrivenJob[]) => {
    const kept = await opened();
    return kept?.prepare && jobs.length > 0 ? kept.prepare(jobs) : jobs;
  };
  // No records kept: none can replace a send, so the letter runs once redriven.
  const replacedDebouncedSend: DebouncedSendReplaced = async (id, generation, debounceSend) => {
    const kept = await opened();
    return kept?.replacedDebouncedSend ? kept.replacedDebouncedSend(id, generation, debounceSend) : false;
  };
  const close = async () => {
    // A store that could not be found opened no client; the error was the record's to report.
    const kept = await store?.catch(() => undefined);
    kept?.client.destroy();
  };
  return Object.assign(record, { prepare, replacedDebouncedSend, close });
}

/**
 * Runs `use` with `given` (the caller's recorder, which stays the caller's to close), else with the recorder `open`
 * makes, closed once `use` ends.
 */
export async function withJobsRecorder<T>(
  given: RecordJobs | undefined,
  open: () => JobsRecorder,
  use: (recordJobs: RecordJobs) => Promise<T>,
): Promise<T> {
  if (given) return use(given);
  const recorder = open();
  try {
    return await use(recorder);
  } finally {
    await recorder.close();
  }
}

/** What the job records say of one id: none are kept (dedupe is off), or this id's record if there is one. */
export type JobRecordLookup = { readonly kept: false } | { readonly kept: true; readonly job?: JobStatus };

/**
 * `failed show`'s check of a debounced job's dead letter (`FailedShowOptions.debouncedSendReplaced`): whether its
 * record replaced the letter's send. False where the pipeline keeps no job records (none can replace it).
 */
export function debouncedSendReplacedReader(
  backend: Backend,
  target: Target,
  env: Record<string, string | undefined>,
): DebouncedSendReplaced {
  return async (id, generation, debounceSend) => {
    const store = await keptJobsStore(target, backend, env);
    if (!store) return false;
    return new JobRecords(store.client, store.tableName)
      .replacedDebouncedSend(id, generation, debounceSend)
      .finally(() => store.client.destroy());
  };
}

/**
 * Reads one id's job record as `jobs show` sees it (what waits in a dead-letter queue included), telling a pipeline
 * that keeps no records apart from an id that has none.
 */
export function jobRecordReader(
  backend: Backend,
  target: Target,
  output: CommandHints,
  env: Record<string, string | undefined>,
): (id: string) => Promise<JobRecordLookup> {
  return async (id) => {
    const store = await keptJobsStore(target, backend, env);
    if (!store) return { kept: false };
    // One client per read: the console's event pages read a record per request, for hours.
    const job = await new JobRecords(store.client, store.tableName)
      .read(id)
      .finally(() => store.client.destroy());
    return job
      ? { kept: true, job: await withDeadLetteredJob(backend, target, job, output) }
      : { kept: true };
  };
}

/**
 * A delayed job EventBridge Scheduler could not deliver waits in the `job_schedules` dead-letter queue, while
 * its record still says it is on its way (nothing tells the record). So a `queued` job that went through a
 * one-time schedule is looked for there, as the delivery of that very schedule (not of an earlier generation of
 * the same id), and shown dead-lettered with Scheduler's reason when it is there. The dead-letter queue is read
 * once, and only when one of the jobs is `queued` through a one-time schedule (the queue is empty unless Scheduler
 * gave up on something).
 */
export async function withUndeliveredSchedules(
  backend: Backend,
  target: Target,
  jobs: readonly JobStatus[],
  output: CommandHints,
  denied?: DeniedDeadLetters,
  reading?: DeadLetterReading,
): Promise<JobStatus[]> {
  const waiting = new Map<string, string>();
  for (const job of jobs) {
    if (job.state === 'queued' && job.scheduleName) waiting.set(job.id, job.scheduleName);
  }
  const hasJobSchedules = otherDeadLetterQueues(target).some((d) => d.name === JOB_SCHEDULES);
  if (waiting.size === 0 || !hasJobSchedules) return [...jobs];
  const letters = await deadLettersUnlessDenied(
    backend,
    target,
    JOB_SCHEDULES,
    (letter) => {
      const scheduleName = letter.event.id === undefined ? undefined : waiting.get(letter.event.id);
      const schedule = letter.messageAttributes[SCHEDULE_ARN_ATTRIBUTE]?.StringValue;
      return scheduleName !== undefined && (schedule === undefined || schedule.endsWith(`/${scheduleName}`));
    },
    denied,
    reading,
  );
  const letterOf = new Map<string, DeadLetter>();
  for (const letter of letters) {
    const { id } = letter.event;
    if (id !== undefined && !letterOf.has(id)) letterOf.set(id, letter);
  }
  return jobs.map((job) => {
    const letter = job.state === 'queued' ? letterOf.get(job.id) : undefined;
    return letter ? undeliveredJob(job, letter, output) : job;
  });
}

const UNDELIVERED = 'EventBridge Scheduler could not deliver it to its queue';

/**
 * Told each dead-letter queue (or queue's visibility timeout) a listing of several may not read: the jobs it would
 * correct are then shown as their records say, and the listing says it is incomplete.
 */
export type DeniedDeadLetters = (part: UnreadablePart) => void;

/**
 * The dead letters of the dead-letter queue `name` that `wanted` selects. With `denied`, a queue the caller's AWS
 * identity may not read is told to it and found holding none of them, so a listing of several queues shows the
 * others; without, its denial is the error, as any other failure to read it is.
 */
async function deadLettersUnlessDenied(
  backend: Backend,
  target: Target,
  name: string,
  wanted: (letter: DeadLetter) => boolean,
  denied: DeniedDeadLetters | undefined,
  reading: DeadLetterReading | undefined,
): Promise<DeadLetter[]> {
  try {
    return await findDeadLetters(backend, target, name, wanted, reading);
  } catch (error) {
    if (!denied || !(error instanceof AccessDeniedError) || error.action === undefined) throw error;
    denied({
      queue: name,
      part: STATUS_PARTS.deadLetters,
      ...denialOf({ action: error.action, explicitDeny: error.explicitDeny }),
    });
    return [];
  }
}

function undeliveredJob(job: JobStatus, letter: DeadLetter, output: CommandHints): JobStatus {
  const { error } = summarize(letter);
  return {
    ...job,
    state: 'dead-lettered',
    reason: `${UNDELIVERED} (${error ?? noReasonRecorded(JOB_SCHEDULES)}): it waits in the ${JOB_SCHEDULES} dead-letter queue (${nextCommand(output, `failed show ${JOB_SCHEDULES} ${job.id}`)}); ${JOB_SCHEDULES_RESEND}`,
  };
}

/**
 * What the records cannot know, read from the dead-letter queues: a delayed job Scheduler gave up on
 * (`withUndeliveredSchedules`), and a job whose last attempt ended without recording an outcome (its invocation
 * timed out or crashed), which SQS moved to its queue's dead-letter queue after `maxReceiveCount` receives while
 * its record still says `processing`.
 */
export async function withDeadLetteredJob(
  backend: Backend,
  target: Target,
  job: JobStatus,
  output: CommandHints,
): Promise<CheckedJob> {
  // Its dead-letter queue denied is the command's error (nothing of the job's fate could be read); its queue's
  // visibility timeout denied only leaves the note out, so the job is shown, saying what is unknown.
  const unreadable: UnreadablePart[] = [];
  const [checked = job] = await withDeadLetteredJobs(
    backend,
    target,
    [job],
    output,
    undefined,
    undefined,
    (part) => unreadable.push(part),
  );
  const denied = unreadable.length > 0 ? { unreadable } : {};
  // Only a job its record says is dead-lettered: one found in a dead-letter queue just now is there.
  if (job.state !== 'dead-lettered') return { ...checked, ...denied };
  return { ...(await withDeadLetterGone(backend, target, checked, output)), ...denied };
}

/** A job as `jobs show` presents it, with the parts of its queue the caller's AWS identity may not read. */
export type CheckedJob = ShownJob & {
  /** Its queue's visibility timeout, when the caller may not read it (absent when it read all it needed). */
  readonly unreadable?: readonly UnreadablePart[];
};

/**
 * A job whose record says `dead-lettered` is looked for in its queue's dead-letter queue (one job: `jobs show`,
 * `trace`), as the delivery of the enqueue the record holds. When it is not there any more, the record cannot say
 * why: a full redrive (an SQS move task, which never shows the CLI its messages) sent it back to its queue after it
 * was dead-lettered, where it waits to run again, or else it was purged or expired with the queue's retention. A
 * note says which, and what a reader holding messages there now leaves open.
 */
async function withDeadLetterGone(
  backend: Backend,
  target: Target,
  job: ShownJob,
  output: CommandHints,
): Promise<ShownJob> {
  const queue = job.queue === undefined ? undefined : target.queues[job.queue];
  // Deleted by an operator: its record says so, and where it went.
  if (job.discardedAt !== undefined) return job;
  if (job.state !== 'dead-lettered' || queue === undefined || !Object.hasOwn(target.queues, queue.name))
    return job;
  const found = await findDeadLetters(backend, target, queue.name, (letter) => {
    const envelope = letter.envelope;
    return (
      envelope?.id === job.id && envelope.source === JOB_SOURCE && envelope.generation === job.generation
    );
  });
  if (found.length > 0) return job;
  const task = await latestMoveTask(backend.sqs, queue.deadLetterArn).catch(() => undefined);
  const since = Date.parse(job.updatedAt ?? '');
  const redriven = task?.StartedTimestamp !== undefined && task.StartedTimestamp >= since;
  const held = (await queueDepth(backend.sqs, queue.deadLetterUrl)).inFlight;
  const gone = `it was purged (${nextCommand(output, `purge ${queue.name} --dlq`)}) or expired with the queue's retention, so it does not run again (send it again under a new id: this one stays claimed for its dedupe window), unless a redrive that could not update its record sent it back to its queue`;
  const why = redriven ? movedByTask(task, gone) : gone;
  const unless =
    held > 0
      ? ` (unless it is one of the ${plural(held, 'message')} another reader, such as a redrive, holds there now)`
      : '';
  return { ...job, note: `not in the ${queue.name} dead-letter queue any more: ${why}${unless}` };
}

/**
 * What a move task started since the job was dead-lettered did with it, by the task's status: one that completed or
 * still runs sent it back (or is sending it); one that failed or was cancelled moved only what it moved before it
 * stopped, so the job went back only if it moved any, and otherwise left the DLQ some other way (`gone`).
 */
function movedByTask(task: ListMessageMoveTasksResultEntry, gone: string): string {
  const started = `an SQS move task started at ${new Date(task.StartedTimestamp as number).toISOString()}`;
  if (task.Status === 'COMPLETED')
    return `a redrive of all of it (${started}, COMPLETED) sent it back to its queue, where it waits to run again`;
  if (task.Status === 'RUNNING')
    return `a redrive of all of it (${started}, still RUNNING) is sending it back to its queue, where it waits to run again`;
  // Still moving until the cancel takes: it may yet send the job back, whatever it moved so far.
  if (task.Status === 'CANCELLING')
    return `a redrive of all of it (${started}, being CANCELLED) may still be sending it back to its queue; run this again once the task has ended to know`;
  const stopped =
    task.Status === 'FAILED'
      ? `failed${task.FailureReason ? ` (${task.FailureReason})` : ''}`
      : `was ${(task.Status ?? 'stopped').toLowerCase()}`;
  const moved = task.ApproximateNumberOfMessagesMoved ?? 0;
  if (moved === 0)
    return `${gone}; a redrive of all of it (${started}) ${stopped} before it moved any message`;
  return `a redrive of all of it (${started}) moved ${plural(moved, 'message')} back to its queue before it ${stopped}: most likely this job was one of them and waits to run again there; if it was not, ${gone}`;
}

/**
 * `withDeadLetteredJob` for many jobs: each dead-letter queue is read once, and only when a job may be in it. A
 * visibility timeout the caller may not read is told to `deniedTimeout` (`denied`, unless given).
 */
export async function withDeadLetteredJobs(
  backend: Backend,
  target: Target,
  jobs: readonly JobStatus[],
  output: CommandHints,
  denied?: DeniedDeadLetters,
  reading?: DeadLetterReading,
  deniedTimeout: DeniedDeadLetters | undefined = denied,
): Promise<ShownJob[]> {
  const checked = await withUnrecordedDeadLetters(
    backend,
    target,
    await withUndeliveredSchedules(backend, target, jobs, output, denied, reading),
    output,
    denied,
    reading,
  );
  return withUnfinishedAttempts(backend, target, checked, output, deniedTimeout);
}

/** A job as `jobs show` and `jobs list` present it: its record, and what the CLI found beside it. */
export type ShownJob = JobStatus & {
  /**
   * What the record cannot say of itself: a `processing` job no attempt can still be running, a `dead-lettered`
   * one no longer in its dead-letter queue.
   */
  readonly note?: string;
};

/**
 * A `processing` job whose attempt started longer ago than its queue's visibility timeout is not running: by then
 * its message is visible again and a new receive would have restarted it. Its attempt ended without recording how:
 * its completion was not written (the handler ran), or its invocation crashed or timed out and it waits in its
 * queue to be received again. Said in a note rather than guessed as a state. The visibility timeout is read once
 * per queue, and only when a job may be such; a queue that cannot be read leaves its jobs as they are, and one the
 * caller's AWS identity may not read is told to `denied`, so that a listing says it is incomplete. Likewise a
 * `retrying` job whose next attempt is overdue has not been received again yet (its consumer is paused, or busy).
 */
async function withUnfinishedAttempts(
  backend: Backend,
  target: Target,
  jobs: readonly JobStatus[],
  output: CommandHints,
  denied: DeniedDeadLetters | undefined,
): Promise<ShownJob[]> {
  const queues = new Set<string>();
  for (const job of jobs) {
    if (job.state === 'processing' && job.updatedAt && job.queue && Object.hasOwn(target.queues, job.queue))
      queues.add(job.queue);
  }
  const timeouts = new Map<string, number>();
  for (const name of queues) {
    const seconds = await visibilityTimeoutSeconds(backend, target, name, denied);
    if (seconds !== undefined) timeouts.set(name, seconds);
  }
  const now = backend.clock.now();
  return jobs.map((job) => {
    if (job.state === 'retrying' && Date.parse(job.retryAt ?? '') < now)
      return { ...job, note: retryingNote(job, true, output) };
    const seconds = job.state === 'processing' && job.queue ? timeouts.get(job.queue) : undefined;
    const started = Date.parse(job.updatedAt ?? '');
    if (seconds === undefined || !(now - started > seconds * 1000)) return job;
    const attempt = job.attempt === undefined ? 'its last attempt' : `attempt ${job.attempt}`;
    return {
      ...job,
      note: `no outcome recorded: ${attempt} started at ${job.updatedAt}, longer ago than the ${job.queue} queue's visibility timeout (${seconds} s), so it is not running: its handler finished and its completion was not written, or its invocation crashed or timed out and it waits in its queue to run again (${nextCommand(output, `trace ${job.id}`)} shows its attempts)`,
    };
  });
}

/**
 * The visibility timeout of queue `name`, undefined where it cannot be read. A denial is told to `denied` (a
 * listing's part it may not read); any other failure, as before, only leaves its jobs without the note.
 */
async function visibilityTimeoutSeconds(
  backend: Backend,
  target: Target,
  name: string,
  denied: DeniedDeadLetters | undefined,
): Promise<number | undefined> {
  const read = backend.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: target.queues[name]?.url,
      AttributeNames: ['VisibilityTimeout'],
    }),
  );
  const answer = await needing(GET_QUEUE_ATTRIBUTES, read).catch((error: unknown) => {
    if (error instanceof ActionDeniedError)
      denied?.({ queue: name, part: VISIBILITY_TIMEOUT, ...denialOf(error) });
    return undefined;
  });
  const value = answer?.Attributes?.VisibilityTimeout;
  const seconds = Number(value);
  return value !== undefined && Number.isFinite(seconds) ? seconds : undefined;
}

/**
 * A `processing` or `retrying` job is looked for in its queue's dead-letter queue, as the delivery of the enqueue its record
 * holds (the same generation, not an earlier run of a reused id), and shown dead-lettered when it is there.
 */
async function withUnrecordedDeadLetters(
  backend: Backend,
  target: Target,
  jobs: readonly JobStatus[],
  output: CommandHints,
  denied: DeniedDeadLetters | undefined,
  reading: DeadLetterReading | undefined,
): Promise<JobStatus[]> {
  const running = new Map<string, Map<string, JobStatus>>();
  for (const job of jobs) {
    if (!mayHaveLeftUnrecorded(job) || job.queue === undefined || !Object.hasOwn(target.queues, job.queue))
      continue;
    const byId = running.get(job.queue) ?? new Map<string, JobStatus>();
    byId.set(job.id, job);
    running.set(job.queue, byId);
  }
  const letterOf = new Map<JobStatus, DeadLetter>();
  for (const [queue, byId] of running) {
    const letters = await deadLettersUnlessDenied(
      backend,
      target,
      queue,
      (letter) => {
        const job = letter.event.id === undefined ? undefined : byId.get(letter.event.id);
        return (
          job !== undefined &&
          letter.envelope?.source === JOB_SOURCE &&
          letter.envelope.generation === job.generation
        );
      },
      denied,
      reading,
    );
    for (const letter of letters) {
      const job = byId.get(letter.event.id as string) as JobStatus;
      if (!letterOf.has(job)) letterOf.set(job, letter);
    }
  }
  return jobs.map((job) => {
    const letter = letterOf.get(job);
    return letter && job.queue ? unrecordedDeadLetter(job, job.queue, letter, output) : job;
  });
}

/**
 * A job whose record says it runs or waits to retry: SQS may have moved it to the dead-letter queue after an
 * attempt that ended without recording anything (a crash, a timeout) or receives that never ran it (throttled).
 */
const mayHaveLeftUnrecorded = (job: JobStatus) => job.state === 'processing' || job.state === 'retrying';

function unrecordedDeadLetter(
  job: JobStatus,
  queue: string,
  letter: DeadLetter,
  output: CommandHints,
): JobStatus {
  const { error } = summarize(letter);
  return {
    ...job,
    state: 'dead-lettered',
    reason: `${error ?? noReasonRecorded(queue)}: it waits in the ${queue} dead-letter queue (${nextCommand(output, `failed show ${queue} ${job.id}`)})`,
  };
}

/** Parses `--state`; an unknown state is an error listing the valid ones. */
export function jobState(value: string): JobState {
  if (isJobState(value)) return value;
  throw new CliError(`--state ${value} is not a job state: use one of ${JOB_STATES.join(', ')}`);
}

/** Parses `--queue`: a configured queue's name; an empty or unknown one is an error naming the configured ones. */
export function jobQueue(target: Target, name: string): string {
  if (name.trim() === '') {
    throw new UsageError(
      `--queue must not be empty: give one of ${Object.keys(target.queues).join(', ') || '(none configured)'}, or leave --queue out for every queue`,
    );
  }
  return queueOf(target, name).name;
}

/** What `jobs list` found: at most `limit` jobs, oldest first, and how many matched in all. */
export interface JobList {
  readonly state?: JobState;
  /** The queue the jobs were sent to, when `--queue` chose one. */
  readonly queue?: string;
  /** The type pattern the jobs matched, when `--type` chose one. */
  readonly type?: string;
  /** The tenant the jobs were sent with, when `--tenant` chose one. */
  readonly tenant?: string;
  /** Every job that matched, shown or not. */
  readonly total: number;
  readonly jobs: ShownJob[];
  /**
   * The dead-letter queues (and queues' visibility timeouts) the caller's AWS identity may not read, each with the
   * IAM action it needs (absent when there are none): a job they would correct is listed as its record says, and
   * the command exits 1.
   */
  readonly unreadable?: readonly UnreadablePart[];
}

/**
 * Jobs in one state (all when none is given), at most `limit`, oldest first. The records share the dedupe table
 * with every webhook's delivery id, so the scan reports its progress page by page.
 */
export async function jobsList(
  store: JobsStore,
  options: {
    readonly state?: JobState;
    /** Only jobs sent to this queue (checked by {@link jobQueue}). */
    readonly queue?: string;
    readonly limit: number;
    /**
     * Keeps only the records this accepts, as they are read (before they are reconciled): filters of what a
     * reconcile never changes (type, tenant). @default - every record
     */
    readonly select?: (job: JobStatus) => boolean;
    readonly now?: number;
    readonly progress?: Progress;
    /**
     * Corrects what the records cannot know (a job in a dead-letter queue they do not say so of), before the state
     * filter, telling `denied` each dead-letter queue it may not read: see `withDeadLetteredJobs`.
     */
    readonly reconcile?: (jobs: readonly JobStatus[], denied: DeniedDeadLetters) => Promise<JobStatus[]>;
  },
): Promise<JobList> {
  const now = options.now ?? Date.now();
  const found: JobStatus[] = [];
  let start: Record<string, AttributeValue> | undefined;
  let scanned = 0;
  do {
    const page = await store.client.send(
      new ScanCommand({
        TableName: store.tableName,
        FilterExpression: 'begins_with(pk, :prefix) AND attribute_exists(#state)',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':prefix': { S: JOB_RECORD_KEY_PREFIX } },
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of page.Items ?? []) {
      const status = jobStatusOf(item, now);
      if (
        status &&
        mayBeIn(status, options.state) &&
        (!options.queue || status.queue === options.queue) &&
        (!options.select || options.select(status))
      )
        found.push(status);
    }
    start = page.LastEvaluatedKey;
    scanned += page.ScannedCount ?? page.Items?.length ?? 0;
    options.progress?.update(scanned);
  } while (start);
  options.progress?.done();
  const unreadable: UnreadablePart[] = [];
  const reconciled = options.reconcile
    ? await options.reconcile(found, (part) => unreadable.push(part))
    : found;
  const jobs = reconciled.filter((job) => !options.state || job.state === options.state);
  jobs.sort((a, b) => (a.enqueuedAt ?? '').localeCompare(b.enqueuedAt ?? ''));
  return {
    ...(options.state ? { state: options.state } : {}),
    ...(options.queue ? { queue: options.queue } : {}),
    total: jobs.length,
    jobs: jobs.slice(0, options.limit),
    ...(unreadable.length > 0 ? { unreadable } : {}),
  };
}

/**
 * A `queued`, `processing` or `retrying` record may turn out dead-lettered, so it is kept for that state too until
 * it is reconciled.
 */
function mayBeIn(job: JobStatus, state: JobState | undefined): boolean {
  return (
    !state ||
    job.state === state ||
    (state === 'dead-lettered' && (job.state === 'queued' || mayHaveLeftUnrecorded(job)))
  );
}

const shorten = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/**
 * What a job's state means where the state alone would mislead, in one line (undefined where it says it all):
 * a job waiting out its backoff between attempts, and a job a redrive sent back that waits in its queue again.
 */
export function jobStateNote(job: ShownJob, output: CommandHints): string | undefined {
  if (job.note !== undefined) return job.note;
  if (job.state === 'retrying') return retryingNote(job, false, output);
  if (job.state === 'dead-lettered' && job.discardedAt !== undefined) {
    // A flow's child deleted so leaves its parent waiting for good: sending the work again does not finish it.
    // A child sent with ignoreDependencyOnFailure was counted as failed: its parent does not wait for it.
    const parent =
      job.parent === undefined || job.parentOnFailure === 'ignore'
        ? ''
        : `; its flow parent ${job.parent} can never be sent now: cancel it (${nextCommand(output, `jobs cancel ${job.parent}`)})`;
    return `deleted from its dead-letter queue by an operator at ${job.discardedAt} (hookline failed delete): it does not run again; its id stays claimed until its record expires, so send the work again under a new id${parent}`;
  }
  if (job.state === 'completed' && job.discardedAt !== undefined && job.parent !== undefined) {
    // A flow child that ran and whose dead letter, the one thing that would tell its parent, was deleted.
    // The record cannot say whether the parent counted it (only the send failed): the parent's own page can.
    return `completed, but its flow parent ${job.parent} may not know, or was not sent: its dead letter that would tell it or send it (FlowParentError) was deleted by an operator at ${job.discardedAt} (hookline failed delete); ${nextCommand(output, `jobs show ${job.parent}`)} says whether anything can still send it, else cancel it (${nextCommand(output, `jobs cancel ${job.parent}`)})`;
  }
  if (job.state === 'waiting-children') return waitingChildrenNote(job);
  if (isPendingDebounce(job)) return debounceNote(job);
  if (job.state === 'queued' && job.redrivenAt !== undefined) {
    const before = job.lastError === undefined ? '' : `; it had been dead-lettered: ${job.lastError}`;
    return `redriven from its dead-letter queue at ${job.redrivenAt}, waiting in its queue to run again${before}`;
  }
  return undefined;
}

/** A debounced job that has not started: further sends with its id still replace its payload. */
function isPendingDebounce(job: JobStatus): boolean {
  return job.debounce !== undefined && (job.state === 'scheduled' || job.state === 'queued');
}

/** How many sends a debounced job's cycle took, as `jobs show` and `jobs list` print it. */
function sendsText(job: JobStatus): string | undefined {
  if (!job.debounce) return undefined;
  const { sends } = job.debounce;
  return `debounced: ${plural(sends, 'send')} in this cycle`;
}

/** A debounced job waiting to start: it runs once, with the last send's payload, unless another send comes first. */
function debounceNote(job: JobStatus): string {
  const due = job.dueAt === undefined ? '' : ` at ${job.dueAt}`;
  return `${sendsText(job)}; runs once${due} with the last one's payload; another send with its id before it starts replaces the payload and pushes its start later (no later than its maxWait after the cycle's first send, when sent with one)`;
}

/**
 * A job waiting out its backoff: which attempt failed and how, and when the next is due; `overdue` once that time
 * passed and no attempt started (the record would say `processing` then).
 */
function retryingNote(job: JobStatus, overdue: boolean, output: CommandHints): string {
  const next = !job.retryAt
    ? "next attempt when its queue's visibility timeout ends"
    : overdue
      ? `next attempt due since ${job.retryAt} and not started yet: it waits for its consumer to receive it (${nextCommand(output, 'status')} shows whether it is paused)`
      : `next attempt due at ${job.retryAt}`;
  const failed = job.attempt === undefined ? 'its last attempt' : `attempt ${job.attempt}`;
  return `waiting to retry: ${failed} failed (${job.lastError ?? 'no error recorded'}); ${next}`;
}

export function renderJobShow(output: Output, job: CheckedJob): void {
  const rows: [string, string | undefined][] = [
    ['id', job.id],
    ['state', job.state],
    ['', jobStateNote(job, output)],
    ['type', job.type],
    ['queue', job.queue],
    ['tenant', job.tenant],
    ['enqueued', job.enqueuedAt],
    ['due', job.dueAt],
    ['updated', job.updatedAt],
    ['attempt', job.attempt?.toString()],
    ['schedule', job.scheduleName],
    ['sends', sendsText(job)],
    ['reason', job.reason],
    ['last error', job.lastError],
    ['retry at', job.retryAt],
    ['redriven', job.redrivenAt],
    ['deleted', job.discardedAt],
    ['parent', job.parent],
    ['children', childrenText(job)],
    ['result', job.result === undefined ? undefined : JSON.stringify(job.result)],
    ['progress', progressText(job)],
  ];
  const shown = rows.filter((row): row is [string, string] => row[1] !== undefined);
  const width = Math.max(9, ...shown.map(([name]) => name.length));
  for (const [name, value] of shown) output.line(`${name.padEnd(width)} ${value}`);
  // The next step of someone who came to inspect a failed job: it waits in its queue's dead-letter queue, from
  // which redrive sends it back. Not for a delivery Scheduler gave up on: its reason says how to send it again.
  if (
    job.state === 'dead-lettered' &&
    job.queue !== undefined &&
    job.note === undefined &&
    job.discardedAt === undefined &&
    !job.reason?.includes(UNDELIVERED)
  ) {
    output.line(
      output.colors.dim(
        `retry once its cause is fixed: ${nextCommand(output, `redrive ${job.queue} --id ${job.id}`)}    details: ${nextCommand(output, `failed show ${job.queue} ${job.id}`)}`,
      ),
    );
  }
  for (const line of unreadDeadLetterLines(job.unreadable ?? [], 'shown'))
    output.line(output.colors.yellow(line));
}

/**
 * A flow parent's children as `jobs show` prints them: how many completed, and how many were dead-lettered that
 * fail it or that it ignores.
 */
export function childrenText(job: JobStatus): string | undefined {
  if (!job.children) return undefined;
  const { completed, total, failed = {}, ignored = {} } = job.children;
  const failing = Object.keys(failed).length;
  const skipped = Object.keys(ignored).length;
  return [
    `${completed.length} of ${total} completed`,
    ...(failing > 0 ? [`${failing} dead-lettered with failParentOnFailure`] : []),
    ...(skipped > 0 ? [`${skipped} dead-lettered with ignoreDependencyOnFailure`] : []),
  ].join(', ');
}

/** What the handler last reported with `ctx.progress`, and when. */
function progressText(job: JobStatus): string | undefined {
  if (job.progress === undefined) return undefined;
  const at = job.progressAt === undefined ? '' : ` (at ${job.progressAt})`;
  return `${JSON.stringify(job.progress)}${at}`;
}

/** A waiting job's last error as a list shows it: a redriven job's is from before its redrive. */
function lastErrorText(job: JobStatus): string | undefined {
  if (job.lastError === undefined) return undefined;
  return job.state === 'queued' && job.redrivenAt !== undefined
    ? `redriven; was ${job.lastError}`
    : job.lastError;
}

/** A job's result, else (while it runs) its progress. */
function resultText(job: JobStatus): string {
  if (job.result !== undefined) return JSON.stringify(job.result);
  return job.progress === undefined ? '-' : `progress ${JSON.stringify(job.progress)}`;
}

export function renderJobList(output: Output, result: JobList): void {
  const inQueue = listedBy(result);
  if (result.jobs.length === 0) {
    output.line(`no ${result.state ?? ''} jobs${inQueue}`.replace('  ', ' '));
    renderUnreadDeadLetters(output, result.unreadable ?? []);
    return;
  }
  const rows = [
    ['ID', 'STATE', 'TYPE', 'QUEUE', 'DUE', 'UPDATED', 'RESULT / REASON'],
    ...result.jobs.map((j) => [
      j.id,
      j.state,
      j.type ?? '-',
      j.queue ?? '-',
      j.dueAt ?? j.retryAt ?? '-',
      j.updatedAt ?? '-',
      shorten(
        j.reason ??
          j.note ??
          lastErrorText(j) ??
          (j.state === 'waiting-children' ? waitingChildrenNote(j) : undefined) ??
          (isPendingDebounce(j) ? sendsText(j) : undefined) ??
          resultText(j),
        60,
      ),
    ]),
  ];
  output.line(table(rows, output.colors));
  if (result.total > result.jobs.length) {
    output.line(
      `showing the ${result.jobs.length} oldest of ${result.total} ${result.state ?? ''} jobs${inQueue}: pass --limit ${result.total} to see them all`.replace(
        '  ',
        ' ',
      ),
    );
  }
  hint(output, `details: ${nextCommand(output, 'jobs show <id>')}`);
  renderUnreadDeadLetters(output, result.unreadable ?? []);
}

/** The filters besides the state a listing was made with, as its lines say them: ` of type 'email.*' in queue q`. */
function listedBy(result: JobList): string {
  return [
    result.type === undefined ? '' : ` of type ${shellWord(result.type)}`,
    result.tenant === undefined ? '' : ` for tenant ${shellWord(result.tenant)}`,
    result.queue === undefined ? '' : ` in queue ${result.queue}`,
  ].join('');
}

function renderUnreadDeadLetters(output: Output, parts: readonly UnreadablePart[]): void {
  for (const line of unreadDeadLetterLines(parts)) output.line(output.colors.yellow(line));
}

/**
 * What a listing of jobs could not reconcile, as the CLI and the console say it: a line per dead-letter queue (or
 * queue's visibility timeout) its AWS identity may not read, then the permissions missing; none when it read them all.
 */
export function unreadDeadLetterLines(
  parts: readonly UnreadablePart[],
  presented: 'listed' | 'shown' = 'listed',
): string[] {
  const missing = missingPermissionsLine(parts, unreadJobs(parts, presented));
  return [...unreadableLines(parts), ...(missing ? [missing] : [])];
}

/** The action the visibility timeout of a queue is read with. */
const GET_QUEUE_ATTRIBUTES = 'sqs:GetQueueAttributes';

/** The part of a queue `jobs list` and `jobs show` read to tell a `processing` job no attempt still runs. */
const VISIBILITY_TIMEOUT = 'visibility timeout';

/**
 * What the parts `jobs list` (or `jobs show`) may not read leave unknown, each said once, and what granting their actions shows: a
 * dead-letter queue, and a queue's visibility timeout.
 */
function unreadJobs(parts: readonly UnreadablePart[], presented: 'listed' | 'shown'): Incomplete {
  const unknown = [
    parts.some((p) => p.part !== VISIBILITY_TIMEOUT)
      ? `a job that may wait in a dead-letter queue it may not read is ${presented} as its record says, though SQS may have dead-lettered it`
      : undefined,
    parts.some((p) => p.part === VISIBILITY_TIMEOUT)
      ? `a processing job of a queue whose visibility timeout it may not read is ${presented} as its record says, without the "no outcome recorded" note of an attempt that is no longer running`
      : undefined,
  ];
  return { unknown: unknown.filter((u) => u !== undefined).join('; '), whole: "every job's state" };
}
