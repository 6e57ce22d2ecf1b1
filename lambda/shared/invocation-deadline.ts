/**
 * An invocation's deadline, shared by the functions that stop waiting before Lambda's timeout does (the consumer
 * runtime's deadline margin, the ingest's request deadline): the remaining time, read from the Lambda context, and
 * the alarm that rings at the margin.
 */

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
