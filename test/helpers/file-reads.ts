/**
 * What a test that watches node's own file reads saw: the bytes each `readSync` and `readFileSync` took. The test
 * file watches them itself (vitest hoists `vi.mock` only from the test file), with both wrapped in `vi.fn` around
 * the real ones by ./watched-fs.ts:
 *
 *     vi.mock('node:fs', async (importOriginal) =>
 *       (await import('../helpers/watched-fs')).watchedFs(await importOriginal(), 'readSync', 'readFileSync'),
 *     );
 */
import * as fs from 'node:fs';
import { vi } from 'vitest';

/** The bytes each read of a file took, `readSync`'s and `readFileSync`'s alike. */
export function readSizes(): number[] {
  const pieces = vi.mocked(fs.readSync).mock.results.map((result) => Number(result.value));
  const wholes = vi.mocked(fs.readFileSync).mock.results.map((result) => (result.value as string).length);
  return [...pieces, ...wholes];
}

/** The bytes read from files in all, by `readSync` and `readFileSync` alike. */
export const bytesRead = (): number => readSizes().reduce((sum, n) => sum + n, 0);

/** Forgets the reads seen so far. */
export function forgetReads(): void {
  vi.mocked(fs.readSync).mockClear();
  vi.mocked(fs.readFileSync).mockClear();
}
