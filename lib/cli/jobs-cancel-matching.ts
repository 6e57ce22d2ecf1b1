/**
 * `hookline jobs cancel --type <pattern> | --tenant <t> | --queue <q> | --state <s>`: cancels every job that has not
 * started and matches the filters, as Inngest's bulk cancellation and Trigger.dev's `runs.bulk.cancel` do (a closed
 * account's jobs, a bad deploy's thousands of sends, an obsolete backlog). It lists them as `jobs list` does (the
 * same scan, reconciled with the dead-letter queues), and without `--yes` only says what it would cancel. With
 * `--yes` each one is cancelled by the conditional write of `jobs cancel <id>`, so a job that started meanwhile is
 * reported skipped, in the state it is in, never cancelled.
 */
import {
  cancelOrSayWhy,
  isJobState,
  JobRecords,
  type JobState,
  type JobStatus,
} from '../../lambda/shared/job-record';
import {
  CANCELLABLE_JOB_STATES,
  type CancellableJobState,
  isCancellableJobState,
} from '../../lambda/shared/job-state';
import { mapLimited } from '../../lambda/shared/map-limited';
import { plural } from '../../lambda/shared/plural';
import { CliError, errorLine, UsageError } from './errors';
import { type DeniedDeadLetters, type JobsStore, jobQueue, jobsList, unreadDeadLetterLines } from './jobs';
import { type CommandHints, nextCommand, type Output, type Progress, shellWord } from './output';
import { typeSelector } from './redrive';
import type { Target } from './target';
import type { UnreadablePart } from './unreadable';

/** The filters of a cancel of many jobs, as typed (`--type`, `--tenant`, `--queue`, `--state`). */
export interface JobCancelFlags {
  readonly type?: string;
  readonly tenant?: string;
  readonly queue?: string;
  readonly state?: string;
}

/** Which jobs a cancel of many selects: every job that has not started and matches all of these. */
export interface JobCancelFilter {
  /** A type pattern in the routes' dialect (`lambda/shared/type-pattern.ts`): `email.*`, `orders.**`. */
  readonly type?: string;
  /** The tenant the jobs were sent with, exactly. */
  readonly tenant?: string;
  /** A configured queue's name. */
  readonly queue?: string;
  /** One state of those a cancel changes. @default - any of them */
  readonly state?: CancellableJobState;
}

/** What `jobs cancel` was asked: one job by id, or every job matching a filter. */
export type CancelRequest = { readonly id: string } | { readonly filter: JobCancelFilter };

const FILTER_FLAGS = '--type <pattern>, --tenant <tenant>, --queue <name> or --state <state>';

/**
 * Reads `jobs cancel`'s id and filters, before anything is read: an id alone, or at least one filter (they combine
 * with AND). Both, neither, an empty tenant or type pattern, or a state a cancel does not change is a usage error;
 * an invalid pattern is refused in `redrive --type`'s words. The queue is checked against the target by
 * {@link withConfiguredQueue}.
 */
export function cancelRequestOf(id: string | undefined, flags: JobCancelFlags): CancelRequest {
  const given = (['type', 'tenant', 'queue', 'state'] as const).filter((name) => flags[name] !== undefined);
  if (id !== undefined && given.length > 0) {
    throw new UsageError(
      `jobs cancel takes a job id or filters, not both: drop ${given.map((name) => `--${name}`).join(', ')} to cancel job ${id}, or the id to cancel every job matching them`,
    );
  }
  if (id !== undefined) return { id };
  if (given.length === 0) {
    throw new UsageError(
      `jobs cancel needs a job id, or ${FILTER_FLAGS} to cancel every job that has not started and matches them`,
    );
  }
  checkTypeAndTenant(flags);
  return {
    filter: {
      ...(flags.type !== undefined ? { type: flags.type } : {}),
      ...(flags.tenant !== undefined ? { tenant: flags.tenant } : {}),
      ...(flags.queue !== undefined ? { queue: flags.queue } : {}),
      ...(flags.state !== undefined ? { state: cancellableState(flags.state) } : {}),
    },
  };
}

/**
 * Refuses an empty `--type` or `--tenant` (an unset variable, never "any") and an invalid pattern, before anything
 * is read: the checks of `jobs cancel`'s and `jobs list`'s type and tenant filters.
 */
export function checkTypeAndTenant(flags: Pick<JobCancelFlags, 'type' | 'tenant'>): void {
  if (flags.type !== undefined) typeSelector(flags.type, 'or leave --type out');
  if (flags.tenant !== undefined && flags.tenant.trim() === '') {
    throw new UsageError('--tenant must not be empty: give the tenant the jobs were sent with');
  }
}

/**
 * The filter with its queue as the target configures it: an empty or unknown one is an error naming the configured
 * ones, as `jobs list --queue` says it.
 */
export function withConfiguredQueue(target: Target, filter: JobCancelFilter): JobCancelFilter {
  return filter.queue === undefined ? filter : { ...filter, queue: jobQueue(target, filter.queue) };
}

/** Parses `--state` of a cancel: only a state a cancel changes; any other is a usage error naming those. */
export function cancellableState(value: string): CancellableJobState {
  if (isCancellableJobState(value)) return value;
  const valid = `use one of ${CANCELLABLE_JOB_STATES.join(', ')}`;
  throw new UsageError(
    isJobState(value)
      ? `--state ${value}: a ${value} job is not waiting to start, so it cannot be cancelled: ${valid}`
      : `--state ${value} is not a job state: ${valid}`,
  );
}

/** Whether a job's type and tenant match the filter: what listing reads record by record. */
export function matchesTypeAndTenant(
  filter: Pick<JobCancelFilter, 'type' | 'tenant'>,
): (job: JobStatus) => boolean {
  const type = filter.type === undefined ? undefined : typeSelector(filter.type);
  return (job) =>
    (type === undefined || (job.type !== undefined && type.test(job.type))) &&
    (filter.tenant === undefined || job.tenant === filter.tenant);
}

/** Whether a job, as listed (reconciled), is in a state the filter cancels: its `--state`, else any not started. */
export function inCancelledState(filter: JobCancelFilter, state: JobState): boolean {
  return filter.state === undefined ? isCancellableJobState(state) : state === filter.state;
}

/** The filter as flags, quoted for a shell: what the command lines it prints repeat. */
export function filterFlags(filter: JobCancelFilter): string {
  return (['type', 'tenant', 'queue', 'state'] as const)
    .flatMap((name) => (filter[name] === undefined ? [] : [`--${name} ${shellWord(filter[name])}`]))
    .join(' ');
}

/** A job a cancel of many did not cancel: it started or finished meanwhile, or its record expired. */
export interface SkippedCancel {
  readonly id: string;
  /** Its state when the cancel was refused, `expired` when its record was gone. */
  readonly state: JobState | 'expired';
}

/** What became of the jobs a cancel of many was told were confirmed (the console's dry run named them). */
export interface ConfirmedCancel {
  /** How many jobs were confirmed. */
  readonly confirmed: number;
  /** The confirmed jobs that no longer matched when listed again (they started, finished or changed state). */
  readonly noLongerMatching: readonly string[];
  /** Jobs that matched when listed again but were not confirmed (they matched since): left alone. */
  readonly notConfirmed: number;
}

/** What `jobs cancel` with filters found, and did with `--yes`. */
export interface JobsCancelMatchingResult {
  readonly filter: JobCancelFilter;
  /** Jobs that matched when they were listed (of them, the confirmed ones, when given), each counted once. */
  readonly matched: number;
  /** How many of them were in each state when listed. */
  readonly byState: Readonly<Partial<Record<CancellableJobState, number>>>;
  /** True without `--yes`: nothing was changed, and `ids` are the jobs `--yes` would cancel. */
  readonly dryRun: boolean;
  /** The matched jobs' ids, oldest first. */
  readonly ids: readonly string[];
  /** The ids of the jobs cancelled (none in a dry run). */
  readonly cancelled: readonly string[];
  /** Jobs that matched and were not cancelled: they started or finished meanwhile. */
  readonly skipped: readonly SkippedCancel[];
  /** The error that stopped the cancels early: the jobs it did not reach are neither cancelled nor skipped. */
  readonly stoppedBy?: string;
  /** The dead-letter queues the listing could not read (as `jobs list`'s): a job there is listed as its record says. */
  readonly unreadable?: readonly UnreadablePart[];
  /** With `confirmed` ids: those that no longer matched, and how many matches were left alone for not being among them. */
  readonly confirmed?: ConfirmedCancel;
}

/** What a cancel of many needs besides the store and the filter. */
export interface JobsCancelMatchingOptions {
  /** Cancel them; without it, only say what would be cancelled. @default false */
  readonly yes?: boolean;
  /**
   * The jobs the operator confirmed (what a dry run named): only those of them that still match are cancelled, and a
   * job that matches now but is not among them (it matched since) is left alone.
   * @default - every job that matches
   */
  readonly confirmed?: readonly string[];
  readonly output: CommandHints;
  /** The scan's progress, as `jobs list` reports it. */
  readonly scanProgress?: Progress;
  /** The cancels' progress, made once their number is known. */
  readonly cancelProgress?: (total: number) => Progress;
  /** Reconciles the listed jobs with the dead-letter queues, as `jobs list` does (`withDeadLetteredJobs`). */
  readonly reconcile?: (jobs: readonly JobStatus[], denied: DeniedDeadLetters) => Promise<JobStatus[]>;
  /** How many cancels run at once. @default 8 */
  readonly concurrency?: number;
  /** Stops the cancels (Ctrl-C): those started end, no other starts, and the result says what was done. */
  readonly signal?: AbortSignal;
}

/** What a cancel of many stopped by Ctrl-C says stopped it. */
const INTERRUPTED = 'Interrupted: stopped cancelling by Ctrl-C';

/**
 * Lists the jobs that match `filter` and have not started, as `jobs list` lists them, then (with `yes`) cancels
 * each. Matching nothing is an error naming the filter: a script never reads "cancelled 0" as done.
 */
export async function jobsCancelMatching(
  store: JobsStore,
  filter: JobCancelFilter,
  options: JobsCancelMatchingOptions,
): Promise<JobsCancelMatchingResult> {
  const found = await matchingJobs(store, filter, options);
  const { jobs, confirmed } = onlyConfirmed(found.jobs, options.confirmed);
  if (jobs.length === 0) {
    throw confirmed
      ? noConfirmedMatch(filter, confirmed, options.output)
      : nothingMatched(filter, options.output);
  }
  const listed = {
    filter,
    matched: jobs.length,
    byState: countByState(jobs),
    ids: jobs.map((job) => job.id),
    ...(found.unreadable ? { unreadable: found.unreadable } : {}),
    ...(confirmed ? { confirmed } : {}),
  };
  if (!options.yes) return { ...listed, dryRun: true, cancelled: [], skipped: [] };
  const records = new JobRecords(store.client, store.tableName);
  const done = await cancelEach(records, listed.ids, options);
  return { ...listed, dryRun: false, ...done };
}

/** The jobs `jobs list` lists that match the filter in a state a cancel changes, oldest first. */
async function matchingJobs(store: JobsStore, filter: JobCancelFilter, options: JobsCancelMatchingOptions) {
  const typeAndTenant = matchesTypeAndTenant(filter);
  const list = await jobsList(store, {
    ...(filter.state ? { state: filter.state } : {}),
    ...(filter.queue ? { queue: filter.queue } : {}),
    limit: Number.POSITIVE_INFINITY,
    select: (job) => typeAndTenant(job) && inCancelledState(filter, job.state),
    ...(options.scanProgress ? { progress: options.scanProgress } : {}),
    ...(options.reconcile ? { reconcile: options.reconcile } : {}),
  });
  return {
    // Again once reconciled: a queued record (a state a cancel changes) may turn out dead-lettered.
    jobs: list.jobs.filter((job) => inCancelledState(filter, job.state)),
    unreadable: list.unreadable,
  };
}

/** The matching jobs that were confirmed, when some were, and what became of the others on either side. */
function onlyConfirmed(
  jobs: readonly JobStatus[],
  ids: readonly string[] | undefined,
): { jobs: readonly JobStatus[]; confirmed?: ConfirmedCancel } {
  if (ids === undefined) return { jobs };
  const asked = new Set(ids);
  const kept = jobs.filter((job) => asked.has(job.id));
  const still = new Set(kept.map((job) => job.id));
  return {
    jobs: kept,
    confirmed: {
      confirmed: asked.size,
      noLongerMatching: [...asked].filter((id) => !still.has(id)),
      notConfirmed: jobs.length - kept.length,
    },
  };
}

/** None of the confirmed jobs matches any more: nothing is cancelled, and a match since is named, not touched. */
function noConfirmedMatch(
  filter: JobCancelFilter,
  confirmed: ConfirmedCancel,
  output: CommandHints,
): CliError {
  const flags = filterFlags(filter);
  const newer =
    confirmed.notConfirmed === 0
      ? ''
      : `; ${jobCount(confirmed.notConfirmed)} matching since ${confirmed.notConfirmed === 1 ? 'was' : 'were'} not confirmed, and ${confirmed.notConfirmed === 1 ? 'is' : 'are'} left alone (${nextCommand(output, `jobs cancel ${flags}`)} names them)`;
  const none =
    confirmed.confirmed === 1
      ? 'the confirmed job no longer matches'
      : `none of the ${confirmed.confirmed} confirmed jobs still matches`;
  return new CliError(
    `${none} ${flags} in a state a cancel changes (started, finished or changed state meanwhile): nothing was cancelled${newer}`,
  );
}

const jobCount = (n: number) => plural(n, 'job');

function nothingMatched(filter: JobCancelFilter, output: CommandHints): CliError {
  const states = filter.state ?? CANCELLABLE_JOB_STATES.join(', ');
  // The same filters: `jobs list` selects as a cancel does, so it shows what matched in a state a cancel leaves.
  const list = `jobs list ${filterFlags(filter)}`;
  return new CliError(
    `no job matched ${filterFlags(filter)} in a state a cancel changes (${states}): nothing was cancelled (${nextCommand(output, list)} shows the jobs there are)`,
  );
}

function countByState(jobs: readonly JobStatus[]): Partial<Record<CancellableJobState, number>> {
  const counts: Partial<Record<CancellableJobState, number>> = {};
  for (const { state } of jobs) {
    if (isCancellableJobState(state)) counts[state] = (counts[state] ?? 0) + 1;
  }
  return counts;
}

/**
 * Cancels each id, a few at a time, in its listed order in the result. The first error, or Ctrl-C, stops further
 * cancels (what it did not reach is left as it was); an error before any job was cancelled is the command's error.
 */
async function cancelEach(
  records: JobRecords,
  ids: readonly string[],
  options: JobsCancelMatchingOptions,
): Promise<Pick<JobsCancelMatchingResult, 'cancelled' | 'skipped' | 'stoppedBy'>> {
  const progress = options.cancelProgress?.(ids.length);
  const outcomes = new Map<string, SkippedCancel | 'cancelled'>();
  let stoppedBy: unknown;
  // Whichever comes first, Ctrl-C (seen as the next cancel would start) or a failed cancel, is what stopped them.
  const interrupted = () => {
    if (options.signal?.aborted) stoppedBy ??= new CliError(INTERRUPTED);
    return options.signal?.aborted ?? false;
  };
  const cancelCounted = async (id: string) => {
    try {
      outcomes.set(id, await cancelOne(records, id));
    } finally {
      progress?.update(outcomes.size, ids.length);
    }
  };
  await mapLimited(ids, options.concurrency ?? 8, cancelCounted, { stopWhen: interrupted }).catch((error) => {
    stoppedBy ??= error;
  });
  progress?.done();
  const cancelled = ids.filter((id) => outcomes.get(id) === 'cancelled');
  // An error before anything changed is the command's; Ctrl-C is never an error: the summary says where it stopped.
  if (stoppedBy !== undefined && cancelled.length === 0 && !options.signal?.aborted) throw stoppedBy;
  const skipped = ids.flatMap((id) => {
    const outcome = outcomes.get(id);
    return outcome === undefined || outcome === 'cancelled' ? [] : [outcome];
  });
  return { cancelled, skipped, ...(stoppedBy !== undefined ? { stoppedBy: errorLine(stoppedBy) } : {}) };
}

/** The single cancel's conditional write; refused, the job's state now (it started, finished or expired). */
async function cancelOne(records: JobRecords, id: string): Promise<SkippedCancel | 'cancelled'> {
  const answer = await cancelOrSayWhy(records, id);
  if (answer.outcome === 'cancelled') return 'cancelled';
  if (answer.outcome === 'not-cancellable') return { id, state: answer.state };
  return { id, state: answer.outcome === 'already-cancelled' ? 'cancelled' : 'expired' };
}

/** How many ids a dry run names, and how many skipped jobs a cancel names one by one. */
const NAMED = 10;

/** Says what a cancel of many would do (dry run) or did, with the command that goes on. */
export function renderJobsCancelMatching(output: Output, result: JobsCancelMatchingResult): void {
  const flags = filterFlags(result.filter);
  const states = Object.entries(result.byState)
    .map(([state, n]) => `${n} ${state}`)
    .join(', ');
  if (result.dryRun) {
    const more = result.ids.length > NAMED ? `, and ${result.ids.length - NAMED} more` : '';
    output.line(
      `${jobCount(result.matched)} match ${flags} (${states}): ${result.ids.slice(0, NAMED).join(', ')}${more}`,
    );
    output.line(
      `nothing was cancelled: to cancel them, ${nextCommand(output, `jobs cancel ${flags} --yes`)} (--json lists every id)`,
    );
  } else {
    const of = result.confirmed ? `the ${result.confirmed.confirmed} confirmed` : `${result.matched}`;
    output.line(
      `cancelled ${jobCount(result.cancelled.length)} of ${of} matching ${flags}: the consumer skips them`,
    );
    if (result.confirmed) renderConfirmed(output, flags, result.confirmed);
    for (const skipped of result.skipped.slice(0, NAMED))
      output.line(output.colors.yellow(`skipped ${skipped.id}: ${skippedWhy(skipped)}`));
    if (result.skipped.length > NAMED)
      output.line(output.colors.yellow(`skipped ${result.skipped.length - NAMED} more (--json lists them)`));
    if (result.stoppedBy !== undefined) {
      const left = result.matched - result.cancelled.length - result.skipped.length;
      output.line(
        output.colors.red(
          `stopped: ${result.stoppedBy}; ${jobCount(left)} not reached, left as they were: ${nextCommand(output, `jobs cancel ${flags} --yes`)} cancels them`,
        ),
      );
    }
  }
  for (const line of unreadDeadLetterLines(result.unreadable ?? [])) output.line(output.colors.yellow(line));
}

/** What a confirmed cancel left: the confirmed jobs that no longer matched, and the matches that were not confirmed. */
function renderConfirmed(output: Output, flags: string, confirmed: ConfirmedCancel): void {
  const gone = confirmed.noLongerMatching.length;
  if (gone > 0) {
    const more = gone > NAMED ? `, and ${gone - NAMED} more` : '';
    output.line(
      output.colors.yellow(
        `${jobCount(gone)} confirmed no longer matched, not cancelled (started, finished or changed state meanwhile): ${confirmed.noLongerMatching.slice(0, NAMED).join(', ')}${more}`,
      ),
    );
  }
  if (confirmed.notConfirmed > 0) {
    const were = confirmed.notConfirmed === 1 ? 'was' : 'were';
    output.line(
      output.colors.yellow(
        `${jobCount(confirmed.notConfirmed)} matching since ${were} not confirmed, and left alone: ${nextCommand(output, `jobs cancel ${flags}`)} names them`,
      ),
    );
  }
}

function skippedWhy(skipped: SkippedCancel): string {
  if (skipped.state === 'expired') return 'its record expired before it could be cancelled';
  if (skipped.state === 'cancelled') return 'another cancel cancelled it meanwhile';
  return `it is ${skipped.state}: it started before it could be cancelled, and is not cancelled`;
}

/**
 * Whether every matched job is cancelled now (by this command, or by another cancel meanwhile): else the command
 * exits 1, as `jobs cancel <id>` of a job that started does.
 */
export function allCancelled(result: JobsCancelMatchingResult): boolean {
  return result.stoppedBy === undefined && result.skipped.every((s) => s.state === 'cancelled');
}
