/**
 * The Jobs page: the job records `hookline jobs list`, `jobs show` and `jobs cancel` read and change, through
 * those commands' own cores (`lib/cli/jobs.ts`), so each job's state, and each count, is the one the terminal
 * prints. The page lists them newest first, a page at a time, by state (the CLI's `--state`) and queue.
 */
import { JOB_STATES, type JobState, type JobStatus, jobRecordKey } from '../../lambda/shared/job-record';
import { CANCELLABLE_JOB_STATES } from '../../lambda/shared/job-state';
import { contextOf } from '../cli/backend';
import { BackendError, explainError } from '../cli/errors';
import {
  childrenText,
  type JobsStore,
  jobQueue,
  jobState,
  jobStateNote,
  jobsCancel,
  jobsList,
  jobsShow,
  jobsStore,
  renderJobCancel,
  type ShownJob,
  unreadDeadLetterLines,
  withDeadLetteredJob,
  withDeadLetteredJobs,
} from '../cli/jobs';
import {
  cancelRequestOf,
  type JobCancelFilter,
  type JobsCancelMatchingOptions,
  jobsCancelMatching,
  matchesTypeAndTenant,
  renderJobsCancelMatching,
  withConfiguredQueue,
} from '../cli/jobs-cancel-matching';
import type { CommandHints, Output } from '../cli/output';
import { typeSelector } from '../cli/redrive';
import { readLocalTarget } from '../cli/target';
import { localStatePath } from '../local/state-file';
import type { FeedEvent } from './feed';
import { summaryLines } from './jobs';
import type { ConsoleConnection } from './operations';
import { type PageCursor, pageOf } from './paging';

/**
 * The Jobs page's filters: `jobs list --state`, the queue a job was sent to, and `jobs cancel`'s type pattern and
 * tenant.
 */
export interface JobRecordFilter {
  readonly state?: JobState;
  readonly queue?: string;
  /** A type pattern in the routes' dialect (`email.*`). */
  readonly type?: string;
  /** The tenant the jobs were sent with, exactly. */
  readonly tenant?: string;
}

/** The Jobs page's filters as a query or a body carries them: an empty one means "any". */
export interface JobRecordQuery {
  readonly state?: string | null;
  readonly queue?: string | null;
  readonly type?: string | null;
  readonly tenant?: string | null;
}

/** The filters of a query; an unknown state or queue, or an invalid type pattern, is refused. */
export function jobRecordFilterOf(connection: ConsoleConnection, query: JobRecordQuery): JobRecordFilter {
  const { state, queue, type, tenant } = query;
  if (type) typeSelector(type);
  return {
    ...(state ? { state: jobState(state) } : {}),
    ...(queue ? { queue: jobQueue(connection.target, queue) } : {}),
    ...(type ? { type } : {}),
    ...(tenant ? { tenant } : {}),
  };
}

/**
 * Runs `use` on the target's job records. Local mode that stopped (no state file, or its process gone) is the
 * backend's state, a 503 the page retries, as is an emulator or AWS that does not answer; a pipeline without job
 * records stays the caller's error, with its fix.
 */
async function withJobsStore<T>(
  connection: ConsoleConnection,
  env: Record<string, string | undefined>,
  use: (store: JobsStore) => Promise<T>,
): Promise<T> {
  const { target, backend } = connection;
  if (target.kind === 'local') {
    try {
      readLocalTarget(localStatePath(env));
    } catch (error) {
      throw new BackendError(error instanceof Error ? error.message : String(error));
    }
  }
  let store: JobsStore | undefined;
  try {
    store = await jobsStore(target, backend, env);
    return await use(store);
  } catch (error) {
    throw explainError(error, contextOf(target));
  } finally {
    // One client per request: a console runs for hours, and its connections must not outlive the request.
    store?.client.destroy();
  }
}

/**
 * A job with the lines `jobs show` prints that its fields alone would not say: the one under its state where the
 * state alone would mislead, and a flow parent's children.
 */
export function withStateNote<J extends ShownJob>(
  job: J,
  hints: CommandHints,
): J & { readonly stateNote?: string; readonly childrenSummary?: string } {
  const stateNote = jobStateNote(job, hints);
  const childrenSummary = childrenText(job);
  return {
    ...job,
    ...(stateNote === undefined ? {} : { stateNote }),
    ...(childrenSummary === undefined ? {} : { childrenSummary }),
  };
}

/** Newest first, as the page lists them; the id breaks ties so a page boundary never falls between equals. */
const newestFirstKey = (job: JobStatus) => `${job.enqueuedAt ?? ''}\n${job.id}`;

/**
 * One page of the jobs that match, newest first, with exact counts: `total` is what `hookline jobs list --state`
 * counts (and, with a queue, those of them sent to it), every job once.
 */
export async function listJobRecords(
  connection: ConsoleConnection,
  env: Record<string, string | undefined>,
  filter: JobRecordFilter,
  cursor: PageCursor,
  hints: CommandHints,
  alive: () => void = () => {},
) {
  const { backend, target } = connection;
  const list = await withJobsStore(connection, env, (store) =>
    jobsList(store, {
      ...(filter.state ? { state: filter.state } : {}),
      ...(filter.queue ? { queue: filter.queue } : {}),
      ...(filter.type || filter.tenant ? { select: matchesTypeAndTenant(filter) } : {}),
      limit: Number.MAX_SAFE_INTEGER,
      // The table's pages and the dead-letter queues' letters, as they are read: the read goes on.
      progress: { update: alive, done() {} },
      reconcile: (found, denied) =>
        withDeadLetteredJobs(backend, target, found, hints, denied, { onProgress: alive }),
    }),
  );
  const page = pageOf(
    list.jobs.map((job) => withStateNote(job, hints)),
    newestFirstKey,
    cursor,
  );
  return {
    ...page,
    state: filter.state ?? null,
    queue: filter.queue ?? null,
    type: filter.type ?? null,
    tenant: filter.tenant ?? null,
    // The filters' choices: the CLI's states, so a state it learns shows here too, and the configured queues.
    states: JOB_STATES,
    // The states a cancel changes, from their one home: Cancel matching is offered for these only.
    cancellableStates: CANCELLABLE_JOB_STATES,
    queues: Object.keys(target.queues),
    // Dead-letter queues the console's AWS identity may not read: their jobs are listed as their records say.
    unreadable: list.unreadable ?? [],
    unreadableNotes: unreadDeadLetterLines(list.unreadable ?? []),
  };
}

/**
 * One job as `hookline jobs show` prints it (a job its record cannot know is dead-lettered, shown so), with the
 * key it is claimed under in the dedupe table and its tenant: the record's, and those the live feed saw it under
 * (a record written before records kept the tenant has none).
 */
export async function showJobRecord(
  connection: ConsoleConnection,
  env: Record<string, string | undefined>,
  id: string,
  seen: readonly FeedEvent[],
  hints: CommandHints,
) {
  const { backend, target } = connection;
  const job = withStateNote(
    await withJobsStore(connection, env, async (store) =>
      withDeadLetteredJob(backend, target, await jobsShow(store, id, hints), hints),
    ),
    hints,
  );
  const fromFeed = seen.flatMap((e) => (e.tenant ? e.tenant.split(',') : []));
  const tenants = [...new Set([...(job.tenant !== undefined ? [job.tenant] : []), ...fromFeed])];
  // Its queue's visibility timeout the console's AWS identity may not read: its note may be missing, as the CLI says.
  const unreadableNotes = unreadDeadLetterLines(job.unreadable ?? [], 'shown');
  return { job, dedupeKey: jobRecordKey(job.id), tenants, unreadableNotes };
}

/** Cancels a job as `hookline jobs cancel` does, refusing what it refuses in its words; `summary` is its output. */
export async function cancelJobRecord(
  connection: ConsoleConnection,
  env: Record<string, string | undefined>,
  id: string,
  hints: CommandHints,
) {
  const result = await withJobsStore(connection, env, (store) => jobsCancel(store, id, hints));
  const summary = summaryLines(
    (output, cancelled: typeof result) => renderJobCancel(output, cancelled, connection.target.kind),
    result,
    hints,
  );
  return { ...result, summary };
}

/**
 * The page's filters of a Cancel matching, checked as `hookline jobs cancel --type ... --tenant ... --queue ...
 * --state ...` checks them, before anything is read: refused in its words (no filter, an invalid pattern, a state a
 * cancel does not change, a queue the target does not have).
 */
export function cancelMatchingFilterOf(
  connection: ConsoleConnection,
  query: JobRecordQuery,
): JobCancelFilter {
  const given = (value: string | null | undefined) => (value ? value : undefined);
  const request = cancelRequestOf(undefined, {
    ...(given(query.type) ? { type: given(query.type) } : {}),
    ...(given(query.tenant) ? { tenant: given(query.tenant) } : {}),
    ...(given(query.queue) ? { queue: given(query.queue) } : {}),
    ...(given(query.state) ? { state: given(query.state) } : {}),
  });
  if (!('filter' in request)) throw new Error('a cancel without an id is a cancel by filter');
  return withConfiguredQueue(connection.target, request.filter);
}

/**
 * What Cancel matching would cancel, as `hookline jobs cancel` with the filters and without `--yes` says it, through
 * its core: nothing changes (`dryRun`, `matched`, `ids`, and its lines); nothing matched is refused in its words.
 */
export async function cancelMatchingDryRun(
  connection: ConsoleConnection,
  env: Record<string, string | undefined>,
  filter: JobCancelFilter,
  hints: CommandHints,
) {
  const result = await cancelMatching(connection, env, filter, { output: hints });
  return { ...result, summary: summaryLines(renderJobsCancelMatching, result, hints) };
}

/**
 * Cancels the `confirmed` jobs (what the dry run named) that still match the filter and have not started, as
 * `hookline jobs cancel ... --yes` does: each by the single cancel's conditional write (`cancelled`, `skipped`), the
 * scan's and the cancels' progress told to `output` as the terminal's bars are, stopping between cancels when
 * `signal` aborts (the console stops). A job that matches only since the dry run is left alone, and counted.
 */
export function cancelMatchingJobRecords(
  connection: ConsoleConnection,
  env: Record<string, string | undefined>,
  filter: JobCancelFilter,
  confirmed: readonly string[],
  output: Output,
  signal: AbortSignal,
) {
  return cancelMatching(connection, env, filter, {
    yes: true,
    confirmed,
    output,
    scanProgress: output.progress('dedupe table records scanned'),
    cancelProgress: (total) => output.progress('jobs cancelled', total),
    signal,
  });
}

function cancelMatching(
  connection: ConsoleConnection,
  env: Record<string, string | undefined>,
  filter: JobCancelFilter,
  options: Omit<JobsCancelMatchingOptions, 'reconcile'>,
) {
  const { backend, target } = connection;
  return withJobsStore(connection, env, (store) =>
    jobsCancelMatching(store, filter, {
      ...options,
      reconcile: (found, denied) => withDeadLetteredJobs(backend, target, found, options.output, denied),
    }),
  );
}
