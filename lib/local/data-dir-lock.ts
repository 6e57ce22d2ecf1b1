/**
 * One local mode per data directory. Two processes on one data directory would both open fauxqs's SQLite file
 * (both consuming, holding and deleting the same messages) while dynalite's LevelDB refuses the second one
 * with an error that reads as a connection failure. The lock file `<dataDir>/local-mode.lock` names the
 * process that holds the directory; a lock whose process is gone (killed with -9, a crash) is taken over.
 * The state directory gets the same kind of lock, `local.json.lock`, so the CLI reaches the one local mode there;
 * its name and content are the state file's contract with its readers (`lambda/shared/local-state.ts`).
 */
import {
  accessSync,
  constants,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { type LockContent, readLockFile, stateDirLockPath } from '../../lambda/shared/local-state';
import { LocalStartProblem, unusableDirectory } from './start-problem';
import { isProcessAlive, JOURNAL_FILE_NAME } from './state-file';

const LOCK_FILE = 'local-mode.lock';

/** The lock file of a data directory. */
export function dataDirLockPath(dataDir: string): string {
  return join(dataDir, LOCK_FILE);
}

/**
 * Takes the data directory for this process, or throws a {@link LocalStartProblem} naming the process that
 * holds it and the fix. Returns the release, which removes the lock only while it is still ours. `onTakeOver`
 * hears of a lock left by a local mode that did not stop (its process is gone), before it is taken over.
 */
export function lockDataDir(dataDir: string, onTakeOver?: (left: LockContent) => void): () => void {
  const path = dataDirLockPath(dataDir);
  try {
    createWritableDir(dataDir);
    takeLock(path, {
      inUse: (holder) =>
        `data directory ${dataDir} is in use by another local mode (pid ${holder.pid}, started ${holder.startedAt}): ` +
        'stop that one first, or give this one another HOOKLINE_DATA_DIR. ' +
        `If no local mode is running, delete ${path}`,
      racing: `another local mode is starting on data directory ${dataDir}: try again`,
      ...(onTakeOver ? { onTakeOver } : {}),
    });
  } catch (error) {
    throw unusableDirectory('data directory', dataDir, 'HOOKLINE_DATA_DIR', error) ?? error;
  }
  return () => releaseDataDirLock(dataDir);
}

/**
 * Creates `dir` and checks that this user may write it and what local mode writes there while it runs (`files`, else
 * everything two levels deep: a data directory is the emulators' alone), so a directory that cannot be used stops
 * the start rather than an emulator's or the journal's first write mid-run.
 */
function createWritableDir(dir: string, files?: readonly string[]): void {
  mkdirSync(dir, { recursive: true });
  accessSync(dir, constants.W_OK);
  const paths = files?.map((name) => join(dir, name)).filter((path) => existsSync(path)) ?? twoLevels(dir);
  for (const path of paths) accessSync(path, constants.W_OK);
}

function twoLevels(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? [path, ...readdirSync(path).map((name) => join(path, name))] : [path];
  });
}

/**
 * Takes the state directory of `stateFile` (`local.json`) for this process from the first moment of a start, as
 * {@link lockDataDir} takes a data directory: the state file itself is only written once the start is complete,
 * seconds later, so two starts at once would both find none and both run, the CLI reaching only the one that
 * wrote last. A lock this process already holds (a second local mode in one test process) is not in the way, as
 * its state file is not. Returns the release.
 */
export function lockStateDir(stateFile: string): () => void {
  const path = stateDirLockPath(stateFile);
  try {
    createWritableDir(dirname(path), [basename(stateFile), JOURNAL_FILE_NAME]);
    takeLock(path, {
      inUse: (holder) => stateDirInUse(stateFile, holder.pid),
      racing: `another local mode is starting with state file ${stateFile}: try again`,
      ownProcess: true,
    });
  } catch (error) {
    throw unusableDirectory('state directory', dirname(path), 'HOOKLINE_STATE_DIR', error) ?? error;
  }
  return () => releaseLock(path);
}

/** Why a start stops when another running local mode has the state file. */
export function stateDirInUse(stateFile: string, pid: number): string {
  return (
    `local mode is already running with state file ${stateFile} (pid ${pid}): stop it first, or start this one ` +
    'with another HOOKLINE_STATE_DIR (the CLI then needs the same HOOKLINE_STATE_DIR to reach it)'
  );
}

interface LockRefusal {
  /** The problem when a live process holds the lock. */
  readonly inUse: (holder: LockContent) => string;
  /** The problem when another start took the lock between our removal of a stale one and our link. */
  readonly racing: string;
  /** Hears of a lock whose process is gone, before it is taken over. */
  readonly onTakeOver?: (left: LockContent) => void;
  /** Whether a lock this process holds may be taken again. */
  readonly ownProcess?: boolean;
}

/** Creates the lock file at `path` for this process, or throws a {@link LocalStartProblem}. */
function takeLock(path: string, refusal: LockRefusal): void {
  const content: LockContent = { pid: process.pid, startedAt: new Date().toISOString() };
  // Written whole under another name, then linked into place: the link fails when a lock exists, so no
  // reader ever sees half a lock and two starts cannot both create it.
  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(content)}\n`);
  try {
    // A second round only when another start took the lock between our removal and our link.
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(temporary, path);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = readLockFile(path);
      const ours = refusal.ownProcess === true && holder?.pid === process.pid;
      if (holder && !ours && isProcessAlive(holder.pid)) throw new LocalStartProblem(refusal.inUse(holder));
      if (attempt > 0) throw new LocalStartProblem(refusal.racing);
      // Left by a local mode that did not stop (kill -9, a crash): its process is gone.
      if (holder && !ours) refusal.onTakeOver?.(holder);
      rmSync(path, { force: true });
    }
  } finally {
    rmSync(temporary, { force: true });
  }
}

/** Removes the data directory's lock if this process holds it (a stop, or a thread that was terminated). */
export function releaseDataDirLock(dataDir: string): void {
  releaseLock(dataDirLockPath(dataDir));
}

function releaseLock(path: string): void {
  if (readLockFile(path)?.pid !== process.pid) return;
  rmSync(path, { force: true });
}
