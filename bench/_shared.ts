/**
 * Helpers every benchmark uses: statistics over rounds, a bounded-concurrency loop, silencing stdout while
 * measuring, and writing bench/results/<name>.json.
 *
 * The leading underscore keeps `npm run bench` (bench/run.ts) from running it as a benchmark of its own.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

/** The repository root. */
export const ROOT = path.resolve(import.meta.dirname, '..');

/** The `q` quantile (0..1) with linear interpolation between the two nearest values; NaN for no values. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return (sorted[low] ?? 0) + ((sorted[high] ?? 0) - (sorted[low] ?? 0)) * (position - low);
}

/** The middle value, or the mean of the two middle values; NaN for no values. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The nearest-rank `p` percentile (0..100); 0 for no values. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

/** Calls `task(0)` .. `task(count - 1)` with at most `concurrency` calls in flight. */
export async function runConcurrently(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

/** `runConcurrently`, collecting each call's result at its index. */
export async function pool<T>(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<T>,
): Promise<T[]> {
  const results: T[] = new Array(count);
  await runConcurrently(count, concurrency, async (i) => {
    results[i] = await task(i);
  });
  return results;
}

/** Discards stdout writes while `fn` runs (logs and EMF are still serialized, as in Lambda). */
export async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    return await fn();
  } finally {
    process.stdout.write = write;
  }
}

/**
 * Writes `results` as bench/results/<name>.json (two-space JSON, final newline) and returns its path. With
 * `biomeLayout`, reformats it as Biome lays out JSON (cosmetic: a failure to format is ignored).
 */
export function writeResults(
  name: string,
  results: unknown,
  options: { biomeLayout?: boolean } = {},
): string {
  const file = path.join(import.meta.dirname, 'results', `${name}.json`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  if (options.biomeLayout) {
    try {
      execFileSync(path.join(ROOT, 'node_modules/.bin/biome'), ['format', '--write', file], {
        stdio: 'ignore',
      });
    } catch {
      // Formatting is cosmetic.
    }
  }
  return file;
}
