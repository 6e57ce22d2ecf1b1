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
