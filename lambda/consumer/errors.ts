/**
 * Errors that decide what happens to a failed record.
 *
 * Anything a handler throws is retryable (backoff, then the DLQ on the last attempt) unless it is a
 * {@link PermanentError}: retrying cannot fix it, so the record goes to the DLQ at once, with its reason.
 */

import { type Delay, delayMsOf } from '../shared/duration';
import { MAX_RETRY_DELAY_SECONDS } from '../shared/job-retry';
import { plural } from '../shared/plural';

/**
 * Throw this from a handler when retrying cannot help (the event is malformed, refers to something that will
 * never exist, ...): the record goes straight to the dead-letter queue with the error's name and message.
 */
export class PermanentError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PermanentError';
  }
}

/** The message body is not a valid hookline envelope (never retried). */
export class InvalidEnvelopeError extends PermanentError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidEnvelopeError';
  }
}

/** No handler key matches the event and the consumer has no `default` handler (never retried). */
export class UnknownEventTypeError extends PermanentError {
  constructor(key: string) {
    super(`no handler for "${key}" and no default handler`);
    this.name = 'UnknownEventTypeError';
  }
}

/** The payload does not satisfy the handler's schema, or cannot be parsed as its content type (never retried). */
export class InvalidPayloadError extends PermanentError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidPayloadError';
  }
}

/** The name a gone body's dead letter carries as its reason (`hookline.error.name`): a redrive cannot succeed. */
export const PAYLOAD_GONE_ERROR = 'PayloadGoneError';

/**
 * A claim-checked body that is no longer in the payload bucket (S3 answered NoSuchKey): its lifecycle rule deleted it
 * after `payloads.expiry`, or someone deleted it. Nothing brings it back, so retrying only delays the DLQ.
 */
export class PayloadGoneError extends PermanentError {
  constructor(uri: string, sizeBytes: number, options?: ErrorOptions) {
    super(
      `the stored body ${uri} (${sizeBytes} bytes) no longer exists: the payload bucket deletes bodies after payloads.expiry, or it was deleted; retrying cannot bring it back`,
      options,
    );
    this.name = PAYLOAD_GONE_ERROR;
  }
}

/**
 * A claim-checked body S3 refused to read (403). Retryable: it may be a grant being deployed. S3 answers 403, not
 * 404, for a missing object to a caller that may not list the bucket (consumers may not), so the message names
 * both causes rather than let the reason read as a permission bug only.
 */
export class PayloadUnreadableError extends Error {
  constructor(uri: string, answer: string, options?: ErrorOptions) {
    super(
      `cannot read the stored body ${uri} (${answer}): S3 answers so when the object no longer exists (deleted after payloads.expiry, or by hand) as well as when this function may not read it`,
      options,
    );
    this.name = 'PayloadUnreadableError';
  }
}

/**
 * The record's handler was still running when the invocation reached its deadline margin: the runtime stopped
 * waiting for it so the batch could report and dead-letter before Lambda ends the invocation. Retryable: a slow
 * dependency may answer next time.
 */
export class InvocationTimeoutError extends Error {
  constructor(marginMs: number) {
    super(
      `did not finish before the invocation's timeout: still running with less than the deadline margin (${marginMs} ms) left`,
    );
    this.name = 'InvocationTimeoutError';
  }
}

/**
 * A record that never started (held back by the deadline, the rate limit or an earlier failure of its FIFO group)
 * on its last receive. Handed back, SQS would move it to the DLQ on its next receive without a reason; the runtime
 * dead-letters it itself with this one.
 */
export class NotStartedError extends Error {
  constructor(why: string, maxReceiveCount: number) {
    super(`${why}, on its last receive (maxReceiveCount ${maxReceiveCount})`);
    this.name = 'NotStartedError';
  }
}

/**
 * A copy of an event (a duplicate delivery) that found its idempotency key held by another execution on its queue's
 * last receive: it never ran here, and the execution holding the key records the event's outcome (a job's record
 * says what that execution did, never this copy's dead letter). Redriven, the copy is a duplicate once that execution
 * completed the event, and runs it otherwise.
 */
export class DuplicateCopyError extends Error {
  constructor(maxReceiveCount: number, keyError: unknown) {
    const held = describeError(keyError);
    super(
      `a duplicate copy, not run here: another execution held this event's idempotency key on this copy's last receive (maxReceiveCount ${maxReceiveCount}); that execution records the event's outcome (${held.name}: ${held.message})`,
      { cause: keyError },
    );
    this.name = 'DuplicateCopyError';
  }
}

/**
 * A job that asked for fewer attempts than its queue's `maxReceiveCount` (`send(..., { attempts })`) failed on
 * its last one: SQS would retry it, so the runtime dead-letters it itself, with the error that ended it.
 */
export class AttemptsExhaustedError extends Error {
  constructor(attempt: number, attempts: number, lastError: unknown) {
    const last = describeError(lastError);
    super(`attempts exhausted: ${attempt} of ${attempts} (last error: ${last.name}: ${last.message})`, {
      cause: lastError,
    });
    this.name = 'AttemptsExhaustedError';
  }
}

/**
 * A retryable failure whose next attempt would come after its queue's retention ends: SQS would delete the message
 * then, unseen and without a dead letter, so the runtime dead-letters it now with the error that failed it, and a
 * redrive can still run it.
 */
export class RetentionEndsError extends Error {
  constructor(delaySeconds: number, leftSeconds: number, lastError: unknown) {
    const last = describeError(lastError);
    super(
      `not retried: its queue deletes it in ${Math.max(0, leftSeconds)} s (its retentionPeriod ends), before its ${delaySeconds} s retry delay would (last error: ${last.name}: ${last.message})`,
      { cause: lastError },
    );
    this.name = 'RetentionEndsError';
  }
}

/** The name of a {@link FlowParentError}, as a dead letter's failure attributes carry it. */
export const FLOW_PARENT_ERROR = 'FlowParentError';

/**
 * A flow's child ran and its record says `completed`, but counting it on its parent (or sending the parent) failed.
 * Retryable: its next delivery, a duplicate where idempotency is on, does that step alone. Dead-lettered on its last
 * attempt, its record still says `completed` (it did run), and a redrive finishes the step.
 */
export class FlowParentError extends Error {
  constructor(parentId: string, cause: unknown) {
    const failure = describeError(cause);
    super(
      `the job ran, and its completion could not be recorded on its flow parent ${parentId}: ${failure.name}: ${failure.message}`,
      { cause },
    );
    this.name = FLOW_PARENT_ERROR;
  }
}

/**
 * Throw this from a handler when the failure says when to try again (a `Retry-After`, a rate limit's reset): the
 * record is retried as any failure, but not before `delay` from now. `delay` is a duration as a job's `delay` takes
 * it (`{ seconds: 30 }`, `{ minutes: 1, seconds: 30 }`), the Date it may run again (a reset time), or a number of
 * seconds (rounded up to whole seconds; one that is not 0 or more waits none). Its next attempt comes after the
 * larger of this and the queue's backoff, at most 11 h 40 min (`MAX_RETRY_DELAY_SECONDS`); on the record's last
 * attempt it is dead-lettered as any failure, so `maxReceiveCount` still bounds how often it runs. A duration that is
 * not one (`{ secs: 5 }`, `{ seconds: '5' }`, a negative unit) is refused as a job's `delay` is, with a `TypeError`
 * naming the fix, which then fails the record in its place (retried with the queue's backoff).
 */
export class RetryLaterError extends Error {
  /** Whole seconds, from 0 to 42,000. */
  readonly delaySeconds: number;
  constructor(delay: number | Delay, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RetryLaterError';
    this.delaySeconds = retryDelaySeconds(typeof delay === 'number' ? delay : retryDelayMs(delay) / 1000);
  }
}

/** A {@link RetryLaterError}'s duration or Date, read and refused as a job's `delay` is. */
function retryDelayMs(delay: Delay): number {
  return delayMsOf(delay, Date.now(), 'RetryLaterError delay', (message) => new TypeError(message));
}

/**
 * A delay as a visibility can take it: whole seconds, rounded up, within [0, 11 h 40 min]; anything not a number is 0. What a
 * {@link RetryLaterError} waits, so a reason can say when the wait asked for was capped.
 */
export function retryDelaySeconds(seconds: number): number {
  if (Number.isNaN(seconds) || seconds <= 0) return 0;
  return Math.min(MAX_RETRY_DELAY_SECONDS, Math.ceil(seconds));
}

/** Powertools' name for a record it found gone when it read back the idempotency record its lock collided with. */
const KEY_GONE_ERROR = 'IdempotencyItemNotFoundError';

/** The name of a {@link KeyReleasedByOtherCopyError}. */
const KEY_RELEASED_ERROR = 'KeyReleasedByOtherCopyError';

/**
 * Another copy of the event held its idempotency key when this copy tried to take it, and released it (its run
 * failed) before this copy read that record back. Only where the store does not hand back the record a lock collides
 * with. DynamoDB does, and so does local mode's emulator once local mode corrects it (`lib/local/dynalite-fixes.ts`):
 * the copy is then in progress elsewhere. This remains only for a dynalite whose internals that correction no longer
 * finds. Retryable: the key is free, so the next attempt runs the event, unless another copy completes it first.
 */
export class KeyReleasedByOtherCopyError extends Error {
  constructor(options?: ErrorOptions) {
    super(
      'another copy of this event held its idempotency key when this copy tried to take it, and released it before this copy could read it (that copy failed): retried, never dropped; the next attempt runs it unless another copy completes it first',
      options,
    );
    this.name = KEY_RELEASED_ERROR;
  }
}

/** The gate's error in hookline's words where Powertools names an internal step: a vanished key is a copy's release. */
export function keyErrorInOurWords(error: unknown): unknown {
  return error instanceof Error && nameOf(error) === KEY_GONE_ERROR
    ? new KeyReleasedByOtherCopyError({ cause: error })
    : error;
}

/** Powertools' name for the error of a record whose idempotency key another execution holds. */
export const KEY_IN_PROGRESS_ERROR = 'IdempotencyAlreadyInProgressError';

/** Another execution holds the record's idempotency key (read by name: Powertools' class is not ours). */
export function isKeyInProgress(error: unknown): boolean {
  return error instanceof Error && nameOf(error) === KEY_IN_PROGRESS_ERROR;
}

/**
 * The record's attempt met its idempotency key held by another execution (in progress elsewhere, or released by
 * another copy as this one collided): its handler did not run, so this is no failure of it.
 */
export function isKeyHeldElsewhere(error: unknown): boolean {
  return isKeyInProgress(error) || (error instanceof Error && nameOf(error) === KEY_RELEASED_ERROR);
}

/**
 * The earliest next attempt a failure asks for, in seconds ({@link RetryLaterError}); 0 for any other error. Reads
 * the field by name too, so an error from another bundle's copy of this class still counts.
 */
export function requestedRetryDelaySeconds(error: unknown): number {
  if (error instanceof RetryLaterError) return error.delaySeconds;
  if (error instanceof Error && nameOf(error) === 'RetryLaterError') {
    const delay = (error as { delaySeconds?: unknown }).delaySeconds;
    return typeof delay === 'number' ? retryDelaySeconds(delay) : 0;
  }
  return 0;
}

/** True for errors that must not be retried. Checks the name too, so copies from another bundle still count. */
export function isPermanent(error: unknown): boolean {
  return error instanceof PermanentError || (error instanceof Error && nameOf(error) === 'PermanentError');
}

/**
 * The most characters of a described error's message: the reason goes into the record's outcome line, its job
 * record and (cut shorter) its dead letter's attributes, and a message of megabytes would make the outcome line
 * larger than a CloudWatch Logs event (256 KB), which cuts it, so it no longer parses and no query finds it.
 */
export const MAX_DESCRIBED_MESSAGE_LENGTH = 4_000;
/** The most characters of a described error's name (a dead letter's `hookline.error.name` keeps as many). */
export const MAX_DESCRIBED_NAME_LENGTH = 256;

/**
 * Name and message of anything thrown, for logs and dead-letter attributes: always two strings, the message at
 * most {@link MAX_DESCRIBED_MESSAGE_LENGTH} characters. Never throws, whatever was thrown (an object without a
 * prototype, a `toString` or getter that throws, a message that is not a string): a description that failed would
 * cost the record its outcome, its backoff and its dead letter's reason.
 */
export function describeError(error: unknown): { name: string; message: string } {
  if (error instanceof Error) {
    const own = textOf(() => error.message);
    const inner = innerErrorsText(error);
    const message = inner ? (own ? `${own} (${inner})` : inner) : own || textOf(() => String(error));
    const name = cutText(nameOf(error), MAX_DESCRIBED_NAME_LENGTH) || 'Error';
    return { name, message: cutText(message, MAX_DESCRIBED_MESSAGE_LENGTH) };
  }
  const message = typeof error === 'string' ? error : safeStringify(error);
  return { name: 'NonErrorThrown', message: cutText(message, MAX_DESCRIBED_MESSAGE_LENGTH) };
}

/**
 * The inner errors of an `AggregateError` (`Promise.any`, `Promise.allSettled` gathered by hand), described one by
 * one: its own message (`All promises were rejected`) says nothing of why, and the logger does not write them.
 * Empty for any other error. Stops once the text is longer than a description keeps, so ten thousand inner errors
 * cost no more than a few; an inner AggregateError is described by its own message alone, so nesting cannot loop.
 */
function innerErrorsText(error: Error): string {
  const errors = readOrNothing(() => (error instanceof AggregateError ? error.errors : undefined));
  if (!Array.isArray(errors) || errors.length === 0) return '';
  const parts: string[] = [];
  let length = 0;
  for (const inner of errors) {
    if (length > MAX_DESCRIBED_MESSAGE_LENGTH) break;
    const text =
      inner instanceof Error
        ? `${nameOf(inner) || 'Error'}: ${textOf(() => inner.message)}`
        : describeError(inner).message;
    parts.push(cutText(text, MAX_DESCRIBED_MESSAGE_LENGTH));
    length += text.length + 2;
  }
  return `${plural(errors.length, 'error')}: ${parts.join('; ')}`;
}

/** What `read` returns; undefined when reading throws. */
function readOrNothing(read: () => unknown): unknown {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/**
 * The most characters of a failure as the outcome line logs it (message, stack, the cause chain and the error's
 * own fields): well under the 256 KB of a CloudWatch Logs event, which cuts a longer one so that it no longer
 * parses, and no query (nor local mode) finds the record's outcome.
 */
export const MAX_LOGGED_ERROR_LENGTH = 16_000;

/**
 * What a record's outcome line logs of its failure: the error itself, which the logger writes with its name,
 * message, location, stack, cause and own fields (its stack is only formatted here, on a failure), or, for a thrown
 * non-Error, which has no stack, its description. An error that would log longer than
 * {@link MAX_LOGGED_ERROR_LENGTH} (a long message, or a short one with a megabyte in its cause or in a field such as
 * an HTTP client's response body), or whose cause chain loops, is logged as its description, its stack as
 * {@link describedStack} writes it (the stack repeats the message) and its cause described, its other fields left
 * out.
 */
export function loggedError(
  error: unknown,
):
  | Error
  | { name: string; message: string; stack?: string | undefined; cause?: { name: string; message: string } } {
  if (!(error instanceof Error)) return describeError(error);
  if (loggedLength(error, new Set()) <= MAX_LOGGED_ERROR_LENGTH) return error;
  const described = describeError(error);
  const cause = readOrNothing(() => error.cause);
  return {
    ...described,
    stack: describedStack(error, described),
    ...(cause === undefined ? {} : { cause: describeError(cause) }),
  };
}

/** The most frames {@link describedStack} keeps (V8 records 10 unless `Error.stackTraceLimit` says more). */
const MAX_DESCRIBED_FRAMES = 20;

/**
 * An error's stack as long as its description allows: its first line (which repeats the message, of any length)
 * written as `name: message` from the description, then its frames, so where it was thrown still shows whatever
 * the message was. Empty when the error has no stack.
 */
export function describedStack(error: Error, described: { name: string; message: string }): string {
  const stack = textOf(() => error.stack);
  if (stack === '') return '';
  const frames = stack
    .split('\n')
    .filter((line) => line.trimStart().startsWith('at '))
    .slice(0, MAX_DESCRIBED_FRAMES)
    .map((line) => cutText(line, MAX_DESCRIBED_NAME_LENGTH * 2));
  return [`${described.name}: ${described.message}`, ...frames].join('\n');
}

/**
 * About how many characters the logger writes for `error`, as Powertools formats it (message, stack, every
 * enumerable field, then its cause the same way); infinite when the chain loops (the logger's formatting would
 * never end) or a field cannot be read or written as JSON, so such an error is logged by its description.
 */
function loggedLength(error: Error, seen: Set<unknown>): number {
  if (seen.has(error)) return Number.POSITIVE_INFINITY;
  seen.add(error);
  try {
    let length = textOf(() => error.message).length + textOf(() => error.stack).length;
    for (const key in error) {
      if (key === 'name' || key === 'message' || key === 'stack' || key === 'cause') continue;
      length += key.length + jsonLength((error as unknown as Record<string, unknown>)[key]);
      if (length > MAX_LOGGED_ERROR_LENGTH) return length;
    }
    const cause = error.cause;
    return length + (cause instanceof Error ? loggedLength(cause, seen) : jsonLength(cause));
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** The length of `value` as JSON; throws when JSON cannot write it (a cycle, a BigInt). */
function jsonLength(value: unknown): number {
  return JSON.stringify(value)?.length ?? 0;
}

/** Cut to `max` characters, never between the two halves of a surrogate pair (a lone half is refused by SQS). */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}

/** An error's name; empty when reading it throws or it is not a string. */
function nameOf(error: Error): string {
  return textOf(() => error.name);
}

/** What `read` returns, as text: a string as it is, anything else written out; empty when reading throws. */
function textOf(read: () => unknown): string {
  try {
    const value = read();
    return typeof value === 'string' ? value : value === undefined ? '' : safeStringify(value);
  } catch {
    return '';
  }
}

/** Any value as text: JSON, else its own text, else what it is (a value without a prototype has no `toString`). */
function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    try {
      return String(value);
    } catch {
      return `(a thrown ${typeof value} that cannot be written as text)`;
    }
  }
}
