/**
 * Lambda runs every function with `TZ=:UTC`, so a consumer's `getHours()`, `getDate()` or `toLocaleString()`
 * answer in UTC once deployed. Node keeps one time zone per process (a worker thread's `TZ` changes nothing), so
 * local mode puts its whole process on UTC before any sandbox starts; otherwise a consumer bucketing events by day
 * passed locally in this machine's zone and split them elsewhere once deployed. Local mode's own lines and files
 * print UTC times already.
 */
import { isMainThread } from 'node:worker_threads';

/** `TZ` of a Lambda function (what `process.env.TZ` reads in one). */
export const LAMBDA_TZ = ':UTC';

/**
 * Puts this process on UTC, as Lambda runs functions. Only the main thread can (Node applies `TZ` there);
 * returns whether the process now runs in UTC.
 */
export function runInLambdaTimeZone(env: NodeJS.ProcessEnv = process.env): boolean {
  if (!isMainThread) return Intl.DateTimeFormat().resolvedOptions().timeZone === 'UTC';
  if (env.TZ !== 'UTC') env.TZ = 'UTC';
  return true;
}

/** A consumer's function environment, as far as its time zone goes. */
interface ConsumerEnvironment {
  readonly name: string;
  readonly consumer?: { readonly environment?: Readonly<Record<string, string>> } | undefined;
}

/**
 * One line per consumer whose `environment` sets another `TZ`: Lambda runs that function in its zone, local mode
 * cannot (one zone per process), so its local times would differ from deployed without a word.
 */
export function ownTimeZoneNotices(queues: readonly ConsumerEnvironment[]): string[] {
  return queues.flatMap((queue) => {
    const zone = queue.consumer?.environment?.TZ;
    if (zone === undefined || zone === 'UTC' || zone === LAMBDA_TZ) return [];
    return [
      `consumer ${queue.name} sets TZ=${zone}: deployed, Lambda runs it in that zone; local mode runs every sandbox in UTC (Node has one time zone per process), so its local times differ from deployed here`,
    ];
  });
}
