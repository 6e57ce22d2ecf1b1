/**
 * When SQS deletes a dead letter: its dead-letter queue's `MessageRetentionPeriod` after its enqueue. `failed list`,
 * `failed summary` and the console's failures page say it, the same way, since the expiry alarm on the queue's
 * `ApproximateAgeOfOldestMessage` leaves out a message received three times or more, and reading dead letters
 * receives them: the operator who looks at them is the one the alarm stops telling. SQS states the rule for standard queues, which move such a message to the back
 * and leave it out of the metric until it is deleted ("poison-pill" messages); of FIFO queues it says only that
 * they keep their order, so a FIFO dead-letter queue's letters are warned about alike
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html).
 *
 * The enqueue counted is the message's `SentTimestamp`. SQS documents that a standard queue's message keeps its
 * first enqueue time when it moves to the dead-letter queue (so its time there is shorter than the retention), a
 * FIFO queue's message starts anew there, and a letter the consumer dead-lettered itself (`SendMessage`) is a new
 * message (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/setting-up-dead-letter-queue-retention.html).
 * SQS does not say whether a FIFO message's `SentTimestamp` changes with that move; if it keeps its first send, the
 * time given is earlier than SQS's deletion, never later: it is the earliest SQS may delete the letter.
 *
 * It lives beside the console's page (as `human-age.ts` does) because the console rebuilds its bundle when a file in
 * this folder changes; the CLI imports it from here.
 */
import { humanAge } from './human-age';

/**
 * How long before SQS deletes a dead letter hookline speaks up: the time a fix, a redrive or a save of the letters
 * may take. `failed` and the console warn under this long left, and the stack's expiry alarm fires this long before the deletion
 * (`deadLetterExpiryAlarmAge` in lib/alarm-conditions.ts, which reads it from here): one margin, so the alarm and the
 * command that answers it never disagree about which letters are about to go. Seconds, in this module without
 * aws-cdk-lib, which the CLI does not load.
 */
export const DEAD_LETTER_EXPIRY_MARGIN_SECONDS = 2 * 86_400;

/** When SQS deletes a letter sent at `sentAt` from a queue keeping messages `retentionSeconds`; null if unknown. */
export function deletedBySqsAt(
  sentAt: string | null | undefined,
  retentionSeconds: number | undefined,
): string | null {
  if (sentAt === null || sentAt === undefined || retentionSeconds === undefined) return null;
  const sent = Date.parse(sentAt);
  return Number.isFinite(sent) ? new Date(sent + retentionSeconds * 1000).toISOString() : null;
}

/** Seconds from `now` until `at` (negative once past). */
export function secondsUntil(at: string, now = Date.now()): number {
  return (Date.parse(at) - now) / 1000;
}

/** Whether a letter SQS deletes at `at` has less than {@link DEAD_LETTER_EXPIRY_MARGIN_SECONDS} left. */
export function expiresSoon(at: string | null, now = Date.now()): boolean {
  return at !== null && secondsUntil(at, now) < DEAD_LETTER_EXPIRY_MARGIN_SECONDS;
}

/** `in 2d 3h`, `in 5h 12m`; `any moment now` once the time is past (SQS deletes within a while of it). */
export function timeLeft(at: string, now = Date.now()): string {
  const left = secondsUntil(at, now);
  return left > 0 ? `in ${humanAge(left)}` : 'any moment now';
}

/**
 * Why a letter SQS deletes at `at` is worth acting on now: `which` names it (`the oldest shown`, `failure 0a78ca1c:
 * its oldest`). Each reader adds how to save it there: {@link saveDeadLettersArgs} on its pipeline.
 */
export function expiryWarning(which: string, at: string, now = Date.now()): string {
  const days = DEAD_LETTER_EXPIRY_MARGIN_SECONDS / 86_400;
  return `${which} dead letter is deleted by SQS ${timeLeft(at, now)} (at ${at}, under ${days} days): act on it before then`;
}

/** The earliest of the deletion times given, or null when none is known. */
export function soonestDeletion(times: readonly (string | null | undefined)[]): string | null {
  return times.filter((at): at is string => typeof at === 'string').sort()[0] ?? null;
}

/** Said once under the times when the DLQ's retention could not be read, so no letter's time is known. */
export const RETENTION_UNKNOWN =
  "when SQS deletes these letters is unknown: the DLQ's retention could not be read";

/**
 * The command (after `hookline`, before the target flags) that saves every dead letter of `queue` to a file
 * `failed restore` puts back: the one home of what the expiry alarm, the CLI's and the console's warnings and the
 * READMEs tell an operator to run before SQS deletes them. `file` as `<file>` where there is no room for a name.
 */
export function saveDeadLettersArgs(queue: string, file = savedFileName(queue)): string {
  return `failed save ${queue} --out ${file}`;
}

/** The file {@link saveDeadLettersArgs} names: `dead-letters-events.jsonl` (a schedule's `:` kept out of it). */
export function savedFileName(queue: string): string {
  return `dead-letters-${queue.replace(/[^\w.-]/g, '-')}.jsonl`;
}
