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
  /**
   * Ends it as Ctrl-C does and waits for it to exit: tsx's launcher passes SIGINT on to the Node process it started,
   * where a SIGKILL of the launcher would leave that process running after the tests. SIGKILL only if it has not
   * exited after 10 s.
   */
  readonly stop: () => Promise<void>;
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
  const running = () => child.exitCode === null && child.signalCode === null;
  const stop = async () => {
    if (!running()) return;
    child.kill('SIGINT');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, 10_000);
    });
    await Promise.race([exited, late]);
    clearTimeout(timer);
    if (running()) child.kill('SIGKILL');
  };
  return {
    child,
    exited,
    stop,
    stdout: () => stdout,
    stderr: () => stderr,
    jsonLines: <T>() =>
      stdout
        .split('\n')
        .filter((line) => line.startsWith('{') && line.endsWith('}'))
        .map((line) => JSON.parse(line) as T),
  };
}
