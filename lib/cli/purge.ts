/**
 * `hookline purge`: deletes every message of a queue or its dead-letter queue, after a confirmation.
 */
import { PurgeQueueCommand } from '@aws-sdk/client-sqs';
import { plural } from '../../lambda/shared/plural';
import { type Backend, contextOf } from './backend';
import { queueDepth } from './dead-letters';
import { CliError, explainError } from './errors';
import { deadLetterQueueOf, isOtherDeadLetterQueueName, queueOf, type Target } from './target';

export interface PurgeOptions {
  readonly queue: string;
  /** Purge the dead-letter queue instead of the queue. @default false */
  readonly deadLetter?: boolean;
  /** Skip the confirmation (required in a non-interactive shell). @default false */
  readonly yes?: boolean;
}

export interface PurgeResult {
  readonly queue: string;
  readonly deadLetter: boolean;
  readonly url: string;
  /** Approximate number of messages deleted (visible + in flight + delayed before the purge). */
  readonly purged: number;
  /**
   * How long the deletion may still take once the purge answered: up to 60 s on SQS, none in local mode, which
   * empties the queue before it answers.
   */
  readonly finishesWithinSeconds: number;
}

/** SQS deletes a purged queue's messages within this many seconds of `PurgeQueue` (see its API reference). */
const SQS_PURGE_SECONDS = 60;

/** Purges a queue (or its DLQ) once the operator confirmed. */
export async function purge(backend: Backend, target: Target, options: PurgeOptions): Promise<PurgeResult> {
  const deadLetter = options.deadLetter ?? false;
  const { name, url } = purgedQueue(target, options.queue, deadLetter);
  const label = deadLetter ? `the ${name} dead-letter queue` : `the ${name} queue`;
  try {
    const depth = await queueDepth(backend.sqs, url);
    const count = depth.visible + depth.inFlight + depth.delayed;
    if (!options.yes) {
      if (!backend.output.interactive) {
        throw new CliError(
          `refusing to purge ${label} without confirmation in a non-interactive shell: pass --yes`,
        );
      }
      const ok = await backend.output.confirm(
        `Delete ${count === 1 ? 'the 1 message' : `all ${plural(count, 'message')}`} of ${label} in ${target.description}? This cannot be undone.`,
      );
      if (!ok) throw new CliError('purge cancelled: nothing was deleted');
    }
    await backend.sqs.send(new PurgeQueueCommand({ QueueUrl: url }));
    const finishesWithinSeconds = target.kind === 'local' ? 0 : SQS_PURGE_SECONDS;
    return { queue: name, deadLetter, url, purged: count, finishesWithinSeconds };
  } catch (error) {
    throw explainError(error, contextOf(target, name));
  }
}

/**
 * The queue a purge empties: a queue, a queue's DLQ, or (with --dlq only) a DLQ that belongs to no queue,
 * such as the job schedules' or a schedule's.
 */
function purgedQueue(target: Target, name: string, deadLetter: boolean): { name: string; url: string } {
  if (!deadLetter && isOtherDeadLetterQueueName(name)) {
    // The same answer as with --dlq where there is none to purge (local mode, an unknown schedule), else the flag.
    deadLetterQueueOf(target, name);
    throw new CliError(`${name} is a dead-letter queue and nothing else: purge it with --dlq`);
  }
  if (deadLetter) {
    const dlq = deadLetterQueueOf(target, name);
    return { name: dlq.name, url: dlq.deadLetterUrl };
  }
  const queue = queueOf(target, name);
  return { name: queue.name, url: queue.url };
}
