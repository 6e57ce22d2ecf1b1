/** The overview's consumer cell, in its own module so a test reads it without the page (which needs a DOM). */
import type { QueueRow } from './types';

/**
 * A consumer's state, and why it is paused (by an operator, or by its circuit breaker), or that its circuit breaker
 * is probing it (half-open) while it runs; `unknown` where it may not be read.
 */
export function consumerText(q: Pick<QueueRow, 'consumer' | 'pausedBy'>): string {
  if (q.consumer === undefined) return 'unknown';
  const paused = q.consumer !== null && q.consumer !== 'Enabled';
  if (!paused)
    return q.consumer === 'Enabled' && q.pausedBy ? `Enabled (${q.pausedBy})` : (q.consumer ?? 'none');
  return `${q.consumer} (${q.pausedBy ?? 'paused'})`;
}
