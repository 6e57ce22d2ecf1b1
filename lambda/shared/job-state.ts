/**
 * The states a job can be in (its record is `./job-record`). Apart from the record so that readers of a state
 * name alone, the CLI's flag parsing among them, do not load the DynamoDB client.
 */

/**
 * Every state a job can be in. `retrying` is never stored: it is a `processing` record whose last attempt failed
 * and that waits out its backoff (`lastError`, `retryAt`), so a reader of an earlier version still sees it
 * `processing`. `waiting-children` is a flow's parent (`sendFlow`): kept, not sent, until its last child completes.
 * `child-failed` is such a parent one of whose children sent with `failParentOnFailure` was dead-lettered: it is
 * never sent unless that child runs again and completes (a redrive), or an operator cancels it.
 */
export const JOB_STATES = [
  'scheduled',
  'waiting-children',
  'queued',
  'processing',
  'retrying',
  'completed',
  'dead-lettered',
  'child-failed',
  'cancelled',
] as const;

/** True when `value` names a job state. */
export const isJobState = (value: string): value is JobState =>
  (JOB_STATES as readonly string[]).includes(value);
/** A job's state: one of {@link JOB_STATES}. */
export type JobState = (typeof JOB_STATES)[number];

/**
 * The states a cancel changes: a job that has not started (delayed, waiting in its queue, or a flow parent waiting
 * for its children or failed by one of them). `JobRecords.cancel` writes `cancelled` only from these.
 */
export const CANCELLABLE_JOB_STATES = ['scheduled', 'waiting-children', 'queued', 'child-failed'] as const;

/** A state a cancel changes: one of {@link CANCELLABLE_JOB_STATES}. */
export type CancellableJobState = (typeof CANCELLABLE_JOB_STATES)[number];

/** True when a job in `state` has not started, so a cancel changes it. */
export const isCancellableJobState = (state: string): state is CancellableJobState =>
  (CANCELLABLE_JOB_STATES as readonly string[]).includes(state);
