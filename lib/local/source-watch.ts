/**
 * Local mode runs the bundles and the configuration it started with. When one of their source files changes or is
 * deleted while it runs, it says so once per file (a restart rebuilds only what changed, see the bundle cache) rather
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

const ABSENT = 'absent';

function contentHash(path: string): string {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  } catch {
    return ABSENT;
  }
}

/** What happened to a watched file: its content differs from the start, or it is gone. */
export type SourceChange = 'changed' | 'deleted';

/**
 * How long a file that vanished may take to come back before it is reported deleted: an editor that saves by
 * moving the old file aside before writing the new one leaves the path empty for a moment.
 */
const DELETED_AFTER_MS = 300;

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
  /** @default {@link DELETED_AFTER_MS} */
  readonly deletedAfterMs?: number;
}

/**
 * Calls `onChange` once for each of `files` whose content differs from when the watch began (a save that
 * writes the same bytes is no change), saying whether it changed or was deleted. Returns the function that stops
 * watching.
 */
export function watchSourceFiles(
  files: readonly string[],
  onChange: (file: string, change: SourceChange) => void,
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
  const deletedAfterMs = options.deletedAfterMs ?? DELETED_AFTER_MS;
  const stops = [...new Set(files)].map((file) =>
    watchFile(file, contentHash(file), { onChange, unwatched, watchPath, deletedAfterMs }),
  );
  starting = false;
  if (refusedAtStart.length > 0) options.onUnwatched?.(refusedAtStart, reasonAtStart);
  return () => {
    for (const stop of stops) stop();
  };
}

interface FileWatchCallbacks {
  readonly onChange: (file: string, change: SourceChange) => void;
  readonly unwatched: (file: string, reason: string) => void;
  readonly watchPath: typeof watch;
  readonly deletedAfterMs: number;
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
  const { onChange, unwatched, watchPath, deletedAfterMs } = callbacks;
  let current: FSWatcher | undefined;
  let waiting: NodeJS.Timeout | undefined;
  let stopped = false;
  /** Reports the file once its content differs; a file gone is given time to come back first. */
  const differs = (now: string, gone: boolean): void => {
    if (now !== ABSENT || gone) {
      onChange(file, now === ABSENT ? 'deleted' : 'changed');
      return;
    }
    waiting = setTimeout(() => {
      waiting = undefined;
      if (stopped) return;
      const later = contentHash(file);
      if (later === started) follow();
      else differs(later, true);
    }, deletedAfterMs);
    waiting.unref();
  };
  const follow = (): void => {
    try {
      current = watchPath(file, { persistent: false });
    } catch (error) {
      current = undefined;
      const now = contentHash(file);
      // Not there to watch: a file missing from the start stays unwatched, one gone since then has changed.
      if (now !== started) differs(now, false);
      else if (now !== ABSENT) unwatched(file, unwatchableReason(error));
      return;
    }
    const watcher = current;
    watcher.on('change', () => {
      if (current !== watcher) return;
      watcher.close();
      const now = contentHash(file);
      if (now !== started) {
        current = undefined;
        differs(now, false);
        return;
      }
      // An editor that saves by renaming may have put another file at the path, here with the same bytes: a
      // watch keeps following the file it was opened on, which sees no later edit, so it opens the path again.
      follow();
    });
    watcher.on('error', () => watcher.close());
  };
  follow();
  return () => {
    stopped = true;
    if (waiting) clearTimeout(waiting);
    current?.close();
  };
}

/** What a watched file is to the running local mode: the entry of some consumers, imported by others. */
export interface SourceUse {
  /** Queues whose consumer's entry it is. */
  readonly entryOf: readonly string[];
  /** Queues whose consumer imports it (besides its entry). */
  readonly importedBy: readonly string[];
}

/**
 * The line local mode prints when a watched file (`shown`, relative to the project) changed or was deleted: what
 * keeps running, and for a deleted file, what the next start will say about it.
 */
export function sourceChangeNotice(shown: string, change: SourceChange, use: SourceUse): string {
  const running = 'local mode still runs what it started with';
  if (change === 'changed') {
    return `${shown} changed: ${running}; stop it (Ctrl-C) and start it again to run the change`;
  }
  const consumers = (queues: readonly string[]) =>
    `consumer${queues.length === 1 ? '' : 's'} ${queues.join(', ')}`;
  if (use.entryOf.length > 0) {
    const paths = use.entryOf.map((queue) => `queues.${queue}.consumer.entry`).join(', ');
    return `${shown} deleted: ${running}; it is the entry of ${consumers(use.entryOf)}, so the next start stops with a configuration problem at ${paths} (the file does not exist): restore it, or change the entry`;
  }
  if (use.importedBy.length > 0) {
    return `${shown} deleted: ${running}; ${consumers(use.importedBy)} import${use.importedBy.length === 1 ? 's' : ''} it, so the next start stops when it builds ${use.importedBy.length === 1 ? 'that consumer' : 'them'}: restore it, or remove the import`;
  }
  return `${shown} deleted: ${running}; restore it before you start local mode again`;
}
