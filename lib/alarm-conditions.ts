/**
 * The conditions and the words of the deployed alarms local mode announces too: the stack's alarms
 * (`pipeline-alarms.ts`) and local mode's announcements (`local/alarm-watch.ts`, `local/delete-failures.ts`) read the
 * thresholds and the sentences from here, so a crossing said on `npm start` is the one the deployed alarm pages for.
 * No constructs: local mode loads it.
 */
import { Duration } from 'aws-cdk-lib/core';
import { DEFAULTS } from './config';
import { DEAD_LETTER_EXPIRY_MARGIN_SECONDS } from './console/ui/dead-letter-expiry';

/**
 * How long a dead letter of `queue` stays in its dead-letter queue at least, as the dead-letter queue's
 * `ApproximateAgeOfOldestMessage` counts it. That metric counts from the move to the dead-letter queue, while SQS
 * deletes a message of a standard queue `deadLetterRetention` after it was first sent to `queue`, so a message
 * moved at the end of the queue's `retention` has only the difference left; a FIFO queue's move resets the clock
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/setting-up-dead-letter-queue-retention.html).
 */
export function deadLetterLifetime(queue: {
  readonly fifo: boolean;
  readonly retentionPeriod: Duration;
  readonly deadLetterRetentionPeriod: Duration;
}): Duration {
  const retained = queue.deadLetterRetentionPeriod.toSeconds();
  return Duration.seconds(queue.fifo ? retained : retained - queue.retentionPeriod.toSeconds());
}

/**
 * How long before SQS deletes a dead letter its expiry alarm fires, at most: the margin under which `hookline failed`
 * warns too ({@link DEAD_LETTER_EXPIRY_MARGIN_SECONDS}, its one home, which the CLI reads without aws-cdk-lib).
 */
export const DEAD_LETTER_EXPIRY_MARGIN = Duration.seconds(DEAD_LETTER_EXPIRY_MARGIN_SECONDS);

/**
 * The age at which a dead letter living `lifetime` is alarmed on: {@link DEAD_LETTER_EXPIRY_MARGIN} before it is
 * deleted, or halfway through a lifetime shorter than twice that, so a short retention still leaves time to act
 * and never alarms on a dead letter that just arrived (the dead-letter alarm's job).
 */
export function deadLetterExpiryAlarmAge(lifetime: Duration): Duration {
  const seconds = lifetime.toSeconds();
  return Duration.seconds(seconds - Math.min(DEAD_LETTER_EXPIRY_MARGIN.toSeconds(), Math.floor(seconds / 2)));
}

/** A dead-letter queue as its expiry alarm names it. */
export interface ExpiryAlarmQueue {
  /** The name the CLI takes. */
  readonly cliName: string;
  /** See {@link deadLetterLifetime}. */
  readonly lifetime: Duration;
  /** Whether `hookline redrive` moves its letters back (a Scheduler dead-letter queue's may not). */
  readonly redrivable: boolean;
}

/**
 * What an expiry alarm of `group` (queues of one alarm age, at least one) says, up to the command that saves the
 * letters of its first redrivable queue, which the reader appends (`or first save them: `): the queues, how long is
 * left, why the age metric may miss letters that were read, and the commands, `cli` writing each as the reader types
 * it.
 */
export function deadLettersExpiringText(
  group: readonly ExpiryAlarmQueue[],
  cli: (command: string) => string,
): { readonly said: string; readonly subject: string } {
  const first = group[0];
  if (!first) return { said: '', subject: '' };
  const age = deadLetterExpiryAlarmAge(first.lifetime);
  const names = (queues: readonly ExpiryAlarmQueue[]) => queues.map((q) => `"${q.cliName}"`).join(', ');
  // The commands name a queue a redrive moves back, when there is one; the others' `failed summary` says what to do.
  const subject = group.find((q) => q.redrivable) ?? first;
  const q = subject.cliName;
  const unredrivable = group.filter((other) => !other.redrivable && other !== subject);
  const exceptions = !subject.redrivable
    ? ` ${group.length === 1 ? 'It' : 'None of them'} can be redriven: failed summary says what to do instead.`
    : unredrivable.length === 0
      ? ''
      : ` ${names(unredrivable)} cannot be redriven: failed summary says what to do instead.`;
  // Only a consumer dead-letters a record itself (a new message, with a life of its own); Scheduler does not.
  const ownLetters = group.some((member) => member.redrivable)
    ? ' (ones the consumer dead-lettered itself live longer)'
    : '';
  const then = subject.redrivable
    ? `fix the cause, ${cli(`redrive ${q}`)}`
    : 'fix the cause and do as it says (no redrive)';
  const said = `Dead letters in the DLQ of ${group.length === 1 ? '' : 'one of '}${names(group)} are older than ${age.toHumanString()}: SQS may delete them within ${first.lifetime.minus(age).toHumanString()}${ownLetters}, and the DLQ alarm then returns to OK, the events lost. Letters read 3+ times (hookline failed) leave SQS's age metric: do not wait for this alarm.${exceptions} For "${q}" (others alike): ${cli(`failed summary ${q}`)}, ${then}; or first save them: `;
  return { said, subject: q };
}

/**
 * The period the consumers' failed deletes are summed over (their `DeleteFailed` metric, every consumer's), one of
 * the {@link DELETE_FAILED_PERIODS} in a row that page.
 */
export const DELETE_FAILED_PERIOD = DEFAULTS.functionAlarmPeriod;

/**
 * How many periods in a row of failed deletes the consumers' alarm waits for: a sustained rate, not one SQS error,
 * which the batch response makes good.
 */
export const DELETE_FAILED_PERIODS = 3;

/**
 * What the consumers' failed-deletes alarm says, for periods of `period`, up to where its reader names which consumer
 * failed and why (`Which consumer and why: `).
 */
export function deleteFailedText(period: Duration): string {
  const window = Duration.seconds(period.toSeconds() * DELETE_FAILED_PERIODS).toHumanString();
  return `Consumers failed to delete records they had finished or dead-lettered in each of ${DELETE_FAILED_PERIODS} periods in a row (${window}; metric DeleteFailed). The batch response deletes them, unless the invocation times out: then a FIFO record runs again (idempotency, when on, skips it) and a dead letter lands in the DLQ twice. Likely SQS throttling a FIFO queue's deletes (300 a second without highThroughput) or a lost permission. Which consumer and why: `;
}
