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

/** What a source watch can be told besides a change, and what it watches with (a test can make watching fail). */
export interface SourceWatchOptions {
  /**
   * Files that are there but could not be watched, with why (the system's limit on watches, permissions): an edit
   * to them goes unreported. Told once for the files refused when the watch begins, then per file.
   * @default nothing is told
   */
  readonly onUnwatched?: (files: readonly string[], reason: string) => void;
  /** @default node:fs `watch` */
  readonly watch?: typeof watch;
}

/**
 * Calls `onChange` once for each of `files` whose content differs from when the watch began (a save that
 * writes the same bytes is no change). Returns the function that stops watching.
 */
export function watchSourceFiles(
  files: readonly string[],
  onChange: (file: string) => void,
  options: SourceWatchOptions = {},
): () => void {
  const refusedAtStart: string[] = [];
  let reasonAtStart = '';
  let starting = true;
  const unwatched = (file: string, reason: string): void => {
    if (!starting) {
      options.onUnwatched?.([file], reason);
      return;
    }
    refusedAtStart.push(file);
    reasonAtStart ||= reason;
  };
  const watchPath = options.watch ?? watch;
  const stops = [...new Set(files)].map((file) =>
    watchFile(file, contentHash(file), { onChange, unwatched, watchPath }),
  );
  starting = false;
  if (refusedAtStart.length > 0) options.onUnwatched?.(refusedAtStart, reasonAtStart);
  return () => {
    for (const stop of stops) stop();
  };
}

interface FileWatchCallbacks {
  readonly onChange: (file: string) => void;
  readonly unwatched: (file: string, reason: string) => void;
  readonly watchPath: typeof watch;
}

/** Why a file that is there cannot be watched, in words a developer can act on. */
function unwatchableReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC')
    return "the system's limit on watched files is reached (raise fs.inotify.max_user_watches)";
  if (code === 'EMFILE') return 'too many open files (raise the limit with ulimit -n)';
  return (error as Error).message;
}

/** Watches one path until its content differs from `started`; returns the function that stops watching. */
function watchFile(file: string, started: string, callbacks: FileWatchCallbacks): () => void {
  const { onChange, unwatched, watchPath } = callbacks;
  let current: FSWatcher | undefined;
  const follow = (): void => {
    try {
      current = watchPath(file, { persistent: false });
    } catch (error) {
      current = undefined;
      const now = contentHash(file);
      // Not there to watch: a file missing from the start stays unwatched, one gone since then has changed.
      if (now !== started) onChange(file);
      else if (now !== 'absent') unwatched(file, unwatchableReason(error));
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
