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
  const watchers = watchFiles(files, onChange);
  return () => {
    for (const watcher of watchers) watcher.close();
  };
}

function watchFiles(files: readonly string[], onChange: (file: string) => void): FSWatcher[] {
  const watchers: FSWatcher[] = [];
  for (const file of new Set(files)) {
    const started = contentHash(file);
    let watcher: FSWatcher;
    try {
      watcher = watch(file, { persistent: false });
    } catch {
      continue;
    }
    watcher.on('change', () => {
      // An editor that saves by renaming replaces the watched file: the hash of the path decides.
      if (contentHash(file) === started) return;
      watcher.close();
      onChange(file);
    });
    watcher.on('error', () => watcher.close());
    watchers.push(watcher);
  }
  return watchers;
}
