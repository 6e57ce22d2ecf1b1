/** The Failures tab's count, in its own module so a test reads it without the page (which needs a DOM). */
import type { DeadLetterQueueRow, QueueRow } from './types';

/**
 * The dead letters of every queue, for the Failures tab; `3+?` when a queue's may not be read (never summed as if it
 * held none), and nothing when every queue is known to hold none.
 */
export function deadLetterBadge(
  overview: {
    queues: Pick<QueueRow, 'deadLettered'>[];
    deadLetterQueues: Pick<DeadLetterQueueRow, 'deadLettered'>[];
  } | null,
): string | null {
  const counts = [...(overview?.queues ?? []), ...(overview?.deadLetterQueues ?? [])].map(
    (q) => q.deadLettered,
  );
  const known = counts.reduce<number>((sum, n) => sum + (n ?? 0), 0);
  if (counts.includes(null)) return known > 0 ? `${known}+?` : '?';
  return known > 0 ? String(known) : null;
}
