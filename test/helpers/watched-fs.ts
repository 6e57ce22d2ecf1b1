/**
 * node:fs with the named functions wrapped in `vi.fn` around the real ones, for a test that watches node's own file
 * calls. vitest hoists `vi.mock` only from the test file, above its imports, so the test file loads this module
 * inside its factory:
 *
 *     vi.mock('node:fs', async (importOriginal) =>
 *       (await import('../helpers/watched-fs')).watchedFs(await importOriginal(), 'readSync', 'readFileSync'),
 *     );
 *
 * It imports nothing of node:fs at run time: a module the factory loads that did would ask for the mock being made.
 */
import type * as fs from 'node:fs';
import { vi } from 'vitest';

type Fs = typeof fs;

/** `actual` with each of `names` replaced by a `vi.fn` that calls the real function. */
export function watchedFs(actual: Fs, ...names: (keyof Fs)[]): Fs {
  const watched = Object.fromEntries(
    names.map((name) => [name, vi.fn(actual[name] as (...args: unknown[]) => unknown)]),
  );
  return { ...actual, ...watched };
}
