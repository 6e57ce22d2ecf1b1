/**
 * Local mode runs the bundles and the configuration it started with. When one of their source files changes
 * while it runs, it says so once per file (a restart rebuilds only what changed, see the bundle cache) rather
 * than leave a developer testing code that is not running.
 */
import { createHash } from 'node:crypto';
import { type FSWatcher, readFileSync, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';

/** The project's own source files a bundle was built from (its source map's sources, without packages). */
export async function bundleSourceFiles(bundleFile: string): Promise<string[]> {
  let sources: unknown;
  try {
    sources = (JSON.parse(await readFile(`${bundleFile}.map`, 'utf8')) as { sources?: unknown }).sources;
  } catch {
    return [];
  }
  if (!Array.isArray(sources)) return [];
  return sources
    .filter((s): s is string => typeof s === 'string')
    .map((s) => resolve(dirname(bundleFile), s))
    .filter((path) => !path.split(sep).includes('node_modules'));
}

function contentHash(path: string): string {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  } catch {
    return 'absent';
  }
}

/**
 * Calls `onChange` once for each of `files` whose content differs from when the watch began (a save that
 * writes the same bytes is no change). Returns the function that stops watching.
 */
export function watchSourceFiles(files: readonly string[], onChange: (file: string) => void): () => void {
  const stops = [...new Set(files)].map((file) => watchFile(file, contentHash(file), onChange));
  return () => {
    for (const stop of stops) stop();
  };
}

/** Watches one path until its content differs from `started`; returns the function that stops watching. */
function watchFile(file: string, started: string, onChange: (file: string) => void): () => void {
  let current: FSWatcher | undefined;
  const follow = (): void => {
    try {
      current = watch(file, { persistent: false });
    } catch {
      // Not there to watch: a file missing from the start stays unwatched, one gone since then has changed.
      current = undefined;
      if (contentHash(file) !== started) onChange(file);
      return;
    }
    const watcher = current;
    watcher.on('change', () => {
      if (current !== watcher) return;
      watcher.close();
      if (contentHash(file) !== started) {
        current = undefined;
        onChange(file);
        return;
      }
      // An editor that saves by renaming may have put another file at the path, here with the same bytes: a
      // watch keeps following the file it was opened on, which sees no later edit, so it opens the path again.
      follow();
    });
    watcher.on('error', () => watcher.close());
  };
  follow();
  return () => current?.close();
}
