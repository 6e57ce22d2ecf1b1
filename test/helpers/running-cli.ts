/** A `hookline` child process that runs until stopped (`tail`): what it printed so far, and how it ended. */
import type { ChildProcess } from 'node:child_process';

export interface RunningCli {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Each whole line of stdout, parsed as JSON (`--json` prints one object per line). */
  readonly jsonLines: <T>() => T[];
  /** The exit code; null when a signal ended it. */
  readonly exited: Promise<number | null>;
}

/** Collects what `child` prints, from now on. */
export function watchCli(child: ChildProcess): RunningCli {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    exited,
    stdout: () => stdout,
    stderr: () => stderr,
    jsonLines: <T>() =>
      stdout
        .split('\n')
        .filter((line) => line.startsWith('{') && line.endsWith('}'))
        .map((line) => JSON.parse(line) as T),
  };
}
