/**
 * One local mode per data directory. Two processes on one data directory would both open fauxqs's SQLite file
 * (both consuming, holding and deleting the same messages) while dynalite's LevelDB refuses the second one
 * with an error that reads as a connection failure. The lock file `<dataDir>/local-mode.lock` names the
 * process that holds the directory; a lock whose process is gone (killed with -9, a crash) is taken over.
 */
import { linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalStartProblem } from './start-problem';
import { isProcessAlive } from './state-file';

const LOCK_FILE = 'local-mode.lock';

/** The lock file of a data directory. */
export function dataDirLockPath(dataDir: string): string {
  return join(dataDir, LOCK_FILE);
}

/** What a lock file says: the process that holds the directory and when it started. */
export interface LockContent {
  readonly pid: number;
  readonly startedAt: string;
}

function readLock(path: string): LockContent | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockContent>;
    return Number.isInteger(parsed.pid) && (parsed.pid as number) > 0
      ? { pid: parsed.pid as number, startedAt: String(parsed.startedAt ?? 'an unknown time') }
      : undefined;
  } catch {
    // Unreadable or half written: nobody can be shown to hold it.
    return undefined;
  }
}

/**
 * Takes the data directory for this process, or throws a {@link LocalStartProblem} naming the process that
 * holds it and the fix. Returns the release, which removes the lock only while it is still ours. `onTakeOver`
 * hears of a lock left by a local mode that did not stop (its process is gone), before it is taken over.
 */
export function lockDataDir(dataDir: string, onTakeOver?: (left: LockContent) => void): () => void {
  const path = dataDirLockPath(dataDir);
  const content: LockContent = { pid: process.pid, startedAt: new Date().toISOString() };
  // Written whole under another name, then linked into place: the link fails when a lock exists, so no
  // reader ever sees half a lock and two starts cannot both create it.
  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(content)}\n`);
  try {
    // A second round only when another start took the directory between our removal and our link.
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(temporary, path);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = readLock(path);
      if (holder && isProcessAlive(holder.pid)) {
        throw new LocalStartProblem(
          `data directory ${dataDir} is in use by another local mode (pid ${holder.pid}, started ${holder.startedAt}): ` +
            'stop that one first, or give this one another HOOKLINE_DATA_DIR. ' +
            `If no local mode is running, delete ${path}`,
        );
      }
      if (attempt > 0) {
        throw new LocalStartProblem(`another local mode is starting on data directory ${dataDir}: try again`);
      }
      // Left by a local mode that did not stop (kill -9, a crash): its process is gone.
      if (holder) onTakeOver?.(holder);
      rmSync(path, { force: true });
    }
  } finally {
    rmSync(temporary, { force: true });
  }
  return () => releaseDataDirLock(dataDir);
}

/** Removes the data directory's lock if this process holds it (a stop, or a thread that was terminated). */
export function releaseDataDirLock(dataDir: string): void {
  const path = dataDirLockPath(dataDir);
  if (readLock(path)?.pid !== process.pid) return;
  rmSync(path, { force: true });
}
