/**
 * The check every command taking `--since` makes of it (`replay`, `trace`, `tail`): one in the future is a usage
 * error, in one wording, each command saying what it means for it and what to give instead.
 */
import { UsageError } from './errors';

/**
 * Refuses a `--since` later than `now`: nothing has happened there yet.
 *
 * @param instead what that means for the command and what to give instead, after the times
 */
export function refuseFutureSince(since: Date, now: number, instead: string): void {
  if (since.getTime() <= now) return;
  throw new UsageError(
    `--since ${since.toISOString()} is in the future (it is ${new Date(now).toISOString()}): ${instead}`,
  );
}
