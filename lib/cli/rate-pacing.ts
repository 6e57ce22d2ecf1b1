/**
 * `--rate` of `redrive` and `replay`: at most `rate` messages a second, on average since the run started. A run
 * that fell behind (a slow send) catches up without waiting; one ahead waits until the messages it sent are due.
 * Not the spacing of `tail`'s FilterLogEvents calls (./outcome-log-poll), which keeps a least time between two calls
 * and lets none catch up.
 */
import type { Clock } from './backend';

/**
 * Waits until `units` messages are due at `rate` a second from `startedAt` (at once when they already are), or until
 * `signal` aborts: Ctrl-C at `--rate 0.1` must not wait out its 10 s before the run stops and says what it did.
 */
export async function untilRateAllows(
  clock: Clock,
  startedAt: number,
  units: number,
  rate: number,
  signal?: AbortSignal,
): Promise<void> {
  const wait = startedAt + (units * 1000) / rate - clock.now();
  if (wait > 0) await clock.sleep(wait, signal);
}
