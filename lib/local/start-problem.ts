/**
 * A reason local mode cannot start that its message fully explains (what, where, and the fix): `npm start`
 * prints the message alone, without a stack trace.
 */
export class LocalStartProblem extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LocalStartProblem';
  }
}

/**
 * Why a directory local mode writes to (`what`, such as `data directory`) cannot be used, from the error an
 * attempt to create or write it gave, as a {@link LocalStartProblem} naming it and the fix (`variable` is the
 * setting that moves it); undefined for an error that is not about the directory.
 */
export function unusableDirectory(
  what: string,
  dir: string,
  variable: string,
  error: unknown,
): LocalStartProblem | undefined {
  const elsewhere = `or set ${variable} to another directory`;
  const why: Record<string, string> = {
    EEXIST: `is a file, not a directory: move the file aside, ${elsewhere}`,
    ENOTDIR: `has a file where a directory of its path should be: move the file aside, ${elsewhere}`,
    EACCES: `is not writable by this user: give this user write access to it (chown or chmod), ${elsewhere}`,
    EPERM: `is not writable by this user: give this user write access to it (chown or chmod), ${elsewhere}`,
    EROFS: `is on a read-only file system: set ${variable} to a directory on a writable one`,
    ENOSPC: `is on a full disk: free some space, ${elsewhere}`,
  };
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const reason = code === undefined ? undefined : why[code];
  const path = (error as NodeJS.ErrnoException).path;
  const where = path && path !== dir ? ` (${path})` : '';
  return reason === undefined ? undefined : new LocalStartProblem(`${what} ${dir}${where} ${reason}`);
}
