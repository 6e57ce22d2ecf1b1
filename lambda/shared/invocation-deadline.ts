/**
 * An invocation's deadline, shared by the functions that stop waiting before Lambda's timeout does: the remaining
 * time, read from the Lambda context; the consumer runtime's alarm, one per batch, that rings at its deadline
 * margin; and the request deadline of the HTTP functions (the ingest, the jobs endpoint): one watch timer for all
 * requests, since a request is far shorter and far more frequent than a batch.
 */

/**
 * Lambda's longest timeout, 15 minutes (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html): no
 * invocation runs longer, so nothing it holds outlives this.
 */
export const MAX_INVOCATION_MS = 15 * 60 * 1000;

/** The part of the Lambda context a deadline needs. */
export interface InvocationContext {
  getRemainingTimeInMillis(): number;
}

/** Used when invoked without a Lambda context (a script or test calling the handler directly): no deadline. */
export const NO_DEADLINE: InvocationContext = { getRemainingTimeInMillis: () => Number.MAX_SAFE_INTEGER };

/** The context's deadline, or {@link NO_DEADLINE} for a caller that passed no (or a partial) Lambda context. */
export function invocationOf(context: Partial<InvocationContext> | undefined): InvocationContext {
  return typeof context?.getRemainingTimeInMillis === 'function'
    ? (context as InvocationContext)
    : NO_DEADLINE;
}

/** Calls `ring` once, `delayMs` from now, unless the returned cancel is called first. */
export type Alarm = (delayMs: number, ring: () => void) => () => void;

/** `setTimeout` runs a longer delay at once; no invocation lasts that long (a context without a deadline does). */
export const MAX_ALARM_MS = 2 ** 31 - 1;

/** An {@link Alarm} on a timer. */
export function timerAlarm(delayMs: number, ring: () => void): () => void {
  const timer = setTimeout(ring, delayMs);
  return () => clearTimeout(timer);
}

/** A request waiting for its deadline: `due()` says whether it has come; then `ring()` is called, once. */
export interface WatchedDeadline {
  due(): boolean;
  ring(): void;
}

/** Watches deadlines; the returned function stops watching one (its request was answered). */
export interface DeadlineWatch {
  watch(deadline: WatchedDeadline): () => void;
}

/** Rings each watched deadline that is due, and stops watching it; true when one rang. */
export function ringDue(watched: Set<WatchedDeadline>): boolean {
  let rang = false;
  for (const deadline of watched) {
    if (!deadline.due()) continue;
    watched.delete(deadline);
    deadline.ring();
    rang = true;
  }
  return rang;
}

/** How often {@link timerDeadlineWatch} checks: a deadline rings at most this late. */
export const DEADLINE_CHECK_MS = 50;

/**
 * A {@link DeadlineWatch} on one timer for the whole process rather than one per request: while any deadline is
 * watched it checks them all every {@link DEADLINE_CHECK_MS}, and it stops at a check that finds none. A request
 * then pays a set insertion and removal, and a timer only when it arrives in an idle process. Unref'd: it never
 * keeps a process alive.
 */
export function timerDeadlineWatch(periodMs = DEADLINE_CHECK_MS): DeadlineWatch {
  const watched = new Set<WatchedDeadline>();
  let timer: ReturnType<typeof setInterval> | undefined;
  const check = () => {
    if (watched.size > 0) {
      ringDue(watched);
      return;
    }
    clearInterval(timer);
    timer = undefined;
  };
  return {
    watch(deadline) {
      watched.add(deadline);
      timer ??= setInterval(check, periodMs).unref();
      return () => watched.delete(deadline);
    },
  };
}

/**
 * A request's deadline margin: a request still waiting on a dependency when this much of the invocation is left
 * is answered 503, well before Lambda's timeout (which API Gateway answers with its own 5xx error, and no outcome
 * line is written). One second is ample for writing the answer, the outcome line and the metrics.
 */
export const DEADLINE_MARGIN_MS = 1_000;
/** The margin is at most this share of the time left at the request's start (a short timeout keeps most of it). */
export const DEADLINE_MARGIN_SHARE = 0.1;

/**
 * The request's decision, or `reached()`'s answer if the deadline comes first: when no more than the margin
 * ({@link DEADLINE_MARGIN_MS}, at most {@link DEADLINE_MARGIN_SHARE} of what is left now) remains of the
 * invocation. The watch asks the invocation for its remaining time at each check, so a clock that runs slower than
 * the wall's (local mode charges a sandbox shared by several requests only its share of it) is followed as it is.
 * Without a deadline ({@link NO_DEADLINE}) the decision is returned as it is, and nothing is watched.
 */
export function untilDeadline<T>(
  deciding: Promise<T>,
  watch: DeadlineWatch,
  invocation: InvocationContext,
  reached: () => T,
): Promise<T> {
  const remainingMs = invocation.getRemainingTimeInMillis();
  if (remainingMs > MAX_ALARM_MS) return deciding;
  const marginMs = Math.min(DEADLINE_MARGIN_MS, remainingMs * DEADLINE_MARGIN_SHARE);
  return new Promise<T>((resolve, reject) => {
    const unwatch = watch.watch({
      due: () => invocation.getRemainingTimeInMillis() <= marginMs,
      ring: () => resolve(reached()),
    });
    deciding.then(
      (result) => {
        unwatch();
        resolve(result);
      },
      (error: unknown) => {
        unwatch();
        reject(error);
      },
    );
  });
}
